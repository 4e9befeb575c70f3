using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Nn;
using NativeGan.Nn.Distributed;

namespace NativeGan.Gan.Training;

/// <summary>How long and how often: everything the loop needs besides the job and the data.</summary>
public sealed record TrainerOptions
{
    /// <summary>The run folder: checkpoint.safetensors, losses.jsonl, losses.png, samples/.</summary>
    public required string OutDir { get; init; }

    /// <summary>Passes over the data.</summary>
    public int Epochs { get; init; } = 1;

    /// <summary>Stop after this many steps in all (counted from the start of the run, resumed or not), if set.</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Stop, with a checkpoint, before the step that would end past this much training time (this session's:
    /// data loading and set-up before the first step do not count), if set. A step's time is the mean so far.</summary>
    public TimeSpan? TimeLimit { get; init; }

    /// <summary>A sample picture and the loss curve every this many steps (and always at the end).</summary>
    public int SampleEvery { get; init; } = 100;

    /// <summary>Also refresh samples/latest.png (alone: no numbered picture, no loss curve) once this much training time
    /// has passed since the last picture, so a long step interval still shows progress every few seconds (null: only
    /// on <see cref="SampleEvery"/>'s steps). Never more often than 20 times the last picture's own time apart, so
    /// pictures cost at most ~5% of the run. Pictures do not touch training state (<see cref="ITrainingJob.WriteSamples"/>),
    /// so a run's numbers do not depend on when the clock chose to draw.</summary>
    public TimeSpan? LatestEvery { get; init; }

    /// <summary>A checkpoint every this many steps (and always at the end, on Ctrl-C and never after a NaN).</summary>
    public int CheckpointEvery { get; init; } = 500;

    /// <summary>Continue from OutDir/checkpoint.safetensors (the caller builds the job from its metadata).</summary>
    public bool Resume { get; init; }

    /// <summary>
    /// Loaders that take over at later steps, in increasing step order (<c>--batch-from STEP:SIZE</c>): from each step
    /// on its loader's batches are used. A batch size changed this way places the run in the new loader's epochs at
    /// that step, exactly where a run resumed there with the new --batch would stand, so the two are bit-identical on
    /// cpu. Needs <see cref="MaxSteps"/> (epochs differ in length once the batch changes).
    /// </summary>
    public IReadOnlyList<(long Step, DataLoader Loader)> LaterLoaders { get; init; } = [];

    /// <summary>The data's name, saved with the checkpoint so a resume can check it.</summary>
    public string DataName { get; init; } = "";

    /// <summary>Where the data came from (the --data argument) and the seed of its points and order (--seed), saved
    /// with the checkpoint so that a resume without them continues on the same data (null: not saved).</summary>
    public string? DataSource { get; init; }
    public ulong? DataSeed { get; init; }

    /// <summary>
    /// The ranks training together (<c>--distributed mpi</c>; default one process). With more than one: rank 0's weights and
    /// optimizer state are broadcast, each rank takes its shard of every batch (<see cref="DataLoader.ShardRows"/>) and its
    /// rows of every draw of the job's stream (<see cref="Rng.ShardRows"/>), gradients are averaged before each optimizer
    /// step (<see cref="DistributedDataParallel"/>), the logged numbers are the ranks' means, the decisions to stop (Ctrl-C,
    /// the time limit, a NaN) are taken together, and rank 0 alone writes the loss log, pictures and checkpoints. On
    /// --resume every rank needs the checkpoint in its <see cref="OutDir"/> (<see cref="TrainingRun"/> sends rank 0's).
    /// </summary>
    public Communicator Communicator { get; init; } = SingleProcess.Instance;

    /// <summary>With several ranks: the batch norms of the trained networks normalise with the statistics of every rank's
    /// shard together (<c>--sync-bn</c>; <see cref="DistributedDataParallel"/>'s syncBatchNorm), so the run equals one process
    /// on the whole batch up to float rounding; otherwise each rank's own shard's, as PyTorch's DDP by default.</summary>
    public bool SyncBatchNorm { get; init; }
}

