using System.Buffers;
using System.Numerics.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>The reductions <see cref="Reduce"/> offers.</summary>
public enum ReduceOp
{
    /// <summary>Sum of the elements.</summary>
    Sum,
    /// <summary>Sum divided by the number of elements reduced (NaN over an empty axis).</summary>
    Mean,
    /// <summary>Largest element (an empty axis is refused).</summary>
    Max,
    /// <summary>Mean of the squared elements: the second moment, the mean squared error's core.</summary>
    MeanOfSquares,
}

/// <summary>
/// Reductions over any set of axes: sum, mean, max and mean of squares, plus <see cref="SumToShape"/>,
/// the backward of broadcasting.
///
/// <para><b>How a reduction runs.</b> Adjacent axes that are all reduced or all kept are merged, so the
/// tensor is an alternation of kept and reduced groups. Each reduced group is one <i>pass</i> that sees the
/// data as (outer, reduce, inner) and writes (outer, inner); a set of non-adjacent axes (N, H, W of an NCHW
/// tensor) takes one pass per group, last group first. Inside a pass:</para>
/// <list type="bullet">
/// <item><b>inner = 1</b> (the reduced elements are contiguous: rows). GPU: one group of 256 threads per row
/// (or per chunk of 4096 elements of a long row), each thread summing a strided slice, then a two-level tree
/// (256 -> 16 -> 1) in shared memory; a long row leaves one partial per chunk and a second launch reduces the partials.
/// cpu: pairwise summation (halve until 256 elements, then a vectorised <c>TensorPrimitives.Sum</c>), long rows
/// cut into fixed 16384-element blocks that run in parallel.</item>
/// <item><b>inner &gt; 1</b> (columns), and rows of up to 32 elements. GPU: one thread per output element walks
/// the column, neighbouring threads reading neighbouring addresses (coalesced), with Kahan-compensated summation;
/// when there are under 16384 outputs and the columns are longer than 256, they are cut into chunks of 256
/// (one thread each) and the partials reduced by a second launch. cpu: whole rows are
/// added with vectorised calls, pairwise over the reduced axis.</item>
/// </list>
/// <para>Accuracy: both devices sum in float32 with O(log n) error growth (pairwise, tree, or compensated),
/// so a 2^20-element sum is within about 1e-6 relative of the float64 sum (see the tests). Results are
/// deterministic: block boundaries depend on the sizes only, never on the thread count.</para>
/// <para>A reduction whose result would have no axes returns shape [1] (this engine's scalar).</para>
/// </summary>
public static class Reduce
{
    // ================================================================ scalar math

    // Kernel op codes: what a pass accumulates. Mean is Sum with a scale; MeanOfSquares is SumOfSquares with one.
    internal const int OpSum = 0, OpSumOfSquares = 1, OpMax = 2;

    // What a pass does to its accumulated value before writing it.
    internal const int FinishScale = 0, FinishSqrt = 1;

    /// <summary>Adds one element to a running value.</summary>
    internal static float Accumulate(int op, float acc, float v)
        => op == OpMax ? MathF.Max(acc, v) : op == OpSumOfSquares ? acc + v * v : acc + v;

    /// <summary>Merges two running values (partials are sums, or maxima).</summary>
    internal static float Combine(int op, float a, float b) => op == OpMax ? MathF.Max(a, b) : a + b;

    /// <summary>The start value of a running value.</summary>
    internal static float Identity(int op) => op == OpMax ? float.NegativeInfinity : 0f;

    /// <summary>scale * value, or sqrt(scale * value + eps) (the per-sample L2 norm).</summary>
    internal static float Finish(float value, float scale, int finish, float eps)
        => finish == FinishSqrt ? MathF.Sqrt(value * scale + eps) : value * scale;

    // ================================================================ float64 reference

