using System.CommandLine;
using System.Globalization;
using System.Text;
using NativeGan.Inspection;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan kernels</c>: what every registered GPU kernel costs on an NVIDIA architecture, without a
/// GPU: registers, shared memory, spills and theoretical occupancy from ptxas, and the SASS instruction
/// mix from cuobjdump. <c>--ptx NAME</c> and <c>--sass NAME</c> print one kernel's code.
/// </summary>
public static class KernelsCommand
{
    /// <summary>Exit code for a mistake the user can fix (unknown name or architecture, missing tools).</summary>
    public const int UsageError = 2;

    public static Command Create()
    {
        var arch = new Option<string>("--arch") { Description = $"Target architecture: {string.Join(", ", SmArchitecture.All.Select(a => a.Name))}.", DefaultValueFactory = _ => "sm_90" };
        var sass = new Option<string?>("--sass") { Description = "Print the SASS (machine code) of one kernel." };
        var ptx = new Option<string?>("--ptx") { Description = "Print the PTX of one kernel (needs no ptxas)." };
        var markdown = new Option<string?>("--markdown") { Description = "Also write the table as markdown to this file (for example benchmarks/KERNELS.md)." };
        var filter = new Option<string?>("--filter") { Description = "Only the kernels whose name contains this text (for example Gemm)." };
        var command = new Command("kernels", "Registers, shared memory, spills, occupancy and instruction mix of every GPU kernel (ptxas, no GPU needed).")
        {
            arch, sass, ptx, markdown, filter,
        };
        command.SetAction(r => Run(AnsiConsole.Console, r.GetValue(arch)!, r.GetValue(sass), r.GetValue(ptx), r.GetValue(markdown), r.GetValue(filter)));
        return command;
    }

    /// <summary>The command's work; every failure the user can fix is one line on the console and exit code 2.</summary>
    /// <remarks><paramref name="findTools"/> finds ptxas (tests pass their own; by default <see cref="Ptxas.Find"/>).</remarks>
    public static int Run(IAnsiConsole console, string archName, string? sassOf, string? ptxOf, string? markdownPath,
        string? filter = null, Func<Ptxas>? findTools = null)
    {
        try
        {
            var arch = SmArchitecture.Get(archName);
            if (ptxOf != null)
            {
                var spec = KernelRegistry.Get(ptxOf);
                using var compiler = new PtxCompiler(arch);
                console.Profile.Out.Writer.Write(compiler.Compile(spec));
                return 0;
            }
            var kernels = KernelRegistry.All.Where(k => filter == null || k.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
            if (kernels.Count == 0)
                throw new ArgumentException($"no kernel name contains '{filter}'; known kernels: {string.Join(", ", KernelRegistry.All.Select(k => k.Name))}");
            var sassSpec = sassOf != null ? KernelRegistry.Get(sassOf) : null; // a bad name is reported before missing tools
            var tools = (findTools ?? (() => Ptxas.Find()))();
            using var inspector = new KernelInspector(arch, tools);
            if (sassSpec != null)
            {
                var cost = inspector.Inspect(sassSpec);
                console.Profile.Out.Writer.Write(cost.Disassembly ?? throw new CudaToolsException($"cuobjdump is not beside {tools.PtxasPath}; fetch both with: {Ptxas.FetchCommand}"));
                return 0;
            }
            // ptxas and cuobjdump are separate processes: run a few at once, keep the registry's order.
            var costs = kernels.AsParallel().AsOrdered().WithDegreeOfParallelism(Math.Max(2, Environment.ProcessorCount))
                .Select(inspector.Inspect).ToList();
            if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 200);
            console.Write(Table(costs));
            console.MarkupLine(Markup.Escape($"{costs.Count} kernels on {arch.Name} ({arch.Example}); {tools.Version}; static counts from cuobjdump -sass."));
            foreach (var problem in costs.SelectMany(c => c.Problems()))
                console.MarkupLine("[red]" + Markup.Escape(problem) + "[/]");
            if (markdownPath != null)
            {
                var args = $"--arch {arch.Name}{(filter != null ? $" --filter {filter}" : "")} --markdown {markdownPath}";
                File.WriteAllText(markdownPath, Markdown(costs, tools, $"nativegan kernels {args}"));
                console.MarkupLine(Markup.Escape($"wrote {markdownPath}"));
            }
            return 0;
        }
        catch (Exception e) when (Unwrap(e) is ArgumentException or CudaToolsException or IOException or UnauthorizedAccessException)
        {
            console.MarkupLine("[red]error:[/] " + Markup.Escape(Unwrap(e).Message));
            return UsageError;
        }
        catch (Exception e) when (Unwrap(e) is KernelCompileException)
        {
            console.MarkupLine("[red]error:[/] " + Markup.Escape(Unwrap(e).Message));
            return 1;
        }
    }

    /// <summary>The first real exception inside the AggregateException that parallel LINQ throws.</summary>
    static Exception Unwrap(Exception e) => e is AggregateException a ? Unwrap(a.Flatten().InnerExceptions[0]) : e;

    static readonly string[] Header =
        ["kernel", "grouping", "group", "regs", "smem B", "spill B", "frame B", "occupancy", "FFMA", "HMMA", "LDS", "LDG", "LD", "STG", "ST", "SHFL", "BAR", "inner FFMA/LDS", "hot"];

