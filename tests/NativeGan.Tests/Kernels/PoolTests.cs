using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class PoolTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "AvgPool2d.Forward"), Trait("Kernel", "AvgPool2d.Backward")]
    public void AvgPoolForwardAndBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(31);
        (int[] Shape, int K, int S)[] cases = TestDevices.IsSlow(d)
            ? [([2, 3, 5, 7], 2, 2), ([1, 1, 6, 5], 3, 1), ([1, 5, 4, 4], 2, 2)]
            : [([4, 3, 33, 17], 2, 2), ([2, 1, 9, 11], 3, 1), ([3, 5, 16, 16], 2, 2), ([2, 3, 13, 15], 3, 2), ([1, 1, 4, 4], 4, 4)];
        foreach (var (shape, k, s) in cases)
        {
            var x = Random(rng, Shapes.Numel(shape));
            using var xt = Tensor.FromArray(x, shape, d);
            int[] outShape = [shape[0], shape[1], AvgPool2d.OutputSize(shape[2], k, s), AvgPool2d.OutputSize(shape[3], k, s)];
            using var y = Poisoned(d, outShape);
            AvgPool2d.ForwardInto(xt, y, k, s);
            string what = $"{Shapes.Format(shape)} k{k} s{s} on {d.Name}";
            AssertClose(AvgPool2d.Reference.Forward(ToDouble(x), shape, k, s), y.ToArray(), what: what);

            var dy = Random(rng, Shapes.Numel(outShape));
            using var dyt = Tensor.FromArray(dy, outShape, d);
            using var dx = Poisoned(d, shape);
            AvgPool2d.BackwardInto(dyt, dx, k, s);
            AssertClose(AvgPool2d.Reference.Backward(ToDouble(dy), shape, k, s), dx.ToArray(), what: "backward " + what);
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "MaxPool2d.Select"), Trait("Kernel", "MaxPool2d.Spread")]
    public void MaxPoolSelectAndSpreadMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(33);
        // Tails: odd sizes, 1 and 3 channels, a stride that leaves a remainder, padding, overlapping windows, a
        // window the size of the padded input, and ties (values rounded to a few levels) that must go to the first.
        (int[] Shape, int K, int S, int P, bool Ties)[] cases = TestDevices.IsSlow(d)
            ? [([2, 3, 5, 7], 3, 2, 1, false), ([1, 1, 4, 5], 2, 2, 0, true), ([1, 2, 3, 3], 3, 1, 1, false)]
            : [([4, 3, 33, 17], 3, 2, 1, false), ([2, 1, 9, 11], 2, 2, 0, true), ([3, 5, 16, 16], 3, 1, 1, true),
               ([2, 3, 13, 15], 3, 2, 0, false), ([1, 1, 4, 4], 4, 4, 0, false), ([1, 1, 3, 5], 5, 1, 2, false), ([2, 64, 112, 112], 3, 2, 1, false)];
        foreach (var (shape, k, s, p, ties) in cases)
        {
            var x = Random(rng, Shapes.Numel(shape));
            if (ties) for (int i = 0; i < x.Length; i++) x[i] = MathF.Round(x[i] * 2) / 2;
            var v = Random(rng, x.Length);
            using var xt = Tensor.FromArray(x, shape, d);
            using var vt = Tensor.FromArray(v, shape, d);
            var outShape = MaxPool2d.OutputShape(shape, k, s, p);
            string what = $"{Shapes.Format(shape)} k{k} s{s} p{p} on {d.Name}";
            using var y = Poisoned(d, outShape);
            MaxPool2d.SelectInto(xt, xt, y, k, s, p);
            AssertClose(MaxPool2d.Reference.Forward(ToDouble(x), shape, k, s, p), y.ToArray(), rtol: 0, atol: 0, what: "forward " + what);
            using var selected = Poisoned(d, outShape);
            MaxPool2d.SelectInto(xt, vt, selected, k, s, p);
            AssertClose(MaxPool2d.Reference.Select(ToDouble(x), ToDouble(v), shape, k, s, p), selected.ToArray(), rtol: 0, atol: 0, what: "select " + what);

            var dy = Random(rng, Shapes.Numel(outShape));
            using var dyt = Tensor.FromArray(dy, outShape, d);
            using var dx = Poisoned(d, shape);
            MaxPool2d.SpreadInto(xt, dyt, dx, k, s, p);
            AssertClose(MaxPool2d.Reference.Spread(ToDouble(x), ToDouble(dy), shape, k, s, p), dx.ToArray(), what: "spread " + what);
        }
    }

    [Fact]
    public void MaxPoolBadInputsNameTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 5);
        var e = Assert.Throws<TensorShapeException>(() => MaxPool2d.Forward(x, 2, 2, 0));
        Assert.Contains("MaxPool2d.Select", e.Message);
        Assert.Contains("[2, 3, 5]", e.Message);
        using var small = Tensor.Zeros(Device.Cpu, 1, 1, 1, 5);
        Assert.Contains("does not fit", Assert.Throws<TensorShapeException>(() => MaxPool2d.Forward(small, 3, 1, 0)).Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => MaxPool2d.Forward(small, 2, 1, 2));
    }

    [Fact]
    public void BackwardIsTheAdjointOfForward()
    {
        // <pool(x), dy> = <x, pool_backward(dy)> for any x, dy: the defining property of a backward.
        var rng = new Random(32);
        int[] shape = [2, 3, 9, 8];
        var x = Random(rng, Shapes.Numel(shape));
        using var xt = Tensor.FromArray(x, shape);
        using var y = AvgPool2d.Forward(xt, 3, 2);
        var dy = Random(rng, y.Length);
        using var dyt = Tensor.FromArray(dy, y.Shape);
        using var dx = AvgPool2d.Backward(dyt, shape, 3, 2);
        double left = y.ToArray().Zip(dy, (a, b) => (double)a * b).Sum(), right = x.Zip(dx.ToArray(), (a, b) => (double)a * b).Sum();
        Assert.Equal(left, right, 1e-4);
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 5);
        var e = Assert.Throws<TensorShapeException>(() => AvgPool2d.Forward(x, 2));
        Assert.Contains("AvgPool2d.Forward", e.Message);
        Assert.Contains("[2, 3, 5]", e.Message);
        using var small = Tensor.Zeros(Device.Cpu, 1, 1, 1, 5);
        e = Assert.Throws<TensorShapeException>(() => AvgPool2d.Forward(small, 2));
        Assert.Contains("does not fit", e.Message);
        using var image = Tensor.Zeros(Device.Cpu, 1, 1, 4, 4);
        using var wrong = Tensor.Zeros(Device.Cpu, 1, 1, 3, 2);
        e = Assert.Throws<TensorShapeException>(() => AvgPool2d.BackwardInto(wrong, image, 2));
        Assert.Contains("AvgPool2d.Backward", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AvgPool2d.Forward(image, 0));
    }
}
