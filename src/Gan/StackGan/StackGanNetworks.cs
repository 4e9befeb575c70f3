using NativeGan.Nn;

namespace NativeGan.Gan.StackGan;

using AvgPool2d = NativeGan.Nn.AvgPool2d;
using BatchNorm2d = NativeGan.Nn.BatchNorm2d;
using Conv2d = NativeGan.Nn.Conv2d;

/// <summary>
/// StackGAN's conditioning augmentation (Zhang et al. 2017, section 3.1): from a text embedding, a Gaussian
/// N(mu, diag(exp(logVar))) (two linear layers), and a condition drawn from it with the reparameterisation trick,
/// c = mu + exp(logVar / 2) * eps, eps ~ N(0, I), so the gradient reaches mu and logVar. Drawing a new c for each use
/// gives more condition vectors than there are captions (smoother, the paper argues); <see cref="Kl"/> keeps the
/// Gaussian near N(0, I). (The reference code puts a ReLU before splitting mu and logVar; here they are plain linear.)
/// </summary>
public sealed class ConditioningAugmentation : Module
{
    /// <summary>The paper's weight of the KL term in G's loss (reference cfg: TRAIN.COEFF.KL = 2.0).</summary>
    public const float PaperKlWeight = 2.0f;

    /// <summary>From embeddings of <paramref name="embedding"/> features to conditions of <paramref name="dim"/>.</summary>
    public ConditioningAugmentation(int embedding, int dim, Device device, Rng rng)
    {
        Mu = RegisterModule("mu", new Linear(embedding, dim, device: device, rng: rng));
        LogVar = RegisterModule("log_var", new Linear(embedding, dim, device: device, rng: rng));
        Dim = dim;
    }

    public Linear Mu { get; }
    public Linear LogVar { get; }
    public int Dim { get; }

    /// <summary>mu and logVar [n, Dim] of embeddings [n, embedding].</summary>
    public (Tensor Mu, Tensor LogVar) Gaussian(Tensor embedding) => (Mu.Forward(embedding), LogVar.Forward(embedding));

    /// <summary>c = mu + exp(logVar / 2) * eps for eps [n, Dim] (drawn by the caller: the job's stream, or fixed noise).</summary>
    public static Tensor Sample(Tensor mu, Tensor logVar, Tensor eps)
    {
        return mu.Add(logVar.Mul(0.5f).Exp().Mul(eps));
    }

    /// <summary>
    /// KL(N(mu, exp(logVar)) || N(0, I)) per element, averaged over every element (batch and dimensions), as the
    /// reference's <c>KL_loss</c> (<c>torch.mean(-0.5 (1 + logVar - mu^2 - exp(logVar)))</c>): the sum over dimensions
    /// divided by the dimension, so <see cref="PaperKlWeight"/> means what it means there.
    /// </summary>
    public static Tensor Kl(Tensor mu, Tensor logVar)
    {
        if (!Shapes.Equal(mu.Shape, logVar.Shape))
            throw new TensorShapeException($"ConditioningAugmentation.Kl: mu and logVar must have one shape, got {Shapes.Format(mu.Shape)} and {Shapes.Format(logVar.Shape)}");
        var perElement = logVar.Add(1f).Sub(mu.Square()).Sub(logVar.Exp());
        return perElement.Mean().Mul(-0.5f);
    }

    /// <summary>Not available: call <see cref="Gaussian"/> and <see cref="Sample"/>.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("ConditioningAugmentation: call Gaussian and Sample");
}

/// <summary>Building blocks of the stage networks.</summary>
static class Blocks
{
    /// <summary>Nearest 2x upsampling, 3x3 convolution, batch norm, ReLU (the reference's upBlock).</summary>
    public static Sequential Up(int inC, int outC, Device d, Rng r) =>
        new(new Upsample(), new Conv2d(inC, outC, 3, 1, 1, bias: false, device: d, rng: r), new BatchNorm2d(outC, device: d), new ReLU());

