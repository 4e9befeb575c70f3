using NativeGan.Gan.Data;
using NativeGan.Gan.Music;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.Music;

public class CrnnGanTests
{
    static readonly Dictionary<string, string> Tiny = new()
    {
        ["hidden_g"] = "10", ["hidden_d"] = "8", ["data_shape"] = "7,4", ["pretrain_steps"] = "2", ["seed"] = "5",
    };

    static CrnnGanJob NewJob(Dictionary<string, string>? settings = null) =>
        (CrnnGanJob)ModelKinds.Create(CrnnGanJob.KindName, settings ?? Tiny, Device.Cpu);

    /// <summary>Excerpts of 7 events of a little tune, shifted per sample.</summary>
    static Dataset Tunes(int count)
    {
        int[] pitches = [60, 64, 67, 72, 67, 64, 62, 65, 69];
        var data = new float[count * 7 * 4];
        for (int s = 0; s < count; s++)
            for (int t = 0; t < 7; t++)
            {
                int at = (s * 7 + t) * 4;
                data[at + NoteEvents.TimeShift] = t == 0 ? 0 : (t % 3 == 0 ? 1 : 0.5f);
                data[at + NoteEvents.Duration] = t % 3 == 0 ? 1 : 0.5f;
                data[at + NoteEvents.Pitch] = pitches[(s + t) % pitches.Length];
                data[at + NoteEvents.Velocity] = 70 + 5 * (t % 4);
            }
        return new Dataset("tunes", data, [7, 4], null, 0);
    }

