using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class TransformsTests
{
    static Dataset Images(int n, int c, int h, int w, int seed) =>
        new("test", Numerics.Random(new Random(seed), n * c * h * w), [c, h, w], null, 0);

    [Fact]
    public void PadTo_centers_the_image_in_background()
    {
        var data = Images(2, 1, 28, 28, 1);
        var padded = Transforms.PadTo(data, 32);
        Assert.Equal([1, 32, 32], padded.SampleShape);
        Assert.Equal(2, padded.Count);
        for (int n = 0; n < 2; n++)
            for (int y = 0; y < 32; y++)
                for (int x = 0; x < 32; x++)
                {
                    bool inside = y is >= 2 and < 30 && x is >= 2 and < 30;
                    float expected = inside ? data.Data[(n * 28 + y - 2) * 28 + x - 2] : -1f;
                    Assert.Equal(expected, padded.Data[(n * 32 + y) * 32 + x]);
                }
    }

    [Fact]
    public void Resize_averages_areas_when_shrinking_and_interpolates_when_growing()
    {
        var data = Images(1, 3, 6, 6, 2);
        var half = Transforms.Resize(data, 3);
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < 3; y++)
                for (int x = 0; x < 3; x++)
                {
                    double mean = 0;
                    for (int dy = 0; dy < 2; dy++)
                        for (int dx = 0; dx < 2; dx++) mean += data.Data[(c * 6 + 2 * y + dy) * 6 + 2 * x + dx] / 4.0;
                    Assert.Equal(mean, half.Data[(c * 3 + y) * 3 + x], 5);
                }

        // growing 2 -> 4, align_corners=False: output 1 sits at input 0.25
        var tiny = new Dataset("t", [0f, 1f, 2f, 3f], [1, 2, 2], null, 0);
        var big = Transforms.Resize(tiny, 4);
        Assert.Equal(0f, big.Data[0]);                 // clamped corner
        Assert.Equal(0.25f, big.Data[1], 6);           // between 0 and 1 along x
        Assert.Equal(3f, big.Data[15]);
        Assert.Equal(0.25f * 2 + 0.25f * 1, big.Data[5], 5); // (0.25, 0.25): 0 + 0.25*1 + 0.25*2

        // a constant image stays constant at any size
        var flat = new Dataset("f", Enumerable.Repeat(0.3f, 7 * 5).ToArray(), [1, 7, 5], null, 0);
        Assert.All(Transforms.Resize(flat, 3).Data, v => Assert.Equal(0.3f, v, 5));
        Assert.All(Transforms.Resize(flat, 11).Data, v => Assert.Equal(0.3f, v, 5));
    }

    [Fact]
    public void ToChannels_repeats_gray_and_takes_luma()
    {
        var gray = Images(2, 1, 3, 3, 3);
        var rgb = Transforms.ToChannels(gray, 3);
        Assert.Equal([3, 3, 3], rgb.SampleShape);
        Assert.Equal(gray.Data[9 + 4], rgb.Data[27 + 2 * 9 + 4]);
        var back = Transforms.ToChannels(rgb, 1);
        Assert.Equal([1, 3, 3], back.SampleShape);
        for (int i = 0; i < gray.Data.Length; i++) Assert.Equal(gray.Data[i], back.Data[i], 5);
    }

    [Fact]
    public void Points_are_not_images()
    {
        var e = Assert.Throws<ArgumentException>(() => Transforms.PadTo(Mixtures2D.Ring(10), 32));
        Assert.Contains("PadTo", e.Message);
    }
}
