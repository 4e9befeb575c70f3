using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Models;

/// <summary>
/// <c>gan</c>: the original GAN (Goodfellow et al. 2014). D outputs a logit; D minimises binary cross-entropy,
/// -[log D(x) + log(1 - D(G(z)))]. The generator minimises, by <c>g_loss</c>:
/// <c>saturating</c>: log(1 - D(G(z))), the minimax game itself, whose gradient vanishes when D rejects the
/// fakes confidently (early in training), or <c>non-saturating</c> (default): -log D(G(z)), the paper's
/// practical fix with the same fixed point and strong gradients where the fakes are bad. Images: dropout 0.5 after
/// each discriminator layer, as the paper's maxout discriminator had; MLPs, Adam 2e-4 beta1 0.5 (DCGAN's recipe;
/// the paper used SGD with momentum). Points: the PacGAN networks and optimizer (Adam 1e-4, beta1 0.8, batch 100)
/// and, like PacGAN, no dropout.
/// </summary>
public sealed class VanillaGanJob : GanJob
{
    public const string KindName = "gan";
    /// <summary>The R1 penalty's weight gamma (0: none) and the steps between its applications (lazy R1): settings a
    /// resumed run may change.</summary>
    public const string R1Key = "r1_gamma", R1EveryKey = "r1_every";
    readonly bool saturating;
    readonly float realLabel;
    readonly R1Penalty r1;

    VanillaGanJob(JobConfig config, Device device, string kind = KindName) : base(kind, config, device)
    {
        saturating = config.OneOf("g_loss", "saturating", "non-saturating") == "saturating";
        realLabel = RealLabel(config);
        r1 = R1Penalty.FromConfig(config);
    }

    /// <summary>The defaults for data of <paramref name="sampleShape"/> ([2] or [C, H, W]).</summary>
    public static IReadOnlyDictionary<string, string> DefaultConfig(int[] sampleShape, int classCount = 0)
    {
        var c = CommonDefaults(sampleShape, classCount);
        AddBceDefaults(c, sampleShape);
        return c;
    }

    /// <summary>The settings of the BCE kinds (gan, cgan) beyond the common ones: generator loss, dropout, D's real target, R1 weight.</summary>
    internal static void AddBceDefaults(Dictionary<string, string> c, int[] sampleShape)
    {
        c["g_loss"] = "non-saturating";
        c["dropout"] = DefaultDropout(sampleShape);
        c["real_label"] = "1";
        c[R1Key] = "0";
        c[R1EveryKey] = "1";
    }

    /// <summary>D's BCE loss plus the R1 penalty at the real samples when <paramref name="r1"/> applies at this step (logged as <c>r1</c>).</summary>
    internal static Tensor BceCriticWithR1(Tensor realScores, Tensor fakeScores, float realLabel, R1Penalty r1, Func<Tensor, Tensor> critic, Tensor real, long step, Dictionary<string, Tensor> log)
    {
        var loss = BceCritic(realScores, fakeScores, realLabel, log);
        if (!r1.AppliesAt(step)) return loss;
        var penalty = Losses.R1(critic, real, r1.Gamma * r1.Every);
        using (Autograd.NoGrad()) log["r1"] = penalty.Detach();
        return loss.Add(penalty);
    }

    /// <summary>
    /// <c>real_label</c>: D's target for real samples. 1 is the plain BCE; a value such as 0.9 is one-sided label
    /// smoothing (Salimans et al. 2016, the paper of minibatch discrimination): D's optimum on real data becomes 0.9,
    /// so it cannot grow arbitrarily confident and G keeps useful gradients. Fakes keep target 0: smoothing them
    /// too would reward G for samples where the data has none.
    /// </summary>
    internal static float RealLabel(JobConfig config)
    {
        float label = config.Float("real_label");
        if (label < 0.5f || label > 1f)
            throw new ArgumentException($"{config.Kind}: real_label must lie in [0.5, 1] (1: no smoothing, 0.9: one-sided label smoothing), got {JobConfig.Format(label)}");
        return label;
    }

