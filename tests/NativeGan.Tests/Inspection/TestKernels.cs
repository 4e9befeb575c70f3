using ILGPU;
using ILGPU.Runtime;

namespace NativeGan.Tests.Inspection;

/// <summary>
/// Kernels that exist only to test the inspection tools (never launched, not in the registry): a
/// shared-memory tiled GEMM whose costs are known by construction.
/// </summary>
public static class TestKernels
{
    public const int Tile = 16;

    /// <summary>
    /// C = A B for n x n matrices, n a multiple of 16 (the tools only compile it). A group of 256 threads
    /// computes a 16 x 16 tile of C, one element a thread, staging 16 x 16 tiles of A and B in shared
    /// memory: 2 x 256 floats = 2048 bytes of static shared memory, two barriers a tile, and in the inner
    /// loop (4 of the tile's 16 steps an iteration) 4 FFMAs against 4 loads of B's tile plus A's row, so about
    /// 1 FFMA per LDS: the textbook example of a load-bound tile.
    /// </summary>
    internal static void TiledGemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n)
    {
        var tileA = SharedMemory.Allocate<float>(Tile * Tile);
        var tileB = SharedMemory.Allocate<float>(Tile * Tile);
        int tx = Group.IdxX % Tile, ty = Group.IdxX / Tile;
        int row = Grid.IdxY * Tile + ty, col = Grid.IdxX * Tile + tx;
        float sum = 0;
        for (int t = 0; t < n; t += Tile)
        {
            tileA[ty * Tile + tx] = a[row * n + t + tx];
            tileB[ty * Tile + tx] = b[(t + ty) * n + col];
            Group.Barrier();
            // Unrolled by 4 in the source: at O2 ptxas no longer unrolls the fixed loop itself.
            for (int k = 0; k < Tile; k += 4)
            {
                sum += tileA[ty * Tile + k] * tileB[k * Tile + tx];
                sum += tileA[ty * Tile + k + 1] * tileB[(k + 1) * Tile + tx];
                sum += tileA[ty * Tile + k + 2] * tileB[(k + 2) * Tile + tx];
                sum += tileA[ty * Tile + k + 3] * tileB[(k + 3) * Tile + tx];
            }
            Group.Barrier();
        }
        c[row * n + col] = sum;
    }

    /// <summary>
    /// The same product with register blocking: a group of 256 threads computes a 64 x 64 tile of C and each
    /// thread a 4 x 4 block of it, from 16-deep tiles of A and B in shared memory (2 x 16 x 64 floats = 8192
    /// bytes). Per step of the inner loop a thread loads 4 values of A and 4 of B and does 16 FFMAs, so FFMA
    /// per LDS is 2, or 8 when ptxas merges the 4 adjacent loads into one LDS.128. Its 16 accumulators need
    /// registers: assembled with a low register cap it spills (test data for the report parser).
    /// </summary>
    internal static void BlockedGemmKernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, int n)
    {
        const int T = 64, K = 16;
        var tileA = SharedMemory.Allocate<float>(K * T); // tileA[k * T + i] = A[row0 + i, t + k]
        var tileB = SharedMemory.Allocate<float>(K * T); // tileB[k * T + j] = B[t + k, col0 + j]
        int tid = Group.IdxX, i0 = tid / 16 * 4, j0 = tid % 16 * 4;
        int row0 = Grid.IdxY * T, col0 = Grid.IdxX * T;
        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int t = 0; t < n; t += K)
        {
            for (int e = tid; e < K * T; e += 256)
            {
                int k = e / T, m = e % T;
                tileA[e] = a[(row0 + m) * n + t + k];
                tileB[e] = b[(t + k) * n + col0 + m];
            }
            Group.Barrier();
            for (int k = 0; k < K; k++)
            {
                float a0 = tileA[k * T + i0], a1 = tileA[k * T + i0 + 1], a2 = tileA[k * T + i0 + 2], a3 = tileA[k * T + i0 + 3];
                float b0 = tileB[k * T + j0], b1 = tileB[k * T + j0 + 1], b2 = tileB[k * T + j0 + 2], b3 = tileB[k * T + j0 + 3];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }
        int r = (row0 + i0) * n + col0 + j0;
        c[r] = c00; c[r + 1] = c01; c[r + 2] = c02; c[r + 3] = c03; r += n;
        c[r] = c10; c[r + 1] = c11; c[r + 2] = c12; c[r + 3] = c13; r += n;
        c[r] = c20; c[r + 1] = c21; c[r + 2] = c22; c[r + 3] = c23; r += n;
        c[r] = c30; c[r + 1] = c31; c[r + 2] = c32; c[r + 3] = c33;
    }

    public static readonly KernelSpec BlockedGemm = KernelSpec.Explicit("Test.BlockedGemm", typeof(TestKernels), nameof(BlockedGemmKernel), groupSize: 256, hot: true, minOccupancy: 0.5);

    public static readonly KernelSpec TiledGemm = KernelSpec.Explicit("Test.TiledGemm", typeof(TestKernels), nameof(TiledGemmKernel), groupSize: Tile * Tile, hot: true, minOccupancy: 0.5);
}
