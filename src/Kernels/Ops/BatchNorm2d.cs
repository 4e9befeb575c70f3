using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Batch normalisation of NCHW images (Ioffe and Szegedy 2015), PyTorch's <c>BatchNorm2d</c> semantics:
/// each channel c is normalised with the mean and the biased variance over (N, H, W),
/// <c>y = gamma[c] * (x - mean[c]) / sqrt(var[c] + eps) + beta[c]</c>. In training the batch statistics
/// are used and the running statistics move towards them,
/// <c>running = (1 - momentum) * running + momentum * batch</c> (the unbiased batch variance for
/// runningVar); in evaluation the running statistics are used. The kernels are shared with the other
/// normalisations (<see cref="Normalization"/>, grouping <see cref="NormLayout.PerChannel"/>); each entry point takes
/// their <see cref="NormVariant"/> (default: the measured best; v2, the cpu's column kernels, for [N, C, 1, 1]).
/// </summary>
public static class BatchNorm2d
{
    const string Op = "BatchNorm2d";

    // ================================================================ float64 reference

    /// <summary>The textbook definition in float64, plain loops over (n, c, h, w).</summary>
    public static class Reference
    {
        /// <summary>Training mode: the batch mean and the biased batch variance per channel, and y.</summary>
        public static (double[] Y, double[] Mean, double[] Var) Forward(double[] x, int n, int c, int h, int w,
            double[]? gamma, double[]? beta, double eps)
        {
            var mean = new double[c];
            var variance = new double[c];
            int m = n * h * w;
            for (int ch = 0; ch < c; ch++)
            {
                double s = 0;
                for (int b = 0; b < n; b++)
                    for (int k = 0; k < h * w; k++) s += x[(b * c + ch) * h * w + k];
                mean[ch] = s / m;
                double q = 0;
                for (int b = 0; b < n; b++)
                    for (int k = 0; k < h * w; k++) q += Math.Pow(x[(b * c + ch) * h * w + k] - mean[ch], 2);
                variance[ch] = q / m;
            }
            return (Apply(x, n, c, h, w, gamma, beta, mean, variance, eps), mean, variance);
        }

        /// <summary>Evaluation mode: y with the given (running) statistics.</summary>
        public static double[] Apply(double[] x, int n, int c, int h, int w, double[]? gamma, double[]? beta,
            double[] mean, double[] variance, double eps)
        {
            var y = new double[x.Length];
            for (int b = 0; b < n; b++)
                for (int ch = 0; ch < c; ch++)
                    for (int k = 0; k < h * w; k++)
                    {
                        int i = (b * c + ch) * h * w + k;
                        y[i] = (gamma?[ch] ?? 1) * (x[i] - mean[ch]) / Math.Sqrt(variance[ch] + eps) + (beta?[ch] ?? 0);
                    }
            return y;
        }

        /// <summary>The running statistics after one training step on a batch with these statistics over m values each.</summary>
        public static (double[] Mean, double[] Var) UpdateRunning(double[] runningMean, double[] runningVar,
            double[] batchMean, double[] batchVar, int m, double momentum)
        {
            var rm = new double[runningMean.Length];
            var rv = new double[runningVar.Length];
            for (int ch = 0; ch < rm.Length; ch++)
            {
                rm[ch] = (1 - momentum) * runningMean[ch] + momentum * batchMean[ch];
                rv[ch] = (1 - momentum) * runningVar[ch] + momentum * batchVar[ch] * m / (m - 1);
            }
            return (rm, rv);
        }

