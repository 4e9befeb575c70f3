using System.Diagnostics;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Examples;

/// <summary>
/// Runs the dotnet CLI (a build, a pack, a program) from a test as a user would from a shell, with a time limit,
/// and returns its exit code and everything it printed.
/// <para>The child builds with <c>-nodeReuse:false</c> and without the shared compiler server
/// (<see cref="BuildFlags"/>; MSBUILDDISABLENODEREUSE in its environment): MSBuild worker nodes and VBCSCompiler
/// would otherwise outlive the build holding its output pipe open, and reading the output to its end would wait for
/// them (minutes). MSBuild's own variables of a parent <c>dotnet test</c> are not passed on.</para>
/// </summary>
public static class DotnetProcess
{
    /// <summary>The flags of every build, restore or pack a test starts.</summary>
    public static readonly string[] BuildFlags = ["--nologo", "-nodeReuse:false", "-p:UseSharedCompilation=false"];

    /// <summary>The repository root (the folder that holds NativeGan.sln above the test binaries).</summary>
    public static string RepoRoot() =>
        DataPaths.FindRepoRoot(AppContext.BaseDirectory) ?? throw new InvalidOperationException($"no NativeGan.sln above {AppContext.BaseDirectory}");

    /// <summary>
    /// The configuration the tests were built in, so a test packs or runs what was built with them (tools/test.sh: Release).
    /// </summary>
    public const string Configuration =
#if DEBUG
        "Debug";
#else
        "Release";
#endif

    /// <summary>
    /// Runs <c>dotnet ARGS</c> in <paramref name="workingDirectory"/>; kills it (and its children) after
    /// <paramref name="timeout"/> and fails the test, saying what it had printed. <paramref name="environment"/>
    /// sets (a value) or removes (null) variables of the child.
    /// </summary>
    public static async Task<(int ExitCode, string Output)> Run(string workingDirectory, TimeSpan timeout, IEnumerable<string> args,
        IReadOnlyDictionary<string, string?>? environment = null)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            start.Environment.Remove(name);
        start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        start.Environment["DOTNET_CLI_USE_MSBUILD_SERVER"] = "0";
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null) start.Environment.Remove(name);
            else start.Environment[name] = value;
        }

        var command = $"dotnet {string.Join(' ', start.ArgumentList)} (in {workingDirectory})";
        using var child = Process.Start(start) ?? throw new InvalidOperationException($"could not start {command}");
        child.StandardInput.Close();
        var output = new System.Text.StringBuilder();
        child.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        child.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (output) output.AppendLine(e.Data); };
        child.BeginOutputReadLine();
        child.BeginErrorReadLine();
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await child.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            child.Kill(entireProcessTree: true);
            lock (output)
                Assert.Fail($"{command} did not finish within {timeout.TotalSeconds:F0} s; it printed:\n{output}");
        }
        lock (output) return (child.ExitCode, output.ToString());
    }
}
