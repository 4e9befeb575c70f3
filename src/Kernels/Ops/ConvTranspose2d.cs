namespace NativeGan;

/// <summary>
/// 2-D transposed convolution with PyTorch's semantics (<c>conv_transpose2d</c>): x [N, C_in, H, W],
/// weights [C_in, C_out, KH, KW], optional bias [C_out]; every input pixel scatters x * w into the output:
/// <code>
///   y[n, co, i*s - p + a, j*s - p + b] += x[n, ci, i, j] * w[ci, co, a, b]      (y starts at bias[co])
///   OH = (H - 1) * s - 2p + KH + outputPadding,     0 &lt;= outputPadding &lt; s
/// </code>
/// <para><b>No kernels of its own.</b> This op is the adjoint (transpose) of <see cref="Conv2d"/> with the
/// same weight tensor read as [O, C, KH, KW] = [C_in, C_out, KH, KW], so each entry point is one of
/// Conv2d's three cores (the identities of the stylegan2-ada <c>conv2d_gradfix</c>: gradients of every order are these
/// same cores, so a gradient penalty through the layer needs no kernels of its own):
/// <code>
///   ConvTranspose2d.Forward(x, w, b)        = Conv2d.InputGrad(dy: x, w, input size OH x OW) + b
///   ConvTranspose2d.InputGrad(dy, w)        = Conv2d.Forward(dy, w)
///   ConvTranspose2d.WeightGrad(x, dy)       = Conv2d.WeightGrad(x: dy, dy: x)
///   bias gradient                           = Conv2d.BiasGrad(dy)
/// </code>
/// The convolution in question maps a [N, C_out, OH, OW] tensor to [N, C_in, H, W]; outputPadding only
/// adds rows and columns at the bottom and right that its rounded-down output size never reads back,
/// which is why it must be smaller than the stride. Because the three cores differentiate one another,
/// a graph built from these ops can be differentiated again with no new kernels. Every entry point takes the
/// cores' <see cref="Conv2dVariant"/> (default: the measured best).</para>
/// </summary>
public static class ConvTranspose2d
{
    // ================================================================ float64 reference

    /// <summary>The textbook loops in float64, written from the scatter definition (not through Conv2d).</summary>
    public static class Reference
    {
        public static double[] Forward(double[] x, int[] xShape, double[] w, int[] wShape, double[]? bias, int stride, int padding, int outputPadding = 0)
        {
            int n = xShape[0], ci = xShape[1], h = xShape[2], wd = xShape[3];
            int co = wShape[1], kh = wShape[2], kw = wShape[3];
            int oh = (h - 1) * stride - 2 * padding + kh + outputPadding, ow = (wd - 1) * stride - 2 * padding + kw + outputPadding;
            var y = new double[n * co * oh * ow];
            for (int s = 0; s < n; s++)
                for (int f = 0; f < co; f++)
                    for (int q = 0; q < oh * ow; q++)
                        y[(s * co + f) * oh * ow + q] = bias?[f] ?? 0;
            for (int s = 0; s < n; s++)
                for (int c = 0; c < ci; c++)
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < wd; j++)
                            for (int f = 0; f < co; f++)
                                for (int a = 0; a < kh; a++)
                                    for (int b = 0; b < kw; b++)
                                    {
                                        int yi = i * stride - padding + a, yj = j * stride - padding + b;
                                        if (yi < 0 || yi >= oh || yj < 0 || yj >= ow) continue;
                                        y[((s * co + f) * oh + yi) * ow + yj] += x[((s * ci + c) * h + i) * wd + j] * w[((c * co + f) * kh + a) * kw + b];
                                    }
            return y;
        }

