using NativeGan.Gan.Data;

namespace NativeGan.Gan.Music;

/// <summary>
/// Generated music against a real corpus, as C-RNN-GAN's section 4 compares them: the mean of each
/// <see cref="MusicStatistics"/> over excerpts of one length on both sides, each statistic's relative difference, and the
/// total variation distance between the pitch histograms (128 MIDI pitches) and between the note-length histograms
/// (sixteenth notes, 1-32, longer as 32); and, since those do not see timing, the onsets: the share of zero onset gaps
/// (notes starting with the previous one), the mean gap, and the distance between the onset-gap histograms (sixteenths).
/// </summary>
public sealed record MusicComparison(MusicStatistics Real, MusicStatistics Generated, MusicStatistics RelativeDifference,
    double PitchDistance, double LengthDistance, int RealCount, int GeneratedCount)
{
    /// <summary>Bins of the note-length histogram: sixteenths 0 (shorter than half a sixteenth) to 32 and longer.</summary>
    public const int LengthBins = 33;

    /// <summary>The mean share of zero onset gaps per piece (<see cref="MusicStatistics.ZeroGapShareOf"/>), real and generated.</summary>
    public double RealZeroGaps { get; init; }
    public double GeneratedZeroGaps { get; init; }

    /// <summary>The mean onset gap (quarter notes) over all pieces' gaps, real and generated.</summary>
    public double RealMeanGap { get; init; }
    public double GeneratedMeanGap { get; init; }

    /// <summary>The total variation distance between the onset-gap histograms (sixteenths, 0 to 32 and longer).</summary>
    public double GapDistance { get; init; }

    /// <summary>How many of the four statistics lie within <paramref name="tolerance"/> (relative) of the corpus's.</summary>
    public int WithinTolerance(double tolerance = 0.1) =>
        new[] { RelativeDifference.Polyphony, RelativeDifference.ScaleConsistency, RelativeDifference.Repetitions, RelativeDifference.ToneSpan }.Count(d => d <= tolerance);

    /// <summary>Compares <paramref name="generated"/> pieces with <paramref name="real"/> excerpts (their pitched notes).</summary>
    public static MusicComparison Of(IReadOnlyList<Song> real, IReadOnlyList<Song> generated)
    {
        if (real.Count == 0 || generated.Count == 0) throw new ArgumentException($"MusicComparison.Of: {real.Count} real and {generated.Count} generated pieces; both need some");
        var (realStats, realPitch, realLength) = Describe(real);
        var (genStats, genPitch, genLength) = Describe(generated);
        var (realZero, realGap, realGaps) = Timing(real);
        var (genZero, genGap, genGaps) = Timing(generated);
        return new MusicComparison(realStats, genStats, genStats.RelativeDifference(realStats),
            MusicStatistics.TotalVariation(realPitch, genPitch), MusicStatistics.TotalVariation(realLength, genLength), real.Count, generated.Count)
        {
            RealZeroGaps = realZero, GeneratedZeroGaps = genZero, RealMeanGap = realGap, GeneratedMeanGap = genGap,
            GapDistance = MusicStatistics.TotalVariation(realGaps, genGaps),
        };
    }

    /// <summary>The mean zero-gap share per piece, the mean onset gap in quarters and the gap histogram (sixteenths, <see cref="LengthBins"/> bins).</summary>
    public static (double ZeroShare, double MeanGap, double[] Histogram) Timing(IReadOnlyList<Song> songs)
    {
        var pieces = songs.Select(s => (Song: s, Notes: s.PitchedNotes())).Where(x => x.Notes.Count > 1).ToList();
        if (pieces.Count == 0) return (0, 0, new double[LengthBins]);
        var quarters = pieces.SelectMany(x => MusicStatistics.OnsetGaps(x.Notes).Select(g => g / (double)x.Song.TicksPerQuarter)).ToList();
        return (pieces.Average(x => MusicStatistics.ZeroGapShareOf(x.Notes)), quarters.Average(),
            MusicStatistics.Histogram(quarters.Select(q => (int)Math.Round(q * 4)), LengthBins));
    }

    static (MusicStatistics Mean, double[] Pitch, double[] Length) Describe(IReadOnlyList<Song> songs)
    {
        var notes = songs.Select(s => (Song: s, Notes: s.PitchedNotes())).Where(x => x.Notes.Count > 0).ToList();
        if (notes.Count == 0) throw new ArgumentException("MusicComparison.Of: no piece has a pitched note");
        var mean = MusicStatistics.Mean([.. notes.Select(x => MusicStatistics.Of(x.Notes))]);
        var pitch = MusicStatistics.Histogram(notes.SelectMany(x => x.Notes.Select(n => n.Pitch)), 128);
        var length = MusicStatistics.Histogram(notes.SelectMany(x => x.Notes.Select(n => (int)Math.Round(n.Duration * 4.0 / x.Song.TicksPerQuarter))), LengthBins);
        return (mean, pitch, length);
    }

    /// <summary>The excerpts of a data set of note events (<see cref="NoteEvents.Excerpts"/>) as songs.</summary>
    public static List<Song> Songs(Dataset excerpts)
    {
        if (excerpts.SampleShape.Length != 2 || excerpts.SampleShape[1] != NoteEvents.Features)
            throw new ArgumentException($"MusicComparison.Songs: {excerpts.Name} is not note events (samples of shape {string.Join("x", excerpts.SampleShape)})");
        int size = excerpts.SampleSize;
        return [.. Enumerable.Range(0, excerpts.Count).Select(i => NoteEvents.ToSong(excerpts.Data.AsSpan(i * size, size), $"{excerpts.Name} #{i}"))];
    }
}
