using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Models;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// lr_decay_steps (<see cref="LinearDecay"/>): the rate follows lr0 * max(0, 1 - t / steps) written out in float64,
/// each GAN job and DCGAN set it from the step number they are handed (so a resumed run sets the rate an
/// uninterrupted one would), a step at the end of the decay moves no weight, and 0 keeps the rate constant.
/// </summary>
public class LearningRateDecayTests
{
    [Fact]
    public void TheRateFallsLinearlyToZeroAndStaysThere()
    {
        const float start = 3e-4f;
        const long steps = 7;
        for (long t = 0; t <= 10; t++)
        {
            double expected = start * Math.Max(0.0, 1.0 - (double)t / steps);
            Assert.Equal(expected, LinearDecay.Rate(start, t, steps), 1e-10);
        }
        Assert.Equal(0f, LinearDecay.Rate(start, steps, steps));
        Assert.Equal(start, LinearDecay.Rate(start, 0, steps));
        for (long t = 0; t < 5; t++) Assert.Equal(start, LinearDecay.Rate(start, t * 1000, 0)); // 0: no decay
        Assert.Throws<ArgumentOutOfRangeException>(() => LinearDecay.Rate(start, 1, -1));
    }

    static Dictionary<string, string> Small(string kind, Dictionary<string, string> extra)
    {
        var c = new Dictionary<string, string>(GanJobs.DefaultConfig(kind, [2]))
        {
            ["g_widths"] = "8,8", ["d_widths"] = "8", ["d_pieces"] = "2", ["latent"] = "3", ["seed"] = "5",
        };
        foreach (var (k, v) in extra) c[k] = v;
        return c;
    }

    static GanJob MakeGan(string kind, Dictionary<string, string> extra)
    {
        GanJobs.Register();
        return (GanJob)JobFactory.Create(kind, Small(kind, extra), Device.Cpu);
    }

    static Batch Points(int n, int seed)
    {
        var random = new Random(seed);
        var data = new float[2 * n];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(random.NextDouble() * 2 - 1);
        return new Batch(Tensor.FromArray(data, [n, 2], Device.Cpu), null, 0, 0);
    }

    static float[][] Weights(Module m) => [.. m.Parameters().Select(p => p.ToArray())];

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan")]
    [InlineData("wgan-gp")]
    public void EachGanStepUsesTheRateOfTheStepItIsHanded(string kind)
    {
        using var job = MakeGan(kind, new() { ["lr_g"] = "0.001", ["lr_d"] = "0.002", ["lr_decay_steps"] = "8" });
        // Out of order on purpose: the rate is a function of the step number, not of how many steps this job ran.
        foreach (long t in new long[] { 5, 0, 3, 12 })
        {
            using var b = Points(20, (int)t + 1);
            job.Step(b, t);
            Assert.Equal(0.001 * Math.Max(0, 1 - t / 8.0), job.GeneratorOptimizer.LearningRate, 1e-9);
            Assert.Equal(0.002 * Math.Max(0, 1 - t / 8.0), job.DiscriminatorOptimizer.LearningRate, 1e-9);
        }
    }

    [Fact]
    public void AGanStepAtTheEndOfTheDecayMovesNoWeight()
    {
        using var job = MakeGan("gan", new() { ["lr_decay_steps"] = "4" });
        var g = Weights(job.Generator);
        var d = Weights(job.Discriminator);
        using (var b = Points(20, 1)) job.Step(b, 3); // the last step with a rate above 0: it moves the weights
        Assert.NotEqual(g[0], Weights(job.Generator)[0]);
        Assert.NotEqual(d[0], Weights(job.Discriminator)[0]);
        g = Weights(job.Generator);
        d = Weights(job.Discriminator);
        using (var b = Points(20, 2)) job.Step(b, 4);
        Assert.Equal(g, Weights(job.Generator));
        Assert.Equal(d, Weights(job.Discriminator));
    }

    [Fact]
    public void WithoutDecayTheRateStaysConstant()
    {
        using var job = MakeGan("wgan-gp", new() { ["lr_g"] = "0.0003" });
        Assert.Equal("0", job.Config["lr_decay_steps"]);
        using var b = Points(20, 1);
        job.Step(b, 100_000);
        Assert.Equal(0.0003f, job.GeneratorOptimizer.LearningRate);
    }

    [Fact]
    public void DcganDecaysBothRatesAndStopsMovingAtTheEnd()
    {
        var config = new Dictionary<string, string>
        {
            ["latent"] = "6", ["g_width"] = "4", ["d_width"] = "4", ["image"] = "1,8,8", ["sample_count"] = "4",
            ["lr"] = "0.002", ["lr_decay_steps"] = "10",
        };
        using var job = new DcganJob(config, Device.Cpu);
        var random = new Random(4);
        Batch Images() => new(Tensor.FromArray([.. Enumerable.Range(0, 6 * 64).Select(_ => (float)(random.NextDouble() * 2 - 1))], [6, 1, 8, 8], Device.Cpu), null, 0, 0);
        using (var b = Images()) job.Step(b, 4);
        Assert.Equal(0.002 * 0.6, job.OptimizerG.LearningRate, 1e-9);
        Assert.Equal(0.002 * 0.6, job.OptimizerD.LearningRate, 1e-9);
        var g = Weights(job.Generator);
        var d = Weights(job.Discriminator);
        using (var b = Images()) job.Step(b, 10);
        Assert.Equal(0f, job.OptimizerG.LearningRate);
        Assert.Equal(g, Weights(job.Generator));
        Assert.Equal(d, Weights(job.Discriminator));
    }
}
