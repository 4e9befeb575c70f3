using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// <c>wgan-gp</c>'s losses (Gulrajani et al. 2017): <c>wgan</c>'s critic and generator losses, with the Lipschitz constraint
/// as a soft penalty instead of clipping: lambda mean (||grad_x D(x^)|| - 1)^2 at random points x^ between real and fake
/// samples (<see cref="Losses.GradientPenalty"/>, a gradient of a gradient through the tape). Logs <c>wasserstein</c> and
/// <c>gp</c> (the penalty, which loss_d includes). With minibatch layers in D the penalty includes cross-sample terms.
/// </summary>
public sealed class WassersteinGpLoss(float lambda) : GanLoss
{
    public override Tensor Critic(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
    {
        var critic = Losses.WassersteinCritic(realScores, fakeScores);
        var penalty = Losses.GradientPenalty(context.Critic, context.Real, context.Fake, context.Rng, lambda);
        using (Autograd.NoGrad())
        {
            log["wasserstein"] = critic.Neg();
            log["gp"] = penalty.Detach();
        }
        return critic.Add(penalty);
    }

    public override Tensor Generator(Tensor fakeScores) => Losses.WassersteinGenerator(fakeScores);
}
