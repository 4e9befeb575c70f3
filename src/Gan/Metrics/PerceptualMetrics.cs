using NativeGan.Gan.Data;

namespace NativeGan.Gan.Metrics;

/// <summary>
/// KID: the squared maximum mean discrepancy with the cubic polynomial kernel k(x, y) = (x·y / d + 1)³, unbiased
/// (Bińkowski et al. 2018, "Demystifying MMD GANs"), estimated as the papers and torch-fidelity do: the mean over
/// <see cref="Subsets"/> random subsets of <see cref="SubsetSize"/> samples from each set, with the standard deviation
/// over those subsets (the ± quoted with KID: how much a KID on that many samples varies).
/// </summary>
/// <param name="Mean">The mean of the subset estimates (can be slightly negative: the estimator is unbiased).</param>
/// <param name="Std">The standard deviation of the subset estimates.</param>
/// <param name="Subsets">How many subsets.</param>
/// <param name="SubsetSize">Samples from each set in a subset.</param>
/// <param name="Full">The unbiased estimate on all samples of both sets.</param>
public sealed record KernelDistance(double Mean, double Std, int Subsets, int SubsetSize, double Full)
{
    /// <summary>The standard error of <see cref="Mean"/> if the subsets were independent (they overlap, so it is a lower bound).</summary>
    public double StandardError => Std / Math.Sqrt(Subsets);
}

/// <summary>
/// Improved precision and recall (Kynkäänniemi et al. 2019): each set's manifold is the union of balls around its
/// samples, each ball's radius the distance to the sample's k-th nearest neighbour in its own set. Precision: the share
/// of generated samples inside the real manifold (fidelity); recall: the share of real samples inside the generated
/// manifold (coverage).
/// </summary>
public sealed record PrecisionRecall(double Precision, double Recall, int K);

/// <summary>FID-R18, KID-R18 and precision / recall of one pair of feature sets.</summary>
public sealed record PerceptualScores(double Fid, KernelDistance Kid, PrecisionRecall PrecisionRecall, int CountA, int CountB);

/// <summary>
/// Distances between two sets of image features (the features of <see cref="Pretrained.ResNet18"/>: hence "FID-R18",
/// "KID-R18"; these are not comparable with the Inception-v3 FID and KID papers quote). Fréchet distance
/// (<see cref="FrechetDistance"/>), KID (<see cref="KernelDistance"/>) and precision / recall (<see cref="PrecisionRecall"/>).
/// The Gram matrices both KID and the k-NN radii need are computed once, with the engine's GEMM on the cpu.
/// </summary>
public static class PerceptualMetrics
{
    /// <summary>Every score of features <paramref name="a"/> (the reference, e.g. real) against <paramref name="b"/> (e.g. generated).</summary>
    public static PerceptualScores Compare(float[] a, float[] b, int dimension, int kidSubsets = 100, int kidSubsetSize = 1000, int k = 3, ulong seed = 0)
    {
        int na = Count(a, dimension, "a"), nb = Count(b, dimension, "b");
        var gram = Grams(a, na, b, nb, dimension);
        double fid = FrechetDistance.Compute(a, b, dimension);
        var kid = Kid(gram, dimension, kidSubsets, Math.Min(kidSubsetSize, Math.Min(na, nb)), seed);
        var pr = PrecisionAndRecall(gram, k);
        return new(fid, kid, pr, na, nb);
    }

    static int Count(float[] features, int dimension, string name)
    {
        if (dimension < 1 || features.Length % dimension != 0 || features.Length / dimension < 2)
            throw new ArgumentException($"PerceptualMetrics: feature set {name} must be N x {dimension} with N >= 2, got {features.Length} floats");
        return features.Length / dimension;
    }

    /// <summary>The dot products within and across two feature sets (row-major), float64 from a float32 GEMM.</summary>
    public sealed class GramMatrices
    {
        public required int CountA { get; init; }
        public required int CountB { get; init; }
        /// <summary>A·Aᵀ [NA, NA], B·Bᵀ [NB, NB] and A·Bᵀ [NA, NB].</summary>
        public required float[] AA { get; init; }
        public required float[] BB { get; init; }
        public required float[] AB { get; init; }
    }

    /// <summary>A·Aᵀ, B·Bᵀ and A·Bᵀ with the engine's GEMM on the cpu.</summary>
    public static GramMatrices Grams(float[] a, int na, float[] b, int nb, int dimension)
    {
        using var ta = Tensor.FromArray(a, [na, dimension]);
        using var tb = Tensor.FromArray(b, [nb, dimension]);
        using var aa = Gemm.MatMul(ta, ta, transB: true);
        using var bb = Gemm.MatMul(tb, tb, transB: true);
        using var ab = Gemm.MatMul(ta, tb, transB: true);
        return new GramMatrices { CountA = na, CountB = nb, AA = aa.ToArray(), BB = bb.ToArray(), AB = ab.ToArray() };
    }

