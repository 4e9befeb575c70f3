using NativeGan.Gan.Data;
using NativeGan.Gan.Music;

namespace NativeGan.Tests.Music;

public class MusicStatisticsTests
{
    static Note N(long onset, int pitch, int duration = 10) => new(onset, duration, pitch, 90);

    [Fact]
    public void Statistics_of_a_hand_made_note_list()
    {
        // Onsets 0 (C E G: a chord), 10 (D), 20 (F, A: two), 30 (C#): 4 onsets, 2 of them polyphonic.
        Note[] notes = [N(0, 60), N(0, 64), N(0, 67), N(10, 62), N(20, 65), N(20, 69), N(30, 61)];
        var s = MusicStatistics.Of(notes);
        Assert.Equal(0.5, s.Polyphony, 12);
        // C major holds all but C# (6 of 7); no scale holds all 7 (C, C#, D, E, F, G, A).
        Assert.Equal(6 / 7.0, s.ScaleConsistency, 12);
        Assert.Equal(69 - 60, s.ToneSpan);
        Assert.Equal(0, s.Repetitions);
    }

    [Fact]
    public void Onset_gaps_and_the_zero_gap_share_of_a_hand_made_note_list()
    {
        // Onsets 0 0 0 | 10 | 20 20 | 30 (given out of order): gaps 0 0 10 10 0 10, three of six zero.
        Note[] notes = [N(20, 69), N(0, 60), N(30, 61), N(0, 64), N(10, 62), N(0, 67), N(20, 65)];
        Assert.Equal([0L, 0, 10, 10, 0, 10], MusicStatistics.OnsetGaps(notes));
        Assert.Equal(0.5, MusicStatistics.ZeroGapShareOf(notes), 12);
        // One giant chord: every gap zero, though polyphony (one onset, a chord) says nothing odd about it.
        Note[] chord = [N(0, 60), N(0, 62), N(0, 64), N(0, 65)];
        Assert.Equal(1.0, MusicStatistics.ZeroGapShareOf(chord));
        Assert.Equal(0.0, MusicStatistics.ZeroGapShareOf([N(5, 60)]));
        Assert.Empty(MusicStatistics.OnsetGaps([N(5, 60)]));
    }

    [Fact]
    public void The_comparison_reports_timing_the_four_statistics_miss()
    {
        // Real: a melody of eighths (gaps 240 ticks at 480 a quarter = 2 sixteenths); generated: the same pitches as one chord.
        static Song Of(long step) => new("s", 480, [new Track("t", 0, 0, [.. Enumerable.Range(0, 5).Select(i => new Note(i * step, 240, 60 + 2 * i, 90))])], [], []);
        var c = MusicComparison.Of([Of(240), Of(240)], [Of(0), Of(240)]);
        Assert.Equal(0.0, c.RealZeroGaps);
        Assert.Equal(0.5, c.GeneratedZeroGaps, 12);          // pieces 1 and 0
        Assert.Equal(0.5, c.RealMeanGap, 12);                // quarters
        Assert.Equal(0.25, c.GeneratedMeanGap, 12);          // four gaps of 0 and four of 0.5
        Assert.Equal(0.5, c.GapDistance, 12);                // real all in bin 2; generated half in bin 0, half in bin 2
        Assert.Equal(c.Real.ToneSpan, c.Generated.ToneSpan); // the span sees nothing
    }

    [Fact]
    public void Scale_consistency_finds_the_key()
    {
        // A harmonic minor: A B C D E F G#; G# rules out C major and A natural minor.
        int[] pitches = [57, 59, 60, 62, 64, 65, 68, 69];
        var (root, scale, fraction) = MusicStatistics.ScaleConsistencyOf(pitches);
        Assert.Equal((9, "harmonic minor", 1.0), (root, scale, fraction));
        Assert.Equal(7 / 8.0, MusicStatistics.ScaleConsistencyOf([60, 62, 64, 65, 67, 69, 71, 66]).Fraction, 12);
    }

