using NativeGan;
using NativeGan.Gan.Gans;
using NativeGan.Tests.AutogradTests;

namespace NativeGan.Tests.Gans;

/// <summary>
/// The GAN layers (minibatch standard deviation, minibatch discrimination, maxout) and the ops they add
/// (Maximum, LogSoftmax): forward against float64 references written from the papers' formulas, and gradients
/// against central differences of those references (the tape's <see cref="GradChecker"/>).
/// </summary>
public class GanLayerTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    // ---------------------------------------------------------------- float64 references

    /// <summary>ProGAN: s = mean over features of sqrt(var over batch + eps), appended as one feature / channel.</summary>
    static double[] MbStd64(double[] x, int[] shape, double eps = 1e-8)
    {
        int n = shape[0], f = x.Length / n;
        double s = 0;
        for (int j = 0; j < f; j++)
        {
            double mean = 0, v = 0;
            for (int i = 0; i < n; i++) mean += x[i * f + j];
            mean /= n;
            for (int i = 0; i < n; i++) v += (x[i * f + j] - mean) * (x[i * f + j] - mean);
            s += Math.Sqrt(v / n + eps);
        }
        s /= f;
        int c = shape[1], plane = f / c; // rank 2: plane = 1
        var y = new double[n * (c + 1) * plane];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(x, i * f, y, i * (c + 1) * plane, f);
            for (int p = 0; p < plane; p++) y[i * (c + 1) * plane + c * plane + p] = s;
        }
        return y;
    }

    /// <summary>Salimans et al.: M = x T as [N, B, C]; o_b(i) = sum_{j (!= i)} exp(-||M_ib - M_jb||_1); [x, o].</summary>
    static double[] Mbd64(double[] x, double[] t, int n, int a, int b, int c, bool includeSelf)
    {
        var m = new double[n * b * c];
        for (int i = 0; i < n; i++)
            for (int k = 0; k < b * c; k++)
            {
                double s = 0;
                for (int l = 0; l < a; l++) s += x[i * a + l] * t[l * b * c + k];
                m[i * b * c + k] = s;
            }
        var y = new double[n * (a + b)];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(x, i * a, y, i * (a + b), a);
            for (int kb = 0; kb < b; kb++)
            {
                double o = 0;
                for (int j = 0; j < n; j++)
                {
                    if (j == i && !includeSelf) continue;
                    double l1 = 0;
                    for (int d = 0; d < c; d++) l1 += Math.Abs(m[(i * b + kb) * c + d] - m[(j * b + kb) * c + d]);
                    o += Math.Exp(-l1);
                }
                y[i * (a + b) + a + kb] = o;
            }
        }
        return y;
    }

    /// <summary>Maxout: y_j = max_k (W x + b)[k * out + j].</summary>
    static double[] Maxout64(double[] x, double[] w, double[] bias, int n, int inF, int outF, int pieces)
    {
        var y = new double[n * outF];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < outF; j++)
            {
                double best = double.NegativeInfinity;
                for (int k = 0; k < pieces; k++)
                {
                    int unit = k * outF + j;
                    double s = bias[unit];
                    for (int l = 0; l < inF; l++) s += w[unit * inF + l] * x[i * inF + l];
                    best = Math.Max(best, s);
                }
                y[i * outF + j] = best;
            }
        return y;
    }

    static double[] LogSoftmax64(double[] x, int n, int k)
    {
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
        {
            double max = double.NegativeInfinity, sum = 0;
            for (int j = 0; j < k; j++) max = Math.Max(max, x[i * k + j]);
            for (int j = 0; j < k; j++) sum += Math.Exp(x[i * k + j] - max);
            for (int j = 0; j < k; j++) y[i * k + j] = x[i * k + j] - max - Math.Log(sum);
        }
        return y;
    }

    // ---------------------------------------------------------------- cases

    static readonly Dictionary<string, OpCase> Cases = new OpCase[]
    {
        new("MinibatchStdDev [5, 3]", [[5, 3]], t => new MinibatchStdDev().Forward(t[0]), x => MbStd64(x[0], [5, 3])),
        new("MinibatchStdDev [3, 2, 3, 5]", [[3, 2, 3, 5]], t => new MinibatchStdDev().Forward(t[0]), x => MbStd64(x[0], [3, 2, 3, 5])),
        new("MinibatchDisc N5 A3 B4 C3", [[5, 3], [3, 12]],
            t => MinibatchDiscrimination.Apply(t[0], t[1], 4, 3), x => Mbd64(x[0], x[1], 5, 3, 4, 3, includeSelf: false)),
        new("MinibatchDisc self N3 A2 B2 C1", [[3, 2], [2, 2]],
            t => MinibatchDiscrimination.Apply(t[0], t[1], 2, 1, includeSelf: true), x => Mbd64(x[0], x[1], 3, 2, 2, 1, includeSelf: true)),
        new("Maxout N3 in4 out5 pieces3", [[3, 4], [15, 4], [15]],
            t => Maxout.Apply(t[0], t[1], t[2], 5, 3), x => Maxout64(x[0], x[1], x[2], 3, 4, 5, 3)),
        new("Maxout pieces1", [[2, 3], [2, 3], [2]],
            t => Maxout.Apply(t[0], t[1], t[2], 2, 1), x => Maxout64(x[0], x[1], x[2], 2, 3, 2, 1)),
        new("Maximum broadcast", [[3, 5], [5]], t => t[0].Maximum(t[1]),
            x => Enumerable.Range(0, 15).Select(i => Math.Max(x[0][i], x[1][i % 5])).ToArray()),
        new("MaxOver axis 1 [2, 5, 3]", [[2, 5, 3]], t => t[0].MaxOver(1),
            x => Enumerable.Range(0, 6).Select(i => Enumerable.Range(0, 5).Max(p => x[0][(i / 3) * 15 + p * 3 + i % 3])).ToArray()),
        new("MaxOver axis -1 [3, 4]", [[3, 4]], t => t[0].MaxOver(-1), x => Enumerable.Range(0, 3).Select(i => x[0].Skip(4 * i).Take(4).Max()).ToArray()),
        new("LogSoftmax [3, 7]", [[3, 7]], t => t[0].LogSoftmax(), x => LogSoftmax64(x[0], 3, 7), Lo: -3f, Hi: 3f),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string, string> DeviceCases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var d in new[] { "cpu", "ilgpu-cpu", "cuda" })
                foreach (var c in Cases.Keys) data.Add(d, c);
            return data;
        }
    }

    [Theory, MemberData(nameof(DeviceCases))]
    public void ForwardAndGradientMatchFloat64(string deviceName, string op) =>
        GradChecker.GradCheck(TestDevices.Get(deviceName), Cases[op]);

    /// <summary>WGAN-GP differentiates the critic twice: the minibatch layers and maxout must survive a second backward.</summary>
    [Theory]
    [InlineData("MinibatchStdDev [5, 3]")]
    [InlineData("MinibatchDisc N5 A3 B4 C3")]
    [InlineData("Maxout N3 in4 out5 pieces3")]
    public void SecondDerivativesMatchFloat64(string op) => GradChecker.GradGradCheck(TestDevices.Get("cpu"), Cases[op]);

    /// <summary>Both ways of differentiating minibatch discrimination's backward (fused kernels, or broadcast ops) on
    /// every device, against float64 finite differences; and the fused way refuses a third derivative by name.
    /// The layer's composition (<see cref="MinibatchDiscrimination.Apply"/>) with the variant passed to the closeness.</summary>
    [Theory]
    [InlineData("cpu", Ops.ClosenessDoubleBackwardVariant.Default)]
    [InlineData("cpu", Ops.ClosenessDoubleBackwardVariant.Fused)]
    [InlineData("cpu", Ops.ClosenessDoubleBackwardVariant.Composed)]
    [InlineData("ilgpu-cpu", Ops.ClosenessDoubleBackwardVariant.Fused)]
    [InlineData("cuda", Ops.ClosenessDoubleBackwardVariant.Fused)]
    public void MinibatchDiscriminationSecondDerivativesEitherWay(string deviceName, Ops.ClosenessDoubleBackwardVariant variant)
    {
        static OpCase With(OpCase c, int kernels, int dims, bool includeSelf, Ops.ClosenessDoubleBackwardVariant variant) => c with
        {
            F32 = t =>
            {
                using var m = t[0].MatMul(t[1]);
                using var rows = Ops.Reshape(m, t[0].Dim(0), kernels, dims);
                using var o = rows.MinibatchCloseness(includeSelf, variant);
                return Ops.ChannelConcat(t[0], o);
            },
        };
        GradChecker.GradGradCheck(TestDevices.Get(deviceName), With(Cases["MinibatchDisc N5 A3 B4 C3"], 4, 3, false, variant));
        GradChecker.GradGradCheck(TestDevices.Get(deviceName), With(Cases["MinibatchDisc self N3 A2 B2 C1"], 2, 1, true, variant));
        if (variant == Ops.ClosenessDoubleBackwardVariant.Composed) return;
        using var scope = new TensorScope();
        var m = Tensor.FromArray(Numerics.Random(new Random(3), 4 * 2 * 3, -0.6f, 0.6f), [4, 2, 3], TestDevices.Get(deviceName));
        m.RequiresGrad = true;
        var dm = Autograd.Grad([m.MinibatchCloseness(doubleBackward: variant).Sum()], [m], createGraph: true)[0];
        Autograd.Grad([dm.Mul(dm).Sum()], [m], retainGraph: true); // a second derivative: fine
        // Recording the second derivative (the way to a third) is refused when it is asked for.
        var e = Assert.Throws<NotSupportedException>(() => Autograd.Grad([dm.Mul(dm).Sum()], [m], createGraph: true));
        Assert.Contains("MinibatchClosenessBackward", e.Message);
        Assert.Contains("doubleBackward: ClosenessDoubleBackwardVariant.Composed", e.Message);
    }

    [Fact]
    public void AnUnknownClosenessVariantIsRefusedNamingTheValidOnes()
    {
        using var m = Tensor.Zeros(Device.Cpu, 3, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => m.MinibatchCloseness(doubleBackward: (Ops.ClosenessDoubleBackwardVariant)3));
        Assert.Contains("1 (Composed), 2 (Fused) and 0 (Default)", e.Message);
    }

    [Theory, MemberData(nameof(Devices))]
    public void MaxOverSharesTheGradientOfTies(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var scope = new TensorScope();
        var x = Tensor.FromArray([1f, 3f, 3f, 2f, -1f, 0f], [2, 3], d);
        x.RequiresGrad = true;
        var g = Autograd.Grad([x.MaxOver(1).Sum()], [x])[0];
        Assert.Equal([0f, 0.5f, 0.5f, 1f, 0f, 0f], g.ToArray());
        x.Dispose();
    }

    [Fact]
    public void ModulesMatchTheirFunctionalForms()
    {
        var rng = new Rng(3);
        using var x = rng.Normal(Device.Cpu, [4, 6]);
        using var mbd = new MinibatchDiscrimination(6, 3, 2, rng: rng);
        using (var scope = new TensorScope())
            Assert.Equal(MinibatchDiscrimination.Apply(x, mbd.T, 3, 2).ToArray(), mbd.Forward(x).ToArray());
        using var maxout = new Maxout(6, 5, 4, rng: rng);
        Assert.Equal(20, maxout.Linear.Weight.Dim(0));
        using (var scope = new TensorScope())
            Assert.Equal(Maxout.Apply(x, maxout.Linear.Weight, maxout.Linear.Bias, 5, 4).ToArray(), maxout.Forward(x).ToArray());
        Assert.Equal(["T"], mbd.NamedParameters().Select(p => p.Name));
        Assert.Equal(["linear.weight", "linear.bias"], maxout.NamedParameters().Select(p => p.Name));
    }

    [Fact]
    public void BadShapesNameTheLayer()
    {
        using var x3 = Tensor.Zeros(Device.Cpu, 2, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => new MinibatchStdDev().Forward(x3));
        Assert.Contains("MinibatchStdDev", e.Message);
        using var mbd = new MinibatchDiscrimination(5, 2, 2);
        using var x = Tensor.Zeros(Device.Cpu, 2, 4);
        e = Assert.Throws<TensorShapeException>(() => mbd.Forward(x));
        Assert.Contains("MinibatchDiscrimination", e.Message);
        Assert.Contains("[2, 4]", e.Message);
    }

    [Fact]
    public void MinibatchDiscriminationOnFeatureMapsAppendsConstantChannels()
    {
        var rng = new Rng(4);
        using var x = rng.Normal(Device.Cpu, [3, 2, 2, 2]);
        using var mbd = new MinibatchDiscrimination(8, 4, 2, rng: rng);
        using var scope = new TensorScope();
        var y = mbd.Forward(x);
        Assert.Equal([3, 6, 2, 2], y.Shape);
        var expected = Mbd64(Numerics.ToDouble(x.ToArray()), Numerics.ToDouble(mbd.T.ToArray()), 3, 8, 4, 2, includeSelf: false);
        var got = y.ToArray();
        for (int n = 0; n < 3; n++)
            for (int c = 0; c < 6; c++)
                for (int p = 0; p < 4; p++)
                {
                    // channels 0-1: the input maps; channels 2-5: o_b repeated over the 2x2 map
                    double e = c < 2 ? expected[n * 12 + c * 4 + p] : expected[n * 12 + 8 + (c - 2)];
                    Assert.Equal(e, got[((n * 6) + c) * 4 + p], 5);
                }
    }
}
