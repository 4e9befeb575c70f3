using NativeGan.Gan.Data;
using NativeGan.Gan.Music;

namespace NativeGan.Tests.Music;

public class MultiTrackTests
{
    // 96 ticks a quarter, 16 steps a bar: 4 steps a quarter, 24 ticks a step.
    const int Tpq = 96, PerBar = 16;

    static Note At(int step, int steps, int pitch) => new(step * 24L, steps * 24, pitch, 90);

    [Fact]
    public void Tracks_map_by_program_family_as_lpd5_merges()
    {
        Track T(int program, int channel = 0) => new("t", channel, program, []);
        Assert.Equal(Instrument.Piano, MultiTrack.TrackOf(T(0)));
        Assert.Equal(Instrument.Piano, MultiTrack.TrackOf(T(7)));
        Assert.Equal(Instrument.Strings, MultiTrack.TrackOf(T(8)));    // chromatic percussion: not one of the four
        Assert.Equal(Instrument.Guitar, MultiTrack.TrackOf(T(25)));
        Assert.Equal(Instrument.Bass, MultiTrack.TrackOf(T(33)));
        Assert.Equal(Instrument.Strings, MultiTrack.TrackOf(T(48)));
        Assert.Equal(Instrument.Strings, MultiTrack.TrackOf(T(81)));
        Assert.Equal(Instrument.Drums, MultiTrack.TrackOf(T(33, Track.DrumChannel)));
        Assert.Equal(0, MultiTrack.Row(12));    // C0 folds up to C1
        Assert.Equal(83, MultiTrack.Row(107));  // B7
        Assert.Equal(72, MultiTrack.Row(120));  // C9 folds down to C7
    }

    [Fact]
    public void A_crafted_song_rolls_phrases_and_comes_back()
    {
        // Two 4-bar phrases (8 bars of 16 steps): piano and bass play in both, a lead (program 81: strings) in the first only;
        // drums in the second. Bar 8's last note ends the song.
        var song = new Song("crafted", Tpq,
        [
            new Track("piano", 0, 1, [At(0, 4, 60), At(16, 2, 64), At(70, 8, 67)]),
            new Track("bass", 1, 34, [At(0, 16, 36), At(64, 16, 38)]),
            new Track("lead", 2, 81, [At(4, 4, 72)]),
            new Track("kit", Track.DrumChannel, 0, [At(64, 1, 36), At(66, 1, 38), At(127, 1, 42)]),
        ], [], []);
        var (roll, steps) = MultiTrack.Roll(song, PerBar);
        Assert.Equal(129, steps);
        bool On(int t, int s, int pitch) => roll[(t * steps + s) * MultiTrack.Pitches + pitch - MultiTrack.LowestPitch] == 1;
        Assert.True(On(1, 0, 60) && On(1, 3, 60) && !On(1, 4, 60));
        Assert.True(On(3, 15, 36) && !On(3, 16, 36));
        Assert.True(On(4, 4, 72) && On(0, 127, 42));
        Assert.Equal(4 + 2 + 8 + 16 + 16 + 4 + 3, roll.Count(x => x == 1));

        var data = MultiTrack.Phrases([song], "crafted", bars: 4, stepsPerBar: PerBar);
        Assert.Equal([5, 64, 84], data.SampleShape);
        Assert.Equal(2, data.Count);
        var first = MultiTrack.ToSong(data.Data.AsSpan(0, data.SampleSize), 64, "first", PerBar);
        Assert.Equal(["drums", "piano", "guitar", "bass", "strings"], first.Tracks.Select(t => t.Name));
        Assert.Equal(Track.DrumChannel, first.Tracks[0].Channel);
        Assert.Equal([At(0, 4, 60), At(16, 2, 64)], first.Tracks[1].Notes.Select(n => n with { Onset = n.Onset * Tpq / NoteEvents.TicksPerQuarter, Duration = n.Duration * Tpq / NoteEvents.TicksPerQuarter, Velocity = 90 }));
        Assert.Single(first.Tracks[4].Notes);
        Assert.Empty(first.Tracks[0].Notes);

        // Only the piano plays in a 1-bar phrase at bar 2 (steps 16-31): dropped; no phrase at all is a data error.
        var lonely = new Song("lonely", Tpq, [new Track("p", 0, 0, [At(0, 4, 60)])], [], []);
        Assert.Contains("no 1-bar phrase", Assert.Throws<DataException>(() => MultiTrack.Phrases([lonely], "lonely", 1, PerBar)).Message);
    }

    /// <summary>A one-phrase data set of 2 bars of 16 steps from (track, step, steps, pitch) notes.</summary>
    static Dataset Phrase(params (Instrument Track, int Step, int Steps, int Pitch)[] notes)
    {
        int steps = 2 * PerBar;
        var roll = new float[5 * steps * 84];
        foreach (var (t, s, n, p) in notes)
            for (int k = s; k < s + n; k++) roll[((int)t * steps + k) * 84 + p - 24] = 1;
        return new Dataset("hand", roll, [5, steps, 84], null, 0);
    }

