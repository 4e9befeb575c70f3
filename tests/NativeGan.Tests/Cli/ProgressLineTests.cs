using System.Text.RegularExpressions;
using NativeGan.Cli;
using Spectre.Console.Testing;

// Not NativeGan.Tests.Cli: that namespace would hide the program's Cli class from the other tests' `Cli.Cli.Run`.
namespace NativeGan.Tests.CommandLine;

/// <summary>
/// The progress line (issue 32): one line that fits 60, 80 and 120 columns, never wrapped, one ETA that counts days,
/// elapsed time, epoch, steps/s and the losses, columns left out least important first; the live display and the
/// plain status lines built from it.
/// </summary>
public partial class ProgressLineTests
{
    const string Title = "train dcgan";

    // 1,234 of 3,000 steps (41%) in epoch 2 at 3.41 steps/s, 6 min 2 s in, 30 h 6 min 35 s to go.
    static readonly ProgressSnapshot Sample = new(1234, 3000, new TimeSpan(0, 6, 2), new TimeSpan(1, 6, 6, 35), 3.41)
    {
        Epoch = 2,
        Losses = [new("loss_d", 0.693f), new("loss_g", 0.712f)],
    };

    // Each column by a piece of its text, in the order they are left out as the width shrinks.
    static readonly (string Column, string Text)[] DropOrder =
    [
        ("loss_g", "loss_g 0.712"), ("loss_d", "loss_d 0.693"), ("title", Title), ("elapsed", "elapsed 00:06:02"), ("bar", "[#"),
        ("epoch", "epoch 2"), ("rate", "3.41 steps/s"), ("counts", "1,234/3,000"), ("percent", "41%"), ("ETA", "ETA 1d 06:06:35"),
    ];

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[A-Za-z]|\][^\x07]*\x07)")]
    private static partial Regex AnsiCode();

    [Theory]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    public void FitsTheWidthOnOneLineWithOneEtaInDays(int width)
    {
        string line = ProgressLine.Render(Sample, width);
        Assert.True(line.Length <= width, $"{line.Length} > {width}: {line}");
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain('\r', line);
        Assert.Contains("ETA 1d 06:06:35", line); // 30 hours, not 06:06:35
        Assert.Single(Regex.Matches(line, "ETA"));
        foreach (var text in new[] { "3.41 steps/s", "epoch 2", "1,234/3,000", "41%" }) Assert.Contains(text, line);
    }

    [Fact]
    public void ShowsEverythingAt120AndDropsTheLossesFirstAt60()
    {
        string wide = ProgressLine.Render(Sample, 120);
        Assert.Equal("[#####.........] 41% 1,234/3,000 epoch 2 | 3.41 steps/s | elapsed 00:06:02 | ETA 1d 06:06:35 | loss_d 0.693 loss_g 0.712", wide);
        string at80 = ProgressLine.Render(Sample, 80);
        Assert.Equal("[########.............] 41% 1,234/3,000 epoch 2 | 3.41 steps/s | ETA 1d 06:06:35", at80);
        string narrow = ProgressLine.Render(Sample, 60);
        Assert.Equal("41% 1,234/3,000 epoch 2 | 3.41 steps/s | ETA 1d 06:06:35", narrow);
        // With a title, it goes right after the losses.
        Assert.Equal("train dcgan [########............] 41% 1,234/3,000 epoch 2 | 3.41 steps/s | elapsed 00:06:02 | ETA 1d 06:06:35",
            ProgressLine.Render(Sample, 110, Title));
        Assert.Equal("[######...........] 41% 1,234/3,000 epoch 2 | 3.41 steps/s | elapsed 00:06:02 | ETA 1d 06:06:35",
            ProgressLine.Render(Sample, 95, Title));
        // With room to spare the bar grows, up to its widest.
        Assert.Contains("[" + new string('#', 16) + new string('.', 24) + "]", ProgressLine.Render(Sample, 200, Title));
    }

    [Fact]
    public void LeavesColumnsOutLeastImportantFirstAtEveryWidth()
    {
        for (int width = 1; width <= 200; width++)
        {
            string line = ProgressLine.Render(Sample, width, Title);
            Assert.True(line.Length <= width, $"{line.Length} > {width}: {line}");
            if (width < "ETA 1d 06:06:35".Length) continue; // only a cut ETA fits
            // The columns present are the last ones of the drop order: none is missing while a less important one shows.
            bool[] present = [.. DropOrder.Select(c => line.Contains(c.Text, StringComparison.Ordinal))];
            for (int k = 1; k < present.Length; k++)
                Assert.True(present[k] || !present[k - 1], $"at {width}: {DropOrder[k].Column} is left out but {DropOrder[k - 1].Column} shows: {line}");
            Assert.True(present[^1], $"at {width}: no ETA: {line}");
        }
    }

    [Fact]
    public void DurationsCountDaysAndRatesKeepThreeDigits()
    {
        Assert.Equal("1d 06:06:35", ProgressLine.Duration(TimeSpan.FromHours(30) + new TimeSpan(0, 6, 35)));
        Assert.Equal("23:59:59", ProgressLine.Duration(new TimeSpan(23, 59, 59)));
        Assert.Equal("12d 00:00:00", ProgressLine.Duration(TimeSpan.FromDays(12)));
        Assert.Equal("00:00:00", ProgressLine.Duration(TimeSpan.FromSeconds(-5)));
        Assert.Equal(["312", "31.2", "3.12", "0.312", "-"], new[] { 312.4, 31.24, 3.124, 0.3124, 0 }.Select(ProgressLine.Rate));
    }

    [Fact]
    public void APlainLineHasEverythingButTheBarAndAnUnknownEtaSaysSo()
    {
        Assert.Equal("train dcgan 41% 1,234/3,000 epoch 2 | 3.41 steps/s | elapsed 00:06:02 | ETA 1d 06:06:35 | loss_d 0.693 loss_g 0.712",
            ProgressLine.Plain(Sample, Title));
        var first = ProgressSnapshot.Measure(0, 500, TimeSpan.FromSeconds(2)) with { Unit = "batches" };
        Assert.Equal("0% 0/500 | - batches/s | elapsed 00:00:02 | ETA ?", ProgressLine.Plain(first));
        var half = ProgressSnapshot.Measure(250, 500, TimeSpan.FromSeconds(100));
        Assert.Equal("50% 250/500 | 2.50 steps/s | elapsed 00:01:40 | ETA 00:01:40", ProgressLine.Plain(half));
    }

    [Theory]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    public void SpectreDrawsTheViewAsOneUnwrappedLine(int width)
    {
        var console = new TestConsole().Width(width);
        var view = new ProgressView();
        view.Update(Sample with { Remaining = Sample.Remaining + TimeSpan.FromSeconds(0.5) }); // the view's clock runs on
        console.Write(view);
        var lines = console.Output.TrimEnd('\n').Split('\n');
        Assert.Single(lines);
        Assert.True(lines[0].Length <= width, $"{lines[0].Length} > {width}: {lines[0]}");
        Assert.Contains("ETA 1d 06:06:3", lines[0]);
        Assert.Contains("steps/s", lines[0]);
        Assert.Equal(width >= 120, lines[0].Contains("loss_d", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(60)]
    [InlineData(80)]
    [InlineData(120)]
    public void TheLiveDisplayRedrawsInPlaceWithoutWrapping(int width)
    {
        var console = new TestConsole().Width(width).Interactive().EmitAnsiSequences();
        int result = ProgressDisplay.Run(console, Title, report =>
        {
            for (int step = 1; step <= 5; step++)
                report(Sample with { Done = step * 600, Elapsed = TimeSpan.FromSeconds(step), Remaining = TimeSpan.FromHours(6 * (5 - step)) });
            return 42;
        }, live: true);
        Assert.Equal(42, result);
        // What is drawn between the cursor moves and carriage returns: each a redraw of the line, none longer than the
        // width (a wrapped one would be).
        var lines = AnsiCode().Replace(console.Output, "\n").Split('\n', '\r').Where(l => l.Length > 0).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.True(l.Length <= width, $"{l.Length} > {width}: {l}"));
        Assert.Contains(lines, l => l.Contains("100% 3,000/3,000", StringComparison.Ordinal) && l.Contains("ETA 00:00:00", StringComparison.Ordinal));
    }

    [Fact]
    public void PlainStatusLinesComeAtIntervalsAndAtTheEndUnwrapped()
    {
        var console = new TestConsole().Width(40); // narrower than a line: the lines must not be wrapped at it
        ProgressDisplay.Run(console, Title, report =>
        {
            for (int step = 1; step <= 3; step++) report(Sample with { Done = step * 100 });
            return 0;
        }, live: false, plainEvery: TimeSpan.FromHours(1));
        var lines = console.Output.TrimEnd('\n').Split('\n');
        // The first report, then nothing within the hour, then where it stopped (an interrupted run stops short).
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("train dcgan 3% 100/3,000 epoch 2 | 3.41 steps/s", lines[0]);
        Assert.StartsWith("train dcgan 10% 300/3,000 epoch 2", lines[1]);
        Assert.All(lines, l => Assert.EndsWith("loss_d 0.693 loss_g 0.712", l));
    }
}
