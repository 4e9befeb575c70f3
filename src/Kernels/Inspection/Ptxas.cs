using System.Diagnostics;

namespace NativeGan.Inspection;

/// <summary>
/// NVIDIA's PTX assembler (<c>ptxas</c>) and SASS lister (<c>cuobjdump</c>, which needs <c>nvdisasm</c>
/// beside it), found on this machine. Neither needs a GPU. <see cref="Find"/> looks, in order, at
/// <c>$NATIVEGAN_PTXAS</c> (the path of ptxas; cuobjdump is looked for beside it), <c>$NATIVEGAN_CUDA_TOOLS/bin</c>,
/// the repository's cache <c>.cache/cuda-tools/bin</c> (filled by <see cref="FetchCommand"/>), then <c>PATH</c>.
/// </summary>
public sealed class Ptxas
{
    /// <summary>The command that fetches the tools into the repository's cache.</summary>
    public const string FetchCommand = "bash tools/fetch-ptxas.sh";

    Ptxas(string ptxasPath, string? cuobjdumpPath, string version)
    {
        PtxasPath = ptxasPath;
        CuobjdumpPath = cuobjdumpPath;
        Version = version;
    }

    public string PtxasPath { get; }

    /// <summary>cuobjdump's path, or null when it is not beside ptxas (then SASS statistics are not available).</summary>
    public string? CuobjdumpPath { get; }

    /// <summary>ptxas's version line, for example <c>Cuda compilation tools, release 11.8, V11.8.89</c>.</summary>
    public string Version { get; }

    /// <summary>The tools, or an exception whose message says where it looked and how to fetch them.</summary>
    public static Ptxas Find(Func<string, string?>? environment = null)
        => TryFind(out var tools, out var why, environment) ? tools! : throw new CudaToolsException(why!);

