using System.Globalization;

namespace NativeGan.Gan.Pictures;

/// <summary>
/// "Nice" axis ticks: steps of 1, 2 or 5 times a power of ten (Heckbert, "Nice numbers for graph labels",
/// Graphics Gems, 1990), and decades (with 2 and 5 between them on short spans) on a log axis.
/// </summary>
public static class Ticks
{
    /// <summary>The 1-2-5 step that cuts <paramref name="span"/> into about <paramref name="target"/> intervals.</summary>
    public static double NiceStep(double span, int target = 6)
    {
        if (!(span > 0) || !double.IsFinite(span)) return 1;
        double raw = span / Math.Max(1, target);
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double fraction = raw / magnitude; // in [1, 10)
        double nice = fraction < 1.5 ? 1 : fraction < 3 ? 2 : fraction < 7 ? 5 : 10;
        return nice * magnitude;
    }

    /// <summary>[min, max] widened outwards to multiples of the nice step (a degenerate range is widened first).</summary>
    public static (double Min, double Max) NiceRange(double min, double max, int target = 6)
    {
        (min, max) = Widen(min, max);
        double step = NiceStep(max - min, target);
        return (Math.Floor(min / step) * step, Math.Ceiling(max / step) * step);
    }

    /// <summary>The multiples of the nice step inside [min, max], exact zero included when in range.</summary>
    public static double[] Linear(double min, double max, int target = 6)
    {
        double step = NiceStep(max - min, target);
        double first = Math.Ceiling(min / step - 1e-9) * step;
        var ticks = new List<double>();
        for (int i = 0; ; i++)
        {
            double v = first + i * step; // no accumulated error: one multiplication per tick
            if (v > max + step * 1e-9 || i > 1000) break;
            ticks.Add(Math.Abs(v) < step * 1e-9 ? 0 : v);
        }
        return [.. ticks];
    }

    /// <summary>
    /// Ticks for a log axis over [min, max] (both &gt; 0): the powers of ten inside, plus 2 and 5 times them when
    /// the span is under two decades (every k-th decade on spans over 8); nice linear ticks when even those give fewer than two.
    /// </summary>
    public static double[] Log(double min, double max)
    {
        int low = (int)Math.Floor(Math.Log10(min)), high = (int)Math.Ceiling(Math.Log10(max));
        bool fine = high - low <= 2;
        int every = Math.Max(1, (high - low + 7) / 8); // at most about 8 decade labels on a long span
        var ticks = new List<double>();
        for (int e = low; e <= high; e++)
            if ((e - low) % every == 0 || fine)
                foreach (double m in fine ? new[] { 1.0, 2.0, 5.0 } : [1.0])
                {
                    double v = m * Math.Pow(10, e);
                    if (v >= min * (1 - 1e-9) && v <= max * (1 + 1e-9)) ticks.Add(v);
                }
        return ticks.Count >= 2 ? [.. ticks] : Linear(min, max, 4).Where(v => v > 0).ToArray();
    }

    /// <summary>A tick label: as many decimals as the step needs, or "1.5e-5" style for very large or small values.</summary>
    public static string Format(double value, double step)
    {
        if (value == 0) return "0";
        double size = Math.Abs(value);
        if (size >= 1e5 || size < 1e-3) return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step) + 1e-9), 0, 6);
        return value.ToString("F" + decimals, CultureInfo.InvariantCulture);
    }

    /// <summary>A log-axis label: the shortest plain form ("0.02", "100") or "1e-5" style.</summary>
    public static string FormatLog(double value)
    {
        double size = Math.Abs(value);
        if (size >= 1e5 || size < 1e-3) return value.ToString("0.##e0", CultureInfo.InvariantCulture);
        return value.ToString("G4", CultureInfo.InvariantCulture);
    }

    /// <summary>An empty range made into a usable one: [v - 1, v + 1] around 0, else 10% of |v| either side.</summary>
    public static (double Min, double Max) Widen(double min, double max)
    {
        if (max > min) return (min, max);
        double half = min == 0 ? 1 : Math.Abs(min) * 0.1;
        return (min - half, max + half);
    }
}
