using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// The GAN family's training jobs at tiny sizes on the cpu device: every kind steps and logs finite numbers;
/// with one network frozen (learning rate 0) the other's loss falls on a fixed batch; weight clipping bounds
/// the critic; the WGAN-GP penalty equals its hand computation on a linear critic; sampling and pictures work.
/// </summary>
public class GanJobTests
{
    static readonly Device Cpu = Device.Cpu;

    /// <summary>A small config: 2 hidden layers of 16 units (maxout with 3 pieces in D), batch 32, no dropout.</summary>
    static Dictionary<string, string> Small(string kind, Dictionary<string, string>? extra = null, int[]? shape = null)
    {
        var c = new Dictionary<string, string>(TestJobs.Settings(kind, shape ?? [2], kind == "cgan" ? 3 : 0))
        {
            ["g_widths"] = "16,16",
            ["d_widths"] = "16,16",
            ["d_pieces"] = "3",
            ["dropout"] = "0",
            ["latent"] = "4",
            ["seed"] = "7",
        };
        if (extra is not null) foreach (var (k, v) in extra) c[k] = v;
        return c;
    }

    static GanJob Make(string kind, Dictionary<string, string> config)
    {
        return (GanJob)ModelKinds.Create(kind, config, Cpu);
    }

    /// <summary>Ring-like points: 4 clusters, labels = cluster index.</summary>
    static Batch PointBatch(int n, int seed = 1, int classes = 4)
    {
        var rng = new Random(seed);
        var data = new float[2 * n];
        var labels = new int[n];
        for (int i = 0; i < n; i++)
        {
            int k = i % classes;
            labels[i] = k;
            data[2 * i] = MathF.Cos(2 * MathF.PI * k / classes) + 0.05f * (rng.NextSingle() - 0.5f);
            data[2 * i + 1] = MathF.Sin(2 * MathF.PI * k / classes) + 0.05f * (rng.NextSingle() - 0.5f);
        }
        return new Batch(Tensor.FromArray(data, [n, 2], Cpu), labels, 0, 0);
    }

    static List<IReadOnlyDictionary<string, float>> Run(GanJob job, int steps, int batch, int seed = 1)
    {
        var logs = new List<IReadOnlyDictionary<string, float>>();
        for (int s = 0; s < steps; s++)
        {
            using var b = PointBatch(batch, seed, job.ClassCount > 0 ? job.ClassCount : 4);
            logs.Add(job.Step(b, s));
        }
        return logs;
    }

