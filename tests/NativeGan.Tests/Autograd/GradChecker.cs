using NativeGan;

namespace NativeGan.Tests.AutogradTests;

/// <summary>
/// One op under test: its float32 form on the tape and its float64 forward (the op's <c>Reference</c>
/// class in src/Kernels, or a plain float64 composition written in the test).
/// </summary>
/// <param name="Name">For messages.</param>
/// <param name="Shapes">Input shapes.</param>
/// <param name="F32">The op on the tape.</param>
/// <param name="F64">The same function in float64, on the inputs' flattened values; returns the flattened output.</param>
/// <param name="Lo">Inputs are drawn from [Lo, Hi) ...</param>
/// <param name="Hi">...</param>
/// <param name="AwayFromZero">... with |x| at least 0.1 (ops with a kink at 0: relu, abs) ...</param>
public sealed record OpCase(string Name, int[][] Shapes, Func<Tensor[], Tensor> F32, Func<double[][], double[]> F64,
    float Lo = -1f, float Hi = 1f, bool AwayFromZero = false)
{
    public override string ToString() => Name;
}

/// <summary>
/// Finite-difference checks of the tape, in the honest design: the analytic gradients come from the
/// float32 tape on the device under test; the numbers they are compared with come from central finite
/// differences of the op's <b>float64</b> forward (the reference), evaluated at exactly the same
/// (float32-representable) inputs. So the check measures the float32 rule's error alone: a float64
/// difference quotient with step 1e-6 is accurate to about 1e-9, far below float32's 1e-7 relative,
/// whereas differencing the float32 op itself would drown the check in rounding noise.
///
/// <para>Every check contracts the output with a random cotangent r: L(x) = sum(r * f(x)), so the
/// gradient of every output element is exercised without one backward per element.</para>
///
/// <para><b>GradCheck</b>: dL/dx from <c>Autograd.Grad</c> against (L(x + h e) - L(x - h e)) / 2h.</para>
/// <para><b>GradGradCheck</b>, as PyTorch's gradgradcheck: the first gradient is taken with createGraph,
/// contracted with random v: s(x, r) = sum_i v_i · dL/dx_i, and differentiated again with respect to the
/// inputs and to r. Reference: ds/dx by a nested central difference of L in float64
/// ([L(x+he+kv) - L(x+he-kv) - L(x-he+kv) + L(x-he-kv)] / 4hk, h = k = 1e-4: truncation and rounding both
/// near 1e-8), and ds/dr = J v = (f(x + kv) - f(x - kv)) / 2k.</para>
/// </summary>
public static class GradChecker
{
    public const double Rtol = 2e-3, Atol = 2e-4;

    static float[] Sample(Random rng, int n, OpCase c)
    {
        var x = Numerics.Random(rng, n, c.Lo, c.Hi);
        if (c.AwayFromZero)
            for (int i = 0; i < n; i++)
                x[i] = (rng.Next(2) == 0 ? -1 : 1) * (0.1f + 0.9f * rng.NextSingle());
        return x;
    }

