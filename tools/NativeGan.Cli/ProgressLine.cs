using System.Globalization;

namespace NativeGan.Cli;

/// <summary>
/// One moment of a long job as the progress line shows it: <see cref="Done"/> of <see cref="Total"/> units (steps,
/// batches), how long it has run, how long it has left (null while unknown) and its rate; a training run adds its
/// epoch (1 for the first) and its latest losses, in the order they are shown.
/// </summary>
public sealed record ProgressSnapshot(long Done, long Total, TimeSpan Elapsed, TimeSpan? Remaining, double PerSecond)
{
    /// <summary>What is counted, plural ("steps"): the rate reads "3.41 steps/s".</summary>
    public string Unit { get; init; } = "steps";

    /// <summary>The epoch the job is in, counted from 1; null for a job without epochs.</summary>
    public int? Epoch { get; init; }

    public IReadOnlyList<KeyValuePair<string, float>> Losses { get; init; } = [];

    /// <summary>A snapshot whose rate and time left are measured from <paramref name="elapsed"/>: the units done since
    /// <paramref name="doneAtStart"/> (a resumed job's first unit) over the time they took.</summary>
    public static ProgressSnapshot Measure(long done, long total, TimeSpan elapsed, long doneAtStart = 0)
    {
        double rate = (done - doneAtStart) / Math.Max(elapsed.TotalSeconds, 1e-9);
        return new ProgressSnapshot(done, total, elapsed, rate > 0 ? TimeSpan.FromSeconds(Math.Max(0, total - done) / rate) : null, rate);
    }
}

/// <summary>
/// The progress line: one line that fits a given width, for the live display on a terminal and for the plain status
/// lines written to a log file or a pipe. In full:
/// <c>train dcgan [#####.....] 41% 1,234/3,000 epoch 2 | 3.41 steps/s | elapsed 00:06:02 | ETA 1d 06:06:35 | loss_d 0.693 loss_g 0.712</c>.
/// Where the width is short, whole columns are left out, least important first: the losses (the last one first), the
/// title, the elapsed time, the bar, the epoch, the rate, the counts, the percentage; the ETA goes last, and a line
/// that is still too long is cut. The line never holds a line break and is never longer than the width. Times of a day
/// or more carry the days ("1d 06:06:35"), so a 30-hour ETA does not read as 6 hours.
/// </summary>
public static class ProgressLine
{
    /// <summary>The bar's narrowest and widest inside (it takes what the other columns leave, up to the widest).</summary>
    public const int BarMin = 10, BarMax = 40;

    // How long a column stays as the width shrinks: higher stays longer. Losses are below Title, one rank each.
    const int KeepEta = 100, KeepPercent = 90, KeepCounts = 80, KeepRate = 70, KeepEpoch = 60, KeepBar = 50,
        KeepElapsed = 40, KeepTitle = 30, KeepLosses = 20;

    enum Group { Head, Rate, Elapsed, Eta, Losses }

    /// <summary>A column: its group, how long it stays, its text; the bar has no text but the part done.</summary>
    sealed record Item(Group Group, int Keep, string Text, double? Bar = null);

    /// <summary>The line for <paramref name="snapshot"/>, at most <paramref name="width"/> characters (none below 1).</summary>
    /// <param name="title">What runs ("train dcgan"), first on the line; dropped after the losses.</param>
    /// <param name="bar">Whether the line may hold a bar (the plain status lines leave it out).</param>
    public static string Render(ProgressSnapshot snapshot, int width, string? title = null, bool bar = true)
    {
        if (width < 1) return "";
        var items = Items(snapshot, title, bar);
        var kept = new List<Item>(items);
        string line = Compose(kept, BarMin);
        while (line.Length > width && kept.Count > 1)
        {
            kept.Remove(kept.MinBy(i => i.Keep)!);
            line = Compose(kept, BarMin);
        }
        if (line.Length > width) return line[..width];
        if (kept.Any(i => i.Bar is not null))
        {
            int inside = Math.Min(BarMax, BarMin + width - line.Length);
            line = Compose(kept, inside);
        }
        return line;
    }

