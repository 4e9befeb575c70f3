using NativeGan.Nn;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// StyleGAN's mapping network (Karras et al. 2019, section 2): z, pixel-normed onto the sphere, through 8 fully connected
/// layers with LeakyReLU 0.2 and the equalized learning rate at a multiplier of 0.01 (so the mapping learns 100 times
/// slower than the synthesis), to the intermediate latent w.
/// </summary>
public sealed class StyleGanMapping : Module
{
    readonly ModuleList<EqualizedLinear> layers;
    readonly PixelNorm norm = new();

    /// <summary>z [N, latent] to w [N, styleDim] through <paramref name="depth"/> layers.</summary>
    public StyleGanMapping(int latent, int styleDim, int depth = 8, float lrMultiplier = 0.01f, Device? device = null, Rng? rng = null)
    {
        if (latent < 1 || styleDim < 1 || depth < 1) throw new ArgumentException($"StyleGanMapping: latent ({latent}), styleDim ({styleDim}) and depth ({depth}) must be at least 1");
        (Latent, StyleDim) = (latent, styleDim);
        layers = RegisterModule("layers", new ModuleList<EqualizedLinear>(Enumerable.Range(0, depth).Select(k =>
            new EqualizedLinear(k == 0 ? latent : styleDim, styleDim, lrMultiplier: lrMultiplier, device: device, rng: rng))));
    }

    public int Latent { get; }
    public int StyleDim { get; }

    public override Tensor Forward(Tensor z)
    {
        if (z.Rank != 2 || z.Dim(1) != Latent) throw new TensorShapeException($"StyleGanMapping: z must be [N, {Latent}], got {Shapes.Format(z.Shape)}");
        var h = norm.Forward(z);
        for (int k = 0; k < layers.Count; k++) h = layers[k].Forward(h).LeakyRelu(0.2f);
        return h;
    }

    /// <summary>
    /// The truncation trick (section B of the paper): w' = w_avg + psi (w - w_avg) for the first <paramref name="cutoff"/>
    /// layers' styles of <paramref name="ws"/> [N, layers, W] (all layers when null), the rest unchanged. psi 1 is the
    /// identity, psi 0 gives every latent the average's styles.
    /// </summary>
    public static Tensor Truncate(Tensor ws, Tensor averageW, float psi, int? cutoff = null)
    {
        if (ws.Rank != 3 || averageW.Rank != 1 || averageW.Dim(0) != ws.Dim(2))
            throw new TensorShapeException($"StyleGanMapping.Truncate: ws must be [N, layers, W] and the average [W], got {Shapes.Format(ws.Shape)} and {Shapes.Format(averageW.Shape)}");
        int layers = ws.Dim(1), upTo = Math.Clamp(cutoff ?? layers, 0, layers);
        var mask = new float[layers];
        for (int l = 0; l < upTo; l++) mask[l] = 1;
        using var m = Tensor.FromArray(mask, [1, layers, 1], ws.Device);
        // w + m (psi - 1)(w - avg): truncated where m is 1, unchanged where it is 0.
        return ws.Add(ws.Sub(Ops.Reshape(averageW, 1, 1, ws.Dim(2))).Mul(m).Mul(psi - 1f));
    }

    /// <summary>Style mixing: the styles [N, layers, W] of <paramref name="first"/> before layer <paramref name="crossover"/>
    /// and of <paramref name="second"/> from it on.</summary>
    public static Tensor Mix(Tensor first, Tensor second, int crossover)
    {
        if (first.Rank != 3 || !first.Shape.AsSpan().SequenceEqual(second.Shape))
            throw new TensorShapeException($"StyleGanMapping.Mix: two style tensors [N, layers, W] of one shape, got {Shapes.Format(first.Shape)} and {Shapes.Format(second.Shape)}");
        int layers = first.Dim(1);
        var mask = new float[layers];
        for (int l = Math.Clamp(crossover, 0, layers); l < layers; l++) mask[l] = 1;
        using var m = Tensor.FromArray(mask, [1, layers, 1], first.Device);
        return first.Add(second.Sub(first).Mul(m));
    }

