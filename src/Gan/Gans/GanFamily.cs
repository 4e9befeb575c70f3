using NativeGan.Gan.Training;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The GAN family's kinds: what each is, its defaults for a data set (from its paper, in this one place), and the
/// loss its one shared step (<see cref="GanJob"/>) trains with. <c>dcgan</c> is an architecture preset of the same job.
/// </summary>
public sealed class GanFamily : IModelFamily
{
    public const string Dcgan = "dcgan", Gan = "gan", Wgan = "wgan", WganGp = "wgan-gp", Cgan = "cgan";

    /// <summary>The BCE kinds' settings newer than some of their checkpoints: generator averaging, then R1 (off).</summary>
    static readonly IReadOnlyDictionary<string, string> BceKeysAddedLater = new Dictionary<string, string>(GeneratorAveraging.KeysAddedLater)
    {
        ["r1_gamma"] = "0",
        ["r1_every"] = "1",
    };

    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        Kind(Dcgan, "DCGAN (Radford et al. 2016): conv generator and discriminator with batch norm, BCE with logits, non-saturating generator loss, Adam 2e-4 (0.5, 0.999).",
            epochs: 5, batch: 64, GeneratorAveraging.KeysAddedLater, UpgradeDcgan),
        Kind(Gan, "The original GAN (Goodfellow et al. 2014): BCE, dropout in D; --set g_loss=saturating shows the saturation problem. 2D mixtures: PacGAN's networks.",
            epochs: 20, batch: 100, BceKeysAddedLater, UpgradeGan),
        Kind(Wgan, "Wasserstein GAN (Arjovsky et al. 2017): linear critic, weight clipping 0.01, RMSProp 5e-5, 5 critic steps per generator step.",
            epochs: 20, batch: 64, GeneratorAveraging.KeysAddedLater, UpgradeGan),
        Kind(WganGp, "WGAN-GP (Gulrajani et al. 2017): gradient penalty 10 (0.1 on 2D points) on random interpolates (double backward), Adam 1e-4 (0, 0.9), 5 critic steps, no batch norm in the critic.",
            epochs: 20, batch: 64, GeneratorAveraging.KeysAddedLater, UpgradeGan),
        Kind(Cgan, "Conditional GAN (Mirza and Osindero 2014): the class label given to generator and discriminator; `sample --label 7` draws a chosen digit.",
            epochs: 10, batch: 64, BceKeysAddedLater, UpgradeGan),
    ];

    static ModelKind Kind(string name, string description, int epochs, int batch, IReadOnlyDictionary<string, string> addedLater,
        Func<Dictionary<string, string>, Dictionary<string, string>> upgrade) => new()
    {
        Name = name,
        Description = description,
        Defaults = (data, _) => Defaults(name, data),
        Create = (options, device) => new GanJob(name, (GanOptions)options, device),
        DefaultEpochs = epochs,
        DefaultBatch = batch,
        AddedLater = addedLater,
        UpgradeConfig = upgrade,
    };

    /// <summary>
    /// The defaults of <paramref name="kind"/> for <paramref name="data"/>. Points take PacGAN's networks and optimizer (Lin et
    /// al. 2018: G 4x400 ReLU with batch norm, D 3x200 maxout of 5 pieces, Adam 1e-4 beta1 0.8, a 2-d latent); images take
    /// DCGAN's (square images of side 4 2^k or 7 2^k, k &gt;= 1) or MLPs, Adam 2e-4 (0.5, 0.999), a 100-d latent. Then each kind's paper.
    /// </summary>
    public static GanOptions Defaults(string kind, DataFacts data) => kind switch
    {
        // The paper's nets at 32x32 and its recipe; one G forward a step whose fakes both updates use, as in PyTorch's
        // DCGAN example (the golden step test replays PyTorch's step bit for bit).
        Dcgan => Common<BceGanOptions>(data.SampleShape) with
        {
            Arch = GanOptions.Architecture.Conv, GeneratorRate = 2e-4f, CriticRate = 2e-4f, Beta1 = 0.5f, Seed = 1, ReuseFakes = true,
        },
        // The paper's maxout D had dropout 0.5; PacGAN's 2D protocol, whose networks the points use, has none.
        Gan => Common<BceGanOptions>(data.SampleShape) with { Dropout = data.SampleShape.Length == 3 ? 0.5f : 0f },
        Cgan => Common<ConditionalGanOptions>(data.SampleShape) with
        {
            Dropout = data.SampleShape.Length == 3 ? 0.5f : 0f, Classes = data.ClassCount > 0 ? data.ClassCount : 10,
        },
        // RMSProp 5e-5 (momentum-free, as the paper advises), clipping 0.01, 5 critic updates.
        Wgan => Common<GanOptions>(data.SampleShape) with
        {
            Optimizer = GanOptions.OptimizerKind.Rmsprop, GeneratorRate = 5e-5f, CriticRate = 5e-5f, Clip = 0.01f, CriticSteps = 5,
        },
        // Algorithm 1: Adam 1e-4 (0, 0.9), 5 critic updates, lambda 10; the public toy code's 0.1 for 2D points (lambda 10
        // pins the critic's slope near 1 everywhere on a ring of std 0.01). No batch norm in the critic: the penalty is per sample.
        WganGp => Common<WganGpOptions>(data.SampleShape) with
        {
            GeneratorRate = 1e-4f, CriticRate = 1e-4f, Beta1 = 0f, Beta2 = 0.9f, CriticNorm = CriticNorm.None, CriticSteps = 5,
            PenaltyWeight = data.SampleShape.Length == 3 ? 10f : 0.1f,
        },
        _ => throw new ArgumentException($"unknown GAN kind '{kind}'; known: {string.Join(", ", Kinds.Select(k => k.Name))}"),
    };

    /// <summary>What every kind starts from for samples of <paramref name="shape"/>: PacGAN's networks and optimizer for
    /// points, DCGAN's networks (or MLPs for other shapes) and Adam 2e-4 (0.5, 0.999) for images.</summary>
    static T Common<T>(int[] shape) where T : GanOptions, new()
    {
        bool image = shape.Length == 3;
        bool square = image && shape[1] == shape[2] && shape[1] >= 8 && (shape[1] & (shape[1] - 1)) == 0;
        return new T
        {
            DataShape = shape,
            Latent = image ? 100 : 2,
            Arch = square ? GanOptions.Architecture.Conv : GanOptions.Architecture.Mlp,
            GeneratorWidths = image ? [256, 512, 1024] : [400, 400, 400, 400],
            CriticWidths = image ? [512, 256] : [200, 200, 200],
            CriticPieces = image ? 1 : 5,
            GeneratorRate = image ? 2e-4f : 1e-4f,
            CriticRate = image ? 2e-4f : 1e-4f,
            Beta1 = image ? 0.5f : 0.8f,
        };
    }

    /// <summary>A GAN checkpoint's config from before typed options: batches_per_step equal to n_critic meant "one per
    /// critic update", which is now the empty default (so a resumed run that changes n_critic keeps one each).</summary>
    static Dictionary<string, string> UpgradeGan(Dictionary<string, string> config)
    {
        if (config.TryGetValue("batches_per_step", out var b) && config.TryGetValue("n_critic", out var n) && b.Trim() == n.Trim())
            config.Remove("batches_per_step");
        return config;
    }

    /// <summary>A dcgan checkpoint's config from before dcgan was a preset of the GAN job: its one "lr" is now lr_g and lr_d,
    /// "image" is data_shape, and the picture's "sample_count" is gone (pictures show 64 samples).</summary>
    static Dictionary<string, string> UpgradeDcgan(Dictionary<string, string> config)
    {
        if (config.Remove("lr", out var lr)) { config["lr_g"] = lr; config["lr_d"] = lr; }
        if (config.Remove("image", out var image)) config["data_shape"] = image;
        config.Remove("sample_count");
        return config;
    }
}
