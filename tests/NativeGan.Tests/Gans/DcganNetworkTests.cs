using NativeGan;
using NativeGan.Gan.Data;
using NativeGan.Gan.Gans;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Tests.Gans;

/// <summary>
/// DCGAN's networks at the sides they take: 4 2^k (8, 16, 32, ...) and 7 2^k (14, 28, ...: MNIST at its own 28x28).
/// Every layer's output shape against the architecture written out by hand, a refusal naming the side for sides that
/// fit neither, and the judge of `eval mnist` seeing a 28x28 generator's digits exactly as it saw its own training
/// digits (padded to 32x32 with background).
/// </summary>
public class DcganNetworkTests
{
    /// <summary>Each layer's output [N, C, H, W] for a batch of 3 through <paramref name="network"/>.</summary>
    static List<int[]> LayerShapes(Sequential network, int[] input)
    {
        var shapes = new List<int[]>();
        using var _ = Autograd.NoGrad();
        Tensor x = Tensor.FromArray(Numerics.Random(new Random(1), input.Aggregate(1, (a, b) => a * b)), input, Device.Cpu);
        for (int i = 0; i < network.Count; i++)
        {
            var y = network[i].Forward(x);
            x.Dispose();
            x = y;
            shapes.Add(x.Shape.ToArray());
        }
        x.Dispose();
        return shapes;
    }

    [Theory]
    // side, base side, stages; then G's transposed convolutions' outputs [C, H, W] with g = 8 and one channel
    [InlineData(28, 7, 2, new[] { 16, 7, 7 }, new[] { 8, 14, 14 }, new[] { 1, 28, 28 })]
    [InlineData(14, 7, 1, new[] { 8, 7, 7 }, new[] { 1, 14, 14 })]
    [InlineData(32, 4, 3, new[] { 32, 4, 4 }, new[] { 16, 8, 8 }, new[] { 8, 16, 16 }, new[] { 1, 32, 32 })]
    [InlineData(8, 4, 1, new[] { 8, 4, 4 }, new[] { 1, 8, 8 })]
    public void GeneratorAndDiscriminatorHaveTheMirroredShapes(int side, int baseSide, int stages, params int[][] generatorMaps)
    {
        Assert.Equal((baseSide, stages), Dcgan.Split(side));
        var rng = new Rng(5);
        using var g = Dcgan.Generator(latent: 10, channels: 1, side, width: 8, Device.Cpu, rng);
        var gShapes = LayerShapes(g, [3, 10, 1, 1]);
        // Transposed convolution, batch norm, ReLU per stage; the last is followed by Tanh alone.
        var convOutputs = gShapes.Where((_, i) => i % 3 == 0).ToList();
        Assert.Equal(generatorMaps.Length, convOutputs.Count);
        for (int i = 0; i < generatorMaps.Length; i++) Assert.Equal([3, .. generatorMaps[i]], convOutputs[i]);
        Assert.Equal([3, 1, side, side], gShapes[^1]);
        Assert.IsType<NativeGan.Nn.ConvTranspose2d>(g[0]);

        using var d = Dcgan.Discriminator(channels: 1, side, width: 8, Device.Cpu, rng);
        var dShapes = LayerShapes(d, [3, 1, side, side]);
        // D's strided convolutions give G's maps in reverse (channels doubled from d = 8 instead of halved to 1).
        var dConvs = Enumerable.Range(0, d.Count).Where(i => d[i] is NativeGan.Nn.Conv2d).Select(i => dShapes[i]).ToList();
        for (int i = 0; i < stages; i++)
            Assert.Equal([3, 8 << i, side >> (i + 1), side >> (i + 1)], dConvs[i]);
        Assert.Equal([3, 8 << (stages - 1), baseSide, baseSide], dConvs[stages - 1]);
        Assert.Equal([3, 1, 1, 1], dShapes[^1]);
    }

