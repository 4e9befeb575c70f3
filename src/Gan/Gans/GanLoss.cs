using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// What makes one GAN kind differ from another in the shared step (<see cref="GanJob"/>): the critic's loss on scores of
/// real and fake samples, and the generator's loss on the critic's scores of fresh fakes. Scalars a loss puts in the
/// log dictionary are logged by name (d_real, wasserstein, gp, r1, ...).
/// </summary>
public abstract class GanLoss
{
    /// <summary>What a critic loss may need besides the scores: the critic as a function of its input (a penalty
    /// differentiates it), the real and fake batches (packed, as the critic sees them), the training step (a penalty
    /// applied every few steps only) and the job's random stream (the interpolates of WGAN-GP's penalty).</summary>
    public sealed record CriticContext(Func<Tensor, Tensor> Critic, Tensor Real, Tensor Fake, long Step, Rng Rng);

    /// <summary>The critic's loss (the fakes are detached); scalars put in <paramref name="log"/> are logged.</summary>
    public abstract Tensor Critic(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log);

    /// <summary>The generator's loss on the critic's scores of fresh fakes (gradients flow through D into G).</summary>
    public abstract Tensor Generator(Tensor fakeScores);

    /// <summary>The loss of a kind's options: BCE for <see cref="BceGanOptions"/>, the gradient penalty's for
    /// <see cref="WganGpOptions"/>, the Wasserstein loss with clipping for plain <see cref="GanOptions"/> (wgan).</summary>
    public static GanLoss For(GanOptions options) => options switch
    {
        BceGanOptions bce => new BceGanLoss(bce),
        WganGpOptions gp => new WassersteinGpLoss(gp.PenaltyWeight),
        _ => new WassersteinLoss(),
    };
}
