using ILGPU.Runtime.Cuda;

namespace NativeGan.Inspection;

/// <summary>
/// The per-SM limits of one NVIDIA architecture that decide how many groups (thread blocks) can be
/// resident on a streaming multiprocessor at once, and so the theoretical occupancy of a kernel.
/// </summary>
/// <remarks>
/// Sources: NVIDIA CUDA C++ Programming Guide, "Compute Capabilities", table "Technical Specifications per
/// Compute Capability" (warps, blocks, registers, shared memory per SM and per block, and the 1 KiB of
/// shared memory the system reserves per block from compute capability 8.0 on), and NVIDIA's CUDA
/// Occupancy Calculator (<c>cuda_occupancy.h</c> in the toolkit) for the allocation granularities
/// (registers are allocated per warp in units of 256, in 4 sub-partitions of the register file; shared
/// memory in units of 128 bytes). Shared memory per SM is the largest carveout of the unified L1/shared
/// memory, which the driver picks when a kernel needs it.
/// </remarks>
public sealed record SmArchitecture(
    string Name,
    string Example,
    CudaArchitecture Ilgpu,
    int WarpSize,
    int MaxWarpsPerSm,
    int MaxBlocksPerSm,
    int MaxThreadsPerBlock,
    int RegistersPerSm,
    int MaxRegistersPerBlock,
    int MaxRegistersPerThread,
    int RegisterAllocationUnit,
    int RegisterSubPartitions,
    int SharedMemoryPerSm,
    int MaxSharedMemoryPerBlock,
    int ReservedSharedMemoryPerBlock,
    int SharedMemoryAllocationUnit)
{
    const int KiB = 1024;

    /// <summary>Ampere data centre (A100), compute capability 8.0.</summary>
    public static readonly SmArchitecture Sm80 = new("sm_80", "A100", CudaArchitecture.SM_80,
        WarpSize: 32, MaxWarpsPerSm: 64, MaxBlocksPerSm: 32, MaxThreadsPerBlock: 1024,
        RegistersPerSm: 65536, MaxRegistersPerBlock: 65536, MaxRegistersPerThread: 255,
        RegisterAllocationUnit: 256, RegisterSubPartitions: 4,
        SharedMemoryPerSm: 164 * KiB, MaxSharedMemoryPerBlock: 163 * KiB,
        ReservedSharedMemoryPerBlock: 1 * KiB, SharedMemoryAllocationUnit: 128);

    /// <summary>Ampere consumer (RTX 30xx, A40), compute capability 8.6.</summary>
    public static readonly SmArchitecture Sm86 = Sm80 with
    {
        Name = "sm_86", Example = "RTX 3090", Ilgpu = CudaArchitecture.SM_86,
        MaxWarpsPerSm = 48, MaxBlocksPerSm = 16, SharedMemoryPerSm = 100 * KiB, MaxSharedMemoryPerBlock = 99 * KiB,
    };

    /// <summary>Ada Lovelace (RTX 40xx, L4, L40), compute capability 8.9.</summary>
    public static readonly SmArchitecture Sm89 = Sm86 with
    {
        Name = "sm_89", Example = "L4", Ilgpu = CudaArchitecture.SM_89, MaxBlocksPerSm = 24,
    };

    /// <summary>Hopper (H100, H200), compute capability 9.0: the GPU this project is tuned for.</summary>
    public static readonly SmArchitecture Sm90 = Sm80 with
    {
        Name = "sm_90", Example = "H100", Ilgpu = CudaArchitecture.SM_90,
        SharedMemoryPerSm = 228 * KiB, MaxSharedMemoryPerBlock = 227 * KiB,
    };

    /// <summary>The architectures this table knows (ptxas 11.8, the one tools/fetch-ptxas.sh fetches, knows them all).</summary>
    public static IReadOnlyList<SmArchitecture> All { get; } = [Sm80, Sm86, Sm89, Sm90];

    /// <summary>By name: <c>sm_90</c>, <c>sm90</c> or <c>90</c>; an unknown name throws, listing the known ones.</summary>
    public static SmArchitecture Get(string name)
    {
        var key = name.Trim().ToLowerInvariant().Replace("sm_", "").Replace("sm", "").Replace(".", "");
        return All.FirstOrDefault(a => a.Name == "sm_" + key)
            ?? throw new ArgumentException(
                $"unknown architecture '{name}': this table knows {string.Join(", ", All.Select(a => a.Name))}");
    }

    public override string ToString() => Name;
}
