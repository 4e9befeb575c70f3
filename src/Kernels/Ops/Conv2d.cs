namespace NativeGan;

/// <summary>
/// 2-D convolution with PyTorch's semantics: cross-correlation (the kernel is not flipped), NCHW tensors,
/// weights [O, C, KH, KW], one stride and one padding for both axes, optional bias [O]:
/// <code>
///   y[n, o, i, j] = bias[o] + sum over c, a, b of  x[n, c, i*s - p + a, j*s - p + b] * w[o, c, a, b]
///   OH = (H + 2p - KH) / s + 1          (rounded down, like PyTorch)
/// </code>
/// <para><b>Three kernels, written once.</b> Everything here (and in <see cref="ConvTranspose2d"/>) is one of
/// three computations, each done by im2col + GEMM. im2col unfolds the input into a column matrix
/// <c>col[C*KH*KW, N*OH*OW]</c> whose column (n, i, j) holds the input patch under output pixel (n, i, j):
/// <list type="bullet">
/// <item><see cref="Forward"/>: <c>y = W[O, C*KH*KW] @ col</c>, then the [O, N, OH*OW] product is laid out as
///   [N, O, OH*OW] with the bias added.</item>
/// <item><see cref="InputGrad"/>: <c>dcol = W^T @ dy</c> (dy laid out as [O, N*OH*OW]), then col2im folds
///   dcol back onto the input, adding up the patches that overlap: the chain rule of the forward.</item>
/// <item><see cref="WeightGrad"/>: <c>dw = dy[O, N*OH*OW] @ col^T</c>.</item>
/// </list>
/// The batch is part of the GEMM's wide dimension (N*OH*OW), so a batch is one large GEMM rather than N
/// small ones; batches whose column matrix would exceed a memory budget are done in chunks of samples.
/// A chunk of one sample needs no relayout: [O, 1*OH*OW] already is sample n's [O, OH, OW].</para>
/// <para><b>The identities</b> (they make double backward possible with no new kernels. The pitfall they avoid: a
/// gradient penalty, WGAN-GP's or R1's, differentiates a convolution's backward, which kernels written for the first
/// derivative only cannot do; stylegan2-ada's <c>conv2d_gradfix</c> exists in PyTorch for the same reason):
/// with the same weights, a transposed convolution's forward IS this input gradient, its input gradient IS
/// this forward, and its weight gradient IS this weight gradient with x and dy swapped:
/// <code>
///   ConvTranspose2d.Forward(x, w)        = Conv2d.InputGrad(x, w)     (+ bias)
///   ConvTranspose2d.InputGrad(dy, w)     = Conv2d.Forward(dy, w)
///   ConvTranspose2d.WeightGrad(x, dy)    = Conv2d.WeightGrad(dy, x)
///   Conv2d.BiasGrad(dy)                  = the sum of dy over N, OH, OW (both ops)
/// </code>
/// All three are bilinear, so their own derivatives are again these ops. For a second backward (WGAN-GP):
/// with G the gradient arriving at an output,
/// <code>
///   InputGrad(dy, w):   d/d dy = Forward(G, w)          d/dw = WeightGrad(G, dy)
///   WeightGrad(x, dy):  d/dx   = InputGrad(dy, G)       d/d dy = Forward(x, G)
/// </code>
/// The tests check these against direct-loop references of each op, and check the adjoint property
/// &lt;conv(x, w), dy&gt; = &lt;x, InputGrad(dy, w)&gt; = &lt;w, WeightGrad(x, dy)&gt; on every device.</para>
/// <para><b>Variants.</b> Every entry point takes a <see cref="Conv2dVariant"/>: which im2col / col2im
/// (<see cref="Im2ColVariant"/>: v1, v2, v3 on the cpu, v1 on a GPU), which GEMM (<see cref="GemmVariant"/>) and the
/// temporaries' budget. The default is the measured best; the others are kept, numbered, to compare against
/// (<c>nativegan lab conv2d --variant all</c>; benchmarks' <c>conv-quick</c>). im2col and col2im are also ops of their
/// own (<see cref="Im2ColInto"/>, <see cref="Col2ImInto"/>), with float64 references, so each variant is checked alone.</para>
/// <para>Files: this one (shapes, the float64 reference, the entry points and their checks, the variants),
/// <c>Conv2d.Cpu.cs</c> (managed im2col/col2im + <see cref="Gemm.Cpu"/>) and <c>Conv2d.Gpu.cs</c>
/// (ILGPU im2col/col2im/relayout/bias kernels + <see cref="Gemm.Gpu"/>).</para>
/// </summary>
public static partial class Conv2d
{
    // ================================================================ float64 reference

