using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Gans;

/// <summary>
/// The GAN kinds through the shared <see cref="Trainer"/>: checkpoints hold every module, optimizer and the random
/// stream, so a run rebuilt from its checkpoint's config (as --resume does) ends bit-identical to an uninterrupted
/// one; the scatter picture is written.
/// </summary>
public class GanTrainerTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-gans-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static Dictionary<string, string> Config(string kind, int pack = 1)
    {
        var c = new Dictionary<string, string>
        {
            ["pack"] = pack.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["data_shape"] = "2", ["seed"] = "5", ["latent"] = "3", ["g_widths"] = "8,8", ["d_widths"] = "8", ["d_pieces"] = "2",
            ["mbstd"] = "true", ["minibatch_disc"] = "true", ["mbd_kernels"] = "3", ["mbd_dims"] = "2", ["dropout"] = kind == "gan" ? "0.5" : "0",
            ["n_critic"] = "2", ["batches_per_step"] = "2",
        };
        if (kind == "cgan") c["classes"] = "8"; // only the conditional kind has the setting
        return c;
    }

    TrainerOptions Options(string name, long steps, bool resume = false) => new()
    {
        OutDir = Path.Combine(dir, name), Epochs = 100, MaxSteps = steps, SampleEvery = 2, LatestEvery = TimeSpan.Zero, CheckpointEvery = 3, Resume = resume, DataName = "ring",
    };

    static float[][] Weights(ITrainingJob job) =>
        [.. job.Modules.Values.SelectMany(m => m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.ToArray()))];

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    [InlineData("wgan-gp")]
    [InlineData("gan", 2)]
    public void AResumedRunEndsBitIdentical(string kind, int pack = 1)
    {
        int batch = 10 * pack; // two critic slices a step, each of 5 packs
        var data = Mixtures2D.Ring(60, seed: 1);
        float[][] straight;
        using (var job = ModelKinds.Create(kind, Config(kind, pack), Device.Cpu))
        using (var loader = new DataLoader(data, batch, Device.Cpu, seed: 2))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("straight", 5), CancellationToken.None).Outcome);
            straight = Weights(job);
        }
        using (var job = ModelKinds.Create(kind, Config(kind, pack), Device.Cpu))
        using (var loader = new DataLoader(data, batch, Device.Cpu, seed: 2))
            Assert.Equal(3, Trainer.Run(job, loader, Options("resumed", 3), CancellationToken.None).Steps);
        var saved = Trainer.ReadJob(Path.Combine(dir, "resumed", Trainer.CheckpointFile));
        Assert.Equal(kind, saved.Kind);
        using (var job = saved.Model.Create(saved.Options, Device.Cpu))
        using (var loader = new DataLoader(data, batch, Device.Cpu, seed: 2))
        {
            Assert.Equal(TrainOutcome.Finished, Trainer.Run(job, loader, Options("resumed", 5, resume: true), CancellationToken.None).Outcome);
            var resumed = Weights(job);
            for (int i = 0; i < straight.Length; i++) Assert.Equal(straight[i], resumed[i]);
        }
        Assert.True(File.Exists(Path.Combine(dir, "resumed", Trainer.SamplesFolder, "latest.png")));
    }
}
