using NativeGan.Gan.Data;
using NativeGan.Gan.Pretrained;
using NativeGan.Gan.Training;

namespace NativeGan.Gan.Metrics;

/// <summary>What <see cref="PerceptualEvaluation.Evaluate"/> measures: generated against real, and real against other real.</summary>
/// <param name="Generated">Real set A (the reference) against the generated samples.</param>
/// <param name="RealVsReal">Real set A against a disjoint real set B of the same size: the floor the generated scores
/// approach (FID-R18 and KID-R18 are not 0 between two finite samples of one distribution).</param>
/// <param name="FeatureSeconds">Seconds spent computing ResNet-18 features.</param>
/// <param name="Images">Images run through ResNet-18.</param>
public sealed record PerceptualReport(PerceptualScores Generated, PerceptualScores RealVsReal, double FeatureSeconds, int Images);

/// <summary>
/// FID-R18, KID-R18 and precision / recall of a generator against a real image set, in ResNet-18's pooled features
/// (<see cref="ResNet18"/>), with the same figures between two disjoint halves of the real set beside them. The names
/// carry "R18" everywhere: these are not Inception-v3 FIDs, and the numbers are not comparable with published ones.
/// </summary>
public static class PerceptualEvaluation
{
    /// <summary>
    /// <paramref name="count"/> generated images (latents from <paramref name="seed"/>) against <paramref name="count"/>
    /// real images, and those real images against <paramref name="count"/> others; the real images are drawn without
    /// replacement from <paramref name="real"/> by a seeded shuffle, so it needs at least 2 x count images.
    /// <paramref name="progress"/> gets the images run through ResNet-18 so far and the total (3 x count).
    /// </summary>
    public static PerceptualReport Evaluate(IGenerativeJob job, Dataset real, ResNet18 net, Device device, int count, ulong seed = 0,
        float truncation = 0, int batch = 16, int kidSubsets = 100, int k = 3, Action<int, int>? progress = null)
    {
        if (!real.IsImage) throw new ArgumentException($"eval fid: {real.Name} holds samples of shape [{string.Join(", ", real.SampleShape)}], not images");
        if (count < 2 * Math.Max(2, k) - 1 || 2 * count > real.Count)
            throw new ArgumentException($"eval fid: --count {count} needs 2 x {count} real images (the real-vs-real pair) and more than k = {k}; {real.Name} has {real.Count}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        var generated = GanEvaluation.Sample(job, device, count, seed, truncation: truncation);
        int[] shape = real.SampleShape;
        if (generated.Length != count * real.SampleSize)
            throw new ArgumentException($"eval fid: the generator makes samples of {generated.Length / count} values, the real images are [{string.Join(", ", shape)}] ({real.SampleSize}); give --data at the size the model was trained on");
        var order = Enumerable.Range(0, real.Count).ToArray();
        var rng = new SplitMix64(SplitMix64.Derive(seed, 0x46494452)); // "FIDR": the real draw's own stream
        rng.Shuffle<int>(order);
        float[] Take(int from) => [.. order[from..(from + count)].SelectMany(i => real.Data.AsSpan(i * real.SampleSize, real.SampleSize).ToArray())];
        var realA = Take(0);
        var realB = Take(count);

        clock.Restart();
        float[] Features(int set, float[] images) =>
            net.FeaturesOf(images, count, shape, device, batch, done => progress?.Invoke(set * count + done, 3 * count));
        var fGenerated = Features(0, generated);
        var fRealA = Features(1, realA);
        var fRealB = Features(2, realB);
        double seconds = clock.Elapsed.TotalSeconds;
        // Subsets of half the samples (at most 1,000): subsets as large as the sets would all be the whole set, and
        // their spread, the ± of KID, would say nothing.
        int subsetSize = Math.Min(1000, Math.Max(2, count / 2));
        return new(
            PerceptualMetrics.Compare(fRealA, fGenerated, ResNet18.Dimension, kidSubsets, subsetSize, k, seed),
            PerceptualMetrics.Compare(fRealA, fRealB, ResNet18.Dimension, kidSubsets, subsetSize, k, seed),
            seconds, 3 * count);
    }
}
