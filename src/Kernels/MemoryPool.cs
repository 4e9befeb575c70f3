using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// A caching allocator for one accelerator: buffers are kept in free lists keyed by a size class,
/// so once a training step has run, the next step takes all its memory from the lists and asks the
/// driver for nothing. Size classes are powers of two split in four (2^k, 1.25, 1.5, 1.75 x 2^k),
/// which wastes at most 25% and keeps the number of distinct lists small.
/// </summary>
public sealed class MemoryPool : IDisposable
{
    readonly Accelerator accelerator;
    readonly string deviceName;
    readonly Dictionary<long, Stack<MemoryBuffer1D<float, Stride1D.Dense>>> free = new();
    // Every buffer handed out stays referenced here until it comes back. Without this, a tensor nobody
    // disposed would let its ILGPU buffer become unreachable together with its storage, and ILGPU's own
    // finalizer could free the device memory before ours returns the buffer to the free lists.
    readonly HashSet<MemoryBuffer1D<float, Stride1D.Dense>> lent = new(ReferenceEqualityComparer.Instance);
    readonly object gate = new();
    bool disposed;

    internal MemoryPool(Accelerator accelerator, string deviceName)
    {
        this.accelerator = accelerator;
        this.deviceName = deviceName;
    }

    /// <summary>Bytes in buffers handed out and not yet returned.</summary>
    public long BytesInUse { get; private set; }

    /// <summary>Bytes in buffers held in the free lists.</summary>
    public long BytesCached { get; private set; }

    /// <summary>The most bytes ever in use at once.</summary>
    public long PeakBytesInUse { get; private set; }

    /// <summary>How many times the pool asked the driver for memory.</summary>
    public long DriverAllocations { get; private set; }

    /// <summary>The number of floats actually allocated for a request of <paramref name="length"/> floats.</summary>
    public static long SizeClass(long length)
    {
        if (length <= 256) return 256;
        int k = 63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)(length - 1)); // 2^k < length <= 2^(k+1)
        long step = 1L << (k - 2);                                                       // a quarter of 2^k
        long baseSize = 1L << k;
        for (long size = baseSize + step; ; size += step)
            if (size >= length) return size;
    }

    internal MemoryBuffer1D<float, Stride1D.Dense> Rent(long length)
    {
        long size = SizeClass(length);
        lock (gate)
        {
            ObjectDisposedException.ThrowIf(disposed, this);
            if (free.TryGetValue(size, out var stack) && stack.Count > 0)
            {
                var buffer = stack.Pop();
                BytesCached -= size * sizeof(float);
                Track(buffer);
                return buffer;
            }
        }
        var fresh = AllocateFromDriver(size);
        lock (gate) Track(fresh);
        return fresh;
    }

    void Track(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        lent.Add(buffer);
        BytesInUse += buffer.Length * sizeof(float);
        PeakBytesInUse = Math.Max(PeakBytesInUse, BytesInUse);
    }

    MemoryBuffer1D<float, Stride1D.Dense> AllocateFromDriver(long size)
    {
        for (int attempt = 0; ; attempt++)
        {
            try
            {
                var buffer = accelerator.Allocate1D<float>(size);
                lock (gate) DriverAllocations++;
                return buffer;
            }
            catch (Exception e) when (e is OutOfMemoryException || e is AcceleratorException)
            {
                if (attempt == 0)
                {
                    // Tensors nobody disposed may still hold memory: let the GC finalise them, then
                    // give every cached buffer back to the driver, and try once more.
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                    Trim();
                    continue;
                }
                throw new DeviceOutOfMemoryException(
                    $"out of memory on {deviceName}: asked for {Format(size * sizeof(float))} " +
                    $"({size} floats); the pool holds {Format(BytesInUse)} in use and {Format(BytesCached)} cached " +
                    $"after releasing its cache. Use a smaller batch or free tensors with Dispose().", e);
            }
        }
    }

    internal void Return(MemoryBuffer1D<float, Stride1D.Dense> buffer)
    {
        long size = buffer.Length;
        lock (gate)
        {
            if (!lent.Remove(buffer)) return; // not ours, or returned twice
            BytesInUse -= size * sizeof(float);
            if (disposed) { buffer.Dispose(); return; }
            if (!free.TryGetValue(size, out var stack)) free[size] = stack = new();
            stack.Push(buffer);
            BytesCached += size * sizeof(float);
        }
    }

    /// <summary>Gives every cached buffer back to the driver.</summary>
    public void Trim()
    {
        lock (gate)
        {
            foreach (var stack in free.Values)
                while (stack.Count > 0) stack.Pop().Dispose();
            BytesCached = 0;
        }
    }

    public void Dispose()
    {
        lock (gate) disposed = true;
        Trim();
    }

    internal static string Format(long bytes) => bytes switch
    {
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.00} GiB",
        >= 1L << 20 => $"{bytes / (double)(1L << 20):0.0} MiB",
        >= 1L << 10 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} B",
    };
}