/// <summary>What the loop reports after every step (the command line draws its progress bar from it).</summary>
public sealed record TrainProgress(long Step, long TotalSteps, int Epoch, double StepsPerSecond, TimeSpan Elapsed,
    TimeSpan? Remaining, IReadOnlyDictionary<string, float> Losses);

public enum TrainOutcome
{
    /// <summary>Every step ran; the final checkpoint is saved.</summary>
    Finished,
    /// <summary>Cancelled (Ctrl-C): a checkpoint of the last finished step is saved; --resume continues.</summary>
    Interrupted,
    /// <summary>A loss became NaN or infinite: nothing was saved after it; the last good checkpoint stays.</summary>
    Diverged,
    /// <summary>A checkpoint could not be written (disk full, folder gone): the run stopped; the previous checkpoint stays.</summary>
    CheckpointFailed,
}

/// <summary>
/// What the loop does when a loss-log line or a picture cannot be written (a full disk, a folder removed): it says so once
/// for each, through the log, and trains on; only a checkpoint that cannot be written stops a run.
/// </summary>
sealed class WriteFaults(Action<string>? log)
{
    readonly HashSet<string> said = [];

    public void Try(string what, string where, Action write)
    {
        try { write(); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            if (said.Add(what)) log?.Invoke($"warning: could not write {what} ({where}: {e.Message}); training goes on, the checkpoints are still written");
        }
    }
}

/// <summary>What a checkpoint says of its run: the job kind ("wgan-gp", "ae-vae"), the model kind that builds it, its
/// options, the step it was saved at, and all its metadata.</summary>
public sealed record SavedRun(string Kind, ModelKind Model, ModelOptions Options, long Step, Dictionary<string, string> Metadata)
{
    /// <summary>The options as text, by setting key.</summary>
    public IReadOnlyDictionary<string, string> Settings => OptionsBinder.ToStrings(Options);
}

public sealed record TrainResult(TrainOutcome Outcome, long Steps, string Message, string Checkpoint, string LatestSamples, string LossCurve);

/// <summary>
/// The training loop every model shares. Per step: the next batch (prefetched by the loader), the job's
/// step, a NaN check, the loss log line; at intervals a sample picture, the loss curve and a checkpoint.
/// The checkpoint holds the weights, the optimizers' state and, in its metadata, the job's kind and config,
/// the step, where in the data the run stands and the job's random-stream position, so a resumed run on the
/// cpu device draws the same batches and the same noise as an uninterrupted one and ends bit-identical.
/// </summary>
public static class Trainer
{
    public const string CheckpointFile = "checkpoint.safetensors";
    public const string LossLogFile = "losses.jsonl";
    public const string LossCurveFile = "losses.png";
    public const string SamplesFolder = "samples";