    /// <summary>The textbook reductions in float64: plain loops over every index.</summary>
    public static class Reference
    {
        /// <summary>Reduces <paramref name="axes"/> of a row-major array; the result has the kept axes only (keepDims shape for indexing).</summary>
        public static double[] Reduce(ReduceOp op, double[] x, int[] shape, int[] axes)
        {
            var reduced = new bool[shape.Length];
            foreach (var a in axes) reduced[a < 0 ? a + shape.Length : a] = true;
            var outShape = new int[shape.Length];
            long count = 1;
            for (int r = 0; r < shape.Length; r++)
            {
                outShape[r] = reduced[r] ? 1 : shape[r];
                if (reduced[r]) count *= shape[r];
            }
            var y = new double[Shapes.Numel(outShape)];
            Array.Fill(y, op == ReduceOp.Max ? double.NegativeInfinity : 0.0);
            var index = new int[shape.Length];
            for (int i = 0; i < x.Length; i++)
            {
                for (int r = shape.Length - 1, rest = i; r >= 0; r--) { index[r] = rest % shape[r]; rest /= shape[r]; }
                int o = 0;
                for (int r = 0; r < shape.Length; r++) o = o * outShape[r] + (reduced[r] ? 0 : index[r]);
                y[o] = op switch
                {
                    ReduceOp.Max => Math.Max(y[o], x[i]),
                    ReduceOp.MeanOfSquares => y[o] + x[i] * x[i],
                    _ => y[o] + x[i],
                };
            }
            if (op is ReduceOp.Mean or ReduceOp.MeanOfSquares)
                for (int o = 0; o < y.Length; o++) y[o] /= count;
            return y;
        }

        /// <summary>Sums a broadcast result back to <paramref name="target"/> (numpy's right-aligned rules).</summary>
        public static double[] SumToShape(double[] x, int[] shape, int[] target)
        {
            var y = new double[Shapes.Numel(target)];
            var index = new int[shape.Length];
            int skip = shape.Length - target.Length;
            for (int i = 0; i < x.Length; i++)
            {
                for (int r = shape.Length - 1, rest = i; r >= 0; r--) { index[r] = rest % shape[r]; rest /= shape[r]; }
                int o = 0;
                for (int r = 0; r < target.Length; r++) o = o * target[r] + (target[r] == 1 ? 0 : index[skip + r]);
                y[o] += x[i];
            }
            return y;
        }
    }

    // ================================================================ entry points

    /// <summary>Sum over <paramref name="axes"/> (negative axes count from the end).</summary>
    public static Tensor Sum(Tensor x, int[] axes, bool keepDims = false) => Apply(ReduceOp.Sum, x, axes, keepDims);

    /// <summary>Mean over <paramref name="axes"/>.</summary>
    public static Tensor Mean(Tensor x, int[] axes, bool keepDims = false) => Apply(ReduceOp.Mean, x, axes, keepDims);

    /// <summary>Maximum over <paramref name="axes"/>.</summary>
    public static Tensor Max(Tensor x, int[] axes, bool keepDims = false) => Apply(ReduceOp.Max, x, axes, keepDims);

    /// <summary>Mean of x² over <paramref name="axes"/>.</summary>
    public static Tensor MeanOfSquares(Tensor x, int[] axes, bool keepDims = false) => Apply(ReduceOp.MeanOfSquares, x, axes, keepDims);

    /// <summary>Sum of every element, shape [1].</summary>
    public static Tensor SumAll(Tensor x) => Apply(ReduceOp.Sum, x, AllAxes(x), false);

    /// <summary>Mean of every element, shape [1].</summary>
    public static Tensor MeanAll(Tensor x) => Apply(ReduceOp.Mean, x, AllAxes(x), false);

    /// <summary>A reduction into a new tensor.</summary>
    public static Tensor Apply(ReduceOp op, Tensor x, int[] axes, bool keepDims = false)
    {
        var reduced = Axes(op, x, axes);
        var y = Tensor.Empty(x.Device, OutputShape(x.Shape, reduced, keepDims));
        Run(op, x, reduced, y);
        return y;
    }

