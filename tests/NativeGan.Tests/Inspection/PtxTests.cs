using NativeGan.Inspection;

namespace NativeGan.Tests.Inspection;

/// <summary>
/// Every registered GPU kernel compiles to PTX for sm_90 (ILGPU, no GPU needed), and with ptxas present
/// assembles for sm_90; hot kernels do not spill and keep their declared minimum occupancy.
/// </summary>
public class PtxTests
{
    /// <summary>One row per registered kernel, by name (whatever the registry holds on this branch).</summary>
    public static TheoryData<string> Kernels => new(KernelRegistry.All.Select(k => k.Name));

    [Fact]
    public void TheRegistryIsNotEmptyAndNamesAreUnique()
    {
        Assert.NotEmpty(KernelRegistry.All);
        var duplicates = KernelRegistry.All.GroupBy(k => k.Name, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"kernel names used twice: {string.Join(", ", duplicates)}");
    }

    [Theory, MemberData(nameof(Kernels))]
    public void CompilesToPtxForSm90(string kernel)
    {
        var spec = KernelRegistry.Get(kernel);
        string ptx;
        try
        {
            ptx = CudaToolsForTests.Sm90Compiler.Compile(spec);
        }
        catch (KernelCompileException e)
        {
            Assert.Fail(e.Message); // names the kernel and carries ILGPU's message
            return;
        }
        Assert.Contains(".version 7.8", ptx);
        // ILGPU 1.5.3 writes sm_80 under ISA 7.8; ptxas still assembles it for sm_90 (next test).
        var target = PtxCompiler.TargetOf(ptx);
        Assert.True(target == "sm_80", $"ILGPU now writes .target {target}: check that ptxas accepts it and update PtxCompiler's remarks");
        Assert.StartsWith("Kernel_", PtxCompiler.EntryName(ptx));
    }

