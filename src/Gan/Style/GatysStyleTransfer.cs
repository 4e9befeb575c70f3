using NativeGan.Gan.Pretrained;
using NativeGan.Nn;
using NativeGan.Nn.Onnx;

namespace NativeGan.Gan.Style;

/// <summary>The settings of <see cref="GatysStyleTransfer"/>.</summary>
/// <param name="Steps">Optimisation steps (Adam on the pixels).</param>
/// <param name="LearningRate">Adam's step on pixel values 0..255.</param>
/// <param name="ContentWeight">Weight of the content loss (the ratio to <paramref name="StyleWeight"/> is what matters).</param>
/// <param name="StyleWeight">Weight of the style loss, summed over the style layers.</param>
/// <param name="TvWeight">Weight of the total-variation loss (on pixels 0..255).</param>
/// <param name="ContentLayer">The encoder's value whose features the output keeps from the content image (default: ResNet-18's stage 2).</param>
/// <param name="StyleLayers">The encoder's values whose Gram matrices the output takes from the style image (default: ResNet-18's stem and stages 1-3).</param>
/// <param name="StartFromContent">Start from the content image (true, the usual choice) or from noise around mid-gray.</param>
/// <param name="Seed">Seed of the noise start.</param>
public sealed record GatysOptions(
    int Steps = 300,
    float LearningRate = 4f,
    float ContentWeight = 1f,
    float StyleWeight = 1e3f,
    float TvWeight = 1e-3f,
    string ContentLayer = GatysStyleTransfer.Layer2,
    string[]? StyleLayers = null,
    bool StartFromContent = true,
    ulong Seed = 0)
{
    /// <summary>The style layers, defaulting to the ReLU after the stem and after each of the first three stages.</summary>
    public string[] StyleLayersOrDefault => StyleLayers ?? [GatysStyleTransfer.Stem, GatysStyleTransfer.Layer1, GatysStyleTransfer.Layer2, GatysStyleTransfer.Layer3];
}

/// <summary>One step's losses (weighted, as summed into the total).</summary>
public sealed record GatysStep(int Step, double Total, double Content, double Style, double Tv);

/// <summary>
/// Neural style transfer by optimisation (Gatys, Ecker and Bethge, "Image Style Transfer Using Convolutional Neural
/// Networks", CVPR 2016): the output's pixels are optimised so that its features at one deep layer match the content
/// image's (content loss) and the Gram matrices of its features at several layers match the style image's (style
/// loss), plus a total-variation term. The paper uses VGG-19, which cannot be had here; this uses the ImageNet
/// ResNet-18 the project reads from ONNX (<see cref="ResNet18"/>), tapped after its ReLUs. Adam on pixels 0..255.
/// <para>The network runs at the images' own size: its preprocessing file's mean image is 224 x 224, so the same
/// preprocessing (RGB to BGR, minus the mean) is done here with that image's per-channel means. Any other network read
/// from ONNX can serve instead (<see cref="StyleEncoder.FromOnnx"/>: a VGG-19 a user exported, with its input
/// convention and the layer names to tap).</para>
/// </summary>
public sealed class GatysStyleTransfer
{
    /// <summary>ResNet-18's ReLU outputs by stage (CNTK's value names): the stem (64 channels, 1/2 size), stages 1-3 (64, 128, 256 channels; 1/4, 1/8, 1/16).</summary>
    public const string Stem = "ReLU253_Output_0", Layer1 = "ReLU283_Output_0", Layer2 = "ReLU315_Output_0", Layer3 = "ReLU347_Output_0";

    readonly StyleEncoder encoder;

    /// <summary>Style transfer in the ImageNet ResNet-18's features (<see cref="StyleEncoder.FromResNet18"/>).</summary>
    public GatysStyleTransfer(ResNet18 net) : this(StyleEncoder.FromResNet18(net)) { }