    /// <summary>4x4 stride-2 convolution (optionally batch norm), LeakyReLU 0.2: half the side.</summary>
    public static Sequential Down(int inC, int outC, bool norm, Device d, Rng r) => norm
        ? new(new Conv2d(inC, outC, 4, 2, 1, bias: false, device: d, rng: r), new BatchNorm2d(outC, device: d), new LeakyReLU(0.2f))
        : new(new Conv2d(inC, outC, 4, 2, 1, bias: false, device: d, rng: r), new LeakyReLU(0.2f));

    /// <summary>A condition [n, c] as c constant feature maps [n, c, h, w].</summary>
    public static Tensor Maps(Tensor condition, int h, int w)
    {
        using var column = Ops.Reshape(condition, condition.Dim(0), condition.Dim(1), 1, 1);
        return column.Expand([condition.Dim(0), condition.Dim(1), h, w]);
    }
}

/// <summary>The reference's ResBlock: x + BN(conv3x3(ReLU(BN(conv3x3(x))))), then ReLU.</summary>
public sealed class ResidualBlock : Module
{
    readonly Sequential body;

    public ResidualBlock(int channels, Device device, Rng rng) =>
        body = RegisterModule("body", new Sequential(
            new Conv2d(channels, channels, 3, 1, 1, bias: false, device: device, rng: rng), new BatchNorm2d(channels, device: device), new ReLU(),
            new Conv2d(channels, channels, 3, 1, 1, bias: false, device: device, rng: rng), new BatchNorm2d(channels, device: device)));

    public override Tensor Forward(Tensor x)
    {
        return x.Add(body.Forward(x)).Relu();
    }
}

/// <summary>
/// Stage I's generator: [z, c] through a linear layer to 4x4 maps of 4 <c>width</c> features (batch norm, ReLU), then
/// upsampling blocks to the low resolution (16x16: 4 width, 2 width, then width features), a 3x3 convolution to RGB and
/// tanh. The paper's, with two upsampling blocks instead of four (16 pixels where it draws 64).
/// </summary>
public sealed class Stage1Generator : Module
{
    readonly int width;

    /// <summary>A generator of <paramref name="side"/> x <paramref name="side"/> images from text embeddings of
    /// <paramref name="embedding"/> features, conditions of <paramref name="condition"/> and latents of <paramref name="latent"/>.</summary>
    public Stage1Generator(int embedding, int latent, int condition, int width, int side, Device device, Rng rng)
    {
        if (side < 8 || (side & (side - 1)) != 0) throw new ArgumentException($"Stage1Generator: the side must be a power of 2 of at least 8, got {side}");
        this.width = width;
        Augmentation = RegisterModule("ca", new ConditioningAugmentation(embedding, condition, device, rng));
        Input = RegisterModule("input", new Sequential(new Linear(latent + condition, width * 4 * 16, bias: false, device: device, rng: rng), new BatchNorm1d(width * 4 * 16, device: device), new ReLU()));
        var ups = new List<Module>();
        int c = width * 4;
        for (int s = 4; s < side; s *= 2)
        {
            int next = Math.Max(width, c / 2);
            ups.Add(Blocks.Up(c, next, device, rng));
            c = next;
        }
        ups.Add(new Conv2d(c, 3, 3, 1, 1, device: device, rng: rng));
        ups.Add(new Tanh());
        Body = RegisterModule("body", new Sequential([.. ups]));
    }

    public ConditioningAugmentation Augmentation { get; }
    public Sequential Input { get; }
    public Sequential Body { get; }

    /// <summary>Images [n, 3, side, side] from z [n, latent] and the condition c [n, condition].</summary>
    public Tensor Forward(Tensor z, Tensor c)
    {
        var h = Input.Forward(Ops.ChannelConcat(z, c));
        return Body.Forward(Ops.Reshape(h, z.Dim(0), width * 4, 4, 4));
    }

    /// <summary>Not available: call <see cref="Forward(Tensor, Tensor)"/>.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("Stage1Generator: call Forward(z, c)");
}

