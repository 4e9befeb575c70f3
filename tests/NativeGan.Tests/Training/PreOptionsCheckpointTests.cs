using System.Text.Json;
using NativeGan.Gan.Training;

namespace NativeGan.Tests.Training;

/// <summary>
/// Checkpoints written before typed options (TestData/pre-options: a string "config", dcgan's own keys, BatchNorm1d's
/// tensors one level down) still load and resume: each resumed by today's program to step 3 logs the numbers the program
/// that wrote it logged when it resumed the same checkpoint (to float rounding, which differs between cpus).
/// </summary>
[Collection("Console")]
public class PreOptionsCheckpointTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-pre-options-" + Guid.NewGuid().ToString("N"));
    static readonly string Data = Path.Combine(AppContext.BaseDirectory, "TestData", "pre-options");

    public PreOptionsCheckpointTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    public static TheoryData<string> Files => new("dcgan", "cgan", "vae", "gan", "wgangp");

    [Theory, MemberData(nameof(Files))]
    public void AnOldCheckpointResumesAsTheOldProgramResumedIt(string file)
    {
        var row = File.ReadAllLines(Path.Combine(Data, "resumed-step3.tsv")).Select(l => l.Split('\t')).Single(r => r[0] == file);
        string kind = row[1];
        var args = row[2].Split(' ').Select(a => a.EndsWith("-ubyte", StringComparison.Ordinal) ? Path.Combine(Data, a) : a);
        using var expected = JsonDocument.Parse(row[3]);

        string run = Path.Combine(dir, file);
        Directory.CreateDirectory(run);
        File.Copy(Path.Combine(Data, file + ".safetensors"), Path.Combine(run, Trainer.CheckpointFile));
        Assert.Contains(Trainer.LegacyConfigKey, NativeGan.Nn.Checkpoint.ReadMetadata(Path.Combine(run, Trainer.CheckpointFile)).Keys);
        var (code, output) = TrainCommandTests.Run(["train", kind, "--resume", "--steps", "3", "--device", "cpu", "--out", run, .. args]);
        Assert.True(code == 0, output);

        using var got = JsonDocument.Parse(File.ReadLines(Path.Combine(run, Trainer.LossLogFile)).Last());
        foreach (var p in expected.RootElement.EnumerateObject())
        {
            if (p.Name == "seconds") continue;
            Assert.True(got.RootElement.TryGetProperty(p.Name, out var v), $"{file}: '{p.Name}' is not logged any more: {got.RootElement}");
            // Numbers to float rounding: the old program ran on one cpu, and vectorised sums round differently on others
            // (AVX2 against AVX-512 kernels); a checkpoint read wrongly is off by far more than that after a step.
            bool same = p.Value.ValueKind == JsonValueKind.Number && v.ValueKind == JsonValueKind.Number
                ? Math.Abs(v.GetDouble() - p.Value.GetDouble()) <= 1e-5 * Math.Max(1, Math.Abs(p.Value.GetDouble()))
                : p.Value.GetRawText() == v.GetRawText();
            Assert.True(same, $"{file}: {p.Name} is {v.GetRawText()}, the old program logged {p.Value.GetRawText()}");
        }
        // Saved again in today's form: the options as JSON, read back to the same settings.
        var saved = Trainer.ReadJob(Path.Combine(run, Trainer.CheckpointFile));
        Assert.Equal(3, saved.Step);
        Assert.False(saved.Metadata.ContainsKey(Trainer.LegacyConfigKey));
        Assert.Equal(OptionsBinder.ToStrings(saved.Options), OptionsBinder.ToStrings(saved.Model.FromSaved(OptionsBinder.FromJson(saved.Metadata[Trainer.OptionsKey]))));
    }

    [Fact]
    public void AnOldDcgansOwnKeysReadAsTheGanJobs()
    {
        var saved = Trainer.ReadJob(Path.Combine(Data, "dcgan.safetensors"));
        var settings = saved.Settings;
        Assert.Equal("dcgan", saved.Kind);
        Assert.Equal(("1,8,8", "0.0002", "0.0002", "true"), (settings["data_shape"], settings["lr_g"], settings["lr_d"], settings["reuse_fakes"]));
        Assert.Equal("6", settings["latent"]);
    }
}
