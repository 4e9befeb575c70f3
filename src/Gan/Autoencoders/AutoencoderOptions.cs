using NativeGan.Gan.Training;

namespace NativeGan.Gan.Autoencoders;

/// <summary>
/// The autoencoders of Goodfellow, Bengio and Courville, Deep Learning, chapter 14. Each is an encoder
/// h = f(x) and a decoder r = g(h) trained to reconstruct x; what stops it from learning the identity is the kind.
/// </summary>
public enum AutoencoderKind
{
    /// <summary>dim(h) &lt; dim(x): the bottleneck alone forces a compressed code (14.1).</summary>
    Undercomplete,
    /// <summary>dim(h) &gt;= dim(x): could copy x, so it needs a regulariser (sparsity, noise or contraction) (14.2).</summary>
    Overcomplete,
    /// <summary>Reconstruction plus a sparsity penalty Omega(h) on the code (14.2.1).</summary>
    Sparse,
    /// <summary>Reconstructs the clean x from a corrupted copy x~ ~ C(x~ | x) (14.2.2, 14.5).</summary>
    Denoising,
    /// <summary>Reconstruction plus lambda ||dh/dx||_F^2, the encoder's Jacobian (14.2.3, 14.7).</summary>
    Contractive,
    /// <summary>Variational autoencoder: Gaussian encoder q(h|x), decoder p(x|h), loss -ELBO (20.10.3).</summary>
    Vae,
}

/// <summary>The reconstruction term of a deterministic autoencoder.</summary>
public enum ReconstructionLoss
{
    /// <summary>Mean squared error on the data's [-1, 1] scale, mean over every element; the decoder outputs values.</summary>
    Mse,
    /// <summary>Binary cross-entropy of sigmoid(logits) against (x + 1) / 2 in [0, 1], mean over every element; the decoder outputs logits.</summary>
    Bce,
}

/// <summary>How the denoising autoencoder corrupts its input.</summary>
public enum NoiseKind
{
    /// <summary>x~ = x + sigma * eps, eps ~ N(0, I) (sigma on the data's [-1, 1] scale).</summary>
    Gaussian,
    /// <summary>Masking noise: each element is set to -1 (black, the data's minimum) with probability rate.</summary>
    Mask,
}

/// <summary>The sparsity penalty Omega(h).</summary>
public enum SparsePenalty
{
    /// <summary>beta * mean over samples of sum_j |h_j| (Goodfellow et al. 14.2.1).</summary>
    L1,
    /// <summary>beta * sum_j KL(rho || rho^_j), rho^_j the batch mean of sigmoid code j (Ng's sparse autoencoder notes).</summary>
    Kl,
}

/// <summary>The activation on the code layer h of a deterministic encoder.</summary>
public enum CodeActivation { Linear, Sigmoid, Relu, Tanh }

/// <summary>The VAE's decoder distribution p(x | h).</summary>
public enum DecoderDistribution
{
    /// <summary>Bernoulli with probabilities sigmoid(logits), the pixels read as (x + 1) / 2 in [0, 1]; -log p is the BCE summed over pixels.</summary>
    Bernoulli,
    /// <summary>Gaussian N(mean, sigma^2 I) with fixed sigma on the [-1, 1] scale, mean = tanh(decoder output); -log p is sum (x - mean)^2 / 2 sigma^2 + D/2 log(2 pi sigma^2).</summary>
    Gaussian,
}

