using System.Text.Json;
using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// Generator averaging (g_ema) in the GAN jobs: it never changes training (the live weights are bit-identical with
/// it on or off), sampling uses the average unless told to sample live, the average is saved and loaded with the
/// checkpoint, and a checkpoint written before the setting existed loads without an average.
/// </summary>
public class GeneratorAverageTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-ema-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static Dictionary<string, string> Config(string kind, string ema) => new(TestJobs.Settings(kind, [2]))
    {
        ["g_widths"] = "16,16", ["d_widths"] = "16", ["d_pieces"] = "3", ["latent"] = "3", ["seed"] = "4", ["g_ema"] = ema,
        ["n_critic"] = "2",
    };

    static GanJob Make(string kind, string ema)
    {
        return (GanJob)ModelKinds.Create(kind, Config(kind, ema), Device.Cpu);
    }

    static void Train(ITrainingJob job, int steps)
    {
        var data = Mixtures2D.Ring(400, seed: 2);
        using var loader = new DataLoader(data, 40, Device.Cpu, seed: 3);
        int s = 0;
        foreach (var batch in loader.Epoch(0, 0))
        {
            using (batch) job.Step(batch, s);
            if (++s == steps) break;
        }
    }

    static float[] Output(Module generator, Tensor z)
    {
        generator.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            using var y = generator.Forward(z);
            return y.ToArray();
        }
        finally { generator.Train(); }
    }

    static void AssertSameSamples(GanJob expected, GanJob actual)
    {
        using var z = new Rng(9).Normal(Device.Cpu, [20, 3]);
        using var a = expected.Generate(z);
        using var b = actual.Generate(z);
        Assert.Equal(a.ToArray(), b.ToArray());
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    public void AveragingNeverChangesTheTrainedWeights(string kind)
    {
        using var plain = Make(kind, "0");
        using var averaged = Make(kind, "0.9");
        Train(plain, 5);
        Train(averaged, 5);
        Assert.False(plain.HasAverage);
        Assert.True(averaged.HasAverage);
        Assert.DoesNotContain("generator_ema", plain.Modules.Keys);
        foreach (var name in new[] { "generator", "discriminator" })
            foreach (var (key, t) in plain.Modules[name].StateDict())
                Assert.Equal(t.ToArray(), averaged.Modules[name].StateDict()[key].ToArray());
    }

    [Fact]
    public void SamplingUsesTheAverageUnlessToldToSampleLive()
    {
        using var job = Make("gan", "0.9");
        Train(job, 6);
        using var z = new Rng(9).Normal(Device.Cpu, [50, 3]);
        var average = Output(job.Modules["generator_ema"], z);
        var live = Output(job.Generator, z);
        Assert.NotEqual(average, live); // six updates apart: the average lags the live weights
        using (var sampled = job.Generate(z)) Assert.Equal(average, sampled.ToArray());
        job.SampleLive = true;
        using (var sampled = job.Generate(z)) Assert.Equal(live, sampled.ToArray());
    }

    [Fact]
    public void TheAverageIsSavedAndLoadedWithTheCheckpoint()
    {
        using var job = Make("wgan-gp", "0.9");
        using var loader = new DataLoader(Mixtures2D.Ring(400, seed: 2), 80, Device.Cpu, seed: 3);
        var r = Trainer.Run(job, loader, new TrainerOptions { OutDir = Path.Combine(dir, "run"), MaxSteps = 4, Epochs = 1, DataName = "ring8" }, CancellationToken.None);
        using var loaded = (GanJob)Trainer.Load(r.Checkpoint, Device.Cpu);
        Assert.True(loaded.HasAverage);
        AssertSameSamples(job, loaded);
    }

    /// <summary>Saves <paramref name="job"/> as the program wrote checkpoints before g_ema existed: no such key in the
    /// saved config, no generator_ema tensors.</summary>
    string SaveAsBeforeAveraging(ITrainingJob job, string name)
    {
        var config = job.Settings().Where(kv => kv.Key != "g_ema").ToDictionary(kv => kv.Key, kv => kv.Value);
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, name);
        Checkpoint.Save(path, job.Modules, job.Optimizers, new Dictionary<string, string>
        {
            ["kind"] = job.Kind, ["config"] = JsonSerializer.Serialize(config), ["step"] = "2", ["batches_per_epoch"] = "10",
            ["rng_seed"] = job.Rng.Seed.ToString(), ["rng_offset"] = job.Rng.Offset.ToString(), ["data"] = "ring8",
        });
        return path;
    }

    [Fact]
    public void ACheckpointFromBeforeAveragingLoadsWithoutAnAverage()
    {
        // The default (on) would expect generator_ema tensors; the kind's added-keys table says "0".
        using var job = Make("gan", "0");
        Train(job, 2);
        string path = SaveAsBeforeAveraging(job, "old.safetensors");
        Assert.Equal("0", Trainer.ReadJob(path).Settings["g_ema"]);
        using var loaded = (GanJob)Trainer.Load(path, Device.Cpu);
        Assert.False(loaded.HasAverage);
        AssertSameSamples(job, loaded);
    }

    [Fact]
    public void ADcganCheckpointFromBeforeAveragingLoadsWithoutAnAverage()
    {
        using var job = TestJobs.Dcgan(new Dictionary<string, string>(NativeGan.Tests.Training.TrainerTests.Tiny) { ["g_ema"] = "0" });
        Assert.False(job.HasAverage);
        string path = SaveAsBeforeAveraging(job, "old-dcgan.safetensors");
        using var loaded = (GanJob)Trainer.Load(path, Device.Cpu);
        Assert.False(loaded.HasAverage);
        using var z = new Rng(9).Normal(Device.Cpu, [5, 6]);
        using var a = job.Generate(z);
        using var b = loaded.Generate(z);
        Assert.Equal(a.ToArray(), b.ToArray());
        // A new DCGAN run keeps an average by default.
        using var fresh = TestJobs.Dcgan(NativeGan.Tests.Training.TrainerTests.Tiny);
        Assert.True(fresh.HasAverage);
        Assert.Contains("generator_ema", fresh.Modules.Keys);
    }

    [Fact]
    public void ADecayOutsideZeroToOneIsRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => Make("gan", "1"));
        Assert.Contains("g_ema", e.Message);
        Assert.Throws<ArgumentException>(() => Make("gan", "-0.5"));
    }
}
