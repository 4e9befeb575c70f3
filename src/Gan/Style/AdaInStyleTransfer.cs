using NativeGan.Nn;

namespace NativeGan.Gan.Style;

/// <summary>
/// The arithmetic of AdaIN style transfer (Huang and Belongie, "Arbitrary Style Transfer in Real-time with Adaptive
/// Instance Normalization", ICCV 2017), composed from recorded ops where a gradient must pass (the style loss), and the
/// engine's fused <see cref="Ops.AdaIN"/> where none does (the target t).
/// </summary>
public static class AdaInMath
{
    /// <summary>The epsilon inside every standard deviation here: sqrt(var + eps), the AdaIN op's own.</summary>
    public const float Eps = 1e-5f;

    /// <summary>
    /// Per-(sample, channel) mean and standard deviation of feature maps F [N, C, H, W] over the positions: mean
    /// [N, C, 1, 1] and sqrt(biased variance + <see cref="Eps"/>) [N, C, 1, 1]; recorded, so the gradient reaches F.
    /// The reference implementation takes the unbiased variance; the biased one is what the AdaIN op normalises with,
    /// so a target built by AdaIN has exactly the style's statistics under this definition.
    /// </summary>
    public static (Tensor Mean, Tensor Std) MeanStd(Tensor features)
    {
        if (features.Rank != 4) throw new TensorShapeException($"AdaIN: expects feature maps [N, C, H, W], got {Shapes.Format(features.Shape)}");
        var mean = features.Mean([2, 3], keepDims: true);
        using var centred = features.Sub(mean);
        using var squares = centred.Square();
        using var variance = squares.Mean([2, 3], keepDims: true);
        using var shifted = variance.Add(Eps);
        return (mean, shifted.Sqrt());
    }

    /// <summary>
    /// AdaIN(x, y) = σ(y) (x - μ(x)) / σ(x) + μ(y): content features <paramref name="content"/> [N, C, H, W] given the
    /// channel statistics of style features <paramref name="style"/> [N, C, H', W'] (any size; one style per sample).
    /// </summary>
    public static Tensor AdaIN(Tensor content, Tensor style)
    {
        if (content.Rank != 4 || style.Rank != 4 || content.Dim(0) != style.Dim(0) || content.Dim(1) != style.Dim(1))
            throw new TensorShapeException($"AdaIN: content {Shapes.Format(content.Shape)} and style {Shapes.Format(style.Shape)} features need the same samples and channels");
        var (mean, std) = MeanStd(style);
        using (mean)
        using (std)
        {
            using var scale = Ops.Reshape(std, content.Dim(0), content.Dim(1));
            using var bias = Ops.Reshape(mean, content.Dim(0), content.Dim(1));
            return content.AdaIN(scale, bias, Eps);
        }
    }

    /// <summary>
    /// The decoder's input at use time: t = α Σ_k w_k AdaIN(f(c), f(s_k)) + (1 - α) f(c) (the paper's equations 13 and
    /// 14). <paramref name="weights"/> are the styles' shares (summing to 1). With α = 0 it is f(c) exactly:
    /// f(c)·1 + t·0 adds zeros.
    /// </summary>
    public static Tensor Target(Tensor content, IReadOnlyList<Tensor> styles, IReadOnlyList<float> weights, float alpha)
    {
        if (styles.Count == 0 || styles.Count != weights.Count)
            throw new ArgumentException($"AdaIN: {styles.Count} style(s) and {weights.Count} weight(s); give one weight per style");
        if (!(alpha >= 0 && alpha <= 1)) throw new ArgumentException($"AdaIN: alpha must be in [0, 1], got {alpha}");
        Tensor? mixed = null;
        for (int k = 0; k < styles.Count; k++)
        {
            using var t = AdaIN(content, styles[k]);
            using var weighted = t.Mul(weights[k] * alpha);
            if (mixed is null) mixed = weighted.Clone();
            else
            {
                using var was = mixed;
                mixed = was.Add(weighted);
            }
        }
        using (mixed)
        {
            using var kept = content.Mul(1f - alpha);
            return kept.Add(mixed!);
        }
    }

