using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Concatenation along axis 1 (channels of NCHW, features of [N, F]) and its inverse, <see cref="Split"/>:
/// the backward of a concatenation splits the gradient, and the backward of a split concatenates
/// (a conditional GAN joins a label embedding to the noise or the image this way).
///
/// <para>Seen per sample, part i is one contiguous run of C_i * inner floats that lands at channel offset
/// c_i of the output's run of C * inner floats. So both directions are a strided block copy
/// (rows = N, one row of a part = C_i * inner floats), one launch per part.</para>
/// </summary>
public static class ChannelConcat
{
    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>Concatenates parts of shapes [N, C_i, inner...] (inner = product of the trailing axes).</summary>
        public static double[] Concat(double[][] parts, int n, int[] channels, int inner)
        {
            int total = channels.Sum();
            var y = new double[n * total * inner];
            for (int s = 0; s < n; s++)
                for (int p = 0, c0 = 0; p < parts.Length; c0 += channels[p], p++)
                    for (int c = 0; c < channels[p]; c++)
                        for (int k = 0; k < inner; k++)
                            y[(s * total + c0 + c) * inner + k] = parts[p][(s * channels[p] + c) * inner + k];
            return y;
        }
    }

    // ================================================================ entry points

    /// <summary>Joins tensors of shapes [N, C_i, ...] (equal N and trailing axes) into [N, Σ C_i, ...].</summary>
    public static Tensor Concat(params Tensor[] parts)
    {
        CheckParts(parts);
        var shape = (int[])parts[0].Shape.Clone();
        shape[1] = parts.Sum(p => p.Dim(1));
        var y = Tensor.Empty(parts[0].Device, shape);
        ConcatInto(parts, y);
        return y;
    }

    public static void ConcatInto(Tensor[] parts, Tensor y)
    {
        const string op = "ChannelConcat.Concat";
        CheckParts(parts);
        Check.SameDevice(op, [.. parts, y]);
        var shape = (int[])parts[0].Shape.Clone();
        shape[1] = parts.Sum(p => p.Dim(1));
        Check.Shape(op, "the output", y, shape);
        int inner = Inner(y), offset = 0;
        foreach (var part in parts)
        {
            // source rows: the whole sample of the part; destination rows: the sample of y, starting at this part's channels.
            CopyRows(part, 0, part.Dim(1) * inner, y, offset * inner, y.Dim(1) * inner, part.Dim(1) * inner, y.Dim(0));
            offset += part.Dim(1);
        }
    }

    /// <summary>Cuts [N, C, ...] into [N, channelSizes[i], ...] (the sizes must add up to C).</summary>
    public static Tensor[] Split(Tensor x, int[] channelSizes)
    {
        CheckSplit(x, channelSizes);
        var parts = new Tensor[channelSizes.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            var shape = (int[])x.Shape.Clone();
            shape[1] = channelSizes[i];
            parts[i] = Tensor.Empty(x.Device, shape);
        }
        SplitInto(x, parts);
        return parts;
    }

    public static void SplitInto(Tensor x, Tensor[] parts)
    {
        const string op = "ChannelConcat.Split";
        CheckSplit(x, parts.Select(p => p.Rank > 1 ? p.Dim(1) : -1).ToArray());
        Check.SameDevice(op, [x, .. parts]);
        int inner = Inner(x), offset = 0;
        foreach (var part in parts)
        {
            var shape = (int[])x.Shape.Clone();
            shape[1] = part.Dim(1);
            Check.Shape(op, "a part", part, shape);
            CopyRows(x, offset * inner, x.Dim(1) * inner, part, 0, part.Dim(1) * inner, part.Dim(1) * inner, x.Dim(0));
            offset += part.Dim(1);
        }
    }

    static int Inner(Tensor t)
    {
        int inner = 1;
        for (int r = 2; r < t.Rank; r++) inner *= t.Dim(r);
        return inner;
    }

    static void CheckParts(Tensor[] parts)
    {
        const string op = "ChannelConcat.Concat";
        if (parts.Length == 0) throw new ArgumentException($"{op}: no tensors to concatenate");
        foreach (var p in parts)
        {
            if (p.Rank < 2) throw new TensorShapeException($"{op}: every part needs a batch and a channel axis, got {Shapes.Format(p.Shape)}");
            bool same = p.Rank == parts[0].Rank && p.Dim(0) == parts[0].Dim(0);
            for (int r = 2; same && r < p.Rank; r++) same = p.Dim(r) == parts[0].Dim(r);
            if (!same)
                throw new TensorShapeException(
                    $"{op}: parts must agree on every axis but 1; got {string.Join(", ", parts.Select(t => Shapes.Format(t.Shape)))}");
        }
    }

    static void CheckSplit(Tensor x, int[] sizes)
    {
        const string op = "ChannelConcat.Split";
        if (x.Rank < 2) throw new TensorShapeException($"{op}: x needs a batch and a channel axis, got {Shapes.Format(x.Shape)}");
        if (sizes.Length == 0 || sizes.Any(s => s < 0) || sizes.Sum() != x.Dim(1))
            throw new TensorShapeException($"{op}: channel sizes [{string.Join(", ", sizes)}] must be >= 0 and add up to {x.Dim(1)}, the channels of {Shapes.Format(x.Shape)}");
    }

    /// <summary>dst[r * dstStride + dstStart + k] = src[r * srcStride + srcStart + k] for r &lt; rows, k &lt; width.</summary>
    static void CopyRows(Tensor src, int srcStart, int srcStride, Tensor dst, int dstStart, int dstStride, int width, int rows)
    {
        if (rows == 0 || width == 0) return;
        switch (dst.Device)
        {
            case CpuDevice cpu:
                var (sa, so) = src.CpuBuffer;
                var (da, dOff) = dst.CpuBuffer;
                CpuParallel.For(cpu, rows, (start, count) =>
                {
                    for (int r = start; r < start + count; r++)
                        Array.Copy(sa, so + r * srcStride + srcStart, da, dOff + r * dstStride + dstStart, width);
                }, grain: Math.Max(1, 65536 / width));
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, CopyRowsArgs>>(CopyRowsSpec)
                    (gpu.Stream, rows * width, src.View, dst.View, new CopyRowsArgs(srcStart, srcStride, dstStart, dstStride, width));
                break;
        }
    }

    // ================================================================ GPU kernel

    internal static readonly KernelSpec CopyRowsSpec = KernelSpec.Implicit("ChannelConcat.CopyRows", typeof(ChannelConcat), nameof(CopyRowsKernel));

    static void CopyRowsKernel(Index1D i, ArrayView<float> src, ArrayView<float> dst, CopyRowsArgs a)
    {
        int r = i / a.Width, k = i - r * a.Width;
        dst[r * a.DstStride + a.DstStart + k] = src[r * a.SrcStride + a.SrcStart + k];
    }
}

/// <summary>A strided block copy: rows of <c>Width</c> floats, each at its own stride in source and destination.</summary>
public readonly struct CopyRowsArgs(int srcStart, int srcStride, int dstStart, int dstStride, int width)
{
    public readonly int SrcStart = srcStart, SrcStride = srcStride, DstStart = dstStart, DstStride = dstStride, Width = width;
}
