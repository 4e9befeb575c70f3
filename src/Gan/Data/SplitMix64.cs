namespace NativeGan.Gan.Data;

/// <summary>
/// The SplitMix64 generator (Steele, Lea and Flood 2014; the seeder of Java's SplittableRandom and of
/// xoshiro): a 64-bit counter advanced by the golden-ratio constant and passed through a bijective mixer.
/// Host-side randomness of the data pipeline (shuffles, synthetic points): tiny, fast, fully determined by its
/// seed on every platform, unlike <see cref="System.Random"/> whose algorithm is not a documented contract.
/// </summary>
public struct SplitMix64(ulong seed)
{
    ulong state = seed;

    /// <summary>The mixer alone: a bijection of 64-bit values that spreads every input bit over every output bit.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A seed for one stream derived from a run seed and a stream index (an epoch, a dataset):
    /// different indices give unrelated streams.</summary>
    public static ulong Derive(ulong seed, ulong stream) => Mix(Mix(seed) ^ (stream * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL));

    public ulong NextUInt64()
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix(state);
    }

    /// <summary>Uniform in [0, n) without modulo bias (Lemire's multiply-shift with rejection).</summary>
    public int NextInt(int n)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n);
        ulong bound = (ulong)n;
        while (true)
        {
            ulong x = NextUInt64();
            UInt128 m = (UInt128)x * bound;
            ulong low = (ulong)m;
            if (low >= (0UL - bound) % bound) return (int)(ulong)(m >> 64);
        }
    }

    /// <summary>Uniform in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>A standard normal draw (Box–Muller; the second value of each pair is not kept, for simplicity).</summary>
    public double NextGaussian()
    {
        double u1 = 1.0 - NextDouble(); // (0, 1]: log is finite
        double u2 = NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher–Yates: every permutation equally likely).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }
}
