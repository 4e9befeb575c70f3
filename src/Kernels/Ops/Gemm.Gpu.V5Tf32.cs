using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;

namespace NativeGan;

public static partial class Gemm
{
    // ================================================================ GPU v5: TF32 tensor cores (mma.sync m16n8k8)

    /// <summary>
    /// Row stride of v5's shared tiles in floats: 136 (= 8 mod 32). A fragment load reads k = t and t + 4 of 8 rows g
    /// (lane = 4 g + t), at t * 136 + g: banks 8 t + g, all 32 distinct (v4's 132 would put two lanes on a bank).
    /// </summary>
    const int V5Stride = V4Tile + 8;

    const int V5BufferFloats = V4TileK * V5Stride;

    /// <summary>Launches v5: v4's grid (ceil(n/128), ceil(m/128)) of 256-thread groups.</summary>
    internal static void GpuV5Tf32(GpuDevice gpu, GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
        => gpu.Kernel<Action<AcceleratorStream, KernelConfig, GemmArgs, ArrayView<float>, ArrayView<float>, ArrayView<float>>>(V5Tf32Spec)
            (gpu.Stream,
             new KernelConfig(new Index2D((g.N + V4Tile - 1) / V4Tile, (g.M + V4Tile - 1) / V4Tile), new Index2D(V4Threads, 1)),
             g, a, b, c);

    /// <summary>
    /// v5: TF32 tensor cores, opt-in like PyTorch's <c>allow_tf32</c> (the default never picks it: its inputs are rounded
    /// to TF32's 10 mantissa bits, about 1e-3 relative, while the sums stay float32). v4's 128 x 128 tile, k tile of 8,
    /// double-buffered shared memory and loaders; the 8 warps as 4 x 2, each computing 32 x 64 of C as 2 x 8 tiles of
    /// <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32</c> (SASS <c>HMMA.1688.F32.TF32</c>), 16 a k tile,
    /// accumulators in registers (64 floats a thread, as 16 <see cref="Acc4"/>).
    /// <para>The instruction is emitted with <see cref="CudaAsm.EmitRef{T0}(string, ref T0)"/> behind
    /// <see cref="CudaAsm.IsSupported"/>; everywhere else (ILGPU's CPU accelerator, the tests) <see cref="MmaManaged"/>
    /// computes the same tile from the same per-lane fragments with warp shuffles, following the PTX ISA's fragment
    /// layout for m16n8k8 .tf32, so the kernel's indexing is tested without a GPU and only the instruction waits for one.</para>
    /// <para>Not yet here (issue 40): <c>cp.async</c> multi-stage loads (global loads are v4's, staged through registers).</para>
    /// </summary>
    internal static readonly KernelSpec V5Tf32Spec = KernelSpec.Explicit(
        "Gemm.V5Tf32", typeof(Gemm), nameof(V5Tf32Kernel), groupSize: V4Threads, hot: true, minOccupancy: 0.25);

    static void V5Tf32Kernel(GemmArgs g, ArrayView<float> a, ArrayView<float> b, ArrayView<float> c)
    {
        var aTile = SharedMemory.Allocate<float>(2 * V5BufferFloats); // [buffer][k][m], k-major like v4
        var bTile = SharedMemory.Allocate<float>(2 * V5BufferFloats); // [buffer][k][n]
        int t = Group.IdxX, warp = t / 32, lane = t % 32, gq = lane / 4, tq = lane % 4;
        // Only the managed mma (no GPU) uses it; on CUDA the branch that reads it is compiled away, and the allocation too.
        var scratch = SharedMemory.Allocate<float>(V4Threads / 32 * V5ScratchFloats).SubView(warp * V5ScratchFloats, V5ScratchFloats);
        int row0 = Grid.IdxY * V4Tile, col0 = Grid.IdxX * V4Tile;
        int wm = warp % 4 * 32, wn = warp / 4 * 64;
        var la = V4Loader.Of(t, g.TransA == 0, row0, g.Lda, V5Stride);
        var lb = V4Loader.Of(t, g.TransB != 0, col0, g.Ldb, V5Stride);

        Acc4 d00 = default, d01 = default, d02 = default, d03 = default, d04 = default, d05 = default, d06 = default, d07 = default;
        Acc4 d10 = default, d11 = default, d12 = default, d13 = default, d14 = default, d15 = default, d16 = default, d17 = default;

        float a0 = V4Load(a, la, 0, 0, g.M, g.K), b0 = V4Load(b, lb, 0, 0, g.N, g.K);
        float a1 = V4Load(a, la, 1, 0, g.M, g.K), b1 = V4Load(b, lb, 1, 0, g.N, g.K);
        float a2 = V4Load(a, la, 2, 0, g.M, g.K), b2 = V4Load(b, lb, 2, 0, g.N, g.K);
        float a3 = V4Load(a, la, 3, 0, g.M, g.K), b3 = V4Load(b, lb, 3, 0, g.N, g.K);
        aTile[la.Shared] = a0; aTile[la.Shared + la.SharedStep] = a1; aTile[la.Shared + 2 * la.SharedStep] = a2; aTile[la.Shared + 3 * la.SharedStep] = a3;
        bTile[lb.Shared] = b0; bTile[lb.Shared + lb.SharedStep] = b1; bTile[lb.Shared + 2 * lb.SharedStep] = b2; bTile[lb.Shared + 3 * lb.SharedStep] = b3;
        Group.Barrier();

        int tiles = (g.K + V4TileK - 1) / V4TileK;
        for (int kt = 0; kt < tiles; kt++)
        {
            int p0 = (kt + 1) * V4TileK; // the next tile, in flight during the arithmetic (as in v4)
            a0 = V4Load(a, la, 0, p0, g.M, g.K); b0 = V4Load(b, lb, 0, p0, g.N, g.K);
            a1 = V4Load(a, la, 1, p0, g.M, g.K); b1 = V4Load(b, lb, 1, p0, g.N, g.K);
            a2 = V4Load(a, la, 2, p0, g.M, g.K); b2 = V4Load(b, lb, 2, p0, g.N, g.K);
            a3 = V4Load(a, la, 3, p0, g.M, g.K); b3 = V4Load(b, lb, 3, p0, g.N, g.K);

            // Fragments (PTX ISA, "Matrix Fragments for mma.m16n8k8" .tf32): lane 4 g + t holds A (g, t), (g + 8, t),
            // (g, t + 4), (g + 8, t + 4) of its 16 x 8 tile and B (t, g), (t + 4, g) of its 8 x 8 one.
            long ia = (kt & 1) * V5BufferFloats + tq * V5Stride + wm + gq;
            long ib = (kt & 1) * V5BufferFloats + tq * V5Stride + wn + gq;
            var x0 = Tf32x4.Of(aTile[ia], aTile[ia + 8], aTile[ia + 4 * V5Stride], aTile[ia + 4 * V5Stride + 8]);
            var x1 = Tf32x4.Of(aTile[ia + 16], aTile[ia + 24], aTile[ia + 4 * V5Stride + 16], aTile[ia + 4 * V5Stride + 24]);
            var y0 = Tf32x2.Of(bTile[ib], bTile[ib + 4 * V5Stride]);
            var y1 = Tf32x2.Of(bTile[ib + 8], bTile[ib + 4 * V5Stride + 8]);
            var y2 = Tf32x2.Of(bTile[ib + 16], bTile[ib + 4 * V5Stride + 16]);
            var y3 = Tf32x2.Of(bTile[ib + 24], bTile[ib + 4 * V5Stride + 24]);
            var y4 = Tf32x2.Of(bTile[ib + 32], bTile[ib + 4 * V5Stride + 32]);
            var y5 = Tf32x2.Of(bTile[ib + 40], bTile[ib + 4 * V5Stride + 40]);
            var y6 = Tf32x2.Of(bTile[ib + 48], bTile[ib + 4 * V5Stride + 48]);
            var y7 = Tf32x2.Of(bTile[ib + 56], bTile[ib + 4 * V5Stride + 56]);
            d00 = Mma(d00, x0, y0, scratch); d01 = Mma(d01, x0, y1, scratch); d02 = Mma(d02, x0, y2, scratch); d03 = Mma(d03, x0, y3, scratch);
            d04 = Mma(d04, x0, y4, scratch); d05 = Mma(d05, x0, y5, scratch); d06 = Mma(d06, x0, y6, scratch); d07 = Mma(d07, x0, y7, scratch);
            d10 = Mma(d10, x1, y0, scratch); d11 = Mma(d11, x1, y1, scratch); d12 = Mma(d12, x1, y2, scratch); d13 = Mma(d13, x1, y3, scratch);
            d14 = Mma(d14, x1, y4, scratch); d15 = Mma(d15, x1, y5, scratch); d16 = Mma(d16, x1, y6, scratch); d17 = Mma(d17, x1, y7, scratch);

            int next = (1 - (kt & 1)) * V5BufferFloats;
            aTile[next + la.Shared] = a0; aTile[next + la.Shared + la.SharedStep] = a1;
            aTile[next + la.Shared + 2 * la.SharedStep] = a2; aTile[next + la.Shared + 3 * la.SharedStep] = a3;
            bTile[next + lb.Shared] = b0; bTile[next + lb.Shared + lb.SharedStep] = b1;
            bTile[next + lb.Shared + 2 * lb.SharedStep] = b2; bTile[next + lb.Shared + 3 * lb.SharedStep] = b3;
            Group.Barrier();
        }

        // Accumulators: lane 4 g + t holds (g, 2 t), (g, 2 t + 1), (g + 8, 2 t), (g + 8, 2 t + 1) of its 16 x 8 tile.
        int r0 = row0 + wm + gq, r1 = r0 + 16, c0 = col0 + wn + 2 * tq;
        V5Store(g, c, r0, c0, d00); V5Store(g, c, r0, c0 + 8, d01); V5Store(g, c, r0, c0 + 16, d02); V5Store(g, c, r0, c0 + 24, d03);
        V5Store(g, c, r0, c0 + 32, d04); V5Store(g, c, r0, c0 + 40, d05); V5Store(g, c, r0, c0 + 48, d06); V5Store(g, c, r0, c0 + 56, d07);
        V5Store(g, c, r1, c0, d10); V5Store(g, c, r1, c0 + 8, d11); V5Store(g, c, r1, c0 + 16, d12); V5Store(g, c, r1, c0 + 24, d13);
        V5Store(g, c, r1, c0 + 32, d14); V5Store(g, c, r1, c0 + 40, d15); V5Store(g, c, r1, c0 + 48, d16); V5Store(g, c, r1, c0 + 56, d17);
    }

    /// <summary>Writes one accumulator fragment: rows row and row + 8, columns col and col + 1, those inside C.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static void V5Store(GemmArgs g, ArrayView<float> c, int row, int col, Acc4 d)
    {
        if (row < g.M)
        {
            V3Store(g, c, row, col, d.X);
            V3Store(g, c, row, col + 1, d.Y);
        }
        if (row + 8 < g.M)
        {
            V3Store(g, c, row + 8, col, d.Z);
            V3Store(g, c, row + 8, col + 1, d.W);
        }
    }

    /// <summary>
    /// D = A B + D for one m16n8k8 TF32 tile, one warp: <c>mma.sync</c> on a CUDA GPU, <see cref="MmaManaged"/> elsewhere
    /// (<paramref name="scratch"/>: its warp's shared scratch, unused by the instruction).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Acc4 Mma(Acc4 d, Tf32x4 a, Tf32x2 b, ArrayView<float> scratch)
    {
        if (CudaAsm.IsSupported)
        {
            Ref<float> d0 = d.X, d1 = d.Y, d2 = d.Z, d3 = d.W;
            Input<uint> a0 = a.X, a1 = a.Y, a2 = a.Z, a3 = a.W, b0 = b.X, b1 = b.Y;
            CudaAsm.EmitRef(
                "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};",
                ref d0, ref d1, ref d2, ref d3, ref a0, ref a1, ref a2, ref a3, ref b0, ref b1);
            return new Acc4(d0.Value, d1.Value, d2.Value, d3.Value);
        }
        return MmaManaged(d, a, b, scratch);
    }

    /// <summary>
    /// What <c>mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32</c> computes, from the same per-lane fragments (PTX ISA
    /// 7.8, "Matrix Fragments for mma.m16n8k8", .tf32): lane l = 4 g + t holds A (g, t) in a.X, (g + 8, t) in a.Y,
    /// (g, t + 4) in a.Z, (g + 8, t + 4) in a.W; B (t, g) in b.X, (t + 4, g) in b.Y; and D (g, 2 t), (g, 2 t + 1),
    /// (g + 8, 2 t), (g + 8, 2 t + 1). Each lane puts its fragments where they belong in the warp's scratch (A row-major
    /// 16 x 8, then B 8 x 8), the warp waits, each lane sums its four outputs over k in order, and the warp waits again
    /// before the scratch is reused: 2 warp barriers a tile (warp shuffles took 32, and ILGPU's CPU accelerator pays for
    /// every one). Products of TF32 values are exact in float32.
    /// </summary>
    internal static Acc4 MmaManaged(Acc4 d, Tf32x4 a, Tf32x2 b, ArrayView<float> scratch)
    {
        int lane = Warp.LaneIdx, gq = lane / 4, tq = lane % 4;
        scratch[gq * 8 + tq] = Interop.IntAsFloat(a.X);
        scratch[(gq + 8) * 8 + tq] = Interop.IntAsFloat(a.Y);
        scratch[gq * 8 + tq + 4] = Interop.IntAsFloat(a.Z);
        scratch[(gq + 8) * 8 + tq + 4] = Interop.IntAsFloat(a.W);
        scratch[V5ScratchB + tq * 8 + gq] = Interop.IntAsFloat(b.X);
        scratch[V5ScratchB + (tq + 4) * 8 + gq] = Interop.IntAsFloat(b.Y);
        Warp.Barrier();
        float s0 = d.X, s1 = d.Y, s2 = d.Z, s3 = d.W;
        for (int k = 0; k < 8; k++)
        {
            float top = scratch[gq * 8 + k], bottom = scratch[(gq + 8) * 8 + k];
            float left = scratch[V5ScratchB + k * 8 + 2 * tq], right = scratch[V5ScratchB + k * 8 + 2 * tq + 1];
            s0 += top * left; s1 += top * right; s2 += bottom * left; s3 += bottom * right;
        }
        Warp.Barrier();
        return new Acc4(s0, s1, s2, s3);
    }

    /// <summary>The managed mma's scratch a warp: A (16 x 8) then B (8 x 8), in floats.</summary>
    const int V5ScratchB = 16 * 8, V5ScratchFloats = V5ScratchB + 8 * 8;

    /// <summary>
    /// A float rounded to TF32 (10 mantissa bits), to nearest with ties away from zero (what <c>cvt.rna.tf32.f32</c> does),
    /// as the 32-bit pattern tensor cores read: adding half of the 13 dropped bits' unit to the magnitude and clearing them.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static uint RoundToTf32(float x) => (Interop.FloatAsInt(x) + 0x1000u) & 0xFFFFE000u;
}

/// <summary>Four float accumulators of an mma fragment (D / C).</summary>
internal readonly record struct Acc4(float X, float Y, float Z, float W);

/// <summary>An A fragment of m16n8k8 .tf32: four TF32 bit patterns.</summary>
internal readonly record struct Tf32x4(uint X, uint Y, uint Z, uint W)
{
    /// <summary>Rounds four floats to TF32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tf32x4 Of(float x, float y, float z, float w) => new(Gemm.RoundToTf32(x), Gemm.RoundToTf32(y), Gemm.RoundToTf32(z), Gemm.RoundToTf32(w));
}

/// <summary>A B fragment of m16n8k8 .tf32: two TF32 bit patterns.</summary>
internal readonly record struct Tf32x2(uint X, uint Y)
{
    /// <summary>Rounds two floats to TF32.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Tf32x2 Of(float x, float y) => new(Gemm.RoundToTf32(x), Gemm.RoundToTf32(y));
}
