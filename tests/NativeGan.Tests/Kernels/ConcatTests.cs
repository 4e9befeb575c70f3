using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class ConcatTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "ChannelConcat.CopyRows")]
    public void ConcatAndSplitAreInverses(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(51);
        (int N, int[] Channels, int[] Trailing)[] cases = TestDevices.IsSlow(d)
            ? [(2, [1, 3, 5], [3, 5]), (3, [2, 7], [])]
            : [(5, [1, 3, 5], [7, 9]), (17, [10, 100], []), (2, [3, 0, 1], [33]), (1, [4], [2, 2])];
        foreach (var (n, channels, trailing) in cases)
        {
            int inner = trailing.Aggregate(1, (a, b) => a * b);
            var parts = channels.Select(c => Random(rng, n * c * inner)).ToArray();
            var tensors = channels.Select((c, i) => Tensor.FromArray(parts[i], [n, c, .. trailing], d)).ToArray();
            int[] shape = [n, channels.Sum(), .. trailing];
            using var y = Poisoned(d, shape);
            ChannelConcat.ConcatInto(tensors, y);
            var expected = ChannelConcat.Reference.Concat(parts.Select(ToDouble).ToArray(), n, channels, inner);
            AssertClose(expected, y.ToArray(), rtol: 0, atol: 0, what: $"concat of [{string.Join(", ", channels)}] on {d.Name}");

            var back = channels.Select(c => Poisoned(d, [n, c, .. trailing])).ToArray();
            ChannelConcat.SplitInto(y, back);
            for (int i = 0; i < back.Length; i++) Assert.Equal(parts[i], back[i].ToArray());
            var split = ChannelConcat.Split(y, channels);
            for (int i = 0; i < split.Length; i++) Assert.Equal(parts[i], split[i].ToArray());
            foreach (var t in tensors.Concat(back).Concat(split)) t.Dispose();
        }
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var a = Tensor.Zeros(Device.Cpu, 2, 3, 4);
        using var b = Tensor.Zeros(Device.Cpu, 2, 3, 5);
        var e = Assert.Throws<TensorShapeException>(() => ChannelConcat.Concat(a, b));
        Assert.Contains("ChannelConcat.Concat", e.Message);
        Assert.Contains("[2, 3, 5]", e.Message);
        e = Assert.Throws<TensorShapeException>(() => ChannelConcat.Split(a, [1, 1]));
        Assert.Contains("add up to 3", e.Message);
        using var c = Tensor.Zeros(Device.Get("ilgpu-cpu"), 2, 1, 4);
        Assert.Throws<ArgumentException>(() => ChannelConcat.Concat(a, c));
    }
}
