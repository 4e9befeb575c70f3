using System.ComponentModel;
using System.Diagnostics;

namespace NativeGan.Gan.Data;

/// <summary>
/// Data shipped as Debian packages (game music, Fashion-MNIST), fetched into the data cache and never installed:
/// <c>apt-get download</c>, then <c>dpkg -x</c> into a temporary folder. Where the machine has no package lists (a
/// fresh container), the archive's bookworm main is read into private lists first, as tools/fetch-ptxas.sh does:
/// no root needed, the system's apt untouched.
/// </summary>
public static class DebianPackages
{
    /// <summary>A package unpacked in a temporary folder (deleted on dispose): its files under <see cref="Root"/>.</summary>
    public sealed class Unpacked(string work, string deb) : IDisposable
    {
        /// <summary>The unpacked file tree (usr/share/...).</summary>
        public string Root { get; } = Path.Combine(work, "x");

        /// <summary>The .deb's file name (name_version_arch.deb).</summary>
        public string Deb { get; } = Path.GetFileName(deb);

        /// <summary>Copies the package's copyright file (its licence) into <paramref name="folder"/> as COPYRIGHT.</summary>
        public void CopyCopyright(string folder)
        {
            foreach (var f in Directory.EnumerateFiles(Root, "copyright", SearchOption.AllDirectories))
                File.Copy(f, Path.Combine(folder, "COPYRIGHT"), overwrite: true);
        }

        public void Dispose()
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
        }
    }

    /// <summary>Downloads <paramref name="package"/> and unpacks it in a temporary folder under <paramref name="parent"/>.
    /// Throws <see cref="DataException"/> saying what failed and what to do instead.</summary>
    public static Unpacked Unpack(string package, string parent)
    {
        Directory.CreateDirectory(parent);
        var work = Path.Combine(parent, $".{package}.{Environment.ProcessId}.tmp");
        if (Directory.Exists(work)) Directory.Delete(work, recursive: true);
        Directory.CreateDirectory(work);
        try
        {
            try { Run("apt-get", work, package, "download", package); }
            catch (DataException first) when (first.InnerException is null)
            {
                try { DownloadWithPrivateLists(package, work); }
                catch (DataException second) { throw new DataException($"{first.Message} Then, with private package lists: {second.Message}", second); }
            }
            var deb = Directory.EnumerateFiles(work, "*.deb").FirstOrDefault()
                ?? throw new DataException($"`apt-get download {package}` ran but left no .deb in {work}");
            Run("dpkg", work, package, "-x", deb, Path.Combine(work, "x"));
            return new Unpacked(work, deb);
        }
        catch
        {
            try { Directory.Delete(work, recursive: true); } catch (IOException) { }
            throw;
        }
    }

    static void DownloadWithPrivateLists(string package, string work)
    {
        var mirror = new[] { "/etc/apt/sources.list" }.Concat(Directory.Exists("/etc/apt/sources.list.d") ? Directory.GetFiles("/etc/apt/sources.list.d") : [])
            .Where(File.Exists).SelectMany(File.ReadLines)
            .Select(line => System.Text.RegularExpressions.Regex.Match(line, @"https?://\S+/debian/?(?=\s|$)")).FirstOrDefault(m => m.Success)?.Value.TrimEnd('/')
            ?? "http://deb.debian.org/debian";
        const string keyring = "/usr/share/keyrings/debian-archive-keyring.gpg";
        var lists = Path.Combine(work, "lists");
        Directory.CreateDirectory(Path.Combine(lists, "partial"));
        Directory.CreateDirectory(Path.Combine(work, "cache", "archives", "partial"));
        var sources = Path.Combine(work, "sources.list");
        File.WriteAllText(sources, $"deb {(File.Exists(keyring) ? $"[signed-by={keyring}] " : "")}{mirror} bookworm main\n");
        string[] options =
        [
            "-o", $"Dir::Etc::sourcelist={sources}", "-o", $"Dir::Etc::sourceparts={Path.Combine(work, "none")}", "-o", $"Dir::State::Lists={lists}",
            "-o", $"Dir::Cache={Path.Combine(work, "cache")}", "-o", "Debug::NoLocking=1", "-o", $"APT::Sandbox::User={Environment.UserName}",
        ];
        Run("apt-get", work, package, [.. options, "-qq", "update"]);
        Run("apt-get", work, package, [.. options, "-qq", "download", package]);
    }

    static void Run(string program, string workDir, string package, params string[] args)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = workDir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) start.ArgumentList.Add(a);
        string what = $"`{program} {string.Join(' ', args)}`";
        string instead = $"Fetch it yourself (`apt-get download {package} && dpkg -x {package}_*.deb x`) and pass --data with its files.";
        Process process;
        try { process = Process.Start(start) ?? throw new Win32Exception("Process.Start returned null"); }
        catch (Win32Exception e)
        {
            throw new DataException($"{package} is fetched from Debian's archive with apt-get and dpkg, and `{program}` could not be started ({e.Message}). {instead}", e);
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
