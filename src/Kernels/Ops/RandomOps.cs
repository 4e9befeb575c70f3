using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>The distributions <see cref="RandomOps"/> draws from.</summary>
public enum Distribution
{
    /// <summary>Uniform on [a, b).</summary>
    Uniform,
    /// <summary>Normal with mean a and standard deviation b (Box-Muller).</summary>
    Normal,
    /// <summary>b with probability a, else 0.</summary>
    Bernoulli,
}

/// <summary>
/// Random tensors from the Philox4x32-10 stream (<see cref="Philox"/>). Element j of a draw at
/// (seed, offset) is made from stream position offset + j, on every device, so a draw is a pure function of
/// (seed, offset, shape): the cpu and the GPU give the same numbers, and a draw of n then m numbers equals one
/// draw of n + m. Every distribution uses exactly one position per element (a normal takes its Box-Muller
/// partner from the neighbouring position of its pair), so an <see cref="Rng"/> advances its offset by the
/// number of elements drawn.
///
/// <para>Bit-exactness: uniforms on [0, 1) and Bernoulli masks are integer arithmetic plus one exact
/// multiplication, identical on every device. Normals (and uniforms on [a, b)) also go through float
/// arithmetic: identical between cpu and ilgpu-cpu (same .NET math); on CUDA the log, sin and cos of the GPU's
/// math library may differ in the last bits.</para>
///
/// <para>One GPU thread (or cpu loop step) computes one Philox block and writes the up to four elements it
/// covers, so a block is never computed twice (nor a Box-Muller pair's logarithm).</para>
/// </summary>
public static class RandomOps
{
    // ================================================================ scalar math

    /// <summary>Element <paramref name="word"/> (0..3) of a Philox block under a distribution with parameters a, b.</summary>
    public static float Sample(Distribution distribution, PhiloxBlock block, int word, float a, float b)
    {
        switch (distribution)
        {
            case Distribution.Normal:
                // Words (0, 1) and (2, 3) are the Box-Muller pairs.
                int first = word & ~1;
                return a + b * Philox.BoxMuller(block[first], block[first + 1], (word & 1) != 0);
            case Distribution.Bernoulli:
                return Philox.ToUniform(block[word]) < a ? b : 0f;
            default:
                return a + (b - a) * Philox.ToUniform(block[word]);
        }
    }

    /// <summary>All four elements of a block: what the kernels use (a normal pair shares its log and sqrt).</summary>
    public static Block4 SampleBlock(Distribution distribution, PhiloxBlock block, float a, float b)
    {
        if (distribution == Distribution.Normal)
        {
            var (z0, z1) = Philox.BoxMullerPair(block.X0, block.X1);
            var (z2, z3) = Philox.BoxMullerPair(block.X2, block.X3);
            return new Block4(a + b * z0, a + b * z1, a + b * z2, a + b * z3);
        }
        return new Block4(Sample(distribution, block, 0, a, b), Sample(distribution, block, 1, a, b),
                          Sample(distribution, block, 2, a, b), Sample(distribution, block, 3, a, b));
    }

    // ================================================================ float64 reference

    /// <summary>The stream element by element, one position at a time (no block sharing): the definition.</summary>
    public static class Reference
    {
        public static double[] Draw(Distribution distribution, int count, ulong seed, ulong offset, double a, double b)
        {
            var y = new double[count];
            for (int j = 0; j < count; j++)
            {
                ulong p = offset + (ulong)j;
                y[j] = distribution switch
                {
                    Distribution.Uniform => a + (b - a) * ((Philox.At(seed, p) >> 8) / 16777216.0),
                    Distribution.Bernoulli => (Philox.At(seed, p) >> 8) / 16777216.0 < a ? b : 0,
                    _ => a + b * BoxMuller(Philox.At(seed, p & ~1UL), Philox.At(seed, p | 1UL), (p & 1) != 0),
                };
            }
            return y;
        }

