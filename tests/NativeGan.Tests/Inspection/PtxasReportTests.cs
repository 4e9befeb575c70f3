using NativeGan.Inspection;

namespace NativeGan.Tests.Inspection;

/// <summary>The ptxas -v and cuobjdump -sass parsers, on real output committed under TestData/ptxas (see its README).</summary>
public class PtxasReportTests
{
    public static string Data(string file) => Path.Combine(AppContext.BaseDirectory, "TestData", "ptxas", file);

    [Fact]
    public void ReadsRegistersAndSharedMemory()
    {
        var report = PtxasReport.Parse(File.ReadAllText(Data("tiled-gemm-sm90.log")));
        var f = Assert.Single(report.Functions);
        Assert.Same(f, report.Entry);
        Assert.Equal("Kernel_TiledGemmKernel", f.Name);
        Assert.True(f.IsEntry);
        Assert.Equal("sm_90", f.Architecture);
        Assert.Equal(30, f.Registers);
        Assert.Equal(2048, f.SharedBytes);
        Assert.Equal((0, 0, 0), (f.StackFrameBytes, f.SpillStoreBytes, f.SpillLoadBytes));
        Assert.Empty(report.Warnings);
    }

    [Fact]
    public void ReadsSpillsAndTheStackFrame()
    {
        var f = PtxasReport.Parse(File.ReadAllText(Data("blocked-gemm-sm90-maxrreg24.log"))).Entry;
        Assert.Equal("Kernel_BlockedGemmKernel", f.Name);
        Assert.Equal(24, f.Registers);
        Assert.Equal(8192, f.SharedBytes);
        Assert.Equal(32, f.StackFrameBytes);
        Assert.Equal(52, f.SpillStoreBytes);
        Assert.Equal(56, f.SpillLoadBytes);
        Assert.Equal(108, f.SpillBytes);
    }

    [Fact]
    public void ReadsWarningsAndConstantMemory()
    {
        var report = PtxasReport.Parse(File.ReadAllText(Data("gemm-v1naive-sm80-maxrreg16.log")));
        var f = report.Entry;
        Assert.Equal(("Kernel_V1NaiveKernel", "sm_80", 24, 0, 448), (f.Name, f.Architecture, f.Registers, f.SharedBytes, f.ConstantBytes));
        Assert.Contains("adjusting per thread register count of 16 to lower bound of 24", Assert.Single(report.Warnings));
    }

    [Fact]
    public void ReadsSeveralFunctions()
    {
        // The layout ptxas uses for a module with two entries and a device function that was not inlined
        // (ILGPU emits one entry a module, so this one is written by hand in that layout).
        const string log = """
            ptxas info    : 0 bytes gmem
            ptxas info    : Function properties for helper
                8 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Compiling entry function 'first' for 'sm_90'
            ptxas info    : Function properties for first
                16 bytes stack frame, 4 bytes spill stores, 8 bytes spill loads
            ptxas info    : Used 40 registers, 1024 bytes smem, 400 bytes cmem[0]
            ptxas info    : Compiling entry function 'second' for 'sm_90'
            ptxas info    : Function properties for second
                0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
            ptxas info    : Used 8 registers, used 1 barriers
            """;
        var report = PtxasReport.Parse(log);
        Assert.Equal(["first", "second", "helper"], report.Functions.Select(f => f.Name));
        Assert.Equal((40, 1024, 400, 16, 4, 8), (report.Functions[0].Registers, report.Functions[0].SharedBytes, report.Functions[0].ConstantBytes,
            report.Functions[0].StackFrameBytes, report.Functions[0].SpillStoreBytes, report.Functions[0].SpillLoadBytes));
        Assert.Equal((8, 1), (report.Functions[1].Registers, report.Functions[1].Barriers));
        Assert.False(report.Functions[2].IsEntry);
        Assert.Equal(8, report.Functions[2].StackFrameBytes);
        Assert.Throws<InvalidOperationException>(() => report.Entry);
    }

