namespace NativeGan.Gan.Pictures;

/// <summary>8-bit pixels, row-major, <see cref="Channels"/> bytes per pixel (1 grey or 3 RGB).</summary>
public sealed record PixelImage(int Width, int Height, int Channels, byte[] Data)
{
    /// <summary>Sample <paramref name="channel"/> of pixel (x, y).</summary>
    public byte this[int x, int y, int channel = 0] => Data[(y * Width + x) * Channels + channel];

    public byte[] EncodePng() => Png.Encode(Data, Width, Height, Channels);

    /// <summary>Writes a PNG (grey for 1 channel, RGB for 3), atomically.</summary>
    public void SavePng(string path) => Png.WriteAtomic(path, EncodePng());
}

/// <summary>
/// A batch of images [N, C, H, W] as one picture: a grid, row-major (image k in grid row k / columns, column
/// k % columns), with <c>padding</c> pixels of <c>paddingValue</c> around and between the images, like
/// torchvision's <c>make_grid</c>. Values map linearly from [low, high] to 0..255 and are clamped, so a
/// Tanh generator's [-1, 1] is the default; NaN draws as 0. A grid is columns * (W*scale + padding) + padding
/// pixels wide and rows * (H*scale + padding) + padding high, rows = ceil(N / columns); cells past the last
/// image show the padding value. Used for real and generated samples, reconstructions and manifolds
/// (a manifold is a grid of decodings of a grid of latent points).
/// </summary>
public static class ImageGrid
{
    /// <summary>Writes the grid of <paramref name="images"/> [N, C, H, W] (C = 1 or 3, on any device) as a PNG.</summary>
    /// <param name="path">The PNG file to write (replaced atomically).</param>
    /// <param name="images">The images, [N, C, H, W].</param>
    /// <param name="columns">Images per row.</param>
    /// <param name="padding">Pixels between and around the images.</param>
    /// <param name="low">The value shown as black.</param>
    /// <param name="high">The value shown as white.</param>
    /// <param name="scale">Each image pixel becomes a scale x scale block (nearest upsampling; for tiny images).</param>
    /// <param name="paddingValue">The gray level of the padding.</param>
    public static void Save(string path, Tensor images, int columns = 8, int padding = 2, float low = -1f, float high = 1f,
        int scale = 1, byte paddingValue = 128) =>
        ToPixels(images, columns, padding, low, high, scale, paddingValue).SavePng(path);

    /// <summary>Writes the grid of <paramref name="n"/> images of shape [c, h, w] stored one after the other in <paramref name="data"/>.</summary>
    public static void Save(string path, float[] data, int n, int c, int h, int w, int columns = 8, int padding = 2,
        float low = -1f, float high = 1f, int scale = 1, byte paddingValue = 128) =>
        ToPixels(data, n, c, h, w, columns, padding, low, high, scale, paddingValue).SavePng(path);

    /// <summary>
    /// The upsampling every picture of images uses (GAN samples, reconstructions, manifolds): 2 for images up to 32
    /// pixels high (MNIST, CIFAR-10), so a digit is not a smudge; 1 for larger ones.
    /// </summary>
    public static int ScaleFor(int imageHeight) => imageHeight <= 32 ? 2 : 1;

    /// <summary>
    /// Several batches of the same shape [N, C, H, W] interleaved row by row: each grid row holds
    /// <paramref name="columns"/> images of the first batch, then the same images of the second batch below them,
    /// and so on (inputs over their reconstructions; noisy over restored over clean). With <paramref name="labels"/>
    /// (one per batch) each grid row is named in a margin on the left, in the built-in <see cref="BitmapFont"/>.
    /// </summary>
    public static void SaveRows(string path, IReadOnlyList<Tensor> rows, int columns = 8, int padding = 2,
        float low = -1f, float high = 1f, int scale = 1, byte paddingValue = 128, IReadOnlyList<string>? labels = null) =>
        RowsToPixels(rows, columns, padding, low, high, scale, paddingValue, labels).SavePng(path);

