using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>The backward mask of a maximum over an axis against its float64 definition, ties included.</summary>
public class MaxOverMaskTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "MaxOver.Mask")]
    public void MatchesFloat64WithTiesAndTails(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(41);
        // (shape, axis): columns (inner) that are not multiples of the vector width, one piece, the last axis
        // (inner 1), the first axis (outer 1), and a maxout layer's [N, 5, 200].
        (int[] Shape, int Axis)[] cases = TestDevices.IsSlow(d)
            ? [([3, 5, 7], 1), ([4, 3], 1)]
            : [([7, 5, 13], 1), ([3, 4], 1), ([2, 3, 5, 9], 2), ([6, 11], 0), ([5, 1, 19], 1), ([9, 5, 200], 1), ([2, 3, 37], 1)];
        foreach (var (shape, axis) in cases)
        {
            int pieces = shape[axis], outer = shape[..axis].Aggregate(1, (p, v) => p * v), inner = shape[(axis + 1)..].Aggregate(1, (p, v) => p * v);
            var x = Random(rng, Shapes.Numel(shape));
            // Ties in every third column (the first among them): every piece takes the column's maximum, or one more piece does.
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                {
                    int column = o * inner + i;
                    if (pieces < 2 || column % 3 != 0) continue;
                    int at(int p) => (o * pieces + p) * inner + i;
                    float top = Enumerable.Range(0, pieces).Max(p => x[at(p)]);
                    if (column % 2 == 0) for (int p = 0; p < pieces; p++) x[at(p)] = top;
                    else x[at(rng.Next(pieces))] = top;
                }
            var max = new float[outer * inner];
            for (int o = 0; o < outer; o++)
                for (int i = 0; i < inner; i++)
                    max[o * inner + i] = Enumerable.Range(0, pieces).Max(p => x[(o * pieces + p) * inner + i]);
            var maxShape = shape.Where((_, k) => k != axis).ToArray();
            using var xt = Tensor.FromArray(x, shape, d);
            using var mt = Tensor.FromArray(max, maxShape, d);
            using var mask = Poisoned(d, shape);
            MaxOverMask.ComputeInto(xt, mt, axis, mask);
            var expected = MaxOverMask.Reference.Mask(ToDouble(x), ToDouble(max), outer, pieces, inner);
            if (pieces > 1) Assert.Contains(expected, v => v is > 0 and < 1); // ties were made
            AssertClose(expected, mask.ToArray(), rtol: 1e-7, atol: 0, what: $"mask of {Shapes.Format(shape)} over axis {axis} on {d.Name}");
            using var v1 = MaxOverMask.Compute(xt, mt, axis, MaxOverMaskVariant.V1); // the five-kernel version it replaced: the same floats
            Assert.Equal(v1.ToArray(), mask.ToArray());
            using var v2 = Poisoned(d, shape);
            MaxOverMask.ComputeInto(xt, mt, axis, v2, MaxOverMaskVariant.V2); // the default, asked for by number
            Assert.Equal(v2.ToArray(), mask.ToArray());
        }
    }

    [Fact]
    public void AMaximumOfTheWrongSizeIsRefusedNamingTheShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 5, 3);
        using var max = Tensor.Zeros(Device.Cpu, 2, 4);
        var e = Assert.Throws<TensorShapeException>(() => MaxOverMask.Compute(x, max, 1));
        Assert.Contains("[2, 5, 3]", e.Message);
        Assert.Contains("[2, 4]", e.Message);
        using var right = Tensor.Zeros(Device.Cpu, 2, 3);
        var v = Assert.Throws<ArgumentOutOfRangeException>(() => MaxOverMask.Compute(x, right, 1, (MaxOverMaskVariant)3));
        Assert.Contains("the variants are 1, 2 and 0 (Default)", v.Message);
    }
}
