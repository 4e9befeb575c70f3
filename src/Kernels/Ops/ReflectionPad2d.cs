using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Reflection padding of NCHW tensors by <c>p</c> pixels on every side (PyTorch's ReflectionPad2d with one size):
/// y [N, C, H + 2p, W + 2p], y[i, j] = x[r(i - p, H), r(j - p, W)] with r(k, n) = |k| mirrored at both ends
/// (-1 -> 1, n -> n - 2), so the border repeats the image's own pixels, not zeros. Style-transfer decoders pad this
/// way (AdaIN's) because zero padding draws a dark frame.
///
/// <para>The backward adds each dy pixel into the x pixel it copied. Written as a gather, so that no two threads
/// add into one place (deterministic, no atomics): input row r was copied to output row r + p, and also to p - r when
/// 1 &lt;= r &lt;= p (the top mirror) and to p + 2(H - 1) - r when H - 1 - p &lt;= r &lt;= H - 2 (the bottom one); the
/// same for columns, so each dx pixel sums at most 3 x 3 dy pixels. Padding needs p &lt; H and p &lt; W, as PyTorch.</para>
/// </summary>
public static class ReflectionPad2d
{
    // ================================================================ float64 reference

    public static class Reference
    {
        static int Mirror(int k, int n) => k < 0 ? -k : k >= n ? 2 * (n - 1) - k : k;

        public static double[] Forward(double[] x, int[] shape, int pad)
        {
            int planes = shape[0] * shape[1], h = shape[2], w = shape[3], oh = h + 2 * pad, ow = w + 2 * pad;
            var y = new double[planes * oh * ow];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        y[(p * oh + i) * ow + j] = x[(p * h + Mirror(i - pad, h)) * w + Mirror(j - pad, w)];
            return y;
        }

        /// <summary>The adjoint, as a scatter (the kernels gather): dx[source of y[i, j]] += dy[i, j].</summary>
        public static double[] Backward(double[] dy, int[] inputShape, int pad)
        {
            int planes = inputShape[0] * inputShape[1], h = inputShape[2], w = inputShape[3], oh = h + 2 * pad, ow = w + 2 * pad;
            var dx = new double[planes * h * w];
            for (int p = 0; p < planes; p++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                        dx[(p * h + Mirror(i - pad, h)) * w + Mirror(j - pad, w)] += dy[(p * oh + i) * ow + j];
            return dx;
        }
    }

    // ================================================================ entry points

    /// <summary>[N, C, H, W] to [N, C, H + 2 pad, W + 2 pad] (0 &lt;= pad &lt; H, W).</summary>
    public static Tensor Forward(Tensor x, int pad)
    {
        CheckInput("ReflectionPad2d.Forward", x, pad);
        var y = Tensor.Empty(x.Device, x.Dim(0), x.Dim(1), x.Dim(2) + 2 * pad, x.Dim(3) + 2 * pad);
        ForwardInto(x, y, pad);
        return y;
    }

    public static void ForwardInto(Tensor x, Tensor y, int pad)
    {
        const string op = "ReflectionPad2d.Forward";
        CheckInput(op, x, pad);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, x.Dim(0), x.Dim(1), x.Dim(2) + 2 * pad, x.Dim(3) + 2 * pad);
        Run(x, y, new PadGeometry(x.Dim(2), x.Dim(3), pad), forward: true);
    }

    /// <summary>The adjoint: dy [N, C, H + 2 pad, W + 2 pad] to dx [N, C, H, W] (the input's <paramref name="height"/> and <paramref name="width"/>).</summary>
    public static Tensor Backward(Tensor dy, int pad, int height, int width)
    {
        Check.Rank("ReflectionPad2d.Backward", "dy", dy, 4);
        var dx = Tensor.Empty(dy.Device, dy.Dim(0), dy.Dim(1), height, width);
        BackwardInto(dy, dx, pad);
        return dx;
    }

    public static void BackwardInto(Tensor dy, Tensor dx, int pad)
    {
        const string op = "ReflectionPad2d.Backward";
        CheckInput(op, dx, pad);
        Check.SameDevice(op, dy, dx);
        Check.Shape(op, "dy", dy, dx.Dim(0), dx.Dim(1), dx.Dim(2) + 2 * pad, dx.Dim(3) + 2 * pad);
        Run(dy, dx, new PadGeometry(dx.Dim(2), dx.Dim(3), pad), forward: false);
    }

    /// <summary>Either direction, plane by plane on the cpu, one thread an output element on the GPU.</summary>
    static void Run(Tensor source, Tensor destination, PadGeometry g, bool forward)
    {
        if (destination.Length == 0) return;
        int planes = destination.Dim(0) * destination.Dim(1);
        int sourcePlane = forward ? g.H * g.W : g.OutH * g.OutW, destinationPlane = forward ? g.OutH * g.OutW : g.H * g.W;
        switch (destination.Device)
        {
            case CpuDevice cpu:
                var (sa, so) = source.CpuBuffer;
                var (da, dOff) = destination.CpuBuffer;
                CpuParallel.For(cpu, planes, (start, count) =>
                {
                    for (int p = start; p < start + count; p++)
                    {
                        var from = sa.AsSpan(so + p * sourcePlane, sourcePlane);
                        var to = da.AsSpan(dOff + p * destinationPlane, destinationPlane);
                        if (forward) ForwardPlane(from, to, g);
                        else BackwardPlane(from, to, g);
                    }
                }, grain: Math.Max(1, 16384 / (g.OutH * g.OutW)));
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PadGeometry>>(forward ? ForwardSpec : BackwardSpec)
                    (gpu.Stream, destination.Length, source.View, destination.View, g);
                break;
        }
    }

    static void CheckInput(string op, Tensor x, int pad)
    {
        Check.Rank(op, "x", x, 4);
        if (pad < 0 || pad >= x.Dim(2) || pad >= x.Dim(3))
            throw new TensorShapeException($"{op}: padding {pad} must be at least 0 and smaller than the height and width of {Shapes.Format(x.Shape)} (a reflection repeats the image's own pixels)");
    }

    // ================================================================ cpu

    static void ForwardPlane(ReadOnlySpan<float> x, Span<float> y, PadGeometry g)
    {
        for (int i = 0; i < g.OutH; i++)
        {
            var row = x.Slice(Mirror(i - g.Pad, g.H) * g.W, g.W);
            var outRow = y.Slice(i * g.OutW, g.OutW);
            row.CopyTo(outRow.Slice(g.Pad, g.W));
            for (int j = 0; j < g.Pad; j++)
            {
                outRow[g.Pad - 1 - j] = row[j + 1];               // left mirror: output column p - 1 - j copies column j + 1
                outRow[g.Pad + g.W + j] = row[g.W - 2 - j];       // right mirror
            }
        }
    }

    static void BackwardPlane(ReadOnlySpan<float> dy, Span<float> dx, PadGeometry g)
    {
        for (int r = 0; r < g.H; r++)
            for (int c = 0; c < g.W; c++)
                dx[r * g.W + c] = Gather(dy, r, c, g);
    }

    // ================================================================ shared by cpu and GPU

    static int Mirror(int k, int n) => k < 0 ? -k : k >= n ? 2 * (n - 1) - k : k;

    /// <summary>The output index that copied input index <paramref name="r"/> in variant <paramref name="which"/> (0: itself,
    /// 1: the near mirror, 2: the far one), or -1 when that variant does not copy it.</summary>
    static int Copy(int which, int r, int n, int pad) => which switch
    {
        0 => r + pad,
        1 => r >= 1 && r <= pad ? pad - r : -1,
        _ => r >= n - 1 - pad && r <= n - 2 ? pad + 2 * (n - 1) - r : -1,
    };

    static float Gather(ReadOnlySpan<float> dy, int r, int c, PadGeometry g)
    {
        float sum = 0;
        for (int a = 0; a < 3; a++)
        {
            int i = Copy(a, r, g.H, g.Pad);
            if (i < 0) continue;
            for (int b = 0; b < 3; b++)
            {
                int j = Copy(b, c, g.W, g.Pad);
                if (j >= 0) sum += dy[i * g.OutW + j];
            }
        }
        return sum;
    }

    // ================================================================ GPU kernels

    internal static readonly KernelSpec ForwardSpec = KernelSpec.Implicit("ReflectionPad2d.Forward", typeof(ReflectionPad2d), nameof(ForwardKernel));
    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("ReflectionPad2d.Backward", typeof(ReflectionPad2d), nameof(BackwardKernel));

    /// <summary>One thread per output pixel: a copy from its mirrored source.</summary>
    static void ForwardKernel(Index1D index, ArrayView<float> x, ArrayView<float> y, PadGeometry g)
    {
        int i = index;
        int plane = i / (g.OutH * g.OutW), rest = i - plane * g.OutH * g.OutW;
        int row = rest / g.OutW, col = rest - row * g.OutW;
        y[i] = x[(plane * g.H + Mirror(row - g.Pad, g.H)) * g.W + Mirror(col - g.Pad, g.W)];
    }

    /// <summary>One thread per input pixel: the sum of the (at most 3 x 3) output pixels that copied it.</summary>
    static void BackwardKernel(Index1D index, ArrayView<float> dy, ArrayView<float> dx, PadGeometry g)
    {
        int k = index;
        int plane = k / (g.H * g.W), rest = k - plane * g.H * g.W;
        int r = rest / g.W, c = rest - r * g.W;
        int offset = plane * g.OutH * g.OutW;
        float sum = 0;
        for (int a = 0; a < 3; a++)
        {
            int i = Copy(a, r, g.H, g.Pad);
            if (i < 0) continue;
            for (int b = 0; b < 3; b++)
            {
                int j = Copy(b, c, g.W, g.Pad);
                if (j >= 0) sum += dy[offset + i * g.OutW + j];
            }
        }
        dx[k] = sum;
    }
}

/// <summary>The sizes a reflection-padding kernel needs: the input plane, the padding and the output plane.</summary>
public readonly struct PadGeometry(int h, int w, int pad)
{
    public readonly int H = h, W = w, Pad = pad, OutH = h + 2 * pad, OutW = w + 2 * pad;
}
