using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Music;

/// <summary>
/// The settings of <c>crnn-gan</c> (<see cref="CrnnGanJob"/>). Sizes from the paper (Mogren 2016, section 3: two LSTM
/// layers of 350 units in G and in D); the training options are the paper's too: feature matching, freezing the side
/// that is winning, and pretraining G on the real sequences by mean squared error (the default here, because users of
/// the PyTorch port report no convergence without it).
/// </summary>
public sealed record CrnnGanOptions : ModelOptions
{
    [Setting("hidden_g", "Units of each of G's LSTM layers.", Min = 1)]
    public int HiddenG { get; init; } = 350;

    [Setting("hidden_d", "Units of each direction of D's bidirectional LSTM layers.", Min = 1)]
    public int HiddenD { get; init; } = 350;

    [Setting("layers_g", "G's stacked LSTM layers.", Min = 1)]
    public int LayersG { get; init; } = 2;

    [Setting("layers_d", "D's stacked bidirectional LSTM layers.", Min = 1)]
    public int LayersD { get; init; } = 2;

    [Setting("dropout", "Dropout between LSTM layers and on D's inputs in training (the reference's keep_prob 0.5).", Min = 0, Max = 1, MaxExclusive = true)]
    public float Dropout { get; init; } = 0.5f;

    [Setting("lr_g", "G's Adam learning rate (pretraining too).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateG { get; init; } = 1e-3f;

    [Setting("lr_d", "D's Adam learning rate (the reference's d_lr_factor 0.5 of G's).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateD { get; init; } = 5e-4f;

    [Setting("beta1", "Adam's beta1 for both networks.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.5f;

    [Setting("max_grad_norm", "Each update's gradients are clipped to this global L2 norm (the reference's 5).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float MaxGradNorm { get; init; } = 5f;

    [Setting("pretrain_steps", "Steps of G's pretraining first: fed the previous real event (teacher forcing), it predicts the next by mean squared error; D rests.", Min = 0)]
    public int PretrainSteps { get; init; } = 300;

    [Setting("feature_matching", "G matches the batch mean of D's last-layer features on real and generated music (Salimans et al. 2016) instead of fooling D's decision.", ResumeMayChange = true)]
    public bool FeatureMatching { get; init; } = true;

    [Setting("freeze", "A network whose loss is below freeze_ratio of the other's skips its update (the paper's freezing; D's loss counted per term, half its sum).", ResumeMayChange = true)]
    public bool Freeze { get; init; } = true;

    [Setting("freeze_ratio", "See freeze.", Min = 0, MinExclusive = true, Max = 1, ResumeMayChange = true)]
    public float FreezeRatio { get; init; } = 0.7f;

    [Setting("relu_times", "G's time since the previous onset and length are floored at 0 (the reference's output ReLU; time_floor says how): chords (shift 0) become reachable, and D never sees a negative time.")]
    public bool ReluTimes { get; init; } = true;

    // softplus with time_snap is the default since the twenty-seventh session: with relu the time since the previous onset
    // collapsed to 0 (95% of the gaps at the diagnosis size, pieces of a few giant chords); docs/RESULTS.md has the runs.
    [Setting("time_floor", "With relu_times, how G's times are floored at 0: relu (no gradient below 0: a time stuck below stays there, a dead ReLU), straight-through (the ReLU's exact zeros forward, the gradient passed as if there were no floor) or softplus (smooth; exact zeros only through time_snap).")]
    public TimeFloor TimeFloor { get; init; } = TimeFloor.Softplus;

    [Setting("time_snap", "Generated times since the previous onset shorter than this (quarter notes; 0.0625: a 64th note) become 0 (a chord) when music is written; training sees them as they are.", Min = 0)]
    public float TimeSnap { get; init; } = 0.0625f;

    [Setting("time_moments", "G's loss also has this weight times the squared differences between real and generated batch means and standard deviations of the time since the previous onset and of the length, and of the share of (softly) zero times (0: none).", Min = 0, ResumeMayChange = true)]
    public float TimeMoments { get; init; } = 0f;

    [Setting("d_onsets", "D also sees each event's onset since the excerpt's start (the running sum of the times, divided by the excerpt's length): a sequence of chords stands still where music moves on.")]
    public bool DOnsets { get; init; } = false;

    [Setting("minibatch_std", "D sees, beside each step's event, the standard deviation of every feature over the batch at that step (ProGAN's minibatch feature, per step): a G that plays the same for every noise is told apart at once.")]
    public bool MinibatchStd { get; init; } = true;

    [Setting("adversarial_weight", "With feature_matching, G's loss also has this weight times -log D(G(z)) (0: feature matching alone).", Min = 0, ResumeMayChange = true)]
    public float AdversarialWeight { get; init; } = 1f;

    [Setting("label_smoothing", "D's target for real sequences is 1 - this (one-sided label smoothing, Salimans et al. 2016).", Min = 0, Max = 1, MaxExclusive = true, ResumeMayChange = true)]
    public float LabelSmoothing { get; init; } = 0f;

    [Setting("instance_noise", "Gaussian noise of this standard deviation (network scale) added to the real and the generated events D sees (0: none).", Min = 0, ResumeMayChange = true)]
    public float InstanceNoise { get; init; } = 0f;

    [Setting("noise_scale", "G's noise per step is uniform in [0, noise_scale) (the reference's [0, 1)).", Min = 0, MinExclusive = true)]
    public float NoiseScale { get; init; } = 1f;

    /// <summary>Events per training excerpt (data_shape's first number).</summary>
    public int Length => DataShape[0];

    public override void Validate(string kind) => NoteEvents.CheckDataShape(kind, DataShape);
}

/// <summary>How <see cref="CrnnGanOptions.ReluTimes"/> floors G's times at 0 (<c>time_floor</c>).</summary>
public enum TimeFloor
{
    /// <summary>max(x, 0): exact zeros, no gradient below 0.</summary>
    Relu,
    /// <summary>max(x, 0) forward, the identity's gradient backward: exact zeros, and a time below 0 is still pushed.</summary>
    StraightThrough,
    /// <summary>log(1 + e^x): smooth, never exactly 0.</summary>
    Softplus,
}

/// <summary>
/// C-RNN-GAN (Mogren 2016, "C-RNN-GAN: Continuous recurrent neural networks with adversarial training"): music as a
/// sequence of real-valued note events (<see cref="NoteEvents"/>: time since the previous onset, length, pitch,
/// velocity). G is an LSTM fed at each step with uniform noise and its own previous output; D is a bidirectional LSTM
/// that decides real or generated at every step, its decision the mean of the steps'. The losses are the original
/// GAN's; G may match D's features instead; the side whose loss is below 0.7 of the other's may sit out a step; G is
/// pretrained first on the real sequences by mean squared error.
/// <para>Events are scaled to about unit range for the networks: (shift / 2, length / 2, (pitch - 64) / 16,
/// (velocity - 64) / 32), quarter notes and MIDI numbers as <see cref="NoteEvents"/> gives them.</para>
/// </summary>
public sealed class CrnnGanJob : ITrainingJob, IMusicJob
{
    const ulong TrainStream = 1UL << 40;

    /// <summary>The kind's name.</summary>
    public const string KindName = "crnn-gan";

    /// <summary>Each feature's (offset, scale): network value = (event value - offset) / scale.</summary>
    static readonly (float Offset, float Scale)[] Scaling = [(0, 2), (0, 2), (64, 16), (64, 32)];

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public CrnnGanJob(CrnnGanOptions options, Device device)
    {
        options.Validate(KindName);
        Options = options;
        Device = device;
        var init = new Rng(options.Seed);
        Rng = new Rng(options.Seed, TrainStream);
        Generator = new CrnnGenerator(options, device, init, Rng);
        Discriminator = new CrnnDiscriminator(options, device, init, Rng);
        OptimizerG = new Adam(Generator.Parameters(), options.LearningRateG, options.Beta1, 0.999f);
        OptimizerD = new Adam(Discriminator.Parameters(), options.LearningRateD, options.Beta1, 0.999f);
        modules = new(StringComparer.Ordinal) { ["generator"] = Generator, ["discriminator"] = Discriminator };
        optimizers = new(StringComparer.Ordinal) { ["generator"] = OptimizerG, ["discriminator"] = OptimizerD };
    }

    public CrnnGanOptions Options { get; }
    public Device Device { get; }
    public CrnnGenerator Generator { get; }
    public CrnnDiscriminator Discriminator { get; }
    public Adam OptimizerG { get; }
    public Adam OptimizerD { get; }
    public string Kind => KindName;
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }

    /// <summary>A GAN has no sampling temperature: pieces are drawn from the noise as trained.</summary>
    public float Temperature => 1f;

    /// <summary>Events [N, T, 4] (batch-first, as the data gives them) scaled for the networks, time-major [T, N, 4].</summary>
    public static float[] ToNetwork(ReadOnlySpan<float> events, int n, int t)
    {
        var x = new float[events.Length];
        for (int b = 0; b < n; b++)
            for (int s = 0; s < t; s++)
                for (int f = 0; f < NoteEvents.Features; f++)
                    x[(s * n + b) * NoteEvents.Features + f] = (events[(b * t + s) * NoteEvents.Features + f] - Scaling[f].Offset) / Scaling[f].Scale;
        return x;
    }

    /// <summary>The inverse of <see cref="ToNetwork"/>: time-major network values [T, N, 4] to events [N, T, 4].</summary>
    public static float[] FromNetwork(ReadOnlySpan<float> x, int n, int t)
    {
        var events = new float[x.Length];
        for (int b = 0; b < n; b++)
            for (int s = 0; s < t; s++)
                for (int f = 0; f < NoteEvents.Features; f++)
                    events[(b * t + s) * NoteEvents.Features + f] = x[(s * n + b) * NoteEvents.Features + f] * Scaling[f].Scale + Scaling[f].Offset;
        return events;
    }

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var samples = batch.Samples;
        NoteEvents.CheckBatch(Kind, samples, Options.Length);
        int n = samples.Dim(0), t = Options.Length;
        Generator.Train();
        Discriminator.Train();
        var scalars = new Dictionary<string, float>(StringComparer.Ordinal);
        using var scope = new TensorScope();
        using var real = Tensor.FromArray(ToNetwork(samples.ToArray(), n, t), [t, n, NoteEvents.Features], Device);
        using var noise = Rng.Uniform(Device, [t, n, NoteEvents.Features], 0f, Options.NoiseScale);
        using var start = Rng.Uniform(Device, [n, NoteEvents.Features]);

        if (step < Options.PretrainSteps)
        {
            // Teacher forcing: G sees the previous real event and predicts the current one.
            var predicted = Generator.Forward(noise, start, teacher: real);
            var mse = predicted.Sub(real).Square().Mean();
            mse.Backward();
            scalars["grad_norm_g"] = GradientClipping.ClipGradNorm(Generator.Parameters(), Options.MaxGradNorm);
            OptimizerG.Step();
            OptimizerG.ZeroGrad();
            scalars["mse"] = mse.Item();
            return scalars;
        }

        var fake = Generator.Forward(noise, start);
        // Instance noise: D sees real and generated events blurred alike (one draw for the fake, used by both its passes).
        using var realNoise = Options.InstanceNoise > 0 ? Rng.Normal(Device, real.Shape, 0f, Options.InstanceNoise) : null;
        using var fakeNoise = Options.InstanceNoise > 0 ? Rng.Normal(Device, real.Shape, 0f, Options.InstanceNoise) : null;
        var realSeen = realNoise is null ? real : real.Add(realNoise);
        Tensor Seen(Tensor f) => fakeNoise is null ? f : f.Add(fakeNoise);
        // D's losses at the current weights decide who trains (the freezing depends on nothing but the step's own state,
        // so a resumed run decides as an uninterrupted one).
        var (pReal, realFeatures) = Discriminator.Decide(realSeen);
        var (pFakeDetached, _) = Discriminator.Decide(Seen(fake.Detach()));
        float smooth = Options.LabelSmoothing;
        var realTerm = smooth > 0 ? SafeLog(pReal).Mul(1f - smooth).Add(SafeLog(pReal.Neg().Add(1f)).Mul(smooth)) : SafeLog(pReal);
        var lossD = realTerm.Add(SafeLog(pFakeDetached.Neg().Add(1f))).Mean().Neg();
        var advG = SafeLog(pFakeDetached).Mean().Neg();
        float dValue = lossD.Item(), gValue = advG.Item();
        // D's loss has two terms (real and fake) to G's one: its half is what compares, both ln 2 at the equilibrium.
        bool freezeD = Options.Freeze && dValue / 2 < Options.FreezeRatio * gValue;
        bool freezeG = Options.Freeze && gValue < Options.FreezeRatio * dValue / 2;
        scalars["loss_d"] = dValue;
        scalars["loss_g"] = gValue;
        scalars["d_real"] = pReal.Mean().Item();
        scalars["d_fake"] = pFakeDetached.Mean().Item();
        scalars["frozen_d"] = freezeD ? 1 : 0;
        scalars["frozen_g"] = freezeG ? 1 : 0;
        scalars["spread_g"] = PitchSpread(fake);

        if (!freezeD)
        {
            lossD.Backward();
            GradientClipping.ClipGradNorm(Discriminator.Parameters(), Options.MaxGradNorm);
            OptimizerD.Step();
        }
        OptimizerD.ZeroGrad();

        if (!freezeG)
        {
            foreach (var p in Discriminator.Parameters()) p.RequiresGrad = false;
            try
            {
                var (pFake, fakeFeatures) = Discriminator.Decide(Seen(fake));
                Tensor lossG;
                if (Options.FeatureMatching)
                {
                    // Salimans et al.'s feature matching: the batch means of D's features, real (a constant) against generated.
                    var target = realFeatures.Detach().Mean([1]);
                    lossG = fakeFeatures.Mean([1]).Sub(target).Square().Mean();
                    scalars["loss_fm"] = lossG.Item();
                    if (Options.AdversarialWeight > 0) lossG = lossG.Add(SafeLog(pFake).Mean().Neg().Mul(Options.AdversarialWeight));
                }
                else lossG = SafeLog(pFake).Mean().Neg();
                if (Options.TimeMoments > 0)
                {
                    var moments = TimeMomentLoss(real, fake);
                    scalars["loss_time"] = moments.Item();
                    lossG = lossG.Add(moments.Mul(Options.TimeMoments));
                }
                lossG.Backward();
                scalars["grad_norm_g"] = GradientClipping.ClipGradNorm(Generator.Parameters(), Options.MaxGradNorm);
                OptimizerG.Step();
            }
            finally
            {
                foreach (var p in Discriminator.Parameters()) p.RequiresGrad = true;
            }
        }
        OptimizerG.ZeroGrad();
        return scalars;
    }

    /// <summary>The standard deviation of the generated pitches over the batch (network scale, averaged over the steps):
    /// 0 when G plays the same whatever its noise.</summary>
    static float PitchSpread(Tensor fake)
    {
        var x = fake.ToArray();
        int t = fake.Dim(0), n = fake.Dim(1);
        double sum = 0;
        for (int s = 0; s < t; s++)
        {
            double mean = 0, square = 0;
            for (int b = 0; b < n; b++) mean += x[(s * n + b) * NoteEvents.Features + NoteEvents.Pitch];
            mean /= n;
            for (int b = 0; b < n; b++) square += Math.Pow(x[(s * n + b) * NoteEvents.Features + NoteEvents.Pitch] - mean, 2);
            sum += Math.Sqrt(square / n);
        }
        return (float)(sum / t);
    }

    /// <summary>Network units (2 quarters) of the soft zero test exp(-|x| / width) in <see cref="TimeMomentLoss"/>: a 64th note.</summary>
    public const float SoftZeroWidth = 1f / 32;

    /// <summary>
    /// The squared differences between <paramref name="real"/> (a constant) and <paramref name="fake"/> [T, N, 4]: of the
    /// means and the standard deviations (over the batch and the steps) of the time since the previous onset and of the
    /// length, and of the mean soft zero share of the time, exp(-|x| / <see cref="SoftZeroWidth"/>); summed.
    /// </summary>
    public static Tensor TimeMomentLoss(Tensor real, Tensor fake)
    {
        Tensor? sum = null;
        void Add(Tensor a, Tensor b) { var d = a.Sub(b.Detach()).Square(); sum = sum is null ? d : sum.Add(d); }
        static Tensor Flat(Tensor x, int feature) => Ops.Reshape(CrnnDiscriminator.Feature(x, feature), x.Dim(0) * x.Dim(1));
        foreach (int f in new[] { NoteEvents.TimeShift, NoteEvents.Duration })
        {
            var (r, g) = (Flat(real, f), Flat(fake, f));
            Add(g.Mean(), r.Mean());
            Add(Std(g), Std(r));
        }
        Tensor SoftZero(Tensor x) => Flat(x, NoteEvents.TimeShift).Abs().Mul(-1f / SoftZeroWidth).Exp().Mean();
        Add(SoftZero(fake), SoftZero(real));
        return sum!;
    }

    /// <summary>The biased standard deviation of a vector, sqrt(var + 1e-8).</summary>
    static Tensor Std(Tensor x) => x.Sub(x.Mean()).Square().Mean().Add(1e-8f).Sqrt();

    /// <summary>log p kept finite at p = 0 and 1: log(p (1 - 2e-7) + 1e-7) (the reference clips p instead).</summary>
    static Tensor SafeLog(Tensor p) => p.Mul(1f - 2e-7f).Add(1e-7f).Log();

    /// <summary>Four pieces (seeds 1-4) at the training length one after another: a piano roll and a .mid beside it.</summary>
    public void WriteSamples(string path) =>
        MusicSamples.Write(path, [.. Enumerable.Range(1, 4).Select(seed => Generate(Options.Length, (ulong)seed, 1f))]);

    /// <summary>A piece of <paramref name="events"/> events from noise of its own stream (<paramref name="seed"/>); the
    /// temperature is ignored (a GAN draws as trained).</summary>
    public Song Generate(int events, ulong seed, float temperature)
    {
        if (events < 1) throw new ArgumentOutOfRangeException(nameof(events), events, $"{Kind}.Generate: at least one event");
        var rng = new Rng(seed ^ 0xC0FFEEUL, 1UL << 60);
        bool wasTraining = Generator.Training;
        Generator.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            using var start = rng.Uniform(Device, [1, NoteEvents.Features]);
            using var noise = rng.Uniform(Device, [events, 1, NoteEvents.Features], 0f, Options.NoiseScale);
            var x = Generator.Forward(noise, start).ToArray();
            var e = FromNetwork(x, 1, events);
            for (int i = 0; i < events; i++)
                if (e[i * NoteEvents.Features + NoteEvents.TimeShift] < Options.TimeSnap) e[i * NoteEvents.Features + NoteEvents.TimeShift] = 0;
            return NoteEvents.ToSong(e, $"{Kind} seed {seed}");
        }
        finally
        {
            Generator.Train(wasTraining);
        }
    }

    public void Dispose()
    {
        Generator.Dispose();
        Discriminator.Dispose();
    }
}

/// <summary>
/// C-RNN-GAN's generator: at step t, [noise_t | previous output] -> Linear -> ReLU -> a stacked LSTM -> Linear -> the
/// event (4 numbers); the previous output of step 0 is a random start. With <c>teacher</c> (pretraining) the previous
/// output is the previous real event instead.
/// </summary>
public sealed class CrnnGenerator : Module
{
    /// <summary>G of <paramref name="options"/>, weights from <paramref name="rng"/>, dropout masks from <paramref name="dropoutRng"/>.</summary>
    public CrnnGenerator(CrnnGanOptions options, Device device, Rng rng, Rng dropoutRng)
    {
        Input = RegisterModule("input", new Linear(2 * NoteEvents.Features, options.HiddenG, device: device, rng: rng));
        Lstm = RegisterModule("lstm", new Lstm(options.HiddenG, options.HiddenG, options.LayersG, dropout: options.LayersG > 1 ? options.Dropout : 0, device: device, rng: rng, dropoutRng: dropoutRng));
        Output = RegisterModule("output", new Linear(options.HiddenG, NoteEvents.Features, device: device, rng: rng));
        reluTimes = options.ReluTimes;
        timeFloor = options.TimeFloor;
    }

    readonly bool reluTimes;
    readonly TimeFloor timeFloor;

    /// <summary>Times (features 0 and 1, network scale) floored at 0 as <paramref name="floor"/> says.</summary>
    public static Tensor Floor(Tensor times, TimeFloor floor) => floor switch
    {
        TimeFloor.Relu => times.Relu(),
        // x + (relu(x) - x) with the bracket a constant: relu's values, the identity's gradient.
        TimeFloor.StraightThrough => times.Add(times.Relu().Sub(times).Detach()),
        TimeFloor.Softplus => times.Softplus(),
        _ => throw new ArgumentOutOfRangeException(nameof(floor), floor, "CrnnGenerator.Floor"),
    };

    public Linear Input { get; }
    public Lstm Lstm { get; }
    public Linear Output { get; }

    /// <summary>
    /// Events [T, N, 4] (time-major, network scale) from <paramref name="noise"/> [T, N, 4] and the step-0 start [N, 4];
    /// fed back its own outputs, or the shifted <paramref name="teacher"/> [T, N, 4] when given.
    /// </summary>
    public Tensor Forward(Tensor noise, Tensor start, Tensor? teacher = null)
    {
        int steps = noise.Dim(0), n = noise.Dim(1);
        var noiseSteps = noise.Unbind();
        var teacherSteps = teacher?.Unbind();
        var previous = start;
        Tensor? h = null, c = null;
        var outputs = new Tensor[steps];
        for (int t = 0; t < steps; t++)
        {
            var input = Input.Forward(Ops.ChannelConcat(noiseSteps[t], previous)).Relu();
            var (output, state) = Lstm.Forward(Ops.Reshape(input, 1, n, input.Dim(1)), h, c);
            (h, c) = state;
            var value = Output.Forward(Ops.Reshape(output, n, output.Dim(2)));
            // Time since the previous onset and length (features 0 and 1) are never negative; a ReLU gives exact zeros (chords).
            outputs[t] = reluTimes ? Ops.ChannelConcat(Floor(value.ChannelSlice(0, 2), timeFloor), value.ChannelSlice(2, NoteEvents.Features - 2)) : value;
            previous = teacherSteps is null ? outputs[t] : teacherSteps[t];
        }
        return Ops.Stack(outputs);
    }

    /// <summary>Generated events [T, N, 4] from noise [T, N, 4] (start: uniform noise of the first step's).</summary>
    public override Tensor Forward(Tensor noise) => Forward(noise, noise.Unbind()[0]);
}

/// <summary>
/// C-RNN-GAN's discriminator: dropout on the input events, a bidirectional stacked LSTM, at every step a linear
/// decision and a sigmoid; the sequence's decision is the mean over its steps.
/// </summary>
public sealed class CrnnDiscriminator : Module
{
    readonly float dropout;
    readonly Rng dropoutRng;
    readonly bool minibatchStd;
    readonly bool onsets;

    /// <summary>D of <paramref name="options"/>, weights from <paramref name="rng"/>, dropout masks from <paramref name="dropoutRng"/>.</summary>
    public CrnnDiscriminator(CrnnGanOptions options, Device device, Rng rng, Rng dropoutRng)
    {
        dropout = options.Dropout;
        this.dropoutRng = dropoutRng;
        minibatchStd = options.MinibatchStd;
        onsets = options.DOnsets;
        int inputs = (minibatchStd ? 2 * NoteEvents.Features : NoteEvents.Features) + (onsets ? 1 : 0);
        Lstm = RegisterModule("lstm", new Lstm(inputs, options.HiddenD, options.LayersD, dropout: options.LayersD > 1 ? options.Dropout : 0,
            bidirectional: true, device: device, rng: rng, dropoutRng: dropoutRng));
        Decision = RegisterModule("decision", new Linear(2 * options.HiddenD, 1, device: device, rng: rng));
    }

    public Lstm Lstm { get; }
    public Linear Decision { get; }

    /// <summary>The probability that each sequence of <paramref name="events"/> [T, N, 4] is real ([N]) and the last layer's
    /// features [T, N, 2·hidden].</summary>
    public (Tensor Probability, Tensor Features) Decide(Tensor events)
    {
        int steps = events.Dim(0), n = events.Dim(1);
        var x = events;
        if (Training && dropout > 0)
        {
            using var mask = dropoutRng.BernoulliMask(x.Device, x.Shape, 1f - dropout, 1f / (1f - dropout));
            x = x.Mul(mask);
        }
        // The onsets are summed from the events as D sees them (after dropout), so they carry nothing the events hide.
        var seen = x;
        if (minibatchStd) x = WithBatchSpread(x);
        if (onsets) x = WithOnsets(x, seen);
        var features = Lstm.Forward(x);
        var perStep = Decision.Forward(Ops.Reshape(features, steps * n, features.Dim(2))).Sigmoid();
        return (Ops.Reshape(perStep, steps, n).Mean([0]), features);
    }

    /// <summary>
    /// [T, N, F] to [T, N, 2F]: each event beside the standard deviation of every feature over the batch at its step
    /// (biased, sqrt(var + 1e-8); the same for every sequence of the batch). Recorded ops, so G is told how to spread.
    /// </summary>
    public static Tensor WithBatchSpread(Tensor x)
    {
        int steps = x.Dim(0), n = x.Dim(1), f = x.Dim(2);
        if (n < 2) throw new TensorShapeException($"CrnnDiscriminator: the minibatch feature needs at least 2 sequences, got {Shapes.Format(x.Shape)}");
        var spread = x.Sub(x.Mean([1], keepDims: true)).Square().Mean([1], keepDims: true).Add(1e-8f).Sqrt().Expand(x.Shape);
        return Ops.Reshape(Ops.ChannelConcat(Ops.Reshape(x, steps * n, f), Ops.Reshape(spread, steps * n, f)), steps, n, 2 * f);
    }

    /// <summary>
    /// [T, N, F'] to [T, N, F' + 1]: each step beside its onset since the sequence's start, the running sum of
    /// <paramref name="events"/>' times since the previous onset [T, N, 4] up to that step, divided by T (recorded).
    /// </summary>
    public static Tensor WithOnsets(Tensor x, Tensor events)
    {
        int steps = x.Dim(0), n = x.Dim(1), f = x.Dim(2);
        var shifts = Feature(events, NoteEvents.TimeShift).Mul(1f / steps).Unbind();
        var running = new Tensor[steps];
        for (int s = 0; s < steps; s++) running[s] = s == 0 ? shifts[0] : running[s - 1].Add(shifts[s]);
        var onset = Ops.Stack(running);
        return Ops.Reshape(Ops.ChannelConcat(Ops.Reshape(x, steps * n, f), Ops.Reshape(onset, steps * n, 1)), steps, n, f + 1);
    }

    /// <summary>Feature <paramref name="feature"/> of events [T, N, F] as [T, N, 1] (recorded).</summary>
    public static Tensor Feature(Tensor events, int feature)
    {
        int steps = events.Dim(0), n = events.Dim(1);
        return Ops.Reshape(Ops.Reshape(events, steps * n, events.Dim(2)).ChannelSlice(feature, 1), steps, n, 1);
    }

    /// <summary>The sequences' probabilities of being real [N].</summary>
    public override Tensor Forward(Tensor events) => Decide(events).Probability;
}
