using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class ElementwiseTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static (UnaryOp Op, float P0, float P1, float Lo, float Hi)[] UnaryCases =>
    [
        (UnaryOp.Neg, 0, 0, -3, 3), (UnaryOp.Exp, 0, 0, -5, 5), (UnaryOp.Log, 0, 0, 0.01f, 10),
        (UnaryOp.Sqrt, 0, 0, 0.01f, 10), (UnaryOp.Abs, 0, 0, -3, 3), (UnaryOp.Square, 0, 0, -3, 3),
        (UnaryOp.Relu, 0, 0, -3, 3), (UnaryOp.LeakyRelu, 0.2f, 0, -3, 3), (UnaryOp.Tanh, 0, 0, -6, 6),
        (UnaryOp.Sigmoid, 0, 0, -12, 12), (UnaryOp.Softplus, 0, 0, -30, 30), (UnaryOp.Pow, 1.7f, 0, 0.01f, 4),
        (UnaryOp.Clamp, -0.5f, 0.25f, -2, 2), (UnaryOp.Affine, -1.5f, 0.75f, -3, 3),
        (UnaryOp.Step, 0.2f, 0, -3, 3), (UnaryOp.Sign, 0, 0, -3, 3),
    ];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Elementwise.Unary"), Trait("Kernel", "Elementwise.Fill")]
    public void UnaryOpsMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        int[] shape = TestDevices.IsSlow(d) ? [3, 5, 7] : [3, 5, 7, 97]; // odd sizes: vector tails
        var rng = new Random(1);
        foreach (var (op, p0, p1, lo, hi) in UnaryCases)
        {
            var x = Random(rng, Shapes.Numel(shape), lo, hi);
            using var xt = Tensor.FromArray(x, shape, d);
            using var y = Poisoned(d, shape);
            Elementwise.UnaryInto(op, xt, y, p0, p1);
            var expected = Array.ConvertAll(x, v => Elementwise.Reference.Unary(op, v, p0, p1));
            AssertClose(expected, y.ToArray(), what: $"{op} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void UnaryInPlace(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var x = Random(new Random(2), 37);
        using var t = Tensor.FromArray(x, [37], d);
        Elementwise.UnaryInto(UnaryOp.Tanh, t, t);
        AssertClose(Array.ConvertAll(x, v => Math.Tanh(v)), t.ToArray());
    }

    public static TheoryData<string, int[], int[]> BroadcastCases()
    {
        var data = new TheoryData<string, int[], int[]>();
        foreach (var dev in new[] { "cpu", "ilgpu-cpu", "cuda" })
        {
            data.Add(dev, [3, 5, 7], [3, 5, 7]);    // same shape
            data.Add(dev, [3, 5, 7], [1]);          // scalar
            data.Add(dev, [3, 5, 7], [7]);          // row vector
            data.Add(dev, [3, 1, 7], [5, 1]);       // both sides broadcast
            data.Add(dev, [2, 3, 5, 7], [1, 3, 1, 1]); // per-channel, NCHW
            data.Add(dev, [1], [4, 3]);             // scalar on the left
            data.Add(dev, [3, 5, 1], [3, 5, 9]);    // column broadcast on the last axis
            data.Add(dev, [7, 5, 1, 1], [1, 5, 1, 1]); // per-feature on [N, F, 1, 1]: coalesced to [7, 5] x [1, 5]
            data.Add(dev, [7, 5, 1, 1], [7, 5]);    // same numbers, different ranks: coalesced to one flat axis
            data.Add(dev, [2, 1, 3, 4, 5], [2, 1, 1, 4, 5]); // size-1 axes between merged runs
            data.Add(dev, [1, 1, 1], [1]);          // every axis of size 1
        }
        return data;
    }

    [Theory, MemberData(nameof(BroadcastCases)), Trait("Kernel", "Elementwise.Binary"), Trait("Kernel", "Elementwise.BinaryBroadcast")]
    public void BinaryOpsBroadcastLikeNumpy(string deviceName, int[] aShape, int[] bShape)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(3);
        foreach (var op in Enum.GetValues<BinaryOp>())
        {
            bool positive = op is BinaryOp.Pow or BinaryOp.Div;
            var a = Random(rng, Shapes.Numel(aShape), positive ? 0.1f : -2f, 2f);
            var b = Random(rng, Shapes.Numel(bShape), positive ? 0.5f : -2f, 2f);
            using var at = Tensor.FromArray(a, aShape, d);
            using var bt = Tensor.FromArray(b, bShape, d);
            var expected = Elementwise.Reference.Binary(op, ToDouble(a), aShape, ToDouble(b), bShape, out var shape);
            using var y = Poisoned(d, shape);
            Elementwise.BinaryInto(op, at, bt, y);
            AssertClose(expected, y.ToArray(), what: $"{op} {Shapes.Format(aShape)} x {Shapes.Format(bShape)} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Elementwise.ScaleAdd")]
    public void ScaleAddIsAxpby(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        int n = TestDevices.IsSlow(d) ? 77 : 100_003;
        var rng = new Random(4);
        var x = Random(rng, n);
        var y = Random(rng, n);
        using var xt = Tensor.FromArray(x, [n], d);
        using var yt = Tensor.FromArray(y, [n], d);
        Elementwise.ScaleAdd(yt, 0.9f, xt, -2.5f);
        var expected = new double[n];
        for (int i = 0; i < n; i++) expected[i] = -2.5 * x[i] + 0.9 * y[i];
        AssertClose(expected, yt.ToArray());
    }

    [Fact]
    public void IncompatibleShapesNameTheOpAndShapes()
    {
        using var a = Tensor.Zeros(Device.Cpu, 3, 4);
        using var b = Tensor.Zeros(Device.Cpu, 5);
        var e = Assert.Throws<TensorShapeException>(() => Elementwise.Add(a, b));
        Assert.Contains("Add", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[5]", e.Message);
    }

    [Fact]
    public void MixingDevicesIsRefused()
    {
        using var a = Tensor.Ones(Device.Cpu, 3);
        using var b = Tensor.Ones(Device.Get("ilgpu-cpu"), 3);
        var e = Assert.Throws<ArgumentException>(() => Elementwise.Mul(a, b));
        Assert.Contains("different devices", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
    }
}