    /// <summary>A reduction written into <paramref name="y"/>, whose shape is the result's with or without the reduced axes kept.</summary>
    public static void Into(ReduceOp op, Tensor x, int[] axes, Tensor y)
    {
        Check.SameDevice($"Reduce.{op}", x, y);
        var reduced = Axes(op, x, axes);
        var kept = OutputShape(x.Shape, reduced, true);
        var dropped = OutputShape(x.Shape, reduced, false);
        if (!Shapes.Equal(y.Shape, kept) && !Shapes.Equal(y.Shape, dropped))
            throw new TensorShapeException(
                $"Reduce.{op}: output has shape {Shapes.Format(y.Shape)}; reducing axes [{string.Join(", ", axes)}] of {Shapes.Format(x.Shape)} gives {Shapes.Format(dropped)} (or {Shapes.Format(kept)} with the axes kept)");
        Run(op, x, reduced, y);
    }

    /// <summary>
    /// Sums <paramref name="x"/> down to <paramref name="shape"/>: the gradient of an op that broadcast an input of
    /// that shape. Shapes are right-aligned as in numpy: leading axes of x are summed away, and so is every axis where
    /// the target has size 1. Equal shapes give a copy.
    /// </summary>
    public static Tensor SumToShape(Tensor x, int[] shape)
    {
        Shapes.Validate("Reduce.SumToShape", shape);
        var y = Tensor.Empty(x.Device, shape);
        SumToShapeInto(x, y);
        return y;
    }

    /// <summary><see cref="SumToShape"/> into <paramref name="y"/>, whose shape is the target.</summary>
    public static void SumToShapeInto(Tensor x, Tensor y)
    {
        Check.SameDevice("Reduce.SumToShape", x, y);
        var target = y.Shape;
        int skip = x.Rank - target.Length;
        if (skip < 0)
            throw new TensorShapeException($"Reduce.SumToShape: cannot sum {Shapes.Format(x.Shape)} to {Shapes.Format(target)}, which has more axes");
        var reduced = new bool[x.Rank];
        for (int r = 0; r < x.Rank; r++)
        {
            if (r < skip) { reduced[r] = true; continue; }
            int t = target[r - skip];
            if (t == x.Shape[r]) continue;
            if (t != 1)
                throw new TensorShapeException(
                    $"Reduce.SumToShape: cannot sum {Shapes.Format(x.Shape)} to {Shapes.Format(target)} (axis {r}: {x.Shape[r]} vs {t}; the target must be 1 or equal)");
            reduced[r] = true;
        }
        if (!reduced.Contains(true))
        {
            using var view = x.ViewAs(target);
            y.CopyFrom(view);
            return;
        }
        Run(ReduceOp.Sum, x, reduced, y);
    }

    static int[] AllAxes(Tensor x) => Enumerable.Range(0, x.Rank).ToArray();

    /// <summary>Normalises axes (negative ones count from the end), refusing duplicates, bad axes and an empty Max.</summary>
    static bool[] Axes(ReduceOp op, Tensor x, int[] axes)
    {
        var reduced = new bool[x.Rank];
        foreach (var a in axes)
        {
            int axis = a < 0 ? a + x.Rank : a;
            if (axis < 0 || axis >= x.Rank)
                throw new TensorShapeException($"Reduce.{op}: axis {a} is out of range for shape {Shapes.Format(x.Shape)}");
            if (reduced[axis])
                throw new TensorShapeException($"Reduce.{op}: axis {a} is listed twice in [{string.Join(", ", axes)}]");
            reduced[axis] = true;
            if (op == ReduceOp.Max && x.Shape[axis] == 0)
                throw new TensorShapeException($"Reduce.Max: axis {a} of shape {Shapes.Format(x.Shape)} is empty; a maximum needs an element");
        }
        return reduced;
    }

    static int[] OutputShape(int[] shape, bool[] reduced, bool keepDims)
    {
        var result = new List<int>();
        for (int r = 0; r < shape.Length; r++)
            if (!reduced[r]) result.Add(shape[r]);
            else if (keepDims) result.Add(1);
        return result.Count == 0 ? [1] : [.. result];
    }

