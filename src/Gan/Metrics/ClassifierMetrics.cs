namespace NativeGan.Gan.Metrics;

/// <summary>
/// Scores computed from a classifier's outputs on generated images: the Inception Score (on class
/// probabilities) and how many classes appear, and how evenly. Host-side float64 arithmetic on small arrays.
/// </summary>
public static class InceptionScore
{
    /// <summary>
    /// The Inception Score (Salimans et al. 2016): IS = exp(E_x KL(p(y|x) || p(y))), where p(y|x) is the
    /// classifier's probability row for sample x and p(y) = mean_x p(y|x) the marginal over the samples;
    /// natural log, 0 log 0 = 0. It is 1 when every sample gets the same prediction and reaches the number of
    /// classes K when each prediction is one-hot (confident) and the classes are used equally often.
    /// Computed on the whole set (the original splits into 10 chunks and averages; we report one split).
    /// <paramref name="probabilities"/> is N x K, row-major; rows should sum to 1.
    /// </summary>
    public static double Compute(float[] probabilities, int classCount)
    {
        var p = Rows(probabilities, classCount, "InceptionScore");
        int n = p.Length;
        var marginal = new double[classCount];
        foreach (var row in p) for (int k = 0; k < classCount; k++) marginal[k] += row[k] / n;
        double meanKl = 0;
        foreach (var row in p)
        {
            double kl = 0;
            for (int k = 0; k < classCount; k++)
                if (row[k] > 0) kl += row[k] * Math.Log(row[k] / marginal[k]);
            meanKl += kl / n;
        }
        return Math.Exp(meanKl);
    }

    /// <summary>Each row's most probable class (the lowest index on ties).</summary>
    public static int[] Predictions(float[] probabilities, int classCount)
    {
        var p = Rows(probabilities, classCount, "Predictions");
        return p.Select(row => Array.IndexOf(row, row.Max())).ToArray();
    }

    static double[][] Rows(float[] probabilities, int classCount, string op)
    {
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), $"{op}: classCount must be >= 1, got {classCount}");
        if (probabilities.Length == 0 || probabilities.Length % classCount != 0)
            throw new ArgumentException($"{op}: expected N x {classCount} probabilities, got {probabilities.Length} floats");
        int n = probabilities.Length / classCount;
        var rows = new double[n][];
        for (int i = 0; i < n; i++)
        {
            rows[i] = new double[classCount];
            for (int k = 0; k < classCount; k++) rows[i][k] = probabilities[i * classCount + k];
        }
        return rows;
    }
}

/// <summary>How a set of predicted class labels spreads over the classes.</summary>
/// <param name="Counts">Samples predicted as each class.</param>
/// <param name="ClassesPresent">Classes with at least one sample.</param>
/// <param name="Evenness">Normalised entropy of the histogram, H(counts / N) / log K, natural log: 1 for a
/// perfectly even spread, 0 when every sample is one class (Pielou's evenness over all K classes).</param>
/// <param name="MaxOverMin">The largest count over the smallest (infinity when a class is missing): 1 is perfectly even.</param>
public sealed record ClassHistogram(int[] Counts, int ClassesPresent, double Evenness, double MaxOverMin)
{
    /// <summary>The histogram of <paramref name="labels"/> over <paramref name="classCount"/> classes.</summary>
    public static ClassHistogram Of(int[] labels, int classCount)
    {
        if (classCount < 1) throw new ArgumentOutOfRangeException(nameof(classCount), $"ClassHistogram: classCount must be >= 1, got {classCount}");
        var counts = new int[classCount];
        foreach (var y in labels)
        {
            if (y < 0 || y >= classCount) throw new ArgumentException($"ClassHistogram: label {y} is outside 0..{classCount - 1}");
            counts[y]++;
        }
        int n = labels.Length;
        double entropy = 0;
        foreach (var c in counts)
            if (c > 0) { double p = (double)c / n; entropy -= p * Math.Log(p); }
        double evenness = classCount == 1 ? 1 : entropy / Math.Log(classCount);
        int min = counts.Min(), max = counts.Max();
        return new ClassHistogram(counts, counts.Count(c => c > 0), evenness, min == 0 ? double.PositiveInfinity : (double)max / min);
    }

    public override string ToString() =>
        $"{ClassesPresent}/{Counts.Length} classes, evenness {Evenness:F3}, counts [{string.Join(", ", Counts)}]";
}
