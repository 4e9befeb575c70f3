using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Average pooling over k x k windows of an NCHW tensor, no padding: y[n, c, i, j] is the mean of
/// x[n, c, i*s .. i*s+k-1, j*s .. j*s+k-1], with Ho = (H - k) / s + 1 and Wo = (W - k) / s + 1 (rows or
/// columns left over at the bottom or right are not covered, as in PyTorch's floor mode).
///
/// <para>The backward spreads each dy evenly over its window: dx[h, w] = Σ over windows holding (h, w) of
/// dy / k². Both directions are <i>gathers</i> (one thread per output element reads what it needs), so
/// overlapping windows (s &lt; k) need no atomics. The kernels take the scale as a parameter: with scale 1 the
/// forward is a window sum and the backward is a replication, which is how <see cref="Upsample2d"/> runs
/// nearest-neighbour upsampling (the backward of 2x2 sum pooling) and its backward (2x2 sum pooling).</para>
/// </summary>
public static class AvgPool2d
{
    // ================================================================ scalar math

    /// <summary>Output size along one axis.</summary>
    public static int OutputSize(int input, int kernel, int stride) => input < kernel ? 0 : (input - kernel) / stride + 1;

    /// <summary>The first and last window (output index) that cover input index <paramref name="h"/>.</summary>
    public static (int First, int Last) Windows(int h, int kernel, int stride, int outputs)
    {
        int first = h < kernel ? 0 : (h - kernel) / stride + 1; // smallest o with o*s + k - 1 >= h
        int last = Math.Min(outputs - 1, h / stride);           // largest o with o*s <= h
        return (first, last);
    }

    // ================================================================ float64 reference

    public static class Reference
    {
        public static double[] Forward(double[] x, int[] shape, int kernel, int stride)
        {
            int planes = shape[0] * shape[1], h = shape[2], w = shape[3];
            int ho = OutputSize(h, kernel, stride), wo = OutputSize(w, kernel, stride);
            var y = new double[planes * ho * wo];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                    {
                        double s = 0;
                        for (int a = 0; a < kernel; a++)
                            for (int b = 0; b < kernel; b++)
                                s += x[(p * h + i * stride + a) * w + j * stride + b];
                        y[(p * ho + i) * wo + j] = s / (kernel * kernel);
                    }
            return y;
        }

        /// <summary>Scatters each dy / k² over its window (the textbook direction; the kernels gather instead).</summary>
        public static double[] Backward(double[] dy, int[] inputShape, int kernel, int stride)
        {
            int planes = inputShape[0] * inputShape[1], h = inputShape[2], w = inputShape[3];
            int ho = OutputSize(h, kernel, stride), wo = OutputSize(w, kernel, stride);
            var dx = new double[planes * h * w];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                        for (int a = 0; a < kernel; a++)
                            for (int b = 0; b < kernel; b++)
                                dx[(p * h + i * stride + a) * w + j * stride + b] += dy[(p * ho + i) * wo + j] / (kernel * kernel);
            return dx;
        }
    }

    // ================================================================ entry points

    /// <summary>Average pooling with a k x k window and stride <paramref name="stride"/> (default: k).</summary>
    public static Tensor Forward(Tensor x, int kernel, int stride = 0)
    {
        if (stride == 0) stride = kernel;
        CheckArgs("AvgPool2d.Forward", x, kernel, stride);
        var y = Tensor.Empty(x.Device, x.Dim(0), x.Dim(1), OutputSize(x.Dim(2), kernel, stride), OutputSize(x.Dim(3), kernel, stride));
        ForwardInto(x, y, kernel, stride);
        return y;
    }

