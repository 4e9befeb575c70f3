using NativeGan.Gan.Pictures;
using StbImageSharp;

namespace NativeGan.Tests.Pictures;

public class PlotTests
{
    // A pixel painted (at least a third) in a series colour of blue hue: blue clearly above red, unlike white,
    // black text and the grey grid lines.
    static bool IsBlueInk(Rgb p) => p.B - p.R > 50;

    static Rgb PixelAt(RenderedPlot plot, double x, double y) =>
        plot.Canvas.GetPixel((int)Math.Floor(plot.Area.PixelX(x)), (int)Math.Floor(plot.Area.PixelY(y)));

    [Fact]
    public void LineOfAKnownSeriesIsOnTheDiagonalAndNowhereElse()
    {
        double[] x = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        var plot = LinePlot.Render("y = x", "step", "loss", [new Series("identity", x, x)]);
        var area = plot.Area;
        Assert.Equal((0.0, 10.0, 0.0, 10.0), (area.XMin, area.XMax, area.YMin, area.YMax));

        for (double t = 0.5; t < 10; t += 0.5)
            Assert.True(IsBlueInk(PixelAt(plot, t, t)), $"no line at ({t}, {t})");
        Assert.Equal(Rgb.White, PixelAt(plot, 2.7, 7.3));
        Assert.Equal(Rgb.White, PixelAt(plot, 7.3, 2.7));

        // Inside the frame, blue ink only within the stroke (1.5 px) plus the fade of the line from (0,0) to (10,10).
        double ax = area.PixelX(0), ay = area.PixelY(0), bx = area.PixelX(10), by = area.PixelY(10);
        for (int py = area.Top + 1; py < area.Top + area.Height; py++)
            for (int px = area.Left + 1; px < area.Left + area.Width; px++)
            {
                if (!IsBlueInk(plot.Canvas.GetPixel(px, py))) continue;
                double dx = bx - ax, dy = by - ay;
                double t = Math.Clamp(((px + 0.5 - ax) * dx + (py + 0.5 - ay) * dy) / (dx * dx + dy * dy), 0, 1);
                double ex = px + 0.5 - (ax + t * dx), ey = py + 0.5 - (ay + t * dy);
                Assert.True(Math.Sqrt(ex * ex + ey * ey) < 1.25, $"blue at ({px}, {py}) off the diagonal");
            }

        // The saved file holds exactly the canvas.
        using var folder = new TempFolder();
        LinePlot.Save(folder.File("line.png"), "y = x", "step", "loss", [new Series("identity", x, x)]);
        var png = ImageResult.FromMemory(File.ReadAllBytes(folder.File("line.png")), ColorComponents.RedGreenBlue);
        Assert.Equal((900, 500), (png.Width, png.Height));
        Assert.Equal(plot.Canvas.Pixels, png.Data);
    }

    [Fact]
    public void NonFiniteValuesAreSkippedAndLeaveAGap()
    {
        double[] x = Enumerable.Range(0, 11).Select(i => (double)i).ToArray();
        double[] y = [double.NaN, 1, 2, 3, double.NaN, 5, double.NaN, 7, 8, double.PositiveInfinity, 10];
        var plot = LinePlot.Render("gaps", "x", "y",
            [new Series("holes", x, y), new Series("all NaN", [0, 1], [double.NaN, double.NaN]), new Series("empty", [], [])]);
        Assert.Equal((0.0, 10.0), (plot.Area.XMin, plot.Area.XMax));
        Assert.True(IsBlueInk(PixelAt(plot, 2.5, 2.5)));
        Assert.True(IsBlueInk(PixelAt(plot, 5, 5))); // the lone point between two NaNs is drawn as a dot
        Assert.Equal(Rgb.White, PixelAt(plot, 4.3, 4.3)); // no line through the NaNs at x = 4 and 6
        Assert.Equal(Rgb.White, PixelAt(plot, 6.3, 6.3));
        Assert.Equal(Rgb.White, PixelAt(plot, 9.3, 9.3)); // nor through the infinity at x = 9

        // Smoothed: the bold curve is the trailing mean of the usable values in a window of 3:
        // (5 + 7) / 2 = 6 at x = 7 and (7 + 8) / 2 = 7.5 at x = 8, so it passes (7.5, 6.75).
        var smoothed = LinePlot.Render("gaps", "x", "y", [new Series("holes", x, y)], smooth: 3);
        Assert.True(IsBlueInk(PixelAt(smoothed, 7.5, 6.75)));
        Assert.Equal(Rgb.White, PixelAt(smoothed, 7.5, 7.1)); // between the bold mean and the faint raw line
        Assert.Equal(Rgb.White, PixelAt(smoothed, 6.3, 6.3));

        // Nothing usable at all: empty axes, no exception.
        var empty = LinePlot.Render("nothing", "x", "y", [new Series("nan", [1, 2], [double.NaN, double.NaN])], logY: true);
        Assert.True(empty.Area.YMin > 0);
    }

