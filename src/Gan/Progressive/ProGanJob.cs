using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// What both growing kinds (<c>progan</c>, <c>stylegan</c>) set the same way: the latent, one width per stage, the
/// phase length in images, Adam's rates and betas (the papers' 1e-3, 0 and 0.99) and G's weight average (0.999). The
/// paper has 600,000 images a phase and 512 features a layer below 64x64; here 30,000 and narrower, for a cpu.
/// </summary>
public abstract record GrowingOptions : ModelOptions
{
    [Setting("latent", "Length of the latent z (normalised to the sphere by pixel norm).", Min = 1)]
    public int Latent { get; init; } = 128;

    [Setting("widths", "Features of each stage from 4x4 up (one per stage; the data's side sets the stages: 4 * 2^(stages-1)).", Min = 1)]
    public int[] Widths { get; init; } = [128, 128, 64, 32];

    [Setting("phase_images", "Images shown in each phase: stage 1 stable, then per stage a fade-in and a stable phase (the paper's 600,000).", Min = 1)]
    public long PhaseImages { get; init; } = 30_000;

    [Setting("lr_g", "G's Adam learning rate (the papers' 1e-3 for both).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateG { get; init; } = 1e-3f;

    [Setting("lr_d", "D's Adam learning rate.", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateD { get; init; } = 1e-3f;

    [Setting("beta1", "Adam's beta1.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; }

    [Setting("beta2", "Adam's beta2.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta2 { get; init; } = 0.99f;

    [Setting("g_ema", "Decay of the moving average of G's weights that pictures and sampling use (0: none).", Min = 0, Max = 1, MaxExclusive = true)]
    public float GeneratorEma { get; init; } = 0.999f;

    /// <summary>Image channels (data_shape's first number).</summary>
    public int Channels => DataShape[0];

    /// <summary>Stages the data's side needs: 4 · 2^(stages - 1) = side.</summary>
    public int Stages => DataShape.Length == 3 ? System.Numerics.BitOperations.Log2((uint)DataShape[1]) - 1 : 0;

    /// <summary>A growing model's images are square, of a power-of-2 side of at least 4, with one width per stage.</summary>
    public override void Validate(string kind)
    {
        if (DataShape.Length != 3 || DataShape[1] != DataShape[2] || DataShape[1] < 4 || (DataShape[1] & (DataShape[1] - 1)) != 0)
            throw new ArgumentException($"{kind}: images must be square with a side that is a power of 2, at least 4 (data_shape C,S,S), got {string.Join(",", DataShape)}");
        if (Widths.Length != Stages)
            throw new ArgumentException($"{kind}: widths must give one feature count per stage: {Stages} for {DataShape[1]}x{DataShape[1]} images (4 to {DataShape[1]}), got {Widths.Length} ({string.Join(",", Widths)})");
    }
}

/// <summary>
/// The settings of <c>progan</c> (<see cref="ProGanJob"/>), beside the growing ones (<see cref="GrowingOptions"/>). The
/// paper's (Karras et al. 2018, appendix A): WGAN-GP with lambda 10 and the drift term 0.001, one critic update a step.
/// </summary>
public sealed record ProGanOptions : GrowingOptions
{
    [Setting("gp_lambda", "Weight of WGAN-GP's gradient penalty.", Min = 0, ResumeMayChange = true)]
    public float GpLambda { get; init; } = 10f;

    [Setting("drift", "Weight of the drift term drift * mean(D(real)^2), which keeps the critic's scores near 0.", Min = 0, ResumeMayChange = true)]
    public float Drift { get; init; } = 0.001f;
}

/// <summary>
/// ProGAN (Karras et al. 2018): G and D grown together from 4x4, one stage at a time, each new stage faded in over a
/// phase (alpha 0 -> 1 in both networks, the real images blended between the lower resolution, upsampled, and the
/// new one in the same proportion), then trained stable for a phase. The loss is WGAN-GP with the drift term.
/// Where training stands is the number of images shown, kept in the checkpoint (module <c>progress</c>), so a run
/// resumed inside a fade-in continues with the same alpha; <see cref="Schedule"/> maps it to stage and alpha.
/// </summary>
public sealed class ProGanJob : GrowingJob<ProGanOptions, ProGanGenerator>
{
    /// <summary>The kind's name.</summary>
    public const string KindName = "progan";

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public ProGanJob(ProGanOptions options, Device device)
        : base(KindName, options, device,
               rng => new ProGanGenerator(options.Latent, options.Channels, options.Widths, device, rng),
               rng => new ProGanDiscriminator(options.Channels, options.Widths, device, rng))
    {
    }

    /// <summary>
    /// The stage (1: 4x4) and fade-in alpha after <paramref name="images"/> images: stage 1 for one phase, then for each
    /// further stage a fade-in phase (alpha rising linearly from 0) and a stable one; the last stage stays once reached.
    /// </summary>
    public static (int Stage, float Alpha) Schedule(long images, long phaseImages, int stages)
    {
        if (images < phaseImages || stages == 1) return (1, 1f);
        long phase = (images - phaseImages) / phaseImages;
        int stage = 2 + (int)Math.Min(phase / 2, stages);
        if (stage > stages) return (stages, 1f);
        return phase % 2 == 0 ? (stage, (float)((images - phaseImages) % phaseImages / (double)phaseImages)) : (stage, 1f);
    }

    /// <summary>Where the schedule stands now.</summary>
    public override (int Stage, float Alpha) Now => Schedule(Progress.Images, Options.PhaseImages, Options.Stages);

    /// <summary>Real images [N, C, S, S] at stage <paramref name="stage"/>'s side, blended as G's output is during a fade-in.</summary>
    public static Tensor RealsAt(Tensor real, int stage, float alpha)
    {
        int side = ProGanGenerator.SideOf(stage), factor = real.Dim(2) / side;
        var x = factor > 1 ? real.AvgPool2d(factor) : real;
        if (alpha >= 1f || stage == 1) return x;
        var lower = x.AvgPool2d(2).UpsampleNearest2x();
        return lower.Mul(1f - alpha).Add(x.Mul(alpha));
    }

    public override IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var real = batch.Samples;
        CheckBatch(real);
        int n = real.Dim(0);
        var (stage, alpha) = Now;
        Generator.Train();
        Discriminator.Train();
        using var log = new PendingLog();
        log.Set("stage", stage);
        log.Set("alpha", alpha);
        using (var scope = new TensorScope())
        {
            var x = RealsAt(real, stage, alpha);
            using var z = Rng.Normal(Device, [n, Options.Latent]);
            Tensor fake;
            using (Autograd.NoGrad()) fake = Generator.Forward(z, stage, alpha);
            var realScores = Discriminator.Forward(x, stage, alpha);
            var fakeScores = Discriminator.Forward(fake, stage, alpha);
            var wasserstein = Losses.WassersteinCritic(realScores, fakeScores);
            var penalty = Losses.GradientPenalty(t => Discriminator.Forward(t, stage, alpha), x, fake, Rng, Options.GpLambda);
            var drift = realScores.Square().Mean().Mul(Options.Drift);
            var lossD = wasserstein.Add(penalty).Add(drift);
            lossD.Backward();
            OptimizerD.Step();
            OptimizerD.ZeroGrad();
            log.Add("loss_d", lossD);
            log.Add("wasserstein", wasserstein, scale: -1f);
            log.Add("gp", penalty);
        }
        using (var scope = new TensorScope())
        {
            foreach (var p in Discriminator.Parameters()) p.RequiresGrad = false;
            try
            {
                using var z = Rng.Normal(Device, [n, Options.Latent]);
                var lossG = Losses.WassersteinGenerator(Discriminator.Forward(Generator.Forward(z, stage, alpha), stage, alpha));
                lossG.Backward();
                OptimizerG.Step();
                log.Add("loss_g", lossG);
            }
            finally
            {
                foreach (var p in Discriminator.Parameters()) p.RequiresGrad = true;
            }
            OptimizerG.ZeroGrad();
        }
        EndStep(step, n);
        return log.Read();
    }

    /// <summary>Images of the schedule's current stage for latents z, upsampled (nearest) to the data's side.</summary>
    public override Tensor Generate(Tensor z, int[]? labels = null)
    {
        if (labels is not null) throw new ArgumentException($"{Kind}.Generate: the model is unconditional; it takes no labels");
        if (z.Rank != 2 || z.Dim(1) != LatentSize) throw new TensorShapeException($"{Kind}.Generate: z must be [count, {LatentSize}], got {Shapes.Format(z.Shape)}");
        var (stage, alpha) = Now;
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            var images = g.Forward(z, stage, alpha);
            for (int s = stage; s < Options.Stages; s++) images = images.UpsampleNearest2x();
            return scope.Keep(images);
        }
        finally
        {
            g.Train(wasTraining);
        }
    }
}

/// <summary>The number of images a progressive run has shown, as a module buffer (<c>images</c>: two floats, millions and
/// the rest, exact to 2^24 million) so that checkpoints keep it.</summary>
public sealed class ImagesShown : Module
{
    readonly Tensor images;

    /// <summary>Zero images, on <paramref name="device"/>.</summary>
    public ImagesShown(Device device) => images = RegisterBuffer("images", Tensor.Zeros(device, 2));

    /// <summary>Images shown so far.</summary>
    public long Images
    {
        get
        {
            var v = images.ToArray();
            return (long)v[0] * 1_000_000 + (long)v[1];
        }
    }

    /// <summary>Counts <paramref name="count"/> more images.</summary>
    public void Add(int count)
    {
        long total = Images + count;
        using var value = Tensor.FromArray([total / 1_000_000, total % 1_000_000], [2], images.Device);
        images.CopyFrom(value);
    }

    /// <summary>Not available: a counter has no forward.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("ImagesShown has no forward");
}

/// <summary>The progressive models as model kinds: <c>progan</c> and <c>stylegan</c>.</summary>
public sealed class ProgressiveFamily : IModelFamily
{
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = ProGanJob.KindName,
            Description = "ProGAN (Karras et al. 2018): G and D grown from 4x4 to the data's side, each stage faded in; equalized learning rate, pixel norm in G, minibatch standard deviation in D, WGAN-GP with the drift term, Adam 1e-3 (0, 0.99), G's weights averaged. Phases are counted in images shown (phase_images).",
            Defaults = (data, _) => new ProGanOptions { DataShape = data.SampleShape, Widths = DefaultWidths(data.SampleShape) },
            Create = (options, device) => new ProGanJob((ProGanOptions)options, device),
            DefaultData = "fashion",
            DefaultEpochs = 4,
            DefaultBatch = 16,
        },
        new ModelKind
        {
            Name = StyleGanJob.KindName,
            Description = "StyleGAN (Karras et al. 2019): a mapping network z -> w (8 layers, lr multiplier 0.01), a learned constant 4x4 input, AdaIN from w at every layer, per-pixel noise, the [1,2,1] blur; ProGAN's growing (growing=false: fixed resolution) and critic; the non-saturating logistic loss with R1 (10), style mixing (0.9), the tracked average of w for truncation, G's weights averaged.",
            Defaults = (data, _) => new StyleGanOptions { DataShape = data.SampleShape, Widths = DefaultWidths(data.SampleShape) },
            Create = (options, device) => new StyleGanJob((StyleGanOptions)options, device),
            DefaultData = "fashion",
            DefaultEpochs = 4,
            DefaultBatch = 16,
        },
    ];

    /// <summary>128 features to 8x8, then halving per stage, at least 16: a cpu-sized version of the paper's.</summary>
    internal static int[] DefaultWidths(int[] shape)
    {
        int stages = shape.Length == 3 && shape[1] >= 4 ? System.Numerics.BitOperations.Log2((uint)shape[1]) - 1 : 1;
        return [.. Enumerable.Range(0, Math.Max(1, stages)).Select(k => Math.Max(16, k < 2 ? 128 : 128 >> (k - 1)))];
    }
}
