using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// General matrix multiply, C = alpha * op(A) * op(B) + beta * C, row-major, where op(X) is X or its
/// transpose. The tensor entry points (<see cref="MatMul"/>, <see cref="Into"/>) check shapes; the
/// raw entry points (<see cref="Cpu"/>, <see cref="Gpu"/>) take leading dimensions and offsets so other
/// ops (im2col convolution, linear layers) can multiply parts of their buffers without copies.
/// <para>The kernels, one file each, numbered like a kernel lab and chosen by the <see cref="GemmVariant"/>
/// argument of every entry point (never by a global flag): Gemm.Cpu.cs (v1 CpuV1Naive, the reference triple
/// loop; v2 and v3 CpuV2Packed, the cache-blocked packed one, with its 6 x 16 or its 6 x 32 micro-kernel),
/// Gemm.Gpu.V1Naive.cs, Gemm.Gpu.V2SharedTiled.cs, Gemm.Gpu.V3RegisterTiled.cs, Gemm.Gpu.V4Blocked.cs (+ .g.cs) and Gemm.Gpu.V5Tf32.cs. The
/// default is the measured choice on the cpu and, on a GPU, a choice by shape from <see cref="GpuTable"/> (a prediction
/// awaiting a GPU run).
/// <c>nativegan lab gemm --variant all</c> checks each against float64 and times them side by side.</para>
/// </summary>
public static partial class Gemm
{
    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>op(A) is M x K, op(B) is K x N; returns the M x N product in float64.</summary>
        public static double[] MatMul(double[] a, bool transA, double[] b, bool transB, int m, int n, int k)
        {
            var c = new double[m * n];
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double s = 0;
                    for (int p = 0; p < k; p++)
                        s += (transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                    c[i * n + j] = s;
                }
            return c;
        }
    }

    // ================================================================ tensor entry points

    /// <summary>op(A) @ op(B) for rank-2 tensors, by the kernel <paramref name="variant"/> names (default: the measured choice).</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false, GemmVariant variant = GemmVariant.Default)
    {
        var (m, n, _) = Dims(a, transA, b, transB);
        CheckVariant(variant, a.Device is GpuDevice);
        var c = Tensor.Empty(a.Device, m, n);
        Into(a, transA, b, transB, c, variant: variant);
        return c;
    }

    /// <summary>C = alpha * op(A) @ op(B) + beta * C for rank-2 tensors (beta = 0 ignores C's old values, NaN included),
    /// by the kernel <paramref name="variant"/> names (default: the measured choice).</summary>
    public static void Into(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha = 1f, float beta = 0f,
        GemmVariant variant = GemmVariant.Default)
    {
        Check.SameDevice("Gemm", a, b, c);
        var (m, n, k) = Dims(a, transA, b, transB);
        Check.Shape("Gemm", "C", c, m, n);
        CheckVariant(variant, c.Device is GpuDevice);
        if (m == 0 || n == 0) return;
        int lda = a.Dim(1), ldb = b.Dim(1);
        switch (c.Device)
        {
            case CpuDevice cpu:
                var (aa, ao) = a.CpuBuffer;
                var (ba, bo) = b.CpuBuffer;
                var (ca, co) = c.CpuBuffer;
                Cpu(cpu, m, n, k, alpha, aa, ao, lda, transA, ba, bo, ldb, transB, beta, ca, co, n, variant);
                break;
            case GpuDevice gpu:
                Gpu(gpu, m, n, k, alpha, a.View, lda, transA, b.View, ldb, transB, beta, c.View, n, variant);
                break;
        }
    }

    static (int M, int N, int K) Dims(Tensor a, bool transA, Tensor b, bool transB)
    {
        Check.Rank("Gemm", "A", a, 2);
        Check.Rank("Gemm", "B", b, 2);
        int m = transA ? a.Dim(1) : a.Dim(0), k = transA ? a.Dim(0) : a.Dim(1);
        int kb = transB ? b.Dim(1) : b.Dim(0), n = transB ? b.Dim(0) : b.Dim(1);
        if (k != kb)
            throw new TensorShapeException(
                $"Gemm: inner sizes differ: op(A) is {m}x{k} (A {Shapes.Format(a.Shape)}{(transA ? " transposed" : "")}), " +
                $"op(B) is {kb}x{n} (B {Shapes.Format(b.Shape)}{(transB ? " transposed" : "")})");
        return (m, n, k);
    }

    // ================================================================ raw entry points

    /// <summary>
    /// The cpu GEMM on arrays with offsets and leading dimensions (row strides). Element (i, p) of A is
    /// a[aOffset + i * lda + p], or a[aOffset + p * lda + i] when transposed; likewise B and C.
    /// <paramref name="variant"/>: v1 the naive triple loop, v2 the packed GEMM with the 6 x 16 Vector256
    /// micro-kernel, v3 the same with the 6 x 32 Vector512 one (emulated, slowly, without AVX-512). The default,
    /// measured: v2 on AVX2 machines (81 GFLOP/s a core at 1024^3, benchmarks/NOTES.md, GEMM), v3 where Vector512 is
    /// accelerated (112 against v2's 86 GFLOP per CPU-second in L1 on an AVX-512 Zen 4, benchmarks/RESULTS.md).
    /// </summary>
    public static void Cpu(CpuDevice cpu, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, bool transA,
        float[] b, int bOffset, int ldb, bool transB,
        float beta, float[] c, int cOffset, int ldc, GemmVariant variant = GemmVariant.Default)
    {
        switch (variant)
        {
            case GemmVariant.V1: CpuV1Naive(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc); break;
            case GemmVariant.V2: CpuV2Packed(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc, wide: false); break;
            case GemmVariant.V3: CpuV2Packed(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc, wide: true); break;
            case GemmVariant.Default:
                CpuV2Packed(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc, wide: CpuDefaultIsWide);
                break;
            default: throw UnknownVariant(variant, gpu: false);
        }
    }

    /// <summary>Whether the cpu default is v3 (the 6 x 32 micro-kernel): where the CPU has AVX-512.</summary>
    internal static bool CpuDefaultIsWide => Vector512.IsHardwareAccelerated;

    /// <summary>
    /// The GPU GEMM on views (offsets already applied by SubView) with leading dimensions. <paramref name="variant"/>:
    /// v1 one thread per element (no barriers), v2 16 x 16 shared-memory tiles, v3 64 x 64 register tiles, v4 128 x 128
    /// tiles with 8 x 8 a thread and 16-byte shared loads, v5 TF32 tensor cores (opt-in: inputs rounded to TF32, like
    /// PyTorch's allow_tf32; never the default). The default picks by shape from <see cref="GpuTable"/> (a prediction
    /// awaiting a GPU run, benchmarks/NOTES.md, GEMM).
    /// </summary>
    public static void Gpu(GpuDevice gpu, int m, int n, int k, float alpha,
        ArrayView<float> a, int lda, bool transA,
        ArrayView<float> b, int ldb, bool transB,
        float beta, ArrayView<float> c, int ldc, GemmVariant variant = GemmVariant.Default)
    {
        CheckVariant(variant, gpu: true);
        if (m <= 0 || n <= 0) return;
        var args = new GemmArgs(m, n, k, alpha, beta, lda, ldb, ldc, transA, transB);
        switch (variant == GemmVariant.Default ? GpuDefault(m, n, k) : variant)
        {
            case GemmVariant.V5: GpuV5Tf32(gpu, args, a, b, c); break;
            case GemmVariant.V4: GpuV4Blocked(gpu, args, a, b, c); break;
            case GemmVariant.V3: GpuV3RegisterTiled(gpu, args, a, b, c); break;
            case GemmVariant.V2: GpuV2SharedTiled(gpu, args, a, b, c); break;
            default: GpuV1Naive(gpu, args, a, b, c); break;
        }
    }

    /// <summary>
    /// How the GPU default chooses: the first row whose minimums an m x n x k problem meets. Data, not code, so that a
    /// GPU run (<c>nativegan lab gemm --variant all --device cuda --size S</c> at each size; tools/gpu.sh runs them) can
    /// retune it by editing numbers. The rows are predictions for an H100 (132 SMs), not yet measured:
    /// <list type="bullet">
    /// <item>v4 once C holds 132 of its 128 x 128 tiles' worth (a group for every SM) and k is at least 64 (8 of its k tiles: the
    /// double buffer's prologue and the 64-value epilogue amortised). Below that v4 leaves SMs idle where v3 has 4x the
    /// groups; DCGAN's 64 x 16384 x 288 (64 v4 tiles) stays on v3.</item>
    /// <item>v3 from four of its 64 x 64 tiles' worth of C and one whole k tile (16);</item>
    /// <item>v2 from four of its 16 x 16 tiles' worth; v1 below (launch-bound either way).</item>
    /// </list>
    /// </summary>
    public static IReadOnlyList<GemmGpuRule> GpuTable { get; } =
    [
        new(GemmVariant.V4, MinElements: 132L * V4Tile * V4Tile, MinK: 64),
        new(GemmVariant.V3, MinElements: 4L * V3TileM * V3TileN, MinK: V3TileK),
        new(GemmVariant.V2, MinElements: 4L * V2Tile * V2Tile, MinK: 0),
        new(GemmVariant.V1, MinElements: 0, MinK: 0),
    ];

    /// <summary>The GPU kernel the default runs for an m x n x k problem: the first row of <paramref name="table"/>
    /// (<see cref="GpuTable"/> when null) that the shape meets.</summary>
    public static GemmVariant GpuDefault(int m, int n, int k, IReadOnlyList<GemmGpuRule>? table = null)
    {
        foreach (var rule in table ?? GpuTable)
            if (rule.Admits(m, n, k)) return rule.Variant;
        return GemmVariant.V1;
    }

    /// <summary>A variant the device has: 1 to 3 on the cpu, 1 to 5 on a GPU, or 0 (Default).</summary>
    internal static void CheckVariant(GemmVariant variant, bool gpu)
    {
        if (variant is < GemmVariant.Default or > GemmVariant.V5 || (!gpu && variant > GemmVariant.V3)) throw UnknownVariant(variant, gpu);
    }

    static ArgumentOutOfRangeException UnknownVariant(GemmVariant variant, bool gpu = false)
        => new(nameof(variant), gpu
            ? $"Gemm: no variant {(int)variant}; the GPU variants are 1, 2, 3, 4, 5 and 0 (Default)"
            : $"Gemm: no variant {(int)variant}; the variants are 1, 2, 3 and 0 (Default){(variant is GemmVariant.V4 or GemmVariant.V5 ? $" (v{(int)variant} is GPU-only)" : "")}");
}