    [Fact]
    public void Repetitions_count_equal_non_overlapping_pairs_as_a_brute_force_does()
    {
        var random = new Random(5);
        for (int trial = 0; trial < 50; trial++)
        {
            var pitches = Enumerable.Range(0, random.Next(0, 40)).Select(_ => 60 + random.Next(3)).ToArray();
            for (int length = 1; length <= 4; length++)
            {
                long brute = 0;
                for (int i = 0; i + length <= pitches.Length; i++)
                    for (int j = i + length; j + length <= pitches.Length; j++)
                        if (pitches.AsSpan(i, length).SequenceEqual(pitches.AsSpan(j, length))) brute++;
                Assert.Equal(brute, MusicStatistics.RepetitionsOf(pitches, length));
            }
        }
        // 1 2 3 1 2 3 1 2 3: "1 2 3" at 0, 3, 6 (three pairs), "2 3 1" at 1, 4 and "3 1 2" at 2, 5 (one each).
        Assert.Equal(5, MusicStatistics.RepetitionsOf([1, 2, 3, 1, 2, 3, 1, 2, 3], 3));
        Assert.Equal(0, MusicStatistics.RepetitionsOf([1, 1, 1], 2));  // the two "1 1" overlap
    }

    [Fact]
    public void Histograms_and_their_distance()
    {
        var p = MusicStatistics.Histogram([0, 1, 1, 5, -3], 3);
        Assert.Equal([0.4, 0.4, 0.2], p);
        Assert.Equal(0.0, MusicStatistics.TotalVariation(p, p));
        Assert.Equal(1.0, MusicStatistics.TotalVariation([1, 0], [0, 1]));
        var d = new MusicStatistics(1, 1, 1, 1).RelativeDifference(new MusicStatistics(2, 1, 0, 1));
        Assert.Equal((0.5, 0.0, 1.0, 0.0), (d.Polyphony, d.ScaleConsistency, d.Repetitions, d.ToneSpan));
    }

    [Fact]
    public void Note_events_round_trip_through_a_song()
    {
        // Ticks 480 a quarter: events in quarters are exact binary fractions here.
        Note[] notes = [new(0, 240, 60, 100), new(0, 480, 64, 80), new(120, 60, 67, 70), new(960, 960, 72, 127)];
        var song = new Song("s", 480, [new Track("t", 0, 0, notes), new Track("drums", Track.DrumChannel, 0, [new(0, 10, 36, 100)])], [], []);
        var events = NoteEvents.Of(song);
        Assert.Equal(new float[] { 0, 0.5f, 60, 100, 0, 1, 64, 80, 0.25f, 0.125f, 67, 70, 1.75f, 2, 72, 127 }, events);
        var back = NoteEvents.ToSong(events, "back");
        Assert.Equal(notes, back.Tracks.Single().Notes);
        // Out-of-range numbers clamp into MIDI's ranges; NaN counts as 0.
        var odd = NoteEvents.ToSong([-1, 0, 200, 0, float.NaN, 0.0001f, -5, 300], "odd").Tracks[0].Notes;
        Assert.Equal([new Note(0, 1, 0, 127), new Note(0, 1, 127, 1)], odd.OrderBy(n => n.Pitch));
    }

    [Fact]
    public void Excerpts_cut_half_an_excerpt_apart_and_start_without_a_time_shift()
    {
        var notes = Enumerable.Range(0, 10).Select(i => new Note(i * 480, 240, 60 + i, 90)).ToList();
        var song = new Song("ten", 480, [new Track("t", 0, 0, notes)], [], []);
        var data = NoteEvents.Excerpts([song], 4, "ten notes");
        Assert.Equal([4, NoteEvents.Features], data.SampleShape);
        Assert.Equal(4, data.Count);          // starts 0, 2, 4, 6
        Assert.Equal(0, data.Data[2 * 16 + NoteEvents.TimeShift]);
        Assert.Equal(1, data.Data[2 * 16 + 4 + NoteEvents.TimeShift]);
        Assert.Equal(64, data.Data[2 * 16 + NoteEvents.Pitch]);
        Assert.Contains("no song has 11 pitched notes", Assert.Throws<DataException>(() => NoteEvents.Excerpts([song], 11, "ten notes")).Message);
    }