    /// <summary>Runs <paramref name="job"/> over <paramref name="loader"/>'s batches until the epochs (or MaxSteps) are done,
    /// the token is cancelled, or a loss is not finite.</summary>
    public static TrainResult Run(ITrainingJob job, DataLoader loader, TrainerOptions options, CancellationToken cancel,
        Action<TrainProgress>? progress = null, Action<string>? log = null)
    {
        if (options.Epochs < 1) throw new ArgumentException($"train: epochs must be at least 1, got {options.Epochs}");
        if (options.SampleEvery < 1 || options.CheckpointEvery < 1)
            throw new ArgumentException("train: sample and checkpoint intervals must be at least 1 step");
        CheckLoaders(loader, options);
        Directory.CreateDirectory(options.OutDir);
        string checkpoint = Path.Combine(options.OutDir, CheckpointFile);
        string lossLog = Path.Combine(options.OutDir, LossLogFile);
        string lossCurve = Path.Combine(options.OutDir, LossCurveFile);
        string latest = Path.Combine(options.OutDir, SamplesFolder, "latest.png");

        long total = options.LaterLoaders.Count > 0
            ? options.MaxSteps!.Value // epochs differ in length once the batch changes: the steps alone set the length
            : Math.Min(options.Epochs * (long)loader.BatchesPerEpoch, options.MaxSteps ?? long.MaxValue);

        var comm = options.Communicator;
        bool writes = comm.IsRoot; // rank 0 alone writes the run's files
        long step = 0;
        if (options.Resume)
        {
            step = Resume(job, checkpoint, options, log);
            if (writes) TruncateLog(lossLog, step);
        }
        else if (writes && File.Exists(lossLog)) File.Delete(lossLog);
        var history = writes ? ReadLog(lossLog) : [];
        using var parallel = Distribute(job, loader, options);

        var clock = Stopwatch.StartNew();
        long firstStep = step;
        var last = (IReadOnlyDictionary<string, float>)new Dictionary<string, float>();
        using var logWriter = writes ? new StreamWriter(lossLog, append: true) : null;
        var faults = new WriteFaults(log);
        var optimizers = job.Optimizers; // the same for the whole run (GanJob's property builds a new map each call)
        int batchesPerStep = job.BatchesPerStep; // a loader batch holds that many of the user's --batch (a critic's n updates)
        var latestPicture = writes && options.LatestEvery is { } every ? new LatestPicture(every, clock) : null;
        while (step < total)
        {
            // The loader for this step, and the step where the next one takes over (the batch size changes there).
            var (current, until) = LoaderAt(loader, options.LaterLoaders, step);
            long perEpoch = current.BatchesPerEpoch;
            int epoch = (int)(step / perEpoch);
            foreach (var batch in current.Epoch(epoch, (int)(step % perEpoch)))
            {
                using (batch) last = job.Step(batch, step);
                step++;
                double rate = (step - firstStep) / Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
                // With a time limit: the steps that fit in it at the mean step time so far, if fewer than the run's length.
                long shown = total;
                bool outOfTime = false;
                if (options.TimeLimit is { } limit && rate > 0)
                {
                    double left = (limit - clock.Elapsed).TotalSeconds;
                    outOfTime = left < 1 / rate;
                    shown = Math.Min(total, step + (long)Math.Max(0, Math.Floor(left * rate)));
                }
                // Under data parallelism a stop is agreed here, with the step's numbers; one process reads the token after the
                // progress report (a cancel from the progress callback stops at this step).
                bool agreedStop = false;
                if (comm.Size > 1) (last, agreedStop, outOfTime) = Agree(comm, last, cancel.IsCancellationRequested, outOfTime);
                var bad = last.FirstOrDefault(kv => !float.IsFinite(kv.Value));
                if (bad.Key is not null)
                {
                    string kept = File.Exists(checkpoint) ? $"the last good checkpoint ({checkpoint}, step {ReadStep(checkpoint)}) is kept" : "no checkpoint had been saved yet";
                    return new TrainResult(TrainOutcome.Diverged, step,
                        $"step {step}: {bad.Key} is {bad.Value}; training stopped and nothing was saved after it; {kept}. " +
                        "A lower learning rate or another seed may help.", checkpoint, latest, lossCurve);
                }
                var logged = Logged(last, current.BatchSize / batchesPerStep, optimizers);
                // Written through every step, so after a kill the log holds every step up to the checkpoint's (a resume
                // drops the lines after it): a resumed run's log equals an uninterrupted run's.
                if (logWriter is not null)
                {
                    faults.Try("the loss log", lossLog, () => { logWriter.WriteLine(LogLine(step, epoch, clock.Elapsed.TotalSeconds, logged)); logWriter.Flush(); });
                    history.Add((step, logged));
                }
                progress?.Invoke(new TrainProgress(step, shown, epoch, rate, clock.Elapsed,
                    rate > 0 ? TimeSpan.FromSeconds((shown - step) / rate) : null, last));

                bool end = step >= total || outOfTime, stop = comm.Size > 1 ? agreedStop : cancel.IsCancellationRequested;
                if (writes && (end || stop || step % options.SampleEvery == 0))
                {
                    faults.Try("the pictures", Path.Combine(options.OutDir, SamplesFolder), () => WritePictures(job, options.OutDir, step, latest, lossCurve, history));
                    latestPicture?.Drawn(TimeSpan.Zero);
                }
                else if (latestPicture is not null && latestPicture.Due)
                    faults.Try("the pictures", latest, () => latestPicture.Write(job, latest));
                if (end || stop || step % options.CheckpointEvery == 0)
                {
                    try
                    {
                        if (writes) Save(job, checkpoint, step, perEpoch, options);
                        if (comm.Size > 1) ShareCheckpointOutcome(comm, failed: false);
                    }
                    catch (CheckpointException e)
                    {
                        if (comm.Size > 1 && writes) ShareCheckpointOutcome(comm, failed: true);
                        // The previous checkpoint stays (Safetensors.Save replaces it only once the new one is whole).
                        string kept = File.Exists(checkpoint) ? $"the previous checkpoint (step {ReadStep(checkpoint)}) is kept" : "no checkpoint had been saved yet";
                        return new TrainResult(TrainOutcome.CheckpointFailed, step,
                            $"step {step}: the checkpoint could not be written: {e.Message}; {kept}; training stopped. Free space or fix the folder, then run again with --resume",
                            checkpoint, latest, lossCurve);
                    }
                }
                if (stop)
                    return new TrainResult(TrainOutcome.Interrupted, step,
                        $"interrupted at step {step} of {total}; checkpoint saved; run again with --resume to continue{SameOnEveryRank(job, comm)}", checkpoint, latest, lossCurve);
                if (step >= total || step == until) break;
                if (outOfTime)
                    return new TrainResult(TrainOutcome.Finished, step, $"finished {step} steps: the time limit of {options.TimeLimit!.Value.TotalMinutes:0.##} minutes is reached (--resume continues){SameOnEveryRank(job, comm)}",
                        checkpoint, latest, lossCurve);
            }
        }
        return new TrainResult(TrainOutcome.Finished, step, $"finished {step} steps{SameOnEveryRank(job, comm)}", checkpoint, latest, lossCurve);
    }

