using System.ComponentModel;
using System.Diagnostics;
using NativeGan.Gan.Data;

namespace NativeGan.Gan.Music;

/// <summary>
/// Real game music as MIDI, from Debian packages fetched into the data cache (never installed): <c>apt-get download</c>
/// then <c>dpkg -x</c>, as tools/fetch-ptxas.sh does for ptxas.
/// <list type="bullet">
/// <item><c>openttd-openmsx</c> 0.4.2 (GPL-2): OpenMSX, the 31 multi-track songs of the OpenTTD game, about an hour.</item>
/// <item><c>planetblupi-music-midi</c> 1.14.2 (GPL-3+): the 10 songs of the game Planet Blupi.</item>
/// </list>
/// The songs land in <c>CACHE/game-music/PACKAGE/</c> beside the package's copyright file.
/// </summary>
public static class GameMusic
{
    /// <summary>The Debian packages of <c>--data game-music</c>, with what each holds.</summary>
    public static readonly IReadOnlyList<(string Package, string Holds)> Packages =
    [
        ("openttd-openmsx", "OpenMSX: 31 songs of OpenTTD (GPL-2)"),
        ("planetblupi-music-midi", "10 songs of Planet Blupi (GPL-3+)"),
    ];

    /// <summary>
    /// The .mid files of <c>--data game-music</c> in <paramref name="cacheDir"/>, fetched first when missing. Throws
    /// <see cref="DataException"/> when apt-get or dpkg cannot fetch them, saying what to do instead.
    /// </summary>
    public static IReadOnlyList<string> Ensure(string cacheDir, Action<string>? log = null)
    {
        log ??= _ => { };
        var files = new List<string>();
        foreach (var (package, holds) in Packages)
        {
            var dir = Path.Combine(cacheDir, "game-music", package);
            if (!Directory.Exists(dir) || !File.Exists(Path.Combine(dir, ".complete")))
            {
                using var cacheLock = DataPaths.LockCache(cacheDir, log);
                if (!File.Exists(Path.Combine(dir, ".complete")))
                {
                    log($"game music: fetching the Debian package {package} ({holds}) into {dir}");
                    Fetch(package, dir);
                }
            }
            files.AddRange(Directory.EnumerateFiles(dir, "*.mid", SearchOption.AllDirectories).Order(StringComparer.Ordinal));
        }
        return files;
    }

    /// <summary>The .mid files (any case) under <paramref name="folder"/>, sorted; a <see cref="DataException"/> when there are none.</summary>
    public static IReadOnlyList<string> FilesIn(string folder)
    {
        if (!Directory.Exists(folder)) throw new DataException($"{folder}: no such folder of MIDI files");
        var files = Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".mid", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".midi", StringComparison.OrdinalIgnoreCase))
            .Order(StringComparer.Ordinal).ToList();
        if (files.Count == 0) throw new DataException($"{folder}: no .mid or .midi files in it or below it");
        return files;
    }

    static void Fetch(string package, string dir)
    {
        var work = Path.Combine(Path.GetDirectoryName(dir)!, $".{package}.{Environment.ProcessId}.tmp");
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        try
        {
            Run("apt-get", work, package, "download", package);
            var deb = Directory.EnumerateFiles(work, "*.deb").FirstOrDefault()
                ?? throw new DataException($"`apt-get download {package}` ran but left no .deb in {work}");
            Run("dpkg", work, package, "-x", deb, Path.Combine(work, "x"));
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            Directory.CreateDirectory(dir);
            var unpacked = Path.Combine(work, "x");
            int count = 0;
            foreach (var f in Directory.EnumerateFiles(unpacked, "*.mid", SearchOption.AllDirectories))
            {
                File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
                count++;
            }
            if (count == 0) throw new DataException($"the Debian package {package} ({deb}) holds no .mid files");
            foreach (var f in Directory.EnumerateFiles(unpacked, "copyright", SearchOption.AllDirectories))
                File.Copy(f, Path.Combine(dir, "COPYRIGHT"), overwrite: true);
            File.WriteAllText(Path.Combine(dir, ".complete"), $"{Path.GetFileName(deb)}\n{count} songs\n");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    static void Run(string program, string workDir, string package, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        string what = $"`{program} {string.Join(' ', args)}`";
        string instead = $"Fetch it yourself (`apt-get download {package} && dpkg -x {package}_*.deb x`) and pass --data with the folder of its .mid files, or any folder of MIDI files.";
        Process process;
        try { process = Process.Start(start) ?? throw new Win32Exception("Process.Start returned null"); }
        catch (Win32Exception e)
        {
            throw new DataException($"game music is fetched from Debian's archive with apt-get and dpkg, and `{program}` could not be started ({e.Message}). {instead}", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new DataException($"{what} failed with exit code {process.ExitCode} (no network, or no package lists: `apt-get update`?): {stderr.Result.Trim()} {instead}");
            _ = stdout.Result;
        }
    }
}
