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
