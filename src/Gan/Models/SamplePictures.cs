using StbImageWriteSharp;

namespace NativeGan.Gan.Models;

/// <summary>
/// The progress pictures of the GAN jobs: a scatter of real (grey) vs generated (red) 2D points, and image grids.
/// A minimal local renderer until the shared <c>NativeGan.Gan.Pictures</c> lands.
/// </summary>
internal static class SamplePictures
{
    const int Size = 512;

    /// <summary>Real points grey, generated red, on a square view fitted to the real points (with margin).</summary>
    public static void Scatter(string path, float[] real, float[] fake)
    {
        var all = real.Length > 0 ? real : fake;
        float lo = float.MaxValue, hi = float.MinValue;
        foreach (var v in all) if (float.IsFinite(v)) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
        if (!(hi > lo)) { lo = -1; hi = 1; }
        float margin = 0.1f * (hi - lo);
        lo -= margin; hi += margin;
        var pixels = new byte[Size * Size * 3];
        Array.Fill(pixels, (byte)255);
        void Plot(float[] pts, byte r, byte g, byte b)
        {
            for (int i = 0; i + 1 < pts.Length; i += 2)
            {
                if (!float.IsFinite(pts[i]) || !float.IsFinite(pts[i + 1])) continue;
                int px = (int)((pts[i] - lo) / (hi - lo) * (Size - 1));
                int py = Size - 1 - (int)((pts[i + 1] - lo) / (hi - lo) * (Size - 1));
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int x = px + dx, y = py + dy;
                        if (x < 0 || y < 0 || x >= Size || y >= Size) continue;
                        int o = (y * Size + x) * 3;
                        (pixels[o], pixels[o + 1], pixels[o + 2]) = (r, g, b);
                    }
            }
        }
        Plot(real, 150, 150, 150);
        Plot(fake, 220, 30, 30);
        Write(path, pixels, Size, Size);
    }

    /// <summary>Rows of images [n, C, H, W] in [-1, 1] (each tensor wrapped over <paramref name="columns"/>), 2-pixel gaps.</summary>
    public static void Grid(string path, IReadOnlyList<Tensor> rows, int columns)
    {
        var shape = rows[0].Shape;
        int c = shape[1], h = shape[2], w = shape[3], pad = 2;
        int gridRows = rows.Sum(r => (r.Dim(0) + columns - 1) / columns);
        int width = columns * (w + pad) + pad, height = gridRows * (h + pad) + pad;
        var pixels = new byte[width * height * 3];
        int row = 0;
        foreach (var r in rows)
        {
            var data = r.ToArray();
            for (int i = 0; i < r.Dim(0); i++)
            {
                int gx = i % columns, gy = row + i / columns;
                for (int y = 0; y < h; y++)
                    for (int x = 0; x < w; x++)
                        for (int ch = 0; ch < 3; ch++)
                        {
                            float v = data[((i * c) + (c == 3 ? ch : 0)) * h * w + y * w + x];
                            byte b = (byte)Math.Clamp(MathF.Round((v + 1f) * 0.5f * 255f), 0, 255);
                            pixels[((pad + gy * (h + pad) + y) * width + pad + gx * (w + pad) + x) * 3 + ch] = b;
                        }
            }
            row += (r.Dim(0) + columns - 1) / columns;
        }
        Write(path, pixels, width, height);
    }

    static void Write(string path, byte[] rgb, int width, int height)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } dir) Directory.CreateDirectory(dir);
        using var stream = File.Create(path);
        new ImageWriter().WritePng(rgb, width, height, ColorComponents.RedGreenBlue, stream);
    }
}
