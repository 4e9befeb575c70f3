using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan render song.mid --out song.wav</c>: listen to a MIDI file through FluidSynth and a General MIDI
/// sound font, when the machine has them (Debian: <c>apt-get install fluidsynth fluid-soundfont-gm</c>).</summary>
public static class RenderCommand
{
    /// <summary>Where Debian's fluid-soundfont-gm puts its sound font (and the name other systems give it).</summary>
    static readonly string[] SoundFonts = ["/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2", "/usr/share/sounds/sf2/default-GM.sf2"];

    public static Command Create()
    {
        var input = new Argument<string>("midi") { Description = "The MIDI file to play." };
        var output = new Option<string?>("--out") { Description = "The WAV file to write (default: the MIDI file's name with .wav)." };
        var soundFont = new Option<string?>("--soundfont") { Description = "A General MIDI .sf2 sound font (default: Debian's fluid-soundfont-gm)." };
        var rate = new Option<int>("--rate") { Description = "Sample rate in Hz.", DefaultValueFactory = _ => 44100 };
        var command = new Command("render", "Render a MIDI file to a WAV file with FluidSynth (when installed: apt-get install fluidsynth fluid-soundfont-gm).") { input, output, soundFont, rate };
        command.SetAction(r =>
        {
            string midi = r.GetValue(input)!;
            if (!File.Exists(midi)) { Cli.Error($"render: no MIDI file at {midi}"); return 2; }
            string wav = r.GetValue(output) ?? Path.ChangeExtension(midi, ".wav");
            string? font = r.GetValue(soundFont) ?? SoundFonts.FirstOrDefault(File.Exists);
            if (font is null || !File.Exists(font))
            {
                Cli.Error($"render: no General MIDI sound font{(font is null ? $" (looked for {string.Join(", ", SoundFonts)})" : $" at {font}")}; install one (Debian: apt-get install fluid-soundfont-gm) or pass --soundfont FILE.sf2");
                return 2;
            }
            var start = new ProcessStartInfo("fluidsynth") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in new[] { "-ni", "-F", wav, "-r", r.GetValue(rate).ToString(System.Globalization.CultureInfo.InvariantCulture), font, midi }) start.ArgumentList.Add(a);
            try
            {
                using var process = Process.Start(start) ?? throw new Win32Exception("Process.Start returned null");
                var stderr = process.StandardError.ReadToEndAsync();
                _ = process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                if (process.ExitCode != 0 || !File.Exists(wav))
                {
                    Cli.Error($"render: fluidsynth failed with exit code {process.ExitCode}: {stderr.Result.Trim()}");
                    return 2;
                }
            }
            catch (Win32Exception)
            {
                Cli.Error("render: FluidSynth is not installed (Debian: apt-get install fluidsynth fluid-soundfont-gm); the piano-roll pictures need nothing: nativegan midi FILE --roll DIR");
                return 2;
            }
            AnsiConsole.MarkupLine($"[green]{Markup.Escape($"{wav} ({new FileInfo(wav).Length / 1024} KiB)")}[/]");
            return 0;
        });
        return command;
    }
}
