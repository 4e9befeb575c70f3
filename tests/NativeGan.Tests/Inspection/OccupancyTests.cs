using NativeGan.Inspection;

namespace NativeGan.Tests.Inspection;

/// <summary>Theoretical occupancy against values worked out by hand from the SM limits (sm_90: 65536 registers
/// in 4 sub-partitions of 16384, allocated per warp in units of 256; 64 warps and 32 groups an SM; 228 KiB
/// of shared memory an SM, 1 KiB reserved a group, allocated in units of 128 bytes).</summary>
public class OccupancyTests
{
    static readonly SmArchitecture H100 = SmArchitecture.Sm90;

    [Fact]
    public void MaximumRegistersAt128Threads()
    {
        // 255 registers x 32 threads = 8160 per warp, rounded up to 256: 8192. A sub-partition's 16384
        // registers hold 2 such warps, the SM 4 x 2 = 8 warps = 2 groups of 4 warps. Warp slots would allow
        // 64 / 4 = 16 groups. 2 groups x 4 warps = 8 of 64 warps: 12.5 %.
        var o = Occupancy.Compute(H100, registersPerThread: 255, sharedBytesPerBlock: 0, threadsPerBlock: 128);
        Assert.Equal((16, 2, 2, 8, "registers"), (o.BlocksByWarps, o.BlocksByRegisters, o.BlocksPerSm, o.WarpsPerSm, o.Limiter));
        Assert.Equal(0.125, o.Fraction);
    }

    [Fact]
    public void FortyEightKiBOfSharedMemoryAt256Threads()
    {
        // 49152 + 1024 reserved = 50176 bytes a group (a multiple of 128). 233472 / 50176 = 4.65: 4 groups.
        // Registers (32 a thread): 1024 a warp, 16 warps a sub-partition, 64 an SM = 8 groups of 8 warps;
        // warp slots: 64 / 8 = 8 groups. 4 groups x 8 warps = 32 of 64: 50 %.
        var o = Occupancy.Compute(H100, registersPerThread: 32, sharedBytesPerBlock: 48 * 1024, threadsPerBlock: 256);
        Assert.Equal((8, 8, 4, 4, "shared memory"), (o.BlocksByWarps, o.BlocksByRegisters, o.BlocksBySharedMemory, o.BlocksPerSm, o.Limiter));
        Assert.Equal(0.5, o.Fraction);
        // On an A100 (164 KiB an SM): 167936 / 50176 = 3.35: 3 groups, 24 of 64 warps = 37.5 %.
        Assert.Equal(0.375, Occupancy.Compute(SmArchitecture.Sm80, 32, 48 * 1024, 256).Fraction);
        // On an L4 (100 KiB an SM, 48 warps): 102400 / 50176 = 2.04: 2 groups, 16 of 48 warps = 33.3 %.
        Assert.Equal(16.0 / 48, Occupancy.Compute(SmArchitecture.Sm89, 32, 48 * 1024, 256).Fraction, 12);
    }

    [Fact]
    public void ThirtyTwoRegistersAt1024ThreadsFillTheSm()
    {
        // 32 warps a group. Registers: 1024 a warp, 16 warps a sub-partition, 64 an SM: 2 groups.
        // Warp slots: 64 / 32 = 2 groups. 2 x 32 = 64 warps: 100 %.
        var o = Occupancy.Compute(H100, 32, 0, 1024);
        Assert.Equal((2, 2, 64, 1.0), (o.BlocksByRegisters, o.BlocksPerSm, o.WarpsPerSm, o.Fraction));
    }

    [Fact]
    public void SixtyFiveRegistersAt1024ThreadsCannotLaunch()
    {
        // 64 registers: 2048 a warp x 32 warps = 65536, exactly the per-group limit: 1 group, 50 %.
        Assert.Equal(0.5, Occupancy.Compute(H100, 64, 0, 1024).Fraction);
        // 65 registers: 2080 a warp, rounded up to 2304; x 32 warps = 73728 > 65536: the launch fails.
        var o = Occupancy.Compute(H100, 65, 0, 1024);
        Assert.Equal((0, 0, 0.0, "registers"), (o.BlocksByRegisters, o.BlocksPerSm, o.Fraction, o.Limiter));
    }

    [Fact]
    public void SmallGroupsAreCappedByTheGroupLimit()
    {
        // 32 threads = 1 warp a group: warp slots would take 64 groups, but an SM holds at most 32 groups:
        // 32 of 64 warps = 50 % (why 32-thread groups waste an H100).
        var o = Occupancy.Compute(H100, 16, 0, 32);
        Assert.Equal((32, 32, 0.5, "warps"), (o.BlocksByWarps, o.BlocksPerSm, o.Fraction, o.Limiter));
        // A partial warp still takes a whole warp slot: 48 threads = 2 warps, 32 groups, 64 warps: 100 %.
        Assert.Equal(1.0, Occupancy.Compute(H100, 16, 0, 48).Fraction);
    }

    [Fact]
    public void TooMuchSharedMemoryOrTooManyThreadsCannotLaunch()
    {
        Assert.Equal(0, Occupancy.Compute(H100, 32, 228 * 1024, 128).BlocksPerSm); // over the 227 KiB a group
        Assert.Equal(1, Occupancy.Compute(H100, 32, 227 * 1024, 128).BlocksPerSm);  // 227 + 1 KiB = the whole SM
        Assert.Equal(0, Occupancy.Compute(H100, 32, 0, 2048).BlocksPerSm);
    }

    [Theory]
    [InlineData("sm_90"), InlineData("SM_90"), InlineData("sm90"), InlineData("90"), InlineData("9.0")]
    public void ArchitecturesAreFoundByAnyUsualName(string name) => Assert.Same(SmArchitecture.Sm90, SmArchitecture.Get(name));

    [Fact]
    public void AnUnknownArchitectureNamesTheKnownOnes()
    {
        var e = Assert.Throws<ArgumentException>(() => SmArchitecture.Get("sm_70"));
        Assert.Contains("sm_80, sm_86, sm_89, sm_90", e.Message);
    }
}
