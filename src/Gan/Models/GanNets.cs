using NativeGan.Nn;

namespace NativeGan.Gan.Models;

/// <summary>
/// The networks of the GAN family, built from a <see cref="Training.JobConfig"/>. For 2D points they are the PacGAN
/// networks (Lin et al. 2018, appendix): a generator of <c>g_widths</c> = 400,400,400,400 fully connected
/// units with batch norm and ReLU, from a 2-d Gaussian z to (x, y); a discriminator of <c>d_widths</c> =
/// 200,200,200 maxout units with <c>d_pieces</c> = 5 pieces and one linear output (a logit, or a critic score).
/// For images, <c>arch</c> = conv (the default for square images of side 2^k >= 8) takes the DCGAN networks of
/// <see cref="Dcgan"/>; <c>arch</c> = mlp makes multilayer perceptrons (generator ending in tanh, reshaped to
/// [C, H, W]; discriminator on the flattened image with LeakyReLU 0.2 when <c>d_pieces</c> = 1).
/// </summary>
public static class GanNets
{
    /// <summary>
    /// z (plus a one-hot label for a conditional model: <paramref name="inputs"/> = latent + classes) through
    /// Linear, BatchNorm1d, ReLU per width, then Linear to <paramref name="sampleShape"/>'s size, tanh for images.
    /// </summary>
    public static Sequential MlpGenerator(int inputs, int[] widths, int[] sampleShape, bool batchNorm, Device device, Rng rng)
    {
        var layers = new List<Module>();
        int width = inputs;
        foreach (var w in widths)
        {
            layers.Add(new Linear(width, w, device: device, rng: rng));
            if (batchNorm) layers.Add(new BatchNorm1d(w, device: device));
            layers.Add(new ReLU());
            width = w;
        }
        int outputs = sampleShape.Aggregate(1, (a, b) => a * b);
        layers.Add(new Linear(width, outputs, device: device, rng: rng));
        if (sampleShape.Length == 3)
        {
            layers.Add(new Tanh());
            layers.Add(new Unflatten(sampleShape));
        }
        return new Sequential([.. layers]);
    }

    /// <summary>
    /// PacGAN's initialisation of its MLPs (the Blocks code's IsotropicGaussian(0.02) and Constant(0)): every weight
    /// matrix N(0, <paramref name="std"/>), every bias 0; norm scales keep 1. std 0 keeps the layers' own initialisation
    /// (PyTorch's uniform of 1/sqrt(fan_in)) and draws nothing, so such a run repeats one made before the option.
    /// </summary>
    public static Sequential NormalInit(Sequential network, float std, Rng rng)
    {
        if (std == 0) return network;
        foreach (var (name, p) in network.NamedParameters())
        {
            if (p.Rank >= 2) Init.Normal(p, 0f, std, rng);
            else if (name.EndsWith("bias", StringComparison.Ordinal)) Elementwise.Fill(p, 0f);
        }
        return network;
    }

    /// <summary>
    /// Flattened samples (plus a one-hot label: <paramref name="inputs"/> = features + classes) through one hidden
    /// layer per width (maxout of <paramref name="pieces"/> pieces, or Linear + LeakyReLU(0.2) for pieces = 1),
    /// each followed by dropout when <paramref name="dropout"/> &gt; 0; then the optional minibatch layers
    /// (standard deviation, then discrimination) on the last hidden features; then Linear to one output.
    /// </summary>
    public static Sequential MlpDiscriminator(int inputs, int[] widths, int pieces, float dropout, bool mbstd,
        bool minibatchDisc, int mbdKernels, int mbdDims, Device device, Rng rng, Rng dropoutRng)
    {
        var layers = new List<Module>();
        int width = inputs;
        foreach (var w in widths)
        {
            if (pieces > 1) layers.Add(new Maxout(width, w, pieces, device, rng));
            else
            {
                layers.Add(new Linear(width, w, device: device, rng: rng));
                layers.Add(new LeakyReLU(0.2f));
            }
            if (dropout > 0) layers.Add(new Dropout(dropout, dropoutRng));
            width = w;
        }
        if (mbstd)
        {
            layers.Add(new MinibatchStdDev());
            width += 1;
        }
        if (minibatchDisc)
        {
            layers.Add(new MinibatchDiscrimination(width, mbdKernels, mbdDims, device: device, rng: rng));
            width += mbdKernels;
        }
        layers.Add(new Linear(width, 1, device: device, rng: rng));
        return new Sequential([.. layers]);
    }

    /// <summary>
    /// The minibatch layers a convolutional critic runs on its last feature maps ([N, channels, 4, 4]) before the
    /// logit, and how many channels they add; null and 0 when neither is asked for.
    /// </summary>
    public static (Module? Layers, int ExtraChannels) ConvMinibatchLayers(int channels, bool mbstd, bool minibatchDisc,
        int mbdKernels, int mbdDims, Device device, Rng rng)
    {
        var layers = new List<Module>();
        int c = channels;
        if (mbstd) { layers.Add(new MinibatchStdDev()); c += 1; }
        if (minibatchDisc) { layers.Add(new MinibatchDiscrimination(c * 4 * 4, mbdKernels, mbdDims, device: device, rng: rng)); c += mbdKernels; }
        return layers.Count == 0 ? (null, 0) : (layers.Count == 1 ? layers[0] : new Sequential([.. layers]), c - channels);
    }
}
