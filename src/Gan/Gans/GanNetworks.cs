using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>
/// A GAN's two networks, built from its options, and how samples and labels go into them. For 2D points they are the
/// PacGAN networks (Lin et al. 2018, appendix): a generator of <c>g_widths</c> = 400,400,400,400 fully connected units
/// with batch norm and ReLU, from a 2-d Gaussian z to (x, y); a discriminator of <c>d_widths</c> = 200,200,200 maxout
/// units with <c>d_pieces</c> = 5 pieces and one linear output (a logit, or a critic score). For images, <c>arch</c> =
/// conv takes the DCGAN networks of <see cref="Dcgan"/>; <c>arch</c> = mlp makes multilayer perceptrons (G ending in
/// tanh, reshaped to [C, H, W]; D on the flattened image with LeakyReLU 0.2 when <c>d_pieces</c> = 1).
/// <para><b>Conditional kinds</b> give G the one-hot label concatenated to z, and D the one-hot label concatenated to its
/// flattened input (MLP) or as K constant channels beside the image's (conv).</para>
/// <para><b>Packing</b> (<c>pack</c> = m &gt; 1; PacGAN): D judges m samples at once, concatenated (points or flattened
/// images side by side, image channels stacked), and gives one score per pack. A generator that drops modes makes packs
/// whose members are too alike, which D can see where it cannot in one sample.</para>
/// </summary>
public sealed class GanNetworks
{
    readonly GanOptions options;

    /// <summary>G and D for <paramref name="options"/>: weights from <paramref name="init"/>; D's dropout draws from
    /// <paramref name="dropout"/> (the job's stream).</summary>
    public GanNetworks(GanOptions options, Device device, Rng init, Rng dropout)
    {
        this.options = options;
        Device = device;
        var shape = options.DataShape;
        var o = options;
        if (options.IsConv)
        {
            int channels = shape[0], side = shape[1];
            Generator = NewGenerator(init);
            var (before, extra) = ConvMinibatchLayers(o.CriticWidth << (Dcgan.Stages(side) - 1), o.UseMinibatchStdDev, o.UseMinibatchDiscrimination,
                o.MinibatchKernels, o.MinibatchKernelDims, device, init);
            Discriminator = Dcgan.Discriminator(channels * o.Pack + o.ClassCount, side, o.CriticWidth, device, init, o.CriticNorm, before, extra);
        }
        else
        {
            int features = shape.Aggregate(1, (a, b) => a * b);
            Generator = NewGenerator(init);
            Discriminator = NormalInit(MlpDiscriminator(features * o.Pack + o.ClassCount, o.CriticWidths, o.CriticPieces, o.Dropout,
                o.UseMinibatchStdDev, o.UseMinibatchDiscrimination, o.MinibatchKernels, o.MinibatchKernelDims, device, init, dropout), o.InitStd, init);
        }
    }

    public Device Device { get; }
    public Sequential Generator { get; }
    public Sequential Discriminator { get; }

    /// <summary>A new generator of this architecture with weights drawn from <paramref name="rng"/> (the averaged copy's too).</summary>
    public Sequential NewGenerator(Rng rng)
    {
        var o = options;
        int inputs = o.Latent + o.ClassCount;
        if (o.IsConv) return Dcgan.Generator(inputs, o.DataShape[0], o.DataShape[1], o.GeneratorWidth, Device, rng);
        return NormalInit(MlpGenerator(inputs, o.GeneratorWidths, o.DataShape, o.GeneratorBatchNorm, Device, rng), o.InitStd, rng);
    }

    // ------------------------------------------------------------------ inputs

    /// <summary><paramref name="generator"/> on z [N, latent] (with the one-hot label concatenated for a conditional model;
    /// seen as [N, latent + K, 1, 1] by a convolutional generator).</summary>
    public Tensor GeneratorForward(Module generator, Tensor z, Tensor? onehot)
    {
        using var input = onehot is null ? Ops.Reshape(z, z.Shape) : Ops.ChannelConcat(z, onehot);
        if (!options.IsConv) return generator.Forward(input);
        using var column = Ops.Reshape(input, input.Dim(0), input.Dim(1), 1, 1);
        return generator.Forward(column);
    }

    /// <summary>D's scores [N, 1] for samples or packs (<see cref="Packed"/>): an MLP takes them flattened (with the one-hot
    /// label concatenated), a convolutional critic takes images (with the label as K constant channels).</summary>
    public Tensor CriticForward(Tensor x, Tensor? onehot)
    {
        int n = x.Dim(0);
        if (options.IsConv)
        {
            Tensor scores;
            if (onehot is null) scores = Discriminator.Forward(x);
            else
            {
                int k = onehot.Dim(1);
                using var column = Ops.Reshape(onehot, n, k, 1, 1);
                using var maps = column.Expand([n, k, x.Dim(2), x.Dim(3)]);
                using var input = Ops.ChannelConcat(x, maps);
                scores = Discriminator.Forward(input);
            }
            using (scores) return Ops.Reshape(scores, n, 1);
        }
        using var flat = options.IsImage ? x.Flatten() : Ops.Reshape(x, x.Shape);
        if (onehot is null) return Discriminator.Forward(flat);
        using var joined = Ops.ChannelConcat(flat, onehot);
        return Discriminator.Forward(joined);
    }

    /// <summary>
    /// Samples [N, ...] as N / pack packs for D: consecutive samples side by side, [N/m, m * F] for points or flattened
    /// images and [N/m, m * C, H, W] for images (the same memory, so a reshape, and gradients flow back to each sample).
    /// With pack 1, the samples themselves.
    /// </summary>
    public Tensor Packed(Tensor samples, string kind)
    {
        int pack = options.Pack;
        if (pack == 1) return samples;
        int n = samples.Dim(0);
        if (n % pack != 0)
            throw new TensorShapeException($"{kind}: pack {pack} needs every critic and generator batch to split into whole packs, got {n} samples (shape {Shapes.Format(samples.Shape)}): choose --batch a multiple of {pack}");
        var shape = (int[])samples.Shape.Clone();
        shape[0] = n / pack;
        shape[1] *= pack;
        return Ops.Reshape(samples, shape); // made by an op: the enclosing TensorScope frees it
    }

    // ------------------------------------------------------------------ builders

    /// <summary>z (plus a one-hot label: <paramref name="inputs"/> = latent + classes) through Linear, BatchNorm1d, ReLU per
    /// width, then Linear to <paramref name="sampleShape"/>'s size, tanh and a reshape for images.</summary>
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
            layers.Add(new Reshape(sampleShape));
        }
        return new Sequential([.. layers]);
    }

    /// <summary>
    /// PacGAN's initialisation of its MLPs (the Blocks code's IsotropicGaussian(0.02) and Constant(0)): every weight matrix
    /// N(0, <paramref name="std"/>), every bias 0; norm scales keep 1. std 0 keeps the layers' own initialisation
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
    /// Flattened samples (plus a one-hot label: <paramref name="inputs"/> = features + classes) through one hidden layer per
    /// width (maxout of <paramref name="pieces"/> pieces, or Linear + LeakyReLU(0.2) for pieces = 1), each followed by
    /// dropout when <paramref name="dropout"/> &gt; 0; then the optional minibatch layers (standard deviation, then
    /// discrimination) on the last hidden features; then Linear to one output.
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

    /// <summary>The minibatch layers a convolutional critic runs on its last feature maps ([N, channels, 4, 4]) before the
    /// logit, and how many channels they add; null and 0 when neither is asked for.</summary>
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