    /// <summary>The textbook loops in float64, each written from its definition (no im2col, no GEMM).</summary>
    public static class Reference
    {
        /// <summary>y[n,o,i,j] = bias[o] + sum over c,a,b of x[n,c,i*s-p+a, j*s-p+b] * w[o,c,a,b] (zero outside x).</summary>
        public static double[] Forward(double[] x, int[] xShape, double[] w, int[] wShape, double[]? bias, int stride, int padding)
        {
            int n = xShape[0], c = xShape[1], h = xShape[2], wd = xShape[3];
            int o = wShape[0], kh = wShape[2], kw = wShape[3];
            int oh = (h + 2 * padding - kh) / stride + 1, ow = (wd + 2 * padding - kw) / stride + 1;
            var y = new double[n * o * oh * ow];
            for (int s = 0; s < n; s++)
                for (int f = 0; f < o; f++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++)
                        {
                            double sum = bias?[f] ?? 0;
                            for (int ch = 0; ch < c; ch++)
                                for (int a = 0; a < kh; a++)
                                    for (int b = 0; b < kw; b++)
                                    {
                                        int ih = i * stride - padding + a, iw = j * stride - padding + b;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                        sum += x[((s * c + ch) * h + ih) * wd + iw] * w[((f * c + ch) * kh + a) * kw + b];
                                    }
                            y[((s * o + f) * oh + i) * ow + j] = sum;
                        }
            return y;
        }

        /// <summary>dx = dL/dx: every output pixel sends dy * w back to the input pixels it read (the chain rule, scattered).</summary>
        public static double[] InputGrad(double[] dy, int[] dyShape, double[] w, int[] wShape, int inputH, int inputW, int stride, int padding)
        {
            int n = dyShape[0], o = dyShape[1], oh = dyShape[2], ow = dyShape[3];
            int c = wShape[1], kh = wShape[2], kw = wShape[3];
            var dx = new double[n * c * inputH * inputW];
            for (int s = 0; s < n; s++)
                for (int f = 0; f < o; f++)
                    for (int i = 0; i < oh; i++)
                        for (int j = 0; j < ow; j++)
                        {
                            double g = dy[((s * o + f) * oh + i) * ow + j];
                            for (int ch = 0; ch < c; ch++)
                                for (int a = 0; a < kh; a++)
                                    for (int b = 0; b < kw; b++)
                                    {
                                        int ih = i * stride - padding + a, iw = j * stride - padding + b;
                                        if (ih < 0 || ih >= inputH || iw < 0 || iw >= inputW) continue;
                                        dx[((s * c + ch) * inputH + ih) * inputW + iw] += g * w[((f * c + ch) * kh + a) * kw + b];
                                    }
                        }
            return dx;
        }

        /// <summary>dw[o,c,a,b] = sum over n,i,j of dy[n,o,i,j] * x[n,c,i*s-p+a, j*s-p+b].</summary>
        public static double[] WeightGrad(double[] x, int[] xShape, double[] dy, int[] dyShape, int kernelH, int kernelW, int stride, int padding)
        {
            int n = xShape[0], c = xShape[1], h = xShape[2], wd = xShape[3];
            int o = dyShape[1], oh = dyShape[2], ow = dyShape[3];
            var dw = new double[o * c * kernelH * kernelW];
            for (int f = 0; f < o; f++)
                for (int ch = 0; ch < c; ch++)
                    for (int a = 0; a < kernelH; a++)
                        for (int b = 0; b < kernelW; b++)
                        {
                            double sum = 0;
                            for (int s = 0; s < n; s++)
                                for (int i = 0; i < oh; i++)
                                    for (int j = 0; j < ow; j++)
                                    {
                                        int ih = i * stride - padding + a, iw = j * stride - padding + b;
                                        if (ih < 0 || ih >= h || iw < 0 || iw >= wd) continue;
                                        sum += dy[((s * o + f) * oh + i) * ow + j] * x[((s * c + ch) * h + ih) * wd + iw];
                                    }
                            dw[((f * c + ch) * kernelH + a) * kernelW + b] = sum;
                        }
            return dw;
        }

