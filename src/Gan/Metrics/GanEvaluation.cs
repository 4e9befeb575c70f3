using NativeGan.Gan.Data;
using NativeGan.Gan.Training;

namespace NativeGan.Gan.Metrics;

/// <summary>
/// The evaluations of the protocol on a trained generative job (what `nativegan eval modes` and
/// `nativegan eval mnist` run on a loaded checkpoint). Latents come from their own stream (seed given), never
/// the job's training stream, so evaluating does not change a resumed run.
/// </summary>
public static class GanEvaluation
{
    /// <summary>
    /// <paramref name="count"/> samples as host floats (sample after sample), from latents N(0, I) drawn with
    /// <paramref name="seed"/>, in chunks of <paramref name="chunk"/>. A conditional job gets the classes in turn
    /// (sample i has label i mod K) unless <paramref name="labels"/> are given. A <paramref name="truncation"/>
    /// above 0 draws the latents from N(0, I) truncated to [-truncation, truncation] per coordinate
    /// (<see cref="Rng.TruncatedNormal"/>): not the protocol's prior, so results must say so.
    /// </summary>
    public static float[] Sample(IGenerativeJob job, Device device, int count, ulong seed, int[]? labels = null, int chunk = 500, float truncation = 0)
    {
        if (job.ClassCount > 0) labels ??= Enumerable.Range(0, count).Select(i => i % job.ClassCount).ToArray();
        var rng = new Rng(seed);
        var result = new List<float>();
        for (int start = 0; start < count; start += chunk)
        {
            int n = Math.Min(chunk, count - start);
            using var z = Latents(rng, device, n, job.LatentSize, truncation);
            using var x = job.Generate(z, labels?[start..(start + n)]);
            result.AddRange(x.ToArray());
        }
        return [.. result];
    }

    /// <summary><paramref name="count"/> latents from N(0, I), or from it truncated to ±<paramref name="truncation"/> when that is above 0.</summary>
    public static Tensor Latents(Rng rng, Device device, int count, int latentSize, float truncation = 0) =>
        truncation > 0 ? rng.TruncatedNormal(device, [count, latentSize], truncation) : rng.Normal(device, [count, latentSize]);

    /// <summary>
    /// Mode coverage of a job trained on the mixture <paramref name="mixture"/> ("ring8"/"ring" or "grid25"/"grid"),
    /// on <paramref name="count"/> = 2,500 generated points as in PacGAN's Table 1.
    /// </summary>
    /// <param name="job">The trained job whose generator is sampled.</param>
    /// <param name="device">Where the points are generated.</param>
    /// <param name="mixture">"ring8"/"ring" or "grid25"/"grid".</param>
    /// <param name="count">How many points to generate.</param>
    /// <param name="seed">Seed of the latents.</param>
    /// <param name="truncation">Above 0: latents from N(0, I) truncated to ±truncation.</param>
    /// <param name="pointsCsv">Where to write the same points with their places as CSV (<see cref="ModeCoverage.WritePointsCsv"/>); null: nowhere.</param>
    public static ModeCoverageResult Modes(IGenerativeJob job, Device device, string mixture, int count = 2500, ulong seed = 0, float truncation = 0,
        string? pointsCsv = null)
    {
        if (count < 1) throw new ArgumentException($"eval modes: --count must be at least 1, got {count}");
        var (modes, std) = mixture.ToLowerInvariant() switch
        {
            "ring8" or "ring" => (ModeCoverage.RingModes(), ModeCoverage.RingStd),
            "grid25" or "grid" => (ModeCoverage.GridModes(), ModeCoverage.GridStd),
            _ => throw new ArgumentException($"eval modes: unknown mixture '{mixture}' (ring8 or grid25)"),
        };
        var points = Sample(job, device, count, seed, truncation: truncation);
        if (pointsCsv is not null) ModeCoverage.WritePointsCsv(pointsCsv, points, modes, std);
        return ModeCoverage.Evaluate(points, modes, std);
    }

    /// <summary>
    /// MNIST scores of <paramref name="count"/> generated digits with <paramref name="classifier"/>, the Fréchet
    /// distance taken against <paramref name="realTest"/> (the held-out digits).
    /// </summary>
    public static MnistScores Mnist(IGenerativeJob job, Device device, MnistClassifier classifier, Dataset realTest, int count = 10_000, ulong seed = 0, float truncation = 0) =>
        classifier.Score(Sample(job, device, count, seed, truncation: truncation), count, realTest);
}
