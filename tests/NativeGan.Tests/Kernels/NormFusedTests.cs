using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// The GPU's fused normalisation kernels (<see cref="NormVariant.V3"/>, the GPU default, which the float64 tests of each
/// norm run on ilgpu-cpu) give v1's bits, for every layout (batch norm with and without affine parameters and running
/// statistics, instance norm, AdaIN, layer norm), with dx written over dy too, in one launch each way where a group is a
/// parameter; the cpu refuses v3.
/// </summary>
public class NormFusedTests
{
    static readonly (string Name, NormLayout Layout, int Length)[] Layouts =
    [
        // groups longer than ilgpu-cpu's 64-thread group (2 x 67 = 134 an element a channel) and shorter (3 x 7 = 21)
        ("batch norm affine", NormLayout.PerChannel(2, 5, 67).WithAffine(5, false, true, true), 2 * 5 * 67),
        ("batch norm plain", NormLayout.PerChannel(3, 5, 7).WithAffine(5, false, false, false), 3 * 5 * 7),
        ("instance norm affine", NormLayout.PerPlane(3, 5, 9).WithAffine(5, false, true, true), 3 * 5 * 9),
        ("AdaIN", NormLayout.PerPlane(2, 3, 13).WithAffine(6, false, true, true), 2 * 3 * 13),
        ("layer norm affine", NormLayout.PerSample(3, 37).WithAffine(37, true, true, true), 3 * 37),
    ];

    [Fact, Trait("Kernel", "Norm.StatisticsNormalize"), Trait("Kernel", "Norm.BackwardFused")]
    public void V3GivesV1sBitsForEveryLayoutInFewerLaunches()
    {
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        var rng = new Random(31);
        foreach (var (name, layout, length) in Layouts)
        {
            var x = NormTestData.OffCentre(rng, length);
            var dy = Random(rng, length);
            var gamma = Random(rng, Math.Max(1, layout.ParamLength), 0.5f, 1.5f);
            var beta = Random(rng, Math.Max(1, layout.ParamLength));
            var running = Random(rng, layout.Groups, 0.5f, 2f);
            bool runningStats = name.StartsWith("batch norm", StringComparison.Ordinal);
            var results = new Dictionary<NormVariant, float[][]>();
            var launches = new Dictionary<NormVariant, (long Forward, long Backward)>();
            foreach (var variant in new[] { NormVariant.V1, NormVariant.V3 })
            {
                using var xt = Tensor.FromArray(x, [length], d);
                using var gt = Tensor.FromArray(gamma, [gamma.Length], d);
                using var bt = Tensor.FromArray(beta, [beta.Length], d);
                using var rm = Tensor.FromArray(running, [layout.Groups], d);
                using var rv = Tensor.FromArray(running, [layout.Groups], d);
                using var y = Poisoned(d, length);
                using var mean = Poisoned(d, layout.Groups);
                using var invStd = Poisoned(d, layout.Groups);
                var before = d.Counters;
                Normalization.StatisticsAndNormalize(xt, layout, mean, invStd, 1e-5f, layout.HasGamma != 0 ? gt : null, layout.HasBeta != 0 ? bt : null, y,
                    runningStats ? rm : null, runningStats ? rv : null, 0.1f, variant);
                long forward = (d.Counters - before).Launches;

                using var dyt = Tensor.FromArray(dy, [length], d);
                using var dx = Poisoned(d, length);
                using var dgamma = Poisoned(d, Math.Max(1, layout.ParamLength));
                using var dbeta = Poisoned(d, Math.Max(1, layout.ParamLength));
                bool paramGrads = layout.ParamLength > 0;
                before = d.Counters;
                Normalization.Backward(dyt, xt, layout, mean, invStd, layout.HasGamma != 0 ? gt : null, dx,
                    paramGrads ? dgamma : null, paramGrads ? dbeta : null, variant);
                long backward = (d.Counters - before).Launches;
                // dx over dy: the same values again
                Normalization.Backward(dyt, xt, layout, mean, invStd, layout.HasGamma != 0 ? gt : null, dyt, null, null, variant);
                launches[variant] = (forward, backward);
                results[variant] = [y.ToArray(), mean.ToArray(), invStd.ToArray(), rm.ToArray(), rv.ToArray(), dx.ToArray(),
                    paramGrads ? dgamma.ToArray() : [], paramGrads ? dbeta.ToArray() : [], dyt.ToArray()];
            }
            string[] what = ["y", "mean", "invStd", "running mean", "running var", "dx", "dgamma", "dbeta", "dx over dy"];
            for (int k = 0; k < what.Length; k++)
            {
                Assert.True(results[NormVariant.V1][k].AsSpan().SequenceEqual(results[NormVariant.V3][k]), $"{name}: v3's {what[k]} differs from v1's");
                Assert.All(results[NormVariant.V3][k], v => Assert.True(float.IsFinite(v), $"{name}: {what[k]} has {v}"));
            }
            Assert.Equal(1, launches[NormVariant.V3].Forward);
            Assert.Equal(2, launches[NormVariant.V1].Forward);
            // one fused launch, plus a parameter-gradient launch where a parameter spans several groups (instance and layer norm)
            bool groupIsParameter = layout.Groups == layout.ParamLength && layout.PerElement == 0;
            Assert.Equal(groupIsParameter || layout.ParamLength == 0 ? 1 : 2, launches[NormVariant.V3].Backward);
            Assert.Equal(layout.ParamLength == 0 ? 2 : 3, launches[NormVariant.V1].Backward);
        }
    }

    [Fact]
    public void TheCpuRefusesV3()
    {
        using var x = Tensor.Ones(Device.Cpu, 2, 3, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => BatchNorm2d.Forward(x, null, null, null, null, true, variant: NormVariant.V3));
        Assert.Contains("no variant 3", e.Message);
    }
}
