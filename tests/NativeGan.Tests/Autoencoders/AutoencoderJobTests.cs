using NativeGan;
using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Autoencoders;

/// <summary>
/// The autoencoder jobs end to end at tiny sizes on cpu: every kind's loss falls on a fixed batch, a job
/// rebuilt from its config and state dicts continues exactly, pictures and evaluation leave the training
/// stream alone, and bad configs are refused with messages that name the key.
/// </summary>
public class AutoencoderJobTests
{
    const int Batch = 16;
    static readonly int[] Shape = [1, 8, 8];

    /// <summary>Structured images in [-1, 1]: tanh of a random 3-dimensional linear family, so a small code can reconstruct them.</summary>
    public static float[] Images(int count, int seed)
    {
        var rng = new Random(seed);
        var basis = Numerics.Random(new Random(1234), 3 * 64);
        var data = new float[count * 64];
        for (int n = 0; n < count; n++)
        {
            var s = Numerics.Random(rng, 3, -1.5f, 1.5f);
            for (int i = 0; i < 64; i++)
                data[n * 64 + i] = MathF.Tanh(s[0] * basis[i] + s[1] * basis[64 + i] + s[2] * basis[128 + i]);
        }
        return data;
    }

    public static Dictionary<string, string> Tiny(string kind, params (string Key, string Value)[] overrides)
    {
        var config = new Dictionary<string, string>
        {
            ["kind"] = kind, ["data_shape"] = "1,8,8", ["code"] = "6", ["hidden"] = "16", ["lr"] = "0.01", ["seed"] = "7",
        };
        if (kind == "overcomplete") config["code"] = "72";
        if (kind == "contractive") config["hidden"] = "";
        foreach (var (k, v) in overrides) config[k] = v;
        return config;
    }

    static ITrainingJob Create(Dictionary<string, string> settings, Device device) => AutoencoderJob.Create(AutoencoderOptions.Parse(settings), device);

    public static TheoryData<string> Variants => new(
        "undercomplete", "undercomplete-bce", "undercomplete-conv", "overcomplete", "sparse", "sparse-kl",
        "denoising", "denoising-mask", "contractive", "contractive-autodiff", "vae", "vae-gaussian", "vae-conv");

    static Dictionary<string, string> Variant(string name) => name switch
    {
        "undercomplete-bce" => Tiny("undercomplete", ("recon", "bce")),
        "undercomplete-conv" => Tiny("undercomplete", ("arch", "conv"), ("conv_width", "4")),
        "sparse-kl" => Tiny("sparse", ("sparse_penalty", "kl"), ("code_activation", "sigmoid"), ("sparsity", "0.01")),
        "denoising-mask" => Tiny("denoising", ("noise_kind", "mask"), ("noise", "0.25")),
        "contractive-autodiff" => Tiny("contractive", ("hidden", "16"), ("code", "4"), ("jacobian", "autodiff")),
        "vae-gaussian" => Tiny("vae", ("decoder", "gaussian")),
        "vae-conv" => Tiny("vae", ("arch", "conv"), ("conv_width", "8"), ("code", "2")),
        _ => Tiny(name),
    };

    [Theory, MemberData(nameof(Variants))]
    public void LossFallsOnAFixedBatch(string variant)
    {
        using var job = Create(Variant(variant), Device.Cpu);
        using var x = Tensor.FromArray(Images(Batch, 3), [Batch, .. Shape]);
        var batch = new Batch(x, null, 0, 0);
        var losses = new List<float>();
        IReadOnlyDictionary<string, float> last = new Dictionary<string, float>();
        for (int step = 0; step < Steps(variant); step++)
        {
            last = job.Step(batch, step);
            losses.Add(last["loss"]);
            Assert.All(last.Values, v => Assert.True(float.IsFinite(v), $"{variant}: a non-finite scalar at step {step}"));
        }
        // The Bernoulli VAE's -log p(x|z) on grey levels t cannot go below the targets' own entropy
        // sum -[t log t + (1 - t) log(1 - t)] per sample: the fall is measured above that floor.
        var o = AutoencoderOptions.Parse(job.Settings());
        double floor = o.Kind == AutoencoderKind.Vae && o.Decoder == DecoderDistribution.Bernoulli ? BernoulliEntropy(Images(Batch, 3)) / Batch : 0;
        double end = losses.TakeLast(3).Average() - floor, start = losses[0] - floor;
        Assert.True(end < 0.8 * start, $"{variant}: loss above its floor {floor:g4}: {start} -> {end} did not fall by 20% in {Steps(variant)} steps: {string.Join(", ", losses)}");
        Assert.Contains("recon", last.Keys);
        if (o.Sparsity > 0) { Assert.Contains("sparsity", last.Keys); Assert.Contains("mean_activation", last.Keys); }
        if (o.Lambda > 0) Assert.Contains("contractive", last.Keys);
        if (o.Kind == AutoencoderKind.Vae) { Assert.Contains("kl", last.Keys); Assert.IsType<VaeJob>(job); }
        else Assert.False(job is IGenerativeJob);
    }

