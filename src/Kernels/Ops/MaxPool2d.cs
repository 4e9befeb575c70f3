using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Max pooling over k x k windows of an NCHW tensor with stride s and zero-size padding p on every side (padded
/// positions never win: they count as minus infinity, as in PyTorch and ONNX): y[n, c, i, j] is the maximum of
/// x[n, c, i*s - p + a, j*s - p + b] over the window positions inside x, Ho = (H + 2p - k) / s + 1 (floor mode).
/// Ties go to the first position in row-major window order, as in PyTorch.
///
/// <para>Written as two gathers on the argmax of a window, so no index tensor is kept and nothing needs atomics:
/// <see cref="Select"/> y[o] = v[argmax over window o of x] (the forward is Select(x, x)), and
/// <see cref="Spread"/> dx[i] = the sum of dy[o] over the windows o whose argmax is i. Both are linear in their
/// second argument and each is the other's adjoint, so the backward of either is the other and gradients of
/// gradients need no third kernel (the argmax itself is piecewise constant in x: no gradient flows through it).</para>
/// </summary>
public static class MaxPool2d
{
    // ================================================================ scalar math

    /// <summary>Output size along one axis (floor mode); 0 when the padded input is smaller than the window.</summary>
    public static int OutputSize(int input, int kernel, int stride, int padding)
        => input + 2 * padding < kernel ? 0 : (input + 2 * padding - kernel) / stride + 1;

    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>The flat input index (within its plane) of window (i, j)'s first maximum.</summary>
        static int Argmax(double[] x, int planeOffset, int h, int w, int i, int j, int k, int s, int p)
        {
            int best = -1;
            double bestValue = double.NegativeInfinity;
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++)
                {
                    int r = i * s - p + a, c = j * s - p + b;
                    if (r < 0 || r >= h || c < 0 || c >= w) continue;
                    double v = x[planeOffset + r * w + c];
                    if (best < 0 || v > bestValue) { best = r * w + c; bestValue = v; }
                }
            return best;
        }

        /// <summary>y[o] = x[argmax of window o].</summary>
        public static double[] Forward(double[] x, int[] shape, int kernel, int stride, int padding) => Select(x, x, shape, kernel, stride, padding);

        /// <summary>y[o] = v[argmax over window o of x] (v shaped like x).</summary>
        public static double[] Select(double[] x, double[] v, int[] shape, int kernel, int stride, int padding)
        {
            int planes = shape[0] * shape[1], h = shape[2], w = shape[3];
            int ho = OutputSize(h, kernel, stride, padding), wo = OutputSize(w, kernel, stride, padding);
            var y = new double[planes * ho * wo];
            for (int pl = 0; pl < planes; pl++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                        y[(pl * ho + i) * wo + j] = v[pl * h * w + Argmax(x, pl * h * w, h, w, i, j, kernel, stride, padding)];
            return y;
        }

        /// <summary>Scatters each dy[o] onto the argmax of window o (the textbook direction; the kernels gather).</summary>
        public static double[] Spread(double[] x, double[] dy, int[] shape, int kernel, int stride, int padding)
        {
            int planes = shape[0] * shape[1], h = shape[2], w = shape[3];
            int ho = OutputSize(h, kernel, stride, padding), wo = OutputSize(w, kernel, stride, padding);
            var dx = new double[x.Length];
            for (int pl = 0; pl < planes; pl++)
                for (int i = 0; i < ho; i++)
                    for (int j = 0; j < wo; j++)
                        dx[pl * h * w + Argmax(x, pl * h * w, h, w, i, j, kernel, stride, padding)] += dy[(pl * ho + i) * wo + j];
            return dx;
        }
    }

    // ================================================================ entry points

    /// <summary>Max pooling: [N, C, H, W] to [N, C, Ho, Wo].</summary>
    public static Tensor Forward(Tensor x, int kernel, int stride, int padding) => Select(x, x, kernel, stride, padding);

    /// <summary>y[o] = v[argmax over window o of x]: <paramref name="v"/> is shaped like <paramref name="x"/>.</summary>
    public static Tensor Select(Tensor x, Tensor v, int kernel, int stride, int padding)
    {
        CheckArgs("MaxPool2d.Select", x, kernel, stride, padding);
        var y = Tensor.Empty(x.Device, OutputShape(x.Shape, kernel, stride, padding));
        try { SelectInto(x, v, y, kernel, stride, padding); }
        catch { y.Dispose(); throw; }
        return y;
    }

    public static void SelectInto(Tensor x, Tensor v, Tensor y, int kernel, int stride, int padding)
    {
        const string op = "MaxPool2d.Select";
        CheckArgs(op, x, kernel, stride, padding);
        Check.SameDevice(op, x, v, y);
        Check.SameShape(op, x, v);
        Check.Shape(op, "y", y, OutputShape(x.Shape, kernel, stride, padding));
        if (y.Length == 0) return;
        var g = Geometry(x.Shape, kernel, stride, padding);
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (va, vo) = v.CpuBuffer;
                var (ya, yo) = y.CpuBuffer;
                CpuParallel.For(cpu, y.Length, (start, count) =>
                {
                    for (int o = start; o < start + count; o++)
                    {
                        int plane = o / (g.Ho * g.Wo);
                        ya[yo + o] = va[vo + plane * g.H * g.W + ArgmaxAt(o, xa.AsSpan(xo), g)];
                    }
                }, grain: 4096);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, MaxPoolArgs>>(SelectSpec)
                    (gpu.Stream, y.Length, x.View, v.View, y.View, g);
                break;
        }
    }

    /// <summary>dx (shaped like <paramref name="x"/>): each dy[o] summed onto the argmax of window o.</summary>
    public static Tensor Spread(Tensor x, Tensor dy, int kernel, int stride, int padding)
    {
        var dx = Tensor.Empty(x.Device, x.Shape);
        try { SpreadInto(x, dy, dx, kernel, stride, padding); }
        catch { dx.Dispose(); throw; }
        return dx;
    }

    public static void SpreadInto(Tensor x, Tensor dy, Tensor dx, int kernel, int stride, int padding)
    {
        const string op = "MaxPool2d.Spread";
        CheckArgs(op, x, kernel, stride, padding);
        Check.SameDevice(op, x, dy, dx);
        Check.SameShape(op, x, dx);
        Check.Shape(op, "dy", dy, OutputShape(x.Shape, kernel, stride, padding));
        if (dx.Length == 0) return;
        var g = Geometry(x.Shape, kernel, stride, padding);
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (da, dOff) = dy.CpuBuffer;
                var (ra, ro) = dx.CpuBuffer;
                CpuParallel.For(cpu, dx.Length, (start, count) =>
                {
                    for (int i = start; i < start + count; i++) ra[ro + i] = SpreadAt(i, xa.AsSpan(xo), da.AsSpan(dOff), g);
                }, grain: 4096);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, MaxPoolArgs>>(SpreadSpec)
                    (gpu.Stream, dx.Length, x.View, dy.View, dx.View, g);
                break;
        }
    }

    /// <summary>[N, C, Ho, Wo] for an input of <paramref name="shape"/>.</summary>
    public static int[] OutputShape(int[] shape, int kernel, int stride, int padding)
        => [shape[0], shape[1], OutputSize(shape[2], kernel, stride, padding), OutputSize(shape[3], kernel, stride, padding)];

    static MaxPoolArgs Geometry(int[] shape, int kernel, int stride, int padding)
        => new(shape[2], shape[3], OutputSize(shape[2], kernel, stride, padding), OutputSize(shape[3], kernel, stride, padding), kernel, stride, padding);

    static void CheckArgs(string op, Tensor x, int kernel, int stride, int padding)
    {
        Check.Rank(op, "the input", x, 4);
        if (kernel < 1 || stride < 1 || padding < 0)
            throw new ArgumentOutOfRangeException(nameof(kernel), $"{op}: kernel and stride must be >= 1 and padding >= 0, got kernel {kernel}, stride {stride}, padding {padding}");
        // A window made of padding alone would have no maximum (PyTorch and ONNX refuse it the same way).
        if (2 * padding > kernel)
            throw new ArgumentOutOfRangeException(nameof(padding), $"{op}: padding {padding} must be at most half the kernel {kernel}");
        if (x.Dim(2) + 2 * padding < kernel || x.Dim(3) + 2 * padding < kernel)
            throw new TensorShapeException($"{op}: a {kernel}x{kernel} window (padding {padding}) does not fit the input {Shapes.Format(x.Shape)}");
    }

    // ================================================================ the argmax (one function for the CPU and the GPU)

    /// <summary>The in-plane flat index of the first maximum of x's window under output element o (flat over N, C, Ho, Wo).</summary>
    static int ArgmaxAt(int o, ReadOnlySpan<float> x, MaxPoolArgs g)
    {
        int j = o % g.Wo, rest = o / g.Wo, i = rest % g.Ho, plane = rest / g.Ho;
        int baseIndex = plane * g.H * g.W, best = -1;
        float bestValue = 0f;
        for (int a = 0; a < g.Kernel; a++)
        {
            int r = i * g.Stride - g.Padding + a;
            if (r < 0 || r >= g.H) continue;
            for (int b = 0; b < g.Kernel; b++)
            {
                int c = j * g.Stride - g.Padding + b;
                if (c < 0 || c >= g.W) continue;
                float v = x[baseIndex + r * g.W + c];
                if (best < 0 || v > bestValue) { best = r * g.W + c; bestValue = v; }
            }
        }
        return best;
    }

    /// <summary>Input element i: the sum of dy over the windows holding i whose argmax is i.</summary>
    static float SpreadAt(int i, ReadOnlySpan<float> x, ReadOnlySpan<float> dy, MaxPoolArgs g)
    {
        int w = i % g.W, rest = i / g.W, h = rest % g.H, plane = rest / g.H;
        int inPlane = h * g.W + w;
        // Windows oi with oi*s - p <= h <= oi*s - p + k - 1.
        int i0 = Math.Max(0, CeilDiv(h + g.Padding - g.Kernel + 1, g.Stride)), i1 = Math.Min(g.Ho - 1, (h + g.Padding) / g.Stride);
        int j0 = Math.Max(0, CeilDiv(w + g.Padding - g.Kernel + 1, g.Stride)), j1 = Math.Min(g.Wo - 1, (w + g.Padding) / g.Stride);
        float s = 0f;
        for (int oi = i0; oi <= i1; oi++)
            for (int oj = j0; oj <= j1; oj++)
            {
                int o = (plane * g.Ho + oi) * g.Wo + oj;
                if (ArgmaxAt(o, x, g) == inPlane) s += dy[o];
            }
        return s;
    }

    /// <summary>ceil(a / b) for b > 0 and any sign of a.</summary>
    static int CeilDiv(int a, int b) => a >= 0 ? (a + b - 1) / b : -(-a / b);

    // ================================================================ GPU kernels

    internal static readonly KernelSpec SelectSpec = KernelSpec.Implicit("MaxPool2d.Select", typeof(MaxPool2d), nameof(SelectKernel));
    internal static readonly KernelSpec SpreadSpec = KernelSpec.Implicit("MaxPool2d.Spread", typeof(MaxPool2d), nameof(SpreadKernel));

    // Spans cannot cross into a kernel, so the GPU versions repeat the argmax on views.
    static int ArgmaxAtView(int o, ArrayView<float> x, MaxPoolArgs g)
    {
        int j = o % g.Wo, rest = o / g.Wo, i = rest % g.Ho, plane = rest / g.Ho;
        int baseIndex = plane * g.H * g.W, best = -1;
        float bestValue = 0f;
        for (int a = 0; a < g.Kernel; a++)
        {
            int r = i * g.Stride - g.Padding + a;
            if (r < 0 || r >= g.H) continue;
            for (int b = 0; b < g.Kernel; b++)
            {
                int c = j * g.Stride - g.Padding + b;
                if (c < 0 || c >= g.W) continue;
                float v = x[baseIndex + r * g.W + c];
                if (best < 0 || v > bestValue) { best = r * g.W + c; bestValue = v; }
            }
        }
        return best;
    }

    static void SelectKernel(Index1D o, ArrayView<float> x, ArrayView<float> v, ArrayView<float> y, MaxPoolArgs g)
    {
        int plane = o / (g.Ho * g.Wo);
        y[o] = v[plane * g.H * g.W + ArgmaxAtView(o, x, g)];
    }

    static void SpreadKernel(Index1D i, ArrayView<float> x, ArrayView<float> dy, ArrayView<float> dx, MaxPoolArgs g)
    {
        int w = i % g.W, rest = i / g.W, h = rest % g.H, plane = rest / g.H;
        int inPlane = h * g.W + w;
        int i0 = Math.Max(0, CeilDiv(h + g.Padding - g.Kernel + 1, g.Stride)), i1 = Math.Min(g.Ho - 1, (h + g.Padding) / g.Stride);
        int j0 = Math.Max(0, CeilDiv(w + g.Padding - g.Kernel + 1, g.Stride)), j1 = Math.Min(g.Wo - 1, (w + g.Padding) / g.Stride);
        float s = 0f;
        for (int oi = i0; oi <= i1; oi++)
            for (int oj = j0; oj <= j1; oj++)
            {
                int o = (plane * g.Ho + oi) * g.Wo + oj;
                if (ArgmaxAtView(o, x, g) == inPlane) s += dy[o];
            }
        dx[i] = s;
    }
}

/// <summary>Sizes of a max-pooling launch: input H x W, output Ho x Wo, window, stride and padding.</summary>
public readonly struct MaxPoolArgs(int h, int w, int ho, int wo, int kernel, int stride, int padding)
{
    public readonly int H = h, W = w, Ho = ho, Wo = wo, Kernel = kernel, Stride = stride, Padding = padding;
}
