using System.Reflection;

namespace NativeGan;

/// <summary>
/// One GPU kernel of the engine: its entry method and how it is launched. Each op declares its
/// kernels as <c>static readonly KernelSpec</c> fields beside the kernel code; <see cref="KernelRegistry"/>
/// finds them all, so tools and tests enumerate kernels without a hand-kept list.
/// </summary>
/// <param name="Name">Unique name, <c>Op.Variant</c> (for example <c>Gemm.V2Tiled</c>).</param>
/// <param name="Method">The static kernel method.</param>
/// <param name="ExplicitlyGrouped">True when launched with a <c>KernelConfig</c> (grid, group, shared memory).</param>
/// <param name="GroupSize">Threads a group as launched (implicitly grouped kernels: the group size ILGPU picks is typically 256..1024; we record 256).</param>
/// <param name="Hot">On the training step's critical path (GEMM, convolutions, norms, optimizer updates): held to stricter checks (no spills, minimum occupancy).</param>
/// <param name="MinOccupancy">For hot kernels: the lowest theoretical occupancy (0..1) on sm_90 the kernel may have.</param>
/// <param name="MinInnerFfmaPerLds">For hot kernels with a shared-memory main loop (GEMM): the fewest FFMA per shared load
/// instruction its innermost loop's SASS may have (0: no promise). Register blocking is what this number proves.</param>
public sealed record KernelSpec(string Name, MethodInfo Method, bool ExplicitlyGrouped, int GroupSize, bool Hot, double MinOccupancy, double MinInnerFfmaPerLds = 0)
{
    const BindingFlags AnyStatic = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic;

    static MethodInfo Find(Type owner, string method)
        => owner.GetMethod(method, AnyStatic) ?? throw new MissingMethodException(owner.FullName, method);

    /// <summary>An implicitly grouped kernel (first parameter an <c>Index1D</c>/<c>Index2D</c>/<c>Index3D</c>).</summary>
    public static KernelSpec Implicit(string name, Type owner, string method, bool hot = false, double minOccupancy = 0)
        => new(name, Find(owner, method), false, 256, hot, minOccupancy);

    /// <summary>An explicitly grouped kernel launched with groups of <paramref name="groupSize"/> threads.</summary>
    public static KernelSpec Explicit(string name, Type owner, string method, int groupSize, bool hot = false, double minOccupancy = 0,
        double minInnerFfmaPerLds = 0)
        => new(name, Find(owner, method), true, groupSize, hot, minOccupancy, minInnerFfmaPerLds);

    public override string ToString() => Name;
}

/// <summary>Every <see cref="KernelSpec"/> declared in NativeGan.Kernels, found by reflection once.</summary>
public static class KernelRegistry
{
    static readonly Lazy<IReadOnlyList<KernelSpec>> all = new(() =>
        typeof(KernelSpec).Assembly.GetTypes()
            .SelectMany(t => t.GetFields(BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly))
            .Where(f => f.FieldType == typeof(KernelSpec))
            .Select(f => (KernelSpec)f.GetValue(null)!)
            .OrderBy(k => k.Name, StringComparer.Ordinal)
            .ToList());

    public static IReadOnlyList<KernelSpec> All => all.Value;

    /// <summary>A kernel by name, or an exception listing the names there are.</summary>
    public static KernelSpec Get(string name)
        => All.FirstOrDefault(k => string.Equals(k.Name, name, StringComparison.OrdinalIgnoreCase))
           ?? throw new ArgumentException($"unknown kernel '{name}'; known kernels: {string.Join(", ", All.Select(k => k.Name))}");
}
