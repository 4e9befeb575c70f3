namespace NativeGan.Nn;

/// <summary>
/// Adaptive instance normalisation as a layer (Huang and Belongie 2017; StyleGAN's style input): the content
/// features [N, C, H, W] are instance-normalised and given a per-sample, per-channel scale and bias computed
/// from a style vector [N, S] by a learned affine map <c>style</c> = Linear(S, 2C):
/// <code>
/// s = style(w)                  // [N, 2C]
/// scale = s[:, :C], bias = s[:, C:]
/// y = scale * (x - mean) / sqrt(var + eps) + bias   // mean, var per (sample, channel) plane
/// </code>
/// The scale is used as is (the <see cref="Ops.AdaIN"/> op multiplies by it); so that a fresh layer starts
/// near the identity, the first C entries of <c>style.bias</c> start at 1 and the last C at 0, as the
/// StyleGAN re-implementations do (rosinality's <c>AdaptiveInstanceNorm</c>: <c>bias[:C] = 1, bias[C:] = 0</c>).
/// The weight has PyTorch's Linear default. State-dict names: <c>style.weight</c> [2C, S], <c>style.bias</c> [2C].
/// <para>It takes two inputs, so call <see cref="Forward(Tensor, Tensor)"/>; the one-input
/// <see cref="Forward(Tensor)"/> of <see cref="Module"/> throws.</para>
/// </summary>
public sealed class AdaIN : Module
{
    public Linear Style { get; }
    public int Channels { get; }
    public int StyleDim { get; }
    public float Eps { get; }

    public AdaIN(int channels, int styleDim, float eps = 1e-5f, Device? device = null, Rng? rng = null)
    {
        if (channels < 1 || styleDim < 1)
            throw new ArgumentOutOfRangeException(nameof(channels), $"AdaIN: channels and styleDim must be >= 1, got {channels} and {styleDim}");
        var d = device ?? Device.Cpu;
        (Channels, StyleDim, Eps) = (channels, styleDim, eps);
        Style = RegisterModule("style", new Linear(styleDim, 2 * channels, device: d, rng: rng));
        var bias = new float[2 * channels];
        Array.Fill(bias, 1f, 0, channels);
        using var initial = Tensor.FromArray(bias, [2 * channels], d);
        Style.Bias!.CopyFrom(initial);
    }

    /// <summary>Content [N, C, H, W] styled by <paramref name="style"/> [N, S]; the result is [N, C, H, W].</summary>
    public Tensor Forward(Tensor content, Tensor style)
    {
        Check.Rank("AdaIN", "content", content, 4);
        Check.Rank("AdaIN", "style", style, 2);
        if (content.Dim(1) != Channels || style.Dim(1) != StyleDim || style.Dim(0) != content.Dim(0))
            throw new TensorShapeException($"AdaIN: expects content [N, {Channels}, H, W] and style [N, {StyleDim}], got content {Shapes.Format(content.Shape)} and style {Shapes.Format(style.Shape)}");
        using var s = Style.Forward(style);
        using var scale = s.ChannelSlice(0, Channels);
        using var bias = s.ChannelSlice(Channels, Channels);
        return content.AdaIN(scale, bias, Eps);
    }

    /// <summary>Not available: AdaIN needs a style input too; call <see cref="Forward(Tensor, Tensor)"/>.</summary>
    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException("AdaIN takes content features and a style vector: call Forward(content, style)");
}

/// <summary>
/// A learned vector per class, for class-conditional models (PyTorch's <c>nn.Embedding</c>): weight
/// [numClasses, dim] drawn from N(0, 1) (PyTorch's default), and row <c>labels[n]</c> of it for each sample.
/// <para>The lookup is written as one-hot(labels) [N, numClasses] times the weight, a matrix product the tape
/// already differentiates: row k of the weight's gradient is the sum of the output gradients of the samples of
/// class k. (A gather kernel would skip the zeros; for the tens of classes of these models the product is as cheap.)</para>
/// <para>It takes integer labels, so call <see cref="Forward(int[])"/>; the tensor <see cref="Forward(Tensor)"/> throws.</para>
/// </summary>
public sealed class Embedding : Module
{
    public Tensor Weight { get; }
    public int NumClasses { get; }
    public int Dim { get; }

    public Embedding(int numClasses, int dim, Device? device = null, Rng? rng = null)
    {
        if (numClasses < 1 || dim < 1)
            throw new ArgumentOutOfRangeException(nameof(numClasses), $"Embedding: numClasses and dim must be >= 1, got {numClasses} and {dim}");
        (NumClasses, Dim) = (numClasses, dim);
        Weight = RegisterParameter("weight", Tensor.Empty(device ?? Device.Cpu, numClasses, dim));
        Init.Normal(Weight, 0f, 1f, rng);
    }

    /// <summary>Row <c>labels[n]</c> of the weight for each n: [labels.Length, dim].</summary>
    public Tensor Forward(int[] labels)
    {
        if (labels.Length == 0) throw new ArgumentException("Embedding: no labels given");
        var oneHot = new float[labels.Length * NumClasses];
        for (int n = 0; n < labels.Length; n++)
        {
            if ((uint)labels[n] >= (uint)NumClasses)
                throw new ArgumentOutOfRangeException(nameof(labels), $"Embedding: label {n} is {labels[n]}, expected 0 .. {NumClasses - 1}");
            oneHot[n * NumClasses + labels[n]] = 1f;
        }
        using var x = Tensor.FromArray(oneHot, [labels.Length, NumClasses], Weight.Device);
        return x.MatMul(Weight);
    }

    /// <summary>Not available: an embedding takes integer labels; call <see cref="Forward(int[])"/>.</summary>
    public override Tensor Forward(Tensor x) =>
        throw new NotSupportedException("Embedding takes integer class labels: call Forward(int[] labels)");
}