    /// <summary>The same w for every one of <paramref name="layers"/> layers: [N, W] -> [N, layers, W].</summary>
    public static Tensor Broadcast(Tensor w, int layers) => Ops.Stack([.. Enumerable.Repeat(w, layers)]).Permute(1, 0, 2);
}

/// <summary>Per-pixel noise with a learned per-channel strength (StyleGAN's "B"): x + weight[c] · noise[n, 0, h, w];
/// the weight starts at 0, so a fresh layer adds nothing.</summary>
public sealed class NoiseInjection : Module
{
    /// <summary>For features of <paramref name="channels"/> channels.</summary>
    public NoiseInjection(int channels, Device? device = null) => Weight = RegisterParameter("weight", Tensor.Zeros(device ?? Device.Cpu, 1, channels, 1, 1));

    public Tensor Weight { get; }

    /// <summary>x [N, C, H, W] plus the scaled <paramref name="noise"/> [N, 1, H, W].</summary>
    public Tensor Forward(Tensor x, Tensor noise)
    {
        if (noise.Rank != 4 || noise.Dim(0) != x.Dim(0) || noise.Dim(1) != 1 || noise.Dim(2) != x.Dim(2) || noise.Dim(3) != x.Dim(3))
            throw new TensorShapeException($"NoiseInjection: noise must be [{x.Dim(0)}, 1, {x.Dim(2)}, {x.Dim(3)}] for features {Shapes.Format(x.Shape)}, got {Shapes.Format(noise.Shape)}");
        return x.Add(noise.Mul(Weight));
    }

    /// <summary>Not available: noise injection takes the noise too.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("NoiseInjection: call Forward(x, noise)");
}

/// <summary>
/// AdaIN as StyleGAN uses it: the features instance-normalised, then scaled and shifted per channel by an equalized
/// affine map of the layer's style w ("A" in the paper's figure 1), its scale part's bias starting at 1.
/// </summary>
public sealed class StyleModulation : Module
{
    /// <summary>Features of <paramref name="channels"/> channels, styles of <paramref name="styleDim"/>.</summary>
    public StyleModulation(int channels, int styleDim, Device? device = null, Rng? rng = null)
    {
        Channels = channels;
        Affine = RegisterModule("affine", new EqualizedLinear(styleDim, 2 * channels, gain: 1f, device: device, rng: rng));
        var bias = new float[2 * channels];
        Array.Fill(bias, 1f, 0, channels);
        using var initial = Tensor.FromArray(bias, [2 * channels], device ?? Device.Cpu);
        Affine.Bias!.CopyFrom(initial);
    }

    public int Channels { get; }
    public EqualizedLinear Affine { get; }

    /// <summary>x [N, C, H, W] styled by w [N, W].</summary>
    public Tensor Forward(Tensor x, Tensor w)
    {
        var s = Affine.Forward(w);
        return x.AdaIN(s.ChannelSlice(0, Channels), s.ChannelSlice(Channels, Channels), 1e-8f);
    }

    /// <summary>Not available: modulation takes a style too.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("StyleModulation: call Forward(x, w)");
}

/// <summary>
/// StyleGAN's synthesis network at a fixed resolution (the option users of the reference ask for; progressive growing as
/// in ProGAN is the job's to add): a learned constant 4x4 input, then per resolution two layers, each a convolution
/// (the first of every resolution above 4x4 after a nearest 2x upsampling), per-pixel noise, a bias, LeakyReLU 0.2 and
/// AdaIN from that layer's style; a 1x1 toRGB at the end. Layer i takes style i of ws [N, 2·resolutions, W].
/// </summary>
public sealed class StyleGanSynthesis : Module
{
    readonly ModuleList<EqualizedConv2d> convs;
    readonly ModuleList<NoiseInjection> noises;
    readonly ModuleList<StyleModulation> styles;

