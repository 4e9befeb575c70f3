using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// <see cref="JointL2Norm"/> against its float64 reference on every device: lists longer than one table of 16 tensors,
/// odd sizes (one empty), and a concatenation long enough for several groups of the GPU kernel with a partial tail.
/// </summary>
public class JointL2NormTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "JointL2Norm.SumOfSquares")]
    public void MatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(21);
        int[][] lists =
        [
            [1],
            [7, 0, 13],
            [5, 1, 13, 0, 7, 3, 17, 2, 9, 1, 4, 11, 6, 1, 8, 3, 15, 2, 37], // 19 tensors: two tables
            [4096 * 2 + 333, 5, 4097], // 3 groups of 4096 in the first table's concatenation, the last one short
        ];
        foreach (var sizes in lists)
        {
            var xs = sizes.Select(n => Random(rng, n, -2f, 2f)).ToArray();
            var ts = xs.Select(x => Tensor.FromArray(x, [x.Length], d)).ToList();
            try
            {
                using var y = JointL2Norm.Forward(ts);
                Assert.Equal([1], y.Shape);
                AssertClose([JointL2Norm.Reference.Forward(xs.Select(ToDouble))], y.ToArray(), rtol: 1e-5,
                    what: $"JointL2Norm of [{string.Join(", ", sizes)}] on {d.Name}");
            }
            finally
            {
                ts.ForEach(t => t.Dispose());
            }
        }
    }

    [Fact]
    public void AllEmptyIsZeroAndNoTensorsIsAnError()
    {
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        using var e = Tensor.Zeros(d, 0);
        using (var y = JointL2Norm.Forward([e])) Assert.Equal([0f], y.ToArray());
        var error = Assert.Throws<ArgumentException>(() => JointL2Norm.Forward([]));
        Assert.Contains("JointL2Norm", error.Message);
    }

    [Fact]
    public void AGradientNormOnAGpuIsTwoLaunches()
    {
        // GradientClipping.GradNormTensor on a device of its own: 10 gradients, one multi-tensor launch and one reduction of the partials.
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        var ps = Enumerable.Range(1, 10).Select(n => Tensor.Zeros(d, n * 100)).ToList();
        try
        {
            foreach (var p in ps) p.Grad = Tensor.Full(d, 0.5f, p.Length);
            var before = d.Counters;
            using var norm = NativeGan.Nn.GradientClipping.GradNormTensor(ps);
            Assert.Equal(2, (d.Counters - before).Launches);
            Assert.Equal(0.5f * MathF.Sqrt(5500), norm.Item(), 3);
        }
        finally
        {
            foreach (var p in ps) { p.Grad!.Dispose(); p.Dispose(); }
        }
    }
}