/// <summary>
/// Stage II's generator: stage I's image (16x16) through a 3x3 convolution (ReLU), joined with the condition as constant
/// maps, a 3x3 convolution (batch norm, ReLU), <c>blocks</c> residual blocks, then upsampling blocks to the full side
/// (64x64; features halving, at least 16) and a 3x3 convolution to RGB with tanh. The paper downsamples its 64x64 stage-I
/// image to 16x16 before the residual blocks; here stage I's image is already 16x16, so there is no downsampling.
/// Stage II has its own conditioning augmentation, as in the reference.
/// </summary>
public sealed class Stage2Generator : Module
{
    public Stage2Generator(int embedding, int condition, int width, int blocks, int lowSide, int side, Device device, Rng rng)
    {
        if (side <= lowSide || side % lowSide != 0 || ((side / lowSide) & (side / lowSide - 1)) != 0)
            throw new ArgumentException($"Stage2Generator: the side {side} must be the low side {lowSide} times a power of 2");
        Augmentation = RegisterModule("ca", new ConditioningAugmentation(embedding, condition, device, rng));
        Encode = RegisterModule("encode", new Sequential(new Conv2d(3, width, 3, 1, 1, device: device, rng: rng), new ReLU()));
        Joint = RegisterModule("joint", new Sequential(new Conv2d(width + condition, width, 3, 1, 1, bias: false, device: device, rng: rng), new BatchNorm2d(width, device: device), new ReLU()));
        Residual = RegisterModule("residual", new Sequential([.. Enumerable.Range(0, blocks).Select(_ => (Module)new ResidualBlock(width, device, rng))]));
        var ups = new List<Module>();
        int c = width;
        for (int s = lowSide; s < side; s *= 2)
        {
            int next = Math.Max(16, c / 2);
            ups.Add(Blocks.Up(c, next, device, rng));
            c = next;
        }
        ups.Add(new Conv2d(c, 3, 3, 1, 1, device: device, rng: rng));
        ups.Add(new Tanh());
        Body = RegisterModule("body", new Sequential([.. ups]));
    }

    public ConditioningAugmentation Augmentation { get; }
    public Sequential Encode { get; }
    public Sequential Joint { get; }
    public Sequential Residual { get; }
    public Sequential Body { get; }

    /// <summary>Images [n, 3, side, side] from stage I's images [n, 3, lowSide, lowSide] and the condition c [n, condition].</summary>
    public Tensor Forward(Tensor low, Tensor c)
    {
        var h = Encode.Forward(low);
        var joined = Joint.Forward(Ops.ChannelConcat(h, Blocks.Maps(c, h.Dim(2), h.Dim(3))));
        return Body.Forward(Residual.Forward(joined));
    }

    /// <summary>Not available: call <see cref="Forward(Tensor, Tensor)"/>.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("Stage2Generator: call Forward(low, c)");
}

/// <summary>
/// A matching-aware discriminator (the paper's, after Reed et al. 2016's GAN-CLS): the image through 4x4 stride-2
/// convolutions down to 4x4 (width, 2 width, 4 width, 8 width features; batch norm after the first), the condition
/// (mu of the generator's augmentation, detached, as in the reference) joined as constant 4x4 maps, a 3x3 convolution
/// (batch norm, LeakyReLU) and a 4x4 convolution to one logit: whether the image is real <i>and</i> matches the text.
/// With <c>unconditional</c>, a second 4x4 convolution reads the image's 4x4 features alone (the reference's stage-II
/// <c>get_uncond_logits</c>): whether the image is real, whatever the text, so G is also told about realism apart from
/// matching.
/// </summary>
public sealed class StageDiscriminator : Module
{
    public StageDiscriminator(int side, int condition, int width, Device device, Rng rng, bool unconditional = false)
    {
        if (side < 8 || (side & (side - 1)) != 0) throw new ArgumentException($"StageDiscriminator: the side must be a power of 2 of at least 8, got {side}");
        var downs = new List<Module>();
        int c = 3, w = width;
        for (int s = side; s > 4; s /= 2)
        {
            downs.Add(Blocks.Down(c, w, norm: c != 3, device, rng));
            c = w;
            w = Math.Min(w * 2, width * 8);
        }
        Features = RegisterModule("features", new Sequential([.. downs]));
        Head = RegisterModule("head", new Sequential(
            new Conv2d(c + condition, c, 3, 1, 1, bias: false, device: device, rng: rng), new BatchNorm2d(c, device: device), new LeakyReLU(0.2f),
            new Conv2d(c, 1, 4, 4, 0, device: device, rng: rng)));
        if (unconditional) UnconditionalHead = RegisterModule("uncond_head", new Conv2d(c, 1, 4, 4, 0, device: device, rng: rng));
    }

