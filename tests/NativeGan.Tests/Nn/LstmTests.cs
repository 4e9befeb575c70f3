using NativeGan;
using NativeGan.Nn;
using NativeGan.Tests.AutogradTests;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// The Lstm module against an LSTM written plainly in float64 below (PyTorch's equations, its parameter names):
/// outputs and final states, gradients of every parameter and input by finite differences, second derivatives
/// by GradGradCheck; odd sizes (batch 1, hidden 1 and 7, sequence length 1), two layers, both directions.
/// </summary>
public class LstmTests
{
    /// <summary>(output [T, N, D·H], hN, cN [L·D, N, H]) of x [T, N, I] time-major; p by PyTorch's names.</summary>
    public static (double[] Output, double[] H, double[] C) Reference(double[] x, int steps, int n, int inputSize, int hidden, int layers,
        bool bidirectional, IReadOnlyDictionary<string, double[]> p, double[]? h0 = null, double[]? c0 = null)
    {
        int dirs = bidirectional ? 2 : 1;
        var hN = new double[layers * dirs * n * hidden];
        var cN = new double[hN.Length];
        var input = x;
        int width = inputSize;
        static double S(double v) => 1 / (1 + Math.Exp(-v));
        for (int layer = 0; layer < layers; layer++)
        {
            var output = new double[steps * n * dirs * hidden];
            for (int dir = 0; dir < dirs; dir++)
            {
                int k = layer * dirs + dir;
                string sfx = $"_l{layer}{(dir == 1 ? "_reverse" : "")}";
                double[] wih = p["weight_ih" + sfx], whh = p["weight_hh" + sfx];
                double[]? bih = p.GetValueOrDefault("bias_ih" + sfx), bhh = p.GetValueOrDefault("bias_hh" + sfx);
                var h = new double[n * hidden];
                var c = new double[n * hidden];
                if (h0 is not null) Array.Copy(h0, k * n * hidden, h, 0, n * hidden);
                if (c0 is not null) Array.Copy(c0, k * n * hidden, c, 0, n * hidden);
                for (int s = 0; s < steps; s++)
                {
                    int t = dir == 0 ? s : steps - 1 - s;
                    var hNew = new double[n * hidden];
                    for (int b = 0; b < n; b++)
                    {
                        var a = new double[4 * hidden];
                        for (int r = 0; r < 4 * hidden; r++)
                        {
                            double v = (bih?[r] ?? 0) + (bhh?[r] ?? 0);
                            for (int q = 0; q < width; q++) v += input[(t * n + b) * width + q] * wih[r * width + q];
                            for (int q = 0; q < hidden; q++) v += h[b * hidden + q] * whh[r * hidden + q];
                            a[r] = v;
                        }
                        for (int j = 0; j < hidden; j++)
                        {
                            double cj = S(a[hidden + j]) * c[b * hidden + j] + S(a[j]) * Math.Tanh(a[2 * hidden + j]);
                            c[b * hidden + j] = cj;
                            hNew[b * hidden + j] = S(a[3 * hidden + j]) * Math.Tanh(cj);
                            output[((t * n + b) * dirs + dir) * hidden + j] = hNew[b * hidden + j];
                        }
                    }
                    h = hNew;
                }
                Array.Copy(h, 0, hN, k * n * hidden, n * hidden);
                Array.Copy(c, 0, cN, k * n * hidden, n * hidden);
            }
            input = output;
            width = dirs * hidden;
        }
        return (input, hN, cN);
    }

    static Dictionary<string, double[]> Params(Lstm m) => m.NamedParameters().ToDictionary(p => p.Name, p => ToDouble(p.Tensor.ToArray()));

    /// <summary>[N, T, F] flattened to [T, N, F], or back (the same swap).</summary>
    static double[] SwapFirstAxes(double[] a, int d0, int d1, int f)
    {
        var y = new double[a.Length];
        for (int i = 0; i < d0; i++)
            for (int j = 0; j < d1; j++)
                Array.Copy(a, (i * d1 + j) * f, y, (j * d0 + i) * f, f);
        return y;
    }

    // (T, N, I, H, layers, bidirectional, batchFirst)
    public static TheoryData<int, int, int, int, int, bool, bool> Configs => new()
    {
        { 1, 1, 3, 1, 1, false, false },  // one step, one sample, one unit
        { 4, 3, 5, 7, 1, false, false },
        { 5, 1, 2, 7, 2, true, false },   // two layers, both directions, batch 1
        { 3, 2, 4, 3, 2, true, true },    // batch-first
        { 1, 3, 2, 1, 2, true, true },
    };

