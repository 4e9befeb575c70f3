using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class MnistNpmTests
{
    /// <summary>The byte of pixel p of image j of class c in the fake package.</summary>
    static byte Pixel(int c, int j, int p) => (byte)((c * 31 + j * 7 + p * 13) % 256);

    static int PerClass(int c) => 10 + c; // 10..19 digits: train = floor(90%) = 9..17

    /// <summary>A small hand-made stand-in for the npm package: same layout, gray levels with three decimals.</summary>
    static void WriteFakePackage(string path, int skipClass = -1)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        using var tar = new TarWriter(gz, TarEntryFormat.Ustar);
        void Add(string name, string text)
        {
            var entry = new UstarTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(text)) };
            tar.WriteEntry(entry);
        }
        Add("package/package.json", """{"name":"mnist","version":"1.1.0"}""");
        for (int c = 0; c < 10; c++)
        {
            if (c == skipClass) continue;
            var values = new List<string>();
            for (int j = 0; j < PerClass(c); j++)
                for (int p = 0; p < 784; p++)
                    values.Add(Math.Round(Pixel(c, j, p) / 255.0, 3).ToString(CultureInfo.InvariantCulture));
            Add($"package/src/digits/{c}.json", "{ \"data\": [" + string.Join(",", values) + "] }");
        }
    }

    [Fact]
    public void Converts_the_package_to_interleaved_train_and_test_IDX_files()
    {
        using var dir = new TempDir();
        var tgz = dir.File(MnistNpm.TarballName);
        WriteFakePackage(tgz);
        var (train, test) = MnistNpm.ConvertPackage(tgz, dir.Path);

        int expectedTrain = Enumerable.Range(0, 10).Sum(c => PerClass(c) * 9 / 10);
        Assert.Equal(expectedTrain, train);
        Assert.Equal(Enumerable.Range(0, 10).Sum(PerClass) - expectedTrain, test);

        var files = MnistNpm.Files(dir.Path);
        var images = Idx.ReadImages(files.TrainImages);
        var labels = Idx.ReadLabels(files.TrainLabels);
        Assert.Equal((train, 28, 28), (images.Count, images.Rows, images.Columns));
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1], labels[..12].Select(b => (int)b));

        // walk the interleaved order and check every image's bytes were recovered exactly from the 3-decimal values
        var seen = new int[10];
        for (int i = 0; i < images.Count; i++)
        {
            int c = labels[i], j = seen[c]++;
            for (int p = 0; p < 784; p += 97)
                Assert.Equal(Pixel(c, j, p), images.Pixels[i * 784 + p]);
        }
        Assert.Equal(Enumerable.Range(0, 10).Select(c => PerClass(c) * 9 / 10), seen);

        var testLabels = Idx.ReadLabels(files.TestLabels);
        var testImages = Idx.ReadImages(files.TestImages);
        Assert.Equal(test, testImages.Count);
        int first = Array.IndexOf(testLabels, (byte)9); // the test split starts after each class's train digits
        Assert.Equal(Pixel(9, PerClass(9) * 9 / 10, 5), testImages.Pixels[first * 784 + 5]);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.Contains("partial"));
    }

    [Fact]
    public void A_truncated_cached_tarball_says_to_delete_it()
    {
        // A fetch cut short leaves a partial .tgz in the cache; the error must say what to do about it.
        using var dir = new TempDir();
        var tgz = dir.File(MnistNpm.TarballName);
        WriteFakePackage(tgz);
        var bytes = File.ReadAllBytes(tgz);
        File.WriteAllBytes(tgz, bytes[..(bytes.Length / 2)]);
        var e = Assert.Throws<DataException>(() => MnistNpm.EnsureMnist(dir.Path, _ => { }));
        Assert.Contains(tgz, e.Message);
        Assert.Contains($"Delete {tgz} and run again to fetch it anew", e.Message);
    }

    [Fact]
    public void EnsureMnist_uses_a_cached_tarball_then_the_cached_files()
    {
        using var dir = new TempDir();
        WriteFakePackage(dir.File(MnistNpm.TarballName));
        var log = new List<string>();
        var files = MnistNpm.EnsureMnist(dir.Path, log.Add);
        Assert.True(File.Exists(files.TrainImages));
        Assert.Single(log);
        Assert.Contains("converted", log[0]);

        var stamp = File.GetLastWriteTimeUtc(files.TrainImages);
        MnistNpm.EnsureMnist(dir.Path, log.Add);
        Assert.Single(log); // nothing more to do, nothing said
        Assert.Equal(stamp, File.GetLastWriteTimeUtc(files.TrainImages));

        var data = DataSource.Load("mnist", new DataOptions(ImageSize: 32, CacheDir: dir.Path));
        Assert.Equal([1, 32, 32], data.SampleShape);
        Assert.Equal(10, data.ClassCount);
    }

    [Fact]
    public void Two_runs_started_at_once_convert_the_package_once()
    {
        // Two trainings launched together used to convert into the same temporary files, and one failed. The cache
        // lock makes the second wait; it then finds the files in place and says nothing more.
        using var dir = new TempDir();
        WriteFakePackage(dir.File(MnistNpm.TarballName));
        var log = new System.Collections.Concurrent.ConcurrentQueue<string>();
        using var start = new Barrier(4);
        var results = new MnistFiles?[4];
        var errors = new System.Collections.Concurrent.ConcurrentQueue<Exception>();
        var threads = Enumerable.Range(0, 4).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try { results[i] = MnistNpm.EnsureMnist(dir.Path, log.Enqueue); }
            catch (Exception e) { errors.Enqueue(e); }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.Empty(errors);
        Assert.Single(log, line => line.Contains("converted"));
        var files = results[0]!;
        Assert.Equal(Enumerable.Range(0, 10).Sum(c => PerClass(c) * 9 / 10), Idx.ReadImages(files.TrainImages).Count);
        Assert.DoesNotContain(Directory.GetFiles(dir.Path), f => f.Contains("partial"));
    }

    [Fact]
    public void A_cache_held_too_long_is_refused_naming_the_lock()
    {
        using var dir = new TempDir();
        var log = new List<string>();
        using (DataPaths.LockCache(dir.Path))
        {
            var e = Assert.Throws<DataException>(() => DataPaths.LockCache(dir.Path, log.Add, TimeSpan.FromMilliseconds(300)));
            Assert.Contains(Path.Combine(dir.Path, ".fetch.lock"), e.Message);
            Assert.Contains($"waiting for another process that is fetching data into {dir.Path}", Assert.Single(log));
        }
        using var free = DataPaths.LockCache(dir.Path, log.Add, TimeSpan.FromMilliseconds(300)); // released: taken at once
        Assert.Single(log);
    }

    [Fact]
    public void A_package_without_a_digit_file_is_refused_naming_it()
    {
        using var dir = new TempDir();
        var tgz = dir.File("broken.tgz");
        WriteFakePackage(tgz, skipClass: 3);
        var e = Assert.Throws<DataException>(() => MnistNpm.ConvertPackage(tgz, dir.Path));
        Assert.Contains(tgz, e.Message);
        Assert.Contains("3.json", e.Message);
        Assert.False(File.Exists(MnistNpm.Files(dir.Path).TrainImages));

        File.WriteAllText(tgz, "not a tarball");
        e = Assert.Throws<DataException>(() => MnistNpm.ConvertPackage(tgz, dir.Path));
        Assert.Contains(tgz, e.Message);
    }

    [Fact]
    public void Missing_npm_says_what_to_install_or_pass()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() => MnistNpm.EnsureMnist(dir.Path, null, npm: "nativegan-no-such-npm"));
        Assert.Contains("nativegan-no-such-npm", e.Message);
        Assert.Contains("apt-get install npm", e.Message);
        Assert.Contains("--data", e.Message);
    }

    /// <summary>The real bundled digits, when a previous run already fetched them (never fetches here).</summary>
    [Fact]
    public void Real_bundled_MNIST_when_already_cached()
    {
        var cache = DataPaths.DefaultCache();
        var files = MnistNpm.Files(cache);
        if (!File.Exists(files.TrainImages) || !File.Exists(files.TestLabels))
            Assert.Skip($"the bundled MNIST is not in {cache} (run `nativegan data fetch mnist`)");
        var train = DataSource.Load("mnist", new DataOptions(CacheDir: cache));
        var test = DataSource.Load("mnist-test", new DataOptions(CacheDir: cache));
        Assert.Equal(10_000, train.Count + test.Count);
        Assert.Equal(8_995, train.Count);
        Assert.Equal(10, train.ClassCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Contains(c, test.Labels!));
        Assert.Equal(-1f, train.Data.Min());
        Assert.Equal(1f, train.Data.Max());
    }
}
