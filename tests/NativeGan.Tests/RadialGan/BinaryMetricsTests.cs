using NativeGan.Gan.Metrics;

namespace NativeGan.Tests.RadialGan;

/// <summary>AUROC and AUPRC against hand computations and brute-force definitions; logistic regression against Newton's method in float64.</summary>
public class BinaryMetricsTests
{
    [Fact]
    public void A_hand_computed_example()
    {
        // Ranked by score: 0.8 (+), 0.4 (-), 0.35 (+), 0.1 (-). Of the 4 positive-negative pairs, 3 are ordered: AUROC 0.75.
        // Precision at each positive: 1/1 at recall 1/2, 2/3 at recall 1: AP = 0.5 * 1 + 0.5 * 2/3.
        float[] scores = [0.1f, 0.4f, 0.35f, 0.8f], labels = [0, 0, 1, 1];
        Assert.Equal(0.75, BinaryClassifierMetrics.Auroc(scores, labels), 12);
        Assert.Equal(0.5 + 0.5 * 2.0 / 3.0, BinaryClassifierMetrics.Auprc(scores, labels), 12);
        // A tie between a positive and a negative counts one half; tied scores are one threshold for precision.
        float[] tied = [0.5f, 0.5f, 0.2f];
        float[] tiedLabels = [1, 0, 0];
        Assert.Equal((0.5 + 1) / 2, BinaryClassifierMetrics.Auroc(tied, tiedLabels), 12);
        Assert.Equal(0.5, BinaryClassifierMetrics.Auprc(tied, tiedLabels), 12); // recall 1 reached at precision 1/2
    }

    [Fact]
    public void Random_scores_with_ties_agree_with_the_brute_force_definitions()
    {
        var random = new Random(4);
        for (int trial = 0; trial < 40; trial++)
        {
            int n = 5 + random.Next(60);
            var scores = Enumerable.Range(0, n).Select(_ => (float)random.Next(12) / 4).ToArray(); // many ties
            var labels = Enumerable.Range(0, n).Select(i => i < 2 ? i : (float)random.Next(2)).ToArray(); // both classes
            // AUROC: over every positive-negative pair, 1 when ordered, 1/2 when tied.
            double pairs = 0, wins = 0;
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (labels[i] == 1 && labels[j] == 0)
                    {
                        pairs++;
                        wins += scores[i] > scores[j] ? 1 : scores[i] == scores[j] ? 0.5 : 0;
                    }
            Assert.Equal(wins / pairs, BinaryClassifierMetrics.Auroc(scores, labels), 10);
            // AP: for each distinct threshold from high to low, precision times the recall it adds, each counted from scratch.
            double positives = labels.Count(l => l == 1), ap = 0, previousRecall = 0;
            foreach (var t in scores.Distinct().OrderByDescending(s => s))
            {
                double predicted = scores.Count(s => s >= t), hits = Enumerable.Range(0, n).Count(i => scores[i] >= t && labels[i] == 1);
                ap += (hits / positives - previousRecall) * (hits / predicted);
                previousRecall = hits / positives;
            }
            Assert.Equal(ap, BinaryClassifierMetrics.Auprc(scores, labels), 10);
        }
    }

    [Fact]
    public void One_class_only_is_refused()
    {
        var e = Assert.Throws<ArgumentException>(() => BinaryClassifierMetrics.Auroc([0.1f, 0.2f], [1f, 1f]));
        Assert.Contains("both classes", e.Message);
    }

    [Fact]
    public void Logistic_regression_reaches_the_optimum_newtons_method_finds()
    {
        // Overlapping classes, so the unregularised optimum is finite.
        var random = new Random(9);
        int n = 120, width = 3;
        var x = new float[n * width];
        var y = new float[n];
        for (int i = 0; i < n; i++)
        {
            for (int f = 0; f < width; f++) x[i * width + f] = (float)(random.NextDouble() * 4 - 2);
            double p = 1 / (1 + Math.Exp(-(0.8 * x[i * width] - 1.2 * x[i * width + 1] + 0.3)));
            y[i] = random.NextDouble() < p ? 1 : 0;
        }
        var fit = LogisticRegression.Fit(x, y, n, width, Device.Cpu, steps: 3000, learningRate: 0.02f);
        var newton = Newton(x, y, n, width);
        for (int f = 0; f < width; f++) Assert.Equal(newton[f], fit.Weights[f], 2);
        Assert.Equal(newton[width], fit.Bias, 2);
        var logits = fit.Logits(x);
        Assert.Equal(newton[0] * x[0] + newton[1] * x[1] + newton[2] * x[2] + newton[3], logits[0], 2);
    }