    static float[] Weights(Module m) => [.. m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToArray())];

    [Fact]
    public void Network_scaling_is_time_major_and_inverts()
    {
        // Two sequences of three events: event (b, s) = [s, b, 64 + 16 s, 64 + 32 b].
        int n = 2, t = 3;
        var events = new float[n * t * 4];
        for (int b = 0; b < n; b++)
            for (int s = 0; s < t; s++)
            {
                int at = (b * t + s) * 4;
                (events[at], events[at + 1], events[at + 2], events[at + 3]) = (s, b, 64 + 16 * s, 64 + 32 * b);
            }
        var x = CrnnGanJob.ToNetwork(events, n, t);
        // Row (s, b) time-major: [s / 2, b / 2, s, b].
        for (int s = 0; s < t; s++)
            for (int b = 0; b < n; b++)
                Assert.Equal([s / 2f, b / 2f, s, b], x.AsSpan((s * n + b) * 4, 4).ToArray());
        Assert.Equal(events, CrnnGanJob.FromNetwork(x, n, t));
    }

    [Fact]
    public void Pretraining_lowers_the_mse_on_a_fixed_batch()
    {
        using var job = NewJob(new Dictionary<string, string>(Tiny) { ["pretrain_steps"] = "1000", ["lr_g"] = "0.01", ["dropout"] = "0" });
        var data = Tunes(9);
        using var batch = new Batch(Tensor.FromArray(data.Data, [9, 7, 4], Device.Cpu), null, 0, 0);
        var d = Weights(job.Discriminator);
        var losses = Enumerable.Range(0, 120).Select(i => job.Step(batch, i)).ToList();
        Assert.All(losses, l => Assert.Equal(["grad_norm_g", "mse"], l.Keys.Order()));
        Assert.True(losses[^1]["mse"] < 0.5 * losses[0]["mse"], $"mse {losses[0]["mse"]} -> {losses[^1]["mse"]}");
        Assert.Equal(d, Weights(job.Discriminator)); // D rests while G pretrains
    }

    [Fact]
    public void Gan_steps_freeze_the_side_the_rule_names()
    {
        using var job = NewJob(new Dictionary<string, string>(Tiny) { ["pretrain_steps"] = "0", ["lr_d"] = "0.02", ["freeze_ratio"] = "0.95" });
        var data = Tunes(6);
        using var batch = new Batch(Tensor.FromArray(data.Data, [6, 7, 4], Device.Cpu), null, 0, 0);
        int frozenD = 0, frozenG = 0;
        for (int i = 0; i < 40; i++)
        {
            var d = Weights(job.Discriminator);
            var g = Weights(job.Generator);
            var l = job.Step(batch, i);
            Assert.All(l.Values, v => Assert.True(float.IsFinite(v)));
            bool shouldFreezeD = l["loss_d"] / 2 < 0.95f * l["loss_g"], shouldFreezeG = l["loss_g"] < 0.95f * l["loss_d"] / 2;
            Assert.Equal(shouldFreezeD ? 1 : 0, l["frozen_d"]);
            Assert.Equal(shouldFreezeG ? 1 : 0, l["frozen_g"]);
            Assert.Equal(shouldFreezeD, d.SequenceEqual(Weights(job.Discriminator)));
            Assert.Equal(shouldFreezeG, g.SequenceEqual(Weights(job.Generator)));
            Assert.Equal(!shouldFreezeG, l.ContainsKey("loss_fm"));
            frozenD += shouldFreezeD ? 1 : 0;
            frozenG += shouldFreezeG ? 1 : 0;
        }
        // D at 20 times G's learning rate wins quickly, and then rests while G catches up.
        Assert.True(frozenD > 0, "D was never frozen");
        Assert.True(frozenD < 40, "D was always frozen");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_resumed_run_across_the_end_of_pretraining_ends_bit_identical(bool remedies)
    {
        // The paper's options alone, or the remedies (the defaults) with every other option on as well.
        Dictionary<string, string> settings = remedies
            ? new(Tiny)
            {
                ["adversarial_weight"] = "0.5", ["label_smoothing"] = "0.1", ["instance_noise"] = "0.1", ["noise_scale"] = "2",
                ["time_floor"] = "straight-through", ["time_moments"] = "1", ["d_onsets"] = "true", ["time_snap"] = "0.1",
            }
            : new(Tiny) { ["relu_times"] = "false", ["minibatch_std"] = "false", ["adversarial_weight"] = "0" };
        CrnnGanJob NewJob() => CrnnGanTests.NewJob(settings);
        using var dir = new TempDir();
        var data = Tunes(10);
        TrainerOptions Options(string name, long steps, bool resume = false) => new()
        {
            OutDir = Path.Combine(dir.Path, name), Epochs = 100, MaxSteps = steps, SampleEvery = 4, LatestEvery = TimeSpan.Zero, CheckpointEvery = 3, Resume = resume, DataName = "tunes",
        };
        float[] straightG, straightD;
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 2))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("straight", 6), CancellationToken.None).Outcome);
            (straightG, straightD) = (Weights(job.Generator), Weights(job.Discriminator));
        }
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 2))
            Trainer.Run(job, loader, Options("resumed", 3), CancellationToken.None);
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 2))
        {
            Trainer.Run(job, loader, Options("resumed", 6, resume: true), CancellationToken.None);
            Assert.Equal(straightG, Weights(job.Generator));
            Assert.Equal(straightD, Weights(job.Discriminator));
        }
        var midi = MidiFiles.Read(Path.Combine(dir.Path, "straight", Trainer.SamplesFolder, "step_000004.mid"));
        Assert.Equal(4, midi.Tracks.Count);
        Assert.All(midi.Tracks, t => Assert.Equal(7, t.Notes.Count));
    }

    [Fact]
    public void The_batch_spread_feature_matches_a_float64_computation()
    {
        int t = 3, n = 5, f = 4;
        var rng = new Random(7);
        var values = Enumerable.Range(0, t * n * f).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
        using var x = Tensor.FromArray(values, [t, n, f], Device.Cpu);
        using var scope = new TensorScope();
        var y = CrnnDiscriminator.WithBatchSpread(x);
        Assert.Equal([t, n, 2 * f], y.Shape);
        var got = y.ToArray();
        for (int s = 0; s < t; s++)
            for (int k = 0; k < f; k++)
            {
                double mean = Enumerable.Range(0, n).Average(b => (double)values[(s * n + b) * f + k]);
                double std = Math.Sqrt(Enumerable.Range(0, n).Average(b => Math.Pow(values[(s * n + b) * f + k] - mean, 2)) + 1e-8);
                for (int b = 0; b < n; b++)
                {
                    Assert.Equal(values[(s * n + b) * f + k], got[(s * n + b) * 2 * f + k]);
                    Assert.Equal(std, got[(s * n + b) * 2 * f + f + k], 5);
                }
            }
    }

    [Fact]
    public void Relu_times_makes_shifts_and_lengths_nonnegative_and_leaves_pitch_and_velocity()
    {
        using var plain = NewJob(new Dictionary<string, string>(Tiny) { ["dropout"] = "0", ["relu_times"] = "false" });
        using var relu = NewJob(new Dictionary<string, string>(Tiny) { ["dropout"] = "0", ["relu_times"] = "true", ["time_floor"] = "relu" });
        using var scope = new TensorScope();
        var rng = new Rng(3);
        using var noise = rng.Uniform(Device.Cpu, [9, 6, 4]);
        using var start = rng.Uniform(Device.Cpu, [6, 4]);
        // Step 0 has the same input in both: its pitch and velocity agree, its times are the plain ones clipped at 0.
        var a = plain.Generator.Forward(noise, start).ToArray();
        var b = relu.Generator.Forward(noise, start).ToArray();
        for (int i = 0; i < 6; i++)
        {
            for (int k = 0; k < 2; k++) Assert.Equal(Math.Max(0, a[i * 4 + k]), b[i * 4 + k]);
            for (int k = 2; k < 4; k++) Assert.Equal(a[i * 4 + k], b[i * 4 + k]);
        }
        Assert.All(Enumerable.Range(0, b.Length / 4), e => Assert.True(b[e * 4] >= 0 && b[e * 4 + 1] >= 0));
        Assert.Contains(0f, b.Where((_, i) => i % 4 < 2)); // a fresh G hits the clip often: chords are reachable
    }

    [Fact]
    public void Time_floors_give_relu_values_or_softplus_and_pass_the_gradients_they_name()
    {
        float[] x = [-2f, -0.5f, 0f, 0.3f, 1.5f, -7f];
        foreach (var floor in Enum.GetValues<TimeFloor>())
        {
            using var input = Tensor.FromArray(x, [3, 2], Device.Cpu);
            input.RequiresGrad = true;
            float[] values, grads;
            using (new TensorScope())
            {
                var y = CrnnGenerator.Floor(input, floor);
                values = y.ToArray();
                // d/dx of sum(y * w) with w = 1..6: w times the floor's derivative.
                y.Mul(Tensor.FromArray([1f, 2, 3, 4, 5, 6], [3, 2], Device.Cpu)).Sum().Backward();
                grads = input.Grad!.ToArray();
            }
            for (int i = 0; i < x.Length; i++)
            {
                double w = i + 1, relu = Math.Max(0, x[i]);
                var (value, grad) = floor switch
                {
                    TimeFloor.Relu => (relu, x[i] > 0 ? w : 0),                 // below 0: no gradient (the dead ReLU)
                    TimeFloor.StraightThrough => (relu, w),                     // the ReLU's values, the identity's gradient
                    _ => (Math.Log(1 + Math.Exp(x[i])), w / (1 + Math.Exp(-x[i]))),
                };
                Assert.Equal(value, values[i], 5);
                Assert.Equal(grad, grads[i], 5);
            }
        }
    }

    [Fact]
    public void The_time_moment_loss_matches_a_float64_computation()
    {
        int t = 3, n = 4;
        var rng = new Random(11);
        // Some times exactly 0 (chords), as the data has.
        float[] Events() => [.. Enumerable.Range(0, t * n * 4).Select(i => i % 4 < 2 && rng.Next(3) == 0 ? 0f : (float)(rng.NextDouble() * 2 - 0.5))];
        float[] real = Events(), fake = Events();
        using var r = Tensor.FromArray(real, [t, n, 4], Device.Cpu);
        using var f = Tensor.FromArray(fake, [t, n, 4], Device.Cpu);
        using var scope = new TensorScope();
        double expected = 0;
        double[] Of(float[] e, int k) => [.. Enumerable.Range(0, t * n).Select(i => (double)e[i * 4 + k])];
        static double Std(double[] v) => Math.Sqrt(v.Average(a => Math.Pow(a - v.Average(), 2)) + 1e-8);
        foreach (int k in new[] { 0, 1 })
        {
            expected += Math.Pow(Of(fake, k).Average() - Of(real, k).Average(), 2);
            expected += Math.Pow(Std(Of(fake, k)) - Std(Of(real, k)), 2);
        }
        double SoftZero(float[] e) => Of(e, 0).Average(v => Math.Exp(-Math.Abs(v) / CrnnGanJob.SoftZeroWidth));
        expected += Math.Pow(SoftZero(fake) - SoftZero(real), 2);
        Assert.Equal(expected, CrnnGanJob.TimeMomentLoss(r, f).Item(), 5);
        Assert.Equal(0, CrnnGanJob.TimeMomentLoss(r, r).Item(), 6);
    }

    [Fact]
    public void D_sees_the_running_onset_of_the_events_it_is_given()
    {
        int t = 4, n = 2;
        // Sequence 0 moves on by 1, 0, 2, 0.5 (network scale); sequence 1 is all chords.
        float[] shifts = [1, 0, 0, 0, 2, 0, 0.5f, 0];
        var events = new float[t * n * 4];
        for (int i = 0; i < t * n; i++) { events[i * 4] = shifts[i]; events[i * 4 + 2] = i; }
        using var e = Tensor.FromArray(events, [t, n, 4], Device.Cpu);
        using var scope = new TensorScope();
        var y = CrnnDiscriminator.WithOnsets(e, e).ToArray();
        float[] onset0 = [1 / 4f, 1 / 4f, 3 / 4f, 3.5f / 4], onset1 = [0, 0, 0, 0];
        for (int s = 0; s < t; s++)
        {
            Assert.Equal(events.AsSpan((s * n) * 4, 4).ToArray(), y.AsSpan((s * n) * 5, 4).ToArray());
            Assert.Equal(onset0[s], y[(s * n) * 5 + 4], 6);
            Assert.Equal(onset1[s], y[(s * n + 1) * 5 + 4], 6);
        }
        // D built with it takes the extra input and decides.
        using var job = NewJob(new Dictionary<string, string>(Tiny) { ["d_onsets"] = "true" });
        var p = job.Discriminator.Decide(Tensor.FromArray(new float[7 * 3 * 4], [7, 3, 4], Device.Cpu)).Probability.ToArray();
        Assert.Equal(3, p.Length);
    }

    [Fact]
    public void Time_snap_turns_short_generated_times_into_chords()
    {
        using var plain = NewJob(new Dictionary<string, string>(Tiny) { ["time_snap"] = "0" });
        using var snapped = NewJob(new Dictionary<string, string>(Tiny) { ["time_snap"] = "1000" });
        var a = plain.Generate(12, 3, 1f).Tracks[0].Notes;
        var b = snapped.Generate(12, 3, 1f).Tracks[0].Notes;
        Assert.Contains(a, note => note.Onset > 0);
        Assert.All(b, note => Assert.Equal(0, note.Onset));  // every time below 1,000 quarters: one chord
        Assert.Equal(a.Select(x => (x.Pitch, x.Duration)).Order(), b.Select(x => (x.Pitch, x.Duration)).Order());
    }

    [Fact]
    public void Runs_saved_before_the_time_settings_load_with_the_old_behaviour()
    {
        var kind = ModelKinds.Find(CrnnGanJob.KindName);
        var defaults = (CrnnGanOptions)kind.FromSettings(Tiny);
        Assert.Equal((TimeFloor.Softplus, 0.0625f), (defaults.TimeFloor, defaults.TimeSnap));  // today's defaults differ from the old behaviour
        string[] added = ["time_floor", "time_snap", "time_moments", "d_onsets"];
        var saved = OptionsBinder.ToStrings(defaults).Where(kv => !added.Contains(kv.Key)).ToDictionary();
        var old = (CrnnGanOptions)kind.FromSaved(saved);
        Assert.Equal((TimeFloor.Relu, 0f, 0f, false), (old.TimeFloor, old.TimeSnap, old.TimeMoments, old.DOnsets));
        // The same weights, the same music as a job of today's defaults with the old values spelled out.
        using var job = new CrnnGanJob(old, Device.Cpu);
        using var spelled = NewJob(new Dictionary<string, string>(Tiny) { ["time_floor"] = "relu", ["time_snap"] = "0", ["time_moments"] = "0", ["d_onsets"] = "false" });
        Assert.Equal(Weights(spelled.Discriminator), Weights(job.Discriminator));
        Assert.Equal(spelled.Generate(9, 2, 1f).Tracks[0].Notes, job.Generate(9, 2, 1f).Tracks[0].Notes);
    }

    /// <summary>Nine songs of 40 notes cycling through a C-major tune (quarters and eighths), each from its own note.</summary>
    static List<Song> TuneSongs()
    {
        int[] pitches = [60, 64, 67, 72, 67, 64, 62, 65, 69];
        const int quarter = 480;
        var songs = new List<Song>();
        for (int s = 0; s < 9; s++)
        {
            var notes = new List<Note>();
            long onset = 0;
            for (int i = 0; i < 40; i++)
            {
                int duration = i % 3 == 0 ? quarter : quarter / 2;
                notes.Add(new Note(onset, duration, pitches[(s + i) % pitches.Length], 70 + 5 * (i % 4)));
                onset += duration;
            }
            songs.Add(new Song($"tune {s}", quarter, [new Track("tune", 0, 0, notes)], [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]));
        }
        return songs;
    }

    /// <summary>The mean tone span of 20 generated pieces of 7 events after 300 steps (20 of them pretraining) on the tunes.</summary>
    static double ToneSpanAfterTraining(Dictionary<string, string> extra)
    {
        var excerpts = NoteEvents.Excerpts(TuneSongs(), 7, "tunes");
        var settings = new Dictionary<string, string>(Tiny) { ["pretrain_steps"] = "20", ["lr_g"] = "0.005", ["lr_d"] = "0.0025" };
        foreach (var (k, v) in extra) settings[k] = v;
        using var job = NewJob(settings);
        using var loader = new DataLoader(excerpts, 20, Device.Cpu, 5);
        long step = 0;
        for (int epoch = 0; step < 300; epoch++)
            foreach (var batch in loader.Epoch(epoch))
                using (batch)
                    if (step < 300) job.Step(batch, step++);
        var pieces = Enumerable.Range(1, 20).Select(seed => job.Generate(7, (ulong)seed, 1f)).ToList();
        return MusicComparison.Of(MusicComparison.Songs(excerpts), pieces).Generated.ToneSpan;
    }

    [Fact]
    public void On_a_tiny_corpus_the_pitch_remedies_span_the_tune_where_the_papers_options_collapse_to_a_pitch_or_two()
    {
        // The pitch remedies with the ReLU floor they were measured with, and with today's softplus floor.
        double remedies = ToneSpanAfterTraining(new() { ["time_floor"] = "relu", ["time_snap"] = "0" });
        double defaults = ToneSpanAfterTraining([]);
        double paper = ToneSpanAfterTraining(new() { ["relu_times"] = "false", ["minibatch_std"] = "false", ["adversarial_weight"] = "0" });
        // The tune spans 10-12 semitones an excerpt. The softplus floor spans a little less on it (5 semitones when this
        // test was written, against 6 or more with the ReLU), still clear of the collapse.
        Assert.True(remedies >= 6, $"the remedies' pieces span {remedies} semitones");
        Assert.True(defaults >= 4, $"the defaults' pieces span {defaults} semitones");
        Assert.True(paper <= 3, $"the paper's options' pieces span {paper} semitones");
    }

    [Fact]
    public void Generation_is_deterministic_per_seed_and_leaves_the_training_stream_alone()
    {
        using var job = NewJob();
        ulong offset = job.Rng.Offset;
        var a = job.Generate(12, 3, 1f).Tracks[0].Notes;
        Assert.Equal(a, job.Generate(12, 3, 1f).Tracks[0].Notes);
        Assert.NotEqual(a, job.Generate(12, 4, 1f).Tracks[0].Notes);
        Assert.Equal(12, a.Count);
        Assert.Equal(offset, job.Rng.Offset);
    }

    [Fact]
    public void Clipping_by_global_norm_matches_a_hand_computation()
    {
        using var a = Tensor.FromArray([3f, 0f], [2], Device.Cpu);
        using var b = Tensor.FromArray([0f, 4f, 0f], [3], Device.Cpu);
        a.RequiresGrad = b.RequiresGrad = true;
        using (new TensorScope())
            a.Mul(3f).Sum().Add(b.Mul(b).Mul(0.5f).Sum()).Backward();  // grads [3, 3] and [0, 4, 0]: norm sqrt(34)
        float norm = GradientClipping.ClipGradNorm([a, b], 1f);
        Assert.Equal(MathF.Sqrt(34f), norm, 5);
        float k = 1f / (MathF.Sqrt(34f) + 1e-6f);
        Assert.Equal([3 * k, 3 * k], a.Grad!.ToArray(), new FloatTolerance(1e-6f));
        Assert.Equal([0, 4 * k, 0], b.Grad!.ToArray(), new FloatTolerance(1e-6f));
        // Below the limit nothing changes.
        Assert.Equal(1f, GradientClipping.ClipGradNorm([a, b], 2f), 4);
        Assert.Equal([3 * k, 3 * k], a.Grad!.ToArray(), new FloatTolerance(1e-6f));
    }

    sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;
        public int GetHashCode(float obj) => 0;
    }
}