    /// <summary>
    /// Splits the shape into groups of adjacent reduced / kept axes and runs one pass per reduced group,
    /// last group first; intermediate results live in temporary tensors, the last pass writes <paramref name="y"/>.
    /// </summary>
    static void Run(ReduceOp op, Tensor x, bool[] reduced, Tensor y)
    {
        // Groups: (size, reduced), adjacent axes of the same kind merged.
        var groups = new List<(long Size, bool Reduced)>();
        for (int r = 0; r < x.Rank; r++)
        {
            if (groups.Count > 0 && groups[^1].Reduced == reduced[r]) groups[^1] = (groups[^1].Size * x.Shape[r], reduced[r]);
            else groups.Add((x.Shape[r], reduced[r]));
        }
        if (y.Length == 0) return;
        if (!groups.Any(g => g.Reduced)) groups.Add((1, true)); // no axes: one pass that reduces nothing (x, x², ...)

        int firstOp = op switch { ReduceOp.Max => OpMax, ReduceOp.MeanOfSquares => OpSumOfSquares, _ => OpSum };
        bool mean = op is ReduceOp.Mean or ReduceOp.MeanOfSquares;
        var source = x;
        bool first = true;
        while (true)
        {
            int g = groups.FindLastIndex(t => t.Reduced);
            long outer = 1, inner = 1;
            for (int i = 0; i < g; i++) outer *= groups[i].Size;
            for (int i = g + 1; i < groups.Count; i++) inner *= groups[i].Size;
            int count = (int)groups[g].Size;
            groups.RemoveAt(g);
            bool last = !groups.Any(t => t.Reduced);
            var destination = last ? y : Tensor.Empty(x.Device, (int)(outer * inner));
            int passOp = first ? firstOp : (firstOp == OpMax ? OpMax : OpSum);
            float scale = mean ? 1f / count : 1f;
            Pass(source, (int)outer, count, (int)inner, passOp, scale, FinishScale, 0f, destination);
            if (!first) source.Dispose();
            if (last) return;
            source = destination;
            first = false;
        }
    }

    /// <summary>
    /// One pass: <paramref name="x"/> seen as (outer, reduce, inner) into <paramref name="y"/> seen as (outer, inner),
    /// y = Finish(accumulated value). Other ops (the per-sample L2 norm) call it directly.
    /// </summary>
    internal static void Pass(Tensor x, int outer, int reduce, int inner, int op, float scale, int finish, float eps, Tensor y)
    {
        if ((long)outer * inner == 0) return;
        switch (x.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = x.CpuBuffer;
                var (ya, yo) = y.CpuBuffer;
                if (inner == 1) RowsCpu(cpu, xa, xo, outer, reduce, op, scale, finish, eps, ya, yo);
                else ColumnsCpu(cpu, xa, xo, outer, reduce, inner, op, scale, finish, eps, ya, yo);
                break;
            case GpuDevice gpu:
                // Short rows (up to 32 elements) would leave most of a 256-thread group idle: one thread a row instead.
                if (inner == 1 && reduce > ShortRow) RowsGpu(gpu, x, outer, reduce, op, scale, finish, eps, y);
                else ColumnsGpu(gpu, x, outer, reduce, inner, op, scale, finish, eps, y);
                break;
        }
    }

    // ================================================================ cpu kernels

    /// <summary>Rows longer than this are cut into blocks reduced in parallel (fixed: results never depend on the thread count).</summary>
    const int CpuBlock = 16384;

    /// <summary>Pairwise recursion stops at this many elements; the leaves are vectorised library sums.</summary>
    const int PairwiseLeaf = 256;

    /// <summary>A contiguous run of elements reduced to one value: exact max, or pairwise (sum of squares) sum.</summary>
    static float ReduceSpan(ReadOnlySpan<float> s, int op)
    {
        if (op == OpMax) return s.Length == 0 ? float.NegativeInfinity : TensorPrimitives.Max(s);
        if (s.Length <= PairwiseLeaf) return op == OpSumOfSquares ? TensorPrimitives.SumOfSquares(s) : TensorPrimitives.Sum(s);
        int half = (s.Length / 2 + PairwiseLeaf - 1) / PairwiseLeaf * PairwiseLeaf; // a whole number of leaves on the left
        return ReduceSpan(s[..half], op) + ReduceSpan(s[half..], op);
    }

