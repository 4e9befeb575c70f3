using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The BCE kinds' losses (<c>gan</c>, <c>dcgan</c>, <c>cgan</c>; Goodfellow et al. 2014). D outputs a logit and minimises
/// binary cross-entropy, -[log D(x) + log(1 - D(G(z)))], with the real target <c>real_label</c> (one-sided label
/// smoothing below 1, from the paper of minibatch discrimination: D cannot grow arbitrarily confident, so G keeps useful
/// gradients; fakes keep target 0, since smoothing them would reward G for samples where the data has none). G minimises
/// <c>saturating</c> log(1 - D(G(z))), the minimax game itself, whose gradient vanishes while D rejects the fakes
/// confidently, or <c>non-saturating</c> -log D(G(z)), the paper's practical fix: the same fixed point, strong gradients
/// where the fakes are bad.
/// <para><b>R1</b> (<c>r1_gamma</c>, <c>r1_every</c>; Mescheder et al. 2018, <see cref="Losses.R1"/>): (gamma / 2) mean
/// ||dD/dx||^2 at the real samples added to D's loss, D's logit differentiated through the tape (a gradient of a
/// gradient, as WGAN-GP's penalty). It keeps D flat on the data, so D cannot grow a cliff around each real point that
/// saturates its output on every fake. <c>r1_every</c> K &gt; 1 is StyleGAN2's lazy regularisation: only at steps that are
/// multiples of K, weighted K times. With minibatch discrimination D's logits mix samples, so the penalty is that of the
/// batch's summed logit.</para>
/// </summary>
public sealed class BceGanLoss(BceGanOptions options) : GanLoss
{
    readonly bool saturating = options.GeneratorLoss == BceGanOptions.GeneratorLossKind.Saturating;
    readonly float realLabel = options.RealLabel;
    readonly float r1Gamma = options.R1Gamma;
    readonly int r1Every = options.R1Every;

    public override Tensor Critic(Tensor realScores, Tensor fakeScores, CriticContext context, Dictionary<string, Tensor> log)
    {
        using (Autograd.NoGrad())
        {
            log["d_real"] = realScores.Sigmoid().Mean(); // mean probabilities D gives each kind
            log["d_fake"] = fakeScores.Sigmoid().Mean();
        }
        var loss = Losses.BceWithLogits(realScores, realLabel).Add(Losses.BceWithLogits(fakeScores, 0f));
        if (r1Gamma == 0 || context.Step % r1Every != 0) return loss;
        var penalty = Losses.R1(context.Critic, context.Real, r1Gamma * r1Every);
        using (Autograd.NoGrad()) log["r1"] = penalty.Detach();
        return loss.Add(penalty);
    }

    public override Tensor Generator(Tensor fakeScores) =>
        saturating ? Losses.SaturatingGeneratorLoss(fakeScores) : Losses.BceWithLogits(fakeScores, 1f);
}
