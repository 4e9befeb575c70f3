using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Transposes: <see cref="Matrix"/> ([R, C] to [C, R]) and <see cref="Permute"/> (any order of up to six axes).
///
/// <para>A naive GPU transpose either reads or writes with a stride of R floats, so half its memory traffic
/// is uncoalesced. The tiled kernel stages a 32 x 32 tile in shared memory: a group reads the tile row by row
/// (coalesced), waits at a barrier, and writes it back column by column, that is row by row of the output
/// (coalesced again). The tile is 33 floats wide so the 32 threads reading a tile column hit 32 different
/// shared-memory banks.</para>
/// </summary>
public static class Transpose
{
    // ================================================================ float64 reference

    public static class Reference
    {
        public static double[] Matrix(double[] x, int rows, int cols)
        {
            var y = new double[x.Length];
            for (int r = 0; r < rows; r++)
                for (int c = 0; c < cols; c++)
                    y[c * rows + r] = x[r * cols + c];
            return y;
        }

        /// <summary>y[i_perm[0], i_perm[1], ...] = x[i_0, i_1, ...]: output axis k is input axis perm[k].</summary>
        public static double[] Permute(double[] x, int[] shape, int[] perm)
        {
            var outShape = perm.Select(p => shape[p]).ToArray();
            var y = new double[x.Length];
            var index = new int[shape.Length];
            for (int o = 0; o < y.Length; o++)
            {
                for (int k = outShape.Length - 1, rest = o; k >= 0; k--) { index[perm[k]] = rest % outShape[k]; rest /= outShape[k]; }
                int i = 0;
                for (int r = 0; r < shape.Length; r++) i = i * shape[r] + index[r];
                y[o] = x[i];
            }
            return y;
        }
    }

    // ================================================================ entry points

    /// <summary>[R, C] to [C, R].</summary>
    public static Tensor Matrix(Tensor x)
    {
        Check.Rank("Transpose.Matrix", "x", x, 2);
        var y = Tensor.Empty(x.Device, x.Dim(1), x.Dim(0));
        MatrixInto(x, y);
        return y;
    }

