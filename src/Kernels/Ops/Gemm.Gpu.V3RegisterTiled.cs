using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

public static partial class Gemm
{
    // ================================================================ GPU v3: register tiles

    /// <summary>v3: one group of 256 threads computes a 64 x 64 tile of C, 16 k values at a time.</summary>
    const int V3TileM = 64, V3TileN = 64, V3TileK = 16;

    /// <summary>The 256 threads as a 16 x 16 square; each computes a 4 x 4 block of the tile.</summary>
    const int V3Threads = 256, V3Side = 16;

    /// <summary>Row stride of the shared tiles: 65, so the column-wise (transposed) writes spread over the banks.</summary>
    const int V3Stride = V3TileM + 1;

    /// <summary>Launches v3: a (ceil(n/64), ceil(m/64)) grid of 256-thread groups.</summary>
    internal static void GpuV3RegisterTiled(GpuDevice gpu, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        => gpu.Kernel<Action<AcceleratorStream, KernelConfig, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(V3RegisterTiledSpec)
            (gpu.Stream,
             new KernelConfig(new Index2D((g.N + V3TileN - 1) / V3TileN, (g.M + V3TileM - 1) / V3TileM), new Index2D(V3Threads, 1)),
             g, a, b, c);

    internal static readonly KernelSpec V3RegisterTiledSpec = KernelSpec.Explicit(
        "Gemm.V3RegisterTiled", typeof(Gemm), nameof(V3RegisterTiledKernel), groupSize: V3Threads, hot: true, minOccupancy: 0.5);

    /// <summary>
    /// Register blocking. v2 does one multiply-add per two shared-memory reads; here each thread keeps a
    /// 4 x 4 block of C in 16 registers and, per step of k, reads 4 values of op(A) and 4 of op(B) from
    /// shared memory into registers and does 16 multiply-adds with them: 4x fewer shared reads per
    /// multiply-add than v2, and 4x fewer global reads (each loaded element serves 64 outputs, not 16).
    /// <para>Thread (ty, tx) owns rows ty + 16 r and columns tx + 16 s (r, s = 0..3) of the tile: strided,
    /// not adjacent, so that neighbouring threads read neighbouring shared addresses (no bank conflicts)
    /// and write neighbouring addresses of C (coalesced).</para>
    /// <para>Both tiles are stored k-major: aTile[p * 65 + i] = op(A)(row0 + i, p0 + p) and
    /// bTile[p * 65 + j] = op(B)(p0 + p, col0 + j). Loads are scalar (no float4): leading dimensions
    /// and offsets are arbitrary, so 16-byte alignment is not guaranteed.</para>
    /// </summary>
    static void V3RegisterTiledKernel(GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        var aTile = SharedMemory.Allocate<float>(V3TileK * V3Stride);
        var bTile = SharedMemory.Allocate<float>(V3TileK * V3Stride);
        int t = Group.IdxX, tx = t % V3Side, ty = t / V3Side;
        int row0 = Grid.IdxY * V3TileM, col0 = Grid.IdxX * V3TileN;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0;
        float c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0;
        float c30 = 0, c31 = 0, c32 = 0, c33 = 0;

        for (int p0 = 0; p0 < g.K; p0 += V3TileK)
        {
            // Each tile is 16 x 64 = 1024 values: 4 per thread. Consecutive threads take consecutive
            // addresses of global memory: along k when that is contiguous (A as is, B transposed),
            // along the 64 rows / columns otherwise.
            for (int e = t; e < V3TileK * V3TileM; e += V3Threads)
            {
                int p, i;
                if (g.TransA == 0) { p = e % V3TileK; i = e / V3TileK; }
                else { i = e % V3TileM; p = e / V3TileM; }
                int gi = row0 + i, gp = p0 + p;
                aTile[p * V3Stride + i] = gi < g.M && gp < g.K
                    ? a[g.TransA == 0 ? gi * g.Lda + gp : gp * g.Lda + gi]
                    : 0f;

                int j;
                if (g.TransB == 0) { j = e % V3TileN; p = e / V3TileN; }
                else { p = e % V3TileK; j = e / V3TileK; }
                int gj = col0 + j;
                gp = p0 + p;
                bTile[p * V3Stride + j] = gp < g.K && gj < g.N
                    ? b[g.TransB == 0 ? gp * g.Ldb + gj : gj * g.Ldb + gp]
                    : 0f;
            }
            Group.Barrier();

            // Unrolled by 4 here: at O2 (the address-space inference that gives LDG/STG) ptxas no longer unrolls this
            // fixed loop itself, and ILGPU's own unroller is off. V3TileK is a multiple of 4.
            for (int p = 0; p < V3TileK; p += 4)
            {
                {
                    int ap = (p + 0) * V3Stride + ty, bp = (p + 0) * V3Stride + tx;
                    float a0 = aTile[ap], a1 = aTile[ap + 16], a2 = aTile[ap + 32], a3 = aTile[ap + 48];
                    float b0 = bTile[bp], b1 = bTile[bp + 16], b2 = bTile[bp + 32], b3 = bTile[bp + 48];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                {
                    int ap = (p + 1) * V3Stride + ty, bp = (p + 1) * V3Stride + tx;
                    float a0 = aTile[ap], a1 = aTile[ap + 16], a2 = aTile[ap + 32], a3 = aTile[ap + 48];
                    float b0 = bTile[bp], b1 = bTile[bp + 16], b2 = bTile[bp + 32], b3 = bTile[bp + 48];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                {
                    int ap = (p + 2) * V3Stride + ty, bp = (p + 2) * V3Stride + tx;
                    float a0 = aTile[ap], a1 = aTile[ap + 16], a2 = aTile[ap + 32], a3 = aTile[ap + 48];
                    float b0 = bTile[bp], b1 = bTile[bp + 16], b2 = bTile[bp + 32], b3 = bTile[bp + 48];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
                {
                    int ap = (p + 3) * V3Stride + ty, bp = (p + 3) * V3Stride + tx;
                    float a0 = aTile[ap], a1 = aTile[ap + 16], a2 = aTile[ap + 32], a3 = aTile[ap + 48];
                    float b0 = bTile[bp], b1 = bTile[bp + 16], b2 = bTile[bp + 32], b3 = bTile[bp + 48];
                    c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                    c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                    c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                    c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
                }
            }
            Group.Barrier();
        }

        int r0 = row0 + ty, s0 = col0 + tx;
        V3StoreRow(g, c, r0, s0, c00, c01, c02, c03);
        V3StoreRow(g, c, r0 + 16, s0, c10, c11, c12, c13);
        V3StoreRow(g, c, r0 + 32, s0, c20, c21, c22, c23);
        V3StoreRow(g, c, r0 + 48, s0, c30, c31, c32, c33);
    }

    /// <summary>Writes one thread's four values of a row of C (columns col, col + 16, col + 32, col + 48), those inside C.</summary>
    static void V3StoreRow(GemmArgs g, ArrayView<float> c, int row, int col, float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        V3Store(g, c, row, col, v0);
        V3Store(g, c, row, col + 16, v1);
        V3Store(g, c, row, col + 32, v2);
        V3Store(g, c, row, col + 48, v3);
    }

    static void V3Store(GemmArgs g, ArrayView<float> c, int row, int col, float sum)
    {
        if (col >= g.N) return;
        int ci = row * g.Ldc + col;
        c[ci] = g.Beta == 0f ? g.Alpha * sum : g.Alpha * sum + g.Beta * c[ci];
    }
}
