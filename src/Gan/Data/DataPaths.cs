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
}