    public Sequential Features { get; }
    public Sequential Head { get; }

    /// <summary>The text-blind head (null unless built with <c>unconditional</c>).</summary>
    public Conv2d? UnconditionalHead { get; }

    /// <summary>Logits [n, 1] of images [n, 3, side, side] with conditions [n, condition].</summary>
    public Tensor Forward(Tensor images, Tensor condition) => Logits(images, condition).Conditional;

    /// <summary>
    /// The conditional logits [n, 1] and, with an unconditional head, the text-blind ones [n, 1] (else null), from one
    /// pass through the features.
    /// </summary>
    public (Tensor Conditional, Tensor? Unconditional) Logits(Tensor images, Tensor condition)
    {
        var f = Features.Forward(images);
        var logits = Ops.Reshape(Head.Forward(Ops.ChannelConcat(f, Blocks.Maps(condition, f.Dim(2), f.Dim(3)))), images.Dim(0), 1);
        return (logits, UnconditionalHead is { } u ? Ops.Reshape(u.Forward(f), images.Dim(0), 1) : null);
    }

    /// <summary>Not available: call <see cref="Forward(Tensor, Tensor)"/>.</summary>
    public override Tensor Forward(Tensor x) => throw new NotSupportedException("StageDiscriminator: call Forward(images, condition)");
}

/// <summary>The matching-aware GAN loss of StackGAN (and GAN-CLS), with binary cross-entropy on logits.</summary>
public static class MatchingAwareLoss
{
    /// <summary>
    /// D's loss: BCE(D(real, text), 1) + (BCE(D(fake, text), 0) + BCE(D(real, mismatched text), 0)) / 2, each BCE the mean
    /// over the batch (the reference's <c>compute_discriminator_loss</c>, conditional terms).
    /// </summary>
    public static Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, Tensor wrongLogits)
    {
        var fakeAndWrong = Losses.BceWithLogits(fakeLogits, 0f).Add(Losses.BceWithLogits(wrongLogits, 0f)).Mul(0.5f);
        return Losses.BceWithLogits(realLogits, 1f).Add(fakeAndWrong);
    }

    /// <summary>
    /// D's loss with the text-blind logits too (the reference's stage II): (BCE(real, 1) + BCE(real uncond, 1)) / 2 +
    /// (BCE(fake, 0) + BCE(wrong, 0) + BCE(fake uncond, 0)) / 3. (A real image with a mismatched text is still real,
    /// so the text-blind head never sees the mismatched pairs.)
    /// </summary>
    public static Tensor Discriminator(Tensor realLogits, Tensor fakeLogits, Tensor wrongLogits, Tensor realUnconditional, Tensor fakeUnconditional)
    {
        var real = Losses.BceWithLogits(realLogits, 1f).Add(Losses.BceWithLogits(realUnconditional, 1f)).Mul(0.5f);
        var fake = Losses.BceWithLogits(fakeLogits, 0f).Add(Losses.BceWithLogits(wrongLogits, 0f)).Add(Losses.BceWithLogits(fakeUnconditional, 0f)).Mul(1f / 3f);
        return real.Add(fake);
    }

    /// <summary>G's adversarial loss: BCE(D(fake, text), 1) (non-saturating); the KL term is added by the job.</summary>
    public static Tensor Generator(Tensor fakeLogits) => Losses.BceWithLogits(fakeLogits, 1f);

    /// <summary>G's adversarial loss with the text-blind logits too: BCE(fake, 1) + BCE(fake uncond, 1) (the reference's).</summary>
    public static Tensor Generator(Tensor fakeLogits, Tensor fakeUnconditional) =>
        Losses.BceWithLogits(fakeLogits, 1f).Add(Losses.BceWithLogits(fakeUnconditional, 1f));
}
