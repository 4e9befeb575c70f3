using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>Data and checks every normalisation test uses.</summary>
public static class NormTestData
{
    /// <summary>Values in [1, 5): not centred (offset 3, spread 2), so a cancellation bug in the variance shows.</summary>
    public static float[] OffCentre(Random rng, int n) => Random(rng, n, 1f, 5f);

    /// <summary>
    /// The gradient of L(x) = sum_i weights[i] * f(x)[i] by central differences in float64: what checks
    /// that a reference backward is the derivative of its reference forward.
    /// </summary>
    public static double[] NumericalGradient(Func<double[], double[]> f, double[] at, double[] weights, double h = 1e-6)
    {
        var grad = new double[at.Length];
        for (int i = 0; i < at.Length; i++)
        {
            var plus = (double[])at.Clone();
            var minus = (double[])at.Clone();
            plus[i] += h;
            minus[i] -= h;
            double lp = 0, lm = 0;
            var yp = f(plus);
            var ym = f(minus);
            for (int k = 0; k < yp.Length; k++) { lp += weights[k] * yp[k]; lm += weights[k] * ym[k]; }
            grad[i] = (lp - lm) / (2 * h);
        }
        return grad;
    }

    /// <summary>1/sqrt(var + eps), as the kernels return it.</summary>
    public static double[] InvStd(double[] variance, double eps) => Array.ConvertAll(variance, v => 1 / Math.Sqrt(v + eps));

    public static void AssertClose(double[] expected, double[] actual, double rtol, double atol, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(actual[i] - expected[i]) <= atol + rtol * Math.Abs(expected[i])))
                Assert.Fail($"{what}: element {i} is {actual[i]}, expected {expected[i]}");
    }
}

/// <summary>
/// The float64 references' backward formulas against finite differences of their own forward: the
/// kernels are checked against the references, and this checks the references.
/// </summary>
public class NormReferenceTests
{
    const double Eps = 1e-5;

    [Fact]
    public void BatchNormReferenceBackwardIsTheDerivativeOfItsForward()
    {
        var rng = new Random(11);
        int n = 2, c = 3, h = 2, w = 3;
        var x = ToDouble(NormTestData.OffCentre(rng, n * c * h * w));
        var gamma = ToDouble(Random(rng, c, 0.5f, 1.5f));
        var beta = ToDouble(Random(rng, c));
        var dy = ToDouble(Random(rng, x.Length));
        var (dx, dgamma, dbeta) = BatchNorm2d.Reference.Backward(dy, x, n, c, h, w, gamma, Eps);
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => BatchNorm2d.Reference.Forward(v, n, c, h, w, gamma, beta, Eps).Y, x, dy), dx, 1e-5, 1e-6, "dx");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => BatchNorm2d.Reference.Forward(x, n, c, h, w, v, beta, Eps).Y, gamma, dy), dgamma, 1e-5, 1e-6, "dgamma");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => BatchNorm2d.Reference.Forward(x, n, c, h, w, gamma, v, Eps).Y, beta, dy), dbeta, 1e-5, 1e-6, "dbeta");
    }

    [Fact]
    public void InstanceNormReferenceBackwardIsTheDerivativeOfItsForward()
    {
        var rng = new Random(12);
        int n = 2, c = 3, h = 2, w = 3;
        var x = ToDouble(NormTestData.OffCentre(rng, n * c * h * w));
        var gamma = ToDouble(Random(rng, c, 0.5f, 1.5f));
        var beta = ToDouble(Random(rng, c));
        var dy = ToDouble(Random(rng, x.Length));
        var (dx, dgamma, dbeta) = InstanceNorm2d.Reference.Backward(dy, x, n, c, h, w, gamma, Eps);
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => InstanceNorm2d.Reference.Forward(v, n, c, h, w, gamma, beta, Eps).Y, x, dy), dx, 1e-5, 1e-6, "dx");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => InstanceNorm2d.Reference.Forward(x, n, c, h, w, v, beta, Eps).Y, gamma, dy), dgamma, 1e-5, 1e-6, "dgamma");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => InstanceNorm2d.Reference.Forward(x, n, c, h, w, gamma, v, Eps).Y, beta, dy), dbeta, 1e-5, 1e-6, "dbeta");
    }

    [Fact]
    public void AdaINReferenceBackwardIsTheDerivativeOfItsForward()
    {
        var rng = new Random(13);
        int n = 2, c = 2, h = 3, w = 2;
        var x = ToDouble(NormTestData.OffCentre(rng, n * c * h * w));
        var scale = ToDouble(Random(rng, n * c, 0.5f, 1.5f));
        var bias = ToDouble(Random(rng, n * c));
        var dy = ToDouble(Random(rng, x.Length));
        var (dx, dScale, dBias) = AdaIN.Reference.Backward(dy, x, n, c, h, w, scale, Eps);
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => AdaIN.Reference.Forward(v, n, c, h, w, scale, bias, Eps).Y, x, dy), dx, 1e-5, 1e-6, "dContent");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => AdaIN.Reference.Forward(x, n, c, h, w, v, bias, Eps).Y, scale, dy), dScale, 1e-5, 1e-6, "dScale");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => AdaIN.Reference.Forward(x, n, c, h, w, scale, v, Eps).Y, bias, dy), dBias, 1e-5, 1e-6, "dBias");
    }

    [Fact]
    public void LayerNormReferenceBackwardIsTheDerivativeOfItsForward()
    {
        var rng = new Random(14);
        int n = 3, size = 7;
        var x = ToDouble(NormTestData.OffCentre(rng, n * size));
        var gamma = ToDouble(Random(rng, size, 0.5f, 1.5f));
        var beta = ToDouble(Random(rng, size));
        var dy = ToDouble(Random(rng, x.Length));
        var (dx, dgamma, dbeta) = LayerNorm.Reference.Backward(dy, x, n, size, gamma, Eps);
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => LayerNorm.Reference.Forward(v, n, size, gamma, beta, Eps).Y, x, dy), dx, 1e-5, 1e-6, "dx");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => LayerNorm.Reference.Forward(x, n, size, v, beta, Eps).Y, gamma, dy), dgamma, 1e-5, 1e-6, "dgamma");
        NormTestData.AssertClose(NormTestData.NumericalGradient(v => LayerNorm.Reference.Forward(x, n, size, gamma, v, Eps).Y, beta, dy), dbeta, 1e-5, 1e-6, "dbeta");
    }
}
