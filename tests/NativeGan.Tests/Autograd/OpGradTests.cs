using NativeGan;

namespace NativeGan.Tests.AutogradTests;

/// <summary>
/// GradCheck and GradGradCheck of every op in src/Autograd/Ops on every device (see
/// <see cref="GradChecker"/> for the method). Shapes are odd and small: the nested finite differences
/// cost four float64 evaluations per input element, and ilgpu-cpu is slow.
/// </summary>
public class OpGradTests
{
    static double[] Map(double[] x, Func<double, double> f) => Array.ConvertAll(x, v => f(v));

    static OpCase Unary(string name, UnaryOp op, Func<Tensor, Tensor> f, float p0 = 0, float lo = -1, float hi = 1, bool away = false) =>
        new(name, [[3, 5]], t => f(t[0]), x => Map(x[0], v => Elementwise.Reference.Unary(op, v, p0)), lo, hi, away);

    static OpCase Binary(string name, BinaryOp op, Func<Tensor, Tensor, Tensor> f, int[] a, int[] b, float lo = -1, float hi = 1) =>
        new(name, [a, b], t => f(t[0], t[1]), x => Elementwise.Reference.Binary(op, x[0], a, x[1], b, out _), lo, hi);

    /// <summary>op(A) @ op(B) in float64, plain loops.</summary>
    static double[] MatMul64(double[] a, int[] aShape, bool ta, double[] b, int[] bShape, bool tb)
    {
        int m = ta ? aShape[1] : aShape[0], k = ta ? aShape[0] : aShape[1], n = tb ? bShape[0] : bShape[1];
        var c = new double[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < k; p++)
                    c[i * n + j] += a[ta ? p * aShape[1] + i : i * k + p] * b[tb ? j * bShape[1] + p : p * n + j];
        return c;
    }

    static double[] PerSampleNorm64(double[] x, int n, double eps)
    {
        int per = x.Length / n;
        var y = new double[n];
        for (int s = 0; s < n; s++)
        {
            double sum = 0;
            for (int i = 0; i < per; i++) sum += x[s * per + i] * x[s * per + i];
            y[s] = Math.Sqrt(sum + eps);
        }
        return y;
    }

    // The fixed x whose window maxima MaxPool2dSelect and MaxPool2dSpread follow (distinct values: no ties).
    static readonly double[] MaxPoolProbe64 = [.. Enumerable.Range(0, 2 * 3 * 5 * 4).Select(i => (double)((i * 37) % 120))];
    static Tensor MaxPoolProbeOn(Tensor like) => Tensor.FromArray(Array.ConvertAll(MaxPoolProbe64, v => (float)v), [2, 3, 5, 4], like.Device);

    /// <summary>A fixed (not checked) input of an op on the device of <paramref name="like"/>.</summary>
    static Tensor Probe(Tensor like, double[] values, params int[] shape) => Tensor.FromArray(Array.ConvertAll(values, v => (float)v), shape, like.Device);

    static readonly double[] AdaInProbeMean = [0.1, -0.3, 0.2, 0.05, 0.4, -0.1], AdaInProbeStd = [0.5, 0.7, 0.3, 0.9, 0.45, 0.6];

    /// <summary>Mean and sqrt(biased variance + 1e-5) of each of the <paramref name="planes"/> planes of <paramref name="size"/> values.</summary>
    static (double[] Mean, double[] Std) MeanStd64(double[] x, int planes, int size)
    {
        var mean = new double[planes];
        var std = new double[planes];
        for (int p = 0; p < planes; p++)
        {
            var plane = x.AsSpan(p * size, size).ToArray();
            mean[p] = plane.Average();
            std[p] = Math.Sqrt(plane.Select(v => (v - mean[p]) * (v - mean[p])).Average() + 1e-5);
        }
        return (mean, std);
    }

    /// <summary>mean over planes of (μ - probe μ)² plus the same of σ.</summary>
    static double AdaInStyleLoss64(double[] x, int planes, int size)
    {
        var (mean, std) = MeanStd64(x, planes, size);
        return Enumerable.Range(0, planes).Average(p => (mean[p] - AdaInProbeMean[p]) * (mean[p] - AdaInProbeMean[p]))
             + Enumerable.Range(0, planes).Average(p => (std[p] - AdaInProbeStd[p]) * (std[p] - AdaInProbeStd[p]));
    }

