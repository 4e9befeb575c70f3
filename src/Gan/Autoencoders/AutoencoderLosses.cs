using NativeGan.Nn;

namespace NativeGan.Gan.Autoencoders;

/// <summary>
/// The loss terms of the autoencoder family, each a few recorded ops (so the tape differentiates them) and
/// each returning a scalar tensor. Data x are in [-1, 1]; "per sample" means summed over a sample's elements
/// or code units and averaged over the batch.
/// </summary>
public static class AutoencoderLosses
{
    // ------------------------------------------------------------------ reconstruction

    /// <summary>
    /// The reconstruction term of a deterministic autoencoder, mean over every element: MSE between the
    /// decoder's values and x, or BCE between sigmoid(logits) and (x + 1) / 2.
    /// </summary>
    public static Tensor Reconstruction(ReconstructionLoss loss, Tensor output, Tensor x)
    {
        if (loss == ReconstructionLoss.Mse) return Losses.Mse(output, x);
        using var targets = ToUnitInterval(x);
        return Losses.BceWithLogits(output, targets);
    }

    /// <summary>
    /// -log p(x | h) of a Bernoulli decoder, in nats per sample: sum over pixels of softplus(l) - l t with
    /// t = (x + 1) / 2 (the binary cross-entropy on the logits l). For grey levels t is not 0 or 1, so this
    /// is the usual "continuous Bernoulli without its normaliser" used for MNIST: comparable between runs,
    /// not a true likelihood of grey images.
    /// </summary>
    public static Tensor BernoulliNll(Tensor logits, Tensor x)
    {
        using var t = ToUnitInterval(x);
        using var softplus = logits.Softplus();
        using var lt = logits.Mul(t);
        using var perElement = softplus.Sub(lt);
        using var total = perElement.Sum();
        return total.Mul(1f / x.Dim(0));
    }

    /// <summary>
    /// -log p(x | h) of a Gaussian decoder N(mean, sigma^2 I), in nats per sample:
    /// sum (x - mean)^2 / (2 sigma^2) + (D / 2) log(2 pi sigma^2), D the elements per sample.
    /// </summary>
    public static Tensor GaussianNll(Tensor mean, Tensor x, float sigma)
    {
        int n = x.Dim(0), d = x.Length / n;
        using var diff = mean.Sub(x);
        using var sq = diff.Square();
        using var total = sq.Sum();
        return total.Affine(1f / (2f * sigma * sigma * n), 0.5f * d * MathF.Log(2f * MathF.PI * sigma * sigma));
    }

    /// <summary>(x + 1) / 2: the data's [-1, 1] read as probabilities in [0, 1].</summary>
    public static Tensor ToUnitInterval(Tensor x) => x.Affine(0.5f, 0.5f);

    // ------------------------------------------------------------------ sparsity

    /// <summary>The L1 sparsity penalty Omega(h) = beta * sum_j |h_j|, averaged over the batch.</summary>
    public static Tensor SparseL1(Tensor h, float beta)
    {
        using var a = h.Abs();
        using var s = a.Sum();
        return s.Mul(beta / h.Dim(0));
    }

    /// <summary>Added inside the logarithms of <see cref="SparseKl"/>, so a saturated unit gives a large finite penalty, not infinity.</summary>
    public const float KlEps = 1e-6f;

    /// <summary>
    /// The KL-to-target-rate sparsity penalty for codes in (0, 1) (sigmoid units), after Ng's sparse
    /// autoencoder notes: rho^_j = mean over the batch of h_j, and
    /// beta * sum_j [rho log(rho / rho^_j) + (1 - rho) log((1 - rho) / (1 - rho^_j))],
    /// the KL divergence between Bernoulli(rho) and Bernoulli(rho^_j); zero when every unit fires at rate rho.
    /// <see cref="KlEps"/> is added inside both logarithms of rho^.
    /// </summary>
    public static Tensor SparseKl(Tensor h, float rho, float beta)
    {
        float constant = rho * MathF.Log(rho) + (1 - rho) * MathF.Log(1 - rho);
        using var rate = h.Mean([0]);                                     // rho^_j, [k]
        using var logRate = rate.Add(KlEps).Log();                        // log rho^
        using var logRest = rate.Affine(-1f, 1f + KlEps).Log();           // log (1 - rho^)
        using var a = logRate.Mul(-rho);
        using var b = logRest.Mul(-(1 - rho));
        using var perUnit = a.Add(b);
        using var sum = perUnit.Sum();
        return sum.Affine(beta, beta * constant * h.Dim(1));
    }

    /// <summary>The mean activation of the code, mean over the batch and the units (read back to the host).</summary>
    public static float MeanActivation(Tensor h)
    {
        using (Autograd.NoGrad())
        using (var code = h.Detach())
        using (var m = code.Mean())
            return m.Item();
    }

    // ------------------------------------------------------------------ contraction