    /// <summary>
    /// One layer's style loss: mean((μ(F) - μ(S))²) + mean((σ(F) - σ(S))²) over [N, C], F the output's features and
    /// <paramref name="styleMean"/>, <paramref name="styleStd"/> the style's (the paper's equation 12 with the squared
    /// distance averaged, as the widely used PyTorch implementation computes it).
    /// </summary>
    public static Tensor StyleLoss(Tensor features, Tensor styleMean, Tensor styleStd)
    {
        var (mean, std) = MeanStd(features);
        using (mean)
        using (std)
        {
            if (!mean.Shape.SequenceEqual(styleMean.Shape) || !std.Shape.SequenceEqual(styleStd.Shape))
                throw new TensorShapeException($"AdaIN style loss: the output's statistics {Shapes.Format(mean.Shape)} and the style's {Shapes.Format(styleMean.Shape)} differ");
            using var meanLoss = StyleLosses.ContentLoss(mean, styleMean);
            using var stdLoss = StyleLosses.ContentLoss(std, styleStd);
            return meanLoss.Add(stdLoss);
        }
    }
}

/// <summary>
/// AdaIN's decoder: the mirror of the encoder up to the AdaIN layer, pooling replaced by nearest-neighbour 2x
/// upsampling (the paper's design). From C channels at 1/2^k of the image: a 3x3 convolution to ch_0, then k times
/// (upsample, 3x3 convolution to ch_j, and below full size a second one), each followed by ReLU, and a last 3x3
/// convolution to RGB; ch_j = max(width / 2, 2 width / 2^j). Zero padding (the paper pads by reflection, which the engine's
/// convolution does not have). It outputs pixels: 127.5 (1 + y), so 0..255 is its natural range (unclamped, as the
/// paper's).
/// </summary>
public sealed class AdaInDecoder : Module
{
    readonly ModuleList<Nn.Conv2d> convs;
    readonly int[] upsampleBefore; // per convolution: whether the input is upsampled 2x first
    readonly DecoderPadding padding;

    /// <param name="channels">The AdaIN layer's channels C.</param>
    /// <param name="upsamplings">k: how many times the encoder halved the image up to that layer.</param>
    /// <param name="width">ch_1, the features after the first upsampling.</param>
    /// <param name="device">Where the weights live.</param>
    /// <param name="rng">Their initialisation (PyTorch's default).</param>
    /// <param name="padding">How the 3x3 convolutions pad (the weights are the same either way).</param>
    public AdaInDecoder(int channels, int upsamplings, int width, Device device, Rng rng, DecoderPadding padding = DecoderPadding.Reflect)
    {
        this.padding = padding;
        if (channels < 1 || upsamplings < 0 || width < 2)
            throw new ArgumentException($"AdaInDecoder: channels {channels}, upsamplings {upsamplings} and width {width} must be at least 1, 0 and 2");
        (Channels, Upsamplings) = (channels, upsamplings);
        int Ch(int j) => Math.Max(width / 2, (2 * width) >> Math.Min(j, 30));
        var layers = new List<Nn.Conv2d>();
        var ups = new List<int>();
        void Conv(int inC, int outC, bool up)
        {
            layers.Add(new Nn.Conv2d(inC, outC, 3, padding: padding == DecoderPadding.Zero ? 1 : 0, device: device, rng: rng));
            ups.Add(up ? 1 : 0);
        }
        Conv(channels, Ch(0), false);
        for (int j = 1; j <= upsamplings; j++)
        {
            Conv(Ch(j - 1), Ch(j), true);
            if (j < upsamplings) Conv(Ch(j), Ch(j), false);
        }
        Conv(Ch(upsamplings), 3, false);
        convs = RegisterModule("convs", new ModuleList<Nn.Conv2d>(layers));
        upsampleBefore = [.. ups];
    }

    /// <summary>The AdaIN layer's channels it takes.</summary>
    public int Channels { get; }

    /// <summary>How many 2x upsamplings it makes (the encoder's size ratio is 2^this).</summary>
    public int Upsamplings { get; }

    /// <summary>Features t [N, C, h, w] to images [N, 3, h 2^k, w 2^k] in pixel units (0..255, unclamped).</summary>
    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != Channels)
            throw new TensorShapeException($"AdaInDecoder: expects features [N, {Channels}, h, w], got {Shapes.Format(x.Shape)}");
        Tensor current = x;
        for (int i = 0; i < convs.Count; i++)
        {
            Tensor input = current;
            if (upsampleBefore[i] == 1)
            {
                input = current.UpsampleNearest2x();
                if (!ReferenceEquals(current, x)) current.Dispose();
            }
            if (padding == DecoderPadding.Reflect)
            {
                var padded = input.ReflectionPad2d(1);
                if (!ReferenceEquals(input, x)) input.Dispose();
                input = padded;
            }
            var next = convs[i].Forward(input);
            if (!ReferenceEquals(input, x)) input.Dispose();
            if (i < convs.Count - 1)
            {
                using var linear = next;
                next = linear.Relu();
            }
            current = next;
        }
        using (current) return current.Affine(127.5f, 127.5f);
    }
}

