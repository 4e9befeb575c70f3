using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class ReduceTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>Shapes (odd sizes, 1- and 3-channel) and axis sets: contiguous, split, negative, none, all.</summary>
    static (int[] Shape, int[] Axes)[] Cases(bool slow) => slow
        ?
        [
            ([5, 7], [1]), ([5, 7], [0]), ([2, 3, 5, 7], [0, 2, 3]), ([2, 1, 5, 3], [-1, -2]), ([3, 5], []),
            ([3, 300], [1]), ([2, 3, 4], [0, 2]), ([4, 3, 5], [0, 2]),
        ]
        :
        [
            ([5, 7], [1]), ([5, 7], [0]), ([5, 7], [0, 1]), ([7, 3, 9, 11], [0, 2, 3]), ([7, 3, 9, 11], [1]),
            ([4, 1, 13, 5], [-1, -2]), ([3, 5, 7], []), ([6, 5, 9, 17], [0, 2]), ([3, 40_001], [1]),
            ([40_001, 3], [0]), ([2, 5000, 3], [1]), ([16, 4099], [0]),
        ];

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "Reduce.Columns")]
    public void EveryOpOverAnyAxesMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(11);
        var cases = Cases(TestDevices.IsSlow(d));
        for (int c = 0; c < cases.Length; c++)
        {
            var (shape, axes) = cases[c];
            var x = Random(rng, Shapes.Numel(shape), -2f, 2f);
            using var xt = Tensor.FromArray(x, shape, d);
            // ilgpu-cpu: one op a case, in turn (every op still meets rows, columns and multi-pass cases).
            var ops = TestDevices.IsSlow(d) ? [(ReduceOp)(c % 4)] : Enum.GetValues<ReduceOp>();
            foreach (var op in ops)
            {
                var expected = Reduce.Reference.Reduce(op, ToDouble(x), shape, axes);
                using var kept = Reduce.Apply(op, xt, axes, keepDims: true);
                Assert.Equal(shape.Length, kept.Rank);
                // Through Into, over a poisoned output of the dropped-axes shape.
                var droppedShape = shape.Where((_, r) => !axes.Contains(r) && !axes.Contains(r - shape.Length)).ToArray();
                using var poisoned = Poisoned(d, droppedShape.Length == 0 ? [1] : droppedShape);
                Reduce.Into(op, xt, axes, poisoned);
                string what = $"{op} over [{string.Join(", ", axes)}] of {Shapes.Format(shape)} on {d.Name}";
                AssertClose(expected, kept.ToArray(), what: what);
                AssertClose(expected, poisoned.ToArray(), what: what + " (Into)");
            }
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "Reduce.Columns")]
    public void ShapesFollowNumpy(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var x = Tensor.Ones(d, 2, 3, 5);
        using var a = Reduce.Sum(x, [1]);
        Assert.Equal([2, 5], a.Shape);
        using var b = Reduce.Sum(x, [-1, 0], keepDims: true);
        Assert.Equal([1, 3, 1], b.Shape);
        Assert.Equal([10f, 10f, 10f], b.ToArray());
        using var all = Reduce.SumAll(x);
        Assert.Equal([1], all.Shape);
        Assert.Equal(30f, all.Item());
        using var mean = Reduce.MeanAll(x);
        Assert.Equal(1f, mean.Item());
        // A view that starts inside its storage (a batch slice) reads from its own offset.
        using var ramp = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (float)i).ToArray(), [4, 3], d);
        using var rows = ramp.SliceBatch(1, 2);
        using var sums = Reduce.Sum(rows, [1]);
        Assert.Equal([12f, 21f], sums.ToArray());
        using var columns = Reduce.Sum(rows, [0]);
        Assert.Equal([9f, 11f, 13f], columns.ToArray());
    }

    [Fact]
    public void LongSumIsAccurateToOneMillionth()
    {
        // 2^20 + 3 positive values: a naive float32 running sum loses ~1e-4 relative here; pairwise keeps ~1e-7.
        int n = (1 << 20) + 3;
        var x = Random(new Random(12), n, 0f, 1f);
        double exact = 0;
        foreach (var v in x) exact += v;
        using var t = Tensor.FromArray(x, [n]);
        using var s = Reduce.SumAll(t);
        Assert.True(Math.Abs(s.Item() - exact) <= 1e-6 * exact, $"sum {s.Item()} vs float64 {exact}: relative error {Math.Abs(s.Item() - exact) / exact:g3}");
        // The same values as 1000 columns of a column reduction (axis 0, long).
        int rows = n / 1000;
        using var m = Tensor.FromArray(x[..(rows * 1000)], [rows, 1000]);
        using var columns = Reduce.Sum(m, [0]);
        var expected = Reduce.Reference.Reduce(ReduceOp.Sum, ToDouble(x[..(rows * 1000)]), [rows, 1000], [0]);
        AssertClose(expected, columns.ToArray(), rtol: 1e-6, atol: 0, what: "column sums");
    }

    [Fact]
    public void CpuResultsDoNotDependOnTheThreadCount()
    {
        // Blocks are fixed by the sizes, so one thread and all threads add the same numbers in the same order.
        var x = Random(new Random(15), 3 * 50_001);
        using var t = Tensor.FromArray(x, [3, 50_001]);
        var cpu = Device.Cpu;
        int threads = cpu.Threads;
        try
        {
            cpu.Threads = 1;
            using var one = Reduce.Sum(t, [1]);
            using var oneAll = Reduce.SumAll(t);
            cpu.Threads = Math.Max(2, threads);
            using var many = Reduce.Sum(t, [1]);
            using var manyAll = Reduce.SumAll(t);
            Assert.Equal(one.ToArray(), many.ToArray());
            Assert.Equal(oneAll.ToArray(), manyAll.ToArray());
        }
        finally { cpu.Threads = threads; }
    }

    [Fact, Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "Reduce.Columns")]
    public void GpuLongSumsAreAccurate()
    {
        // Long enough for two row launches (chunks of 4096, then the partials) and for split columns (chunks of 256,
        // then the partials); small enough for ilgpu-cpu.
        var d = Device.Get("ilgpu-cpu");
        int n = 3 * 4096 + 5;
        var x = Random(new Random(13), n, 0f, 1f);
        double exact = 0;
        foreach (var v in x) exact += v;
        using var t = Tensor.FromArray(x, [n], d);
        using var s = Reduce.SumAll(t);
        Assert.True(Math.Abs(s.Item() - exact) <= 1e-6 * exact, $"sum {s.Item()} vs float64 {exact}");
        using var m = Tensor.FromArray(x[..(n / 2 * 2)], [n / 2, 2], d);
        using var columns = Reduce.Sum(m, [0]);
        AssertClose(Reduce.Reference.Reduce(ReduceOp.Sum, ToDouble(x[..(n / 2 * 2)]), [n / 2, 2], [0]), columns.ToArray(), rtol: 1e-6, atol: 0);
        foreach (var op in new[] { ReduceOp.Max, ReduceOp.MeanOfSquares })
        {
            using var r = Reduce.Apply(op, m, [0]);
            AssertClose(Reduce.Reference.Reduce(op, ToDouble(x[..(n / 2 * 2)]), [n / 2, 2], [0]), r.ToArray(), rtol: 1e-6, atol: 0, what: $"{op} of split columns");
        }
    }

    public static TheoryData<string, int[], int[]> SumToShapeCases()
    {
        var data = new TheoryData<string, int[], int[]>();
        foreach (var dev in new[] { "cpu", "ilgpu-cpu", "cuda" })
        {
            data.Add(dev, [3, 5, 7], [3, 5, 7]);      // identity
            data.Add(dev, [3, 5, 7], [1]);            // scalar
            data.Add(dev, [3, 5, 7], [7]);            // row vector (leading axes dropped)
            data.Add(dev, [3, 5, 7], [5, 1]);         // middle kept, last summed
            data.Add(dev, [2, 3, 5, 7], [1, 3, 1, 1]); // per-channel bias gradient
            data.Add(dev, [2, 3, 5, 7], [3, 1, 1]);
            data.Add(dev, [4, 3], [4, 3]);
        }
        return data;
    }

    [Theory, MemberData(nameof(SumToShapeCases)), Trait("Kernel", "Reduce.Rows"), Trait("Kernel", "Reduce.Columns")]
    public void SumToShapeUndoesBroadcasting(string deviceName, int[] shape, int[] target)
    {
        var d = TestDevices.Get(deviceName);
        var x = Random(new Random(14), Shapes.Numel(shape));
        using var xt = Tensor.FromArray(x, shape, d);
        using var y = Poisoned(d, target);
        Reduce.SumToShapeInto(xt, y);
        AssertClose(Reduce.Reference.SumToShape(ToDouble(x), shape, target), y.ToArray(), what: $"{Shapes.Format(shape)} to {Shapes.Format(target)}");
        using var z = Reduce.SumToShape(xt, target);
        Assert.Equal(target, z.Shape);
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => Reduce.Sum(x, [2]));
        Assert.Contains("Reduce.Sum", e.Message);
        Assert.Contains("[3, 4]", e.Message);
        e = Assert.Throws<TensorShapeException>(() => Reduce.Mean(x, [1, -1]));
        Assert.Contains("twice", e.Message);
        using var wrong = Tensor.Zeros(Device.Cpu, 4);
        e = Assert.Throws<TensorShapeException>(() => Reduce.Into(ReduceOp.Max, x, [1], wrong));
        Assert.Contains("[3]", e.Message);
        e = Assert.Throws<TensorShapeException>(() => Reduce.SumToShape(x, [2, 1]));
        Assert.Contains("SumToShape", e.Message);
        e = Assert.Throws<TensorShapeException>(() => Reduce.SumToShape(x, [1, 3, 4]));
        Assert.Contains("more axes", e.Message);
        using var empty = Tensor.Zeros(Device.Cpu, 3, 0);
        e = Assert.Throws<TensorShapeException>(() => Reduce.Max(empty, [1]));
        Assert.Contains("empty", e.Message);
        using var sum = Reduce.Sum(empty, [1]);
        Assert.Equal([0f, 0f, 0f], sum.ToArray());
    }

    [Fact]
    public void MixingDevicesIsRefused()
    {
        using var x = Tensor.Ones(Device.Cpu, 3);
        using var y = Tensor.Empty(Device.Get("ilgpu-cpu"), 1);
        var e = Assert.Throws<ArgumentException>(() => Reduce.Into(ReduceOp.Sum, x, [0], y));
        Assert.Contains("different devices", e.Message);
    }
}
