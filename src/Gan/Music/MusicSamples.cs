namespace NativeGan.Gan.Music;

/// <summary>A music model's progress samples: several pieces one after another, as one piano roll and one MIDI file.</summary>
public static class MusicSamples
{
    /// <summary>Writes <paramref name="pieces"/> joined (<see cref="Join"/>) as a piano roll at <paramref name="path"/> (PNG)
    /// and as a MIDI file beside it (.mid).</summary>
    public static void Write(string path, IReadOnlyList<Song> pieces)
    {
        var joined = Join(pieces, "samples");
        MidiFiles.Write(joined, Path.ChangeExtension(path, ".mid"));
        PianoRoll.Save(joined, path, maxBars: 96, pixelsPerQuarter: 6);
    }

    /// <summary>Songs one after another (each a track of its own, a bar of rest between), as one song.</summary>
    public static Song Join(IReadOnlyList<Song> songs, string name)
    {
        var tracks = new List<Track>();
        long at = 0;
        for (int i = 0; i < songs.Count; i++)
        {
            var song = songs[i];
            double scale = NoteEvents.TicksPerQuarter / (double)song.TicksPerQuarter;
            var notes = song.Tracks.SelectMany(t => t.Notes).Select(n => n with { Onset = at + (long)Math.Round(n.Onset * scale), Duration = (int)Math.Round(n.Duration * scale) }).ToList();
            tracks.Add(new Track($"{song.Name}", i % 15 < 9 ? i % 15 : i % 15 + 1, 0, notes));
            long end = notes.Select(n => n.End).DefaultIfEmpty(at).Max();
            long bar = 4L * NoteEvents.TicksPerQuarter;
            at = (end + bar - 1) / bar * bar + bar;
        }
        return new Song(name, NoteEvents.TicksPerQuarter, tracks, [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]);
    }

}