    /// <summary>Style transfer in the features of any encoder (a user's ONNX network: <see cref="StyleEncoder.FromOnnx"/>).</summary>
    public GatysStyleTransfer(StyleEncoder encoder) => this.encoder = encoder;

    /// <summary>The features at <paramref name="layers"/> of RGB images [N, 3, H, W] in 0..255 (recorded: the gradient reaches the images).</summary>
    public IReadOnlyDictionary<string, Tensor> Features(Tensor rgb255, IEnumerable<string> layers)
    {
        using var input = encoder.Preprocess(rgb255);
        return encoder.Network.Run(new Dictionary<string, Tensor> { [encoder.InputName] = input }, layers, anyImageSize: true);
    }

    /// <summary>
    /// The stylised image [1, 3, H, W] (0..255) of <paramref name="content"/> [1, 3, H, W] in the style of
    /// <paramref name="style"/> [1, 3, H', W'] (both 0..255). <paramref name="onStep"/> sees every step's losses and the
    /// current image (do not keep it: it changes).
    /// </summary>
    public Tensor Run(Tensor content, Tensor style, GatysOptions options, Action<GatysStep, Tensor>? onStep = null)
    {
        if (content.Rank != 4 || content.Dim(0) != 1 || content.Dim(1) != 3 || style.Rank != 4 || style.Dim(0) != 1 || style.Dim(1) != 3)
            throw new TensorShapeException($"Gatys: content and style must be RGB images [1, 3, H, W], got {Shapes.Format(content.Shape)} and {Shapes.Format(style.Shape)}");
        if (options.Steps < 0 || !(options.LearningRate > 0))
            throw new ArgumentException($"Gatys: steps must be >= 0 and the learning rate > 0, got {options.Steps} and {options.LearningRate}");
        var styleLayers = options.StyleLayersOrDefault;
        var allLayers = styleLayers.Append(options.ContentLayer).Distinct().ToArray();

        // The targets, fixed: the content image's features at the content layer, the style image's Gram matrices.
        Tensor contentTarget;
        var styleTargets = new Dictionary<string, Tensor>();
        using (Autograd.NoGrad())
        {
            var contentFeatures = Features(content, [options.ContentLayer]);
            contentTarget = contentFeatures[options.ContentLayer];
            var styleFeatures = Features(style, styleLayers);
            foreach (var layer in styleLayers)
            {
                styleTargets[layer] = StyleLosses.Gram(styleFeatures[layer]);
                styleFeatures[layer].Dispose();
            }
        }

        var image = options.StartFromContent
            ? content.Clone()
            : new Rng(options.Seed).Uniform(content.Device, content.Shape, 96f, 160f);
        image.RequiresGrad = true;
        var adam = new Adam([image], options.LearningRate);
        try
        {
            for (int step = 1; step <= options.Steps; step++)
            {
                GatysStep losses;
                using (new TensorScope())
                {
                    var features = Features(image, allLayers);
                    var contentLoss = StyleLosses.ContentLoss(features[options.ContentLayer], contentTarget).Mul(options.ContentWeight);
                    Tensor styleLoss = StyleLosses.StyleLoss(features[styleLayers[0]], styleTargets[styleLayers[0]]);
                    foreach (var layer in styleLayers.Skip(1)) styleLoss = styleLoss.Add(StyleLosses.StyleLoss(features[layer], styleTargets[layer]));
                    styleLoss = styleLoss.Mul(options.StyleWeight);
                    var tv = StyleLosses.TotalVariation(image).Mul(options.TvWeight);
                    var total = contentLoss.Add(styleLoss).Add(tv);
                    image.ZeroGrad();
                    total.Backward();
                    losses = new(step, total.Item(), contentLoss.Item(), styleLoss.Item(), tv.Item());
                }
                adam.Step();
                using (Autograd.NoGrad()) Elementwise.UnaryInto(UnaryOp.Clamp, image, image, 0f, 255f);
                onStep?.Invoke(losses, image);
            }
            image.ZeroGrad();
            image.RequiresGrad = false;
            return image;
        }
        catch
        {
            image.Dispose();
            throw;
        }
        finally
        {
            contentTarget.Dispose();
            foreach (var t in styleTargets.Values) t.Dispose();
        }
    }
}