        /// <summary>col[(c, a, b), (n, i, j)] = x[n, c, i*s - p + a, j*s - p + b] (0 outside x): the [C*KH*KW, N*OH*OW] column matrix.</summary>
        public static double[] Im2Col(double[] x, Conv2dGeometry g)
        {
            var col = new double[g.Rows * g.N * g.OutPlane];
            ForEachTap(g, (colIndex, xIndex) => col[colIndex] = x[xIndex]);
            return col;
        }

        /// <summary>The adjoint of <see cref="Im2Col"/>: dx[n, c, ih, iw] = bias[c] (or 0) + every column entry im2col copied from that pixel.</summary>
        public static double[] Col2Im(double[] col, Conv2dGeometry g, double[]? bias)
        {
            var dx = new double[g.N * g.C * g.InPlane];
            for (int n = 0; n < g.N; n++)
                for (int c = 0; c < g.C; c++)
                    for (int q = 0; q < g.InPlane; q++) dx[(n * g.C + c) * g.InPlane + q] = bias?[c] ?? 0;
            ForEachTap(g, (colIndex, xIndex) => dx[xIndex] += col[colIndex]);
            return dx;
        }

        /// <summary>Every (column-matrix entry, input pixel) pair im2col copies, the padding's taps left out: what both
        /// <see cref="Im2Col"/> and its adjoint <see cref="Col2Im"/> walk.</summary>
        static void ForEachTap(Conv2dGeometry g, Action<int, int> tap)
        {
            int cols = g.N * g.OutPlane;
            for (int c = 0; c < g.C; c++)
                for (int a = 0; a < g.KH; a++)
                    for (int b = 0; b < g.KW; b++)
                        for (int n = 0; n < g.N; n++)
                            for (int i = 0; i < g.OH; i++)
                                for (int j = 0; j < g.OW; j++)
                                {
                                    int ih = i * g.Stride - g.Pad + a, iw = j * g.Stride - g.Pad + b;
                                    if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                                    tap(((c * g.KH + a) * g.KW + b) * cols + (n * g.OH + i) * g.OW + j, ((n * g.C + c) * g.H + ih) * g.W + iw);
                                }
        }

        /// <summary>db[o] = sum over n, i, j of dy[n, o, i, j].</summary>
        public static double[] BiasGrad(double[] dy, int[] dyShape)
        {
            int n = dyShape[0], o = dyShape[1], plane = dyShape[2] * dyShape[3];
            var db = new double[o];
            for (int s = 0; s < n; s++)
                for (int f = 0; f < o; f++)
                    for (int q = 0; q < plane; q++)
                        db[f] += dy[(s * o + f) * plane + q];
            return db;
        }
    }

    // ================================================================ tensor entry points

    /// <summary>y = conv2d(x, w) + bias: x [N, C, H, W], w [O, C, KH, KW], bias [O] or null; y [N, O, OH, OW].
    /// <paramref name="variant"/> picks the kernels (default: the measured best).</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Conv2dVariant variant = default)
    {
        var g = ForwardGeometry("Conv2d.Forward", x, w, stride, padding);
        CheckVariant("Conv2d.Forward", x.Device, variant);
        return Filled(Tensor.Empty(x.Device, g.N, g.O, g.OH, g.OW), y => ForwardInto(x, w, bias, stride, padding, y, variant));
    }

