namespace NativeGan.Gan.Pictures;

/// <summary>
/// A small RGB raster to draw plots on: rectangles, anti-aliased lines and dots, and text in the built-in
/// <see cref="BitmapFont"/>. Pixel (x, y) covers the square [x, x+1) x [y, y+1), y growing downwards, so a
/// shape drawn at a pixel's centre (x + 0.5, y + 0.5) is crisp. Everything outside the canvas is clipped.
/// </summary>
public sealed class Canvas
{
    public Canvas(int width, int height, Rgb? background = null)
    {
        if (width <= 0 || height <= 0 || (long)width * height > 100_000_000)
            throw new ArgumentException($"Canvas: size {width}x{height} is empty or too large");
        Width = width;
        Height = height;
        Pixels = new byte[width * height * 3];
        Clear(background ?? Rgb.White);
    }

    public int Width { get; }

    public int Height { get; }

    /// <summary>The pixels, row after row, 3 bytes (R, G, B) each.</summary>
    public byte[] Pixels { get; }

    public bool Contains(int x, int y) => (uint)x < (uint)Width && (uint)y < (uint)Height;

    public Rgb GetPixel(int x, int y)
    {
        if (!Contains(x, y)) throw new ArgumentOutOfRangeException(nameof(x), $"Canvas.GetPixel: ({x}, {y}) is outside {Width}x{Height}");
        int i = (y * Width + x) * 3;
        return new Rgb(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    /// <summary>Sets one pixel; ignored outside the canvas.</summary>
    public void SetPixel(int x, int y, Rgb colour)
    {
        if (!Contains(x, y)) return;
        int i = (y * Width + x) * 3;
        Pixels[i] = colour.R;
        Pixels[i + 1] = colour.G;
        Pixels[i + 2] = colour.B;
    }

    /// <summary>Paints <paramref name="colour"/> over one pixel with opacity <paramref name="alpha"/> in [0, 1].</summary>
    public void Blend(int x, int y, Rgb colour, float alpha)
    {
        if (!Contains(x, y) || !(alpha > 0f)) return;
        SetPixel(x, y, colour.Over(GetPixel(x, y), alpha));
    }

    public void Clear(Rgb colour) => FillRect(0, 0, Width, Height, colour);

    /// <summary>Fills the pixels [x, x+width) x [y, y+height), clipped.</summary>
    public void FillRect(int x, int y, int width, int height, Rgb colour)
    {
        int x0 = Math.Max(x, 0), y0 = Math.Max(y, 0);
        int x1 = Math.Min(x + width, Width), y1 = Math.Min(y + height, Height);
        for (int py = y0; py < y1; py++)
            for (int px = x0; px < x1; px++)
                SetPixel(px, py, colour);
    }

    /// <summary>A one-pixel outline of the rectangle [x, x+width) x [y, y+height).</summary>
    public void DrawRect(int x, int y, int width, int height, Rgb colour)
    {
        FillRect(x, y, width, 1, colour);
        FillRect(x, y + height - 1, width, 1, colour);
        FillRect(x, y, 1, height, colour);
        FillRect(x + width - 1, y, 1, height, colour);
    }

    /// <summary>
    /// An anti-aliased line of the given width from (x0, y0) to (x1, y1) with round ends. Each pixel near the
    /// segment is painted with coverage clamp(width/2 + 1/2 - d, 0, 1), d being the distance from the pixel's
    /// centre to the segment: 1 inside the stroke, fading to 0 over one pixel at its edge. A horizontal or
    /// vertical 1-pixel line through pixel centres is therefore exactly one pixel wide, with no blur.
    /// </summary>
    public void DrawLine(double x0, double y0, double x1, double y1, Rgb colour, double width = 1.0, float alpha = 1f)
    {
        if (!double.IsFinite(x0) || !double.IsFinite(y0) || !double.IsFinite(x1) || !double.IsFinite(y1)) return;
        double half = width / 2;
        double reach = half + 0.5;
        int left = Math.Max(0, (int)Math.Floor(Math.Min(x0, x1) - reach));
        int right = Math.Min(Width - 1, (int)Math.Ceiling(Math.Max(x0, x1) + reach));
        int top = Math.Max(0, (int)Math.Floor(Math.Min(y0, y1) - reach));
        int bottom = Math.Min(Height - 1, (int)Math.Ceiling(Math.Max(y0, y1) + reach));
        double dx = x1 - x0, dy = y1 - y0, lengthSquared = dx * dx + dy * dy;
        for (int py = top; py <= bottom; py++)
        {
            for (int px = left; px <= right; px++)
            {
                double cx = px + 0.5, cy = py + 0.5;
                // The nearest point of the segment: the projection onto the line, clamped to the ends.
                double t = lengthSquared > 0 ? Math.Clamp(((cx - x0) * dx + (cy - y0) * dy) / lengthSquared, 0, 1) : 0;
                double ex = cx - (x0 + t * dx), ey = cy - (y0 + t * dy);
                double coverage = Math.Clamp(reach - Math.Sqrt(ex * ex + ey * ey), 0, 1);
                if (coverage > 0) Blend(px, py, colour, (float)coverage * alpha);
            }
        }
    }

    /// <summary>A connected line through the points; a non-finite point breaks it, and a point with no
    /// finite neighbour is drawn as a dot so it stays visible.</summary>
    public void DrawPolyline(ReadOnlySpan<double> xs, ReadOnlySpan<double> ys, Rgb colour, double width = 1.0, float alpha = 1f)
    {
        if (xs.Length != ys.Length) throw new ArgumentException($"Canvas.DrawPolyline: {xs.Length} x values and {ys.Length} y values");
        for (int i = 0; i < xs.Length; i++)
        {
            bool here = double.IsFinite(xs[i]) && double.IsFinite(ys[i]);
            if (!here) continue;
            bool next = i + 1 < xs.Length && double.IsFinite(xs[i + 1]) && double.IsFinite(ys[i + 1]);
            bool previous = i > 0 && double.IsFinite(xs[i - 1]) && double.IsFinite(ys[i - 1]);
            if (next) DrawLine(xs[i], ys[i], xs[i + 1], ys[i + 1], colour, width, alpha);
            else if (!previous) FillCircle(xs[i], ys[i], Math.Max(width, 1.5), colour, alpha);
        }
    }

    /// <summary>An anti-aliased disc of the given radius centred at (cx, cy) (coverage as in <see cref="DrawLine"/>).</summary>
    public void FillCircle(double cx, double cy, double radius, Rgb colour, float alpha = 1f)
    {
        if (!double.IsFinite(cx) || !double.IsFinite(cy)) return;
        double reach = radius + 0.5;
        int left = Math.Max(0, (int)Math.Floor(cx - reach)), right = Math.Min(Width - 1, (int)Math.Ceiling(cx + reach));
        int top = Math.Max(0, (int)Math.Floor(cy - reach)), bottom = Math.Min(Height - 1, (int)Math.Ceiling(cy + reach));
        for (int py = top; py <= bottom; py++)
        {
            for (int px = left; px <= right; px++)
            {
                double ex = px + 0.5 - cx, ey = py + 0.5 - cy;
                double coverage = Math.Clamp(reach - Math.Sqrt(ex * ex + ey * ey), 0, 1);
                if (coverage > 0) Blend(px, py, colour, (float)coverage * alpha);
            }
        }
    }

    /// <summary>Text in the built-in font, its top-left corner at (x, y); each font pixel becomes a
    /// <paramref name="scale"/> x <paramref name="scale"/> block (2 for titles).</summary>
    public void DrawText(string text, int x, int y, Rgb colour, int scale = 1)
    {
        for (int k = 0; k < text.Length; k++)
            for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                for (int column = 0; column < BitmapFont.GlyphWidth; column++)
                    if (BitmapFont.Ink(text[k], column, row))
                        FillRect(x + (k * BitmapFont.CellWidth + column) * scale, y + row * scale, scale, scale, colour);
    }

    /// <summary>
    /// Text turned 90 degrees counter-clockwise (read from bottom to top, as on a y axis), the top-left corner
    /// of its box at (x, y); the box is <see cref="BitmapFont.Measure"/>'s height wide and its width high.
    /// </summary>
    public void DrawTextUp(string text, int x, int y, Rgb colour, int scale = 1)
    {
        int length = BitmapFont.Measure(text).Width; // along the text, at scale 1
        for (int k = 0; k < text.Length; k++)
            for (int row = 0; row < BitmapFont.GlyphHeight; row++)
                for (int column = 0; column < BitmapFont.GlyphWidth; column++)
                    if (BitmapFont.Ink(text[k], column, row))
                    {
                        int along = k * BitmapFont.CellWidth + column; // 0 at the start of the text
                        FillRect(x + row * scale, y + (length - 1 - along) * scale, scale, scale, colour);
                    }
    }

    /// <summary>The canvas as PNG bytes.</summary>
    public byte[] EncodePng() => Png.Encode(Pixels, Width, Height, 3);

    /// <summary>Writes the canvas as a PNG, atomically (see <see cref="Png.WriteAtomic"/>).</summary>
    public void SavePng(string path) => Png.WriteAtomic(path, EncodePng());
}
