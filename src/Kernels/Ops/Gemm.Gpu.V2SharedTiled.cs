using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

public static partial class Gemm
{
    // ================================================================ GPU v2: shared-memory tiles

    /// <summary>v2 computes C in 16 x 16 tiles, one group of 256 threads a tile, one thread an element.</summary>
    const int V2Tile = 16;

    /// <summary>
    /// Row stride of the shared tiles: 17, not 16, so a column of a tile falls in 16 different memory
    /// banks (a transposed load writes down columns).
    /// </summary>
    const int V2Stride = V2Tile + 1;

    /// <summary>Launches v2: a (ceil(n/16), ceil(m/16)) grid of 256-thread groups.</summary>
    internal static void GpuV2SharedTiled(GpuDevice gpu, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        => gpu.Kernel<Action<AcceleratorStream, KernelConfig, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(V2SharedTiledSpec)
            (gpu.Stream,
             new KernelConfig(new Index2D((g.N + V2Tile - 1) / V2Tile, (g.M + V2Tile - 1) / V2Tile), new Index2D(V2Tile * V2Tile, 1)),
             g, a, b, c);

    internal static readonly KernelSpec V2SharedTiledSpec = KernelSpec.Explicit(
        "Gemm.V2SharedTiled", typeof(Gemm), nameof(V2SharedTiledKernel), groupSize: V2Tile * V2Tile, hot: true, minOccupancy: 0.5);

    /// <summary>
    /// Each step of k, the group copies a 16 x 16 tile of op(A) and one of op(B) into shared memory
    /// (each thread one element of each, reading global memory along its rows so that neighbouring
    /// threads read neighbouring addresses), waits, then every thread takes 16 multiply-adds from
    /// shared memory. Global memory is read 16 times less often than in v1. Elements outside the
    /// matrices load as zero, so tails need no other care.
    /// </summary>
    static void V2SharedTiledKernel(GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        var aTile = SharedMemory.Allocate<float>(V2Tile * V2Stride); // aTile[i * stride + p] = op(A)(row0 + i, p0 + p)
        var bTile = SharedMemory.Allocate<float>(V2Tile * V2Stride); // bTile[p * stride + j] = op(B)(p0 + p, col0 + j)
        int tx = Group.IdxX % V2Tile, ty = Group.IdxX / V2Tile;
        int row0 = Grid.IdxY * V2Tile, col0 = Grid.IdxX * V2Tile;
        float sum = 0f;
        for (int p0 = 0; p0 < g.K; p0 += V2Tile)
        {
            // op(A) tile. Not transposed: A's rows are contiguous, so tx runs along k.
            // Transposed: op(A)(i, p) = A[p, i], contiguous in i, so tx runs along the rows of op(A).
            if (g.TransA == 0)
            {
                int i = row0 + ty, p = p0 + tx;
                aTile[ty * V2Stride + tx] = i < g.M && p < g.K ? a[i * g.Lda + p] : 0f;
            }
            else
            {
                int i = row0 + tx, p = p0 + ty;
                aTile[tx * V2Stride + ty] = i < g.M && p < g.K ? a[p * g.Lda + i] : 0f;
            }
            // op(B) tile, the same way round: tx runs along whichever index is contiguous in memory.
            if (g.TransB == 0)
            {
                int p = p0 + ty, j = col0 + tx;
                bTile[ty * V2Stride + tx] = p < g.K && j < g.N ? b[p * g.Ldb + j] : 0f;
            }
            else
            {
                int p = p0 + tx, j = col0 + ty;
                bTile[tx * V2Stride + ty] = p < g.K && j < g.N ? b[j * g.Ldb + p] : 0f;
            }
            Group.Barrier(); // both tiles complete

            // Unrolled by 4 here (at O2 ptxas no longer unrolls this fixed loop; V2Tile is a multiple of 4).
            for (int p = 0; p < V2Tile; p += 4)
            {
                int ar = ty * V2Stride + p, bc = p * V2Stride + tx;
                sum += aTile[ar] * bTile[bc];
                sum += aTile[ar + 1] * bTile[bc + V2Stride];
                sum += aTile[ar + 2] * bTile[bc + 2 * V2Stride];
                sum += aTile[ar + 3] * bTile[bc + 3 * V2Stride];
            }
            Group.Barrier(); // everyone done reading before the next tiles overwrite them
        }

        int row = row0 + ty, col = col0 + tx;
        if (row < g.M && col < g.N)
        {
            int ci = row * g.Ldc + col;
            c[ci] = g.Beta == 0f ? g.Alpha * sum : g.Alpha * sum + g.Beta * c[ci];
        }
    }
}