    /// <summary>σ(s) (x - μ(x)) / σ(x) + μ(s) per plane.</summary>
    static double[] AdaIn64(double[] content, double[] style, int planes, int size, int styleSize)
    {
        var (mc, sc) = MeanStd64(content, planes, size);
        var (ms, ss) = MeanStd64(style, planes, styleSize);
        return [.. content.Select((v, i) => ss[i / size] * (v - mc[i / size]) / sc[i / size] + ms[i / size])];
    }

    /// <summary>G[n, c, c'] = (1 / P) Σ_p x[n, c, p] x[n, c', p] for x [N, C, P].</summary>
    static double[] Gram64(double[] x, int n, int c, int positions)
    {
        var g = new double[n * c * c];
        for (int s = 0; s < n; s++)
            for (int a = 0; a < c; a++)
                for (int b = 0; b < c; b++)
                {
                    double sum = 0;
                    for (int p = 0; p < positions; p++) sum += x[(s * c + a) * positions + p] * x[(s * c + b) * positions + p];
                    g[(s * c + a) * c + b] = sum / positions;
                }
        return g;
    }

    /// <summary>The mean over 2C (H-1)(W-1) positions of (x[i, j+1] - x[i, j])² and (x[i+1, j] - x[i, j])².</summary>
    static double TotalVariation64(double[] x, int n, int c, int h, int w)
    {
        double sum = 0;
        for (int s = 0; s < n; s++)
            for (int ch = 0; ch < c; ch++)
                for (int i = 0; i < h - 1; i++)
                    for (int j = 0; j < w - 1; j++)
                    {
                        double at = x[((s * c + ch) * h + i) * w + j];
                        sum += Math.Pow(x[((s * c + ch) * h + i) * w + j + 1] - at, 2) + Math.Pow(x[((s * c + ch) * h + i + 1) * w + j] - at, 2);
                    }
        return sum / (n * 2 * c * (h - 1) * (w - 1));
    }

