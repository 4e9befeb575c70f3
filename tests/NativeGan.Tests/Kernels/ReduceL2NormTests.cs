using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class ReduceL2NormTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "PerSampleL2Norm.Backward")]
    public void ForwardAndBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(21);
        int[][] shapes = TestDevices.IsSlow(d) ? [[3, 1, 5, 7], [2, 4099]] : [[7, 3, 9, 11], [5, 1, 17, 13], [3, 40_001], [1, 5]];
        foreach (var shape in shapes)
        {
            int n = shape[0];
            var x = Random(rng, Shapes.Numel(shape));
            var dy = Random(rng, n);
            using var xt = Tensor.FromArray(x, shape, d);
            using var dyt = Tensor.FromArray(dy, [n], d);
            using var y = Poisoned(d, n);
            PerSampleL2Norm.ForwardInto(xt, y, eps: 1e-6f);
            var yRef = PerSampleL2Norm.Reference.Forward(ToDouble(x), n, 1e-6);
            AssertClose(yRef, y.ToArray(), what: $"norm of {Shapes.Format(shape)} on {d.Name}");
            using var dx = Poisoned(d, shape);
            PerSampleL2Norm.BackwardInto(dyt, xt, y, dx);
            AssertClose(PerSampleL2Norm.Reference.Backward(ToDouble(dy), ToDouble(x), yRef), dx.ToArray(), what: $"backward of {Shapes.Format(shape)} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "PerSampleL2Norm.Backward")]
    public void ZeroSampleGivesSqrtEpsAndAFiniteGradient(string deviceName)
    {
        // The gradient penalty's pitfall: a zero gradient. With eps inside the root the norm is sqrt(eps)
        // and the backward is exactly 0, not NaN.
        var d = TestDevices.Get(deviceName);
        using var x = Tensor.FromArray([0, 0, 0, 3, 4, 0], [2, 3], d);
        using var y = PerSampleL2Norm.Forward(x, eps: 1e-8f);
        var ys = y.ToArray();
        Assert.Equal(1e-4f, ys[0], 1e-9f);
        Assert.Equal(5f, ys[1], 1e-5f);
        using var dy = Tensor.Ones(d, 2);
        using var dx = PerSampleL2Norm.Backward(dy, x, y);
        Assert.Equal([0f, 0f, 0f, 0.6f, 0.8f, 0f], dx.ToArray().Select(v => MathF.Round(v, 6)).ToArray());
    }

    [Fact]
    public void BackwardIsTheFiniteDifferenceOfForward()
    {
        var x = Random(new Random(22), 2 * 7, -1f, 1f);
        var xd = ToDouble(x);
        var y = PerSampleL2Norm.Reference.Forward(xd, 2, 1e-3);
        var analytic = PerSampleL2Norm.Reference.Backward([1, 1], xd, y);
        for (int i = 0; i < xd.Length; i++)
        {
            var plus = (double[])xd.Clone(); plus[i] += 1e-6;
            var minus = (double[])xd.Clone(); minus[i] -= 1e-6;
            double fd = (PerSampleL2Norm.Reference.Forward(plus, 2, 1e-3).Sum() - PerSampleL2Norm.Reference.Forward(minus, 2, 1e-3).Sum()) / 2e-6;
            Assert.Equal(fd, analytic[i], 1e-6);
        }
        // And the float32 cpu backward agrees with the reference.
        using var xt = Tensor.FromArray(x, [2, 7]);
        using var yt = PerSampleL2Norm.Forward(xt, 1e-3f);
        using var ones = Tensor.Ones(Device.Cpu, 2);
        using var dx = PerSampleL2Norm.Backward(ones, xt, yt);
        AssertClose(analytic, dx.ToArray());
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 3, 4);
        using var y = Tensor.Zeros(Device.Cpu, 4);
        var e = Assert.Throws<TensorShapeException>(() => PerSampleL2Norm.ForwardInto(x, y));
        Assert.Contains("PerSampleL2Norm.Forward", e.Message);
        Assert.Contains("[4]", e.Message);
        using var dy = Tensor.Zeros(Device.Cpu, 3);
        using var y3 = Tensor.Ones(Device.Cpu, 3);
        using var dx = Tensor.Zeros(Device.Cpu, 4, 3);
        e = Assert.Throws<TensorShapeException>(() => PerSampleL2Norm.BackwardInto(dy, x, y3, dx));
        Assert.Contains("PerSampleL2Norm.Backward", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => PerSampleL2Norm.Forward(x, -1f));
    }
}
