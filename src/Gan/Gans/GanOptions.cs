using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The settings every GAN kind has (<c>gan</c>, <c>cgan</c>, <c>wgan</c>, <c>wgan-gp</c>, <c>dcgan</c>): the networks, the
/// step, the optimizers and their schedule, the generator's average. The kinds' own losses add theirs
/// (<see cref="BceGanOptions"/>, <see cref="ConditionalGanOptions"/>, <see cref="WganGpOptions"/>). Defaults per kind
/// and data, with the paper each comes from: <see cref="GanFamily.Defaults"/>.
/// </summary>
public record GanOptions : ModelOptions
{
    /// <summary>The networks an image model uses: DCGAN's convolutions, or multilayer perceptrons.</summary>
    public enum Architecture { Conv, Mlp }

    public enum OptimizerKind { Adam, Rmsprop }

    [Setting("latent", "Length of the latent vector z ~ N(0, I).", Min = 1)]
    public int Latent { get; init; } = 100;

    [Setting("n_critic", "Critic (discriminator) updates per generator update.", Min = 1, ResumeMayChange = true)]
    public int CriticSteps { get; init; } = 1;

    [Setting("batches_per_step", "Loader batches a step takes, split among the critic updates (empty: one per critic update).", Min = 1)]
    public int? BatchesPerStep { get; init; }

    [Setting("reuse_fakes", "The generator update reuses the critic update's fakes: one G forward a step, as PyTorch's DCGAN example (needs n_critic 1).")]
    public bool ReuseFakes { get; init; }

    [Setting("arch", "Networks for images: conv (DCGAN's, square images of side 4 2^k or 7 2^k, k >= 1: 8, 14, 16, 28, 32, ...) or mlp; points always use MLPs.")]
    public Architecture Arch { get; init; } = Architecture.Conv;

    [Setting("g_width", "Conv G: channels of its last hidden layer (DCGAN's 64: 256, 128, 64 at 32x32).", Min = 1)]
    public int GeneratorWidth { get; init; } = 64;

    [Setting("d_width", "Conv D: channels of its first convolution (doubling each stage).", Min = 1)]
    public int CriticWidth { get; init; } = 64;

    [Setting("d_norm", "Conv D's normalisation after each strided convolution but the first.")]
    public CriticNorm CriticNorm { get; init; } = CriticNorm.Batch;

    [Setting("g_widths", "MLP G: hidden widths.", Min = 1)]
    public int[] GeneratorWidths { get; init; } = [400, 400, 400, 400];

    [Setting("g_batchnorm", "MLP G: batch norm after each hidden layer.")]
    public bool GeneratorBatchNorm { get; init; } = true;

    [Setting("g_bn_frozen", "G's batch norms use their running statistics in training too, so D judges the points sampling gives.", ResumeMayChange = true)]
    public bool GeneratorNormFrozen { get; init; }

    [Setting("d_widths", "MLP D: hidden widths.", Min = 1)]
    public int[] CriticWidths { get; init; } = [200, 200, 200];

    [Setting("d_pieces", "MLP D: maxout pieces per unit (1: Linear + LeakyReLU 0.2).", Min = 1)]
    public int CriticPieces { get; init; } = 5;