    public static readonly Dictionary<string, OpCase> Cases = new OpCase[]
    {
        // ---- elementwise, binary with broadcasting
        Binary("Add", BinaryOp.Add, Ops.Add, [3, 5], [3, 5]),
        Binary("Add broadcast", BinaryOp.Add, Ops.Add, [3, 5], [5]),
        Binary("Sub broadcast", BinaryOp.Sub, Ops.Sub, [3, 1], [1, 5]),
        Binary("Mul", BinaryOp.Mul, Ops.Mul, [3, 5], [3, 5]),
        Binary("Mul broadcast", BinaryOp.Mul, Ops.Mul, [2, 3, 5], [3, 1]),
        Binary("Div broadcast", BinaryOp.Div, Ops.Div, [3, 5], [5], lo: 0.5f, hi: 2f),
        // ---- with a scalar
        new("Affine", [[3, 5]], t => t[0].Affine(-1.5f, 0.25f), x => Map(x[0], v => -1.5 * v + 0.25)),
        // ---- unary
        Unary("Neg", UnaryOp.Neg, Ops.Neg),
        Unary("Exp", UnaryOp.Exp, Ops.Exp),
        Unary("Log", UnaryOp.Log, Ops.Log, lo: 0.5f, hi: 2f),
        Unary("Sqrt", UnaryOp.Sqrt, Ops.Sqrt, lo: 0.5f, hi: 2f),
        Unary("Pow", UnaryOp.Pow, t => t.Pow(2.5f), p0: 2.5f, lo: 0.5f, hi: 2f),
        Unary("Square", UnaryOp.Square, Ops.Square),
        Unary("Abs", UnaryOp.Abs, Ops.Abs, away: true),
        Unary("Relu", UnaryOp.Relu, Ops.Relu, away: true),
        Unary("LeakyRelu", UnaryOp.LeakyRelu, t => t.LeakyRelu(0.2f), p0: 0.2f, away: true),
        Unary("Tanh", UnaryOp.Tanh, Ops.Tanh, lo: -2, hi: 2),
        Unary("Sigmoid", UnaryOp.Sigmoid, Ops.Sigmoid, lo: -3, hi: 3),
        Unary("Softplus", UnaryOp.Softplus, Ops.Softplus, lo: -3, hi: 3),
        // ---- reductions and shapes
        new("Sum", [[3, 5]], t => t[0].Sum(), x => [x[0].Sum()]),
        new("Mean", [[3, 5]], t => t[0].Mean(), x => [x[0].Average()]),
        new("Sum axes", [[2, 3, 5]], t => t[0].Sum([0, 2]), x => Reduce.Reference.Reduce(ReduceOp.Sum, x[0], [2, 3, 5], [0, 2])),
        new("Mean axis keepDims", [[3, 5]], t => t[0].Mean([1], keepDims: true), x => Reduce.Reference.Reduce(ReduceOp.Mean, x[0], [3, 5], [1])),
        new("Expand", [[3, 1]], t => t[0].Expand([2, 3, 5]),
            x => Elementwise.Reference.Binary(BinaryOp.Add, x[0], [3, 1], new double[30], [2, 3, 5], out _)),
        new("SumToShape", [[2, 3, 5]], t => t[0].SumToShape([3, 1]), x => Reduce.Reference.SumToShape(x[0], [2, 3, 5], [3, 1])),
        new("Reshape", [[3, 5]], t => Ops.Reshape(t[0], 5, 3), x => x[0]),
        // ---- matrix products
        new("MatMul", [[3, 4], [4, 5]], t => t[0].MatMul(t[1]), x => MatMul64(x[0], [3, 4], false, x[1], [4, 5], false)),
        new("MatMul transA", [[4, 3], [4, 5]], t => t[0].MatMul(t[1], transA: true), x => MatMul64(x[0], [4, 3], true, x[1], [4, 5], false)),
        new("MatMul transB", [[3, 4], [5, 4]], t => t[0].MatMul(t[1], transB: true), x => MatMul64(x[0], [3, 4], false, x[1], [5, 4], true)),
        new("MatMul transA transB", [[4, 3], [5, 4]], t => t[0].MatMul(t[1], true, true), x => MatMul64(x[0], [4, 3], true, x[1], [5, 4], true)),
        new("Linear", [[3, 4], [5, 4], [5]], t => t[0].Linear(t[1], t[2]),
            x => Elementwise.Reference.Binary(BinaryOp.Add, MatMul64(x[0], [3, 4], false, x[1], [5, 4], true), [3, 5], x[2], [5], out _)),
        // ---- norms
        new("PerSampleL2Norm", [[3, 2, 5]], t => t[0].PerSampleL2Norm(), x => PerSampleNorm64(x[0], 3, 1e-12)),
        new("InstanceNorm2d", [[2, 3, 3, 4]], t => t[0].InstanceNorm2d(),
            x => NativeGan.InstanceNorm2d.Reference.Forward(x[0], 2, 3, 3, 4, null, null, 1e-5).Y),
        new("InstanceNorm2d affine", [[2, 3, 3, 4], [3], [3]], t => t[0].InstanceNorm2d(t[1], t[2]),
            x => NativeGan.InstanceNorm2d.Reference.Forward(x[0], 2, 3, 3, 4, x[1], x[2], 1e-5).Y),
        new("LayerNorm affine", [[2, 3, 2, 2], [3, 2, 2], [3, 2, 2]], t => t[0].LayerNorm(t[1], t[2]),
            x => NativeGan.LayerNorm.Reference.Forward(x[0], 2, 12, x[1], x[2], 1e-5).Y),
        new("BatchNorm2d affine", [[3, 2, 2, 3], [2], [2]], t => t[0].BatchNorm2d(t[1], t[2]),
            x => NativeGan.BatchNorm2d.Reference.Forward(x[0], 3, 2, 2, 3, x[1], x[2], 1e-5).Y),
        new("BatchNorm2d on [N, F, 1, 1]", [[5, 3, 1, 1]], t => t[0].BatchNorm2d(),
            x => NativeGan.BatchNorm2d.Reference.Forward(x[0], 5, 3, 1, 1, null, null, 1e-5).Y),
        new("BatchNorm2d shift only", [[3, 2, 2, 3], [2]], t => t[0].BatchNorm2d(null, t[1]),
            x => NativeGan.BatchNorm2d.Reference.Forward(x[0], 3, 2, 2, 3, null, x[1], 1e-5).Y),
        new("AdaIN", [[2, 3, 2, 3], [2, 3], [2, 3]], t => t[0].AdaIN(t[1], t[2]),
            x => NativeGan.AdaIN.Reference.Forward(x[0], 2, 3, 2, 3, x[1], x[2], 1e-5).Y),
        // ---- convolutions (1 and 3 channels, odd sizes, a stride that leaves a remainder)
        new("Conv2d", [[2, 3, 5, 4], [2, 3, 3, 3], [2]], t => t[0].Conv2d(t[1], t[2], stride: 1, padding: 1),
            x => NativeGan.Conv2d.Reference.Forward(x[0], [2, 3, 5, 4], x[1], [2, 3, 3, 3], x[2], 1, 1)),
        new("Conv2d stride 2", [[2, 1, 6, 5], [3, 1, 3, 3]], t => t[0].Conv2d(t[1], stride: 2, padding: 1),
            x => NativeGan.Conv2d.Reference.Forward(x[0], [2, 1, 6, 5], x[1], [3, 1, 3, 3], null, 2, 1)),
        new("ConvTranspose2d", [[2, 3, 3, 2], [3, 2, 3, 3], [2]], t => t[0].ConvTranspose2d(t[1], t[2], stride: 2, padding: 1, outputPadding: 1),
            x => NativeGan.ConvTranspose2d.Reference.Forward(x[0], [2, 3, 3, 2], x[1], [3, 2, 3, 3], x[2], 2, 1, 1)),
        new("Conv2dInputGrad", [[2, 3, 3, 3], [3, 1, 3, 3]], t => Ops.Conv2dInputGrad(t[0], t[1], 6, 5, 2, 1),
            x => NativeGan.Conv2d.Reference.InputGrad(x[0], [2, 3, 3, 3], x[1], [3, 1, 3, 3], 6, 5, 2, 1)),
        new("Conv2dWeightGrad", [[2, 1, 6, 5], [2, 3, 3, 3]], t => Ops.Conv2dWeightGrad(t[0], t[1], 3, 3, 2, 1),
            x => NativeGan.Conv2d.Reference.WeightGrad(x[0], [2, 1, 6, 5], x[1], [2, 3, 3, 3], 3, 3, 2, 1)),
        // ---- pooling, upsampling, concatenation, permutation (linear maps and their adjoints)
        new("AvgPool2d", [[2, 3, 5, 4]], t => t[0].AvgPool2d(2), x => NativeGan.AvgPool2d.Reference.Forward(x[0], [2, 3, 5, 4], 2, 2)),
        new("AvgPool2dBackward", [[2, 3, 2, 2]], t => Ops.AvgPool2dBackward(t[0], [2, 3, 5, 4], 2),
            x => NativeGan.AvgPool2d.Reference.Backward(x[0], [2, 3, 5, 4], 2, 2)),
        new("BatchNorm2dEval", [[2, 3, 5, 4], [3], [3]], t => t[0].BatchNorm2dEval(t[1], t[2], Probe(t[0], [0.5, -0.25, 1], 3), Probe(t[0], [0.8, 1.5, 0.3], 3), 1e-3f),
            x => NativeGan.BatchNorm2d.Reference.Apply(x[0], 2, 3, 5, 4, x[1], x[2], [0.5, -0.25, 1], [0.8, 1.5, 0.3], 1e-3)),
        // ---- style transfer's losses (src/Gan/Style), composed from the ops above
        new("Gram", [[2, 3, 2, 3]], t => NativeGan.Gan.Style.StyleLosses.Gram(t[0]), x => Gram64(x[0], 2, 3, 6)),
        new("StyleLoss", [[1, 2, 3, 2]], t => NativeGan.Gan.Style.StyleLosses.StyleLoss(t[0], Probe(t[0], [0.1, -0.2, -0.2, 0.3], 1, 2, 2)),
            x => [Gram64(x[0], 1, 2, 6).Zip(new[] { 0.1, -0.2, -0.2, 0.3 }, (g, a) => (g - a) * (g - a)).Average()]),
        // AdaIN (Huang and Belongie 2017): the style loss on channel means and standard deviations, and AdaIN itself with
        // the style's statistics recorded (both inputs get gradients), against float64 written here.
        new("AdaInStyleLoss", [[2, 3, 3, 2]], t => NativeGan.Gan.Style.AdaInMath.StyleLoss(t[0], Probe(t[0], AdaInProbeMean, 2, 3, 1, 1), Probe(t[0], AdaInProbeStd, 2, 3, 1, 1)),
            x => [AdaInStyleLoss64(x[0], 6, 6)]),
        new("AdaIN content and style", [[2, 3, 3, 2], [2, 3, 2, 2]], t => NativeGan.Gan.Style.AdaInMath.AdaIN(t[0], t[1]),
            x => AdaIn64(x[0], x[1], 6, 6, 4)),
        new("TotalVariation", [[2, 2, 3, 4]], t => NativeGan.Gan.Style.StyleLosses.TotalVariation(t[0]), x => [TotalVariation64(x[0], 2, 2, 3, 4)]),
        new("MaxPool2d", [[2, 3, 5, 4]], t => t[0].MaxPool2d(3, 2, 1), x => NativeGan.MaxPool2d.Reference.Forward(x[0], [2, 3, 5, 4], 3, 2, 1)),
        new("MaxPool2dSelect", [[2, 3, 5, 4]], t => Ops.MaxPool2dSelect(MaxPoolProbeOn(t[0]), t[0], 3, 2, 1),
            x => NativeGan.MaxPool2d.Reference.Select(MaxPoolProbe64, x[0], [2, 3, 5, 4], 3, 2, 1)),
        new("MaxPool2dSpread", [[2, 3, 3, 2]], t => Ops.MaxPool2dSpread(MaxPoolProbeOn(t[0]), t[0], 3, 2, 1),
            x => NativeGan.MaxPool2d.Reference.Spread(MaxPoolProbe64, x[0], [2, 3, 5, 4], 3, 2, 1)),
        new("ReflectionPad2d", [[2, 2, 3, 4]], t => t[0].ReflectionPad2d(2), x => NativeGan.ReflectionPad2d.Reference.Forward(x[0], [2, 2, 3, 4], 2)),
        new("UpsampleNearest2x", [[2, 3, 3, 2]], t => t[0].UpsampleNearest2x(), x => Upsample2d.Reference.Nearest2x(x[0], [2, 3, 3, 2])),
        new("ChannelConcat", [[2, 1, 3, 2], [2, 3, 3, 2]], t => Ops.ChannelConcat(t[0], t[1]),
            x => NativeGan.ChannelConcat.Reference.Concat(x, 2, [1, 3], 6)),
        new("ChannelSlice", [[2, 5, 3]], t => t[0].ChannelSlice(1, 3),
            x => Enumerable.Range(0, 2 * 3 * 3).Select(i => x[0][(i / 9) * 15 + 3 + i % 9]).ToArray()),
        new("Permute", [[2, 3, 5]], t => t[0].Permute(2, 0, 1), x => Transpose.Reference.Permute(x[0], [2, 3, 5], [2, 0, 1])),
        new("Stack", [[2, 3], [2, 3], [2, 3]], t => Ops.Stack(t), x => [.. x[0], .. x[1], .. x[2]]),
        new("Unbind", [[3, 2, 2]], t => t[0].Unbind()[1], x => x[0][4..8]),
        // ---- the LSTM cell (gates [N, 4H], state [N, 2H]): one sample and one unit, and a tail of odd sizes
        new("LstmCell N1 H1", [[1, 4], [1, 2]], t => t[0].LstmCell(t[1]), x => NativeGan.LstmCell.Reference.Forward(x[0], x[1], 1, 1), -2f, 2f),
        new("LstmCell N3 H7", [[3, 28], [3, 14]], t => t[0].LstmCell(t[1]), x => NativeGan.LstmCell.Reference.Forward(x[0], x[1], 3, 7), -2f, 2f),
        new("GruCell N1 H1", [[1, 3], [1, 3], [1, 1]], t => Ops.GruCell(t[0], t[1], t[2]), x => NativeGan.GruCell.Reference.Forward(x[0], x[1], x[2], 1, 1), -2f, 2f),
        new("GruCell N3 H7", [[3, 21], [3, 21], [3, 7]], t => Ops.GruCell(t[0], t[1], t[2]), x => NativeGan.GruCell.Reference.Forward(x[0], x[1], x[2], 3, 7), -2f, 2f),
        // ---- a tensor used three times (gradients summed) through a nonlinearity
        new("Reuse", [[3, 5]], t => t[0].Mul(t[0]).Add(t[0]).Tanh(), x => Map(x[0], v => Math.Tanh(v * v + v))),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string, string> DevicesAndOps()
    {
        var data = new TheoryData<string, string>();
        foreach (var d in new[] { "cpu", "ilgpu-cpu", "cuda" })
            foreach (var name in Cases.Keys) data.Add(d, name);
        return data;
    }

    [Theory, MemberData(nameof(DevicesAndOps))]
    public void GradCheck(string deviceName, string op) => GradChecker.GradCheck(TestDevices.Get(deviceName), Cases[op]);

    [Theory, MemberData(nameof(DevicesAndOps))]
    public void GradGradCheck(string deviceName, string op) => GradChecker.GradGradCheck(TestDevices.Get(deviceName), Cases[op]);
}