    /// <summary><see cref="Forward"/> into a given y [N, O, OH, OW] (its old values are ignored).</summary>
    public static void ForwardInto(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor y, Conv2dVariant variant = default)
    {
        const string op = "Conv2d.Forward";
        var g = ForwardGeometry(op, x, w, stride, padding);
        CheckBias(op, bias, g.O, x);
        Check.SameDevice(op, x, w, y);
        Check.Shape(op, "y", y, g.N, g.O, g.OH, g.OW);
        ForwardCore(g, x, w, bias, y, variant);
    }

    /// <summary>dx = dL/dx [N, C, inputH, inputW] from dy [N, O, OH, OW] and w [O, C, KH, KW]. The input size is
    /// an argument because OH rounds down: several input sizes give the same OH when the stride is above 1.</summary>
    public static Tensor InputGrad(Tensor dy, Tensor w, int inputH, int inputW, int stride, int padding, Conv2dVariant variant = default)
    {
        var g = InputGradGeometry("Conv2d.InputGrad", dy, w, inputH, inputW, stride, padding);
        CheckVariant("Conv2d.InputGrad", dy.Device, variant);
        return Filled(Tensor.Empty(dy.Device, g.N, g.C, g.H, g.W), dx => InputGradInto(dy, w, inputH, inputW, stride, padding, dx, variant));
    }

    /// <summary><see cref="InputGrad"/> into a given dx [N, C, inputH, inputW] (overwritten, not accumulated).</summary>
    public static void InputGradInto(Tensor dy, Tensor w, int inputH, int inputW, int stride, int padding, Tensor dx, Conv2dVariant variant = default)
    {
        const string op = "Conv2d.InputGrad";
        var g = InputGradGeometry(op, dy, w, inputH, inputW, stride, padding);
        Check.SameDevice(op, dy, w, dx);
        Check.Shape(op, "dx", dx, g.N, g.C, g.H, g.W);
        InputGradCore(g, dy, w, null, dx, variant);
    }

    /// <summary>dw = dL/dw [O, C, KH, KW] from x [N, C, H, W] and dy [N, O, OH, OW].</summary>
    public static Tensor WeightGrad(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding, Conv2dVariant variant = default)
    {
        var g = WeightGradGeometry("Conv2d.WeightGrad", x, dy, kernelH, kernelW, stride, padding);
        CheckVariant("Conv2d.WeightGrad", x.Device, variant);
        return Filled(Tensor.Empty(x.Device, g.O, g.C, g.KH, g.KW), dw => WeightGradInto(x, dy, kernelH, kernelW, stride, padding, dw, variant));
    }

    /// <summary><see cref="WeightGrad"/> into a given dw [O, C, KH, KW] (overwritten, not accumulated).</summary>
    public static void WeightGradInto(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding, Tensor dw, Conv2dVariant variant = default)
    {
        const string op = "Conv2d.WeightGrad";
        var g = WeightGradGeometry(op, x, dy, kernelH, kernelW, stride, padding);
        Check.SameDevice(op, x, dy, dw);
        Check.Shape(op, "dw", dw, g.O, g.C, g.KH, g.KW);
        WeightGradCore(g, x, dy, dw, variant);
    }

