using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;

namespace NativeGan.Tests.Gans;

/// <summary>KID and precision / recall on hand-made feature sets, each figure computed by hand in the test.</summary>
public class PerceptualMetricsTests
{
    static PerceptualMetrics.GramMatrices Grams(double[][] a, double[][] b) =>
        PerceptualMetrics.Grams([.. a.SelectMany(r => r.Select(v => (float)v))], a.Length, [.. b.SelectMany(r => r.Select(v => (float)v))], b.Length, a[0].Length);

    [Fact]
    public void KidIsTheUnbiasedMmdWithTheCubicKernel()
    {
        double[][] a = [[1, 0], [0, 2], [1, 1]];
        double[][] b = [[2, 1], [0, 0], [-1, 1]];
        const int d = 2;
        static double K(double[] x, double[] y) => Math.Pow((x[0] * y[0] + x[1] * y[1]) / d + 1, 3);
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                if (i != j) { xx += K(a[i], a[j]); yy += K(b[i], b[j]); }
                xy += K(a[i], b[j]);
            }
        double expected = xx / 6 + yy / 6 - 2 * xy / 9;
        var kid = PerceptualMetrics.Kid(Grams(a, b), d, subsets: 5, subsetSize: 3);
        Assert.Equal(expected, kid.Full, 5);
        Assert.Equal(expected, kid.Mean, 5); // every subset of 3 from 3 is the whole set
        Assert.Equal(0, kid.Std, 9);
    }

    [Fact]
    public void KidIsNearZeroForOneDistributionAndGrowsWithAShift()
    {
        var rng = new SplitMix64(3);
        float[] Draw(int n, double shift) => [.. Enumerable.Range(0, n * 8).Select(_ => (float)(rng.NextGaussian() + shift))];
        const int n = 300, d = 8;
        var same = PerceptualMetrics.Compare(Draw(n, 0), Draw(n, 0), d, kidSubsets: 20, kidSubsetSize: 100);
        var shifted = PerceptualMetrics.Compare(Draw(n, 0), Draw(n, 0.5), d, kidSubsets: 20, kidSubsetSize: 100);
        Assert.True(Math.Abs(same.Kid.Mean) < 3 * same.Kid.Std, $"same distribution: KID {same.Kid.Mean:g3} ± {same.Kid.Std:g3}");
        Assert.True(shifted.Kid.Mean > 10 * same.Kid.Std && shifted.Kid.Full > 0, $"shifted: KID {shifted.Kid.Mean:g3}, same {same.Kid.Mean:g3} ± {same.Kid.Std:g3}");
        Assert.True(shifted.Fid > 10 * Math.Abs(same.Fid), $"FID shifted {shifted.Fid:g3}, same {same.Fid:g3}");
        // Same distribution: precision and recall high; a shifted one lowers both.
        Assert.True(same.PrecisionRecall.Precision > 0.8 && same.PrecisionRecall.Recall > 0.8, same.PrecisionRecall.ToString());
        Assert.True(shifted.PrecisionRecall.Precision < same.PrecisionRecall.Precision, shifted.PrecisionRecall.ToString());
    }

    [Fact]
    public void PrecisionAndRecallCountSamplesInsideTheOtherSetsKnnBalls()
    {
        // Reals on a line at 0..4 (k = 1: every real's radius is 1); fakes at 0.5, 2.2 and 10.
        double[][] real = [[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]];
        double[][] fake = [[0.5, 0], [2.2, 0], [10, 0]];
        var pr = PerceptualMetrics.PrecisionAndRecall(Grams(real, fake), k: 1);
        // Precision: 0.5 and 2.2 lie within 1 of a real, 10 does not: 2/3.
        Assert.Equal(2.0 / 3, pr.Precision, 9);
        // Recall: the fakes' radii are 1.7, 1.7 and 7.8 (the outlier's ball is wide): reals 0..3 lie within 1.7 of
        // 0.5 or 2.2, and 4 within 7.8 of 10: 5/5. (The outlier inflating recall is the method's known weakness.)
        Assert.Equal(1.0, pr.Recall, 9);
        pr = PerceptualMetrics.PrecisionAndRecall(Grams(real, fake[..2]), k: 1);
        Assert.Equal(1.0, pr.Precision, 9);
        Assert.Equal(4.0 / 5, pr.Recall, 9); // 4 is 1.8 from 2.2, outside its radius 1.7

        Assert.Throws<ArgumentException>(() => PerceptualMetrics.PrecisionAndRecall(Grams(real, fake[..2]), k: 2));
    }
}
