using StbImageWriteSharp;

namespace NativeGan.Gan.Autoencoders;

// Temporary: writes picture rows until the pictures branch (NativeGan.Gan.Pictures.ImageGrid) is merged.
internal static class Grid
{
    /// <summary>Batches [n, C, H, W] in [-1, 1], batch i's images on grid row i (n per row).</summary>
    public static void SaveRows(string path, IReadOnlyList<Tensor> rows, int columns)
    {
        var images = rows.Select(r => r.ToArray()).ToArray();
        int c = rows[0].Dim(1), h = rows[0].Dim(2), w = rows[0].Dim(3), pad = 2;
        int gridRows = 0;
        foreach (var r in rows) gridRows = Math.Max(gridRows, (r.Dim(0) + columns - 1) / columns);
        int width = columns * (w + pad) + pad, height = rows.Count * gridRows * (h + pad) + pad;
        var pixels = new byte[width * height * 3];
        Array.Fill(pixels, (byte)128);
        for (int gr = 0; gr < gridRows; gr++)
            for (int b = 0; b < rows.Count; b++)
                for (int col = 0; col < columns; col++)
                {
                    int index = gr * columns + col;
                    if (index >= rows[b].Dim(0)) continue;
                    int top = pad + (gr * rows.Count + b) * (h + pad), left = pad + col * (w + pad);
                    for (int y = 0; y < h; y++)
                        for (int x = 0; x < w; x++)
                            for (int ch = 0; ch < 3; ch++)
                            {
                                float v = images[b][((index * c + (c == 3 ? ch : 0)) * h + y) * w + x];
                                pixels[((top + y) * width + left + x) * 3 + ch] = (byte)Math.Clamp((int)MathF.Round((v + 1f) * 127.5f), 0, 255);
                            }
                }
        using var stream = File.Create(path);
        new ImageWriter().WritePng(pixels, width, height, ColorComponents.RedGreenBlue, stream);
    }

    public static void Save(string path, Tensor images, int columns)
    {
        int n = images.Dim(0);
        var rows = new List<Tensor>();
        for (int i = 0; i < n; i += columns) rows.Add(images.SliceBatch(i, Math.Min(columns, n - i)));
        try { SaveRows(path, rows, columns); }
        finally { foreach (var r in rows) r.Dispose(); }
    }
}
