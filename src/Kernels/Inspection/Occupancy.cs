namespace NativeGan.Inspection;

/// <summary>
/// Theoretical occupancy: how many of an SM's warp slots a kernel can fill, given the registers and
/// shared memory each group needs. It is the CUDA Occupancy Calculator's arithmetic
/// (<c>cuda_occupancy.h</c>), written out: each of three resources caps the number of resident groups
/// (blocks) per SM, the smallest cap wins, and occupancy = resident warps / the SM's maximum warps.
/// </summary>
/// <param name="BlocksByWarps">Cap from warp slots and the SM's block limit.</param>
/// <param name="BlocksByRegisters">Cap from the register file.</param>
/// <param name="BlocksBySharedMemory">Cap from shared memory.</param>
/// <param name="BlocksPerSm">The resident groups: the smallest cap (0: the kernel cannot launch at this group size).</param>
/// <param name="WarpsPerSm">Resident warps.</param>
/// <param name="Fraction">Resident warps / maximum warps per SM, 0..1.</param>
/// <param name="Limiter">What caps it: <c>warps</c>, <c>registers</c> or <c>shared memory</c>.</param>
public sealed record Occupancy(
    int BlocksByWarps, int BlocksByRegisters, int BlocksBySharedMemory,
    int BlocksPerSm, int WarpsPerSm, double Fraction, string Limiter)
{
    /// <summary>
    /// The theoretical occupancy of a kernel using <paramref name="registersPerThread"/> registers and
    /// <paramref name="sharedBytesPerBlock"/> bytes of shared memory (static plus dynamic), launched in
    /// groups of <paramref name="threadsPerBlock"/> threads on <paramref name="arch"/>.
    /// </summary>
    public static Occupancy Compute(SmArchitecture arch, int registersPerThread, int sharedBytesPerBlock, int threadsPerBlock)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threadsPerBlock, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(registersPerThread);
        ArgumentOutOfRangeException.ThrowIfNegative(sharedBytesPerBlock);
        int warpsPerBlock = DivideRoundUp(threadsPerBlock, arch.WarpSize);

        // 1. Warp slots and the block limit.
        int byWarps = threadsPerBlock > arch.MaxThreadsPerBlock
            ? 0
            : Math.Min(arch.MaxBlocksPerSm, arch.MaxWarpsPerSm / warpsPerBlock);

        // 2. Registers: allocated per warp, rounded up to the allocation unit, from a register file split
        //    into sub-partitions (each warp lives in one); a block must also fit the per-block limit, which
        //    the hardware checks as if its warps were spread over all sub-partitions.
        int byRegisters;
        int regsPerWarp = RoundUp(registersPerThread * arch.WarpSize, arch.RegisterAllocationUnit);
        if (registersPerThread > arch.MaxRegistersPerThread
            || regsPerWarp * RoundUp(warpsPerBlock, arch.RegisterSubPartitions) > arch.MaxRegistersPerBlock)
            byRegisters = 0;
        else if (regsPerWarp == 0)
            byRegisters = arch.MaxBlocksPerSm;
        else
        {
            int warpsPerSubPartition = arch.RegistersPerSm / arch.RegisterSubPartitions / regsPerWarp;
            byRegisters = warpsPerSubPartition * arch.RegisterSubPartitions / warpsPerBlock;
        }

        // 3. Shared memory: the block's bytes plus the system's reserved bytes, rounded up to the unit.
        int sharedPerBlock = RoundUp(sharedBytesPerBlock + arch.ReservedSharedMemoryPerBlock, arch.SharedMemoryAllocationUnit);
        int byShared = sharedBytesPerBlock > arch.MaxSharedMemoryPerBlock ? 0 : arch.SharedMemoryPerSm / sharedPerBlock;

        int blocks = Math.Min(byWarps, Math.Min(byRegisters, byShared));
        string limiter = blocks == byWarps ? "warps" : blocks == byRegisters ? "registers" : "shared memory";
        int warps = blocks * warpsPerBlock;
        return new Occupancy(byWarps, byRegisters, byShared, blocks, warps, (double)warps / arch.MaxWarpsPerSm, limiter);
    }

    static int DivideRoundUp(int x, int unit) => (x + unit - 1) / unit;

    static int RoundUp(int x, int unit) => DivideRoundUp(x, unit) * unit;

    public override string ToString() => $"{Fraction:P0} ({BlocksPerSm} groups of {WarpsPerSm / Math.Max(BlocksPerSm, 1)} warps, {Limiter})";
}
