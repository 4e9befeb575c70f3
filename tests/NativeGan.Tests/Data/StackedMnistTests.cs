using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;

namespace NativeGan.Tests.Data;

/// <summary>Stacked MNIST's images and labels, and its mode count and KL on hand-made histograms.</summary>
public class StackedMnistTests
{
    /// <summary>Twenty 2x3 "digits" whose every pixel is the digit's index, labelled index mod 10.</summary>
    static Dataset Digits()
    {
        var data = new float[20 * 6];
        for (int i = 0; i < 20; i++) Array.Fill(data, i, i * 6, 6);
        return new Dataset("hand-made", data, [1, 2, 3], [.. Enumerable.Range(0, 20).Select(i => i % 10)], 10);
    }

    [Fact]
    public void Each_channel_is_a_whole_digit_and_the_label_names_the_triple()
    {
        var stacked = StackedMnist.Build(Digits(), count: 50, seed: 4);
        Assert.Equal([3, 2, 3], stacked.SampleShape);
        Assert.Equal(50, stacked.Count);
        Assert.Equal(1000, stacked.ClassCount);
        var sources = new HashSet<int>();
        for (int i = 0; i < 50; i++)
        {
            int mode = 0;
            for (int k = 0; k < 3; k++)
            {
                var plane = stacked.Data.AsSpan((i * 3 + k) * 6, 6).ToArray();
                Assert.All(plane, v => Assert.Equal(plane[0], v)); // one digit per channel, copied whole
                sources.Add((int)plane[0]);
                mode = mode * 10 + (int)plane[0] % 10;
            }
            Assert.Equal(mode, stacked.Labels![i]);
        }
        Assert.True(sources.Count >= 15, $"150 draws from 20 digits reached only {sources.Count} of them");
        Assert.Equal(stacked.Data, StackedMnist.Build(Digits(), count: 50, seed: 4).Data);
        Assert.NotEqual(stacked.Data, StackedMnist.Build(Digits(), count: 50, seed: 5).Data);
        var rgb = Digits() with { SampleShape = [3, 1, 2], Data = new float[120] };
        Assert.Contains("single-channel", Assert.Throws<DataException>(() => StackedMnist.Build(rgb)).Message);
    }

    [Fact]
    public void Modes_and_KL_from_uniform_on_hand_made_histograms()
    {
        var one = StackedMnistModes.Of(Enumerable.Repeat(123, 40).ToArray());
        Assert.Equal(1, one.Modes);
        Assert.Equal(Math.Log(1000), one.ReverseKl, 12);
        var every = StackedMnistModes.Of([.. Enumerable.Range(0, 2000).Select(i => i % 1000)]);
        Assert.Equal(1000, every.Modes);
        Assert.Equal(0, every.ReverseKl, 12);
        // Two modes, 3:1: KL = 0.75 ln(0.75 · 1000) + 0.25 ln(0.25 · 1000).
        var two = StackedMnistModes.Of([7, 7, 7, 999]);
        Assert.Equal(2, two.Modes);
        Assert.Equal(0.75 * Math.Log(750) + 0.25 * Math.Log(250), two.ReverseKl, 12);
        Assert.Equal(3, two.PerMode[7]);
        Assert.Throws<ArgumentOutOfRangeException>(() => StackedMnistModes.Of([1000]));
    }
}