    /// <summary>The grid of a tensor [N, C, H, W] (read back to the host with <see cref="Tensor.ToArray"/>).</summary>
    public static PixelImage ToPixels(Tensor images, int columns = 8, int padding = 2, float low = -1f, float high = 1f,
        int scale = 1, byte paddingValue = 128)
    {
        var (n, c, h, w) = ImageShape("ImageGrid", images);
        return ToPixels(images.ToArray(), n, c, h, w, columns, padding, low, high, scale, paddingValue);
    }

    /// <summary>The grid of <paramref name="n"/> images [c, h, w] stored one after the other in <paramref name="data"/>.</summary>
    public static PixelImage ToPixels(float[] data, int n, int c, int h, int w, int columns = 8, int padding = 2,
        float low = -1f, float high = 1f, int scale = 1, byte paddingValue = 128)
    {
        CheckArguments("ImageGrid", data, n, c, h, w, columns, padding, low, high, scale);
        int used = Math.Min(columns, n);
        int gridRows = (n + used - 1) / used;
        var cells = new int[gridRows * used];
        for (int k = 0; k < cells.Length; k++) cells[k] = k < n ? k : -1;
        return Compose(data, c, h, w, cells, gridRows, used, padding, low, high, scale, paddingValue);
    }

    /// <summary>The picture <see cref="SaveRows"/> writes.</summary>
    public static PixelImage RowsToPixels(IReadOnlyList<Tensor> rows, int columns = 8, int padding = 2,
        float low = -1f, float high = 1f, int scale = 1, byte paddingValue = 128, IReadOnlyList<string>? labels = null)
    {
        if (rows.Count == 0) throw new ArgumentException("ImageGrid.SaveRows: no batches");
        if (labels is not null && labels.Count != rows.Count)
            throw new ArgumentException($"ImageGrid.SaveRows: {labels.Count} labels for {rows.Count} batches");
        var (n, c, h, w) = ImageShape("ImageGrid.SaveRows", rows[0]);
        foreach (var batch in rows)
            if (!batch.Shape.SequenceEqual(rows[0].Shape))
                throw new TensorShapeException($"ImageGrid.SaveRows: batches differ in shape, {Shapes.Format(rows[0].Shape)} and {Shapes.Format(batch.Shape)}");

        // All batches one after the other, then a cell layout that takes a row of each batch in turn.
        int size = n * c * h * w;
        var data = new float[rows.Count * size];
        for (int b = 0; b < rows.Count; b++) rows[b].ToArray().CopyTo(data, b * size);
        CheckArguments("ImageGrid.SaveRows", data, rows.Count * n, c, h, w, columns, padding, low, high, scale);

        int used = Math.Min(columns, n);
        int chunks = (n + used - 1) / used;
        int gridRows = chunks * rows.Count;
        var cells = new int[gridRows * used];
        for (int chunk = 0; chunk < chunks; chunk++)
            for (int b = 0; b < rows.Count; b++)
                for (int col = 0; col < used; col++)
                {
                    int k = chunk * used + col; // image index within its batch
                    cells[((chunk * rows.Count) + b) * used + col] = k < n ? b * n + k : -1;
                }
        var grid = Compose(data, c, h, w, cells, gridRows, used, padding, low, high, scale, paddingValue);
        return labels is null ? grid
            : WithRowLabels(grid, [.. Enumerable.Range(0, gridRows).Select(r => labels[r % rows.Count])], h * scale, padding, paddingValue);
    }