/// <summary>How <see cref="AdaInDecoder"/>'s 3x3 convolutions see past the border.</summary>
public enum DecoderPadding
{
    /// <summary>The paper's decoder: the border mirrors the picture (<see cref="NativeGan.ReflectionPad2d"/>), so no frame is drawn.</summary>
    Reflect,

    /// <summary>Zeros around the features: what decoders trained before reflection padding existed used (they draw a dark frame).</summary>
    Zero,
}

/// <summary>How <see cref="AdaInStyleTransfer"/> keeps the content image's colours (the paper's section 7, after Gatys et al. 2017).</summary>
public enum ColorPreservation
{
    /// <summary>None: the output takes the style's colours.</summary>
    None,

    /// <summary>
    /// Colour matching: before transfer, the style image's pixels are mapped linearly so that their mean and covariance
    /// (over RGB) are the content image's (x' = Σc^½ Σs^-½ (x - μs) + μc, symmetric matrix roots); the style then brings
    /// its textures but the content's palette. What the paper shows and the reference code does.
    /// </summary>
    Histogram,
}

/// <summary>
/// AdaIN style transfer at use time: encoder, AdaIN at one layer, the trained decoder; one forward pass an image (no
/// optimisation), with the content-style trade-off α, interpolation between several styles and colour preservation.
/// </summary>
public sealed class AdaInStyleTransfer(StyleEncoder encoder, string layer, AdaInDecoder decoder)
{
    /// <summary>The encoder.</summary>
    public StyleEncoder Encoder => encoder;

    /// <summary>The value AdaIN works at.</summary>
    public string Layer => layer;

    /// <summary>The features at <paramref name="layers"/> of RGB images [N, 3, H, W] in 0..255 (recorded where the images require grad).</summary>
    public IReadOnlyDictionary<string, Tensor> Features(Tensor rgb255, IEnumerable<string> layers)
    {
        using var input = encoder.Preprocess(rgb255);
        return encoder.Network.Run(new Dictionary<string, Tensor> { [encoder.InputName] = input }, layers, anyImageSize: true);
    }

    /// <summary>
    /// <paramref name="content"/> [1, 3, H, W] (0..255) redrawn in the styles [1, 3, H', W'] mixed by
    /// <paramref name="weights"/> (at least 0, normalised to sum 1), with trade-off <paramref name="alpha"/>; the result
    /// [1, 3, H, W] clamped to 0..255. H and W must be multiples of the encoder's size ratio at the layer.
    /// </summary>
    public Tensor Run(Tensor content, IReadOnlyList<Tensor> styles, IReadOnlyList<float>? weights = null, float alpha = 1f,
        ColorPreservation color = ColorPreservation.None)
    {
        weights ??= [.. Enumerable.Repeat(1f, styles.Count)];
        if (styles.Count == 0) throw new ArgumentException("AdaIN: no style image");
        if (weights.Count != styles.Count) throw new ArgumentException($"AdaIN: {styles.Count} style image(s) but {weights.Count} weight(s): give one weight per style");
        if (weights.Any(w => !(w >= 0) || !float.IsFinite(w)) || !(weights.Sum() > 0))
            throw new ArgumentException($"AdaIN: style weights must be at least 0 with a positive sum, got {string.Join(", ", weights)}");
        CheckImage("content", content);
        foreach (var s in styles) CheckImage("style", s);
        int ratio = 1 << decoder.Upsamplings;
        if (content.Dim(2) % ratio != 0 || content.Dim(3) % ratio != 0)
            throw new ArgumentException($"AdaIN: the content image's sides ({content.Dim(2)} x {content.Dim(3)}) must be multiples of {ratio} (the encoder's size ratio at {layer})");
        float total = weights.Sum();
        using var _ = Autograd.NoGrad();
        using var scope = new TensorScope();
        var fc = Features(content, [layer])[layer];
        var fs = new List<Tensor>();
        foreach (var style in styles)
        {
            if (color == ColorPreservation.None) { fs.Add(Features(style, [layer])[layer]); continue; }
            using var recoloured = ColorMatch(style, content);
            fs.Add(Features(recoloured, [layer])[layer]);
        }
        var t = AdaInMath.Target(fc, fs, [.. weights.Select(w => w / total)], alpha);
        var image = decoder.Forward(t);
        var clamped = image.Clone();
        Elementwise.UnaryInto(UnaryOp.Clamp, clamped, clamped, 0f, 255f);
        return scope.Keep(clamped);
    }

