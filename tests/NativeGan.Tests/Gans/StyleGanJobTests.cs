using NativeGan.Gan.Data;
using NativeGan.Gan.Progressive;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;
using NativeGan.Tests.Training;

namespace NativeGan.Tests.Gans;

/// <summary>StyleGAN's blur and job: the filter against a float64 convolution, the fade-in's ends, the tracked average
/// of w, truncation, mixing in a step, R1 reaching D, and a run resumed inside a fade-in.</summary>
public class StyleGanJobTests
{
    static readonly Dictionary<string, string> Tiny = new()
    {
        ["latent"] = "6", ["style_dim"] = "5", ["mapping_layers"] = "2", ["widths"] = "6,5", ["data_shape"] = "1,8,8", ["phase_images"] = "10", ["seed"] = "3",
    };

    static StyleGanJob NewJob(Dictionary<string, string>? changes = null)
    {
        var settings = new Dictionary<string, string>(Tiny);
        foreach (var (k, v) in changes ?? []) settings[k] = v;
        return (StyleGanJob)ModelKinds.Create(StyleGanJob.KindName, settings, Device.Cpu);
    }

    /// <summary>The float64 blur: each channel correlated with [1,2,1]⊗[1,2,1]/16, zero outside the image.</summary>
    static double[] BlurReference(float[] x, int planes, int h, int w)
    {
        double[] taps = [1, 2, 1];
        var y = new double[x.Length];
        for (int p = 0; p < planes; p++)
            for (int i = 0; i < h; i++)
                for (int j = 0; j < w; j++)
                {
                    double s = 0;
                    for (int di = -1; di <= 1; di++)
                        for (int dj = -1; dj <= 1; dj++)
                        {
                            int r = i + di, c = j + dj;
                            if (r >= 0 && r < h && c >= 0 && c < w) s += taps[di + 1] * taps[dj + 1] / 16 * x[(p * h + r) * w + c];
                        }
                    y[(p * h + i) * w + j] = s;
                }
        return y;
    }