    /// <summary>
    /// <paramref name="grid"/> with a margin on the left naming each grid row (rows of <paramref name="cellHeight"/>
    /// pixels and <paramref name="padding"/> between them): the text, at twice the font's size for cells of 48 pixels
    /// or more, centred on its row, black on a light margin and white on a dark one.
    /// </summary>
    static PixelImage WithRowLabels(PixelImage grid, string[] names, int cellHeight, int padding, byte background)
    {
        int textScale = cellHeight >= 48 ? 2 : 1, gap = 3 * textScale;
        int textWidth = names.Max(t => BitmapFont.Measure(t, textScale).Width);
        int margin = textWidth + 2 * gap, width = margin + grid.Width, c = grid.Channels;
        byte ink = background >= 128 ? (byte)0 : (byte)255;
        var pixels = new byte[width * grid.Height * c];
        Array.Fill(pixels, background);
        for (int y = 0; y < grid.Height; y++)
            Array.Copy(grid.Data, y * grid.Width * c, pixels, (y * width + margin) * c, grid.Width * c);
        for (int r = 0; r < names.Length; r++)
        {
            int top = padding + r * (cellHeight + padding) + (cellHeight - BitmapFont.GlyphHeight * textScale) / 2;
            for (int k = 0; k < names[r].Length; k++)
                for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                    for (int column = 0; column < BitmapFont.GlyphWidth; column++)
                        if (BitmapFont.Ink(names[r][k], column, row))
                            for (int dy = 0; dy < textScale; dy++)
                                for (int dx = 0; dx < textScale; dx++)
                                {
                                    int x = gap + (k * BitmapFont.CellWidth + column) * textScale + dx, y = top + row * textScale + dy;
                                    if (y < 0 || y >= grid.Height) continue; // a row lower than the text: cut, not spilled
                                    for (int ch = 0; ch < c; ch++) pixels[(y * width + x) * c + ch] = ink;
                                }
        }
        return new PixelImage(width, grid.Height, c, pixels);
    }

    /// <summary>Maps one value from [low, high] to 0..255: round((v - low) / (high - low) * 255), clamped; NaN gives 0.</summary>
    public static byte ToByte(float value, float low, float high)
    {
        float t = (value - low) / (high - low) * 255f;
        if (!(t > 0f)) return 0; // also NaN
        if (t >= 255f) return 255;
        return (byte)(t + 0.5f);
    }

    // Paints image cells[r * columns + col] (or nothing for -1) into grid cell (r, col).
    static PixelImage Compose(float[] data, int c, int h, int w, int[] cells, int gridRows, int columns, int padding,
        float low, float high, int scale, byte paddingValue)
    {
        int cellW = w * scale, cellH = h * scale;
        int width = columns * (cellW + padding) + padding;
        int height = gridRows * (cellH + padding) + padding;
        var pixels = new byte[width * height * c];
        Array.Fill(pixels, paddingValue);
        int plane = h * w;
        for (int cell = 0; cell < cells.Length; cell++)
        {
            int k = cells[cell];
            if (k < 0) continue;
            int left = padding + (cell % columns) * (cellW + padding);
            int top = padding + (cell / columns) * (cellH + padding);
            int image = k * c * plane;
            for (int y = 0; y < cellH; y++)
                for (int x = 0; x < cellW; x++)
                {
                    int source = image + (y / scale) * w + x / scale;
                    int target = ((top + y) * width + left + x) * c;
                    for (int ch = 0; ch < c; ch++) pixels[target + ch] = ToByte(data[source + ch * plane], low, high);
                }
        }
        return new PixelImage(width, height, c, pixels);
    }

    static (int N, int C, int H, int W) ImageShape(string op, Tensor images)
    {
        if (images.Rank != 4 || (images.Shape[1] != 1 && images.Shape[1] != 3))
            throw new TensorShapeException($"{op}: images must be [N, C, H, W] with C = 1 or 3, got {Shapes.Format(images.Shape)}");
        return (images.Shape[0], images.Shape[1], images.Shape[2], images.Shape[3]);
    }

    static void CheckArguments(string op, float[] data, int n, int c, int h, int w, int columns, int padding,
        float low, float high, int scale)
    {
        if (n <= 0 || h <= 0 || w <= 0 || (c != 1 && c != 3))
            throw new ArgumentException($"{op}: {n} images of [{c}, {h}, {w}]: need n, h, w > 0 and c = 1 or 3");
        if ((long)n * c * h * w != data.Length)
            throw new ArgumentException($"{op}: {data.Length} values do not hold {n} images of [{c}, {h}, {w}]");
        if (columns <= 0 || padding < 0 || scale <= 0)
            throw new ArgumentException($"{op}: columns {columns}, padding {padding}, scale {scale}: need columns > 0, padding >= 0, scale > 0");
        if (!(high > low))
            throw new ArgumentException($"{op}: range [{low}, {high}] is empty");
    }
}