        /// <summary>dx[n, ci, i, j] = sum over co, a, b of dy[n, co, i*s - p + a, j*s - p + b] * w[ci, co, a, b].</summary>
        public static double[] InputGrad(double[] dy, int[] dyShape, double[] w, int[] wShape, int stride, int padding)
        {
            int n = dyShape[0], co = dyShape[1], oh = dyShape[2], ow = dyShape[3];
            int ci = wShape[0], kh = wShape[2], kw = wShape[3];
            int h = (oh + 2 * padding - kh) / stride + 1, wd = (ow + 2 * padding - kw) / stride + 1;
            var dx = new double[n * ci * h * wd];
            for (int s = 0; s < n; s++)
                for (int c = 0; c < ci; c++)
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < wd; j++)
                        {
                            double sum = 0;
                            for (int f = 0; f < co; f++)
                                for (int a = 0; a < kh; a++)
                                    for (int b = 0; b < kw; b++)
                                    {
                                        int yi = i * stride - padding + a, yj = j * stride - padding + b;
                                        if (yi < 0 || yi >= oh || yj < 0 || yj >= ow) continue;
                                        sum += dy[((s * co + f) * oh + yi) * ow + yj] * w[((c * co + f) * kh + a) * kw + b];
                                    }
                            dx[((s * ci + c) * h + i) * wd + j] = sum;
                        }
            return dx;
        }

        /// <summary>dw[ci, co, a, b] = sum over n, i, j of x[n, ci, i, j] * dy[n, co, i*s - p + a, j*s - p + b].</summary>
        public static double[] WeightGrad(double[] x, int[] xShape, double[] dy, int[] dyShape, int kernelH, int kernelW, int stride, int padding)
        {
            int n = xShape[0], ci = xShape[1], h = xShape[2], wd = xShape[3];
            int co = dyShape[1], oh = dyShape[2], ow = dyShape[3];
            var dw = new double[ci * co * kernelH * kernelW];
            for (int s = 0; s < n; s++)
                for (int c = 0; c < ci; c++)
                    for (int i = 0; i < h; i++)
                        for (int j = 0; j < wd; j++)
                        {
                            double xv = x[((s * ci + c) * h + i) * wd + j];
                            for (int f = 0; f < co; f++)
                                for (int a = 0; a < kernelH; a++)
                                    for (int b = 0; b < kernelW; b++)
                                    {
                                        int yi = i * stride - padding + a, yj = j * stride - padding + b;
                                        if (yi < 0 || yi >= oh || yj < 0 || yj >= ow) continue;
                                        dw[((c * co + f) * kernelH + a) * kernelW + b] += xv * dy[((s * co + f) * oh + yi) * ow + yj];
                                    }
                        }
            return dw;
        }
    }

    // ================================================================ tensor entry points

    /// <summary>y = conv_transpose2d(x, w) + bias: x [N, C_in, H, W], w [C_in, C_out, KH, KW], bias [C_out] or null.</summary>
    public static Tensor Forward(Tensor x, Tensor w, Tensor? bias, int stride, int padding, int outputPadding = 0, Conv2dVariant variant = default)
    {
        var g = ForwardGeometry("ConvTranspose2d.Forward", x, w, stride, padding, outputPadding);
        Conv2d.CheckVariant("ConvTranspose2d.Forward", x.Device, variant);
        return Conv2d.Filled(Tensor.Empty(x.Device, g.N, g.C, g.H, g.W), y => ForwardInto(x, w, bias, stride, padding, outputPadding, y, variant));
    }

    /// <summary><see cref="Forward"/> into a given y [N, C_out, OH, OW] (its old values are ignored).</summary>
    public static void ForwardInto(Tensor x, Tensor w, Tensor? bias, int stride, int padding, int outputPadding, Tensor y, Conv2dVariant variant = default)
    {
        const string op = "ConvTranspose2d.Forward";
        var g = ForwardGeometry(op, x, w, stride, padding, outputPadding);
        Conv2d.CheckBias(op, bias, g.C, x);
        Check.SameDevice(op, x, w, y);
        Check.Shape(op, "y", y, g.N, g.C, g.H, g.W);
        Conv2d.InputGradCore(g, x, w, bias, y, variant); // the identity: forward = Conv2d's input gradient
    }

    /// <summary>dx = dL/dx [N, C_in, H, W] from dy [N, C_out, OH, OW]: Conv2d's forward of dy with the same w.</summary>
    public static Tensor InputGrad(Tensor dy, Tensor w, int stride, int padding, Conv2dVariant variant = default)
    {
        var g = InputGradGeometry("ConvTranspose2d.InputGrad", dy, w, stride, padding);
        Conv2d.CheckVariant("ConvTranspose2d.InputGrad", dy.Device, variant);
        return Conv2d.Filled(Tensor.Empty(dy.Device, g.N, g.O, g.OH, g.OW), dx => InputGradInto(dy, w, stride, padding, dx, variant));
    }

    /// <summary><see cref="InputGrad"/> into a given dx [N, C_in, H, W] (overwritten).</summary>
    public static void InputGradInto(Tensor dy, Tensor w, int stride, int padding, Tensor dx, Conv2dVariant variant = default)
    {
        const string op = "ConvTranspose2d.InputGrad";
        var g = InputGradGeometry(op, dy, w, stride, padding);
        Check.SameDevice(op, dy, w, dx);
        Check.Shape(op, "dx", dx, g.N, g.O, g.OH, g.OW);
        Conv2d.ForwardCore(g, dy, w, null, dx, variant); // the identity: input gradient = Conv2d's forward
    }

    /// <summary>dw = dL/dw [C_in, C_out, KH, KW] from x [N, C_in, H, W] and dy [N, C_out, OH, OW].</summary>
    public static Tensor WeightGrad(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding, Conv2dVariant variant = default)
    {
        var g = WeightGradGeometry("ConvTranspose2d.WeightGrad", x, dy, kernelH, kernelW, stride, padding);
        Conv2d.CheckVariant("ConvTranspose2d.WeightGrad", x.Device, variant);
        return Conv2d.Filled(Tensor.Empty(x.Device, g.O, g.C, g.KH, g.KW), dw => WeightGradInto(x, dy, kernelH, kernelW, stride, padding, dw, variant));
    }

    /// <summary><see cref="WeightGrad"/> into a given dw [C_in, C_out, KH, KW] (overwritten).</summary>
    public static void WeightGradInto(Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding, Tensor dw, Conv2dVariant variant = default)
    {
        const string op = "ConvTranspose2d.WeightGrad";
        var g = WeightGradGeometry(op, x, dy, kernelH, kernelW, stride, padding);
        Check.SameDevice(op, x, dy, dw);
        Check.Shape(op, "dw", dw, g.O, g.C, g.KH, g.KW);
        Conv2d.WeightGradCore(g, dy, x, dw, variant); // the identity: Conv2d's weight gradient with x and dy swapped
    }

    /// <summary>db = dL/dbias [C_out]: dy summed over N, OH, OW (the same as <see cref="Conv2d.BiasGrad"/>).</summary>
    public static Tensor BiasGrad(Tensor dy) => Conv2d.BiasGrad(dy);

    /// <summary>The output size along one axis: (in - 1) * s - 2p + k + outputPadding.</summary>
    public static int OutputSize(int input, int kernel, int stride, int padding, int outputPadding = 0)
        => (input - 1) * stride - 2 * padding + kernel + outputPadding;

    // ================================================================ checks, and the convolution each call is the transpose of

    // Each geometry is that of the Conv2d whose transpose this is: it maps [N, C_out, OH, OW] (its "x")
    // to [N, C_in, H, W] (its "y") with weights [O = C_in, C = C_out, KH, KW].

    static Conv2dGeometry ForwardGeometry(string op, Tensor x, Tensor w, int stride, int padding, int outputPadding)
    {
        Check.Rank(op, "x", x, 4);
        Check.Rank(op, "w", w, 4);
        Conv2d.CheckStrideAndPadding(op, stride, padding);
        if (outputPadding < 0 || outputPadding >= stride)
            throw new ArgumentOutOfRangeException(nameof(outputPadding),
                $"{op}: output padding {outputPadding} must be at least 0 and smaller than the stride {stride}");
        if (x.Dim(1) != w.Dim(0))
            throw new TensorShapeException(
                $"{op}: x {Shapes.Format(x.Shape)} has {x.Dim(1)} channels but w {Shapes.Format(w.Shape)} expects {w.Dim(0)} (w is [C_in, C_out, KH, KW])");
        int kh = w.Dim(2), kw = w.Dim(3);
        int oh = OutputSize(x.Dim(2), kh, stride, padding, outputPadding), ow = OutputSize(x.Dim(3), kw, stride, padding, outputPadding);
        if (oh < 1 || ow < 1)
            throw new TensorShapeException(
                $"{op}: x {Shapes.Format(x.Shape)} with kernel {kh}x{kw}, stride {stride}, padding {padding} gives an empty {oh}x{ow} output");
        var g = Conv2dGeometry.Of(x.Dim(0), w.Dim(1), oh, ow, w.Dim(0), kh, kw, stride, padding);
        System.Diagnostics.Debug.Assert(g.OH == x.Dim(2) && g.OW == x.Dim(3));
        return g;
    }

    static Conv2dGeometry InputGradGeometry(string op, Tensor dy, Tensor w, int stride, int padding)
    {
        Check.Rank(op, "dy", dy, 4);
        Check.Rank(op, "w", w, 4);
        Conv2d.CheckStrideAndPadding(op, stride, padding);
        if (dy.Dim(1) != w.Dim(1))
            throw new TensorShapeException(
                $"{op}: dy {Shapes.Format(dy.Shape)} has {dy.Dim(1)} channels but w {Shapes.Format(w.Shape)} has {w.Dim(1)} output channels (w is [C_in, C_out, KH, KW])");
        Conv2d.CheckKernelFits(op, dy.Dim(2), dy.Dim(3), w.Dim(2), w.Dim(3), padding, "dy");
        return Conv2dGeometry.Of(dy.Dim(0), dy.Dim(1), dy.Dim(2), dy.Dim(3), w.Dim(0), w.Dim(2), w.Dim(3), stride, padding);
    }

    static Conv2dGeometry WeightGradGeometry(string op, Tensor x, Tensor dy, int kernelH, int kernelW, int stride, int padding)
    {
        Check.Rank(op, "x", x, 4);
        Check.Rank(op, "dy", dy, 4);
        Conv2d.CheckStrideAndPadding(op, stride, padding);
        if (kernelH < 1 || kernelW < 1)
            throw new TensorShapeException($"{op}: kernel size {kernelH}x{kernelW} must be positive");
        if (x.Dim(0) != dy.Dim(0))
            throw new TensorShapeException($"{op}: x {Shapes.Format(x.Shape)} and dy {Shapes.Format(dy.Shape)} have different batch sizes");
        Conv2d.CheckKernelFits(op, dy.Dim(2), dy.Dim(3), kernelH, kernelW, padding, "dy");
        var g = Conv2dGeometry.Of(dy.Dim(0), dy.Dim(1), dy.Dim(2), dy.Dim(3), x.Dim(1), kernelH, kernelW, stride, padding);
        if (g.OH != x.Dim(2) || g.OW != x.Dim(3))
            throw new TensorShapeException(
                $"{op}: dy {Shapes.Format(dy.Shape)} does not fit x {Shapes.Format(x.Shape)} with kernel {kernelH}x{kernelW}, stride {stride}, " +
                $"padding {padding}: the output should be {OutputSize(x.Dim(2), kernelH, stride, padding)}x{OutputSize(x.Dim(3), kernelW, stride, padding)} " +
                $"(plus an output padding below the stride)");
        return g;
    }
}
