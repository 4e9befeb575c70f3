namespace NativeGan.Tests.Nn;

using NativeGan.Nn; // inside the namespace: the layer names win over the kernel classes of the same name

/// <summary>
/// <see cref="ExponentialMovingAverage"/> against the recurrence written out in float64: the average starts as a
/// copy, follows average = d * average + (1 - d) * weights with the warm-up decay, averages batch norm's running
/// statistics, copies its step counter, and refuses a different architecture or a decay outside (0, 1).
/// </summary>
public class ExponentialMovingAverageTests
{
    static Sequential Net(Rng rng) => new(new Linear(7, 3, device: Device.Cpu, rng: rng), new BatchNorm2d(3, device: Device.Cpu));

    /// <summary>Every tensor of <paramref name="m"/> set to fresh random values (stands in for an optimizer step).</summary>
    static void Scramble(Module m, Random random)
    {
        foreach (var (_, t) in m.StateDict())
        {
            var values = new float[t.Length];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 4 - 2);
            using var v = Tensor.FromArray(values, t.Shape, Device.Cpu);
            t.CopyFrom(v);
        }
    }

    [Fact]
    public void TheAverageFollowsTheRecurrenceInFloat64()
    {
        using var source = Net(new Rng(1));
        using var average = Net(new Rng(2));
        var ema = new ExponentialMovingAverage(source, average, 0.95f);
        var reference = source.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray().Select(v => (double)v).ToArray());
        foreach (var (name, t) in average.StateDict()) Assert.Equal(source.StateDict()[name].ToArray(), t.ToArray()); // a copy at the start

        var random = new Random(3);
        for (int update = 0; update < 40; update++)
        {
            Scramble(source, random);
            ema.Update(update);
            double d = Math.Min(0.95, (1.0 + update) / (10.0 + update));
            foreach (var (name, t) in source.StateDict())
            {
                var w = t.ToArray();
                var r = reference[name];
                for (int i = 0; i < r.Length; i++) r[i] = name.EndsWith("num_batches_tracked") ? w[i] : d * r[i] + (1 - d) * w[i];
            }
        }
        foreach (var (name, t) in average.StateDict())
        {
            var got = t.ToArray();
            for (int i = 0; i < got.Length; i++)
                Assert.True(Math.Abs(got[i] - reference[name][i]) <= 1e-5 * (1 + Math.Abs(reference[name][i])), $"{name}[{i}]: {got[i]} vs {reference[name][i]}");
        }
        // The running statistics really moved away from both the start and the last values (they are averaged, not copied).
        Assert.NotEqual(source.StateDict()["1.running_var"].ToArray(), average.StateDict()["1.running_var"].ToArray());
    }

    [Theory]
    [InlineData(0, 0.1)]
    [InlineData(90, 0.91)]
    [InlineData(100_000, 0.999)]
    public void TheDecayWarmsUpToBeta(long update, double expected) =>
        Assert.Equal(expected, new ExponentialMovingAverage(Net(new Rng(1)), Net(new Rng(1)), 0.999f).DecayAt(update), 5);

    [Fact]
    public void ADifferentArchitectureOrABadDecayIsRefused()
    {
        using var source = Net(new Rng(1));
        using var other = new Sequential(new Linear(7, 4, device: Device.Cpu, rng: new Rng(1)));
        var e = Assert.Throws<ArgumentException>(() => new ExponentialMovingAverage(source, other, 0.9f));
        Assert.Contains("ExponentialMovingAverage", e.Message);
        using var wider = new Sequential(new Linear(7, 4, device: Device.Cpu, rng: new Rng(1)), new BatchNorm2d(4, device: Device.Cpu));
        Assert.Throws<ArgumentException>(() => new ExponentialMovingAverage(source, wider, 0.9f)); // same names, wrong shapes
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialMovingAverage(source, Net(new Rng(2)), 1f));
        Assert.Throws<ArgumentOutOfRangeException>(() => new ExponentialMovingAverage(source, Net(new Rng(2)), 0f));
    }
}
