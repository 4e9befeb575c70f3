using NativeGan.Gan.Data;
using NativeGan.Gan.Music;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.Music;

public class MidiFilesTests
{
    /// <summary>A MIDI variable-length quantity, written by hand (independent of NAudio).</summary>
    static IEnumerable<byte> Vlq(long value)
    {
        var groups = new List<byte> { (byte)(value & 0x7F) };
        for (value >>= 7; value > 0; value >>= 7) groups.Insert(0, (byte)(0x80 | (value & 0x7F)));
        return groups;
    }

    static byte[] Chunk(string id, List<byte> body) =>
        [.. id.Select(c => (byte)c), (byte)(body.Count >> 24), (byte)(body.Count >> 16), (byte)(body.Count >> 8), (byte)body.Count, .. body];

    /// <summary>
    /// A format-1 file assembled byte by byte: 96 ticks a quarter; a conductor track with tempo 600,000 us (100 bpm) and
    /// 3/4 at tick 0, then 4/4 at tick 288; a track "lead" on channel 1 switching from program 40 to 73 at tick 192,
    /// playing 60 (0-96, velocity 100), 64 (96-144, by a velocity-0 note-on), 67 (192-288, program 73), and a note-on
    /// with no note-off; a drum track on channel 10 with two kicks (36) at 0 and 96 of 10 ticks.
    /// </summary>
    static byte[] HandMadeFile()
    {
        var conductor = new List<byte>();
        conductor.AddRange([0x00, 0xFF, 0x51, 0x03, 0x09, 0x27, 0xC0]);           // tempo 600000
        conductor.AddRange([0x00, 0xFF, 0x58, 0x04, 0x03, 0x02, 0x18, 0x08]);     // 3/4
        conductor.AddRange([.. Vlq(288), 0xFF, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08]); // 4/4 at 288
        conductor.AddRange([0x00, 0xFF, 0x2F, 0x00]);

        var lead = new List<byte>();
        lead.AddRange([0x00, 0xFF, 0x03, 0x04, (byte)'l', (byte)'e', (byte)'a', (byte)'d']);
        lead.AddRange([0x00, 0xC0, 40]);
        lead.AddRange([0x00, 0x90, 60, 100]);
        lead.AddRange([.. Vlq(96), 0x80, 60, 0]);
        lead.AddRange([0x00, 0x90, 64, 90]);
        lead.AddRange([.. Vlq(48), 0x90, 64, 0]);                 // velocity 0: a note-off
        lead.AddRange([.. Vlq(48), 0xC0, 73]);
        lead.AddRange([0x00, 0x90, 67, 80]);
        lead.AddRange([.. Vlq(96), 0x80, 67, 64]);
        lead.AddRange([0x00, 0x90, 72, 50]);                      // never released
        lead.AddRange([.. Vlq(10), 0xFF, 0x2F, 0x00]);

        var drums = new List<byte>();
        drums.AddRange([0x00, 0x99, 36, 110]);
        drums.AddRange([.. Vlq(10), 0x89, 36, 0]);
        drums.AddRange([.. Vlq(86), 0x99, 36, 111]);
        drums.AddRange([.. Vlq(10), 0x89, 36, 0]);
        drums.AddRange([0x00, 0xFF, 0x2F, 0x00]);

        return [.. Chunk("MThd", [0, 1, 0, 3, 0, 96]), .. Chunk("MTrk", conductor), .. Chunk("MTrk", lead), .. Chunk("MTrk", drums)];
    }

    [Fact]
    public void A_hand_made_file_reads_as_its_notes_tempo_and_time_signatures()
    {
        var song = MidiFiles.Read(HandMadeFile(), "dir/hand-made.mid");
        Assert.Equal("hand-made", song.Name);
        Assert.Equal(96, song.TicksPerQuarter);
        Assert.Equal([new TempoChange(0, 600_000)], song.Tempos);
        Assert.Equal([new TimeSignature(0, 3, 4), new TimeSignature(288, 4, 4)], song.TimeSignatures);
        Assert.Equal(3, song.Tracks.Count);

        var first = song.Tracks[0];
        Assert.Equal(("lead", 0, 40, false), (first.Name, first.Channel, first.Program, first.IsDrum));
        Assert.Equal([new Note(0, 96, 60, 100), new Note(96, 48, 64, 90)], first.Notes);
        var drums = song.Tracks.Single(t => t.IsDrum);
        Assert.Equal([new Note(0, 10, 36, 110), new Note(96, 10, 36, 111)], drums.Notes);
        var second = song.Tracks.Single(t => t.Program == 73);
        Assert.Equal([new Note(192, 96, 67, 80)], second.Notes);

        // 288 ticks = 3 quarters at 0.6 s each; bars of 3/4 (288 ticks) then of 4/4 (384).
        Assert.Equal(288, song.EndTick);
        Assert.Equal(1.8, song.Seconds, 12);
        Assert.Equal([0L, 288, 672], song.BarStarts(700).ToArray());
    }

    [Fact]
    public void Write_then_read_gives_the_same_song()
    {
        var song = MidiFiles.Read(HandMadeFile(), "hand-made.mid");
        using var dir = new TempDir();
        var path = dir.File("out/again.mid");
        MidiFiles.Write(song, path);
        var again = MidiFiles.Read(path);
        AssertSameMusic(song, again);
        Assert.Equal("again", again.Name);
        Assert.Equal(["lead", "lead", ""], again.Tracks.Select(t => t.Name));
    }

