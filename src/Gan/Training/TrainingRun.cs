using NativeGan.Gan.Data;
using NativeGan.Nn;
using NativeGan.Nn.Distributed;

namespace NativeGan.Gan.Training;

/// <summary>Everything <c>nativegan train KIND</c> asks for (null: the kind's or the checkpoint's default).</summary>
public sealed record TrainRequest
{
    public required ModelKind Kind { get; init; }
    /// <summary>The run folder (checkpoint, samples, loss log and curve).</summary>
    public required string OutDir { get; init; }
    /// <summary>--data: a named data set or a path (null: the checkpoint's on resume, else the kind's default).</summary>
    public string? Data { get; init; }
    /// <summary>--seed (null: the checkpoint's on resume, else 1).</summary>
    public ulong? Seed { get; init; }
    public int? Epochs { get; init; }
    public long? Steps { get; init; }
    /// <summary>--minutes: a time budget for training; the run ends with a checkpoint before the step that would pass it.</summary>
    public double? Minutes { get; init; }
    public int? Batch { get; init; }
    /// <summary>--batch-from: batches of Size from step Step on (needs Steps and no Epochs).</summary>
    public IReadOnlyList<(long Step, int Size)> BatchFrom { get; init; } = [];
    public int SampleEvery { get; init; } = 100;
    /// <summary>--latest-every: seconds of training between refreshes of samples/latest.png between the numbered pictures (0: none).</summary>
    public double LatestEvery { get; init; } = 5;
    public int CheckpointEvery { get; init; } = 500;
    public bool Resume { get; init; }
    /// <summary>Replace the run in <see cref="OutDir"/>, if there is one (otherwise a new run goes to a numbered sibling folder).</summary>
    public bool Overwrite { get; init; }
    /// <summary>Square side images are resized or padded to (null: 64 for an image folder, else 32).</summary>
    public int? ImageSize { get; init; }
    /// <summary>Note events per excerpt of music data (null: the checkpoint's on --resume, else 100).</summary>
    public int? Length { get; init; }
    /// <summary>Model settings as text (<c>--set key=value</c>), bound onto the kind's options.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
    /// <summary>--distributed: the ranks training together (default one process). Rank 0 claims <see cref="OutDir"/> and
    /// writes the run's files; every other rank works in a private temporary folder, removed at the end, and on --resume
    /// receives rank 0's checkpoint there. --batch is the global batch: it must split evenly over the ranks.</summary>
    public Communicator Communicator { get; init; } = SingleProcess.Instance;
    /// <summary>--sync-bn: batch norm's training statistics over every rank's shard (see <see cref="TrainerOptions.SyncBatchNorm"/>).</summary>
    public bool SyncBatchNorm { get; init; }
}

/// <summary>
/// A training run set up and checked before its first step: the data loaded, the job built (or rebuilt from the run's
/// checkpoint with the settings a resume may change), the loaders made. Everything a request gets wrong is refused here,
/// by an <see cref="ArgumentException"/>, <see cref="DataException"/>, <see cref="CheckpointException"/> or
/// <see cref="IOException"/> whose message names what and where; <see cref="Run"/> then drives the shared
/// <see cref="Trainer"/>. The command line only parses and prints.
/// </summary>
public sealed class TrainingRun : IDisposable
{
    readonly List<DataLoader> loaders = [];
    readonly RunFolder folder;

    TrainingRun(TrainRequest request, RunFolder folder, ITrainingJob job, Dataset data, string dataSpec, DataLoader loader, TrainerOptions options)
    {
        Request = request;
        DataSpec = dataSpec;
        this.folder = folder;
        Job = job;
        Data = data;
        Loader = loader;
        Options = options;
        loaders.Add(loader);
        loaders.AddRange(options.LaterLoaders.Select(l => l.Loader));
    }

    public TrainRequest Request { get; }
    public ITrainingJob Job { get; }
    public Dataset Data { get; }

    /// <summary>What the data was asked for as (--data, else the checkpoint's, else the kind's default): "mnist", a path, ...</summary>
    public string DataSpec { get; }
    public DataLoader Loader { get; }
    public TrainerOptions Options { get; }

    /// <summary>The folder the run writes to: <see cref="TrainRequest.OutDir"/>, or a numbered sibling when that holds another run.</summary>
    public string OutDir => folder.Path;

