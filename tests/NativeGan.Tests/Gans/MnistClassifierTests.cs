using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// The classifier-based metrics end to end on a tiny synthetic digit set (4 classes of 1x8x8 images: a bright
/// quadrant each, plus noise): the classifier learns it, its own test data scores an Inception Score near the
/// class count with every class present, pure noise scores lower, and the Fréchet distance of the test set to
/// itself is 0 and to noise is large.
/// </summary>
public class MnistClassifierTests
{
    static Dataset Quadrants(int count, int seed)
    {
        var rng = new Random(seed);
        var data = new float[count * 64];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int k = i % 4;
            labels[i] = k;
            for (int y = 0; y < 8; y++)
                for (int x = 0; x < 8; x++)
                {
                    bool on = (y < 4) == (k < 2) && (x < 4) == (k % 2 == 0);
                    data[i * 64 + y * 8 + x] = (on ? 0.8f : -0.8f) + 0.3f * (rng.NextSingle() - 0.5f);
                }
        }
        return new Dataset("quadrants", data, [1, 8, 8], labels, 4);
    }

    [Fact]
    public void LearnsTinyDigitsAndScoresThem()
    {
        using var classifier = new MnistClassifier([1, 8, 8], 4, Device.Cpu, seed: 1);
        var train = Quadrants(256, 1);
        var test = Quadrants(100, 2);
        double loss = classifier.Train(train, epochs: 3, batchSize: 32, learningRate: 3e-3f);
        Assert.True(loss < 0.2, $"final training loss {loss}");
        Assert.True(classifier.Accuracy(test) > 0.95);

        var own = classifier.Score(test.Data, test.Count, test);
        Assert.InRange(own.InceptionScore, 3.5, 4.0); // 4 confident, even classes would give exactly 4
        Assert.Equal(4, own.Classes.ClassesPresent);
        // The same features on both sides: 0 up to rounding. 100 samples of 128 features give a singular covariance
        // (rank <= 99, dead ReLU features), whose square root amplifies rounding: measured -2.3e-5.
        Assert.InRange(own.FrechetDistance, -1e-3, 1e-3);

        var noise = Numerics.Random(new Random(3), 100 * 64);
        var scored = classifier.Score(noise, 100, test);
        Assert.True(scored.InceptionScore < own.InceptionScore - 0.5, $"noise IS {scored.InceptionScore} vs test {own.InceptionScore}");
        Assert.True(scored.FrechetDistance > 1.0, $"noise FD {scored.FrechetDistance}");
    }

    [Fact]
    public void SaveLoadRoundTripsPredictions()
    {
        using var classifier = new MnistClassifier([1, 8, 8], 4, Device.Cpu, seed: 2);
        var test = Quadrants(8, 4);
        var path = Path.Combine(Path.GetTempPath(), $"classifier-{Environment.ProcessId}.safetensors");
        try
        {
            classifier.Save(path);
            using var loaded = MnistClassifier.Load(path);
            Assert.Equal(classifier.Evaluate(test.Data, 8).Probabilities, loaded.Evaluate(test.Data, 8).Probabilities);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void EpochsAreCountedSavedAndLoaded()
    {
        using var classifier = new MnistClassifier([1, 8, 8], 4, Device.Cpu, seed: 3);
        Assert.Equal(0, classifier.Epochs);
        var train = Quadrants(40, 5);
        classifier.Train(train, epochs: 2, batchSize: 16);
        classifier.Train(train, epochs: 1, batchSize: 16);
        Assert.Equal(3, classifier.Epochs); // training continues: the count is cumulative
        var path = Path.Combine(Path.GetTempPath(), $"classifier-epochs-{Environment.ProcessId}.safetensors");
        try
        {
            classifier.Save(path);
            using (var loaded = MnistClassifier.Load(path)) Assert.Equal(3, loaded.Epochs);

            // A file from before the count was recorded loads, and says it does not know.
            var (tensors, meta) = Safetensors.Load(path);
            meta.Remove("epochs");
            Safetensors.Save(path, tensors, meta);
            foreach (var t in tensors.Values) t.Dispose();
            using var old = MnistClassifier.Load(path);
            Assert.Null(old.Epochs);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ReportsEveryBatchOfTheWholeRun()
    {
        // 40 samples in batches of 16: two full batches an epoch (the last 8 wait for the next shuffle), 2 epochs.
        using var classifier = new MnistClassifier([1, 8, 8], 4, Device.Cpu, seed: 3);
        var reports = new List<(long Done, long Total)>();
        classifier.Train(Quadrants(40, 5), epochs: 2, batchSize: 16, batches: (done, total) => reports.Add((done, total)));
        Assert.Equal([(1L, 4L), (2L, 4L), (3L, 4L), (4L, 4L)], reports);
    }

    [Fact]
    public void CrossEntropyMatchesFloat64()
    {
        float[] logits = [1f, -2f, 0.5f, 3f, 0f, -1f];
        using var t = Tensor.FromArray(logits, [2, 3], Device.Cpu);
        using var scope = new TensorScope();
        var loss = Losses.CrossEntropy(t, [2, 0]).Item();
        double Lse(int r) => Math.Log(Enumerable.Range(0, 3).Sum(j => Math.Exp(logits[r * 3 + j])));
        double expected = -((0.5 - Lse(0)) + (3 - Lse(1))) / 2;
        Assert.Equal(expected, loss, 5);
    }
}