/// <summary>
/// One row of <see cref="Gemm.GpuTable"/>: <paramref name="Variant"/> runs when C has at least <paramref name="MinElements"/>
/// elements (m n) and the inner size k is at least <paramref name="MinK"/>.
/// </summary>
public readonly record struct GemmGpuRule(GemmVariant Variant, long MinElements, int MinK)
{
    /// <summary>Whether an m x n x k problem meets this row's minimums.</summary>
    public bool Admits(int m, int n, int k) => (long)m * n >= MinElements && k >= MinK;
}

/// <summary>
/// Which GEMM kernel runs, numbered as the kernels are on each device. <see cref="Default"/> is the measured choice
/// (cpu) or the choice by size (GPU), what every op that multiplies matrices uses.
/// </summary>
public enum GemmVariant
{
    /// <summary>cpu: v2 (v3 where Vector512 is accelerated); GPU: by size (<see cref="Gemm.GpuDefault"/>).</summary>
    Default = 0,
    /// <summary>v1, the reference: the textbook triple loop (cpu), one thread an element of C (GPU).</summary>
    V1 = 1,
    /// <summary>v2: packed, cache-blocked, the 6 x 16 Vector256 micro-kernel (cpu); 16 x 16 shared-memory tiles (GPU).</summary>
    V2 = 2,
    /// <summary>v3: v2's packing with the 6 x 32 Vector512 micro-kernel (cpu; emulated where AVX-512 is absent); 64 x 64 register tiles (GPU).</summary>
    V3 = 3,
    /// <summary>v4 (GPU only): 128 x 128 tiles, 8 x 8 outputs a thread, 16-byte shared loads, double-buffered shared memory.</summary>
    V4 = 4,
    /// <summary>v5 (GPU only, opt-in): TF32 tensor cores (mma.sync m16n8k8) on v4's tiles: inputs rounded to TF32's 10 mantissa
    /// bits (about 1e-3 relative), float32 sums; like PyTorch's allow_tf32. Never chosen by <see cref="Default"/>.</summary>
    V5 = 5,
}

/// <summary>The scalar arguments of a GEMM launch, as one struct parameter.</summary>
public readonly struct GemmArgs(int m, int n, int k, float alpha, float beta, int lda, int ldb, int ldc, bool transA, bool transB)
{
    public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly float Alpha = alpha, Beta = beta;
    public readonly int TransA = transA ? 1 : 0, TransB = transB ? 1 : 0;
}
