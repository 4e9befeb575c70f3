namespace NativeGan.Nn;

/// <summary>
/// Pixel-wise feature normalisation (ProGAN, Karras et al. 2018, section 4.2): each pixel's feature vector scaled to
/// unit mean square over the channels, <c>y = x / sqrt(mean_c(x²) + eps)</c>, eps 1e-8; for [N, C, H, W] or [N, C]
/// (StyleGAN normalises its latent z this way). Written with the tape's ops, so it differentiates twice.
/// </summary>
public sealed class PixelNorm(float eps = 1e-8f) : Module
{
    public float Eps { get; } = eps;

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank is not (2 or 4)) throw new TensorShapeException($"PixelNorm: expects [N, C] or [N, C, H, W], got {Shapes.Format(x.Shape)}");
        return x.Mul(x.Square().Mean([1], keepDims: true).Add(Eps).Pow(-0.5f));
    }
}

/// <summary>
/// The equalized learning rate (ProGAN, section 4.1): a layer's weights are drawn from N(0, 1/lrMultiplier²) and
/// scaled at every use by <c>gain / sqrt(fan_in) · lrMultiplier</c> (He's constant), so Adam, which normalises each
/// step by the gradient's size, moves every layer at one speed whatever its fan-in. <c>lrMultiplier</c> below 1 slows
/// a layer (StyleGAN's mapping network uses 0.01): its bias is scaled by it too.
/// </summary>
public static class EqualizedLearningRate
{
    /// <summary>The constant a weight of fan-in <paramref name="fanIn"/> is scaled by at run time.</summary>
    public static float Scale(int fanIn, float gain, float lrMultiplier) => gain / MathF.Sqrt(fanIn) * lrMultiplier;

    internal static void Initialise(Tensor weight, float lrMultiplier, Rng? rng)
    {
        if (!(lrMultiplier > 0)) throw new ArgumentOutOfRangeException(nameof(lrMultiplier), lrMultiplier, "equalized learning rate: lrMultiplier must be positive");
        Init.Normal(weight, 0f, 1f / lrMultiplier, rng);
    }
}

/// <summary>A linear layer with the equalized learning rate (<see cref="EqualizedLearningRate"/>): weight [out, in], bias [out].</summary>
public sealed class EqualizedLinear : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    /// <summary>What the weight is multiplied by at every use.</summary>
    public float WeightScale { get; }
    public float LrMultiplier { get; }

    public EqualizedLinear(int inFeatures, int outFeatures, bool bias = true, float gain = 1.4142135f, float lrMultiplier = 1f, Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        Weight = RegisterParameter("weight", Tensor.Empty(d, outFeatures, inFeatures));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(d, outFeatures));
        EqualizedLearningRate.Initialise(Weight, lrMultiplier, rng);
        (WeightScale, LrMultiplier) = (EqualizedLearningRate.Scale(inFeatures, gain, lrMultiplier), lrMultiplier);
    }

    public override Tensor Forward(Tensor x) => x.Linear(Weight.Mul(WeightScale), Bias is null ? null : LrMultiplier == 1f ? Bias : Bias.Mul(LrMultiplier));
}

/// <summary>A 2-D convolution with the equalized learning rate (<see cref="EqualizedLearningRate"/>): weight [out, in, k, k], bias [out].</summary>
public sealed class EqualizedConv2d : Module
{
    public Tensor Weight { get; }
    public Tensor? Bias { get; }
    public int Stride { get; }
    public int Padding { get; }
    /// <summary>What the weight is multiplied by at every use.</summary>
    public float WeightScale { get; }

    public EqualizedConv2d(int inChannels, int outChannels, int kernelSize, int stride = 1, int padding = 0, bool bias = true, float gain = 1.4142135f,
        Device? device = null, Rng? rng = null)
    {
        var d = device ?? Device.Cpu;
        (Stride, Padding) = (stride, padding);
        Weight = RegisterParameter("weight", Tensor.Empty(d, outChannels, inChannels, kernelSize, kernelSize));
        if (bias) Bias = RegisterParameter("bias", Tensor.Zeros(d, outChannels));
        EqualizedLearningRate.Initialise(Weight, 1f, rng);
        WeightScale = EqualizedLearningRate.Scale(inChannels * kernelSize * kernelSize, gain, 1f);
    }

    public override Tensor Forward(Tensor x) => x.Conv2d(Weight.Mul(WeightScale), Bias, Stride, Padding);
}

/// <summary>
/// StyleGAN's low-pass filter (Karras et al. 2019, after Zhang 2019): every channel convolved on its own with the
/// separable [1, 2, 1] ⊗ [1, 2, 1] / 16 kernel, zero-padded to keep the side. It removes the checkerboard of nearest
/// upsampling in G and the aliasing of pooling in D. Built as one 1-channel convolution of the channels stacked into
/// the batch ([N·C, 1, H, W]), so it differentiates twice as the convolution does (R1 and the gradient penalty see it).
/// </summary>
public sealed class Blur2d : Module
{
    static readonly float[] Taps = [1f, 2f, 1f, 2f, 4f, 2f, 1f, 2f, 1f];
    Tensor? kernel;

    /// <summary>The kernel's weights, row-major 3x3, summing to 1.</summary>
    public static IReadOnlyList<float> Kernel { get; } = [.. Taps.Select(t => t / 16f)];

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4) throw new TensorShapeException($"Blur2d: expects [N, C, H, W], got {Shapes.Format(x.Shape)}");
        // The constant kernel outlives each call: the convolution's backward reads it after Forward returns.
        if (kernel is null || kernel.Device != x.Device)
        {
            kernel?.Dispose();
            kernel = Tensor.FromArray([.. Kernel], [1, 1, 3, 3], x.Device);
        }
        int n = x.Dim(0), c = x.Dim(1), h = x.Dim(2), w = x.Dim(3);
        return Ops.Reshape(Ops.Reshape(x, n * c, 1, h, w).Conv2d(kernel, null, 1, 1), n, c, h, w);
    }

    public override void Dispose()
    {
        kernel?.Dispose();
        kernel = null;
        base.Dispose();
    }
}
