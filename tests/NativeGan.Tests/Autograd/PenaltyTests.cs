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

    // The critic: conv2d (1 -> 3 channels, 3x3, stride 2, padding 1) on 5x5 images, leaky relu, linear to a score.
    const int N = 2, C = 1, S = 5, O = 3, K = 3, Stride = 2, Pad = 1, Q = 3; // Q: output size (5 + 2 - 3) / 2 + 1
    const int D = C * S * S;                                                   // input elements per sample
    const float Slope = 0.2f, Eps = 1e-12f;

    /// <summary>The critic's parameters: conv weight [O, C, K, K], conv bias [O], linear weight [1, O*Q*Q], linear bias [1].</summary>
    static readonly int[][] ParamShapes = [[O, C, K, K], [O], [1, O * Q * Q], [1]];

    // ---------------------------------------------------------------- float64 reference

    /// <summary>
    /// dD(x_n)/dx_n for each sample, by hand: h = conv(x, w1) + b1; the score is w2 · leaky(h) + b2, so
    /// dscore/dh = w2 * leaky'(h), and dscore/dx is that sent back through the convolution.
    /// </summary>
    static double[] InputGrad64(double[][] p, double[] x)
    {
        var h = NativeGan.Conv2d.Reference.Forward(x, [N, C, S, S], p[0], ParamShapes[0], p[1], Stride, Pad);
        var back = new double[h.Length];
        for (int i = 0; i < h.Length; i++) back[i] = p[2][i % (O * Q * Q)] * (h[i] > 0 ? 1 : Slope);
        return NativeGan.Conv2d.Reference.InputGrad(back, [N, O, Q, Q], p[0], ParamShapes[0], S, S, Stride, Pad);
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

    static Tensor Critic(Tensor[] p, Tensor x) =>
        x.Conv2d(p[0], p[1], Stride, Pad).LeakyRelu(Slope).Flatten().Linear(p[2], p[3]);

    /// <summary>The penalty on the tape: the input gradient taken with createGraph, so the penalty reaches the weights.</summary>
    static Tensor Penalty(Tensor[] p, Tensor x, bool r1)
    {
        var score = Critic(p, x);
        var dx = Autograd.Grad([score.Sum()], [x], createGraph: true)[0];
        return r1 ? dx.Square().Sum([1, 2, 3]).Mean() : dx.PerSampleL2Norm(Eps).Sub(1f).Square().Mean();
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
        using var x = Tensor.FromArray(x32, [N, C, S, S], d);
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

        // The pitfall: an input gradient taken without createGraph makes the penalty a constant that never moves the
        // weights. So the penalty term alone must move them, by -lr * (its finite-difference gradient).
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
        using var x = Tensor.FromArray(Numerics.Random(new Random(3), N * D), [N, C, S, S], d);
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