    [Theory]
    [InlineData(2, 3, 5, 7)]
    [InlineData(1, 1, 1, 1)]
    [InlineData(3, 5, 4, 9)]
    public void The_blur_is_the_121_filter_per_channel_and_its_gradient_is_itself(int n, int c, int h, int w)
    {
        using var blur = new Blur2d();
        using var scope = new TensorScope();
        var x = new Rng(1).Normal(Device.Cpu, [n, c, h, w]);
        x.RequiresGrad = true;
        var y = blur.Forward(x);
        Assert.Equal(x.Shape, y.Shape);
        var expected = BlurReference(x.ToArray(), n * c, h, w);
        var got = y.ToArray();
        for (int i = 0; i < got.Length; i++) Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-6 + 1e-5 * Math.Abs(expected[i]), $"blur[{i}] {got[i]} vs {expected[i]}");
        // The filter is symmetric and zero-padded, so it is its own adjoint: d sum(y · g) / dx = blur(g).
        var g = new Rng(2).Normal(Device.Cpu, [n, c, h, w]);
        y.Mul(g).Sum().Backward();
        var expectedGrad = BlurReference(g.ToArray(), n * c, h, w);
        var grad = x.Grad!.ToArray();
        for (int i = 0; i < grad.Length; i++) Assert.True(Math.Abs(grad[i] - expectedGrad[i]) <= 1e-6 + 1e-5 * Math.Abs(expectedGrad[i]), $"grad[{i}] {grad[i]} vs {expectedGrad[i]}");
        Assert.Equal(1.0, Blur2d.Kernel.Sum(v => (double)v), 6);
    }

    [Fact]
    public void The_fade_in_starts_at_the_lower_stage_upsampled_and_ends_at_the_new_stage()
    {
        var synthesis = new StyleGanSynthesis(5, 2, [6, 5, 4], rng: new Rng(4));
        using var scope = new TensorScope();
        var ws = new Rng(5).Normal(Device.Cpu, [3, synthesis.Layers, 5]);
        var noise = StyleGanSynthesis.Noise(new Rng(6), Device.Cpu, 3, 3);
        var lower = synthesis.Forward(ws, noise, 2).UpsampleNearest2x().ToArray();
        Assert.Equal(lower, synthesis.Forward(ws, noise, 3, 0f).ToArray());
        Assert.Equal(synthesis.Forward(ws, noise, 3, 1f).ToArray(), synthesis.Forward(ws, noise).ToArray());
        Assert.Equal([3, 2, 8, 8], synthesis.Forward(ws, noise, 2).Shape);
        var mid = synthesis.Forward(ws, noise, 3, 0.25f).ToArray();
        var full = synthesis.Forward(ws, noise, 3, 1f).ToArray();
        for (int i = 0; i < mid.Length; i++) Assert.Equal(0.75f * lower[i] + 0.25f * full[i], mid[i], 5);
        Assert.Contains("needs a noise for each", Assert.Throws<ArgumentException>(() => synthesis.Forward(ws, noise[..4], 3)).Message);
    }

    [Fact]
    public void The_average_of_w_moves_towards_the_batch_mean_by_one_minus_beta()
    {
        using var g = new StyleGanGenerator(4, 3, 2, 0.01f, 1, [4, 3], rng: new Rng(7));
        using var scope = new TensorScope();
        var ws = new Rng(8).Normal(Device.Cpu, [5, g.Synthesis.Layers, 3]);
        var w = ws.ToArray();
        g.TrackAverage(ws, 0.9f);
        var avg = g.AverageW.ToArray();
        for (int c = 0; c < 3; c++)
        {
            double mean = Enumerable.Range(0, 5).Average(n => (double)w[(n * g.Synthesis.Layers) * 3 + c]);
            Assert.Equal(0.1 * mean, avg[c], 5); // from 0: mean + 0.9 (0 - mean)
        }
        g.TrackAverage(ws, 0.9f);
        for (int c = 0; c < 3; c++) Assert.Equal(0.19 * Enumerable.Range(0, 5).Average(n => (double)w[(n * g.Synthesis.Layers) * 3 + c]), g.AverageW.ToArray()[c], 5);
    }

    [Fact]
    public void Truncation_to_psi_0_draws_the_average_ws_image_for_every_latent()
    {
        using var job = NewJob(new() { ["growing"] = "false" });
        var data = TrainerTests.Blobs(8, 2);
        using var real = Tensor.FromArray(data.Data, [8, 1, 8, 8], Device.Cpu);
        for (int s = 0; s < 3; s++) job.Step(new Batch(real, null, 0, 0), s); // moves w_avg and the noise strengths away from 0
        Assert.Contains(job.SamplingGenerator.AverageW.ToArray(), v => v != 0);
        using var z = new Rng(9).Normal(Device.Cpu, [4, 6]);
        using (var free = job.Generate(z))
        {
            var f = free.ToArray();
            Assert.NotEqual(f[..64], f[64..128]);
        }
        job.Truncation = new StyleTruncation(0f);
        using var truncated = job.Generate(z);
        var t = truncated.ToArray();
        // One noise draw per image, so compare each image with the average w's own image under the same noise.
        using var averageWs = StyleGanMapping.Broadcast(Ops.Reshape(job.SamplingGenerator.AverageW, 1, 5), job.StyleLayers);
        using var ws = Ops.Reshape(averageWs.Mul(Tensor.Ones(Device.Cpu, 4, 1, 1)), 4, job.StyleLayers, 5);
        job.Truncation = StyleTruncation.None;
        using var expected = job.Synthesize(ws, new Rng(job.Options.Seed, 1UL << 59));
        var e = expected.ToArray();
        for (int i = 0; i < t.Length; i++) Assert.True(Math.Abs(e[i] - t[i]) <= 1e-5f, $"image value {i}: {t[i]} vs the average w's {e[i]}");
    }

    [Fact]
    public void A_step_mixes_styles_trains_both_networks_and_R1_reaches_the_critic()
    {
        var data = TrainerTests.Blobs(8, 3);
        using var real = Tensor.FromArray(data.Data, [8, 1, 8, 8], Device.Cpu);
        float[] DWeights(StyleGanJob j) => [.. j.Discriminator.Parameters().SelectMany(p => p.ToArray())];
        float[] GWeights(StyleGanJob j) => [.. j.Generator.Parameters().SelectMany(p => p.ToArray())];
        using var job = NewJob(new() { ["growing"] = "false", ["style_mixing"] = "1" });
        var (d0, g0) = (DWeights(job), GWeights(job));
        var log = job.Step(new Batch(real, null, 0, 0), 0);
        Assert.NotEqual(d0, DWeights(job));
        Assert.NotEqual(g0, GWeights(job));
        Assert.InRange(log["crossover"], 1, 3); // stage 2: 4 layers, the crossover one of 1..3
        Assert.True(log["r1"] > 0);
        using var noMix = NewJob(new() { ["growing"] = "false", ["style_mixing"] = "0", ["r1_every"] = "2" });
        Assert.Equal(4, noMix.Step(new Batch(real, null, 0, 0), 0)["crossover"]);
        Assert.False(noMix.Step(new Batch(real, null, 0, 0), 1).ContainsKey("r1")); // lazy R1: steps 0, 2, 4, ...
        Assert.True(noMix.Step(new Batch(real, null, 0, 0), 2)["r1"] > 0);

        // R1 alone (lr_g 0, the logistic loss's gradient taken away by comparing two critics) changes D's weights:
        // two jobs that differ only in r1_gamma end their first step with different critics.
        using var withR1 = NewJob(new() { ["growing"] = "false", ["r1_gamma"] = "100" });
        using var withoutR1 = NewJob(new() { ["growing"] = "false", ["r1_gamma"] = "0" });
        withR1.Step(new Batch(real, null, 0, 0), 0);
        withoutR1.Step(new Batch(real, null, 0, 0), 0);
        Assert.NotEqual(DWeights(withR1), DWeights(withoutR1));
    }

    [Fact]
    public void A_run_resumed_inside_a_fade_in_ends_bit_identical()
    {
        using var dir = new TempDir();
        ProGanJobTests.ResumedInsideTheFadeEndsBitIdentical(dir, () => NewJob());
        var e = Assert.Throws<ArgumentException>(() => NewJob(new() { ["widths"] = "6,5,4" }));
        Assert.Contains("one feature count per stage: 2", e.Message);
    }

    static void Near(float[] expected, float[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5f, $"[{i}] {actual[i]} vs {expected[i]}");
    }

    [Fact]
    public void The_pictures_swap_styles_sweep_psi_and_show_the_noise()
    {
        using var job = NewJob(new() { ["growing"] = "false" });
        var data = TrainerTests.Blobs(8, 5);
        using var real = Tensor.FromArray(data.Data, [8, 1, 8, 8], Device.Cpu);
        for (int s = 0; s < 2; s++) job.Step(new Batch(real, null, 0, 0), s);
        using var scope = new TensorScope();
        int per = 64;
        // Swapping every layer gives the column's image; swapping none is refused; the corner is blank (white).
        var (grid, columns) = StyleGanPictures.MixingGrid(job, 6, Device.Cpu, [1, 2], [3, 4, 5], 0, job.StyleLayers);
        Assert.Equal(4, columns);
        Assert.Equal([12, 1, 8, 8], grid.Shape);
        var g = grid.ToArray();
        Assert.All(g[..per], v => Assert.Equal(1f, v));
        for (int r = 1; r <= 2; r++)
            for (int c = 1; c <= 3; c++)
                Near(g[(c * per)..((c + 1) * per)], g[((r * 4 + c) * per)..((r * 4 + c + 1) * per)]); // row + (column - row): rounding
        Assert.Throws<ArgumentOutOfRangeException>(() => StyleGanPictures.MixingGrid(job, 6, Device.Cpu, [1], [2], 2, 2));
        // Swapping the upper layers only gives an image unlike the column's.
        var (partial, _) = StyleGanPictures.MixingGrid(job, 6, Device.Cpu, [1], [3], 2, job.StyleLayers);
        var p = partial.ToArray();
        Assert.NotEqual(p[(2 * per)..(3 * per)], p[(1 * per)..(2 * per)]);

        var sweep = StyleGanPictures.TruncationSweep(job, 6, Device.Cpu, [1, 2], [1f, 0f]).ToArray();
        var plain = StyleGanPictures.Draw(job, StyleGanPictures.StylesOf(job, [1, 2], 6, Device.Cpu)).ToArray();
        Assert.Equal(plain[..per], sweep[..per]);              // psi 1: the image itself
        Assert.Equal(plain[per..], sweep[(2 * per)..(3 * per)]);
        Near(sweep[per..(2 * per)], sweep[(3 * per)..]); // psi 0: both latents give the average's image
        Assert.Equal(StyleTruncation.None, job.Truncation);

        var (draws, std) = StyleGanPictures.NoiseEffect(job, 6, Device.Cpu, 1, 3);
        Assert.Equal([3, 1, 8, 8], draws.Shape);
        Assert.Equal([1, 1, 8, 8], std.Shape);
        Assert.InRange(std.ToArray().Max(), 0.999f, 1.001f);
        Assert.Equal([10, 1, 8, 8], StyleGanPictures.ZAndW(job, 6, Device.Cpu, 1, 2, 5).Shape);
    }
}
