using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// The fused optimizer kernels against <see cref="OptimizerUpdates.Reference"/>, several steps in a row
/// (the state carries over), on every device, at sizes with vector tails.
/// </summary>
public class OptimizerUpdatesTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static int[] Sizes(Device d) => TestDevices.IsSlow(d) ? [1, 13] : [1, 7, 37, 1000, 100_003];

    const int Steps = 4;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Sgd")]
    public void SgdMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(11);
        foreach (int n in Sizes(d))
            foreach (var (momentum, dampening, nesterov, wd, clip) in new (float, float, bool, float, float?)[]
                { (0, 0, false, 0, null), (0.9f, 0, false, 0.01f, null), (0.9f, 0, true, 0, null), (0.5f, 0.3f, false, 0.1f, 0.7f), (0, 0, false, 0.2f, 0.5f) })
            {
                var p = Random(rng, n);
                using var pt = Tensor.FromArray(p, [n], d);
                using var bt = Poisoned(d, n);
                Elementwise.Fill(bt, 0f);
                double[] pr = ToDouble(p), br = new double[n];
                for (int step = 1; step <= Steps; step++)
                {
                    var g = Random(rng, n);
                    using var gt = Tensor.FromArray(g, [n], d);
                    float scale = step == 1 ? 1f : 1f - dampening;
                    OptimizerUpdates.Sgd(pt, gt, momentum != 0 ? bt : null, new SgdArgs
                    {
                        LearningRate = 0.1f, Momentum = momentum, GradScale = scale, WeightDecay = wd,
                        Nesterov = nesterov ? 1 : 0, ClipEnabled = clip is null ? 0 : 1, Clip = clip ?? 0,
                    });
                    OptimizerUpdates.Reference.Sgd(pr, ToDouble(g), br, 0.1, momentum, scale, wd, nesterov, clip);
                }
                string what = $"SGD n={n} momentum={momentum} nesterov={nesterov} wd={wd} clip={clip} on {d.Name}";
                AssertClose(pr, pt.ToArray(), what: what);
                if (momentum != 0) AssertClose(br, bt.ToArray(), what: what + " (buffer)");
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.RmsProp")]
    public void RmsPropMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(12);
        foreach (int n in Sizes(d))
            foreach (var (momentum, centered, wd, clip) in new (float, bool, float, float?)[]
                { (0, false, 0, null), (0.9f, false, 0.01f, null), (0, true, 0, null), (0.5f, true, 0.1f, 0.01f) })
            {
                var p = Random(rng, n);
                using var pt = Tensor.FromArray(p, [n], d);
                using var st = Tensor.Zeros(d, n);
                using var at = Tensor.Zeros(d, n);
                using var bt = Tensor.Zeros(d, n);
                double[] pr = ToDouble(p), sr = new double[n], ar = new double[n], br = new double[n];
                for (int step = 1; step <= Steps; step++)
                {
                    var g = Random(rng, n);
                    using var gt = Tensor.FromArray(g, [n], d);
                    OptimizerUpdates.RmsProp(pt, gt, st, centered ? at : null, momentum != 0 ? bt : null, new RmsPropArgs
                    {
                        LearningRate = 0.01f, Alpha = 0.9f, Eps = 1e-8f, WeightDecay = wd, Momentum = momentum,
                        Centered = centered ? 1 : 0, ClipEnabled = clip is null ? 0 : 1, Clip = clip ?? 0,
                    });
                    OptimizerUpdates.Reference.RmsProp(pr, ToDouble(g), sr, ar, br, 0.01, 0.9, 1e-8, wd, momentum, centered, clip);
                }
                string what = $"RMSProp n={n} momentum={momentum} centered={centered} wd={wd} clip={clip} on {d.Name}";
                AssertClose(pr, pt.ToArray(), what: what);
                AssertClose(sr, st.ToArray(), what: what + " (square_avg)");
                if (centered) AssertClose(ar, at.ToArray(), what: what + " (grad_avg)");
                if (momentum != 0) AssertClose(br, bt.ToArray(), rtol: 1e-3, what: what + " (momentum_buffer)");
            }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Adam")]
    public void AdamMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(13);
        foreach (int n in Sizes(d))
            foreach (var (beta1, beta2, wd, decoupled, clip) in new (float, float, float, bool, float?)[]
                { (0.9f, 0.999f, 0, false, null), (0f, 0.9f, 0, false, null), (0f, 0.99f, 0.01f, false, null),
                  (0.5f, 0.9f, 0.1f, true, null), (0.5f, 0.9f, 0, false, 0.3f) })
            {
                var p = Random(rng, n);
                using var pt = Tensor.FromArray(p, [n], d);
                using var mt = Tensor.Zeros(d, n);
                using var vt = Tensor.Zeros(d, n);
                double[] pr = ToDouble(p), mr = new double[n], vr = new double[n];
                for (int step = 1; step <= Steps; step++)
                {
                    var g = Random(rng, n);
                    using var gt = Tensor.FromArray(g, [n], d);
                    OptimizerUpdates.Adam(pt, gt, mt, vt, AdamArgs.Create(0.01f, beta1, beta2, 1e-8f, wd, decoupled, step, clip));
                    OptimizerUpdates.Reference.Adam(pr, ToDouble(g), mr, vr, 0.01, beta1, beta2, 1e-8, wd, decoupled, step, clip);
                }
                string what = $"Adam n={n} betas=({beta1}, {beta2}) wd={wd} decoupled={decoupled} clip={clip} on {d.Name}";
                AssertClose(pr, pt.ToArray(), what: what);
                AssertClose(mr, mt.ToArray(), what: what + " (exp_avg)");
                AssertClose(vr, vt.ToArray(), what: what + " (exp_avg_sq)");
            }
    }

    [Fact]
    public void BadStateShapesAndDevicesAreNamed()
    {
        using var p = Tensor.Zeros(Device.Cpu, 3, 4);
        using var g = Tensor.Zeros(Device.Cpu, 12);
        using var m = Tensor.Zeros(Device.Cpu, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => OptimizerUpdates.Adam(p, g, m, m, AdamArgs.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 0, false, 1)));
        Assert.Contains("OptimizerUpdates.Adam", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        Assert.Contains("[12]", e.Message);
        var e2 = Assert.Throws<ArgumentNullException>(() => OptimizerUpdates.Sgd(p, m, null, new SgdArgs { LearningRate = 0.1f, Momentum = 0.9f }));
        Assert.Contains("momentum buffer", e2.Message);
        using var gpuGrad = Tensor.Zeros(Device.Get("ilgpu-cpu"), 3, 4);
        var e3 = Assert.Throws<ArgumentException>(() => OptimizerUpdates.RmsProp(p, gpuGrad, m, null, null, new RmsPropArgs { LearningRate = 0.1f, Alpha = 0.9f }));
        Assert.Contains("different devices", e3.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => AdamArgs.Create(1e-3f, 0.9f, 0.999f, 1e-8f, 0, false, 0));
    }
}
