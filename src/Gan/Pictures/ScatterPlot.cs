namespace NativeGan.Gan.Pictures;

/// <summary>A set of 2D points drawn in one colour: palette colour <see cref="ColorIndex"/>, or the set's position in the list.</summary>
public sealed record PointSet(string Name, double[] X, double[] Y, int? ColorIndex = null);

/// <summary>
/// Points in the plane: real against generated samples of a 2D mixture, or a 2D latent space coloured by
/// class (<see cref="ByClass"/>). Sets are drawn in order (later sets on top) as anti-aliased translucent
/// dots, so dense regions show darker; a legend names each set. Without given ranges the axes fit all finite
/// points with 5% margin; points outside given ranges and non-finite points are skipped.
/// </summary>
public static class ScatterPlot
{
    public static void Save(string path, string title, IReadOnlyList<PointSet> sets,
        (double min, double max)? xRange = null, (double min, double max)? yRange = null,
        string xLabel = "", string yLabel = "", int width = 640, int height = 560, double radius = 2.0, float alpha = 0.6f) =>
        Render(title, sets, xRange, yRange, xLabel, yLabel, width, height, radius, alpha).SavePng(path);

    public static RenderedPlot Render(string title, IReadOnlyList<PointSet> sets,
        (double min, double max)? xRange = null, (double min, double max)? yRange = null,
        string xLabel = "", string yLabel = "", int width = 640, int height = 560, double radius = 2.0, float alpha = 0.6f)
    {
        foreach (var set in sets)
            if (set.X.Length != set.Y.Length)
                throw new ArgumentException($"ScatterPlot: set \"{set.Name}\" has {set.X.Length} x values and {set.Y.Length} y values");
        foreach (var range in new[] { xRange, yRange })
            if (range is { } r && !(r.max > r.min))
                throw new ArgumentException($"ScatterPlot: range [{r.min}, {r.max}] is empty");

        var xs = sets.SelectMany(s => s.X.Where((x, i) => double.IsFinite(x) && double.IsFinite(s.Y[i])));
        var ys = sets.SelectMany(s => s.Y.Where((y, i) => double.IsFinite(y) && double.IsFinite(s.X[i])));
        var xShown = xRange is { } gx ? (gx.min, gx.max) : Fit(xs.ToArray());
        var yShown = yRange is { } gy ? (gy.min, gy.max) : Fit(ys.ToArray());

        Rgb ColourOf(int k) => Palette.Get(sets[k].ColorIndex ?? k);
        var legend = sets.Select((s, k) => new LegendEntry(s.Name, ColourOf(k))).ToList();
        var frame = new PlotFrame(width, height, title, xLabel, yLabel, xShown, yShown, logY: false, legend, legendDots: true);
        var area = frame.Area;
        frame.DrawBackground();
        for (int k = 0; k < sets.Count; k++)
        {
            var set = sets[k];
            var colour = ColourOf(k);
            for (int i = 0; i < set.X.Length; i++)
                if (area.Shows(set.X[i], set.Y[i]))
                    frame.Canvas.FillCircle(area.PixelX(set.X[i]), area.PixelY(set.Y[i]), radius, colour, alpha);
        }
        frame.DrawForeground();
        return new RenderedPlot(frame.Canvas, area);
    }

    /// <summary>
    /// One point set per class, named "0", "1", ... (or <paramref name="names"/>) and coloured by class index:
    /// a latent space [N, 2] given as x = z[:, 0], y = z[:, 1] with a label per point.
    /// </summary>
    public static IReadOnlyList<PointSet> ByClass(double[] x, double[] y, int[] labels, int classCount, IReadOnlyList<string>? names = null)
    {
        if (x.Length != y.Length || x.Length != labels.Length)
            throw new ArgumentException($"ScatterPlot.ByClass: {x.Length} x, {y.Length} y and {labels.Length} labels");
        if (names is not null && names.Count != classCount)
            throw new ArgumentException($"ScatterPlot.ByClass: {names.Count} names for {classCount} classes");
        var sets = new List<PointSet>(classCount);
        for (int c = 0; c < classCount; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).ToArray();
            sets.Add(new PointSet(names?[c] ?? c.ToString(System.Globalization.CultureInfo.InvariantCulture),
                members.Select(i => x[i]).ToArray(), members.Select(i => y[i]).ToArray(), c));
        }
        return sets;
    }

    // All finite values with 5% margin either side (the ticks fall on nice values inside); [0, 1] when there are none.
    static (double, double) Fit(double[] values)
    {
        if (values.Length == 0) return (0, 1);
        var (lo, hi) = Ticks.Widen(values.Min(), values.Max());
        double margin = (hi - lo) * 0.05;
        return (lo - margin, hi + margin);
    }
}
