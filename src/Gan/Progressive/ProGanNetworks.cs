using NativeGan.Gan.Gans;
using NativeGan.Nn;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// ProGAN's generator (Karras et al. 2018, Table 2), grown from 4x4: stage 1 makes 4x4 images, each further stage
/// doubles the side. Layers use the equalized learning rate, LeakyReLU 0.2 and pixel norm after every convolution:
/// <code>
/// z -> pixel norm -> dense to 4x4 -> conv 3x3                      stage 1 (4x4)
///   -> upsample 2x -> conv 3x3 -> conv 3x3                         every later stage
/// toRGB: a 1x1 convolution of each stage's features to the image's channels (linear, gain 1)
/// </code>
/// While stage s fades in (alpha from 0 to 1), the image is (1 - alpha) · upsample(toRGB_{s-1}) + alpha · toRGB_s.
/// Parameter names: <c>input.weight</c>, <c>blocks.K.conv0.weight</c> (stage K+1; stage 1 has only conv1), <c>to_rgb.K.weight</c>, ...
/// </summary>
public sealed class ProGanGenerator : Module
{
    readonly ModuleList<ProGanBlock> blocks;
    readonly ModuleList<EqualizedConv2d> toRgb;
    readonly PixelNorm norm = new();

    /// <summary>A generator of images with <paramref name="channels"/> channels up to stage <c>widths.Length</c>
    /// (side 4 · 2^(stages-1)); <paramref name="widths"/>[k] is stage k+1's feature count.</summary>
    public ProGanGenerator(int latent, int channels, IReadOnlyList<int> widths, Device? device = null, Rng? rng = null)
    {
        if (latent < 1 || channels < 1 || widths.Count < 1 || widths.Any(w => w < 1))
            throw new ArgumentException($"ProGanGenerator: latent ({latent}), channels ({channels}) and every width ({string.Join(", ", widths)}) must be at least 1, with at least one stage");
        (Latent, Channels, Widths) = (latent, channels, [.. widths]);
        // The 4x4 dense layer's gain is sqrt(2)/4, as the reference's (its output is 16 pixels of features).
        Input = RegisterModule("input", new EqualizedLinear(latent, widths[0] * 16, gain: MathF.Sqrt(2) / 4, device: device, rng: rng));
        blocks = RegisterModule("blocks", new ModuleList<ProGanBlock>(Enumerable.Range(0, widths.Count).Select(k =>
            new ProGanBlock(k == 0 ? null : new EqualizedConv2d(widths[k - 1], widths[k], 3, padding: 1, device: device, rng: rng),
                            new EqualizedConv2d(widths[k], widths[k], 3, padding: 1, device: device, rng: rng)))));
        toRgb = RegisterModule("to_rgb", new ModuleList<EqualizedConv2d>(widths.Select(w => new EqualizedConv2d(w, channels, 1, gain: 1f, device: device, rng: rng))));
    }

    public int Latent { get; }
    public int Channels { get; }
    public int[] Widths { get; }
    public EqualizedLinear Input { get; }

    /// <summary>The number of stages (the last one makes the largest images).</summary>
    public int Stages => Widths.Length;

    /// <summary>The side of stage <paramref name="stage"/>'s images (1-based: stage 1 is 4x4).</summary>
    public static int SideOf(int stage) => 4 << (stage - 1);

    Tensor Act(Tensor x) => norm.Forward(x.LeakyRelu(0.2f));

    /// <summary>Images [N, channels, side, side] of stage <paramref name="stage"/> from latents z [N, latent], the stage faded in by <paramref name="alpha"/>.</summary>
    public Tensor Forward(Tensor z, int stage, float alpha = 1f)
    {
        CheckStage("ProGanGenerator", stage, alpha, Stages);
        if (z.Rank != 2 || z.Dim(1) != Latent) throw new TensorShapeException($"ProGanGenerator: z must be [N, {Latent}], got {Shapes.Format(z.Shape)}");
        var h = Act(Ops.Reshape(Input.Forward(norm.Forward(z)), z.Dim(0), Widths[0], 4, 4));
        h = Act(blocks[0].Conv1.Forward(h));
        Tensor? previous = null;
        for (int k = 1; k < stage; k++)
        {
            previous = h;
            h = h.UpsampleNearest2x();
            h = Act(blocks[k].Conv0!.Forward(h));
            h = Act(blocks[k].Conv1.Forward(h));
        }
        var image = toRgb[stage - 1].Forward(h);
        if (alpha >= 1f || previous is null) return image;
        var old = toRgb[stage - 2].Forward(previous).UpsampleNearest2x();
        return old.Mul(1f - alpha).Add(image.Mul(alpha));
    }

    /// <summary>The images of the last stage, fully faded in.</summary>
    public override Tensor Forward(Tensor z) => Forward(z, Stages);

    internal static void CheckStage(string who, int stage, float alpha, int stages)
    {
        if (stage < 1 || stage > stages) throw new ArgumentOutOfRangeException(nameof(stage), stage, $"{who}: stage must be 1..{stages}");
        if (!(alpha >= 0f && alpha <= 1f)) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, $"{who}: alpha must lie in [0, 1]");
    }
}

