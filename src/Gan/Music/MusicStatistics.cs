namespace NativeGan.Gan.Music;

/// <summary>
/// The statistics C-RNN-GAN (Mogren 2016, section 4) compares generated and real music by, over a sequence of pitched
/// notes (onset order), plus the note-length and pitch histograms:
/// <list type="bullet">
/// <item><b>Polyphony</b>: the fraction of onsets (distinct start ticks) at which two or more notes start together.</item>
/// <item><b>Scale consistency</b>: the largest fraction of notes whose pitch class lies in one scale, over the 12 roots
/// of the major, natural minor and harmonic minor scales.</item>
/// <item><b>Repetitions</b>: pairs of equal, non-overlapping pitch subsequences of a length (the paper's
/// <c>midi_statistics.py</c> counts pairs (i, j), j ≥ i + length); per 100 notes of the excerpt, since the raw count
/// grows with its length squared, so excerpts of one length compare.</item>
/// <item><b>Tone span</b>: the highest pitch minus the lowest, in semitones.</item>
/// </list>
/// </summary>
public sealed record MusicStatistics(double Polyphony, double ScaleConsistency, double Repetitions, double ToneSpan)
{
    /// <summary>The subsequence length <see cref="Repetitions"/> counts (C-RNN-GAN reports lengths 2-9; 3 keeps chance matches rare and real motifs counted).</summary>
    public const int RepetitionLength = 3;

    /// <summary>The pitch classes of the major, natural minor and harmonic minor scales on C.</summary>
    public static readonly IReadOnlyList<(string Name, int[] PitchClasses)> Scales =
    [
        ("major", [0, 2, 4, 5, 7, 9, 11]),
        ("natural minor", [0, 2, 3, 5, 7, 8, 10]),
        ("harmonic minor", [0, 2, 3, 5, 7, 8, 11]),
    ];

    /// <summary>The four statistics of <paramref name="notes"/> (pitched notes; sorted here by onset, then pitch).</summary>
    public static MusicStatistics Of(IReadOnlyList<Note> notes)
    {
        if (notes.Count == 0) throw new ArgumentException("MusicStatistics.Of: no notes");
        var sorted = notes.OrderBy(n => n.Onset).ThenBy(n => n.Pitch).ToArray();
        var pitches = sorted.Select(n => n.Pitch).ToArray();
        return new MusicStatistics(PolyphonyOf(sorted), ScaleConsistencyOf(pitches).Fraction,
            RepetitionsOf(pitches, RepetitionLength) * 100.0 / pitches.Length, pitches.Max() - pitches.Min());
    }

    /// <summary>The mean of each statistic over several excerpts (what a corpus or a model's samples report).</summary>
    public static MusicStatistics Mean(IReadOnlyList<MusicStatistics> all)
    {
        if (all.Count == 0) throw new ArgumentException("MusicStatistics.Mean: nothing to average");
        return new MusicStatistics(all.Average(s => s.Polyphony), all.Average(s => s.ScaleConsistency), all.Average(s => s.Repetitions), all.Average(s => s.ToneSpan));
    }

    /// <summary>The fraction of distinct onset ticks at which at least two notes start.</summary>
    public static double PolyphonyOf(IReadOnlyList<Note> notes)
    {
        var perOnset = notes.GroupBy(n => n.Onset).Select(g => g.Count()).ToArray();
        return perOnset.Length == 0 ? 0 : perOnset.Count(c => c >= 2) / (double)perOnset.Length;
    }

    /// <summary>
    /// The onset gaps of <paramref name="notes"/> (sorted by onset): each note's onset minus the previous note's, in ticks
    /// (count - 1 of them; 0 inside a chord). The paper's four statistics do not see timing: a piece of two onsets, one a
    /// 99-note chord, has polyphony 0.5; these gaps do.
    /// </summary>
    public static long[] OnsetGaps(IReadOnlyList<Note> notes)
    {
        var onsets = notes.Select(n => n.Onset).Order().ToArray();
        return [.. Enumerable.Range(1, Math.Max(0, onsets.Length - 1)).Select(i => onsets[i] - onsets[i - 1])];
    }

