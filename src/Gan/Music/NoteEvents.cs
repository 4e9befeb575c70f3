using NativeGan.Gan.Data;

namespace NativeGan.Gan.Music;

/// <summary>
/// Music as C-RNN-GAN's sequences of note events: every pitched note of a song, by onset, as four numbers
/// <code>
/// [time since the previous note's onset, duration, pitch, velocity]     (quarter notes, quarter notes, MIDI 0-127, 1-127)
/// </code>
/// (Mogren 2016's quadruplet of time, length, frequency and intensity, in musical units so that tempo drops out;
/// drums are left out, as the paper's pitched corpus has none). A data set is excerpts of a fixed number of events cut
/// from the songs, half an excerpt apart; each model scales the numbers as it needs.
/// </summary>
public static class NoteEvents
{
    /// <summary>Numbers per event.</summary>
    public const int Features = 4;

    /// <summary>Indices of the four numbers of an event.</summary>
    public const int TimeShift = 0, Duration = 1, Pitch = 2, Velocity = 3;

    /// <summary>Events per excerpt unless asked otherwise: several bars of a melody, and few enough recurrent steps to train on a cpu.</summary>
    public const int DefaultLength = 100;

    /// <summary>Ticks per quarter note of songs made from events.</summary>
    public const int TicksPerQuarter = 480;

    /// <summary>The events of <paramref name="song"/>'s pitched notes ([count, 4], row after row).</summary>
    public static float[] Of(Song song)
    {
        var notes = song.PitchedNotes();
        var events = new float[notes.Count * Features];
        long previous = notes.Count > 0 ? notes[0].Onset : 0;
        for (int i = 0; i < notes.Count; i++)
        {
            var n = notes[i];
            events[i * Features + TimeShift] = (float)((n.Onset - previous) / (double)song.TicksPerQuarter);
            events[i * Features + Duration] = (float)(n.Duration / (double)song.TicksPerQuarter);
            events[i * Features + Pitch] = n.Pitch;
            events[i * Features + Velocity] = n.Velocity;
            previous = n.Onset;
        }
        return events;
    }

    /// <summary>
    /// A one-track song (channel 0, General MIDI <paramref name="program"/>) from events [count, 4] (rounded and clamped into
    /// MIDI's ranges: pitch 0-127, velocity 1-127, times at least 0, durations at least one tick).
    /// </summary>
    public static Song ToSong(ReadOnlySpan<float> events, string name, int program = 0, int microsecondsPerQuarter = Song.DefaultMicrosecondsPerQuarter)
    {
        if (events.Length % Features != 0) throw new ArgumentException($"NoteEvents.ToSong: {events.Length} numbers are not events of {Features}");
        var notes = new List<Note>(events.Length / Features);
        double onset = 0;
        for (int i = 0; i < events.Length / Features; i++)
        {
            var e = events.Slice(i * Features, Features);
            onset += Math.Max(0, Finite(e[TimeShift]));
            int duration = (int)Math.Max(1, Math.Round(Math.Max(0, Finite(e[Duration])) * TicksPerQuarter));
            notes.Add(new Note((long)Math.Round(onset * TicksPerQuarter), duration, (int)Math.Clamp(Math.Round(Finite(e[Pitch])), 0, 127),
                (int)Math.Clamp(Math.Round(Finite(e[Velocity])), 1, 127)));
        }
        return new Song(name, TicksPerQuarter, [new Track(name, 0, program, [.. notes.OrderBy(n => n.Onset).ThenBy(n => n.Pitch)])],
            [new TempoChange(0, microsecondsPerQuarter)], [new TimeSignature(0, 4, 4)]);
    }

    static double Finite(float x) => float.IsFinite(x) ? x : 0;

    /// <summary>
    /// Excerpts of <paramref name="length"/> events, cut every <paramref name="length"/>/2 events from each song (a
    /// song shorter than one excerpt gives none), as a data set of samples [length, 4] without labels.
    /// </summary>
    public static Dataset Excerpts(IReadOnlyList<Song> songs, int length, string name)
    {
        if (length < 2) throw new ArgumentOutOfRangeException(nameof(length), length, "NoteEvents.Excerpts: an excerpt needs at least 2 events");
        int hop = Math.Max(1, length / 2);
        var data = new List<float>();
        int count = 0;
        foreach (var song in songs)
        {
            var events = Of(song);
            int n = events.Length / Features;
            for (int start = 0; start + length <= n; start += hop, count++)
            {
                // Each excerpt starts on its first note: no time shift from a note before it.
                int at = data.Count;
                data.AddRange(events.AsSpan(start * Features, length * Features).ToArray());
                data[at + TimeShift] = 0;
            }
        }
        if (count == 0)
            throw new DataException($"{name}: no song has {length} pitched notes for one excerpt ({songs.Count} songs, at most {songs.Select(s => s.PitchedNotes().Count).DefaultIfEmpty(0).Max()} notes)");
        return new Dataset(name, [.. data], [length, Features], null, 0);
    }

    /// <summary>
    /// The songs of a <c>--data</c> value for music: "game-music" (see <see cref="GameMusic"/>), a folder of .mid files, or
    /// one .mid file. Null when <paramref name="spec"/> names no music (an image folder, MNIST, ...).
    /// </summary>
    public static IReadOnlyList<Song>? LoadSongs(string spec, string cacheDir, Action<string>? log = null)
    {
        IReadOnlyList<string> files;
        if (spec.Equals("game-music", StringComparison.OrdinalIgnoreCase)) files = GameMusic.Ensure(cacheDir, log);
        else if (IsMidiFile(spec) && File.Exists(spec)) files = [spec];
        else if (Directory.Exists(spec) && Directory.EnumerateFiles(spec, "*", SearchOption.AllDirectories).Any(IsMidiFile)) files = GameMusic.FilesIn(spec);
        else return null;
        return [.. files.Select(MidiFiles.Read)];
    }

    /// <summary>Checks a music model's <c>data_shape</c>: excerpts of LENGTH events of <see cref="Features"/> numbers.</summary>
    public static void CheckDataShape(string kind, int[] dataShape)
    {
        if (dataShape.Length != 2 || dataShape[1] != Features || dataShape[0] < 2)
            throw new ArgumentException($"{kind}: data_shape must be LENGTH,{Features} (excerpts of note events, see --data game-music), got {string.Join(",", dataShape)}");
    }

    /// <summary>Checks a training batch of excerpts: [N, <paramref name="length"/>, <see cref="Features"/>].</summary>
    public static void CheckBatch(string kind, Tensor samples, int length)
    {
        if (samples.Rank != 3 || samples.Dim(1) != length || samples.Dim(2) != Features)
            throw new TensorShapeException($"{kind}.Step: a batch must be [N, {length}, {Features}] note events, got {Shapes.Format(samples.Shape)}");
    }

    /// <summary>Whether <paramref name="path"/> names a MIDI file (.mid or .midi).</summary>
    public static bool IsMidiFile(string path) =>
        path.EndsWith(".mid", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".midi", StringComparison.OrdinalIgnoreCase);
}
