using NativeGan.Inspection;

namespace NativeGan.Tests.Inspection;

/// <summary>
/// ptxas for the tests that assemble kernels. Without it (a user's machine) those tests report themselves
/// skipped with the command that fetches it; in CI (<c>CI=true</c>) they fail instead, so CI always runs them.
/// </summary>
public static class CudaToolsForTests
{
    static readonly Lazy<(Ptxas? Tools, string? WhyNot)> found = new(() =>
        Ptxas.TryFind(out var tools, out var why) ? (tools, null) : (null, why));

    /// <summary>One compiler per architecture for the whole test run (each holds an ILGPU context).</summary>
    static readonly Lazy<PtxCompiler> sm90 = new(() => new PtxCompiler(SmArchitecture.Sm90));

    public static PtxCompiler Sm90Compiler => sm90.Value;

    public static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The tools, or a skipped test (a failed one in CI) saying how to fetch them.</summary>
    public static Ptxas Require()
    {
        if (found.Value.Tools is { } tools) return tools;
        if (InCi) Assert.Fail($"CI must run the ptxas tests, but {found.Value.WhyNot}");
        Assert.Skip(found.Value.WhyNot!);
        return null!;
    }
}