    /// <summary>The fraction of onset gaps that are 0 (a note starting with the previous one); 0 for fewer than two notes.</summary>
    public static double ZeroGapShareOf(IReadOnlyList<Note> notes)
    {
        var gaps = OnsetGaps(notes);
        return gaps.Length == 0 ? 0 : gaps.Count(g => g == 0) / (double)gaps.Length;
    }

    /// <summary>The scale (root pitch class 0-11, C = 0, and name) holding the most of <paramref name="pitches"/>, and that fraction.</summary>
    public static (int Root, string Scale, double Fraction) ScaleConsistencyOf(IReadOnlyList<int> pitches)
    {
        if (pitches.Count == 0) return (0, Scales[0].Name, 0);
        var classCounts = new int[12];
        foreach (var p in pitches) classCounts[((p % 12) + 12) % 12]++;
        (int Root, string Scale, int Count) best = (0, Scales[0].Name, -1);
        foreach (var (name, classes) in Scales)
            for (int root = 0; root < 12; root++)
            {
                int inScale = classes.Sum(c => classCounts[(root + c) % 12]);
                if (inScale > best.Count) best = (root, name, inScale);
            }
        return (best.Root, best.Scale, best.Count / (double)pitches.Count);
    }

    /// <summary>Pairs (i, j) with j ≥ i + <paramref name="length"/> and pitches[i..i+length) = pitches[j..j+length).</summary>
    public static long RepetitionsOf(IReadOnlyList<int> pitches, int length)
    {
        if (length < 1) throw new ArgumentOutOfRangeException(nameof(length), length, "MusicStatistics.RepetitionsOf: length must be at least 1");
        // Equal subsequences grouped by a hash of their pitches, then counted pairwise within a group: near-linear on real
        // music instead of the reference's all-pairs loop.
        var byKey = new Dictionary<string, List<int>>();
        for (int i = 0; i + length <= pitches.Count; i++)
        {
            var key = string.Join(',', Enumerable.Range(i, length).Select(k => pitches[k]));
            if (!byKey.TryGetValue(key, out var starts)) byKey[key] = starts = [];
            starts.Add(i);
        }
        long pairs = 0;
        foreach (var starts in byKey.Values)
            for (int a = 0; a < starts.Count; a++)
                for (int b = a + 1; b < starts.Count; b++)
                    if (starts[b] - starts[a] >= length) pairs++;
        return pairs;
    }

    /// <summary>
    /// Each statistic's relative difference from <paramref name="reference"/>'s, |this - ref| / |ref| (the issue's "within
    /// 10%"); a reference of 0 gives the absolute difference.
    /// </summary>
    public MusicStatistics RelativeDifference(MusicStatistics reference)
    {
        static double Rel(double x, double r) => r == 0 ? Math.Abs(x) : Math.Abs(x - r) / Math.Abs(r);
        return new MusicStatistics(Rel(Polyphony, reference.Polyphony), Rel(ScaleConsistency, reference.ScaleConsistency),
            Rel(Repetitions, reference.Repetitions), Rel(ToneSpan, reference.ToneSpan));
    }

    /// <summary>A normalised histogram of <paramref name="values"/> into <paramref name="bins"/> bins (the last one also takes
    /// everything above; negatives go to bin 0).</summary>
    public static double[] Histogram(IEnumerable<int> values, int bins)
    {
        var counts = new double[bins];
        int total = 0;
        foreach (var v in values) { counts[Math.Clamp(v, 0, bins - 1)]++; total++; }
        if (total > 0) for (int i = 0; i < bins; i++) counts[i] /= total;
        return counts;
    }

    /// <summary>The total variation distance between two histograms of one binning: half the sum of |p - q|, in [0, 1].</summary>
    public static double TotalVariation(IReadOnlyList<double> p, IReadOnlyList<double> q)
    {
        if (p.Count != q.Count) throw new ArgumentException($"MusicStatistics.TotalVariation: {p.Count} bins against {q.Count}");
        double sum = 0;
        for (int i = 0; i < p.Count; i++) sum += Math.Abs(p[i] - q[i]);
        return sum / 2;
    }
}
