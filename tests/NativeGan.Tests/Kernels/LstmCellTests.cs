using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>The fused LSTM cell (gate math of one time step) against its float64 definition, both ways.</summary>
public class LstmCellTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    // (N, H): one sample, one unit, tails of the vector width (8), a row longer than a vector.
    static readonly int[][] Sizes = [[1, 1], [3, 7], [1, 7], [3, 1], [5, 19]];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "LstmCell.Forward"), Trait("Kernel", "LstmCell.Backward")]
    public void ForwardAndBackwardMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(41);
        foreach (var size in Sizes)
        {
            int n = size[0], h = size[1];
            var gates = Random(rng, n * 4 * h, -3f, 3f); // through the sigmoid's and tanh's curved parts
            var prev = Random(rng, n * 2 * h, -2f, 2f);
            var dState = Random(rng, n * 2 * h);
            using var gt = Tensor.FromArray(gates, [n, 4 * h], d);
            using var pt = Tensor.FromArray(prev, [n, 2 * h], d);
            using var dt = Tensor.FromArray(dState, [n, 2 * h], d);
            using var state = Poisoned(d, n, 2 * h);
            LstmCell.ForwardInto(gt, pt, state);
            AssertClose(LstmCell.Reference.Forward(ToDouble(gates), ToDouble(prev), n, h), state.ToArray(),
                what: $"LSTM cell N {n} H {h} on {d.Name}");

            using var dGates = Poisoned(d, n, 4 * h);
            using var dPrev = Poisoned(d, n, 2 * h);
            LstmCell.BackwardInto(dt, gt, pt, state, dGates, dPrev);
            var (dg64, dp64) = LstmCell.Reference.Backward(ToDouble(dState), ToDouble(gates), ToDouble(prev), n, h);
            AssertClose(dg64, dGates.ToArray(), what: $"LSTM cell dGates N {n} H {h} on {d.Name}");
            AssertClose(dp64, dPrev.ToArray(), what: $"LSTM cell dStatePrev N {n} H {h} on {d.Name}");
        }
    }

    [Fact]
    public void ForwardInPlaceOverThePreviousState()
    {
        // The cpu kernel reads c_prev before writing c, row by row: a state may be advanced in place.
        var rng = new Random(44);
        var gates = Random(rng, 3 * 4 * 7, -3f, 3f);
        var prev = Random(rng, 3 * 2 * 7);
        using var gt = Tensor.FromArray(gates, [3, 28]);
        using var state = Tensor.FromArray(prev, [3, 14]);
        LstmCell.ForwardInto(gt, state, state);
        AssertClose(LstmCell.Reference.Forward(ToDouble(gates), ToDouble(prev), 3, 7), state.ToArray(), what: "in place");
    }

    [Fact]
    public void ReferenceBackwardIsTheFiniteDifferenceOfForward()
    {
        int n = 2, h = 3;
        var rng = new Random(42);
        var gates = ToDouble(Random(rng, n * 4 * h, -2f, 2f));
        var prev = ToDouble(Random(rng, n * 2 * h));
        var w = ToDouble(Random(rng, n * 2 * h));
        var (dGates, dPrev) = LstmCell.Reference.Backward(w, gates, prev, n, h);
        double Loss(double[] g, double[] p) => LstmCell.Reference.Forward(g, p, n, h).Zip(w, (a, b) => a * b).Sum();
        for (int k = 0; k < gates.Length; k++)
        {
            var plus = (double[])gates.Clone(); plus[k] += 1e-6;
            var minus = (double[])gates.Clone(); minus[k] -= 1e-6;
            Assert.Equal((Loss(plus, prev) - Loss(minus, prev)) / 2e-6, dGates[k], 1e-6);
        }
        for (int k = 0; k < prev.Length; k++)
        {
            var plus = (double[])prev.Clone(); plus[k] += 1e-6;
            var minus = (double[])prev.Clone(); minus[k] -= 1e-6;
            Assert.Equal((Loss(gates, plus) - Loss(gates, minus)) / 2e-6, dPrev[k], 1e-6); // 0 on the h half
        }
    }

    [Fact]
    public void BadShapesNameTheOp()
    {
        using var gates = Tensor.Zeros(Device.Cpu, 3, 10);
        using var prev = Tensor.Zeros(Device.Cpu, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => LstmCell.Forward(gates, prev));
        Assert.Contains("LstmCell", e.Message);
        Assert.Contains("[3, 10]", e.Message);
        using var gates8 = Tensor.Zeros(Device.Cpu, 3, 8);
        e = Assert.Throws<TensorShapeException>(() => LstmCell.Forward(gates8, prev.Reshape(2, 6)));
        Assert.Contains("LstmCell", e.Message);
    }
}
