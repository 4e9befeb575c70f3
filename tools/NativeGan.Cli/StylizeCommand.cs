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
        var method = new Option<string>("--method") { Description = "gatys: optimise the output's pixels (minutes on a cpu).", DefaultValueFactory = _ => "gatys" };
        var content = new Option<string>("--content") { Description = "The content image (PNG, JPEG, BMP), or stdlib:NAME for a public-domain photo fetched with npm (e.g. stdlib:locomotion-house-cat).", Required = true };
        var style = new Option<string>("--style") { Description = "The style image, the same ways.", Required = true };
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
        var device = Cli.DeviceOption();
        var command = new Command("stylize", "Neural style transfer: redraw a content image in the style of another (Gatys et al. 2016, in ImageNet ResNet-18's features).")
        {
            method, content, style, size, output, steps, lr, styleWeight, tvWeight, every, fromNoise, seed, device,
        };
        command.SetAction(r =>
        {
            var d = Cli.OpenDevice(r.GetValue(device)!);
            if (d is null) return 2;
            try
            {
                if (r.GetValue(method) != "gatys")
                    throw new ArgumentException($"stylize: --method {r.GetValue(method)} is not available (gatys is; AdaIN is not built yet)");
                int side = r.GetValue(size);
                if (side < 32 || side > 2048) throw new ArgumentException($"stylize: --size must be in 32..2048, got {side}");
                if (r.GetValue(every) < 0) throw new ArgumentException($"stylize: --every must be at least 0, got {r.GetValue(every)}");
                var options = new GatysOptions(r.GetValue(steps), r.GetValue(lr), 1f, r.GetValue(styleWeight), r.GetValue(tvWeight),
                    StartFromContent: !r.GetValue(fromNoise), Seed: r.GetValue(seed));
                return Run(d, Load(r.GetValue(content)!, side, d), Load(r.GetValue(style)!, side, d), options, r.GetValue(output)!, r.GetValue(every));
            }
            catch (Exception e) when (e is ArgumentException or DataException or NativeGan.Nn.Onnx.OnnxModelException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return command;
    }

    /// <summary>An image file or stdlib:NAME as [1, 3, side, side] RGB in 0..255.</summary>
    static Tensor Load(string spec, int side, Device device)
    {
        var path = spec.StartsWith("stdlib:", StringComparison.Ordinal) ? StdlibPhotos.Ensure(spec["stdlib:".Length..], log: Cli.Log) : spec;
        var pixels = ImageFolder.LoadFile(path, side, 3);
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (pixels[i] + 1f) * 127.5f;
        return Tensor.FromArray(pixels, [1, 3, side, side], device);
    }

    static int Run(Device device, Tensor content, Tensor style, GatysOptions options, string output, int every)
    {
        using (content)
        using (style)
        using (var net = ResNet18.Load(device, log: Cli.Log))
        {
            var stem = Path.Combine(Path.GetDirectoryName(Path.GetFullPath(output))!, Path.GetFileNameWithoutExtension(output));
            var stepsDir = stem + "-steps";
            if (every > 0) Directory.CreateDirectory(stepsDir);
            var history = new List<GatysStep>();
            var clock = Stopwatch.StartNew();
            AnsiConsole.MarkupLine($"[grey]Gatys style transfer on {Markup.Escape(device.Name)}: {content.Dim(2)} x {content.Dim(3)}, {options.Steps} steps of Adam (lr {options.LearningRate}), " +
                                   $"style weight {options.StyleWeight:g3}, total variation {options.TvWeight:g3}; content at {GatysStyleTransfer.Layer2}, style at {string.Join(", ", options.StyleLayersOrDefault)}[/]");
            using var result = Cli.WithProgress("stylize", progress => new GatysStyleTransfer(net).Run(content, style, options, (s, image) =>
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
            double seconds = clock.Elapsed.TotalSeconds;
            var last = history.LastOrDefault();
            AnsiConsole.MarkupLine($"[green]wrote {Markup.Escape(Path.GetFullPath(output))}[/] in {seconds:0.0} s ({seconds / Math.Max(1, options.Steps):0.00} s a step)" +
                                   (last is null ? "" : $"; last losses: content {last.Content:g4}, style {last.Style:g4}, total variation {last.Tv:g4}") +
                                   (history.Count > 1 ? $"; loss curve {Markup.Escape(stem + "-losses.png")}" : "") + (every > 0 ? $"; steps in {Markup.Escape(stepsDir)}" : ""));
            return 0;
        }
    }
}
