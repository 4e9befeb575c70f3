using NativeGan;
using NativeGan.Nn;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

/// <summary>
/// Each optimizer minimising f(w) = 0.5 * sum a_i (w_i - c_i)^2 for several steps, against a hand
/// computation in float64 written here from the PyTorch documentation's pseudo-code (independently
/// of the library's reference). The gradient a_i (w_i - c_i) is computed by the test from the current
/// weights and assigned to <c>Grad</c> before each step.
/// </summary>
public class OptimTrajectoryTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    const int Steps = 8;

    /// <summary>A quadratic bowl whose minimum is at least 0.5 away from the start in every coordinate.</summary>
    sealed class Bowl
    {
        public readonly double[] A, C, W0;

        public Bowl(int n, int seed)
        {
            var rng = new Random(seed);
            A = new double[n]; C = new double[n]; W0 = new double[n];
            for (int i = 0; i < n; i++)
            {
                A[i] = 0.5 + 2 * rng.NextDouble();
                W0[i] = (float)(2 * rng.NextDouble() - 1);
                C[i] = W0[i] + (rng.Next(2) == 0 ? -1 : 1) * (0.5 + rng.NextDouble());
            }
        }

        public double[] Grad(double[] w) => [.. w.Select((x, i) => A[i] * (x - C[i]))];

        public float[] Grad(float[] w) => [.. w.Select((x, i) => (float)(A[i] * (x - C[i])))];
    }

    static int[] Sizes(Device d) => TestDevices.IsSlow(d) ? [37] : [37, 1000];

    /// <summary>Runs <paramref name="make"/>'s optimizer on the bowl and returns the float32 trajectory's end.</summary>
    static float[] Run(Device d, Bowl bowl, Func<Tensor, Optimizer> make, int steps = Steps)
    {
        int n = bowl.W0.Length;
        using var w = Tensor.FromArray([.. bowl.W0.Select(x => (float)x)], [n], d);
        w.RequiresGrad = true;
        var opt = make(w);
        for (int t = 0; t < steps; t++)
        {
            w.Grad = Tensor.FromArray(bowl.Grad(w.ToArray()), [n], d);
            opt.Step();
            opt.ZeroGrad();
            Assert.Null(w.Grad);
        }
        Assert.Equal(steps, opt.StepCount);
        return w.ToArray();
    }

    // ---------------------------------------------------------------- hand computations (float64)

    static double[] HandSgd(Bowl bowl, double lr, double momentum, double wd, bool nesterov, int steps = Steps)
    {
        var w = (double[])bowl.W0.Clone();
        double[]? b = null;
        for (int t = 1; t <= steps; t++)
        {
            var g = bowl.Grad(w);
            for (int i = 0; i < w.Length; i++)
            {
                double d = g[i] + wd * w[i];
                if (momentum != 0)
                {
                    b ??= new double[w.Length];
                    b[i] = t == 1 ? d : momentum * b[i] + d;
                    d = nesterov ? d + momentum * b[i] : b[i];
                }
                w[i] = w[i] - lr * d;
            }
        }
        return w;
    }

    static double[] HandRmsProp(Bowl bowl, double lr, double alpha, double eps, double momentum, double wd, bool centered, int steps = Steps)
    {
        int n = bowl.W0.Length;
        var w = (double[])bowl.W0.Clone();
        double[] v = new double[n], gAvg = new double[n], buf = new double[n];
        for (int t = 1; t <= steps; t++)
        {
            var g = bowl.Grad(w);
            for (int i = 0; i < n; i++)
            {
                double gi = wd != 0 ? g[i] + wd * w[i] : g[i];
                v[i] = alpha * v[i] + (1 - alpha) * gi * gi;
                double vTilde = v[i];
                if (centered)
                {
                    gAvg[i] = alpha * gAvg[i] + (1 - alpha) * gi;
                    vTilde = v[i] - gAvg[i] * gAvg[i];
                }
                if (momentum > 0)
                {
                    buf[i] = momentum * buf[i] + gi / (Math.Sqrt(vTilde) + eps);
                    w[i] -= lr * buf[i];
                }
                else w[i] -= lr * gi / (Math.Sqrt(vTilde) + eps);
            }
        }
        return w;
    }

    static double[] HandAdam(Bowl bowl, double lr, double beta1, double beta2, double eps, double wd, bool decoupled, int steps = Steps)
    {
        int n = bowl.W0.Length;
        var w = (double[])bowl.W0.Clone();
        double[] m = new double[n], v = new double[n];
        for (int t = 1; t <= steps; t++)
        {
            var g = bowl.Grad(w);
            for (int i = 0; i < n; i++)
            {
                double gi = g[i];
                if (decoupled) w[i] -= lr * wd * w[i];
                else if (wd != 0) gi += wd * w[i];
                m[i] = beta1 * m[i] + (1 - beta1) * gi;
                v[i] = beta2 * v[i] + (1 - beta2) * gi * gi;
                double mHat = m[i] / (1 - Math.Pow(beta1, t));
                double vHat = v[i] / (1 - Math.Pow(beta2, t));
                w[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
            }
        }
        return w;
    }

    // ---------------------------------------------------------------- trajectories

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Sgd")]
    public void SgdFollowsTheHandComputation(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        foreach (int n in Sizes(d))
            foreach (var (momentum, wd, nesterov) in new (float, float, bool)[] { (0, 0, false), (0, 0.1f, false), (0.9f, 0, false), (0.9f, 0.05f, false), (0.9f, 0, true) })
            {
                var bowl = new Bowl(n, 21);
                var got = Run(d, bowl, w => new Sgd([w], 0.05f, momentum, nesterov: nesterov, weightDecay: wd));
                AssertClose(HandSgd(bowl, 0.05, momentum, wd, nesterov), got, what: $"SGD n={n} momentum={momentum} wd={wd} nesterov={nesterov} on {d.Name}");
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.RmsProp")]
    public void RmsPropFollowsTheHandComputation(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        foreach (int n in Sizes(d))
            foreach (var (momentum, wd, centered) in new (float, float, bool)[] { (0, 0, false), (0, 0.1f, false), (0.9f, 0, false), (0.9f, 0.05f, true), (0, 0, true) })
            {
                var bowl = new Bowl(n, 22);
                var got = Run(d, bowl, w => new RmsProp([w], 0.01f, alpha: 0.99f, eps: 1e-8f, weightDecay: wd, momentum: momentum, centered: centered));
                AssertClose(HandRmsProp(bowl, 0.01, 0.99, 1e-8, momentum, wd, centered), got, what: $"RMSProp n={n} momentum={momentum} wd={wd} centered={centered} on {d.Name}");
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Adam")]
    public void AdamFollowsTheHandComputation(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        foreach (int n in Sizes(d))
            foreach (var (beta1, beta2, wd, decoupled) in new (float, float, float, bool)[]
                { (0.9f, 0.999f, 0, false), (0f, 0.9f, 0, false), (0f, 0.99f, 0, false), (0.5f, 0.9f, 0.1f, false), (0f, 0.9f, 0.1f, false), (0.9f, 0.999f, 0.1f, true) })
            {
                var bowl = new Bowl(n, 23);
                var got = Run(d, bowl, w => decoupled
                    ? new AdamW([w], 0.01f, beta1, beta2, 1e-8f, wd)
                    : new Adam([w], 0.01f, beta1, beta2, 1e-8f, wd));
                AssertClose(HandAdam(bowl, 0.01, beta1, beta2, 1e-8, wd, decoupled), got, what: $"Adam n={n} betas=({beta1}, {beta2}) wd={wd} decoupled={decoupled} on {d.Name}");
            }
    }

    /// <summary>The original WGAN's recipe: RMSProp lr 5e-5 with weights clipped to 0.01.</summary>
    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.RmsProp"), Trait("Kernel", "OptimizerUpdates.Adam"), Trait("Kernel", "OptimizerUpdates.Sgd")]
    public void ClippingKeepsEveryWeightInBounds(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        int n = TestDevices.IsSlow(d) ? 37 : 1000;
        var rng = new Random(5);
        Func<Tensor[], Optimizer>[] makers =
        [
            ps => new RmsProp(ps, 5e-5f).ClipAfterStep(0.01f),
            ps => new Adam(ps, 0.1f, 0f, 0.9f).ClipAfterStep(0.01f),
            ps => new Sgd(ps, 1f, momentum: 0.9f).ClipAfterStep(0.01f),
        ];
        foreach (var make in makers)
        {
            using var a = Tensor.FromArray(Random(rng, n, -2, 2), [n], d);
            using var b = Tensor.FromArray(Random(rng, 5, -2, 2), [5], d); // never gets a gradient: still clipped
            var opt = make([a, b]);
            for (int t = 0; t < 3; t++)
            {
                a.Grad = Tensor.FromArray(Random(rng, n, -100, 100), [n], d);
                opt.Step();
                foreach (var w in new[] { a, b })
                    Assert.All(w.ToArray(), x => Assert.InRange(x, -0.01f, 0.01f));
                opt.ZeroGrad();
            }
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void ParametersWithoutGradientAreSkipped(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var a = Tensor.FromArray([1f, 2f, 3f], [3], d);
        using var b = Tensor.FromArray([4f, 5f], [2], d);
        var opt = new Adam([a, b], 0.1f);
        b.Grad = Tensor.FromArray([1f, -1f], [2], d);
        opt.Step();
        Assert.Equal([1f, 2f, 3f], a.ToArray());
        Assert.Null(opt.State(0));
        Assert.Equal(1, opt.State(1)!.Step);
        AssertClose([3.9, 5.1], b.ToArray()); // Adam's first step moves each weight by lr * sign(g)
        opt.ZeroGrad(setToNone: false);
        Assert.Equal([0f, 0f], b.Grad!.ToArray());
    }

    [Fact]
    public void BadSettingsAndGradientsAreNamed()
    {
        using var w = Tensor.Zeros(Device.Cpu, 2, 3);
        Assert.Contains("Nesterov", Assert.Throws<ArgumentException>(() => new Sgd([w], 0.1f, nesterov: true)).Message);
        Assert.Contains("beta1", Assert.Throws<ArgumentOutOfRangeException>(() => new Adam([w], beta1: 1f)).Message);
        Assert.Contains("more than once", Assert.Throws<ArgumentException>(() => new Adam([w, w])).Message);
        Assert.Contains("> 0", Assert.Throws<ArgumentOutOfRangeException>(() => new RmsProp([w]).ClipAfterStep(0f)).Message);
        var opt = new Adam([w]);
        w.Grad = Tensor.Zeros(Device.Cpu, 3, 2);
        var e = Assert.Throws<TensorShapeException>(opt.Step);
        Assert.Contains("Adam.Step", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        Assert.Contains("[3, 2]", e.Message);
        Assert.Equal(0, opt.StepCount);
    }
}
