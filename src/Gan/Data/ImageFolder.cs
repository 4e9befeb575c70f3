using StbImageSharp;

namespace NativeGan.Gan.Data;

/// <summary>
/// A folder of pictures (PNG, JPEG, BMP; decoded by StbImageSharp) as a <see cref="Dataset"/> [N, C, S, S] in [-1, 1].
/// <list type="bullet">
/// <item>Pictures directly in the folder: an unlabeled dataset (subfolders are then ignored).</item>
/// <item>No pictures in the folder but in its subfolders: one class per subfolder, labels in the ordinal order of
/// the subfolder names (cats/, dogs/ -> 0, 1), like torchvision's ImageFolder.</item>
/// </list>
/// With a <c>size</c>, each picture is center-cropped to a square (its shorter side) and resized to
/// size x size (area averaging when shrinking, bilinear when growing), so pictures of mixed sizes are allowed
/// <i>because</i> they are resized. Without one, every picture must have the same size, and a picture that differs
/// is refused naming both files and their sizes. An empty folder or a picture that cannot be decoded is refused
/// naming the folder or file: no partial dataset.
/// </summary>
public static class ImageFolder
{
    public static readonly string[] Extensions = [".png", ".jpg", ".jpeg", ".bmp"];

    /// <param name="folder">The folder.</param>
    /// <param name="size">Square side to resize to, or null to keep the (common) size.</param>
    /// <param name="channels">1 (gray, luma) or 3 (RGB; alpha is dropped).</param>
    public static Dataset Load(string folder, int? size, int channels = 3)
    {
        if (channels is not (1 or 3))
            throw new ArgumentException($"ImageFolder.Load: {channels} channels asked, 1 or 3 supported");
        if (size is <= 0) throw new ArgumentException($"ImageFolder.Load: size {size}");
        if (!Directory.Exists(folder)) throw new DataException($"Image folder {folder} does not exist");

        var (files, labels, classNames) = ListFiles(folder);
        var decoded = new (float[] Pixels, int Width, int Height)[files.Count];
        var errors = new Exception?[files.Count];
        Parallel.For(0, files.Count, i =>
        {
            try { decoded[i] = Decode(files[i], size, channels); }
            catch (Exception e) { errors[i] = e; }
        });
        for (int i = 0; i < files.Count; i++) // report the first bad file in order, whatever thread met it first
            if (errors[i] is { } e)
                throw e as DataException ?? new DataException($"Image {files[i]} cannot be read: {e.Message}", e);

        int width = decoded[0].Width, height = decoded[0].Height;
        for (int i = 1; i < files.Count; i++)
            if (decoded[i].Width != width || decoded[i].Height != height)
                throw new DataException(
                    $"Images of different sizes in {folder}: {files[0]} is {width}x{height} but {files[i]} is {decoded[i].Width}x{decoded[i].Height}; " +
                    "give an image size to resize them all");

        int sampleSize = channels * width * height;
        var data = new float[files.Count * sampleSize];
        for (int i = 0; i < files.Count; i++) decoded[i].Pixels.CopyTo(data, i * sampleSize);
        string name = classNames is null ? folder : $"{folder} ({classNames.Length} classes: {string.Join(", ", classNames.Take(10))}{(classNames.Length > 10 ? ", ..." : "")})";
        return new Dataset(name, data, [channels, height, width], labels, classNames?.Length ?? 0);
    }

    /// <summary>One picture file as [channels, size, size] floats in [-1, 1] (center-cropped and resized): what
    /// `nativegan denoise --input` feeds a model.</summary>
    public static float[] LoadFile(string path, int size, int channels)
    {
        if (!File.Exists(path)) throw new DataException($"Image {path} does not exist");
        return Decode(path, size, channels).Pixels;
    }

    /// <summary>The picture files (sorted, ordinal) with their labels and class names (null when unlabeled).</summary>
    static (List<string> Files, int[]? Labels, string[]? ClassNames) ListFiles(string folder)
    {
        var top = Pictures(folder);
        if (top.Count > 0) return (top, null, null);
        var classes = Directory.GetDirectories(folder).Order(StringComparer.Ordinal)
            .Select(dir => (Dir: dir, Files: Pictures(dir))).Where(c => c.Files.Count > 0).ToArray();
        if (classes.Length == 0)
            throw new DataException($"Image folder {folder} is empty: no {string.Join("/", Extensions)} files in it or in its subfolders");
        var files = classes.SelectMany(c => c.Files).ToList();
        var labels = classes.SelectMany((c, k) => Enumerable.Repeat(k, c.Files.Count)).ToArray();
        return (files, labels, classes.Select(c => Path.GetFileName(c.Dir)).ToArray());
    }

    static List<string> Pictures(string dir) =>
        [.. Directory.GetFiles(dir)
            .Where(f => Extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .Order(StringComparer.Ordinal)];

    /// <summary>One picture as [C, H, W] floats in [-1, 1], cropped and resized when <paramref name="size"/> is given.</summary>
    static (float[] Pixels, int Width, int Height) Decode(string path, int? size, int channels)
    {
        ImageResult image;
        try
        {
            using var stream = File.OpenRead(path);
            image = ImageResult.FromStream(stream, channels == 1 ? ColorComponents.Grey : ColorComponents.RedGreenBlue);
        }
        catch (Exception e)
        {
            throw new DataException($"Image {path} cannot be decoded as PNG, JPEG or BMP: {e.Message}", e);
        }
        if (image is null || image.Data is null || image.Width <= 0 || image.Height <= 0)
            throw new DataException($"Image {path} cannot be decoded as PNG, JPEG or BMP");

        int w = image.Width, h = image.Height;
        if (size is null) return (ToPlanes(image.Data, channels, h, w, 0, 0, h, w), w, h);

        int side = Math.Min(w, h), top = (h - side) / 2, left = (w - side) / 2;
        var square = ToPlanes(image.Data, channels, h, w, top, left, side, side);
        if (side == size) return (square, side, side);
        var resized = new float[channels * size.Value * size.Value];
        Transforms.ResizeImage(square, channels, side, side, resized, size.Value, size.Value);
        return (resized, size.Value, size.Value);
    }

    /// <summary>Interleaved bytes [H, W, C] to planes [C, cropH, cropW] in [-1, 1], from the crop's top-left corner.</summary>
    static float[] ToPlanes(byte[] hwc, int channels, int h, int w, int top, int left, int cropH, int cropW)
    {
        var planes = new float[channels * cropH * cropW];
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < cropH; y++)
                for (int x = 0; x < cropW; x++)
                    planes[(c * cropH + y) * cropW + x] = hwc[((top + y) * w + left + x) * channels + c] / 127.5f - 1f;
        return planes;
    }
}
