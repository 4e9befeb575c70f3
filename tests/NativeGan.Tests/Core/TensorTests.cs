using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Core;

public class TensorTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices))]
    public void RoundTripsThroughTheDevice(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var data = Random(new Random(1), 3 * 5 * 7);
        using var t = Tensor.FromArray(data, [3, 5, 7], d);
        Assert.Equal([3, 5, 7], t.Shape);
        Assert.Equal(105, t.Length);
        Assert.Equal(data, t.ToArray());
    }

    [Theory, MemberData(nameof(Devices))]
    public void ReshapeIsAViewThatInfersOneAxis(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var data = Random(new Random(2), 24);
        using var t = Tensor.FromArray(data, [2, 3, 4], d);
        using var v = t.Reshape(6, -1);
        Assert.Equal([6, 4], v.Shape);
        Assert.Same(t.Storage, v.Storage);
        // Writing through the view is seen by the base tensor.
        Elementwise.UnaryInto(UnaryOp.Neg, v, v);
        Assert.Equal(Array.ConvertAll(data, x => -x), t.ToArray());
    }

    [Fact]
    public void BadReshapesNameBothShapes()
    {
        using var t = Tensor.Zeros(Device.Cpu, 2, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => t.Reshape(5, -1));
        Assert.Contains("[2, 3, 4]", e.Message);
        Assert.Contains("[5, -1]", e.Message);
        Assert.Throws<TensorShapeException>(() => t.Reshape(-1, -1));
        Assert.Throws<TensorShapeException>(() => t.Reshape(7, 3));
    }

    [Theory, MemberData(nameof(Devices))]
    public void SliceBatchSharesStorageAtTheRightOffset(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var data = Random(new Random(3), 5 * 2 * 3);
        using var t = Tensor.FromArray(data, [5, 2, 3], d);
        using var s = t.SliceBatch(2, 2);
        Assert.Equal([2, 2, 3], s.Shape);
        Assert.Equal(data[12..24], s.ToArray());
        Elementwise.Fill(s, 7f);
        var after = t.ToArray();
        for (int i = 0; i < 30; i++) Assert.Equal(i is >= 12 and < 24 ? 7f : data[i], after[i]);
        Assert.Throws<ArgumentOutOfRangeException>(() => t.SliceBatch(4, 2));
    }

    [Theory, MemberData(nameof(Devices))]
    public void CloneAndToAreIndependentCopies(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var data = Random(new Random(4), 17);
        using var t = Tensor.FromArray(data, [17], d);
        using var c = t.Clone();
        using var onCpu = t.To(Device.Cpu);
        Elementwise.Fill(t, 0.5f);
        Assert.Equal(data, c.ToArray());
        Assert.Equal(data, onCpu.ToArray());
        Assert.Equal(Device.Cpu, onCpu.Device);
    }

    [Fact]
    public void FromArrayRefusesAWrongCount()
    {
        var e = Assert.Throws<TensorShapeException>(() => Tensor.FromArray(new float[5], [2, 3]));
        Assert.Contains("5 values", e.Message);
        Assert.Contains("[2, 3]", e.Message);
    }

    [Fact]
    public void UseAfterDisposeIsAClearError()
    {
        var t = Tensor.Ones(Device.Cpu, 3);
        t.Dispose();
        t.Dispose(); // twice is harmless
        var e = Assert.Throws<ObjectDisposedException>(() => t.ToArray());
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void ItemNeedsOneElement()
    {
        using var s = Tensor.Scalar(2.5f);
        Assert.Equal(2.5f, s.Item());
        using var v = Tensor.Ones(Device.Cpu, 2);
        Assert.Throws<TensorShapeException>(() => v.Item());
    }

    [Theory, MemberData(nameof(Devices))]
    public void EmptyTensorsAreAllowedAndOpsOnThemDoNothing(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var t = Tensor.Empty(d, 0, 3);
        Assert.Equal(0, t.Length);
        using var fromNothing = Tensor.FromArray([], [0, 3], d);
        Assert.Empty(fromNothing.ToArray());
        using var copy = fromNothing.Clone();
        Assert.Empty(t.ToArray());
        using var y = Elementwise.Unary(UnaryOp.Exp, t);
        Assert.Equal([0, 3], y.Shape);
    }

    [Theory, MemberData(nameof(Devices))]
    public void ItemsReadsSeveralScalarsAtOnce(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var a = Tensor.FromArray([1.5f], [1], d);
        using var block = Tensor.FromArray([7f, -2.25f, 9f], [3], d);
        using var b = block.Reshape(3).SliceBatch(1, 1);   // a view at an offset
        using var c = Tensor.FromArray([3e-8f], [1, 1], d);
        Assert.Equal([1.5f, -2.25f, 3e-8f, 1.5f], Tensor.Items([a, b, c, a]));
        Assert.Equal([1.5f], Tensor.Items([a]));
        Assert.Empty(Tensor.Items([]));
        Assert.Contains("one element", Assert.Throws<TensorShapeException>(() => Tensor.Items([a, block])).Message);
    }
}
