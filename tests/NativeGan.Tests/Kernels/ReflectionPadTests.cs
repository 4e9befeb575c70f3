using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class ReflectionPadTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "ReflectionPad2d.Forward"), Trait("Kernel", "ReflectionPad2d.Backward")]
    public void PaddingAndItsBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(43);
        // Odd sizes; padding 0, 1, the largest allowed (one less than a side), and a plane of one row's width.
        (int[] Shape, int Pad)[] cases = TestDevices.IsSlow(d)
            ? [([2, 3, 4, 5], 3), ([1, 2, 3, 2], 1)]
            : [([3, 5, 7, 9], 1), ([2, 3, 4, 5], 3), ([1, 2, 13, 6], 5), ([2, 1, 3, 3], 0), ([1, 3, 2, 17], 1)];
        foreach (var (shape, pad) in cases)
        {
            var x = Random(rng, Shapes.Numel(shape));
            using var xt = Tensor.FromArray(x, shape, d);
            int[] padded = [shape[0], shape[1], shape[2] + 2 * pad, shape[3] + 2 * pad];
            using var y = Poisoned(d, padded);
            ReflectionPad2d.ForwardInto(xt, y, pad);
            AssertClose(ReflectionPad2d.Reference.Forward(ToDouble(x), shape, pad), y.ToArray(), rtol: 0, atol: 0,
                what: $"reflection pad {pad} of {Shapes.Format(shape)} on {d.Name}");

            var dy = Random(rng, Shapes.Numel(padded));
            using var dyt = Tensor.FromArray(dy, padded, d);
            using var dx = Poisoned(d, shape);
            ReflectionPad2d.BackwardInto(dyt, dx, pad);
            AssertClose(ReflectionPad2d.Reference.Backward(ToDouble(dy), shape, pad), dx.ToArray(),
                what: $"backward of pad {pad} of {Shapes.Format(shape)} on {d.Name}");
        }
    }

    [Fact]
    public void TheReferenceMirrorsAsPyTorchsDocumentedExample()
    {
        // torch.nn.ReflectionPad2d(2) of torch.arange(9.).reshape(1, 1, 3, 3), as PyTorch's documentation prints it.
        double[] expected =
        [
            8, 7, 6, 7, 8, 7, 6,
            5, 4, 3, 4, 5, 4, 3,
            2, 1, 0, 1, 2, 1, 0,
            5, 4, 3, 4, 5, 4, 3,
            8, 7, 6, 7, 8, 7, 6,
            5, 4, 3, 4, 5, 4, 3,
            2, 1, 0, 1, 2, 1, 0,
        ];
        Assert.Equal(expected, ReflectionPad2d.Reference.Forward([0, 1, 2, 3, 4, 5, 6, 7, 8], [1, 1, 3, 3], 2));
    }

    [Fact]
    public void BadPaddingNamesTheOpAndTheShape()
    {
        using var x = Tensor.Zeros(Device.Cpu, 1, 2, 3, 5);
        var e = Assert.Throws<TensorShapeException>(() => ReflectionPad2d.Forward(x, 3));
        Assert.Contains("ReflectionPad2d.Forward", e.Message);
        Assert.Contains("[1, 2, 3, 5]", e.Message);
        Assert.Throws<TensorShapeException>(() => ReflectionPad2d.Forward(x, -1));
        using var flat = Tensor.Zeros(Device.Cpu, 4);
        Assert.Throws<TensorShapeException>(() => ReflectionPad2d.Forward(flat, 1));
        using var y = Tensor.Zeros(Device.Cpu, 1, 2, 5, 6);
        e = Assert.Throws<TensorShapeException>(() => ReflectionPad2d.ForwardInto(x, y, 1));
        Assert.Contains("[1, 2, 5, 7]", e.Message);
    }
}