    [Fact]
    public void Musegan_metrics_of_hand_made_rolls()
    {
        var m = MuseGanMetrics.Of(Phrase(
            (Instrument.Piano, 0, 1, 60), (Instrument.Piano, 2, 3, 64), (Instrument.Piano, 8, 1, 72),   // bar 1: C, E, C: 2 classes
            (Instrument.Bass, 0, 4, 36), (Instrument.Bass, 16, 4, 43),                                  // both bars: C, then G
            (Instrument.Drums, 0, 1, 36), (Instrument.Drums, 4, 1, 38), (Instrument.Drums, 7, 1, 42), (Instrument.Drums, 20, 1, 36)),
            PerBar);
        Assert.Equal([0.0, 0.5, 1.0, 0.0, 1.0], m.EmptyBars);
        Assert.Equal(2.0, m.UsedPitchClasses[(int)Instrument.Piano]);
        Assert.Equal(1.0, m.UsedPitchClasses[(int)Instrument.Bass]);
        Assert.True(double.IsNaN(m.UsedPitchClasses[(int)Instrument.Guitar]));
        // At 16 steps a bar a 32nd note is half a step: every note qualifies.
        Assert.Equal(1.0, m.QualifiedNotes[(int)Instrument.Piano]);
        // 16 steps a bar: the sixteenth grid is every step, so every drum onset is on it.
        Assert.Equal(1.0, m.DrumPattern);
        // Bar 1: piano C for 2 steps and E for 3 against bass C; bar 2: the piano is silent.
        Assert.Equal(MuseGanMetrics.TonalDistanceOf([2, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0, 0], [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), m.TonalDistance[(Instrument.Piano, Instrument.Bass)], 12);
        Assert.True(double.IsNaN(m.TonalDistance[(Instrument.Guitar, Instrument.Strings)]));

        // At 48 steps a bar: a 32nd is 1.5 steps, so 1-step notes do not qualify; the sixteenth grid is every 3rd step.
        var fine = new float[5 * 48 * 84];
        void Set(Instrument t, int s, int n, int p) { for (int k = s; k < s + n; k++) fine[((int)t * 48 + k) * 84 + p - 24] = 1; }
        Set(Instrument.Guitar, 0, 1, 60); Set(Instrument.Guitar, 3, 2, 62); Set(Instrument.Guitar, 10, 6, 64);
        Set(Instrument.Drums, 0, 1, 36); Set(Instrument.Drums, 3, 1, 36); Set(Instrument.Drums, 4, 1, 38); Set(Instrument.Drums, 24, 1, 38);
        var f = MuseGanMetrics.Of(new Dataset("fine", fine, [5, 48, 84], null, 0), 48);
        Assert.Equal(2 / 3.0, f.QualifiedNotes[(int)Instrument.Guitar], 12);
        Assert.Equal(3 / 4.0, f.DrumPattern, 12);
        // What eval musegan counts: QN and DP only where they can tell rolls apart (as the two grids above show).
        Assert.False(MuseGanMetrics.QualifiedNotesMeasurable(16));
        Assert.False(MuseGanMetrics.DrumPatternMeasurable(16));
        Assert.True(MuseGanMetrics.QualifiedNotesMeasurable(48));
        Assert.True(MuseGanMetrics.DrumPatternMeasurable(48));
        Assert.False(MuseGanMetrics.QualifiedNotesMeasurable(32));
        Assert.True(MuseGanMetrics.DrumPatternMeasurable(32));
    }

    [Fact]
    public void Tonal_distance_of_c_against_g_by_hand()
    {
        // Tonal centroids (Harte et al. 2006), for a single pitch class l: (sin, cos)(7πl/6), (sin, cos)(3πl/2), 0.5 (sin, cos)(2πl/3).
        // C (l = 0): (0, 1, 0, 1, 0, 0.5). G (l = 7): 49π/6 ≡ π/6: (1/2, √3/2); 21π/2 ≡ π/2: (1, 0); 14π/3 ≡ 2π/3: 0.5 (√3/2, -1/2).
        double[] c = [0, 1, 0, 1, 0, 0.5], g = [0.5, Math.Sqrt(3) / 2, 1, 0, Math.Sqrt(3) / 4, -0.25];
        var chromaC = new double[12]; chromaC[0] = 3;
        var chromaG = new double[12]; chromaG[7] = 1;
        Assert.Equal(c, MuseGanMetrics.TonalCentroid(chromaC), new Near());
        Assert.Equal(g, MuseGanMetrics.TonalCentroid(chromaG), new Near());
        Assert.Equal(Math.Sqrt(c.Zip(g).Sum(p => (p.First - p.Second) * (p.First - p.Second))), MuseGanMetrics.TonalDistanceOf(chromaC, chromaG), 12);
        Assert.Equal(0, MuseGanMetrics.TonalDistanceOf(chromaC, chromaC));
    }

    sealed class Near : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) < 1e-12;
        public int GetHashCode(double obj) => 0;
    }
}
