namespace NativeGan;

/// <summary>
/// Layer normalisation (Ba et al. 2016) over everything but the batch axis, PyTorch's
/// <c>LayerNorm(x.shape[1:])</c>: each sample n of x [N, ...] is normalised with its own mean and biased
/// variance, <c>y = gamma * (x - mean[n]) / sqrt(var[n] + eps) + beta</c>, with gamma and beta of shape
/// x.shape[1:] (one value per element). A WGAN-GP critic uses it where a GAN would use batch norm: it
/// mixes no samples, so the per-sample gradient penalty stays per sample. Kernels: <see cref="Normalization"/>
/// with the grouping <see cref="NormLayout.PerSample"/> and per-element parameters.
/// </summary>
public static class LayerNorm
{
    const string Op = "LayerNorm";

    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>y, and the per-sample mean and biased variance ([N] each); x is [N, size].</summary>
        public static (double[] Y, double[] Mean, double[] Var) Forward(double[] x, int n, int size, double[]? gamma, double[]? beta, double eps)
        {
            var y = new double[x.Length];
            var mean = new double[n];
            var variance = new double[n];
            for (int s = 0; s < n; s++)
            {
                (mean[s], variance[s]) = InstanceNorm2d.Reference.Moments(x, s * size, size);
                for (int j = 0; j < size; j++)
                {
                    int i = s * size + j;
                    y[i] = (gamma?[j] ?? 1) * (x[i] - mean[s]) / Math.Sqrt(variance[s] + eps) + (beta?[j] ?? 0);
                }
            }
            return (y, mean, variance);
        }

        /// <summary>Gradients by the chain rule through xhat, the variance, then the mean; dgamma, dbeta [size].</summary>
        public static (double[] Dx, double[] Dgamma, double[] Dbeta) Backward(double[] dy, double[] x, int n, int size, double[]? gamma, double eps)
        {
            var dx = new double[x.Length];
            var dgamma = new double[size];
            var dbeta = new double[size];
            for (int s = 0; s < n; s++)
            {
                var (mean, variance) = InstanceNorm2d.Reference.Moments(x, s * size, size);
                double std = Math.Sqrt(variance + eps), dvar = 0, dmean = 0, centeredSum = 0;
                for (int j = 0; j < size; j++)
                {
                    int i = s * size + j;
                    double dxhat = dy[i] * (gamma?[j] ?? 1);
                    dvar += dxhat * (x[i] - mean) * -0.5 * Math.Pow(variance + eps, -1.5);
                    dmean += -dxhat / std;
                    centeredSum += -2 * (x[i] - mean);
                    dgamma[j] += dy[i] * (x[i] - mean) / std;
                    dbeta[j] += dy[i];
                }
                dmean += dvar * centeredSum / size;
                for (int j = 0; j < size; j++)
                {
                    int i = s * size + j;
                    dx[i] = dy[i] * (gamma?[j] ?? 1) / std + dvar * 2 * (x[i] - mean) / size + dmean / size;
                }
            }
            return (dx, dgamma, dbeta);
        }
    }

    // ================================================================ tensor entry points

    /// <summary>y for x [N, ...] (at least 2 axes); gamma, beta of shape x.shape[1:] or null. Returns the per-sample mean and 1/sqrt(var + eps), [N].</summary>
    public static (Tensor Y, Tensor Mean, Tensor InvStd) Forward(Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        var layout = CheckInput(x, gamma, beta);
        var y = Tensor.EmptyLike(x);
        var mean = Tensor.Empty(x.Device, x.Dim(0));
        var invStd = Tensor.Empty(x.Device, x.Dim(0));
        Normalization.StatisticsAndNormalize(x, layout, mean, invStd, eps, gamma, beta, y);
        return (y, mean, invStd);
    }

    /// <summary><see cref="Forward"/> into given tensors: y like x (may be x), mean and invStd [N].</summary>
    public static void ForwardInto(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, float eps = 1e-5f)
    {
        var layout = CheckInput(x, gamma, beta);
        CheckStatistics(x, mean, invStd);
        Check.SameShape(Op, x, y);
        Check.SameDevice(Op, x, y, mean, invStd);
        Normalization.StatisticsAndNormalize(x, layout, mean, invStd, eps, gamma, beta, y);
    }

    /// <summary>Gradients through the per-sample statistics; dgamma, dbeta (shape x.shape[1:]) come back when gamma is given.</summary>
    public static (Tensor Dx, Tensor? Dgamma, Tensor? Dbeta) Backward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        var dx = Tensor.EmptyLike(x);
        var dgamma = gamma is null ? null : Tensor.Empty(x.Device, x.Shape[1..]);
        var dbeta = gamma is null ? null : Tensor.Empty(x.Device, x.Shape[1..]);
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
        return (dx, dgamma, dbeta);
    }

    /// <summary><see cref="Backward"/> into given tensors (dx may be dy); dgamma, dbeta each optional (without gamma they are the gradients at gamma = 1, beta = 0).</summary>
    public static void BackwardInto(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        Check.SameShape(Op, dx, x);
        Normalization.CheckOptional(Op, "dgamma", dgamma, x.Shape[1..]);
        Normalization.CheckOptional(Op, "dbeta", dbeta, x.Shape[1..]);
        Normalization.SameDevice(Op, x, dx, dgamma, dbeta);
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
    }

    // Every input is checked before anything is allocated, so a refused call leaks nothing.

    static NormLayout CheckInput(Tensor x, Tensor? gamma, Tensor? beta)
    {
        if (x.Rank < 2)
            throw new TensorShapeException($"{Op}: x must have a batch axis and at least one more, got shape {Shapes.Format(x.Shape)}");
        Check.NotEmpty(Op, "x", x);
        int n = x.Dim(0), size = x.Length / n;
        Normalization.CheckOptional(Op, "gamma", gamma, x.Shape[1..]);
        Normalization.CheckOptional(Op, "beta", beta, x.Shape[1..]);
        Normalization.SameDevice(Op, x, gamma, beta);
        return NormLayout.PerSample(n, size).WithAffine(size, perElement: true, gamma is not null, beta is not null);
    }

    static NormLayout CheckBackward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd)
    {
        var layout = CheckInput(x, gamma, null);
        Check.SameShape(Op, dy, x);
        CheckStatistics(x, mean, invStd);
        Normalization.SameDevice(Op, dy, x, mean, invStd);
        return layout;
    }

    static void CheckStatistics(Tensor x, Tensor mean, Tensor invStd)
    {
        Check.Shape(Op, "mean", mean, x.Dim(0));
        Check.Shape(Op, "invStd", invStd, x.Dim(0));
    }
}
