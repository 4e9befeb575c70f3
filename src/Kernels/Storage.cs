using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// A flat run of floats owned by one device. Tensors are shapes over a storage (several views may
/// share one). Storage is reference counted by the tensors that use it: disposing the last tensor
/// returns GPU memory to the pool at once; storage nobody disposed goes back when the GC finalises it.
/// </summary>
public abstract class Storage
{
    int references;
    int released;

    protected Storage(Device device, long length)
    {
        Device = device;
        Length = length;
    }

    public Device Device { get; }

    /// <summary>Number of floats.</summary>
    public long Length { get; }

    internal void AddReference() => Interlocked.Increment(ref references);

    internal void RemoveReference()
    {
        if (Interlocked.Decrement(ref references) == 0) Release();
    }

    /// <summary>True once the memory went back (to the pool or the GC); using it then is a bug.</summary>
    public bool IsReleased => Volatile.Read(ref released) != 0;

    void Release()
    {
        if (Interlocked.Exchange(ref released, 1) != 0) return;
        GC.SuppressFinalize(this);
        OnRelease();
    }

    /// <summary>Returns the memory (GPU storage goes back to its pool).</summary>
    protected virtual void OnRelease() { }

    /// <summary>What the finalizer does for storage nobody disposed: by default the same as a release.</summary>
    protected virtual void OnFinalize() => OnRelease();

    ~Storage()
    {
        if (Interlocked.Exchange(ref released, 1) == 0) OnFinalize();
    }
}

/// <summary>Storage of the managed CPU device: a plain float array.</summary>
public sealed class CpuStorage : Storage
{
    internal CpuStorage(Device device, float[] data) : base(device, data.LongLength) => Data = data;

    public float[] Data { get; }

    /// <summary>On the last Dispose the array goes back to the cpu device's cache of arrays by length.</summary>
    protected override void OnRelease() => ((CpuDevice)Device).Return(Data);

    /// <summary>
    /// Not from the finalizer: code may still hold the bare array of a tensor it let go of (a span taken from
    /// <c>CpuBuffer</c>), so an array is reused only after an explicit Dispose said it is free.
    /// </summary>
    protected override void OnFinalize() { }
}

/// <summary>Storage of an ILGPU accelerator: a buffer rented from the device's <see cref="MemoryPool"/>.</summary>
public sealed class GpuStorage : Storage
{
    readonly MemoryPool pool;

    internal GpuStorage(GpuDevice device, MemoryPool pool, MemoryBuffer1D<float, Stride1D.Dense> buffer, long length)
        : base(device, length)
    {
        this.pool = pool;
        Buffer = buffer;
    }

    /// <summary>The pooled buffer; it may be longer than <see cref="Storage.Length"/> (size classes).</summary>
    internal MemoryBuffer1D<float, Stride1D.Dense> Buffer { get; }

    /// <summary>The usable part of the buffer.</summary>
    public ArrayView<float> View => Buffer.View.SubView(0, Length);

    protected override void OnRelease() => pool.Return(Buffer);
}