    [Theory]
    [InlineData(24)]
    [InlineData(12)]
    [InlineData(30)]
    [InlineData(7)]
    [InlineData(4)]
    [InlineData(36)]
    public void SidesThatFitNeitherAreRefusedByName(int side)
    {
        Assert.False(Dcgan.IsSide(side));
        var e = Assert.Throws<ArgumentException>(() => Dcgan.Generator(10, 1, side, 8, Device.Cpu, new Rng(1)));
        Assert.Contains($"got {side}", e.Message);
        Assert.Contains("DCGAN", e.Message);
        // The job's options refuse the data shape before any network is built, naming the kind and the shape.
        var kind = ModelKinds.Find("dcgan");
        var refused = Assert.Throws<ArgumentException>(() => kind.Options(new DataFacts([1, side, side], 0), new Dictionary<string, string>()));
        Assert.Contains($"1x{side}x{side}", refused.Message);
        Assert.StartsWith("dcgan", refused.Message);
    }

    [Fact]
    public void A28By28JobTrainsAStepAndSamplesItsSide()
    {
        var kind = ModelKinds.Find("dcgan");
        var settings = new Dictionary<string, string> { ["g_width"] = "4", ["d_width"] = "4", ["latent"] = "6" };
        var options = kind.Options(new DataFacts([1, 28, 28], 0), settings) with { Seed = 3 };
        using var job = kind.Create(options, Device.Cpu);
        using var real = new Rng(2).Uniform(Device.Cpu, [4, 1, 28, 28], -1f, 1f);
        using var batch = new Batch(real.Share(), null, 0, 0);
        var losses = job.Step(batch, 0);
        Assert.All(losses.Values, v => Assert.True(float.IsFinite(v)));
        var samples = GanEvaluation.Sample((IGenerativeJob)job, Device.Cpu, 5, seed: 0);
        Assert.Equal(5 * 28 * 28, samples.Length);
    }

    [Fact]
    public void TheJudgeSeesA28By28DigitAsTheSameDigitPaddedTo32()
    {
        // Digit-like images at 28x28 (strokes in [-1, 1] on a -1 background); the loader pads such digits to 32x32 for
        // the judge. FitToJudge must give the judge those very floats, so every score is the same.
        var rng = new Random(7);
        int count = 40;
        var digits = new float[count * 28 * 28];
        for (int i = 0; i < digits.Length; i++)
        {
            int y = i / 28 % 28, x = i % 28;
            digits[i] = y is > 4 and < 24 && x is > 6 and < 22 && rng.NextDouble() < 0.4 ? (float)(rng.NextDouble() * 2 - 1) : -1f;
        }
        var at28 = new Dataset("digits", digits, [1, 28, 28], null, 0);
        var at32 = Transforms.PadTo(at28, 32);
        using var judge = new MnistClassifier([1, 32, 32], 10, Device.Cpu, seed: 1);

        var fitted = judge.FitToJudge(digits, [1, 28, 28], count);
        Assert.Equal(at32.Data, fitted);
        // The border is background and the digit sits in the middle (2 pixels each side), as PadTo puts it.
        Assert.Equal(-1f, fitted[0]);
        Assert.Equal(digits[10 * 28 + 12], fitted[(10 + 2) * 32 + 12 + 2]);
        var scoresOfPadded = judge.Score(at32.Data, count, at32);
        var scoresOf28 = judge.Score(fitted, count, at32);
        Assert.Equal(scoresOfPadded.InceptionScore, scoresOf28.InceptionScore);
        Assert.Equal(scoresOfPadded.FrechetDistance, scoresOf28.FrechetDistance);

        // The judge's own shape passes through; shapes it cannot take are refused, naming both.
        Assert.Same(at32.Data, judge.FitToJudge(at32.Data, [1, 32, 32], count));
        var larger = Assert.Throws<ArgumentException>(() => judge.FitToJudge(new float[2 * 36 * 36], [1, 36, 36], 2));
        Assert.Contains("[1, 36, 36]", larger.Message);
        Assert.Contains("[1, 32, 32]", larger.Message);
        Assert.Throws<ArgumentException>(() => judge.FitToJudge(new float[2 * 3 * 28 * 28], [3, 28, 28], 2));
        Assert.Throws<ArgumentException>(() => judge.FitToJudge(digits, [1, 28, 28], count + 1));
    }
}
