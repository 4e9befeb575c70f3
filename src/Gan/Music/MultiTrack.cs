using NativeGan.Gan.Data;

namespace NativeGan.Gan.Music;

/// <summary>MuseGAN's five tracks (the Lakh Pianoroll Dataset's LPD-5 merge).</summary>
public enum Instrument { Drums, Piano, Guitar, Bass, Strings }

/// <summary>
/// Multi-track piano rolls as MuseGAN (Dong et al. 2018) trains on them: every note of a song goes to one of five
/// tracks by its General MIDI program (drums from channel 10; piano 0-7, guitar 24-31, bass 32-39; everything else to
/// strings, as LPD-5 merges), on a grid of <c>stepsPerBar</c> steps a 4/4 bar (the paper's 96; 48 keeps triplets
/// and sixteenths on the grid at half the cost) and 84 pitches (C1-B7, MIDI 24-107; notes outside fold in by octaves),
/// binarised. A phrase is 4 consecutive bars: samples [5, bars·stepsPerBar, 84].
/// </summary>
public static class MultiTrack
{
    /// <summary>Tracks in a roll, in the order of <see cref="Instrument"/>.</summary>
    public const int Tracks = 5;

    /// <summary>The lowest pitch of the roll (C1) and the number of pitches (7 octaves, to B7).</summary>
    public const int LowestPitch = 24, Pitches = 84;

    /// <summary>Steps in a 4/4 bar unless asked otherwise.</summary>
    public const int DefaultStepsPerBar = 48;

    /// <summary>Bars in a phrase (the paper's 4).</summary>
    public const int DefaultBars = 4;

    /// <summary>The General MIDI program each track is written back with (drums: channel 10).</summary>
    public static readonly IReadOnlyList<int> Programs = [0, 0, 24, 33, 48];

    /// <summary>The track a MIDI track's notes go to.</summary>
    public static Instrument TrackOf(Track track) => track.IsDrum ? Instrument.Drums : track.Program switch
    {
        <= 7 => Instrument.Piano,
        >= 24 and <= 31 => Instrument.Guitar,
        >= 32 and <= 39 => Instrument.Bass,
        _ => Instrument.Strings,
    };

    /// <summary>A pitch folded by octaves into the roll's range, as its row (0-83).</summary>
    public static int Row(int pitch)
    {
        while (pitch < LowestPitch) pitch += 12;
        while (pitch >= LowestPitch + Pitches) pitch -= 12;
        return pitch - LowestPitch;
    }

    /// <summary>
    /// The binarised roll of the whole of <paramref name="song"/> [5, steps, 84] (bars of 4 quarter notes whatever the
    /// time signature says). A note covers the steps from its onset's to its end's (rounded), at least one.
    /// </summary>
    public static (float[] Roll, int Steps) Roll(Song song, int stepsPerBar = DefaultStepsPerBar)
    {
        if (stepsPerBar < 4 || stepsPerBar % 4 != 0) throw new ArgumentOutOfRangeException(nameof(stepsPerBar), stepsPerBar, "MultiTrack.Roll: steps per bar must be a positive multiple of 4");
        double stepsPerTick = stepsPerBar / 4.0 / song.TicksPerQuarter;
        int steps = (int)Math.Ceiling(song.EndTick * stepsPerTick) + 1;
        var roll = new float[(long)Tracks * steps * Pitches];
        foreach (var track in song.Tracks)
        {
            int t = (int)TrackOf(track);
            foreach (var n in track.Notes)
            {
                int from = (int)Math.Round(n.Onset * stepsPerTick), to = Math.Max(from + 1, (int)Math.Round(n.End * stepsPerTick));
                int row = Row(n.Pitch);
                for (int s = from; s < Math.Min(to, steps); s++) roll[((long)t * steps + s) * Pitches + row] = 1;
            }
        }
        return (roll, steps);
    }

    /// <summary>
    /// Phrases of <paramref name="bars"/> bars cut from each song at every bar line, a phrase kept when at least two
    /// of its tracks play (MuseGAN drops near-empty phrases too), as a data set of samples [5, bars·stepsPerBar, 84]
    /// in {0, 1} without labels. <paramref name="hopBars"/>: bars between phrase starts (default a whole phrase).
    /// </summary>
    public static Dataset Phrases(IReadOnlyList<Song> songs, string name, int bars = DefaultBars, int stepsPerBar = DefaultStepsPerBar, int? hopBars = null)
    {
        if (bars < 1) throw new ArgumentOutOfRangeException(nameof(bars), bars, "MultiTrack.Phrases: at least one bar");
        int hop = hopBars ?? bars, length = bars * stepsPerBar;
        if (hop < 1) throw new ArgumentOutOfRangeException(nameof(hopBars), hop, "MultiTrack.Phrases: the hop must be at least one bar");
        var data = new List<float>();
        int count = 0;
        foreach (var song in songs)
        {
            var (roll, steps) = Roll(song, stepsPerBar);
            for (int start = 0; start + length <= steps; start += hop * stepsPerBar)
            {
                var phrase = new float[Tracks * length * Pitches];
                int playing = 0;
                for (int t = 0; t < Tracks; t++)
                {
                    var source = roll.AsSpan((t * steps + start) * Pitches, length * Pitches);
                    source.CopyTo(phrase.AsSpan(t * length * Pitches));
                    if (source.IndexOf(1f) >= 0) playing++;
                }
                if (playing < 2) continue;
                data.AddRange(phrase);
                count++;
            }
        }
        if (count == 0) throw new DataException($"{name}: no {bars}-bar phrase with two or more tracks playing in {songs.Count} songs");
        return new Dataset(name, [.. data], [Tracks, length, Pitches], null, 0);
    }

