using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// The DCGAN networks of Radford et al. (2016), built from <see cref="NativeGan.Nn"/> modules for square images
/// of side 2^k (32 for MNIST padded to 32x32, 64 for image folders) and any channel count.
/// <para>Generator: z [N, latent, 1, 1] -> a 4x4 transposed convolution to (g 2^(L-1)) x 4 x 4 -> batch norm ->
/// ReLU -> L-1 more stride-2 transposed convolutions (4x4 kernels, padding 1), each halving the channels and
/// doubling the side, batch norm and ReLU -> the last one to C x side x side -> Tanh, where L = log2(side) - 2
/// (side 32: 256x4x4, 128x8x8, 64x16x16, 1x32x32 with g = 64).</para>
/// <para>Discriminator: the mirror: stride-2 4x4 convolutions C -> d -> 2d -> ... -> d 2^(L-1) at 4x4,
/// LeakyReLU 0.2, normalisation on all but the first, then a 4x4 convolution to one logit [N, 1, 1, 1].</para>
/// Convolutions carry no bias (batch norm's shift plays its part), weights from N(0, 0.02) and batch-norm scales
/// from N(1, 0.02), as in the paper's reference code; every draw comes from the given <see cref="Rng"/>.
/// </summary>
public static class Dcgan
{
    /// <summary>Upsampling stages for a square image side (side 32: 3; 64: 4); throws for a side that is not 2^k >= 8.</summary>
    public static int Stages(int side)
    {
        if (side < 8 || (side & (side - 1)) != 0)
            throw new ArgumentException($"DCGAN: the image side must be a power of two of at least 8, got {side}");
        return System.Numerics.BitOperations.Log2((uint)side) - 2;
    }

    /// <summary>The generator for images [channels, side, side] from z [N, latent, 1, 1].</summary>
    public static Sequential Generator(int latent, int channels, int side, int width, Device device, Rng rng)
    {
        int stages = Stages(side);
        var layers = new List<Module>();
        int c = width << (stages - 1);
        layers.Add(new Nn.ConvTranspose2d(latent, c, 4, bias: false, device: device));
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
    /// [N, 1, 1, 1]. <paramref name="beforeLogit"/>, when given, runs on the last 4x4 feature maps and adds
    /// <paramref name="beforeLogitExtraChannels"/> channels (the minibatch standard-deviation feature).
    /// </summary>
    public static Sequential Discriminator(int channels, int side, int width, Device device, Rng rng,
        CriticNorm norm = CriticNorm.Batch, Module? beforeLogit = null, int beforeLogitExtraChannels = 0)
    {
        int stages = Stages(side);
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
        layers.Add(new Nn.Conv2d(c + beforeLogitExtraChannels, 1, 4, bias: true, device: device));
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
