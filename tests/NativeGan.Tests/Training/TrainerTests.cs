using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Training;

/// <summary>
/// The shared training loop on a tiny DCGAN (8x8 images, a few channels) on the cpu device: training moves the
/// discriminator's loss the right way, a resumed run ends bit-identical to an uninterrupted one, Ctrl-C saves,
/// a NaN stops the run and keeps the last good checkpoint.
/// </summary>
public class TrainerTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-trainer-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    internal static readonly Dictionary<string, string> Tiny = new()
    {
        ["latent"] = "6", ["g_width"] = "4", ["d_width"] = "4", ["data_shape"] = "1,8,8", ["lr_g"] = "0.002", ["lr_d"] = "0.002",
    };

    /// <summary>Random "images": smooth blobs in [-1, 1], 1x8x8, with labels, so the data is not noise and not zeros.</summary>
    internal static Dataset Blobs(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * 64];
        var labels = new int[count];
        for (int n = 0; n < count; n++)
        {
            double cx = 1.5 + 5 * rng.NextDouble(), cy = 1.5 + 5 * rng.NextDouble();
            labels[n] = cx < 4 ? 0 : 1;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                    data[n * 64 + y * 8 + x] = (float)(2 * Math.Exp(-((x - cx) * (x - cx) + (y - cy) * (y - cy)) / 3) - 1);
        }
        return new Dataset("blobs", data, [1, 8, 8], labels, 2);
    }

    static GanJob NewJob(ulong seed = 3) => TestJobs.Dcgan(new Dictionary<string, string>(Tiny) { ["seed"] = seed.ToString() });

    TrainerOptions Options(string name, long steps, bool resume = false) => new()
    {
        OutDir = Path.Combine(dir, name), Epochs = 100, MaxSteps = steps, SampleEvery = 2, LatestEvery = TimeSpan.Zero, CheckpointEvery = 3, Resume = resume, DataName = "blobs",
    };

    [Fact]
    public void TheClockRefreshesLatestBetweenTheNumberedPictures()
    {
        // Numbered pictures every 100 steps (so none before the end); latest.png must still appear after the first
        // step, with no numbered file and no partial file beside it.
        var data = Blobs(16, 1);
        using var job = NewJob();
        using var loader = new DataLoader(data, 4, Device.Cpu, seed: 2);
        string samples = Path.Combine(dir, "clock", Trainer.SamplesFolder);
        var seen = new List<string[]>();
        var options = Options("clock", 3) with { SampleEvery = 100 };
        var r = Trainer.Run(job, loader, options, CancellationToken.None, progress: p =>
        {
            if (p.Step == 2) seen.Add(Directory.Exists(samples) ? [.. Directory.GetFiles(samples).Select(Path.GetFileName).Order()!] : []);
        });
        Assert.Equal(TrainOutcome.Finished, r.Outcome);
        Assert.Equal(["latest.png"], Assert.Single(seen));
        Assert.Equal(["latest.png", "step_000003.png"], Directory.GetFiles(samples).Select(Path.GetFileName).Order().ToArray());

        // Without the clock, nothing before the end.
        seen.Clear();
        using var job2 = NewJob();
        using var loader2 = new DataLoader(data, 4, Device.Cpu, seed: 2);
        samples = Path.Combine(dir, "steps", Trainer.SamplesFolder);
        Trainer.Run(job2, loader2, Options("steps", 3) with { SampleEvery = 100, LatestEvery = null }, CancellationToken.None, progress: p =>
        {
            if (p.Step == 2) seen.Add(Directory.Exists(samples) ? [.. Directory.GetFiles(samples)] : []);
        });
        Assert.Empty(Assert.Single(seen));
    }

    [Fact]
    public void TrainingLowersTheDiscriminatorLossOnAFixedBatch()
    {
        // G frozen (lr_g 0), so the loss on a fixed batch measures D's learning alone: with G moving too the two
        // nearly cancel, and the loss falls by 5-10% depending on the initial weights.
        var data = Blobs(16, 1);
        using var job = TestJobs.Dcgan(new Dictionary<string, string>(Tiny) { ["seed"] = "3", ["lr_g"] = "0" });
        using var real = Tensor.FromArray(data.Data, [16, 1, 8, 8], Device.Cpu);
        using var z = new Rng(99).Normal(Device.Cpu, [16, 6, 1, 1]);
        float Loss()
        {
            using var scope = new TensorScope();
            using var _ = Autograd.NoGrad();
            using var fake = job.Generator.Forward(z);
            return Losses.BceWithLogits(job.Discriminator.Forward(real), 1f).Add(Losses.BceWithLogits(job.Discriminator.Forward(fake), 0f)).Item();
        }
        float before = Loss();
        for (int i = 0; i < 15; i++)
        {
            using var batch = new Batch(real.Share(), null, 0, i);
            var losses = job.Step(batch, i);
            Assert.All(losses.Values, v => Assert.True(float.IsFinite(v)));
        }
        float after = Loss();
        Assert.True(after < before * 0.9f, $"discriminator loss on the fixed batch: before {before}, after {after}");
    }

    [Fact]
    public void AResumedRunEndsBitIdenticalToAnUninterruptedOne()
    {
        var data = Blobs(24, 2);
        // Uninterrupted: 7 steps (batches of 5: 4 an epoch, so the run crosses an epoch boundary).
        float[][] straight;
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
        {
            var r = Trainer.Run(job, loader, Options("straight", 7), CancellationToken.None);
            Assert.Equal(TrainOutcome.Finished, r.Outcome);
            Assert.Equal(7, r.Steps);
            straight = Weights(job);
        }
        // Interrupted at 3 (a checkpoint), then a fresh process-like start with --resume to 7.
        using (var job = NewJob())
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
            Assert.Equal(3, Trainer.Run(job, loader, Options("resumed", 3), CancellationToken.None).Steps);
        using (var job = NewJob(seed: 3))
        using (var loader = new DataLoader(data, 5, Device.Cpu, seed: 11))
        {
            var r = Trainer.Run(job, loader, Options("resumed", 7, resume: true), CancellationToken.None);
            Assert.Equal(TrainOutcome.Finished, r.Outcome);
            var resumed = Weights(job);
            Assert.Equal(straight.Length, resumed.Length);
            for (int i = 0; i < straight.Length; i++) Assert.Equal(straight[i], resumed[i]); // bit for bit
        }
        // The loss logs agree line for line after the step and time columns.
        static IEnumerable<string> Losses(string path) => File.ReadLines(path).Select(l => l[l.IndexOf("\"loss", StringComparison.Ordinal)..]);
        Assert.Equal(Losses(Path.Combine(dir, "straight", Trainer.LossLogFile)), Losses(Path.Combine(dir, "resumed", Trainer.LossLogFile)));
        Assert.True(File.Exists(Path.Combine(dir, "resumed", Trainer.LossCurveFile)));
        Assert.True(File.Exists(Path.Combine(dir, "resumed", Trainer.SamplesFolder, "latest.png")));
    }

    static float[][] Weights(ITrainingJob job) =>
        [.. job.Modules.Values.SelectMany(m => m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.ToArray()))];

    [Fact]
    public void CancellingSavesACheckpointOfTheLastFinishedStep()
    {
        using var job = NewJob();
        using var loader = new DataLoader(Blobs(20, 3), 4, Device.Cpu, seed: 1);
        using var cancel = new CancellationTokenSource();
        var r = Trainer.Run(job, loader, Options("cancel", 50), cancel.Token, p => { if (p.Step == 2) cancel.Cancel(); });
        Assert.Equal(TrainOutcome.Interrupted, r.Outcome);
        Assert.Equal(2, r.Steps);
        Assert.Equal("2", Checkpoint.ReadMetadata(r.Checkpoint)["step"]);
        Assert.Contains("--resume", r.Message);
    }

    [Fact]
    public void ANaNLossStopsTheRunNamingTheStepAndKeepsTheLastGoodCheckpoint()
    {
        using var job = new PoisonedJob(NewJob(), nanAtStep: 4);
        using var loader = new DataLoader(Blobs(40, 4), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, Options("nan", 20), CancellationToken.None);
        Assert.Equal(TrainOutcome.Diverged, r.Outcome);
        Assert.Contains("step 5: loss_g is NaN", r.Message);
        Assert.Equal("3", Checkpoint.ReadMetadata(r.Checkpoint)["step"]); // saved at 3, nothing after the NaN
        Assert.Contains("step 3", r.Message);
    }

    [Fact]
    public void AJobRebuildsFromItsCheckpointAndGeneratesTheSameImages()
    {
        using var job = NewJob();
        using var loader = new DataLoader(Blobs(12, 5), 4, Device.Cpu, seed: 1);
        var r = Trainer.Run(job, loader, Options("reload", 3), CancellationToken.None);
        using var loaded = Assert.IsAssignableFrom<IGenerativeJob>(Trainer.Load(r.Checkpoint, Device.Cpu));
        using var z = new Rng(5).Normal(Device.Cpu, [3, 6]);
        using var a = job.Generate(z);
        using var b = loaded.Generate(z);
        Assert.Equal(a.ToArray(), b.ToArray());
        Assert.Equal(job.Rng.Offset, loaded.Rng.Offset);
    }

    /// <summary>A job that reports a NaN generator loss from a given step on (a stand-in for a diverging run).</summary>
    sealed class PoisonedJob(GanJob inner, long nanAtStep) : ITrainingJob
    {
        public string Kind => inner.Kind;
        public ModelOptions Options => inner.Options;
        public IReadOnlyDictionary<string, Module> Modules => inner.Modules;
        public IReadOnlyDictionary<string, Optimizer> Optimizers => inner.Optimizers;
        public Rng Rng => inner.Rng;

        public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
        {
            var losses = new Dictionary<string, float>(inner.Step(batch, step));
            if (step >= nanAtStep) losses["loss_g"] = float.NaN;
            return losses;
        }

        public void WriteSamples(string path) => inner.WriteSamples(path);
        public void Dispose() => inner.Dispose();
    }
}