    [Fact]
    public void A_quantised_piano_roll_and_its_picture()
    {
        // 4 steps a quarter at 96 ticks: 24 ticks a step.
        Note[] notes = [new(0, 48, 60, 90), new(24, 5, 62, 90), new(100, 50, 64, 90)];
        var (roll, steps) = PianoRoll.Quantise(notes, 96);
        Assert.Equal(6, steps);
        bool On(int step, int pitch) => roll[step * 128 + pitch] == 1;
        Assert.True(On(0, 60) && On(1, 60) && !On(2, 60));
        Assert.True(On(1, 62) && !On(2, 62));   // shorter than a step: still one step
        Assert.True(On(4, 64) && On(5, 64) && !On(3, 64));
        Assert.Equal(5, roll.Count(x => x == 1));

        var song = new Song("p", 96, [new Track("lead", 0, 81, notes), new Track("kit", Track.DrumChannel, 0, [new(0, 10, 36, 100)])], [], []);
        var canvas = PianoRoll.Draw(song, pixelsPerQuarter: 12);
        var lead = Gan.Pictures.Palette.Get(0);
        var kit = Gan.Pictures.Palette.Get(1);
        int Count(Gan.Pictures.Rgb colour) => Enumerable.Range(0, canvas.Width * canvas.Height).Count(i => canvas.GetPixel(i % canvas.Width, i / canvas.Width) == colour);
        Assert.True(Count(lead) > 0 && Count(kit) > 0);
        Assert.Equal("synth lead (program 81)", PianoRoll.Instrument(song.Tracks[0]));
        Assert.Equal("drums", PianoRoll.Instrument(song.Tracks[1]));
    }
}

public class MusicComparisonTests
{
    [Fact]
    public void A_corpus_against_itself_differs_by_nothing_and_against_a_shifted_copy_by_its_pitches()
    {
        var random = new Random(3);
        var songs = Enumerable.Range(0, 5).Select(i => NoteEvents.ToSong(
            [.. Enumerable.Range(0, 12).SelectMany(_ => new float[] { random.Next(3) / 4f, (1 + random.Next(8)) / 4f, 55 + random.Next(12), 90 })], $"s{i}")).ToList();
        var same = MusicComparison.Of(songs, songs);
        Assert.Equal(0, same.PitchDistance);
        Assert.Equal(0, same.LengthDistance);
        Assert.Equal(4, same.WithinTolerance(0));
        Assert.Equal(same.Real, same.Generated);

        // Two octaves up: pitches disjoint (distance 1), lengths, polyphony, scale and span unchanged.
        var up = songs.Select(s => s with { Tracks = [s.Tracks[0] with { Notes = [.. s.Tracks[0].Notes.Select(n => n with { Pitch = n.Pitch + 24 })] }] }).ToList();
        var c = MusicComparison.Of(songs, up);
        Assert.Equal(1, c.PitchDistance, 12);
        Assert.Equal(0, c.LengthDistance);
        Assert.Equal(same.Real, c.Generated);
    }

    [Fact]
    public void Excerpts_become_songs_with_their_notes()
    {
        var notes = Enumerable.Range(0, 6).Select(i => new Note(i * 240, 120, 60 + i, 80)).ToList();
        var data = NoteEvents.Excerpts([new Song("six", 480, [new Track("t", 0, 0, notes)], [], [])], 4, "six");
        var songs = MusicComparison.Songs(data);
        Assert.Equal(2, songs.Count);  // starts 0 and 2
        Assert.Equal(notes.Skip(2).Take(4).Select(n => n with { Onset = n.Onset - 480 }), songs[1].Tracks[0].Notes);
        Assert.Throws<ArgumentException>(() => MusicComparison.Songs(new Dataset("img", new float[16], [1, 4, 4], null, 0)));
    }
}
