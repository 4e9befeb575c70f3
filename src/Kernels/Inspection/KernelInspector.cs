namespace NativeGan.Inspection;

/// <summary>
/// What one kernel costs on one architecture: its PTX, and when ptxas is present its resource report,
/// SASS instruction mix and theoretical occupancy at its usual group size.
/// </summary>
public sealed record KernelCost(
    KernelSpec Spec, SmArchitecture Architecture, string Ptx,
    PtxasFunction? Resources, Occupancy? Occupancy, SassStats? Sass, string? Disassembly)
{
    /// <summary>
    /// The promises a kernel breaks. Any kernel: no generic LD/ST (at O2 every access has a known address space). Hot
    /// kernels also: no spills and no local memory at all (a stack frame: arrays or spills in local memory), theoretical
    /// occupancy at least the declared minimum, and (with SASS) at least the declared FFMA per shared load in the innermost loop.
    /// </summary>
    public IEnumerable<string> Problems()
    {
        if (Sass is { } generic && (generic.Ld > 0 || generic.St > 0))
            yield return $"{Spec.Name} has {generic.Ld} generic LD and {generic.St} generic ST ({generic.Ldg} LDG, {generic.Stg} STG): an address space O2 did not infer";
        if (!Spec.Hot || Resources == null) yield break;
        if (Resources.SpillBytes > 0)
            yield return $"{Spec.Name} spills {Resources.SpillStoreBytes} bytes to local memory and loads {Resources.SpillLoadBytes} back ({Resources.Registers} registers)";
        else if (Resources.StackFrameBytes > 0)
            yield return $"{Spec.Name} uses {Resources.StackFrameBytes} bytes of local memory a thread (a stack frame: a local array or a struct whose address escapes)";
        if (Occupancy != null && Occupancy.Fraction < Spec.MinOccupancy)
            yield return $"{Spec.Name} has theoretical occupancy {Occupancy.Fraction:P1} on {Architecture.Name}, below its declared minimum {Spec.MinOccupancy:P0} " +
                         $"({Resources.Registers} registers, {Resources.SharedBytes} bytes of shared memory, {Spec.GroupSize} threads a group; limited by {Occupancy.Limiter})";
        if (Spec.MinInnerFfmaPerLds > 0 && Sass != null && !(Sass.InnerFfmaPerLds >= Spec.MinInnerFfmaPerLds))
            yield return $"{Spec.Name} does {(Sass.InnerFfmaPerLds is { } f ? $"{f:0.0}" : "no")} FFMA per shared load in its innermost loop " +
                         $"({Sass.InnermostLoop?.Ffma ?? 0} FFMA, {Sass.InnermostLoop?.Lds ?? 0} LDS), below its declared minimum {Spec.MinInnerFfmaPerLds:0.#}";
    }
}

/// <summary>Builds <see cref="KernelCost"/>s: PTX with ILGPU, then ptxas and cuobjdump when they are given.</summary>
public sealed class KernelInspector(SmArchitecture arch, Ptxas? tools) : IDisposable
{
    readonly PtxCompiler compiler = new(arch);

    public SmArchitecture Architecture => arch;

    public Ptxas? Tools => tools;

    /// <summary>The PTX only (no tools needed).</summary>
    public string Ptx(KernelSpec spec) => compiler.Compile(spec);

    /// <summary>PTX, and with the tools: registers, shared memory, spills, occupancy and SASS statistics.</summary>
    public KernelCost Inspect(KernelSpec spec)
    {
        var ptx = compiler.Compile(spec);
        if (tools == null) return new KernelCost(spec, arch, ptx, null, null, null, null);
        var assembled = tools.Assemble(ptx, arch);
        var entry = assembled.Report.Entry;
        var occupancy = Occupancy.Compute(arch, entry.Registers, entry.SharedBytes, spec.GroupSize);
        string? sass = tools.CuobjdumpPath != null ? tools.Disassemble(assembled.Cubin) : null;
        return new KernelCost(spec, arch, ptx, entry, occupancy, sass != null ? SassStats.Parse(sass) : null, sass);
    }

    public void Dispose() => compiler.Dispose();
}
