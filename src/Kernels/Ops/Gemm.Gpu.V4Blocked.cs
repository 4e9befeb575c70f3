using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

public static partial class Gemm
{
    // ================================================================ GPU v4: 128 x 128 tiles, 8 x 8 a thread, 16-byte shared loads

    /// <summary>v4: one group of 256 threads computes a 128 x 128 tile of C, 8 values of k at a time.</summary>
    const int V4Tile = 128, V4TileK = 8;

    /// <summary>The 256 threads as a 16 x 16 square; each computes an 8 x 8 block of the tile (as four 4 x 4 quarters, below).</summary>
    const int V4Threads = 256, V4Side = 16;

    /// <summary>
    /// Row stride of a shared tile in floats: 132, not 128. The element loads of a k-contiguous operand write 4 rows x 8
    /// values of k per warp, which at stride 128 fall 8 to a bank; at 132 (= 4 mod 32) the 32 writes hit 32 banks. 132 is
    /// still a multiple of 4, so every Float4 read stays 16-byte aligned (ILGPU proves it from the type, see below).
    /// </summary>
    const int V4Stride = V4Tile + 4;

    /// <summary>One buffer (a k tile of one operand) in floats and in Float4s.</summary>
    const int V4BufferFloats = V4TileK * V4Stride, V4BufferFloat4s = V4BufferFloats / 4;