    static void RowsCpu(CpuDevice cpu, float[] xa, int xo, int outer, int reduce, int op, float scale, int finish, float eps, float[] ya, int yo)
    {
        int blocks = Math.Max(1, (reduce + CpuBlock - 1) / CpuBlock);
        if (blocks == 1)
        {
            CpuParallel.For(cpu, outer, (start, count) =>
            {
                for (int o = start; o < start + count; o++)
                    ya[yo + o] = Finish(ReduceSpan(xa.AsSpan(xo + o * reduce, reduce), op), scale, finish, eps);
            }, grain: Math.Max(1, 32768 / Math.Max(1, reduce)));
            return;
        }
        // Long rows: every (row, block) is a task; the block partials of a row are then combined pairwise.
        var partial = new float[outer * blocks];
        cpu.For(outer * blocks, task =>
        {
            int o = task / blocks, start = task % blocks * CpuBlock;
            partial[task] = ReduceSpan(xa.AsSpan(xo + o * reduce + start, Math.Min(CpuBlock, reduce - start)), op);
        });
        int combineOp = op == OpMax ? OpMax : OpSum;
        for (int o = 0; o < outer; o++)
            ya[yo + o] = Finish(ReduceSpan(partial.AsSpan(o * blocks, blocks), combineOp), scale, finish, eps);
    }

    /// <summary>Columns handled by one task: a slice of whole rows, wide enough for vector loops.</summary>
    const int CpuColumnChunk = 2048;

    static void ColumnsCpu(CpuDevice cpu, float[] xa, int xo, int outer, int reduce, int inner, int op, float scale, int finish, float eps, float[] ya, int yo)
    {
        int chunks = (inner + CpuColumnChunk - 1) / CpuColumnChunk;
        cpu.For(outer * chunks, task =>
        {
            int o = task / chunks, c0 = task % chunks * CpuColumnChunk, width = Math.Min(CpuColumnChunk, inner - c0);
            var destination = ya.AsSpan(yo + o * inner + c0, width);
            ReduceRowsPairwise(xa, xo + o * reduce * inner + c0, reduce, inner, op, destination);
            if (finish == FinishSqrt)
                for (int i = 0; i < width; i++) destination[i] = Finish(destination[i], scale, finish, eps);
            else if (scale != 1f) TensorPrimitives.Multiply(destination, scale, destination);
        });
    }

    /// <summary>
    /// destination[c] = reduction over r &lt; count of x[start + r * stride + c]: whole rows added with
    /// vectorised calls, pairwise over r (halves summed separately, then added) so the error grows as log(count).
    /// </summary>
    static void ReduceRowsPairwise(float[] x, int start, int count, int stride, int op, Span<float> destination)
    {
        int width = destination.Length;
        if (count <= 8)
        {
            if (count == 0) { destination.Fill(Identity(op)); return; }
            var row = x.AsSpan(start, width);
            if (op == OpSumOfSquares) TensorPrimitives.Multiply(row, row, destination);
            else row.CopyTo(destination);
            for (int r = 1; r < count; r++)
            {
                row = x.AsSpan(start + r * stride, width);
                switch (op)
                {
                    case OpMax: TensorPrimitives.Max(row, destination, destination); break;
                    case OpSumOfSquares: TensorPrimitives.MultiplyAdd(row, row, destination, destination); break;
                    default: TensorPrimitives.Add(row, destination, destination); break;
                }
            }
            return;
        }
        int half = count / 2;
        ReduceRowsPairwise(x, start, half, stride, op, destination);
        var rented = ArrayPool<float>.Shared.Rent(width);
        var right = rented.AsSpan(0, width);
        ReduceRowsPairwise(x, start + half * stride, count - half, stride, op, right);
        if (op == OpMax) TensorPrimitives.Max(destination, right, destination);
        else TensorPrimitives.Add(destination, right, destination);
        ArrayPool<float>.Shared.Return(rented);
    }

