namespace NativeGan;

/// <summary>Four 32-bit words: one Philox counter, or one block of Philox output.</summary>
public readonly struct PhiloxBlock(uint x0, uint x1, uint x2, uint x3)
{
    public readonly uint X0 = x0, X1 = x1, X2 = x2, X3 = x3;

    /// <summary>Word 0..3.</summary>
    public uint this[int word] => word switch { 0 => X0, 1 => X1, 2 => X2, _ => X3 };

    public override string ToString() => $"{X0:x8} {X1:x8} {X2:x8} {X3:x8}";
}

/// <summary>
/// Philox4x32-10, the counter-based random number generator of Salmon, Moraes, Dror and Shaw,
/// "Parallel random numbers: as easy as 1, 2, 3" (SC 2011), as in their Random123 library.
///
/// <para>A counter-based generator is a keyed bijection: block = Philox(counter, key). There is no state to
/// carry from one number to the next, so any thread can compute number i directly from (seed, i): the cpu loop
/// and the GPU kernel call this same scalar function and get the same bits (tested against Random123's
/// known-answer vectors). Each round multiplies two words by fixed odd constants, keeps the high and low halves
/// of the 64-bit products, and mixes them with the other words and the key; the key is bumped by the Weyl
/// constants (golden ratio and sqrt(3) - 1, in 32-bit fixed point) between rounds. Ten rounds pass BigCrush.</para>
///
/// <para>This engine's stream: seed s is the key (k0 = low 32 bits, k1 = high 32 bits); number p of the stream is
/// word p mod 4 of block Philox((p / 4 low, p / 4 high, 0, 0), key). An offset into the stream is therefore
/// all that a checkpoint needs to resume the exact same numbers.</para>
/// </summary>
public static class Philox
{
    /// <summary>The round multipliers.</summary>
    public const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57;

    /// <summary>The key increments (Weyl sequence): golden ratio and sqrt(3) - 1 times 2^32.</summary>
    public const uint W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    public const int Rounds = 10;

    /// <summary>Philox4x32-10 of counter (c0, c1, c2, c3) under key (k0, k1).</summary>
    public static PhiloxBlock Block(uint c0, uint c1, uint c2, uint c3, uint k0, uint k1)
    {
        for (int round = 0; round < Rounds; round++)
        {
            if (round > 0) { k0 += W0; k1 += W1; }
            ulong p0 = (ulong)M0 * c0, p1 = (ulong)M1 * c2;
            uint hi0 = (uint)(p0 >> 32), lo0 = (uint)p0;
            uint hi1 = (uint)(p1 >> 32), lo1 = (uint)p1;
            uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        }
        return new PhiloxBlock(c0, c1, c2, c3);
    }

    /// <summary>Block <paramref name="index"/> of the stream of <paramref name="seed"/>: the four numbers at positions 4*index .. 4*index+3.</summary>
    public static PhiloxBlock StreamBlock(ulong seed, ulong index)
        => Block((uint)index, (uint)(index >> 32), 0, 0, (uint)seed, (uint)(seed >> 32));

    /// <summary>The 32-bit number at <paramref name="position"/> of the stream of <paramref name="seed"/>.</summary>
    public static uint At(ulong seed, ulong position) => StreamBlock(seed, position / 4)[(int)(position % 4)];

    /// <summary>A uniform float in [0, 1): the top 24 bits of the word (all a float's mantissa holds) times 2^-24.</summary>
    public static float ToUniform(uint word) => (word >> 8) * (1f / 16777216f);

    /// <summary>A uniform float in (0, 1), never 0 or 1 (odd multiples of 2^-24), safe inside a logarithm.</summary>
    public static float ToOpenUniform(uint word) => ((word >> 9) * 2 + 1) * (1f / 16777216f);

    /// <summary>
    /// Box-Muller: two independent uniforms give two independent standard normals,
    /// r = sqrt(-2 ln u1), z0 = r cos(2 pi u2), z1 = r sin(2 pi u2). u1 is open, so ln u1 is finite
    /// (|z| &lt;= sqrt(-2 ln 2^-24) ≈ 5.77). Returns z0 when <paramref name="second"/> is false, z1 otherwise.
    /// </summary>
    public static float BoxMuller(uint word1, uint word2, bool second)
    {
        var (z0, z1) = BoxMullerPair(word1, word2);
        return second ? z1 : z0;
    }

    /// <summary>Both normals of a Box-Muller pair, sharing one logarithm and square root.</summary>
    public static (float Z0, float Z1) BoxMullerPair(uint word1, uint word2)
    {
        float r = MathF.Sqrt(-2f * MathF.Log(ToOpenUniform(word1)));
        float theta = 2f * MathF.PI * ToUniform(word2);
        return (r * MathF.Cos(theta), r * MathF.Sin(theta));
    }
}
