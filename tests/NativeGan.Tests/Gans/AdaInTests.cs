using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Style;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// AdaIN style transfer (src/Gan/Style): the op's α = 0 end and its statistics against float64, the style loss by hand
/// (its gradients of both orders against float64 finite differences are OpGradTests' "AdaInStyleLoss" and "AdaIN content
/// and style"), colour matching, the decoder's shapes, a resumed training bit-identical to an uninterrupted one, and the
/// command line end to end with its errors. The encoder is the small PyTorch export of the ONNX reader's tests (5 channels
/// at full size, 7 at a quarter), so every test runs in seconds without ResNet-18.
/// </summary>
public sealed class AdaInTests : IDisposable
{
    readonly string dir = Path.Combine(Path.GetTempPath(), "nativegan-adain-" + Guid.NewGuid().ToString("N"));

    public AdaInTests() => Directory.CreateDirectory(dir);

    public void Dispose()
    {
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        GC.SuppressFinalize(this);
    }

    static string SmallEncoder => Path.Combine(AppContext.BaseDirectory, "TestData", "onnx", "torch-small.onnx");
    const string Deep = "/LeakyRelu_output_0", Shallow = "/Relu_output_0";

    static AdaInOptions SmallOptions(ulong seed = 3) => new()
    {
        DataShape = [3, 24, 24], Seed = seed, Encoder = SmallEncoder, ContentLayer = Deep, StyleLayers = $"{Shallow},{Deep}",
        LoadSize = 24, Crop = 16, Width = 8, LearningRate = 1e-3f,
    };

