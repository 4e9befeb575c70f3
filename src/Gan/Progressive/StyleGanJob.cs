using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// The settings of <c>stylegan</c> (<see cref="StyleGanJob"/>), beside the growing ones (<see cref="GrowingOptions"/>).
/// The paper's (Karras et al. 2019, appendix C, and NVlabs/stylegan's defaults): the non-saturating logistic loss with
/// R1 (gamma 10) on reals, the mapping network 100 times slower (0.01), style mixing on 90% of the batches, w's average
/// tracked at 0.995, growing as ProGAN with the blur after every resampling. z and w are 128 long (the paper's 512).
/// </summary>
public sealed record StyleGanOptions : GrowingOptions
{
    [Setting("style_dim", "Length of the intermediate latent w, the style every layer's AdaIN takes.", Min = 1)]
    public int StyleDim { get; init; } = 128;

    [Setting("mapping_layers", "Fully connected layers of the mapping network z -> w (the paper's 8).", Min = 1)]
    public int MappingLayers { get; init; } = 8;

    [Setting("mapping_lr", "Learning-rate multiplier of the mapping network (equalized learning rate; the paper's 0.01).", Min = 0, MinExclusive = true)]
    public float MappingLr { get; init; } = 0.01f;

    [Setting("growing", "Grow from 4x4 by phases as ProGAN (true, the paper's) or train the full resolution from the start (false).")]
    public bool Growing { get; init; } = true;

    [Setting("blur", "The [1, 2, 1] low-pass filter after G's upsampling and before D's downsampling convolutions.")]
    public bool Blur { get; init; } = true;

    [Setting("r1_gamma", "Weight gamma of R1 = gamma/2 * mean ||dD(x)/dx||^2 on real images (the paper's 10).", Min = 0, ResumeMayChange = true)]
    public float R1Gamma { get; init; } = 10f;

    [Setting("r1_every", "Apply R1 every this many steps, weighted as many times (StyleGAN2's lazy regularisation; the paper's StyleGAN: 1).", Min = 1, ResumeMayChange = true)]
    public int R1Every { get; init; } = 1;

    [Setting("style_mixing", "Share of batches whose G step mixes two latents' styles at a random crossover layer (the paper's 0.9).", Min = 0, Max = 1, ResumeMayChange = true)]
    public float StyleMixing { get; init; } = 0.9f;

    [Setting("w_avg_beta", "Decay of the tracked average of w that truncation pulls towards (the paper's 0.995).", Min = 0, Max = 1, MaxExclusive = true)]
    public float AverageWBeta { get; init; } = 0.995f;
}

/// <summary>
/// StyleGAN (Karras et al. 2019; reference NVlabs/stylegan, training/loss.py and networks_stylegan.py): the mapping
/// network turns z into w, every layer of the synthesis network takes w through AdaIN, per-pixel noise adds detail. D is
/// ProGAN's (with the blur). Each step: D on real and generated images with the non-saturating logistic loss
/// softplus(D(fake)) + softplus(-D(real)) plus R1 on the reals; then G with softplus(-D(G(z))), its styles mixed from two
/// latents at a random crossover on <c>style_mixing</c> of the batches, and the average of w tracked. Growing follows
/// ProGAN's schedule (<see cref="ProGanJob.Schedule"/>), counted in images shown (module <c>progress</c>), or off.
/// </summary>
public sealed class StyleGanJob : GrowingJob<StyleGanOptions, StyleGanGenerator>, IStyleGenerator
{
    /// <summary>The kind's name.</summary>
    public const string KindName = "stylegan";

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>. The mapping network's rate is
    /// slowed by its equalized-learning-rate multiplier, not by a second optimizer.</summary>
    public StyleGanJob(StyleGanOptions options, Device device)
        : base(KindName, options, device,
               rng => new StyleGanGenerator(options.Latent, options.StyleDim, options.MappingLayers, options.MappingLr, options.Channels, options.Widths, options.Blur, device, rng),
               rng => new ProGanDiscriminator(options.Channels, options.Widths, device, rng, blur: options.Blur))
    {
    }

    /// <summary>Where the schedule stands now: ProGAN's schedule while growing, else the last stage throughout.</summary>
    public override (int Stage, float Alpha) Now => Options.Growing ? ProGanJob.Schedule(Progress.Images, Options.PhaseImages, Options.Stages) : (Options.Stages, 1f);

    protected override bool Grows => Options.Growing;

