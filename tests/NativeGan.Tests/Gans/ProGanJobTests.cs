using NativeGan.Gan.Data;
using NativeGan.Gan.Progressive;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;
using NativeGan.Tests.Training;

namespace NativeGan.Tests.Gans;

public class ProGanJobTests
{
    static readonly Dictionary<string, string> Tiny = new()
    {
        ["latent"] = "6", ["widths"] = "6,5", ["data_shape"] = "1,8,8", ["phase_images"] = "10", ["seed"] = "3",
    };

    static ProGanJob NewJob() => (ProGanJob)ModelKinds.Create(ProGanJob.KindName, Tiny, Device.Cpu);

    [Fact]
    public void The_schedule_grows_a_stage_per_two_phases()
    {
        // Phases of 100 images, 3 stages: stage 1 for 100, stage 2 fading 100-199 and stable 200-299, stage 3 fading
        // 300-399, then stable for good.
        Assert.Equal((1, 1f), ProGanJob.Schedule(0, 100, 3));
        Assert.Equal((1, 1f), ProGanJob.Schedule(99, 100, 3));
        Assert.Equal((2, 0f), ProGanJob.Schedule(100, 100, 3));
        Assert.Equal((2, 0.25f), ProGanJob.Schedule(125, 100, 3));
        Assert.Equal((2, 1f), ProGanJob.Schedule(200, 100, 3));
        Assert.Equal((2, 1f), ProGanJob.Schedule(299, 100, 3));
        Assert.Equal((3, 0.5f), ProGanJob.Schedule(350, 100, 3));
        Assert.Equal((3, 1f), ProGanJob.Schedule(400, 100, 3));
        Assert.Equal((3, 1f), ProGanJob.Schedule(1_000_000, 100, 3));
        Assert.Equal((1, 1f), ProGanJob.Schedule(500, 100, 1));
    }

    [Fact]
    public void Real_images_are_pooled_to_the_stage_and_blended_in_a_fade()
    {
        using var scope = new TensorScope();
        var x = new Rng(1).Normal(Device.Cpu, [2, 1, 8, 8]);
        Assert.Equal([2, 1, 4, 4], ProGanJob.RealsAt(x, 1, 1f).Shape);
        Assert.Equal(x.AvgPool2d(2).ToArray(), ProGanJob.RealsAt(x, 1, 0.3f).ToArray());
        Assert.Equal(x.AvgPool2d(2).UpsampleNearest2x().ToArray(), ProGanJob.RealsAt(x, 2, 0f).ToArray());
        Assert.Equal(x.ToArray(), ProGanJob.RealsAt(x, 2, 1f).ToArray());
    }

    /// <summary>
    /// A growing job of 8x8 images and phases of 10 images, trained 6 steps of 4 straight, and 4 then resumed to 6 (the
    /// checkpoint at step 4, 16 images, lies inside stage 2's fade over images 10-19): both end with the same weights, 24
    /// images shown, stage 2 stable. Returns the straight run's folder.
    /// </summary>
    internal static string ResumedInsideTheFadeEndsBitIdentical<TOptions, TGenerator>(TempDir dir, Func<GrowingJob<TOptions, TGenerator>> newJob)
        where TOptions : GrowingOptions
        where TGenerator : Module
    {
        var data = TrainerTests.Blobs(12, 4);
        TrainerOptions Options(string name, long steps, bool resume = false) => new()
        {
            OutDir = Path.Combine(dir.Path, name), Epochs = 100, MaxSteps = steps, SampleEvery = 3, LatestEvery = TimeSpan.Zero, CheckpointEvery = 2, Resume = resume, DataName = "blobs",
        };
        static float[] Weights(ITrainingJob job) =>
            [.. job.Modules.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.StateDict().OrderBy(p => p.Key, StringComparer.Ordinal).SelectMany(p => p.Value.ToArray()))];
        float[] straight;
        // Batches of 4, phases of 10 images: stage 1 for steps 1-3, stage 2 fading in from the 4th step (images 12).
        using (var job = newJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("straight", 6), CancellationToken.None).Outcome);
            Assert.Equal(24, job.Progress.Images);
            Assert.Equal((2, 1f), job.Now);  // the fade ran over images 10-19 (steps 4 and 5: alpha 0.2, 0.6)
            straight = Weights(job);
        }
        using (var job = newJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
            Trainer.Run(job, loader, Options("resumed", 4), CancellationToken.None); // checkpoint at 4 (16 images): inside the fade
        using (var job = newJob())
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
        {
            Trainer.Run(job, loader, Options("resumed", 6, resume: true), CancellationToken.None);
            Assert.Equal(24, job.Progress.Images);
            Assert.Equal(straight, Weights(job));
        }
        var folder = Path.Combine(dir.Path, "straight");
        Assert.True(File.Exists(Path.Combine(folder, Trainer.SamplesFolder, "step_000003.png")));
        return folder;
    }

    [Fact]
    public void A_run_resumed_inside_a_fade_in_ends_bit_identical()
    {
        using var dir = new TempDir();
        var folder = ResumedInsideTheFadeEndsBitIdentical(dir, NewJob);
        var log = File.ReadAllLines(Path.Combine(folder, Trainer.LossLogFile));
        Assert.Contains("\"stage\":1", log[2]);
        Assert.Contains("\"stage\":2", log[3]);
        // One picture per phase: samples at step 3 (12 images: phase 1, stage 2 fading in) and step 6 (24: phase 2, stable).
        var samples = Path.Combine(folder, Trainer.SamplesFolder);
        Assert.True(File.Exists(Path.Combine(samples, "phase_01_8x8_fade.png")), string.Join(", ", Directory.GetFiles(samples).Select(Path.GetFileName)));
        Assert.True(File.Exists(Path.Combine(samples, "phase_02_8x8.png")));
    }

    [Fact]
    public void Samples_come_at_the_datas_side_whatever_the_stage()
    {
        using var job = NewJob();
        using var z = new Rng(2).Normal(Device.Cpu, [3, 6]);
        using var images = job.Generate(z);
        Assert.Equal([3, 1, 8, 8], images.Shape);
        Assert.Equal(1, job.Now.Stage);
        var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create(ProGanJob.KindName, new Dictionary<string, string>(Tiny) { ["widths"] = "6,5,4" }, Device.Cpu));
        Assert.Contains("one feature count per stage: 2", e.Message);
    }
}
