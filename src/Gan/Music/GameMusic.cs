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
        using var unpacked = DebianPackages.Unpack(package, Path.GetDirectoryName(dir)!);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        int count = 0;
        foreach (var f in Directory.EnumerateFiles(unpacked.Root, "*.mid", SearchOption.AllDirectories))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)), overwrite: true);
            count++;
        }
        if (count == 0) throw new DataException($"the Debian package {package} ({unpacked.Deb}) holds no .mid files");
        unpacked.CopyCopyright(dir);
        File.WriteAllText(Path.Combine(dir, ".complete"), $"{unpacked.Deb}\n{count} songs\n");
    }
}
