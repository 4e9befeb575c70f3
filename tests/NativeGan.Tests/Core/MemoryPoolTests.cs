using NativeGan;

namespace NativeGan.Tests.Core;

public class MemoryPoolTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(256)]
    [InlineData(257)]
    [InlineData(1000)]
    [InlineData(4097)]
    [InlineData(1_000_003)]
    [InlineData(67_108_864)]
    public void SizeClassesFitAndWasteAtMostAQuarter(long length)
    {
        long size = MemoryPool.SizeClass(length);
        Assert.True(size >= length, $"{size} < {length}");
        if (length > 256) Assert.True(size <= length * 1.25 + 1, $"{size} wastes more than 25% of {length}");
        Assert.Equal(size, MemoryPool.SizeClass(size)); // a class is its own class
    }

    [Fact]
    public void ASteadyLoopAllocatesNothingFromTheDriverAfterWarmUp()
    {
        var d = (GpuDevice)Device.Get("ilgpu-cpu");
        void Step()
        {
            using var a = Tensor.Full(d, 1f, 3, 50);
            using var b = Tensor.Full(d, 2f, 3, 50);
            using var c = Elementwise.Add(a, b);
            using var e = Elementwise.Unary(UnaryOp.Exp, c);
        }
        Step();
        long inUse = TestDevices.SettledBytesInUse(d), before = d.Pool.DriverAllocations;
        for (int i = 0; i < 20; i++) Step();
        Assert.Equal(before, d.Pool.DriverAllocations);
        Assert.Equal(inUse, d.Pool.BytesInUse);
    }

    [Fact]
    public void TensorsNobodyDisposedGoBackWhenCollected()
    {
        // A device of its own: the shared ilgpu-cpu pool's bytes in use move with whatever tests run beside this one.
        using var d = GpuDevice.Open(DeviceKind.IlgpuCpu);
        long inUse = d.Pool.BytesInUse;
        MakeGarbage(d);
        Assert.True(d.Pool.BytesInUse > inUse);
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(inUse, d.Pool.BytesInUse);

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void MakeGarbage(Device d)
        {
            for (int i = 0; i < 10; i++) _ = Tensor.Full(d, 1f, 1000);
        }
    }

    /// <summary>
    /// Found by the norm and conv work: a finalised tensor's ILGPU buffer could be freed by ILGPU's own
    /// finaliser before ours returned it to the pool, which then handed out dead memory. The pool now keeps
    /// every lent buffer referenced.
    /// </summary>
    [Fact]
    public void LeakedTensorsDoNotPoisonThePool()
    {
        var d = Device.Get("ilgpu-cpu");
        var values = Numerics.Random(new Random(9), 1000);
        for (int round = 0; round < 20; round++)
        {
            Leak(d);
            GC.Collect();
            GC.WaitForPendingFinalizers();
            GC.Collect();
            for (int k = 0; k < 50; k++)
            {
                using var t = Tensor.FromArray(values, [1000], d);
                Assert.Equal(values[999], t.ToArray()[999]);
            }
        }

        [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
        static void Leak(Device d)
        {
            for (int k = 0; k < 50; k++) Tensor.Empty(d, 1000);
        }
    }

    [Fact]
    public void ViewsKeepTheStorageAliveUntilTheLastIsDisposed()
    {
        var d = (GpuDevice)Device.Get("ilgpu-cpu");
        long inUse = TestDevices.SettledBytesInUse(d);
        var t = Tensor.Full(d, 3f, 4, 100);
        var v = t.Reshape(400);
        t.Dispose();
        Assert.Equal(3f, v.ToArray()[399]);
        v.Dispose();
        Assert.Equal(inUse, d.Pool.BytesInUse);
        GC.KeepAlive(t);
    }

    [Fact]
    public void OutOfMemoryNamesTheSizeAndWhatThePoolHolds()
    {
        var d = (GpuDevice)Device.Get("ilgpu-cpu");
        // 2^40 floats (4 TiB) is more than this machine can give: the pool must say so, not crash.
        var e = Assert.Throws<DeviceOutOfMemoryException>(() => d.Allocate(1L << 40));
        Assert.Contains("4096.00 GiB", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
        Assert.Contains("cached", e.Message);
    }
}