    /// <summary>
    /// im2col as an op: col [C*KH*KW, N*OH*OW] from x [N, C, H, W] for the convolution <paramref name="g"/> describes,
    /// col[(c, a, b), (n, i, j)] = x[n, c, i*s - p + a, j*s - p + b] (0 in the padding), by the kernel
    /// <paramref name="variant"/> names. What the convolutions run inside; exposed so each variant is checked and timed alone.
    /// </summary>
    public static void Im2ColInto(Tensor x, Conv2dGeometry g, Tensor col, Im2ColVariant variant = Im2ColVariant.Default)
    {
        const string op = "Conv2d.Im2Col";
        Check.SameDevice(op, x, col);
        Check.Shape(op, "x", x, g.N, g.C, g.H, g.W);
        Check.Shape(op, "col", col, g.Rows, g.N * g.OutPlane);
        CheckVariant(op, x.Device, new Conv2dVariant(variant));
        if (col.Length == 0) return;
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ca, co) = col.CpuBuffer;
                if (co == 0) Im2ColCpu(cpu, g, xa, xo, 0, g.N, ca, variant);
                else
                {
                    // The kernels write from the start of their array: a view at an offset goes through a temporary.
                    var tmp = new float[col.Length];
                    Im2ColCpu(cpu, g, xa, xo, 0, g.N, tmp, variant);
                    tmp.AsSpan().CopyTo(ca.AsSpan(co, tmp.Length));
                }
                break;
            case GpuDevice gpu: Im2ColGpu(gpu, g, x.View, 0, g.N, col.View); break;
        }
    }

    /// <summary>
    /// col2im as an op, the adjoint of <see cref="Im2ColInto"/>: dx [N, C, H, W] = bias[c] (or 0) + the sum of the
    /// entries of col [C*KH*KW, N*OH*OW] that im2col copied from each pixel, by the kernel <paramref name="variant"/> names.
    /// </summary>
    public static void Col2ImInto(Tensor col, Conv2dGeometry g, Tensor dx, Tensor? bias = null, Im2ColVariant variant = Im2ColVariant.Default)
    {
        const string op = "Conv2d.Col2Im";
        Check.SameDevice(op, col, dx);
        Check.Shape(op, "col", col, g.Rows, g.N * g.OutPlane);
        Check.Shape(op, "dx", dx, g.N, g.C, g.H, g.W);
        CheckBias(op, bias, g.C, dx);
        CheckVariant(op, dx.Device, new Conv2dVariant(variant));
        if (dx.Length == 0) return;
        switch (dx.Device)
        {
            case CpuDevice cpu:
                var (ca, co) = col.CpuBuffer;
                var (da, dxo) = dx.CpuBuffer;
                float[]? ba = null;
                int bo = 0;
                if (bias is not null) (ba, bo) = bias.CpuBuffer;
                // The kernels read from the start of their array: a view at an offset goes through a copy.
                Col2ImCpu(cpu, g, co == 0 ? ca : ca.AsSpan(co, col.Length).ToArray(), 0, g.N, da, dxo, ba, bo, variant);
                break;
            case GpuDevice gpu: Col2ImGpu(gpu, g, col.View, 0, g.N, dx.View, bias); break;
        }
    }

    /// <summary>db = dL/dbias [O]: dy [N, O, OH, OW] summed over N, OH and OW (the same for ConvTranspose2d).</summary>
    public static Tensor BiasGrad(Tensor dy)
    {
        Check.Rank("Conv2d.BiasGrad", "dy", dy, 4);
        return Filled(Tensor.Empty(dy.Device, dy.Dim(1)), db => BiasGradInto(dy, db));
    }

    /// <summary><see cref="BiasGrad"/> into a given db [O] (overwritten).</summary>
    public static void BiasGradInto(Tensor dy, Tensor db)
    {
        const string op = "Conv2d.BiasGrad";
        Check.Rank(op, "dy", dy, 4);
        Check.SameDevice(op, dy, db);
        Check.Shape(op, "db", db, dy.Dim(1));
        if (db.Length == 0) return;
        switch (dy.Device)
        {
            case CpuDevice cpu: BiasGradCpu(cpu, dy, db); break;
            case GpuDevice gpu: BiasGradGpu(gpu, dy, db); break;
        }
    }

    /// <summary>Multiply-adds of a forward (the same count for each of the two gradients): N*O*OH*OW*C*KH*KW.</summary>
    public static long MultiplyAdds(in Conv2dGeometry g) => (long)g.N * g.O * g.OutPlane * g.Rows;

    // ================================================================ the three cores (shapes already checked)

    // Each core dispatches on the device; ConvTranspose2d calls them too, with the geometry of the
    // convolution it is the transpose of.

    internal static void ForwardCore(in Conv2dGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dVariant variant)
    {
        CheckVariant("Conv2d.Forward", y.Device, variant);
        if (y.Length == 0) return;
        switch (y.Device)
        {
            case CpuDevice cpu: ForwardCpu(cpu, g, x, w, bias, y, variant); break;
            case GpuDevice gpu: ForwardGpu(gpu, g, x, w, bias, y, variant); break;
        }
    }

    /// <summary>dx = col2im(W^T @ dy) (+ bias[c], which only the transposed convolution's forward uses).</summary>
    internal static void InputGradCore(in Conv2dGeometry g, Tensor dy, Tensor w, Tensor? bias, Tensor dx, Conv2dVariant variant)
    {
        CheckVariant("Conv2d.InputGrad", dx.Device, variant);
        if (dx.Length == 0) return;
        switch (dx.Device)
        {
            case CpuDevice cpu: InputGradCpu(cpu, g, dy, w, bias, dx, variant); break;
            case GpuDevice gpu: InputGradGpu(gpu, g, dy, w, bias, dx, variant); break;
        }
    }

    internal static void WeightGradCore(in Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Conv2dVariant variant)
    {
        CheckVariant("Conv2d.WeightGrad", dw.Device, variant);
        if (dw.Length == 0) return;
        if (g.N == 0) { Elementwise.Fill(dw, 0f); return; } // an empty batch contributes nothing
        switch (dw.Device)
        {
            case CpuDevice cpu: WeightGradCpu(cpu, g, x, dy, dw, variant); break;
            case GpuDevice gpu: WeightGradGpu(gpu, g, x, dy, dw, variant); break;
        }
    }

    /// <summary>Runs an <c>Into</c> form on a new tensor, which is disposed (not left to the GC) when the call throws.</summary>
    internal static Tensor Filled(Tensor result, Action<Tensor> into)
    {
        try
        {
            into(result);
            return result;
        }
        catch
        {
            result.Dispose();
            throw;
        }
    }

    // ================================================================ chunking

    /// <summary>Floats the cpu may hold in temporaries (column matrix + relayout) per call: 16 MiB.</summary>
    internal const int CpuChunkFloats = 1 << 22;

    /// <summary>Floats a GPU call may take from the pool for temporaries: 128 MiB.</summary>
    internal const int GpuChunkFloats = 1 << 25;

    /// <summary>Samples per chunk: as many as fit the budget in the column matrix plus the [O, m*OH*OW] relayout.</summary>
    internal static int ChunkSamples(in Conv2dGeometry g, int budgetFloats)
    {
        long perSample = (long)(g.Rows + g.O) * g.OutPlane;
        return (int)Math.Clamp(budgetFloats / Math.Max(1, perSample), 1, Math.Max(1, g.N));
    }

    // ================================================================ checks

    /// <summary>A variant this device runs: im2col v1 to v3 on the cpu, v1 on a GPU (one kernel); GEMM v1 to v3 (v4, v5 on a GPU); a budget of 0 or more.</summary>
    internal static void CheckVariant(string op, Device device, Conv2dVariant variant)
    {
        bool gpu = device is GpuDevice;
        if (variant.Im2Col is < Im2ColVariant.Default or > Im2ColVariant.V4 || (gpu && variant.Im2Col > Im2ColVariant.V1))
            throw new ArgumentOutOfRangeException(nameof(variant),
                $"{op}: no im2col variant {(int)variant.Im2Col} on {device.Name}; the variants are {(gpu ? "1 (one GPU kernel)" : "1, 2, 3, 4")} and 0 (Default)");
        if (variant.Gemm is < GemmVariant.Default or > GemmVariant.V5 || (!gpu && variant.Gemm > GemmVariant.V3))
            throw new ArgumentOutOfRangeException(nameof(variant),
                $"{op}: no GEMM variant {(int)variant.Gemm} on {device.Name}; the variants are {(gpu ? "1, 2, 3, 4, 5" : "1, 2, 3")} and 0 (Default)");
        if (variant.ChunkFloats < 0)
            throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: the chunk budget must be 0 (the device's) or more floats, got {variant.ChunkFloats}");
    }

    internal static void CheckStrideAndPadding(string op, int stride, int padding)
    {
        if (stride < 1) throw new ArgumentOutOfRangeException(nameof(stride), $"{op}: stride must be at least 1, got {stride}");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding), $"{op}: padding must be 0 or more, got {padding}");
    }

    /// <summary>The kernel must fit the padded input (else PyTorch, too, refuses: the output would be empty).</summary>
    internal static void CheckKernelFits(string op, int h, int w, int kh, int kw, int padding, string what)
    {
        if (h + 2 * padding < kh || w + 2 * padding < kw)
            throw new TensorShapeException(
                $"{op}: kernel {kh}x{kw} is larger than the padded {what} {h + 2 * padding}x{w + 2 * padding} ({h}x{w} with padding {padding})");
    }

    internal static void CheckBias(string op, Tensor? bias, int channels, Tensor like)
    {
        if (bias is null) return;
        Check.SameDevice(op, like, bias);
        Check.Shape(op, "bias", bias, channels);
    }

    static Conv2dGeometry ForwardGeometry(string op, Tensor x, Tensor w, int stride, int padding)
    {
        Check.Rank(op, "x", x, 4);
        Check.Rank(op, "w", w, 4);
        CheckStrideAndPadding(op, stride, padding);
        if (x.Dim(1) != w.Dim(1))
            throw new TensorShapeException(
                $"{op}: x {Shapes.Format(x.Shape)} has {x.Dim(1)} channels but w {Shapes.Format(w.Shape)} expects {w.Dim(1)} (w is [O, C, KH, KW])");
        CheckKernelFits(op, x.Dim(2), x.Dim(3), w.Dim(2), w.Dim(3), padding, "input");
        return Conv2dGeometry.Of(x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3), w.Dim(0), w.Dim(2), w.Dim(3), stride, padding);
    }

    static Conv2dGeometry InputGradGeometry(string op, Tensor dy, Tensor w, int inputH, int inputW, int stride, int padding)
    {
        Check.Rank(op, "dy", dy, 4);
        Check.Rank(op, "w", w, 4);
        CheckStrideAndPadding(op, stride, padding);
        if (inputH < 1 || inputW < 1)
            throw new TensorShapeException($"{op}: input size {inputH}x{inputW} must be positive");
        if (dy.Dim(1) != w.Dim(0))
            throw new TensorShapeException(
                $"{op}: dy {Shapes.Format(dy.Shape)} has {dy.Dim(1)} channels but w {Shapes.Format(w.Shape)} has {w.Dim(0)} output channels (w is [O, C, KH, KW])");
        CheckKernelFits(op, inputH, inputW, w.Dim(2), w.Dim(3), padding, "input");
        var g = Conv2dGeometry.Of(dy.Dim(0), w.Dim(1), inputH, inputW, w.Dim(0), w.Dim(2), w.Dim(3), stride, padding);
        if (g.OH != dy.Dim(2) || g.OW != dy.Dim(3))
            throw new TensorShapeException(
                $"{op}: dy {Shapes.Format(dy.Shape)} is {dy.Dim(2)}x{dy.Dim(3)}, but a {inputH}x{inputW} input with kernel {g.KH}x{g.KW}, " +
                $"stride {stride}, padding {padding} gives {g.OH}x{g.OW}");
        return g;
    }

    static Conv2dGeometry WeightGradGeometry(string op, Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding)
    {
        Check.Rank(op, "x", x, 4);
        Check.Rank(op, "dy", dy, 4);
        CheckStrideAndPadding(op, stride, padding);
        if (kernelH < 1 || kernelW < 1)
            throw new TensorShapeException($"{op}: kernel size {kernelH}x{kernelW} must be positive");
        if (x.Dim(0) != dy.Dim(0))
            throw new TensorShapeException($"{op}: x {Shapes.Format(x.Shape)} and dy {Shapes.Format(dy.Shape)} have different batch sizes");
        CheckKernelFits(op, x.Dim(2), x.Dim(3), kernelH, kernelW, padding, "input");
        var g = Conv2dGeometry.Of(x.Dim(0), x.Dim(1), x.Dim(2), x.Dim(3), dy.Dim(1), kernelH, kernelW, stride, padding);
        if (g.OH != dy.Dim(2) || g.OW != dy.Dim(3))
            throw new TensorShapeException(
                $"{op}: dy {Shapes.Format(dy.Shape)} is {dy.Dim(2)}x{dy.Dim(3)}, but x {Shapes.Format(x.Shape)} with kernel {kernelH}x{kernelW}, " +
                $"stride {stride}, padding {padding} gives {g.OH}x{g.OW}");
        return g;
    }
}