    /// <summary>Images of <paramref name="channels"/> channels at side 4 · 2^(widths.Length - 1); widths[k] features at resolution k.</summary>
    public StyleGanSynthesis(int styleDim, int channels, IReadOnlyList<int> widths, Device? device = null, Rng? rng = null)
    {
        if (styleDim < 1 || channels < 1 || widths.Count < 1 || widths.Any(w => w < 1))
            throw new ArgumentException($"StyleGanSynthesis: styleDim ({styleDim}), channels ({channels}) and every width ({string.Join(", ", widths)}) must be at least 1");
        var d = device ?? Device.Cpu;
        (StyleDim, Channels, Widths) = (styleDim, channels, [.. widths]);
        Constant = RegisterParameter("constant", Tensor.Ones(d, 1, widths[0], 4, 4));
        var convList = new List<EqualizedConv2d>();
        var noiseList = new List<NoiseInjection>();
        var styleList = new List<StyleModulation>();
        for (int layer = 0; layer < Layers; layer++)
        {
            int k = layer / 2, input = layer == 0 ? widths[0] : layer % 2 == 0 ? widths[k - 1] : widths[k];
            convList.Add(new EqualizedConv2d(input, widths[k], 3, padding: 1, device: d, rng: rng));
            noiseList.Add(new NoiseInjection(widths[k], d));
            styleList.Add(new StyleModulation(widths[k], styleDim, d, rng));
        }
        convs = RegisterModule("convs", new ModuleList<EqualizedConv2d>(convList));
        noises = RegisterModule("noises", new ModuleList<NoiseInjection>(noiseList));
        styles = RegisterModule("styles", new ModuleList<StyleModulation>(styleList));
        ToRgb = RegisterModule("to_rgb", new EqualizedConv2d(widths[^1], channels, 1, gain: 1f, device: d, rng: rng));
    }

    public int StyleDim { get; }
    public int Channels { get; }
    public int[] Widths { get; }
    public Tensor Constant { get; }
    public EqualizedConv2d ToRgb { get; }

    /// <summary>Styled layers: two per resolution.</summary>
    public int Layers => 2 * Widths.Length;

    /// <summary>The images' side.</summary>
    public int Side => 4 << (Widths.Length - 1);

    /// <summary>The side of layer <paramref name="layer"/>'s features (its noise is [N, 1, side, side]).</summary>
    public int SideOfLayer(int layer) => 4 << (layer / 2);

    /// <summary>Images [N, channels, side, side] from styles ws [N, Layers, W] and one noise per layer, each [N, 1, s, s].</summary>
    public Tensor Forward(Tensor ws, IReadOnlyList<Tensor> noise)
    {
        if (ws.Rank != 3 || ws.Dim(1) != Layers || ws.Dim(2) != StyleDim)
            throw new TensorShapeException($"StyleGanSynthesis: ws must be [N, {Layers}, {StyleDim}], got {Shapes.Format(ws.Shape)}");
        if (noise.Count != Layers) throw new ArgumentException($"StyleGanSynthesis: one noise per layer ({Layers}), got {noise.Count}");
        int n = ws.Dim(0);
        var perLayer = ws.Permute(1, 0, 2).Unbind();
        using var ones = Tensor.Ones(ws.Device, n, 1, 1, 1);
        var h = ones.Mul(Constant);
        for (int layer = 0; layer < Layers; layer++)
        {
            if (layer > 0 && layer % 2 == 0) h = h.UpsampleNearest2x();
            h = convs[layer].Forward(h);
            h = noises[layer].Forward(h, noise[layer]).LeakyRelu(0.2f);
            h = styles[layer].Forward(h, perLayer[layer]);
        }
        return ToRgb.Forward(h);
    }

    /// <summary>Not available: synthesis takes styles and noise.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("StyleGanSynthesis: call Forward(ws, noise)");
}