    public static void ForwardInto(Tensor x, Tensor y, int kernel, int stride = 0)
    {
        if (stride == 0) stride = kernel;
        const string op = "AvgPool2d.Forward";
        CheckArgs(op, x, kernel, stride);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, x.Dim(0), x.Dim(1), OutputSize(x.Dim(2), kernel, stride), OutputSize(x.Dim(3), kernel, stride));
        WindowSum(x, y, kernel, stride, 1f / (kernel * kernel));
    }

    /// <summary>dx (of shape <paramref name="inputShape"/>) from dy.</summary>
    public static Tensor Backward(Tensor dy, int[] inputShape, int kernel, int stride = 0)
    {
        if (stride == 0) stride = kernel;
        var dx = Tensor.Empty(dy.Device, inputShape);
        BackwardInto(dy, dx, kernel, stride);
        return dx;
    }

    public static void BackwardInto(Tensor dy, Tensor dx, int kernel, int stride = 0)
    {
        if (stride == 0) stride = kernel;
        const string op = "AvgPool2d.Backward";
        CheckArgs(op, dx, kernel, stride);
        Check.SameDevice(op, dy, dx);
        Check.Shape(op, "dy", dy, dx.Dim(0), dx.Dim(1), OutputSize(dx.Dim(2), kernel, stride), OutputSize(dx.Dim(3), kernel, stride));
        WindowSpread(dy, dx, kernel, stride, 1f / (kernel * kernel));
    }

    static void CheckArgs(string op, Tensor x, int kernel, int stride)
    {
        Check.Rank(op, "the input", x, 4);
        if (kernel < 1 || stride < 1)
            throw new ArgumentOutOfRangeException(nameof(kernel), $"{op}: kernel and stride must be >= 1, got kernel {kernel}, stride {stride}");
        if (x.Dim(2) < kernel || x.Dim(3) < kernel)
            throw new TensorShapeException($"{op}: a {kernel}x{kernel} window does not fit the input {Shapes.Format(x.Shape)}");
    }

    // ================================================================ shared kernels (also used by Upsample2d)

    /// <summary>y = scale * (sum over each window of x); y is (N, C, Ho, Wo).</summary>
    internal static void WindowSum(Tensor x, Tensor y, int kernel, int stride, float scale)
    {
        if (y.Length == 0) return;
        var g = new PoolArgs(x.Dim(2), x.Dim(3), y.Dim(2), y.Dim(3), kernel, stride, scale);
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ya, yo) = y.CpuBuffer;
                CpuParallel.For(cpu, y.Length, (start, count) =>
                {
                    for (int i = start; i < start + count; i++) ya[yo + i] = WindowSumAt(i, xa.AsSpan(xo), g);
                }, grain: 8192);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>>(ForwardSpec)
                    (gpu.Stream, y.Length, x.View, y.View, g);
                break;
        }
    }

    /// <summary>dx = scale * (sum of dy over the windows holding each input element); dx is (N, C, H, W).</summary>
    internal static void WindowSpread(Tensor dy, Tensor dx, int kernel, int stride, float scale)
    {
        if (dx.Length == 0) return;
        var g = new PoolArgs(dx.Dim(2), dx.Dim(3), dy.Dim(2), dy.Dim(3), kernel, stride, scale);
        switch (dx.Device)
        {
            case CpuDevice cpu:
                var (da, dOff) = dy.CpuBuffer;
                var (xa, xOff) = dx.CpuBuffer;
                CpuParallel.For(cpu, dx.Length, (start, count) =>
                {
                    for (int i = start; i < start + count; i++) xa[xOff + i] = WindowSpreadAt(i, da.AsSpan(dOff), g);
                }, grain: 8192);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PoolArgs>>(BackwardSpec)
                    (gpu.Stream, dx.Length, dy.View, dx.View, g);
                break;
        }
    }

    /// <summary>Output element <paramref name="i"/> (flat over N, C, Ho, Wo) of the scaled window sum.</summary>
    static float WindowSumAt(int i, ReadOnlySpan<float> x, PoolArgs g)
    {
        int j = i % g.Wo, rest = i / g.Wo, oi = rest % g.Ho, plane = rest / g.Ho;
        int row0 = plane * g.H + oi * g.Stride, col0 = j * g.Stride;
        float s = 0f;
        for (int a = 0; a < g.Kernel; a++)
            for (int b = 0; b < g.Kernel; b++)
                s += x[(row0 + a) * g.W + col0 + b];
        return s * g.Scale;
    }

    /// <summary>Input element <paramref name="i"/> (flat over N, C, H, W): the scaled sum of the dy of the windows holding it.</summary>
    static float WindowSpreadAt(int i, ReadOnlySpan<float> dy, PoolArgs g)
    {
        int w = i % g.W, rest = i / g.W, h = rest % g.H, plane = rest / g.H;
        var (i0, i1) = Windows(h, g.Kernel, g.Stride, g.Ho);
        var (j0, j1) = Windows(w, g.Kernel, g.Stride, g.Wo);
        float s = 0f;
        for (int oi = i0; oi <= i1; oi++)
            for (int oj = j0; oj <= j1; oj++)
                s += dy[(plane * g.Ho + oi) * g.Wo + oj];
        return s * g.Scale;
    }

    // ================================================================ GPU kernels

    internal static readonly KernelSpec ForwardSpec = KernelSpec.Implicit("AvgPool2d.Forward", typeof(AvgPool2d), nameof(ForwardKernel));
    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("AvgPool2d.Backward", typeof(AvgPool2d), nameof(BackwardKernel));

    // Spans cannot cross into a kernel, so the GPU versions repeat the index arithmetic on views.
    static void ForwardKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, PoolArgs g)
    {
        int j = i % g.Wo, rest = i / g.Wo, oi = rest % g.Ho, plane = rest / g.Ho;
        int row0 = plane * g.H + oi * g.Stride, col0 = j * g.Stride;
        float s = 0f;
        for (int a = 0; a < g.Kernel; a++)
            for (int b = 0; b < g.Kernel; b++)
                s += x[(row0 + a) * g.W + col0 + b];
        y[i] = s * g.Scale;
    }

    static void BackwardKernel(Index1D i, ArrayView<float> dy, ArrayView<float> dx, PoolArgs g)
    {
        int w = i % g.W, rest = i / g.W, h = rest % g.H, plane = rest / g.H;
        var (i0, i1) = Windows(h, g.Kernel, g.Stride, g.Ho);
        var (j0, j1) = Windows(w, g.Kernel, g.Stride, g.Wo);
        float s = 0f;
        for (int oi = i0; oi <= i1; oi++)
            for (int oj = j0; oj <= j1; oj++)
                s += dy[(plane * g.Ho + oi) * g.Wo + oj];
        dx[i] = s * g.Scale;
    }
}

/// <summary>Sizes of a pooling launch: input H x W, output Ho x Wo, window, stride and the scale applied to each sum.</summary>
public readonly struct PoolArgs(int h, int w, int ho, int wo, int kernel, int stride, float scale)
{
    public readonly int H = h, W = w, Ho = ho, Wo = wo, Kernel = kernel, Stride = stride;
    public readonly float Scale = scale;
}
