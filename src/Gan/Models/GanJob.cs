using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Models;

/// <summary>
/// The training step shared by the GAN family (<c>gan</c>, <c>wgan</c>, <c>wgan-gp</c>, <c>cgan</c>): a
/// generator G and a discriminator (critic) D, each with its optimizer, updated in turn. A kind supplies its
/// critic loss and generator loss; everything else (networks, batches, conditioning, logs, pictures) is here.
/// <para><b>One step</b> = <c>n_critic</c> critic updates, then one generator update. The trainer hands one batch
/// per step; it should draw <c>batches_per_step</c> x (the command's batch size) samples (the config sets
/// batches_per_step = n_critic), and the step splits that batch into n_critic equal slices, the k-th critic update
/// seeing the k-th slice, so every critic update sees fresh real data as in the papers' Algorithm 1. A batch that
/// cannot split (not divisible, or fewer than 2 samples per slice) is reused whole by every critic update.</para>
/// <para><b>Logs</b>: loss_d (the last critic update's loss), loss_g, grad_norm_g (the L2 norm of all of G's
/// parameter gradients in the generator update: it collapses towards 0 when the generator loss saturates),
/// plus each kind's own (d_real and d_fake: mean D probabilities; wasserstein: the critic's estimate
/// mean D(real) - mean D(fake); gp: the penalty term, which wgan-gp's loss_d includes).</para>
/// <para><b>Generator averaging</b> (<c>g_ema</c> &gt; 0, default 0.999): after each generator update a moving
/// average of G's weights is updated (<see cref="ExponentialMovingAverage"/>); training uses G, while sampling,
/// pictures and metrics use the average (<see cref="SamplingGenerator"/>).</para>
/// <para><b>Frozen BatchNorm in G</b> (<c>g_bn_frozen</c>, may change on resume): G's BatchNorm layers normalise with
/// their running statistics in training too, as in sampling, so D judges exactly the points sampling gives. With
/// batch statistics each batch's mean and variance move every sample a little, and G learns in that jitter: seed 3's
/// grid generator scores 84% high-quality with its running statistics but 71% with those of batches of 100
/// (docs/RESULTS.md). Meant for a cool-down resumed from a run trained the usual way; the statistics then stay where
/// that run left them (the layers become per-unit affine maps), while their weights and shifts keep training.</para>
/// <para><b>Conditional kinds</b> give G the one-hot label concatenated to z, and D the one-hot label concatenated
/// to its flattened input (MLP) or as K constant channels beside the image's (conv). The fakes of a critic update
/// take the real slice's labels (so fakes follow the data's class frequencies without drawing random labels).</para>
/// <para><b>Packing</b> (<c>pack</c> = m &gt; 1; PacGAN, Lin et al. 2018): D judges m samples at once, concatenated
/// (points or flattened images side by side, image channels stacked), and gives one score per pack; real packs hold
/// only real samples and fake packs only fakes. A generator that drops modes makes packs whose members are too alike,
/// which D can see where it cannot in one sample. The losses are unchanged, taken over packs (for wgan-gp the penalty
/// then sits at interpolates between real and fake packs: the packed critic is 1-Lipschitz in pack space). Every
/// batch a critic or generator update sees must split into whole packs. Unconditional kinds only.</para>
/// </summary>
public abstract class GanJob : IGenerativeJob, IAveragedGenerator
{
    readonly JobConfig config;
    readonly Rng initRng;
    readonly Tensor sampleZ;                 // the fixed latents of the progress picture
    readonly List<float> realPoints = [];    // 2D runs: real points seen, for the scatter picture
    readonly ExponentialMovingAverage? generatorAverage; // g_ema > 0: what sampling and metrics use
    readonly (float G, float D) startRates;               // lr_g, lr_d: the rates before the schedule lowers them
    readonly RateSchedule schedule;                       // lr_schedule, or lr_decay_start and lr_decay_end
    const int ScatterPoints = 2000;

