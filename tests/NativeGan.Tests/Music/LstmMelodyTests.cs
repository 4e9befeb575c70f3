using NativeGan.Gan.Data;
using NativeGan.Gan.Music;
using NativeGan.Gan.Training;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.Music;

public class LstmMelodyTests
{
    static readonly Dictionary<string, string> Tiny = new() { ["hidden"] = "12", ["layers"] = "2", ["data_shape"] = "9,4", ["lr"] = "0.01", ["seed"] = "4" };

    static LstmMelodyJob NewJob(Dictionary<string, string>? settings = null) =>
        (LstmMelodyJob)ModelKinds.Create(LstmMelodyJob.KindName, settings ?? Tiny, Device.Cpu);

    /// <summary>A rising and falling scale in eighth notes, as excerpts of 9 events: a pattern an LSTM learns in a few steps.</summary>
    static Dataset Scales(int count)
    {
        int[] pitches = [60, 62, 64, 65, 67, 65, 64, 62];
        var data = new float[count * 9 * 4];
        for (int s = 0; s < count; s++)
            for (int t = 0; t < 9; t++)
            {
                int at = (s * 9 + t) * 4;
                data[at + NoteEvents.TimeShift] = t == 0 ? 0 : 0.5f;
                data[at + NoteEvents.Duration] = 0.5f;
                data[at + NoteEvents.Pitch] = pitches[(s + t) % pitches.Length];
                data[at + NoteEvents.Velocity] = 90;
            }
        return new Dataset("scales", data, [9, 4], null, 0);
    }

    [Fact]
    public void Tokens_round_trip_and_clamp()
    {
        float[] events = [0, 0.5f, 60, 100, 0.25f, 1, 127, 8, 9, 20, 0, 127];
        var tokens = MelodyTokens.Encode(events);
        Assert.Equal([60, 0, 1, 6, 127, 1, 3, 0, 0, 32, 31, 7], tokens);
        var back = MelodyTokens.Decode(tokens);
        Assert.Equal([0, 0.5f, 60, 104, 0.25f, 1, 127, 8, 8, 8, 0, 120], back);
        var code = new float[MelodyTokens.Width];
        MelodyTokens.OneHot(tokens.AsSpan(0, 4), code);
        Assert.Equal(4, code.Count(x => x == 1));
        Assert.Equal([1f, 1f, 1f, 1f], new[] { code[60], code[128], code[161 + 1], code[193 + 6] });
        Assert.Equal(MelodyTokens.Width, MelodyTokens.Heads.Sum(h => h.Count));
    }

    [Fact]
    public void Training_learns_a_repeated_scale()
    {
        // The 8 distinct excerpts of the scale as one batch; like any LSTM from a small init, the model first learns the
        // pitches' frequencies (a loss of 1.56 = their entropy) and only then uses its input: 300 steps at lr 0.03.
        using var job = NewJob(new Dictionary<string, string>(Tiny) { ["hidden"] = "24", ["dropout"] = "0", ["lr"] = "0.03" });
        var data = Scales(8);
        using var batch = new Batch(Tensor.FromArray(data.Data, [8, 9, 4], Device.Cpu), null, 0, 0);
        float first = 0, last = 0;
        for (int i = 0; i < 300; i++)
        {
            var losses = job.Step(batch, i);
            Assert.All(losses.Values, v => Assert.True(float.IsFinite(v)));
            if (i == 0) first = losses["loss_pitch"];
            last = losses["loss_pitch"];
        }
        // Chance is ln 128 = 4.85; the pitches' entropy 1.56; after two notes the next is determined.
        Assert.True(first > 4, $"first step's pitch loss {first}");
        Assert.True(last < 0.8, $"last step's pitch loss {last}");
        // Sampled cold, the model plays the scale's steps: each next pitch a step of the scale from the one before.
        var song = job.Generate(24, 1, 0.05f);
        var pitches = song.Tracks[0].Notes.Select(n => n.Pitch).ToArray();
        Assert.Equal(24, pitches.Length);
        int steps = pitches.Zip(pitches.Skip(1)).Count(p => Math.Abs(p.First - p.Second) is 1 or 2);
        Assert.True(steps >= 20, $"{steps} of 23 moves are scale steps: {string.Join(' ', pitches)}");
    }

    [Fact]
    public void Generation_is_deterministic_per_seed_and_leaves_the_training_stream_alone()
    {
        using var job = NewJob();
        ulong offset = job.Rng.Offset;
        var a = job.Generate(30, 7, 1f);
        var b = job.Generate(30, 7, 1f);
        var c = job.Generate(30, 8, 1f);
        Assert.Equal(a.Tracks[0].Notes, b.Tracks[0].Notes);
        Assert.NotEqual(a.Tracks[0].Notes, c.Tracks[0].Notes);
        // A longer draw extends a shorter one (what `generate --bars` relies on).
        var longer = job.Generate(45, 7, 1f);
        Assert.Equal(a.Tracks[0].Notes, longer.Tracks[0].Notes.Take(30));
        Assert.Equal(offset, job.Rng.Offset);
        Assert.Throws<ArgumentOutOfRangeException>(() => job.Generate(10, 1, 0f));
    }

    [Fact]
    public void A_resumed_run_ends_bit_identical_and_the_samples_are_a_picture_and_a_midi_file()
    {
        using var dir = new TempDir();
        var data = Scales(12);
        TrainerOptions Options(string name, long steps, bool resume = false) => new()
        {
            OutDir = Path.Combine(dir.Path, name), Epochs = 100, MaxSteps = steps, SampleEvery = 3, LatestEvery = TimeSpan.Zero, CheckpointEvery = 2, Resume = resume, DataName = "scales",
        };
        float[] straight;
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 2))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("straight", 5), CancellationToken.None).Outcome);
            straight = [.. job.Network.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToArray())];
        }
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 2))
            Trainer.Run(job, loader, Options("resumed", 2), CancellationToken.None);
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 2))
        {
            Trainer.Run(job, loader, Options("resumed", 5, resume: true), CancellationToken.None);
            Assert.Equal(straight, job.Network.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToArray()));
        }
        var samples = Path.Combine(dir.Path, "straight", Trainer.SamplesFolder);
        Assert.True(File.Exists(Path.Combine(samples, "step_000003.png")));
        var midi = MidiFiles.Read(Path.Combine(samples, "step_000003.mid"));
        Assert.Equal(4, midi.Tracks.Count);
        Assert.All(midi.Tracks, t => Assert.Equal(64, t.Notes.Count));

        // Loaded from its checkpoint, the model generates what it generated before saving.
        using var loaded = (LstmMelodyJob)Trainer.Load(Path.Combine(dir.Path, "straight", Trainer.CheckpointFile), Device.Cpu);
        using var again = NewJob();
        Assert.NotEqual(again.Generate(20, 3, 1f).Tracks[0].Notes, loaded.Generate(20, 3, 1f).Tracks[0].Notes);
    }

    [Fact]
    public void Bad_settings_and_batches_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => NewJob(new Dictionary<string, string>(Tiny) { ["data_shape"] = "9,3" }));
        Assert.Contains("data_shape", e.Message);
        using var job = NewJob();
        using var wrong = new Batch(Tensor.FromArray(new float[2 * 8 * 4], [2, 8, 4], Device.Cpu), null, 0, 0);
        Assert.Contains("[N, 9, 4]", Assert.Throws<TensorShapeException>(() => job.Step(wrong, 0)).Message);
    }
}