    /// <summary>One kernel's row, as text cells in <see cref="Header"/>'s order.</summary>
    static string[] Row(KernelCost c)
    {
        var r = c.Resources!;
        var s = c.Sass;
        string N(int? x) => x?.ToString(CultureInfo.InvariantCulture) ?? "-";
        return
        [
            c.Spec.Name,
            c.Spec.ExplicitlyGrouped ? "explicit" : "implicit",
            N(c.Spec.GroupSize),
            N(r.Registers),
            N(r.SharedBytes),
            N(r.SpillBytes),
            N(r.StackFrameBytes),
            c.Occupancy is { } o ? $"{o.Fraction.ToString("P0", CultureInfo.InvariantCulture)} ({o.Limiter})" : "-",
            N(s?.Ffma), N(s?.Count("HMMA")), N(s?.Lds), N(s?.Ldg), N(s?.Ld), N(s?.Stg), N(s?.St), N(s?.Shfl), N(s?.Bar),
            s == null ? "-" : s.InnermostLoop == null ? "no loop" : s.InnerFfmaPerLds is { } f
                ? f.ToString("0.0", CultureInfo.InvariantCulture) + (s.InnermostLoop.Lds128 > 0 ? $" ({s.InnermostLoop.Lds128} of {s.InnermostLoop.Lds} LDS.128)" : "")
                : "no LDS",
            Promises(c.Spec),
        ];
    }

    /// <summary>The hot column: "hot", with the declared minimums in brackets.</summary>
    static string Promises(KernelSpec spec)
    {
        if (!spec.Hot) return "";
        var minimums = new List<string>();
        if (spec.MinOccupancy > 0) minimums.Add($"min {spec.MinOccupancy.ToString("P0", CultureInfo.InvariantCulture)}");
        if (spec.MinInnerFfmaPerLds > 0) minimums.Add($">= {spec.MinInnerFfmaPerLds.ToString("0.#", CultureInfo.InvariantCulture)} FFMA/LDS");
        return minimums.Count > 0 ? $"hot ({string.Join(", ", minimums)})" : "hot";
    }

    static Table Table(IEnumerable<KernelCost> costs)
    {
        var table = new Table();
        foreach (var h in Header) table.AddColumn(new TableColumn(h) { Alignment = h is "kernel" or "grouping" or "hot" ? Justify.Left : Justify.Right });
        foreach (var c in costs)
        {
            var cells = Row(c).Select(Markup.Escape).ToArray();
            if (c.Problems().Any()) cells[0] = $"[red]{cells[0]}[/]";
            table.AddRow(cells);
        }
        return table;
    }

    /// <summary>The table as a markdown page: date, command, tool versions, then what each column means.</summary>
    public static string Markdown(IReadOnlyList<KernelCost> costs, Ptxas tools, string command)
    {
        var arch = costs.Count > 0 ? costs[0].Architecture : SmArchitecture.Sm90;
        var md = new StringBuilder();
        md.AppendLine($"# GPU kernels: static cost on {arch.Name} ({arch.Example})");
        md.AppendLine();
        md.AppendLine($"Generated {DateTime.UtcNow:yyyy-MM-dd} by `{command}`, with no GPU: PTX from ILGPU " +
                      $"{typeof(ILGPU.Context).Assembly.GetName().Version?.ToString(3)} (PTX ISA 7.8), assembled by ptxas " +
                      $"({tools.Version}), SASS listed by cuobjdump. Regenerate after changing a kernel.");
        md.AppendLine();
        md.AppendLine("| " + string.Join(" | ", Header) + " |");
        md.AppendLine("|" + string.Join("|", Header.Select(h => h is "kernel" or "grouping" or "hot" ? "---" : "---:")) + "|");
        foreach (var c in costs) md.AppendLine("| " + string.Join(" | ", Row(c).Select(x => x.Replace("|", "\\|"))) + " |");
        md.AppendLine();
        var problems = costs.SelectMany(c => c.Problems()).ToList();
        md.AppendLine(problems.Count == 0
            ? "No kernel breaks its promises: no generic LD/ST anywhere; no hot kernel spills, uses local memory, or falls below its declared minimum occupancy or inner FFMA per shared load."
            : "Problems:");
        foreach (var p in problems) md.AppendLine($"- {p}");
        md.AppendLine();
        md.AppendLine("Columns: *group* is the threads a group as launched (implicitly grouped kernels: ILGPU picks the group size; 256 is assumed). " +
                      "*regs* registers a thread, *smem B* static shared memory a group, *spill B* spill stores plus loads (local memory), " +
                      "*frame B* the stack frame a thread (local memory for arrays and spills), all from `ptxas -v`. *occupancy* is theoretical: resident warps / the SM's maximum warps, from the SM's limits " +
                      "(src/Kernels/Inspection/SmArchitecture.cs: CUDA C++ Programming Guide, Compute Capabilities; CUDA Occupancy Calculator), " +
                      "with what limits it. FFMA, HMMA (tensor-core matrix multiply-adds), LDS (shared loads), LDG (global loads), LD (generic loads: ILGPU addresses array views " +
                      "generically, so its global loads are LD), STG (global stores), ST (generic stores), SHFL (warp shuffles), BAR (barriers): " +
                      "instructions in the SASS, counted statically. *inner FFMA/LDS*: FFMAs per shared-memory load in the innermost loop " +
                      "(the loop with the most FFMAs among those with no loop inside); about 1 means the tile waits on shared memory, 4 and more " +
                      "that registers are reused; (n of m LDS.128): how many of the loop's shared loads move 16 bytes. " +
                      "*hot*: on the training step's critical path; held to no spills, no local memory, its declared minimum occupancy and " +
                      "(GEMM v4) its declared minimum inner FFMA per shared load. Every kernel is held to no generic LD/ST. " +
                      "The test suite holds these promises on every run (tests/NativeGan.Tests/Inspection/PtxTests.cs), with no GPU.");
        return md.ToString();
    }
}
