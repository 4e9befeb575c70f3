using System.Runtime.Intrinsics;

namespace NativeGan;

/// <summary>
/// The managed CPU device: storage is a float array, ops run vectorised (Vector512/Vector256,
/// System.Numerics.Tensors) and multi-threaded (Parallel.For) managed code. Work is done when the
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

    public override Storage Allocate(long length)
    {
        if (length > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(length), $"cpu: {length} floats exceed one array's limit");
        return new CpuStorage(this, GC.AllocateUninitializedArray<float>((int)length));
    }

    public override void CopyIn(ReadOnlySpan<float> source, Storage destination, long offset)
        => source.CopyTo(((CpuStorage)destination).Data.AsSpan((int)offset, source.Length));

    public override void CopyOut(Storage source, long offset, Span<float> destination)
        => ((CpuStorage)source).Data.AsSpan((int)offset, destination.Length).CopyTo(destination);

    public override void Copy(Storage source, long sourceOffset, Storage destination, long destinationOffset, long length)
        => Array.Copy(((CpuStorage)source).Data, sourceOffset, ((CpuStorage)destination).Data, destinationOffset, length);

    public override void Synchronize() { }
}
