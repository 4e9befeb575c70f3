using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using Spectre.Console;

namespace NativeGan.Tests.CommandLine;

/// <summary>`train stackgan` on a captioned folder, then `generate --text`, through the command line.</summary>
[Collection("Console")]
public class StackGanCommandTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-stackgan-" + Guid.NewGuid().ToString("N"));

    public StackGanCommandTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var saved = AnsiConsole.Console;
        var (savedOut, savedError) = (Console.Out, Console.Error);
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors });
        AnsiConsole.Console.Profile.Width = 200;
        Console.SetOut(writer);
        Console.SetError(writer);
        try { return (Cli.Cli.Run(args), writer.ToString()); }
        finally
        {
            AnsiConsole.Console = saved;
            Console.SetOut(savedOut);
            Console.SetError(savedError);
        }
    }

    [Fact]
    public void A_run_on_a_captioned_folder_then_generate_text_writes_a_picture_and_refuses_a_text_without_words()
    {
        var data = Directory.CreateDirectory(Path.Combine(dir, "pictures")).FullName;
        var rng = new Random(1);
        var lines = new List<string>();
        for (int i = 0; i < 6; i++)
        {
            var pixels = new byte[4 * 4 * 4];
            rng.NextBytes(pixels);
            File.WriteAllBytes(Path.Combine(data, $"p{i}.png"), Png.Encode(pixels, 4, 4, 4));
            lines.Add($"p{i}.png\tpicture number {i}");
        }
        File.WriteAllLines(Path.Combine(data, CaptionedFolder.CaptionsFile), lines);
        var run = Path.Combine(dir, "run");
        var (code, output) = Run("train", "stackgan", "--data", data, "--device", "cpu", "--image-size", "16", "--batch", "3", "--steps", "3",
            "--out", run, "--set", "low_side=8", "--set", "latent=4", "--set", "embedding=5", "--set", "text_buckets=32", "--set", "text_hidden=6",
            "--set", "condition=3", "--set", "g1_width=4", "--set", "g2_width=4", "--set", "g2_blocks=1", "--set", "d_width=4",
            "--set", "pretrain_steps=1", "--set", "stage1_steps=1");
        Assert.True(code == 0, output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var png = Path.Combine(dir, "out", "apple.png");
        (code, output) = Run("generate", "--checkpoint", checkpoint, "--text", "red apple", "--count", "3", "--out", png, "--device", "cpu");
        Assert.True(code == 0, output);
        Assert.True(new FileInfo(png).Length > 0);
        (code, output) = Run("generate", "--checkpoint", checkpoint, "--text", "red apple", "--to", "picture number 2", "--out", Path.Combine(dir, "walk.png"), "--device", "cpu");
        Assert.True(code == 0, output);
        (code, output) = Run("generate", "--checkpoint", checkpoint, "--text", " !! ", "--out", Path.Combine(dir, "none.png"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("has no words", output);
    }
}
