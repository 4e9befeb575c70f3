using NativeGan.Gan.Data;
using NativeGan.Gan.Music;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.Music;

public class MuseGanTests
{
    /// <summary>4 steps a bar: phrases [5, 16, 84].</summary>
    internal static Dictionary<string, string> Tiny(string model = "hybrid", string accompany = "none") => new()
    {
        ["model"] = model, ["steps_per_bar"] = "4", ["data_shape"] = "5,16,84", ["latent"] = "3", ["g_width"] = "2", ["d_width"] = "2",
        ["n_critic"] = "2", ["seed"] = "5", ["accompany"] = accompany,
    };

    internal static MuseGanJob NewJob(string model = "hybrid", string accompany = "none") =>
        (MuseGanJob)ModelKinds.Create(MuseGanJob.KindName, Tiny(model, accompany), Device.Cpu);

    /// <summary>Phrases of a chord per bar (piano, bass), a drum on every beat and the odd guitar note, varied per sample.</summary>
    internal static Dataset Phrases(int count)
    {
        int steps = 16, size = MultiTrack.Tracks * steps * MultiTrack.Pitches;
        var data = new float[count * size];
        void On(int s, Instrument t, int step, int row) => data[s * size + ((int)t * steps + step) * MultiTrack.Pitches + row] = 1;
        for (int s = 0; s < count; s++)
            for (int step = 0; step < steps; step++)
            {
                On(s, Instrument.Drums, step, 12 + step % 2);
                int root = 24 + (s + step / 4) % 7;
                foreach (int row in new[] { root, root + 4, root + 7 }) On(s, Instrument.Piano, step, row);
                On(s, Instrument.Bass, step, root - 12);
                if ((s + step) % 5 == 0) On(s, Instrument.Guitar, step, root + 12);
            }
        return new Dataset("phrases", data, [MultiTrack.Tracks, steps, MultiTrack.Pitches], null, 0);
    }

