using NativeGan;

namespace NativeGan.Tests.AutogradTests;

/// <summary>
/// A training loop with a gradient penalty (forward, input gradient with createGraph, backward, in-place
/// update) must not grow: every step's activations, gradients and graph go back when its scope closes.
/// Not run in parallel with other classes: they would share the ilgpu-cpu pool being measured.
/// </summary>
[Collection(nameof(MemoryTests))]
public class MemoryTests
{
    static void Step(Tensor[] p, Tensor x)
    {
        using var scope = new TensorScope();
        var score = x.Linear(p[0], p[1]).LeakyRelu(0.2f).Linear(p[2], p[3]);
        var dx = Autograd.Grad([score.Sum()], [x], createGraph: true)[0];
        var penalty = dx.PerSampleL2Norm().Sub(1f).Square().Mean();
        var loss = score.Mean().Add(penalty.Mul(10f));
        loss.Backward();
        using (Autograd.NoGrad())
            foreach (var t in p)
            {
                if (t.Grad is { } g) Elementwise.ScaleAdd(t, 1f, g, -1e-3f);
                t.ZeroGrad();
            }
        x.ZeroGrad(); // x requires grad (for the penalty), so Backward gave it a .Grad too: the leaf owns it
    }

    static Tensor[] Params(Device d, Random rng)
    {
        int[][] shapes = [[5, 7], [5], [1, 5], [1]];
        var p = shapes.Select(s => Tensor.FromArray(Numerics.Random(rng, Shapes.Numel(s)), s, d)).ToArray();
        foreach (var t in p) t.RequiresGrad = true;
        return p;
    }

    [Fact, Trait("Kernel", "Elementwise.Unary"), Trait("Kernel", "Elementwise.ScaleAdd")]
    public void GpuPoolStaysFlatOverAPenaltyTrainingLoop()
    {
        var d = (GpuDevice)Device.Get("ilgpu-cpu");
        var rng = new Random(1);
        var p = Params(d, rng);
        using var x = Tensor.FromArray(Numerics.Random(rng, 3 * 7), [3, 7], d);
        x.RequiresGrad = true;
        for (int i = 0; i < 3; i++) Step(p, x); // warm up: kernels compiled, pool lists filled
        // Settled: storage earlier tests never disposed is finalised now, not inside the measured steps.
        long inUse = TestDevices.SettledBytesInUse(d), driver = d.Pool.DriverAllocations;
        for (int i = 0; i < 60; i++) Step(p, x);
        Assert.Equal(inUse, d.Pool.BytesInUse);           // nothing left behind by a step
        Assert.Equal(driver, d.Pool.DriverAllocations);   // and every buffer came from the pool
        foreach (var t in p) t.Dispose();
    }

    [Fact]
    public void ManagedMemoryStaysBoundedOverAPenaltyTrainingLoop()
    {
        var d = Device.Cpu;
        var rng = new Random(2);
        var p = Params(d, rng);
        using var x = Tensor.FromArray(Numerics.Random(rng, 3 * 7), [3, 7], d);
        x.RequiresGrad = true;
        for (int i = 0; i < 50; i++) Step(p, x);
        long before = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 1000; i++) Step(p, x);
        long after = GC.GetTotalMemory(forceFullCollection: true);
        Assert.True(after - before < 256 * 1024, $"managed memory grew by {after - before} bytes over 1000 steps");
        foreach (var t in p) t.Dispose();
    }
}

/// <summary>
/// Runs <see cref="MemoryTests"/> and every class that compares a device pool's bytes in use before and after
/// (a leak check) alone, after the parallel classes: a test running beside them on the same device would
/// move the count (a flaky failure seen when the Nn tests ran on their own).
/// </summary>
[CollectionDefinition(nameof(MemoryTests), DisableParallelization = true)]
public sealed class MemoryTestsCollection;