    [Setting("dropout", "MLP D: dropout after each hidden layer.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Dropout { get; init; }

    [Setting("mbstd", "D: the minibatch standard-deviation feature (ProGAN) before the output.")]
    public bool UseMinibatchStdDev { get; init; }

    [Setting("minibatch_disc", "D: minibatch discrimination (Salimans et al. 2016) before the output.")]
    public bool UseMinibatchDiscrimination { get; init; }

    [Setting("mbd_kernels", "Minibatch discrimination: kernels B.", Min = 1)]
    public int MinibatchKernels { get; init; } = 100;

    [Setting("mbd_dims", "Minibatch discrimination: dimensions C of each kernel.", Min = 1)]
    public int MinibatchKernelDims { get; init; } = 5;

    [Setting("pack", "PacGAN packing: D judges this many samples at once (1: one at a time; unconditional kinds).", Min = 1)]
    public int Pack { get; init; } = 1;

    [Setting("init_std", "MLPs: weights N(0, std) and biases 0, PacGAN's initialisation (0: the layers' own).", Min = 0)]
    public float InitStd { get; init; }

    [Setting("optimizer", "The optimizer of both networks.")]
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.Adam;

    [Setting("lr_g", "G's learning rate (before the schedule; 0 freezes G).", Min = 0, ResumeMayChange = true)]
    public float GeneratorRate { get; init; } = 2e-4f;

    [Setting("lr_d", "D's learning rate (before the schedule; 0 freezes D).", Min = 0, ResumeMayChange = true)]
    public float CriticRate { get; init; } = 2e-4f;

    [Setting("beta1", "Adam's beta1.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.5f;

    [Setting("beta2", "Adam's beta2.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta2 { get; init; } = 0.999f;

    [Setting("clip", "Clip every D weight to [-clip, clip] after each update (WGAN's Lipschitz constraint; 0: none).", Min = 0)]
    public float Clip { get; init; }

    [Setting(LinearDecay.StartKey, "The step where the rates start falling linearly (with lr_decay_end).", Min = 0, ResumeMayChange = true)]
    public int DecayStart { get; init; }

    [Setting(LinearDecay.EndKey, "The step where the rates reach 0 (0: constant rates).", Min = 0, ResumeMayChange = true)]
    public int DecayEnd { get; init; }

    [Setting(Nn.RateSchedule.Key, "STEP:FACTOR,...: a piecewise-linear factor on both rates instead of the linear decay.", ResumeMayChange = true)]
    public string LrSchedule { get; init; } = "";

    [Setting("g_ema", "Decay of the moving average of G's weights that sampling uses (0: sample from G itself).", Min = 0, Max = 1, MaxExclusive = true)]
    public float GeneratorAverage { get; init; } = 0.999f;

    /// <summary>The classes a conditional kind takes (0: unconditional).</summary>
    public virtual int ClassCount => 0;

    /// <summary>Loader batches a step takes: <see cref="BatchesPerStep"/>, or one per critic update.</summary>
    public int BatchesPerStepOrDefault => BatchesPerStep ?? CriticSteps;

    /// <summary>Whether G and D are DCGAN's convolutional networks (images and arch conv) rather than MLPs.</summary>
    public bool IsConv => IsImage && Arch == Architecture.Conv;

    /// <summary>The rate schedule: lr_schedule when given, else the linear decay of lr_decay_start and lr_decay_end
    /// (constant when lr_decay_end is 0). Both at once are refused: which one would hold?</summary>
    public Nn.RateSchedule Schedule(string kind)
    {
        LinearDecay.Check(kind, DecayStart, DecayEnd);
        if (LrSchedule.Trim().Length == 0) return DecayEnd == 0 ? Nn.RateSchedule.Constant : Nn.RateSchedule.LinearDecay(DecayStart, DecayEnd);
        if (DecayEnd != 0)
            throw new ArgumentException($"{kind}: give {Nn.RateSchedule.Key} ('{LrSchedule}') or {LinearDecay.StartKey}/{LinearDecay.EndKey} ({DecayStart}, {DecayEnd}), not both " +
                                        $"(the decay is the schedule {Nn.RateSchedule.LinearDecay(DecayStart, DecayEnd)})");
        return Nn.RateSchedule.Parse(kind, LrSchedule.Trim());
    }

    public override void Validate(string kind)
    {
        if (DataShape.Length != 1 && DataShape.Length != 3)
            throw new ArgumentException($"{kind}: data_shape must be '2' (points) or 'C,H,W' (images), got '{string.Join(",", DataShape)}'");
        if (Arch == Architecture.Conv && !IsImage)
            throw new ArgumentException($"{kind}: arch conv needs images (data_shape C,H,W), got data_shape '{string.Join(",", DataShape)}' (use arch=mlp)");
        if (IsConv && (DataShape[1] != DataShape[2] || !Dcgan.IsSide(DataShape[1])))
            throw new ArgumentException($"{kind}: arch conv needs square images of side {Dcgan.SidesText}, got {string.Join("x", DataShape)} (use --image-size, or arch=mlp)");
        if (Pack > 1 && ClassCount > 0)
            throw new ArgumentException($"{kind}: pack {Pack}: packing is for unconditional kinds (a pack would mix labels)");
        if (ReuseFakes && CriticSteps != 1)
            throw new ArgumentException($"{kind}: reuse_fakes needs n_critic 1 (the generator update reuses the one critic update's fakes), got n_critic {CriticSteps}");
        Schedule(kind);
    }

    public override void CheckResume(string kind, ModelOptions saved, long step, Action<string> warn)
    {
        // A schedule changed on resume must still train: one whose factor is 0 at every remaining step is refused (an
        // lr_decay_end at or before the checkpoint's step, say); a factor that differs from the old schedule's at the
        // checkpoint's step makes the rates jump (a warning: the run goes on at the rate an uninterrupted run with
        // this schedule would have).
        var schedule = Schedule(kind);
        var old = ((GanOptions)saved).Schedule(kind);
        if (schedule.ZeroFrom(step))
            throw new ArgumentException($"--resume: the checkpoint is at step {step}; the schedule {schedule} would train every remaining step at rate 0 (give a later step)");
        double was = old.Factor(step), now = schedule.Factor(step);
        if (now != was) warn($"--resume: at the checkpoint's step {step} the schedule's factor changes at once from {was:0.###} to {now:0.###} (of the start rates)");
    }
}
