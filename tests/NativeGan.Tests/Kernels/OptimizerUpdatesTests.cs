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

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.AdamMany")]
    public void AdamManyMatchesFloat64AndOneLaunchATensorBitForBit(string deviceName)
    {
        // 19 tensors of odd sizes (one empty): more than one table of 16, so the chunking and the slot ends are walked;
        // the same steps with one Adam a tensor must give the same bits (the thread's arithmetic is the same).
        var d = TestDevices.Get(deviceName);
        var rng = new Random(14);
        int[] sizes = TestDevices.IsSlow(d) ? [5, 1, 13, 0, 7, 3, 17, 2, 9, 1, 4, 11, 6, 1, 8, 3, 15, 2, 37] : [.. Enumerable.Range(0, 19).Select(i => i == 3 ? 0 : rng.Next(1, 3000))];
        foreach (var (beta1, wd, decoupled, clip) in new (float, float, bool, float?)[] { (0.9f, 0, false, null), (0.5f, 0.1f, true, 0.3f) })
        {
            var p = sizes.Select(n => Random(rng, n)).ToArray();
            var many = p.Select(x => Tensor.FromArray(x, [x.Length], d)).ToList();
            var one = p.Select(x => Tensor.FromArray(x, [x.Length], d)).ToList();
            var state = sizes.Select(n => (M: Poisoned(d, n), V: Poisoned(d, n), M1: Tensor.Zeros(d, n), V1: Tensor.Zeros(d, n))).ToList();
            foreach (var s in state) { Elementwise.Fill(s.M, 0f); Elementwise.Fill(s.V, 0f); }
            var pr = p.Select(ToDouble).ToArray();
            var mr = sizes.Select(n => new double[n]).ToArray();
            var vr = sizes.Select(n => new double[n]).ToArray();
            try
            {
                for (int step = 1; step <= Steps; step++)
                {
                    var g = sizes.Select(n => Random(rng, n)).ToArray();
                    var gt = g.Select(x => Tensor.FromArray(x, [x.Length], d)).ToList();
                    var args = AdamArgs.Create(0.01f, beta1, 0.99f, 1e-8f, wd, decoupled, step, clip);
                    OptimizerUpdates.AdamMany(many, gt, state.Select(s => s.M).ToList(), state.Select(s => s.V).ToList(), args);
                    for (int i = 0; i < sizes.Length; i++)
                    {
                        OptimizerUpdates.Adam(one[i], gt[i], state[i].M1, state[i].V1, args);
                        OptimizerUpdates.Reference.Adam(pr[i], ToDouble(g[i]), mr[i], vr[i], 0.01, beta1, 0.99, 1e-8, wd, decoupled, step, clip);
                    }
                    gt.ForEach(t => t.Dispose());
                }
                for (int i = 0; i < sizes.Length; i++)
                {
                    string what = $"AdamMany tensor {i} (n={sizes[i]}) beta1={beta1} wd={wd} decoupled={decoupled} clip={clip} on {d.Name}";
                    AssertClose(pr[i], many[i].ToArray(), what: what);
                    AssertClose(mr[i], state[i].M.ToArray(), what: what + " (exp_avg)");
                    AssertClose(vr[i], state[i].V.ToArray(), what: what + " (exp_avg_sq)");
                    Assert.Equal(one[i].ToArray(), many[i].ToArray());
                    Assert.Equal(state[i].V1.ToArray(), state[i].V.ToArray());
                }
            }
            finally
            {
                foreach (var t in many.Concat(one)) t.Dispose();
                foreach (var s in state) { s.M.Dispose(); s.V.Dispose(); s.M1.Dispose(); s.V1.Dispose(); }
            }
        }
    }

    [Fact]
    public void AdamOnAGpuUpdatesSixteenParametersALaunch()
    {
        // 19 parameters on a device of its own: one Step is two AdamMany launches (16 + 3) and nothing else once the
        // moments exist (the first step also fills them with zeros).
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        var ps = Enumerable.Range(0, 19).Select(i => Tensor.Full(d, 0.5f, i + 1)).ToList();
        foreach (var p in ps) p.RequiresGrad = true;
        var adam = new NativeGan.Nn.Adam(ps, 0.01f);
        try
        {
            for (int step = 0; step < 2; step++)
            {
                foreach (var p in ps) p.Grad = Tensor.Full(d, 1f, p.Length);
                var before = d.LaunchesByKernel;
                adam.Step();
                var after = d.LaunchesByKernel;
                long Launches(string k) => after.GetValueOrDefault(k) - before.GetValueOrDefault(k);
                Assert.Equal(2, Launches("OptimizerUpdates.AdamMany"));
                Assert.Equal(0, Launches("OptimizerUpdates.Adam"));
                if (step == 1) Assert.Equal(2, after.Values.Sum() - before.Values.Sum());
                adam.ZeroGrad();
            }
            // Step 1 of Adam moves each weight by lr * sign(g); step 2 by about the same again.
            Assert.All(ps, p => Assert.All(p.ToArray(), w => Assert.InRange(w, 0.5f - 0.0201f, 0.5f - 0.0199f)));
        }
        finally
        {
            foreach (var p in ps) p.Dispose();
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