    // ------------------------------------------------------------------ data parallelism

    /// <summary>Sets a data-parallel run up (nothing for one process): shards the loaders and the job's stream, broadcasts
    /// rank 0's state and hooks the optimizers. The result unhooks them and unshards the stream when disposed.</summary>
    static IDisposable? Distribute(ITrainingJob job, DataLoader loader, TrainerOptions options)
    {
        var comm = options.Communicator;
        if (comm.Size == 1) return null;
        ShardLoaders(job, [loader, .. options.LaterLoaders.Select(l => l.Loader)], comm);
        job.Rng.ShardRows(comm.Rank, comm.Size);
        var ddp = new DistributedDataParallel(job.Modules.Values, job.Optimizers.Values, comm, syncBatchNorm: options.SyncBatchNorm);
        comm.Stats.Reset(); // what follows is the steps' traffic
        return new Undo(() => { ddp.Dispose(); job.Rng.ShardRows(0, 1); });
    }

    sealed class Undo(Action undo) : IDisposable
    {
        public void Dispose() => undo();
    }

    /// <summary>Each loader gives this rank its shard of every batch, cut per update (a step's <see cref="ITrainingJob.BatchesPerStep"/>
    /// slices). Throws <see cref="DataException"/> when a batch does not split evenly.</summary>
    public static void ShardLoaders(ITrainingJob job, IEnumerable<DataLoader> loaders, Communicator comm)
    {
        if (comm.Size > 1 && job.DataParallelRefusal is { } why) throw new ArgumentException($"--distributed: {why}");
        foreach (var l in loaders) l.ShardRows(comm.Rank, comm.Size, job.BatchesPerStep);
    }

    /// <summary>The step's logged numbers averaged over the ranks (a NaN on any rank makes them NaN everywhere, so every
    /// rank stops together), and a stop or the end of the time on any rank stops them all.</summary>
    static (IReadOnlyDictionary<string, float> Values, bool Stop, bool OutOfTime) Agree(Communicator comm, IReadOnlyDictionary<string, float> values, bool stop, bool outOfTime)
    {
        var keys = values.Keys.Order(StringComparer.Ordinal).ToList();
        var sums = new double[keys.Count + 3];
        for (int i = 0; i < keys.Count; i++) sums[i] = values[keys[i]];
        sums[keys.Count] = stop ? 1 : 0;
        sums[keys.Count + 1] = outOfTime ? 1 : 0;
        sums[keys.Count + 2] = keys.Count; // the ranks must log the same numbers
        comm.AllReduceSum(sums);
        if (sums[keys.Count + 2] != (double)keys.Count * comm.Size)
            throw new DistributedException($"train: rank {comm.Rank} logs {keys.Count} numbers a step ({string.Join(", ", keys)}), the ranks together {sums[keys.Count + 2]}: the ranks ran different steps");
        var mean = new Dictionary<string, float>(StringComparer.Ordinal);
        for (int i = 0; i < keys.Count; i++) mean[keys[i]] = (float)(sums[i] / comm.Size);
        return (mean, sums[keys.Count] > 0, sums[keys.Count + 1] > 0);
    }

