namespace NativeGan.Gan.Pictures;

/// <summary>One curve of a line plot: points (X[i], Y[i]); a NaN or infinite value leaves a gap.</summary>
public sealed record Series(string Name, double[] X, double[] Y)
{
    /// <summary>A curve over x = 0, 1, 2, ... (a value per step).</summary>
    public static Series Indexed(string name, double[] y) =>
        new(name, Enumerable.Range(0, y.Length).Select(i => (double)i).ToArray(), y);
}

/// <summary>A labelled vertical line at x: where something changed during training (a rate schedule's phase, a batch size).</summary>
public sealed record Marker(double X, string Label);

/// <summary>
/// Curves against a common x axis: training losses per step, gradient norms, a metric per epoch. Each series
/// takes the next <see cref="Palette"/> colour and a legend line; the axes get 1-2-5 ticks (decades with
/// <c>logY</c>) around the finite data. A point whose x or y is not finite (or y &lt;= 0 on a log axis) is
/// skipped and breaks its line there. With <c>smooth</c> &gt; 1 each curve is drawn faintly as measured and
/// boldly as its trailing moving average over <c>smooth</c> points (the TensorBoard look). Each <see cref="Marker"/>
/// is a dashed grey line across the plot with its label at the top, under the curves. With <c>clipOutliers</c> the
/// y axis spans the 1st to 99th percentile of the values (widened by a tenth of that span each side, never past
/// the data), so one early spike does not flatten a whole training run; the curves run off the frame there and
/// a note at the bottom left says so.
/// </summary>
public static class LinePlot
{
    public static void Save(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool logY = false, int width = 900, int height = 500, int smooth = 1, IReadOnlyList<Marker>? markers = null, bool clipOutliers = false) =>
        Render(title, xLabel, yLabel, series, logY, width, height, smooth, markers, clipOutliers).SavePng(path);

    /// <summary>The colour of markers' lines and labels: darker than the grid, lighter than the frame.</summary>
    public static readonly Rgb MarkerColour = new(110, 110, 110);

    public static RenderedPlot Render(string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool logY = false, int width = 900, int height = 500, int smooth = 1, IReadOnlyList<Marker>? markers = null, bool clipOutliers = false)
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
        bool clipped = false;
        if (clipOutliers && !empty)
        {
            var values = series.SelectMany(s => s.X.Zip(s.Y).Where(p => Usable(p.First, p.Second)).Select(p => logY ? Math.Log10(p.Second) : p.Second)).Order().ToArray();
            double Quantile(double q) => values[(int)Math.Round(q * (values.Length - 1))];
            double low = Quantile(0.01), high = Quantile(0.99), margin = (high - low) * 0.1;
            double lo = logY ? Math.Pow(10, low - margin) : low - margin, hi = logY ? Math.Pow(10, high + margin) : high + margin;
            if (lo > yMin || hi < yMax) clipped = true;
            (yMin, yMax) = (Math.Max(yMin, lo), Math.Min(yMax, hi));
        }

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
        DrawMarkers(canvas, area, markers ?? []);
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
        if (clipped)
        {
            const string note = "some values off the scale (axis: 1st-99th percentile)";
            int top = area.Top + area.Height - BitmapFont.CellHeight - 2;
            canvas.FillRect(area.Left + 2, top - 2, BitmapFont.Measure(note).Width + 4, BitmapFont.CellHeight + 2, Rgb.White);
            canvas.DrawText(note, area.Left + 4, top, Rgb.Gray);
        }
        if (empty) canvas.DrawText("no data", area.Left + area.Width / 2 - 20, area.Top + area.Height / 2 - 4, Rgb.Gray);
        return new RenderedPlot(canvas, area);
    }

    /// <summary>
    /// Dashed lines (4 on, 3 off) at the markers inside the x range; each label at the top of the plot, right of its
    /// line (left of it where it would leave the frame), moved down a text row while it would overlap a label before it.
    /// </summary>
    static void DrawMarkers(Canvas canvas, PlotArea area, IReadOnlyList<Marker> markers)
    {
        var placed = new List<(int Left, int Right, int Row)>();
        foreach (var marker in markers.Where(m => double.IsFinite(m.X) && m.X >= area.XMin && m.X <= area.XMax).OrderBy(m => m.X))
        {
            int column = (int)Math.Floor(area.PixelX(marker.X));
            for (int y = area.Top + 1; y < area.Top + area.Height; y += 7)
                canvas.FillRect(column, y, 1, Math.Min(4, area.Top + area.Height - y), MarkerColour);
            if (marker.Label.Length == 0) continue;
            int labelWidth = BitmapFont.Measure(marker.Label).Width;
            int left = column + 3 + labelWidth <= area.Left + area.Width ? column + 3 : Math.Max(area.Left + 2, column - 2 - labelWidth);
            int row = 0;
            while (placed.Any(p => p.Row == row && left <= p.Right + 4 && p.Left <= left + labelWidth + 4)) row++;
            placed.Add((left, left + labelWidth, row));
            int top = area.Top + 3 + row * (BitmapFont.CellHeight + 2);
            canvas.FillRect(left - 1, top - 1, labelWidth + 2, BitmapFont.GlyphHeight + 2, Rgb.White); // legible over the grid
            canvas.DrawText(marker.Label, left, top, MarkerColour);
        }
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
