using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class RandomTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>
    /// Random123's known-answer vectors for Philox4x32-10 (its tests/kat_vectors; the same three appear in
    /// TensorFlow's philox tests): counter, key, expected output.
    /// </summary>
    public static TheoryData<uint[], uint[], uint[]> KnownAnswers => new()
    {
        { [0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8] },
        { [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd] },
        { [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1] },
    };

    [Theory, MemberData(nameof(KnownAnswers))]
    public void PhiloxMatchesRandom123(uint[] counter, uint[] key, uint[] expected)
    {
        var block = Philox.Block(counter[0], counter[1], counter[2], counter[3], key[0], key[1]);
        Assert.Equal(expected, new[] { block.X0, block.X1, block.X2, block.X3 });
    }

    [Fact]
    public void StreamPositionsAreBlockWords()
    {
        ulong seed = 0x299f31d0a4093822;
        var block = Philox.Block(5, 0, 0, 0, 0xa4093822, 0x299f31d0);
        for (int w = 0; w < 4; w++) Assert.Equal(block[w], Philox.At(seed, 20 + (ulong)w));
        Assert.Equal(Philox.Block(7, 1, 0, 0, 0xa4093822, 0x299f31d0).X2, Philox.At(seed, ((1UL << 32) + 7) * 4 + 2));
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Random.Fill")]
    public void DrawsMatchTheStreamDefinition(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        int n = TestDevices.IsSlow(d) ? 37 : 10_007;
        foreach (ulong offset in new ulong[] { 0, 3, 6, (1UL << 34) + 1 })
        {
            using var u = Poisoned(d, n);
            RandomOps.FillUniform(u, 42, offset, -2f, 3f);
            AssertClose(RandomOps.Reference.Draw(Distribution.Uniform, n, 42, offset, -2, 3), u.ToArray(), what: $"uniform at {offset}");
            using var z = Poisoned(d, n);
            RandomOps.FillNormal(z, 42, offset, 1f, 2f);
            AssertClose(RandomOps.Reference.Draw(Distribution.Normal, n, 42, offset, 1, 2), z.ToArray(), rtol: 1e-5, atol: 5e-5, what: $"normal at {offset}");
            using var m = RandomOps.BernoulliMask(d, [n], 0.3f, 42, offset, value: 2.5f);
            AssertClose(RandomOps.Reference.Draw(Distribution.Bernoulli, n, 42, offset, 0.3f, 2.5f), m.ToArray(), rtol: 0, atol: 0, what: $"mask at {offset}");
        }
    }

    [Fact, Trait("Kernel", "Random.Fill")]
    public void CpuAndGpuKernelGiveIdenticalBits()
    {
        var gpu = Device.Get("ilgpu-cpu");
        int[] shape = [3, 5, 7];
        foreach (var (seed, offset) in new (ulong, ulong)[] { (0, 0), (1234567890123, 5), (ulong.MaxValue, 1UL << 40) })
        {
            using var uc = RandomOps.Uniform(Device.Cpu, shape, seed, offset);
            using var ug = RandomOps.Uniform(gpu, shape, seed, offset);
            Assert.Equal(Bits(uc), Bits(ug));
            using var nc = RandomOps.Normal(Device.Cpu, shape, seed, offset, 0.5f, 3f);
            using var ng = RandomOps.Normal(gpu, shape, seed, offset, 0.5f, 3f);
            Assert.Equal(Bits(nc), Bits(ng));
            using var bc = RandomOps.BernoulliMask(Device.Cpu, shape, 0.7f, seed, offset);
            using var bg = RandomOps.BernoulliMask(gpu, shape, 0.7f, seed, offset);
            Assert.Equal(Bits(bc), Bits(bg));
        }

        static int[] Bits(Tensor t) => Array.ConvertAll(t.ToArray(), BitConverter.SingleToInt32Bits);
    }

    [Fact]
    public void RngSplitsDrawsWithoutChangingThem()
    {
        // Drawing 5, then 8, then 3 numbers equals one draw of 16; resuming from the saved (seed, offset) continues it.
        var rng = new Rng(99);
        using var a = rng.Normal(Device.Cpu, [5]);
        using var b = rng.Normal(Device.Cpu, [2, 4]);
        ulong saved = rng.Offset;
        using var c = rng.Normal(Device.Cpu, [3]);
        Assert.Equal(16UL, rng.Offset);
        using var whole = RandomOps.Normal(Device.Cpu, [16], 99);
        Assert.Equal(whole.ToArray(), a.ToArray().Concat(b.ToArray()).Concat(c.ToArray()).ToArray());
        var resumed = new Rng(99, saved);
        using var again = resumed.Normal(Device.Cpu, [3]);
        Assert.Equal(c.ToArray(), again.ToArray());
        Assert.Equal(saved + 3, resumed.Offset);
    }

    [Fact]
    public void MomentsAreWithinStatisticalBounds()
    {
        // 10^5 draws: each sample moment must be within 5 standard errors of the true value.
        const int n = 100_000;
        double bound = 5 / Math.Sqrt(n);
        using var z = RandomOps.Normal(Device.Cpu, [n], 7, 0, mean: 2f, std: 3f);
        var zs = ToDouble(z.ToArray());
        double mean = zs.Average(), variance = zs.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        Assert.InRange(mean, 2 - 3 * bound, 2 + 3 * bound);                  // sd of the mean: 3 / sqrt(n)
        Assert.InRange(variance, 9 - 9 * Math.Sqrt(2) * bound, 9 + 9 * Math.Sqrt(2) * bound); // sd of s²: σ² sqrt(2 / n)
        Assert.True(zs.All(double.IsFinite));
        double within1 = zs.Count(v => Math.Abs(v - 2) < 3) / (double)n;   // P(|Z| < 1) = 0.6827
        Assert.InRange(within1, 0.6827 - 0.466 * bound, 0.6827 + 0.466 * bound);

        using var u = RandomOps.Uniform(Device.Cpu, [n], 8);
        var us = ToDouble(u.ToArray());
        Assert.InRange(us.Average(), 0.5 - 0.2887 * bound, 0.5 + 0.2887 * bound);
        Assert.True(us.All(v => v >= 0 && v < 1));

        using var m = RandomOps.BernoulliMask(Device.Cpu, [n], 0.8f, 9);
        var ms = m.ToArray();
        Assert.True(ms.All(v => v == 0f || v == 1f));
        Assert.InRange(ms.Average(), 0.8 - 0.4 * bound, 0.8 + 0.4 * bound); // sd: sqrt(p (1 - p) / n)
    }

    [Theory]
    [InlineData(1.0f)]
    [InlineData(0.37f)]
    [InlineData(2.5f)]
    public void TruncatedNormalIsTheNormalRestrictedToTheBound(float bound)
    {
        // 100,003 draws: every value inside the bound; the variance within 5 standard errors of the truncated
        // normal's, by quadrature in float64 (not by the sampler's own arithmetic); elements the first draw put
        // inside keep their values; the stream advanced by n / P(|Z| <= bound) within its sampling error.
        const int n = 100_003;
        var rng = new Rng(11);
        using var t = rng.TruncatedNormal(Device.Cpu, [n], bound);
        var z = ToDouble(t.ToArray());
        Assert.True(z.All(v => Math.Abs(v) <= bound));

        // Moments of N(0, 1) on [-b, b] by Simpson's rule on 20,000 intervals.
        double b = bound, mass = 0, second = 0, fourth = 0;
        const int steps = 20_000;
        for (int i = 0; i <= steps; i++)
        {
            double x = -b + 2 * b * i / steps, w = (i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2) * (2 * b / steps / 3);
            double density = Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI);
            mass += w * density; second += w * x * x * density; fourth += w * x * x * x * x * density;
        }
        double variance = second / mass, sdOfVariance = Math.Sqrt((fourth / mass - variance * variance) / n);
        double mean = z.Average(), sampleVariance = z.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        Assert.InRange(mean, -5 * Math.Sqrt(variance / n), 5 * Math.Sqrt(variance / n));
        Assert.InRange(sampleVariance, variance - 5 * sdOfVariance, variance + 5 * sdOfVariance);

        using var plain = RandomOps.Normal(Device.Cpu, [n], 11);
        var p = plain.ToArray();
        var kept = Enumerable.Range(0, n).Where(i => Math.Abs(p[i]) <= bound).ToArray();
        Assert.Equal(kept.Select(i => p[i]), kept.Select(i => (float)z[i]));
        Assert.True(kept.Length < n); // some were redrawn, or the bound was not tested

        // Draws used: a negative binomial count with mean n / mass and sd sqrt(n (1 - mass)) / mass.
        double used = rng.Offset, expected = n / mass, sd = Math.Sqrt(n * (1 - mass)) / mass;
        Assert.InRange(used, expected - 5 * sd, expected + 5 * sd);

        using var again = new Rng(11).TruncatedNormal(Device.Cpu, [n], bound);
        Assert.Equal(t.ToArray(), again.ToArray());
    }

    [Fact]
    public void BlockSamplingEqualsElementSampling()
    {
        // The kernels compute a block's four elements at once (a normal pair shares its logarithm); that must
        // give the same bits as the one-element definition.
        foreach (var distribution in Enum.GetValues<Distribution>())
            for (ulong index = 0; index < 200; index++)
            {
                var bits = Philox.StreamBlock(77, index * 7919);
                var block = RandomOps.SampleBlock(distribution, bits, 0.25f, 1.5f);
                for (int w = 0; w < 4; w++)
                    Assert.Equal(BitConverter.SingleToInt32Bits(RandomOps.Sample(distribution, bits, w, 0.25f, 1.5f)), BitConverter.SingleToInt32Bits(block[w]));
            }
    }

    [Fact]
    public void OpenUniformNeverTouchesZeroOrOne()
    {
        Assert.True(Philox.ToOpenUniform(0) > 0f);
        Assert.True(Philox.ToOpenUniform(uint.MaxValue) < 1f);
        Assert.True(Philox.ToUniform(uint.MaxValue) < 1f);
        Assert.Equal(0f, Philox.ToUniform(0));
        Assert.True(float.IsFinite(Philox.BoxMuller(0, 0, false)));
    }

    [Fact]
    public void BadArgumentsAreRefused()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => RandomOps.BernoulliMask(Device.Cpu, [3], 1.5f, 1));
        Assert.Contains("BernoulliMask", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomOps.BernoulliMask(Device.Cpu, [3], float.NaN, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => RandomOps.Normal(Device.Cpu, [3], 1, std: -1f));
        Assert.Throws<TensorShapeException>(() => RandomOps.Uniform(Device.Cpu, [3, -1], 1));
        foreach (float bound in new[] { 0f, 0.01f, -1f, float.NaN, float.PositiveInfinity })
            Assert.Contains("TruncatedNormal", Assert.Throws<ArgumentOutOfRangeException>(() => new Rng(1).TruncatedNormal(Device.Cpu, [3], bound)).Message);
        using var empty = RandomOps.Uniform(Device.Cpu, [0, 4], 1);
        Assert.Equal(0, empty.Length);
    }
}
