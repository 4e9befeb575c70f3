using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The one training step of the GAN family (<c>gan</c>, <c>cgan</c>, <c>wgan</c>, <c>wgan-gp</c>, and <c>dcgan</c>, a preset
/// of its options): a generator G and a discriminator (critic) D, each with its optimizer, updated in turn. A kind's
/// options choose the networks (<see cref="GanNetworks"/>) and the losses (<see cref="GanLoss"/>); the rest is here.
/// <para><b>One step</b> = <c>n_critic</c> critic updates, then one generator update. The trainer hands one batch per step
/// of <c>batches_per_step</c> x (the command's batch size) samples (by default one batch per critic update), and the step
/// splits it into n_critic equal slices, the k-th critic update seeing the k-th slice, so every critic update sees fresh
/// real data as in the papers' Algorithm 1. A batch that cannot split (not divisible, or fewer than 2 samples a slice) is
/// reused whole by every critic update. With <c>reuse_fakes</c> (dcgan's default) the generator update takes the critic
/// update's fakes rather than drawing new ones, as PyTorch's DCGAN example does.</para>
/// <para><b>Logs</b>: loss_d (the last critic update's loss), loss_g, grad_norm_g (the L2 norm of G's parameter gradients:
/// it collapses towards 0 when the generator loss saturates), and the loss's own scalars.</para>
/// <para><b>Generator averaging</b> (<c>g_ema</c> &gt; 0): after each generator update a moving average of G's weights is
/// updated (<see cref="ExponentialMovingAverage"/>); training uses G, sampling, pictures and metrics use the average.</para>
/// <para><b>Frozen BatchNorm in G</b> (<c>g_bn_frozen</c>): G's BatchNorms normalise with their running statistics in
/// training too, as in sampling, so D judges exactly the points sampling gives (with batch statistics each batch's mean
/// and variance move every sample a little, and G learns in that jitter).</para>
/// <para><b>Conditional kinds</b>: the fakes of a critic update take the real slice's labels, so fakes follow the data's
/// class frequencies.</para>
/// </summary>
public sealed class GanJob : IGenerativeJob, IAveragedGenerator
{
    readonly GanNetworks networks;
    readonly GanLoss loss;
    readonly GanPictures pictures;
    readonly ExponentialMovingAverage? generatorAverage;
    readonly RateSchedule schedule;
    readonly IReadOnlyDictionary<string, Optimizer> optimizers;

    /// <summary>Builds G, D, their optimizers and the random streams of a <paramref name="kind"/> with <paramref name="options"/>
    /// (checked again here: a caller may build options without the binder).</summary>
    public GanJob(string kind, GanOptions options, Device device)
    {
        options.Validate(kind);
        Kind = kind;
        Options = options;
        Device = device;
        ulong seed = options.Seed;
        Rng = new Rng(seed); // the trainer advances it to a checkpoint's offset on resume
        var init = new Rng(seed ^ 0x1A17_0000_0000_0001UL);
        networks = new GanNetworks(options, device, init, Rng);
        loss = GanLoss.For(options);
        // Eval mode for all of G: its only mode-dependent layers are BatchNorms (G has no dropout).
        if (options.GeneratorNormFrozen) Generator.Eval();
        GeneratorOptimizer = MakeOptimizer(Generator, options.GeneratorRate);
        DiscriminatorOptimizer = MakeOptimizer(Discriminator, options.CriticRate);
        if (options.Clip > 0) DiscriminatorOptimizer.ClipAfterStep(options.Clip);
        optimizers = new Dictionary<string, Optimizer> { ["generator"] = GeneratorOptimizer, ["discriminator"] = DiscriminatorOptimizer };
        schedule = options.Schedule(kind);
        // The average's copy of G draws its own init stream (then overwritten), so G's and D's init is unchanged.
        generatorAverage = GeneratorAveraging.FromConfig(kind, options.GeneratorAverage, Generator,
            () => networks.NewGenerator(new Rng(seed ^ 0x0E3A_0000_0000_0001UL)));
        pictures = new GanPictures(this, new Rng(seed ^ 0x5A3B_1E00_0000_0001UL));
    }

    Optimizer MakeOptimizer(Module m, float lr) => Options.Optimizer == GanOptions.OptimizerKind.Adam
        ? new Adam(m.Parameters(), lr, Options.Beta1, Options.Beta2)
        : new RmsProp(m.Parameters(), lr);

    // ------------------------------------------------------------------ what the trainer sees

    public string Kind { get; }
    public GanOptions Options { get; }
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => GeneratorAveraging.Modules(Generator, Discriminator, generatorAverage);
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }
    public int BatchesPerStep => Options.BatchesPerStepOrDefault;
    public int LatentSize => Options.Latent;
    public int ClassCount => Options.ClassCount;
    public Device Device { get; }
    /// <summary>One sample's shape: [2] for points, [C, H, W] for images.</summary>
    public int[] SampleShape => Options.DataShape;
    public bool IsImage => Options.IsImage;
    public Sequential Generator => networks.Generator;
    public Sequential Discriminator => networks.Discriminator;
    /// <summary>The generator that samples, pictures and metrics use: the moving average of G's weights when g_ema &gt; 0,
    /// else G itself (and G itself when <see cref="SampleLive"/>).</summary>
    public Sequential SamplingGenerator => SampleLive ? Generator : (Sequential?)generatorAverage?.Average ?? Generator;
    public bool HasAverage => generatorAverage is not null;
    public bool SampleLive { get; set; }
    public Optimizer GeneratorOptimizer { get; }
    public Optimizer DiscriminatorOptimizer { get; }

    // ------------------------------------------------------------------ the step

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step) => Step(batch, step, null);

    /// <summary>
    /// The step, with the latents of a <c>reuse_fakes</c> step given (<paramref name="z"/> [N, latent] or [N, latent, 1, 1],
    /// read, not kept) instead of drawn from <see cref="Rng"/>: the seam that lets a test replay a step computed elsewhere
    /// (tests/NativeGan.Tests/Training/DcganStepTests.cs replays PyTorch's).
    /// </summary>
    public IReadOnlyDictionary<string, float> Step(Batch batch, long step, Tensor? z)
    {
        var samples = batch.Samples;
        if (!samples.Shape.AsSpan(1).SequenceEqual(SampleShape))
            throw new TensorShapeException($"{Kind}.Step: the batch has shape {Shapes.Format(samples.Shape)}, the model expects samples of shape {Shapes.Format(SampleShape)}");
        if (ClassCount > 0 && batch.Labels is null)
            throw new ArgumentException($"{Kind}.Step: a conditional model needs labelled data");
        if (z is not null && !Options.ReuseFakes)
            throw new ArgumentException($"{Kind}.Step: given latents serve a reuse_fakes step only (one draw a step)");
        pictures.SeeReal(samples);

        schedule.Apply(GeneratorOptimizer, Options.GeneratorRate, step);
        schedule.Apply(DiscriminatorOptimizer, Options.CriticRate, step);
        using var log = new PendingLog();
        if (Options.ReuseFakes)
        {
            using var scope = new TensorScope();
            using var onehot = batch.Labels is { } l && ClassCount > 0 ? OneHot(l) : null;
            using var latents = z is null ? Rng.Normal(Device, [samples.Dim(0), LatentSize]) : Latents(z, samples.Dim(0));
            var fake = networks.GeneratorForward(Generator, latents, onehot);
            using (var detached = fake.Detach()) CriticUpdate(samples, detached, onehot, step, log);
            GeneratorUpdate(fake, onehot, log);
            return log.Read();
        }
        int total = samples.Dim(0), updates = Options.CriticSteps;
        bool split = updates > 1 && total % updates == 0 && total / updates >= 2;
        int size = split ? total / updates : total;
        for (int k = 0; k < updates; k++)
        {
            int start = split ? k * size : 0;
            using var scope = new TensorScope();
            using var real = samples.SliceBatch(start, size);
            using var onehot = batch.Labels is { } l && ClassCount > 0 ? OneHot(l[start..(start + size)]) : null;
            using var latents = Rng.Normal(Device, [size, LatentSize]);
            Tensor fake;
            using (Autograd.NoGrad()) fake = networks.GeneratorForward(Generator, latents, onehot);
            CriticUpdate(real, fake, onehot, step, k == updates - 1 ? log : null);
        }
        using (new TensorScope())
        {
            using var onehot = batch.Labels is { } gl && ClassCount > 0 ? OneHot(gl[..size]) : null;
            using var latents = Rng.Normal(Device, [size, LatentSize]);
            GeneratorUpdate(networks.GeneratorForward(Generator, latents, onehot), onehot, log);
        }
        return log.Read();
    }

    /// <summary>Samples [N, ...] as the N / pack packs D judges (see <see cref="GanNetworks.Packed"/>).</summary>
    public Tensor Packed(Tensor samples) => networks.Packed(samples, Kind);

    Tensor Latents(Tensor z, int count)
    {
        if (z.Dim(0) != count || z.Dim(1) != LatentSize || z.Length != count * LatentSize)
            throw new TensorShapeException($"{Kind}: latents must be [{count}, {LatentSize}] (or [{count}, {LatentSize}, 1, 1]) for a batch of {count}, got {Shapes.Format(z.Shape)}");
        return Ops.Reshape(z, count, LatentSize);
    }

    /// <summary>One update of D on real and (detached) fake samples; its scalars go to <paramref name="log"/> when given.</summary>
    void CriticUpdate(Tensor real, Tensor fake, Tensor? onehot, long step, PendingLog? log)
    {
        using var scope = new TensorScope();
        Tensor Critic(Tensor x) => networks.CriticForward(x, onehot);
        var (realPacks, fakePacks) = (networks.Packed(real, Kind), networks.Packed(fake, Kind));
        var realScores = Critic(realPacks);
        var fakeScores = Critic(fakePacks);
        var logged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var value = loss.Critic(realScores, fakeScores, new GanLoss.CriticContext(Critic, realPacks, fakePacks, step, Rng), logged);
        Discriminator.ZeroGrad();
        value.Backward();
        DiscriminatorOptimizer.Step();
        if (log is not null)
        {
            log.Add("loss_d", value);
            foreach (var (name, t) in logged) log.Add(name, t);
        }
        foreach (var t in logged.Values) t.Dispose(); // a loss may log a handle the scope does not own (Detach)
    }

    /// <summary>One update of G through D (whose weights are constants here) on <paramref name="fake"/>.</summary>
    void GeneratorUpdate(Tensor fake, Tensor? onehot, PendingLog log)
    {
        // No gradient is computed for D's weights (saves their weight-gradient products).
        foreach (var p in Discriminator.Parameters()) p.RequiresGrad = false;
        try
        {
            var value = loss.Generator(networks.CriticForward(networks.Packed(fake, Kind), onehot));
            Generator.ZeroGrad();
            value.Backward();
            using (var norm = GradientClipping.GradNormTensor(Generator.Parameters())) log.Add("grad_norm_g", norm);
            GeneratorOptimizer.Step();
            generatorAverage?.Update(GeneratorOptimizer.StepCount - 1);
            log.Add("loss_g", value);
        }
        finally
        {
            foreach (var p in Discriminator.Parameters()) p.RequiresGrad = true;
        }
    }

    /// <summary>[N, ClassCount] one-hot rows on the device.</summary>
    Tensor OneHot(int[] labels)
    {
        var data = new float[labels.Length * ClassCount];
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0 || labels[i] >= ClassCount)
                throw new ArgumentException($"{Kind}: label {labels[i]} is outside 0..{ClassCount - 1}");
            data[i * ClassCount + labels[i]] = 1f;
        }
        return Tensor.FromArray(data, [labels.Length, ClassCount], Device);
    }

    // ------------------------------------------------------------------ sampling

    public Tensor Generate(Tensor z, int[]? labels = null)
    {
        if ((z.Rank != 2 && z.Rank != 4) || z.Dim(1) != LatentSize || z.Length != z.Dim(0) * LatentSize)
            throw new TensorShapeException($"{Kind}.Generate: z must be [count, {LatentSize}], got {Shapes.Format(z.Shape)}");
        if (ClassCount == 0 && labels is not null)
            throw new ArgumentException($"{Kind}.Generate: the model is unconditional; it takes no labels");
        if (ClassCount > 0 && (labels is null || labels.Length != z.Dim(0)))
            throw new ArgumentException($"{Kind}.Generate: a conditional model needs one label per latent ({z.Dim(0)}), got {labels?.Length.ToString() ?? "none"}");
        var generator = SamplingGenerator;
        bool wasTraining = generator.Training;
        generator.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            using var onehot = ClassCount > 0 ? OneHot(labels!) : null;
            using var latents = Ops.Reshape(z, z.Dim(0), LatentSize);
            return scope.Keep(networks.GeneratorForward(generator, latents, onehot));
        }
        finally
        {
            generator.Train(wasTraining);
        }
    }

    /// <summary><paramref name="count"/> samples as host floats from latents of seed <paramref name="seed"/> (not the job's
    /// stream): see <see cref="Metrics.GanEvaluation.Sample"/>.</summary>
    public float[] SampleHost(int count, ulong seed, int[]? labels = null) => Metrics.GanEvaluation.Sample(this, Device, count, seed, labels);

    /// <summary>Real points [x0, y0, x1, y1, ...] for the 2D scatter picture of a job that saw no training data (a
    /// checkpoint loaded by `eval modes --scatter`); a training run collects its own from its batches.</summary>
    public void ShowRealPoints(ReadOnlySpan<float> xy) => pictures.ShowReal(xy);

    public void WriteSamples(string path) => pictures.Write(path);

    public void Dispose()
    {
        Generator.Dispose();
        generatorAverage?.Average.Dispose();
        Discriminator.Dispose();
        pictures.Dispose();
    }
}
