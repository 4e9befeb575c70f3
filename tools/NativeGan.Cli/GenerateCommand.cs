using System.CommandLine;
using NativeGan.Gan.Music;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan generate --checkpoint F --bars 16 --out song.mid</c>: music from a trained music model, as a MIDI
/// file and its piano-roll picture; <c>nativegan generate --checkpoint F --text "red apple" --out apple.png</c>: images of a
/// text from a StackGAN checkpoint (stage I beside stage II for several noises, or an interpolation with <c>--to</c>).</summary>
public static class GenerateCommand
{
    public static Command Create()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint.safetensors of a music model (lstm-melody, crnn-gan, musegan) or of stackgan (with --text).", Required = true };
        var text = new Option<string?>("--text") { Description = "StackGAN: the caption to draw (a PNG of stage I beside stage II for --count noises)." };
        var to = new Option<string?>("--to") { Description = "StackGAN: a second caption; the picture then interpolates the text embedding from --text to it in --count steps." };
        var count = new Option<int>("--count") { Description = "StackGAN: noises (or interpolation steps).", DefaultValueFactory = _ => 8 };
        var bars = new Option<int>("--bars") { Description = "Length of the piece in 4/4 bars.", DefaultValueFactory = _ => 16 };
        var output = new Option<string?>("--out") { Description = "The MIDI file to write (its piano roll goes beside it as .png; default song.mid), or with --text the PNG (default text.png)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the sampling.", DefaultValueFactory = _ => 1 };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (default: the model's temperature setting)." };
        var binarize = BinarizeOption();
        var device = Cli.DeviceOption();
        var command = new Command("generate", "Write music from a trained music model (a MIDI file and its piano roll), or images of a caption from a StackGAN model (--text).") { checkpoint, bars, output, seed, temperature, binarize, text, to, count, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, _) =>
        {
            if (r.GetValue(text) is { } caption)
            {
                if (job is not NativeGan.Gan.StackGan.StackGanJob stack) throw new ArgumentException($"generate --text: {r.GetValue(checkpoint)} holds a '{job.Kind}' model, which draws no text; train one with `nativegan train stackgan`");
                StackGanCommand.Generate(stack, caption, r.GetValue(to), r.GetValue(count), r.GetValue(seed), r.GetValue(output) ?? "text.png");
                return;
            }
            if (r.GetValue(to) is not null) throw new ArgumentException("generate: --to needs --text");
            int wanted = r.GetValue(bars);
            if (wanted < 1) throw new ArgumentException("generate: --bars must be at least 1");
            if (job is MuseGanJob museGan)
            {
                WritePhrases(museGan, wanted, r.GetValue(seed), r.GetValue(output) ?? "song.mid", r.GetValue(binarize));
                return;
            }
            if (job is not IMusicJob music) throw new ArgumentException($"{r.GetValue(checkpoint)}: a '{job.Kind}' model does not write music");
            float t = r.GetValue(temperature) ?? music.Temperature;
            if (!(t > 0)) throw new ArgumentException($"generate: --temperature must be positive, got {t}");
            long end = wanted * 4L * NoteEvents.TicksPerQuarter;
            // Sampling is sequential from one seeded stream, so a longer draw extends a shorter one: draw until the bars are
            // full, or until 128 events a bar (a model whose onsets barely move, e.g. one collapsed into chords, never fills
            // them: say so rather than draw for minutes).
            Song song;
            int events = wanted * 8, most = Math.Max(1024, wanted * 128);
            while (true)
            {
                song = music.Generate(events, r.GetValue(seed), t);
                if (song.EndTick >= end || events >= most) break;
                events = Math.Min(most, events * 2);
            }
            if (song.EndTick < end)
                Cli.Warn($"generate: {events} events span only {song.EndTick / (4.0 * song.TicksPerQuarter):0.#} of the {wanted} bars (the model's onsets barely move); writing what they span");
            var notes = song.Tracks[0].Notes.Where(n => n.Onset < end).Select(n => n with { Duration = (int)Math.Min(n.Duration, end - n.Onset) }).ToList();
            song = song with { Name = $"{job.Kind} seed {r.GetValue(seed)}", Tracks = [song.Tracks[0] with { Notes = notes }] };
            var path = r.GetValue(output) ?? "song.mid";
            MidiFiles.Write(song, path);
            var png = Path.ChangeExtension(path, ".png");
            PianoRoll.Save(song, png, maxBars: wanted);
            AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{notes.Count} notes in {wanted} bars: {path}; piano roll: {png}")}[/]");
        }));
        return command;
    }

    /// <summary><c>nativegan accompany --checkpoint F --track piano.mid --out band.mid</c>: a track-conditional MuseGAN writes
    /// the other four tracks around a given piece (<see cref="MuseGanJob.Accompany"/>), as a MIDI file and its piano roll.</summary>
    public static Command Accompany()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint.safetensors of a musegan model trained with --set accompany=TRACK.", Required = true };
        var track = new Option<string>("--track") { Description = "The MIDI file to accompany: its pitched notes (its drums, for a drums model) become the given track.", Required = true };
        var output = new Option<string>("--out") { Description = "The MIDI file to write (its piano roll goes beside it as .png).", DefaultValueFactory = _ => "band.mid" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latents.", DefaultValueFactory = _ => 1 };
        var binarize = BinarizeOption();
        var device = Cli.DeviceOption();
        var command = new Command("accompany", "MuseGAN's accompaniment: write the other four tracks (drums, piano, guitar, bass, strings) around a given MIDI piece, with a model trained with --set accompany=TRACK.") { checkpoint, track, output, seed, binarize, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, _) =>
        {
            if (job is not MuseGanJob museGan) throw new ArgumentException($"accompany: {r.GetValue(checkpoint)} holds a '{job.Kind}' model; accompaniment needs musegan trained with --set accompany=TRACK");
            var given = MidiFiles.Read(r.GetValue(track)!);
            var song = museGan.Accompany(given, r.GetValue(seed), r.GetValue(binarize));
            string path = r.GetValue(output)!;
            MidiFiles.Write(song, path);
            var png = Path.ChangeExtension(path, ".png");
            int bars = (int)((song.Tracks.Max(t => t.Notes.Count == 0 ? 0 : t.Notes.Max(n => n.Onset + n.Duration)) + 4L * song.TicksPerQuarter - 1) / (4L * song.TicksPerQuarter));
            PianoRoll.Save(song, png, maxBars: Math.Max(1, bars));
            var counts = string.Join(", ", song.Tracks.Select(t => $"{t.Name} {t.Notes.Count}"));
            AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{museGan.Options.Accompany.ToString().ToLowerInvariant()} given, the rest written ({counts} notes): {path}; piano roll: {png}")}[/]");
        }));
        return command;
    }

    static Option<Binarization> BinarizeOption() => new("--binarize")
    {
        Description = "MuseGAN: how outputs become notes: hard (at 0, the default) or bernoulli (each step on with probability (x + 1) / 2).",
        DefaultValueFactory = _ => Binarization.Hard,
    };

    /// <summary>MuseGAN: enough 4-bar phrases (seeds' latents) for <paramref name="bars"/> bars, binarised at 0, as one
    /// five-track song (drums on channel 10, the tracks' General MIDI programs) and its piano roll.</summary>
    static void WritePhrases(MuseGanJob job, int bars, ulong seed, string path, Binarization binarization)
    {
        int phrases = (bars + job.Options.Bars - 1) / job.Options.Bars;
        var song = job.ToSong(job.Phrases(phrases, seed, binarization: binarization), $"{job.Kind} ({job.Options.Model.ToString().ToLowerInvariant()}) seed {seed}");
        long end = bars * 4L * song.TicksPerQuarter;
        song = song with { Tracks = [.. song.Tracks.Select(t => t with { Notes = [.. t.Notes.Where(n => n.Onset < end).Select(n => n with { Duration = (int)Math.Min(n.Duration, end - n.Onset) })] })] };
        MidiFiles.Write(song, path);
        var png = Path.ChangeExtension(path, ".png");
        PianoRoll.Save(song, png, maxBars: bars);
        var counts = string.Join(", ", song.Tracks.Select(t => $"{t.Name} {t.Notes.Count}"));
        AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{phrases} phrase(s), {bars} bars ({counts} notes): {path}; piano roll: {png}")}[/]");
    }
}
