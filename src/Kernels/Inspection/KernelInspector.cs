namespace NativeGan.Inspection;

/// <summary>
/// What one kernel costs on one architecture: its PTX, and when ptxas is present its resource report,
/// SASS instruction mix and theoretical occupancy at its usual group size.
/// </summary>
public sealed record KernelCost(
    KernelSpec Spec, SmArchitecture Architecture, string Ptx,
    PtxasFunction? Resources, Occupancy? Occupancy, SassStats? Sass, string? Disassembly)
{
    /// <summary>True when a hot kernel breaks its promises: it spills, or its occupancy is below its declared minimum.</summary>
    public IEnumerable<string> Problems()
    {
        if (!Spec.Hot || Resources == null) yield break;
        if (Resources.SpillBytes > 0)
            yield return $"{Spec.Name} spills {Resources.SpillStoreBytes} bytes to local memory and loads {Resources.SpillLoadBytes} back ({Resources.Registers} registers)";
        if (Occupancy != null && Occupancy.Fraction < Spec.MinOccupancy)
            yield return $"{Spec.Name} has theoretical occupancy {Occupancy.Fraction:P1} on {Architecture.Name}, below its declared minimum {Spec.MinOccupancy:P0} " +
                         $"({Resources.Registers} registers, {Resources.SharedBytes} bytes of shared memory, {Spec.GroupSize} threads a group; limited by {Occupancy.Limiter})";
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
