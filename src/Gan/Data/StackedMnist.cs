namespace NativeGan.Gan.Data;

/// <summary>
/// Stacked MNIST (Metz et al. 2017, "Unrolled GANs"; VEEGAN and PacGAN's mode-collapse benchmark): three MNIST digits
/// drawn independently and uniformly, stacked as the R, G and B channels of one image, so the data has 10³ = 1,000 modes
/// (label 100 · R + 10 · G + B). Built from any single-channel digit set (the full MNIST's 60,000 for
/// <c>--data stacked-mnist</c>) with a seeded SplitMix64, so every run and test sees the same images.
/// </summary>
public static class StackedMnist
{
    /// <summary>The number of modes: every triple of digit classes.</summary>
    public const int ModeCount = 1000;

    /// <summary>The default number of stacked images (as many as the digits they come from).</summary>
    public const int DefaultCount = 60_000;

    /// <summary>
    /// <paramref name="count"/> images [3, H, W] from <paramref name="digits"/> (1 channel, labelled 0-9): image i's channel
    /// k is digit <c>r_ik</c>, the r drawn uniformly by SplitMix64 from <paramref name="seed"/>; labels are the triples' modes.
    /// </summary>
    public static Dataset Build(Dataset digits, int count = DefaultCount, ulong seed = 0)
    {
        if (!digits.IsImage || digits.SampleShape[0] != 1 || digits.Labels is null || digits.ClassCount != 10)
            throw new DataException($"stacked-mnist: needs labelled single-channel digits of 10 classes, got {digits.Name} ({string.Join("x", digits.SampleShape)}, {digits.ClassCount} classes)");
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "stacked-mnist: count must be at least 1");
        int plane = digits.SampleSize;
        var data = new float[(long)count * 3 * plane];
        var labels = new int[count];
        var rng = new SplitMix64(SplitMix64.Derive(seed, 0x57AC));
        for (int i = 0; i < count; i++)
        {
            int mode = 0;
            for (int k = 0; k < 3; k++)
            {
                int source = (int)(rng.NextUInt64() % (ulong)digits.Count);
                Array.Copy(digits.Data, (long)source * plane, data, ((long)i * 3 + k) * plane, plane);
                mode = mode * 10 + digits.Labels[source];
            }
            labels[i] = mode;
        }
        return new Dataset($"stacked-mnist ({count:N0} images of three digits from {digits.Name})", data, [3, .. digits.SampleShape[1..]], labels, ModeCount);
    }
}
