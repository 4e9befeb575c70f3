using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

public class TransposeTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Transpose.MatrixTiled")]
    public void MatrixMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(61);
        (int R, int C)[] cases = TestDevices.IsSlow(d) ? [(33, 5), (1, 7), (40, 37)] : [(33, 5), (1, 7), (1000, 333), (64, 64), (7, 1)];
        foreach (var (r, c) in cases)
        {
            var x = Random(rng, r * c);
            using var xt = Tensor.FromArray(x, [r, c], d);
            using var y = Poisoned(d, c, r);
            Transpose.MatrixInto(xt, y);
            AssertClose(Transpose.Reference.Matrix(ToDouble(x), r, c), y.ToArray(), rtol: 0, atol: 0, what: $"{r}x{c} on {d.Name}");
            using var back = Transpose.Matrix(y);
            Assert.Equal(x, back.ToArray());
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Transpose.Permute")]
    public void PermuteMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(62);
        (int[] Shape, int[] Perm)[] cases = [([2, 3, 5, 7], [0, 2, 3, 1]), ([2, 3, 5, 7], [3, 1, 0, 2]), ([5, 3], [1, 0]), ([1, 2, 1, 3, 1, 2], [5, 4, 3, 2, 1, 0]), ([4], [0])];
        foreach (var (shape, perm) in cases)
        {
            var x = Random(rng, Shapes.Numel(shape));
            using var xt = Tensor.FromArray(x, shape, d);
            using var y = Poisoned(d, perm.Select(p => shape[p]).ToArray());
            Transpose.PermuteInto(xt, perm, y);
            AssertClose(Transpose.Reference.Permute(ToDouble(x), shape, perm), y.ToArray(), rtol: 0, atol: 0, what: $"{Shapes.Format(shape)} by [{string.Join(", ", perm)}] on {d.Name}");
        }
    }

    /// <summary>Both cpu variants, v1 per element and v2 by runs (merged axes, a division per block): every rank, size-1 axes anywhere, runs
    /// contiguous in x or strided, the patch layers' own permutations, checked exactly against the float64 reference.</summary>
    [Fact, Trait("Kernel", "Transpose.Permute")]
    public void CpuPermuteByRunsMatchesFloat64OnRandomShapes()
    {
        var rng = new Random(63);
        var cases = new List<(int[] Shape, int[] Perm)>
        {
            ([3, 2, 4, 5, 7], [0, 2, 1, 3, 4]),      // MuseGAN's bars into the batch: the last two axes one run
            ([3, 5, 2, 4, 7], [0, 2, 4, 1, 3]),      // PatchConv along H: [N, C, A, k, W] -> [N, A, W, C, k]
            ([3, 5, 4, 7, 12], [0, 2, 3, 1, 4]),     // PatchConv along W: runs of k
            ([3, 4, 7, 5], [0, 3, 1, 2]),            // [N, A, B, out] -> [N, out, A, B]
            ([3, 4, 7, 5, 2], [0, 3, 1, 4, 2]),      // PatchConvTranspose along H
            ([1, 1, 1], [2, 0, 1]), ([6], [0]), ([2, 3], [0, 1]), ([1, 5, 1, 3], [3, 1, 2, 0]),
        };
        for (int t = 0; t < 60; t++)
        {
            int rank = 1 + t % 6;
            var shape = Enumerable.Range(0, rank).Select(_ => rng.Next(4) == 0 ? 1 : rng.Next(2, 6)).ToArray();
            cases.Add((shape, [.. Enumerable.Range(0, rank).OrderBy(_ => rng.Next())]));
        }
        foreach (var (shape, perm) in cases)
        {
            var x = Random(rng, Shapes.Numel(shape));
            using var xt = Tensor.FromArray(x, shape, Device.Cpu);
            foreach (var variant in new[] { PermuteVariant.V1, PermuteVariant.V2 })
            {
                using var y = Poisoned(Device.Cpu, perm.Select(p => shape[p]).ToArray());
                Transpose.PermuteInto(xt, perm, y, variant);
                AssertClose(Transpose.Reference.Permute(ToDouble(x), shape, perm), y.ToArray(), rtol: 0, atol: 0, what: $"{variant}: {Shapes.Format(shape)} by [{string.Join(", ", perm)}]");
            }
        }
        // Large enough to be split among the threads.
        int[] big = [7, 33, 5, 61], order = [2, 0, 3, 1];
        var xb = Random(rng, Shapes.Numel(big));
        using var xbt = Tensor.FromArray(xb, big, Device.Cpu);
        using var yb = Transpose.Permute(xbt, order);
        AssertClose(Transpose.Reference.Permute(ToDouble(xb), big, order), yb.ToArray(), rtol: 0, atol: 0, what: "[7, 33, 5, 61] by [2, 0, 3, 1]");
    }

    [Fact]
    public void BadInputsNameTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 4);
        var e = Assert.Throws<TensorShapeException>(() => Transpose.Matrix(x));
        Assert.Contains("Transpose.Matrix", e.Message);
        Assert.Contains("[2, 3, 4]", e.Message);
        e = Assert.Throws<TensorShapeException>(() => Transpose.Permute(x, [0, 0, 1]));
        Assert.Contains("not a permutation", e.Message);
        using var m = Tensor.Zeros(Device.Cpu, 2, 3);
        using var wrong = Tensor.Zeros(Device.Cpu, 2, 3);
        e = Assert.Throws<TensorShapeException>(() => Transpose.MatrixInto(m, wrong));
        Assert.Contains("[3, 2]", e.Message);
    }
}
