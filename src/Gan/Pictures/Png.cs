using StbImageWriteSharp;

namespace NativeGan.Gan.Pictures;

/// <summary>
/// PNG output through StbImageWriteSharp (a managed port of stb_image_write: no native code).
/// Files are written atomically: the bytes go to a temporary file beside the target, which is then moved
/// over it, so a crash or a reader never sees half a picture.
/// </summary>
public static class Png
{
    /// <summary>Encodes 8-bit pixels, row-major, <paramref name="channels"/> bytes per pixel (1 grey, 3 RGB, 4 RGBA).</summary>
    public static byte[] Encode(byte[] pixels, int width, int height, int channels)
    {
        if (width <= 0 || height <= 0)
            throw new ArgumentException($"Png.Encode: size {width}x{height} is empty");
        if (pixels.Length != width * height * channels)
            throw new ArgumentException($"Png.Encode: {pixels.Length} bytes for {width}x{height}x{channels}");
        var components = channels switch
        {
            1 => ColorComponents.Grey,
            2 => ColorComponents.GreyAlpha,
            3 => ColorComponents.RedGreenBlue,
            4 => ColorComponents.RedGreenBlueAlpha,
            _ => throw new ArgumentException($"Png.Encode: {channels} channels (1, 2, 3 or 4 allowed)"),
        };
        using var stream = new MemoryStream();
        new ImageWriter().WritePng(pixels, width, height, components, stream);
        return stream.ToArray();
    }

    /// <summary>Encodes and writes <paramref name="path"/> atomically (creating its folder when missing).</summary>
    public static void Save(string path, byte[] pixels, int width, int height, int channels) =>
        WriteAtomic(path, Encode(pixels, width, height, channels));

    /// <summary>Writes <paramref name="bytes"/> to a temporary file in the target's folder, then moves it over <paramref name="path"/>.</summary>
    public static void WriteAtomic(string path, byte[] bytes)
    {
        string full = Path.GetFullPath(path);
        string folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        // Same folder, so the move is a rename on one file system (atomic on Linux and NTFS).
        string temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, bytes);
            File.Move(temp, full, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }
}
