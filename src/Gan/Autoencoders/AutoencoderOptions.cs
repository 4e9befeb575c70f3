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
/// Every setting of an autoencoder (<c>nativegan train ae</c>): the kind, the networks, the optimizer and each kind's
/// regulariser. <see cref="For"/> gives each kind's defaults (for 1x32x32 MNIST digits with a code of 32).
/// </summary>
public sealed record AutoencoderOptions : ModelOptions
{
    public enum Architecture { Mlp, Conv }

    /// <summary>The MSE decoder's output: tanh (in [-1, 1]) or linear (an affine last layer: the linear autoencoder).</summary>
    public enum OutputKind { Tanh, Linear }

    /// <summary>How the contractive penalty's Jacobian is computed: the closed form when the encoder is one sigmoid layer
    /// (auto picks it then, else autodiff), or k vector-Jacobian products through the tape.</summary>
    public enum JacobianKind { Auto, Closed, Autodiff }

    [Setting("kind", "Which autoencoder (the command's --kind).")]
    public AutoencoderKind Kind { get; init; }

    [Setting("arch", "Networks: mlp, or conv (two strided convolutions; H and W divisible by 4).")]
    public Architecture Arch { get; init; } = Architecture.Mlp;

    [Setting("code", "The code size k = dim(h) (the VAE's latent size).", Min = 1)]
    public int Code { get; init; } = 32;

    [Setting("hidden", "Hidden widths of the MLP encoder (the decoder mirrors them; empty: one layer).", Min = 1)]
    public int[] Hidden { get; init; } = [512];

    [Setting("conv_width", "Channels of the conv encoder's first convolution (the second has twice as many).", Min = 1)]
    public int ConvWidth { get; init; } = 32;

    [Setting("lr", "Adam's learning rate (one optimizer over encoder and decoder).", Min = 0, MinExclusive = true)]
    public float LearningRate { get; init; } = 1e-3f;