    [Theory, MemberData(nameof(Configs))]
    public void ForwardMatchesFloat64(int steps, int n, int inputSize, int hidden, int layers, bool bidirectional, bool batchFirst)
    {
        using var lstm = new Lstm(inputSize, hidden, layers, batchFirst: batchFirst, bidirectional: bidirectional, rng: new Rng(5));
        int dirs = lstm.Directions;
        var rng = new Random(51);
        var x = Random(rng, steps * n * inputSize);
        var h0 = Random(rng, layers * dirs * n * hidden);
        var c0 = Random(rng, layers * dirs * n * hidden);
        using var scope = new TensorScope();
        var xt = Tensor.FromArray(x, batchFirst ? [n, steps, inputSize] : [steps, n, inputSize]);
        var (y, (hN, cN)) = lstm.Forward(xt, Tensor.FromArray(h0, [layers * dirs, n, hidden]), Tensor.FromArray(c0, [layers * dirs, n, hidden]));
        var x64 = batchFirst ? SwapFirstAxes(ToDouble(x), n, steps, inputSize) : ToDouble(x);
        var (y64, h64, c64) = Reference(x64, steps, n, inputSize, hidden, layers, bidirectional, Params(lstm), ToDouble(h0), ToDouble(c0));
        if (batchFirst) y64 = SwapFirstAxes(y64, steps, n, dirs * hidden);
        Assert.Equal(batchFirst ? [n, steps, dirs * hidden] : new[] { steps, n, dirs * hidden }, y.Shape);
        AssertClose(y64, y.ToArray(), what: "output");
        AssertClose(h64, hN.ToArray(), what: "hN");
        AssertClose(c64, cN.ToArray(), what: "cN");
        // From zero states, the one-argument Forward.
        var yz = lstm.Forward(xt);
        var (yz64, _, _) = Reference(x64, steps, n, inputSize, hidden, layers, bidirectional, Params(lstm));
        AssertClose(batchFirst ? SwapFirstAxes(yz64, steps, n, dirs * hidden) : yz64, yz.ToArray(), what: "output from zero states");
    }