    /// <summary>Builds G, D, their optimizers and the random streams from <paramref name="config"/>.</summary>
    protected GanJob(string kind, JobConfig config, Device device, bool conditional = false)
    {
        Kind = kind;
        this.config = config;
        Device = device;
        SampleShape = config.Ints("data_shape");
        if (SampleShape.Length != 1 && SampleShape.Length != 3)
            throw new ArgumentException($"{kind}: data_shape must be '2' (points) or 'C,H,W' (images), got '{config.String("data_shape")}'");
        LatentSize = config.Int("latent");
        // Only a conditional kind reads the key (an unconditional one never picks up a dataset's labels).
        ClassCount = conditional ? config.Int("classes") : 0;
        CriticSteps = config.Int(CriticStepsKey);
        if (CriticSteps < 1) throw new ArgumentException($"{kind}: n_critic must be >= 1, got {CriticSteps}");
        Pack = config.Int("pack");
        if (Pack < 1) throw new ArgumentException($"{kind}: pack must be >= 1 (1: no packing), got {Pack}");
        if (Pack > 1 && ClassCount > 0) throw new ArgumentException($"{kind}: pack {Pack}: packing is for unconditional kinds (a pack would mix labels)");
        ulong seed = config.ULong("seed");
        Rng = new Rng(seed); // the trainer advances it to a checkpoint's offset on resume
        initRng = new Rng(seed ^ 0x1A17_0000_0000_0001UL);

        IsConv = IsImage && config.OneOf("arch", "conv", "mlp") == "conv";
        bool mbstd = config.Bool("mbstd"), mbd = config.Bool("minibatch_disc");
        Func<Rng, Sequential> makeGenerator; // G's architecture, built twice when its weights are averaged
        int mbdKernels = config.Int("mbd_kernels"), mbdDims = config.Int("mbd_dims");
        if (IsConv)
        {
            int channels = SampleShape[0], side = SampleShape[1];
            if (SampleShape[2] != side) throw new ArgumentException($"{kind}: arch conv needs square images, got {Shapes.Format(SampleShape)} (use arch=mlp)");
            int dWidth = config.Int("d_width");
            var norm = config.OneOf<CriticNorm>("d_norm");
            makeGenerator = rng => Dcgan.Generator(LatentSize + ClassCount, channels, side, config.Int("g_width"), device, rng);
            Generator = makeGenerator(initRng);
            var (before, extra) = GanNets.ConvMinibatchLayers(dWidth << (Dcgan.Stages(side) - 1), mbstd, mbd, mbdKernels, mbdDims, device, initRng);
            Discriminator = Dcgan.Discriminator(channels * Pack + ClassCount, side, dWidth, device, initRng, norm, before, extra);
        }
        else
        {
            int features = SampleShape.Aggregate(1, (a, b) => a * b);
            float initStd = config.Float("init_std");
            if (initStd < 0) throw new ArgumentException($"{kind}: init_std must be >= 0 (0: the layers' own initialisation), got {initStd}");
            makeGenerator = rng => GanNets.NormalInit(GanNets.MlpGenerator(LatentSize + ClassCount, config.Ints("g_widths"), SampleShape,
                config.Bool("g_batchnorm"), device, rng), initStd, rng);
            Generator = makeGenerator(initRng);
            Discriminator = GanNets.NormalInit(GanNets.MlpDiscriminator(features * Pack + ClassCount, config.Ints("d_widths"), config.Int("d_pieces"),
                config.Float("dropout"), mbstd, mbd, mbdKernels, mbdDims, device, initRng, Rng), initStd, initRng);
        }
        // Eval mode for all of G: its only mode-dependent layers are BatchNorms (G has no dropout).
        if (config.Bool(GeneratorNormFrozenKey)) Generator.Eval();
        startRates = (config.Float(GeneratorRateKey), config.Float(CriticRateKey));
        GeneratorOptimizer = MakeOptimizer(Generator, startRates.G);
        DiscriminatorOptimizer = MakeOptimizer(Discriminator, startRates.D);
        schedule = config.Schedule();
        if (config.Float("clip") > 0) DiscriminatorOptimizer.ClipAfterStep(config.Float("clip"));
        // The average's copy of G draws its own init stream (then overwritten), so G's and D's init is unchanged.
        generatorAverage = GeneratorAveraging.FromConfig(kind, config.Float("g_ema"), Generator, () => makeGenerator(new Rng(seed ^ 0x0E3A_0000_0000_0001UL)));

        var pictureRng = new Rng(seed ^ 0x5A3B_1E00_0000_0001UL);
        int pictureCount = IsImage ? (ClassCount > 0 ? 8 : 64) : ScatterPoints;
        sampleZ = pictureRng.Normal(device, [pictureCount, LatentSize]);
    }

