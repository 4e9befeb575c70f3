using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// The cpu GEMM variants against float64, at sizes that are not multiples of the micro-tile (6 x 16
/// or 6 x 32), the k slice (256) or the vector width, with all four transpose combinations, alpha and
/// beta that are not 1 and 0, offsets, and leading dimensions wider than the matrices.
/// </summary>
public class GemmCpuTests
{
    static readonly CpuDevice Cpu = (CpuDevice)Device.Get("cpu");

    /// <summary>m, n, k: tails of every block size, 1s, sizes across the k slice (256) and the row block (144), and
    /// last B panels that the packing fills 8 columns at a time.</summary>
    public static TheoryData<int, int, int> TailSizes => new()
    {
        { 1, 1, 1 }, { 1, 7, 33 }, { 7, 1, 97 }, { 7, 33, 1 }, { 33, 97, 7 }, { 97, 33, 130 },
        { 130, 257, 33 }, { 257, 130, 97 }, { 33, 7, 257 }, { 6, 16, 256 }, { 12, 32, 300 }, { 145, 17, 5 },
        // A last panel with a whole group of 8 columns and a rest (29 = 16 + 8 + 5), and with exactly one (24).
        { 9, 29, 19 }, { 13, 24, 40 },
    };

    // The variants go through the raw entry point, Gemm.Cpu, by its variant argument: v1 naive, v2 the packed GEMM with
    // the 6 x 16 micro-kernel, v3 with the 6 x 32 Vector512 one (run, emulated and slowly, where AVX-512 is absent).

