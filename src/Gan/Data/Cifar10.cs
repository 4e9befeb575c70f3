namespace NativeGan.Gan.Data;

/// <summary>
/// CIFAR-10's binary version (<c>cifar-10-batches-bin/data_batch_1.bin</c> .. <c>_5.bin</c>, <c>test_batch.bin</c>):
/// records of 3,073 bytes, one label byte (0..9) then a 32 x 32 image as three planes (1,024 red bytes, row after
/// row, then green, then blue), which is exactly the [C, H, W] layout the models use.
/// </summary>
public static class Cifar10
{
    public const int Side = 32;
    public const int ImageBytes = 3 * Side * Side;
    public const int RecordBytes = 1 + ImageBytes;

    public static readonly string[] ClassNames =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>One batch file: its images (bytes, [N, 3, 32, 32]) and labels.</summary>
    public static (byte[] Pixels, byte[] Labels) ReadBatch(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"CIFAR-10 file {path} cannot be read: {e.Message}", e);
        }
        if (bytes.Length == 0 || bytes.Length % RecordBytes != 0)
            throw new DataException($"CIFAR-10 file {path} holds {bytes.Length} bytes, not a whole number of {RecordBytes}-byte records (1 label byte + 32x32x3 pixels): truncated, or not a CIFAR-10 binary batch");
        int count = bytes.Length / RecordBytes;
        var pixels = new byte[count * ImageBytes];
        var labels = new byte[count];
        for (int i = 0; i < count; i++)
        {
            labels[i] = bytes[i * RecordBytes];
            if (labels[i] > 9)
                throw new DataException($"CIFAR-10 file {path}: record {i} has label {labels[i]} (expected 0..9): not a CIFAR-10 binary batch (CIFAR-100 records have 2 label bytes)");
            bytes.AsSpan(i * RecordBytes + 1, ImageBytes).CopyTo(pixels.AsSpan(i * ImageBytes));
        }
        return (pixels, labels);
    }

    /// <summary>One or more batch files as one <see cref="Dataset"/>: [N, 3, 32, 32] in [-1, 1], 10 classes.</summary>
    public static Dataset Load(params string[] paths)
    {
        if (paths.Length == 0) throw new ArgumentException("Cifar10.Load: no files given");
        var pixels = new List<byte>();
        var labels = new List<int>();
        foreach (var path in paths)
        {
            var (p, l) = ReadBatch(path);
            pixels.AddRange(p);
            labels.AddRange(l.Select(b => (int)b));
        }
        string name = paths.Length == 1 ? paths[0] : $"CIFAR-10 ({paths.Length} files in {Path.GetDirectoryName(Path.GetFullPath(paths[0]))})";
        return new Dataset(name, Idx.BytesToModelRange(pixels.ToArray()), [3, Side, Side], labels.ToArray(), 10);
    }
}
