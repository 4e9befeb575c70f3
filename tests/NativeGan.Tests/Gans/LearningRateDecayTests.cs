using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// lr_decay_start and lr_decay_end (<see cref="LinearDecay"/>): the rate follows lr0 * clamp((end - t) / (end - start), 0, 1)
/// written out in float64, each GAN job and DCGAN set it from the step number they are handed (so a resumed run sets
/// the rate an uninterrupted one would) before the step's updates (a step at the end of the decay moves no weight),
/// an end of 0 keeps the rate constant, and a schedule that cannot be is refused naming the kind and the settings.
/// </summary>
public class LearningRateDecayTests
{
    [Theory]
    [InlineData(0, 7)]
    [InlineData(3, 10)]
    public void TheRateHoldsThenFallsLinearlyToZeroAndStaysThere(long from, long to)
    {
        const float start = 3e-4f;
        for (long t = 0; t <= to + 3; t++)
        {
            double expected = start * Math.Clamp((double)(to - t) / (to - from), 0.0, 1.0);
            Assert.Equal(expected, LinearDecay.Rate(start, t, from, to), 1e-10);
        }
        Assert.Equal(0f, LinearDecay.Rate(start, to, from, to));
        Assert.Equal(start, LinearDecay.Rate(start, from, from, to));
        for (long t = 0; t < 5; t++) Assert.Equal(start, LinearDecay.Rate(start, t * 1000, 0, 0)); // to = 0: no decay
    }

    [Theory]
    [InlineData(5, 5)]
    [InlineData(6, 4)]
    [InlineData(-1, 4)]
    [InlineData(3, 0)]
    public void AScheduleThatCannotBeIsRefused(long from, long to)
    {
        if (to != 0) Assert.Throws<ArgumentOutOfRangeException>(() => LinearDecay.Rate(1f, 0, from, to));
        var e = Assert.Throws<ArgumentException>(() => MakeGan("gan", new() { ["lr_decay_start"] = $"{from}", ["lr_decay_end"] = $"{to}" }));
        Assert.Matches("^gan: .*lr_decay_", e.Message);
        e = Assert.Throws<ArgumentException>(() => TestJobs.Dcgan(new Dictionary<string, string> { ["lr_decay_start"] = $"{from}", ["lr_decay_end"] = $"{to}" }));
        Assert.Matches("^dcgan: .*lr_decay_", e.Message);
    }

    /// <summary>A tiny config of a GAN kind on points, with <paramref name="extra"/> on top (shared with RateScheduleTests).</summary>
    internal static Dictionary<string, string> Small(string kind, Dictionary<string, string> extra)
    {
        var c = new Dictionary<string, string>(TestJobs.Settings(kind, [2]))
        {
            ["g_widths"] = "8,8", ["d_widths"] = "8", ["d_pieces"] = "2", ["latent"] = "3", ["seed"] = "5",
        };
        foreach (var (k, v) in extra) c[k] = v;
        return c;
    }

    internal static GanJob MakeGan(string kind, Dictionary<string, string> extra)
    {
        return (GanJob)ModelKinds.Create(kind, Small(kind, extra), Device.Cpu);
    }

    internal static Batch Points(int n, int seed)
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
        using var job = MakeGan(kind, new() { ["lr_g"] = "0.001", ["lr_d"] = "0.002", ["lr_decay_start"] = "2", ["lr_decay_end"] = "8" });
        // Out of order on purpose: the rate is a function of the step number, not of how many steps this job ran.
        foreach (long t in new long[] { 5, 0, 3, 12, 1 })
        {
            using var b = Points(20, (int)t + 1);
            job.Step(b, t);
            double share = Math.Clamp((8 - t) / 6.0, 0, 1);
            Assert.Equal(0.001 * share, job.GeneratorOptimizer.LearningRate, 1e-9);
            Assert.Equal(0.002 * share, job.DiscriminatorOptimizer.LearningRate, 1e-9);
        }
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    public void AGanStepAtTheEndOfTheDecayMovesNoWeight(string kind)
    {
        // The rate must be set before the step's updates: set after them, step 4 would still run at step 3's rate.
        using var job = MakeGan(kind, new() { ["lr_decay_end"] = "4" });
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
        Assert.Equal("0", job.Settings()["lr_decay_end"]);
        using var b = Points(20, 1);
        job.Step(b, 100_000);
        Assert.Equal(0.0003f, job.GeneratorOptimizer.LearningRate);
    }

    [Fact]
    public void DcganDecaysBothRatesAndStopsMovingAtTheEnd()
    {
        using var job = TinyDcgan("lr_decay_end", "10");
        var random = new Random(4);
        Batch Images() => SixImages(random);
        using (var b = Images()) job.Step(b, 4);
        Assert.Equal(0.002 * 0.6, job.GeneratorOptimizer.LearningRate, 1e-9);
        Assert.Equal(0.002 * 0.6, job.DiscriminatorOptimizer.LearningRate, 1e-9);
        var g = Weights(job.Generator);
        var d = Weights(job.Discriminator);
        using (var b = Images()) job.Step(b, 10);
        Assert.Equal(0f, job.GeneratorOptimizer.LearningRate);
        Assert.Equal(g, Weights(job.Generator));
        Assert.Equal(d, Weights(job.Discriminator));
    }

    /// <summary>A DCGAN on 8x8 images at lr 0.002 with one more setting (shared with RateScheduleTests).</summary>
    internal static GanJob TinyDcgan(string key, string value) => TestJobs.Dcgan(new Dictionary<string, string>
    {
        ["latent"] = "6", ["g_width"] = "4", ["d_width"] = "4", ["data_shape"] = "1,8,8",
        ["lr_g"] = "0.002", ["lr_d"] = "0.002", [key] = value,
    });

    /// <summary>Six random 8x8 images in [-1, 1].</summary>
    internal static Batch SixImages(Random random) =>
        new(Tensor.FromArray([.. Enumerable.Range(0, 6 * 64).Select(_ => (float)(random.NextDouble() * 2 - 1))], [6, 1, 8, 8], Device.Cpu), null, 0, 0);
}
