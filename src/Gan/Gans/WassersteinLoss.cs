using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// <c>wgan</c>'s losses (Arjovsky et al. 2017). D is a critic with a linear output; it maximises mean D(real) - mean D(fake),
/// an estimate of the Wasserstein-1 distance (Kantorovich-Rubinstein duality) when D is 1-Lipschitz, i.e. minimises
/// <see cref="Losses.WassersteinCritic"/>; G minimises -mean D(G(z)). The Lipschitz constraint is the options' weight
/// clipping (<c>clip</c> 0.01), applied by the optimizer after each critic update. Logs the estimate as <c>wasserstein</c>.
/// </summary>
public sealed class WassersteinLoss : GanLoss
{
    public override Tensor Critic(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
    {
        var loss = Losses.WassersteinCritic(realScores, fakeScores);
        using (Autograd.NoGrad()) log["wasserstein"] = loss.Neg();
        return loss;
    }

    public override Tensor Generator(Tensor fakeScores) => Losses.WassersteinGenerator(fakeScores);
}