    static void CheckImage(string what, Tensor image)
    {
        if (image.Rank != 4 || image.Dim(0) != 1 || image.Dim(1) != 3)
            throw new TensorShapeException($"AdaIN: the {what} image must be RGB [1, 3, H, W], got {Shapes.Format(image.Shape)}");
    }

    /// <summary>
    /// <paramref name="style"/> [1, 3, H, W] with its RGB mean and covariance made <paramref name="reference"/>'s:
    /// x' = A (x - μs) + μc, A = Σc^½ Σs^-½ (symmetric roots by Jacobi eigen-decomposition, in float64), clamped to 0..255.
    /// </summary>
    public static Tensor ColorMatch(Tensor style, Tensor reference)
    {
        var s = style.ToArray();
        var (muS, covS) = Moments(s);
        var (muC, covC) = Moments(reference.ToArray());
        var a = Multiply(SymmetricPower(covC, 0.5), SymmetricPower(covS, -0.5));
        int plane = s.Length / 3;
        var output = new float[s.Length];
        for (int p = 0; p < plane; p++)
            for (int i = 0; i < 3; i++)
            {
                double v = muC[i];
                for (int j = 0; j < 3; j++) v += a[i, j] * (s[j * plane + p] - muS[j]);
                output[i * plane + p] = (float)Math.Clamp(v, 0, 255);
            }
        return Tensor.FromArray(output, style.Shape, style.Device);
    }

    /// <summary>RGB mean and covariance of planar pixels [3, P], in float64.</summary>
    public static (double[] Mean, double[,] Cov) Moments(float[] planar)
    {
        int plane = planar.Length / 3;
        var mean = new double[3];
        for (int c = 0; c < 3; c++)
        {
            double sum = 0;
            for (int p = 0; p < plane; p++) sum += planar[c * plane + p];
            mean[c] = sum / plane;
        }
        var cov = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = i; j < 3; j++)
            {
                double sum = 0;
                for (int p = 0; p < plane; p++) sum += (planar[i * plane + p] - mean[i]) * (planar[j * plane + p] - mean[j]);
                cov[i, j] = cov[j, i] = sum / plane;
            }
        return (mean, cov);
    }

    /// <summary>
    /// M^power of a symmetric positive semi-definite 3 x 3 matrix. Eigenvalues are floored at 1e-3 of the largest (and
    /// 1e-6): a gray picture's covariance has rank 1, and its -½ power would otherwise blow up the noise off the gray axis.
    /// </summary>
    public static double[,] SymmetricPower(double[,] m, double power)
    {
        var (values, vectors) = Jacobi(m);
        double floor = Math.Max(1e-6, 1e-3 * values.Max());
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double sum = 0;
                for (int k = 0; k < 3; k++) sum += vectors[i, k] * Math.Pow(Math.Max(values[k], floor), power) * vectors[j, k];
                r[i, j] = sum;
            }
        return r;
    }

    static double[,] Multiply(double[,] a, double[,] b)
    {
        var r = new double[3, 3];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 3; k++) r[i, j] += a[i, k] * b[k, j];
        return r;
    }

    /// <summary>Eigenvalues and eigenvectors (columns) of a symmetric 3 x 3 matrix by cyclic Jacobi rotations.</summary>
    static (double[] Values, double[,] Vectors) Jacobi(double[,] m)
    {
        var a = (double[,])m.Clone();
        var v = new double[3, 3] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } };
        for (int sweep = 0; sweep < 50; sweep++)
        {
            double off = Math.Abs(a[0, 1]) + Math.Abs(a[0, 2]) + Math.Abs(a[1, 2]);
            if (off < 1e-12 * (Math.Abs(a[0, 0]) + Math.Abs(a[1, 1]) + Math.Abs(a[2, 2]) + 1e-300)) break;
            for (int p = 0; p < 2; p++)
                for (int q = p + 1; q < 3; q++)
                {
                    if (a[p, q] == 0) continue;
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < 3; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < 3; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        return ([a[0, 0], a[1, 1], a[2, 2]], v);
    }
}
