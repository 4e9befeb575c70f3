using NativeGan.Gan.Data;

namespace NativeGan.Gan.Metrics;

/// <summary>What <see cref="StackedMnistModes.Count"/> finds in a set of stacked-MNIST images.</summary>
/// <param name="Modes">Modes (digit triples) with at least one image, of <see cref="StackedMnist.ModeCount"/>.</param>
/// <param name="ReverseKl">KL(generated mode histogram || uniform over the 1,000 modes) in nats: 0 for a perfectly even
/// spread, ln 1000 = 6.91 for a single mode. The empty modes add nothing (0 log 0 = 0).</param>
/// <param name="Images">How many images were classified.</param>
/// <param name="PerMode">Images per mode (index 100 · R + 10 · G + B).</param>
public sealed record StackedMnistResult(int Modes, double ReverseKl, int Images, int[] PerMode)
{
    public override string ToString() => $"modes {Modes}/{StackedMnist.ModeCount}, KL {ReverseKl:0.000} ({Images:N0} images)";
}

/// <summary>
/// Stacked MNIST's mode count and KL (VEEGAN, Srivastava et al. 2017, section 5.2; PacGAN, Lin et al. 2018, Table 2):
/// every channel of every image is classified by an MNIST classifier, the three predicted digits name the image's mode,
/// and the histogram of modes over the images (26,000 in PacGAN) gives the number of modes reached and the KL divergence
/// of that histogram from the uniform one. The classifier is the project's (<see cref="MnistClassifier"/>, trained on
/// MNIST digits), not the papers', so figures near the papers' are comparable in kind, not to the digit.
/// </summary>
public static class StackedMnistModes
{
    /// <summary>PacGAN's sample count.</summary>
    public const int DefaultCount = 26_000;

    /// <summary>The mode of each of <paramref name="count"/> images [3, S, S] in <paramref name="images"/>.</summary>
    public static int[] Classify(MnistClassifier classifier, float[] images, int count)
    {
        if (classifier.SampleShape[0] != 1) throw new ArgumentException($"StackedMnistModes: the classifier must take one channel, it takes {Shapes.Format(classifier.SampleShape)}");
        int plane = classifier.SampleShape.Aggregate(1, (a, b) => a * b);
        if (images.Length != (long)count * 3 * plane)
            throw new ArgumentException($"StackedMnistModes: expected {count} images of 3 x {Shapes.Format(classifier.SampleShape[1..])} = {(long)count * 3 * plane} floats, got {images.Length}");
        // The channels as separate digits: image i's channel k is digit 3i + k.
        var (probs, _) = classifier.Evaluate(images, 3 * count);
        var digits = InceptionScore.Predictions(probs, classifier.ClassCount);
        var modes = new int[count];
        for (int i = 0; i < count; i++) modes[i] = 100 * digits[3 * i] + 10 * digits[3 * i + 1] + digits[3 * i + 2];
        return modes;
    }

    /// <summary>Modes reached and the KL from uniform of a list of modes (0..999).</summary>
    public static StackedMnistResult Of(IReadOnlyList<int> modes)
    {
        var perMode = new int[StackedMnist.ModeCount];
        foreach (var m in modes)
        {
            if (m < 0 || m >= StackedMnist.ModeCount) throw new ArgumentOutOfRangeException(nameof(modes), m, "StackedMnistModes: a mode lies in 0..999");
            perMode[m]++;
        }
        double kl = 0;
        foreach (var c in perMode)
        {
            if (c == 0) continue;
            double p = (double)c / modes.Count;
            kl += p * Math.Log(p * StackedMnist.ModeCount);
        }
        return new StackedMnistResult(perMode.Count(c => c > 0), modes.Count == 0 ? double.NaN : kl, modes.Count, perMode);
    }

    /// <summary>The modes of <paramref name="count"/> images classified channel by channel.</summary>
    public static StackedMnistResult Count(MnistClassifier classifier, float[] images, int count) => Of(Classify(classifier, images, count));
}