    /// <summary>
    /// Sets up <paramref name="request"/> on <paramref name="device"/>. <paramref name="log"/> hears what was decided for the
    /// user (data taken from the checkpoint, settings changed on resume), <paramref name="warn"/> what may surprise them.
    /// </summary>
    public static TrainingRun Prepare(TrainRequest request, Device device, Action<string> log, Action<string> warn)
    {
        var r = request;
        string name = $"train {r.Kind.Name}";
        if (r.Epochs is < 1 || r.Batch is < 1 || r.SampleEvery < 1 || r.CheckpointEvery < 1 || r.Steps is < 1)
            throw new ArgumentException($"{name}: --epochs, --batch, --steps, --sample-every and --checkpoint-every must be at least 1");
        if (!(r.LatestEvery >= 0 && double.IsFinite(r.LatestEvery))) throw new ArgumentException($"{name}: --latest-every must be 0 or a positive number of seconds, got {r.LatestEvery}");
        if (r.Minutes is { } m && !(m > 0 && double.IsFinite(m))) throw new ArgumentException($"{name}: --minutes must be a positive number, got {m}");
        if (r.ImageSize is < 1) throw new ArgumentException($"{name}: --image-size must be at least 1, got {r.ImageSize}");
        if (r.Length is < 2) throw new ArgumentException($"{name}: --length must be at least 2 note events, got {r.Length}");
        if (r.Settings.ContainsKey("seed")) throw new ArgumentException($"{name}: the seed is --seed, not --set seed");
        if (r.BatchFrom.Count > 0 && (r.Steps is null || r.Epochs is not null))
            throw new ArgumentException($"{name}: --batch-from needs --steps and no --epochs (epochs differ in length once the batch changes)");
        for (int i = 1; i < r.BatchFrom.Count; i++)
            if (r.BatchFrom[i].Step <= r.BatchFrom[i - 1].Step)
                throw new ArgumentException($"{name}: --batch-from steps must increase, got {r.BatchFrom[i - 1].Step} then {r.BatchFrom[i].Step}");

        var comm = r.Communicator;
        RunFolder folder;
        if (comm.IsRoot)
        {
            folder = RunFolder.Claim(r.OutDir, r.Resume, r.Overwrite, log);
            if (comm.Size > 1 && r.Resume)
                try { Trainer.ShareCheckpoint(comm, Path.Combine(folder.Path, Trainer.CheckpointFile)); }
                catch { folder.Abandon(); throw; }
        }
        else
        {
            // Another rank: its own scratch folder (it writes no run files; on --resume it holds rank 0's checkpoint).
            string scratch = Path.Combine(Path.GetTempPath(), $"nativegan-rank{comm.Rank}-{Environment.ProcessId}");
            if (Directory.Exists(scratch)) Directory.Delete(scratch, recursive: true);
            if (r.Resume) Trainer.ShareCheckpoint(comm, Path.Combine(scratch, Trainer.CheckpointFile));
            folder = RunFolder.Claim(scratch, r.Resume, overwrite: !r.Resume, log);
        }
        try
        {
            var run = Prepare(r, folder, device, log, warn);
            if (!comm.IsRoot) run.scratch = folder.Path;
            return run;
        }
        catch
        {
            folder.Abandon();
            throw;
        }
    }

    string? scratch;