/// <summary>
/// Which cpu im2col and col2im (its adjoint) run, numbered as written (Conv2d.Cpu.cs). A GPU has one of each (v1).
/// </summary>
public enum Im2ColVariant
{
    /// <summary>v3 on the cpu (2-4.6x over v1 on the copies, 24% less CPU for a convolutional WGAN-GP step:
    /// benchmarks/NOTES.md, im2col / col2im v3), except v4 for the forward where output rows are shorter than 8 pixels,
    /// and no im2col at all where the kernel covers the whole unpadded input; v1 on a GPU.</summary>
    Default = 0,
    /// <summary>v1: parallel over column-matrix rows (im2col) or input planes (col2im), span slices a row; the GPU's one kernel each.</summary>
    V1 = 1,
    /// <summary>v2: v1's loops on refs, padding ranges cleared in runs.</summary>
    V2 = 2,
    /// <summary>v3: a scratch plane with a zero border, gathers through one offset table (stride 2: vector shuffles).</summary>
    V3 = 3,
    /// <summary>v4 (cpu): the forward writes no column matrix; the GEMM's B panels are gathered straight from the image (an
    /// implicit GEMM). The gradients, and this op alone, use v3.</summary>
    V4 = 4,
}

/// <summary>
/// How a convolution runs (every entry point of <see cref="Conv2d"/> and <see cref="ConvTranspose2d"/> takes one):
/// the im2col / col2im variant, the GEMM variant, and the floats its temporaries may take (0: the device's budget,
/// 16 MiB on the cpu, 128 MiB on a GPU; tests give a small one so that a batch is done in several chunks).
/// <c>default</c> is the measured best of each.
/// </summary>
public readonly record struct Conv2dVariant(Im2ColVariant Im2Col = Im2ColVariant.Default, GemmVariant Gemm = GemmVariant.Default, int ChunkFloats = 0)
{
    /// <summary>The temporaries' budget: <see cref="ChunkFloats"/>, or <paramref name="device"/>'s when it is 0.</summary>
    internal int BudgetFloats(int device) => ChunkFloats > 0 ? ChunkFloats : device;
}

