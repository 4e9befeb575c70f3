using NativeGan.Gan.Pictures;

namespace NativeGan.Gan.Music;

/// <summary>
/// A song as a piano-roll picture: time to the right, pitch up, one colour per track, drums in a lane of their own below
/// (a row per drum), bars marked and numbered, the C of every octave labelled, and a legend of the tracks with their
/// General MIDI instrument families.
/// </summary>
public static class PianoRoll
{
    /// <summary>General MIDI's 16 instrument families, program / 8.</summary>
    public static readonly IReadOnlyList<string> Families =
    [
        "piano", "chromatic percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
        "reed", "pipe", "synth lead", "synth pad", "synth effects", "ethnic", "percussive", "sound effects",
    ];

    /// <summary>The instrument a track plays, in words: "drums", or its General MIDI family and program.</summary>
    public static string Instrument(Track track) => track.IsDrum ? "drums" : $"{Families[Math.Clamp(track.Program, 0, 127) / 8]} (program {track.Program})";

    const int RowHeight = 3, Left = 34, Top = 14, LegendRow = 10, Right = 6;

    /// <summary>
    /// Draws the first <paramref name="maxBars"/> bars of <paramref name="song"/> (all when it is shorter), at
    /// <paramref name="pixelsPerQuarter"/> pixels a quarter note.
    /// </summary>
    public static Canvas Draw(Song song, int maxBars = 32, int pixelsPerQuarter = 12)
    {
        if (maxBars < 1 || pixelsPerQuarter < 1) throw new ArgumentException($"PianoRoll.Draw: maxBars ({maxBars}) and pixelsPerQuarter ({pixelsPerQuarter}) must be at least 1");
        var bars = song.BarStarts(Math.Max(song.EndTick, 1)).Take(maxBars + 1).ToList();
        long endTick = bars.Count > maxBars ? bars[maxBars] : Math.Max(song.EndTick, 1);
        double pxPerTick = pixelsPerQuarter / (double)song.TicksPerQuarter;
        int rollWidth = Math.Max(1, (int)Math.Ceiling(endTick * pxPerTick));

        var pitched = song.Tracks.Where(t => !t.IsDrum).SelectMany(t => t.Notes).Where(n => n.Onset < endTick).Select(n => n.Pitch).ToList();
        int lo = pitched.Count > 0 ? pitched.Min() - 1 : 59, hi = pitched.Count > 0 ? pitched.Max() + 1 : 73;
        var drums = song.Tracks.Where(t => t.IsDrum).SelectMany(t => t.Notes).Where(n => n.Onset < endTick).Select(n => n.Pitch).Distinct().Order().ToList();
        int pitchHeight = (hi - lo + 1) * RowHeight;
        int drumTop = Top + pitchHeight + (drums.Count > 0 ? 6 : 0);
        int rollBottom = drumTop + drums.Count * RowHeight;
        var tracks = song.Tracks.Select((t, i) => (Track: t, Colour: Palette.Get(i))).ToList();
        int height = rollBottom + 4 + Math.Max(1, tracks.Count) * LegendRow + 2;
        var legends = tracks.Select(x => $"{(x.Track.Name.Length > 0 ? $"{x.Track.Name}: " : "")}{Instrument(x.Track)}, {x.Track.Notes.Count} notes").ToList();
        int legendWidth = legends.Select(l => BitmapFont.Measure(l).Width).DefaultIfEmpty(0).Max() + Left + 12 + Right;
        var canvas = new Canvas(Math.Max(Left + rollWidth + Right, legendWidth), height, Rgb.White);

        // The roll's background: octaves in alternating shades, bars as lines (every fourth darker, numbered).
        for (int p = lo; p <= hi; p++)
            if (p / 12 % 2 == 0) canvas.FillRect(Left, Y(p), rollWidth, RowHeight, new Rgb(246, 246, 246));
        if (drums.Count > 0) canvas.FillRect(Left, drumTop, rollWidth, drums.Count * RowHeight, new Rgb(240, 240, 236));
        for (int b = 0; b < Math.Min(bars.Count, maxBars + 1); b++)
        {
            int x = Left + (int)Math.Round(bars[b] * pxPerTick);
            if (x >= Left + rollWidth) break;
            canvas.FillRect(x, Top, 1, rollBottom - Top, b % 4 == 0 ? new Rgb(150, 150, 150) : new Rgb(215, 215, 215));
            if (b % 4 == 0) canvas.DrawText((b + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), x + 2, 3, Rgb.Gray);
        }
        for (int p = lo; p <= hi; p++)
            if (p % 12 == 0) canvas.DrawText($"C{p / 12 - 1}", 2, Y(p) - 3, Rgb.Gray);
        if (drums.Count > 0) canvas.DrawText("drum", 2, drumTop, Rgb.Gray);

        foreach (var (track, colour) in tracks)
            foreach (var n in track.Notes)
            {
                if (n.Onset >= endTick) continue;
                int x0 = Left + (int)Math.Round(n.Onset * pxPerTick);
                int x1 = Left + (int)Math.Round(Math.Min(n.End, endTick) * pxPerTick);
                int y = track.IsDrum ? drumTop + drums.IndexOf(n.Pitch) * RowHeight : Y(n.Pitch);
                canvas.FillRect(x0, y, Math.Max(track.IsDrum ? 2 : 1, x1 - x0), RowHeight, colour);
            }

        int legendY = rollBottom + 4;
        for (int i = 0; i < tracks.Count; i++)
        {
            canvas.FillRect(Left, legendY + 1, 8, 7, tracks[i].Colour);
            canvas.DrawText(legends[i], Left + 12, legendY, Rgb.Black);
            legendY += LegendRow;
        }
        return canvas;

        int Y(int pitch) => Top + (hi - pitch) * RowHeight;
    }

    /// <summary>
    /// A quantised piano roll of <paramref name="notes"/>: [steps, 128] (row-major), 1 where a pitch sounds in a step of
    /// 1/<paramref name="stepsPerQuarter"/> quarter note. Onsets and ends round to the nearest step; a note shorter than
    /// a step still sounds for one; <paramref name="steps"/> null: up to the last note's end.
    /// </summary>
    public static (float[] Roll, int Steps) Quantise(IEnumerable<Note> notes, int ticksPerQuarter, int stepsPerQuarter = 4, int? steps = null)
    {
        if (ticksPerQuarter < 1 || stepsPerQuarter < 1) throw new ArgumentException($"PianoRoll.Quantise: ticksPerQuarter ({ticksPerQuarter}) and stepsPerQuarter ({stepsPerQuarter}) must be at least 1");
        var list = notes.ToList();
        long Step(long tick) => (long)Math.Round(tick * (double)stepsPerQuarter / ticksPerQuarter, MidpointRounding.AwayFromZero);
        int count = steps ?? (int)list.Select(n => Math.Max(Step(n.End), Step(n.Onset) + 1)).DefaultIfEmpty(0).Max();
        var roll = new float[(long)count * 128];
        foreach (var n in list)
        {
            long from = Step(n.Onset), to = Math.Max(Step(n.End), from + 1);
            for (long s = Math.Max(0, from); s < Math.Min(to, count); s++) roll[s * 128 + Math.Clamp(n.Pitch, 0, 127)] = 1;
        }
        return (roll, count);
    }

    /// <summary>Draws <paramref name="song"/> (see <see cref="Draw"/>) and writes it as a PNG at <paramref name="path"/>.</summary>
    public static void Save(Song song, string path, int maxBars = 32, int pixelsPerQuarter = 12) => Draw(song, maxBars, pixelsPerQuarter).SavePng(path);
}
