using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class NormLayerNormTests
{
    const float Eps = 1e-5f;

    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>On ilgpu-cpu (every group thread an OS thread) two small cases; on cpu more and larger.</summary>
    static int[][] Cases(Device d) => TestDevices.IsSlow(d)
        ? [[3, 3, 5, 7], [3, 7]]
        : [[1, 1, 5, 7], [3, 3, 5, 7], [3, 5, 1, 1], [3, 7], [4, 3, 33, 31], [5, 1000]];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Norm.Statistics"), Trait("Kernel", "Norm.Normalize")]
    public void ForwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(51);
        foreach (var shape in Cases(d))
            foreach (var (hasGamma, hasBeta) in new[] { (true, true), (false, false), (true, false), (false, true) })
            {
                int n = shape[0], size = Shapes.Numel(shape) / n;
                var x = NormTestData.OffCentre(rng, n * size);
                var gamma = Random(rng, size, 0.5f, 1.5f);
                var beta = Random(rng, size);
                using var xt = Tensor.FromArray(x, shape, d);
                using var gt = Tensor.FromArray(gamma, shape[1..], d);
                using var bt = Tensor.FromArray(beta, shape[1..], d);
                using var y = Poisoned(d, shape);
                using var mean = Poisoned(d, n);
                using var invStd = Poisoned(d, n);
                LayerNorm.ForwardInto(xt, hasGamma ? gt : null, hasBeta ? bt : null, y, mean, invStd, Eps);

                var (ey, em, ev) = LayerNorm.Reference.Forward(ToDouble(x), n, size,
                    hasGamma ? ToDouble(gamma) : null, hasBeta ? ToDouble(beta) : null, Eps);
                string what = $"{Shapes.Format(shape)} gamma={hasGamma} beta={hasBeta} on {d.Name}";
                AssertClose(ey, y.ToArray(), what: "y " + what);
                AssertClose(em, mean.ToArray(), what: "mean " + what);
                AssertClose(NormTestData.InvStd(ev, Eps), invStd.ToArray(), what: "invStd " + what);
            }
    }

    [Theory, MemberData(nameof(Devices)),
     Trait("Kernel", "Norm.BackwardSums"), Trait("Kernel", "Norm.ParamGradElements"), Trait("Kernel", "Norm.InputGrad")]
    public void BackwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(52);
        foreach (var shape in Cases(d))
            foreach (bool affine in new[] { true, false })
            {
                int n = shape[0], size = Shapes.Numel(shape) / n;
                var x = NormTestData.OffCentre(rng, n * size);
                var gamma = Random(rng, size, 0.5f, 1.5f);
                var dy = Random(rng, x.Length);
                using var xt = Tensor.FromArray(x, shape, d);
                using var gt = Tensor.FromArray(gamma, shape[1..], d);
                using var dyt = Tensor.FromArray(dy, shape, d);
                var (y, mean, invStd) = LayerNorm.Forward(xt, affine ? gt : null, null, Eps);
                using var dx = Poisoned(d, shape);
                using var dgamma = Poisoned(d, shape[1..]);
                using var dbeta = Poisoned(d, shape[1..]);
                LayerNorm.BackwardInto(dyt, xt, affine ? gt : null, mean, invStd, dx, dgamma, dbeta);
                y.Dispose(); mean.Dispose(); invStd.Dispose();

                var (edx, edg, edb) = LayerNorm.Reference.Backward(ToDouble(dy), ToDouble(x), n, size, affine ? ToDouble(gamma) : null, Eps);
                string what = $"{Shapes.Format(shape)} affine={affine} on {d.Name}";
                AssertClose(edx, dx.ToArray(), rtol: 1e-3, atol: 1e-4, what: "dx " + what);
                AssertClose(edg, dgamma.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dgamma " + what);
                AssertClose(edb, dbeta.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dbeta " + what);
            }
    }

    [Fact]
    public void BadInputIsRefusedNamingOpAndShapes()
    {
        var cpu = Device.Cpu;
        using var x = Tensor.Zeros(cpu, 2, 3, 4, 5);
        using var gamma = Tensor.Ones(cpu, 3);
        var e = Assert.Throws<TensorShapeException>(() => LayerNorm.Forward(x, gamma));
        Assert.Contains("LayerNorm", e.Message);
        Assert.Contains("[3]", e.Message);
        Assert.Contains("[3, 4, 5]", e.Message);

        using var x1 = Tensor.Zeros(cpu, 20);
        e = Assert.Throws<TensorShapeException>(() => LayerNorm.Forward(x1));
        Assert.Contains("LayerNorm", e.Message);
        Assert.Contains("[20]", e.Message);

        using var gpuGamma = Tensor.Ones(Device.Get("ilgpu-cpu"), 3, 4, 5);
        var a = Assert.Throws<ArgumentException>(() => LayerNorm.Forward(x, gpuGamma));
        Assert.Contains("LayerNorm", a.Message);
        Assert.Contains("different devices", a.Message);
    }
}