    /// <summary>
    /// ||dh/dx||_F^2 averaged over the batch, in closed form for a one-layer sigmoid encoder h = sigmoid(W x + b):
    /// dh_k/dx = h_k (1 - h_k) W_k (row k of W), so ||J||_F^2 = sum_k (h_k (1 - h_k))^2 ||W_k||^2.
    /// <paramref name="h"/> [N, k] is the code, <paramref name="weight"/> [k, D] the code layer's weight;
    /// both stay in the graph, so the penalty trains W and b. Multiply by lambda for the loss.
    /// </summary>
    public static Tensor ContractiveClosedForm(Tensor h, Tensor weight)
    {
        if (h.Rank != 2 || weight.Rank != 2 || weight.Dim(0) != h.Dim(1))
            throw new TensorShapeException($"ContractiveClosedForm: needs h [N, k] and weight [k, D], got {Shapes.Format(h.Shape)} and {Shapes.Format(weight.Shape)}");
        using var oneMinus = h.Affine(-1f, 1f);
        using var slope = h.Mul(oneMinus);                 // h (1 - h) = sigma'
        using var slope2 = slope.Square();                 // [N, k]
        using var w2 = weight.Square();
        using var rowNorms = w2.Sum([1]);                  // ||W_k||^2, [k]
        using var terms = slope2.Mul(rowNorms);            // broadcast over the batch
        using var total = terms.Sum();
        return total.Mul(1f / h.Dim(0));
    }

    /// <summary>
    /// ||dh/dx||_F^2 averaged over the batch, through the autodiff, exactly, for any encoder without batch
    /// statistics: one vector-Jacobian product per code unit j. Sample n's code depends only on x_n, so
    /// the gradient of sum_n h_nj with respect to x is, in row n, row j of sample n's Jacobian; squaring and
    /// summing those k gradients gives sum_n ||J_n||_F^2. Each gradient is taken with createGraph, so the
    /// penalty is differentiable with respect to the weights (a gradient of a gradient), at the price of
    /// k backward passes: use it for small k, or to check <see cref="ContractiveClosedForm"/>.
    /// <paramref name="x"/> must require grad and <paramref name="h"/> [N, k] must have been computed from it.
    /// </summary>
    public static Tensor ContractiveAutodiff(Tensor h, Tensor x)
    {
        if (h.Rank != 2) throw new TensorShapeException($"ContractiveAutodiff: needs h [N, k], got {Shapes.Format(h.Shape)}");
        if (!x.RequiresGrad) throw new InvalidOperationException("ContractiveAutodiff: x must require grad and h must be computed from it");
        int n = h.Dim(0), k = h.Dim(1);
        Tensor? total = null;
        var pick = new float[n * k];
        for (int j = 0; j < k; j++)
        {
            Array.Clear(pick);
            for (int i = 0; i < n; i++) pick[i * k + j] = 1f;           // e_j on every row
            using var seed = Tensor.FromArray(pick, [n, k], h.Device);
            using var dx = Autograd.Grad([h], [x], [seed], createGraph: true)[0];
            using var sq = dx.Square();
            var s = sq.Sum();
            if (total is null) total = s;
            else
            {
                var next = total.Add(s);
                total.Dispose();
                s.Dispose();
                total = next;
            }
        }
        using (total) return total!.Mul(1f / n);
    }

    // ------------------------------------------------------------------ VAE

    /// <summary>
    /// The reparameterisation trick (Kingma and Welling 2014): z = mu + exp(logVar / 2) * eps with
    /// eps ~ N(0, I) from <paramref name="rng"/>, so z is a differentiable function of mu and logVar and
    /// the noise is an input. Advances the stream by mu.Length.
    /// </summary>
    public static Tensor Reparameterise(Tensor mu, Tensor logVar, Rng rng)
    {
        using var eps = rng.Normal(mu.Device, mu.Shape);
        using var std = logVar.Affine(0.5f, 0f).Exp();
        using var noise = std.Mul(eps);
        return mu.Add(noise);
    }

    // ------------------------------------------------------------------ corruption

    /// <summary>
    /// The denoising autoencoder's corruption C(x~ | x), not recorded (the input is data): Gaussian
    /// x~ = x + level * eps, or masking noise, each element set to -1 (the data's black) with probability
    /// level: x~ = m (x + 1) - 1 with m ~ Bernoulli(1 - level). Draws x.Length values from <paramref name="rng"/>.
    /// </summary>
    public static Tensor Corrupt(Tensor x, NoiseKind kind, float level, Rng rng)
    {
        using var _ = Autograd.NoGrad();
        using var clean = x.Detach();
        if (kind == NoiseKind.Gaussian)
        {
            using var eps = rng.Normal(x.Device, x.Shape, 0f, level);
            return clean.Add(eps);
        }
        using var keep = rng.BernoulliMask(x.Device, x.Shape, 1f - level);
        using var shifted = clean.Add(1f);
        using var kept = shifted.Mul(keep);
        return kept.Sub(1f);
    }
}