    [Fact]
    public void Weighted_logistic_regression_reaches_the_weighted_optimum_and_refuses_bad_weights()
    {
        // Row weights in [0, 2), a few exactly 0: the weighted mean loss's optimum, by a float64 weighted Newton's method.
        var random = new Random(21);
        int n = 90, width = 2;
        var x = new float[n * width];
        var y = new float[n];
        var weights = new float[n];
        for (int i = 0; i < n; i++)
        {
            for (int f = 0; f < width; f++) x[i * width + f] = (float)(random.NextDouble() * 4 - 2);
            y[i] = random.NextDouble() < 1 / (1 + Math.Exp(-(1.1 * x[i * width] + 0.5 * x[i * width + 1] - 0.2))) ? 1 : 0;
            weights[i] = i % 9 == 0 ? 0f : (float)(random.NextDouble() * 2);
        }
        var fit = LogisticRegression.Fit(x, y, n, width, Device.Cpu, steps: 3000, learningRate: 0.02f, weights: weights);
        var newton = Newton(x, y, n, width, weights);
        var plain = Newton(x, y, n, width);
        for (int f = 0; f < width; f++) Assert.Equal(newton[f], fit.Weights[f], 2);
        Assert.Equal(newton[width], fit.Bias, 2);
        Assert.True(Math.Abs(plain[0] - newton[0]) > 0.05, "the weights should move the optimum, or the check says nothing");
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y, n, width, Device.Cpu, steps: 1, weights: new float[n]));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y, n, width, Device.Cpu, steps: 1, weights: [.. weights.Select(w => -w)]));
        Assert.Throws<ArgumentException>(() => LogisticRegression.Fit(x, y, n, width, Device.Cpu, steps: 1, weights: new float[n - 1]));
    }

    /// <summary>Newton's method (IRLS) in float64 on the (weighted) mean loss: weights then bias.</summary>
    static double[] Newton(float[] x, float[] y, int n, int width, float[]? rowWeights = null)
    {
        int k = width + 1;
        var w = new double[k];
        for (int iteration = 0; iteration < 50; iteration++)
        {
            var gradient = new double[k];
            var hessian = new double[k, k];
            for (int i = 0; i < n; i++)
            {
                var row = Enumerable.Range(0, k).Select(f => f < width ? (double)x[i * width + f] : 1.0).ToArray();
                double p = 1 / (1 + Math.Exp(-row.Select((v, f) => v * w[f]).Sum()));
                double c = rowWeights?[i] ?? 1;
                for (int a = 0; a < k; a++)
                {
                    gradient[a] += c * (p - y[i]) * row[a];
                    for (int b = 0; b < k; b++) hessian[a, b] += c * p * (1 - p) * row[a] * row[b];
                }
            }
            var step = Solve(hessian, gradient);
            for (int a = 0; a < k; a++) w[a] -= step[a];
        }
        return w;
    }

    static double[] Solve(double[,] m, double[] v)
    {
        int k = v.Length;
        var a = (double[,])m.Clone();
        var b = (double[])v.Clone();
        for (int c = 0; c < k; c++)
        {
            int pivot = Enumerable.Range(c, k - c).MaxBy(r => Math.Abs(a[r, c]));
            for (int j = 0; j < k; j++) (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
            (b[c], b[pivot]) = (b[pivot], b[c]);
            for (int r = c + 1; r < k; r++)
            {
                double factor = a[r, c] / a[c, c];
                for (int j = c; j < k; j++) a[r, j] -= factor * a[c, j];
                b[r] -= factor * b[c];
            }
        }
        var result = new double[k];
        for (int r = k - 1; r >= 0; r--)
        {
            double sum = b[r];
            for (int j = r + 1; j < k; j++) sum -= a[r, j] * result[j];
            result[r] = sum / a[r, r];
        }
        return result;
    }
}
