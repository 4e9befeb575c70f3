using NativeGan;
using NativeGan.Nn;
using NativeGan.Tests.AutogradTests;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// The Gru module against a GRU written plainly in float64 below (PyTorch's equations and names): outputs, final
/// states, every gradient by finite differences, second derivatives by GradGradCheck; odd sizes, two layers, both directions.
/// </summary>
public class GruTests
{
    /// <summary>(output [T, N, D·H], hN [L·D, N, H]) of x [T, N, I] time-major; p by PyTorch's names.</summary>
    public static (double[] Output, double[] H) Reference(double[] x, int steps, int n, int inputSize, int hidden, int layers,
        bool bidirectional, IReadOnlyDictionary<string, double[]> p, double[]? h0 = null)
    {
        int dirs = bidirectional ? 2 : 1;
        var hN = new double[layers * dirs * n * hidden];
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
                if (h0 is not null) Array.Copy(h0, k * n * hidden, h, 0, n * hidden);
                for (int s = 0; s < steps; s++)
                {
                    int t = dir == 0 ? s : steps - 1 - s;
                    var hNew = new double[n * hidden];
                    for (int b = 0; b < n; b++)
                    {
                        var xa = new double[3 * hidden];
                        var ha = new double[3 * hidden];
                        for (int r = 0; r < 3 * hidden; r++)
                        {
                            xa[r] = bih?[r] ?? 0;
                            ha[r] = bhh?[r] ?? 0;
                            for (int q = 0; q < width; q++) xa[r] += input[(t * n + b) * width + q] * wih[r * width + q];
                            for (int q = 0; q < hidden; q++) ha[r] += h[b * hidden + q] * whh[r * hidden + q];
                        }
                        for (int j = 0; j < hidden; j++)
                        {
                            double rg = S(xa[j] + ha[j]), z = S(xa[hidden + j] + ha[hidden + j]);
                            double c = Math.Tanh(xa[2 * hidden + j] + rg * ha[2 * hidden + j]);
                            hNew[b * hidden + j] = (1 - z) * c + z * h[b * hidden + j];
                            output[((t * n + b) * dirs + dir) * hidden + j] = hNew[b * hidden + j];
                        }
                    }
                    h = hNew;
                }
                Array.Copy(h, 0, hN, k * n * hidden, n * hidden);
            }
            input = output;
            width = dirs * hidden;
        }
        return (input, hN);
    }

    static Dictionary<string, double[]> Params(Gru m) => m.NamedParameters().ToDictionary(p => p.Name, p => ToDouble(p.Tensor.ToArray()));

    // (T, N, I, H, layers, bidirectional)
    public static TheoryData<int, int, int, int, int, bool> Configs => new()
    {
        { 1, 1, 3, 1, 1, false },
        { 4, 3, 5, 7, 1, false },
        { 5, 1, 2, 7, 2, true },
        { 3, 2, 4, 3, 2, true },
    };

    [Theory, MemberData(nameof(Configs))]
    public void ForwardAndGradientsMatchFloat64(int steps, int n, int inputSize, int hidden, int layers, bool bidirectional)
    {
        using var gru = new Gru(inputSize, hidden, layers, bidirectional: bidirectional, rng: new Rng(9));
        int dirs = gru.Directions, states = layers * dirs * n * hidden;
        var rng = new Random(63);
        var x = Random(rng, steps * n * inputSize);
        var h0 = Random(rng, states);
        var r = Random(rng, steps * n * dirs * hidden);
        var rh = Random(rng, states);
        using var scope = new TensorScope();
        var xt = Tensor.FromArray(x, [steps, n, inputSize]);
        var h0t = Tensor.FromArray(h0, [layers * dirs, n, hidden]);
        xt.RequiresGrad = h0t.RequiresGrad = true;
        var (y, hN) = gru.Forward(xt, h0t);
        var p64 = Params(gru);
        double[] xs = ToDouble(x), hs = ToDouble(h0);
        var (y64, h64) = Reference(xs, steps, n, inputSize, hidden, layers, bidirectional, p64, hs);
        AssertClose(y64, y.ToArray(), what: "output");
        AssertClose(h64, hN.ToArray(), what: "hN");

        var names = gru.NamedParameters().Select(p => p.Name).ToArray();
        var grads = Autograd.Grad([y, hN], [.. gru.Parameters(), xt, h0t], [Tensor.FromArray(r, y.Shape), Tensor.FromArray(rh, hN.Shape)]);
        double L()
        {
            var (o, hf) = Reference(xs, steps, n, inputSize, hidden, layers, bidirectional, p64, hs);
            return o.Zip(r, (a, b) => a * b).Sum() + hf.Zip(rh, (a, b) => a * b).Sum();
        }
        double[] Numeric(double[] v)
        {
            var g = new double[v.Length];
            for (int i = 0; i < v.Length; i++)
            {
                double keep = v[i];
                v[i] = keep + 1e-6; double plus = L();
                v[i] = keep - 1e-6; double minus = L();
                v[i] = keep;
                g[i] = (plus - minus) / 2e-6;
            }
            return g;
        }
        for (int k = 0; k < names.Length; k++)
            AssertClose(Numeric(p64[names[k]]), grads[k].ToArray(), GradChecker.Rtol, GradChecker.Atol, $"d/d {names[k]}");
        AssertClose(Numeric(xs), grads[^2].ToArray(), GradChecker.Rtol, GradChecker.Atol, "d/d x");
        AssertClose(Numeric(hs), grads[^1].ToArray(), GradChecker.Rtol, GradChecker.Atol, "d/d h0");
    }

    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices))]
    public void SecondDerivativesThroughTheSequence(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        const int steps = 3, n = 2, inputSize = 2, hidden = 2, layers = 2;
        using var gru = new Gru(inputSize, hidden, layers, bidirectional: true, device: d, rng: new Rng(10));
        var p64 = Params(gru);
        var c = new OpCase("Gru 2 layers bidirectional", [[steps, n, inputSize], [4, n, hidden]],
            t => gru.Forward(t[0], t[1]).Output,
            x => Reference(x[0], steps, n, inputSize, hidden, layers, true, p64, x[1]).Output);
        GradChecker.GradGradCheck(d, c);
    }

    [Fact]
    public void StateDictHasPyTorchsNamesAndShapes()
    {
        using var gru = new Gru(5, 7, numLayers: 2, bidirectional: true);
        var shapes = gru.StateDict().ToDictionary(kv => kv.Key, kv => Shapes.Format(kv.Value.Shape));
        Assert.Equal(16, shapes.Count);
        Assert.Equal("[21, 5]", shapes["weight_ih_l0"]);
        Assert.Equal("[21, 7]", shapes["weight_hh_l0_reverse"]);
        Assert.Equal("[21, 14]", shapes["weight_ih_l1"]);
        Assert.Equal("[21]", shapes["bias_ih_l1_reverse"]);
        float bound = 1f / MathF.Sqrt(7);
        Assert.All(gru.Parameters().SelectMany(p => p.ToArray()), v => Assert.InRange(v, -bound, bound));
    }

    [Fact]
    public void BatchFirstIsTheTransposedSequence()
    {
        using var gru = new Gru(3, 4, batchFirst: true, rng: new Rng(11));
        var x = Random(new Random(64), 2 * 5 * 3);
        using var scope = new TensorScope();
        var y = gru.Forward(Tensor.FromArray(x, [2, 5, 3]));
        var xT = new double[x.Length];
        for (int b = 0; b < 2; b++) for (int t = 0; t < 5; t++) for (int f = 0; f < 3; f++) xT[(t * 2 + b) * 3 + f] = x[(b * 5 + t) * 3 + f];
        var (o, _) = Reference(xT, 5, 2, 3, 4, 1, false, Params(gru));
        var expected = new double[o.Length];
        for (int b = 0; b < 2; b++) for (int t = 0; t < 5; t++) for (int f = 0; f < 4; f++) expected[(b * 5 + t) * 4 + f] = o[(t * 2 + b) * 4 + f];
        Assert.Equal([2, 5, 4], y.Shape);
        AssertClose(expected, y.ToArray(), what: "batch-first output");
    }
}
