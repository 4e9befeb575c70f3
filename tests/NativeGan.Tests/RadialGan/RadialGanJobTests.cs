using NativeGan.Gan.Data;
using NativeGan.Gan.RadialGan;
using NativeGan.Gan.Tabular;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.RadialGan;

/// <summary>
/// RadialGAN's job: its networks' shapes follow each domain's feature set, a translation decodes to the target domain's
/// features, the cycle loss equals a float64 computation by hand from the weights, a step trains every network, and
/// the kind runs through the shared trainer (resume bit-identical) and the protocol.
/// </summary>
public class RadialGanJobTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-radialgan-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Three domains over 4 features: {0, 1}, {1, 2, 3}, {0, 2, 3}.</summary>
    static RadialGanJob ThreeDomains(Dictionary<string, string>? extra = null)
    {
        var settings = new Dictionary<string, string>
        {
            ["data_shape"] = "5", ["domains"] = "3", ["feature_mask"] = "1,1,0,0, 0,1,1,1, 1,0,1,1", ["hidden"] = "3", ["latent"] = "2", ["seed"] = "4",
        };
        foreach (var (k, v) in extra ?? []) settings[k] = v;
        return (RadialGanJob)ModelKinds.Create(RadialGanFamily.Name, settings, Device.Cpu);
    }

    [Fact]
    public void Each_domains_networks_take_and_give_its_own_features()
    {
        using var job = ThreeDomains();
        Assert.Equal([0, 1], job.FeaturesOf(0));
        Assert.Equal([1, 2, 3], job.FeaturesOf(1));
        Assert.Equal([0, 2, 3], job.FeaturesOf(2));
        for (int d = 0; d < 3; d++)
        {
            int width = job.FeaturesOf(d).Count;
            Assert.Equal([3, width + 1], ((Linear)job.Encoder(d)[0]).Weight.Shape);   // (x, y) in
            Assert.Equal([2, 3], ((Linear)job.Encoder(d)[2]).Weight.Shape);           // z out
            Assert.Equal([3, 2 + 1], ((Linear)job.Decoder(d)[0]).Weight.Shape);       // (z, y) in
            Assert.Equal([width, 3], ((Linear)job.Decoder(d)[2]).Weight.Shape);       // x_d out
            Assert.Equal([1, 3], ((Linear)job.Discriminator(d)[2]).Weight.Shape);
        }
        Assert.Equal(9, job.Modules.Count); // encoder, decoder and discriminator of each domain
        Assert.Equal(4, job.Optimizers.Count);
    }

    [Fact]
    public void A_translated_sample_has_the_target_domains_feature_set()
    {
        using var job = ThreeDomains();
        float[] x = [0.5f, -1f, 2f, 0.1f, 0.3f, -0.7f]; // two rows of domain 1's three features
        float[] y = [1f, 0f];
        for (int to = 0; to < 3; to++)
        {
            var translated = job.Translate(1, to, x, y, 2);
            Assert.Equal(2 * job.FeaturesOf(to).Count, translated.Length);
            Assert.All(translated, v => Assert.True(float.IsFinite(v)));
        }
        // In the protocol, the target's predictor takes the translated rows beside its own: same width.
        var table = TabularTests.Crafted();
        var split = table.Split(1);
        var options = (RadialGanOptions)ModelKinds.Find(RadialGanFamily.Name).Options(
            new DataFacts([table.Layout.FeatureCount + 1], 2) { Tabular = table.Layout }, new Dictionary<string, string>());
        using var crafted = new RadialGanJob(options, Device.Cpu);
        var source = split.Part(1, SplitPart.Train);
        var into0 = crafted.Translate(1, 0, source.X, source.Y, source.Count);
        Assert.Equal(source.Count * split.Part(0, SplitPart.Train).Width, into0.Length);
        Assert.Equal(table.Layout.FeaturesOf(0), crafted.FeaturesOf(0));
    }

    [Fact]
    public void The_cycle_loss_equals_a_hand_computation_from_the_weights()
    {
        using var job = ThreeDomains();
        // Two rows of domain 2 (features 0, 2, 3) and their labels.
        double[][] x = [[0.3, -1.2, 0.8], [1.1, 0.4, -0.5]];
        double[] y = [1, 0];
        // Every network as float64 host code: Linear, tanh, Linear on the concatenation of its input and y.
        double[] Net(Sequential net, double[] input, double label)
        {
            double[] Layer(Linear l, double[] v)
            {
                var w = l.Weight.ToArray();
                var b = l.Bias!.ToArray();
                int outs = l.Weight.Dim(0), ins = l.Weight.Dim(1);
                return [.. Enumerable.Range(0, outs).Select(o => b[o] + Enumerable.Range(0, ins).Sum(i => (double)w[o * ins + i] * v[i]))];
            }
            var hidden = Layer((Linear)net[0], [.. input, label]).Select(Math.Tanh).ToArray();
            return Layer((Linear)net[2], hidden);
        }
        double[] Translate(int from, int to, double[] v, double label) => Net(job.Decoder(to), Net(job.Encoder(from), v, label), label);
        double sum = 0;
        foreach (int j in new[] { 0, 1 })
        {
            double squares = 0;
            for (int r = 0; r < 2; r++)
            {
                var back = Translate(j, 2, Translate(2, j, x[r], y[r]), y[r]);
                squares += back.Select((v, k) => (v - x[r][k]) * (v - x[r][k])).Sum();
            }
            sum += squares / 6; // the MSE over 2 rows x 3 features
        }
        double expected = Math.Sqrt(sum / 2);

        using var scope = new TensorScope();
        using var xt = Tensor.FromArray([.. x.SelectMany(r => r.Select(v => (float)v))], [2, 3], Device.Cpu);
        using var yt = Tensor.FromArray([.. y.Select(v => (float)v)], [2, 1], Device.Cpu);
        Assert.Equal(expected, job.CycleLoss(2, xt, yt).Item(), 5);
        // Without domain 1 in the batch only the cycle through domain 0 counts.
        double only0 = 0;
        for (int r = 0; r < 2; r++)
            only0 += Translate(0, 2, Translate(2, 0, x[r], y[r]), y[r]).Select((v, k) => (v - x[r][k]) * (v - x[r][k])).Sum();
        Assert.Equal(Math.Sqrt(only0 / 6), job.CycleLoss(2, xt, yt, [true, false, true]).Item(), 5);
    }

    /// <summary>A batch of rows of every domain (union features, then y) with their domains as labels.</summary>
    static Batch MixedBatch(RadialGanJob job, int perDomain, int seed)
    {
        var random = new Random(seed);
        int width = 5, count = perDomain * 3;
        var data = new float[count * width];
        var domains = new int[count];
        for (int n = 0; n < count; n++)
        {
            domains[n] = n % 3;
            foreach (int f in job.FeaturesOf(domains[n])) data[n * width + f] = (float)(random.NextDouble() * 2 - 1);
            data[n * width + 4] = random.Next(2);
        }
        return new Batch(Tensor.FromArray(data, [count, width], Device.Cpu), domains, 0, 0);
    }

    [Theory]
    [InlineData("bce")]
    [InlineData("wgan-gp")]
    public void A_step_trains_every_network_and_logs_finite_losses(string loss)
    {
        using var job = ThreeDomains(new() { ["loss"] = loss });
        Assert.Equal(loss == "bce" ? 1 : 5, job.Options.CriticSteps);
        var before = job.Modules.ToDictionary(kv => kv.Key, kv => kv.Value.Parameters().SelectMany(p => p.ToArray()).ToArray());
        using var batch = MixedBatch(job, 6, 1);
        var log = job.Step(batch, 0);
        Assert.All(new[] { "loss_d", "loss_g", "cycle" }, key => Assert.True(float.IsFinite(log[key]), key));
        foreach (var (name, module) in job.Modules)
            Assert.NotEqual(before[name], module.Parameters().SelectMany(p => p.ToArray()).ToArray());
    }

    [Fact]
    public void Trains_through_the_shared_trainer_from_csv_files_and_resumes_bit_identically()
    {
        Directory.CreateDirectory(dir);
        var random = new Random(2);
        foreach (var (name, columns) in new[] { ("north", "a,b"), ("south", "b,c") })
        {
            var lines = new List<string> { columns + ",label" };
            for (int i = 0; i < 40; i++) lines.Add($"{random.NextDouble():0.000},{random.NextDouble():0.000},{i % 2}");
            File.WriteAllLines(Path.Combine(dir, name + ".csv"), lines);
        }
        string spec = $"csv:label:{Path.Combine(dir, "north.csv")},{Path.Combine(dir, "south.csv")}";
        var kind = ModelKinds.Find(RadialGanFamily.Name);
        float[][] Train(string outDir, long steps, bool resume)
        {
            var request = new TrainRequest { Kind = kind, OutDir = Path.Combine(dir, outDir), Data = spec, Seed = 3, Steps = steps, Batch = 16, Resume = resume, LatestEvery = 1e-9, CheckpointEvery = 100 };
            using var run = TrainingRun.Prepare(request, Device.Cpu, _ => { }, _ => { });
            Assert.Equal(TrainOutcome.Finished, run.Run(CancellationToken.None).Outcome);
            Assert.Equal([1, 1, 0, 0, 1, 1], ((RadialGanOptions)run.Job.Options).FeatureMask);
            return [.. run.Job.Modules.Values.SelectMany(m => m.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Value.ToArray()))];
        }
        var straight = Train("straight", 9, false);
        Train("resumed", 4, false);
        var resumed = Train("resumed", 9, true);
        Assert.Equal(straight.Length, resumed.Length);
        for (int i = 0; i < straight.Length; i++) Assert.Equal(straight[i], resumed[i]);
        Assert.True(File.Exists(Path.Combine(dir, "resumed", Trainer.SamplesFolder, "latest.png")));
    }

    [Fact]
    public void Data_with_other_domains_or_feature_sets_is_refused_before_training()
    {
        var table = TabularTests.Crafted();
        var data = table.Split(1).TrainDataset();
        var kind = ModelKinds.Find(RadialGanFamily.Name);
        var options = kind.Options(new DataFacts(data.SampleShape, data.ClassCount) { Tabular = data.Tabular }, new Dictionary<string, string>());
        options.CheckData("train radialgan", data); // its own table: fine
        var other = options with { };
        other = (RadialGanOptions)OptionsBinder.Bind(other, new Dictionary<string, string> { ["feature_mask"] = "1,1,1,1,1,1,1,1" }, "radialgan");
        var e = Assert.Throws<ArgumentException>(() => other.CheckData("--resume", data));
        Assert.Contains("feature_mask", e.Message);
        var points = new Dataset("ring8", new float[10], [5], null, 0);
        e = Assert.Throws<ArgumentException>(() => options.CheckData("train radialgan", points));
        Assert.Contains("table of several domains", e.Message);
    }

    [Fact]
    public void The_protocol_scores_every_predictor_on_every_target()
    {
        var table = TabularTests.Crafted();
        Augmentation[] sweep = [Augmentation.Reference, new() { Weight = 0.5f, Ratio = 1, Ranking = TranslationRanking.Discriminator }];
        var result = RadialGanProtocol.Run(table, new ProtocolSettings { Repetitions = 2, Steps = 5, Batch = 32, LogisticSteps = 50, Sweep = sweep }, Device.Cpu);
        Assert.Equal(2 * 2 * 5, result.Scores.Count); // 2 repetitions x 2 targets x 5 predictors
        // The sweep: target only and each augmentation, per repetition and target; the reference's equals the RadialGAN predictor.
        Assert.Equal(2 * 2 * 3, result.Variants.Count);
        foreach (var s in result.Variants.Where(v => v.Variant <= 0))
            Assert.Equal(result.Scores.Single(p => p.Repetition == s.Repetition && p.Domain == s.Domain && p.Predictor == (s.Variant == 0 ? Predictor.RadialGan : Predictor.TargetOnly)).Auroc, s.TestAuroc);
        Assert.Equal(result.Gain(1, Predictor.RadialGan).Mean, result.VariantGain(1, 0, validation: false).Mean, 12);
        Assert.All(result.Scores, s => Assert.InRange(s.Auroc, 0, 1));
        var gain = result.Gain(0, Predictor.RadialGan);
        var by = result.Scores.Where(s => s.Domain == 0).ToLookup(s => (s.Repetition, s.Predictor));
        Assert.Equal(new[] { 0, 1 }.Average(r => by[(r, Predictor.RadialGan)].Single().Auroc - by[(r, Predictor.TargetOnly)].Single().Auroc), gain.Mean, 12);
        // The small-target setting: one RadialGAN per target, every target still scored.
        // The small-target setting with the cycle-GAN pairs and the trainer's batches: each target also scored with the pairs' rows.
        var small = RadialGanProtocol.Run(table, new ProtocolSettings { Repetitions = 1, Steps = 3, Batch = 32, LogisticSteps = 20, TargetRows = 8, Batching = Batching.Shuffled, CycleGan = true }, Device.Cpu);
        Assert.Equal(2 * 6, small.Scores.Count);
        Assert.Equal(2, small.Scores.Count(s => s.Predictor == Predictor.CycleGan));
        // Pooling uses the shared features only: a, c=u, c=v.
        Assert.Equal(3, table.Layout.SharedFeatures.Length);
    }

    [Fact]
    public void A_cycle_gan_pair_is_a_two_domain_job_whose_translations_have_the_targets_features()
    {
        var split = TabularTests.Crafted().Split(2);
        var data = split.TrainDataset();
        var options = (RadialGanOptions)ModelKinds.Find(RadialGanFamily.Name).Options(
            new DataFacts(data.SampleShape, data.ClassCount) { Tabular = data.Tabular }, new Dictionary<string, string>()) with { Seed = 2 };
        using var pairs = CycleGanPairs.Train(data, options, [1], new ProtocolSettings { Steps = 2, Batch = 16 }, Device.Cpu);
        var pair = pairs.Pair(1, 0);
        Assert.Equal(2, pair.DomainCount);
        Assert.Equal(split.Layout.FeaturesOf(0), pair.FeaturesOf(0));
        Assert.Equal(split.Layout.FeaturesOf(1), pair.FeaturesOf(1));
        // Into target 1: domain 0's training rows on domain 1's four features, with their labels, each judged by the pair's D_1.
        var (rows, judged) = pairs.Translated(split, 1);
        var source = split.Part(0, SplitPart.Train);
        Assert.Equal(source.Count, rows.Count);
        Assert.Equal(split.Part(1, SplitPart.Train).Width, rows.Width);
        Assert.Equal(source.Count * rows.Width, rows.X.Length);
        Assert.Equal(source.Y, rows.Y);
        Assert.Equal(pair.DiscriminatorLogits(1, rows.X, rows.Y, rows.Count), judged);
    }
}
