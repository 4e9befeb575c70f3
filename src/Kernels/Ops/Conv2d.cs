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
/// <para><b>The identities</b> (they make double backward possible with no new kernels; see PITFALLS.md):
/// with the same weights, a transposed convolution's forward IS this input gradient, its input gradient IS
/// this forward, and its weight gradient IS this weight gradient with x and dy swapped:
/// <code>
///   ConvTranspose2d.Forward(x, w)        = Conv2d.InputGrad(x, w)     (+ bias)
///   ConvTranspose2d.InputGrad(dy, w)     = Conv2d.Forward(dy, w)
///   ConvTranspose2d.WeightGrad(x, dy)    = Conv2d.WeightGrad(dy, x)
///   Conv2d.BiasGrad(dy)                  = the sum of dy over N, OH, OW (both ops)
/// </code>
/// The tests check these against direct-loop references of each op, and check the adjoint property
/// &lt;conv(x, w), dy&gt; = &lt;x, InputGrad(dy, w)&gt; = &lt;w, WeightGrad(x, dy)&gt; on every device.</para>
/// <para>Files: this one (shapes, the float64 reference, the entry points and their checks),
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

    /// <summary>y = conv2d(x, w) + bias: x [N, C, H, W], w [O, C, KH, KW], bias [O] or null; y [N, O, OH, OW].</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias, int stride, int padding)
    {
        var g = ForwardGeometry("Conv2d.Forward", x, w, stride, padding);
        return Filled(Tensor.Empty(x.Device, g.N, g.O, g.OH, g.OW), y => ForwardInto(x, w, bias, stride, padding, y));
    }

    /// <summary><see cref="Forward"/> into a given y [N, O, OH, OW] (its old values are ignored).</summary>
    public static void ForwardInto(Tensor x, Tensor w, Tensor? bias, int stride, int padding, Tensor y)
    {
        const string op = "Conv2d.Forward";
        var g = ForwardGeometry(op, x, w, stride, padding);
        CheckBias(op, bias, g.O, x);
        Check.SameDevice(op, x, w, y);
        Check.Shape(op, "y", y, g.N, g.O, g.OH, g.OW);
        ForwardCore(g, x, w, bias, y);
    }

    /// <summary>dx = dL/dx [N, C, inputH, inputW] from dy [N, O, OH, OW] and w [O, C, KH, KW]. The input size is
    /// an argument because OH rounds down: several input sizes give the same OH when the stride is above 1.</summary>
    public static Tensor InputGrad(Tensor dy, Tensor w, int inputH, int inputW, int stride, int padding)
    {
        var g = InputGradGeometry("Conv2d.InputGrad", dy, w, inputH, inputW, stride, padding);
        return Filled(Tensor.Empty(dy.Device, g.N, g.C, g.H, g.W), dx => InputGradInto(dy, w, inputH, inputW, stride, padding, dx));
    }

    /// <summary><see cref="InputGrad"/> into a given dx [N, C, inputH, inputW] (overwritten, not accumulated).</summary>
    public static void InputGradInto(Tensor dy, Tensor w, int inputH, int inputW, int stride, int padding, Tensor dx)
    {
        const string op = "Conv2d.InputGrad";
        var g = InputGradGeometry(op, dy, w, inputH, inputW, stride, padding);
        Check.SameDevice(op, dy, w, dx);
        Check.Shape(op, "dx", dx, g.N, g.C, g.H, g.W);
        InputGradCore(g, dy, w, null, dx);
    }

    /// <summary>dw = dL/dw [O, C, KH, KW] from x [N, C, H, W] and dy [N, O, OH, OW].</summary>
    public static Tensor WeightGrad(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding)
    {
        var g = WeightGradGeometry("Conv2d.WeightGrad", x, dy, kernelH, kernelW, stride, padding);
        return Filled(Tensor.Empty(x.Device, g.O, g.C, g.KH, g.KW), dw => WeightGradInto(x, dy, kernelH, kernelW, stride, padding, dw));
    }

    /// <summary><see cref="WeightGrad"/> into a given dw [O, C, KH, KW] (overwritten, not accumulated).</summary>
    public static void WeightGradInto(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding, Tensor dw)
    {
        const string op = "Conv2d.WeightGrad";
        var g = WeightGradGeometry(op, x, dy, kernelH, kernelW, stride, padding);
        Check.SameDevice(op, x, dy, dw);
        Check.Shape(op, "dw", dw, g.O, g.C, g.KH, g.KW);
        WeightGradCore(g, x, dy, dw);
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

    internal static void ForwardCore(in Conv2dGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y)
    {
        if (y.Length == 0) return;
        switch (y.Device)
        {
            case CpuDevice cpu: ForwardCpu(cpu, g, x, w, bias, y); break;
            case GpuDevice gpu: ForwardGpu(gpu, g, x, w, bias, y); break;
        }
    }

    /// <summary>dx = col2im(W^T @ dy) (+ bias[c], which only the transposed convolution's forward uses).</summary>
    internal static void InputGradCore(in Conv2dGeometry g, Tensor dy, Tensor w, Tensor? bias, Tensor dx)
    {
        if (dx.Length == 0) return;
        switch (dx.Device)
        {
            case CpuDevice cpu: InputGradCpu(cpu, g, dy, w, bias, dx); break;
            case GpuDevice gpu: InputGradGpu(gpu, g, dy, w, bias, dx); break;
        }
    }

    internal static void WeightGradCore(in Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw)
    {
        if (dw.Length == 0) return;
        if (g.N == 0) { Elementwise.Fill(dw, 0f); return; } // an empty batch contributes nothing
        switch (dw.Device)
        {
            case CpuDevice cpu: WeightGradCpu(cpu, g, x, dy, dw); break;
            case GpuDevice gpu: WeightGradGpu(gpu, g, x, dy, dw); break;
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

    /// <summary>Tests set this (on their own thread) to force small chunks, so the multi-chunk paths run.</summary>
    [ThreadStatic] internal static int ChunkFloatsOverride;

    /// <summary>Samples per chunk: as many as fit the budget in the column matrix plus the [O, m*OH*OW] relayout.</summary>
    internal static int ChunkSamples(in Conv2dGeometry g, int budgetFloats)
    {
        if (ChunkFloatsOverride > 0) budgetFloats = ChunkFloatsOverride;
        long perSample = (long)(g.Rows + g.O) * g.OutPlane;
        return (int)Math.Clamp(budgetFloats / Math.Max(1, perSample), 1, Math.Max(1, g.N));
    }

    // ================================================================ checks

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
