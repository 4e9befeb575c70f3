using NativeGan;

namespace NativeGan.Tests.AutogradTests;

/// <summary>
/// Gradient penalties end to end: WGAN-GP's ((||dD(x)/dx||₂ - 1)²).mean() and R1's mean ||dD(x)/dx||²,
/// differentiated with respect to the critic's weights through a graph made by createGraph, against
/// central finite differences of the same penalty computed in float64 with the critic's input gradient
/// written out by hand (so the reference shares no code with the tape).
/// </summary>
public class PenaltyTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    const int N = 3, D = 7, H = 5;     // batch, input features, hidden units
    const float Slope = 0.2f, Eps = 1e-12f;

    /// <summary>The critic's parameters: W1 [H, D], b1 [H], w2 [1, H], b2 [1].</summary>
    static readonly int[][] ParamShapes = [[H, D], [H], [1, H], [1]];

    // ---------------------------------------------------------------- float64 reference

    /// <summary>dD(x_n)/dx_n for each sample: sum_j w2_j leaky'(h_nj) W1_ji, h = x W1^T + b1.</summary>
    static double[] InputGrad64(double[][] p, double[] x)
    {
        var g = new double[N * D];
        for (int n = 0; n < N; n++)
            for (int j = 0; j < H; j++)
            {
                double h = p[1][j];
                for (int i = 0; i < D; i++) h += p[0][j * D + i] * x[n * D + i];
                double back = p[2][j] * (h > 0 ? 1 : Slope);
                for (int i = 0; i < D; i++) g[n * D + i] += back * p[0][j * D + i];
            }
        return g;
    }

    static double Penalty64(double[][] p, double[] x, bool r1)
    {
        var g = InputGrad64(p, x);
        double total = 0;
        for (int n = 0; n < N; n++)
        {
            double sq = 0;
            for (int i = 0; i < D; i++) sq += g[n * D + i] * g[n * D + i];
            total += r1 ? sq : Math.Pow(Math.Sqrt(sq + Eps) - 1, 2);
        }
        return total / N;
    }

    // ---------------------------------------------------------------- the tape

    static Tensor Critic(Tensor[] p, Tensor x) => x.Linear(p[0], p[1]).LeakyRelu(Slope).Linear(p[2], p[3]);

    /// <summary>The penalty on the tape: the input gradient taken with createGraph, so the penalty reaches the weights.</summary>
    static Tensor Penalty(Tensor[] p, Tensor x, bool r1)
    {
        var score = Critic(p, x);
        var dx = Autograd.Grad([score.Sum()], [x], createGraph: true)[0];
        return r1 ? dx.Square().Sum([1]).Mean() : dx.PerSampleL2Norm(Eps).Sub(1f).Square().Mean();
    }

    [Theory, MemberData(nameof(Devices))]
    public void WganGpGradientMatchesFiniteDifferences(string deviceName) => CheckPenalty(deviceName, r1: false);

    [Theory, MemberData(nameof(Devices))]
    public void R1GradientMatchesFiniteDifferences(string deviceName) => CheckPenalty(deviceName, r1: true);

    static void CheckPenalty(string deviceName, bool r1)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(r1 ? 11 : 10);
        var p32 = ParamShapes.Select(s => Numerics.Random(rng, Shapes.Numel(s))).ToArray();
        var x32 = Numerics.Random(rng, N * D);
        var p64 = p32.Select(Numerics.ToDouble).ToArray();
        var x64 = Numerics.ToDouble(x32);
        var param = p32.Select((v, i) => Tensor.FromArray(v, ParamShapes[i], d)).ToArray();
        foreach (var t in param) t.RequiresGrad = true;
        using var x = Tensor.FromArray(x32, [N, D], d);
        x.RequiresGrad = true;

        using (new TensorScope())
        {
            var penalty = Penalty(param, x, r1);
            Assert.Equal(Penalty64(p64, x64, r1), penalty.Item(), 4);
            penalty.Backward();
        }

        // d penalty / d weights: the analytic gradients against float64 central differences.
        const double h = 1e-6;
        var expected = new double[ParamShapes.Length][];
        for (int k = 0; k < ParamShapes.Length; k++)
        {
            expected[k] = new double[p64[k].Length];
            for (int j = 0; j < expected[k].Length; j++)
            {
                double keep = p64[k][j];
                p64[k][j] = keep + h; double plus = Penalty64(p64, x64, r1);
                p64[k][j] = keep - h; double minus = Penalty64(p64, x64, r1);
                p64[k][j] = keep;
                expected[k][j] = (plus - minus) / (2 * h);
            }
            // b2 does not reach the input gradient (and b1 only through a constant mask): no gradient is the same as zero
            var actual = param[k].Grad?.ToArray() ?? new float[expected[k].Length];
            Numerics.AssertClose(expected[k], actual, 2e-3, 2e-4, $"d penalty / d param {k} on {d.Name}");
        }
        Assert.Contains(expected[0], v => Math.Abs(v) > 1e-2); // the check is not vacuous

        // PITFALLS 2: the penalty term alone must move the weights, by -lr * (its finite-difference gradient).
        const float lr = 0.05f;
        var before = param.Select(t => t.ToArray()).ToArray();
        using (Autograd.NoGrad())
            foreach (var t in param)
                if (t.Grad is { } g) Elementwise.ScaleAdd(t, 1f, g, -lr);
        for (int k = 0; k < param.Length; k++)
        {
            var after = param[k].ToArray();
            var moved = new double[after.Length];
            for (int j = 0; j < after.Length; j++) moved[j] = after[j] - before[k][j];
            Numerics.AssertClose(expected[k].Select(e => -lr * e).ToArray(), Array.ConvertAll(moved, v => (float)v), 5e-3, 1e-5,
                $"SGD step of the penalty alone, param {k} on {d.Name}");
        }
        foreach (var t in param) { t.ZeroGrad(); t.Dispose(); }
    }

    [Theory, MemberData(nameof(Devices))]
    public void ZeroGradientNormGivesNoNaN(string deviceName)
    {
        // A critic whose first layer is zero is flat in x: ||dD/dx|| = 0, where sqrt has an infinite slope.
        var d = TestDevices.Get(deviceName);
        var param = ParamShapes.Select(s => Tensor.Zeros(d, s)).ToArray();
        Elementwise.Fill(param[2], 0.5f);
        foreach (var t in param) t.RequiresGrad = true;
        using var x = Tensor.FromArray(Numerics.Random(new Random(3), N * D), [N, D], d);
        x.RequiresGrad = true;
        using (new TensorScope())
        {
            var penalty = Penalty(param, x, r1: false);
            Assert.Equal(1f, penalty.Item(), 5); // (sqrt(eps) - 1)² ≈ 1
            penalty.Backward();
        }
        foreach (var t in param)
            if (t.Grad is { } g) Assert.All(g.ToArray(), v => Assert.True(float.IsFinite(v), $"gradient {v} at a zero norm"));
        foreach (var t in param) { t.ZeroGrad(); t.Dispose(); }
    }

    [Fact]
    public void WithoutTheEpsilonAZeroNormWouldGiveNaN()
    {
        // The reason for the epsilon, shown: sqrt'(0) = inf, times d(sum x²)/dx = 0, is NaN.
        using var x = Tensor.Zeros(Device.Cpu, 2, 3);
        x.RequiresGrad = true;
        using (new TensorScope()) x.PerSampleL2Norm(eps: 0f).Sub(1f).Square().Mean().Backward();
        Assert.Contains(x.Grad!.ToArray(), float.IsNaN);
        x.ZeroGrad();
        using (new TensorScope()) x.PerSampleL2Norm().Sub(1f).Square().Mean().Backward();
        Assert.All(x.Grad!.ToArray(), v => Assert.Equal(0f, v));
        x.ZeroGrad();
    }
}
