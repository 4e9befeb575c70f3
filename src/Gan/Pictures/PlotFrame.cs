namespace NativeGan.Gan.Pictures;

/// <summary>
/// Where a plot's data lives on its canvas: the pixel rectangle inside the axes frame and the data ranges it
/// shows (with <see cref="LogY"/>, y maps through log10). The frame's lines pass through the centres of
/// pixel columns <see cref="Left"/> and <see cref="Left"/> + <see cref="Width"/>, and of pixel rows
/// <see cref="Top"/> and <see cref="Top"/> + <see cref="Height"/>; XMin and YMax map onto them.
/// </summary>
public sealed record PlotArea(int Left, int Top, int Width, int Height, double XMin, double XMax, double YMin, double YMax, bool LogY)
{
    /// <summary>The canvas x coordinate (continuous) of data x.</summary>
    public double PixelX(double x) => Left + 0.5 + (x - XMin) / (XMax - XMin) * Width;

    /// <summary>The canvas y coordinate (continuous, downwards) of data y; NaN for y &lt;= 0 on a log axis.</summary>
    public double PixelY(double y)
    {
        double v = LogY ? (y > 0 ? Math.Log10(y) : double.NaN) : y;
        double lo = LogY ? Math.Log10(YMin) : YMin, hi = LogY ? Math.Log10(YMax) : YMax;
        return Top + 0.5 + (hi - v) / (hi - lo) * Height;
    }

    /// <summary>True when (x, y) lies inside the shown ranges.</summary>
    public bool Shows(double x, double y) => x >= XMin && x <= XMax && y >= YMin && y <= YMax && (!LogY || y > 0);
}

/// <summary>A drawn plot: the picture and the mapping from data to its pixels (tests locate points with it).</summary>
public sealed record RenderedPlot(Canvas Canvas, PlotArea Area)
{
    public void SavePng(string path) => Canvas.SavePng(path);
}

/// <summary>One legend line: a name and its colour, shown as a short line or as a dot.</summary>
internal readonly record struct LegendEntry(string Name, Rgb Colour);

/// <summary>
/// The parts every plot shares: the layout (margins sized to the title, tick labels, axis labels and legend),
/// grid lines, the frame with ticks and labels, the title, and a legend to the right of the frame.
/// Drawing order: <see cref="DrawBackground"/>, then the data, then <see cref="DrawForeground"/>.
/// </summary>
internal sealed class PlotFrame
{
    const int Gap = 6, TickLength = 4, LegendSample = 18;
    static readonly Rgb Ink = Rgb.Black;
    static readonly Rgb GridColour = new(232, 232, 232);

    readonly string title, xLabel, yLabel;
    readonly double[] xTicks, yTicks;
    readonly string[] xTickLabels, yTickLabels;
    readonly IReadOnlyList<LegendEntry> legend;
    readonly bool legendDots;

    public PlotFrame(int width, int height, string title, string xLabel, string yLabel,
        (double Min, double Max) xRange, (double Min, double Max) yRange, bool logY,
        IReadOnlyList<LegendEntry> legend, bool legendDots)
    {
        this.title = title;
        this.xLabel = xLabel;
        this.yLabel = yLabel;
        this.legend = legend.Where(e => e.Name.Length > 0).ToList();
        this.legendDots = legendDots;
        Canvas = new Canvas(width, height);

        xTicks = Ticks.Linear(xRange.Min, xRange.Max);
        double xStep = Ticks.NiceStep(xRange.Max - xRange.Min);
        xTickLabels = Array.ConvertAll(xTicks, v => Ticks.Format(v, xStep));
        if (logY)
        {
            yTicks = Ticks.Log(yRange.Min, yRange.Max);
            yTickLabels = Array.ConvertAll(yTicks, Ticks.FormatLog);
        }
        else
        {
            yTicks = Ticks.Linear(yRange.Min, yRange.Max);
            double yStep = Ticks.NiceStep(yRange.Max - yRange.Min);
            yTickLabels = Array.ConvertAll(yTicks, v => Ticks.Format(v, yStep));
        }

        // Margins: what sits outside the frame on each side.
        int textHeight = BitmapFont.GlyphHeight;
        int top = title.Length > 0 ? Gap + 2 * textHeight + Gap + 2 : Gap + 6;
        int widestYTick = yTickLabels.Select(s => BitmapFont.Measure(s).Width).DefaultIfEmpty(0).Max();
        int left = Gap + (yLabel.Length > 0 ? textHeight + Gap : 0) + widestYTick + TickLength + 3;
        int bottom = TickLength + 3 + textHeight + (xLabel.Length > 0 ? Gap + textHeight : 0) + Gap;
        int widestName = this.legend.Select(e => BitmapFont.Measure(e.Name).Width).DefaultIfEmpty(0).Max();
        int right = this.legend.Count > 0 ? Gap * 2 + LegendSample + Gap + widestName + Gap : Gap * 2 + 4;
        int areaWidth = width - left - right - 1, areaHeight = height - top - bottom - 1;
        if (areaWidth < 20 || areaHeight < 20)
            throw new ArgumentException($"Plot: {width}x{height} pixels leave no room for the data (labels and legend take {left + right}x{top + bottom})");
        Area = new PlotArea(left, top, areaWidth, areaHeight, xRange.Min, xRange.Max, yRange.Min, yRange.Max, logY);
    }