        static double BoxMuller(uint w1, uint w2, bool second)
        {
            double u1 = ((w1 >> 9) * 2.0 + 1) / 16777216.0, u2 = (w2 >> 8) / 16777216.0;
            double r = Math.Sqrt(-2 * Math.Log(u1));
            return second ? r * Math.Sin(2 * Math.PI * u2) : r * Math.Cos(2 * Math.PI * u2);
        }
    }

    // ================================================================ entry points

    /// <summary>Uniform on [<paramref name="low"/>, <paramref name="high"/>) (default [0, 1)).</summary>
    public static Tensor Uniform(Device device, int[] shape, ulong seed, ulong offset = 0, float low = 0f, float high = 1f)
        => Draw(device, shape, Distribution.Uniform, seed, offset, low, high);

    /// <summary>Normal with mean <paramref name="mean"/> and standard deviation <paramref name="std"/>.</summary>
    public static Tensor Normal(Device device, int[] shape, ulong seed, ulong offset = 0, float mean = 0f, float std = 1f)
        => Draw(device, shape, Distribution.Normal, seed, offset, mean, std);

    /// <summary>
    /// A mask of <paramref name="value"/> with probability <paramref name="keepProbability"/> and 0 otherwise.
    /// The default value 1 gives a plain 0/1 mask; pass value = 1 / keepProbability for inverted dropout
    /// (the kept activations scaled so the expectation is unchanged).
    /// </summary>
    public static Tensor BernoulliMask(Device device, int[] shape, float keepProbability, ulong seed, ulong offset = 0, float value = 1f)
    {
        if (!(keepProbability >= 0f && keepProbability <= 1f))
            throw new ArgumentOutOfRangeException(nameof(keepProbability), $"RandomOps.BernoulliMask: keepProbability must be in [0, 1], got {keepProbability}");
        return Draw(device, shape, Distribution.Bernoulli, seed, offset, keepProbability, value);
    }

    /// <summary>Overwrites <paramref name="t"/> with uniforms on [low, high).</summary>
    public static void FillUniform(Tensor t, ulong seed, ulong offset = 0, float low = 0f, float high = 1f)
        => Fill(t, Distribution.Uniform, seed, offset, low, high);

    /// <summary>Overwrites <paramref name="t"/> with normals.</summary>
    public static void FillNormal(Tensor t, ulong seed, ulong offset = 0, float mean = 0f, float std = 1f)
        => Fill(t, Distribution.Normal, seed, offset, mean, std);

    static Tensor Draw(Device device, int[] shape, Distribution distribution, ulong seed, ulong offset, float a, float b)
    {
        Shapes.Validate($"RandomOps.{distribution}", shape);
        var t = Tensor.Empty(device, shape);
        Fill(t, distribution, seed, offset, a, b);
        return t;
    }

    /// <summary>Writes positions offset .. offset + t.Length - 1 of the stream of <paramref name="seed"/> into <paramref name="t"/>.</summary>
    public static void Fill(Tensor t, Distribution distribution, ulong seed, ulong offset, float a, float b)
    {
        if (distribution == Distribution.Normal && !(b >= 0f))
            throw new ArgumentOutOfRangeException(nameof(b), $"RandomOps.Normal: the standard deviation must be >= 0, got {b}");
        if (t.Length == 0) return;
        // Blocks touched: from offset / 4 to (offset + length - 1) / 4; lead = elements of the first block before offset.
        int lead = (int)(offset % 4);
        int blocks = (lead + t.Length + 3) / 4;
        var args = new RandomArgs(seed, offset / 4, lead, t.Length, distribution, a, b);
        switch (t.Device)
        {
            case CpuDevice cpu:
                var (ya, yo) = t.CpuBuffer;
                CpuParallel.For(cpu, blocks, (start, count) =>
                {
                    for (int block = start; block < start + count; block++) WriteBlock(block, args, ya.AsSpan(yo, t.Length));
                }, grain: 4096);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, RandomArgs>>(FillSpec)(gpu.Stream, blocks, t.View, args);
                break;
        }
    }