    public static void MatrixInto(Tensor x, Tensor y)
    {
        const string op = "Transpose.Matrix";
        Check.Rank(op, "x", x, 2);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, x.Dim(1), x.Dim(0));
        int rows = x.Dim(0), cols = x.Dim(1);
        if (x.Length == 0) return;
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ya, yo) = y.CpuBuffer;
                // The cpu version of the GPU's tile: copy a 32 x 32 block into a local tile (reading 32 runs of 32
                // consecutive floats), then write it out transposed (writing 32 runs of 32 consecutive floats).
                // Writing straight to y[c * rows + r] would touch 32 cache lines a power-of-two stride apart, which
                // all fall into the same L1 set and evict each other.
                int blockRows = (rows + Tile - 1) / Tile;
                CpuParallel.For(cpu, blockRows, (start, count) =>
                {
                    Span<float> tile = stackalloc float[Tile * Tile];
                    for (int br = start; br < start + count; br++)
                    {
                        int r0 = br * Tile, height = Math.Min(Tile, rows - r0);
                        for (int c0 = 0; c0 < cols; c0 += Tile)
                        {
                            int width = Math.Min(Tile, cols - c0);
                            for (int r = 0; r < height; r++)
                                xa.AsSpan(xo + (r0 + r) * cols + c0, width).CopyTo(tile.Slice(r * Tile, width));
                            for (int c = 0; c < width; c++)
                            {
                                var row = ya.AsSpan(yo + (c0 + c) * rows + r0, height);
                                for (int r = 0; r < height; r++) row[r] = tile[r * Tile + c];
                            }
                        }
                    }
                }, grain: Math.Max(1, 2048 / Math.Max(1, cols)));
                break;
            case GpuDevice gpu:
                int tilesX = (cols + Tile - 1) / Tile, tilesY = (rows + Tile - 1) / Tile;
                gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>>(MatrixSpec)
                    (gpu.Stream, new KernelConfig(tilesX * tilesY, GroupSize), x.View, y.View, rows, cols, tilesX);
                break;
        }
    }

    /// <summary>Output axis k is input axis perm[k] (numpy's transpose(perm)); a copy, not a view.</summary>
    public static Tensor Permute(Tensor x, int[] perm)
    {
        CheckPermutation(x, perm);
        var y = Tensor.Empty(x.Device, perm.Select(p => x.Dim(p)).ToArray());
        PermuteInto(x, perm, y);
        return y;
    }

    /// <summary><paramref name="y"/> = x permuted (see <see cref="Permute"/>); on the cpu by <paramref name="variant"/>.</summary>
    public static void PermuteInto(Tensor x, int[] perm, Tensor y, PermuteVariant variant = PermuteVariant.Default)
    {
        const string op = "Transpose.Permute";
        CheckPermutation(x, perm);
        Check.SameDevice(op, x, y);
        Check.Shape(op, "y", y, perm.Select(p => x.Dim(p)).ToArray());
        if (x.Length == 0) return;
        switch (x.Device)
        {
            case CpuDevice cpu when variant == PermuteVariant.V1:
                PermuteCpuPerElement(cpu, x, perm, y);
                break;
            case CpuDevice cpu:
                PermuteCpu(cpu, x, perm, y);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, PermuteIndex>>(PermuteSpec)
                    (gpu.Stream, y.Length, x.View, y.View, PermuteIndex.Create(x.Shape, perm));
                break;
        }
    }

    /// <summary>v1 on the cpu: each output element's source found by <see cref="PermuteIndex"/> (a division per axis), as
    /// the GPU kernel does.</summary>
    static void PermuteCpuPerElement(CpuDevice cpu, Tensor x, int[] perm, Tensor y)
    {
        var ix = PermuteIndex.Create(x.Shape, perm);
        var (xa, xo) = x.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        CpuParallel.For(cpu, y.Length, (start, count) =>
        {
            for (int o = start; o < start + count; o++) ya[yo + o] = xa[xo + ix.Source(o)];
        });
    }

    /// <summary>
    /// v2 (the default), the cpu permute by runs: axes of size 1 dropped and output neighbours that are input neighbours merged, the flat
    /// source index is found (by division) once per block of the last two output axes, and the last axis is copied as
    /// one run where it is contiguous in x too. Finding the index of every element by five divisions, as the GPU kernel
    /// does, cost more than the copy itself (MuseGAN's patch layers spent 70% of a step there).
    /// </summary>
    static void PermuteCpu(CpuDevice cpu, Tensor x, int[] perm, Tensor y)
    {
        var (xa, xo) = x.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        Span<int> inStrides = stackalloc int[x.Rank];
        for (int r = x.Rank - 1, st = 1; r >= 0; r--) { inStrides[r] = st; st *= x.Dim(r); }
        // Output axes (outermost first), each with the input stride of the axis it came from.
        var dims = new List<int>(x.Rank);
        var strides = new List<int>(x.Rank);
        foreach (int p in perm)
        {
            int d = x.Dim(p), s = inStrides[p];
            if (d == 1) continue;
            if (dims.Count > 0 && strides[^1] == s * d) { dims[^1] *= d; strides[^1] = s; }
            else { dims.Add(d); strides.Add(s); }
        }
        while (dims.Count < 2) { dims.Insert(0, 1); strides.Insert(0, 0); }
        int inner = dims[^1], innerStride = strides[^1], mid = dims[^2], midStride = strides[^2], block = inner * mid;
        int outerRank = dims.Count - 2;
        int[] outerDims = [.. dims.Take(outerRank)], outerStrides = [.. strides.Take(outerRank)];
        CpuParallel.For(cpu, y.Length / block, (start, count) =>
        {
            for (int b = start; b < start + count; b++)
            {
                int source = xo, rest = b;
                for (int k = outerRank - 1; k >= 0; k--) { source += rest % outerDims[k] * outerStrides[k]; rest /= outerDims[k]; }
                int o = yo + b * block;
                for (int m = 0; m < mid; m++, o += inner)
                {
                    int from = source + m * midStride;
                    if (innerStride == 1) Array.Copy(xa, from, ya, o, inner);
                    else for (int i = 0; i < inner; i++) ya[o + i] = xa[from + i * innerStride];
                }
            }
        }, grain: Math.Max(1, 32768 / block));
    }

    static void CheckPermutation(Tensor x, int[] perm)
    {
        if (perm.Length != x.Rank || !perm.Order().SequenceEqual(Enumerable.Range(0, x.Rank)))
            throw new TensorShapeException($"Transpose.Permute: [{string.Join(", ", perm)}] is not a permutation of the {x.Rank} axes of {Shapes.Format(x.Shape)}");
        if (x.Rank > PermuteIndex.MaxRank)
            throw new TensorShapeException($"Transpose.Permute: at most {PermuteIndex.MaxRank} axes, got {Shapes.Format(x.Shape)}");
    }

    // ================================================================ GPU kernels

    const int Tile = 32;

    /// <summary>32 x 8 threads: each moves 4 elements of the 32 x 32 tile.</summary>
    const int GroupSize = Tile * 8;

    internal static readonly KernelSpec MatrixSpec = KernelSpec.Explicit("Transpose.MatrixTiled", typeof(Transpose), nameof(MatrixKernel), GroupSize);
    internal static readonly KernelSpec PermuteSpec = KernelSpec.Implicit("Transpose.Permute", typeof(Transpose), nameof(PermuteKernel));

    static void MatrixKernel(ArrayView<float> x, ArrayView<float> y, int rows, int cols, int tilesX)
    {
        var tile = SharedMemory.Allocate<float>(Tile * (Tile + 1));
        int tileRow = Grid.IdxX / tilesX, tileCol = Grid.IdxX - tileRow * tilesX;
        int lane = Group.IdxX % Tile, row = Group.IdxX / Tile; // row 0..7
        // Read: 32 consecutive columns of one input row per warp.
        for (int k = row; k < Tile; k += GroupSize / Tile)
        {
            int r = tileRow * Tile + k, c = tileCol * Tile + lane;
            if (r < rows && c < cols) tile[k * (Tile + 1) + lane] = x[r * cols + c];
        }
        Group.Barrier();
        // Write: output row = input column; 32 consecutive input rows (output columns) per warp.
        for (int k = row; k < Tile; k += GroupSize / Tile)
        {
            int outRow = tileCol * Tile + k, outCol = tileRow * Tile + lane;
            if (outRow < cols && outCol < rows) y[outRow * rows + outCol] = tile[lane * (Tile + 1) + k];
        }
    }

    static void PermuteKernel(Index1D o, ArrayView<float> x, ArrayView<float> y, PermuteIndex ix) => y[o] = x[ix.Source(o)];
}