    static TrainingRun Prepare(TrainRequest r, RunFolder folder, Device device, Action<string> log, Action<string> warn)
    {
        string name = $"train {r.Kind.Name}";
        if (folder.RemoveStaleTemporaries() is > 0 and var stale) log($"removed {stale} partial checkpoint(s) an interrupted run left in {folder.Path}");
        string checkpoint = Path.Combine(folder.Path, Trainer.CheckpointFile);
        SavedRun? saved = null;
        if (r.Resume)
        {
            saved = Trainer.ReadJob(checkpoint);
            if (!r.Kind.Owns(saved.Kind)) throw new ArgumentException($"--resume: {checkpoint} was written by a '{saved.Kind}' run, not by `train {r.Kind.Name}`");
        }

        // A resumed run trains on what its checkpoint was trained on: where --data or --seed is not given, the checkpoint's
        // (saved as data_source and data_seed) stands in for the default.
        string dataSpec = r.Data ?? FromCheckpoint(saved, Trainer.DataSourceKey, "--data", log) ?? r.Kind.DefaultData;
        ulong seed = r.Seed ?? (FromCheckpoint(saved, Trainer.DataSeedKey, "--seed", log) is { } s
            ? ulong.TryParse(s, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out ulong v) ? v
                : throw new CheckpointException($"{checkpoint}: metadata '{Trainer.DataSeedKey}' must be a seed, got '{s}'")
            : 1);
        // Music: a resumed run's excerpts are as long as its model's (data_shape LENGTH,4).
        int? length = r.Length ?? (saved?.Options.DataShape is [var events, Music.NoteEvents.Features] ? events : null);
        var dataOptions = new DataOptions(ImageSize: r.ImageSize ?? (Directory.Exists(dataSpec) || EmojiData.IsEmoji(dataSpec) ? 64 : 32), Log: log, Seed: seed, SequenceLength: length);
        var dataset = r.Kind.LoadData is { } load ? load(dataSpec, dataOptions, r.Settings, saved?.Options) : DataSource.Load(dataSpec, dataOptions);
        // A checkpoint from before data_source was saved: without --data the default must be what it was trained on.
        if (saved is not null && r.Data is null && !saved.Metadata.ContainsKey(Trainer.DataSourceKey)
            && saved.Metadata.TryGetValue("data", out var trainedOn) && trainedOn != dataset.Name)
            throw new ArgumentException($"--resume: {checkpoint} was trained on '{trainedOn}', and without --data this run would use '{dataset.Name}' ({dataSpec}, the default): pass the --data (and --seed) it was trained with");

        ITrainingJob job;
        if (saved is not null)
        {
            var options = OptionsBinder.Resume(saved.Options, r.Settings, saved.Kind, saved.Step, warn, out var changes);
            CheckData(options, dataset, $"--resume: {checkpoint}");
            job = saved.Model.Create(options, device);
            foreach (var c in changes) log($"--resume: {c}");
        }
        else
        {
            var options = r.Kind.Options(new DataFacts(dataset.SampleShape, dataset.ClassCount) { Tabular = dataset.Tabular }, r.Settings) with { Seed = seed };
            CheckData(options, dataset, name);
            job = r.Kind.Create(options, device);
        }

        try
        {
            // A kind that makes several updates a step (WGAN's 5 critic updates) takes that many batches at once, so each
            // update sees its own --batch samples.
            int perStep = job.BatchesPerStep, batch = r.Batch ?? r.Kind.DefaultBatch;
            DataLoader loader;
            var later = new List<(long Step, DataLoader Loader)>();
            try
            {
                loader = new DataLoader(dataset, batch * perStep, device, seed);
                foreach (var (step, size) in r.BatchFrom) later.Add((step, new DataLoader(dataset, size * perStep, device, seed)));
            }
            catch (DataException e)
            {
                throw new DataException($"{name}: {e.Message}{(perStep > 1 ? $" (each step takes {perStep} batches, one per update)" : "")}: use a smaller --batch");
            }
            // --steps alone sets the run's length (a kind's default epochs would otherwise cut it short, silently); an
            // explicit --epochs as well makes whichever ends first the end.
            int epochs = r.Steps is long wanted && r.Epochs is null
                ? (int)Math.Min(int.MaxValue, (wanted + loader.BatchesPerEpoch - 1) / loader.BatchesPerEpoch)
                : r.Epochs ?? r.Kind.DefaultEpochs;
            var trainer = new TrainerOptions
            {
                OutDir = folder.Path, Epochs = epochs, MaxSteps = r.Steps, TimeLimit = r.Minutes is { } minutes ? TimeSpan.FromMinutes(minutes) : null, SampleEvery = r.SampleEvery, CheckpointEvery = r.CheckpointEvery,
                LatestEvery = r.LatestEvery > 0 ? TimeSpan.FromSeconds(r.LatestEvery) : null,
                Resume = r.Resume, DataName = dataset.Name, LaterLoaders = later, DataSource = dataSpec, DataSeed = seed,
                Communicator = r.Communicator, SyncBatchNorm = r.SyncBatchNorm,
            };
            // A batch that does not split over the ranks is refused now, not at the first step.
            if (r.Communicator.Size > 1) Trainer.ShardLoaders(job, [loader, .. later.Select(l => l.Loader)], r.Communicator);
            return new TrainingRun(r, folder, job, dataset, dataSpec, loader, trainer);
        }
        catch
        {
            job.Dispose();
            throw;
        }
    }

    static string? FromCheckpoint(SavedRun? saved, string key, string option, Action<string> log)
    {
        if (saved is null || !saved.Metadata.TryGetValue(key, out var value)) return null;
        log($"--resume: {option} {value} (the checkpoint's)");
        return value;
    }

    /// <summary>The model's sample shape (and classes) must be the data's: refused before the first step, naming both.</summary>
    static void CheckData(ModelOptions options, Dataset data, string who)
    {
        if (!options.DataShape.SequenceEqual(data.SampleShape))
            throw new ArgumentException($"{who}: the model takes samples of shape {string.Join("x", options.DataShape)} (data_shape), but {data.Name} has {string.Join("x", data.SampleShape)}" +
                                        (data.IsImage ? " (--image-size sets the images' side)" : ""));
        options.CheckData(who, data);
    }

    /// <summary>Trains until the run's length, a cancel, or a non-finite loss (see <see cref="Trainer.Run"/>).</summary>
    public TrainResult Run(CancellationToken cancel, Action<TrainProgress>? progress = null, Action<string>? log = null) =>
        Trainer.Run(Job, Loader, Options, cancel, progress, log);

    public void Dispose()
    {
        foreach (var l in loaders) l.Dispose();
        Job.Dispose();
        folder.Dispose();
        if (scratch is not null)
            try { Directory.Delete(scratch, recursive: true); } catch (IOException) { }
    }
}
