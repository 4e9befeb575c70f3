using NativeGan.Tests.Training;
using Spectre.Console;

namespace NativeGan.Tests.CommandLine;

/// <summary>
/// Output that is not a terminal (a log file, a pipe, CI) gets whole lines (issue 32): Spectre lays such output out at
/// 80 columns and would split a long run folder's path mid-word; the progress comes as plain status lines.
/// </summary>
[Collection("Console")]
public class RedirectedOutputTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-redirected-" + Guid.NewGuid().ToString("N"));

    public RedirectedOutputTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs the program writing to a StringWriter, the console as Spectre makes it for a file: 80 columns.</summary>
    internal static (int Code, string Output) RunRedirected(params string[] args)
    {
        var writer = new StringWriter();
        var saved = AnsiConsole.Console;
        var savedOut = Console.Out;
        var savedError = Console.Error;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        AnsiConsole.Console.Profile.Width = 80;
        Console.SetOut(writer);
        Console.SetError(writer);
        try
        {
            Assert.False(AnsiConsole.Console.Profile.Out.IsTerminal);
            return (Cli.Cli.Run(args), writer.ToString());
        }
        finally
        {
            AnsiConsole.Console = saved;
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }

    [Fact]
    public void ATrainRunPrintsLongPathsAndStatusLinesUnwrapped()
    {
        var data = TrainCommandTests.WriteIdx(Path.Combine(dir, "blobs-images-idx3-ubyte"), 20, 8, 1);
        var run = Path.Combine(dir, "a-run-folder-with-a-name-long-enough-to-pass-eighty-columns-on-its-own", "and-one-more-level-below-it", "run");
        Assert.True(run.Length > 120);
        var (code, output) = RunRedirected("train", "dcgan", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4",
            "--steps", "3", "--sample-every", "2", "--checkpoint-every", "2", "--out", run,
            "--set", "latent=5", "--set", "g_width=4", "--set", "d_width=4");
        Assert.True(code == 0, output);
        var lines = output.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        Assert.Contains(lines, l => l.EndsWith($"run folder {run}", StringComparison.Ordinal));
        Assert.Contains($"checkpoint: {Path.GetFullPath(Path.Combine(run, "checkpoint.safetensors"))}", lines);
        Assert.Contains($"loss curve: {Path.GetFullPath(Path.Combine(run, "losses.png"))}", lines);
        Assert.DoesNotContain(lines, l => l.StartsWith("score:", StringComparison.Ordinal)); // only MNIST runs are scored at the end (8x8 blobs here)
        // The first step's status line and the last one, each whole: epoch, rate, elapsed, ETA, losses.
        var status = lines.Where(l => l.StartsWith("train dcgan ", StringComparison.Ordinal)).ToList();
        Assert.True(status.Count >= 2, output);
        Assert.StartsWith("train dcgan 33% 1/3 epoch 1 | ", status[0]);
        Assert.StartsWith("train dcgan 100% 3/3 epoch 1 | ", status[^1]);
        Assert.All(status, l => Assert.Matches(@" steps/s \| elapsed \d\d:\d\d:\d\d \| ETA (\d\d:\d\d:\d\d|\?) \| .*loss_d -?\d+\.\d{3}.* loss_g -?\d+\.\d{3}", l));
        Assert.True(lines.Max(l => l.Length) > 80);
    }
}