    /// <summary>The status line written where the output is not a terminal: everything, no bar, no width limit.</summary>
    public static string Plain(ProgressSnapshot snapshot, string? title = null) => Render(snapshot, int.MaxValue, title, bar: false);

    /// <summary>A duration as hh:mm:ss, with the days in front from 24 hours on ("1d 06:06:35"); negative reads as zero.</summary>
    public static string Duration(TimeSpan t)
    {
        if (t < TimeSpan.Zero) t = TimeSpan.Zero;
        string clock = string.Create(CultureInfo.InvariantCulture, $"{t.Hours:00}:{t.Minutes:00}:{t.Seconds:00}");
        return t.Days > 0 ? string.Create(CultureInfo.InvariantCulture, $"{t.Days}d {clock}") : clock;
    }

    /// <summary>A rate with about three significant digits (312, 31.2, 3.12, 0.312).</summary>
    public static string Rate(double perSecond) =>
        !double.IsFinite(perSecond) || perSecond <= 0 ? "-"
        : perSecond.ToString(perSecond >= 100 ? "0" : perSecond >= 10 ? "0.0" : perSecond >= 1 ? "0.00" : "0.000", CultureInfo.InvariantCulture);

    static List<Item> Items(ProgressSnapshot s, string? title, bool bar)
    {
        var inv = CultureInfo.InvariantCulture;
        var items = new List<Item>();
        if (!string.IsNullOrWhiteSpace(title)) items.Add(new Item(Group.Head, KeepTitle, OneLine(title)));
        if (bar) items.Add(new Item(Group.Head, KeepBar, "", Bar: s.Total <= 0 ? 0 : Math.Clamp((double)s.Done / s.Total, 0, 1)));
        string total = s.Total.ToString("N0", inv);
        items.Add(new Item(Group.Head, KeepPercent, string.Create(inv, $"{Percent(s)}%")));
        items.Add(new Item(Group.Head, KeepCounts, $"{s.Done.ToString("N0", inv)}/{total}"));
        if (s.Epoch is int epoch) items.Add(new Item(Group.Head, KeepEpoch, string.Create(inv, $"epoch {epoch}")));
        items.Add(new Item(Group.Rate, KeepRate, $"{Rate(s.PerSecond)} {OneLine(s.Unit)}/s"));
        items.Add(new Item(Group.Elapsed, KeepElapsed, $"elapsed {Duration(s.Elapsed)}"));
        items.Add(new Item(Group.Eta, KeepEta, $"ETA {(s.Remaining is { } r ? Duration(r) : "?")}"));
        for (int k = 0; k < s.Losses.Count; k++) // the last loss is the first to go
            items.Add(new Item(Group.Losses, KeepLosses - k, $"{OneLine(s.Losses[k].Key)} {s.Losses[k].Value.ToString("0.000", inv)}"));
        return items;
    }

    /// <summary>The items in their groups: a group's items joined by spaces, the groups by " | ".</summary>
    static string Compose(IEnumerable<Item> items, int barInside) =>
        string.Join(" | ", items.GroupBy(i => i.Group).OrderBy(g => g.Key)
            .Select(g => string.Join(" ", g.Select(i => i.Bar is double done ? Bar(done, barInside) : i.Text))));

    /// <summary>[#####.....]: <paramref name="inside"/> characters between the brackets, the part done in '#'.</summary>
    static string Bar(double done, int inside)
    {
        int filled = Math.Clamp((int)Math.Floor(done * inside), 0, inside);
        return "[" + new string('#', filled) + new string('.', inside - filled) + "]";
    }

    static int Percent(ProgressSnapshot s) => s.Total <= 0 ? 0 : (int)Math.Clamp(Math.Floor(100.0 * s.Done / s.Total), 0, 100);

    /// <summary>Text with no line breaks or other control characters (a title, a loss name), so the line stays one line.</summary>
    static string OneLine(string text) => string.Concat(text.Select(c => char.IsControl(c) ? ' ' : c));
}
