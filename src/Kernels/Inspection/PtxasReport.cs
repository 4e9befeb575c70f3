using System.Globalization;
using System.Text.RegularExpressions;

namespace NativeGan.Inspection;

/// <summary>
/// The resources ptxas gave one function, as its <c>-v</c> report prints them:
/// <code>
/// ptxas info    : Compiling entry function 'Kernel' for 'sm_90'
/// ptxas info    : Function properties for Kernel
///     0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
/// ptxas info    : Used 18 registers, 4096 bytes smem
/// </code>
/// </summary>
/// <param name="Name">The function's name in the PTX.</param>
/// <param name="IsEntry">A kernel entry (<c>.entry</c>) rather than a device function (<c>.func</c>).</param>
/// <param name="Architecture">The target named by "Compiling entry function ... for 'sm_90'" (empty for device functions).</param>
/// <param name="Registers">Registers per thread.</param>
/// <param name="SharedBytes">Static shared memory per group (<c>smem</c>); dynamic shared memory is not known until launch.</param>
/// <param name="ConstantBytes">Constant bank 0 bytes (<c>cmem[0]</c>: kernel parameters); not every ptxas prints it.</param>
/// <param name="StackFrameBytes">Per-thread stack frame (local memory for arrays and spills).</param>
/// <param name="SpillStoreBytes">Bytes stored to local memory because registers ran out.</param>
/// <param name="SpillLoadBytes">Bytes loaded back from those spills.</param>
/// <param name="Barriers">Named barriers used, where ptxas prints it (0 otherwise).</param>
public sealed record PtxasFunction(
    string Name, bool IsEntry, string Architecture, int Registers, int SharedBytes, int ConstantBytes,
    int StackFrameBytes, int SpillStoreBytes, int SpillLoadBytes, int Barriers)
{
    /// <summary>Spill stores plus spill loads: zero for a kernel that fits its registers.</summary>
    public int SpillBytes => SpillStoreBytes + SpillLoadBytes;
}

/// <summary>The functions of a <c>ptxas -v</c> report, in the order ptxas printed them, and its warnings.</summary>
public sealed partial record PtxasReport(IReadOnlyList<PtxasFunction> Functions, IReadOnlyList<string> Warnings)
{
    /// <summary>The kernel: the only entry function (ILGPU emits one per PTX module).</summary>
    public PtxasFunction Entry => Functions.Where(f => f.IsEntry).ToList() switch
    {
        [var one] => one,
        var many => throw new InvalidOperationException($"the report has {many.Count} entry functions; use Functions"),
    };

    [GeneratedRegex(@"Compiling entry function '(?<name>[^']+)' for '(?<arch>[^']+)'")]
    private static partial Regex CompilingEntry();

    [GeneratedRegex(@"Function properties for (?<name>\S+)")]
    private static partial Regex Properties();

    [GeneratedRegex(@"(?<n>\d+) bytes stack frame, (?<st>\d+) bytes spill stores, (?<ld>\d+) bytes spill loads")]
    private static partial Regex Frame();

    [GeneratedRegex(@"Used (?<n>\d+) registers")]
    private static partial Regex Used();

    [GeneratedRegex(@"(?<n>\d+) bytes smem")]
    private static partial Regex Smem();

    [GeneratedRegex(@"(?<n>\d+) bytes cmem\[0\]")]
    private static partial Regex Cmem0();

    [GeneratedRegex(@"used (?<n>\d+) barriers")]
    private static partial Regex Barriers();

    /// <summary>
    /// Reads a <c>ptxas -v</c> log. An entry's lines come in this order: "Compiling entry function",
    /// "Function properties" with the frame line after it, then "Used N registers" closing it. A device
    /// function that was not inlined gets "Function properties" and its frame line only (its registers
    /// count towards the entries that call it). Lines it does not know (gmem, compile time) are skipped.
    /// </summary>
    public static PtxasReport Parse(string log)
    {
        var functions = new List<PtxasFunction>();
        var warnings = new List<string>();
        var frames = new Dictionary<string, (int Frame, int Stores, int Loads)>();
        string? entry = null, arch = null, propertiesOf = null;
        foreach (var raw in log.Split('\n'))
        {
            var line = raw.Trim();
            if (line.StartsWith("ptxas warning", StringComparison.Ordinal)) warnings.Add(line);
            else if (CompilingEntry().Match(line) is { Success: true } c) (entry, arch) = (c.Groups["name"].Value, c.Groups["arch"].Value);
            else if (Properties().Match(line) is { Success: true } p) propertiesOf = p.Groups["name"].Value;
            else if (Frame().Match(line) is { Success: true } f && propertiesOf != null)
                frames[propertiesOf] = (Int(f, "n"), Int(f, "st"), Int(f, "ld"));
            else if (Used().Match(line) is { Success: true } u && (entry ?? propertiesOf) is { } name)
            {
                var (frame, stores, loads) = frames.GetValueOrDefault(name);
                functions.Add(new PtxasFunction(name, entry != null, arch ?? "", Int(u, "n"),
                    Smem().Match(line) is { Success: true } s ? Int(s, "n") : 0,
                    Cmem0().Match(line) is { Success: true } k ? Int(k, "n") : 0,
                    frame, stores, loads,
                    Barriers().Match(line) is { Success: true } b ? Int(b, "n") : 0));
                (entry, arch, propertiesOf) = (null, null, null);
            }
        }
        foreach (var (name, (frame, stores, loads)) in frames)
            if (!functions.Any(x => x.Name == name))
                functions.Add(new PtxasFunction(name, false, "", 0, 0, 0, frame, stores, loads, 0));
        if (!functions.Any(f => f.IsEntry))
            throw new FormatException("no 'Compiling entry function' followed by 'Used N registers': this is not the output of ptxas -v");
        return new PtxasReport(functions, warnings);
    }

    static int Int(Match m, string group) => int.Parse(m.Groups[group].Value, CultureInfo.InvariantCulture);
}
