namespace NativeGan;

/// <summary>
/// Instance normalisation of NCHW images (Ulyanov et al. 2016), PyTorch's <c>InstanceNorm2d</c> without
/// running statistics: each plane (n, c) is normalised with its own mean and biased variance over (H, W),
/// <c>y = gamma[c] * (x - mean[n,c]) / sqrt(var[n,c] + eps) + beta[c]</c>. A 1x1 plane has variance 0 and
/// gives y = beta (eps keeps it finite; PyTorch refuses such input in training, we allow it).
/// Kernels: <see cref="Normalization"/> with the grouping <see cref="NormLayout.PerPlane"/>.
/// </summary>
public static class InstanceNorm2d
{
    const string Op = "InstanceNorm2d";

    // ================================================================ float64 reference

    /// <summary>The textbook definition in float64: per-plane statistics, plain loops.</summary>
    public static class Reference
    {
        /// <summary>Mean and biased variance of the <paramref name="count"/> values from <paramref name="offset"/>.</summary>
        public static (double Mean, double Var) Moments(double[] x, int offset, int count)
        {
            double s = 0, q = 0;
            for (int k = 0; k < count; k++) s += x[offset + k];
            double mean = s / count;
            for (int k = 0; k < count; k++) q += (x[offset + k] - mean) * (x[offset + k] - mean);
            return (mean, q / count);
        }

        /// <summary>y, and the per-plane mean and biased variance ([N*C] each).</summary>
        public static (double[] Y, double[] Mean, double[] Var) Forward(double[] x, int n, int c, int h, int w,
            double[]? gamma, double[]? beta, double eps)
        {
            int plane = h * w;
            var y = new double[x.Length];
            var mean = new double[n * c];
            var variance = new double[n * c];
            for (int p = 0; p < n * c; p++)
            {
                (mean[p], variance[p]) = Moments(x, p * plane, plane);
                int ch = p % c;
                for (int k = 0; k < plane; k++)
                {
                    int i = p * plane + k;
                    y[i] = (gamma?[ch] ?? 1) * (x[i] - mean[p]) / Math.Sqrt(variance[p] + eps) + (beta?[ch] ?? 0);
                }
            }
            return (y, mean, variance);
        }

        /// <summary>
        /// Gradients of one group of <paramref name="count"/> values normalised together and scaled by
        /// <paramref name="gamma"/>, by the chain rule through xhat, the variance, then the mean
        /// (Ioffe and Szegedy's arrangement). Writes dx; returns sum(dy * xhat) and sum(dy).
        /// </summary>
        public static (double Dgamma, double Dbeta) GroupBackward(double[] dy, double[] x, int offset, int count,
            double gamma, double eps, double[] dx)
        {
            var (mean, variance) = Moments(x, offset, count);
            double std = Math.Sqrt(variance + eps), dvar = 0, dmean = 0, centeredSum = 0, dgamma = 0, dbeta = 0;
            for (int k = 0; k < count; k++)
            {
                int i = offset + k;
                double dxhat = dy[i] * gamma;
                dvar += dxhat * (x[i] - mean) * -0.5 * Math.Pow(variance + eps, -1.5);
                dmean += -dxhat / std;
                centeredSum += -2 * (x[i] - mean);
                dgamma += dy[i] * (x[i] - mean) / std;
                dbeta += dy[i];
            }
            dmean += dvar * centeredSum / count;
            for (int k = 0; k < count; k++)
            {
                int i = offset + k;
                dx[i] = dy[i] * gamma / std + dvar * 2 * (x[i] - mean) / count + dmean / count;
            }
            return (dgamma, dbeta);
        }

        public static (double[] Dx, double[] Dgamma, double[] Dbeta) Backward(double[] dy, double[] x, int n, int c, int h, int w,
            double[]? gamma, double eps)
        {
            int plane = h * w;
            var dx = new double[x.Length];
            var dgamma = new double[c];
            var dbeta = new double[c];
            for (int p = 0; p < n * c; p++)
            {
                var (dg, db) = GroupBackward(dy, x, p * plane, plane, gamma?[p % c] ?? 1, eps, dx);
                dgamma[p % c] += dg;
                dbeta[p % c] += db;
            }
            return (dx, dgamma, dbeta);
        }
    }