    /// <summary>
    /// At the end of a data-parallel run: checks that every rank holds bit-identical parameters (a 64-bit FNV-1a hash of
    /// every parameter's bits, in the modules' order, compared with rank 0's) and says so for the result's message; throws
    /// <see cref="DistributedException"/> naming the ranks when they differ. Buffers (batch norm's running statistics) are
    /// per rank and left out. Empty for one process.
    /// </summary>
    public static string SameOnEveryRank(ITrainingJob job, Communicator comm)
    {
        if (comm.Size == 1) return "";
        ulong hash = ParameterHash(job);
        var root = comm.Broadcast(comm.IsRoot ? BitConverter.GetBytes(hash) : null);
        Span<double> differ = [BitConverter.ToUInt64(root) != hash ? 1 : 0];
        comm.AllReduceSum(differ);
        if (differ[0] > 0)
            throw new DistributedException($"train: after the last step {differ[0]} of the {comm.Size} ranks hold parameters that differ from rank 0's " +
                                           $"(rank {comm.Rank}: hash {hash:x16}, rank 0: {BitConverter.ToUInt64(root):x16}): the gradient averaging did not keep them equal");
        return $"; the {comm.Size} ranks hold bit-identical parameters (FNV-1a {hash:x16})";
    }

    /// <summary>A 64-bit FNV-1a hash of the bits of every module's parameters, in order.</summary>
    public static ulong ParameterHash(ITrainingJob job)
    {
        ulong hash = 14695981039346656037UL;
        foreach (var (_, module) in job.Modules)
            foreach (var p in module.Parameters())
                foreach (var v in p.ToArray())
                {
                    uint bits = BitConverter.SingleToUInt32Bits(v);
                    for (int b = 0; b < 4; b++, bits >>= 8) hash = (hash ^ (bits & 0xFF)) * 1099511628211UL;
                }
        return hash;
    }

    /// <summary>After rank 0 wrote (or failed to write) a checkpoint: every rank learns which, so all stop together on a failure.</summary>
    static void ShareCheckpointOutcome(Communicator comm, bool failed)
    {
        Span<double> flag = [comm.IsRoot && failed ? 1 : 0];
        comm.AllReduceSum(flag);
        if (flag[0] > 0 && !comm.IsRoot) throw new CheckpointException("rank 0 could not write the checkpoint (its message says why)");
    }

    /// <summary>
    /// Sends rank 0's checkpoint file (<paramref name="path"/> there) to every rank, each writing it at its own
    /// <paramref name="path"/>: what a resumed data-parallel run reads its job and state from on machines that do not
    /// share rank 0's disk. Rank 0's file must exist (else it throws and mpiexec stops the others).
    /// </summary>
    public static void ShareCheckpoint(Communicator comm, string path)
    {
        if (comm.Size == 1) return;
        byte[]? mine = null;
        if (comm.IsRoot)
        {
            if (!File.Exists(path)) throw new FileNotFoundException($"--resume: no checkpoint at {path}", path);
            mine = File.ReadAllBytes(path);
        }
        var bytes = comm.Broadcast(mine);
        if (comm.IsRoot) return;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        File.WriteAllBytes(path, bytes);
    }

    static void CheckLoaders(DataLoader first, TrainerOptions options)
    {
        if (first.BatchesPerEpoch < 1)
            throw new ArgumentException($"train: the data ({options.DataName}) gives no full batch of {first.BatchSize}; use a smaller batch size");
        if (options.LaterLoaders.Count == 0) return;
        if (options.MaxSteps is null)
            throw new ArgumentException("train: a batch size that changes mid-run needs a number of steps (epochs differ in length once the batch changes)");
        long previous = 0;
        foreach (var (at, later) in options.LaterLoaders)
        {
            if (at <= previous)
                throw new ArgumentException($"train: the batch size changes at steps {string.Join(", ", options.LaterLoaders.Select(l => l.Step))}: they must be > 0 and increasing");
            if (later.BatchesPerEpoch < 1)
                throw new ArgumentException($"train: the data ({options.DataName}) gives no full batch of {later.BatchSize} (from step {at}); use a smaller batch size");
            previous = at;
        }
    }