        /// <summary>
        /// The training-mode gradients by the chain rule as Ioffe and Szegedy write it: through xhat, the
        /// variance, then the mean (a different arrangement from the kernels' two-sum formula, on purpose).
        /// </summary>
        public static (double[] Dx, double[] Dgamma, double[] Dbeta) Backward(double[] dy, double[] x, int n, int c, int h, int w,
            double[]? gamma, double eps)
        {
            var (_, mean, variance) = Forward(x, n, c, h, w, null, null, eps);
            var dx = new double[x.Length];
            var dgamma = new double[c];
            var dbeta = new double[c];
            int m = n * h * w;
            for (int ch = 0; ch < c; ch++)
            {
                double std = Math.Sqrt(variance[ch] + eps), dvar = 0, dmean = 0, centeredSum = 0;
                for (int b = 0; b < n; b++)
                    for (int k = 0; k < h * w; k++)
                    {
                        int i = (b * c + ch) * h * w + k;
                        double dxhat = dy[i] * (gamma?[ch] ?? 1);
                        dvar += dxhat * (x[i] - mean[ch]) * -0.5 * Math.Pow(variance[ch] + eps, -1.5);
                        dmean += -dxhat / std;
                        centeredSum += -2 * (x[i] - mean[ch]);
                        dgamma[ch] += dy[i] * (x[i] - mean[ch]) / std;
                        dbeta[ch] += dy[i];
                    }
                dmean += dvar * centeredSum / m;
                for (int b = 0; b < n; b++)
                    for (int k = 0; k < h * w; k++)
                    {
                        int i = (b * c + ch) * h * w + k;
                        dx[i] = dy[i] * (gamma?[ch] ?? 1) / std + dvar * 2 * (x[i] - mean[ch]) / m + dmean / m;
                    }
            }
            return (dx, dgamma, dbeta);
        }
    }

    // ================================================================ tensor entry points

    /// <summary>
    /// y for x [N, C, H, W]; gamma, beta [C] or null (no affine); runningMean, runningVar [C] or null (no
    /// running statistics: then training must be true). Returns the statistics used (mean and
    /// 1/sqrt(var + eps) per channel), which <see cref="Backward"/> takes.
    /// </summary>
    public static (Tensor Y, Tensor Mean, Tensor InvStd) Forward(Tensor x, Tensor? gamma, Tensor? beta,
        Tensor? runningMean, Tensor? runningVar, bool training, float momentum = 0.1f, float eps = 1e-5f,
        NormVariant variant = NormVariant.Default)
    {
        var layout = CheckForward(x, gamma, beta, runningMean, runningVar, training);
        Normalization.CheckVariant(Op, x.Device, layout, variant);
        var y = Tensor.EmptyLike(x);
        var mean = Tensor.Empty(x.Device, x.Dim(1));
        var invStd = Tensor.Empty(x.Device, x.Dim(1));
        RunForward(x, layout, gamma, beta, runningMean, runningVar, training, y, mean, invStd, momentum, eps, variant);
        return (y, mean, invStd);
    }

    /// <summary><see cref="Forward"/> into given tensors: y like x (may be x), mean and invStd [C].</summary>
    public static void ForwardInto(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar, bool training,
        Tensor y, Tensor mean, Tensor invStd, float momentum = 0.1f, float eps = 1e-5f, NormVariant variant = NormVariant.Default)
    {
        var layout = CheckForward(x, gamma, beta, runningMean, runningVar, training);
        CheckStatistics(x, mean, invStd);
        Check.SameShape(Op, x, y);
        Check.SameDevice(Op, x, y, mean, invStd);
        Normalization.CheckVariant(Op, x.Device, layout, variant);
        RunForward(x, layout, gamma, beta, runningMean, runningVar, training, y, mean, invStd, momentum, eps, variant);
    }

