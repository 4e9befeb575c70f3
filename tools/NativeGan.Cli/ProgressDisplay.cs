using System.Diagnostics;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace NativeGan.Cli;

/// <summary>
/// Shows a long job's progress as one <see cref="ProgressLine"/>: on a terminal a live line redrawn in place at the
/// terminal's width (lines the job logs meanwhile print above it), elsewhere a plain status line, titled, every
/// <c>plainEvery</c> (10 s) and one at the end.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Runs <paramref name="work"/>, which reports its progress through the action it is given.</summary>
    /// <param name="live">Redraw one line in place (see <see cref="Terminal.CanAnimate"/>); otherwise plain status lines.</param>
    public static T Run<T>(IAnsiConsole console, string title, Func<Action<ProgressSnapshot>, T> work, bool live, TimeSpan? plainEvery = null)
    {
        if (live) return Live(console, work);
        var every = plainEvery ?? TimeSpan.FromSeconds(10);
        var clock = Stopwatch.StartNew();
        var next = TimeSpan.Zero;
        ProgressSnapshot? latest = null, written = null;
        void Write(ProgressSnapshot s)
        {
            // Straight to the output's writer: a status line is never wrapped, whatever the console's width.
            console.Profile.Out.Writer.WriteLine(ProgressLine.Plain(s, title));
            console.Profile.Out.Writer.Flush();
            written = s;
        }
        var result = work(s =>
        {
            latest = s;
            if (clock.Elapsed < next && s.Done < s.Total) return;
            next = clock.Elapsed + every;
            Write(s);
        });
        if (latest is not null && !ReferenceEquals(latest, written)) Write(latest); // where it stopped (an interrupted run)
        return result;
    }

    static T Live<T>(IAnsiConsole console, Func<Action<ProgressSnapshot>, T> work)
    {
        var view = new ProgressView();
        return console.Live(view).AutoClear(false).Start(context =>
        {
            var gate = new Lock();
            bool stopped = false;
            void Refresh()
            {
                lock (gate)
                    if (!stopped) context.Refresh();
            }
            // Once a second the clocks move on (elapsed up, ETA down) between reports of a slow job.
            using var ticker = new Timer(_ => Refresh(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            var clock = Stopwatch.StartNew();
            var next = TimeSpan.Zero;
            try
            {
                return work(s =>
                {
                    view.Update(s);
                    if (clock.Elapsed < next && s.Done < s.Total) return;
                    next = clock.Elapsed + TimeSpan.FromMilliseconds(100);
                    Refresh();
                });
            }
            finally
            {
                view.End();
                Refresh();
                lock (gate) stopped = true;
            }
        });
    }
}

/// <summary>
/// The live progress line as a Spectre renderable: one line, at most as wide as it is given, so the live display never
/// wraps whatever the terminal's width. It has no title (the lines above it say what runs), so the columns have the
/// room. Between reports its clocks run on from the latest one.
/// </summary>
public sealed class ProgressView : IRenderable
{
    readonly Lock gate = new();
    readonly Stopwatch sinceUpdate = Stopwatch.StartNew();
    ProgressSnapshot? latest;
    bool ended;

    public void Update(ProgressSnapshot snapshot)
    {
        lock (gate)
        {
            latest = snapshot;
            sinceUpdate.Restart();
        }
    }

    /// <summary>The job is over: the clocks stop, and a view that never had a report shows nothing.</summary>
    public void End()
    {
        lock (gate) ended = true;
    }

    /// <summary>The line at <paramref name="width"/>: the latest snapshot with its clocks moved on to now.</summary>
    public string Line(int width)
    {
        ProgressSnapshot? s;
        TimeSpan since;
        bool over;
        lock (gate) (s, since, over) = (latest, sinceUpdate.Elapsed, ended);
        if (s is null) return over ? "" : "starting..."[..Math.Clamp(width, 0, 11)];
        if (!over && s.Done < s.Total)
            s = s with { Elapsed = s.Elapsed + since, Remaining = s.Remaining is { } r ? (r > since ? r - since : TimeSpan.Zero) : null };
        return ProgressLine.Render(s, width);
    }

    public Measurement Measure(RenderOptions options, int maxWidth) => new(Math.Min(1, maxWidth), maxWidth);

    public IEnumerable<Segment> Render(RenderOptions options, int maxWidth) => [new Segment(Line(maxWidth))];
}