    /// <summary>The loader of step <paramref name="step"/>: the last later loader whose step has come, else the first;
    /// and the step where the next one takes over (long.MaxValue: none).</summary>
    static (DataLoader Loader, long Until) LoaderAt(DataLoader first, IReadOnlyList<(long Step, DataLoader Loader)> later, long step)
    {
        var current = first;
        foreach (var (at, loader) in later)
        {
            if (at > step) return (current, at);
            current = loader;
        }
        return (current, long.MaxValue);
    }

    // ------------------------------------------------------------------ checkpoints

    /// <summary>Checkpoint metadata keys: the --data argument and the --seed a run was trained with.</summary>
    public const string DataSourceKey = "data_source", DataSeedKey = "data_seed";

    /// <summary>Saves weights, optimizer state and where the run stands (atomically: a crash keeps the previous file).</summary>
    public static void Save(ITrainingJob job, string path, long step, long batchesPerEpoch, TrainerOptions options)
    {
        var meta = new Dictionary<string, string>
        {
            ["kind"] = job.Kind,
            [OptionsKey] = OptionsBinder.ToJson(job.Options),
            ["step"] = step.ToString(CultureInfo.InvariantCulture),
            ["batches_per_epoch"] = batchesPerEpoch.ToString(CultureInfo.InvariantCulture),
            ["rng_seed"] = job.Rng.Seed.ToString(CultureInfo.InvariantCulture),
            ["rng_offset"] = job.Rng.Offset.ToString(CultureInfo.InvariantCulture),
            ["data"] = options.DataName,
            ["saved_utc"] = DateTime.UtcNow.ToString("O", CultureInfo.InvariantCulture),
        };
        if (options.DataSource is { } source) meta[DataSourceKey] = source;
        if (options.DataSeed is { } seed) meta[DataSeedKey] = seed.ToString(CultureInfo.InvariantCulture);
        Checkpoint.Save(path, job.Modules, job.Optimizers, meta);
    }

    /// <summary>Checkpoint metadata: the job's options as JSON (<see cref="OptionsBinder.ToJson"/>); before typed options, a
    /// string map under "config", which <see cref="ReadJob"/> still reads.</summary>
    public const string OptionsKey = "options", LegacyConfigKey = "config";

    /// <summary>
    /// The kind, options and metadata a checkpoint was written with: what rebuilds its job. Options saved before typed
    /// options existed (a string "config") are upgraded by the kind (<see cref="ModelKind.UpgradeConfig"/>); settings a
    /// kind gained since the file was written take their old-behaviour values (<see cref="ModelKind.AddedLater"/>).
    /// Anything unreadable is a <see cref="CheckpointException"/> naming the file and the entry.
    /// </summary>
    public static SavedRun ReadJob(string path)
    {
        var meta = Checkpoint.ReadMetadata(path);
        if (!meta.TryGetValue("kind", out var kind) || !(meta.ContainsKey(OptionsKey) || meta.ContainsKey(LegacyConfigKey)))
            throw new CheckpointException($"{path}: not a training checkpoint of this program (no 'kind' or 'options' in its metadata)");
        ModelKind model;
        try { model = ModelKinds.Find(kind); }
        catch (ArgumentException e) { throw new CheckpointException($"{path}: {e.Message}"); }
        Dictionary<string, string> settings;
        if (meta.TryGetValue(OptionsKey, out var json))
        {
            try { settings = OptionsBinder.FromJson(json); }
            catch (FormatException e) { throw new CheckpointException($"{path}: metadata '{OptionsKey}': {e.Message}"); }
        }
        else
        {
            Dictionary<string, string>? config;
            try { config = JsonSerializer.Deserialize<Dictionary<string, string>>(meta[LegacyConfigKey]); }
            catch (JsonException e) { throw new CheckpointException($"{path}: metadata '{LegacyConfigKey}' is not a JSON object of strings ({e.Message})"); }
            if (config is null) throw new CheckpointException($"{path}: metadata '{LegacyConfigKey}' is not a JSON object of strings");
            settings = model.UpgradeConfig?.Invoke(config) ?? config;
        }
        ModelOptions options;
        try { options = model.FromSaved(settings); }
        catch (ArgumentException e) { throw new CheckpointException($"{path}: its settings do not describe a '{kind}' model: {e.Message}"); }
        if (!meta.TryGetValue("step", out var stepText) || !long.TryParse(stepText, NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) || step < 0)
            throw new CheckpointException($"{path}: metadata 'step' must be a step count, got '{meta.GetValueOrDefault("step", "(none)")}'");
        if (!meta.TryGetValue("rng_offset", out var offset) || !ulong.TryParse(offset, NumberStyles.Integer, CultureInfo.InvariantCulture, out _))
            throw new CheckpointException($"{path}: metadata 'rng_offset' must be a non-negative integer, got '{meta.GetValueOrDefault("rng_offset", "(none)")}'");
        return new SavedRun(kind, model, options, step, meta);
    }