/// <summary>How an image becomes an encoder's input, for <see cref="StyleEncoder.FromOnnx"/>.</summary>
public enum EncoderInput
{
    /// <summary>BGR, 0..255, minus the ImageNet channel means (Caffe's and CNTK's convention; ML.NET's ResNet-18).</summary>
    CaffeBgr,

    /// <summary>RGB in 0..1, minus the ImageNet means (0.485, 0.456, 0.406), divided by the standard deviations (0.229, 0.224, 0.225): torchvision's convention.</summary>
    TorchvisionRgb,

    /// <summary>RGB 0..255 as it is.</summary>
    Rgb255,
}

/// <summary>A network whose features style transfer matches: an ONNX model, its input's name and the map from RGB 0..255 to that input.</summary>
/// <param name="Network">The network (only the nodes up to the tapped values run).</param>
/// <param name="InputName">Its graph input.</param>
/// <param name="Preprocess">RGB [N, 3, H, W] in 0..255 to the network's input, in recorded ops.</param>
public sealed record StyleEncoder(OnnxModel Network, string InputName, Func<Tensor, Tensor> Preprocess)
{
    /// <summary>ML.NET's ResNet-18: BGR minus the per-channel means of its preprocessing file's mean image.</summary>
    public static StyleEncoder FromResNet18(ResNet18 net)
    {
        var meanImage = net.Preprocess.StateDict().Values.Single(t => t.Rank == 4 && t.Dim(1) == 3).ToArray();
        int plane = meanImage.Length / 3;
        float[] bgrMeans = [.. Enumerable.Range(0, 3).Select(c => (float)meanImage.AsSpan(c * plane, plane).ToArray().Average(v => (double)v))];
        return new(net.Network, ResNet18.InputName, rgb => Normalise(rgb, bgr: true, bgrMeans, [1f, 1f, 1f]));
    }

    /// <summary>A user's ONNX network with one image input [N, 3, H, W] and the given input convention.</summary>
    public static StyleEncoder FromOnnx(OnnxModel network, EncoderInput input)
    {
        if (network.Inputs.Count != 1)
            throw new OnnxModelException($"{network.File}: a style encoder needs one image input, the graph has {network.Inputs.Count}");
        return new(network, network.Inputs[0].Name, input switch
        {
            // Caffe's ImageNet means in BGR order (104, 117, 124).
            EncoderInput.CaffeBgr => rgb => Normalise(rgb, bgr: true, [103.939f, 116.779f, 123.68f], [1f, 1f, 1f]),
            EncoderInput.TorchvisionRgb => rgb => Normalise(rgb, bgr: false, [0.485f * 255, 0.456f * 255, 0.406f * 255], [1 / (0.229f * 255), 1 / (0.224f * 255), 1 / (0.225f * 255)]),
            _ => rgb => Ops.Reshape(rgb, rgb.Shape),
        });
    }

    /// <summary>(x - mean) * scale per channel, after reordering RGB to BGR when asked; recorded ops.</summary>
    static Tensor Normalise(Tensor rgb, bool bgr, float[] mean, float[] scale)
    {
        using var r = rgb.ChannelSlice(0, 1);
        using var g = rgb.ChannelSlice(1, 1);
        using var b = rgb.ChannelSlice(2, 1);
        using var ordered = bgr ? Ops.ChannelConcat(b, g, r) : Ops.ChannelConcat(r, g, b);
        using var meanT = Tensor.FromArray(mean, [1, 3, 1, 1], rgb.Device);
        using var scaleT = Tensor.FromArray(scale, [1, 3, 1, 1], rgb.Device);
        using var centred = ordered.Sub(meanT);
        return centred.Mul(scaleT);
    }
}
