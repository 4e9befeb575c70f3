using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

using NativeGan.Nn; // inside the namespace: the layer names win over the kernel classes of the same name

/// <summary>
/// Each layer's output and its input and parameter gradients against float64 references computed here (plain
/// loops, or the kernels' float64 <c>Reference</c> classes for convolutions and batch statistics), on random
/// data of odd sizes, with the layer's own (seeded) initial weights. The gradient is of sum(y * r) for a random r,
/// so it is the backward pass applied to r.
/// </summary>
[Collection("MemoryTests")] // pool leak checks: not beside other tests on the same device
public class ModuleLayerTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static double[] D(Tensor t) => ToDouble(t.ToArray());

    /// <summary>
    /// Runs the layer on x (requires grad) and backpropagates r; returns y and the gradients of x and of each
    /// parameter (by name). Everything the step made is freed; the caller disposes x and the layer.
    /// </summary>
    static (float[] Y, float[] Dx, Dictionary<string, float[]> DParams) Run(Module layer, Tensor x, Random rng)
    {
        x.RequiresGrad = true;
        float[] yHost, dx;
        using (new TensorScope())
        {
            var y = layer.Forward(x);
            using var r = Tensor.FromArray(Random(rng, y.Length), y.Shape, x.Device);
            lastR = ToDouble(r.ToArray());
            lastYShape = y.Shape;
            y.Backward(r);
            yHost = y.ToArray();
        }
        dx = x.Grad!.ToArray();
        x.ZeroGrad();
        var dParams = layer.NamedParameters().ToDictionary(p => p.Name, p => p.Tensor.Grad!.ToArray());
        layer.ZeroGrad();
        return (yHost, dx, dParams);
    }

    [ThreadStatic] static double[]? lastR;
    [ThreadStatic] static int[]? lastYShape;

    [Theory, MemberData(nameof(Devices))]
    public void LinearMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(1);
        const int n = 5, inF = 7, outF = 3;
        using var layer = new Linear(inF, outF, device: d, rng: new Rng(11));
        using var x = Tensor.FromArray(Random(rng, n * inF), [n, inF], d);
        double[] xs = D(x), w = D(layer.Weight), b = D(layer.Bias!);
        var (y, dx, dp) = Run(layer, x, rng);
        var r = lastR!;

        var yRef = new double[n * outF];
        var dxRef = new double[n * inF];
        var dwRef = new double[outF * inF];
        var dbRef = new double[outF];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < outF; o++)
            {
                double s = b[o];
                for (int k = 0; k < inF; k++)
                {
                    s += xs[i * inF + k] * w[o * inF + k];
                    dxRef[i * inF + k] += r[i * outF + o] * w[o * inF + k];
                    dwRef[o * inF + k] += r[i * outF + o] * xs[i * inF + k];
                }
                yRef[i * outF + o] = s;
                dbRef[o] += r[i * outF + o];
            }
        AssertClose(yRef, y, what: "y");
        AssertClose(dxRef, dx, what: "dx");
        AssertClose(dwRef, dp["weight"], what: "dweight");
        AssertClose(dbRef, dp["bias"], what: "dbias");
        Assert.Equal(["weight", "bias"], layer.NamedParameters().Select(p => p.Name));
        Assert.Equal([outF, inF], layer.Weight.Shape);
        x.Dispose(); layer.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Theory, MemberData(nameof(Devices))]
    public void Conv2dMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(2);
        int[] xShape = [2, 3, 7, 6];
        using var layer = new Conv2d(3, 5, 3, stride: 2, padding: 1, device: d, rng: new Rng(12));
        using var x = Tensor.FromArray(Random(rng, Shapes.Numel(xShape)), xShape, d);
        double[] xs = D(x), w = D(layer.Weight), b = D(layer.Bias!);
        int[] wShape = layer.Weight.Shape;
        var (y, dx, dp) = Run(layer, x, rng);
        double[] r = lastR!; int[] yShape = lastYShape!;

        Assert.Equal([2, 5, 4, 3], yShape);
        AssertClose(NativeGan.Conv2d.Reference.Forward(xs, xShape, w, wShape, b, 2, 1), y, what: "y");
        AssertClose(NativeGan.Conv2d.Reference.InputGrad(r, yShape, w, wShape, 7, 6, 2, 1), dx, what: "dx");
        AssertClose(NativeGan.Conv2d.Reference.WeightGrad(xs, xShape, r, yShape, 3, 3, 2, 1), dp["weight"], what: "dweight");
        AssertClose(NativeGan.Conv2d.Reference.BiasGrad(r, yShape), dp["bias"], what: "dbias");
    }

    [Theory, MemberData(nameof(Devices))]
    public void ConvTranspose2dMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(3);
        int[] xShape = [2, 3, 5, 4];
        using var layer = new ConvTranspose2d(3, 2, 4, stride: 2, padding: 1, outputPadding: 1, device: d, rng: new Rng(13));
        using var x = Tensor.FromArray(Random(rng, Shapes.Numel(xShape)), xShape, d);
        double[] xs = D(x), w = D(layer.Weight), b = D(layer.Bias!);
        int[] wShape = layer.Weight.Shape;
        Assert.Equal([3, 2, 4, 4], wShape);
        var (y, dx, dp) = Run(layer, x, rng);
        double[] r = lastR!; int[] yShape = lastYShape!;

        Assert.Equal([2, 2, 11, 9], yShape);
        AssertClose(NativeGan.ConvTranspose2d.Reference.Forward(xs, xShape, w, wShape, b, 2, 1, 1), y, what: "y");
        AssertClose(NativeGan.ConvTranspose2d.Reference.InputGrad(r, yShape, w, wShape, 2, 1), dx, what: "dx");
        AssertClose(NativeGan.ConvTranspose2d.Reference.WeightGrad(xs, xShape, r, yShape, 4, 4, 2, 1), dp["weight"], what: "dweight");
        AssertClose(NativeGan.Conv2d.Reference.BiasGrad(r, yShape), dp["bias"], what: "dbias");
    }

    [Theory, MemberData(nameof(Devices))]
    public void BatchNorm2dTrainingMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(4);
        const int n = 3, c = 5, h = 3, w = 7;
        var layer = new BatchNorm2d(c, device: d);
        using (var g = Tensor.FromArray(Random(rng, c, 0.5f, 1.5f), [c], d)) layer.Weight.CopyFrom(g);
        using (var bt = Tensor.FromArray(Random(rng, c), [c], d)) layer.Bias.CopyFrom(bt);
        var x = Tensor.FromArray(Random(rng, n * c * h * w, -2f, 3f), [n, c, h, w], d);
        double[] xs = D(x), gamma = D(layer.Weight), beta = D(layer.Bias);
        var (y, dx, dp) = Run(layer, x, rng);
        double[] r = lastR!;

        var (yRef, _, _) = NativeGan.BatchNorm2d.Reference.Forward(xs, n, c, h, w, gamma, beta, 1e-5);
        var (dxRef, dgRef, dbRef) = NativeGan.BatchNorm2d.Reference.Backward(r, xs, n, c, h, w, gamma, 1e-5);
        AssertClose(yRef, y, what: "y");
        AssertClose(dxRef, dx, rtol: 1e-3, atol: 1e-4, what: "dx");
        AssertClose(dgRef, dp["weight"], rtol: 1e-3, atol: 1e-4, what: "dweight");
        AssertClose(dbRef, dp["bias"], what: "dbias");
        x.Dispose(); layer.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Theory, MemberData(nameof(Devices))]
    public void BatchNorm2dRunningStatisticsAfterTwoStepsAndEvalUsesThem(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(5);
        const int n = 2, c = 3, h = 5, w = 3;
        const double momentum = 0.3;
        var layer = new BatchNorm2d(c, momentum: (float)momentum, device: d);
        using (var g = Tensor.FromArray(Random(rng, c, 0.5f, 1.5f), [c], d)) layer.Weight.CopyFrom(g);
        using (var bt = Tensor.FromArray(Random(rng, c), [c], d)) layer.Bias.CopyFrom(bt);
        double[] rm = new double[c], rv = [1, 1, 1];
        for (int step = 0; step < 2; step++)
        {
            using var x = Tensor.FromArray(Random(rng, n * c * h * w, -1f + step, 2f + 3 * step), [n, c, h, w], d);
            var (_, mean, variance) = NativeGan.BatchNorm2d.Reference.Forward(D(x), n, c, h, w, null, null, 1e-5);
            (rm, rv) = NativeGan.BatchNorm2d.Reference.UpdateRunning(rm, rv, mean, variance, n * h * w, momentum);
            using (new TensorScope()) layer.Forward(x);
        }
        AssertClose(rm, layer.RunningMean.ToArray(), what: "running_mean");
        AssertClose(rv, layer.RunningVar.ToArray(), what: "running_var");

        // Eval: the running statistics, and a gradient with respect to x of gamma / sqrt(running_var + eps).
        layer.Eval();
        Assert.False(layer.Training);
        var xe = Tensor.FromArray(Random(rng, n * c * h * w), [n, c, h, w], d);
        double[] xs = D(xe), gamma = D(layer.Weight), beta = D(layer.Bias);
        var (y, dx, dp) = Run(layer, xe, rng);
        double[] r = lastR!;
        AssertClose(NativeGan.BatchNorm2d.Reference.Apply(xs, n, c, h, w, gamma, beta, rm, rv, 1e-5), y, what: "eval y");
        var dxRef = new double[xs.Length];
        var dgRef = new double[c];
        var dbRef = new double[c];
        for (int i = 0; i < xs.Length; i++)
        {
            int ch = i / (h * w) % c;
            double invStd = 1 / Math.Sqrt(rv[ch] + 1e-5);
            dxRef[i] = r[i] * gamma[ch] * invStd;
            dgRef[ch] += r[i] * (xs[i] - rm[ch]) * invStd;
            dbRef[ch] += r[i];
        }
        AssertClose(dxRef, dx, what: "eval dx");
        AssertClose(dgRef, dp["weight"], rtol: 1e-3, atol: 1e-4, what: "eval dweight");
        AssertClose(dbRef, dp["bias"], what: "eval dbias");
        AssertClose(rm, layer.RunningMean.ToArray(), what: "running_mean unchanged in eval");
        xe.Dispose(); layer.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Theory, MemberData(nameof(Devices))]
    public void InstanceNorm2dAffineMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(6);
        const int n = 2, c = 3, h = 5, w = 3, m = h * w;
        using var layer = new InstanceNorm2d(c, affine: true, device: d);
        using (var g = Tensor.FromArray(Random(rng, c, 0.5f, 1.5f), [c], d)) layer.Weight!.CopyFrom(g);
        using (var bt = Tensor.FromArray(Random(rng, c), [c], d)) layer.Bias!.CopyFrom(bt);
        using var x = Tensor.FromArray(Random(rng, n * c * m, -2f, 1f), [n, c, h, w], d);
        double[] xs = D(x), gamma = D(layer.Weight!), beta = D(layer.Bias!);
        var (y, dx, dp) = Run(layer, x, rng);
        double[] r = lastR!;

        var yRef = new double[xs.Length];
        var dxRef = new double[xs.Length];
        var dgRef = new double[c];
        var dbRef = new double[c];
        for (int plane = 0; plane < n * c; plane++)
        {
            int ch = plane % c, o = plane * m;
            double mean = 0, variance = 0;
            for (int k = 0; k < m; k++) mean += xs[o + k] / m;
            for (int k = 0; k < m; k++) variance += (xs[o + k] - mean) * (xs[o + k] - mean) / m;
            double invStd = 1 / Math.Sqrt(variance + 1e-5), meanDy = 0, meanDyXhat = 0;
            for (int k = 0; k < m; k++)
            {
                double xhat = (xs[o + k] - mean) * invStd;
                yRef[o + k] = gamma[ch] * xhat + beta[ch];
                meanDy += r[o + k] / m;
                meanDyXhat += r[o + k] * xhat / m;
                dgRef[ch] += r[o + k] * xhat;
                dbRef[ch] += r[o + k];
            }
            // d/dx of a standardisation: invStd (dy - mean dy - xhat mean(dy xhat)), times gamma.
            for (int k = 0; k < m; k++)
                dxRef[o + k] = gamma[ch] * invStd * (r[o + k] - meanDy - (xs[o + k] - mean) * invStd * meanDyXhat);
        }
        AssertClose(yRef, y, what: "y");
        AssertClose(dxRef, dx, rtol: 1e-3, atol: 1e-4, what: "dx");
        AssertClose(dgRef, dp["weight"], rtol: 1e-3, atol: 1e-4, what: "dweight");
        AssertClose(dbRef, dp["bias"], what: "dbias");
    }

    public static TheoryData<string, string> ActivationCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var dev in new[] { "cpu", "ilgpu-cpu", "cuda" })
            foreach (var a in new[] { "ReLU", "LeakyReLU", "Tanh", "Sigmoid" }) data.Add(dev, a);
        return data;
    }

    [Theory, MemberData(nameof(ActivationCases))]
    public void ActivationsMatchTheReference(string deviceName, string kind)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(7);
        Module layer = kind switch
        {
            "ReLU" => new ReLU(), "LeakyReLU" => new LeakyReLU(0.2f), "Tanh" => new Tanh(), _ => new Sigmoid(),
        };
        Func<double, (double Y, double Dy)> f = kind switch
        {
            "ReLU" => v => (Math.Max(v, 0), v > 0 ? 1 : 0),
            "LeakyReLU" => v => (v > 0 ? v : 0.2 * v, v > 0 ? 1 : 0.2),
            "Tanh" => v => (Math.Tanh(v), 1 - Math.Tanh(v) * Math.Tanh(v)),
            _ => v => (1 / (1 + Math.Exp(-v)), Math.Exp(-v) / Math.Pow(1 + Math.Exp(-v), 2)),
        };
        using var x = Tensor.FromArray(Random(rng, 3 * 17, -3f, 3f), [3, 17], d);
        var xs = D(x);
        var (y, dx, _) = Run(layer, x, rng);
        var r = lastR!;
        AssertClose(xs.Select(v => f(v).Y).ToArray(), y, what: "y");
        AssertClose(xs.Select((v, i) => f(v).Dy * r[i]).ToArray(), dx, what: "dx");
        Assert.Empty(layer.NamedParameters());
    }

    [Theory, MemberData(nameof(Devices))]
    public void ShapeLayersMatchTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(8);
        const int n = 2, c = 3, h = 7, w = 5;
        using var x = Tensor.FromArray(Random(rng, n * c * h * w), [n, c, h, w], d);
        var xs = D(x);

        // Upsample: y[.., i, j] = x[.., i / 2, j / 2]; dx is the sum of each 2x2 block of r.
        var (y, dx, _) = Run(new Upsample(), x, rng);
        var r = lastR!;
        Assert.Equal([n, c, 2 * h, 2 * w], lastYShape!);
        var yRef = new double[y.Length];
        var dxRef = new double[xs.Length];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < 2 * h; i++)
                for (int j = 0; j < 2 * w; j++)
                {
                    int src = (p * h + i / 2) * w + j / 2, dst = (p * 2 * h + i) * 2 * w + j;
                    yRef[dst] = xs[src];
                    dxRef[src] += r[dst];
                }
        AssertClose(yRef, y, what: "upsample y");
        AssertClose(dxRef, dx, what: "upsample dx");

        // AvgPool2d(2): floor sizes 3 x 2; each window element gets r / 4, elements outside every window 0.
        (y, dx, _) = Run(new AvgPool2d(2), x, rng);
        r = lastR!;
        int oh = h / 2, ow = w / 2;
        Assert.Equal([n, c, oh, ow], lastYShape!);
        yRef = new double[y.Length];
        dxRef = new double[xs.Length];
        for (int p = 0; p < n * c; p++)
            for (int i = 0; i < oh; i++)
                for (int j = 0; j < ow; j++)
                    for (int a = 0; a < 2; a++)
                        for (int b = 0; b < 2; b++)
                        {
                            int src = (p * h + 2 * i + a) * w + 2 * j + b, dst = (p * oh + i) * ow + j;
                            yRef[dst] += xs[src] / 4;
                            dxRef[src] += r[dst] / 4;
                        }
        AssertClose(yRef, y, what: "avgpool y");
        AssertClose(dxRef, dx, what: "avgpool dx");

        // Flatten: the same values as [N, rest], the gradient passes unchanged.
        (y, dx, _) = Run(new Flatten(), x, rng);
        Assert.Equal([n, c * h * w], lastYShape!);
        AssertClose(xs, y, what: "flatten y");
        AssertClose(lastR!, dx, what: "flatten dx");
    }

    [Theory, MemberData(nameof(Devices))]
    public void SequentialChainsLayersAndFreesIntermediates(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(9);
        var seq = new Sequential(new Linear(6, 4, device: d, rng: new Rng(1)), new LeakyReLU(0.2f), new Linear(4, 3, device: d, rng: new Rng(2)), new Tanh());
        using var x = Tensor.FromArray(Random(rng, 5 * 6), [5, 6], d);
        var seqY = Run(seq, x, rng);

        // The same layers by hand.
        var l0 = (Linear)seq[0];
        var l2 = (Linear)seq[2];
        using (new TensorScope())
        {
            x.RequiresGrad = false;
            var h1 = x.Linear(l0.Weight, l0.Bias).LeakyRelu(0.2f);
            var y = h1.Linear(l2.Weight, l2.Bias).Tanh();
            AssertClose(ToDouble(y.ToArray()), seqY.Y, what: "y");
        }
        Assert.Equal(["0.weight", "0.bias", "2.weight", "2.bias"], seq.NamedParameters().Select(p => p.Name));
        Assert.Equal(4, seq.Parameters().Count());
        seq.Dispose();
        x.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }
}
