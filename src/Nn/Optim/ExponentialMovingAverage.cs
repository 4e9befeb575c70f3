namespace NativeGan.Nn;

/// <summary>
/// An exponential moving average of a module's weights: after each optimizer step,
/// <c>average = beta * average + (1 - beta) * weights</c>, for every parameter and buffer (batch norm's running
/// statistics too, so the averaged network normalises with statistics of the same age as its weights; a
/// <c>num_batches_tracked</c> counter is copied, not averaged).
/// <para>Why a GAN wants it: the generator and the critic chase each other, so the generator's weights circle
/// around a good point instead of settling on it, and any one snapshot is displaced and jittered. The average
/// sits nearer the centre of that orbit (Yazıcı et al. 2019, "The Unusual Effectiveness of Averaging in GAN
/// Training"; ProGAN's and StyleGAN's <c>G_ema</c>, decay 0.999). Training uses the live generator; sampling,
/// pictures and metrics use the average.</para>
/// <para>Warm-up: the first updates would keep mostly the random initial weights, so the decay used at update t
/// (counted from 0) is <c>min(beta, (1 + t) / (10 + t))</c>, as TensorFlow's <c>ExponentialMovingAverage</c>
/// with <c>num_updates</c>: the average forgets its start within a few hundred updates.</para>
/// </summary>
public sealed class ExponentialMovingAverage
{
    readonly List<(string Name, Tensor Source, Tensor Average)> pairs = [];
    readonly bool[] counters; // batch norm's step counters: copied
    const string CounterName = "num_batches_tracked";

    /// <summary>Averages <paramref name="source"/>'s weights into <paramref name="average"/> (a module of the same
    /// architecture, which this starts as a copy of <paramref name="source"/>).</summary>
    public ExponentialMovingAverage(Module source, Module average, float decay)
    {
        if (!(decay > 0f && decay < 1f)) throw new ArgumentOutOfRangeException(nameof(decay), $"ExponentialMovingAverage: decay must be in (0, 1), got {decay}");
        Decay = decay;
        var sourceState = source.StateDict();
        var averageState = average.StateDict();
        if (!sourceState.Keys.Order(StringComparer.Ordinal).SequenceEqual(averageState.Keys.Order(StringComparer.Ordinal)))
            throw new ArgumentException($"ExponentialMovingAverage: the average's tensors ({string.Join(", ", averageState.Keys)}) differ from the source's ({string.Join(", ", sourceState.Keys)})");
        average.LoadStateDict(sourceState); // checks shapes and copies
        foreach (var (name, t) in sourceState) pairs.Add((name, t, averageState[name]));
        counters = [.. pairs.Select(p => p.Name == CounterName || p.Name.EndsWith("." + CounterName, StringComparison.Ordinal))];
        Average = average;
    }

    /// <summary>The averaged module (the caller owns and disposes it).</summary>
    public Module Average { get; }

    /// <summary>beta, the share of the old average kept at each update once warmed up.</summary>
    public float Decay { get; }

    /// <summary>The decay used at update <paramref name="update"/> (0-based): <c>min(beta, (1 + t) / (10 + t))</c>.</summary>
    public float DecayAt(long update) => MathF.Min(Decay, (1f + update) / (10f + update));

    /// <summary>Blends the source's current weights into the average: average = d * average + (1 - d) * source,
    /// with d = <see cref="DecayAt"/>(<paramref name="update"/>). One fused scale-and-add per tensor.</summary>
    public void Update(long update)
    {
        float d = DecayAt(update);
        for (int i = 0; i < pairs.Count; i++)
        {
            var (_, source, average) = pairs[i];
            if (counters[i]) average.CopyFrom(source);
            else Elementwise.ScaleAdd(average, d, source, 1f - d);
        }
    }
}