    /// <summary>The cpu loop body: block <paramref name="block"/> of the draw writes its (up to four) elements.</summary>
    static void WriteBlock(int block, RandomArgs g, Span<float> y)
    {
        var values = SampleBlock(g.Distribution, Philox.StreamBlock(g.Seed, g.FirstBlock + (ulong)block), g.A, g.B);
        for (int word = 0; word < 4; word++)
        {
            int j = block * 4 + word - g.Lead;
            if (j >= 0 && j < g.Length) y[j] = values[word];
        }
    }

    // ================================================================ GPU kernel

    internal static readonly KernelSpec FillSpec = KernelSpec.Implicit("Random.Fill", typeof(RandomOps), nameof(FillKernel));

    /// <summary>One thread per Philox block: the same arithmetic as the cpu loop, element for element.</summary>
    static void FillKernel(Index1D block, ArrayView<float> y, RandomArgs g)
    {
        var values = SampleBlock(g.Distribution, Philox.StreamBlock(g.Seed, g.FirstBlock + (ulong)(int)block), g.A, g.B);
        for (int word = 0; word < 4; word++)
        {
            int j = block * 4 + word - g.Lead;
            if (j >= 0 && j < g.Length) y[j] = values[word];
        }
    }
}

/// <summary>Four floats: the elements one Philox block yields.</summary>
public readonly struct Block4(float v0, float v1, float v2, float v3)
{
    public readonly float V0 = v0, V1 = v1, V2 = v2, V3 = v3;

    public float this[int i] => i switch { 0 => V0, 1 => V1, 2 => V2, _ => V3 };
}

/// <summary>The arguments of a draw: the key, where the draw starts in the stream, and the distribution's parameters.</summary>
public readonly struct RandomArgs(ulong seed, ulong firstBlock, int lead, int length, Distribution distribution, float a, float b)
{
    public readonly ulong Seed = seed, FirstBlock = firstBlock;
    public readonly int Lead = lead, Length = length;
    public readonly Distribution Distribution = distribution;
    public readonly float A = a, B = b;
}

/// <summary>
/// A position in a Philox stream: (seed, offset). Each draw uses positions offset .. offset + n - 1 and then
/// advances the offset by n, so saving (Seed, Offset) in a checkpoint and building <c>new Rng(seed, offset)</c>
/// on resume reproduces every later draw exactly, on any device.
/// </summary>
public sealed class Rng(ulong seed, ulong offset = 0)
{
    long offset = (long)offset;

    public ulong Seed { get; } = seed;

    /// <summary>The next stream position to be drawn.</summary>
    public ulong Offset => (ulong)Interlocked.Read(ref offset);

    /// <summary>Reserves <paramref name="count"/> positions and returns the first (for callers that draw themselves).</summary>
    public ulong Advance(long count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return (ulong)(Interlocked.Add(ref offset, count) - count);
    }

    /// <summary>This process's rank and the number of ranks when the stream is shared by data-parallel ranks
    /// (<see cref="ShardRows"/>); (0, 1) otherwise.</summary>
    public (int Rank, int Count) Shard { get; private set; } = (0, 1);

    /// <summary>
    /// Makes every later draw this rank's rows of a draw over all ranks: a draw of shape [n, ...] takes the stream positions
    /// a draw of [n x <paramref name="count"/>, ...] would, and returns rows rank x n .. (rank + 1) x n - 1 of it. So the
    /// ranks of a data-parallel run, each drawing for its shard of the batch, together draw exactly the noise one process
    /// draws for the whole batch (the latents, a gradient penalty's mixing weights, dropout masks), and the stream's offset
    /// is the same on every rank and for any number of ranks: a checkpoint resumes with another rank count. A job's draws
    /// must then be per-sample (first dimension the batch); <see cref="TruncatedNormal"/>, which redraws a varying count, is
    /// for sampling, not training.
    /// </summary>
    public void ShardRows(int rank, int count)
    {
        if (count < 1 || rank < 0 || rank >= count)
            throw new ArgumentOutOfRangeException(nameof(rank), $"Rng.ShardRows: rank {rank} of {count} ranks");
        Shard = (rank, count);
    }

