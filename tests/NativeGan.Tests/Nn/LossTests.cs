using NativeGan;
using NativeGan.Nn;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

/// <summary>
/// Every loss of <see cref="Losses"/>: its value and the gradient of each input against float64 formulas written
/// out here (the textbook definition and its derivative by hand), on random data of odd sizes; BCE at extreme
/// logits; the KL term against its closed form; the gradient penalties against hand computations on a linear
/// critic (whose input gradient is its weight) and finite differences on a nonlinear one; bad shapes.
/// </summary>
[Collection("MemoryTests")] // pool leak checks: not beside other tests on the same device
public class LossTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static Tensor Input(Device d, float[] values, params int[] shape)
    {
        var t = Tensor.FromArray(values, shape, d);
        t.RequiresGrad = true;
        return t;
    }

    /// <summary>Runs the loss in a scope, backpropagates it, returns its value and each input's gradient (then cleared).</summary>
    static (float Value, float[][] Grads) Run(Func<Tensor> loss, params Tensor[] inputs)
    {
        float value;
        using (new TensorScope())
        {
            var l = loss();
            Assert.Equal([1], l.Shape); // a scalar is [1] here (what Mean() returns), as Tensor.Scalar makes
            value = l.Item();
            l.Backward();
        }
        var grads = inputs.Select(t => t.Grad?.ToArray() ?? new float[t.Length]).ToArray();
        foreach (var t in inputs) t.ZeroGrad();
        return (value, grads);
    }

    static void AssertValue(double expected, float actual, string what, double rtol = 1e-4, double atol = 1e-5) =>
        AssertClose([expected], [actual], rtol, atol, what);

    static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    /// <summary>An odd size: 3 x 37 on cpu (not a multiple of the vector width), 3 x 5 on ilgpu-cpu.</summary>
    static int[] ShapeFor(Device d) => TestDevices.IsSlow(d) ? [3, 5] : [3, 37];

    // ---------------------------------------------------------------- reconstruction and BCE

    [Theory, MemberData(nameof(Devices))]
    public void MseAndL1MatchTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(1);
        int[] shape = ShapeFor(d);
        int n = Shapes.Numel(shape);
        using var x = Input(d, Random(rng, n, -2f, 2f), shape);
        using var y = Input(d, Random(rng, n, -2f, 2f), shape);
        double[] xs = ToDouble(x.ToArray()), ys = ToDouble(y.ToArray());

        var (mse, g) = Run(() => Losses.Mse(x, y), x, y);
        AssertValue(xs.Zip(ys, (a, b) => (a - b) * (a - b)).Sum() / n, mse, "Mse");
        var dx = xs.Zip(ys, (a, b) => 2 * (a - b) / n).ToArray();
        AssertClose(dx, g[0], what: "Mse dx");
        AssertClose(dx.Select(v => -v).ToArray(), g[1], what: "Mse dy");

        var (l1, h) = Run(() => Losses.L1(x, y), x, y);
        AssertValue(xs.Zip(ys, (a, b) => Math.Abs(a - b)).Sum() / n, l1, "L1");
        var sx = xs.Zip(ys, (a, b) => Math.Sign(a - b) / (double)n).ToArray();
        AssertClose(sx, h[0], what: "L1 dx");
        AssertClose(sx.Select(v => -v).ToArray(), h[1], what: "L1 dy");
        x.Dispose(); y.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Theory, MemberData(nameof(Devices))]
    public void BceWithLogitsMatchesTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(2);
        int[] shape = ShapeFor(d);
        int n = Shapes.Numel(shape);
        using var x = Input(d, Random(rng, n, -6f, 6f), shape);
        using var y = Input(d, Random(rng, n, 0f, 1f), shape);
        double[] xs = ToDouble(x.ToArray()), ys = ToDouble(y.ToArray());

        // Tensor targets: softplus(x) - x y; d/dx = (sigmoid(x) - y) / n, d/dy = -x / n.
        var (value, g) = Run(() => Losses.BceWithLogits(x, y), x, y);
        AssertValue(xs.Zip(ys, (a, b) => Softplus(a) - a * b).Sum() / n, value, "BceWithLogits");
        AssertClose(xs.Zip(ys, (a, b) => (Sigmoid(a) - b) / n).ToArray(), g[0], what: "BceWithLogits dx");
        AssertClose(xs.Select(a => -a / n).ToArray(), g[1], what: "BceWithLogits dy");

        // A constant target: 0, 1 (their shortcuts) and 0.9 (label smoothing), against -[t log s + (1-t) log(1-s)].
        foreach (float t in new[] { 0f, 1f, 0.9f })
        {
            var (v, gt) = Run(() => Losses.BceWithLogits(x, t), x);
            double expected = xs.Sum(a => -(t * Math.Log(Sigmoid(a)) + (1 - t) * Math.Log(1 - Sigmoid(a)))) / n;
            AssertValue(expected, v, $"BceWithLogits(target {t})");
            AssertClose(xs.Select(a => (Sigmoid(a) - t) / n).ToArray(), gt[0], what: $"BceWithLogits(target {t}) dx");
        }

        // The saturating generator loss: mean(log(1 - sigmoid(x))); d/dx = -sigmoid(x) / n.
        var (sat, gs) = Run(() => Losses.SaturatingGeneratorLoss(x), x);
        AssertValue(xs.Sum(a => Math.Log(1 - Sigmoid(a))) / n, sat, "SaturatingGeneratorLoss");
        AssertClose(xs.Select(a => -Sigmoid(a) / n).ToArray(), gs[0], what: "SaturatingGeneratorLoss dx");
    }

    [Theory, MemberData(nameof(Devices))]
    public void BceWithLogitsIsStableAtHugeLogits(string deviceName)
    {
        // sigmoid(±100) is 1 or ~4e-44 in float32: a loss written as -log(sigmoid(x)) would give log(0) = -inf.
        var d = TestDevices.Get(deviceName);
        using var x = Input(d, [100f, -100f, 100f, -100f], 4, 1);
        using var y = Tensor.FromArray([1f, 0f, 0f, 1f], [4, 1], d);
        var (value, g) = Run(() => Losses.BceWithLogits(x, y), x);
        // Per element: 0, 0, 100, 100 (the confident mistakes cost |x|).
        AssertValue(50, value, "BceWithLogits at ±100");
        AssertClose([0, 0, 0.25, -0.25], g[0], what: "BceWithLogits dx at ±100");

        var (real, g1) = Run(() => Losses.BceWithLogits(x, 1f), x);
        AssertValue(50, real, "BceWithLogits(target 1) at ±100");
        AssertClose([0, -0.25, 0, -0.25], g1[0], what: "BceWithLogits(target 1) dx at ±100");
        var (fake, g0) = Run(() => Losses.BceWithLogits(x, 0f), x);
        AssertValue(50, fake, "BceWithLogits(target 0) at ±100");
        AssertClose([0.25, 0, 0.25, 0], g0[0], what: "BceWithLogits(target 0) dx at ±100");
        var (sat, gs) = Run(() => Losses.SaturatingGeneratorLoss(x), x);
        AssertValue(-50, sat, "SaturatingGeneratorLoss at ±100");
        Assert.All(gs[0], v => Assert.True(float.IsFinite(v)));
    }

    // ---------------------------------------------------------------- Wasserstein and hinge

    [Theory, MemberData(nameof(Devices))]
    public void WassersteinAndHingeMatchTheReference(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(3);
        int nr = TestDevices.IsSlow(d) ? 5 : 37, nf = TestDevices.IsSlow(d) ? 3 : 23; // batch sizes may differ
        using var real = Input(d, Random(rng, nr, -2f, 2f), nr, 1);
        using var fake = Input(d, Random(rng, nf, -2f, 2f), nf, 1);
        double[] rs = ToDouble(real.ToArray()), fs = ToDouble(fake.ToArray());

        var (critic, g) = Run(() => Losses.WassersteinCritic(real, fake), real, fake);
        AssertValue(fs.Average() - rs.Average(), critic, "WassersteinCritic");
        AssertClose(Enumerable.Repeat(-1.0 / nr, nr).ToArray(), g[0], what: "WassersteinCritic d real");
        AssertClose(Enumerable.Repeat(1.0 / nf, nf).ToArray(), g[1], what: "WassersteinCritic d fake");

        var (gen, gg) = Run(() => Losses.WassersteinGenerator(fake), fake);
        AssertValue(-fs.Average(), gen, "WassersteinGenerator");
        AssertClose(Enumerable.Repeat(-1.0 / nf, nf).ToArray(), gg[0], what: "WassersteinGenerator d fake");

        // Hinge: relu(1 - r) and relu(1 + f); the scores in [-2, 2] put some on each side of the hinge.
        var (hinge, gh) = Run(() => Losses.HingeDiscriminator(real, fake), real, fake);
        AssertValue(rs.Average(r => Math.Max(0, 1 - r)) + fs.Average(f => Math.Max(0, 1 + f)), hinge, "HingeDiscriminator");
        AssertClose(rs.Select(r => 1 - r > 0 ? -1.0 / nr : 0).ToArray(), gh[0], what: "HingeDiscriminator d real");
        AssertClose(fs.Select(f => 1 + f > 0 ? 1.0 / nf : 0).ToArray(), gh[1], what: "HingeDiscriminator d fake");
        Assert.Contains(rs, r => r > 1);
        Assert.Contains(fs, f => f < -1);

        var (hg, ghg) = Run(() => Losses.HingeGenerator(fake), fake);
        AssertValue(-fs.Average(), hg, "HingeGenerator");
        AssertClose(Enumerable.Repeat(-1.0 / nf, nf).ToArray(), ghg[0], what: "HingeGenerator d fake");
    }

    // ---------------------------------------------------------------- VAE

    [Theory, MemberData(nameof(Devices))]
    public void GaussianKlIsTheClosedForm(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(4);
        int[] shape = ShapeFor(d);
        int batch = shape[0], n = Shapes.Numel(shape);
        using var mu = Input(d, Random(rng, n, -1.5f, 1.5f), shape);
        using var logVar = Input(d, Random(rng, n, -2f, 1f), shape);
        double[] m = ToDouble(mu.ToArray()), lv = ToDouble(logVar.ToArray());

        // KL(N(m, s²) || N(0, 1)) = log(1/s) + (s² + m²)/2 - 1/2 per dimension, summed, averaged over the batch.
        double kl = 0;
        for (int i = 0; i < n; i++)
        {
            double s2 = Math.Exp(lv[i]);
            kl += -0.5 * lv[i] + (s2 + m[i] * m[i]) / 2 - 0.5;
        }
        var (value, g) = Run(() => Losses.GaussianKl(mu, logVar), mu, logVar);
        AssertValue(kl / batch, value, "GaussianKl");
        AssertClose(m.Select(v => v / batch).ToArray(), g[0], what: "GaussianKl d mu");
        AssertClose(lv.Select(v => 0.5 * (Math.Exp(v) - 1) / batch).ToArray(), g[1], what: "GaussianKl d logVar");

        // Zero, with zero gradients, at the prior: exactly on ilgpu-cpu; on the cpu device to float rounding, because
        // its vectorised exp (TensorPrimitives.Exp) was measured to return exp(0) one ulp above 1.
        using var zeroMu = Input(d, new float[n], shape);
        using var zeroLv = Input(d, new float[n], shape);
        var (zero, gz) = Run(() => Losses.GaussianKl(zeroMu, zeroLv), zeroMu, zeroLv);
        Assert.InRange(zero, -1e-5f, 1e-5f);
        Assert.All(gz[0], v => Assert.Equal(0f, v));
        Assert.All(gz[1], v => Assert.InRange(v, -1e-7f, 1e-7f));
    }

    // ---------------------------------------------------------------- gradient penalties

    /// <summary>D(x) = w · flatten(x) + b: its input gradient is w for every x.</summary>
    static Func<Tensor, Tensor> LinearCritic(Tensor w, Tensor b) => x => x.Flatten().Linear(w, b);

    /// <summary>D(x) = v · tanh(W flatten(x) + c) + b.</summary>
    static Func<Tensor, Tensor> TanhCritic(Tensor[] p) => x => x.Flatten().Linear(p[0], p[1]).Tanh().Linear(p[2], p[3]);

    const int Hidden = 3;

    /// <summary>Per sample, dD/dx = W^T (v ⊙ (1 - tanh²(W x + c))), float64.</summary>
    static double[] TanhCriticInputGrad(double[][] p, double[] x, int n, int dim)
    {
        var g = new double[n * dim];
        for (int s = 0; s < n; s++)
            for (int j = 0; j < Hidden; j++)
            {
                double a = p[1][j];
                for (int k = 0; k < dim; k++) a += p[0][j * dim + k] * x[s * dim + k];
                double back = p[2][j] * (1 - Math.Tanh(a) * Math.Tanh(a));
                for (int k = 0; k < dim; k++) g[s * dim + k] += back * p[0][j * dim + k];
            }
        return g;
    }

    /// <summary>lambda * mean (||g_n|| - 1)² (with the 1e-12 inside the root, as the op has) or weight * mean ||g_n||².</summary>
    static double Penalty64(double[] g, int n, int dim, double weight, bool r1)
    {
        double total = 0;
        for (int s = 0; s < n; s++)
        {
            double sq = 0;
            for (int k = 0; k < dim; k++) sq += g[s * dim + k] * g[s * dim + k];
            total += r1 ? sq : Math.Pow(Math.Sqrt(sq + 1e-12) - 1, 2);
        }
        return weight * total / n;
    }

    [Theory, MemberData(nameof(Devices))]
    public void PenaltiesOfALinearCriticAreItsWeightNorm(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(5);
        int[] shape = [3, 2, 3, 1]; // 6 features per sample
        int dim = 6;
        using var w = Input(d, Random(rng, dim, -0.8f, 0.8f), 1, dim);
        using var b = Input(d, [0.3f], 1);
        using var real = Tensor.FromArray(Random(rng, 18), shape, d);
        using var fake = Tensor.FromArray(Random(rng, 18), shape, d);
        double[] ws = ToDouble(w.ToArray());
        double norm = Math.Sqrt(ws.Sum(v => v * v));
        const float lambda = 7f, gamma = 3f;

        // WGAN-GP: lambda (||w|| - 1)², whatever the interpolation; d/dw = 2 lambda (||w|| - 1) w / ||w||; b has no effect.
        var (gp, g) = Run(() => Losses.GradientPenalty(LinearCritic(w, b), real, fake, new Rng(9), lambda), w, b);
        AssertValue(lambda * (norm - 1) * (norm - 1), gp, "GradientPenalty of a linear critic");
        AssertClose(ws.Select(v => 2 * lambda * (norm - 1) * v / norm).ToArray(), g[0], rtol: 1e-3, what: "GradientPenalty d w");
        AssertClose([0], g[1], what: "GradientPenalty d b");

        // R1: (gamma / 2) ||w||²; d/dw = gamma w.
        var (r1, h) = Run(() => Losses.R1(LinearCritic(w, b), real, gamma), w, b);
        AssertValue(gamma / 2 * norm * norm, r1, "R1 of a linear critic");
        AssertClose(ws.Select(v => gamma * v).ToArray(), h[0], rtol: 1e-3, what: "R1 d w");

        // Neither touches the data's .Grad nor leaves memory behind (the points' gradient goes nowhere).
        Assert.Null(real.Grad);
        Assert.Null(fake.Grad);
        real.Dispose(); fake.Dispose(); w.Dispose(); b.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    [Theory, MemberData(nameof(Devices))]
    public void GradientPenaltyOfANonlinearCriticMatchesFiniteDifferences(string deviceName) => CheckNonlinear(deviceName, r1: false);

    [Theory, MemberData(nameof(Devices))]
    public void R1OfANonlinearCriticMatchesFiniteDifferences(string deviceName) => CheckNonlinear(deviceName, r1: true);

    static void CheckNonlinear(string deviceName, bool r1)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Random(r1 ? 7 : 6);
        const int n = 3, dim = 5;
        int[] shape = [n, 1, 5, 1];
        int[][] paramShapes = [[Hidden, dim], [Hidden], [1, Hidden], [1]];
        var p32 = paramShapes.Select(s => Random(rng, Shapes.Numel(s))).ToArray();
        var p = p32.Select((v, i) => Input(d, v, paramShapes[i])).ToArray();
        var p64 = p32.Select(ToDouble).ToArray();
        var real32 = Random(rng, n * dim, -2f, 2f);
        var fake32 = Random(rng, n * dim, -2f, 2f);
        using var real = Tensor.FromArray(real32, shape, d);
        using var fake = Tensor.FromArray(fake32, shape, d);
        const float weight = 10f;
        const ulong seed = 21;

        // The points: the real samples for R1; for WGAN-GP real + e (fake - real), e the penalty's own draw.
        double[] x = ToDouble(real32);
        if (!r1)
        {
            using var e = new Rng(seed).Uniform(Device.Cpu, [n, 1, 1, 1]);
            var es = e.ToArray();
            Assert.All(es, v => Assert.InRange(v, 0f, 1f));
            for (int i = 0; i < x.Length; i++) x[i] += es[i / dim] * (fake32[i] - x[i]);
        }
        double weight64 = r1 ? weight / 2.0 : weight;
        double Reference() => Penalty64(TanhCriticInputGrad(p64, x, n, dim), n, dim, weight64, r1);

        var (value, grads) = Run(() => r1 ? Losses.R1(TanhCritic(p), real, weight) : Losses.GradientPenalty(TanhCritic(p), real, fake, new Rng(seed), weight), p);
        AssertValue(Reference(), value, r1 ? "R1" : "GradientPenalty", rtol: 1e-4);

        const double h = 1e-6;
        for (int k = 0; k < p64.Length; k++)
        {
            var expected = new double[p64[k].Length];
            for (int j = 0; j < expected.Length; j++)
            {
                double keep = p64[k][j];
                p64[k][j] = keep + h; double plus = Reference();
                p64[k][j] = keep - h; double minus = Reference();
                p64[k][j] = keep;
                expected[j] = (plus - minus) / (2 * h);
            }
            AssertClose(expected, grads[k], 2e-3, 2e-4, $"{(r1 ? "R1" : "GradientPenalty")} d param {k} on {d.Name}");
            if (k == 0) Assert.Contains(expected, v => Math.Abs(v) > 1e-2); // not vacuous
        }
        foreach (var t in p) t.Dispose();
        real.Dispose(); fake.Dispose();
        Assert.Equal(before, TestDevices.BytesInUse(d));
    }

    // ---------------------------------------------------------------- bad inputs

    [Fact]
    public void BadShapesThrowNamingTheLoss()
    {
        var d = Device.Cpu;
        using var a = Tensor.Zeros(d, 3, 4);
        using var b = Tensor.Zeros(d, 4, 3);
        using var flat = Tensor.Zeros(d, 4);
        using var w = Tensor.Zeros(d, 1, 4);
        Func<Tensor, Tensor> critic = x => x.Linear(w);
        void Throws(string name, Action act) => Assert.Contains(name, Assert.Throws<TensorShapeException>(act).Message);
        using (new TensorScope())
        {
            Throws("Mse", () => Losses.Mse(a, b));
            Throws("L1", () => Losses.L1(a, b));
            Throws("BceWithLogits", () => Losses.BceWithLogits(a, b));
            Throws("GaussianKl", () => Losses.GaussianKl(a, b));
            Throws("GaussianKl", () => Losses.GaussianKl(flat, flat));
            Throws("GradientPenalty", () => Losses.GradientPenalty(critic, a, b, new Rng(1)));
            Throws("GradientPenalty", () => Losses.GradientPenalty(critic, flat, flat, new Rng(1)));
            Throws("R1", () => Losses.R1(critic, flat));
            Assert.Contains("BceWithLogits", Assert.Throws<ArgumentOutOfRangeException>(() => Losses.BceWithLogits(a, 1.5f)).Message);
        }
    }
}