    /// <summary>Pictures [count, 3, 24, 24] in [-1, 1]: blobs and stripes of a few colours, different per seed.</summary>
    static Dataset Pictures(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * 3 * 24 * 24];
        for (int n = 0; n < count; n++)
        {
            double cx = rng.Next(6, 18), cy = rng.Next(6, 18), period = rng.Next(2, 6);
            var colour = new[] { rng.NextDouble(), rng.NextDouble(), rng.NextDouble() };
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 24; y++)
                    for (int x = 0; x < 24; x++)
                    {
                        bool blob = (x - cx) * (x - cx) + (y - cy) * (y - cy) < 30, stripe = (int)((x + y) / period) % 2 == 0;
                        data[((n * 3 + c) * 24 + y) * 24 + x] = (float)(blob ? colour[c] : stripe ? -0.6 + 0.3 * c : 0.2 * colour[2 - c]);
                    }
        }
        return new Dataset($"pictures {seed}", data, [3, 24, 24], null, 0);
    }

    [Fact]
    public void AlphaZeroReturnsTheContentFeaturesExactly()
    {
        var rng = new Random(5);
        using var content = Tensor.FromArray(Numerics.Random(rng, 2 * 5 * 7 * 9, -3f, 4f), [2, 5, 7, 9]);
        using var style1 = Tensor.FromArray(Numerics.Random(rng, 2 * 5 * 6 * 4, -1f, 6f), [2, 5, 6, 4]);
        using var style2 = Tensor.FromArray(Numerics.Random(rng, 2 * 5 * 3 * 3, 0f, 2f), [2, 5, 3, 3]);
        using var t = AdaInMath.Target(content, [style1, style2], [0.3f, 0.7f], alpha: 0f);
        Assert.Equal(content.ToArray(), t.ToArray()); // bit for bit
    }

    [Fact]
    public void AdaInGivesTheStyleStatisticsAndMixesStylesAsFloat64Does()
    {
        var rng = new Random(6);
        float[] c = Numerics.Random(rng, 2 * 3 * 5 * 7, -2f, 3f), s1 = Numerics.Random(rng, 2 * 3 * 4 * 3, -1f, 5f), s2 = Numerics.Random(rng, 2 * 3 * 4 * 3, 0f, 1f);
        using var content = Tensor.FromArray(c, [2, 3, 5, 7]);
        using var style1 = Tensor.FromArray(s1, [2, 3, 4, 3]);
        using var style2 = Tensor.FromArray(s2, [2, 3, 4, 3]);
        // One style, α = 1: each plane takes the style plane's mean and sqrt(biased variance + eps).
        using (var t = AdaInMath.Target(content, [style1], [1f], 1f))
        {
            var y = t.ToArray();
            for (int p = 0; p < 6; p++)
            {
                var (mean, std) = Moments(y.AsSpan(p * 35, 35).ToArray(), 0);
                var (styleMean, styleStd) = Moments(s1.AsSpan(p * 12, 12).ToArray(), 1e-5);
                Assert.Equal(styleMean, mean, 4);
                // The plane's own std is computed without eps; AdaIN scales the content by std_s / sqrt(var_c + eps).
                var (_, contentStd) = Moments(c.AsSpan(p * 35, 35).ToArray(), 0);
                Assert.Equal(styleStd * contentStd / Math.Sqrt(contentStd * contentStd + 1e-5), std, 4);
            }
        }
        // Two styles 1:3 (normalised by the caller) and α = 0.6, against the float64 formula.
        using (var t = AdaInMath.Target(content, [style1, style2], [0.25f, 0.75f], 0.6f))
        {
            var y = t.ToArray();
            for (int p = 0; p < 6; p++)
            {
                var (mc, sc) = Moments(c.AsSpan(p * 35, 35).ToArray(), 1e-5);
                var (m1, sd1) = Moments(s1.AsSpan(p * 12, 12).ToArray(), 1e-5);
                var (m2, sd2) = Moments(s2.AsSpan(p * 12, 12).ToArray(), 1e-5);
                for (int i = 0; i < 35; i++)
                {
                    double x = c[p * 35 + i], normal = (x - mc) / sc;
                    double expected = 0.6 * (0.25 * (sd1 * normal + m1) + 0.75 * (sd2 * normal + m2)) + 0.4 * x;
                    Assert.True(Math.Abs(expected - y[p * 35 + i]) <= 1e-4 + 1e-4 * Math.Abs(expected), $"plane {p}, {i}: {y[p * 35 + i]} against {expected}");
                }
            }
        }
    }

    static (double Mean, double Std) Moments(float[] values, double eps)
    {
        double mean = values.Average(v => (double)v);
        return (mean, Math.Sqrt(values.Average(v => (v - mean) * (v - mean)) + eps));
    }

    [Fact]
    public void StyleLossByHand()
    {
        // Two channels over four positions: a = [1, 2, 0, -1] (mean 0.5, variance 1.25), b = [0, 1, 3, 1] (mean 1.25,
        // variance 1.1875); the style's means 0 and 1, standard deviations 1 and 1.
        using var f = Tensor.FromArray([1, 2, 0, -1, 0, 1, 3, 1], [1, 2, 2, 2]);
        using var mean = Tensor.FromArray([0, 1], [1, 2, 1, 1]);
        using var std = Tensor.FromArray([1, 1], [1, 2, 1, 1]);
        using var loss = AdaInMath.StyleLoss(f, mean, std);
        double sa = Math.Sqrt(1.25 + 1e-5), sb = Math.Sqrt(1.1875 + 1e-5);
        double expected = (0.5 * 0.5 + 0.25 * 0.25) / 2 + ((sa - 1) * (sa - 1) + (sb - 1) * (sb - 1)) / 2;
        Assert.Equal(expected, loss.Item(), 6);
        using var mismatched = Tensor.FromArray([0, 1, 2], [1, 3, 1, 1]);
        Assert.Contains("differ", Assert.Throws<TensorShapeException>(() => AdaInMath.StyleLoss(f, mismatched, mismatched)).Message);
    }

    [Fact]
    public void ColourMatchingGivesTheStyleTheContentsMeanAndCovariance()
    {
        var rng = new Random(8);
        const int plane = 23 * 17;
        var style = new float[3 * plane];
        var content = new float[3 * plane];
        for (int p = 0; p < plane; p++)
        {
            // Correlated channels in mid-range, so nothing is clamped.
            double a = rng.NextDouble(), b = rng.NextDouble(), e = rng.NextDouble(), f = rng.NextDouble();
            style[p] = (float)(80 + 40 * a); style[plane + p] = (float)(90 + 20 * a + 20 * b); style[2 * plane + p] = (float)(100 + 30 * b + 10 * f);
            content[p] = (float)(120 + 10 * e + 5 * a); content[plane + p] = (float)(110 + 15 * b); content[2 * plane + p] = (float)(130 - 12 * e + 8 * b);
        }
        using var s = Tensor.FromArray(style, [1, 3, 23, 17]);
        using var c = Tensor.FromArray(content, [1, 3, 23, 17]);
        using var matched = AdaInStyleTransfer.ColorMatch(s, c);
        var (mean, cov) = AdaInStyleTransfer.Moments(matched.ToArray());
        var (wantMean, wantCov) = AdaInStyleTransfer.Moments(content);
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(wantMean[i], mean[i], 2);
            for (int j = 0; j < 3; j++) Assert.True(Math.Abs(wantCov[i, j] - cov[i, j]) < 1e-2 * (1 + Math.Abs(wantCov[i, j])), $"cov[{i},{j}] {cov[i, j]} against {wantCov[i, j]}");
        }
        // The symmetric root squares back.
        var root = AdaInStyleTransfer.SymmetricPower(wantCov, 0.5);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                Assert.Equal(wantCov[i, j], Enumerable.Range(0, 3).Sum(k => root[i, k] * root[k, j]), 6);
    }

    [Fact]
    public void DecoderMirrorsTheEncodersSizeRatio()
    {
        using var decoder = new AdaInDecoder(7, 2, 8, Device.Cpu, new Rng(1));
        using var x = Tensor.FromArray(Numerics.Random(new Random(2), 2 * 7 * 3 * 5), [2, 7, 3, 5]);
        using var y = decoder.Forward(x);
        Assert.Equal([2, 3, 12, 20], y.Shape);
        // 7 -> 16 at 1/4; up, 16 -> 8 and 8 -> 8 at 1/2; up, 8 -> 4 at full size (width / 2 floor); 4 -> RGB.
        Assert.Equal([16, 8, 8, 4, 3], decoder.NamedParameters().Where(p => p.Name.EndsWith(".weight", StringComparison.Ordinal)).Select(p => p.Tensor.Dim(0)));
        using var wrong = Tensor.FromArray(new float[2 * 6 * 3 * 5], [2, 6, 3, 5]);
        Assert.Contains("expects features [N, 7, h, w]", Assert.Throws<TensorShapeException>(() => decoder.Forward(wrong)).Message);
        using var same = new AdaInDecoder(4, 0, 8, Device.Cpu, new Rng(1));
        using var flat = Tensor.FromArray(new float[4 * 5 * 6], [1, 4, 5, 6]);
        using var z = same.Forward(flat);
        Assert.Equal([1, 3, 5, 6], z.Shape);
    }

    [Fact]
    public void ReflectionPaddingIsTheDefaultAndRunsSavedBeforeItKeepZeros()
    {
        using var reflect = new AdaInDecoder(7, 1, 8, Device.Cpu, new Rng(1));
        using var zero = new AdaInDecoder(7, 1, 8, Device.Cpu, new Rng(1), DecoderPadding.Zero);
        Assert.Equal(zero.StateDict().Select(kv => (kv.Key, kv.Value.ToArray())), reflect.StateDict().Select(kv => (kv.Key, kv.Value.ToArray())));
        using var x = Tensor.FromArray(Numerics.Random(new Random(3), 7 * 4 * 5), [1, 7, 4, 5]);
        using var yr = reflect.Forward(x);
        using var yz = zero.Forward(x);
        Assert.Equal([1, 3, 8, 10], yr.Shape);
        Assert.Equal(yz.Shape, yr.Shape);
        Assert.NotEqual(yz.ToArray(), yr.ToArray());

        Assert.Equal(DecoderPadding.Reflect, new AdaInOptions().Padding);
        var kind = ModelKinds.Find(AdaInJob.KindName);
        var settings = OptionsBinder.ToStrings(new AdaInOptions { DataShape = [3, 256, 256] }).Where(kv => kv.Key != "padding").ToDictionary();
        Assert.Equal(DecoderPadding.Zero, ((AdaInOptions)kind.FromSaved(settings)).Padding);
    }

    [Fact]
    public void TrainingLowersTheLossAndAResumedRunEndsBitIdentical()
    {
        var content = Pictures(8, 1);
        var styles = Pictures(5, 2);
        Batch BatchAt(int i)
        {
            var data = content.Data.AsSpan(i % 4 * 2 * 3 * 24 * 24, 2 * 3 * 24 * 24).ToArray();
            return new Batch(Tensor.FromArray(data, [2, 3, 24, 24]), null, 0, i);
        }
        var losses = new List<float>();
        float[] straight;
        using (var job = new AdaInJob(SmallOptions(), Device.Cpu, styles))
        {
            Assert.Equal(7, job.Decoder.Channels);
            Assert.Equal(2, job.Decoder.Upsamplings);
            for (int i = 0; i < 6; i++)
            {
                using var b = BatchAt(i);
                var scalars = job.Step(b, i + 1);
                Assert.Equal(scalars["loss_content"] + 10 * scalars["loss_style"], scalars["loss"], 3);
                losses.Add(scalars["loss"]);
                if (i == 1) job.WriteSamples(Path.Combine(dir, "midway.png")); // a picture mid-run must not change what follows
            }
            straight = Weights(job);
            job.WriteSamples(Path.Combine(dir, "samples.png"));
            Assert.True(File.Exists(Path.Combine(dir, "samples.png")));
        }
        Assert.All(losses, l => Assert.True(float.IsFinite(l)));
        Assert.True(losses.Skip(3).Average() < losses.Take(3).Average(), $"losses {string.Join(", ", losses)}");

        string checkpoint = Path.Combine(dir, "half.safetensors");
        ulong offset;
        using (var first = new AdaInJob(SmallOptions(), Device.Cpu, styles))
        {
            for (int i = 0; i < 3; i++) { using var b = BatchAt(i); first.Step(b, i + 1); }
            Checkpoint.Save(checkpoint, first.Modules, first.Optimizers, new Dictionary<string, string>());
            offset = first.Rng.Offset;
        }
        using (var resumed = new AdaInJob(SmallOptions(), Device.Cpu, styles))
        {
            Checkpoint.Load(checkpoint, resumed.Modules, resumed.Optimizers);
            resumed.Rng.Advance((long)(offset - resumed.Rng.Offset));
            for (int i = 3; i < 6; i++) { using var b = BatchAt(i); resumed.Step(b, i + 1); }
            Assert.Equal(straight, Weights(resumed));
        }
    }

    static float[] Weights(AdaInJob job) => [.. job.Decoder.StateDict().OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.ToArray())];

    static void WritePictures(string folder, Dataset pictures)
    {
        Directory.CreateDirectory(folder);
        int size = pictures.SampleSize;
        for (int i = 0; i < pictures.Count; i++)
            ImageGrid.Save(Path.Combine(folder, $"p{i}.png"), pictures.Data[(i * size)..((i + 1) * size)], 1, 3, 24, 24, columns: 1, padding: 0);
    }

    [Fact]
    public void TrainsAndStylizesFromTheCommandLineWithClearErrors()
    {
        string contentDir = Path.Combine(dir, "content"), styleDir = Path.Combine(dir, "style"), run = Path.Combine(dir, "run");
        WritePictures(contentDir, Pictures(4, 11));
        WritePictures(styleDir, Pictures(3, 12));
        var (code, text) = Training.TrainCommandTests.Run("train", "adain", "--content", contentDir, "--style", styleDir, "--steps", "2", "--batch", "2",
            "--set", $"encoder={SmallEncoder}", "--set", $"content_layer={Deep}", "--set", $"style_layers={Shallow},{Deep}", "--set", "load_size=24",
            "--set", "crop=16", "--set", "width=8", "--sample-every", "1", "--out", run, "--device", "cpu");
        Assert.True(code == 0, text);
        string checkpoint = Path.Combine(run, "checkpoint.safetensors");
        Assert.True(File.Exists(checkpoint), text);

        string c = Path.Combine(contentDir, "p0.png"), s1 = Path.Combine(styleDir, "p0.png"), s2 = Path.Combine(styleDir, "p1.png"), output = Path.Combine(dir, "out.png");
        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", checkpoint, "--content", c, "--style", $"{s1},{s2}",
            "--weights", "1,3", "--alpha", "0.5", "--preserve-color", "--size", "32", "--out", output, "--device", "cpu");
        Assert.True(code == 0, text);
        Assert.True(File.Exists(output));
        Assert.Contains("2 styles mixed", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", checkpoint, "--content", c, "--style", s1,
            "--size", "32", "--out", output, "--device", "cpu");
        Assert.True(code == 0, text);
        Assert.Contains("style loss (means and stds)", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", Path.Combine(dir, "none.safetensors"), "--content", c, "--style", s1, "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("no checkpoint at", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--content", c, "--style", s1, "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("give --checkpoint", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", checkpoint, "--content", Path.Combine(dir, "missing.png"), "--style", s1,
            "--size", "32", "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("missing.png does not exist", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", checkpoint, "--content", c, "--style", $"{s1},{s2}", "--weights", "1",
            "--size", "32", "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("2 style image(s) but 1 weight(s)", text);

        (code, text) = Training.TrainCommandTests.Run("stylize", "--method", "adain", "--checkpoint", checkpoint, "--content", c, "--style", s1, "--size", "34", "--out", output, "--device", "cpu");
        Assert.Equal(2, code);
        Assert.Contains("multiples of 4", text);
    }
}
