using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class NormAdaINTests
{
    const float Eps = 1e-5f;

    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>On ilgpu-cpu (every group thread an OS thread) two small cases; on cpu more and larger.</summary>
    static int[][] Cases(Device d) => TestDevices.IsSlow(d)
        ? [[2, 2, 5, 7], [3, 1, 1, 1]]
        : [[1, 1, 5, 7], [3, 3, 5, 7], [3, 5, 1, 1], [4, 3, 33, 31]];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Norm.Statistics"), Trait("Kernel", "Norm.Normalize")]
    public void ForwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(41);
        foreach (var shape in Cases(d))
        {
            int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
            var x = NormTestData.OffCentre(rng, n * c * h * w);
            var scale = Random(rng, n * c, 0.5f, 1.5f);
            var bias = Random(rng, n * c);
            using var xt = Tensor.FromArray(x, shape, d);
            using var st = Tensor.FromArray(scale, [n, c], d);
            using var bt = Tensor.FromArray(bias, [n, c], d);
            using var y = Poisoned(d, shape);
            using var mean = Poisoned(d, n * c);
            using var invStd = Poisoned(d, n * c);
            AdaIN.ForwardInto(xt, st, bt, y, mean, invStd, Eps);

            var (ey, em, ev) = AdaIN.Reference.Forward(ToDouble(x), n, c, h, w, ToDouble(scale), ToDouble(bias), Eps);
            string what = $"{Shapes.Format(shape)} on {d.Name}";
            AssertClose(ey, y.ToArray(), what: "y " + what);
            AssertClose(em, mean.ToArray(), what: "mean " + what);
            AssertClose(NormTestData.InvStd(ev, Eps), invStd.ToArray(), what: "invStd " + what);
        }
    }

    [Theory, MemberData(nameof(Devices)),
     Trait("Kernel", "Norm.BackwardSums"), Trait("Kernel", "Norm.ParamGradGroups"), Trait("Kernel", "Norm.InputGrad")]
    public void BackwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(42);
        foreach (var shape in Cases(d))
        {
            int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
            var x = NormTestData.OffCentre(rng, n * c * h * w);
            var scale = Random(rng, n * c, 0.5f, 1.5f);
            var bias = Random(rng, n * c);
            var dy = Random(rng, x.Length);
            using var xt = Tensor.FromArray(x, shape, d);
            using var st = Tensor.FromArray(scale, [n, c], d);
            using var bt = Tensor.FromArray(bias, [n, c], d);
            using var dyt = Tensor.FromArray(dy, shape, d);
            var (y, mean, invStd) = AdaIN.Forward(xt, st, bt, Eps);
            using var dx = Poisoned(d, shape);
            using var dScale = Poisoned(d, n, c);
            using var dBias = Poisoned(d, n, c);
            AdaIN.BackwardInto(dyt, xt, st, mean, invStd, dx, dScale, dBias);
            y.Dispose(); mean.Dispose(); invStd.Dispose();

            var (edx, eds, edb) = AdaIN.Reference.Backward(ToDouble(dy), ToDouble(x), n, c, h, w, ToDouble(scale), Eps);
            string what = $"{Shapes.Format(shape)} on {d.Name}";
            AssertClose(edx, dx.ToArray(), rtol: 1e-3, atol: 1e-4, what: "dContent " + what);
            AssertClose(eds, dScale.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dScale " + what);
            AssertClose(edb, dBias.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dBias " + what);
        }
    }

    [Fact]
    public void BadInputIsRefusedNamingOpAndShapes()
    {
        var cpu = Device.Cpu;
        using var x = Tensor.Zeros(cpu, 2, 3, 4, 5);
        using var scale = Tensor.Ones(cpu, 2, 3);
        using var wrong = Tensor.Ones(cpu, 3);
        var e = Assert.Throws<TensorShapeException>(() => AdaIN.Forward(x, wrong, scale));
        Assert.Contains("AdaIN", e.Message);
        Assert.Contains("styleScale", e.Message);
        Assert.Contains("[2, 3]", e.Message);
        e = Assert.Throws<TensorShapeException>(() => AdaIN.Forward(x, scale, wrong));
        Assert.Contains("styleBias", e.Message);

        using var x3 = Tensor.Zeros(cpu, 2, 3, 20);
        e = Assert.Throws<TensorShapeException>(() => AdaIN.Forward(x3, scale, scale));
        Assert.Contains("AdaIN", e.Message);
        Assert.Contains("[2, 3, 20]", e.Message);

        using var gpuScale = Tensor.Ones(Device.Get("ilgpu-cpu"), 2, 3);
        var a = Assert.Throws<ArgumentException>(() => AdaIN.Forward(x, gpuScale, scale));
        Assert.Contains("AdaIN", a.Message);
        Assert.Contains("different devices", a.Message);
    }
}