    // ================================================================ GPU kernels

    /// <summary>Threads in a group of the row kernel (a power of two: the tree halves it).</summary>
    internal const int GroupSize = 256;

    /// <summary>A row longer than this is cut into chunks, one group each (16 elements a thread).</summary>
    const int GpuChunk = GroupSize * 16;

    internal static readonly KernelSpec RowsSpec = KernelSpec.Explicit("Reduce.Rows", typeof(Reduce), nameof(RowsKernel), GroupSize);
    internal static readonly KernelSpec ColumnsSpec = KernelSpec.Implicit("Reduce.Columns", typeof(Reduce), nameof(ColumnsKernel));

    /// <summary>
    /// Launches the row kernel; a long row takes two (or more) launches: partials of 4096-element chunks,
    /// then the reduction of the partials, which applies the scale and finish.
    /// </summary>
    static void RowsGpu(GpuDevice gpu, Tensor x, int outer, int reduce, int op, float scale, int finish, float eps, Tensor y)
    {
        var launch = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, RowArgs>>(RowsSpec);
        var source = x;
        while (true)
        {
            int splits = Math.Max(1, (reduce + GpuChunk - 1) / GpuChunk);
            if (splits == 1)
            {
                launch(gpu.Stream, new KernelConfig(outer, GroupSize), source.View, y.View, new RowArgs(reduce, 1, reduce, op, scale, finish, eps));
                break;
            }
            var partial = Tensor.Empty(gpu, outer * splits);
            int chunk = (reduce + splits - 1) / splits;
            launch(gpu.Stream, new KernelConfig(outer * splits, GroupSize), source.View, partial.View,
                new RowArgs(reduce, splits, chunk, op, 1f, FinishScale, 0f));
            if (source != x) source.Dispose(); // stream order: the next launch has read it before any reuse runs
            source = partial;
            reduce = splits;
            op = op == OpMax ? OpMax : OpSum;
        }
        if (source != x) source.Dispose();
    }

    /// <summary>Rows this short run on the column kernel (one thread a row).</summary>
    const int ShortRow = 32;

    /// <summary>Column walks longer than this are split when there are too few columns to fill the GPU.</summary>
    const int ColumnChunk = 256;

    /// <summary>Outputs (threads) below which a long column reduction is split into chunks.</summary>
    const int ColumnSplitBelow = 16384;

    /// <summary>
    /// Launches the column kernel. With few outputs and long columns (a bias gradient: [batch, features] summed
    /// over the batch) one thread per output would leave the GPU nearly idle, so the columns are cut into chunks
    /// of 256: the first launch writes (outer, chunks, inner) partials, the next reduces those, and so on.
    /// </summary>
    static void ColumnsGpu(GpuDevice gpu, Tensor x, int outer, int reduce, int inner, int op, float scale, int finish, float eps, Tensor y)
    {
        var launch = gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ColumnArgs>>(ColumnsSpec);
        var source = x;
        while (true)
        {
            bool split = reduce > ColumnChunk && (long)outer * inner < ColumnSplitBelow;
            if (!split)
            {
                launch(gpu.Stream, outer * inner, source.View, y.View, new ColumnArgs(reduce, inner, 1, reduce, op, scale, finish, eps));
                break;
            }
            int splits = (reduce + ColumnChunk - 1) / ColumnChunk;
            var partial = Tensor.Empty(gpu, outer * splits * inner);
            launch(gpu.Stream, outer * splits * inner, source.View, partial.View, new ColumnArgs(reduce, inner, splits, ColumnChunk, op, 1f, FinishScale, 0f));
            if (source != x) source.Dispose();
            source = partial;
            reduce = splits;
            op = op == OpMax ? OpMax : OpSum;
        }
        if (source != x) source.Dispose();
    }

