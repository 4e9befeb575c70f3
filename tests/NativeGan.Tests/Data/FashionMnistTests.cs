using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class FashionMnistTests
{
    /// <summary>Fetched from Debian into the data cache (31 MB, once): the published split, 6,000 training and 1,000 test
    /// images of each of the 10 classes (Xiao et al. 2017), padded to 32x32 like MNIST, in [-1, 1].</summary>
    [Fact]
    public void Fashion_mnist_has_the_published_split()
    {
        var options = new DataOptions(ImageSize: 32);
        var train = DataSource.Load("fashion", options);
        var test = DataSource.Load("fashion-test", options);
        Assert.Equal((60_000, 10_000), (train.Count, test.Count));
        Assert.Equal([1, 32, 32], train.SampleShape);
        Assert.Equal(10, train.ClassCount);
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(6_000, train.Labels!.Count(l => l == c)));
        Assert.All(Enumerable.Range(0, 10), c => Assert.Equal(1_000, test.Labels!.Count(l => l == c)));
        Assert.Equal(-1f, train.Data.Min());
        Assert.Equal(1f, train.Data.Max());
        // The 2-pixel border added around the 28x28 images is background.
        Assert.All(Enumerable.Range(0, 32), x => Assert.Equal(-1f, train.Data[x]));
        Assert.Equal(10, FashionMnist.Classes.Count);
    }
}