    [Fact]
    public void LogAxisPlacesDecadesEvenlyAndSkipsNonPositiveValues()
    {
        double[] x = [0, 1, 2, 3, 4];
        double[] y = [1e-3, 1e-2, 0, 1e-1, 1];
        var plot = LinePlot.Render("gradient norm", "step", "norm", [new Series("critic", x, y)], logY: true);
        var area = plot.Area;
        double d1 = area.PixelY(1e-2) - area.PixelY(1e-1), d2 = area.PixelY(1e-1) - area.PixelY(1);
        Assert.Equal(d1, d2, 1e-9);
        Assert.True(double.IsNaN(area.PixelY(0)));
        Assert.True(IsBlueInk(PixelAt(plot, 3.5, Math.Sqrt(0.1 * 1))));
        Assert.Equal(Rgb.White, PixelAt(plot, 2.2, 0.03)); // around the skipped 0
    }

    [Fact]
    public void MovingAverageIgnoresGapsAndKeepsThem()
    {
        var average = LinePlot.MovingAverage([1, 2, 3, double.NaN, 5, 7], 2);
        Assert.Equal(new[] { 1, 1.5, 2.5, double.NaN, 5, 6 }, average);
        Assert.Equal(new[] { double.NaN, 2, 2.5 }, LinePlot.MovingAverage([-1, 2, 3], 3, positiveOnly: true));
    }

    [Fact]
    public void TicksAreNiceNumbers()
    {
        Assert.Equal(2, Ticks.NiceStep(10, 6));
        Assert.Equal(0.2, Ticks.NiceStep(1, 5), 12);
        Assert.Equal(500, Ticks.NiceStep(3000, 6));
        Assert.Equal(new[] { 0, 0.2, 0.4, 0.6, 0.8, 1.0 }, Ticks.Linear(0, 1), new Tolerance());
        Assert.Equal((0.0, 1000.0), Ticks.NiceRange(0, 999));
        Assert.Equal((-0.6, 1.2), Ticks.NiceRange(-0.53, 1.17), new TupleTolerance());
        Assert.Equal(new[] { 1e-3, 1e-2, 1e-1, 1, 10 }, Ticks.Log(1e-3, 10), new Tolerance());
        Assert.Equal(new[] { 1.0, 2, 5, 10, 20, 50 }, Ticks.Log(1, 50), new Tolerance());
        Assert.Equal(new[] { 1e-12, 1e-9, 1e-6, 1e-3, 1, 1e3, 1e6 }, Ticks.Log(1e-12, 1e7), new Tolerance()); // 19 decades: every 3rd
        Assert.Equal("0.2", Ticks.Format(0.2, 0.2));
        Assert.Equal("1500", Ticks.Format(1500, 500));
        Assert.Equal("0.05", Ticks.Format(0.05, 0.05));
        Assert.Equal("-1.5e-5", Ticks.Format(-1.5e-5, 5e-6));
        Assert.Equal("2e5", Ticks.Format(2e5, 1e5));
        Assert.Equal("0.001", Ticks.FormatLog(1e-3));
        Assert.Equal("1e-4", Ticks.FormatLog(1e-4));
    }