    /// <summary>
    /// Group g reduces chunk (g mod splits) of row (g / splits): each of the 256 threads accumulates a
    /// strided slice (neighbouring threads read neighbouring floats), then the group combines its 256 values
    /// in shared memory as a two-level tree (16 threads sum 16 values each, then one thread sums the 16) and
    /// thread 0 writes one value.
    /// </summary>
    static void RowsKernel(ArrayView<float> x, ArrayView<float> y, RowArgs a)
    {
        var shared = SharedMemory.Allocate<float>(GroupSize);
        int g = Grid.IdxX, t = Group.IdxX;
        int row = g / a.Splits, split = g - row * a.Splits;
        int start = split * a.Chunk, end = Math.Min(start + a.Chunk, a.Reduce);
        int rowStart = row * a.Reduce;
        float acc = Identity(a.Op);
        for (int r = start + t; r < end; r += GroupSize)
            acc = Accumulate(a.Op, acc, x[rowStart + r]);
        shared[t] = acc;
        Group.Barrier();
        // 256 values -> 16 -> 1 in two barrier-separated steps. (The classic halving tree takes 8 steps and 8
        // barriers; on a GPU both cost about the same, but every barrier is expensive on ILGPU's CPU accelerator.)
        if (t < Fan)
        {
            float v = shared[t];
            for (int k = 1; k < Fan; k++) v = Combine(a.Op, v, shared[t + k * Fan]); // consecutive threads, consecutive banks
            shared[t] = v;
        }
        Group.Barrier();
        if (t == 0)
        {
            float v = shared[0];
            for (int k = 1; k < Fan; k++) v = Combine(a.Op, v, shared[k]);
            y[g] = Finish(v, a.Scale, a.Finish, a.Eps);
        }
    }

    /// <summary>The fan-in of each step of the in-group reduction: Fan * Fan = GroupSize.</summary>
    const int Fan = 16;

    /// <summary>
    /// One thread per output (row, split, column): walks its chunk of the reduced axis with stride <c>inner</c>
    /// (neighbouring threads read neighbouring columns: coalesced). Sums use Kahan compensation (the running
    /// rounding error is subtracted from the next term) so a long column keeps float32 accuracy.
    /// </summary>
    static void ColumnsKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ColumnArgs a)
    {
        int rest = i / a.Inner, column = i - rest * a.Inner;
        int row = rest / a.Splits, split = rest - row * a.Splits;
        int start = split * a.Chunk, end = Math.Min(start + a.Chunk, a.Reduce);
        int index = (row * a.Reduce + start) * a.Inner + column;
        float sum = Identity(a.Op), compensation = 0f;
        for (int r = start; r < end; r++, index += a.Inner)
        {
            float v = x[index];
            if (a.Op == OpMax) { sum = MathF.Max(sum, v); continue; }
            float term = (a.Op == OpSumOfSquares ? v * v : v) - compensation;
            float next = sum + term;
            compensation = (next - sum) - term;
            sum = next;
        }
        y[i] = Finish(sum, a.Scale, a.Finish, a.Eps);
    }
}

/// <summary>Arguments of <c>Reduce.Rows</c>: rows of <c>Reduce</c> elements, each cut into <c>Splits</c> chunks of <c>Chunk</c>.</summary>
public readonly struct RowArgs(int reduce, int splits, int chunk, int op, float scale, int finish, float eps)
{
    public readonly int Reduce = reduce, Splits = splits, Chunk = chunk, Op = op, Finish = finish;
    public readonly float Scale = scale, Eps = eps;
}

/// <summary>Arguments of <c>Reduce.Columns</c>: (outer, Reduce, Inner) to (outer, Splits, Inner), each split a chunk of <c>Chunk</c> rows.</summary>
public readonly struct ColumnArgs(int reduce, int inner, int splits, int chunk, int op, float scale, int finish, float eps)
{
    public readonly int Reduce = reduce, Inner = inner, Splits = splits, Chunk = chunk, Op = op, Finish = finish;
    public readonly float Scale = scale, Eps = eps;
}