    /// <summary>
    /// A song of the five tracks of <paramref name="roll"/> [5, steps, 84] (values above <paramref name="threshold"/> are
    /// on; a run of on steps of one pitch is one note), at <paramref name="stepsPerBar"/> steps a 4/4 bar, 120 bpm.
    /// </summary>
    public static Song ToSong(ReadOnlySpan<float> roll, int steps, string name, int stepsPerBar = DefaultStepsPerBar, float threshold = 0.5f)
    {
        if (roll.Length != Tracks * steps * Pitches) throw new ArgumentException($"MultiTrack.ToSong: {roll.Length} values are not a roll of {Tracks}x{steps}x{Pitches}");
        int ticksPerStep = NoteEvents.TicksPerQuarter * 4 / stepsPerBar;
        var tracks = new List<Track>();
        for (int t = 0; t < Tracks; t++)
        {
            var notes = new List<Note>();
            for (int p = 0; p < Pitches; p++)
                for (int s = 0; s < steps;)
                {
                    if (!(roll[(t * steps + s) * Pitches + p] > threshold)) { s++; continue; }
                    int from = s;
                    while (s < steps && roll[(t * steps + s) * Pitches + p] > threshold) s++;
                    notes.Add(new Note((long)from * ticksPerStep, (s - from) * ticksPerStep, LowestPitch + p, t == 0 ? 100 : 80));
                }
            var instrument = (Instrument)t;
            tracks.Add(new Track(instrument.ToString().ToLowerInvariant(), instrument == Instrument.Drums ? Track.DrumChannel : t - 1, Programs[t],
                [.. notes.OrderBy(n => n.Onset).ThenBy(n => n.Pitch)]));
        }
        return new Song(name, NoteEvents.TicksPerQuarter, tracks, [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]);
    }
}

