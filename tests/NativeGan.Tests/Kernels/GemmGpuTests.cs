using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>
/// Conformance of each GPU GEMM kernel (run on ILGPU's CPU accelerator here, on a GPU where there is
/// one) against float64 at tiny tail sizes: not multiples of the tiles (16; 64 x 64 x 16), 1s, all four
/// transposes, alpha and beta not 1 and 0, views at an offset and leading dimensions wider than the matrices.
/// </summary>
public class GemmGpuTests
{
    /// <summary>Theory data: each GPU device with each of the four transpose combinations (one launch set a case keeps each test short on ilgpu-cpu).</summary>
    public static TheoryData<string, bool, bool> Cases
    {
        get
        {
            var data = new TheoryData<string, bool, bool>();
            foreach (var device in TestDevices.Gpu)
                foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
                    data.Add(device, ta, tb);
            return data;
        }
    }

    [Theory, MemberData(nameof(Cases)), Trait("Kernel", "Gemm.V1Naive")]
    public void V1NaiveMatchesFloat64(string device, bool ta, bool tb)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        foreach (var (m, n, k) in new[] { (1, 1, 1), (5, 3, 7), (3, 9, 1) })
            Check(gpu, Gemm.GpuV1Naive, m, n, k, ta, tb, 1.5f, -0.5f);
        Check(gpu, Gemm.GpuV1Naive, 4, 5, 6, ta, tb, 1f, 0f);
    }

    [Theory, MemberData(nameof(Cases)), Trait("Kernel", "Gemm.V2SharedTiled")]
    public void V2SharedTiledMatchesFloat64(string device, bool ta, bool tb)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        // 17 and 33 cross one and two tile edges; k = 19 and 33 leave a partial last k tile; 1s everywhere.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (17, 5, 19), (5, 33, 3) })
            Check(gpu, Gemm.GpuV2SharedTiled, m, n, k, ta, tb, 1.5f, -0.5f);
        Check(gpu, Gemm.GpuV2SharedTiled, 18, 17, 33, ta, tb, -1f, 0f);
    }

    [Theory, MemberData(nameof(Cases)), Trait("Kernel", "Gemm.V3RegisterTiled")]
    public void V3RegisterTiledMatchesFloat64(string device, bool ta, bool tb)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        // 65 and 70 cross the 64-wide tile edge; k = 17 and 33 leave a partial last k tile (16).
        foreach (var (m, n, k) in new[] { (1, 1, 1), (65, 3, 17), (3, 70, 33) })
            Check(gpu, Gemm.GpuV3RegisterTiled, m, n, k, ta, tb, 1.5f, -0.5f);
        Check(gpu, Gemm.GpuV3RegisterTiled, 7, 9, 16, ta, tb, 0.5f, 0f);
    }

    [Theory, MemberData(nameof(Cases)), Trait("Kernel", "Gemm.V4Blocked")]
    public void V4BlockedMatchesFloat64(string device, bool ta, bool tb)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        // 129 and 130 cross the 128-wide tile edge (2 x 2 groups, the second of each a tail of 1 or 2); k = 17 is two whole
        // k tiles of 8 and a tail of 1 (so both shared buffers are used twice); k = 1 and k = 0 (C = beta C) are the edges
        // of the double buffer's prologue; 1 x 1 x 1 is one element of one group.
        foreach (var (m, n, k) in new[] { (1, 1, 1), (130, 129, 17), (3, 7, 0) })
            Check(gpu, Gemm.GpuV4Blocked, m, n, k, ta, tb, 1.5f, -0.5f);
        Check(gpu, Gemm.GpuV4Blocked, 5, 131, 9, ta, tb, 0.5f, 0f);
    }

    /// <summary>v5 (TF32 tensor cores; on ilgpu-cpu the managed mma with the PTX fragment layout) against float64 of its
    /// inputs rounded to TF32, at v4's tail sizes and all four transposes.</summary>
    [Theory, MemberData(nameof(Cases)), Trait("Kernel", "Gemm.V5Tf32")]
    public void V5Tf32MatchesFloat64OfTf32Inputs(string device, bool ta, bool tb)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        // k = 9: both shared buffers and a tail of 1 (the managed mma is slow on ilgpu-cpu, so one k tile fewer than v4).
        foreach (var (m, n, k) in new[] { (1, 1, 1), (130, 129, 9), (3, 7, 0) })
            Check(gpu, Gemm.GpuV5Tf32, m, n, k, ta, tb, 1.5f, -0.5f, Tf32);
        Check(gpu, Gemm.GpuV5Tf32, 5, 131, 9, ta, tb, 0.5f, 0f, Tf32);
    }

    /// <summary>v5 really rounds to TF32 (to nearest, ties away): 1 + 2^-12 times 1 is 1, 1 + 3 2^-12 is 1 + 2^-10, and
    /// -(1 + 2^-11) (a tie) is -(1 + 2^-10); float32 would keep all three.</summary>
    [Theory, MemberData(nameof(TestDevices.Gpu), MemberType = typeof(TestDevices)), Trait("Kernel", "Gemm.V5Tf32")]
    public void V5RoundsItsInputsToTf32(string device)
    {
        var gpu = (GpuDevice)TestDevices.Get(device);
        float[] a = [1f + MathF.Pow(2, -12), 1f + 3 * MathF.Pow(2, -12), -(1f + MathF.Pow(2, -11))];
        using var at = Tensor.FromArray(a, [3, 1], gpu);
        using var bt = Tensor.FromArray([1f], [1, 1], gpu);
        using var c = Gemm.MatMul(at, bt, variant: GemmVariant.V5);
        Assert.Equal([1f, 1f + MathF.Pow(2, -10), -(1f + MathF.Pow(2, -10))], c.ToArray());
        Assert.Equal(a.Select(x => Tf32(x)).ToArray(), c.ToArray().Select(x => (double)x).ToArray());
    }

    /// <summary>A float rounded to TF32 (10 mantissa bits, to nearest, ties away from zero), in float64: the test's own
    /// rounding, independent of the kernel's bit arithmetic.</summary>
    static double Tf32(float x)
    {
        if (x == 0 || !float.IsFinite(x)) return x;
        double unit = Math.ScaleB(1.0, Math.ILogB(x) - 10);
        return Math.CopySign(Math.Floor(Math.Abs(x) / unit + 0.5) * unit, x);
    }

    /// <summary>The dispatching entry point (whichever kernel it picks: v1 for 3 x 5, v2 for 32 x 33) on every device, through tensors.</summary>
    [Theory, MemberData(nameof(AllDevices)), Trait("Kernel", "Gemm.V1Naive"), Trait("Kernel", "Gemm.V2SharedTiled")]
    public void IntoWithAlphaBetaMatchesFloat64(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(21);
        foreach (var (m, n, k, ta, tb) in new[] { (3, 5, 7, false, false), (3, 5, 7, true, true), (32, 33, 3, false, true), (32, 33, 3, true, false) })
        {
            float[] a = Random(rng, m * k), b = Random(rng, k * n), c0 = Random(rng, m * n);
            using var at = Tensor.FromArray(a, ta ? [k, m] : [m, k], d);
            using var bt = Tensor.FromArray(b, tb ? [n, k] : [k, n], d);
            using var c = Tensor.FromArray(c0, [m, n], d);
            Gemm.Into(at, ta, bt, tb, c, alpha: 2f, beta: 0.5f);
            var ab = Gemm.Reference.MatMul(ToDouble(a), ta, ToDouble(b), tb, m, n, k);
            var expected = ab.Select((x, i) => 2 * x + 0.5 * c0[i]).ToArray();
            AssertClose(expected, c.ToArray(), what: $"{device} {m}x{n}x{k} transA={ta} transB={tb}");
        }
    }

    public static TheoryData<string> AllDevices => TestDevices.All;

    /// <summary>Each variant asked for by argument through the tensor entry point (v1, v2, v3 are the device's own kernels:
    /// naive, packed 6 x 16, packed 6 x 32 on the cpu; naive, shared tiles, register tiles on a GPU), at a tail size.</summary>
    [Theory, MemberData(nameof(AllDevices)), Trait("Kernel", "Gemm.V1Naive"), Trait("Kernel", "Gemm.V2SharedTiled"), Trait("Kernel", "Gemm.V3RegisterTiled"), Trait("Kernel", "Gemm.V4Blocked")]
    public void EveryVariantByArgumentMatchesFloat64(string device)
    {
        var d = TestDevices.Get(device);
        var rng = new Random(22);
        int m = 9, n = 17, k = 19;
        var variants = d is GpuDevice ? new[] { GemmVariant.V1, GemmVariant.V2, GemmVariant.V3, GemmVariant.V4 } : [GemmVariant.V1, GemmVariant.V2, GemmVariant.V3];
        foreach (var variant in variants)
            foreach (var (ta, tb) in new[] { (false, false), (true, true) })
            {
                float[] a = Random(rng, m * k), b = Random(rng, k * n);
                using var at = Tensor.FromArray(a, ta ? [k, m] : [m, k], d);
                using var bt = Tensor.FromArray(b, tb ? [n, k] : [k, n], d);
                using var c = Gemm.MatMul(at, bt, ta, tb, variant);
                AssertClose(Gemm.Reference.MatMul(ToDouble(a), ta, ToDouble(b), tb, m, n, k), c.ToArray(), what: $"{device} {variant} transA={ta} transB={tb}");
            }
    }

    /// <summary>The GPU default picks by shape from its table: v1 for tiny C, v2 from four 16 x 16 tiles, v3 from four 64 x 64
    /// tiles and a whole k tile, v4 from 132 of its 128 x 128 tiles and k of 64.</summary>
    [Fact]
    public void TheGpuDefaultPicksBySize()
    {
        Assert.Equal(GemmVariant.V1, Gemm.GpuDefault(3, 5, 7));
        Assert.Equal(GemmVariant.V2, Gemm.GpuDefault(32, 32, 7));
        Assert.Equal(GemmVariant.V3, Gemm.GpuDefault(128, 128, 16));
        Assert.Equal(GemmVariant.V2, Gemm.GpuDefault(128, 128, 15));
        Assert.Equal(GemmVariant.V4, Gemm.GpuDefault(1536, 1408, 64));   // 12 x 11 = 132 tiles
        Assert.Equal(GemmVariant.V3, Gemm.GpuDefault(1536, 1407, 64));
        Assert.Equal(GemmVariant.V3, Gemm.GpuDefault(4096, 4096, 63));
        Assert.Equal(GemmVariant.V3, Gemm.GpuDefault(64, 16384, 288));   // DCGAN's im2col shape: 64 v4 tiles
        Assert.Equal(GemmVariant.V4, Gemm.GpuDefault(8192, 8192, 8192));
        // The table is data: another table (what a GPU run would retune) changes the choice, first match wins.
        GemmGpuRule[] retuned = [new(GemmVariant.V4, MinElements: 1 << 20, MinK: 8), new(GemmVariant.V1, 0, 0)];
        Assert.Equal(GemmVariant.V4, Gemm.GpuDefault(1024, 1024, 8, retuned));
        Assert.Equal(GemmVariant.V1, Gemm.GpuDefault(1024, 1023, 8, retuned));
        Assert.Equal(GemmVariant.V1, Gemm.GpuTable[^1].Variant);
        Assert.Equal(0, Gemm.GpuTable[^1].MinElements); // the last row takes everything
    }

    /// <summary>v4 is a GPU kernel: asked for on the cpu it is refused, naming the cpu's variants.</summary>
    [Fact]
    public void V4OnTheCpuIsRefused()
    {
        using var a = Tensor.Zeros(Device.Cpu, 2, 2);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMul(a, a, variant: GemmVariant.V4));
        Assert.Contains("Gemm: no variant 4; the variants are 1, 2, 3 and 0 (Default) (v4 is GPU-only)", e.Message);
    }

    delegate void Launcher(GpuDevice gpu, GemmArgs g, ILGPU.ArrayView<float> a, ILGPU.ArrayView<float> b, ILGPU.ArrayView<float> c);

    /// <summary>
    /// Places A, B and C at offsets in padded buffers, runs one kernel on views, and compares C with
    /// alpha op(A) op(B) + beta C0 in float64; C's padding must be left alone, and beta = 0 must not
    /// let C's old NaN through.
    /// </summary>
    /// <param name="input">How the kernel reads an input element (v5: rounded to TF32); exactly by default.</param>
    static void Check(GpuDevice gpu, Launcher launch, int m, int n, int k, bool ta, bool tb, float alpha, float beta, Func<float, double>? input = null)
    {
        input ??= x => x;
        var rng = new Random(m * 31 + n * 7 + k);
        int aRows = ta ? k : m, aCols = ta ? m : k, bRows = tb ? n : k, bCols = tb ? k : n;
        int lda = aCols + 2, ldb = bCols + 3, ldc = n + 1, aOff = 3, bOff = 5, cOff = 2;
        // One float past the end of A and B, so that k = 0 (no rows of A transposed) still leaves a view at the offset.
        float[] a = Random(rng, aOff + aRows * lda + 1), b = Random(rng, bOff + bRows * ldb + 1);
        float[] c0 = beta == 0f ? Enumerable.Repeat(float.NaN, cOff + m * ldc).ToArray() : Random(rng, cOff + m * ldc);
        for (int i = 0; i < m; i++) c0[cOff + i * ldc + n] = 1234f; // padding sentinel

        using var at = Tensor.FromArray(a, [a.Length], gpu);
        using var bt = Tensor.FromArray(b, [b.Length], gpu);
        using var ct = Tensor.FromArray(c0, [c0.Length], gpu);
        var g = new GemmArgs(m, n, k, alpha, beta, lda, ldb, ldc, ta, tb);
        launch(gpu, g, at.View.SubView(aOff), bt.View.SubView(bOff), ct.View.SubView(cOff));
        var c = ct.ToArray();

        var expected = new double[m * n];
        var actual = new float[m * n];
        for (int i = 0; i < m; i++)
        {
            Assert.Equal(1234f, c[cOff + i * ldc + n]);
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int p = 0; p < k; p++)
                    s += input(a[aOff + (ta ? p * lda + i : i * lda + p)]) * input(b[bOff + (tb ? j * ldb + p : p * ldb + j)]);
                expected[i * n + j] = alpha * s + (beta == 0f ? 0 : beta * (double)c0[cOff + i * ldc + j]);
                actual[i * n + j] = c[cOff + i * ldc + j];
            }
        }
        AssertClose(expected, actual, what: $"{gpu.Name} {m}x{n}x{k} transA={ta} transB={tb} alpha={alpha} beta={beta}");
    }
}
