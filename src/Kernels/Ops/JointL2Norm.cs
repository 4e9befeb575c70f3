using System.Numerics.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The joint L2 norm of a list of tensors, sqrt(Σ over every tensor and element of x²), as a [1] tensor left on the
/// device: a network's gradient norm (<c>torch.nn.utils.clip_grad_norm_</c>'s total norm, the logged
/// <c>grad_norm_g</c>). Square, sum and add a tensor cost three launches a parameter; on a GPU this is one launch for
/// each 16 tensors (<see cref="MultiTensor"/>: each group sums the squares of a fixed chunk of their concatenation
/// into a partial) and one reduction launch (<c>Reduce.Pass</c>) that adds the partials and takes the square root.
/// The chunks depend on the sizes only, so the result is deterministic.
/// </summary>
public static class JointL2Norm
{
    // ================================================================ float64 reference

    /// <summary>The textbook sum in float64.</summary>
    public static class Reference
    {
        public static double Forward(IEnumerable<double[]> xs)
        {
            double sum = 0;
            foreach (var x in xs)
                foreach (var v in x) sum += v * v;
            return Math.Sqrt(sum);
        }
    }

    // ================================================================ entry point

    /// <summary>sqrt(Σ x²) over every element of every tensor of <paramref name="xs"/> (at least one, all on one device), shape [1].</summary>
    public static Tensor Forward(IReadOnlyList<Tensor> xs)
    {
        const string op = "JointL2Norm.Forward";
        if (xs.Count == 0) throw new ArgumentException($"{op}: the list of tensors is empty");
        Check.SameDevice(op, [.. xs]);
        var y = Tensor.Empty(xs[0].Device, 1);
        switch (xs[0].Device)
        {
            case CpuDevice:
            {
                // Each tensor's sum of squares in float (TensorPrimitives: vectorised, deterministic), added in float64.
                double sum = 0;
                foreach (var x in xs)
                {
                    var (xa, xo) = x.CpuBuffer;
                    sum += TensorPrimitives.SumOfSquares(xa.AsSpan(xo, x.Length));
                }
                var (ya, yo) = y.CpuBuffer;
                ya[yo] = (float)Math.Sqrt(sum);
                break;
            }
            case GpuDevice gpu:
                ForwardGpu(gpu, xs, y);
                break;
        }
        return y;
    }

    // ================================================================ GPU kernels

    /// <summary>The most groups one multi-tensor launch uses (and partials it writes).</summary>
    const int MaxGroups = 1024;

    /// <summary>The fewest elements a group sums (16 a thread), so small networks do not launch idle groups.</summary>
    const int MinChunk = Reduce.GroupSize * 16;

    internal static readonly KernelSpec SumOfSquaresSpec =
        KernelSpec.Explicit("JointL2Norm.SumOfSquares", typeof(JointL2Norm), nameof(SumOfSquaresKernel), Reduce.GroupSize, hot: true);

    static void ForwardGpu(GpuDevice gpu, IReadOnlyList<Tensor> xs, Tensor y)
    {
        var chunks = MultiTensor.Chunks(xs).Where(c => c.Total > 0)
            .Select(c => (c.First, c.Count, c.Total, Chunk: Math.Max(MinChunk, (int)((c.Total + (long)MaxGroups - 1) / MaxGroups))))
            .ToList();
        if (chunks.Count == 0)
        {
            Elementwise.Fill(y, 0f);
            return;
        }
        int partialCount = chunks.Sum(c => (c.Total + c.Chunk - 1) / c.Chunk);
        using var partials = Tensor.Empty(gpu, partialCount);
        var launch = gpu.Kernel<Action<AcceleratorStream, KernelConfig, ViewTable, SlotEnds, ArrayView<float>, SumOfSquaresArgs>>(SumOfSquaresSpec);
        int offset = 0;
        foreach (var (first, count, total, chunk) in chunks)
        {
            int groups = (total + chunk - 1) / chunk;
            launch(gpu.Stream, new KernelConfig(groups, Reduce.GroupSize), MultiTensor.Views(xs, first, count), MultiTensor.Ends(xs, first, count),
                partials.View, new SumOfSquaresArgs(total, chunk, offset));
            offset += groups;
        }
        // The partials' sum and its square root: one reduction launch (Reduce.Rows, or Reduce.Columns for 32 partials or fewer;
        // over 4096 partials, two).
        Reduce.Pass(partials, 1, partialCount, 1, Reduce.OpSum, 1f, Reduce.FinishSqrt, 0f, y);
    }

    /// <summary>
    /// Group g sums the squares of elements [g * Chunk, (g + 1) * Chunk) of the tables' concatenation (neighbouring
    /// threads read neighbouring floats) and writes partials[Offset + g], combining its 256 values as Reduce.Rows
    /// does (16 threads sum 16 each, then one thread sums the 16).
    /// </summary>
    static void SumOfSquaresKernel(ViewTable x, SlotEnds ends, ArrayView<float> partials, SumOfSquaresArgs a)
    {
        var shared = SharedMemory.Allocate<float>(Reduce.GroupSize);
        int g = Grid.IdxX, t = Group.IdxX;
        int start = g * a.Chunk, end = Math.Min(start + a.Chunk, a.Total);
        float acc = 0f;
        for (int i = start + t; i < end; i += Reduce.GroupSize)
        {
            int k = ends.SlotOf(i);
            float v = x.Get(k)[i - ends.End(k - 1)];
            acc += v * v;
        }
        shared[t] = acc;
        Group.Barrier();
        if (t < Fan)
        {
            float v = shared[t];
            for (int k = 1; k < Fan; k++) v += shared[t + k * Fan];
            shared[t] = v;
        }
        Group.Barrier();
        if (t == 0)
        {
            float v = shared[0];
            for (int k = 1; k < Fan; k++) v += shared[k];
            partials[a.Offset + g] = v;
        }
    }

    /// <summary>The fan-in of each step of the in-group sum: Fan * Fan = the group size.</summary>
    const int Fan = 16;
}

/// <summary>Arguments of <c>JointL2Norm.SumOfSquares</c>: the elements of the table, a group's chunk, where its partials go.</summary>
public readonly struct SumOfSquaresArgs(int total, int chunk, int offset)
{
    public readonly int Total = total, Chunk = chunk, Offset = offset;
}
