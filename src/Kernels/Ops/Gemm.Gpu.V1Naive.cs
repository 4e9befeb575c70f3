using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

public static partial class Gemm
{
    // ================================================================ GPU v1: one thread per element of C

    /// <summary>Launches v1: an m x n grid of threads, each summing one dot product from global memory.</summary>
    internal static void GpuV1Naive(GpuDevice gpu, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        => gpu.Kernel<Action<AcceleratorStream, Index2D, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(V1NaiveSpec)
            (gpu.Stream, new Index2D(g.N, g.M), g, a, b, c);

    internal static readonly KernelSpec V1NaiveSpec = KernelSpec.Implicit("Gemm.V1Naive", typeof(Gemm), nameof(V1NaiveKernel), hot: true, minOccupancy: 0.5);

    static void V1NaiveKernel(Index2D index, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        int j = index.X, i = index.Y;
        float s = 0;
        for (int p = 0; p < g.K; p++)
            s += a[g.TransA != 0 ? p * g.Lda + i : i * g.Lda + p] * b[g.TransB != 0 ? j * g.Ldb + p : p * g.Ldb + j];
        int ci = i * g.Ldc + j;
        c[ci] = g.Beta == 0f ? g.Alpha * s : g.Alpha * s + g.Beta * c[ci];
    }
}