    /// <summary>
    /// Looks for ptxas; on failure <paramref name="whyNot"/> is one sentence saying what to do.
    /// <paramref name="environment"/> reads environment variables and <paramref name="searchRepository"/>
    /// says whether to look in the repository's cache (tests pass their own).
    /// </summary>
    public static bool TryFind(out Ptxas? tools, out string? whyNot, Func<string, string?>? environment = null, bool searchRepository = true)
    {
        environment ??= Environment.GetEnvironmentVariable;
        tools = null;
        var looked = new List<string>();
        string? ptxas = null;
        if (environment("NATIVEGAN_PTXAS") is { Length: > 0 } explicitPath)
        {
            if (!File.Exists(explicitPath))
            {
                whyNot = $"NATIVEGAN_PTXAS is '{explicitPath}', which does not exist; point it at ptxas or unset it and run: {FetchCommand}";
                return false;
            }
            ptxas = explicitPath;
        }
        else
        {
            foreach (var dir in CandidateFolders(environment, searchRepository))
            {
                looked.Add(dir);
                var path = Path.Combine(dir, "ptxas");
                if (File.Exists(path)) { ptxas = path; break; }
            }
        }
        if (ptxas == null)
        {
            whyNot = $"ptxas was not found (looked in $NATIVEGAN_PTXAS, {string.Join(", ", looked.Distinct())}); fetch it with: {FetchCommand}";
            return false;
        }
        var (rc, output) = RunTool(ptxas, ["--version"], workingDirectory: null, TimeSpan.FromSeconds(30));
        var version = output.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith("Cuda compilation tools", StringComparison.Ordinal));
        if (rc != 0 || version == null)
        {
            whyNot = $"{ptxas} does not run ('--version' gave exit code {rc}: {FirstLine(output)}); delete it and run: {FetchCommand}";
            return false;
        }
        var cuobjdump = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(ptxas))!, "cuobjdump");
        tools = new Ptxas(ptxas, File.Exists(cuobjdump) ? cuobjdump : null, version);
        whyNot = null;
        return true;
    }

    /// <summary>$NATIVEGAN_CUDA_TOOLS/bin, the .cache/cuda-tools/bin of the repository around the working folder or this program, then PATH.</summary>
    static IEnumerable<string> CandidateFolders(Func<string, string?> environment, bool searchRepository)
    {
        if (environment("NATIVEGAN_CUDA_TOOLS") is { Length: > 0 } cache)
            yield return Path.Combine(cache, "bin");
        foreach (var start in searchRepository ? [Environment.CurrentDirectory, AppContext.BaseDirectory] : Array.Empty<string>())
            for (var dir = new DirectoryInfo(start); dir != null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "NativeGan.sln")))
                {
                    yield return Path.Combine(dir.FullName, ".cache", "cuda-tools", "bin");
                    break;
                }
        foreach (var dir in (environment("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            yield return dir;
    }

    /// <summary>
    /// Assembles PTX for <paramref name="arch"/> (<c>ptxas -arch=sm_XX -v</c>) and returns ptxas's resource
    /// report with the cubin (the GPU binary). A PTX error or an architecture ptxas does not know throws
    /// <see cref="CudaToolsException"/> with ptxas's message.
    /// </summary>
    public PtxasResult Assemble(string ptx, SmArchitecture arch)
    {
        var dir = Directory.CreateTempSubdirectory("nativegan-ptxas-");
        try
        {
            var input = Path.Combine(dir.FullName, "kernel.ptx");
            var output = Path.Combine(dir.FullName, "kernel.cubin");
            File.WriteAllText(input, ptx);
            var (rc, log) = RunTool(PtxasPath, [$"-arch={arch.Name}", "-v", "-o", output, input], dir.FullName, TimeSpan.FromMinutes(2));
            if (rc != 0)
            {
                if (log.Contains("is not defined for option 'gpu-name'", StringComparison.Ordinal))
                    throw new CudaToolsException($"{Version} does not know {arch.Name}; pick one it knows (ptxas --list-gpu-code) or point NATIVEGAN_PTXAS at a newer ptxas");
                throw new CudaToolsException($"ptxas -arch={arch.Name} failed (exit code {rc}): {string.Join(" | ", log.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(6))}");
            }
            return new PtxasResult(PtxasReport.Parse(log), log, File.ReadAllBytes(output));
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>The SASS (machine code) of a cubin, as <c>cuobjdump -sass</c> lists it.</summary>
    public string Disassemble(byte[] cubin)
    {
        if (CuobjdumpPath == null)
            throw new CudaToolsException($"cuobjdump is not beside {PtxasPath}; fetch both with: {FetchCommand}");
        var dir = Directory.CreateTempSubdirectory("nativegan-sass-");
        try
        {
            var input = Path.Combine(dir.FullName, "kernel.cubin");
            File.WriteAllBytes(input, cubin);
            var (rc, output) = RunTool(CuobjdumpPath, ["-sass", input], dir.FullName, TimeSpan.FromMinutes(2));
            if (rc != 0)
                throw new CudaToolsException($"cuobjdump -sass failed (exit code {rc}): {FirstLine(output)}; fetch the tools again with: {FetchCommand}");
            return output;
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Runs a tool with stdout and stderr merged (ptxas writes its report to stderr). A tool that cannot start gives exit code -1.</summary>
    static (int ExitCode, string Output) RunTool(string path, string[] args, string? workingDirectory, TimeSpan timeout)
    {
        var start = new ProcessStartInfo(path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        // cuobjdump runs nvdisasm, which lives beside it.
        var folder = Path.GetDirectoryName(Path.GetFullPath(path))!;
        start.Environment["PATH"] = folder + Path.PathSeparator + Environment.GetEnvironmentVariable("PATH");
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill(entireProcessTree: true);
                return (-1, $"{Path.GetFileName(path)} did not finish within {timeout.TotalSeconds:0} s");
            }
            return (process.ExitCode, stdout.Result + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }

    static string FirstLine(string text)
        => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "no output";
}

/// <summary>What ptxas produced: its parsed report, its log as printed, and the cubin.</summary>
public sealed record PtxasResult(PtxasReport Report, string Log, byte[] Cubin);

/// <summary>ptxas or cuobjdump is missing, broken, or rejected its input; the message says what to do.</summary>
public sealed class CudaToolsException(string message) : Exception(message);
