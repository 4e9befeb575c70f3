using System.Buffers.Binary;
using NAudio.Midi;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;

namespace NativeGan.Gan.Music;

/// <summary>
/// Standard MIDI Files in and out, through NAudio.Midi (MIT): its reader pairs note-ons with their note-offs, this
/// class turns the events into a <see cref="Song"/> (notes per channel and program, the tempo map, the time
/// signatures) and a song back into a format-1 file. A file that is not MIDI, or is cut short, is a
/// <see cref="DataException"/> naming it.
/// </summary>
public static class MidiFiles
{
    /// <summary>Reads the Standard MIDI File at <paramref name="path"/>.</summary>
    public static Song Read(string path)
    {
        byte[] bytes;
        try { bytes = File.ReadAllBytes(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: cannot read the MIDI file: {e.Message}", e);
        }
        return Read(bytes, path);
    }

    /// <summary>Reads a Standard MIDI File held in <paramref name="bytes"/>; <paramref name="name"/> names it in errors and becomes the song's name (without folder and extension).</summary>
    public static Song Read(byte[] bytes, string name)
    {
        CheckChunks(bytes, name);
        MidiFile file;
        try { file = new MidiFile(new MemoryStream(bytes, writable: false), strictChecking: false); }
        // NAudio says what is wrong in the exception's type and message only.
        catch (Exception e) when (e is FormatException or EndOfStreamException or InvalidDataException or ArgumentException
                                      or IndexOutOfRangeException or OverflowException or NotSupportedException or InvalidOperationException)
        {
            throw new DataException($"{name}: not a readable MIDI file: {e.Message}", e);
        }
        if (file.DeltaTicksPerQuarterNote <= 0 || file.DeltaTicksPerQuarterNote >= 0x8000)
            throw new DataException($"{name}: SMPTE time division ({file.DeltaTicksPerQuarterNote}) is not supported; only ticks per quarter note");
        return ToSong(file, Path.GetFileNameWithoutExtension(name));
    }

    /// <summary>
    /// Checks the chunk layout before NAudio reads the file: an "MThd" header of 6 bytes, then chunks whose lengths fit
    /// the file. A truncated download would otherwise surface as an end-of-stream error with no word of where.
    /// </summary>
    static void CheckChunks(byte[] bytes, string name)
    {
        if (bytes.Length < 14 || bytes[0] != 'M' || bytes[1] != 'T' || bytes[2] != 'h' || bytes[3] != 'd')
            throw new DataException($"{name}: not a Standard MIDI File (it does not start with an MThd header of 14 bytes; {bytes.Length} bytes)");
        uint headerLength = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(4));
        if (headerLength < 6 || headerLength > bytes.Length - 8)
            throw new DataException($"{name}: the MThd header claims {headerLength} bytes (6 expected) in a file of {bytes.Length}");
        int tracks = BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(10));
        long at = 8 + headerLength;
        for (int t = 0; t < tracks; t++)
        {
            if (at + 8 > bytes.Length)
                throw new DataException($"{name}: truncated: the header promises {tracks} tracks, and the file ends after {t} (at byte {bytes.Length})");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan((int)at + 4));
            if (length > bytes.Length - at - 8)
                throw new DataException($"{name}: truncated: chunk {t + 1} at byte {at} claims {length} bytes and only {bytes.Length - at - 8} follow");
            at += 8 + length;
        }
    }

    static Song ToSong(MidiFile file, string name)
    {
        int tpq = file.DeltaTicksPerQuarterNote;
        var tempos = new List<TempoChange>();
        var signatures = new List<TimeSignature>();
        // A program change holds for its channel from its tick on, whichever track carries it.
        var programs = new List<(long Tick, int Channel, int Program)>();
        for (int t = 0; t < file.Tracks; t++)
            foreach (var e in file.Events[t])
                switch (e)
                {
                    case TempoEvent tempo when tempo.MicrosecondsPerQuarterNote > 0:
                        tempos.Add(new TempoChange(tempo.AbsoluteTime, tempo.MicrosecondsPerQuarterNote)); break;
                    case TimeSignatureEvent sig when sig.Numerator > 0 && sig.Denominator < 8:
                        signatures.Add(new TimeSignature(sig.AbsoluteTime, sig.Numerator, 1 << sig.Denominator)); break;
                    case PatchChangeEvent patch:
                        programs.Add((patch.AbsoluteTime, patch.Channel - 1, patch.Patch)); break;
                }
        programs.Sort((a, b) => a.Tick.CompareTo(b.Tick));
        int ProgramAt(int channel, long tick)
        {
            int program = 0;
            foreach (var p in programs)
            {
                if (p.Tick > tick) break;
                if (p.Channel == channel) program = p.Program;
            }
            return program;
        }

        var tracks = new List<Track>();
        for (int t = 0; t < file.Tracks; t++)
        {
            string trackName = file.Events[t].OfType<TextEvent>().FirstOrDefault(e => e.MetaEventType == MetaEventType.SequenceTrackName)?.Text ?? "";
            var groups = new Dictionary<(int Channel, int Program), List<Note>>();
            foreach (var on in file.Events[t].OfType<NoteOnEvent>())
            {
                // Unpaired note-ons (no note-off before the track ends) and velocity-0 note-ons (note-offs) are not notes.
                if (on.OffEvent is null || on.Velocity <= 0) continue;
                int channel = on.Channel - 1;
                var key = (channel, channel == Track.DrumChannel ? 0 : ProgramAt(channel, on.AbsoluteTime));
                if (!groups.TryGetValue(key, out var notes)) groups[key] = notes = [];
                notes.Add(new Note(on.AbsoluteTime, (int)Math.Min(int.MaxValue, on.OffEvent.AbsoluteTime - on.AbsoluteTime), on.NoteNumber, on.Velocity));
            }
            foreach (var ((channel, program), notes) in groups.OrderBy(g => g.Value[0].Onset).ThenBy(g => g.Key.Channel))
                tracks.Add(new Track(trackName, channel, program, [.. notes.OrderBy(n => n.Onset).ThenBy(n => n.Pitch)]));
        }
        return new Song(name, tpq, tracks, [.. tempos.OrderBy(x => x.Tick)], [.. signatures.OrderBy(x => x.Tick)]);
    }

    /// <summary>
    /// Writes <paramref name="song"/> as a format-1 Standard MIDI File at <paramref name="path"/> (atomically): a
    /// conductor track with the song's name, tempo map and time signatures, then one track per <see cref="Track"/>
    /// with its name, its notes and the program changes they need. Reading it back gives the same notes, unless two
    /// tracks of one channel with different programs start notes at the same tick (MIDI cannot say that).
    /// </summary>
    public static void Write(Song song, string path)
    {
        using var buffer = new MemoryStream();
        Write(song, buffer);
        Png.WriteAtomic(path, buffer.ToArray());
    }

    /// <summary>Writes <paramref name="song"/> as a format-1 Standard MIDI File to <paramref name="stream"/>.</summary>
    public static void Write(Song song, Stream stream)
    {
        if (song.TicksPerQuarter is <= 0 or >= 0x8000)
            throw new ArgumentException($"MidiFiles.Write: ticks per quarter note {song.TicksPerQuarter} is outside 1-32767", nameof(song));
        var events = new MidiEventCollection(1, song.TicksPerQuarter);
        var conductor = events.AddTrack();
        conductor.Add(new TextEvent(song.Name, MetaEventType.SequenceTrackName, 0));
        foreach (var tempo in song.Tempos) conductor.Add(new TempoEvent(tempo.MicrosecondsPerQuarter, tempo.Tick));
        foreach (var sig in song.TimeSignatures)
        {
            if (sig.Denominator <= 0 || (sig.Denominator & (sig.Denominator - 1)) != 0)
                throw new ArgumentException($"MidiFiles.Write: time signature {sig.Numerator}/{sig.Denominator} at tick {sig.Tick}: the denominator must be a power of 2", nameof(song));
            conductor.Add(new TimeSignatureEvent(sig.Tick, sig.Numerator, System.Numerics.BitOperations.Log2((uint)sig.Denominator), 24, 8));
        }
        foreach (var track in song.Tracks)
            if (track.Channel is < 0 or > 15)
                throw new ArgumentException($"MidiFiles.Write: track '{track.Name}' has channel {track.Channel}; MIDI has 0-15", nameof(song));
        // A program holds for its whole channel until the next change, whichever track carries it: walk each channel's
        // notes in time and change the program where the next note's differs, in that note's track, before its note-on.
        var changes = song.Tracks.Select(_ => new List<PatchChangeEvent>()).ToArray();
        foreach (var channel in song.Tracks.Select((t, i) => (Track: t, Index: i)).Where(x => !x.Track.IsDrum).GroupBy(x => x.Track.Channel))
        {
            int current = -1;
            foreach (var (onset, program, index) in channel.SelectMany(x => x.Track.Notes.Select(n => (n.Onset, x.Track.Program, x.Index))).OrderBy(x => x.Onset))
            {
                if (program == current) continue;
                changes[index].Add(new PatchChangeEvent(onset, channel.Key + 1, program));
                current = program;
            }
        }
        for (int t = 0; t < song.Tracks.Count; t++)
        {
            var track = song.Tracks[t];
            var list = events.AddTrack();
            list.Add(new TextEvent(track.Name, MetaEventType.SequenceTrackName, 0));
            foreach (var change in changes[t]) list.Add(change);
            foreach (var note in track.Notes)
            {
                if (note.Pitch is < 0 or > 127 || note.Velocity is < 1 or > 127 || note.Duration < 0 || note.Onset < 0)
                    throw new ArgumentException($"MidiFiles.Write: track '{track.Name}': note {note} is outside MIDI's ranges (pitch 0-127, velocity 1-127, onset and duration >= 0)", nameof(song));
                var on = new NoteOnEvent(note.Onset, track.Channel + 1, note.Pitch, note.Velocity, note.Duration);
                list.Add(on);
                list.Add(on.OffEvent!);
            }
        }
        events.PrepareForExport();
        MidiFile.Export(stream, events);
    }
}