    /// <summary>0.5 for images (the paper's maxout discriminator); none for points: PacGAN's 2D protocol, whose
    /// networks the points use, has none, and with 0.5 the samples scatter along the ring (minibatch discrimination,
    /// ring, 3,000 steps: 2.4% high-quality samples with it, 35% without).</summary>
    internal static string DefaultDropout(int[] sampleShape) => sampleShape.Length == 3 ? "0.5" : "0";

    public static ITrainingJob Create(IReadOnlyDictionary<string, string> config, Device device) =>
        new VanillaGanJob(ReadConfig(KindName, DefaultConfig(ShapeOf(KindName, config), 0), config), device);

    protected override Tensor CriticLoss(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
        => BceCriticWithR1(realScores, fakeScores, realLabel, r1, context.Critic, context.Real, context.Step, log);

    protected override Tensor GeneratorLoss(Tensor fakeScores) =>
        saturating ? Losses.SaturatingGeneratorLoss(fakeScores) : Losses.BceWithLogits(fakeScores, 1f);

    /// <summary>BCE on real (target <paramref name="realLabel"/>, 1 unless smoothed) and fake (target 0) logits; logs the mean probabilities D gives each.</summary>
    internal static Tensor BceCritic(Tensor realScores, Tensor fakeScores, float realLabel, Dictionary<string, Tensor> log)
    {
        using (Autograd.NoGrad())
        {
            log["d_real"] = realScores.Sigmoid().Mean();
            log["d_fake"] = fakeScores.Sigmoid().Mean();
        }
        return Losses.BceWithLogits(realScores, realLabel).Add(Losses.BceWithLogits(fakeScores, 0f));
    }
}

/// <summary>
/// <c>r1_gamma</c> and <c>r1_every</c> of the BCE kinds: the R1 penalty (Mescheder et al. 2018, <see cref="Losses.R1"/>)
/// added to D's loss, (gamma / 2) * mean ||dD/dx||^2 at the real samples, D's logit differentiated through the tape (a
/// gradient of a gradient, as WGAN-GP's penalty). It keeps D flat on the data, so D cannot grow a cliff around each real
/// point that saturates its output on every fake (D(fake) ~0.01 late in every minibatch-discrimination run on the grid
/// without it). Gamma 0 (default) leaves plain BCE. <c>r1_every</c> K > 1 is StyleGAN2's lazy regularisation: the penalty
/// only at steps that are multiples of K, weighted K times, so it costs 1/K as much (its double backward roughly triples
/// a D update). With minibatch discrimination D's logits mix samples, so the penalty is that of the batch's summed logit.
/// </summary>
internal readonly record struct R1Penalty(float Gamma, int Every)
{
    public static R1Penalty FromConfig(JobConfig config)
    {
        float gamma = config.Float(VanillaGanJob.R1Key);
        int every = config.Int(VanillaGanJob.R1EveryKey);
        if (gamma < 0)
            throw new ArgumentException($"{config.Kind}: {VanillaGanJob.R1Key} must be >= 0 (0: no penalty), got {JobConfig.Format(gamma)}");
        if (every < 1)
            throw new ArgumentException($"{config.Kind}: {VanillaGanJob.R1EveryKey} must be >= 1 (1: every step), got {every}");
        return new R1Penalty(gamma, every);
    }

    public bool AppliesAt(long step) => Gamma > 0 && step % Every == 0;
}

/// <summary>
/// <c>cgan</c>: the conditional GAN (Mirza and Osindero 2014): G(z, y) and D(x, y) both see the class label y
/// (one-hot, concatenated to z and to D's flattened input), D minimises binary cross-entropy on (real, y) vs
/// (fake, y) pairs and G the non-saturating loss, so G must make samples D believes are of class y:
/// <c>Generate(z, labels)</c> draws a chosen class. Same networks and optimizer as <c>gan</c>.
/// </summary>
public sealed class ConditionalGanJob : GanJob
{
    public const string KindName = "cgan";
    readonly bool saturating;
    readonly float realLabel;
    readonly R1Penalty r1;