/// <summary>
/// ProGAN's discriminator (critic), the generator's mirror: fromRGB (1x1 conv) at the input's stage, then for every
/// stage above the first conv 3x3, conv 3x3, average-pool 2x; at 4x4 the minibatch standard deviation as one more
/// channel, conv 3x3, a dense layer over the 4x4 features and a linear output (the WGAN-GP critic's score).
/// While stage s fades in, its input also reaches stage s-1 by average-pooling and fromRGB_{s-1}, blended:
/// (1 - alpha) · fromRGB_{s-1}(pool(x)) + alpha · block_s(fromRGB_s(x)).
/// </summary>
public sealed class ProGanDiscriminator : Module
{
    readonly ModuleList<ProGanBlock> blocks;
    readonly ModuleList<EqualizedConv2d> fromRgb;
    readonly MinibatchStdDev stdDev = new();
    readonly Blur2d? blur;

    /// <summary>A critic of images with <paramref name="channels"/> channels for stages 1..widths.Length;
    /// <paramref name="widths"/>[k] is stage k+1's feature count (as the generator's); <paramref name="blur"/>: the
    /// [1, 2, 1] filter before every downsampling convolution (StyleGAN's discriminator, otherwise ProGAN's).</summary>
    public ProGanDiscriminator(int channels, IReadOnlyList<int> widths, Device? device = null, Rng? rng = null, bool blur = false)
    {
        if (blur) this.blur = new Blur2d();
        if (channels < 1 || widths.Count < 1 || widths.Any(w => w < 1))
            throw new ArgumentException($"ProGanDiscriminator: channels ({channels}) and every width ({string.Join(", ", widths)}) must be at least 1, with at least one stage");
        (Channels, Widths) = (channels, [.. widths]);
        fromRgb = RegisterModule("from_rgb", new ModuleList<EqualizedConv2d>(widths.Select(w => new EqualizedConv2d(channels, w, 1, device: device, rng: rng))));
        // blocks[k - 1] takes stage k+1's features down to stage k's (stage 1's is the 4x4 head below).
        blocks = RegisterModule("blocks", new ModuleList<ProGanBlock>(Enumerable.Range(1, widths.Count - 1).Select(k =>
            new ProGanBlock(new EqualizedConv2d(widths[k], widths[k], 3, padding: 1, device: device, rng: rng),
                            new EqualizedConv2d(widths[k], widths[k - 1], 3, padding: 1, device: device, rng: rng)))));
        HeadConv = RegisterModule("head_conv", new EqualizedConv2d(widths[0] + 1, widths[0], 3, padding: 1, device: device, rng: rng));
        HeadDense = RegisterModule("head_dense", new EqualizedLinear(widths[0] * 16, widths[0], device: device, rng: rng));
        Output = RegisterModule("head_out", new EqualizedLinear(widths[0], 1, gain: 1f, device: device, rng: rng));
    }

    public int Channels { get; }
    public int[] Widths { get; }
    public EqualizedConv2d HeadConv { get; }
    public EqualizedLinear HeadDense { get; }
    public EqualizedLinear Output { get; }
    public int Stages => Widths.Length;

    /// <summary>Scores [N, 1] of images x [N, channels, side, side] at stage <paramref name="stage"/> (side 4 · 2^(stage-1)), faded in by <paramref name="alpha"/>.</summary>
    public Tensor Forward(Tensor x, int stage, float alpha = 1f)
    {
        ProGanGenerator.CheckStage("ProGanDiscriminator", stage, alpha, Stages);
        int side = ProGanGenerator.SideOf(stage);
        if (x.Rank != 4 || x.Dim(1) != Channels || x.Dim(2) != side || x.Dim(3) != side)
            throw new TensorShapeException($"ProGanDiscriminator: stage {stage} takes [N, {Channels}, {side}, {side}], got {Shapes.Format(x.Shape)}");
        var h = fromRgb[stage - 1].Forward(x).LeakyRelu(0.2f);
        for (int k = stage - 1; k >= 1; k--)
        {
            var block = blocks[k - 1];
            h = block.Conv0!.Forward(h).LeakyRelu(0.2f);
            if (blur is not null) h = blur.Forward(h);
            h = block.Conv1.Forward(h).LeakyRelu(0.2f).AvgPool2d(2);
            if (k == stage - 1 && alpha < 1f)
            {
                var old = fromRgb[stage - 2].Forward(x.AvgPool2d(2)).LeakyRelu(0.2f);
                h = old.Mul(1f - alpha).Add(h.Mul(alpha));
            }
        }
        h = HeadConv.Forward(stdDev.Forward(h)).LeakyRelu(0.2f);
        h = HeadDense.Forward(Ops.Reshape(h, h.Dim(0), -1)).LeakyRelu(0.2f);
        return Output.Forward(h);
    }

    /// <summary>Scores of images at the last stage, fully faded in.</summary>
    public override Tensor Forward(Tensor x) => Forward(x, Stages);

    public override void Dispose()
    {
        blur?.Dispose();
        base.Dispose();
    }
}

/// <summary>Two 3x3 convolutions of one stage (the generator's first stage has only the second).</summary>
public sealed class ProGanBlock : Module
{
    /// <summary>A block of <paramref name="conv0"/> (or none) then <paramref name="conv1"/>.</summary>
    public ProGanBlock(EqualizedConv2d? conv0, EqualizedConv2d conv1)
    {
        if (conv0 is not null) Conv0 = RegisterModule("conv0", conv0);
        Conv1 = RegisterModule("conv1", conv1);
    }

    public EqualizedConv2d? Conv0 { get; }
    public EqualizedConv2d Conv1 { get; }

    /// <summary>Not available: the networks apply a block's convolutions with their activations between.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("ProGanBlock: the ProGAN networks call its convolutions");
}