    static double Dot(double[] a, double[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += a[i] * b[i];
        return s;
    }

    static double[][] Copy(double[][] x) => x.Select(a => (double[])a.Clone()).ToArray();

    /// <summary>Inputs plus <paramref name="scale"/> * direction.</summary>
    static double[][] Along(double[][] x, double[][] direction, double scale)
    {
        var y = Copy(x);
        for (int i = 0; i < y.Length; i++)
            for (int j = 0; j < y[i].Length; j++) y[i][j] += scale * direction[i][j];
        return y;
    }

    public static void GradCheck(Device d, OpCase c, int seed = 1)
    {
        var rng = new Random(seed);
        var xs = c.Shapes.Select(s => Sample(rng, Shapes.Numel(s), c)).ToArray();
        var x64 = xs.Select(Numerics.ToDouble).ToArray();
        using var scope = new TensorScope();
        var inputs = xs.Select((x, i) => Tensor.FromArray(x, c.Shapes[i], d)).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        var y = c.F32(inputs);
        var r = Numerics.Random(rng, y.Length);
        using var rt = Tensor.FromArray(r, y.Shape, d);
        var r64 = Numerics.ToDouble(r);

        var expectedOutput = c.F64(x64);
        Numerics.AssertClose(expectedOutput, y.ToArray(), 1e-4, 1e-5, $"{c.Name} forward on {d.Name}");

        var grads = Autograd.Grad([y], inputs, [rt]);
        const double h = 1e-6;
        for (int i = 0; i < xs.Length; i++)
        {
            var expected = new double[xs[i].Length];
            for (int j = 0; j < expected.Length; j++)
            {
                var plus = Copy(x64); plus[i][j] += h;
                var minus = Copy(x64); minus[i][j] -= h;
                expected[j] = (Dot(r64, c.F64(plus)) - Dot(r64, c.F64(minus))) / (2 * h);
            }
            Numerics.AssertClose(expected, grads[i].ToArray(), Rtol, Atol, $"{c.Name}: d/d input {i} on {d.Name}");
        }
        foreach (var t in inputs) t.Dispose();
    }

    public static void GradGradCheck(Device d, OpCase c, int seed = 2)
    {
        var rng = new Random(seed);
        var xs = c.Shapes.Select(s => Sample(rng, Shapes.Numel(s), c)).ToArray();
        var x64 = xs.Select(Numerics.ToDouble).ToArray();
        var v = c.Shapes.Select(s => Numerics.Random(rng, Shapes.Numel(s))).ToArray();
        var v64 = v.Select(Numerics.ToDouble).ToArray();
        using var scope = new TensorScope();
        var inputs = xs.Select((x, i) => Tensor.FromArray(x, c.Shapes[i], d)).ToArray();
        foreach (var t in inputs) t.RequiresGrad = true;
        var vt = v.Select((a, i) => Tensor.FromArray(a, c.Shapes[i], d)).ToArray();
        var y = c.F32(inputs);
        var r = Numerics.Random(rng, y.Length);
        var rt = Tensor.FromArray(r, y.Shape, d);
        rt.RequiresGrad = true;
        var r64 = Numerics.ToDouble(r);

        // s(x, r) = sum_i v_i · dL/dx_i, recorded; then its gradient w.r.t. every input and r.
        var first = Autograd.Grad([y], inputs, [rt], createGraph: true);
        Tensor? s = null;
        for (int i = 0; i < first.Length; i++)
        {
            var term = first[i].Mul(vt[i]).Sum();
            s = s is null ? term : s.Add(term);
        }
        var second = Autograd.Grad([s!], [.. inputs, rt], allowUnused: true);

        double L(double[][] x) => Dot(r64, c.F64(x));
        const double h = 1e-4, k = 1e-4;
        for (int i = 0; i < xs.Length; i++)
        {
            var expected = new double[xs[i].Length];
            for (int j = 0; j < expected.Length; j++)
            {
                var plus = Copy(x64); plus[i][j] += h;
                var minus = Copy(x64); minus[i][j] -= h;
                expected[j] = (L(Along(plus, v64, k)) - L(Along(plus, v64, -k)) - L(Along(minus, v64, k)) + L(Along(minus, v64, -k))) / (4 * h * k);
            }
            Numerics.AssertClose(expected, second[i].ToArray(), Rtol, Atol, $"{c.Name}: d/d input {i} of v·grad on {d.Name}");
        }
        {
            const double kr = 1e-6;
            var fPlus = c.F64(Along(x64, v64, kr));
            var fMinus = c.F64(Along(x64, v64, -kr));
            var expected = fPlus.Select((p, m) => (p - fMinus[m]) / (2 * kr)).ToArray();
            Numerics.AssertClose(expected, second[^1].ToArray(), Rtol, Atol, $"{c.Name}: d/d gradOutput of v·grad on {d.Name}");
        }
        foreach (var t in inputs.Concat(vt).Append(rt)) t.Dispose();
    }
}
