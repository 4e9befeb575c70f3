using System.CommandLine;
using NativeGan.Gan.Music;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan generate --checkpoint F --bars 16 --out song.mid</c>: music from a trained music model, as a MIDI
/// file and its piano-roll picture.</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint.safetensors of a music model (lstm-melody, crnn-gan, musegan).", Required = true };
        var bars = new Option<int>("--bars") { Description = "Length of the piece in 4/4 bars.", DefaultValueFactory = _ => 16 };
        var output = new Option<string>("--out") { Description = "The MIDI file to write (its piano roll goes beside it as .png).", DefaultValueFactory = _ => "song.mid" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampling.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (default: the model's temperature setting)." };
        var device = Cli.DeviceOption();
        var command = new Command("generate", "Write music from a trained music model: a MIDI file and its piano roll.") { checkpoint, bars, output, seed, temperature, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, _) =>
        {
            int wanted = r.GetValue(bars);
            if (wanted < 1) throw new ArgumentException("generate: --bars must be at least 1");
            if (job is MuseGanJob museGan)
            {
                WritePhrases(museGan, wanted, r.GetValue(seed), r.GetValue(output)!);
                return;
            }
            if (job is not IMusicJob music) throw new ArgumentException($"{r.GetValue(checkpoint)}: a '{job.Kind}' model does not write music");
            float t = r.GetValue(temperature) ?? music.Temperature;
            if (!(t > 0)) throw new ArgumentException($"generate: --temperature must be positive, got {t}");
            long end = wanted * 4L * NoteEvents.TicksPerQuarter;
            // Sampling is sequential from one seeded stream, so a longer draw extends a shorter one: draw until the bars are full.
            Song song;
            int events = wanted * 8;
            while (true)
            {
                song = music.Generate(events, r.GetValue(seed), t);
                if (song.EndTick >= end || events >= 100_000) break;
                events *= 2;
            }
            var notes = song.Tracks[0].Notes.Where(n => n.Onset < end).Select(n => n with { Duration = (int)Math.Min(n.Duration, end - n.Onset) }).ToList();
            song = song with { Name = $"{job.Kind} seed {r.GetValue(seed)}", Tracks = [song.Tracks[0] with { Notes = notes }] };
            var path = r.GetValue(output)!;
            MidiFiles.Write(song, path);
            var png = Path.ChangeExtension(path, ".png");
            PianoRoll.Save(song, png, maxBars: wanted);
            AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{notes.Count} notes in {wanted} bars: {path}; piano roll: {png}")}[/]");
        }));
        return command;
    }

    /// <summary>MuseGAN: enough 4-bar phrases (seeds' latents) for <paramref name="bars"/> bars, binarised at 0, as one
    /// five-track song (drums on channel 10, the tracks' General MIDI programs) and its piano roll.</summary>
    static void WritePhrases(MuseGanJob job, int bars, ulong seed, string path)
    {
        int phrases = (bars + job.Options.Bars - 1) / job.Options.Bars;
        var song = job.ToSong(job.Phrases(phrases, seed), $"{job.Kind} ({job.Options.Model.ToString().ToLowerInvariant()}) seed {seed}");
        long end = bars * 4L * song.TicksPerQuarter;
        song = song with { Tracks = [.. song.Tracks.Select(t => t with { Notes = [.. t.Notes.Where(n => n.Onset < end).Select(n => n with { Duration = (int)Math.Min(n.Duration, end - n.Onset) })] })] };
        MidiFiles.Write(song, path);
        var png = Path.ChangeExtension(path, ".png");
        PianoRoll.Save(song, png, maxBars: bars);
        var counts = string.Join(", ", song.Tracks.Select(t => $"{t.Name} {t.Notes.Count}"));
        AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{phrases} phrase(s), {bars} bars ({counts} notes): {path}; piano roll: {png}")}[/]");
    }
}
