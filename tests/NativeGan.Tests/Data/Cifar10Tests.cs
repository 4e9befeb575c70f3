using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class Cifar10Tests
{
    static byte[] Records(int count, int seed)
    {
        var bytes = new byte[count * Cifar10.RecordBytes];
        new Random(seed).NextBytes(bytes);
        for (int i = 0; i < count; i++) bytes[i * Cifar10.RecordBytes] = (byte)((i * 3 + seed) % 10);
        return bytes;
    }

    [Fact]
    public void Reads_labels_and_planes()
    {
        using var dir = new TempDir();
        var bytes = Records(3, 1);
        File.WriteAllBytes(dir.File("data_batch_1.bin"), bytes);
        File.WriteAllBytes(dir.File("data_batch_2.bin"), Records(2, 2));

        var data = Cifar10.Load(dir.File("data_batch_1.bin"), dir.File("data_batch_2.bin"));
        Assert.Equal(5, data.Count);
        Assert.Equal([3, 32, 32], data.SampleShape);
        Assert.Equal([1, 4, 7, 2, 5], data.Labels!);
        Assert.Equal(10, data.ClassCount);
        // record 1, green plane (offset 1024), row 2, column 5
        int inFile = 1 * Cifar10.RecordBytes + 1 + 1024 + 2 * 32 + 5;
        Assert.Equal(bytes[inFile] / 127.5f - 1f, data.Data[1 * 3072 + 1024 + 2 * 32 + 5]);

        var one = DataSource.Load(dir.File("data_batch_2.bin"));
        Assert.Equal([2, 5], one.Labels!);
        Assert.Equal([3, 32, 32], one.SampleShape);

        var folder = DataSource.Load(dir.Path, new DataOptions(ImageSize: 16, Channels: 1));
        Assert.Equal(5, folder.Count);
        Assert.Equal([1, 16, 16], folder.SampleShape);
    }

    [Fact]
    public void Truncated_or_foreign_file_is_refused_naming_it()
    {
        using var dir = new TempDir();
        var path = dir.File("test_batch.bin");
        File.WriteAllBytes(path, Records(2, 3)[..^100]);
        var e = Assert.Throws<DataException>(() => Cifar10.ReadBatch(path));
        Assert.Contains(path, e.Message);

        var bad = Records(2, 3);
        bad[Cifar10.RecordBytes] = 42;
        File.WriteAllBytes(path, bad);
        e = Assert.Throws<DataException>(() => Cifar10.ReadBatch(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("label 42", e.Message);
    }
}