    // ================================================================ tensor entry points

    /// <summary>y for x [N, C, H, W]; gamma, beta [C] or null. Returns the per-plane mean and 1/sqrt(var + eps), [N*C].</summary>
    public static (Tensor Y, Tensor Mean, Tensor InvStd) Forward(Tensor x, Tensor? gamma = null, Tensor? beta = null, float eps = 1e-5f)
    {
        var layout = CheckInput(x, gamma, beta);
        var y = Tensor.EmptyLike(x);
        var mean = Tensor.Empty(x.Device, layout.Groups);
        var invStd = Tensor.Empty(x.Device, layout.Groups);
        Normalization.StatisticsAndNormalize(x, layout, mean, invStd, eps, gamma, beta, y);
        return (y, mean, invStd);
    }

    /// <summary><see cref="Forward"/> into given tensors: y like x (may be x), mean and invStd [N*C].</summary>
    public static void ForwardInto(Tensor x, Tensor? gamma, Tensor? beta, Tensor y, Tensor mean, Tensor invStd, float eps = 1e-5f)
    {
        var layout = CheckInput(x, gamma, beta);
        CheckStatistics(layout, mean, invStd);
        Check.SameShape(Op, x, y);
        Check.SameDevice(Op, x, y, mean, invStd);
        Normalization.StatisticsAndNormalize(x, layout, mean, invStd, eps, gamma, beta, y);
    }

    /// <summary>Gradients through the per-plane statistics; dgamma, dbeta [C] come back when gamma is given.</summary>
    public static (Tensor Dx, Tensor? Dgamma, Tensor? Dbeta) Backward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        var dx = Tensor.EmptyLike(x);
        var dgamma = gamma is null ? null : Tensor.Empty(x.Device, x.Dim(1));
        var dbeta = gamma is null ? null : Tensor.Empty(x.Device, x.Dim(1));
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
        return (dx, dgamma, dbeta);
    }

    /// <summary><see cref="Backward"/> into given tensors (dx may be dy); dgamma, dbeta [C] each optional (without gamma they are the gradients at gamma = 1, beta = 0).</summary>
    public static void BackwardInto(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        Check.SameShape(Op, dx, x);
        Normalization.CheckOptional(Op, "dgamma", dgamma, x.Dim(1));
        Normalization.CheckOptional(Op, "dbeta", dbeta, x.Dim(1));
        Normalization.SameDevice(Op, x, dx, dgamma, dbeta);
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
    }

    // Every input is checked before anything is allocated, so a refused call leaks nothing.

    static NormLayout CheckInput(Tensor x, Tensor? gamma, Tensor? beta)
    {
        Check.Rank(Op, "x", x, 4);
        Check.NotEmpty(Op, "x", x);
        int n = x.Dim(0), c = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        Normalization.CheckOptional(Op, "gamma", gamma, c);
        Normalization.CheckOptional(Op, "beta", beta, c);
        Normalization.SameDevice(Op, x, gamma, beta);
        return NormLayout.PerPlane(n, c, plane).WithAffine(c, perElement: false, gamma is not null, beta is not null);
    }

    static NormLayout CheckBackward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd)
    {
        var layout = CheckInput(x, gamma, null);
        Check.SameShape(Op, dy, x);
        CheckStatistics(layout, mean, invStd);
        Normalization.SameDevice(Op, dy, x, mean, invStd);
        return layout;
    }

    static void CheckStatistics(NormLayout layout, Tensor mean, Tensor invStd)
    {
        Check.Shape(Op, "mean", mean, layout.Groups);
        Check.Shape(Op, "invStd", invStd, layout.Groups);
    }
}
