using System.CommandLine;
using System.Diagnostics;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Pretrained;
using NativeGan.Gan.Style;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan stylize --method gatys --content A.jpg --style B.jpg --size 256 --out C.png</c>: neural style transfer by
/// optimising the pixels (Gatys et al. 2016) in the features of the ImageNet ResNet-18 read from ONNX.
/// </summary>
public static class StylizeCommand
{
    public static Command Create()
    {
        var method = new Option<string>("--method") { Description = "gatys: optimise the output's pixels (minutes on a cpu); adain: one pass through a trained AdaIN decoder (--checkpoint from `nativegan train adain`).", DefaultValueFactory = _ => "gatys" };
        var content = new Option<string>("--content") { Description = "The content image (PNG, JPEG, BMP), or stdlib:NAME for a public-domain photo fetched with npm (e.g. stdlib:locomotion-house-cat).", Required = true };
        var style = new Option<string>("--style") { Description = "The style image, the same ways; with --method adain several, comma-separated, are mixed (--weights).", Required = true };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "adain: the decoder's checkpoint.safetensors (`nativegan train adain`)." };
        var weights = new Option<string?>("--weights") { Description = "adain: one weight (at least 0) per style image, comma-separated (normalised to sum 1; default equal)." };
        var alpha = new Option<float>("--alpha") { Description = "adain: the content-style trade-off in [0, 1]: 0 decodes the content image's own features, 1 the full AdaIN target.", DefaultValueFactory = _ => 1f };
        var preserveColor = new Option<bool>("--preserve-color") { Description = "adain: keep the content's colours (the style image's RGB mean and covariance are matched to the content's before transfer)." };
        var size = new Option<int>("--size") { Description = "The output's side: the content image is center-cropped to a square and resized to it (the style image too).", DefaultValueFactory = _ => 256 };
        var output = new Option<string>("--out") { Description = "The PNG to write; beside it OUT-losses.png (the loss curve) and, with --every, OUT-steps/.", DefaultValueFactory = _ => "stylized.png" };
        var defaults = new GatysOptions();
        var steps = new Option<int>("--steps") { Description = "Optimisation steps (Adam on the pixels).", DefaultValueFactory = _ => defaults.Steps };
        var lr = new Option<float>("--lr") { Description = "Adam's learning rate on pixel values 0..255.", DefaultValueFactory = _ => defaults.LearningRate };
        var styleWeight = new Option<float>("--style-weight") { Description = "Style loss weight; the content loss weighs 1, so this is the style/content ratio.", DefaultValueFactory = _ => defaults.StyleWeight };
        var tvWeight = new Option<float>("--tv-weight") { Description = "Total-variation weight (smoothness).", DefaultValueFactory = _ => defaults.TvWeight };
        var every = new Option<int>("--every") { Description = "Write the picture every N steps into OUT-steps/ (0: only the result).", DefaultValueFactory = _ => 50 };
        var fromNoise = new Option<bool>("--from-noise") { Description = "Start from noise instead of the content image." };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the noise start.", DefaultValueFactory = _ => 0 };
        var encoder = new Option<string?>("--encoder") { Description = "Your own network as an ONNX file (e.g. a VGG-19 exported from PyTorch) instead of ResNet-18; give --content-layer and --style-layers (value names: `nativegan onnx FILE --values`)." };
        var encoderInput = new Option<string>("--encoder-input") { Description = "How --encoder wants its input: torchvision (RGB 0..1 normalised by ImageNet's mean and std), caffe (BGR 0..255 minus ImageNet's means) or rgb255.", DefaultValueFactory = _ => "torchvision" };
        var contentLayer = new Option<string?>("--content-layer") { Description = $"The value whose features the content keeps (default with ResNet-18: {GatysStyleTransfer.Layer2})." };
        var styleLayers = new Option<string?>("--style-layers") { Description = "Comma-separated values whose Gram matrices carry the style (default with ResNet-18: the stem and stages 1-3)." };
        var device = Cli.DeviceOption();
        var command = new Command("stylize", "Neural style transfer: redraw a content image in the style of another (Gatys et al. 2016, in ImageNet ResNet-18's features).")
        {
            method, content, style, checkpoint, weights, alpha, preserveColor, size, output, steps, lr, styleWeight, tvWeight, every, fromNoise, seed, encoder, encoderInput, contentLayer, styleLayers, device,
        };
        command.SetAction(r =>
        {
            int side = r.GetValue(size);
            if (r.GetValue(method) == "adain")
                return RunAdaIn(r.GetValue(checkpoint), r.GetValue(content)!, r.GetValue(style)!, r.GetValue(weights), r.GetValue(alpha), r.GetValue(preserveColor), side, r.GetValue(output)!, r.GetValue(device)!);
            var d = Cli.OpenDevice(r.GetValue(device)!);
            if (d is null) return 2;
            try
            {
                if (r.GetValue(method) != "gatys")
                    throw new ArgumentException($"stylize: --method must be gatys or adain, got '{r.GetValue(method)}'");
                if (r.GetValue(style)!.Contains(',')) throw new ArgumentException("stylize: --method gatys takes one style image (several are mixed by --method adain)");
                if (side < 32 || side > 2048) throw new ArgumentException($"stylize: --size must be in 32..2048, got {side}");
                if (r.GetValue(every) < 0) throw new ArgumentException($"stylize: --every must be at least 0, got {r.GetValue(every)}");
                var userEncoder = r.GetValue(encoder);
                if (userEncoder is not null && (r.GetValue(contentLayer) is null || r.GetValue(styleLayers) is null))
                    throw new ArgumentException("stylize: --encoder needs --content-layer and --style-layers (the value names: `nativegan onnx FILE --values`)");
                var input = r.GetValue(encoderInput) switch
                {
                    "torchvision" => EncoderInput.TorchvisionRgb,
                    "caffe" => EncoderInput.CaffeBgr,
                    "rgb255" => EncoderInput.Rgb255,
                    var other => throw new ArgumentException($"stylize: --encoder-input must be torchvision, caffe or rgb255, got '{other}'"),
                };
                var options = new GatysOptions(r.GetValue(steps), r.GetValue(lr), 1f, r.GetValue(styleWeight), r.GetValue(tvWeight),
                    StartFromContent: !r.GetValue(fromNoise), Seed: r.GetValue(seed))
                {
                    ContentLayer = r.GetValue(contentLayer) ?? GatysStyleTransfer.Layer2,
                    StyleLayers = r.GetValue(styleLayers)?.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries),
                };
                return Run(d, Load(r.GetValue(content)!, side, d), Load(r.GetValue(style)!, side, d), options, r.GetValue(output)!, r.GetValue(every),
                    userEncoder is null ? null : (userEncoder, input));
            }
            catch (Exception e) when (e is ArgumentException or DataException or NativeGan.Nn.Onnx.OnnxModelException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return command;
    }

    /// <summary>
    /// The style layers the end-of-run measures use: with ResNet-18 the stem and stages 1 and 2 (AdaIN's default taps,
    /// so both methods are measured alike); with a user's encoder the method's own.
    /// </summary>
    static IReadOnlyList<string> MeasureLayers(bool resNet, IReadOnlyList<string> own) =>
        resNet ? [GatysStyleTransfer.Stem, GatysStyleTransfer.Layer1, GatysStyleTransfer.Layer2] : own;

    static void PrintMeasures(StyleMeasures m, string contentLayer, IReadOnlyList<string> styleLayers) =>
        AnsiConsole.MarkupLine($"[grey]measured (content at {Markup.Escape(contentLayer)}; style at {Markup.Escape(string.Join(", ", styleLayers))}): " +
                               $"content loss {m.Content:g4}, style loss (means and stds) {m.StyleMeanStd:g4}, style loss (Gram) {m.StyleGram:g4}[/]");

    /// <summary><c>stylize --method adain</c>: one pass through the checkpoint's decoder; the time of the pass is reported apart from loading.</summary>
    static int RunAdaIn(string? checkpoint, string contentSpec, string styleSpec, string? weightsText, float alpha, bool preserveColor, int side, string output, string deviceName)
    {
        if (checkpoint is null) { Cli.Error("stylize --method adain: give --checkpoint (a decoder trained by `nativegan train adain`)"); return 2; }
        var styleSpecs = styleSpec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        float[]? weights = null;
        if (weightsText is not null)
        {
            var parts = weightsText.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            weights = new float[parts.Length];
            for (int i = 0; i < parts.Length; i++)
                if (!float.TryParse(parts[i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out weights[i]) || !(weights[i] >= 0) || !float.IsFinite(weights[i]))
                {
                    Cli.Error($"stylize: --weights must be numbers of at least 0, comma-separated; got '{parts[i]}'");
                    return 2;
                }
            if (weights.Length != styleSpecs.Length)
            {
                Cli.Error($"stylize: {styleSpecs.Length} style image(s) but {weights.Length} weight(s) in --weights: give one weight per style");
                return 2;
            }
        }
        if (!(alpha >= 0 && alpha <= 1)) { Cli.Error($"stylize: --alpha must be in [0, 1], got {alpha}"); return 2; }
        if (side < 32 || side > 2048) { Cli.Error($"stylize: --size must be in 32..2048, got {side}"); return 2; }
        return Cli.WithCheckpoint(checkpoint, deviceName, (job, _, d) =>
        {
            if (job is not AdaInJob adain) throw new ArgumentException($"stylize --method adain: {checkpoint} holds a '{job.Kind}' model, not an AdaIN decoder (`nativegan train adain`)");
            using var content = Load(contentSpec, side, d);
            var styles = new List<Tensor>();
            try
            {
                foreach (var spec in styleSpecs) styles.Add(Load(spec, side, d));
                var transfer = adain.Transfer;
                adain.Decoder.Eval();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                using var image = transfer.Run(content, styles, weights, alpha, preserveColor ? ColorPreservation.Histogram : ColorPreservation.None);
                double seconds = clock.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
                ImageGrid.Save(output, image, columns: 1, padding: 0, low: 0f, high: 255f);
                var o = adain.AdaIn;
                AnsiConsole.MarkupLine($"[green]wrote {Markup.Escape(Path.GetFullPath(output))}[/]: AdaIN at {Markup.Escape(o.ContentLayer)}, {side} x {side}, alpha {alpha:0.###}" +
                                       (styles.Count > 1 ? $", {styles.Count} styles mixed" : "") + (preserveColor ? ", content colours kept" : "") +
                                       $", in {seconds:0.000} s (the pass alone, on {Markup.Escape(d.Name)}; {cpuSeconds:0.000} s of cpu time over all threads)");
                if (styles.Count == 1)
                    PrintMeasures(StyleMeasures.Of(transfer.Encoder, image, content, styles[0], o.ContentLayer, MeasureLayers(o.Encoder.Length == 0, o.StyleLayerList)),
                        o.ContentLayer, MeasureLayers(o.Encoder.Length == 0, o.StyleLayerList));
            }
            finally
            {
                foreach (var s in styles) s.Dispose();
            }
        });
    }

    /// <summary>An image file or stdlib:NAME as [1, 3, side, side] RGB in 0..255.</summary>
    static Tensor Load(string spec, int side, Device device)
    {
        var path = spec.StartsWith("stdlib:", StringComparison.Ordinal) ? StdlibPhotos.Ensure(spec["stdlib:".Length..], log: Cli.Log) : spec;
        var pixels = ImageFolder.LoadFile(path, side, 3);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (pixels[i] + 1f) * 127.5f;
        return Tensor.FromArray(pixels, [1, 3, side, side], device);
    }

    static int Run(Device device, Tensor content, Tensor style, GatysOptions options, string output, int every, (string File, EncoderInput Input)? userEncoder)
    {
        using (content)
        using (style)
        using (var net = userEncoder is null ? ResNet18.Load(device, log: Cli.Log) : null)
        using (var own = userEncoder is { } u ? NativeGan.Nn.Onnx.OnnxModel.Load(u.File, device) : null)
        {
            var encoder = own is null ? StyleEncoder.FromResNet18(net!) : StyleEncoder.FromOnnx(own, userEncoder!.Value.Input);
            var known = encoder.Network.ValueNames.ToHashSet();
            foreach (var layer in options.StyleLayersOrDefault.Append(options.ContentLayer))
                if (!known.Contains(layer))
                    throw new ArgumentException($"stylize: {encoder.Network.File} computes no value '{layer}' (`nativegan onnx FILE --values` lists them)");
            var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, Path.GetFileNameWithoutExtension(output));
            var stepsDir = stem + "-steps";
            if (every > 0) Directory.CreateDirectory(stepsDir);
            var history = new List<GatysStep>();
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var clock = Stopwatch.StartNew();
            AnsiConsole.MarkupLine($"[grey]Gatys style transfer on {Markup.Escape(device.Name)} in {Markup.Escape(Path.GetFileName(encoder.Network.File))}: {content.Dim(2)} x {content.Dim(3)}, {options.Steps} steps of Adam (lr {options.LearningRate}), " +
                                   $"style weight {options.StyleWeight:g3}, total variation {options.TvWeight:g3}; content at {Markup.Escape(options.ContentLayer)}, style at {Markup.Escape(string.Join(", ", options.StyleLayersOrDefault))}[/]");
            using var result = Cli.WithProgress("stylize", progress => new GatysStyleTransfer(encoder).Run(content, style, options, (s, image) =>
            {
                history.Add(s);
                progress(ProgressSnapshot.Measure(s.Step, options.Steps, clock.Elapsed) with
                {
                    Losses = [new("total", (float)s.Total), new("content", (float)s.Content), new("style", (float)s.Style), new("tv", (float)s.Tv)],
                });
                if (every > 0 && (s.Step % every == 0 || s.Step == 1))
                    ImageGrid.Save(Path.Combine(stepsDir, $"step_{s.Step:D5}.png"), image, columns: 1, padding: 0, low: 0f, high: 255f);
            }));
            ImageGrid.Save(output, result, columns: 1, padding: 0, low: 0f, high: 255f);
            if (history.Count > 1)
                LinePlot.Save(stem + "-losses.png", "Gatys style transfer: losses (weighted)", "step", "loss",
                    [Series.Indexed("total", [.. history.Select(h => h.Total)]), Series.Indexed("content", [.. history.Select(h => h.Content)]),
                     Series.Indexed("style", [.. history.Select(h => h.Style)]), Series.Indexed("total variation", [.. history.Select(h => h.Tv)])], logY: true);
            double seconds = clock.Elapsed.TotalSeconds, cpuSeconds = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalSeconds;
            var last = history.LastOrDefault();
            var measured = StyleMeasures.Of(encoder, result, content, style, options.ContentLayer, MeasureLayers(own is null, options.StyleLayersOrDefault));
            PrintMeasures(measured, options.ContentLayer, MeasureLayers(own is null, options.StyleLayersOrDefault));
            AnsiConsole.MarkupLine($"[green]wrote {Markup.Escape(Path.GetFullPath(output))}[/] in {seconds:0.0} s ({seconds / Math.Max(1, options.Steps):0.00} s a step; {cpuSeconds:0.0} s of cpu time over all threads)" +
                                   (last is null ? "" : $"; last losses: content {last.Content:g4}, style {last.Style:g4}, total variation {last.Tv:g4}") +
                                   (history.Count > 1 ? $"; loss curve {Markup.Escape(stem + "-losses.png")}" : "") + (every > 0 ? $"; steps in {Markup.Escape(stepsDir)}" : ""));
            return 0;
        }
    }
}
