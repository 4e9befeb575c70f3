using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The backward mask of a maximum over one axis (<c>Ops.MaxOver</c>, the pieces of a maxout layer). For x seen as
/// [outer, P, inner] and its maximum m [outer, inner] over P: <c>mask[o, p, i] = hit / count</c>, with hit = 1
/// where x[o, p, i] equals m[o, i] (else 0) and count the hits along P, so tied maxima share the gradient evenly
/// (PyTorch's <c>amax</c> rule). The backward is then dx = dy * mask, broadcast over P.
///
/// <para>Why its own kernel: composed from elementwise kernels (x - m, sign, + 1, a sum over P, a division) the mask
/// took five passes and four temporaries the size of x, 8% of a 2D WGAN-GP step on the cpu. Here it is one pass
/// (each element counts its own column's hits: P is a maxout's 5 pieces), with the same floats: 1 / count where
/// x equals the maximum, else 0. The five-kernel composition is kept as v1 (<see cref="MaxOverMaskVariant"/>).</para>
/// </summary>
public static class MaxOverMask
{
    const string Op = "MaxOver.Mask";

    // ================================================================ float64 reference

    public static class Reference
    {
        public static double[] Mask(double[] x, double[] max, int outer, int pieces, int inner)
        {
            var mask = new double[x.Length];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    double m = max[o * inner + i];
                    int count = 0;
                    for (int p = 0; p < pieces; p++) if (x[(o * pieces + p) * inner + i] == m) count++;
                    for (int p = 0; p < pieces; p++)
                        mask[(o * pieces + p) * inner + i] = x[(o * pieces + p) * inner + i] == m ? 1.0 / count : 0.0;
                }
            return mask;
        }
    }

    // ================================================================ entry point

    /// <summary>
    /// The mask, shaped like <paramref name="x"/>, for the maximum <paramref name="max"/> of x over
    /// <paramref name="axis"/> (shaped like x without that axis, or with it kept as 1), by the kernels
    /// <paramref name="variant"/> names (default: v2, one kernel).
    /// </summary>
    public static Tensor Compute(Tensor x, Tensor max, int axis, MaxOverMaskVariant variant = MaxOverMaskVariant.Default)
    {
        CheckVariant(variant);
        var mask = Tensor.EmptyLike(x);
        try { ComputeInto(x, max, axis, mask, variant); }
        catch { mask.Dispose(); throw; }
        return mask;
    }

    public static void ComputeInto(Tensor x, Tensor max, int axis, Tensor mask, MaxOverMaskVariant variant = MaxOverMaskVariant.Default)
    {
        if (axis < 0 || axis >= x.Rank)
            throw new TensorShapeException($"{Op}: axis {axis} is outside shape {Shapes.Format(x.Shape)}");
        Check.SameDevice(Op, x, max, mask);
        Check.SameShape(Op, x, mask);
        CheckVariant(variant);
        int pieces = x.Dim(axis), outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= x.Dim(d);
        for (int d = axis + 1; d < x.Rank; d++) inner *= x.Dim(d);
        if (max.Length != outer * inner)
            throw new TensorShapeException($"{Op}: the maximum of {Shapes.Format(x.Shape)} over axis {axis} has {outer * inner} elements, got {Shapes.Format(max.Shape)}");
        if (x.Length == 0) return;
        if (variant == MaxOverMaskVariant.V1)
        {
            ComposedV1Into(x, max, axis, mask);
            return;
        }
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ma, mo) = max.CpuBuffer;
                var (ya, yo) = mask.CpuBuffer;
                CpuParallel.For(cpu, outer, (start, count) =>
                {
                    var inverse = ArrayPool<float>.Shared.Rent(inner);
                    for (int o = start; o < start + count; o++)
                        MaskCpu(xa.AsSpan(xo + o * pieces * inner, pieces * inner), ma.AsSpan(mo + o * inner, inner),
                            ya.AsSpan(yo + o * pieces * inner, pieces * inner), inverse.AsSpan(0, inner), pieces);
                    ArrayPool<float>.Shared.Return(inverse);
                }, grain: Math.Max(1, 16384 / (pieces * inner)));
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int>>(MaskSpec)
                    (gpu.Stream, x.Length, x.View, max.View, mask.View, pieces, inner);
                break;
        }
    }

    static void CheckVariant(MaxOverMaskVariant variant)
    {
        if (variant is < MaxOverMaskVariant.Default or > MaxOverMaskVariant.V2)
            throw new ArgumentOutOfRangeException(nameof(variant), $"{Op}: no variant {(int)variant}; the variants are 1, 2 and 0 (Default)");
    }

    /// <summary>
    /// v1, kept to compare against (<c>nativegan lab maxover.mask</c>, benchmarks' <c>maxout-quick</c>): the same mask
    /// from five general kernels, hit = 1 + sign(x - max) and hit / (hit summed over the axis), as <c>Ops.MaxOver</c>
    /// built it until v2.
    /// </summary>
    static void ComposedV1Into(Tensor x, Tensor max, int axis, Tensor mask)
    {
        var kept = (int[])x.Shape.Clone();
        kept[axis] = 1;
        using var m = max.ViewAs(kept);
        using var diff = Elementwise.Binary(BinaryOp.Sub, x, m);
        using var sign = Elementwise.Unary(UnaryOp.Sign, diff);          // 0 at the maximum, -1 below
        using var hit = Elementwise.Unary(UnaryOp.Affine, sign, 1f, 1f); // 1 at the maximum, else 0
        using var count = Reduce.Sum(hit, [axis], keepDims: true);
        Elementwise.BinaryInto(BinaryOp.Div, hit, count, mask);
    }

    // ================================================================ cpu

    /// <summary>One [P, inner] slab: count the hits per column, then write 1 / count at each hit (vectors across the columns).</summary>
    static void MaskCpu(ReadOnlySpan<float> x, ReadOnlySpan<float> max, Span<float> mask, Span<float> inverse, int pieces)
    {
        int inner = max.Length, w = Vector<float>.Count, vectorEnd = inner - inner % w;
        ref float m = ref MemoryMarshal.GetReference(max), inv = ref MemoryMarshal.GetReference(inverse);
        inverse.Clear();
        for (int p = 0; p < pieces; p++)
        {
            ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), p * inner);
            int i = 0;
            for (; i < vectorEnd; i += w)
            {
                var hit = Vector.ConditionalSelect(Vector.Equals(Vector.LoadUnsafe(ref row, (nuint)i), Vector.LoadUnsafe(ref m, (nuint)i)), Vector<float>.One, Vector<float>.Zero);
                (Vector.LoadUnsafe(ref inv, (nuint)i) + hit).StoreUnsafe(ref inv, (nuint)i);
            }
            for (; i < inner; i++) if (Unsafe.Add(ref row, i) == max[i]) inverse[i] += 1f;
        }
        TensorPrimitives.Divide(1f, inverse, inverse); // counts are >= 1 unless x holds NaN (then no hit anywhere)
        for (int p = 0; p < pieces; p++)
        {
            ref float row = ref Unsafe.Add(ref MemoryMarshal.GetReference(x), p * inner);
            ref float outRow = ref Unsafe.Add(ref MemoryMarshal.GetReference(mask), p * inner);
            int i = 0;
            for (; i < vectorEnd; i += w)
                Vector.ConditionalSelect(Vector.Equals(Vector.LoadUnsafe(ref row, (nuint)i), Vector.LoadUnsafe(ref m, (nuint)i)), Vector.LoadUnsafe(ref inv, (nuint)i), Vector<float>.Zero)
                    .StoreUnsafe(ref outRow, (nuint)i);
            for (; i < inner; i++) Unsafe.Add(ref outRow, i) = Unsafe.Add(ref row, i) == max[i] ? inverse[i] : 0f;
        }
    }

    // ================================================================ GPU kernel

    internal static readonly KernelSpec MaskSpec = KernelSpec.Implicit(Op, typeof(MaxOverMask), nameof(MaskKernel));

    /// <summary>One thread an element: it counts the hits in its own column of P (a few loads, cached) and writes its share.</summary>
    static void MaskKernel(Index1D index, ArrayView<float> x, ArrayView<float> max, ArrayView<float> mask, int pieces, int inner)
    {
        int i = index % inner, o = index / (pieces * inner);
        float m = max[o * inner + i];
        int count = 0;
        for (int p = 0; p < pieces; p++) if (x[(o * pieces + p) * inner + i] == m) count++;
        mask[index] = x[index] == m ? 1f / count : 0f;
    }
}

/// <summary>Which kernels build a maximum's backward mask (<see cref="MaxOverMask"/>), numbered as written.</summary>
public enum MaxOverMaskVariant
{
    /// <summary>v2: 2.6-3.6x v1 on the cpu, 6% less CPU a 2D WGAN-GP step (benchmarks/NOTES.md, maxout's mask).</summary>
    Default = 0,
    /// <summary>v1: five general kernels (x - max, sign, + 1, a sum over the axis, a division), four temporaries.</summary>
    V1 = 1,
    /// <summary>v2: one kernel, each element counting its own column's hits.</summary>
    V2 = 2,
}