    /// <summary>The first stream position of a draw of <paramref name="shape"/> (this rank's rows when sharded).</summary>
    ulong Reserve(int[] shape)
    {
        long n = Shapes.Numel(shape);
        var (rank, count) = Shard;
        if (count == 1) return Advance(n);
        return Advance(n * count) + (ulong)(n * rank);
    }

    public Tensor Uniform(Device device, int[] shape, float low = 0f, float high = 1f)
        => RandomOps.Uniform(device, shape, Seed, Reserve(shape), low, high);

    public Tensor Normal(Device device, int[] shape, float mean = 0f, float std = 1f)
        => RandomOps.Normal(device, shape, Seed, Reserve(shape), mean, std);

    /// <summary>Below this bound fewer than 4% of draws are kept: almost surely a mistake, not a request.</summary>
    public const float SmallestTruncationBound = 0.05f;

    /// <summary>Whether <see cref="TruncatedNormal"/> takes <paramref name="bound"/>: finite and at least <see cref="SmallestTruncationBound"/>.</summary>
    public static bool IsTruncationBound(float bound) => bound >= SmallestTruncationBound && !float.IsInfinity(bound);

    /// <summary>
    /// Standard normals restricted to [-bound, bound] (the "truncation trick" of BigGAN, Brock et al. 2019: a
    /// generator fed latents near the centre of its prior trades variety for fidelity). Rejection sampling: the
    /// elements of one N(0, 1) draw that fall outside are redrawn, in index order, from the next positions of
    /// this stream until none is left, so the result is a pure function of (seed, offset, shape, bound) and the
    /// elements already inside keep the values <see cref="Normal"/> would give them. Drawn on the host: it is
    /// meant for sampling and evaluation, not for a training step.
    /// </summary>
    public Tensor TruncatedNormal(Device device, int[] shape, float bound)
    {
        if (!IsTruncationBound(bound))
            throw new ArgumentOutOfRangeException(nameof(bound), bound, $"Rng.TruncatedNormal: the bound must be a finite number of at least {SmallestTruncationBound}, got {bound}");
        float[] z;
        using (var first = Normal(Device.Cpu, shape)) z = first.ToArray();
        var outside = new List<int>();
        for (int i = 0; i < z.Length; i++) if (MathF.Abs(z[i]) > bound) outside.Add(i);
        while (outside.Count > 0)
        {
            float[] fresh;
            using (var redraw = Normal(Device.Cpu, [outside.Count])) fresh = redraw.ToArray();
            var still = new List<int>();
            for (int j = 0; j < outside.Count; j++)
            {
                z[outside[j]] = fresh[j];
                if (MathF.Abs(fresh[j]) > bound) still.Add(outside[j]);
            }
            outside = still;
        }
        return Tensor.FromArray(z, shape, device);
    }

    /// <summary>See <see cref="RandomOps.BernoulliMask"/>: <paramref name="value"/> with probability keepProbability, else 0.</summary>
    public Tensor BernoulliMask(Device device, int[] shape, float keepProbability, float value = 1f)
        => RandomOps.BernoulliMask(device, shape, keepProbability, Seed, Reserve(shape), value);

    public void FillUniform(Tensor t, float low = 0f, float high = 1f) => RandomOps.FillUniform(t, Seed, Reserve(t.Shape), low, high);

    public void FillNormal(Tensor t, float mean = 0f, float std = 1f) => RandomOps.FillNormal(t, Seed, Reserve(t.Shape), mean, std);

    public override string ToString() => $"Rng(seed {Seed}, offset {Offset})";
}
