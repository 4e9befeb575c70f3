using NativeGan.Gan.Data;
using StbImageWriteSharp;

namespace NativeGan.Tests.Data;

public class ImageFolderTests
{
    /// <summary>Writes a w x h RGB PNG whose pixel (x, y) is (r, x * 10, y * 10).</summary>
    static void Png(string path, int w, int h, byte r)
    {
        var rgb = new byte[w * h * 3];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
            {
                rgb[(y * w + x) * 3] = r;
                rgb[(y * w + x) * 3 + 1] = (byte)(x * 10);
                rgb[(y * w + x) * 3 + 2] = (byte)(y * 10);
            }
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var file = File.Create(path);
        new ImageWriter().WritePng(rgb, w, h, ColorComponents.RedGreenBlue, file);
    }

    [Fact]
    public void Reads_pixels_as_planes_in_model_range()
    {
        using var dir = new TempDir();
        Png(dir.File("b.png"), 5, 3, 200);
        Png(dir.File("a.png"), 5, 3, 0);
        File.WriteAllText(dir.File("notes.txt"), "not a picture, not listed");

        var data = ImageFolder.Load(dir.Path, size: null, channels: 3);
        Assert.Equal(2, data.Count);
        Assert.Equal([3, 3, 5], data.SampleShape);
        Assert.Null(data.Labels);
        float At(int n, int c, int y, int x) => data.Data[((n * 3 + c) * 3 + y) * 5 + x];
        Assert.Equal(-1f, At(0, 0, 1, 1));                 // a.png first (sorted), red 0
        Assert.Equal(200 / 127.5f - 1f, At(1, 0, 2, 4));   // b.png red 200
        Assert.Equal(40 / 127.5f - 1f, At(1, 1, 2, 4));    // green = x * 10
        Assert.Equal(20 / 127.5f - 1f, At(1, 2, 2, 4));    // blue = y * 10
    }

    [Fact]
    public void Class_subfolders_give_sorted_labels_and_mixed_sizes_are_resized()
    {
        using var dir = new TempDir();
        Png(dir.File("dogs/1.png"), 8, 8, 10);
        Png(dir.File("cats/1.png"), 6, 9, 20); // not square: center-cropped to 6x6
        Png(dir.File("cats/2.png"), 4, 4, 30);

        var data = ImageFolder.Load(dir.Path, size: 4, channels: 1);
        Assert.Equal([1, 4, 4], data.SampleShape);
        Assert.Equal([0, 0, 1], data.Labels!);
        Assert.Equal(2, data.ClassCount);
        Assert.Contains("cats, dogs", data.Name);
        Assert.All(data.Data, v => Assert.InRange(v, -1f, 1f));
    }

    [Fact]
    public void Mixed_sizes_without_resize_are_refused_naming_both_files()
    {
        using var dir = new TempDir();
        Png(dir.File("a.png"), 4, 4, 0);
        Png(dir.File("b.png"), 5, 4, 0);
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(dir.Path, null, 3));
        Assert.Contains(dir.File("a.png"), e.Message);
        Assert.Contains("4x4", e.Message);
        Assert.Contains(dir.File("b.png"), e.Message);
        Assert.Contains("5x4", e.Message);
    }

    [Fact]
    public void Bad_image_and_empty_folder_are_refused_naming_them()
    {
        using var dir = new TempDir();
        Png(dir.File("good.png"), 4, 4, 0);
        File.WriteAllText(dir.File("bad.jpg"), "this is no JPEG");
        var e = Assert.Throws<DataException>(() => ImageFolder.Load(dir.Path, 4, 3));
        Assert.Contains(dir.File("bad.jpg"), e.Message);

        using var empty = new TempDir();
        Directory.CreateDirectory(empty.File("sub"));
        e = Assert.Throws<DataException>(() => ImageFolder.Load(empty.Path, 4, 3));
        Assert.Contains(empty.Path, e.Message);
        Assert.Contains("empty", e.Message);
    }
}