    public Canvas Canvas { get; }

    public PlotArea Area { get; }

    /// <summary>Grid lines at the ticks, under the data.</summary>
    public void DrawBackground()
    {
        foreach (double x in xTicks)
            Canvas.FillRect(Column(Area.PixelX(x)), Area.Top, 1, Area.Height, GridColour);
        foreach (double y in yTicks)
            Canvas.FillRect(Area.Left, Row(Area.PixelY(y)), Area.Width, 1, GridColour);
    }

    /// <summary>Frame, ticks, tick labels, title, axis labels and legend, over the data.</summary>
    public void DrawForeground()
    {
        var a = Area;
        // Whatever spilled out of the frame (a thick line at the very edge) is cleared with the margins.
        Canvas.FillRect(0, 0, Canvas.Width, a.Top, Rgb.White);
        Canvas.FillRect(0, a.Top + a.Height + 1, Canvas.Width, Canvas.Height, Rgb.White);
        Canvas.FillRect(0, 0, a.Left, Canvas.Height, Rgb.White);
        Canvas.FillRect(a.Left + a.Width + 1, 0, Canvas.Width, Canvas.Height, Rgb.White);
        Canvas.DrawRect(a.Left, a.Top, a.Width + 1, a.Height + 1, Ink);

        int textHeight = BitmapFont.GlyphHeight;
        int axisBottom = a.Top + a.Height;
        for (int i = 0; i < xTicks.Length; i++)
        {
            int column = Column(a.PixelX(xTicks[i]));
            Canvas.FillRect(column, axisBottom + 1, 1, TickLength, Ink);
            int labelWidth = BitmapFont.Measure(xTickLabels[i]).Width;
            int x = Math.Clamp(column - labelWidth / 2, 0, Canvas.Width - labelWidth);
            Canvas.DrawText(xTickLabels[i], x, axisBottom + TickLength + 3, Ink);
        }
        for (int i = 0; i < yTicks.Length; i++)
        {
            int row = Row(a.PixelY(yTicks[i]));
            Canvas.FillRect(a.Left - TickLength, row, TickLength, 1, Ink);
            int labelWidth = BitmapFont.Measure(yTickLabels[i]).Width;
            Canvas.DrawText(yTickLabels[i], a.Left - TickLength - 3 - labelWidth, row - textHeight / 2 + 1, Ink);
        }

        if (title.Length > 0)
        {
            int titleWidth = BitmapFont.Measure(title, 2).Width;
            int x = Math.Max(Gap, a.Left + (a.Width - titleWidth) / 2);
            Canvas.DrawText(title, x, Gap, Ink, scale: 2);
        }
        if (xLabel.Length > 0)
        {
            int labelWidth = BitmapFont.Measure(xLabel).Width;
            Canvas.DrawText(xLabel, a.Left + (a.Width - labelWidth) / 2, axisBottom + TickLength + 3 + textHeight + Gap, Ink);
        }
        if (yLabel.Length > 0)
        {
            int labelLength = BitmapFont.Measure(yLabel).Width;
            Canvas.DrawTextUp(yLabel, Gap, Math.Max(0, a.Top + (a.Height - labelLength) / 2), Ink);
        }
        DrawLegend();
    }

    void DrawLegend()
    {
        int x = Area.Left + Area.Width + 1 + Gap * 2;
        int y = Area.Top + 2;
        foreach (var entry in legend)
        {
            double middle = y + BitmapFont.GlyphHeight / 2 - 0.5;
            if (legendDots)
                Canvas.FillCircle(x + LegendSample / 2.0, middle, 3.5, entry.Colour);
            else
                Canvas.DrawLine(x, middle, x + LegendSample, middle, entry.Colour, width: 2);
            Canvas.DrawText(entry.Name, x + LegendSample + Gap, y, Ink);
            y += BitmapFont.CellHeight + 5;
        }
    }

    // The pixel column / row whose centre is nearest a continuous coordinate.
    static int Column(double x) => (int)Math.Floor(x);

    static int Row(double y) => (int)Math.Floor(y);
}
