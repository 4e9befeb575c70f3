using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class DataSourceTests
{
    [Fact]
    public void An_IDX_path_loads_with_the_labels_beside_it_and_is_padded()
    {
        using var dir = new TempDir();
        var pixels = new byte[3 * 28 * 28];
        new Random(4).NextBytes(pixels);
        Idx.WriteImages(dir.File("train-images-idx3-ubyte.gz"), new IdxImages(pixels, 3, 28, 28));
        Idx.WriteLabels(dir.File("train-labels-idx1-ubyte.gz"), [5, 0, 4]);
        Assert.Equal(dir.File("train-labels-idx1-ubyte.gz"), DataSource.LabelsBeside(dir.File("train-images-idx3-ubyte.gz")));

        var data = DataSource.Load(dir.File("train-images-idx3-ubyte.gz"), new DataOptions(ImageSize: 32));
        Assert.Equal([1, 32, 32], data.SampleShape);
        Assert.Equal([5, 0, 4], data.Labels!);
        Assert.Equal(-1f, data.Data[0]);
        Assert.Equal(pixels[0] / 127.5f - 1f, data.Data[2 * 32 + 2]);

        File.Move(dir.File("train-images-idx3-ubyte.gz"), dir.File("digits.gz"));
        Assert.Null(DataSource.Load(dir.File("digits.gz")).Labels); // no labels beside it: unlabeled
        File.Move(dir.File("digits.gz"), dir.File("train-images-idx3-ubyte.gz"));

        var small = DataSource.Load(dir.File("train-images-idx3-ubyte.gz"), new DataOptions(ImageSize: 14, Channels: 3));
        Assert.Equal([3, 14, 14], small.SampleShape);
    }

    [Fact]
    public void An_unknown_name_is_refused_listing_the_choices()
    {
        var e = Assert.Throws<DataException>(() => DataSource.Load("nmist"));
        Assert.Contains("nmist", e.Message);
        Assert.Contains("mnist", e.Message);
        Assert.Contains("grid25", e.Message);
    }

    [Fact]
    public void Default_cache_is_inside_the_repository()
    {
        var cache = DataPaths.DefaultCache();
        var root = DataPaths.FindRepoRoot(AppContext.BaseDirectory);
        Assert.NotNull(root);
        // the repository around the working directory, or around the test program
        var cwdRoot = DataPaths.FindRepoRoot(Directory.GetCurrentDirectory()) ?? root;
        Assert.Equal(Path.Combine(cwdRoot, ".cache", "data"), cache);
    }
}