    [Fact]
    public void SomethingElseIsNotAReport()
        => Assert.Throws<FormatException>(() => PtxasReport.Parse("ptxas fatal   : Value 'sm_95' is not defined for option 'gpu-name'"));

    // ---------------------------------------------------------------- SASS

    [Fact]
    public void CountsTheInstructionMixOfALoadBoundTile()
    {
        // Counted independently in the shell (opcode before the first dot, padding excluded):
        //   grep -oE '^\s+/\*[0-9a-f]+\*/\s+(@!?U?P[T0-9]+\s+)?[A-Z0-9_.]+' tiled-gemm-sm90.sass | awk '{print $NF}' | sed 's/\..*//' | sort | uniq -c
        // gives 16 FFMA, 32 LDS, 2 LD, 1 ST, 2 STS, 2 BAR, 3 BRA (one of them the 'BRA to itself' padding), 13 NOP.
        var s = SassStats.Parse(File.ReadAllText(Data("tiled-gemm-sm90.sass")));
        Assert.Equal((16, 32, 0, 2, 0, 1, 0, 2), (s.Ffma, s.Lds, s.Ldg, s.Ld, s.Stg, s.St, s.Shfl, s.Bar));
        Assert.Equal(2, s.Count("STS"));
        Assert.Equal(2, s.Count("BRA"));   // the padding's BRA to itself is not counted
        Assert.Equal(0, s.Count("NOP"));
        // One loop, over the tiles: from 0x250 back-branched at 0xa50, holding all 16 FFMAs and 32 LDSs
        // (the k loop over the tile is unrolled): 2 shared loads a multiply-add, a load-bound tile.
        Assert.Equal(new SassLoop(0x250, 0xa50, s.InnermostLoop!.Instructions, 16, 32), s.InnermostLoop);
        Assert.Equal(0.5, s.InnerFfmaPerLds);
    }

    [Fact]
    public void FindsTheInnermostLoopOfARegisterBlockedTile()
    {
        // Backward branches in blocked-gemm-sm90.sass: 0x570 -> 0x3a0 (copying the tiles), 0x850 -> 0x5b0
        // (the k loop) and 0x8a0 -> 0x300 (over the tiles, around both). The two inner loops have no loop
        // inside; the k loop has the FFMAs: 16 of them against 8 LDS (4 of A, 4 of B): 2 FFMA per LDS.
        var s = SassStats.Parse(File.ReadAllText(Data("blocked-gemm-sm90.sass")));
        Assert.Equal(0x5b0, s.InnermostLoop!.Start);
        Assert.Equal(0x850, s.InnermostLoop.End);
        Assert.Equal((16, 8), (s.InnermostLoop.Ffma, s.InnermostLoop.Lds));
        Assert.Equal(2.0, s.InnerFfmaPerLds);
        Assert.Equal(16, s.St); // the 4 x 4 block of C, stored through generic addresses
    }

    [Fact]
    public void StraightLineCodeHasNoLoop()
    {
        const string sass = """
                    /*0000*/                   LDC R1, c[0x0][0x28] ;                    /* 0x00000a00ff017b82 */
                    /*0010*/              @!P0 LDG.E.128.CONSTANT R4, [R2.64] ;          /* 0x0000000602048981 */
                    /*0020*/                   SHFL.BFLY PT, R5, R4, 0x1, 0x1f ;         /* 0x0c201f0004057f89 */
                    /*0030*/               @P1 BRA 0x50 ;                                /* 0x0000000000541947 */
                    /*0040*/                   STG.E [R2.64], R5 ;                       /* 0x0000000502007986 */
                    /*0050*/                   EXIT ;                                    /* 0x000000000000794d */
                    /*0060*/                   BRA 0x60;                                 /* 0xfffffffc00fc7947 */
            """;
        var s = SassStats.Parse(sass);
        Assert.Equal((1, 1, 1, 6), (s.Ldg, s.Shfl, s.Stg, s.Instructions));
        Assert.Null(s.InnermostLoop);
        Assert.Null(s.InnerFfmaPerLds);
    }
}
