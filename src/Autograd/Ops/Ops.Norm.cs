namespace NativeGan;

// Norms used by GAN critics and their losses.
public static partial class Ops
{
    /// <summary>
    /// The L2 norm of each sample: sqrt(sum over every axis but the first of x² + eps), shape [N] (one fused
    /// reduction launch). The epsilon sits inside the square root: at a zero gradient (a critic that is flat
    /// around x) the norm is sqrt(eps), not 0, so the derivative x / norm is 0, not 0/0 = NaN (PITFALLS).
    /// Backward, in ops so it differentiates again: dx = x * (g / y), with g / y broadcast over each sample.
    /// </summary>
    public static Tensor PerSampleL2Norm(this Tensor x, float eps = 1e-12f)
    {
        if (x.Rank < 2) throw new TensorShapeException($"PerSampleL2Norm: needs [N, ...], got shape {Shapes.Format(x.Shape)}");
        var perSample = new int[x.Rank];
        Array.Fill(perSample, 1);
        perSample[0] = x.Dim(0);
        return Autograd.Record("PerSampleL2Norm", NativeGan.PerSampleL2Norm.Forward(x, eps), [x],
            (g, n) => [n.Saved[0].Mul(Reshape(g.Div(n.Saved[1]), perSample))],
            save: [x], saveOutput: true);
    }

    /// <summary>
    /// Instance normalisation of x [N, C, H, W]: each (sample, channel) plane to zero mean and unit variance
    /// (biased variance, eps inside the square root), then gamma [C] * y + beta [C] when given.
    /// <para>When a graph is recorded it is built from Mean, Sub, Mul and Pow, so its gradients of every order
    /// come from those ops' rules (a critic penalised with WGAN-GP needs the second); when nothing is
    /// recorded (inference, or no input requires grad) it is the fused kernel of src/Kernels.</para>
    /// </summary>
    public static Tensor InstanceNorm2d(this Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        Check.Rank("InstanceNorm2d", "x", x, 4);
        bool recorded = Autograd.IsGradEnabled && (x.RequiresGrad || (gamma?.RequiresGrad ?? false) || (beta?.RequiresGrad ?? false));
        if (!recorded)
        {
            var (fused, mean, invStd) = NativeGan.InstanceNorm2d.Forward(x, gamma, beta, eps);
            mean.Dispose();
            invStd.Dispose();
            return TensorScope.Track(fused);
        }
        int[] plane = [2, 3], perChannel = [1, x.Dim(1), 1, 1];
        using var mu = x.Mean(plane, keepDims: true);
        using var centred = x.Sub(mu);
        using var squares = centred.Square();
        using var variance = squares.Mean(plane, keepDims: true);
        using var shifted = variance.Add(eps);
        using var invStdT = shifted.Pow(-0.5f);
        var y = centred.Mul(invStdT);
        if (gamma is not null)
        {
            using var unscaled = y;
            using var gammaView = Reshape(gamma, perChannel);
            y = unscaled.Mul(gammaView);
        }
        if (beta is not null)
        {
            using var unshifted = y;
            using var betaView = Reshape(beta, perChannel);
            y = unshifted.Add(betaView);
        }
        return y;
    }
}
