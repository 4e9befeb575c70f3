using System.Numerics.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The L2 norm of each sample, y[n] = sqrt(sum over every non-batch element of x[n, ...]² + eps): the norm
/// of the critic's input gradient in the WGAN-GP gradient penalty, (‖∇D(x̂)‖ - 1)².
///
/// <para>eps sits <i>inside</i> the square root: d sqrt(s)/ds is infinite at s = 0, so a sample whose gradient
/// is exactly zero would give NaN in the backward (pytorch#2421); with eps &gt; 0 the backward
/// dx = dy * x / y is finite everywhere (and exactly 0 where x is 0).</para>
///
/// <para>The forward is one reduction pass (rows of the sum of squares, finished with sqrt(s + eps)) so it
/// costs one launch; the backward is one elementwise launch.</para>
/// </summary>
public static class PerSampleL2Norm
{
    // ================================================================ scalar math

    /// <summary>dx = dy[n] * x / y[n], the backward of y = sqrt(Σ x² + eps).</summary>
    public static float BackwardElement(float dy, float x, float y) => dy * x / y;

    // ================================================================ float64 reference

    public static class Reference
    {
        public static double[] Forward(double[] x, int n, double eps)
        {
            int per = n == 0 ? 0 : x.Length / n;
            var y = new double[n];
            for (int s = 0; s < n; s++)
            {
                double sum = 0;
                for (int i = 0; i < per; i++) sum += x[s * per + i] * x[s * per + i];
                y[s] = Math.Sqrt(sum + eps);
            }
            return y;
        }

        public static double[] Backward(double[] dy, double[] x, double[] y)
        {
            int per = dy.Length == 0 ? 0 : x.Length / dy.Length;
            var dx = new double[x.Length];
            for (int i = 0; i < x.Length; i++) dx[i] = dy[i / per] * x[i] / y[i / per];
            return dx;
        }
    }

    // ================================================================ entry points

    /// <summary>y[n] = sqrt(Σ x[n, ...]² + eps), shape [N].</summary>
    public static Tensor Forward(Tensor x, float eps = 0f)
    {
        CheckInput(x);
        var y = Tensor.Empty(x.Device, x.Dim(0));
        ForwardInto(x, y, eps);
        return y;
    }

    public static void ForwardInto(Tensor x, Tensor y, float eps = 0f)
    {
        const string op = "PerSampleL2Norm.Forward";
        CheckInput(x);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, x.Dim(0));
        if (eps < 0f) throw new ArgumentOutOfRangeException(nameof(eps), $"{op}: eps must be >= 0, got {eps}");
        int n = x.Dim(0);
        Reduce.Pass(x, n, n == 0 ? 0 : x.Length / n, 1, Reduce.OpSumOfSquares, 1f, Reduce.FinishSqrt, eps, y);
    }

    /// <summary>dx = dy[n] * x / y[n], given the forward's input <paramref name="x"/> and output <paramref name="y"/>.</summary>
    public static Tensor Backward(Tensor dy, Tensor x, Tensor y)
    {
        var dx = Tensor.EmptyLike(x);
        BackwardInto(dy, x, y, dx);
        return dx;
    }

    public static void BackwardInto(Tensor dy, Tensor x, Tensor y, Tensor dx)
    {
        const string op = "PerSampleL2Norm.Backward";
        CheckInput(x);
        Check.SameDevice(op, dy, x, y, dx);
        Check.Shape(op, "dy", dy, x.Dim(0));
        Check.Shape(op, "y", y, x.Dim(0));
        Check.SameShape(op, x, dx);
        if (x.Length == 0) return;
        int per = x.Length / x.Dim(0);
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (da, dOff) = dy.CpuBuffer;
                var (xa, xOff) = x.CpuBuffer;
                var (ya, yOff) = y.CpuBuffer;
                var (ga, gOff) = dx.CpuBuffer;
                CpuParallel.For(cpu, x.Dim(0), (start, count) =>
                {
                    for (int s = start; s < start + count; s++)
                        TensorPrimitives.Multiply(xa.AsSpan(xOff + s * per, per), da[dOff + s] / ya[yOff + s], ga.AsSpan(gOff + s * per, per));
                }, grain: Math.Max(1, 32768 / per));
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(BackwardSpec)
                    (gpu.Stream, x.Length, dy.View, x.View, y.View, dx.View, per);
                break;
        }
    }

    static void CheckInput(Tensor x)
    {
        if (x.Rank < 1)
            throw new TensorShapeException($"PerSampleL2Norm: x needs a batch axis, got shape {Shapes.Format(x.Shape)}");
    }

    // ================================================================ GPU kernels
    // The forward runs Reduce.Rows (its finish step applies the square root); the backward is its own kernel.

    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("PerSampleL2Norm.Backward", typeof(PerSampleL2Norm), nameof(BackwardKernel));

    static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> y, ArrayView<float> dx, int per)
    {
        int s = i / per;
        dx[i] = BackwardElement(dy[s], x[i], y[s]);
    }
}
