using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

using NativeGan.Nn; // inside the namespace: the layer names win over the kernel classes of the same name

/// <summary>
/// AdaIN, Dropout, Embedding, Reshape and BatchNorm2d's num_batches_tracked: outputs and gradients against
/// float64 references written here, dropout's statistics and determinism, eval-mode identity.
/// </summary>
[Collection("MemoryTests")] // pool leak checks: not beside other tests on the same device
public class ModuleStyleTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static double[] D(Tensor t) => ToDouble(t.ToArray());

    static Tensor Input(Device d, float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape, d);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>y = forward(); backpropagates a random r; returns y, r (as float64) and y's shape.</summary>
    static (float[] Y, double[] R, int[] Shape) Backprop(Func<Tensor> forward, Random rng)
    {
        using var scope = new TensorScope();
        var y = forward();
        using var r = Tensor.FromArray(Random(rng, y.Length), y.Shape, y.Device);
        y.Backward(r);
        return (y.ToArray(), D(r), y.Shape);
    }

    // ---------------------------------------------------------------- AdaIN

    [Theory, MemberData(nameof(Devices))]
    public void AdaINMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(1);
        bool slow = TestDevices.IsSlow(d);
        int n = 2, c = slow ? 3 : 5, h = 3, w = slow ? 2 : 7, s = slow ? 3 : 5;
        var layer = new AdaIN(c, s, device: d, rng: new Rng(3));
        Assert.Equal(["style.weight", "style.bias"], layer.StateDict().Keys);
        Assert.Equal([2 * c, s], layer.Style.Weight.Shape);
        // A fresh layer's bias: scale 1, shift 0 (it starts as plain instance norm plus the weight's term).
        Assert.Equal([.. Enumerable.Repeat(1f, c), .. Enumerable.Repeat(0f, c)], layer.Style.Bias!.ToArray());
        // Random bias from here on, so the test does not lean on the 1/0 start.
        using (var b = Tensor.FromArray(Random(rng, 2 * c, 0.5f, 1.5f), [2 * c], d)) layer.Style.Bias!.CopyFrom(b);

        var content = Input(d, Random(rng, n * c * h * w, -2f, 3f), n, c, h, w);
        var style = Input(d, Random(rng, n * s), n, s);
        double[] x = D(content), st = D(style), wt = D(layer.Style.Weight), bias = D(layer.Style.Bias!);
        var (y, r, shape) = Backprop(() => layer.Forward(content, style), rng);
        Assert.Equal([n, c, h, w], shape);

        // Reference: the style map, then the kernel's float64 AdaIN reference and its backward.
        var map = new double[n * 2 * c];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < 2 * c; o++)
            {
                double v = bias[o];
                for (int k = 0; k < s; k++) v += wt[o * s + k] * st[i * s + k];
                map[i * 2 * c + o] = v;
            }
        var scale = new double[n * c];
        var shift = new double[n * c];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                scale[i * c + ch] = map[i * 2 * c + ch];
                shift[i * c + ch] = map[i * 2 * c + c + ch];
            }
        var (yRef, _, _) = NativeGan.AdaIN.Reference.Forward(x, n, c, h, w, scale, shift, 1e-5);
        var (dxRef, dScale, dShift) = NativeGan.AdaIN.Reference.Backward(r, x, n, c, h, w, scale, 1e-5);
        var dMap = new double[n * 2 * c];
        for (int i = 0; i < n; i++)
            for (int ch = 0; ch < c; ch++)
            {
                dMap[i * 2 * c + ch] = dScale[i * c + ch];
                dMap[i * 2 * c + c + ch] = dShift[i * c + ch];
            }
        var dW = new double[2 * c * s];
        var dB = new double[2 * c];
        var dStyle = new double[n * s];
        for (int i = 0; i < n; i++)
            for (int o = 0; o < 2 * c; o++)
            {
                dB[o] += dMap[i * 2 * c + o];
                for (int k = 0; k < s; k++)
                {
                    dW[o * s + k] += dMap[i * 2 * c + o] * st[i * s + k];
                    dStyle[i * s + k] += dMap[i * 2 * c + o] * wt[o * s + k];
                }
            }
        AssertClose(yRef, y, what: "AdaIN y");
        AssertClose(dxRef, content.Grad!.ToArray(), rtol: 1e-3, atol: 1e-4, what: "AdaIN d content");
        AssertClose(dStyle, style.Grad!.ToArray(), rtol: 1e-3, atol: 1e-4, what: "AdaIN d style");
        AssertClose(dW, layer.Style.Weight.Grad!.ToArray(), rtol: 1e-3, atol: 1e-4, what: "AdaIN d style.weight");
        AssertClose(dB, layer.Style.Bias!.Grad!.ToArray(), rtol: 1e-3, atol: 1e-4, what: "AdaIN d style.bias");

        content.ZeroGrad(); style.ZeroGrad(); layer.ZeroGrad();
        content.Dispose(); style.Dispose(); layer.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Fact]
    public void AdaINRefusesOneInputAndBadShapes()
    {
        using var layer = new AdaIN(3, 4);
        using var content = Tensor.Zeros(Device.Cpu, 2, 3, 4, 4);
        using var style = Tensor.Zeros(Device.Cpu, 2, 4);
        using var wrongStyle = Tensor.Zeros(Device.Cpu, 2, 5);
        using var wrongBatch = Tensor.Zeros(Device.Cpu, 3, 4);
        Assert.Contains("Forward(content, style)", Assert.Throws<NotSupportedException>(() => layer.Forward(content)).Message);
        using (new TensorScope())
        {
            Assert.Contains("AdaIN", Assert.Throws<TensorShapeException>(() => layer.Forward(content, wrongStyle)).Message);
            Assert.Contains("AdaIN", Assert.Throws<TensorShapeException>(() => layer.Forward(content, wrongBatch)).Message);
            Assert.Contains("AdaIN", Assert.Throws<TensorShapeException>(() => layer.Forward(style, style)).Message);
        }
    }

    // ---------------------------------------------------------------- Dropout

    [Theory, MemberData(nameof(Devices))]
    public void DropoutKeepsOneMinusPScaledAndIsSeeded(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        int count = TestDevices.IsSlow(d) ? 3001 : 64_001;
        const float p = 0.3f;
        var rng = new Random(2);
        var x = Input(d, Random(rng, count, 0.5f, 1.5f), 1, count);
        double[] xs = D(x);
        var dropout = new Dropout(p, new Rng(5));
        var (y, r, _) = Backprop(() => dropout.Forward(x), rng);
        var dx = x.Grad!.ToArray();
        x.ZeroGrad();

        // Each element is 0 or x / (1 - p); the gradient is r times the same mask.
        int zeros = 0;
        double scaleSum = 0;
        for (int i = 0; i < count; i++)
        {
            double m = y[i] / xs[i];
            if (y[i] == 0) zeros++;
            else Assert.Equal(1 / (1 - p), m, 5);
            double dxRef = r[i] * (y[i] == 0 ? 0 : 1 / (1 - p));
            Assert.True(Math.Abs(dx[i] - dxRef) <= 1e-6 * (1 + Math.Abs(dxRef)), $"dx[{i}] = {dx[i]}, expected {dxRef}");
            scaleSum += y[i] == 0 ? 0 : 1 / (1 - p);
        }
        // Binomial: the share dropped is p within 5 standard deviations; the mean scale is 1 likewise.
        double sigma = Math.Sqrt(p * (1 - p) / count);
        Assert.InRange((double)zeros / count, p - 5 * sigma, p + 5 * sigma);
        Assert.InRange(scaleSum / count, 1 - 5 * sigma / (1 - p), 1 + 5 * sigma / (1 - p));

        // The same seed gives the same mask (bit for bit, on this device and on the cpu); the next call another.
        float[] Mask(Device dev, Dropout layer, int calls)
        {
            using var ones = Tensor.Ones(dev, 1, count);
            float[] result = [];
            for (int k = 0; k < calls; k++)
                using (new TensorScope()) result = layer.Forward(ones).ToArray();
            return result;
        }
        var first = Mask(d, new Dropout(p, new Rng(5)), 1);
        Assert.Equal(y.Select(v => v != 0), first.Select(v => v != 0));
        Assert.Equal(first, Mask(d, new Dropout(p, new Rng(5)), 1));
        Assert.Equal(first, Mask(Device.Cpu, new Dropout(p, new Rng(5)), 1));
        Assert.NotEqual(first, Mask(d, new Dropout(p, new Rng(5)), 2));

        // Evaluation: the identity, values and gradient.
        dropout.Eval();
        var (ye, re, _) = Backprop(() => dropout.Forward(x), rng);
        Assert.Equal(x.ToArray(), ye);
        AssertClose(re, x.Grad!.ToArray(), what: "eval dropout dx");
        x.ZeroGrad();
        x.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Fact]
    public void DropoutEdgeProbabilities()
    {
        using var x = Tensor.FromArray([1f, -2f, 3f], [1, 3]);
        using (new TensorScope())
        {
            Assert.Equal([1f, -2f, 3f], new Dropout(0f, new Rng(1)).Forward(x).ToArray());
            Assert.Equal([0f, 0f, 0f], new Dropout(1f, new Rng(1)).Forward(x).ToArray().Select(v => v + 0f));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(1.5f, new Rng(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new Dropout(float.NaN, new Rng(1)));
    }

    // ---------------------------------------------------------------- Embedding

    [Theory, MemberData(nameof(Devices))]
    public void EmbeddingLooksUpRowsAndSumsTheirGradients(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(3);
        const int classes = 5, dim = 3;
        var layer = new Embedding(classes, dim, device: d, rng: new Rng(4));
        Assert.Equal(["weight"], layer.StateDict().Keys);
        Assert.Equal([classes, dim], layer.Weight.Shape);
        int[] labels = [2, 0, 2, 4, 1, 2, 0];
        double[] w = D(layer.Weight);
        var (y, r, shape) = Backprop(() => layer.Forward(labels), rng);
        Assert.Equal([labels.Length, dim], shape);
        var yRef = new double[labels.Length * dim];
        var dw = new double[classes * dim];
        for (int i = 0; i < labels.Length; i++)
            for (int k = 0; k < dim; k++)
            {
                yRef[i * dim + k] = w[labels[i] * dim + k];
                dw[labels[i] * dim + k] += r[i * dim + k];
            }
        AssertClose(yRef, y, what: "Embedding y");
        AssertClose(dw, layer.Weight.Grad!.ToArray(), what: "Embedding d weight"); // row 3 (unused) stays 0
        layer.ZeroGrad();
        layer.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Fact]
    public void EmbeddingInitIsStandardNormalAndBadLabelsThrow()
    {
        using var layer = new Embedding(100, 50, rng: new Rng(6));
        var w = D(layer.Weight);
        double mean = w.Average(), std = Math.Sqrt(w.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.05, 0.05);   // 5000 draws: standard error 0.014
        Assert.InRange(std, 0.95, 1.05);
        Assert.Contains("label 1 is 100", Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward([3, 100])).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => layer.Forward([-1]));
        using var x = Tensor.Zeros(Device.Cpu, 2, 100);
        Assert.Contains("Forward(int[] labels)", Assert.Throws<NotSupportedException>(() => layer.Forward(x)).Message);
    }

    // ---------------------------------------------------------------- Reshape and num_batches_tracked

    [Theory, MemberData(nameof(Devices))]
    public void ReshapeKeepsTheBatchAndPassesGradients(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(4);
        using var x = Input(d, Random(rng, 2 * 24), 2, 24);
        var layer = new Reshape(3, -1, 2);
        var (y, r, shape) = Backprop(() => layer.Forward(x), rng);
        Assert.Equal([2, 3, 4, 2], shape);
        Assert.Equal(x.ToArray(), y);
        AssertClose(r, x.Grad!.ToArray(), what: "Reshape dx");
        Assert.Equal([2, 24], x.Grad!.Shape);
        x.ZeroGrad();
    }

    [Theory, MemberData(nameof(Devices))]
    public void BatchNormCountsTrainingBatches(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var layer = new BatchNorm2d(3, device: d);
        Assert.Equal([], layer.NumBatchesTracked.Shape);
        Assert.Equal([0f], layer.NumBatchesTracked.ToArray());
        using var x = Tensor.FromArray(Random(new Random(5), 2 * 3 * 2 * 3), [2, 3, 2, 3], d);
        for (int i = 0; i < 3; i++) using (new TensorScope()) layer.Forward(x);
        Assert.Equal([3f], layer.NumBatchesTracked.ToArray());
        layer.Eval();
        using (new TensorScope()) layer.Forward(x);
        Assert.Equal([3f], layer.NumBatchesTracked.ToArray()); // evaluation does not count
        Assert.False(layer.NumBatchesTracked.RequiresGrad);
    }
}
