using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// <see cref="GpuDevice.Counters"/> on a device of its own (ILGPU's CPU accelerator, so no other test's work is counted):
/// each launch, host synchronisation, upload, kernel load and driver allocation seen once, and nothing else.
/// </summary>
public class GpuCountersTests
{
    [Fact]
    public void EachLaunchSyncUploadLoadAndAllocationIsCountedOnce()
    {
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        var start = d.Counters;
        using var x = Tensor.FromArray([1f, -2f, 3f, -4f, 5f, -6f, 7f], [7], d);
        Assert.Equal(new GpuCounters(0, 0, 1, 0, 1), d.Counters - start); // one buffer from the driver, one upload

        var before = d.Counters;
        using (var y = Elementwise.Unary(UnaryOp.Neg, x))
            Assert.Equal(new GpuCounters(1, 0, 0, 1, 1), d.Counters - before); // the kernel's first use loads it

        before = d.Counters;
        float[] negated;
        using (var y = Elementwise.Unary(UnaryOp.Neg, x))
        {
            Assert.Equal(new GpuCounters(1, 0, 0, 0, 0), d.Counters - before); // loaded already; the pool's freed buffer again
            negated = y.ToArray();
        }
        Assert.Equal(new GpuCounters(1, 1, 0, 0, 0), d.Counters - before); // reading back waits for the stream
        Assert.Equal([-1f, 2f, -3f, 4f, -5f, 6f, -7f], negated);

        d.Synchronize(); // a synchronisation asked for is one too
        Assert.Equal(new GpuCounters(2, 2, 1, 1, 2), d.Counters - start);
        Assert.Equal(2, d.LaunchesByKernel["Elementwise.Unary"]);
        Assert.Equal("2 launches, 0.5 host syncs, 0.5 uploads, 0.5 kernel loads, 1 driver allocations",
            new GpuCounters(4, 1, 1, 1, 2).PerStep(2));
    }

    [Fact]
    public void AGanStepWaitsForTheDeviceOnceAndAllocatesNothingAfterWarmUp()
    {
        // A tiny DCGAN (8x8 images) on a device of its own: the five logged numbers come back in one read, and from the
        // third step on (the pool still grows in the second) nothing is compiled, uploaded or allocated (what a captured step needs).
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        var settings = new Dictionary<string, string>(Training.TrainerTests.Tiny) { ["seed"] = "3", ["g_width"] = "2", ["d_width"] = "2" };
        using var job = ModelKinds.Create("dcgan", settings, d);
        var data = Training.TrainerTests.Blobs(4, 1);
        for (int step = 0; step < 3; step++)
        {
            using var x = Tensor.FromArray(data.Data, [4, 1, 8, 8], d);
            using var batch = new Batch(x.Share(), null, 0, step);
            var before = d.Counters;
            var byKernel = d.LaunchesByKernel;
            var log = job.Step(batch, step);
            var used = d.Counters - before;
            Assert.Equal(["loss_d", "d_real", "d_fake", "grad_norm_g", "loss_g"], log.Keys);
            Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
            Assert.Equal(1, used.HostSyncs);
            if (step < 2) continue;
            Assert.Equal((0L, 0L, 0L), (used.Uploads, used.KernelLoads, used.DriverAllocations));
            // Issue 40 item 4, fewer launches: each network's Adam in one launch, the gradient norm in two, batch norm one
            // launch each way. The whole step's count is held exactly, so a change that adds launches must say so here.
            var after = d.LaunchesByKernel;
            long Launches(string kernel) => after.GetValueOrDefault(kernel) - byKernel.GetValueOrDefault(kernel);
            Assert.Equal(2, Launches("OptimizerUpdates.AdamMany"));
            Assert.Equal(1, Launches("JointL2Norm.SumOfSquares"));
            Assert.Equal(0, Launches("OptimizerUpdates.Adam") + Launches("Norm.Statistics") + Launches("Norm.Normalize") + Launches("Norm.InputGrad"));
            Assert.True(used.Launches == TinyDcganStepLaunches,
                $"a tiny DCGAN step made {used.Launches} launches, expected {TinyDcganStepLaunches}: " +
                string.Join(", ", after.Select(kv => (kv.Key, N: kv.Value - byKernel.GetValueOrDefault(kv.Key))).Where(k => k.N > 0).OrderByDescending(k => k.N).Select(k => $"{k.Key} {k.N}")));
        }
    }

    /// <summary>The launches of the tiny DCGAN step above (8x8 images, widths 2) on 2026-12-07 after issue 40's multi-tensor
    /// Adam, fused gradient norm and fused batch norm (DCGAN-32's figures: benchmarks/RESULTS.md).</summary>
    const long TinyDcganStepLaunches = 126;
}
