using System.Runtime.Intrinsics;

namespace NativeGan;

/// <summary>
/// The managed CPU device: storage is a float array, ops run vectorised (Vector512/Vector256,
/// System.Numerics.Tensors) and multi-threaded (the device's own workers, <see cref="For"/>) managed code. Work is done when the
/// call returns, so <see cref="Synchronize"/> has nothing to wait for.
/// </summary>
public sealed class CpuDevice : Device
{
    internal static readonly CpuDevice Instance = new();

    CpuDevice() { }

    public override string Name => "cpu";

    public override DeviceKind Kind => DeviceKind.Cpu;

    public override string Description =>
        $"{Environment.ProcessorCount} threads, " +
        (Vector512.IsHardwareAccelerated ? "AVX-512" : Vector256.IsHardwareAccelerated ? "AVX2" : "scalar") +
        (System.Runtime.Intrinsics.X86.Fma.IsSupported ? " + FMA" : "");

    /// <summary>Threads the CPU kernels may use.</summary>
    public int Threads { get; set; } = Environment.ProcessorCount;

    internal ParallelOptions Parallel => new() { MaxDegreeOfParallelism = Threads };

    /// <summary>How parallel loops are shared out over <see cref="Threads"/>: the device's own workers (default) or .NET's
    /// <c>Parallel.For</c>, kept to compare against (<c>bench --scheduler</c>).</summary>
    public CpuScheduler Scheduler { get; set; } = CpuScheduler.Workers;

    CpuWorkers? workers;
    readonly object workersLock = new();

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count) on the device's threads, by <see cref="Scheduler"/>;
    /// returns when all are done. Every parallel cpu kernel goes through here.</summary>
    public void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || Threads <= 1)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        if (Scheduler == CpuScheduler.TaskParallel)
        {
            System.Threading.Tasks.Parallel.For(0, count, Parallel, body);
            return;
        }
        var pool = workers;
        if (pool is null || pool.Threads != Threads)
            lock (workersLock)
            {
                pool = workers;
                if (pool is null || pool.Threads != Threads)
                {
                    pool?.Dispose(); // its workers end after the loop they may be in
                    workers = pool = new CpuWorkers(Threads);
                }
            }
        pool.For(count, body);
    }

    public override Storage Allocate(long length)
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"cpu: {length} floats exceed one array's limit");
        return new CpuStorage(this, arrays.Rent((int)length) ?? GC.AllocateUninitializedArray<float>((int)length));
    }

    readonly ArrayCache arrays = new();

    /// <summary>Takes back the array of a released storage for a later allocation of the same length.</summary>
    internal void Return(float[] data) => arrays.Return(data);

    /// <summary>Floats held in released arrays, waiting to be reused.</summary>
    public long CachedFloats => arrays.CachedFloats;

    /// <summary>
    /// Arrays of released storage, kept by exact length for the next allocation of that length: a training
    /// step asks for the same sizes every step, and a fresh array over 85 KB lands on the large-object heap,
    /// whose collections cost more than the arithmetic of a small model's step. Bounded; small arrays are
    /// left to the GC's nursery, which is cheap. Storage may be released on the finalizer thread: locked.
    /// </summary>
    sealed class ArrayCache
    {
        const int MinLength = 4096;                 // 16 KB: below this, new arrays are cheap
        const long MaxCachedFloats = 256L << 20;    // 1 GiB

        readonly Dictionary<int, Stack<float[]>> free = [];
        long cached;

        public long CachedFloats { get { lock (free) return cached; } }

        public float[]? Rent(int length)
        {
            if (length < MinLength) return null;
            lock (free)
            {
                if (!free.TryGetValue(length, out var stack) || stack.Count == 0) return null;
                cached -= length;
                return stack.Pop();
            }
        }

        public void Return(float[] data)
        {
            if (data.Length < MinLength) return;
            lock (free)
            {
                if (cached + data.Length > MaxCachedFloats) return; // let the GC have it
                if (!free.TryGetValue(data.Length, out var stack)) free[data.Length] = stack = new Stack<float[]>();
                stack.Push(data);
                cached += data.Length;
            }
        }
    }

    public override void CopyIn(ReadOnlySpan<float> source, Storage destination, long offset)
        => source.CopyTo(((CpuStorage)destination).Data.AsSpan((int)offset, source.Length));

    public override void CopyOut(Storage source, long offset, Span<float> destination)
        => ((CpuStorage)source).Data.AsSpan((int)offset, destination.Length).CopyTo(destination);

    public override void Copy(Storage source, long sourceOffset, Storage destination, long destinationOffset, long length)
        => Array.Copy(((CpuStorage)source).Data, sourceOffset, ((CpuStorage)destination).Data, destinationOffset, length);

    public override void Synchronize() { }
}
