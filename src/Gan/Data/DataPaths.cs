using System.Diagnostics;

namespace NativeGan.Gan.Data;

/// <summary>Where fetched and converted data lives.</summary>
public static class DataPaths
{
    /// <summary>
    /// The default data cache: <c>REPO/.cache/data</c> when the program runs inside the repository (a parent of
    /// the working directory or of the program holds NativeGan.sln; <c>.cache/</c> is git-ignored, so nothing
    /// fetched is ever committed), else <c>~/.cache/nativegan</c>.
    /// </summary>
    public static string DefaultCache()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
            if (FindRepoRoot(start) is { } root) return Path.Combine(root, ".cache", "data");
        return Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "nativegan");
    }

    /// <summary>The nearest directory at or above <paramref name="start"/> that holds NativeGan.sln, or null.</summary>
    public static string? FindRepoRoot(string start)
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "NativeGan.sln"))) return dir.FullName;
        return null;
    }

    /// <summary>
    /// Holds <paramref name="cacheDir"/> against other processes while data is fetched or converted into it: two runs
    /// started at once would otherwise both fetch and write the same temporary files, and one of them fail. The lock
    /// is a file opened with FileShare.None, which .NET enforces across processes (flock on Unix); the second process
    /// waits here (saying so once through <paramref name="log"/>) and then finds the data in place. Throws
    /// <see cref="DataException"/> after <paramref name="timeout"/> (default 10 minutes).
    /// </summary>
    public static IDisposable LockCache(string cacheDir, Action<string>? log = null, TimeSpan? timeout = null)
    {
        Directory.CreateDirectory(cacheDir);
        var path = Path.Combine(cacheDir, ".fetch.lock");
        var limit = timeout ?? TimeSpan.FromMinutes(10);
        var waited = Stopwatch.StartNew();
        bool said = false;
        while (true)
        {
            try { return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
            catch (IOException) when (waited.Elapsed < limit)
            {
                if (!said) log?.Invoke($"waiting for another process that is fetching data into {cacheDir}");
                said = true;
                Thread.Sleep(200);
            }
            catch (IOException e)
            {
                throw new DataException($"{path}: another process has held the data cache for {waited.Elapsed.TotalSeconds:0} s (fetching into it?); delete the file if no other nativegan runs", e);
            }
        }
    }
}
