using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The DCGAN networks of Radford et al. (2016), built from <see cref="NativeGan.Nn"/> modules for square images
/// of side b 2^L with a base side b of 4 or 7 and L >= 1 stages: 8, 16, 32, 64, ... (32 for MNIST padded to 32x32,
/// 64 for image folders) or 14, 28, 56, ... (28: MNIST at its own size) and any channel count.
/// <para>Generator: z [N, latent, 1, 1] -> a b x b transposed convolution to (g 2^(L-1)) x b x b -> batch norm ->
/// ReLU -> L-1 more stride-2 transposed convolutions (4x4 kernels, padding 1), each halving the channels and
/// doubling the side, batch norm and ReLU -> the last one to C x side x side -> Tanh
/// (side 32: 256x4x4, 128x8x8, 64x16x16, 1x32x32 with g = 64; side 28: 128x7x7, 64x14x14, 1x28x28).</para>
/// <para>Discriminator: the mirror: stride-2 4x4 convolutions C -> d -> 2d -> ... -> d 2^(L-1) at b x b,
/// LeakyReLU 0.2, normalisation on all but the first, then a b x b convolution to one logit [N, 1, 1, 1].</para>
/// <para>Side 28 has one stage fewer than 32 (no 4x4 layer, and the others at 7, 14 instead of 8, 16): about 40% of
/// side 32's multiply-adds a step at the same widths.</para>
/// Convolutions carry no bias (batch norm's shift plays its part), weights from N(0, 0.02) and batch-norm scales
/// from N(1, 0.02), as in the paper's reference code; every draw comes from the given <see cref="Rng"/>.
/// </summary>
public static class Dcgan
{
    /// <summary>The sides the networks can have, for messages.</summary>
    public const string SidesText = "4 2^k or 7 2^k with k >= 1 (8, 14, 16, 28, 32, 56, 64, ...)";

    /// <summary>Whether <paramref name="side"/> is b 2^L with b 4 or 7 and L >= 1.</summary>
    public static bool IsSide(int side) => TrySplit(side, out _, out _);

    /// <summary>Upsampling stages for a square image side (side 32: 3; 64: 4; 28: 2); throws for a side that is not
    /// 4 2^k or 7 2^k with k >= 1.</summary>
    public static int Stages(int side) => Split(side).Stages;

    /// <summary>The side of the first (generator) and last (discriminator) feature maps, 4 or 7, and the stride-2
    /// stages from there to <paramref name="side"/>; throws, naming the side, for one that fits neither.</summary>
    public static (int BaseSide, int Stages) Split(int side) => TrySplit(side, out int b, out int stages) ? (b, stages)
        : throw new ArgumentException($"DCGAN: the image side must be {SidesText}, got {side}");

    static bool TrySplit(int side, out int baseSide, out int stages)
    {
        (baseSide, stages) = (0, 0);
        if (side < 8 || side % 2 != 0) return false;
        int s = side, l = 0;
        while (s % 2 == 0 && s > 7) { s /= 2; l++; }
        if (s != 4 && s != 7) return false;
        (baseSide, stages) = (s, l);
        return true;
    }

    /// <summary>The generator for images [channels, side, side] from z [N, latent, 1, 1].</summary>
    public static Sequential Generator(int latent, int channels, int side, int width, Device device, Rng rng)
    {
        var (baseSide, stages) = Split(side);
        var layers = new List<Module>();
        int c = width << (stages - 1);
        layers.Add(new Nn.ConvTranspose2d(latent, c, baseSide, bias: false, device: device));
        layers.Add(new Nn.BatchNorm2d(c, device: device));
        layers.Add(new ReLU());
        for (int s = 1; s < stages; s++)
        {
            layers.Add(new Nn.ConvTranspose2d(c, c / 2, 4, stride: 2, padding: 1, bias: false, device: device));
            c /= 2;
            layers.Add(new Nn.BatchNorm2d(c, device: device));
            layers.Add(new ReLU());
        }
        layers.Add(new Nn.ConvTranspose2d(c, channels, 4, stride: 2, padding: 1, bias: false, device: device));
        layers.Add(new Tanh());
        var g = new Sequential([.. layers]);
        InitWeights(g, rng);
        return g;
    }

    /// <summary>
    /// The discriminator (critic) for images [channels, side, side], giving one logit (score) per image,
    /// [N, 1, 1, 1]. <paramref name="beforeLogit"/>, when given, runs on the last feature maps (4x4, or 7x7 for sides 7 2^k) and adds
    /// <paramref name="beforeLogitExtraChannels"/> channels (the minibatch standard-deviation feature).
    /// </summary>
    public static Sequential Discriminator(int channels, int side, int width, Device device, Rng rng,
        CriticNorm norm = CriticNorm.Batch, Module? beforeLogit = null, int beforeLogitExtraChannels = 0)
    {
        var (baseSide, stages) = Split(side);
        var layers = new List<Module>();
        int c = width;
        layers.Add(new Nn.Conv2d(channels, c, 4, stride: 2, padding: 1, bias: norm == CriticNorm.None, device: device));
        layers.Add(new LeakyReLU(0.2f));
        for (int s = 1; s < stages; s++)
        {
            layers.Add(new Nn.Conv2d(c, c * 2, 4, stride: 2, padding: 1, bias: norm == CriticNorm.None, device: device));
            c *= 2;
            if (norm == CriticNorm.Batch) layers.Add(new Nn.BatchNorm2d(c, device: device));
            if (norm == CriticNorm.Instance) layers.Add(new Nn.InstanceNorm2d(c, affine: true, device: device));
            layers.Add(new LeakyReLU(0.2f));
        }
        if (beforeLogit is not null) layers.Add(beforeLogit);
        layers.Add(new Nn.Conv2d(c + beforeLogitExtraChannels, 1, baseSide, bias: true, device: device));
        var d = new Sequential([.. layers]);
        InitWeights(d, rng);
        return d;
    }

    /// <summary>The paper's initialisation: convolution weights N(0, 0.02), norm scales N(1, 0.02), shifts and biases 0.</summary>
    public static void InitWeights(Module network, Rng rng)
    {
        foreach (var (name, p) in network.NamedParameters())
        {
            bool isNormScale = p.Rank == 1 && name.EndsWith(".weight", StringComparison.Ordinal);
            if (p.Rank == 4) Init.Normal(p, 0f, 0.02f, rng);
            else if (isNormScale) Init.Normal(p, 1f, 0.02f, rng);
            else if (p.Rank == 1) Elementwise.Fill(p, 0f);
            else Init.Normal(p, 0f, 0.02f, rng);
        }
    }
}