    ConditionalGanJob(JobConfig config, Device device) : base(KindName, config, device, conditional: true)
    {
        if (ClassCount < 1) throw new ArgumentException($"cgan: classes must be >= 1, got {ClassCount}");
        saturating = config.OneOf("g_loss", "saturating", "non-saturating") == "saturating";
        realLabel = VanillaGanJob.RealLabel(config);
        r1 = R1Penalty.FromConfig(config);
    }

    public static IReadOnlyDictionary<string, string> DefaultConfig(int[] sampleShape, int classCount = 10)
    {
        var c = CommonDefaults(sampleShape, classCount);
        VanillaGanJob.AddBceDefaults(c, sampleShape);
        return c;
    }

    public static ITrainingJob Create(IReadOnlyDictionary<string, string> config, Device device) =>
        new ConditionalGanJob(ReadConfig(KindName, DefaultConfig(ShapeOf(KindName, config), ClassesOf(KindName, config, 10)), config), device);

    protected override Tensor CriticLoss(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
        => VanillaGanJob.BceCriticWithR1(realScores, fakeScores, realLabel, r1, context.Critic, context.Real, context.Step, log);

    protected override Tensor GeneratorLoss(Tensor fakeScores) =>
        saturating ? Losses.SaturatingGeneratorLoss(fakeScores) : Losses.BceWithLogits(fakeScores, 1f);
}

/// <summary>
/// <c>wgan</c>: Wasserstein GAN (Arjovsky et al. 2017). D is a critic with a linear output; it maximises
/// mean D(real) - mean D(fake), an estimate of the Wasserstein-1 distance (Kantorovich-Rubinstein duality)
/// when D is 1-Lipschitz, i.e. minimises <see cref="Losses.WassersteinCritic"/>; G minimises -mean D(G(z)).
/// Lipschitz-ness is enforced crudely by clipping every critic weight to [-0.01, 0.01] after each update;
/// RMSProp lr 5e-5 (momentum-free, as the paper advises), 5 critic updates per generator update.
/// </summary>
public sealed class WganJob : GanJob
{
    public const string KindName = "wgan";

    WganJob(JobConfig config, Device device) : base(KindName, config, device) { }

    public static IReadOnlyDictionary<string, string> DefaultConfig(int[] sampleShape, int classCount = 0)
    {
        var c = CommonDefaults(sampleShape, classCount);
        c["optimizer"] = "rmsprop";
        c[GeneratorRateKey] = c[CriticRateKey] = "0.00005";
        c["clip"] = "0.01";
        c[CriticStepsKey] = c[BatchesPerStepKey] = "5";
        return c;
    }

    public static ITrainingJob Create(IReadOnlyDictionary<string, string> config, Device device) =>
        new WganJob(ReadConfig(KindName, DefaultConfig(ShapeOf(KindName, config), 0), config), device);

    protected override Tensor CriticLoss(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
    {
        var loss = Losses.WassersteinCritic(realScores, fakeScores);
        using (Autograd.NoGrad()) log["wasserstein"] = loss.Neg();
        return loss;
    }

    protected override Tensor GeneratorLoss(Tensor fakeScores) => Losses.WassersteinGenerator(fakeScores);
}

/// <summary>
/// <c>wgan-gp</c>: WGAN with gradient penalty (Gulrajani et al. 2017). The same critic and generator losses as
/// <c>wgan</c>, but the Lipschitz constraint is a soft penalty instead of clipping: lambda * mean (||grad_x D(x^)||
/// - 1)² at random points x^ between real and fake samples (<see cref="Losses.GradientPenalty"/>, a gradient of a
/// gradient through the tape), lambda 10 for images and 0.1 for 2D points (the paper's public toy code, gan_toy.py,
/// uses 0.1 for its 2D tasks: on a ring of radius 1 with std 0.01, lambda 10 pins the critic's slope near 1
/// everywhere and the generator found 4 of 8 modes with 0.2% high-quality samples after 10,000 steps, where 0.1
/// found all 8 with 27% after 3,000; docs/RESULTS.md). Adam lr 1e-4, betas (0, 0.9) as the paper's Algorithm 1 (its public code
/// uses beta1 0.5), 5 critic updates. No batch norm in the critic: the penalty is per sample. (The minibatch
/// layers, if enabled, also mix samples: the penalty then includes cross-sample gradient terms.)
/// </summary>
public sealed class WganGpJob : GanJob
{
    public const string KindName = "wgan-gp";
    /// <summary>The penalty's weight lambda: one of the settings a resumed run may change (a weaker penalty late on).</summary>
    public const string PenaltyKey = "gp_lambda";
    readonly float lambda;