    /// <summary>
    /// Training-mode gradients through the batch statistics. x, mean and invStd are the forward's; dgamma
    /// and dbeta come back when gamma is given (an affine layer), else null.
    /// </summary>
    public static (Tensor Dx, Tensor? Dgamma, Tensor? Dbeta) Backward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd,
        NormVariant variant = NormVariant.Default)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        Normalization.CheckVariant(Op, x.Device, layout, variant);
        var dx = Tensor.EmptyLike(x);
        var dgamma = gamma is null ? null : Tensor.Empty(x.Device, x.Dim(1));
        var dbeta = gamma is null ? null : Tensor.Empty(x.Device, x.Dim(1));
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta, variant);
        return (dx, dgamma, dbeta);
    }

    /// <summary><see cref="Backward"/> into given tensors (dx may be dy); dgamma, dbeta [C] each optional (without gamma they are the gradients at gamma = 1, beta = 0).</summary>
    public static void BackwardInto(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd, Tensor dx, Tensor? dgamma, Tensor? dbeta,
        NormVariant variant = NormVariant.Default)
    {
        var layout = CheckBackward(dy, x, gamma, mean, invStd);
        Check.SameShape(Op, dx, x);
        Normalization.CheckOptional(Op, "dgamma", dgamma, x.Dim(1));
        Normalization.CheckOptional(Op, "dbeta", dbeta, x.Dim(1));
        Normalization.SameDevice(Op, x, dx, dgamma, dbeta);
        Normalization.CheckVariant(Op, x.Device, layout, variant);
        Normalization.Backward(dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta, variant);
    }

    static void RunForward(Tensor x, NormLayout layout, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar,
        bool training, Tensor y, Tensor mean, Tensor invStd, float momentum, float eps, NormVariant variant)
    {
        if (training)
        {
            Normalization.StatisticsAndNormalize(x, layout, mean, invStd, eps, gamma, beta, y, runningMean, runningVar, momentum, variant);
            return;
        }
        EvalStatistics(runningMean!, runningVar!, mean, invStd, eps);
        Normalization.Normalize(x, layout, mean, invStd, gamma, beta, y, variant);
    }

    // Every input is checked before anything is allocated, so a refused call leaks nothing.

    static NormLayout CheckForward(Tensor x, Tensor? gamma, Tensor? beta, Tensor? runningMean, Tensor? runningVar, bool training)
    {
        var layout = CheckInput(x, gamma, beta);
        int c = x.Dim(1);
        Normalization.CheckOptional(Op, "runningMean", runningMean, c);
        Normalization.CheckOptional(Op, "runningVar", runningVar, c);
        Normalization.SameDevice(Op, x, gamma, beta, runningMean, runningVar);
        if ((runningMean is null) != (runningVar is null))
            throw new ArgumentException($"{Op}: give both runningMean and runningVar, or neither");
        if (training && layout.Count < 2)
            throw new TensorShapeException($"{Op}: expected more than 1 value per channel when training, got input of shape {Shapes.Format(x.Shape)}");
        if (!training && runningMean is null)
            throw new ArgumentException($"{Op}: evaluation mode needs runningMean and runningVar (x {Shapes.Format(x.Shape)})");
        return layout;
    }

    static NormLayout CheckBackward(Tensor dy, Tensor x, Tensor? gamma, Tensor mean, Tensor invStd)
    {
        var layout = CheckInput(x, gamma, null);
        Check.SameShape(Op, dy, x);
        CheckStatistics(x, mean, invStd);
        Normalization.SameDevice(Op, dy, x, gamma, mean, invStd);
        return layout;
    }

    static NormLayout CheckInput(Tensor x, Tensor? gamma, Tensor? beta)
    {
        Check.Rank(Op, "x", x, 4);
        Check.NotEmpty(Op, "x", x);
        int n = x.Dim(0), c = x.Dim(1), plane = x.Dim(2) * x.Dim(3);
        Normalization.CheckOptional(Op, "gamma", gamma, c);
        Normalization.CheckOptional(Op, "beta", beta, c);
        return NormLayout.PerChannel(n, c, plane).WithAffine(c, perElement: false, gamma is not null, beta is not null);
    }

    static void CheckStatistics(Tensor x, Tensor mean, Tensor invStd)
    {
        Check.Shape(Op, "mean", mean, x.Dim(1));
        Check.Shape(Op, "invStd", invStd, x.Dim(1));
    }

    // ================================================================ evaluation statistics

    /// <summary>mean = runningMean, invStd = 1/sqrt(runningVar + eps).</summary>
    static void EvalStatistics(Tensor runningMean, Tensor runningVar, Tensor mean, Tensor invStd, float eps)
    {
        switch (mean.Device)
        {
            case CpuDevice:
                runningMean.AsSpan().CopyTo(mean.AsSpan());
                var rv = runningVar.AsSpan();
                var s = invStd.AsSpan();
                for (int i = 0; i < s.Length; i++) s[i] = 1f / MathF.Sqrt(rv[i] + eps);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, float>>(EvalStatisticsSpec)
                    (gpu.Stream, mean.Length, runningMean.View, runningVar.View, mean.View, invStd.View, eps);
                break;
        }
    }

    internal static readonly KernelSpec EvalStatisticsSpec = KernelSpec.Implicit("BatchNorm2d.EvalStatistics", typeof(BatchNorm2d), nameof(EvalStatisticsKernel), hot: true);

    static void EvalStatisticsKernel(Index1D c, ArrayView<float> runningMean, ArrayView<float> runningVar,
        ArrayView<float> mean, ArrayView<float> invStd, float eps)
    {
        mean[c] = runningMean[c];
        invStd[c] = 1f / MathF.Sqrt(runningVar[c] + eps);
    }
}
