using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class UpsampleTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "AvgPool2d.Forward"), Trait("Kernel", "AvgPool2d.Backward")]
    public void Nearest2xAndItsBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(41);
        int[][] shapes = TestDevices.IsSlow(d) ? [[2, 3, 3, 5], [1, 1, 1, 1]] : [[4, 3, 17, 9], [2, 1, 7, 7], [3, 5, 1, 33]];
        foreach (var shape in shapes)
        {
            var x = Random(rng, Shapes.Numel(shape));
            using var xt = Tensor.FromArray(x, shape, d);
            int[] up = [shape[0], shape[1], 2 * shape[2], 2 * shape[3]];
            using var y = Poisoned(d, up);
            Upsample2d.Nearest2xInto(xt, y);
            AssertClose(Upsample2d.Reference.Nearest2x(ToDouble(x), shape), y.ToArray(), rtol: 0, atol: 0, what: $"upsample {Shapes.Format(shape)} on {d.Name}");

            var dy = Random(rng, Shapes.Numel(up));
            using var dyt = Tensor.FromArray(dy, up, d);
            using var dx = Poisoned(d, shape);
            Upsample2d.Nearest2xBackwardInto(dyt, dx);
            AssertClose(Upsample2d.Reference.Nearest2xBackward(ToDouble(dy), up), dx.ToArray(), what: $"backward {Shapes.Format(shape)} on {d.Name}");
        }
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var odd = Tensor.Zeros(Device.Cpu, 1, 2, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => Upsample2d.Nearest2xBackward(odd));
        Assert.Contains("Nearest2xBackward", e.Message);
        Assert.Contains("[1, 2, 3, 4]", e.Message);
        using var x = Tensor.Zeros(Device.Cpu, 1, 2, 3, 4);
        using var y = Tensor.Zeros(Device.Cpu, 1, 2, 6, 7);
        e = Assert.Throws<TensorShapeException>(() => Upsample2d.Nearest2xInto(x, y));
        Assert.Contains("[1, 2, 6, 8]", e.Message);
        using var flat = Tensor.Zeros(Device.Cpu, 4);
        Assert.Throws<TensorShapeException>(() => Upsample2d.Nearest2x(flat));
    }
}