/// <summary>
/// MuseGAN's metrics (Dong et al. 2018, section 5.1) of binarised phrases [5, steps, 84], per track, averaged over
/// phrases: <b>EB</b> the fraction of empty bars; <b>UPC</b> the pitch classes used in a bar (0-12; over the bars that
/// play; pitched tracks); <b>QN</b> (pitched tracks) the fraction of qualified notes, no shorter than a 32nd note (3 steps at the paper's 96 a bar;
/// <c>stepsPerBar</c>/32 here, so at 48 a bar at least 2 steps); <b>DP</b> (drums) the fraction of drum onsets on the
/// sixteenth-note grid; <b>TD</b> the tonal distance (Harte et al. 2006: the Euclidean distance between the 6-D tonal
/// centroids of two tracks' chroma in a bar) for each pair of pitched tracks, over the bars where both play.
/// Metrics that have nothing to average (a track that never plays) are NaN.
/// </summary>
public sealed record MuseGanMetrics(double[] EmptyBars, double[] UsedPitchClasses, double[] QualifiedNotes, double DrumPattern,
    IReadOnlyDictionary<(Instrument, Instrument), double> TonalDistance)
{
    /// <summary>Whether QN can tell notes apart at <paramref name="stepsPerBar"/>: a 32nd note must be longer than one
    /// step, else every note qualifies (QN is 1 for any roll).</summary>
    public static bool QualifiedNotesMeasurable(int stepsPerBar) => stepsPerBar / 32.0 > 1;

    /// <summary>Whether DP can tell onsets apart at <paramref name="stepsPerBar"/>: the sixteenth grid must skip steps,
    /// else every onset is on it (DP is 1 for any roll).</summary>
    public static bool DrumPatternMeasurable(int stepsPerBar) => stepsPerBar / 16 > 1;

    /// <summary>The metrics of every phrase of <paramref name="phrases"/> (samples [5, bars·stepsPerBar, 84]).</summary>
    public static MuseGanMetrics Of(Dataset phrases, int stepsPerBar = MultiTrack.DefaultStepsPerBar)
    {
        var shape = phrases.SampleShape;
        if (shape.Length != 3 || shape[0] != MultiTrack.Tracks || shape[2] != MultiTrack.Pitches || shape[1] % stepsPerBar != 0)
            throw new ArgumentException($"MuseGanMetrics.Of: {phrases.Name} holds samples of shape {string.Join("x", shape)}, not {MultiTrack.Tracks}xBARS·{stepsPerBar}x{MultiTrack.Pitches} phrases");
        int steps = shape[1], bars = steps / stepsPerBar;
        var emptyBars = new double[MultiTrack.Tracks];
        var upcSum = new double[MultiTrack.Tracks];
        var upcCount = new int[MultiTrack.Tracks];
        var qualified = new long[MultiTrack.Tracks];
        var notes = new long[MultiTrack.Tracks];
        long drumOnsets = 0, drumOnGrid = 0;
        var tdSum = new Dictionary<(Instrument, Instrument), double>();
        var tdCount = new Dictionary<(Instrument, Instrument), int>();
        double minimum = stepsPerBar / 32.0;
        int grid = Math.Max(1, stepsPerBar / 16);
        var chroma = new double[MultiTrack.Tracks][];

        for (int i = 0; i < phrases.Count; i++)
        {
            int offset = i * phrases.SampleSize;
            var data = phrases.Data;
            bool On(int t, int s, int p) => data[offset + (t * steps + s) * MultiTrack.Pitches + p] > 0.5f;
            for (int t = 0; t < MultiTrack.Tracks; t++)
                for (int p = 0; p < MultiTrack.Pitches; p++)
                    for (int s = 0; s < steps;)
                    {
                        if (!On(t, s, p)) { s++; continue; }
                        int from = s;
                        while (s < steps && On(t, s, p)) s++;
                        notes[t]++;
                        if (s - from >= minimum) qualified[t]++;
                        if (t == (int)Instrument.Drums)
                        {
                            drumOnsets++;
                            if (from % grid == 0) drumOnGrid++;
                        }
                    }
            for (int b = 0; b < bars; b++)
            {
                for (int t = 0; t < MultiTrack.Tracks; t++)
                {
                    chroma[t] = new double[12];
                    for (int s = b * stepsPerBar; s < (b + 1) * stepsPerBar; s++)
                        for (int p = 0; p < MultiTrack.Pitches; p++)
                            if (On(t, s, p)) chroma[t][(MultiTrack.LowestPitch + p) % 12]++;
                    if (chroma[t].Sum() == 0) { emptyBars[t]++; continue; }
                    upcSum[t] += chroma[t].Count(c => c > 0);
                    upcCount[t]++;
                }
                for (int a = 1; a < MultiTrack.Tracks; a++)
                    for (int c = a + 1; c < MultiTrack.Tracks; c++)
                    {
                        if (chroma[a].Sum() == 0 || chroma[c].Sum() == 0) continue;
                        var key = ((Instrument)a, (Instrument)c);
                        tdSum[key] = tdSum.GetValueOrDefault(key) + TonalDistanceOf(chroma[a], chroma[c]);
                        tdCount[key] = tdCount.GetValueOrDefault(key) + 1;
                    }
            }
        }
        int totalBars = phrases.Count * bars;
        var td = new Dictionary<(Instrument, Instrument), double>();
        for (int a = 1; a < MultiTrack.Tracks; a++)
            for (int c = a + 1; c < MultiTrack.Tracks; c++)
            {
                var key = ((Instrument)a, (Instrument)c);
                td[key] = tdCount.TryGetValue(key, out int n) ? tdSum[key] / n : double.NaN;
            }
        return new MuseGanMetrics(
            [.. emptyBars.Select(e => e / totalBars)],
            [.. Enumerable.Range(0, MultiTrack.Tracks).Select(t => t != (int)Instrument.Drums && upcCount[t] > 0 ? upcSum[t] / upcCount[t] : double.NaN)],
            [.. Enumerable.Range(0, MultiTrack.Tracks).Select(t => t != (int)Instrument.Drums && notes[t] > 0 ? qualified[t] / (double)notes[t] : double.NaN)],
            drumOnsets > 0 ? drumOnGrid / (double)drumOnsets : double.NaN, td);
    }

    /// <summary>Harte et al.'s tonal centroid of a chroma vector (12 pitch-class weights, C first), normalised by its L1 norm:
    /// the circles of fifths (radius 1), minor thirds (1) and major thirds (0.5).</summary>
    public static double[] TonalCentroid(IReadOnlyList<double> chroma)
    {
        double total = chroma.Sum(Math.Abs);
        var z = new double[6];
        if (total == 0) return z;
        for (int l = 0; l < 12; l++)
        {
            double w = chroma[l] / total;
            z[0] += w * Math.Sin(l * 7 * Math.PI / 6);
            z[1] += w * Math.Cos(l * 7 * Math.PI / 6);
            z[2] += w * Math.Sin(l * 3 * Math.PI / 2);
            z[3] += w * Math.Cos(l * 3 * Math.PI / 2);
            z[4] += w * 0.5 * Math.Sin(l * 2 * Math.PI / 3);
            z[5] += w * 0.5 * Math.Cos(l * 2 * Math.PI / 3);
        }
        return z;
    }

    /// <summary>The Euclidean distance between two chroma vectors' tonal centroids.</summary>
    public static double TonalDistanceOf(IReadOnlyList<double> a, IReadOnlyList<double> b)
    {
        var (x, y) = (TonalCentroid(a), TonalCentroid(b));
        return Math.Sqrt(x.Zip(y).Sum(p => (p.First - p.Second) * (p.First - p.Second)));
    }
}