    [Theory, MemberData(nameof(TailSizes))]
    public void PackedMatchesFloat64AtTails(int m, int n, int k)
    {
        foreach (var (ta, tb) in Transposes)
        {
            Check(GemmVariant.V2, m, n, k, ta, tb, alpha: 1.5f, beta: -0.75f, seed: m * 7 + n * 3 + k);
            Check(GemmVariant.V2, m, n, k, ta, tb, alpha: -0.5f, beta: 0f, seed: m + n + k);
        }
    }

    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(7, 33, 5)]
    [InlineData(13, 70, 40)]
    [InlineData(33, 7, 130)]
    // Last panels of exactly 16 (48), of 8 (200 = 6 x 32 + 8: the 6 x 16 kernel on a padded tile) and of 29 columns (32 wide).
    [InlineData(9, 48, 19)]
    [InlineData(7, 200, 21)]
    [InlineData(13, 29, 40)]
    public void WideKernelMatchesFloat64AtTails(int m, int n, int k)
    {
        foreach (var (ta, tb) in Transposes)
            Check(GemmVariant.V3, m, n, k, ta, tb, alpha: 0.5f, beta: 2f, seed: 3);
        Check(GemmVariant.V3, m, n, k, false, false, alpha: 1f, beta: 0f, seed: 4);
    }

    [Theory]
    [InlineData(1, 7, 33)]
    [InlineData(33, 97, 7)]
    public void NaiveMatchesFloat64(int m, int n, int k)
    {
        foreach (var (ta, tb) in Transposes)
            Check(GemmVariant.V1, m, n, k, ta, tb, alpha: 1.5f, beta: -0.75f, seed: 9);
    }

    /// <summary>The default (v2 here, v3 on an AVX-512 machine) at a tail size, through the raw entry point.</summary>
    [Fact]
    public void DefaultMatchesFloat64()
    {
        foreach (var (ta, tb) in Transposes)
            Check(GemmVariant.Default, 13, 29, 40, ta, tb, alpha: 1.5f, beta: -0.75f, seed: 10);
    }

    [Fact]
    public void AnUnknownVariantIsRefusedNamingTheValidOnes()
    {
        var c = new float[4];
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.Cpu(Cpu, 2, 2, 1, 1f, [1f, 2f], 0, 1, false, [1f, 2f], 0, 2, false, 0f, c, 0, 2, (GemmVariant)4));
        Assert.Contains("Gemm: no variant 4; the variants are 1, 2, 3 and 0 (Default)", e.Message);
        using var a = Tensor.Zeros(Device.Cpu, 2, 2);
        Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMul(a, a, variant: (GemmVariant)(-1)));
    }

    [Fact]
    public void PackedMatchesFloat64AtA512ishSize()
    {
        Check(GemmVariant.V2, 515, 509, 520, false, false, alpha: 0.75f, beta: 0.5f, seed: 11);
    }

    /// <summary>Wider than one B block (4096 columns) and short: crosses the column blocking and splits columns over cores.</summary>
    [Fact]
    public void PackedMatchesFloat64AcrossColumnBlocksAndColumnSplit()
    {
        Check(GemmVariant.V2, 7, 4100, 20, false, false, alpha: 1f, beta: 0f, seed: 13);
        Check(GemmVariant.V2, 3, 4097, 21, true, true, alpha: 2f, beta: 0.5f, seed: 14);
    }

    /// <summary>k = 0 is an empty sum: C = beta * C, and beta = 0 clears C even where it held NaN; every variant.</summary>
    [Theory]
    [InlineData(GemmVariant.V1)]
    [InlineData(GemmVariant.V2)]
    [InlineData(GemmVariant.V3)]
    public void EmptyInnerDimensionScalesC(GemmVariant variant)
    {
        var c = new[] { 1f, float.NaN, 3f, 4f };
        Gemm.Cpu(Cpu, 2, 2, 0, 1f, [], 0, 1, false, [], 0, 2, false, 0f, c, 0, 2, variant);
        Assert.Equal(new[] { 0f, 0f, 0f, 0f }, c);
        c = [1f, 2f, 3f, 4f];
        Gemm.Cpu(Cpu, 2, 2, 0, 1f, [], 0, 1, false, [], 0, 2, false, 2f, c, 0, 2, variant);
        Assert.Equal(new[] { 2f, 4f, 6f, 8f }, c);
    }

    static readonly (bool, bool)[] Transposes = [(false, false), (true, false), (false, true), (true, true)];

    /// <summary>
    /// Runs a variant on matrices placed at an offset in larger arrays with padded rows, and checks
    /// C = alpha op(A) op(B) + beta C0 against float64, and that nothing outside C was written.
    /// beta = 0: C starts as NaN, which must not leak into the result.
    /// </summary>
    static void Check(GemmVariant variant, int m, int n, int k, bool ta, bool tb, float alpha, float beta, int seed)
    {
        var rng = new Random(seed);
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 3, ldb = bCols + 5, ldc = n + 2, aOff = 4, bOff = 1, cOff = 7;
        float[] a = Random(rng, aOff + aRows * lda), b = Random(rng, bOff + bRows * ldb);
        float[] c = beta == 0f ? Enumerable.Repeat(float.NaN, cOff + m * ldc).ToArray() : Random(rng, cOff + m * ldc);
        // A sentinel in C's padding (and before its offset): must survive.
        for (int i = 0; i < m; i++) for (int j = n; j < ldc; j++) c[cOff + i * ldc + j] = 1234f;
        for (int i = 0; i < cOff; i++) c[i] = 1234f;
        var c0 = (float[])c.Clone();

        Gemm.Cpu(Cpu, m, n, k, alpha, a, aOff, lda, ta, b, bOff, ldb, tb, beta, c, cOff, ldc, variant);

        var expected = new double[m * n];
        var actual = new float[m * n];
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += (double)a[aOff + (ta ? p * lda + i : i * lda + p)] * b[bOff + (tb ? j * ldb + p : p * ldb + j)];
                expected[i * n + j] = alpha * s + (beta == 0f ? 0 : beta * (double)c0[cOff + i * ldc + j]);
                actual[i * n + j] = c[cOff + i * ldc + j];
            }
        // float32 sums of k products of values in [-1, 1]: the absolute error grows about like k * eps.
        AssertClose(expected, actual, rtol: 1e-4, atol: 1e-5 + 1e-6 * k, what: $"{variant} {m}x{n}x{k} transA={ta} transB={tb} alpha={alpha} beta={beta}");
        for (int i = 0; i < m; i++) for (int j = n; j < ldc; j++) Assert.Equal(1234f, c[cOff + i * ldc + j]);
        for (int i = 0; i < cOff; i++) Assert.Equal(1234f, c[i]);
    }
}