/// <summary>
/// Every setting of an autoencoder job, parsed from (and written back to) the string config a checkpoint
/// keeps. <see cref="Defaults"/> lists each key with its default per kind; <see cref="Parse"/> checks them.
/// </summary>
public sealed record AutoencoderOptions
{
    public AutoencoderKind Kind { get; init; }
    /// <summary>"mlp" or "conv".</summary>
    public string Arch { get; init; } = "mlp";
    /// <summary>One sample's shape: [C, H, W] for images (conv needs H and W divisible by 4), or [D].</summary>
    public int[] Shape { get; init; } = [1, 32, 32];
    /// <summary>The code size k = dim(h) (the latent size of the VAE).</summary>
    public int Code { get; init; } = 32;
    /// <summary>Hidden widths of the MLP encoder (the decoder mirrors them); empty for a one-layer encoder.</summary>
    public int[] Hidden { get; init; } = [512];
    /// <summary>Channels of the conv variant's first convolution (the second has twice as many).</summary>
    public int ConvWidth { get; init; } = 32;
    public float LearningRate { get; init; } = 1e-3f;
    public float Beta1 { get; init; } = 0.9f;
    public float Beta2 { get; init; } = 0.999f;
    public ReconstructionLoss Recon { get; init; } = ReconstructionLoss.Mse;
    /// <summary>For MSE: "tanh" (outputs in [-1, 1]) or "linear" (the decoder's last layer is affine: the linear autoencoder).</summary>
    public string Output { get; init; } = "tanh";
    public CodeActivation CodeActivation { get; init; } = CodeActivation.Linear;
    /// <summary>Denoising: the Gaussian noise std or the masking rate; 0 for no corruption.</summary>
    public float Noise { get; init; }
    public NoiseKind NoiseKind { get; init; } = NoiseKind.Gaussian;
    /// <summary>Sparse: the penalty's weight beta; 0 for none.</summary>
    public float Sparsity { get; init; }
    public SparsePenalty SparsePenalty { get; init; } = SparsePenalty.L1;
    /// <summary>The target activation rate of the KL sparsity penalty.</summary>
    public float Rho { get; init; } = 0.05f;
    /// <summary>Contractive: the weight lambda of ||dh/dx||_F^2; 0 for none.</summary>
    public float Lambda { get; init; }
    /// <summary>"auto" (closed form when the encoder is one sigmoid layer, else autodiff), "closed" or "autodiff".</summary>
    public string Jacobian { get; init; } = "auto";
    public DecoderDistribution Decoder { get; init; } = DecoderDistribution.Bernoulli;
    /// <summary>The Gaussian decoder's fixed standard deviation (on the [-1, 1] scale).</summary>
    public float DecoderSigma { get; init; } = 0.2f;
    public ulong Seed { get; init; }

    /// <summary>Elements per sample, D = dim(x).</summary>
    public int SampleSize => Shape.Aggregate(1, (a, b) => a * b);

    /// <summary>The kind as the command line spells it ("undercomplete", ..., "vae").</summary>
    public static string Name(AutoencoderKind kind) => kind.ToString().ToLowerInvariant();

    /// <summary>The kinds' command-line names.</summary>
    public static IReadOnlyList<string> KindNames => [.. Enum.GetValues<AutoencoderKind>().Select(Name)];

    /// <summary>Parses a kind name; throws naming the known kinds.</summary>
    public static AutoencoderKind ParseKind(string name)
    {
        foreach (var kind in Enum.GetValues<AutoencoderKind>())
            if (Name(kind) == name.Trim().ToLowerInvariant()) return kind;
        throw new ArgumentException($"autoencoder: unknown kind '{name}'; known kinds: {string.Join(", ", KindNames)}");
    }

