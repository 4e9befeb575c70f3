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
/// StyleGAN's synthesis network (Karras et al. 2019, figure 1b; reference NVlabs/stylegan G_synthesis), grown by stages
/// as ProGAN's generator: a learned constant 4x4 input, then two styled layers per resolution. Each layer is
/// <code>
/// [upsample 2x (nearest), conv 3x3, blur]   the first layer of every resolution above 4x4
/// [conv 3x3]                                 the second layer of every resolution (the 4x4 constant has no first conv)
/// + noise · per-channel strength, LeakyReLU 0.2, AdaIN from that layer's style (StyleModulation)
/// </code>
/// and each stage has a 1x1 toRGB. Layer i takes style i of ws [N, Layers, W]; stage s (side 4 · 2^(s-1)) runs the first
/// 2s layers, and while it fades in its image is (1 - alpha) · upsample(toRGB_{s-1}) + alpha · toRGB_s, as ProGAN's.
/// </summary>
public sealed class StyleGanSynthesis : Module
{
    readonly ModuleList<EqualizedConv2d> convs;
    readonly ModuleList<NoiseInjection> noises;
    readonly ModuleList<StyleModulation> styles;
    readonly ModuleList<EqualizedConv2d> toRgb;
    readonly Blur2d? blur;

    /// <summary>Images of <paramref name="channels"/> channels up to side 4 · 2^(widths.Length - 1); widths[k] features at
    /// stage k+1; <paramref name="blur"/>: the [1, 2, 1] filter after every upsampling convolution.</summary>
    public StyleGanSynthesis(int styleDim, int channels, IReadOnlyList<int> widths, bool blur = true, Device? device = null, Rng? rng = null)
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
            int k = layer / 2;
            if (layer > 0) convList.Add(new EqualizedConv2d(layer % 2 == 0 ? widths[k - 1] : widths[k], widths[k], 3, padding: 1, device: d, rng: rng));
            noiseList.Add(new NoiseInjection(widths[k], d));
            styleList.Add(new StyleModulation(widths[k], styleDim, d, rng));
        }
        convs = RegisterModule("convs", new ModuleList<EqualizedConv2d>(convList));
        noises = RegisterModule("noises", new ModuleList<NoiseInjection>(noiseList));
        styles = RegisterModule("styles", new ModuleList<StyleModulation>(styleList));
        toRgb = RegisterModule("to_rgb", new ModuleList<EqualizedConv2d>(widths.Select(w => new EqualizedConv2d(w, channels, 1, gain: 1f, device: d, rng: rng))));
        if (blur) this.blur = new Blur2d();
    }

    public int StyleDim { get; }
    public int Channels { get; }
    public int[] Widths { get; }
    public Tensor Constant { get; }

    /// <summary>Whether upsampling convolutions are followed by the [1, 2, 1] blur.</summary>
    public bool Blurs => blur is not null;

    /// <summary>The number of stages (the last makes the largest images).</summary>
    public int Stages => Widths.Length;

    /// <summary>Styled layers of the full network: two per stage.</summary>
    public int Layers => 2 * Widths.Length;

    /// <summary>The largest images' side.</summary>
    public int Side => 4 << (Widths.Length - 1);

    /// <summary>The side of layer <paramref name="layer"/>'s features (its noise is [N, 1, side, side]).</summary>
    public static int SideOfLayer(int layer) => 4 << (layer / 2);

    /// <summary>Fresh noise for the <c>2 · stage</c> layers of stage <paramref name="stage"/>: one [N, 1, s, s] per layer.</summary>
    public static Tensor[] Noise(Rng rng, Device device, int count, int stage) =>
        [.. Enumerable.Range(0, 2 * stage).Select(l => rng.Normal(device, [count, 1, SideOfLayer(l), SideOfLayer(l)]))];

    /// <summary>Images [N, channels, side, side] of stage <paramref name="stage"/> from styles ws [N, Layers, W] and one noise per
    /// layer the stage runs (at least 2 · stage, each [N, 1, s, s]), the stage faded in by <paramref name="alpha"/>.</summary>
    public Tensor Forward(Tensor ws, IReadOnlyList<Tensor> noise, int stage, float alpha = 1f)
    {
        ProGanGenerator.CheckStage("StyleGanSynthesis", stage, alpha, Stages);
        if (ws.Rank != 3 || ws.Dim(1) != Layers || ws.Dim(2) != StyleDim)
            throw new TensorShapeException($"StyleGanSynthesis: ws must be [N, {Layers}, {StyleDim}], got {Shapes.Format(ws.Shape)}");
        if (noise.Count < 2 * stage) throw new ArgumentException($"StyleGanSynthesis: stage {stage} runs {2 * stage} layers and needs a noise for each, got {noise.Count}");
        int n = ws.Dim(0);
        var perLayer = ws.Permute(1, 0, 2).Unbind();
        using var ones = Tensor.Ones(ws.Device, n, 1, 1, 1);
        var h = ones.Mul(Constant);
        Tensor? previous = null;
        for (int layer = 0; layer < 2 * stage; layer++)
        {
            if (layer > 0 && layer % 2 == 0)
            {
                previous = h;
                h = convs[layer - 1].Forward(h.UpsampleNearest2x());
                if (blur is not null) h = blur.Forward(h);
            }
            else if (layer > 0) h = convs[layer - 1].Forward(h);
            h = noises[layer].Forward(h, noise[layer]).LeakyRelu(0.2f);
            h = styles[layer].Forward(h, perLayer[layer]);
        }
        var image = toRgb[stage - 1].Forward(h);
        if (alpha >= 1f || previous is null) return image;
        var old = toRgb[stage - 2].Forward(previous).UpsampleNearest2x();
        return old.Mul(1f - alpha).Add(image.Mul(alpha));
    }

    /// <summary>The full network's images (every stage, fully faded in).</summary>
    public Tensor Forward(Tensor ws, IReadOnlyList<Tensor> noise) => Forward(ws, noise, Stages);

    /// <summary>Not available: synthesis takes styles and noise.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("StyleGanSynthesis: call Forward(ws, noise)");

    public override void Dispose()
    {
        blur?.Dispose();
        base.Dispose();
    }
}