    static float[] Weights(Module m) => [.. m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToArray())];

    [Theory]
    [InlineData("hybrid", 12, 1)]
    [InlineData("composer", 2, 1)]
    [InlineData("jamming", 10, 5)]
    public void Networks_have_the_models_latents_critics_and_shapes(string model, int latents, int critics)
    {
        using var job = NewJob(model);
        Assert.Equal(latents * 3, job.Generator.LatentSize);
        Assert.Equal(critics, job.Critics.Count);
        using var scope = new TensorScope();
        using var z = new Rng(1).Normal(Device.Cpu, [3, job.Generator.LatentSize]);
        var fake = job.Generator.Forward(z);
        Assert.Equal([3, 5, 16, 84], fake.Shape);
        Assert.All(fake.ToArray(), v => Assert.True(v > -1 && v < 1));
        var scores = job.Critics[0].Forward(critics == 1 ? fake : fake.ChannelSlice(0, 1));
        Assert.Equal([3, 1], scores.Shape);
        // The hybrid's tracks have bar generators of their own; the composer's one writes all five.
        Assert.Equal(model == "composer" ? 1 : 5, job.Generator.BarGenerators.Count);
        // No batch norm in the critic (WGAN-GP).
        Assert.DoesNotContain(job.Critic.NamedBuffers(), b => b.Name.Contains("running", StringComparison.Ordinal));
    }

    [Fact]
    public void The_generator_s_bars_follow_its_temporal_latents()
    {
        // Bars of one phrase differ (the temporal generators give each bar its own vector), and a phrase depends on its own latent only.
        using var job = NewJob();
        using var z = new Rng(2).Normal(Device.Cpu, [2, job.Generator.LatentSize]);
        var rolls = job.Phrases(z);
        Assert.All(rolls, v => Assert.True(v is 0f or 1f));
        using var scope = new TensorScope();
        job.Generator.Eval();
        var x = job.Generator.Forward(z).ToArray();
        int bar = 4 * 84;
        Assert.NotEqual(x[..bar], x[bar..(2 * bar)]);
        using var first = z.SliceBatch(0, 1);
        var alone = job.Generator.Forward(first).ToArray();
        Assert.Equal(x[..alone.Length], alone);
    }

    [Theory]
    [InlineData("hybrid")]
    [InlineData("jamming")]
    public void A_step_trains_both_networks_with_finite_losses(string model)
    {
        using var job = NewJob(model);
        var data = Phrases(8);
        using var batch = new Batch(Tensor.FromArray(data.Data, [8, 5, 16, 84], Device.Cpu), null, 0, 0);
        var g = Weights(job.Generator);
        var d = Weights(job.Critic);
        var log = job.Step(batch, 0);
        Assert.Equal(["gp", "grad_norm_g", "loss_d", "loss_g", "on_bass", "on_drums", "on_guitar", "on_piano", "on_real", "on_strings", "wasserstein"], log.Keys.Order());
        Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
        Assert.True(log["gp"] > 0);
        // on_real: the on fraction of the last critic update's real phrases (the batch's second half), counted here.
        int size = data.Data.Length / 8;
        Assert.Equal(data.Data[(4 * size)..].Count(v => v > 0) / (double)(4 * size), log["on_real"], 6);
        foreach (var track in new[] { "drums", "piano", "guitar", "bass", "strings" }) Assert.InRange(log["on_" + track], 0, 1);
        Assert.NotEqual(g, Weights(job.Generator));
        Assert.NotEqual(d, Weights(job.Critic));
        Assert.Equal(2, job.OptimizerD.StepCount);   // n_critic updates of the critic, one of G
        Assert.Equal(1, job.OptimizerG.StepCount);
    }

    /// <summary>Why a barely trained hybrid scores EB 0 and UPC 12: at the default widths a fresh G's pre-activations
    /// spread around 0 (each track's output bias shifting them a little), so tanh turns a quarter to a half of every
    /// track's steps·pitches on, against the data's one or two percent.</summary>
    [Fact]
    public void A_fresh_generator_at_the_default_widths_turns_a_large_part_of_every_track_on()
    {
        var settings = Tiny();
        foreach (var key in new[] { "latent", "g_width", "d_width" }) settings.Remove(key);
        (settings["steps_per_bar"], settings["data_shape"]) = ("16", "5,64,84");   // the runs' resolution
        using var job = (MuseGanJob)ModelKinds.Create(MuseGanJob.KindName, settings, Device.Cpu);
        using var z = new Rng(9).Normal(Device.Cpu, [8, job.Generator.LatentSize]);
        using var x = job.Generator.Forward(z);
        var values = x.ToArray();
        int track = values.Length / 8 / MultiTrack.Tracks;
        for (int t = 0; t < MultiTrack.Tracks; t++)
        {
            int on = Enumerable.Range(0, 8).Sum(i => values.AsSpan((i * MultiTrack.Tracks + t) * track, track).ToArray().Count(v => v > 0));
            Assert.True(on / (8.0 * track) is > 0.15 and < 0.85, $"track {t}: {on / (8.0 * track):F3} on");
        }
    }

    [Fact]
    public void Accompaniment_gives_back_the_given_track_and_writes_around_it()
    {
        using var job = NewJob(accompany: "piano");
        Assert.NotNull(job.Generator.GivenEncoder);
        Assert.Equal(3 * 12, job.Generator.LatentSize); // the given track is not a latent
        var data = Phrases(8);
        using (var batch = new Batch(Tensor.FromArray(data.Data, [8, 5, 16, 84], Device.Cpu), null, 0, 0))
            Assert.All(job.Step(batch, 0).Values, v => Assert.True(float.IsFinite(v)));

        int size = 5 * 16 * 84, track = 16 * 84, piano = (int)Instrument.Piano;
        float[] PianoOf(int first, int count) => [.. Enumerable.Range(first, count).SelectMany(i => data.Data.AsSpan(i * size + piano * track, track).ToArray())];
        var given = PianoOf(0, 3);
        using var z = new Rng(2).Normal(Device.Cpu, [3, job.Generator.LatentSize]);
        var rolls = job.Phrases(z, given);
        for (int i = 0; i < 3; i++)
            Assert.Equal(given[(i * track)..((i + 1) * track)], rolls[(i * size + piano * track)..(i * size + (piano + 1) * track)]);

        // G listens to the given track: other piano parts, other accompaniment (before binarisation).
        job.Generator.Eval();
        float[] Written(float[] piano)
        {
            using var scope = new TensorScope();
            using var rollsOfPiano = Tensor.FromArray(piano, [3, 1, 16, 84], Device.Cpu);
            return job.Generator.Forward(z, rollsOfPiano.Mul(2f).Add(-1f)).ToArray();
        }
        Assert.NotEqual(Written(given), Written(PianoOf(3, 3)));

        Assert.Contains("accompany", Assert.Throws<ArgumentException>(() => job.Phrases(z)).Message);
        using var plain = NewJob();
        using var z5 = new Rng(2).Normal(Device.Cpu, [3, plain.Generator.LatentSize]);
        Assert.Contains("takes no given track", Assert.Throws<ArgumentException>(() => plain.Phrases(z5, given)).Message);
        Assert.Contains("writes all five tracks", Assert.Throws<ArgumentException>(() => plain.Accompany(new Song("x", NoteEvents.TicksPerQuarter, [], [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]), 1)).Message);
    }

    [Fact]
    public void Bernoulli_binarisation_turns_steps_on_with_the_output_s_probability()
    {
        using var job = NewJob();
        using var z = new Rng(4).Normal(Device.Cpu, [6, job.Generator.LatentSize]);
        float[] x;
        job.Generator.Eval();
        using (var scope = new TensorScope())
        using (Autograd.NoGrad()) x = job.Generator.Forward(z).ToArray();
        job.Generator.Train();
        Assert.Equal(x.Select(v => v > 0 ? 1f : 0f), job.Phrases(z));
        var drawn = job.Phrases(z, binarization: Binarization.Bernoulli, seed: 9);
        Assert.All(drawn, v => Assert.True(v is 0f or 1f));
        Assert.Equal(drawn, job.Phrases(z, binarization: Binarization.Bernoulli, seed: 9));
        Assert.NotEqual(drawn, job.Phrases(z, binarization: Binarization.Bernoulli, seed: 10));
        // On as often as the outputs say: the mean of (x + 1) / 2 within 4 standard deviations of the draws' mean.
        double expected = x.Average(v => (v + 1) / 2.0), sd = Math.Sqrt(x.Sum(v => (v + 1) / 2.0 * (1 - (v + 1) / 2.0))) / x.Length;
        Assert.InRange(drawn.Average(v => (double)v), expected - 4 * sd, expected + 4 * sd);
        double onWhereLikely = Enumerable.Range(0, x.Length).Where(i => x[i] > 0.05f).Average(i => (double)drawn[i]);
        double onWhereUnlikely = Enumerable.Range(0, x.Length).Where(i => x[i] < -0.05f).Average(i => (double)drawn[i]);
        Assert.True(onWhereLikely > onWhereUnlikely, $"{onWhereLikely} vs {onWhereUnlikely}");
    }

    [Fact]
    public void Accompanying_a_song_keeps_its_notes_and_its_length()
    {
        using var job = NewJob(accompany: "piano");
        // Six bars of quarter notes on the model's grid (4 steps a bar), alternating pitches so no two notes join.
        int q = NoteEvents.TicksPerQuarter;
        var notes = Enumerable.Range(0, 24).Select(i => new Note(i * q, q, 60 + (i % 2) * 7 + i % 5, 90)).ToList();
        var given = new Song("tune", q, [new Track("melody", 0, 0, notes), new Track("kit", Track.DrumChannel, 0, [new Note(0, q, 36, 100)])],
            [new TempoChange(0, Song.DefaultMicrosecondsPerQuarter)], [new TimeSignature(0, 4, 4)]);
        var band = job.Accompany(given, seed: 3);
        Assert.Equal(5, band.Tracks.Count);
        var piano = band.Tracks.Single(t => t.Name == "piano");
        Assert.Equal(notes.Select(n => (n.Onset, n.Duration, n.Pitch)), piano.Notes.Select(n => (n.Onset, n.Duration, n.Pitch)));
        Assert.All(band.Tracks, t => Assert.All(t.Notes, n => Assert.True(n.Onset + n.Duration <= 6 * 4 * q, $"{t.Name} note past the 6 bars")));
        Assert.Equal(band.Tracks.Select(t => t.Notes.Count), job.Accompany(given, seed: 3).Tracks.Select(t => t.Notes.Count)); // one seed, one band
        var silent = given with { Tracks = [given.Tracks[1]] };
        Assert.Contains("no pitched notes", Assert.Throws<NativeGan.Gan.Data.DataException>(() => job.Accompany(silent, 1)).Message);
    }

    [Theory]
    [InlineData("none")]
    [InlineData("piano")]
    public void A_resumed_run_ends_bit_identical_and_writes_multi_track_samples(string accompany)
    {
        using var dir = new TempDir();
        var data = Phrases(12);
        TrainerOptions Options(string name, long steps, bool resume = false) => new()
        {
            OutDir = Path.Combine(dir.Path, name), Epochs = 100, MaxSteps = steps, SampleEvery = 2, LatestEvery = TimeSpan.Zero, CheckpointEvery = 2, Resume = resume, DataName = "phrases",
        };
        float[] straightG, straightD;
        using (var job = NewJob(accompany: accompany))
        using (var loader = new DataLoader(data, 4 * job.BatchesPerStep, Device.Cpu, seed: 2))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("straight", 4), CancellationToken.None).Outcome);
            (straightG, straightD) = (Weights(job.Generator), Weights(job.Critic));
        }
        using (var job = NewJob(accompany: accompany))
        using (var loader = new DataLoader(data, 4 * job.BatchesPerStep, Device.Cpu, seed: 2))
            Trainer.Run(job, loader, Options("resumed", 2), CancellationToken.None);
        using (var job = NewJob(accompany: accompany))
        using (var loader = new DataLoader(data, 4 * job.BatchesPerStep, Device.Cpu, seed: 2))
        {
            Trainer.Run(job, loader, Options("resumed", 4, resume: true), CancellationToken.None);
            Assert.Equal(straightG, Weights(job.Generator));
            Assert.Equal(straightD, Weights(job.Critic));
        }
        var samples = Path.Combine(dir.Path, "straight", Trainer.SamplesFolder);
        Assert.True(File.Exists(Path.Combine(samples, "step_000002.png")));
        var midi = MidiFiles.Read(Path.Combine(samples, "step_000002.mid"));
        // The file keeps the tracks that play, each on its instrument's program (drums on channel 10).
        Assert.NotEmpty(midi.Tracks);
        Assert.All(midi.Tracks, t =>
        {
            var instrument = Enum.Parse<Instrument>(t.Name, ignoreCase: true);
            Assert.Equal(instrument == Instrument.Drums, t.IsDrum);
            if (!t.IsDrum) Assert.Equal(MultiTrack.Programs[(int)instrument], t.Program);
        });
    }

    [Fact]
    public void Phrases_are_deterministic_per_seed_and_leave_the_training_stream_alone()
    {
        using var job = NewJob();
        ulong offset = job.Rng.Offset;
        var a = job.Phrases(2, 3);
        Assert.Equal(a, job.Phrases(2, 3));
        Assert.NotEqual(a, job.Phrases(2, 4));
        Assert.Equal(2 * 5 * 16 * 84, a.Length);
        Assert.Equal(offset, job.Rng.Offset);
        var song = job.ToSong(a, "two");
        Assert.Equal(5, song.Tracks.Count);
        Assert.All(song.Tracks.SelectMany(t => t.Notes), n => Assert.True(n.End <= 8L * 4 * NoteEvents.TicksPerQuarter));
    }

    [Fact]
    public void Settings_that_do_not_fit_the_phrases_are_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create(MuseGanJob.KindName, new Dictionary<string, string>(Tiny()) { ["steps_per_bar"] = "8" }, Device.Cpu));
        Assert.Contains("data_shape must be 5,32,84", e.Message);
    }
}
