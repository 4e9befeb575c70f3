using NativeGan.Gan.Pictures;

namespace NativeGan.Gan.StackGan;

/// <summary>
/// StackGAN's pictures: rows of (stage I, stage II) pairs with a caption on the left of each row, stage I's low-resolution
/// image enlarged with nearest neighbours to stage II's side so the two compare pixel for pixel.
/// </summary>
public static class StackGanPictures
{
    const int Gap = 4, PairGap = 1, Margin = 6;

    /// <summary>Characters of a caption the picture keeps (a longer one ends in "...").</summary>
    public const int MaxCaptionChars = 44;

    /// <summary>
    /// Writes a PNG: the title, then one row per label with <paramref name="perRow"/> pairs (stage I enlarged | stage II),
    /// images k * perRow .. k * perRow + perRow - 1 of <paramref name="low"/> [n, 3, s, s] and <paramref name="high"/> [n, 3, S, S]
    /// in row k. Values in [-1, 1].
    /// </summary>
    public static void SaveCaptionRows(string path, string title, IReadOnlyList<string> labels, Tensor low, Tensor high, int perRow)
    {
        int n = labels.Count * perRow;
        if (low.Dim(0) != n || high.Dim(0) != n)
            throw new TensorShapeException($"StackGanPictures: {labels.Count} rows of {perRow} need {n} images, got {low.Dim(0)} and {high.Dim(0)}");
        int s = low.Dim(2), side = high.Dim(2), factor = Math.Max(1, side / s);
        var lowPixels = low.ToArray();
        var highPixels = high.ToArray();
        var shown = labels.Select(l => l.Length <= MaxCaptionChars ? l : l[..(MaxCaptionChars - 3)] + "...").ToList();
        int labelWidth = shown.Max(l => BitmapFont.Measure(l).Width) + Margin * 2;
        int cellWidth = side * 2 + PairGap;
        int titleHeight = BitmapFont.CellHeight + Margin * 2;
        int width = Math.Max(labelWidth + perRow * (cellWidth + Gap) + Margin, BitmapFont.Measure(title).Width + Margin * 2);
        int height = titleHeight + labels.Count * (side + Gap) + Margin;
        var canvas = new Canvas(width, height, Rgb.White);
        canvas.DrawText(title, Margin, Margin, Rgb.Black);
        for (int row = 0; row < labels.Count; row++)
        {
            int y = titleHeight + row * (side + Gap);
            canvas.DrawText(shown[row], Margin, y + (side - BitmapFont.GlyphHeight) / 2, Rgb.Black);
            for (int k = 0; k < perRow; k++)
            {
                int i = row * perRow + k, x = labelWidth + k * (cellWidth + Gap);
                Paint(canvas, lowPixels, i, s, factor, x, y);
                Paint(canvas, highPixels, i, side, 1, x + side + PairGap, y);
            }
        }
        canvas.SavePng(path);
    }

    /// <summary>Image <paramref name="i"/> of [n, 3, s, s] values, each pixel a <paramref name="factor"/>-square block, at (x0, y0).</summary>
    static void Paint(Canvas canvas, float[] pixels, int i, int s, int factor, int x0, int y0)
    {
        int plane = s * s, offset = i * 3 * plane;
        for (int y = 0; y < s * factor; y++)
            for (int x = 0; x < s * factor; x++)
            {
                int at = offset + y / factor * s + x / factor;
                canvas.SetPixel(x0 + x, y0 + y, new Rgb(ImageGrid.ToByte(pixels[at], -1f, 1f), ImageGrid.ToByte(pixels[at + plane], -1f, 1f), ImageGrid.ToByte(pixels[at + 2 * plane], -1f, 1f)));
            }
    }
}
