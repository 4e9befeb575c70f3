using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// lr_schedule (<see cref="RateSchedule"/>): the factor is the piecewise-linear interpolation of its knots, written
/// out here in float64 from the definition (hold the first knot's factor before it, the last one's after it; two
/// knots at one step: the second from that step on); LinearDecay's schedule as two knots gives its rates bit for bit;
/// each GAN job and DCGAN follow it; malformed schedules and a schedule given together with lr_decay_* are refused
/// naming the kind, the setting and the text.
/// </summary>
public class RateScheduleTests
{
    /// <summary>The definition, step by step: find the segment [s_i, s_{i+1}) holding t (the last knot at or before t).</summary>
    static double Reference((long S, double F)[] k, long t)
    {
        if (t < k[0].S) return k[0].F;
        int i = k.Length - 1;
        while (k[i].S > t) i--;
        if (i == k.Length - 1) return k[i].F;
        double a = (double)(t - k[i].S) / (k[i + 1].S - k[i].S);
        return k[i].F + a * (k[i + 1].F - k[i].F);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void TheFactorInterpolatesRandomKnots(int seed)
    {
        var random = new Random(seed);
        var knots = new List<(long, double)>();
        long step = random.Next(0, 7);
        for (int i = 0; i < 7; i++)
        {
            knots.Add((step, random.NextDouble() * 5));
            if (random.Next(3) == 0 && i < 6) knots.Add((step, random.NextDouble() * 5)); // a jump
            step += random.Next(1, 13);
        }
        var schedule = new RateSchedule(knots);
        for (long t = 0; t <= step + 5; t++)
            Assert.Equal(Reference([.. knots], t), schedule.Factor(t), 1e-12);
        Assert.Equal(knots[^1].Item2, schedule.Factor(long.MaxValue / 2));
    }

    [Fact]
    public void AJumpTakesTheSecondKnotsFactorFromItsStep()
    {
        var s = RateSchedule.Parse("gan", "30000:1,30000:16,50000:16,60000:0");
        Assert.Equal(1.0, s.Factor(0));
        Assert.Equal(1.0, s.Factor(29_999));
        Assert.Equal(16.0, s.Factor(30_000));
        Assert.Equal(16.0, s.Factor(50_000));
        Assert.Equal(8.0, s.Factor(55_000), 1e-12);
        Assert.Equal(0.0, s.Factor(60_000));
        Assert.Equal("30000:1,30000:16,50000:16,60000:0", s.ToString());
        Assert.False(s.ZeroFrom(59_999));
        Assert.True(s.ZeroFrom(60_000));
        Assert.False(RateSchedule.Parse("gan", "10:0,20:1").ZeroFrom(5)); // 0 now, but it rises again
    }

    [Theory]
    [InlineData(0, 7)]
    [InlineData(3, 10)]
    [InlineData(30000, 60000)]
    public void TheLinearDecayAsTwoKnotsGivesItsRatesBitForBit(long from, long to)
    {
        var s = RateSchedule.LinearDecay(from, to);
        foreach (float start in new[] { 1e-4f, 3e-4f, 0.0016f })
            for (long t = 0; t <= to + 3; t += Math.Max(1, (to - from) / 97))
                Assert.Equal(LinearDecay.Rate(start, t, from, to), s.Rate(start, t));
    }

    [Theory]
    [InlineData("100", "'100' is not STEP:FACTOR")]
    [InlineData("100:fast", "'100:fast' is not STEP:FACTOR")]
    [InlineData("100:1,50:2", "steps must not decrease")]
    [InlineData("-5:1", "the step must be >= 0")]
    [InlineData("5:-1", "the factor must be a finite number >= 0")]
    [InlineData("5:NaN", "the factor must be a finite number >= 0")]
    [InlineData("5:1,5:2,5:3", "three knots at step 5")]
    public void AMalformedScheduleIsRefusedNamingTheText(string text, string expected)
    {
        var e = Assert.Throws<ArgumentException>(() => RateSchedule.Parse("wgan-gp", text));
        Assert.StartsWith($"wgan-gp: lr_schedule '{text}': ", e.Message);
        Assert.Contains(expected, e.Message);
        e = Assert.Throws<ArgumentException>(() => LearningRateDecayTests.MakeGan("gan", new() { ["lr_schedule"] = text }));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void AScheduleAndALinearDecayTogetherAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => LearningRateDecayTests.MakeGan("wgan-gp", new() { ["lr_schedule"] = "0:1,10:0", ["lr_decay_end"] = "10" }));
        Assert.Matches("^wgan-gp: give lr_schedule .* or lr_decay_start/lr_decay_end .*not both", e.Message);
    }

    [Theory]
    [InlineData("gan")]
    [InlineData("wgan-gp")]
    public void EachGanStepUsesTheScheduleOfItsStep(string kind)
    {
        using var job = LearningRateDecayTests.MakeGan(kind, new() { ["lr_g"] = "0.001", ["lr_d"] = "0.002", ["lr_schedule"] = "2:1,2:4,6:4,10:0" });
        foreach (long t in new long[] { 7, 0, 2, 12, 4, 1 })
        {
            using var b = LearningRateDecayTests.Points(20, (int)t + 1);
            job.Step(b, t);
            double factor = t < 2 ? 1 : t <= 6 ? 4 : Math.Max(0, 4 * (10 - t) / 4.0);
            Assert.Equal(0.001 * factor, job.GeneratorOptimizer.LearningRate, 1e-9);
            Assert.Equal(0.002 * factor, job.DiscriminatorOptimizer.LearningRate, 1e-9);
        }
    }

    [Fact]
    public void DcganFollowsTheSchedule()
    {
        using var job = LearningRateDecayTests.TinyDcgan("lr_schedule", "0:0.5,4:2");
        using var b = LearningRateDecayTests.SixImages(new Random(4));
        job.Step(b, 1);
        Assert.Equal(0.002 * (0.5 + 1.5 / 4), job.GeneratorOptimizer.LearningRate, 1e-9);
        Assert.Equal(0.002 * (0.5 + 1.5 / 4), job.DiscriminatorOptimizer.LearningRate, 1e-9);
    }
}
