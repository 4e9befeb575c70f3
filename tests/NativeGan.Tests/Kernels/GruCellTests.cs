using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>The fused GRU cell (gate math of one time step) against its float64 definition, both ways.</summary>
public class GruCellTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "GruCell.Forward"), Trait("Kernel", "GruCell.Backward")]
    public void ForwardAndBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(61);
        foreach (var (n, h) in new[] { (1, 1), (3, 7), (1, 7), (3, 1), (5, 19) })
        {
            var xg = Random(rng, n * 3 * h, -3f, 3f);
            var hg = Random(rng, n * 3 * h, -3f, 3f);
            var prev = Random(rng, n * h);
            var dh = Random(rng, n * h);
            using var xt = Tensor.FromArray(xg, [n, 3 * h], d);
            using var ht = Tensor.FromArray(hg, [n, 3 * h], d);
            using var pt = Tensor.FromArray(prev, [n, h], d);
            using var gt = Tensor.FromArray(dh, [n, h], d);
            using var y = Poisoned(d, n, h);
            GruCell.ForwardInto(xt, ht, pt, y);
            AssertClose(GruCell.Reference.Forward(ToDouble(xg), ToDouble(hg), ToDouble(prev), n, h), y.ToArray(), what: $"GRU cell N {n} H {h} on {d.Name}");
            using var dxg = Poisoned(d, n, 3 * h);
            using var dhg = Poisoned(d, n, 3 * h);
            using var dPrev = Poisoned(d, n, h);
            GruCell.BackwardInto(gt, xt, ht, pt, dxg, dhg, dPrev);
            var (e1, e2, e3) = GruCell.Reference.Backward(ToDouble(dh), ToDouble(xg), ToDouble(hg), ToDouble(prev), n, h);
            AssertClose(e1, dxg.ToArray(), what: $"GRU dxg N {n} H {h} on {d.Name}");
            AssertClose(e2, dhg.ToArray(), what: $"GRU dhg N {n} H {h} on {d.Name}");
            AssertClose(e3, dPrev.ToArray(), what: $"GRU dhPrev N {n} H {h} on {d.Name}");
        }
    }

    [Fact]
    public void ReferenceBackwardIsTheFiniteDifferenceOfForward()
    {
        int n = 2, h = 3;
        var rng = new Random(62);
        double[][] x = [ToDouble(Random(rng, n * 3 * h, -2f, 2f)), ToDouble(Random(rng, n * 3 * h, -2f, 2f)), ToDouble(Random(rng, n * h))];
        var w = ToDouble(Random(rng, n * h));
        var (a, b, c) = GruCell.Reference.Backward(w, x[0], x[1], x[2], n, h);
        double[][] analytic = [a, b, c];
        double Loss() => GruCell.Reference.Forward(x[0], x[1], x[2], n, h).Zip(w, (p, q) => p * q).Sum();
        for (int i = 0; i < 3; i++)
            for (int k = 0; k < x[i].Length; k++)
            {
                double keep = x[i][k];
                x[i][k] = keep + 1e-6; double plus = Loss();
                x[i][k] = keep - 1e-6; double minus = Loss();
                x[i][k] = keep;
                Assert.Equal((plus - minus) / 2e-6, analytic[i][k], 1e-6);
            }
    }

    [Fact]
    public void BadShapesNameTheOp()
    {
        using var xg = Tensor.Zeros(Device.Cpu, 3, 10);
        using var prev = Tensor.Zeros(Device.Cpu, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => GruCell.Forward(xg, xg, prev));
        Assert.Contains("GruCell", e.Message);
    }
}