/// <summary>
/// Maps a flat output index of a permutation to the flat input index: the output's sizes and, for each output
/// axis, the stride of the input axis it came from. Padded at the front to <see cref="MaxRank"/> axes.
/// </summary>
public readonly struct PermuteIndex
{
    public const int MaxRank = 6;
    readonly int d1, d2, d3, d4, d5;             // output sizes (axis 0 needs none)
    readonly int s0, s1, s2, s3, s4, s5;         // input strides in output-axis order

    PermuteIndex(Span<int> d, Span<int> s)
    {
        d1 = d[1]; d2 = d[2]; d3 = d[3]; d4 = d[4]; d5 = d[5];
        s0 = s[0]; s1 = s[1]; s2 = s[2]; s3 = s[3]; s4 = s[4]; s5 = s[5];
    }

    public static PermuteIndex Create(int[] shape, int[] perm)
    {
        Span<int> strides = stackalloc int[shape.Length];
        for (int r = shape.Length - 1, st = 1; r >= 0; r--) { strides[r] = st; st *= shape[r]; }
        Span<int> d = stackalloc int[MaxRank], s = stackalloc int[MaxRank];
        d.Fill(1);
        s.Clear();
        int pad = MaxRank - perm.Length;
        for (int k = 0; k < perm.Length; k++) { d[pad + k] = shape[perm[k]]; s[pad + k] = strides[perm[k]]; }
        return new PermuteIndex(d, s);
    }

    public int Source(int flat)
    {
        int i = 0, c;
        c = flat % d5; flat /= d5; i += c * s5;
        c = flat % d4; flat /= d4; i += c * s4;
        c = flat % d3; flat /= d3; i += c * s3;
        c = flat % d2; flat /= d2; i += c * s2;
        c = flat % d1; flat /= d1; i += c * s1;
        return i + flat * s0;
    }
}

/// <summary>How <see cref="Transpose.PermuteInto"/> copies on the cpu (the GPU has one kernel).</summary>
public enum PermuteVariant
{
    /// <summary>v2: the measured best (benchmarks/RESULTS.md, "Reductions, random numbers, transpose").</summary>
    Default = 0,
    /// <summary>v1: a source index per element (a division per axis).</summary>
    V1 = 1,
    /// <summary>v2: axes merged, a source index per block of the last two axes, contiguous runs copied whole.</summary>
    V2 = 2,
}
