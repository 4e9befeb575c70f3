using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>The fused minibatch-discrimination closeness against its float64 definition, both ways.</summary>
public class MinibatchClosenessTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "MinibatchCloseness.Forward"), Trait("Kernel", "MinibatchCloseness.Backward")]
    public void ForwardAndBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(31);
        // Batches that are not multiples of the vector width (8) or of each other; one kernel; a single sample.
        int[][] shapes = TestDevices.IsSlow(d) ? [[5, 3, 2], [1, 2, 3]] : [[7, 3, 5], [33, 17, 5], [9, 1, 1], [1, 4, 3], [100, 20, 5]];
        foreach (var shape in shapes)
            foreach (bool includeSelf in new[] { false, true })
            {
                int n = shape[0], b = shape[1], c = shape[2];
                var m = Random(rng, n * b * c, -0.6f, 0.6f); // distances of order 1: exp terms neither 0 nor 1
                var g = Random(rng, n * b);
                using var mt = Tensor.FromArray(m, shape, d);
                using var gt = Tensor.FromArray(g, [n, b], d);
                using var o = Poisoned(d, n, b);
                MinibatchCloseness.ForwardInto(mt, o, includeSelf);
                AssertClose(MinibatchCloseness.Reference.Forward(ToDouble(m), n, b, c, includeSelf), o.ToArray(),
                    what: $"closeness of {Shapes.Format(shape)} (self {includeSelf}) on {d.Name}");
                using var dm = Poisoned(d, shape);
                MinibatchCloseness.BackwardInto(gt, mt, dm);
                AssertClose(MinibatchCloseness.Reference.Backward(ToDouble(g), ToDouble(m), n, b, c), dm.ToArray(),
                    rtol: 1e-4, atol: 1e-5, what: $"closeness backward of {Shapes.Format(shape)} on {d.Name}");
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "MinibatchCloseness.BackwardBackward.G"), Trait("Kernel", "MinibatchCloseness.BackwardBackward.M")]
    public void BackwardOfTheBackwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(34);
        int[][] shapes = TestDevices.IsSlow(d) ? [[5, 3, 2], [1, 2, 3]] : [[7, 3, 5], [33, 17, 5], [9, 1, 1], [1, 4, 3], [100, 20, 5]];
        foreach (var shape in shapes)
        {
            int n = shape[0], b = shape[1], c = shape[2];
            var m = Random(rng, n * b * c, -0.6f, 0.6f);
            var g = Random(rng, n * b);
            var h = Random(rng, n * b * c);
            using var mt = Tensor.FromArray(m, shape, d);
            using var gt = Tensor.FromArray(g, [n, b], d);
            using var ht = Tensor.FromArray(h, shape, d);
            using var dg = Poisoned(d, n, b);
            using var dm = Poisoned(d, shape);
            MinibatchCloseness.BackwardBackwardInto(ht, gt, mt, dg, dm);
            var (dg64, dm64) = MinibatchCloseness.Reference.BackwardBackward(ToDouble(h), ToDouble(g), ToDouble(m), n, b, c);
            AssertClose(dg64, dg.ToArray(), rtol: 1e-4, atol: 1e-5, what: $"closeness dG of {Shapes.Format(shape)} on {d.Name}");
            AssertClose(dm64, dm.ToArray(), rtol: 1e-4, atol: 1e-5, what: $"closeness d m of {Shapes.Format(shape)} on {d.Name}");
        }
    }

    [Fact]
    public void ReferenceBackwardOfTheBackwardIsTheFiniteDifferenceOfTheBackward()
    {
        int n = 5, b = 2, c = 3;
        var rng = new Random(35);
        var m = ToDouble(Random(rng, n * b * c, -1f, 1f));
        var g = ToDouble(Random(rng, n * b));
        var h = ToDouble(Random(rng, n * b * c));
        var (dg, dm) = MinibatchCloseness.Reference.BackwardBackward(h, g, m, n, b, c);
        // L(G, m) = Σ H · Backward(G, m), differentiated numerically in each G and each m.
        double L(double[] gg, double[] mm) => MinibatchCloseness.Reference.Backward(gg, mm, n, b, c).Zip(h, (x, y) => x * y).Sum();
        for (int i = 0; i < g.Length; i++)
        {
            var plus = (double[])g.Clone(); plus[i] += 1e-6;
            var minus = (double[])g.Clone(); minus[i] -= 1e-6;
            Assert.Equal((L(plus, m) - L(minus, m)) / 2e-6, dg[i], 1e-6);
        }
        for (int i = 0; i < m.Length; i++)
        {
            var plus = (double[])m.Clone(); plus[i] += 1e-6;
            var minus = (double[])m.Clone(); minus[i] -= 1e-6;
            Assert.Equal((L(g, plus) - L(g, minus)) / 2e-6, dm[i], 1e-6);
        }
    }

    [Fact]
    public void ReferenceBackwardIsTheFiniteDifferenceOfForward()
    {
        int n = 4, b = 2, c = 3;
        var m = ToDouble(Random(new Random(32), n * b * c, -1f, 1f));
        var g = ToDouble(Random(new Random(33), n * b));
        var analytic = MinibatchCloseness.Reference.Backward(g, m, n, b, c);
        double Loss(double[] x) => MinibatchCloseness.Reference.Forward(x, n, b, c, includeSelf: false).Zip(g, (o, w) => o * w).Sum();
        for (int i = 0; i < m.Length; i++)
        {
            var plus = (double[])m.Clone(); plus[i] += 1e-6;
            var minus = (double[])m.Clone(); minus[i] -= 1e-6;
            Assert.Equal((Loss(plus) - Loss(minus)) / 2e-6, analytic[i], 1e-6);
        }
    }

    [Fact]
    public void IdenticalSamplesAreMaximallyClose()
    {
        // A collapsed batch, the case the layer exists to expose: every distance is 0, so o = N - 1.
        using var m = Tensor.FromArray(Enumerable.Repeat(0.3f, 6 * 2 * 4).ToArray(), [6, 2, 4]);
        // (Within 1e-6: the cpu's vectorised exp(0) is one ulp above 1.)
        Assert.All(MinibatchCloseness.Forward(m).ToArray(), v => Assert.Equal(5f, v, 1e-5f));
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var m = Tensor.Zeros(Device.Cpu, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => MinibatchCloseness.Forward(m));
        Assert.Contains("MinibatchCloseness", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        using var m3 = Tensor.Zeros(Device.Cpu, 3, 4, 2);
        using var g = Tensor.Zeros(Device.Cpu, 4, 3);
        e = Assert.Throws<TensorShapeException>(() => MinibatchCloseness.Backward(g, m3));
        Assert.Contains("MinibatchCloseness", e.Message);
    }
}
