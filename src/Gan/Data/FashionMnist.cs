namespace NativeGan.Gan.Data;

/// <summary>
/// Fashion-MNIST (Xiao et al. 2017, MIT): 60,000 training and 10,000 test images of clothing in 10 classes, 28x28 grey,
/// in MNIST's IDX format, from Debian's package <c>dataset-fashion-mnist</c> (31 MB) fetched into the data cache and
/// unpacked there (<see cref="DebianPackages"/>; nothing installed). <c>--data fashion</c> and <c>fashion-test</c>.
/// </summary>
public static class FashionMnist
{
    /// <summary>The Debian package it comes from.</summary>
    public const string Package = "dataset-fashion-mnist";

    /// <summary>The ten classes, by label.</summary>
    public static readonly IReadOnlyList<string> Classes = ["T-shirt/top", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot"];

    /// <summary>Where the four gzipped IDX files are kept in <paramref name="cacheDir"/>.</summary>
    public static MnistFiles Files(string cacheDir)
    {
        var dir = Path.Combine(cacheDir, "fashion-mnist");
        return new(Path.Combine(dir, "train-images-idx3-ubyte.gz"), Path.Combine(dir, "train-labels-idx1-ubyte.gz"),
            Path.Combine(dir, "t10k-images-idx3-ubyte.gz"), Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
    }

    /// <summary>The four IDX files in <paramref name="cacheDir"/>, fetched first when missing (saying so through <paramref name="log"/>).</summary>
    public static MnistFiles Ensure(string cacheDir, Action<string>? log = null)
    {
        var files = Files(cacheDir);
        bool Present() => new[] { files.TrainImages, files.TrainLabels, files.TestImages, files.TestLabels }.All(File.Exists);
        if (Present()) return files;
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (Present()) return files;
        var dir = Path.GetDirectoryName(files.TrainImages)!;
        log?.Invoke($"Fashion-MNIST: fetching the Debian package {Package} (70,000 images, MIT, 31 MB) into {dir}");
        using var unpacked = DebianPackages.Unpack(Package, cacheDir);
        Directory.CreateDirectory(dir);
        foreach (var target in new[] { files.TrainLabels, files.TestImages, files.TestLabels, files.TrainImages })
        {
            var source = Directory.EnumerateFiles(unpacked.Root, Path.GetFileName(target), SearchOption.AllDirectories).FirstOrDefault()
                ?? throw new DataException($"the Debian package {Package} ({unpacked.Deb}) has no {Path.GetFileName(target)}");
            // The training images last: their presence says the set is complete.
            File.Copy(source, target + ".tmp", overwrite: true);
            File.Move(target + ".tmp", target, overwrite: true);
        }
        unpacked.CopyCopyright(dir);
        return files;
    }
}
