namespace NativeGan.Gan.Music;

/// <summary>
/// One note: its onset and duration in MIDI ticks (<see cref="Song.TicksPerQuarter"/> to a quarter note), its pitch
/// (MIDI note number, 60 = middle C) and velocity (1-127).
/// </summary>
public readonly record struct Note(long Onset, int Duration, int Pitch, int Velocity)
{
    /// <summary>The tick the note ends at.</summary>
    public long End => Onset + Duration;
}

/// <summary>
/// The notes one instrument plays: a MIDI channel (0-15; 9 is General MIDI's drum channel) and the General MIDI program
/// (0-127) in effect when each note starts. A MIDI track that changes program part way, or plays on several channels,
/// becomes several of these.
/// </summary>
public sealed record Track(string Name, int Channel, int Program, IReadOnlyList<Note> Notes)
{
    /// <summary>General MIDI's percussion channel (channel 10, counted from 1).</summary>
    public const int DrumChannel = 9;

    /// <summary>Whether the notes are drum hits (pitch = which drum), not pitched notes.</summary>
    public bool IsDrum => Channel == DrumChannel;
}

/// <summary>From <see cref="Tick"/> on, a quarter note lasts <see cref="MicrosecondsPerQuarter"/> (120 bpm = 500,000).</summary>
public readonly record struct TempoChange(long Tick, int MicrosecondsPerQuarter)
{
    /// <summary>Beats (quarter notes) per minute.</summary>
    public double Bpm => 60_000_000.0 / MicrosecondsPerQuarter;
}

/// <summary>From <see cref="Tick"/> on, bars of <see cref="Numerator"/> beats of 1/<see cref="Denominator"/> notes.</summary>
public readonly record struct TimeSignature(long Tick, int Numerator, int Denominator);

/// <summary>
/// A piece of music as notes: what a Standard MIDI File holds once its events are paired into notes
/// (<see cref="MidiFiles"/> reads and writes it). Times are in ticks; the tempo map turns them into seconds.
/// </summary>
public sealed record Song(string Name, int TicksPerQuarter, IReadOnlyList<Track> Tracks, IReadOnlyList<TempoChange> Tempos,
    IReadOnlyList<TimeSignature> TimeSignatures)
{
    /// <summary>MIDI's tempo when a file names none: 120 quarter notes a minute.</summary>
    public const int DefaultMicrosecondsPerQuarter = 500_000;

    /// <summary>The tick the last note ends at (0 for a song without notes).</summary>
    public long EndTick => Tracks.SelectMany(t => t.Notes).Select(n => n.End).DefaultIfEmpty(0).Max();

    /// <summary>Every note of every track, pitched and drum.</summary>
    public int NoteCount => Tracks.Sum(t => t.Notes.Count);

    /// <summary>The time of <paramref name="tick"/> in seconds, through the tempo map (120 bpm before the first change).</summary>
    public double SecondsAt(long tick)
    {
        double seconds = 0;
        long at = 0;
        int usPerQuarter = DefaultMicrosecondsPerQuarter;
        foreach (var change in Tempos.OrderBy(t => t.Tick))
        {
            if (change.Tick >= tick) break;
            seconds += (change.Tick - at) * (double)usPerQuarter / TicksPerQuarter / 1e6;
            at = change.Tick;
            usPerQuarter = change.MicrosecondsPerQuarter;
        }
        return seconds + (tick - at) * (double)usPerQuarter / TicksPerQuarter / 1e6;
    }

    /// <summary>The song's length in seconds, to the end of its last note.</summary>
    public double Seconds => SecondsAt(EndTick);

    /// <summary>The time signature in effect at <paramref name="tick"/> (4/4 when the file names none).</summary>
    public TimeSignature TimeSignatureAt(long tick) =>
        TimeSignatures.Where(s => s.Tick <= tick).OrderBy(s => s.Tick).LastOrDefault() is { Numerator: > 0 } s ? s : new TimeSignature(0, 4, 4);

    /// <summary>The ticks at which bars start, from 0 up to <paramref name="endTick"/>, following the time signatures.</summary>
    public IEnumerable<long> BarStarts(long endTick)
    {
        long tick = 0;
        while (tick <= endTick)
        {
            yield return tick;
            var signature = TimeSignatureAt(tick);
            long bar = Math.Max(1, (long)signature.Numerator * TicksPerQuarter * 4 / signature.Denominator);
            // A signature change inside a bar starts a new bar where it changes (files put them on bar lines).
            var next = TimeSignatures.Where(s => s.Tick > tick && s.Tick < tick + bar).Select(s => s.Tick).DefaultIfEmpty(tick + bar).Min();
            tick = next;
        }
    }

    /// <summary>The pitched (non-drum) notes of every track in one list, by onset, then pitch.</summary>
    public List<Note> PitchedNotes() =>
        [.. Tracks.Where(t => !t.IsDrum).SelectMany(t => t.Notes).OrderBy(n => n.Onset).ThenBy(n => n.Pitch)];
}