    static void AssertSameMusic(Song expected, Song actual)
    {
        Assert.Equal(expected.TicksPerQuarter, actual.TicksPerQuarter);
        Assert.Equal(expected.Tempos, actual.Tempos);
        Assert.Equal(expected.TimeSignatures, actual.TimeSignatures);
        static IEnumerable<string> Notes(Song s) =>
            s.Tracks.SelectMany(t => t.Notes.Select(n => $"{t.Channel} {(t.IsDrum ? 0 : t.Program)} {n}")).Order(StringComparer.Ordinal);
        Assert.Equal(Notes(expected), Notes(actual));
    }

    [Fact]
    public void Bad_files_are_data_errors_that_name_the_file()
    {
        using var dir = new TempDir();
        var missing = dir.File("missing.mid");
        Assert.Contains("missing.mid", Assert.Throws<DataException>(() => MidiFiles.Read(missing)).Message);
        var text = dir.File("notes.mid");
        File.WriteAllText(text, "these are not MIDI bytes at all");
        var e = Assert.Throws<DataException>(() => MidiFiles.Read(text));
        Assert.Contains(text, e.Message);
        Assert.Contains("MThd", e.Message);

        var file = HandMadeFile();
        var cut = dir.File("cut.mid");
        File.WriteAllBytes(cut, file[..(file.Length - 20)]);
        e = Assert.Throws<DataException>(() => MidiFiles.Read(cut));
        Assert.Contains(cut, e.Message);
        Assert.Contains("truncated", e.Message);
    }

    /// <summary>Every prefix and many random corruptions of a real file either read or throw a <see cref="DataException"/> naming it.</summary>
    [Fact]
    public void Corrupt_files_never_escape_as_other_exceptions()
    {
        var file = HandMadeFile();
        for (int length = 0; length < file.Length; length++)
            ReadOrDataError(file[..length]);
        var random = new Random(7);
        for (int trial = 0; trial < 3000; trial++)
        {
            var bytes = (byte[])file.Clone();
            for (int k = random.Next(1, 4); k > 0; k--) bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
            ReadOrDataError(bytes);
        }

        static void ReadOrDataError(byte[] bytes)
        {
            try { MidiFiles.Read(bytes, "fuzzed.mid"); }
            catch (DataException e) { Assert.Contains("fuzzed.mid", e.Message); }
        }
    }

    [Fact]
    public void Writing_refuses_notes_outside_midi_ranges()
    {
        var song = new Song("bad", 96, [new Track("t", 0, 0, [new Note(0, 10, 128, 100)])], [], []);
        var e = Assert.Throws<ArgumentException>(() => MidiFiles.Write(song, new MemoryStream()));
        Assert.Contains("pitch 0-127", e.Message);
        var channel = new Song("bad", 96, [new Track("t", 16, 0, [])], [], []);
        Assert.Contains("channel 16", Assert.Throws<ArgumentException>(() => MidiFiles.Write(channel, new MemoryStream())).Message);
    }

    /// <summary>
    /// The real game music, fetched from Debian into the data cache: every song of both packages reads as python3-mido
    /// reads it (TestData/music/game-music.json, from tools/midi_golden.py: the note-ons of velocity &gt; 0 on the drum
    /// channel and on the others, the sums of the pitched notes' pitches and velocities, the ticks per quarter, the
    /// time of the last note's end through the tempo map), and survives a write and a read unchanged.
    /// </summary>
    [Fact]
    public void Game_music_reads_as_mido_reads_it_and_round_trips()
    {
        var files = GameMusic.Ensure(DataPaths.DefaultCache());
        using var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "music", "game-music.json")));
        var golden = json.RootElement;
        Assert.Equal(golden.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal), files.Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(31, files.Count(f => f.Contains("openttd-openmsx", StringComparison.Ordinal)));
        foreach (var path in files)
        {
            var song = MidiFiles.Read(path);
            var expected = golden.GetProperty(Path.GetFileName(path));
            var pitched = song.Tracks.Where(t => !t.IsDrum).SelectMany(t => t.Notes).ToList();
            Assert.Equal(expected.GetProperty("ticks_per_beat").GetInt32(), song.TicksPerQuarter);
            Assert.Equal(expected.GetProperty("drum_notes").GetInt32(), song.Tracks.Where(t => t.IsDrum).Sum(t => t.Notes.Count));
            Assert.Equal(expected.GetProperty("pitched_notes").GetInt32(), pitched.Count);
            Assert.Equal(expected.GetProperty("pitch_sum").GetInt64(), pitched.Sum(n => (long)n.Pitch));
            Assert.Equal(expected.GetProperty("velocity_sum").GetInt64(), pitched.Sum(n => (long)n.Velocity));
            Assert.Equal(expected.GetProperty("seconds").GetDouble(), song.Seconds, 1e-4);

            var buffer = new MemoryStream();
            MidiFiles.Write(song, buffer);
            AssertSameMusic(song, MidiFiles.Read(buffer.ToArray(), path));
        }
    }
}