    [Theory, MemberData(nameof(Kernels))]
    public void AssemblesForSm90AndHotKernelsKeepTheirPromises(string kernel)
    {
        var tools = CudaToolsForTests.Require();
        var spec = KernelRegistry.Get(kernel);
        var result = tools.Assemble(CudaToolsForTests.Sm90Compiler.Compile(spec), SmArchitecture.Sm90);
        var entry = result.Report.Entry;
        Assert.Equal("sm_90", entry.Architecture);
        Assert.InRange(entry.Registers, 1, SmArchitecture.Sm90.MaxRegistersPerThread);
        Assert.NotEmpty(result.Cubin);
        var occupancy = Occupancy.Compute(SmArchitecture.Sm90, entry.Registers, entry.SharedBytes, spec.GroupSize);
        Assert.True(occupancy.BlocksPerSm > 0,
            $"{spec.Name} cannot launch at {spec.GroupSize} threads a group: {entry.Registers} registers, {entry.SharedBytes} bytes of shared memory");
        var problems = new KernelCost(spec, SmArchitecture.Sm90, "", entry, occupancy, null, null).Problems().ToList();
        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    /// <summary>At O2 ILGPU infers the address space of every array view: a generic LD or ST left in a kernel is a
    /// global access the inference missed (slower on the GPU, and a sign the kernel left O2's reach). With the SASS in
    /// hand, every other promise is checked too (hot kernels: no spills or local memory, occupancy, inner FFMA per LDS).</summary>
    [Theory, MemberData(nameof(Kernels))]
    public void NoKernelUsesGenericLoadsOrStores(string kernel)
    {
        var tools = CudaToolsForTests.Require();
        using var inspector = new KernelInspector(SmArchitecture.Sm90, tools);
        var cost = inspector.Inspect(KernelRegistry.Get(kernel));
        var sass = cost.Sass!;
        Assert.True(sass.Ld == 0 && sass.St == 0, $"{kernel}: {sass.Ld} generic LD and {sass.St} generic ST ({sass.Ldg} LDG, {sass.Stg} STG)");
        var problems = cost.Problems().ToList();
        Assert.True(problems.Count == 0, string.Join("; ", problems));
    }

    /// <summary>
    /// GEMM v4's design, held statically (issue 40, item 5): its innermost loop (the k loop over a shared tile) does at least
    /// 8 FFMA per shared load (16 by design: 64 multiply-adds per 4 loads), every one of those loads is a 16-byte LDS.128,
    /// and it fits 128 registers a thread (two 256-thread groups an SM) with no spills and no local memory.
    /// </summary>
    [Fact]
    public void GemmV4InnerLoopDoesAtLeast8FfmaPerSharedLoadWithLds128()
    {
        var tools = CudaToolsForTests.Require();
        using var inspector = new KernelInspector(SmArchitecture.Sm90, tools);
        var cost = inspector.Inspect(Gemm.V4BlockedSpec);
        var loop = cost.Sass!.InnermostLoop!;
        string figures = $"inner loop {loop.Ffma} FFMA, {loop.Lds} LDS ({loop.Lds128} LDS.128); {cost.Resources!.Registers} registers, " +
                         $"{cost.Resources.SpillBytes} B spilled, {cost.Resources.StackFrameBytes} B frame";
        Assert.True(cost.Sass.InnerFfmaPerLds >= 8, figures);
        Assert.True(loop.Lds > 0 && loop.Lds128 == loop.Lds, figures);
        Assert.True(cost.Resources.Registers <= 128 && cost.Resources.SpillBytes == 0 && cost.Resources.StackFrameBytes == 0, figures);
        Assert.True(cost.Occupancy!.BlocksPerSm >= 2, figures);
    }

    /// <summary>
    /// GEMM v5 runs on tensor cores (issue 40, item 5): its PTX has the inline <c>mma.sync</c> (m16n8k8, TF32) and its SASS
    /// 16 HMMA.1688.F32.TF32 (2 x 8 tiles a warp a k tile), and the managed twin (warp barriers, scratch) is compiled away,
    /// with no spills or local memory. (cp.async, LDGSTS, is not in v5 yet.)
    /// </summary>
    [Fact]
    public void GemmV5RunsMmaSyncOnTensorCores()
    {
        var tools = CudaToolsForTests.Require();
        using var inspector = new KernelInspector(SmArchitecture.Sm90, tools);
        var cost = inspector.Inspect(Gemm.V5Tf32Spec);
        Assert.Contains("mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32", cost.Ptx);
        Assert.Equal(16, cost.Sass!.Count("HMMA"));
        Assert.Contains("HMMA.1688.F32.TF32", cost.Disassembly);
        Assert.Equal(0, cost.Sass.Shfl);
        Assert.Equal(2, cost.Sass.Bar); // the prologue's and the k loop's barriers: no warp barriers of the managed mma
        Assert.True(cost.Resources!.SpillBytes == 0 && cost.Resources.StackFrameBytes == 0, $"{cost.Resources.SpillBytes} B spilled, {cost.Resources.StackFrameBytes} B frame");
    }

    /// <summary>The elementwise kernels promise 50% theoretical occupancy (issue 40, item 5): each is hot and declares it,
    /// so the theory above holds it; dropping a declaration fails here.</summary>
    [Fact]
    public void ElementwiseKernelsDeclareAtLeastHalfOccupancy()
    {
        var elementwise = KernelRegistry.All.Where(k => k.Name.StartsWith("Elementwise.", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(elementwise);
        Assert.All(elementwise, k => Assert.True(k.Hot && k.MinOccupancy >= 0.5, $"{k.Name}: hot {k.Hot}, declared minimum occupancy {k.MinOccupancy:P0}"));
    }

    [Fact]
    public void ASharedMemoryTileIsSeenByPtxasAndCuobjdump()
    {
        var tools = CudaToolsForTests.Require();
        using var inspector = new KernelInspector(SmArchitecture.Sm90, tools);
        var cost = inspector.Inspect(TestKernels.TiledGemm);
        Assert.Equal(2 * 16 * 16 * sizeof(float), cost.Resources!.SharedBytes);
        Assert.Equal(0, cost.Resources.SpillBytes);
        Assert.NotNull(cost.Sass);
        Assert.Equal(2, cost.Sass!.Bar);                      // two Group.Barrier() calls
        Assert.Equal(4, cost.Sass.InnermostLoop!.Ffma);        // the k loop, unrolled 4 times in the source
        Assert.Equal(0, cost.Sass.Ld);                         // O2: global loads are LDG, not generic LD
        Assert.True(cost.Sass.Ldg > 0, "the tiles are loaded with LDG");
        Assert.Contains("Function : Kernel_TiledGemmKernel", cost.Disassembly);
    }

    [Fact]
    public void HotKernelProblemsAreReportedWithTheirCause()
    {
        // A made-up report: the register-capped blocked GEMM of the committed log (52 + 56 bytes of spills),
        // and an occupancy below the 50 % the spec declares.
        var spilled = PtxasReport.Parse(File.ReadAllText(PtxasReportTests.Data("blocked-gemm-sm90-maxrreg24.log"))).Entry;
        var low = new Occupancy(2, 2, 2, 2, 16, 0.25, "registers");
        var problems = new KernelCost(TestKernels.BlockedGemm, SmArchitecture.Sm90, "", spilled, low, null, null).Problems().ToList();
        Assert.Equal(2, problems.Count);
        Assert.Contains("spills 52 bytes", problems[0]);
        Assert.Contains("25.0%", problems[1].Replace(" ", ""));
        Assert.Contains("limited by registers", problems[1]);
        // A kernel that is not hot has no promises to keep.
        var cold = TestKernels.BlockedGemm with { Hot = false };
        Assert.Empty(new KernelCost(cold, SmArchitecture.Sm90, "", spilled, low, null, null).Problems());

        // Local memory without spills (a stack frame: a local array), a generic load, and an inner loop of 2 FFMA per LDS
        // where 8 are declared.
        var framed = spilled with { SpillStoreBytes = 0, SpillLoadBytes = 0, StackFrameBytes = 64 };
        var sass = new SassStats(new Dictionary<string, int> { ["LD"] = 1, ["FFMA"] = 8, ["LDS"] = 4 }, 20, new SassLoop(0x100, 0x200, 16, 8, 4));
        var promising = TestKernels.BlockedGemm with { MinInnerFfmaPerLds = 8 };
        var found = new KernelCost(promising, SmArchitecture.Sm90, "", framed, null, sass, null).Problems().ToList();
        Assert.Equal(3, found.Count);
        Assert.Contains("1 generic LD", found[0]);
        Assert.Contains("64 bytes of local memory", found[1]);
        Assert.Contains("2.0 FFMA per shared load", found[2]);
        Assert.Contains("below its declared minimum 8", found[2]);
    }
}