    /// <summary>
    /// The full default config of <paramref name="kind"/> (every key, as strings). The defaults suit
    /// 1x32x32 MNIST digits with a code of 32; the lead's command fills "shape" from the data set.
    /// </summary>
    public static IReadOnlyDictionary<string, string> Defaults(string kind)
    {
        var k = ParseKind(kind);
        var d = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kind"] = Name(k),
            ["arch"] = "mlp",
            ["shape"] = "1,32,32",
            ["code"] = "32",
            ["hidden"] = "512",
            ["conv_width"] = "32",
            ["lr"] = "0.001",
            ["beta1"] = "0.9",
            ["beta2"] = "0.999",
            ["recon"] = "mse",
            ["output"] = "tanh",
            ["code_activation"] = "linear",
            ["noise"] = "0",
            ["noise_kind"] = "gaussian",
            ["sparsity"] = "0",
            ["sparse_penalty"] = "l1",
            ["rho"] = "0.05",
            ["lambda"] = "0",
            ["jacobian"] = "auto",
            ["decoder"] = "bernoulli",
            ["decoder_sigma"] = "0.2",
            ["seed"] = "0",
        };
        switch (k)
        {
            case AutoencoderKind.Overcomplete:
                // k >= D for 1x32x32; a sparse ReLU code keeps it from copying.
                d["code"] = "1024"; d["code_activation"] = "relu"; d["sparsity"] = "0.001"; break;
            case AutoencoderKind.Sparse:
                d["code_activation"] = "relu"; d["sparsity"] = "0.001"; break;
            case AutoencoderKind.Denoising:
                d["noise"] = "0.5"; break;
            case AutoencoderKind.Contractive:
                // Rifai et al.'s contractive autoencoder: one sigmoid layer, so the Jacobian has a closed form.
                d["hidden"] = ""; d["code_activation"] = "sigmoid"; d["lambda"] = "0.01"; break;
        }
        return d;
    }

    /// <summary>
    /// Reads a config (missing keys take <see cref="Defaults"/> of its kind; an unknown key or a bad value
    /// throws <see cref="ArgumentException"/> naming it) and checks that the kind's requirements hold.
    /// </summary>
    public static AutoencoderOptions Parse(IReadOnlyDictionary<string, string> config)
    {
        var kindName = config.TryGetValue("kind", out var kn) ? kn : "undercomplete";
        var kind = ParseKind(kindName);
        // Errors name the job kind as checkpoints do ("ae-sparse: setting 'lr' must be ...").
        var c = new JobConfig("ae-" + Name(kind), Defaults(kindName), config, refuseUnknown: true);
        var o = new AutoencoderOptions
        {
            Kind = kind,
            Arch = c.OneOf("arch", "mlp", "conv"),
            Shape = c.Shape("shape"),
            Code = c.Int("code", min: 1),
            Hidden = c.Ints("hidden"),
            ConvWidth = c.Int("conv_width", min: 1),
            LearningRate = c.Float("lr"),
            Beta1 = c.Float("beta1"),
            Beta2 = c.Float("beta2"),
            Recon = c.OneOf<ReconstructionLoss>("recon"),
            Output = c.OneOf("output", "tanh", "linear"),
            CodeActivation = c.OneOf<CodeActivation>("code_activation"),
            Noise = c.Float("noise"),
            NoiseKind = c.OneOf<NoiseKind>("noise_kind"),
            Sparsity = c.Float("sparsity"),
            SparsePenalty = c.OneOf<SparsePenalty>("sparse_penalty"),
            Rho = c.Float("rho"),
            Lambda = c.Float("lambda"),
            Jacobian = c.OneOf("jacobian", "auto", "closed", "autodiff"),
            Decoder = c.OneOf<DecoderDistribution>("decoder"),
            DecoderSigma = c.Float("decoder_sigma"),
            Seed = c.ULong("seed"),
        };
        o.Validate();
        return o;
    }

    /// <summary>The config as strings (every key), what a checkpoint saves; <see cref="Parse"/> reads it back to an equal options.</summary>
    public IReadOnlyDictionary<string, string> ToConfig()
    {
        static string L(string s) => s.ToLowerInvariant();
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kind"] = Name(Kind),
            ["arch"] = Arch,
            ["shape"] = JobConfig.Format(Shape),
            ["code"] = JobConfig.Format(Code),
            ["hidden"] = JobConfig.Format(Hidden),
            ["conv_width"] = JobConfig.Format(ConvWidth),
            ["lr"] = JobConfig.Format(LearningRate),
            ["beta1"] = JobConfig.Format(Beta1),
            ["beta2"] = JobConfig.Format(Beta2),
            ["recon"] = L(Recon.ToString()),
            ["output"] = Output,
            ["code_activation"] = L(CodeActivation.ToString()),
            ["noise"] = JobConfig.Format(Noise),
            ["noise_kind"] = L(NoiseKind.ToString()),
            ["sparsity"] = JobConfig.Format(Sparsity),
            ["sparse_penalty"] = L(SparsePenalty.ToString()),
            ["rho"] = JobConfig.Format(Rho),
            ["lambda"] = JobConfig.Format(Lambda),
            ["jacobian"] = Jacobian,
            ["decoder"] = L(Decoder.ToString()),
            ["decoder_sigma"] = JobConfig.Format(DecoderSigma),
            ["seed"] = JobConfig.Format(Seed),
        };
    }

    /// <summary>Whether the code layer is one sigmoid layer on x, the case with a closed-form Jacobian.</summary>
    public bool HasClosedFormJacobian => Arch == "mlp" && Hidden.Length == 0 && CodeActivation == CodeActivation.Sigmoid;

    void Validate()
    {
        static void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException("autoencoder: " + message);
        }
        string kind = Name(Kind);
        if (Arch == "conv")
            Require(Shape.Length == 3 && Shape[1] % 4 == 0 && Shape[2] % 4 == 0 && Shape[1] >= 4 && Shape[2] >= 4,
                $"arch conv needs an image shape c,h,w with h and w divisible by 4 (e.g. 1,28,28 or 1,32,32), got {string.Join(",", Shape)}");
        Require(LearningRate > 0, $"'lr' must be > 0, got {LearningRate}");
        Require(Beta1 is >= 0 and < 1 && Beta2 is >= 0 and < 1, $"'beta1' and 'beta2' must lie in [0, 1), got {Beta1} and {Beta2}");
        Require(Noise >= 0 && Sparsity >= 0 && Lambda >= 0, $"'noise', 'sparsity' and 'lambda' must be >= 0, got {Noise}, {Sparsity}, {Lambda}");
        Require(NoiseKind != NoiseKind.Mask || Noise < 1, $"the masking rate 'noise' must be below 1, got {Noise}");
        Require(Rho is > 0 and < 1, $"'rho' must lie in (0, 1), got {Rho}");
        Require(DecoderSigma > 0, $"'decoder_sigma' must be > 0, got {DecoderSigma}");
        if (Sparsity > 0 && SparsePenalty == SparsePenalty.Kl)
            Require(CodeActivation == CodeActivation.Sigmoid, $"the KL sparsity penalty needs codes in (0, 1): set code_activation sigmoid (got {L(CodeActivation)})");
        if (Lambda > 0 && Jacobian == "closed")
            Require(HasClosedFormJacobian, "jacobian closed needs arch mlp, hidden empty (one encoder layer) and code_activation sigmoid");
        int d = SampleSize;
        switch (Kind)
        {
            case AutoencoderKind.Undercomplete:
                Require(Code < d, $"kind {kind} needs code < dim(x) = {d}, got code {Code} (use kind overcomplete with a regulariser)");
                break;
            case AutoencoderKind.Overcomplete:
                Require(Code >= d, $"kind {kind} needs code >= dim(x) = {d}, got code {Code}");
                Require(Sparsity > 0 || Noise > 0 || Lambda > 0,
                    $"kind {kind} can learn the identity: it needs a regulariser (sparsity > 0, noise > 0 or lambda > 0)");
                break;
            case AutoencoderKind.Sparse:
                Require(Sparsity > 0, $"kind {kind} needs sparsity > 0");
                break;
            case AutoencoderKind.Denoising:
                Require(Noise > 0, $"kind {kind} needs noise > 0");
                break;
            case AutoencoderKind.Contractive:
                Require(Lambda > 0, $"kind {kind} needs lambda > 0");
                break;
            case AutoencoderKind.Vae:
                Require(Noise == 0 && Sparsity == 0 && Lambda == 0, $"kind {kind} takes no noise, sparsity or lambda (its regulariser is the KL term)");
                break;
        }
    }

    static string L(CodeActivation a) => a.ToString().ToLowerInvariant();
}