    Optimizer MakeOptimizer(Module m, float lr) => config.OneOf("optimizer", "adam", "rmsprop") == "adam"
        ? new Adam(m.Parameters(), lr, config.Float("beta1"), config.Float("beta2"))
        : new RmsProp(m.Parameters(), lr);

    // ------------------------------------------------------------------ what the trainer sees

    public string Kind { get; }
    public IReadOnlyDictionary<string, string> Config => config.Values;
    public IReadOnlyDictionary<string, Module> Modules => GeneratorAveraging.Modules(Generator, Discriminator, generatorAverage);
    public IReadOnlyDictionary<string, Optimizer> Optimizers => new Dictionary<string, Optimizer> { ["generator"] = GeneratorOptimizer, ["discriminator"] = DiscriminatorOptimizer };
    public Rng Rng { get; }
    public int LatentSize { get; }
    public int ClassCount { get; }

    public Device Device { get; }
    /// <summary>One sample's shape: [2] for points, [C, H, W] for images.</summary>
    public int[] SampleShape { get; }
    public bool IsImage => SampleShape.Length == 3;
    /// <summary>True for the DCGAN convolutional networks (images, arch = conv), false for MLPs.</summary>
    public bool IsConv { get; }
    public Sequential Generator { get; }
    /// <summary>The generator that samples, pictures and metrics use: the moving average of G's weights when
    /// g_ema &gt; 0 (see <see cref="ExponentialMovingAverage"/>), else G itself.</summary>
    public Sequential SamplingGenerator => SampleLive ? Generator : (Sequential?)generatorAverage?.Average ?? Generator;
    public bool HasAverage => generatorAverage is not null;
    public bool SampleLive { get; set; }
    public Sequential Discriminator { get; }
    public Optimizer GeneratorOptimizer { get; }
    public Optimizer DiscriminatorOptimizer { get; }
    /// <summary>The config keys of the critic updates a step and of the loader batches a step takes (one per update).</summary>
    public const string CriticStepsKey = "n_critic", BatchesPerStepKey = "batches_per_step";
    /// <summary>The config keys of G's and D's start rates (what the schedule scales; a resumed run may change them).</summary>
    public const string GeneratorRateKey = "lr_g", CriticRateKey = "lr_d";
    /// <summary>Config key: G's BatchNorm layers use their running statistics in training too (see the class notes).</summary>
    public const string GeneratorNormFrozenKey = "g_bn_frozen";

    /// <summary>Critic updates per generator update.</summary>
    public int CriticSteps { get; }
    /// <summary>Samples D judges at once (PacGAN's packing; 1: one at a time).</summary>
    public int Pack { get; }

    // ------------------------------------------------------------------ the kind's losses

    /// <summary>The critic's loss on scores of real and fake samples (the fakes are detached); <paramref name="context"/>
    /// gives WGAN-GP the critic as a function and the two batches; scalars put in <paramref name="log"/> are logged.</summary>
    protected abstract Tensor CriticLoss(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log);

    /// <summary>The generator's loss on the critic's scores of fresh fakes (gradients flow through D into G).</summary>
    protected abstract Tensor GeneratorLoss(Tensor fakeScores);

    /// <summary>What a critic loss may need besides the scores: the critic as a function of its input, the batches,
    /// and the training step (a penalty applied every few steps only, as lazy R1).</summary>
    protected sealed record CriticContext(Func<Tensor, Tensor> Critic, Tensor Real, Tensor Fake, long Step);

    // ------------------------------------------------------------------ the step

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var samples = batch.Samples;
        if (!samples.Shape.AsSpan(1).SequenceEqual(SampleShape))
            throw new TensorShapeException($"{Kind}.Step: the batch has shape {Shapes.Format(samples.Shape)}, the model expects samples of shape {Shapes.Format(SampleShape)}");
        if (ClassCount > 0 && batch.Labels is null)
            throw new ArgumentException($"{Kind}.Step: a conditional model needs labelled data");
        if (!IsImage && realPoints.Count < 2 * ScatterPoints)
            realPoints.AddRange(samples.ToArray().Take(2 * ScatterPoints - realPoints.Count));