    WganGpJob(JobConfig config, Device device) : base(KindName, config, device)
    {
        lambda = config.Float(PenaltyKey);
        if (lambda < 0) throw new ArgumentException($"{KindName}: {PenaltyKey} must be >= 0, got {lambda}");
    }

    public static IReadOnlyDictionary<string, string> DefaultConfig(int[] sampleShape, int classCount = 0)
    {
        var c = CommonDefaults(sampleShape, classCount);
        c[GeneratorRateKey] = c[CriticRateKey] = "0.0001";
        c["beta1"] = "0";
        c["beta2"] = "0.9";
        c[PenaltyKey] = sampleShape.Length == 1 ? "0.1" : "10"; // 2D points: the toy code's 0.1 (see above)
        c["d_norm"] = "none"; // conv critic: no batch norm (the penalty is per sample); instance is the per-sample alternative
        c[CriticStepsKey] = c[BatchesPerStepKey] = "5";
        return c;
    }

    public static ITrainingJob Create(IReadOnlyDictionary<string, string> config, Device device) =>
        new WganGpJob(ReadConfig(KindName, DefaultConfig(ShapeOf(KindName, config), 0), config), device);

    protected override Tensor CriticLoss(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
    {
        var critic = Losses.WassersteinCritic(realScores, fakeScores);
        var penalty = Losses.GradientPenalty(context.Critic, context.Real, context.Fake, Rng, lambda);
        using (Autograd.NoGrad())
        {
            log["wasserstein"] = critic.Neg();
            log["gp"] = penalty.Detach();
        }
        return critic.Add(penalty);
    }

    protected override Tensor GeneratorLoss(Tensor fakeScores) => Losses.WassersteinGenerator(fakeScores);
}

/// <summary>Registers the GAN family's kinds with <see cref="JobFactory"/>.</summary>
public static class GanJobs
{
    /// <summary>The kinds this family adds: gan, cgan, wgan, wgan-gp.</summary>
    public static readonly string[] Kinds = [VanillaGanJob.KindName, ConditionalGanJob.KindName, WganJob.KindName, WganGpJob.KindName];

    /// <summary>The BCE kinds' settings newer than some of their checkpoints: generator averaging, then R1 (off).</summary>
    static readonly IReadOnlyDictionary<string, string> BceKeysAddedLater = new Dictionary<string, string>(GeneratorAveraging.KeysAddedLater)
    {
        [VanillaGanJob.R1Key] = "0",
        [VanillaGanJob.R1EveryKey] = "1",
    };

    public static void Register()
    {
        JobFactory.Register(VanillaGanJob.KindName, VanillaGanJob.Create, BceKeysAddedLater);
        JobFactory.Register(ConditionalGanJob.KindName, ConditionalGanJob.Create, BceKeysAddedLater);
        JobFactory.Register(WganJob.KindName, WganJob.Create, GeneratorAveraging.KeysAddedLater);
        JobFactory.Register(WganGpJob.KindName, WganGpJob.Create, GeneratorAveraging.KeysAddedLater);
    }

    /// <summary>The defaults of <paramref name="kind"/> for data of <paramref name="sampleShape"/>.</summary>
    public static IReadOnlyDictionary<string, string> DefaultConfig(string kind, int[] sampleShape, int classCount = 0) => kind switch
    {
        VanillaGanJob.KindName => VanillaGanJob.DefaultConfig(sampleShape),
        ConditionalGanJob.KindName => ConditionalGanJob.DefaultConfig(sampleShape, classCount > 0 ? classCount : 10),
        WganJob.KindName => WganJob.DefaultConfig(sampleShape),
        WganGpJob.KindName => WganGpJob.DefaultConfig(sampleShape),
        _ => throw new ArgumentException($"unknown GAN kind '{kind}'; known: {string.Join(", ", Kinds)}"),
    };
}