    /// <summary>
    /// KID from the Gram matrices: per subset (indices drawn without replacement, seeded SplitMix64), the unbiased
    /// MMD² = Σ_{i≠j} k(a_i, a_j) / (m(m-1)) + Σ_{i≠j} k(b_i, b_j) / (m(m-1)) - 2 Σ_{i,j} k(a_i, b_j) / m².
    /// </summary>
    public static KernelDistance Kid(GramMatrices g, int dimension, int subsets, int subsetSize, ulong seed = 0)
    {
        if (subsets < 1 || subsetSize < 2 || subsetSize > g.CountA || subsetSize > g.CountB)
            throw new ArgumentException($"KID: {subsets} subsets of {subsetSize} need at least 1 subset of 2..min({g.CountA}, {g.CountB}) samples");
        double Kernel(float dot) { double t = (double)dot / dimension + 1.0; return t * t * t; }
        double Mmd(int[] ia, int[] ib)
        {
            int m = ia.Length, n = ib.Length;
            double xx = 0, yy = 0, xy = 0;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < m; j++)
                    if (i != j) xx += Kernel(g.AA[ia[i] * g.CountA + ia[j]]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    if (i != j) yy += Kernel(g.BB[ib[i] * g.CountB + ib[j]]);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                    xy += Kernel(g.AB[ia[i] * g.CountB + ib[j]]);
            return xx / ((double)m * (m - 1)) + yy / ((double)n * (n - 1)) - 2 * xy / ((double)m * n);
        }
        var estimates = new double[subsets];
        var draws = new (int[] A, int[] B)[subsets];
        var rng = new SplitMix64(seed);
        for (int s = 0; s < subsets; s++) draws[s] = (Choose(ref rng, g.CountA, subsetSize), Choose(ref rng, g.CountB, subsetSize));
        Parallel.For(0, subsets, s => estimates[s] = Mmd(draws[s].A, draws[s].B));
        double mean = estimates.Average();
        double std = subsets > 1 ? Math.Sqrt(estimates.Sum(e => (e - mean) * (e - mean)) / (subsets - 1)) : 0;
        double full = Mmd([.. Enumerable.Range(0, g.CountA)], [.. Enumerable.Range(0, g.CountB)]);
        return new(mean, std, subsets, subsetSize, full);
    }

    /// <summary><paramref name="count"/> distinct indices of 0..n-1 (a partial Fisher-Yates shuffle).</summary>
    static int[] Choose(ref SplitMix64 rng, int n, int count)
    {
        var all = Enumerable.Range(0, n).ToArray();
        for (int i = 0; i < count; i++)
        {
            int j = i + rng.NextInt(n - i);
            (all[i], all[j]) = (all[j], all[i]);
        }
        return all[..count];
    }

    /// <summary>Precision and recall from the Gram matrices (squared distances |x|² + |y|² - 2 x·y).</summary>
    public static PrecisionRecall PrecisionAndRecall(GramMatrices g, int k = 3)
    {
        if (k < 1 || k >= g.CountA || k >= g.CountB)
            throw new ArgumentException($"precision/recall: k = {k} needs more than k samples in each set (have {g.CountA} and {g.CountB})");
        int na = g.CountA, nb = g.CountB;
        var normA = Enumerable.Range(0, na).Select(i => (double)g.AA[i * na + i]).ToArray();
        var normB = Enumerable.Range(0, nb).Select(i => (double)g.BB[i * nb + i]).ToArray();
        double DistAA(int i, int j) => Math.Max(0, normA[i] + normA[j] - 2.0 * g.AA[i * na + j]);
        double DistBB(int i, int j) => Math.Max(0, normB[i] + normB[j] - 2.0 * g.BB[i * nb + j]);
        double DistAB(int i, int j) => Math.Max(0, normA[i] + normB[j] - 2.0 * g.AB[i * nb + j]);
        // Squared radius of each sample: the k-th smallest squared distance to the others of its own set.
        double[] Radii(int n, Func<int, int, double> dist)
        {
            var radii = new double[n];
            Parallel.For(0, n, i =>
            {
                var d = new double[n - 1];
                for (int j = 0, t = 0; j < n; j++) if (j != i) d[t++] = dist(i, j);
                Array.Sort(d);
                radii[i] = d[k - 1];
            });
            return radii;
        }
        var radiusA = Radii(na, DistAA);
        var radiusB = Radii(nb, DistBB);
        int precise = 0, recalled = 0;
        Parallel.For(0, nb, j => { for (int i = 0; i < na; i++) if (DistAB(i, j) <= radiusA[i]) { Interlocked.Increment(ref precise); break; } });
        Parallel.For(0, na, i => { for (int j = 0; j < nb; j++) if (DistAB(i, j) <= radiusB[j]) { Interlocked.Increment(ref recalled); break; } });
        return new((double)precise / nb, (double)recalled / na, k);
    }
}