/// <summary>
/// The sizes of one convolution, x [N, C, H, W] * w [O, C, KH, KW] -> y [N, O, OH, OW], as plain ints so
/// the struct travels to GPU kernels as a parameter.
/// </summary>
public readonly struct Conv2dGeometry
{
    public readonly int N, C, H, W, O, KH, KW, OH, OW, Stride, Pad;

    Conv2dGeometry(int n, int c, int h, int w, int o, int kh, int kw, int oh, int ow, int stride, int pad)
        => (N, C, H, W, O, KH, KW, OH, OW, Stride, Pad) = (n, c, h, w, o, kh, kw, oh, ow, stride, pad);

    /// <summary>The geometry of a convolution; OH = (H + 2p - KH) / s + 1, rounded down.</summary>
    public static Conv2dGeometry Of(int n, int c, int h, int w, int o, int kh, int kw, int stride, int padding)
        => new(n, c, h, w, o, kh, kw, (h + 2 * padding - kh) / stride + 1, (w + 2 * padding - kw) / stride + 1, stride, padding);

    /// <summary>Rows of the column matrix, C*KH*KW: the GEMM's inner dimension of the forward.</summary>
    public int Rows => C * KH * KW;

    /// <summary>Pixels of one output channel, OH*OW.</summary>
    public int OutPlane => OH * OW;

    /// <summary>Pixels of one input channel, H*W.</summary>
    public int InPlane => H * W;

    public override string ToString()
        => $"x [{N}, {C}, {H}, {W}] * w [{O}, {C}, {KH}, {KW}] (stride {Stride}, padding {Pad}) -> y [{N}, {O}, {OH}, {OW}]";
}