    /// <summary>
    /// Styles [N, Layers, W] for latents z; with probability <c>style_mixing</c> a second batch of latents takes over from
    /// a crossover layer drawn uniformly from 1 to the stage's layers - 1 (NVlabs's style_mixing_prob, one crossover a
    /// batch). Returns the crossover (the stage's layer count: no mixing).
    /// </summary>
    (Tensor Styles, int Crossover) MixedStyles(Tensor z, int stage)
    {
        var ws = Generator.Styles(z);
        int layers = 2 * stage;
        using var draw = Rng.Uniform(Device.Cpu, [2]);
        var u = draw.ToArray();
        if (layers < 2 || u[0] >= Options.StyleMixing) return (ws, layers);
        int crossover = 1 + Math.Min(layers - 2, (int)(u[1] * (layers - 1)));
        using var z2 = Rng.Normal(Device, [z.Dim(0), Options.Latent]);
        return (StyleGanMapping.Mix(ws, Generator.Styles(z2), crossover), crossover);
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
        Tensor Critic(Tensor x) => Discriminator.Forward(x, stage, alpha);
        using (var scope = new TensorScope())
        {
            var x = ProGanJob.RealsAt(real, stage, alpha);
            using var z = Rng.Normal(Device, [n, Options.Latent]);
            Tensor fake;
            using (Autograd.NoGrad())
            {
                var (ws, _) = MixedStyles(z, stage);
                fake = Generator.Synthesis.Forward(ws, StyleGanSynthesis.Noise(Rng, Device, n, stage), stage, alpha);
            }
            var realScores = Critic(x);
            var fakeScores = Critic(fake);
            // The non-saturating logistic loss: -log(1 - sigmoid(D(fake))) - log sigmoid(D(real)).
            var logistic = fakeScores.Softplus().Mean().Add(realScores.Neg().Softplus().Mean());
            var lossD = logistic;
            if (Options.R1Gamma > 0 && step % Options.R1Every == 0)
            {
                var r1 = Losses.R1(Critic, x, Options.R1Gamma * Options.R1Every);
                lossD = lossD.Add(r1);
                log.Add("r1", r1);
            }
            lossD.Backward();
            OptimizerD.Step();
            OptimizerD.ZeroGrad();
            log.Add("loss_d", lossD);
            log.Add("d_real", realScores.Mean());
            log.Add("d_fake", fakeScores.Mean());
        }
        using (var scope = new TensorScope())
        {
            foreach (var p in Discriminator.Parameters()) p.RequiresGrad = false;
            try
            {
                using var z = Rng.Normal(Device, [n, Options.Latent]);
                var (ws, crossover) = MixedStyles(z, stage);
                Generator.TrackAverage(ws, Options.AverageWBeta);
                var fake = Generator.Synthesis.Forward(ws, StyleGanSynthesis.Noise(Rng, Device, n, stage), stage, alpha);
                var lossG = Critic(fake).Neg().Softplus().Mean();
                lossG.Backward();
                OptimizerG.Step();
                log.Add("loss_g", lossG);
                log.Set("crossover", crossover);
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

    /// <summary>How sampling pulls styles to the tracked average of w (psi 1: not at all; see <see cref="StyleGanMapping.Truncate"/>).</summary>
    public StyleTruncation Truncation { get; set; } = StyleTruncation.None;

    /// <summary>Images of the schedule's current stage for styles ws [N, Layers, W] and noise drawn from
    /// <paramref name="noise"/>, upsampled (nearest) to the data's side; eval mode, no graph.</summary>
    public Tensor Synthesize(Tensor ws, Rng noise)
    {
        var (stage, alpha) = Now;
        var g = SamplingGenerator;
        bool wasTraining = g.Training;
        g.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            var styles = Truncation.Psi == 1f ? ws : StyleGanMapping.Truncate(ws, g.AverageW, Truncation.Psi, Truncation.Cutoff);
            var images = g.Synthesis.Forward(styles, StyleGanSynthesis.Noise(noise, ws.Device, ws.Dim(0), stage), stage, alpha);
            for (int s = stage; s < Options.Stages; s++) images = images.UpsampleNearest2x();
            return scope.Keep(images);
        }
        finally
        {
            g.Train(wasTraining);
        }
    }

    /// <summary>Every layer's style [N, Layers, W] for latents z, from the sampling generator's mapping (no graph).</summary>
    public Tensor StylesOf(Tensor z)
    {
        if (z.Rank != 2 || z.Dim(1) != LatentSize) throw new TensorShapeException($"{Kind}: z must be [count, {LatentSize}], got {Shapes.Format(z.Shape)}");
        using var noGrad = Autograd.NoGrad();
        return SamplingGenerator.Styles(z);
    }

    /// <summary>The number of styled layers (rows of a style tensor).</summary>
    public int StyleLayers => Generator.Synthesis.Layers;

    /// <summary>Images for latents z with noise drawn from a stream fixed by the seed (the same z, the same image).</summary>
    public override Tensor Generate(Tensor z, int[]? labels = null)
    {
        if (labels is not null) throw new ArgumentException($"{Kind}.Generate: the model is unconditional; it takes no labels");
        using var scope = new TensorScope();
        var ws = StylesOf(z);
        return scope.Keep(Synthesize(ws, new Rng(Options.Seed, 1UL << 59)));
    }
}

/// <summary>StyleGAN's truncation trick in W: styles pulled to the average w by <see cref="Psi"/> on the first
/// <see cref="Cutoff"/> layers (all when null). Psi 1 is no truncation.</summary>
public readonly record struct StyleTruncation(float Psi, int? Cutoff = null)
{
    /// <summary>No truncation.</summary>
    public static StyleTruncation None => new(1f);
}

/// <summary>A generator with StyleGAN's style space: what <c>nativegan mix</c> and <c>sample --psi</c> need.</summary>
public interface IStyleGenerator
{
    /// <summary>The number of styled layers.</summary>
    int StyleLayers { get; }

    /// <summary>Styles [N, StyleLayers, W] for latents z [N, latent].</summary>
    Tensor StylesOf(Tensor z);

    /// <summary>Images for styles [N, StyleLayers, W], the noise drawn from <paramref name="noise"/>.</summary>
    Tensor Synthesize(Tensor ws, Rng noise);

    /// <summary>The truncation sampling applies.</summary>
    StyleTruncation Truncation { get; set; }
}
