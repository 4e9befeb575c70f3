using System.Buffers.Binary;
using System.IO.Compression;

namespace NativeGan.Gan.Data;

/// <summary>
/// Images as stored in an IDX file: <see cref="Count"/> images of <see cref="Rows"/> x <see cref="Columns"/>
/// bytes (0 = background, 255 = ink for MNIST), image after image, row after row.
/// </summary>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns)
{
    public int ImageSize => Rows * Columns;
}

/// <summary>
/// The IDX format of LeCun's MNIST files (and Fashion-MNIST, EMNIST, KMNIST): a 4-byte magic number
/// <c>00 00 TT DD</c> (TT = element type, 0x08 for unsigned bytes; DD = number of dimensions), then DD
/// big-endian int32 sizes, then the elements. Images are <c>0x00000803</c> ([N, rows, cols] bytes), labels
/// <c>0x00000801</c> ([N] bytes). Files may be gzipped (as distributed); the reader detects the gzip magic
/// <c>1F 8B</c> and the writer gzips when the path ends in ".gz".
/// </summary>
public static class Idx
{
    public const int ImagesMagic = 0x00000803;
    public const int LabelsMagic = 0x00000801;

    // ---------------------------------------------------------------- reading

    public static IdxImages ReadImages(string path)
    {
        var bytes = ReadAllBytes(path);
        var dims = ReadHeader(path, bytes, ImagesMagic, "images");
        int count = dims[0], rows = dims[1], cols = dims[2];
        if (rows <= 0 || cols <= 0)
            throw new DataException($"IDX file {path}: images of {rows} x {cols} pixels");
        long need = 16 + (long)count * rows * cols;
        if (bytes.Length < need)
            throw new DataException($"IDX file {path} is truncated: its header promises {count} images of {rows} x {cols} ({need} bytes in all) but it holds {bytes.Length} bytes");
        if (bytes.Length > need)
            throw new DataException($"IDX file {path} has {bytes.Length - need} bytes after its {count} images of {rows} x {cols}");
        return new IdxImages(bytes.AsSpan(16, (int)(need - 16)).ToArray(), count, rows, cols);
    }

    public static byte[] ReadLabels(string path)
    {
        var bytes = ReadAllBytes(path);
        int count = ReadHeader(path, bytes, LabelsMagic, "labels")[0];
        long need = 8L + count;
        if (bytes.Length < need)
            throw new DataException($"IDX file {path} is truncated: its header promises {count} labels but it holds {bytes.Length - 8}");
        if (bytes.Length > need)
            throw new DataException($"IDX file {path} has {bytes.Length - need} bytes after its {count} labels");
        return bytes.AsSpan(8, count).ToArray();
    }

    /// <summary>
    /// An images file (and optionally its labels file) as a <see cref="Dataset"/>: [N, 1, rows, cols] scaled
    /// from bytes 0..255 to [-1, 1]; labels as class indices with ClassCount = max label + 1.
    /// </summary>
    public static Dataset Load(string imagesPath, string? labelsPath = null, string? name = null)
    {
        var images = ReadImages(imagesPath);
        int[]? labels = null;
        int classes = 0;
        if (labelsPath is not null)
        {
            var raw = ReadLabels(labelsPath);
            if (raw.Length != images.Count)
                throw new DataException($"IDX files disagree: {imagesPath} holds {images.Count} images but {labelsPath} holds {raw.Length} labels");
            labels = Array.ConvertAll(raw, b => (int)b);
            classes = raw.Length == 0 ? 0 : raw.Max() + 1;
        }
        return new Dataset(name ?? imagesPath, BytesToModelRange(images.Pixels), [1, images.Rows, images.Columns], labels, classes);
    }

    /// <summary>Bytes 0..255 to floats in [-1, 1]: v / 127.5 - 1 (0 -> -1, 255 -> 1).</summary>
    public static float[] BytesToModelRange(ReadOnlySpan<byte> pixels)
    {
        var data = new float[pixels.Length];
        for (int i = 0; i < data.Length; i++) data[i] = pixels[i] / 127.5f - 1f;
        return data;
    }

    /// <summary>The file's bytes, gunzipped when it starts with the gzip magic 1F 8B.</summary>
    static byte[] ReadAllBytes(string path)
    {
        byte[] raw;
        try { raw = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"IDX file {path} cannot be read: {e.Message}", e);
        }
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            return output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException)
        {
            throw new DataException($"IDX file {path} is a damaged or truncated gzip file: {e.Message}", e);
        }
    }

    static int[] ReadHeader(string path, byte[] bytes, int magic, string what)
    {
        int ndims = magic & 0xFF;
        if (bytes.Length < 4)
            throw new DataException($"IDX file {path} is truncated: {bytes.Length} bytes, shorter than a magic number");
        int found = BinaryPrimitives.ReadInt32BigEndian(bytes);
        if (found != magic)
            throw new DataException($"IDX file {path} has magic number 0x{found:X8}, not 0x{magic:X8} (IDX {what}: unsigned bytes, {ndims} dimension{(ndims == 1 ? "" : "s")})");
        if (bytes.Length < 4 + 4 * ndims)
            throw new DataException($"IDX file {path} is truncated: {bytes.Length} bytes, shorter than an IDX {what} header ({4 + 4 * ndims} bytes)");
        var dims = new int[ndims];
        for (int d = 0; d < ndims; d++)
        {
            dims[d] = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * d));
            if (dims[d] < 0) throw new DataException($"IDX file {path}: dimension {d} is negative ({dims[d]})");
        }
        return dims;
    }

    // ---------------------------------------------------------------- writing

    /// <summary>Writes an IDX images file (gzipped when <paramref name="path"/> ends in ".gz").</summary>
    public static void WriteImages(string path, IdxImages images)
    {
        if (images.Pixels.Length != (long)images.Count * images.Rows * images.Columns)
            throw new ArgumentException($"Idx.WriteImages: {images.Pixels.Length} pixels for {images.Count} images of {images.Rows} x {images.Columns}");
        Write(path, ImagesMagic, [images.Count, images.Rows, images.Columns], images.Pixels);
    }

    /// <summary>Writes an IDX labels file (gzipped when <paramref name="path"/> ends in ".gz").</summary>
    public static void WriteLabels(string path, ReadOnlySpan<byte> labels) => Write(path, LabelsMagic, [labels.Length], labels);

    static void Write(string path, int magic, int[] dims, ReadOnlySpan<byte> data)
    {
        using var file = File.Create(path);
        using Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase)
            ? new GZipStream(file, CompressionLevel.Optimal)
            : file;
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, magic);
        stream.Write(word);
        foreach (int d in dims)
        {
            BinaryPrimitives.WriteInt32BigEndian(word, d);
            stream.Write(word);
        }
        stream.Write(data);
    }
}
