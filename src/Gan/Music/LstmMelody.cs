using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Music;

/// <summary>The settings of <c>lstm-melody</c> (<see cref="LstmMelodyJob"/>).</summary>
public sealed record LstmMelodyOptions : ModelOptions
{
    [Setting("hidden", "Units of each LSTM layer.", Min = 1)]
    public int Hidden { get; init; } = 256;

    [Setting("layers", "Stacked LSTM layers.", Min = 1)]
    public int Layers { get; init; } = 2;

    [Setting("dropout", "Dropout between LSTM layers in training.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Dropout { get; init; } = 0.2f;

    [Setting("lr", "Adam's learning rate.", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRate { get; init; } = 2e-3f;

    [Setting("temperature", "Sampling temperature of the progress pictures and `generate` (1: the model's distribution; lower: safer).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float Temperature { get; init; } = 1f;

    /// <summary>Events per training excerpt (data_shape's first number).</summary>
    public int Length => DataShape[0];

    public override void Validate(string kind) => NoteEvents.CheckDataShape(kind, DataShape);
}

/// <summary>
/// The course's "LSTM network" half of its music generator: an LSTM that reads a melody's note events and predicts the
/// next one, trained by cross-entropy, sampled one event at a time with a temperature. Each event is four categories
/// (<see cref="MelodyTokens"/>): its pitch, the time since the previous onset and its duration in sixteenth notes, its
/// velocity in eight levels; the input is their one-hot codes side by side, the output four softmaxes.
/// </summary>
public sealed class LstmMelodyJob : ITrainingJob, IMusicJob
{
    const ulong TrainStream = 1UL << 40;

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public LstmMelodyJob(LstmMelodyOptions options, Device device)
    {
        options.Validate(KindName);
        Options = options;
        Device = device;
        var init = new Rng(options.Seed);
        Rng = new Rng(options.Seed, TrainStream);
        Network = new MelodyNetwork(options, device, init, Rng);
        Optimizer = new Adam(Network.Parameters(), options.LearningRate);
        modules = new(StringComparer.Ordinal) { ["model"] = Network };
        optimizers = new(StringComparer.Ordinal) { ["model"] = Optimizer };
    }

    /// <summary>The kind's name.</summary>
    public const string KindName = "lstm-melody";

    public LstmMelodyOptions Options { get; }
    public Device Device { get; }

    /// <summary>The LSTM and its output layer.</summary>
    public MelodyNetwork Network { get; }

    public Adam Optimizer { get; }
    public float Temperature => Options.Temperature;
    public string Kind => KindName;
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var samples = batch.Samples;
        NoteEvents.CheckBatch(Kind, samples, Options.Length);
        int n = samples.Dim(0), steps = Options.Length - 1;
        var events = samples.ToArray();
        var tokens = MelodyTokens.Encode(events);
        // Inputs: events 0..T-2; targets: events 1..T-1, row (sample, step) as the LSTM's batch-first output flattens.
        var input = new float[n * steps * MelodyTokens.Width];
        var targets = new int[MelodyTokens.Heads.Count][];
        for (int h = 0; h < targets.Length; h++) targets[h] = new int[n * steps];
        for (int b = 0; b < n; b++)
            for (int t = 0; t < steps; t++)
            {
                int from = b * Options.Length + t, row = b * steps + t;
                MelodyTokens.OneHot(tokens.AsSpan(from * 4, 4), input.AsSpan(row * MelodyTokens.Width, MelodyTokens.Width));
                for (int h = 0; h < targets.Length; h++) targets[h][row] = tokens[(from + 1) * 4 + h];
            }
        Network.Train();
        var scalars = new Dictionary<string, float>(StringComparer.Ordinal);
        using (new TensorScope())
        {
            var x = Tensor.FromArray(input, [n, steps, MelodyTokens.Width], Device);
            var logits = Network.Logits(x);
            Tensor? loss = null;
            for (int h = 0; h < targets.Length; h++)
            {
                var (name, offset, count) = MelodyTokens.Heads[h];
                var term = Losses.CrossEntropy(logits.ChannelSlice(offset, count), targets[h]);
                scalars["loss_" + name] = term.Item();
                loss = loss is null ? term : loss.Add(term);
            }
            loss!.Backward();
            Optimizer.Step();
            Optimizer.ZeroGrad();
            scalars["loss"] = loss!.Item();
        }
        return scalars;
    }

    /// <summary>Four melodies of 64 events (seeds 1-4, the options' temperature) one after another in one piano roll, each in its
    /// colour; the melodies also go to a .mid file beside the picture.</summary>
    public void WriteSamples(string path)
    {
        MusicSamples.Write(path, [.. Enumerable.Range(1, 4).Select(seed => Generate(64, (ulong)seed, Options.Temperature))]);
    }

    /// <summary>
    /// A melody of <paramref name="events"/> note events sampled one at a time at <paramref name="temperature"/>, from a
    /// middle C quarter note, with a random stream of its own (<paramref name="seed"/>): the training stream is untouched.
    /// </summary>
    public Song Generate(int events, ulong seed, float temperature)
    {
        if (events < 1) throw new ArgumentOutOfRangeException(nameof(events), events, $"{Kind}.Generate: at least one event");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, $"{Kind}.Generate: the temperature must be positive");
        var random = new Random((int)(seed ^ (seed >> 32)) ^ 0x5EED);
        int[] current = MelodyTokens.Start;
        var tokens = new List<int>(current);
        bool wasTraining = Network.Training;
        Network.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            Tensor? h = null, c = null;
            var onehot = new float[MelodyTokens.Width];
            for (int i = 1; i < events; i++)
            {
                Array.Clear(onehot);
                MelodyTokens.OneHot(current, onehot);
                var x = Tensor.FromArray(onehot, [1, 1, MelodyTokens.Width], Device);
                var (output, state) = Network.Lstm.Forward(x, h, c);
                (h, c) = state;
                var logits = Network.Head.Forward(Ops.Reshape(output, 1, Options.Hidden)).ToArray();
                current = [.. MelodyTokens.Heads.Select(head => SampleSoftmax(logits.AsSpan(head.Offset, head.Count), temperature, random))];
                tokens.AddRange(current);
            }
        }
        finally
        {
            Network.Train(wasTraining);
        }
        return NoteEvents.ToSong(MelodyTokens.Decode([.. tokens]), $"{Kind} seed {seed}");
    }

    static int SampleSoftmax(ReadOnlySpan<float> logits, float temperature, Random random)
    {
        double max = double.NegativeInfinity;
        foreach (var l in logits) max = Math.Max(max, l);
        var p = new double[logits.Length];
        double sum = 0;
        for (int i = 0; i < p.Length; i++) sum += p[i] = Math.Exp((logits[i] - max) / temperature);
        double u = random.NextDouble() * sum;
        for (int i = 0; i < p.Length; i++)
            if ((u -= p[i]) <= 0) return i;
        return p.Length - 1;
    }

    public void Dispose() => Network.Dispose();
}

/// <summary>A model that writes music: what <c>nativegan generate</c> asks of a loaded checkpoint.</summary>
public interface IMusicJob
{
    /// <summary>A piece of <paramref name="events"/> note events from random stream <paramref name="seed"/> at <paramref name="temperature"/>.</summary>
    Song Generate(int events, ulong seed, float temperature);

    /// <summary>The sampling temperature the model was set up with.</summary>
    float Temperature { get; }
}

/// <summary>The LSTM and the linear layer from its output to the four heads' logits.</summary>
public sealed class MelodyNetwork : Module
{
    /// <summary>The network of <paramref name="options"/>, its weights drawn from <paramref name="rng"/>, its dropout masks from <paramref name="dropoutRng"/>.</summary>
    public MelodyNetwork(LstmMelodyOptions options, Device device, Rng rng, Rng dropoutRng)
    {
        Lstm = RegisterModule("lstm", new Lstm(MelodyTokens.Width, options.Hidden, options.Layers, batchFirst: true, dropout: options.Layers > 1 ? options.Dropout : 0, device: device, rng: rng, dropoutRng: dropoutRng));
        Head = RegisterModule("head", new Linear(options.Hidden, MelodyTokens.Width, device: device, rng: rng));
    }

    public Lstm Lstm { get; }
    public Linear Head { get; }

    /// <summary>Logits [N·T, <see cref="MelodyTokens.Width"/>] of one-hot events x [N, T, width], row (sample, step).</summary>
    public Tensor Logits(Tensor x)
    {
        var output = Lstm.Forward(x);
        return Head.Forward(Ops.Reshape(output, output.Dim(0) * output.Dim(1), output.Dim(2)));
    }

    public override Tensor Forward(Tensor x) => Logits(x);
}

/// <summary>
/// A note event (<see cref="NoteEvents"/>) as four categories: pitch (MIDI 0-127), time since the previous onset in
/// sixteenth notes (0-32, longer gaps as 32), duration in sixteenths (1-32 as 0-31) and velocity in eight levels of 16.
/// </summary>
public static class MelodyTokens
{
    /// <summary>Each head's name, offset in the one-hot code and logits, and its number of categories.</summary>
    public static readonly IReadOnlyList<(string Name, int Offset, int Count)> Heads =
        [("pitch", 0, 128), ("shift", 128, 33), ("duration", 161, 32), ("velocity", 193, 8)];

    /// <summary>The length of an event's one-hot code (and of the logits of one step).</summary>
    public const int Width = 201;

    /// <summary>Middle C, a quarter note, velocity level 5: where generation starts.</summary>
    public static int[] Start => [60, 0, 3, 5];

    /// <summary>The categories of events [count, 4] (as <see cref="NoteEvents"/> writes them), four per event.</summary>
    public static int[] Encode(ReadOnlySpan<float> events)
    {
        var tokens = new int[events.Length];
        for (int i = 0; i < events.Length / NoteEvents.Features; i++)
        {
            var e = events.Slice(i * NoteEvents.Features, NoteEvents.Features);
            tokens[i * 4] = (int)Math.Clamp(Math.Round(e[NoteEvents.Pitch]), 0, 127);
            tokens[i * 4 + 1] = (int)Math.Clamp(Math.Round(e[NoteEvents.TimeShift] * 4), 0, 32);
            tokens[i * 4 + 2] = (int)Math.Clamp(Math.Round(e[NoteEvents.Duration] * 4), 1, 32) - 1;
            tokens[i * 4 + 3] = (int)Math.Clamp(e[NoteEvents.Velocity], 0, 127) / 16;
        }
        return tokens;
    }

    /// <summary>Events [count, 4] of categories (the middle of each velocity level).</summary>
    public static float[] Decode(ReadOnlySpan<int> tokens)
    {
        var events = new float[tokens.Length];
        for (int i = 0; i < tokens.Length / 4; i++)
        {
            events[i * 4 + NoteEvents.Pitch] = tokens[i * 4];
            events[i * 4 + NoteEvents.TimeShift] = tokens[i * 4 + 1] / 4f;
            events[i * 4 + NoteEvents.Duration] = (tokens[i * 4 + 2] + 1) / 4f;
            events[i * 4 + NoteEvents.Velocity] = tokens[i * 4 + 3] * 16 + 8;
        }
        return events;
    }

    /// <summary>Writes the one-hot code of one event's four categories into <paramref name="code"/> (zeros elsewhere).</summary>
    public static void OneHot(ReadOnlySpan<int> categories, Span<float> code)
    {
        for (int h = 0; h < Heads.Count; h++)
        {
            int k = categories[h];
            if ((uint)k >= (uint)Heads[h].Count) throw new ArgumentOutOfRangeException(nameof(categories), k, $"MelodyTokens.OneHot: {Heads[h].Name} category outside 0..{Heads[h].Count - 1}");
            code[Heads[h].Offset + k] = 1;
        }
    }
}

/// <summary>The music models as model kinds: <c>lstm-melody</c> and <c>crnn-gan</c>.</summary>
public sealed class MusicFamily : IModelFamily
{
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = LstmMelodyJob.KindName,
            Description = "An LSTM over note events (pitch, time since the previous onset, duration, velocity) that predicts the next event by cross-entropy, sampled with a temperature: the \"LSTM network\" half of the course's music generator. Data: --data game-music (41 game songs from Debian) or a folder of .mid files, cut into excerpts of 100 events.",
            Defaults = (data, _) => new LstmMelodyOptions { DataShape = data.SampleShape },
            Create = (options, device) => new LstmMelodyJob((LstmMelodyOptions)options, device),
            DefaultData = "game-music",
            DefaultEpochs = 10,
            DefaultBatch = 32,
        },
        new ModelKind
        {
            Name = CrnnGanJob.KindName,
            Description = "C-RNN-GAN (Mogren 2016): G an LSTM fed noise and its previous output at every step, D a bidirectional LSTM deciding at every step, over real-valued note events (time since the previous onset, length, pitch, velocity); feature matching, freezing of the winning side, and MSE pretraining of G (pretrain_steps) as in the paper. Data: --data game-music or a folder of .mid files, cut into excerpts of 100 events.",
            Defaults = (data, _) => new CrnnGanOptions { DataShape = data.SampleShape },
            Create = (options, device) => new CrnnGanJob((CrnnGanOptions)options, device),
            DefaultData = "game-music",
            // Runs saved before the collapse remedies (twenty-fifth session) had none of them: they load as they trained.
            AddedLater = new Dictionary<string, string>
            {
                ["relu_times"] = "false", ["minibatch_std"] = "false", ["adversarial_weight"] = "0", ["label_smoothing"] = "0",
                ["instance_noise"] = "0", ["noise_scale"] = "1",
                // The time-axis remedies (twenty-seventh session): a plain ReLU, no snapping, no moment term, D without onsets.
                ["time_floor"] = "relu", ["time_snap"] = "0", ["time_moments"] = "0", ["d_onsets"] = "false",
            },
            DefaultEpochs = 20,
            DefaultBatch = 20,
        },
    ];
}