        schedule.Apply(GeneratorOptimizer, startRates.G, step);
        schedule.Apply(DiscriminatorOptimizer, startRates.D, step);
        int total = samples.Dim(0);
        bool split = CriticSteps > 1 && total % CriticSteps == 0 && total / CriticSteps >= 2;
        int size = split ? total / CriticSteps : total;
        var log = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int k = 0; k < CriticSteps; k++)
        {
            int start = split ? k * size : 0;
            using var real = samples.SliceBatch(start, size);
            int[]? labels = batch.Labels is { } l && ClassCount > 0 ? l[start..(start + size)] : null;
            CriticUpdate(real, labels, step, log, last: k == CriticSteps - 1);
        }
        int[]? gLabels = batch.Labels is { } gl && ClassCount > 0 ? gl[..size] : null;
        GeneratorUpdate(size, gLabels, log);
        return log;
    }

    void CriticUpdate(Tensor real, int[]? labels, long step, Dictionary<string, float> log, bool last)
    {
        using var scope = new TensorScope();
        using var onehot = labels is null ? null : OneHot(labels);
        using var z = Rng.Normal(Device, [real.Dim(0), LatentSize]);
        Tensor fake;
        using (Autograd.NoGrad()) fake = GeneratorForward(z, onehot);
        Tensor Critic(Tensor x) => CriticForward(x, onehot);
        var (realPacks, fakePacks) = (Packed(real), Packed(fake));
        var realScores = Critic(realPacks);
        var fakeScores = Critic(fakePacks);
        var logged = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        var loss = CriticLoss(realScores, fakeScores, new CriticContext(Critic, realPacks, fakePacks, step), logged);
        Discriminator.ZeroGrad();
        loss.Backward();
        DiscriminatorOptimizer.Step();
        if (last)
        {
            log["loss_d"] = loss.Item();
            foreach (var (name, t) in logged) log[name] = t.Item();
        }
        foreach (var t in logged.Values) t.Dispose(); // a kind may log a handle the scope does not own (Detach)
    }

    void GeneratorUpdate(int count, int[]? labels, Dictionary<string, float> log)
    {
        using var scope = new TensorScope();
        using var onehot = labels is null ? null : OneHot(labels);
        using var z = Rng.Normal(Device, [count, LatentSize]);
        // D's weights are constants here: no gradient is computed for them (saves their weight-gradient products).
        foreach (var p in Discriminator.Parameters()) p.RequiresGrad = false;
        try
        {
            var fake = GeneratorForward(z, onehot);
            var loss = GeneratorLoss(CriticForward(Packed(fake), onehot));
            Generator.ZeroGrad();
            loss.Backward();
            log["grad_norm_g"] = GradNorm(Generator);
            GeneratorOptimizer.Step();
            generatorAverage?.Update(GeneratorOptimizer.StepCount - 1);
            log["loss_g"] = loss.Item();
        }
        finally
        {
            foreach (var p in Discriminator.Parameters()) p.RequiresGrad = true;
        }
    }

    /// <summary>sqrt(sum over G's parameters of ||grad||²), one readback.</summary>
    static float GradNorm(Module m)
    {
        using var noGrad = Autograd.NoGrad();
        Tensor? total = null;
        foreach (var p in m.Parameters())
        {
            if (p.Grad is not { } g) continue;
            var s = g.Square().Sum();
            total = total is null ? s : total.Add(s);
        }
        return total is null ? 0f : MathF.Sqrt(total.Item());
    }

    /// <summary>G on z [N, latent] (with the one-hot label concatenated for a conditional model; seen as
    /// [N, latent + K, 1, 1] by a convolutional generator).</summary>
    protected Tensor GeneratorForward(Tensor z, Tensor? onehot) => GeneratorForward(Generator, z, onehot);

    Tensor GeneratorForward(Module generator, Tensor z, Tensor? onehot)
    {
        using var input = onehot is null ? Ops.Reshape(z, z.Shape) : Ops.ChannelConcat(z, onehot);
        if (!IsConv) return generator.Forward(input);
        using var column = Ops.Reshape(input, input.Dim(0), input.Dim(1), 1, 1);
        return generator.Forward(column);
    }

    /// <summary>
    /// Samples [N, ...] as N / pack packs for D: consecutive samples side by side, [N/m, m * F] for points or flattened
    /// images and [N/m, m * C, H, W] for images (both are the same memory, so it is a reshape, and gradients flow back
    /// to each sample). With pack 1, the samples themselves.
    /// </summary>
    public Tensor Packed(Tensor samples)
    {
        if (Pack == 1) return samples;
        int n = samples.Dim(0);
        if (n % Pack != 0)
            throw new TensorShapeException($"{Kind}: pack {Pack} needs every critic and generator batch to split into whole packs, got {n} samples (shape {Shapes.Format(samples.Shape)}): choose --batch a multiple of {Pack}");
        var shape = (int[])samples.Shape.Clone();
        shape[0] = n / Pack;
        shape[1] *= Pack;
        return Ops.Reshape(samples, shape); // made by an op: the enclosing TensorScope frees it
    }

    /// <summary>D's scores [N, 1] for samples (or packs: <see cref="Packed"/>): an MLP takes them flattened (with the one-hot label concatenated for a
    /// conditional model), a convolutional critic takes images (with the label as K constant channels).</summary>
    protected Tensor CriticForward(Tensor x, Tensor? onehot)
    {
        int n = x.Dim(0);
        if (IsConv)
        {
            Tensor scores;
            if (onehot is null) scores = Discriminator.Forward(x);
            else
            {
                using var column = Ops.Reshape(onehot, n, ClassCount, 1, 1);
                using var maps = column.Expand([n, ClassCount, x.Dim(2), x.Dim(3)]);
                using var input = Ops.ChannelConcat(x, maps);
                scores = Discriminator.Forward(input);
            }
            using (scores) return Ops.Reshape(scores, n, 1);
        }
        using var flat = IsImage ? x.Flatten() : Ops.Reshape(x, x.Shape);
        if (onehot is null) return Discriminator.Forward(flat);
        using var joined = Ops.ChannelConcat(flat, onehot);
        return Discriminator.Forward(joined);
    }

    /// <summary>[N, ClassCount] one-hot rows on the device.</summary>
    protected Tensor OneHot(int[] labels)
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
        if (z.Rank != 2 || z.Dim(1) != LatentSize)
            throw new TensorShapeException($"{Kind}.Generate: z must be [count, {LatentSize}], got {Shapes.Format(z.Shape)}");
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
            return scope.Keep(GeneratorForward(generator, z, onehot));
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
    public void ShowRealPoints(ReadOnlySpan<float> xy)
    {
        if (realPoints.Count == 0) realPoints.AddRange(xy[..Math.Min(xy.Length, 2 * ScatterPoints)]);
    }

    public void WriteSamples(string path)
    {
        if (!IsImage)
        {
            using var fake = Generate(sampleZ, ClassCount > 0 ? Enumerable.Range(0, sampleZ.Dim(0)).Select(i => i % ClassCount).ToArray() : null);
            var f = fake.ToArray();
            static double[] Axis(float[] xy, int a) => Enumerable.Range(0, xy.Length / 2).Select(i => (double)xy[2 * i + a]).ToArray();
            ScatterPlot.Save(path, $"{Kind}: real vs generated", [
                new PointSet("real", Axis([.. realPoints], 0), Axis([.. realPoints], 1)),
                new PointSet("generated", Axis(f, 0), Axis(f, 1))]);
            return;
        }
        int scale = SampleShape[1] <= 32 ? 2 : 1;
        if (ClassCount == 0)
        {
            using var images = Generate(sampleZ);
            ImageGrid.Save(path, images, columns: 8, scale: scale);
            return;
        }
        // One row per class, the same 8 latents in every row: a column shows one z across the classes.
        var rows = new List<Tensor>();
        try
        {
            for (int c = 0; c < ClassCount; c++) rows.Add(Generate(sampleZ, Enumerable.Repeat(c, sampleZ.Dim(0)).ToArray()));
            ImageGrid.SaveRows(path, rows, columns: sampleZ.Dim(0), scale: scale);
        }
        finally
        {
            foreach (var r in rows) r.Dispose();
        }
    }

    public void Dispose()
    {
        Generator.Dispose();
        generatorAverage?.Average.Dispose();
        Discriminator.Dispose();
        sampleZ.Dispose();
        GC.SuppressFinalize(this);
    }

    // ------------------------------------------------------------------ defaults shared by the kinds

    /// <summary>
    /// The keys every kind has, for samples of <paramref name="sampleShape"/>: the PacGAN networks for points,
    /// DCGAN or MLP networks for images. A kind overrides its losses' hyperparameters. <c>classes</c> is present only
    /// for a conditional kind (<paramref name="classCount"/> &gt; 0): the command line fills it from the data's labels
    /// when, and only when, the key exists, and an unconditional kind ignores labels.
    /// </summary>
    protected static Dictionary<string, string> CommonDefaults(int[] sampleShape, int classCount)
    {
        bool image = sampleShape.Length == 3;
        var defaults = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["data_shape"] = JobConfig.Format(sampleShape),
            ["latent"] = image ? "100" : "2",
            ["seed"] = "0",
            [CriticStepsKey] = "1",
            [BatchesPerStepKey] = "1",
            ["arch"] = image && sampleShape[1] == sampleShape[2] && sampleShape[1] >= 8 && (sampleShape[1] & (sampleShape[1] - 1)) == 0 ? "conv" : "mlp",
            ["g_width"] = "64",
            ["d_width"] = "64",
            ["d_norm"] = "batch",
            ["g_widths"] = image ? "256,512,1024" : "400,400,400,400",
            ["g_batchnorm"] = "true",
            [GeneratorNormFrozenKey] = "false",
            ["d_widths"] = image ? "512,256" : "200,200,200",
            ["d_pieces"] = image ? "1" : "5",
            ["dropout"] = "0",
            ["mbstd"] = "false",
            ["minibatch_disc"] = "false",
            ["mbd_kernels"] = "100",
            ["mbd_dims"] = "5",
            ["pack"] = "1",
            ["init_std"] = "0",
            ["optimizer"] = "adam",
            [GeneratorRateKey] = image ? "0.0002" : "0.0001",
            [CriticRateKey] = image ? "0.0002" : "0.0001",
            ["beta1"] = image ? "0.5" : "0.8",
            ["beta2"] = "0.999",
            ["clip"] = "0",
            [LinearDecay.StartKey] = "0",
            [LinearDecay.EndKey] = "0",
            [RateSchedule.Key] = "",
            ["g_ema"] = "0.999",
        };
        if (classCount > 0) defaults["classes"] = JobConfig.Format(classCount); // conditional kinds only
        return defaults;
    }

    /// <summary>
    /// The config a kind's job reads: its defaults for the data overlaid with <paramref name="given"/>. Keys the
    /// kind does not know are kept, not refused, so a checkpoint's metadata loads and is saved back whole (the
    /// command line refuses unknown <c>--set</c> keys before a job is made).
    /// </summary>
    protected static JobConfig ReadConfig(string kind, IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> given)
    {
        // Each critic update takes its own batch: a given n_critic brings batches_per_step with it unless that is given
        // too (else `--set n_critic=10` on a wgan would split its 5 batches into 10 half batches).
        if (given.TryGetValue(CriticStepsKey, out var n) && !given.ContainsKey(BatchesPerStepKey))
            given = new Dictionary<string, string>(given, StringComparer.Ordinal) { [BatchesPerStepKey] = n };
        return new(kind, defaults, given, refuseUnknown: false);
    }

    /// <summary>The data shape named by config["data_shape"] (default "2": points), which the defaults depend on.</summary>
    protected static int[] ShapeOf(string kind, IReadOnlyDictionary<string, string> config) =>
        ReadConfig(kind, new Dictionary<string, string> { ["data_shape"] = "2" }, config).Ints("data_shape");

    /// <summary>The class count named by config["classes"], or <paramref name="fallback"/> when absent.</summary>
    protected static int ClassesOf(string kind, IReadOnlyDictionary<string, string> config, int fallback) =>
        ReadConfig(kind, new Dictionary<string, string> { ["classes"] = JobConfig.Format(fallback) }, config).Int("classes");
}