    [Fact]
    public void AFrozenGeneratorNormKeepsItsStatisticsWhileItsWeightsTrain()
    {
        // g_bn_frozen: G's BatchNorms normalise with their running statistics in training, as sampling does, so the
        // statistics stay where they are (the default moves them every step) while every weight of G still trains.
        static Dictionary<string, float[]> Snapshot(Module m, bool buffers) =>
            (buffers ? m.NamedBuffers() : m.NamedParameters()).ToDictionary(p => p.Name, p => p.Tensor.ToArray());
        foreach (bool frozen in new[] { false, true })
        {
            using var job = Make("gan", Small("gan", new() { ["g_bn_frozen"] = frozen ? "true" : "false", ["g_ema"] = "0" }));
            Assert.Equal(!frozen, job.Generator.Training);
            var buffers = Snapshot(job.Generator, buffers: true);
            var weights = Snapshot(job.Generator, buffers: false);
            Assert.Equal(6, buffers.Count); // two BatchNorms: running mean, running variance, batches counted
            Run(job, 3, 24);
            foreach (var (name, before) in buffers)
            {
                var after = job.Generator.NamedBuffers().Single(b => b.Name == name).Tensor.ToArray();
                if (frozen) Assert.Equal(before, after);
                else Assert.NotEqual(before, after);
            }
            foreach (var (name, before) in weights)
                Assert.NotEqual(before, job.Generator.NamedParameters().Single(p => p.Name == name).Tensor.ToArray());
            // Sampling leaves the mode as it found it.
            using (var z = Tensor.FromArray(new float[8], [2, 4], Cpu)) job.Generate(z).Dispose();
            Assert.Equal(!frozen, job.Generator.Training);
        }
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    [InlineData("wgan")]
    [InlineData("wgan-gp")]
    public void EveryKindStepsAndLogsFiniteNumbers(string kind)
    {
        using var job = Make(kind, Small(kind, new() { ["mbstd"] = "true", ["minibatch_disc"] = "true", ["mbd_kernels"] = "4", ["mbd_dims"] = "3" }));
        Assert.Equal(kind, job.Kind);
        int perStep = job.BatchesPerStep * 8;
        var logs = Run(job, 3, perStep);
        string[] expected = kind switch
        {
            "gan" or "cgan" => ["loss_d", "loss_g", "grad_norm_g", "d_real", "d_fake"],
            "wgan" => ["loss_d", "loss_g", "grad_norm_g", "wasserstein"],
            _ => ["loss_d", "loss_g", "grad_norm_g", "wasserstein", "gp"],
        };
        foreach (var log in logs)
        {
            Assert.Equal(expected.Order(), log.Keys.Order());
            Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
        }
        Assert.True(logs[^1]["grad_norm_g"] > 0);
    }

    [Theory]
    [InlineData("gan", 0.05)]
    [InlineData("wgan", 0.01)] // clipped weights keep the critic's scores, and so its loss, small
    [InlineData("wgan-gp", 0.05)]
    public void CriticLossFallsWhileTheGeneratorIsFrozen(string kind, double margin)
    {
        // G frozen (lr 0): D faces the same fake distribution every step and the same real batch, so its loss must fall.
        using var job = Make(kind, Small(kind, new() { ["lr_g"] = "0", ["lr_d"] = "0.002", ["n_critic"] = "1", ["batches_per_step"] = "1", ["clip"] = kind == "wgan" ? "0.05" : "0" }));
        var logs = Run(job, 40, 32);
        double first = logs.Take(5).Average(l => l["loss_d"]), last = logs.TakeLast(5).Average(l => l["loss_d"]);
        Assert.True(last < first - margin, $"{kind}: loss_d went from {first:F4} to {last:F4}");
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    public void GeneratorLossFallsWhileTheCriticIsFrozen(string kind)
    {
        using var job = Make(kind, Small(kind, new() { ["lr_d"] = "0", ["lr_g"] = "0.01", ["n_critic"] = "1", ["batches_per_step"] = "1" }));
        var logs = Run(job, 30, 32);
        double first = logs.Take(5).Average(l => l["loss_g"]), last = logs.TakeLast(5).Average(l => l["loss_g"]);
        Assert.True(last < first - 0.02, $"{kind}: loss_g went from {first:F4} to {last:F4}");
    }

    [Fact]
    public void WeightClippingKeepsEveryCriticWeightInBounds()
    {
        using var job = Make("wgan", Small("wgan", new() { ["lr_d"] = "0.01" })); // a large step, so clipping has work to do
        Assert.Equal(0.01f, job.DiscriminatorOptimizer.ClipValue);
        Run(job, 2, 40);
        var all = job.Discriminator.Parameters().SelectMany(p => p.ToArray()).ToArray();
        Assert.All(all, w => Assert.InRange(w, -0.01f, 0.01f));
        Assert.Contains(all, w => MathF.Abs(w) == 0.01f); // some weights sit on the bound
    }

    [Fact]
    public void PenaltyOfALinearCriticEqualsTheHandComputation()
    {
        // With no hidden layer, D(x) = w · x + b: its input gradient is w at every point, so the penalty is
        // lambda (||w|| - 1)² whatever the interpolation, and its gradient in w is 2 lambda (||w|| - 1) w / ||w||.
        using var job = Make("wgan-gp", Small("wgan-gp", new() { ["d_widths"] = "" }));
        var linear = Assert.IsType<Linear>(job.Discriminator[0]);
        Assert.Equal(1, job.Discriminator.Count);
        var w = linear.Weight.ToArray();
        double norm = Math.Sqrt(w.Sum(v => (double)v * v));
        using var scope = new TensorScope();
        using var b = PointBatch(6);
        using var fake = Tensor.FromArray(Numerics.Random(new Random(3), 12), [6, 2], Cpu);
        var penalty = Losses.GradientPenalty(x => job.Discriminator.Forward(x), b.Samples, fake, new Rng(1), 10f);
        Assert.Equal(10 * (norm - 1) * (norm - 1), penalty.Item(), 5);
        job.Discriminator.ZeroGrad();
        penalty.Backward();
        var g = linear.Weight.Grad!.ToArray();
        for (int i = 0; i < w.Length; i++) Assert.Equal(2 * 10 * (norm - 1) * w[i] / norm, g[i], 4);
    }

    /// <summary>(gamma / 2) mean_n ||dD(x_n)/dx_n||^2 by central differences in float64 on D's logits (D's input gradient
    /// by perturbing one coordinate of every sample at once: D without minibatch layers scores each sample alone).</summary>
    static double R1ByFiniteDifferences(Sequential discriminator, float[] points, int n, double gamma)
    {
        const float eps = 1e-3f;
        double[] Logits(float[] x)
        {
            using var t = Tensor.FromArray(x, [n, 2], Cpu);
            using (Autograd.NoGrad())
            using (var y = discriminator.Forward(t)) return [.. y.ToArray().Select(v => (double)v)];
        }
        var squared = new double[n];
        for (int axis = 0; axis < 2; axis++)
        {
            float[] plus = (float[])points.Clone(), minus = (float[])points.Clone();
            for (int i = 0; i < n; i++) { plus[2 * i + axis] += eps; minus[2 * i + axis] -= eps; }
            double[] up = Logits(plus), down = Logits(minus);
            for (int i = 0; i < n; i++)
            {
                // the step actually taken in float32, not the nominal eps
                double h = (double)plus[2 * i + axis] - minus[2 * i + axis];
                double d = (up[i] - down[i]) / h;
                squared[i] += d * d;
            }
        }
        return gamma / 2 * squared.Average();
    }

    [Fact]
    public void R1PenaltyEqualsFiniteDifferencesOfTheDiscriminatorAndIsLazyEveryKSteps()
    {
        // gan with r1_gamma 0.7 applied every 3rd step (weighted 3x): the logged penalty is (3 * 0.7 / 2) mean ||dD/dx||^2
        // at the step's real batch, for the D of that moment; steps 1, 2 and 4 carry no penalty.
        const double gamma = 0.7;
        using var job = Make("gan", Small("gan", new() { ["r1_gamma"] = "0.7", ["r1_every"] = "3", ["lr_d"] = "0.01" }));
        for (int step = 0; step < 5; step++)
        {
            using var b = PointBatch(13, seed: 20 + step);
            double expected = R1ByFiniteDifferences(job.Discriminator, b.Samples.ToArray(), 13, 3 * gamma);
            var log = job.Step(b, step);
            if (step % 3 != 0) { Assert.False(log.ContainsKey("r1"), $"step {step} logged r1"); continue; }
            Assert.True(expected > 1e-4, $"step {step}: the reference penalty {expected} is too small to test anything");
            Assert.Equal(1.0, log["r1"] / expected, 3);
        }
        // Only the penalty's gradient differs between a run with it and one without: D ends up elsewhere.
        float[] FinalD(string r1Gamma)
        {
            using var j = Make("gan", Small("gan", new() { ["r1_gamma"] = r1Gamma, ["lr_d"] = "0.01" }));
            Run(j, 2, 13);
            return j.Discriminator.Parameters().First().ToArray();
        }
        Assert.NotEqual(FinalD("0"), FinalD("0.7"));
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    public void R1FlattensTheDiscriminatorOnRealData(string kind)
    {
        // D alone (G frozen) at a large rate grows steep at the data; R1 with gamma 10 keeps its input gradient there far
        // smaller. gan: D's slope by finite differences; cgan (whose D also reads the labels): the logged penalty / (gamma / 2),
        // "without" being gamma 1e-6, too weak to act. Measured: 183 vs 0.0012 (gan).
        double Slope(string gamma)
        {
            using var job = Make(kind, Small(kind, new() { ["r1_gamma"] = gamma, ["lr_g"] = "0", ["lr_d"] = "0.01", ["seed"] = "11" }));
            var logs = Run(job, 150, 32);
            Assert.All(logs, l => Assert.Equal(gamma != "0", l.ContainsKey("r1")));
            if (kind == "cgan") return logs.TakeLast(10).Average(l => l["r1"]) / (double.Parse(gamma) / 2);
            using var b = PointBatch(32);
            return R1ByFiniteDifferences(job.Discriminator, b.Samples.ToArray(), 32, 2.0);
        }
        double plain = Slope(kind == "cgan" ? "1e-6" : "0"), withR1 = Slope("10");
        Assert.True(withR1 < plain / 10, $"{kind}: mean ||dD/dx||^2 on real data {withR1} with R1 vs {plain} without");
        foreach (var (key, bad) in new[] { ("r1_gamma", "-1"), ("r1_every", "0") })
        {
            var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create(kind, Small(kind, new() { [key] = bad }), Cpu));
            Assert.Contains($"{kind}: setting '{key}' must be", e.Message);
        }
    }

    [Fact]
    public void SaturatingLossGivesTheGeneratorSmallerGradientsAgainstAConfidentDiscriminator()
    {
        // Train D alone until it rejects G's (frozen) fakes confidently, then compare one G step under each loss.
        float GradNorm(string gLoss)
        {
            using var job = Make("gan", Small("gan", new() { ["g_loss"] = gLoss, ["lr_g"] = "0", ["lr_d"] = "0.01", ["seed"] = "11" }));
            var logs = Run(job, 80, 32);
            Assert.True(logs[^1]["d_fake"] < 0.1f, $"D did not become confident: d_fake {logs[^1]["d_fake"]}");
            return logs[^1]["grad_norm_g"];
        }
        float saturating = GradNorm("saturating"), nonSaturating = GradNorm("non-saturating");
        // Measured (seed 11, d_fake 0.025): 3.4 vs 14.4.
        Assert.True(saturating < nonSaturating / 3, $"saturating {saturating} vs non-saturating {nonSaturating}");
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    public void OneSidedLabelSmoothingCapsTheDiscriminatorsConfidenceOnRealData(string kind)
    {
        // D alone (G frozen) until it separates real from fake: with target 1 its belief in the real samples goes on
        // rising; with real_label 0.9 the optimum is 0.9, and the fakes' target stays 0.
        float[] Trained(string realLabel)
        {
            using var job = Make(kind, Small(kind, new() { ["real_label"] = realLabel, ["lr_g"] = "0", ["lr_d"] = "0.01", ["seed"] = "11" }));
            var last = Run(job, 150, 32)[^1];
            return [last["d_real"], last["d_fake"]];
        }
        var plain = Trained("1");
        var smoothed = Trained("0.9");
        Assert.True(plain[0] > 0.95f, $"{kind} target 1: d_real {plain[0]}");
        Assert.InRange(smoothed[0], 0.8f, 0.93f);
        Assert.True(smoothed[1] < 0.15f, $"{kind} real_label 0.9: d_fake {smoothed[1]} (fakes keep target 0)");

        var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create(kind, Small(kind, new() { ["real_label"] = "0.3" }), Cpu));
        Assert.Contains($"{kind}: setting 'real_label' must be a number in [0.5, 1], got '0.3'", e.Message);
    }

    [Fact]
    public void SameSeedSameRun()
    {
        float[] Final()
        {
            using var job = Make("wgan-gp", Small("wgan-gp"));
            Run(job, 2, 40);
            return job.Generator.Parameters().First().ToArray();
        }
        Assert.Equal(Final(), Final());
    }

    [Fact]
    public void CriticSliceSplitUsesEveryRealSample()
    {
        using var job = Make("wgan", Small("wgan"));
        Assert.Equal(5, job.Options.CriticSteps);
        Assert.Equal(5, job.BatchesPerStep); // one batch per critic update
        Assert.Equal("", job.Settings()["batches_per_step"]);
        Run(job, 1, 7); // 7 samples cannot split into 5 slices: the batch is reused whole, and the step still runs
    }

    [Fact]
    public void ConditionalGenerateAndPictures()
    {
        using var job = Make("cgan", Small("cgan"));
        Assert.Equal(3, job.ClassCount);
        Run(job, 2, 12);
        using var z = Tensor.Zeros(Cpu, 5, 4);
        using var x = job.Generate(z, [0, 1, 2, 0, 1]);
        Assert.Equal([5, 2], x.Shape);
        var ex = Assert.Throws<ArgumentException>(() => job.Generate(z));
        Assert.Contains("cgan", ex.Message);
        var dir = Directory.CreateTempSubdirectory("gans");
        try
        {
            ulong offset = job.Rng.Offset;
            job.WriteSamples(Path.Combine(dir.FullName, "scatter.png"));
            Assert.Equal(offset, job.Rng.Offset); // pictures do not touch the training stream
            Assert.True(new FileInfo(Path.Combine(dir.FullName, "scatter.png")).Length > 100);
        }
        finally { dir.Delete(true); }
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    [InlineData("wgan-gp")]
    public void ImageKindsStepAndDrawGrids(string kind)
    {
        var config = Small(kind, new() { ["g_widths"] = "8", ["d_widths"] = "8", ["d_pieces"] = "1", ["mbstd"] = "true" }, shape: [1, 4, 4]);
        using var job = Make(kind, config);
        int n = job.BatchesPerStep * 4;
        var rng = new Random(1);
        using var batch = new Batch(Tensor.FromArray(Numerics.Random(rng, n * 16), [n, 1, 4, 4], Cpu),
            Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 0, 0);
        var log = job.Step(batch, 0);
        Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
        using var z = Tensor.Zeros(Cpu, 2, job.LatentSize);
        using var x = job.Generate(z, job.ClassCount > 0 ? [0, 2] : null);
        Assert.Equal([2, 1, 4, 4], x.Shape);
        Assert.All(x.ToArray(), v => Assert.InRange(v, -1f, 1f));
        var path = Path.Combine(Path.GetTempPath(), $"gans-{kind}-{Environment.ProcessId}.png");
        try
        {
            job.WriteSamples(path);
            Assert.True(File.Exists(path));
        }
        finally { File.Delete(path); }
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("cgan")]
    [InlineData("wgan")]
    [InlineData("wgan-gp")]
    public void ConvKindsUseTheDcganNetworks(string kind)
    {
        var config = Small(kind, new() { ["g_width"] = "4", ["d_width"] = "4", ["latent"] = "3", ["mbstd"] = "true",
            ["minibatch_disc"] = "true", ["mbd_kernels"] = "3", ["mbd_dims"] = "2" }, shape: [1, 8, 8]);
        using var job = Make(kind, config);
        Assert.True(job.Options.IsConv);
        Assert.Contains(job.Discriminator.NamedParameters(), p => p.Name.EndsWith(".T", StringComparison.Ordinal));
        int n = job.BatchesPerStep * 4;
        using var batch = new Batch(Tensor.FromArray(Numerics.Random(new Random(2), n * 64), [n, 1, 8, 8], Cpu),
            Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 0, 0);
        var log = job.Step(batch, 0);
        Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
        using var z = Tensor.Zeros(Cpu, 3, 3);
        using var x = job.Generate(z, job.ClassCount > 0 ? [0, 1, 2] : null);
        Assert.Equal([3, 1, 8, 8], x.Shape);
        var path = Path.Combine(Path.GetTempPath(), $"gans-conv-{kind}-{Environment.ProcessId}.png");
        try { job.WriteSamples(path); Assert.True(File.Exists(path)); }
        finally { File.Delete(path); }
    }

    /// <summary>
    /// The GPU kernels' path (ILGPU's CPU accelerator) gives the cpu device's numbers: the same seed draws the same
    /// Philox noise on every device, so two steps of a kind with every optional layer log the same losses.
    /// </summary>
    [Theory]
    [InlineData("cgan")]
    [InlineData("wgan-gp")]
    public void IlgpuStepsMatchTheCpuDevice(string kind)
    {
        var config = Small(kind, new() { ["g_widths"] = "5", ["d_widths"] = "6", ["d_pieces"] = "3", ["latent"] = "3", ["mbstd"] = "true",
            ["minibatch_disc"] = "true", ["mbd_kernels"] = "2", ["mbd_dims"] = "2", ["n_critic"] = "2", ["batches_per_step"] = "2",
            ["dropout"] = "0" });
        List<IReadOnlyDictionary<string, float>> RunOn(Device d)
        {
            using var job = (GanJob)ModelKinds.Create(kind, config, d);
            var logs = new List<IReadOnlyDictionary<string, float>>();
            for (int s = 0; s < 2; s++)
            {
                using var host = PointBatch(8, s, job.ClassCount > 0 ? job.ClassCount : 4);
                using var b = new Batch(host.Samples.To(d), host.Labels, 0, s);
                logs.Add(job.Step(b, s));
            }
            return logs;
        }
        var cpu = RunOn(Cpu);
        var gpu = RunOn(TestDevices.Get("ilgpu-cpu"));
        for (int s = 0; s < cpu.Count; s++)
            foreach (var (name, v) in cpu[s])
                Assert.True(Math.Abs(gpu[s][name] - v) <= 1e-4 + 1e-3 * Math.Abs(v), $"{kind} step {s} {name}: cpu {v}, ilgpu-cpu {gpu[s][name]}");
    }

    /// <summary>
    /// PacGAN's packing: D scores m consecutive samples at once, as one input made of the m samples side by side (points
    /// or flattened images) or with their channels stacked (conv): checked against packs assembled by hand on the host.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void PackingScoresConsecutiveSamplesSideBySide(bool images)
    {
        int[] shape = images ? [2, 8, 8] : [2];
        var extra = new Dictionary<string, string> { ["pack"] = "3", ["g_width"] = "4", ["d_width"] = "4", ["d_norm"] = "none" };
        using var job = Make("gan", Small("gan", extra, shape));
        Assert.Equal(images, job.Options.IsConv);
        int per = shape.Aggregate(1, (a, b) => a * b), n = 6;
        var host = Numerics.Random(new Random(4), n * per);
        using var samples = Tensor.FromArray(host, [n, .. shape], Cpu);
        // By hand: pack r is samples 3r, 3r + 1, 3r + 2, one after another (the first sample's values, or its
        // channels, first).
        var byHand = new float[host.Length];
        for (int r = 0; r < n / 3; r++)
            for (int k = 0; k < 3; k++)
                Array.Copy(host, (3 * r + k) * per, byHand, r * 3 * per + k * per, per);
        using var packs = Tensor.FromArray(byHand, images ? [n / 3, 6, 8, 8] : [n / 3, 6], Cpu);
        using var packed = job.Packed(samples);
        Assert.Equal(packs.Shape, packed.Shape);
        job.Discriminator.Eval();
        using var expected = job.Discriminator.Forward(packs);
        using var actual = job.Discriminator.Forward(packed);
        Assert.Equal(2, expected.Dim(0));
        Assert.Equal(expected.ToArray(), actual.ToArray());
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan")]
    [InlineData("wgan-gp")]
    public void PackedKindsStepAndRefuseBatchesThatDoNotSplitIntoPacks(string kind)
    {
        using var job = Make(kind, Small(kind, new() { ["pack"] = "4", ["minibatch_disc"] = "true", ["mbd_kernels"] = "3", ["mbd_dims"] = "2" }));
        Assert.Equal(4, job.Options.Pack);
        int updates = job.BatchesPerStep;
        foreach (var log in Run(job, 3, updates * 8))
            Assert.All(log.Values, v => Assert.True(float.IsFinite(v)));
        var e = Assert.Throws<TensorShapeException>(() => Run(job, 1, updates * 10));
        Assert.Contains($"{kind}: pack 4", e.Message);
        Assert.Contains("got 10 samples", e.Message);

        var zero = Assert.Throws<ArgumentException>(() => ModelKinds.Create(kind, Small(kind, new() { ["pack"] = "0" }), Cpu));
        Assert.Contains("setting 'pack' must be an integer >= 1, got '0'", zero.Message);
        var conditional = Assert.Throws<ArgumentException>(() => ModelKinds.Create("cgan", Small("cgan", new() { ["pack"] = "2" }), Cpu));
        Assert.Contains("unconditional", conditional.Message);
    }

    /// <summary>
    /// init_std = s draws every weight matrix of the MLP networks (G, D, the minibatch-discrimination tensor) from
    /// N(0, s) and zeroes every bias; BatchNorm's scales keep 1. init_std 0 (the default) keeps the layers' own
    /// uniform initialisation, unchanged from before the option existed. A negative value is refused.
    /// </summary>
    [Fact]
    public void InitStdDrawsEveryWeightMatrixFromANormalAndZeroesTheBiases()
    {
        var wide = new Dictionary<string, string> { ["g_widths"] = "64,48", ["d_widths"] = "40,56", ["minibatch_disc"] = "true" };
        using var normal = Make("gan", Small("gan", new(wide) { ["init_std"] = "0.3" }));
        using var own = Make("gan", Small("gan", wide));
        int matrices = 0, biases = 0, scales = 0;
        foreach (var net in new[] { (Module)normal.Generator, normal.Discriminator })
            foreach (var (name, p) in net.NamedParameters())
            {
                var v = p.ToArray();
                if (p.Rank >= 2)
                {
                    // The sample std of >= 100 N(0, 0.3) draws lies within 0.3 * (1 +- 0.35) with overwhelming odds.
                    double mean = v.Average(x => (double)x), sd = Math.Sqrt(v.Average(x => (double)x * x) - mean * mean);
                    Assert.True(Math.Abs(sd - 0.3) < 0.105 && Math.Abs(mean) < 0.1, $"{name}: mean {mean}, sd {sd} over {v.Length}");
                    matrices++;
                }
                else if (name.EndsWith("bias", StringComparison.Ordinal)) { Assert.All(v, x => Assert.Equal(0f, x)); biases++; }
                else { Assert.All(v, x => Assert.Equal(1f, x)); scales++; }
            }
        // Matrices: G's 3 Linear, D's 2 maxout, the mbd tensor and D's Linear. Biases: those 3 + 3 and G's 2 BatchNorm
        // shifts (the mbd layer has none). Scales: G's 2 BatchNorm scales.
        Assert.Equal((7, 8, 2), (matrices, biases, scales));

        // The default leaves the layers' own draw: G's first layer (fan-in 4) is uniform within +-1/2, biases nonzero.
        var first = own.Generator.NamedParameters().First();
        Assert.Equal(2, first.Tensor.Rank);
        Assert.All(first.Tensor.ToArray(), x => Assert.InRange(x, -0.5f, 0.5f));
        Assert.Contains(own.Generator.NamedParameters(), p => p.Name.EndsWith("bias", StringComparison.Ordinal) && p.Tensor.ToArray().Any(x => x != 0));

        var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create("gan", Small("gan", new() { ["init_std"] = "-0.1" }), Cpu));
        Assert.Contains("setting 'init_std' must be a number >= 0, got '-0.1'", e.Message);
    }

    [Fact]
    public void OnlyTheConditionalKindTakesClasses()
    {
        Assert.DoesNotContain("classes", TestJobs.Settings("gan", [2]).Keys);
        Assert.Equal("10", TestJobs.Settings("cgan", [2])["classes"]);
        var e = Assert.Throws<ArgumentException>(() => Make("wgan-gp", Small("wgan-gp", new() { ["classes"] = "10" })));
        Assert.Contains("wgan-gp: unknown setting 'classes'", e.Message);
        using var job = Make("wgan-gp", Small("wgan-gp"));
        Assert.Equal(0, job.ClassCount);
        using var b = PointBatch(10);
        job.Step(b, 0); // labelled data, unconditional model: the labels are ignored
    }

    [Fact]
    public void BadConfigAndBatchesAreNamed()
    {
        var e = Assert.Throws<ArgumentException>(() => ModelKinds.Create("gan", Small("gan", new() { ["g_loss"] = "bogus" }), Cpu));
        Assert.Contains("g_loss", e.Message);
        using var job = Make("gan", Small("gan"));
        using var wrong = new Batch(Tensor.Zeros(Cpu, 4, 3), null, 0, 0);
        var se = Assert.Throws<TensorShapeException>(() => job.Step(wrong, 0));
        Assert.Contains("[4, 3]", se.Message);
    }
}
