namespace NativeGan.Gan.Pictures;

/// <summary>One curve of a line plot: points (X[i], Y[i]); a NaN or infinite value leaves a gap.</summary>
public sealed record Series(string Name, double[] X, double[] Y)
{
    /// <summary>A curve over x = 0, 1, 2, ... (a value per step).</summary>
    public static Series Indexed(string name, double[] y) =>
        new(name, Enumerable.Range(0, y.Length).Select(i => (double)i).ToArray(), y);
}

/// <summary>
/// Curves against a common x axis: training losses per step, gradient norms, a metric per epoch. Each series
/// takes the next <see cref="Palette"/> colour and a legend line; the axes get 1-2-5 ticks (decades with
/// <c>logY</c>) around the finite data. A point whose x or y is not finite (or y &lt;= 0 on a log axis) is
/// skipped and breaks its line there. With <c>smooth</c> &gt; 1 each curve is drawn faintly as measured and
/// boldly as its trailing moving average over <c>smooth</c> points (the TensorBoard look).
/// </summary>
public static class LinePlot
{
    public static void Save(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool logY = false, int width = 900, int height = 500, int smooth = 1) =>
        Render(title, xLabel, yLabel, series, logY, width, height, smooth).SavePng(path);

    public static RenderedPlot Render(string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool logY = false, int width = 900, int height = 500, int smooth = 1)
    {
        if (smooth < 1) throw new ArgumentException($"LinePlot: smooth must be at least 1, got {smooth}");
        foreach (var s in series)
            if (s.X.Length != s.Y.Length)
                throw new ArgumentException($"LinePlot: series \"{s.Name}\" has {s.X.Length} x values and {s.Y.Length} y values");

        bool Usable(double x, double y) => double.IsFinite(x) && double.IsFinite(y) && (!logY || y > 0);

        // The ranges of the usable points (the moving average stays inside them).
        double xMin = double.PositiveInfinity, xMax = double.NegativeInfinity;
        double yMin = double.PositiveInfinity, yMax = double.NegativeInfinity;
        foreach (var s in series)
            for (int i = 0; i < s.X.Length; i++)
                if (Usable(s.X[i], s.Y[i]))
                {
                    xMin = Math.Min(xMin, s.X[i]); xMax = Math.Max(xMax, s.X[i]);
                    yMin = Math.Min(yMin, s.Y[i]); yMax = Math.Max(yMax, s.Y[i]);
                }
        bool empty = xMin > xMax;
        if (empty) (xMin, xMax, yMin, yMax) = (0, 1, logY ? 0.1 : 0, 1);

        var xRange = Ticks.NiceRange(xMin, xMax);
        (double Min, double Max) yRange;
        if (logY)
        {
            // Log axis: 5% of the span in log10 units either side.
            var (lo, hi) = Ticks.Widen(Math.Log10(yMin), Math.Log10(yMax));
            double margin = (hi - lo) * 0.05;
            yRange = (Math.Pow(10, lo - margin), Math.Pow(10, hi + margin));
        }
        else
        {
            yRange = Ticks.NiceRange(yMin, yMax);
        }

        var legend = series.Select((s, k) => new LegendEntry(s.Name, Palette.Get(k))).ToList();
        var frame = new PlotFrame(width, height, title, xLabel, yLabel, xRange, yRange, logY, legend, legendDots: false);
        var area = frame.Area;
        var canvas = frame.Canvas;
        frame.DrawBackground();
        for (int k = 0; k < series.Count; k++)
        {
            var s = series[k];
            var colour = Palette.Get(k);
            var px = new double[s.X.Length];
            var py = new double[s.X.Length];
            for (int i = 0; i < px.Length; i++)
            {
                bool ok = Usable(s.X[i], s.Y[i]);
                px[i] = ok ? area.PixelX(s.X[i]) : double.NaN;
                py[i] = ok ? area.PixelY(s.Y[i]) : double.NaN;
            }
            if (smooth == 1)
            {
                canvas.DrawPolyline(px, py, colour, width: 1.5);
                continue;
            }
            canvas.DrawPolyline(px, py, colour, width: 1, alpha: 0.3f);
            var average = MovingAverage(s.Y, smooth, logY);
            for (int i = 0; i < py.Length; i++)
                py[i] = double.IsFinite(px[i]) && double.IsFinite(average[i]) ? area.PixelY(average[i]) : double.NaN;
            canvas.DrawPolyline(px, py, colour, width: 2);
        }
        frame.DrawForeground();
        if (empty) canvas.DrawText("no data", area.Left + area.Width / 2 - 20, area.Top + area.Height / 2 - 4, Rgb.Gray);
        return new RenderedPlot(canvas, area);
    }

    /// <summary>
    /// The trailing moving average: element i is the mean of the usable values among y[i - window + 1 .. i]
    /// (finite, and &gt; 0 when <paramref name="positiveOnly"/>); NaN where y[i] itself is unusable, so gaps stay gaps.
    /// </summary>
    public static double[] MovingAverage(double[] y, int window, bool positiveOnly = false)
    {
        bool Usable(double v) => double.IsFinite(v) && (!positiveOnly || v > 0);
        var result = new double[y.Length];
        double sum = 0;
        int count = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (Usable(y[i])) { sum += y[i]; count++; }
            int leaving = i - window;
            if (leaving >= 0 && Usable(y[leaving])) { sum -= y[leaving]; count--; }
            result[i] = Usable(y[i]) && count > 0 ? sum / count : double.NaN;
        }
        return result;
    }
}
