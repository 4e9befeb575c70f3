using NativeGan.Gan.Training;

namespace NativeGan.Gan.Gans;

/// <summary>The settings of the kinds that train D with binary cross-entropy (<c>gan</c>, <c>dcgan</c>, and <c>cgan</c> through
/// <see cref="ConditionalGanOptions"/>): G's loss, D's target for real samples, and the R1 penalty on D.</summary>
public record BceGanOptions : GanOptions
{
    /// <summary>G's loss: the minimax log(1 - D(G(z))), which saturates, or -log D(G(z)), the paper's practical fix.</summary>
    public enum GeneratorLossKind { Saturating, NonSaturating }

    [Setting("g_loss", "G's loss: saturating (the minimax game) or non-saturating (-log D(G(z))).")]
    public GeneratorLossKind GeneratorLoss { get; init; } = GeneratorLossKind.NonSaturating;

    [Setting("real_label", "D's target for real samples (1: plain BCE; 0.9: one-sided label smoothing).", Min = 0.5, Max = 1)]
    public float RealLabel { get; init; } = 1f;

    [Setting("r1_gamma", "Weight gamma of the R1 penalty (gamma/2) mean ||dD/dx||^2 at real samples (0: none).", Min = 0, ResumeMayChange = true)]
    public float R1Gamma { get; init; }

    [Setting("r1_every", "Apply R1 every this many steps, weighted as many times (StyleGAN2's lazy regularisation).", Min = 1, ResumeMayChange = true)]
    public int R1Every { get; init; } = 1;
}
