using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class NormInstanceNorm2dTests
{
    const float Eps = 1e-5f;

    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>Odd shapes: 1, 3 and 5 channels; 1x1 planes (variance 0: y = beta, finite through eps).</summary>
    static int[][] Cases(Device d) => TestDevices.IsSlow(d)
        ? [[1, 3, 5, 7], [3, 1, 1, 1]]
        : [[1, 1, 5, 7], [3, 3, 5, 7], [3, 5, 1, 1], [1, 3, 2, 1], [4, 3, 33, 31], [5, 5, 17, 9]];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Norm.Statistics"), Trait("Kernel", "Norm.Normalize")]
    public void ForwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(31);
        foreach (var shape in Cases(d))
            foreach (bool affine in new[] { true, false })
            {
                int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
                var x = NormTestData.OffCentre(rng, n * c * h * w);
                var gamma = Random(rng, c, 0.5f, 1.5f);
                var beta = Random(rng, c);
                using var xt = Tensor.FromArray(x, shape, d);
                using var gt = Tensor.FromArray(gamma, [c], d);
                using var bt = Tensor.FromArray(beta, [c], d);
                using var y = Poisoned(d, shape);
                using var mean = Poisoned(d, n * c);
                using var invStd = Poisoned(d, n * c);
                InstanceNorm2d.ForwardInto(xt, affine ? gt : null, affine ? bt : null, y, mean, invStd, Eps);

                var (ey, em, ev) = InstanceNorm2d.Reference.Forward(ToDouble(x), n, c, h, w,
                    affine ? ToDouble(gamma) : null, affine ? ToDouble(beta) : null, Eps);
                string what = $"{Shapes.Format(shape)} affine={affine} on {d.Name}";
                var got = y.ToArray();
                Assert.All(got, v => Assert.True(float.IsFinite(v), $"y not finite: {what}"));
                AssertClose(ey, got, what: "y " + what);
                AssertClose(em, mean.ToArray(), what: "mean " + what);
                // 1x1 planes: invStd = 1/sqrt(eps) ~ 316; float32 keeps ~7 digits of it.
                AssertClose(NormTestData.InvStd(ev, Eps), invStd.ToArray(), what: "invStd " + what);
            }
    }

    [Theory, MemberData(nameof(Devices)),
     Trait("Kernel", "Norm.Statistics"), Trait("Kernel", "Norm.BackwardSums"), Trait("Kernel", "Norm.ParamGradGroups"), Trait("Kernel", "Norm.InputGrad")]
    public void BackwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(32);
        foreach (var shape in Cases(d))
            foreach (bool affine in new[] { true, false })
            {
                int n = shape[0], c = shape[1], h = shape[2], w = shape[3];
                var x = NormTestData.OffCentre(rng, n * c * h * w);
                var gamma = Random(rng, c, 0.5f, 1.5f);
                var dy = Random(rng, x.Length);
                using var xt = Tensor.FromArray(x, shape, d);
                using var gt = Tensor.FromArray(gamma, [c], d);
                using var dyt = Tensor.FromArray(dy, shape, d);
                var (y, mean, invStd) = InstanceNorm2d.Forward(xt, affine ? gt : null, null, Eps);
                using var dx = Poisoned(d, shape);
                using var dgamma = Poisoned(d, c);
                using var dbeta = Poisoned(d, c);
                InstanceNorm2d.BackwardInto(dyt, xt, affine ? gt : null, mean, invStd, dx, dgamma, dbeta);
                y.Dispose(); mean.Dispose(); invStd.Dispose();

                var (edx, edg, edb) = InstanceNorm2d.Reference.Backward(ToDouble(dy), ToDouble(x), n, c, h, w, affine ? ToDouble(gamma) : null, Eps);
                string what = $"{Shapes.Format(shape)} affine={affine} on {d.Name}";
                var got = dx.ToArray();
                Assert.All(got, v => Assert.True(float.IsFinite(v), $"dx not finite: {what}"));
                AssertClose(edx, got, rtol: 1e-3, atol: 1e-4, what: "dx " + what);
                AssertClose(edg, dgamma.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dgamma " + what);
                AssertClose(edb, dbeta.ToArray(), rtol: 1e-4, atol: 1e-4, what: "dbeta " + what);
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Norm.Statistics"), Trait("Kernel", "Norm.Normalize")]
    public void ForwardMayWriteYOverX(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(33);
        int[] shape = [2, 3, 5, 7];
        var x = NormTestData.OffCentre(rng, Shapes.Numel(shape));
        var gamma = Random(rng, 3, 0.5f, 1.5f);
        var beta = Random(rng, 3);
        using var xt = Tensor.FromArray(x, shape, d);
        using var gt = Tensor.FromArray(gamma, [3], d);
        using var bt = Tensor.FromArray(beta, [3], d);
        using var mean = Poisoned(d, 6);
        using var invStd = Poisoned(d, 6);
        InstanceNorm2d.ForwardInto(xt, gt, bt, xt, mean, invStd, Eps);
        var (ey, _, _) = InstanceNorm2d.Reference.Forward(ToDouble(x), 2, 3, 5, 7, ToDouble(gamma), ToDouble(beta), Eps);
        AssertClose(ey, xt.ToArray(), what: $"y in place on {d.Name}");
    }

    [Fact]
    public void BadInputIsRefusedNamingOpAndShapes()
    {
        var cpu = Device.Cpu;
        using var x = Tensor.Zeros(cpu, 2, 3, 4, 5);
        using var gamma5 = Tensor.Ones(cpu, 5);
        var e = Assert.Throws<TensorShapeException>(() => InstanceNorm2d.Forward(x, gamma5));
        Assert.Contains("InstanceNorm2d", e.Message);
        Assert.Contains("[5]", e.Message);
        Assert.Contains("[3]", e.Message);

        using var x2 = Tensor.Zeros(cpu, 6, 20);
        e = Assert.Throws<TensorShapeException>(() => InstanceNorm2d.Forward(x2));
        Assert.Contains("InstanceNorm2d", e.Message);
        Assert.Contains("[6, 20]", e.Message);

        using var mean = Tensor.Zeros(cpu, 3);
        using var invStd = Tensor.Zeros(cpu, 3);
        e = Assert.Throws<TensorShapeException>(() => InstanceNorm2d.Backward(x, x, null, mean, invStd));
        Assert.Contains("mean", e.Message);
        Assert.Contains("[6]", e.Message);

        using var gpuX = Tensor.Zeros(Device.Get("ilgpu-cpu"), 2, 3, 4, 5);
        using var gamma = Tensor.Ones(cpu, 3);
        var a = Assert.Throws<ArgumentException>(() => InstanceNorm2d.Forward(gpuX, gamma));
        Assert.Contains("InstanceNorm2d", a.Message);
        Assert.Contains("different devices", a.Message);
    }
}