/// <summary>
/// StyleGAN's generator: the mapping network z -> w, the synthesis network, and the tracked average of w (buffer
/// <c>w_avg</c>, the reference's <c>dlatent_avg</c>) that the truncation trick pulls styles towards. The average is updated
/// by <see cref="TrackAverage"/> during training: w_avg = mean(w) + beta (w_avg - mean(w)), beta 0.995 in the paper.
/// </summary>
public sealed class StyleGanGenerator : Module
{
    /// <summary>A generator of images with <paramref name="channels"/> channels (see <see cref="StyleGanSynthesis"/>).</summary>
    public StyleGanGenerator(int latent, int styleDim, int mappingLayers, float mappingLr, int channels, IReadOnlyList<int> widths, bool blur = true,
        Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        Mapping = RegisterModule("mapping", new StyleGanMapping(latent, styleDim, mappingLayers, mappingLr, d, rng));
        Synthesis = RegisterModule("synthesis", new StyleGanSynthesis(styleDim, channels, widths, blur, d, rng));
        AverageW = RegisterBuffer("w_avg", Tensor.Zeros(d, styleDim));
    }

    public StyleGanMapping Mapping { get; }
    public StyleGanSynthesis Synthesis { get; }

    /// <summary>The tracked average of w [W].</summary>
    public Tensor AverageW { get; }

    /// <summary>z [N, latent] to every layer's style [N, Layers, W] (one w per latent, broadcast).</summary>
    public Tensor Styles(Tensor z) => StyleGanMapping.Broadcast(Mapping.Forward(z), Synthesis.Layers);

    /// <summary>Moves the tracked average towards the mean of <paramref name="ws"/> [N, Layers, W] (layer 0's w): w_avg = mean + beta (w_avg - mean).</summary>
    public void TrackAverage(Tensor ws, float beta)
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        var mean = ws.Permute(1, 0, 2).Unbind()[0].Mean([0]);
        AverageW.CopyFrom(mean.Add(AverageW.Sub(mean).Mul(beta)));
    }

    /// <summary>Images of the full network for latents z, with fresh noise from <paramref name="rng"/>.</summary>
    public Tensor Forward(Tensor z, Rng rng) => Synthesis.Forward(Styles(z), StyleGanSynthesis.Noise(rng, z.Device, z.Dim(0), Synthesis.Stages));

    /// <summary>Not available: the generator needs noise (<see cref="Forward(Tensor, Rng)"/>).</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("StyleGanGenerator: call Forward(z, rng) or Synthesis.Forward(Styles(z), noise, stage, alpha)");
}