    [Setting("beta1", "Adam's beta1.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.9f;

    [Setting("beta2", "Adam's beta2.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta2 { get; init; } = 0.999f;

    [Setting("recon", "Reconstruction term: mse (on [-1, 1]) or bce (of sigmoid logits against (x + 1) / 2).")]
    public ReconstructionLoss Recon { get; init; } = ReconstructionLoss.Mse;

    [Setting("output", "MSE decoder's output: tanh, or linear (the linear autoencoder).")]
    public OutputKind Output { get; init; } = OutputKind.Tanh;

    [Setting("code_activation", "Activation on the code h of a deterministic encoder.")]
    public CodeActivation CodeActivation { get; init; } = CodeActivation.Linear;

    [Setting("noise", "Denoising: the Gaussian noise's std or the masking rate (0: no corruption).", Min = 0)]
    public float Noise { get; init; }

    [Setting("noise_kind", "Denoising: gaussian (x + sigma eps) or mask (pixels set to -1 with probability noise).")]
    public NoiseKind NoiseKind { get; init; } = NoiseKind.Gaussian;

    [Setting("sparsity", "Sparse: the penalty's weight beta (0: none).", Min = 0)]
    public float Sparsity { get; init; }

    [Setting("sparse_penalty", "Sparse: l1 on h, or kl to a target rate rho (sigmoid codes).")]
    public SparsePenalty SparsePenalty { get; init; } = SparsePenalty.L1;

    [Setting("rho", "Sparse, kl: the target activation rate.", Min = 0, Max = 1, MinExclusive = true, MaxExclusive = true)]
    public float Rho { get; init; } = 0.05f;

    [Setting("lambda", "Contractive: the weight lambda of ||dh/dx||_F^2 (0: none).", Min = 0)]
    public float Lambda { get; init; }

    [Setting("jacobian", "Contractive: auto, closed (one sigmoid layer) or autodiff.")]
    public JacobianKind Jacobian { get; init; } = JacobianKind.Auto;

    [Setting("decoder", "VAE: the decoder distribution p(x|h), bernoulli or gaussian.")]
    public DecoderDistribution Decoder { get; init; } = DecoderDistribution.Bernoulli;

    [Setting("decoder_sigma", "VAE, gaussian: the decoder's fixed standard deviation on the [-1, 1] scale.", Min = 0, MinExclusive = true)]
    public float DecoderSigma { get; init; } = 0.2f;

    /// <summary>Elements per sample, D = dim(x).</summary>
    public int SampleSize => DataShape.Aggregate(1, (a, b) => a * b);

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
    /// The defaults of <paramref name="kind"/> for samples of <paramref name="shape"/>: an MLP of 512 hidden units and a
    /// code of 32, MSE with tanh outputs, Adam 1e-3; then what each kind needs to be that kind (Goodfellow et al., ch. 14).
    /// </summary>
    public static AutoencoderOptions For(AutoencoderKind kind, int[] shape)
    {
        var o = new AutoencoderOptions { Kind = kind, DataShape = shape };
        return kind switch
        {
            // k >= D for 1x32x32; a sparse ReLU code keeps it from copying.
            AutoencoderKind.Overcomplete => o with { Code = 1024, CodeActivation = CodeActivation.Relu, Sparsity = 0.001f },
            AutoencoderKind.Sparse => o with { CodeActivation = CodeActivation.Relu, Sparsity = 0.001f },
            AutoencoderKind.Denoising => o with { Noise = 0.5f },
            // Rifai et al.'s contractive autoencoder: one sigmoid layer, so the Jacobian has a closed form.
            AutoencoderKind.Contractive => o with { Hidden = [], CodeActivation = CodeActivation.Sigmoid, Lambda = 0.01f },
            _ => o,
        };
    }

    /// <summary>The options of <paramref name="settings"/> ("kind" picks the defaults, undercomplete when absent; "data_shape"
    /// defaults to 1,32,32): a bad key or value throws an <see cref="ArgumentException"/> naming it.</summary>
    public static AutoencoderOptions Parse(IReadOnlyDictionary<string, string> settings) =>
        (AutoencoderOptions)AutoencoderFamily.Kinds[0].FromSettings(settings);

    /// <summary>Whether the code layer is one sigmoid layer on x, the case with a closed-form Jacobian.</summary>
    public bool HasClosedFormJacobian => Arch == Architecture.Mlp && Hidden.Length == 0 && CodeActivation == CodeActivation.Sigmoid;

    public override void Validate(string kind)
    {
        void Require(bool ok, string message)
        {
            if (!ok) throw new ArgumentException($"{kind}: " + message);
        }
        string name = Name(Kind);
        if (Arch == Architecture.Conv)
            Require(DataShape.Length == 3 && DataShape[1] % 4 == 0 && DataShape[2] % 4 == 0 && DataShape[1] >= 4 && DataShape[2] >= 4,
                $"arch conv needs an image shape c,h,w with h and w divisible by 4 (e.g. 1,28,28 or 1,32,32), got {string.Join(",", DataShape)}");
        Require(NoiseKind != NoiseKind.Mask || Noise < 1, $"the masking rate 'noise' must be below 1, got {Noise}");
        if (Sparsity > 0 && SparsePenalty == SparsePenalty.Kl)
            Require(CodeActivation == CodeActivation.Sigmoid, $"the KL sparsity penalty needs codes in (0, 1): set code_activation sigmoid (got {L(CodeActivation)})");
        if (Lambda > 0 && Jacobian == JacobianKind.Closed)
            Require(HasClosedFormJacobian, "jacobian closed needs arch mlp, hidden empty (one encoder layer) and code_activation sigmoid");
        int d = SampleSize;
        switch (Kind)
        {
            case AutoencoderKind.Undercomplete:
                Require(Code < d, $"kind {name} needs code < dim(x) = {d}, got code {Code} (use kind overcomplete with a regulariser)");
                break;
            case AutoencoderKind.Overcomplete:
                Require(Code >= d, $"kind {name} needs code >= dim(x) = {d}, got code {Code}");
                Require(Sparsity > 0 || Noise > 0 || Lambda > 0,
                    $"kind {name} can learn the identity: it needs a regulariser (sparsity > 0, noise > 0 or lambda > 0)");
                break;
            case AutoencoderKind.Sparse:
                Require(Sparsity > 0, $"kind {name} needs sparsity > 0");
                break;
            case AutoencoderKind.Denoising:
                Require(Noise > 0, $"kind {name} needs noise > 0");
                break;
            case AutoencoderKind.Contractive:
                Require(Lambda > 0, $"kind {name} needs lambda > 0");
                break;
            case AutoencoderKind.Vae:
                Require(Noise == 0 && Sparsity == 0 && Lambda == 0, $"kind {name} takes no noise, sparsity or lambda (its regulariser is the KL term)");
                break;
        }
    }

    static string L(CodeActivation a) => a.ToString().ToLowerInvariant();
}