    /// <summary>Builds a job from a checkpoint and loads its weights and optimizer state.</summary>
    public static ITrainingJob Load(string path, Device device)
    {
        var saved = ReadJob(path);
        var job = saved.Model.Create(saved.Options, device);
        try
        {
            if (job.Kind != saved.Kind)
                throw new CheckpointException($"{path}: written by a '{saved.Kind}' run, but its settings make a '{job.Kind}' model");
            RestoreState(job, path);
        }
        catch { job.Dispose(); throw; }
        return job;
    }

    static Dictionary<string, string> RestoreState(ITrainingJob job, string path)
    {
        var meta = Checkpoint.Load(path, job.Modules, job.Optimizers);
        // A network that holds NaN or infinity would draw black grids and score NaN: refused here, naming the tensor.
        foreach (var (name, module) in job.Modules)
            foreach (var (key, t) in module.StateDict())
            {
                var values = t.ToArray();
                int bad = Array.FindIndex(values, v => !float.IsFinite(v));
                if (bad >= 0)
                    throw new CheckpointException($"{path}: tensor '{name}.{key}' holds {values[bad]} (element {bad} of {values.Length}): the network is not usable; take an earlier checkpoint");
            }
        ulong offset = ulong.Parse(meta["rng_offset"], CultureInfo.InvariantCulture);
        if (job.Rng.Offset > offset)
            throw new CheckpointException($"{path}: the job's random stream is already past the checkpoint's position ({job.Rng.Offset} > {offset})");
        job.Rng.Advance((long)(offset - job.Rng.Offset));
        return meta;
    }

