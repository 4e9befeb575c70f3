using System.CommandLine;
using System.Globalization;
using NativeGan.Gan.Data;
using NativeGan.Gan.Music;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan midi FILE...</c>: what MIDI files hold (tracks, instruments, notes, tempo, length), C-RNN-GAN's
/// statistics of their pitched notes, and a piano-roll picture of each.</summary>
public static class MidiCommand
{
    public static Command Create()
    {
        var files = new Argument<string[]>("files") { Description = "MIDI files (.mid), or folders of them, or game-music.", Arity = ArgumentArity.OneOrMore };
        var roll = new Option<string?>("--roll") { Description = "Folder to write a piano-roll picture of each song into (NAME.png)." };
        var bars = new Option<int>("--bars") { Description = "Bars drawn in each piano roll (from the start).", DefaultValueFactory = _ => 32 };
        var phrases = new Option<bool>("--phrases") { Description = "Also cut the songs into MuseGAN's 4-bar five-track phrases (48 steps a bar, 84 pitches) and print MuseGAN's metrics of them (EB, UPC, QN, DP, TD)." };
        var command = new Command("midi", "Show what MIDI files hold: tracks and instruments, notes, tempo and length, the C-RNN-GAN statistics of their pitched notes; optionally a piano-roll picture of each.")
            { files, roll, bars, phrases };
        command.SetAction(r =>
        {
            try
            {
                var paths = r.GetValue(files)!.SelectMany(f => f.Equals("game-music", StringComparison.OrdinalIgnoreCase) ? GameMusic.Ensure(DataPaths.DefaultCache(), Cli.Log)
                    : Directory.Exists(f) ? GameMusic.FilesIn(f) : [f]).ToList();
                if (r.GetValue(bars) < 1) { Cli.Error("midi: --bars must be at least 1"); return 2; }
                var all = new List<MusicStatistics>();
                var songs = new List<Song>();
                foreach (var path in paths)
                {
                    var song = MidiFiles.Read(path);
                    songs.Add(song);
                    var tempo = song.Tempos.Count > 0 ? song.Tempos[0].Bpm : 120;
                    var sig = song.TimeSignatureAt(0);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{path}: {song.Seconds:0.0} s, {song.NoteCount} notes in {song.Tracks.Count} tracks, {tempo:0.#} bpm{(song.Tempos.Count > 1 ? $" ({song.Tempos.Count} tempo changes)" : "")}, {sig.Numerator}/{sig.Denominator}, {song.TicksPerQuarter} ticks a quarter"));
                    foreach (var t in song.Tracks)
                        Console.WriteLine($"  channel {t.Channel + 1,2}  {PianoRoll.Instrument(t),-32} {t.Notes.Count,6} notes  {t.Name}");
                    var pitched = song.PitchedNotes();
                    if (pitched.Count > 0)
                    {
                        var s = MusicStatistics.Of(pitched);
                        all.Add(s);
                        var (root, scale, _) = MusicStatistics.ScaleConsistencyOf([.. pitched.Select(n => n.Pitch)]);
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"  pitched notes: polyphony {s.Polyphony:0.000}, scale consistency {s.ScaleConsistency:0.000} ({"C C# D D# E F F# G G# A A# B".Split(' ')[root]} {scale}), repetitions of {MusicStatistics.RepetitionLength} per 100 notes {s.Repetitions:0.0}, tone span {s.ToneSpan} semitones"));
                    }
                    if (r.GetValue(roll) is { } folder)
                    {
                        var png = Path.Combine(folder, Path.GetFileNameWithoutExtension(path) + ".png");
                        PianoRoll.Save(song, png, r.GetValue(bars));
                        Console.WriteLine($"  piano roll: {png}");
                    }
                }
                if (all.Count > 1)
                {
                    var m = MusicStatistics.Mean(all);
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"mean of {all.Count} songs: polyphony {m.Polyphony:0.000}, scale consistency {m.ScaleConsistency:0.000}, repetitions {m.Repetitions:0.0}, tone span {m.ToneSpan:0.0}"));
                }
                if (r.GetValue(phrases)) PrintPhrases(songs, r.GetValue(roll));
                return 0;
            }
            catch (Exception e) when (e is DataException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return command;
    }

    static void PrintPhrases(IReadOnlyList<Song> songs, string? rollFolder)
    {
        var data = MultiTrack.Phrases(songs, "phrases");
        var m = MuseGanMetrics.Of(data);
        string F(double x, string format) => double.IsNaN(x) ? "-" : x.ToString(format, CultureInfo.InvariantCulture);
        Console.WriteLine($"{data.Count} phrases of {MultiTrack.DefaultBars} bars (with two or more tracks playing), {MultiTrack.DefaultStepsPerBar} steps a bar; MuseGAN's metrics:");
        Console.WriteLine($"  {"track",-8} {"EB",6} {"UPC",6} {"QN",6}");
        foreach (var t in Enum.GetValues<Instrument>())
            Console.WriteLine($"  {t.ToString().ToLowerInvariant(),-8} {F(m.EmptyBars[(int)t], "0.000"),6} {F(m.UsedPitchClasses[(int)t], "0.00"),6} {F(m.QualifiedNotes[(int)t], "0.000"),6}");
        Console.WriteLine($"  DP (drum onsets on the sixteenth grid) {F(m.DrumPattern, "0.000")}");
        Console.WriteLine("  TD " + string.Join(", ", m.TonalDistance.Select(kv => $"{kv.Key.Item1.ToString().ToLowerInvariant()}-{kv.Key.Item2.ToString().ToLowerInvariant()} {F(kv.Value, "0.000")}")));
        if (rollFolder is not null)
        {
            int steps = data.SampleShape[1];
            var path = Path.Combine(rollFolder, "phrase-1.png");
            PianoRoll.Save(MultiTrack.ToSong(data.Data.AsSpan(0, data.SampleSize), steps, "phrase 1"), path);
            Console.WriteLine($"  the first phrase's five tracks: {path}");
        }
    }
}
