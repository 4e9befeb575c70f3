using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// General matrix multiply, C = alpha * op(A) * op(B) + beta * C, row-major, where op(X) is X or its
/// transpose. The tensor entry points (<see cref="MatMul"/>, <see cref="Into"/>) check shapes; the
/// raw entry points (<see cref="Cpu"/>, <see cref="Gpu"/>) take leading dimensions and offsets so other
/// ops (im2col convolution, linear layers) can multiply parts of their buffers without copies.
/// <para>The kernels, one file each, numbered like a kernel lab: Gemm.Cpu.cs (CpuV1Naive, the reference
/// triple loop; CpuV2Packed, the cache-blocked packed one <see cref="Cpu"/> uses), Gemm.Gpu.V1Naive.cs,
/// Gemm.Gpu.V2SharedTiled.cs and Gemm.Gpu.V3RegisterTiled.cs (<see cref="Gpu"/> picks by size).</para>
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

    /// <summary>op(A) @ op(B) for rank-2 tensors.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, bool transA = false, bool transB = false)
    {
        var (m, n, _) = Dims(a, transA, b, transB);
        var c = Tensor.Empty(a.Device, m, n);
        Into(a, transA, b, transB, c);
        return c;
    }

    /// <summary>C = alpha * op(A) @ op(B) + beta * C for rank-2 tensors (beta = 0 ignores C's old values, NaN included).</summary>
    public static void Into(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha = 1f, float beta = 0f)
    {
        Check.SameDevice("Gemm", a, b, c);
        var (m, n, k) = Dims(a, transA, b, transB);
        Check.Shape("Gemm", "C", c, m, n);
        if (m == 0 || n == 0) return;
        int lda = a.Dim(1), ldb = b.Dim(1);
        switch (c.Device)
        {
            case CpuDevice cpu:
                var (aa, ao) = a.CpuBuffer;
                var (ba, bo) = b.CpuBuffer;
                var (ca, co) = c.CpuBuffer;
                Cpu(cpu, m, n, k, alpha, aa, ao, lda, transA, ba, bo, ldb, transB, beta, ca, co, n);
                break;
            case GpuDevice gpu:
                Gpu(gpu, m, n, k, alpha, a.View, lda, transA, b.View, ldb, transB, beta, c.View, n);
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
    /// </summary>
    public static void Cpu(CpuDevice cpu, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, bool transA,
        float[] b, int bOffset, int ldb, bool transB,
        float beta, float[] c, int cOffset, int ldc)
        => CpuV2Packed(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc);

    /// <summary>
    /// The GPU GEMM on views (offsets already applied by SubView) with leading dimensions. Large problems
    /// go to the register-tiled v3 (64 x 64 tiles of C), middling ones to the shared-memory v2
    /// (16 x 16 tiles), tiny ones to v1 (one thread per element, no barriers). The thresholds are a
    /// prediction awaiting a GPU run (benchmarks/NOTES.md, GEMM).
    /// </summary>
    public static void Gpu(GpuDevice gpu, int m, int n, int k, float alpha,
        ArrayView<float> a, int lda, bool transA,
        ArrayView<float> b, int ldb, bool transB,
        float beta, ArrayView<float> c, int ldc)
    {
        if (m <= 0 || n <= 0) return;
        var args = new GemmArgs(m, n, k, alpha, beta, lda, ldb, ldc, transA, transB);
        long tiles = (long)m * n;
        if (tiles >= GpuV3MinElements && k >= V3TileK) GpuV3RegisterTiled(gpu, args, a, b, c);
        else if (tiles >= GpuV2MinElements) GpuV2SharedTiled(gpu, args, a, b, c);
        else GpuV1Naive(gpu, args, a, b, c);
    }

    /// <summary>From this many elements of C on, v3 (at least four of its 64 x 64 tiles' worth).</summary>
    const long GpuV3MinElements = 4L * V3TileM * V3TileN;

    /// <summary>From this many elements of C on, v2 (at least four of its 16 x 16 tiles' worth).</summary>
    const long GpuV2MinElements = 4L * V2Tile * V2Tile;
}

/// <summary>The scalar arguments of a GEMM launch, as one struct parameter.</summary>
public readonly struct GemmArgs(int m, int n, int k, float alpha, float beta, int lda, int ldb, int ldc, bool transA, bool transB)
{
    public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly float Alpha = alpha, Beta = beta;
    public readonly int TransA = transA ? 1 : 0, TransB = transB ? 1 : 0;
}