    static long Resume(ITrainingJob job, string path, TrainerOptions options, Action<string>? log)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"--resume: no checkpoint at {path}", path);
        var saved = ReadJob(path);
        if (saved.Kind != job.Kind) throw new CheckpointException($"{path}: written by a '{saved.Kind}' run, cannot resume a '{job.Kind}' run from it");
        if (saved.Metadata.TryGetValue("data", out var data) && data != options.DataName)
            log?.Invoke($"note: the checkpoint was trained on '{data}', this run uses '{options.DataName}'");
        long step = long.Parse(RestoreState(job, path)["step"], CultureInfo.InvariantCulture);
        log?.Invoke($"resumed from {path} at step {step}");
        return step;
    }

    static long ReadStep(string path) => long.Parse(Checkpoint.ReadMetadata(path)["step"], CultureInfo.InvariantCulture);

    // ------------------------------------------------------------------ loss log and pictures

    /// <summary>What the loss log keeps of a step: its numbers (losses, penalties, D's outputs), the batch size as
    /// <c>batch</c> (the --batch of one update) and each optimizer's learning rate in that step as <c>lr_NAME</c> (what a schedule made of it).
    /// The console line shows only the first group; the loss curve marks where the last two change.</summary>
    static Dictionary<string, float> Logged(IReadOnlyDictionary<string, float> losses, int batch, IReadOnlyDictionary<string, Optimizer> optimizers)
    {
        var values = new Dictionary<string, float>(losses) { ["batch"] = batch };
        foreach (var (name, optimizer) in optimizers) values[$"lr_{name}"] = optimizer.LearningRate;
        return values;
    }

    /// <summary>One line of the loss log: step, epoch and seconds, then the step's <see cref="Logged"/> values.</summary>
    static string LogLine(long step, int epoch, double seconds, IReadOnlyDictionary<string, float> values)
    {
        var line = new Dictionary<string, object> { ["step"] = step, ["epoch"] = epoch, ["seconds"] = Math.Round(seconds, 3) };
        foreach (var (k, v) in values) line[k] = v;
        return JsonSerializer.Serialize(line);
    }

    /// <summary>The loss log's lines up to <paramref name="step"/> (a resumed run drops what came after its checkpoint).</summary>
    static void TruncateLog(string path, long step)
    {
        if (!File.Exists(path)) return;
        var keep = File.ReadLines(path).Where(l => StepOf(l) is long s && s <= step).ToList();
        File.WriteAllLines(path, keep);
    }

    static long? StepOf(string line)
    {
        try { using var doc = JsonDocument.Parse(line); return doc.RootElement.GetProperty("step").GetInt64(); }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { return null; }
    }

    static List<(long Step, IReadOnlyDictionary<string, float> Losses)> ReadLog(string path)
    {
        var result = new List<(long, IReadOnlyDictionary<string, float>)>();
        if (!File.Exists(path)) return result;
        foreach (var line in File.ReadLines(path))
        {
            try
            {
                using var doc = JsonDocument.Parse(line);
                var values = new Dictionary<string, float>();
                foreach (var p in doc.RootElement.EnumerateObject())
                    if (p.Name is not ("step" or "epoch" or "seconds") && p.Value.ValueKind == JsonValueKind.Number)
                        values[p.Name] = p.Value.GetSingle();
                result.Add((doc.RootElement.GetProperty("step").GetInt64(), values));
            }
            catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException) { }
        }
        return result;
    }

    /// <summary>When the clock calls for a fresh samples/latest.png between the numbered pictures (<see cref="TrainerOptions.LatestEvery"/>).</summary>
    sealed class LatestPicture(TimeSpan every, Stopwatch clock)
    {
        TimeSpan last = clock.Elapsed, cost;

        public bool Due => clock.Elapsed - last >= (every > 20 * cost ? every : 20 * cost);

        public void Drawn(TimeSpan took)
        {
            last = clock.Elapsed;
            if (took > TimeSpan.Zero) cost = took;
        }

        /// <summary>Draws into a temporary file first, so a viewer never reads a half-written picture.</summary>
        public void Write(ITrainingJob job, string latest)
        {
            var start = clock.Elapsed;
            Directory.CreateDirectory(Path.GetDirectoryName(latest)!);
            string partial = latest + ".partial.png";
            try
            {
                job.WriteSamples(partial);
                File.Move(partial, latest, overwrite: true);
            }
            finally
            {
                Drawn(clock.Elapsed - start);
                if (File.Exists(partial)) File.Delete(partial);
            }
        }
    }

    static void WritePictures(ITrainingJob job, string outDir, long step, string latest, string lossCurve,
        List<(long Step, IReadOnlyDictionary<string, float> Losses)> history)
    {
        Directory.CreateDirectory(Path.Combine(outDir, SamplesFolder));
        string numbered = Path.Combine(outDir, SamplesFolder, $"step_{step:D6}.png");
        job.WriteSamples(numbered);
        File.Copy(numbered, latest, overwrite: true);
        var names = history.SelectMany(h => h.Losses.Keys).Distinct().Where(n => n.StartsWith("loss", StringComparison.Ordinal)).ToList();
        if (names.Count == 0 || history.Count < 2) return;
        var series = names.Select(n => new Series(n,
            [.. history.Select(h => (double)h.Step)],
            [.. history.Select(h => h.Losses.TryGetValue(n, out var v) ? v : double.NaN)])).ToList();
        LinePlot.Save(lossCurve, $"{job.Kind} losses", "step", "loss", series, smooth: Math.Max(1, history.Count / 50),
            markers: TrainingPhases.Find(history), clipOutliers: true);
    }
}
