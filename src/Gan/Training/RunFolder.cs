using System.Globalization;

namespace NativeGan.Gan.Training;

/// <summary>
/// A run's folder, held for the whole run. A folder that holds an earlier run is never overwritten unless asked: a new
/// run asked into it goes to the first free numbered sibling (<c>runs/x-2</c>, <c>runs/x-3</c>, ...; as Lightning's
/// version_N and StyleGAN's numbered run folders), <c>--overwrite</c> replaces the earlier run's files, <c>--resume</c>
/// continues it. While a run holds its folder no other run may use it: the lock is a file opened with FileShare.None,
/// which .NET enforces across processes (flock on Unix) and within one; its owner (process, start time) is written
/// beside it so a refused run can name the holder. The folder is checked for writing before anything trains.
/// </summary>
public sealed class RunFolder : IDisposable
{
    public const string LockFile = ".run.lock", OwnerFile = ".run.owner";
    readonly FileStream lockStream;
    readonly bool created;

    RunFolder(string path, FileStream lockStream, bool created)
    {
        Path = path;
        this.lockStream = lockStream;
        this.created = created;
    }

    /// <summary>The folder this run writes to.</summary>
    public string Path { get; }

    /// <summary>Whether <paramref name="folder"/> holds a run's files (a checkpoint, a loss log or sample pictures).</summary>
    public static bool HoldsARun(string folder) =>
        File.Exists(System.IO.Path.Combine(folder, Trainer.CheckpointFile)) || File.Exists(System.IO.Path.Combine(folder, Trainer.LossLogFile))
        || Directory.Exists(System.IO.Path.Combine(folder, Trainer.SamplesFolder));

    /// <summary>
    /// Claims <paramref name="requested"/> for a run (see the class notes); <paramref name="log"/> hears where a new run went
    /// instead and what an overwrite removed. Throws an <see cref="IOException"/> naming the folder when it is held by
    /// another run (and the holder) or cannot be written, and <see cref="FileNotFoundException"/> for a resume without a
    /// checkpoint.
    /// </summary>
    public static RunFolder Claim(string requested, bool resume, bool overwrite, Action<string> log)
    {
        if (resume && overwrite) throw new ArgumentException("--resume continues the run in --out and --overwrite replaces it: give one");
        if (resume)
        {
            string checkpoint = System.IO.Path.Combine(requested, Trainer.CheckpointFile);
            if (!File.Exists(checkpoint)) throw new FileNotFoundException($"--resume: no checkpoint at {checkpoint}", checkpoint);
            return Open(requested) ?? throw Held(requested);
        }
        if (overwrite)
        {
            var held = Open(requested) ?? throw Held(requested);
            try
            {
                if (HoldsARun(requested)) log($"--overwrite: the run in {requested} is replaced");
                foreach (var file in new[] { Trainer.CheckpointFile, Trainer.LossLogFile, Trainer.LossCurveFile })
                    File.Delete(System.IO.Path.Combine(requested, file));
                var samples = System.IO.Path.Combine(requested, Trainer.SamplesFolder);
                if (Directory.Exists(samples)) Directory.Delete(samples, recursive: true);
                return held;
            }
            catch { held.Dispose(); throw; }
        }
        for (int n = 1; ; n++)
        {
            string folder = n == 1 ? requested : $"{requested.TrimEnd('/', '\\')}-{n}";
            if (HoldsARun(folder)) continue;
            var claimed = Open(folder);
            if (claimed is null) continue; // held by a run that has not written yet
            if (n > 1) log($"{requested} holds a run: this run goes to {folder} (--resume continues that run, --overwrite replaces it)");
            return claimed;
        }
    }

    /// <summary>The folder created, checked for writing and locked; null when another run holds it.</summary>
    static RunFolder? Open(string folder)
    {
        bool created = !Directory.Exists(folder);
        try
        {
            Directory.CreateDirectory(folder);
            // A file written and removed: an unwritable folder (read-only, full, not ours) is refused now, not at the first picture.
            var probe = System.IO.Path.Combine(folder, $".write-check.{Guid.NewGuid():N}");
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"cannot write the run folder {folder}: {e.Message}", e);
        }
        FileStream stream;
        try { stream = new FileStream(System.IO.Path.Combine(folder, LockFile), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None); }
        catch (IOException) { return null; }
        File.WriteAllText(System.IO.Path.Combine(folder, OwnerFile),
            $"process {Environment.ProcessId} on {Environment.MachineName}, since {DateTime.UtcNow.ToString("u", CultureInfo.InvariantCulture)}");
        return new RunFolder(folder, stream, created);
    }

    static IOException Held(string folder)
    {
        string owner;
        try { owner = File.ReadAllText(System.IO.Path.Combine(folder, OwnerFile)).Trim(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { owner = "an unknown process"; }
        return new IOException($"{folder} is in use by another run ({owner}); wait for it to end, or choose another --out");
    }

    /// <summary>Removes the partial checkpoints (<c>.checkpoint.safetensors.*.tmp</c>) a killed run left behind; while this
    /// run holds the folder no other writes them. Returns how many were removed.</summary>
    public int RemoveStaleTemporaries()
    {
        int removed = 0;
        foreach (var file in Directory.EnumerateFiles(Path, $".{Trainer.CheckpointFile}.*.tmp"))
        {
            File.Delete(file);
            removed++;
        }
        return removed;
    }

    public void Dispose() => lockStream.Dispose();

    /// <summary>Lets the folder go after a run was refused before its first step: a folder this claim created, holding
    /// nothing but the lock, is removed again, so a refused run leaves nothing behind.</summary>
    public void Abandon()
    {
        Dispose();
        if (!created) return;
        try
        {
            if (Directory.EnumerateFileSystemEntries(Path).All(e => System.IO.Path.GetFileName(e) is LockFile or OwnerFile)) Directory.Delete(Path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
