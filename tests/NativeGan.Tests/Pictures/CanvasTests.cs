using NativeGan.Gan.Pictures;
using StbImageSharp;

namespace NativeGan.Tests.Pictures;

public class CanvasTests
{
    // Every pixel that is not the background lies in the box [x0, x1) x [y0, y1), and there is at least one.
    static void AssertInkOnlyInside(Canvas canvas, int x0, int y0, int x1, int y1, Rgb background)
    {
        int inside = 0;
        for (int y = 0; y < canvas.Height; y++)
            for (int x = 0; x < canvas.Width; x++)
                if (canvas.GetPixel(x, y) != background)
                {
                    Assert.True(x >= x0 && x < x1 && y >= y0 && y < y1, $"ink at ({x}, {y}) outside [{x0}, {x1}) x [{y0}, {y1})");
                    inside++;
                }
        Assert.True(inside > 0, "no ink at all");
    }

    [Fact]
    public void TextDrawsInsideItsMeasuredBox()
    {
        var canvas = new Canvas(80, 40);
        canvas.DrawText("Hi 1.5e-3", 10, 5, Rgb.Black);
        var (w, h) = BitmapFont.Measure("Hi 1.5e-3");
        Assert.Equal((9 * 6 - 1, 8), (w, h));
        AssertInkOnlyInside(canvas, 10, 5, 10 + w, 5 + h, Rgb.White);
        // 'H' has a full left column in rows 0..6.
        for (int row = 0; row < 7; row++) Assert.Equal(Rgb.Black, canvas.GetPixel(10, 5 + row));
    }

    [Fact]
    public void ScaledAndTurnedTextStayInTheirBoxes()
    {
        var canvas = new Canvas(80, 40);
        canvas.DrawText("Loss", 3, 4, Rgb.Black, scale: 2);
        var (w, h) = BitmapFont.Measure("Loss", 2);
        Assert.Equal((2 * 23, 16), (w, h));
        AssertInkOnlyInside(canvas, 3, 4, 3 + w, 4 + h, Rgb.White);

        var turned = new Canvas(40, 60);
        turned.DrawTextUp("step", 5, 7, Rgb.Black);
        var (length, thickness) = BitmapFont.Measure("step");
        AssertInkOnlyInside(turned, 5, 7, 5 + thickness, 7 + length, Rgb.White);
        // Read bottom to top: the 's' starts at the bottom, its top row (row 2 of the glyph, ".###.") at x = 5 + 2.
        Assert.Equal(Rgb.Black, turned.GetPixel(5 + 2, 7 + length - 1 - 1));
        Assert.Equal(Rgb.White, turned.GetPixel(5 + 2, 7 + length - 1 - 0));
    }

    [Fact]
    public void FontCoversPrintableAsciiAndFallsBackToQuestionMark()
    {
        // '-' is a full middle row, '_' a full bottom row of the body.
        for (int column = 0; column < 5; column++)
        {
            Assert.True(BitmapFont.Ink('-', column, 3));
            Assert.True(BitmapFont.Ink('_', column, 6));
            Assert.False(BitmapFont.Ink(' ', column, 3));
        }
        for (char c = ' '; c <= '~'; c++) _ = BitmapFont.Ink(c, 0, 0); // every glyph decodes
        for (int row = 0; row < 8; row++)
            for (int column = 0; column < 5; column++)
                Assert.Equal(BitmapFont.Ink('?', column, row), BitmapFont.Ink('\u00e9', column, row));
        Assert.False(BitmapFont.Ink('A', 5, 0)); // outside the glyph
    }

    [Fact]
    public void OnePixelLineThroughPixelCentresIsCrisp()
    {
        var canvas = new Canvas(30, 12);
        canvas.DrawLine(2.5, 5.5, 20.5, 5.5, Rgb.Black);
        canvas.DrawLine(25.5, 1.5, 25.5, 10.5, Rgb.Black);
        for (int x = 2; x <= 20; x++)
        {
            Assert.Equal(Rgb.Black, canvas.GetPixel(x, 5));
            Assert.Equal(Rgb.White, canvas.GetPixel(x, 4));
            Assert.Equal(Rgb.White, canvas.GetPixel(x, 6));
        }
        for (int y = 1; y <= 10; y++)
        {
            Assert.Equal(Rgb.Black, canvas.GetPixel(25, y));
            Assert.Equal(Rgb.White, canvas.GetPixel(24, y));
        }
    }

    [Fact]
    public void DiagonalLineIsAntiAliasedAndNearTheSegment()
    {
        var canvas = new Canvas(40, 40);
        canvas.DrawLine(5, 5, 35, 30, Rgb.Black, width: 2);
        bool sawPartial = false;
        for (int y = 0; y < 40; y++)
            for (int x = 0; x < 40; x++)
            {
                byte v = canvas.GetPixel(x, y).R;
                if (v == 255) continue;
                sawPartial |= v > 0;
                // Distance from the pixel centre to the segment is at most half the width plus one pixel of fade.
                double t = Math.Clamp(((x + 0.5 - 5) * 30 + (y + 0.5 - 5) * 25) / (30.0 * 30 + 25 * 25), 0, 1);
                double dx = x + 0.5 - (5 + 30 * t), dy = y + 0.5 - (5 + 25 * t);
                Assert.True(Math.Sqrt(dx * dx + dy * dy) < 2.0, $"ink at ({x}, {y}) far from the line");
            }
        Assert.True(sawPartial, "no anti-aliased edge pixels");
        Assert.Equal(Rgb.Black, canvas.GetPixel(20, 17)); // (20.5, 17.5) is 0.32 px from the line: inside the stroke
    }

    [Fact]
    public void CircleCoversItsCentreAndBlendsOverTheBackground()
    {
        var canvas = new Canvas(30, 30);
        var red = new Rgb(200, 0, 0);
        canvas.FillCircle(10.5, 10.5, 3, red);
        Assert.Equal(red, canvas.GetPixel(10, 10));
        Assert.Equal(red, canvas.GetPixel(12, 10));
        Assert.Equal(Rgb.White, canvas.GetPixel(16, 10));
        Assert.Equal(Rgb.White, canvas.GetPixel(13, 13)); // centre 4.24 away: past radius + 1/2
        Assert.Equal(new Rgb(228, 128, 128), canvas.GetPixel(13, 10)); // centre 3 away: half covered

        canvas.FillCircle(20.5, 20.5, 3, Rgb.Black, alpha: 0.5f);
        Assert.Equal(new Rgb(128, 128, 128), canvas.GetPixel(20, 20));
        Assert.Equal(new Rgb(128, 128, 128), Rgb.Black.Over(Rgb.White, 0.5f));
    }

    [Fact]
    public void SavedPngReadsBackExactlyAndLeavesNoTemporaryFile()
    {
        var canvas = new Canvas(17, 9, new Rgb(10, 20, 30));
        canvas.FillRect(3, 2, 5, 4, new Rgb(250, 100, 0));
        canvas.SetPixel(16, 8, new Rgb(1, 2, 3));
        using var folder = new TempFolder();
        canvas.SavePng(folder.File("c.png"));
        canvas.SavePng(folder.File("c.png")); // overwrite

        Assert.Equal(new[] { "c.png" }, Directory.GetFiles(folder.Path).Select(Path.GetFileName));
        var png = ImageResult.FromMemory(File.ReadAllBytes(folder.File("c.png")), ColorComponents.RedGreenBlue);
        Assert.Equal((17, 9), (png.Width, png.Height));
        Assert.Equal(canvas.Pixels, png.Data);
    }
}
