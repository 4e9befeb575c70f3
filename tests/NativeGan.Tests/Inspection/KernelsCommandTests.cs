using NativeGan.Cli;
using NativeGan.Inspection;
using Spectre.Console;

namespace NativeGan.Tests.Inspection;

/// <summary><c>nativegan kernels</c> and the search for ptxas: bad input gives one clear line and exit code 2.</summary>
public class KernelsCommandTests
{
    static (int ExitCode, string Output) Run(string arch = "sm_90", string? sass = null, string? ptx = null, string? markdown = null, Func<Ptxas>? tools = null, string? filter = null)
    {
        var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        console.Profile.Width = 100_000; // one line stays one line
        int rc = KernelsCommand.Run(console, arch, sass, ptx, markdown, filter, tools);
        return (rc, writer.ToString());
    }

    static string OneLine(string output) => Assert.Single(output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

    [Fact]
    public void PtxOfOneKernelNeedsNoTools()
    {
        var (rc, output) = Run(ptx: "gemm.v1naive", tools: () => throw new InvalidOperationException("not needed"));
        Assert.Equal(0, rc);
        Assert.Contains(".entry Kernel_V1NaiveKernel", output);
    }

    [Fact]
    public void AnUnknownKernelIsOneLineListingTheKnownOnes()
    {
        var (rc, output) = Run(ptx: "Gemm.NoSuchThing");
        Assert.Equal(KernelsCommand.UsageError, rc);
        Assert.StartsWith("error: unknown kernel 'Gemm.NoSuchThing'", OneLine(output));
        Assert.Contains("Gemm.V1Naive", output);
    }

    [Fact]
    public void AnUnknownArchitectureIsOneLine()
    {
        var (rc, output) = Run(arch: "sm_61");
        Assert.Equal(KernelsCommand.UsageError, rc);
        Assert.Equal("error: unknown architecture 'sm_61': this table knows sm_80, sm_86, sm_89, sm_90", OneLine(output));
    }

    [Fact]
    public void MissingPtxasSaysHowToFetchIt()
    {
        var env = new Dictionary<string, string?> { ["PATH"] = "/nonexistent-folder" };
        Assert.False(Ptxas.TryFind(out _, out var why, name => env.GetValueOrDefault(name), searchRepository: false));
        Assert.Equal($"ptxas was not found (looked in $NATIVEGAN_PTXAS, /nonexistent-folder); fetch it with: {Ptxas.FetchCommand}", why);
        env["NATIVEGAN_PTXAS"] = "/nonexistent/ptxas";
        var (rc, output) = Run(tools: () => Ptxas.Find(name => env.GetValueOrDefault(name)));
        Assert.Equal(KernelsCommand.UsageError, rc);
        Assert.Contains("NATIVEGAN_PTXAS is '/nonexistent/ptxas', which does not exist", OneLine(output));
    }

    [Fact]
    public void ABrokenPtxasSaysWhatToDo()
    {
        if (OperatingSystem.IsWindows())
        {
            Assert.Skip("uses a shell script as a fake ptxas");
            return;
        }
        var dir = Directory.CreateTempSubdirectory("nativegan-fake-ptxas-");
        try
        {
            var fake = Path.Combine(dir.FullName, "ptxas");
            File.WriteAllText(fake, "#!/bin/sh\necho 'ptxas: cannot execute binary file' >&2\nexit 126\n");
            File.SetUnixFileMode(fake, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var env = new Dictionary<string, string?> { ["NATIVEGAN_PTXAS"] = fake };
            var (rc, output) = Run(tools: () => Ptxas.Find(name => env.GetValueOrDefault(name)));
            Assert.Equal(KernelsCommand.UsageError, rc);
            var line = OneLine(output);
            Assert.Contains("does not run ('--version' gave exit code 126: ptxas: cannot execute binary file)", line);
            Assert.Contains(Ptxas.FetchCommand, line);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public void AnArchitecturePtxasDoesNotKnowIsOneLine()
    {
        var tools = CudaToolsForTests.Require();
        // ptxas 11.8 knows every row of the table; a made-up row stands for a newer GPU it does not know.
        var future = SmArchitecture.Sm90 with { Name = "sm_200" };
        var e = Assert.Throws<CudaToolsException>(() => tools.Assemble(CudaToolsForTests.Sm90Compiler.Compile(Gemm.V1NaiveSpec), future));
        Assert.StartsWith($"{tools.Version} does not know sm_200", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void TheTableHasARowPerKernelAndTheMarkdownTheSame()
    {
        // The Gemm kernels only: every kernel is assembled by PtxTests; cuobjdump takes about a second a kernel.
        var tools = CudaToolsForTests.Require();
        var markdown = Path.Combine(Directory.CreateTempSubdirectory("nativegan-kernels-md-").FullName, "KERNELS.md");
        var (rc, output) = Run(markdown: markdown, tools: () => tools, filter: "gemm.");
        Assert.Equal(0, rc);
        var md = File.ReadAllText(markdown);
        foreach (var spec in KernelRegistry.All.Where(k => k.Name.StartsWith("Gemm.", StringComparison.Ordinal)))
        {
            Assert.Contains(spec.Name, output);
            Assert.Contains($"| {spec.Name} | {(spec.ExplicitlyGrouped ? "explicit" : "implicit")} | {spec.GroupSize} |", md);
        }
        Assert.DoesNotContain("Elementwise.", md);
        Assert.Contains("`nativegan kernels --arch sm_90 --filter gemm. --markdown ", md);
        Assert.Contains(tools.Version, md);
        Directory.Delete(Path.GetDirectoryName(markdown)!, recursive: true);
    }

    [Fact]
    public void KernelsMdHasARowForEveryRegisteredKernel()
    {
        // benchmarks/KERNELS.md is kept current: a kernel added, renamed or removed without regenerating it fails here.
        var repo = new DirectoryInfo(AppContext.BaseDirectory);
        while (repo != null && !File.Exists(Path.Combine(repo.FullName, "NativeGan.sln"))) repo = repo.Parent;
        Assert.NotNull(repo);
        var rows = File.ReadAllLines(Path.Combine(repo!.FullName, "benchmarks", "KERNELS.md"))
            .Where(l => l.StartsWith("| ", StringComparison.Ordinal) && !l.StartsWith("| kernel |", StringComparison.Ordinal))
            .Select(l => l.Split('|')[1].Trim()).ToHashSet();
        var registered = KernelRegistry.All.Select(k => k.Name).ToHashSet();
        var missing = registered.Except(rows).ToList();
        var stale = rows.Except(registered).ToList();
        Assert.True(missing.Count == 0 && stale.Count == 0,
            $"benchmarks/KERNELS.md is out of date (no row for: {string.Join(", ", missing)}; rows for kernels that are gone: {string.Join(", ", stale)}); " +
            "regenerate it from the repository root with: bash tools/fetch-ptxas.sh && dotnet run --project tools/NativeGan.Cli -c Release -- kernels --markdown benchmarks/KERNELS.md");
    }

    [Fact]
    public void AFilterThatMatchesNothingIsOneLine()
    {
        var (rc, output) = Run(filter: "NoSuchKernel", tools: () => throw new CudaToolsException("not reached"));
        Assert.Equal(KernelsCommand.UsageError, rc);
        Assert.StartsWith("error: no kernel name contains 'NoSuchKernel'", OneLine(output));
    }

    [Fact]
    public void SassOfOneKernel()
    {
        var tools = CudaToolsForTests.Require();
        var (rc, output) = Run(sass: "Gemm.V1Naive", tools: () => tools);
        Assert.Equal(0, rc);
        Assert.Contains("code for sm_90", output);
        Assert.Contains("FFMA", output);
    }
}