    /// <summary>Launches v4: a (ceil(n/128), ceil(m/128)) grid of 256-thread groups.</summary>
    internal static void GpuV4Blocked(GpuDevice gpu, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        => gpu.Kernel<Action<AcceleratorStream, KernelConfig, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(V4BlockedSpec)
            (gpu.Stream,
             new KernelConfig(new Index2D((g.N + V4Tile - 1) / V4Tile, (g.M + V4Tile - 1) / V4Tile), new Index2D(V4Threads, 1)),
             g, a, b, c);

    /// <summary>
    /// v4, after the register-blocked, vectorised and double-buffered kernels of siboehm's CUDA SGEMM worklog (kernels 6
    /// and 7 there; 70-94% of cuBLAS in CUDA C). 124 registers on sm_90 (ptxas 11.8; benchmarks/KERNELS.md), so 2 groups
    /// (16 warps) an SM: 25% occupancy is what this design trades for 64 accumulators a thread, and its declared minimum;
    /// the tests also hold it to 8 or more FFMA per shared load in its k loop (16 by design, all LDS.128).
    /// <para><b>Per k value</b> each thread reads 8 values of op(A) and 8 of op(B) from shared memory as four 16-byte
    /// <see cref="Float4"/> loads and does 64 multiply-adds: 16 FFMA per shared load instruction (v3: 2). ILGPU emits a
    /// vector load (<c>ld.shared.v4.f32</c>, SASS <c>LDS.128</c>) only for a whole 16-byte struct at an address its
    /// alignment analysis proves 16-byte aligned: a shared allocation of a 16-byte struct type is 16-byte aligned and an
    /// element address of it too, whatever the index. So the tiles are allocated as Float4 and written through a float
    /// view of the same memory.</para>
    /// <para><b>Thread layout.</b> Thread (tr, tc) owns rows 4 tr..4 tr + 3 and 64 + 4 tr..64 + 4 tr + 3, and the same of
    /// the columns with tc, not 8 adjacent rows: a quarter warp (the 8 threads one LDS.128 phase serves) then reads 8
    /// adjacent Float4s of B, 128 contiguous bytes, free of bank conflicts; with 8 adjacent columns a thread (siboehm's
    /// layout) the 8 reads span 256 bytes, two to a bank. A warp's reads of A are two addresses, broadcast.</para>
    /// <para><b>Double buffering.</b> Two shared buffers a operand: while the group computes on one, each thread has
    /// already issued the global loads of the next k tile into 8 registers, and stores them into the other buffer after
    /// the arithmetic: one barrier a k tile instead of two, and global latency hidden behind 512 multiply-adds.</para>
    /// <para><b>Global loads</b> are scalar and coalesced (leading dimensions and offsets are arbitrary, so 16-byte global
    /// loads cannot be proven aligned): each thread loads 4 elements of op(A) and 4 of op(B) a k tile, along whichever
    /// index is contiguous in memory (<see cref="V4Loader"/>); out-of-range elements load as zero, so every tail (M, N, K
    /// not multiples of 128, 128, 8; sizes of 1) is handled by the same code. The four transposes differ only in the
    /// loaders' integers, not in the code.</para>
    /// <para>The kernel body is generated (Gemm.Gpu.V4Blocked.g.cs, by tools/gen_gemm_v4.py): ILGPU's unroller is off and
    /// ptxas does not unroll at O2, and 64 accumulators must be named scalars to live in registers.</para>
    /// </summary>
    internal static readonly KernelSpec V4BlockedSpec = KernelSpec.Explicit(
        "Gemm.V4Blocked", typeof(Gemm), nameof(V4BlockedKernel), groupSize: V4Threads, hot: true, minOccupancy: 0.25,
        minInnerFfmaPerLds: 8);

    /// <summary>
    /// Where one thread's 4 elements of one operand come from and go to, for each k tile. op(X) is the operand as a
    /// 128 (rows of A or columns of B) x K matrix. k-contiguous (A as is, B transposed): thread t loads k = t % 8 of the
    /// tile's rows t / 8 + 32 q; a warp reads 4 rows x 32 bytes. Otherwise (A transposed, B as is) thread t loads row
    /// t % 128 at k = t / 128 + 2 q; a warp reads 128 contiguous bytes. Both store into the k-major tile at p * 132 + i.
    /// </summary>
    /// <param name="Offset">Global index of element q = 0 of the first k tile.</param>
    /// <param name="QStep">Global index step from element q to q + 1.</param>
    /// <param name="KStep">Global index step per unit of k (per tile: 8 of them).</param>
    /// <param name="Shared">Float index of element q = 0 in a shared buffer.</param>
    /// <param name="SharedStep">Float index step from element q to q + 1 in a shared buffer.</param>
    /// <param name="Index">Row of op(A) (column of op(B)) of element q = 0.</param>
    /// <param name="IndexStep">Its step per q.</param>
    /// <param name="K0">k within the tile of element q = 0.</param>
    /// <param name="KStepPerQ">Its step per q.</param>
    internal readonly record struct V4Loader(int Offset, int QStep, int KStep, int Shared, int SharedStep, int Index, int IndexStep, int K0, int KStepPerQ)
    {
        /// <summary>Thread <paramref name="t"/>'s loader for an operand whose tile starts at row (column) <paramref name="first"/>
        /// (<paramref name="stride"/>: the shared tile's row stride in floats; v5 uses its own).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static V4Loader Of(int t, bool kContiguous, int first, int ld, int stride = V4Stride)
        {
            if (kContiguous)
            {
                int i = t / V4TileK, p = t % V4TileK;
                return new((first + i) * ld + p, 32 * ld, 1, p * stride + i, 32, first + i, 32, p, 0);
            }
            else
            {
                int i = t % V4Tile, p = t / V4Tile;
                return new(p * ld + first + i, 2 * ld, ld, p * stride + i, 2 * stride, first + i, 0, p, 2);
            }
        }
    }

    /// <summary>Element q of the k tile starting at k = <paramref name="p0"/>, or 0 outside the matrix (rows: <paramref name="extent"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static float V4Load(ArrayView<float> x, V4Loader l, int q, int p0, int extent, int k)
    {
        int index = l.Index + q * l.IndexStep, p = p0 + l.K0 + q * l.KStepPerQ;
        return index < extent && p < k ? x[l.Offset + q * l.QStep + p0 * l.KStep] : 0f;
    }

    /// <summary>Writes one thread's four adjacent values of a row of C (columns col..col + 3), those inside C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void V4StoreRow(GemmArgs g, ArrayView<float> c, int row, int col, float v0, float v1, float v2, float v3)
    {
        if (row >= g.M) return;
        V3Store(g, c, row, col, v0);
        V3Store(g, c, row, col + 1, v1);
        V3Store(g, c, row, col + 2, v2);
        V3Store(g, c, row, col + 3, v3);
    }
}

/// <summary>Four floats as one 16-byte value: what a shared-memory view must hold for ILGPU to emit 16-byte loads
/// (<c>ld.shared.v4.f32</c>). Fields in memory order.</summary>
internal struct Float4
{
    /// <summary>The four values, at byte offsets 0, 4, 8, 12.</summary>
    public float X, Y, Z, W;
}
