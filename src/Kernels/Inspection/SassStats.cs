using System.Globalization;
using System.Text.RegularExpressions;

namespace NativeGan.Inspection;

/// <summary>
/// The instruction mix of a kernel's SASS (the GPU's machine code, as <c>cuobjdump -sass</c> lists it).
/// Counts are static: instructions in the code, not instructions executed. An opcode is counted by its
/// base name, before the first dot: <c>LDS.128</c> is an LDS, <c>LDG.E.128.CONSTANT</c> an LDG,
/// <c>SHFL.BFLY</c> a SHFL, <c>BAR.SYNC</c> a BAR. LD and ST are generic loads and stores (the
/// address may be global, shared or local; ILGPU emits them for array views), LDG/STG global ones. The trailing padding (NOPs and the <c>BRA</c> to itself
/// after the last <c>EXIT</c>) is not counted.
/// </summary>
/// <remarks>
/// <para><b>The innermost loop.</b> A loop shows in SASS as a backward branch: a <c>BRA</c> at address
/// <c>e</c> to a target <c>s &lt; e</c>; its body is the instructions from <c>s</c> to <c>e</c>. A loop is
/// innermost when no other loop lies inside its range. Of the innermost loops we take the one with the
/// most FFMAs (in a tiled GEMM or convolution, the loop over a shared-memory tile; ties go to the
/// longer loop), and report its FFMA and LDS counts.</para>
/// <para><b>FFMA per LDS</b> in that loop tells whether a tile is compute- or load-bound: each FFMA is
/// 2 flops and each LDS one shared-memory load instruction (of 1, 2 or 4 floats for LDS, LDS.64,
/// LDS.128). A naive tile does about 1 FFMA per LDS and waits on shared memory; register blocking
/// (each thread computing a small block of outputs from values it loaded once) raises it to 4..16.</para>
/// </remarks>
public sealed partial record SassStats(
    IReadOnlyDictionary<string, int> OpcodeCounts,
    int Instructions,
    SassLoop? InnermostLoop)
{
    public int Ffma => Count("FFMA");
    public int Lds => Count("LDS");
    public int Ldg => Count("LDG");
    public int Stg => Count("STG");
    /// <summary>Generic loads: ILGPU addresses array views generically, so its global loads show as LD, not LDG.</summary>
    public int Ld => Count("LD");
    /// <summary>Generic stores (see <see cref="Ld"/>).</summary>
    public int St => Count("ST");
    public int Shfl => Count("SHFL");
    public int Bar => Count("BAR");

    /// <summary>FFMAs per LDS in the innermost loop; null when there is no loop or it has no LDS.</summary>
    public double? InnerFfmaPerLds => InnermostLoop is { Lds: > 0 } l ? (double)l.Ffma / l.Lds : null;

    public int Count(string opcode) => OpcodeCounts.GetValueOrDefault(opcode);

    // "        /*0240*/              @!P1 BRA 0x120 ;   /* 0xfffffffc00b49947 */"
    [GeneratedRegex(@"^\s*/\*(?<addr>[0-9a-fA-F]+)\*/\s+(?:@!?U?P[T0-9]+\s+)?(?<op>[A-Z][A-Z0-9_]*)(?<mods>\.[A-Z0-9_.]+)?(?<args>[^;]*);")]
    private static partial Regex Instruction();

    [GeneratedRegex(@"0x(?<target>[0-9a-fA-F]+)\s*$")]
    private static partial Regex BranchTarget();

    readonly record struct Line(long Address, string Opcode, string Modifiers, long? BranchTo);

    /// <summary>Reads the listing of one kernel (cuobjdump prints one "Function :" section per kernel; ILGPU modules have one).</summary>
    public static SassStats Parse(string sass)
    {
        var lines = new List<Line>();
        foreach (var raw in sass.Split('\n'))
        {
            var m = Instruction().Match(raw);
            if (!m.Success) continue;
            var op = m.Groups["op"].Value;
            long? target = null;
            if (op == "BRA" && BranchTarget().Match(m.Groups["args"].Value) is { Success: true } t)
                target = long.Parse(t.Groups["target"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            lines.Add(new Line(long.Parse(m.Groups["addr"].Value, NumberStyles.HexNumber, CultureInfo.InvariantCulture), op, m.Groups["mods"].Value, target));
        }
        if (lines.Count == 0) throw new FormatException("no SASS instructions found: this is not the output of cuobjdump -sass");

        // Drop the padding after the last EXIT: "BRA to itself" and NOPs.
        int lastExit = lines.FindLastIndex(l => l.Opcode == "EXIT");
        var code = lastExit < 0 ? lines : lines.Take(lastExit + 1)
            .Concat(lines.Skip(lastExit + 1).Where(l => l.Opcode != "NOP" && l.BranchTo != l.Address)).ToList();

        var counts = code.GroupBy(l => l.Opcode).ToDictionary(g => g.Key, g => g.Count());
        var loops = code.Where(l => l.BranchTo < l.Address).Select(l => (Start: l.BranchTo!.Value, End: l.Address)).Distinct().ToList();
        var innermost = loops
            .Where(a => !loops.Any(b => b != a && b.Start >= a.Start && b.End <= a.End))
            .Select(a =>
            {
                var body = code.Where(l => l.Address >= a.Start && l.Address <= a.End).ToList();
                return new SassLoop(a.Start, a.End, body.Count, body.Count(l => l.Opcode == "FFMA"), body.Count(l => l.Opcode == "LDS"),
                    body.Count(l => l.Opcode == "LDS" && l.Modifiers.Contains(".128", StringComparison.Ordinal)));
            })
            .OrderByDescending(l => l.Ffma).ThenByDescending(l => l.Instructions)
            .FirstOrDefault();
        return new SassStats(counts, code.Count, innermost);
    }
}

/// <summary>A loop in SASS: addresses of its first instruction and of its backward branch, and what is in it
/// (<paramref name="Lds128"/>: those of its shared loads that move 16 bytes, <c>LDS.128</c>).</summary>
public sealed record SassLoop(long Start, long End, int Instructions, int Ffma, int Lds, int Lds128 = 0);
