using System.ComponentModel;
using System.Diagnostics;
using NativeGan.Gan.Data;

namespace NativeGan.Gan.Pretrained;

/// <summary>
/// Files from a NuGet package, fetched with the ordinary client: <c>dotnet restore</c> of a throwaway project that
/// holds one <c>PackageDownload</c> of the package, into a packages folder of its own. So the user's NuGet
/// configuration applies as it does to any build here (nuget.org or a mirror, proxies, credentials, offline
/// fallback folders), and nothing is installed anywhere but the given folder.
/// </summary>
public static class NuGetPackages
{
    /// <summary>
    /// Downloads package <paramref name="id"/> <paramref name="version"/> (exact) into a fresh folder under
    /// <paramref name="workDir"/> and returns the folder of its extracted files (<c>.../id-lowercase/version</c>); the
    /// caller copies what it needs and deletes <see cref="DirectoryInfo.Parent"/>'s parent when done. Throws
    /// <see cref="DataException"/> when dotnet cannot be started or the restore fails (saying what to do instead).
    /// </summary>
    public static string Download(string id, string version, string workDir, Action<string>? log = null, string dotnet = "dotnet")
    {
        var root = Path.Combine(workDir, $".nuget-fetch-{Guid.NewGuid():N}");
        Directory.CreateDirectory(root);
        // Empty Directory.* files stop MSBuild's upward search, so a repository's build settings (central package
        // versions, warnings as errors) do not reach the throwaway project when the cache sits inside one.
        foreach (var name in new[] { "Directory.Build.props", "Directory.Build.targets", "Directory.Packages.props" })
            File.WriteAllText(Path.Combine(root, name), "<Project />\n");
        File.WriteAllText(Path.Combine(root, "fetch.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><TargetFramework>netstandard2.0</TargetFramework></PropertyGroup>
              <ItemGroup><PackageDownload Include="{id}" Version="[{version}]" /></ItemGroup>
            </Project>
            """);
        var packages = Path.Combine(root, "packages");
        log?.Invoke($"fetching the NuGet package {id} {version} with `dotnet restore` (the NuGet sources configured here)");
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = root,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "restore", "fetch.csproj", "--packages", packages, "--nologo", "-v", "quiet" }) start.ArgumentList.Add(a);
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        Process process;
        try { process = Process.Start(start) ?? throw new Win32Exception("Process.Start returned null"); }
        catch (Win32Exception e)
        {
            TryDelete(root);
            throw new DataException(
                $"The NuGet package {id} {version} is fetched with the .NET SDK, and `{dotnet}` could not be started ({e.Message}). " +
                "Install the .NET SDK (https://dot.net), or fetch the package elsewhere and put its files in place (see the message of the caller).", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            var folder = Path.Combine(packages, id.ToLowerInvariant(), version);
            if (process.ExitCode != 0 || !Directory.Exists(folder))
            {
                TryDelete(root);
                var said = (stdout.Result + " " + stderr.Result).Trim();
                throw new DataException(
                    $"`dotnet restore` of the NuGet package {id} {version} failed (exit code {process.ExitCode}; no network, or no NuGet source that has it?): " +
                    $"{(said.Length > 600 ? said[..600] + " ..." : said)}");
            }
            return folder;
        }
    }

    /// <summary>Deletes the throwaway restore folder that holds <paramref name="packageFolder"/> (best effort).</summary>
    public static void Discard(string packageFolder)
    {
        // packageFolder is ROOT/packages/id/version.
        var root = Directory.GetParent(packageFolder)?.Parent?.Parent;
        if (root is not null && root.Name.StartsWith(".nuget-fetch-", StringComparison.Ordinal)) TryDelete(root.FullName);
    }

    static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