    static int Steps(string variant) => variant.StartsWith("vae", StringComparison.Ordinal) ? 100 : 30;

    static double BernoulliEntropy(float[] x) => x.Sum(v =>
    {
        double t = (v + 1) / 2.0;
        return t <= 0 || t >= 1 ? 0 : -(t * Math.Log(t) + (1 - t) * Math.Log(1 - t));
    });

    [Theory]
    [InlineData("denoising")]
    [InlineData("vae")]
    [InlineData("sparse")]
    public void JobRoundTripsThroughConfigAndStateDicts(string kind)
    {
        using var x = Tensor.FromArray(Images(Batch, 5), [Batch, .. Shape]);
        var batch = new Batch(x, null, 0, 0);
        using var first = Create(Tiny(kind), Device.Cpu);
        for (int s = 0; s < 3; s++) first.Step(batch, s);

        // What a checkpoint holds: the config strings, the modules' and optimizers' state, the stream offset.
        var config = first.Settings().ToDictionary(kv => kv.Key, kv => kv.Value);
        using var second = AutoencoderJob.Create(AutoencoderOptions.Parse(config), Device.Cpu);
        Assert.Equal(first.Kind, second.Kind);
        Assert.Equal(first.Settings(), second.Settings());
        foreach (var (name, module) in first.Modules) second.Modules[name].LoadStateDict(module.StateDict());
        foreach (var (name, opt) in first.Optimizers) second.Optimizers[name].LoadStateDict(opt.StateDict());
        second.Rng.Advance((long)(first.Rng.Offset - second.Rng.Offset));

        var a = first.Step(batch, 3);
        var b = second.Step(batch, 3);
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var key in a.Keys) Assert.Equal(a[key], b[key]);
        foreach (var (name, module) in first.Modules)
        {
            var other = second.Modules[name].StateDict();
            foreach (var (p, t) in module.StateDict()) Assert.Equal(t.ToArray(), other[p].ToArray());
        }
    }

    [Fact]
    public void EveryKindBuildsThroughTheModelKinds()
    {
        foreach (var name in AutoencoderOptions.KindNames)
        {
            var config = Tiny(name);
            using var job = ModelKinds.Create("ae-" + name, config, Device.Cpu);
            Assert.Equal("ae-" + name, job.Kind);
            Assert.Equal(name, job.Settings()["kind"]);
        }
        Assert.Throws<ArgumentException>(() => ModelKinds.Create("ae-vae", Tiny("sparse"), Device.Cpu));
    }

    [Theory]
    [InlineData("undercomplete", "code", "64", "code < dim(x)")]
    [InlineData("overcomplete", "sparsity", "0", "regulariser")]
    [InlineData("undercomplete", "arch", "rnn", "'arch'")]
    [InlineData("undercomplete", "colour", "1", "unknown setting 'colour'")]
    [InlineData("undercomplete", "lr", "fast", "'lr'")]
    [InlineData("sparse", "sparse_penalty", "kl", "code_activation sigmoid")]
    [InlineData("contractive", "hidden", "16", "")] // fine: autodiff Jacobian
    [InlineData("vae", "noise", "0.1", "KL term")]
    [InlineData("nonsense", "code", "4", "unknown kind")]
    public void BadConfigsAreRefusedNamingTheKey(string kind, string key, string value, string message)
    {
        var config = Tiny(kind);
        config[key] = value;
        if (message == "") { using var ok = AutoencoderJob.Create(AutoencoderOptions.Parse(config), Device.Cpu); return; }
        var e = Assert.Throws<ArgumentException>(() => AutoencoderJob.Create(AutoencoderOptions.Parse(config), Device.Cpu));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void DefaultConfigsParseAndRoundTrip()
    {
        foreach (var name in AutoencoderOptions.KindNames)
        {
            var defaults = OptionsBinder.ToStrings(AutoencoderOptions.For(AutoencoderOptions.ParseKind(name), [1, 32, 32]));
            var o = AutoencoderOptions.Parse(defaults);
            Assert.Equal(defaults, OptionsBinder.ToStrings(o));
        }
    }

    [Fact]
    public void PicturesAndEvaluationLeaveTheStreamAndWeightsAlone()
    {
        var dir = Directory.CreateTempSubdirectory("ae-pictures-");
        try
        {
            using var x = Tensor.FromArray(Images(Batch, 9), [Batch, .. Shape]);
            var batch = new Batch(x, null, 0, 0);
            var data = new Dataset("tiny", Images(40, 11), Shape, Enumerable.Range(0, 40).Select(i => i % 3).ToArray(), 3);
            foreach (var kind in new[] { "denoising", "vae" })
            {
                using var job = (AutoencoderJob)Create(Tiny(kind, ("code", "2")), Device.Cpu);
                job.Step(batch, 0);
                var offset = job.Rng.Offset;
                var before = job.Modules["decoder"].StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
                var path = Path.Combine(dir.FullName, kind + ".png");
                job.WriteSamples(path);
                var eval = job.Evaluate(data, batchSize: 16);
                var codes = job.LatentScatter(data, 25);
                job.WriteLatentScatter(Path.Combine(dir.FullName, kind + "-scatter.png"), data, 30);
                Assert.True(File.Exists(Path.Combine(dir.FullName, kind + "-scatter.png")));
                using (var four = x.SliceBatch(0, 4)) job.WriteDenoising(Path.Combine(dir.FullName, kind + "-denoise.png"), four, 0.3f);
                Assert.True(File.Exists(Path.Combine(dir.FullName, kind + "-denoise.png")));
                if (job is VaeJob vae)
                {
                    vae.Manifold(Path.Combine(dir.FullName, "manifold.png"), 5);
                    Assert.True(File.Exists(Path.Combine(dir.FullName, "manifold.png")));
                    Assert.True(double.IsFinite(eval.Elbo) && eval.Elbo < 0);
                    Assert.Equal(eval.Elbo, -(eval.ReconNll + eval.Kl), 6);
                    Assert.True(eval.Kl >= 0);
                }
                else
                {
                    Assert.True(double.IsFinite(eval.MeanActivation));
                    Assert.True(double.IsFinite(eval.DenoisingMse) && eval.DenoisingMse > 0);
                }
                Assert.Equal(offset, job.Rng.Offset);
                foreach (var (name, t) in job.Modules["decoder"].StateDict()) Assert.Equal(before[name], t.ToArray());
                var png = File.ReadAllBytes(path);
                Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);
                Assert.Equal(25, codes.Count);
                Assert.Equal(2, codes.Dim);
                Assert.Equal(data.Labels![..25], codes.Labels);
                Assert.Equal(40, eval.Count);
                Assert.Equal(eval.Mse / 4, eval.Mse01, 9);
            }
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void PicturesUseTheGanScaleAndNameTheirRows()
    {
        // 8x8 images: twice their size like the GAN samples (ImageGrid.ScaleFor), 8 a row, with a margin naming each row.
        var dir = Directory.CreateTempSubdirectory("ae-picture-style-");
        try
        {
            using var x = Tensor.FromArray(Images(Batch, 9), [Batch, .. Shape]);
            foreach (var (kind, labels) in new[] { ("undercomplete", new[] { "input", "reconstruction" }), ("vae", ["input", "reconstruction", "prior sample"]),
                         ("denoising", ["noisy", "restored", "clean"]) })
            {
                using var job = (AutoencoderJob)Create(Tiny(kind), Device.Cpu);
                job.Hold(x);
                var path = Path.Combine(dir.FullName, kind + ".png");
                job.WriteSamples(path);
                var png = StbImageSharp.ImageResult.FromMemory(File.ReadAllBytes(path), StbImageSharp.ColorComponents.Grey);
                int scale = Gan.Pictures.ImageGrid.ScaleFor(8), cell = 8 * scale + 2;
                Assert.Equal(2, scale);
                int margin = labels.Max(l => Gan.Pictures.BitmapFont.Measure(l).Width) + 6;
                Assert.Equal((margin + AutoencoderJob.HeldCount * cell + 2, labels.Length * cell + 2), (png.Width, png.Height));
                // Each row's name is inked in the margin beside it.
                for (int row = 0; row < labels.Length; row++)
                {
                    int top = 2 + row * cell, ink = 0;
                    for (int y = top; y < top + cell - 2; y++)
                        for (int px = 0; px < margin; px++)
                            if (png.Data[y * png.Width + px] == 0) ink++;
                    Assert.True(ink > 10, $"{kind}: no label beside row {row}");
                }
            }
        }
        finally { dir.Delete(recursive: true); }
    }

    [Fact]
    public void EvaluateMseEqualsTheReconstructionsError()
    {
        using var job = (AutoencoderJob)Create(Tiny("undercomplete", ("recon", "bce")), Device.Cpu);
        var values = Images(20, 13);
        var data = new Dataset("tiny", values, Shape, null, 0);
        using var x = Tensor.FromArray(values, [20, .. Shape]);
        using var r = job.Reconstruct(x);
        var rec = r.ToArray();
        Assert.All(rec, v => Assert.InRange(v, -1f, 1f)); // BCE logits mapped by tanh(l / 2)
        double expected = 0;
        for (int i = 0; i < rec.Length; i++) expected += (rec[i] - (double)values[i]) * (rec[i] - values[i]);
        expected /= rec.Length;
        var eval = job.Evaluate(data, batchSize: 7);
        Assert.Equal(expected, eval.Mse, 5);
    }

    [Theory]
    [InlineData("denoising", Batch * 64)]   // one noise value per pixel
    [InlineData("vae", Batch * 6)]          // one eps per code unit
    [InlineData("sparse", 0)]               // no randomness in the step
    public void StepsDrawTheirNoiseFromTheJobsStream(string kind, int perStep)
    {
        using var job = Create(Tiny(kind), Device.Cpu);
        using var x = Tensor.FromArray(Images(Batch, 4), [Batch, .. Shape]);
        var start = job.Rng.Offset;
        job.Step(new Batch(x, null, 0, 0), 0);
        job.Step(new Batch(x, null, 0, 1), 1);
        Assert.Equal(start + 2UL * (ulong)perStep, job.Rng.Offset);
    }

    [Fact]
    public void HelpersRefuseWhatTheyCannotDo()
    {
        using var vae = (VaeJob)Create(Tiny("vae"), Device.Cpu);
        var e = Assert.Throws<InvalidOperationException>(() => vae.Manifold("unused.png", 5));
        Assert.Contains("code 2", e.Message);
        var other = new Dataset("other", new float[2 * 16], [1, 4, 4], null, 0);
        Assert.Throws<ArgumentException>(() => vae.Evaluate(other));
        Assert.Throws<InvalidOperationException>(() => vae.WriteSamples("unused.png")); // nothing held yet

        // Vector data (shape [D]) has no pictures: WriteSamples writes nothing, the denoising picture refuses.
        using var points = (AutoencoderJob)Create(Tiny("denoising", ("data_shape", "8"), ("code", "2")), Device.Cpu);
        using var p = Tensor.FromArray(Numerics.Random(new Random(1), 4 * 8), [4, 8]);
        points.Step(new Batch(p, null, 0, 0), 0);
        var path = Path.Combine(Path.GetTempPath(), $"ae-none-{Guid.NewGuid():N}.png");
        points.WriteSamples(path);
        Assert.False(File.Exists(path));
        Assert.Throws<InvalidOperationException>(() => points.WriteDenoising(path, p));
    }

    [Fact]
    public void GenerateDecodesLatentsAndRefusesLabels()
    {
        using var job = (VaeJob)Create(Tiny("vae"), Device.Cpu);
        Assert.Equal(6, job.LatentSize);
        Assert.Equal(0, job.ClassCount);
        using var z = Tensor.FromArray(Numerics.Random(new Random(2), 3 * 6), [3, 6]);
        using var images = job.Generate(z);
        Assert.Equal([3, 1, 8, 8], images.Shape);
        Assert.Throws<ArgumentException>(() => job.Generate(z, [0, 1, 2]));
        using var wrong = Tensor.Zeros(Device.Cpu, 3, 5);
        Assert.Throws<TensorShapeException>(() => job.Generate(wrong));
        using var badBatch = Tensor.Zeros(Device.Cpu, 2, 1, 4, 4);
        var e = Assert.Throws<TensorShapeException>(() => job.Step(new Batch(badBatch, null, 0, 0), 0));
        Assert.Contains("[N, 1, 8, 8]", e.Message);
    }
}