    sealed class Tolerance : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) <= 1e-12 * Math.Max(1, Math.Abs(a));
        public int GetHashCode(double v) => 0;
    }

    sealed class TupleTolerance : IEqualityComparer<(double, double)>
    {
        public bool Equals((double, double) a, (double, double) b) => new Tolerance().Equals(a.Item1, b.Item1) && new Tolerance().Equals(a.Item2, b.Item2);
        public int GetHashCode((double, double) v) => 0;
    }

    [Fact]
    public void ScatterPutsADotAtTheKnownPoint()
    {
        var plot = ScatterPlot.Render("one point",
            [new PointSet("real", [0.25], [0.75], ColorIndex: 3), new PointSet("outside", [2], [2])],
            xRange: (0, 1), yRange: (0, 1), radius: 3, alpha: 1f);
        var area = plot.Area;
        Assert.Equal((0.0, 1.0, 0.0, 1.0), (area.XMin, area.XMax, area.YMin, area.YMax));
        Assert.Equal(Palette.Get(3), PixelAt(plot, 0.25, 0.75));
        Assert.Equal(Palette.Get(3), plot.Canvas.GetPixel((int)Math.Floor(area.PixelX(0.25)) + 2, (int)Math.Floor(area.PixelY(0.75))));
        Assert.Equal(Rgb.White, PixelAt(plot, 0.3, 0.7)); // about 20 px away
        Assert.Equal(Rgb.White, PixelAt(plot, 0.75, 0.25));
        // x = 0.25 maps a quarter of the way across the frame, y = 0.75 a quarter of the way down.
        Assert.Equal(area.Left + 0.5 + area.Width / 4.0, area.PixelX(0.25), 1e-9);
        Assert.Equal(area.Top + 0.5 + area.Height / 4.0, area.PixelY(0.75), 1e-9);
    }

    [Fact]
    public void ScatterFitsItsRangeAroundTheDataWhenNoneIsGiven()
    {
        var plot = ScatterPlot.Render("fit", [new PointSet("g", [-3, 1, double.NaN], [0.5, 4, 100])]);
        Assert.True(plot.Area.XMin < -3 && plot.Area.XMax > 1);
        Assert.True(plot.Area.YMin < 0.5 && plot.Area.YMax > 4 && plot.Area.YMax < 100); // the NaN point's y is ignored
        Assert.True(IsBlueInk(PixelAt(plot, 1, 4)));
    }

    [Fact]
    public void ByClassMakesOneColouredSetPerClass()
    {
        double[] x = [0, 1, 2, 3, 4];
        double[] y = [5, 6, 7, 8, 9];
        int[] labels = [2, 0, 2, 9, 0];
        var sets = ScatterPlot.ByClass(x, y, labels, 10);
        Assert.Equal(10, sets.Count);
        Assert.Equal(new double[] { 0, 2 }, sets[2].X);
        Assert.Equal(new double[] { 6, 9 }, sets[0].Y);
        Assert.Equal("9", sets[9].Name);
        Assert.Equal(9, sets[9].ColorIndex);
        Assert.Empty(sets[5].X);
        Assert.Equal(10, Enumerable.Range(0, 10).Select(Palette.Get).Distinct().Count());
        _ = ScatterPlot.Render("latent", sets); // empty sets are fine
    }

    [Fact]
    public void MarkersAreDashedLinesWithTheirLabelsAtTheTop()
    {
        double[] x = Enumerable.Range(0, 101).Select(i => (double)i).ToArray();
        double[] y = x.Select(v => 1.0).ToArray();
        var plain = LinePlot.Render("markers", "step", "loss", [new Series("flat", x, y)]);
        var plot = LinePlot.Render("markers", "step", "loss", [new Series("flat", x, y)],
            markers: [new Marker(30, "lr x16"), new Marker(31, "batch 256"), new Marker(100, "lr x0"), new Marker(150, "off the axis")]);
        var area = plot.Area;
        Assert.Equal((0.0, 100.0), (area.XMin, area.XMax)); // a marker does not widen the axis

        int MarkerInk(int column, int fromRow, int toRow) =>
            Enumerable.Range(fromRow, toRow - fromRow).Count(r => plot.Canvas.GetPixel(column, r) == LinePlot.MarkerColour);
        // Dashed: 4 of every 7 rows in the marker's column below the labels, none in a column between markers.
        int c30 = (int)Math.Floor(area.PixelX(30)), c60 = (int)Math.Floor(area.PixelX(60));
        int lower = area.Top + area.Height * 3 / 5, lowerEnd = lower + 70; // below the flat curve at mid-height
        Assert.InRange(MarkerInk(c30, lower, lowerEnd), 38, 42);
        Assert.Equal(0, MarkerInk(c60, area.Top + 1, area.Top + area.Height));
        // The labels: ink right of the line at x = 30 in the top text row; the label at 31 would overlap it, so it
        // moves a row down; the one at the right edge of the frame goes left of its line.
        int TextInk(int left, int right, int top) => Enumerable.Range(left, right - left)
            .Sum(c => Enumerable.Range(top, BitmapFont.GlyphHeight).Count(r => plot.Canvas.GetPixel(c, r) == LinePlot.MarkerColour));
        int row0 = area.Top + 3, row1 = row0 + BitmapFont.CellHeight + 2;
        Assert.True(TextInk(c30 + 3, c30 + 40, row0) > 20);
        int c31 = (int)Math.Floor(area.PixelX(31));
        Assert.True(TextInk(c31 + 3, c31 + 55, row1) > 20);
        int c100 = (int)Math.Floor(area.PixelX(100));
        Assert.True(TextInk(c100 - 35, c100 - 1, row0) > 20);
        // Nothing else changed: away from the markers and labels the two pictures agree.
        for (int r = lower; r < area.Top + area.Height; r++)
            Assert.Equal(plain.Canvas.GetPixel(c60, r), plot.Canvas.GetPixel(c60, r));
    }

    [Fact]
    public void ClippingOutliersScalesTheAxisToTheBulkOfTheValues()
    {
        // 1,000 losses around 1 with one early spike of 25 (a GAN's first steps) and one dip to -3.
        var rng = new Random(5);
        double[] x = Enumerable.Range(0, 1000).Select(i => (double)i).ToArray();
        double[] y = x.Select(i => i == 3 ? 25 : i == 500 ? -3 : 1 + 0.2 * (rng.NextDouble() - 0.5)).ToArray();
        var full = LinePlot.Render("loss", "step", "loss", [new Series("loss_d", x, y)]);
        Assert.True(full.Area.YMax >= 25 && full.Area.YMin <= -3);
        var clipped = LinePlot.Render("loss", "step", "loss", [new Series("loss_d", x, y)], clipOutliers: true);
        // The 1st-99th percentile of the values (0.9 to 1.1) widened by a tenth, then out to nice ticks: the spike
        // and the dip are off the scale.
        Assert.InRange(clipped.Area.YMin, 0.8, 0.92);
        Assert.InRange(clipped.Area.YMax, 1.08, 1.2);
        Assert.True(IsBlueInk(PixelAt(clipped, 700, y[700])), "the bulk is drawn");
        // The note, in grey text at the bottom left of the frame.
        int row = clipped.Area.Top + clipped.Area.Height - BitmapFont.CellHeight - 2;
        Assert.Contains(Enumerable.Range(clipped.Area.Left + 4, 200).SelectMany(c => Enumerable.Range(row, BitmapFont.GlyphHeight).Select(r => clipped.Canvas.GetPixel(c, r))), p => p == Rgb.Gray);
        // Values that need no clipping keep the plain axis, and no note.
        var tame = LinePlot.Render("loss", "step", "loss", [new Series("s", [0, 1, 2], [1, 2, 3])], clipOutliers: true);
        var plain = LinePlot.Render("loss", "step", "loss", [new Series("s", [0, 1, 2], [1, 2, 3])]);
        Assert.Equal(plain.Canvas.Pixels, tame.Canvas.Pixels);
    }

    [Fact]
    public void MismatchedLengthsThrowNamingThePlot()
    {
        Assert.Contains("LinePlot", Assert.Throws<ArgumentException>(() =>
            LinePlot.Render("t", "x", "y", [new Series("s", [1, 2], [1])])).Message);
        Assert.Contains("ScatterPlot", Assert.Throws<ArgumentException>(() =>
            ScatterPlot.Render("t", [new PointSet("p", [1], [1, 2])])).Message);
        Assert.Throws<ArgumentException>(() => ScatterPlot.Render("t", [], xRange: (1, 1)));
        Assert.Throws<ArgumentException>(() => LinePlot.Render("t", "x", "y", [], width: 50, height: 40));
    }
}
