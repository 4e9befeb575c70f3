using System.IO.Compression;
using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class IdxTests
{
    static IdxImages RandomImages(int count, int rows, int cols, int seed)
    {
        var pixels = new byte[count * rows * cols];
        new Random(seed).NextBytes(pixels);
        return new IdxImages(pixels, count, rows, cols);
    }

    [Theory]
    [InlineData("images-idx3-ubyte")]
    [InlineData("images-idx3-ubyte.gz")]
    public void Images_and_labels_round_trip(string name)
    {
        using var dir = new TempDir();
        var images = RandomImages(7, 5, 3, 1);
        byte[] labels = [3, 0, 9, 1, 1, 4, 2];
        Idx.WriteImages(dir.File(name), images);
        Idx.WriteLabels(dir.File("labels-" + name), labels);

        var back = Idx.ReadImages(dir.File(name));
        Assert.Equal((7, 5, 3), (back.Count, back.Rows, back.Columns));
        Assert.Equal(images.Pixels, back.Pixels);
        Assert.Equal(labels, Idx.ReadLabels(dir.File("labels-" + name)));

        bool gz = name.EndsWith(".gz");
        var head = File.ReadAllBytes(dir.File(name)).AsSpan(0, 2).ToArray();
        Assert.Equal(gz, head is [0x1F, 0x8B]);
    }

    [Fact]
    public void File_layout_is_the_standard_one()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File("x"), new IdxImages([1, 2, 3, 4, 5, 6], 1, 2, 3));
        Assert.Equal(new byte[] { 0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 4, 5, 6 }, File.ReadAllBytes(dir.File("x")));
        Idx.WriteLabels(dir.File("y"), [7, 8]);
        Assert.Equal(new byte[] { 0, 0, 8, 1, 0, 0, 0, 2, 7, 8 }, File.ReadAllBytes(dir.File("y")));
    }

    [Fact]
    public void Load_scales_to_model_range_with_labels()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File("i.gz"), new IdxImages([0, 255, 51, 204, 0, 0, 0, 0], 2, 2, 2));
        Idx.WriteLabels(dir.File("l.gz"), [4, 2]);
        var data = Idx.Load(dir.File("i.gz"), dir.File("l.gz"));
        Assert.Equal([1, 2, 2], data.SampleShape);
        Assert.Equal(2, data.Count);
        Assert.Equal([4, 2], data.Labels!);
        Assert.Equal(5, data.ClassCount);
        Assert.Equal(-1f, data.Data[0]);
        Assert.Equal(1f, data.Data[1]);
        Assert.Equal(51 / 127.5f - 1f, data.Data[2]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Truncated_file_is_refused_naming_it(bool gzip)
    {
        using var dir = new TempDir();
        var path = dir.File("full");
        Idx.WriteImages(path, RandomImages(4, 6, 6, 2));
        var bytes = File.ReadAllBytes(path);
        var cut = dir.File(gzip ? "cut-images.gz" : "cut-images");
        if (gzip)
        {   // a whole gzip file of a truncated payload, and a gzip file cut in the middle
            using (var gz = new GZipStream(File.Create(cut), CompressionLevel.Fastest)) gz.Write(bytes, 0, bytes.Length - 10);
            var e1 = Assert.Throws<DataException>(() => Idx.ReadImages(cut));
            Assert.Contains(cut, e1.Message);
            Assert.Contains("truncated", e1.Message);

            var gzPath = dir.File("full.gz");
            Idx.WriteImages(gzPath, RandomImages(4, 6, 6, 2));
            var gzBytes = File.ReadAllBytes(gzPath);
            var half = dir.File("half-images.gz");
            File.WriteAllBytes(half, gzBytes[..(gzBytes.Length / 2)]);
            var e2 = Assert.Throws<DataException>(() => Idx.ReadImages(half));
            Assert.Contains(half, e2.Message);
        }
        else
        {
            File.WriteAllBytes(cut, bytes[..^10]);
            var e = Assert.Throws<DataException>(() => Idx.ReadImages(cut));
            Assert.Contains(cut, e.Message);
            Assert.Contains("truncated", e.Message);
            File.WriteAllBytes(cut, bytes[..9]); // inside the header
            e = Assert.Throws<DataException>(() => Idx.ReadImages(cut));
            Assert.Contains(cut, e.Message);
        }
    }

    [Fact]
    public void Wrong_magic_is_refused_naming_the_file()
    {
        using var dir = new TempDir();
        Idx.WriteLabels(dir.File("labels"), [1, 2, 3]);
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(dir.File("labels")));
        Assert.Contains(dir.File("labels"), e.Message);
        Assert.Contains("0x00000801", e.Message);
        Assert.Contains("0x00000803", e.Message);

        File.WriteAllText(dir.File("text.gz"), "hello, this is not an IDX file at all");
        e = Assert.Throws<DataException>(() => Idx.ReadLabels(dir.File("text.gz")));
        Assert.Contains(dir.File("text.gz"), e.Message);
    }

    [Fact]
    public void Count_mismatch_between_images_and_labels_is_refused()
    {
        using var dir = new TempDir();
        Idx.WriteImages(dir.File("i"), RandomImages(3, 2, 2, 3));
        Idx.WriteLabels(dir.File("l"), [1, 2]);
        var e = Assert.Throws<DataException>(() => Idx.Load(dir.File("i"), dir.File("l")));
        Assert.Contains(dir.File("i"), e.Message);
        Assert.Contains(dir.File("l"), e.Message);
    }

    [Fact]
    public void Missing_file_is_refused_naming_it()
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "nativegan-no-such-file-idx3");
        var e = Assert.Throws<DataException>(() => Idx.ReadImages(path));
        Assert.Contains(path, e.Message);
    }
}