    [Theory, MemberData(nameof(Configs))]
    public void GradientsMatchFiniteDifferencesOfFloat64(int steps, int n, int inputSize, int hidden, int layers, bool bidirectional, bool batchFirst)
    {
        // L = Σ r·output + Σ rh·hN + Σ rc·cN; backpropagation through time from the tape against central differences
        // of the float64 LSTM, for every parameter, the input and the initial states.
        using var lstm = new Lstm(inputSize, hidden, layers, batchFirst: batchFirst, bidirectional: bidirectional, rng: new Rng(6));
        int dirs = lstm.Directions, states = layers * dirs * n * hidden;
        var rng = new Random(52);
        var x = Random(rng, steps * n * inputSize);
        var h0 = Random(rng, states);
        var c0 = Random(rng, states);
        var r = Random(rng, steps * n * dirs * hidden);
        var rh = Random(rng, states);
        var rc = Random(rng, states);
        using var scope = new TensorScope();
        var xt = Tensor.FromArray(x, batchFirst ? [n, steps, inputSize] : [steps, n, inputSize]);
        var h0t = Tensor.FromArray(h0, [layers * dirs, n, hidden]);
        var c0t = Tensor.FromArray(c0, [layers * dirs, n, hidden]);
        foreach (var t in new[] { xt, h0t, c0t }) t.RequiresGrad = true;
        var (y, (hN, cN)) = lstm.Forward(xt, h0t, c0t);
        var names = lstm.NamedParameters().Select(p => p.Name).ToArray();
        var wanted = lstm.Parameters().Concat([xt, h0t, c0t]).ToArray();
        var grads = Autograd.Grad([y, hN, cN], wanted, [Tensor.FromArray(r, y.Shape), Tensor.FromArray(rh, hN.Shape), Tensor.FromArray(rc, cN.Shape)]);

        var p64 = Params(lstm);
        double Loss(Dictionary<string, double[]> p, double[] x64, double[] hh, double[] cc)
        {
            var (o, hf, cf) = Reference(batchFirst ? SwapFirstAxes(x64, n, steps, inputSize) : x64, steps, n, inputSize, hidden, layers, bidirectional, p, hh, cc);
            if (batchFirst) o = SwapFirstAxes(o, steps, n, dirs * hidden);
            double sum = 0;
            for (int i = 0; i < o.Length; i++) sum += r[i] * o[i];
            for (int i = 0; i < hf.Length; i++) sum += rh[i] * hf[i] + rc[i] * cf[i];
            return sum;
        }
        var xs = ToDouble(x); var hs = ToDouble(h0); var cs = ToDouble(c0);
        double[] Numeric(double[] v, Func<double> loss)
        {
            var g = new double[v.Length];
            for (int i = 0; i < v.Length; i++)
            {
                double keep = v[i];
                v[i] = keep + 1e-6; double plus = loss();
                v[i] = keep - 1e-6; double minus = loss();
                v[i] = keep;
                g[i] = (plus - minus) / 2e-6;
            }
            return g;
        }
        double L() => Loss(p64, xs, hs, cs);
        for (int k = 0; k < names.Length; k++)
            AssertClose(Numeric(p64[names[k]], L), grads[k].ToArray(), GradChecker.Rtol, GradChecker.Atol, $"d/d {names[k]}");
        AssertClose(Numeric(xs, L), grads[^3].ToArray(), GradChecker.Rtol, GradChecker.Atol, "d/d x");
        AssertClose(Numeric(hs, L), grads[^2].ToArray(), GradChecker.Rtol, GradChecker.Atol, "d/d h0");
        AssertClose(Numeric(cs, L), grads[^1].ToArray(), GradChecker.Rtol, GradChecker.Atol, "d/d c0");
    }

    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices))]
    public void SecondDerivativesThroughTheSequence(string deviceName)
    {
        // The recorded backward (createGraph) through two layers in both directions: GradGradCheck with respect to
        // the input and the initial states (the weights fixed), against nested differences of the float64 LSTM.
        var d = TestDevices.Get(deviceName);
        const int steps = 3, n = 2, inputSize = 2, hidden = 2, layers = 2;
        using var lstm = new Lstm(inputSize, hidden, layers, bidirectional: true, device: d, rng: new Rng(7));
        var p64 = Params(lstm);
        var c = new OpCase("Lstm 2 layers bidirectional", [[steps, n, inputSize], [4, n, hidden], [4, n, hidden]],
            t => lstm.Forward(t[0], t[1], t[2]).Output,
            x => Reference(x[0], steps, n, inputSize, hidden, layers, true, p64, x[1], x[2]).Output);
        GradChecker.GradGradCheck(d, c);
    }

    [Fact]
    public void StateDictHasPyTorchsNamesAndShapes()
    {
        using var lstm = new Lstm(5, 7, numLayers: 2, bidirectional: true);
        var shapes = lstm.StateDict().ToDictionary(kv => kv.Key, kv => Shapes.Format(kv.Value.Shape));
        string[] expected = [
            "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0",
            "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse",
            "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1",
            "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse"];
        Assert.Equal(expected, lstm.NamedParameters().Select(p => p.Name).ToArray());
        Assert.Equal("[28, 5]", shapes["weight_ih_l0"]);
        Assert.Equal("[28, 7]", shapes["weight_hh_l0_reverse"]);
        Assert.Equal("[28, 14]", shapes["weight_ih_l1"]);
        Assert.Equal("[28]", shapes["bias_hh_l1_reverse"]);
        // PyTorch's init: every parameter within ±1/sqrt(H), and not all at the edge.
        float bound = 1f / MathF.Sqrt(7);
        Assert.All(lstm.Parameters().SelectMany(p => p.ToArray()), v => Assert.InRange(v, -bound, bound));
        using var noBias = new Lstm(3, 2, bias: false);
        Assert.Equal(["weight_ih_l0", "weight_hh_l0"], noBias.NamedParameters().Select(p => p.Name).ToArray());
    }

    [Fact]
    public void DropoutActsBetweenLayersInTrainingOnly()
    {
        using var lstm = new Lstm(3, 4, numLayers: 2, dropout: 0.5f, rng: new Rng(8));
        var x = Random(new Random(53), 4 * 2 * 3);
        using var scope = new TensorScope();
        var xt = Tensor.FromArray(x, [4, 2, 3]);
        var train = lstm.Forward(xt).ToArray();
        lstm.Eval();
        var eval = lstm.Forward(xt).ToArray();
        var (e64, _, _) = Reference(ToDouble(x), 4, 2, 3, 4, 2, false, Params(lstm));
        AssertClose(e64, eval, what: "evaluation is the plain LSTM");
        Assert.NotEqual(eval, train);
    }

    [Fact]
    public void BadShapesAreNamed()
    {
        using var lstm = new Lstm(3, 4);
        using var x = Tensor.Zeros(Device.Cpu, 2, 5, 4);
        var e = Assert.Throws<TensorShapeException>(() => lstm.Forward(x));
        Assert.Contains("Lstm", e.Message);
        using var x3 = Tensor.Zeros(Device.Cpu, 2, 5, 3);
        using var h0 = Tensor.Zeros(Device.Cpu, 2, 5, 4);
        e = Assert.Throws<TensorShapeException>(() => lstm.Forward(x3, h0, null));
        Assert.Contains("h0", e.Message);
    }
}
