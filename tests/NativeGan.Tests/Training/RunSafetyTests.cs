using NativeGan.Cli;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Training;

/// <summary>
/// Nothing lost, no stack trace (issue 32): a run folder holding a run is never overwritten unless asked and is held
/// while a run uses it; a picture or log that cannot be written warns and training goes on; a checkpoint that cannot
/// be written stops the run and keeps the previous one; a crash loses no log line before the checkpoint; partial
/// checkpoints are cleaned; mismatched or broken checkpoints are refused by name; exit codes say how a run ended.
/// </summary>
[Collection("Console")]
public class RunSafetyTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-safety-" + Guid.NewGuid().ToString("N"));

    public RunSafetyTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static (int Code, string Output) Run(params string[] args) => TrainCommandTests.Run(args);

    string Idx() => TrainCommandTests.WriteIdx(Path.Combine(dir, "d-images-idx3-ubyte"), 16, 8, 3);

    static string[] Dcgan(string data, string run, int steps, int side = 8) =>
        ["train", "dcgan", "--data", data, "--device", "cpu", "--image-size", $"{side}", "--batch", "4", "--steps", $"{steps}", "--out", run,
         "--set", "latent=5", "--set", "g_width=4", "--set", "d_width=4"];

    [Fact]
    public void ANewRunNeverReplacesAnEarlierOneUnlessAsked()
    {
        var data = Idx();
        var run = Path.Combine(dir, "x");
        var (code, output) = Run(Dcgan(data, run, 3));
        Assert.True(code == 0, output);
        byte[] first = File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile));

        // Into the same folder: the run goes to x-2 and says so; x is untouched.
        (code, output) = Run(Dcgan(data, run, 2));
        Assert.True(code == 0, output);
        Assert.Contains($"{run} holds a run: this run goes to {run}-2", output);
        Assert.Equal(first, File.ReadAllBytes(Path.Combine(run, Trainer.CheckpointFile)));
        Assert.Equal(2, Trainer.ReadJob(Path.Combine(run + "-2", Trainer.CheckpointFile)).Step);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(run, Trainer.LossLogFile)).Length);

        // --overwrite replaces it, old pictures included.
        File.WriteAllText(Path.Combine(run, Trainer.SamplesFolder, "step_009999.png"), "an old run's picture");
        (code, output) = Run([.. Dcgan(data, run, 1), "--overwrite"]);
        Assert.True(code == 0, output);
        Assert.Equal(1, Trainer.ReadJob(Path.Combine(run, Trainer.CheckpointFile)).Step);
        Assert.False(File.Exists(Path.Combine(run, Trainer.SamplesFolder, "step_009999.png")));
        Assert.False(Directory.Exists(run + "-3"));

        (code, output) = Run([.. Dcgan(data, run, 2), "--overwrite", "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("give one", output);
    }

    [Fact]
    public void AFolderInUseIsRefusedNamingItsHolder()
    {
        var data = Idx();
        var run = Path.Combine(dir, "held");
        var (code, output) = Run(Dcgan(data, run, 2));
        Assert.True(code == 0, output);
        using (RunFolder.Claim(run, resume: true, overwrite: false, _ => { }))
        {
            (code, output) = Run([.. Dcgan(data, run, 3), "--resume"]);
            Assert.Equal(2, code);
            Assert.Contains($"{run} is in use by another run (process {Environment.ProcessId}", output);
            // A new run asked into it goes to a free sibling instead.
            (code, output) = Run(Dcgan(data, run, 1));
            Assert.True(code == 0, output);
            Assert.True(File.Exists(Path.Combine(run + "-2", Trainer.CheckpointFile)));
        }
        (code, output) = Run([.. Dcgan(data, run, 3), "--resume"]);
        Assert.True(code == 0, output);
    }

    [Fact]
    public void AnUnwritableRunFolderIsRefusedBeforeTraining()
    {
        var data = Idx();
        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "");
        var (code, output) = Run(Dcgan(data, Path.Combine(file, "run"), 2));
        Assert.Equal(2, code);
        Assert.Contains($"cannot write the run folder {Path.Combine(file, "run")}", output);
        Assert.DoesNotContain("   at ", output); // no stack trace
    }

    [Fact]
    public void ARefusedRunLeavesNoFolderBehind()
    {
        var run = Path.Combine(dir, "refused");
        var (code, output) = Run([.. Dcgan(Idx(), run, 2), "--set", "data_shape=1,16,16"]);
        Assert.Equal(2, code);
        Assert.Contains("the model takes samples of shape 1x16x16 (data_shape), but", output);
        Assert.False(Directory.Exists(run));
    }

    static GanJob Job() => TestJobs.Dcgan(new Dictionary<string, string>(TrainerTests.Tiny) { ["seed"] = "3" });

    TrainerOptions Options(string name, long steps, bool resume = false) => new()
    {
        OutDir = Path.Combine(dir, name), Epochs = 100, MaxSteps = steps, SampleEvery = 2, LatestEvery = TimeSpan.Zero, CheckpointEvery = 3, Resume = resume, DataName = "blobs",
    };

    [Fact]
    public void APictureThatCannotBeWrittenWarnsOnceAndTrainingGoesOn()
    {
        var options = Options("no-pictures", 5);
        Directory.CreateDirectory(options.OutDir);
        File.WriteAllText(Path.Combine(options.OutDir, Trainer.SamplesFolder), "a file where the pictures' folder would be");
        var said = new List<string>();
        using var job = Job();
        using var loader = new DataLoader(TrainerTests.Blobs(12, 1), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, options, CancellationToken.None, log: said.Add);
        Assert.Equal(TrainOutcome.Finished, r.Outcome);
        Assert.Single(said, s => s.StartsWith("warning: could not write the pictures", StringComparison.Ordinal));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(options.OutDir, Trainer.LossLogFile)).Length);
        Assert.Equal(5, Trainer.ReadJob(r.Checkpoint).Step);
    }

    [Fact]
    public void ACheckpointThatCannotBeWrittenStopsTheRunCleanly()
    {
        // The checkpoint's path is taken by a folder, so the write at step 3 fails (Safetensors.Save keeps any previous
        // file whole and removes its partial one: CheckpointTests).
        var options = Options("no-checkpoint", 8);
        Directory.CreateDirectory(Path.Combine(options.OutDir, Trainer.CheckpointFile));
        using var job = Job();
        using var loader = new DataLoader(TrainerTests.Blobs(12, 1), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, options, CancellationToken.None);
        Assert.Equal(TrainOutcome.CheckpointFailed, r.Outcome);
        Assert.Equal(3, r.Steps);
        Assert.Contains("step 3: the checkpoint could not be written", r.Message);
        Assert.Contains("no checkpoint had been saved yet", r.Message);
        Assert.Contains("run again with --resume", r.Message);
        Assert.Empty(Directory.EnumerateFiles(options.OutDir, "*.tmp"));
        Assert.Equal(3, File.ReadAllLines(Path.Combine(options.OutDir, Trainer.LossLogFile)).Length);
        Assert.Equal(4, TrainCommand.ExitCode(r.Outcome, 0));
    }

    [Fact]
    public void ATimeLimitEndsTheRunWithACheckpointAndAResumeContinues()
    {
        var options = Options("budget", 100) with { TimeLimit = TimeSpan.FromTicks(1) }; // (a step of this tiny net can take under a millisecond)
        using var job = Job();
        using var loader = new DataLoader(TrainerTests.Blobs(12, 1), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, options, CancellationToken.None);
        Assert.Equal(TrainOutcome.Finished, r.Outcome);
        Assert.Equal(1, r.Steps); // the first step already used the budget
        Assert.Contains("the time limit of", r.Message);
        Assert.Equal(1, Trainer.ReadJob(r.Checkpoint).Step);
        var more = Trainer.Run(job, loader, Options("budget", 4, resume: true) with { TimeLimit = TimeSpan.FromHours(1) }, CancellationToken.None);
        Assert.Equal((TrainOutcome.Finished, 4L), (more.Outcome, more.Steps));
        Assert.Equal("finished 4 steps", more.Message);
    }

    /// <summary>A job that dies (throws, as a killed process stops) at a given step.</summary>
    sealed class CrashingJob(GanJob inner, long crashAt) : ITrainingJob
    {
        public string Kind => inner.Kind;
        public ModelOptions Options => inner.Options;
        public IReadOnlyDictionary<string, Module> Modules => inner.Modules;
        public IReadOnlyDictionary<string, Optimizer> Optimizers => inner.Optimizers;
        public Rng Rng => inner.Rng;
        public IReadOnlyDictionary<string, float> Step(Batch batch, long step) =>
            step == crashAt ? throw new InvalidOperationException("killed") : inner.Step(batch, step);
        public void WriteSamples(string path) => inner.WriteSamples(path);
        public void Dispose() => inner.Dispose();
    }

    [Fact]
    public void AfterACrashTheResumedLogEqualsAnUninterruptedOneLineForLine()
    {
        var data = TrainerTests.Blobs(24, 2);
        using (var job = Job())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
            Trainer.Run(job, loader, Options("straight", 8), CancellationToken.None);
        // Dies in step 5 (0-based 4): the checkpoint is at step 3, the log holds steps 1-4 (written through every step).
        using (var job = new CrashingJob(Job(), 4))
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
            Assert.Throws<InvalidOperationException>(() => Trainer.Run(job, loader, Options("crashed", 8), CancellationToken.None));
        Assert.Equal(4, File.ReadAllLines(Path.Combine(dir, "crashed", Trainer.LossLogFile)).Length);
        File.WriteAllText(Path.Combine(dir, "crashed", $".{Trainer.CheckpointFile}.0123.tmp"), "a partial checkpoint");
        using (var job = Job())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("crashed", 8, resume: true), CancellationToken.None).Outcome);
        static IEnumerable<string> WithoutTime(string path) =>
            File.ReadLines(path).Select(l => System.Text.RegularExpressions.Regex.Replace(l, "\"seconds\":[0-9.eE+-]+,", ""));
        Assert.Equal(WithoutTime(Path.Combine(dir, "straight", Trainer.LossLogFile)), WithoutTime(Path.Combine(dir, "crashed", Trainer.LossLogFile)));

        // The CLI's claim of the folder removes partial checkpoints a killed run left.
        using var folder = RunFolder.Claim(Path.Combine(dir, "crashed"), resume: true, overwrite: false, _ => { });
        Assert.Equal(1, folder.RemoveStaleTemporaries());
        Assert.Empty(Directory.EnumerateFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void ACheckpointWithNonFiniteWeightsIsRefusedNamingTheTensor()
    {
        using var job = Job();
        using var loader = new DataLoader(TrainerTests.Blobs(12, 1), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, Options("nan", 1), CancellationToken.None);
        var w = job.Generator.NamedParameters().First().Tensor;
        var values = w.ToArray();
        values[2] = float.NaN;
        w.CopyFrom(Tensor.FromArray(values, w.Shape));
        Trainer.Save(job, r.Checkpoint, 1, 3, Options("nan", 1));
        var (code, output) = Run("sample", "--checkpoint", r.Checkpoint, "--device", "cpu", "--out", Path.Combine(dir, "nan.png"));
        Assert.Equal(2, code);
        Assert.Contains($"tensor 'generator.{job.Generator.NamedParameters().First().Name}' holds NaN (element 2", output);
        Assert.False(File.Exists(Path.Combine(dir, "nan.png")));
    }

    [Fact]
    public void BrokenMetadataAndTheWrongFileAreRefusedByName()
    {
        using var job = Job();
        using var loader = new DataLoader(TrainerTests.Blobs(12, 1), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, Options("meta", 1), CancellationToken.None);
        var meta = Checkpoint.ReadMetadata(r.Checkpoint).Where(kv => kv.Key != "format" && !kv.Key.StartsWith("optim.", StringComparison.Ordinal)).ToDictionary();
        foreach (var (key, value, message) in new[] { ("options", "{", "metadata 'options': the options are not valid JSON"), ("step", "x", "metadata 'step' must be a step count, got 'x'"),
                     ("options", "{\"latent\": -3}", "its settings do not describe a 'dcgan' model: dcgan: setting 'latent' must be an integer >= 1, got '-3'") })
        {
            var broken = Path.Combine(dir, $"broken-{key}.safetensors");
            Checkpoint.Save(broken, job.Modules, job.Optimizers, new Dictionary<string, string>(meta) { [key] = value });
            var e = Assert.Throws<CheckpointException>(() => Trainer.ReadJob(broken));
            Assert.Contains(message, e.Message);
            var (code, output) = Run("sample", "--checkpoint", broken, "--device", "cpu", "--out", Path.Combine(dir, "x.png"));
            Assert.Equal(2, code);
            Assert.Contains(message, output);
        }
        // A GAN checkpoint given as the MNIST judge.
        var (c, o) = Run("eval", "mnist", "--checkpoint", r.Checkpoint, "--classifier", r.Checkpoint, "--device", "cpu");
        Assert.Equal(2, c);
        Assert.Contains("not an MNIST classifier", o);
    }

    [Fact]
    public void AResumeOnOtherDataOrWithOtherSettingsIsRefusedBeforeTheFirstStep()
    {
        var data = Idx();
        var run = Path.Combine(dir, "resume");
        var (code, output) = Run(Dcgan(data, run, 2));
        Assert.True(code == 0, output);
        (code, output) = Run([.. Dcgan(data, run, 3, side: 16), "--resume"]);
        Assert.Equal(2, code);
        Assert.Contains("the model takes samples of shape 1x8x8 (data_shape), but", output);
        (code, output) = Run([.. Dcgan(data, run, 3), "--resume", "--set", "g_width=8"]);
        Assert.Equal(2, code);
        Assert.Contains("setting 'g_width' is the run's own (4) and cannot change to 8 on resume", output);
        (code, output) = Run([.. Dcgan(data, run, 3), "--resume", "--set", "seed=5"]);
        Assert.Equal(2, code);
        Assert.Contains("the seed is --seed", output);
        Assert.Equal(2, Trainer.ReadJob(Path.Combine(run, Trainer.CheckpointFile)).Step);

        // An autoencoder resumed as another kind.
        var ae = Path.Combine(dir, "ae");
        (code, output) = Run("train", "ae", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4", "--steps", "1", "--out", ae, "--set", "code=3", "--set", "hidden=8");
        Assert.True(code == 0, output);
        (code, output) = Run("train", "ae", "--kind", "vae", "--resume", "--data", data, "--device", "cpu", "--image-size", "8", "--batch", "4", "--steps", "2", "--out", ae);
        Assert.Equal(2, code);
        Assert.Contains("setting 'kind' is the run's own (undercomplete) and cannot change to vae", output);
    }

    [Fact]
    public void EvalRefusesWhatCannotWorkBeforeItStarts()
    {
        // The classifier's --out is checked before minutes of training, not after.
        var file = Path.Combine(dir, "a-file");
        File.WriteAllText(file, "");
        var (code, output) = Run("eval", "classifier", "--device", "cpu", "--out", Path.Combine(file, "judge.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains($"eval classifier: cannot write {Path.Combine(file, "judge.safetensors")}", output);
        Assert.DoesNotContain("MNIST", output); // no data was fetched or converted for it

        // eval modes with no samples to count.
        using var job = (GanJob)ModelKinds.Create("gan", new Dictionary<string, string> { ["data_shape"] = "2", ["g_widths"] = "8", ["d_widths"] = "8" }, Device.Cpu);
        using var loader = new DataLoader(Mixtures2D.Ring(40, seed: 1), 10, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, Options("modes", 1), CancellationToken.None);
        (code, output) = Run("eval", "modes", "--checkpoint", r.Checkpoint, "--mixture", "ring8", "--count", "0", "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("--count must be at least 1, got 0", output);
    }

    [Fact]
    public void MistakesOnTheCommandLineAreShortAndExitTwo()
    {
        var (code, output) = Run("train", "no-such-kind");
        Assert.Equal(2, code);
        Assert.Contains("Unrecognized command or argument 'no-such-kind'", output);
        Assert.Contains("`nativegan train --help`", output);
        Assert.True(output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Length <= 6, output);
        (code, output) = Run("train", "dcgan", "--batch", "many");
        Assert.Equal(2, code);
        Assert.Contains("as expected type an integer", output);
        (code, output) = Run(Dcgan(Idx(), Path.Combine(dir, "size"), 1, side: 0));
        Assert.Equal(2, code);
        Assert.Contains("--image-size must be at least 1, got 0", output);
        Assert.Equal((0, 130, 143, 3), (TrainCommand.ExitCode(TrainOutcome.Finished, 0), TrainCommand.ExitCode(TrainOutcome.Interrupted, 130),
            TrainCommand.ExitCode(TrainOutcome.Interrupted, 143), TrainCommand.ExitCode(TrainOutcome.Diverged, 0)));
    }
}
