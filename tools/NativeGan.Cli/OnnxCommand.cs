using System.CommandLine;
using NativeGan.Gan.Data;
using NativeGan.Gan.Pretrained;
using NativeGan.Nn.Onnx;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan onnx FILE|resnet18 [--values]</c>: what an ONNX file holds as the engine reads it (producer, opset,
/// inputs and outputs, operators, weights) and, with --values, the name of every value a node computes: the layers a
/// program can tap with <c>OnnxModel.Run</c>. A file the reader refuses is one red line naming the node and operator.
/// </summary>
public static class OnnxCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "An ONNX model file, or resnet18 for the ImageNet ResNet-18 (fetched from NuGet on first use)." };
        var values = new Option<bool>("--values") { Description = "Also list every value the nodes compute, in graph order (the names to tap)." };
        var command = new Command("onnx", "Read an ONNX model file with the engine's reader and say what it holds.") { file, values };
        command.SetAction(r =>
        {
            try
            {
                var path = r.GetValue(file)!;
                if (path == "resnet18") path = ResNet18.EnsureFiles(log: Cli.Log).Network;
                using var model = OnnxModel.Load(path);
                long weights = model.NamedParameters().Sum(p => (long)p.Tensor.Length), buffers = model.NamedBuffers().Sum(b => (long)b.Tensor.Length);
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(Path.GetFullPath(path))}[/]: {Markup.Escape(model.Producer.Length > 0 ? model.Producer : "unknown producer")}, ONNX IR {model.IrVersion}, opset {model.Opset}");
                AnsiConsole.MarkupLine($"inputs: {Markup.Escape(string.Join(", ", model.Inputs))}; outputs: {Markup.Escape(string.Join(", ", model.Outputs))}");
                AnsiConsole.MarkupLine($"operators: {Markup.Escape(string.Join(", ", model.OperatorCounts.Select(kv => $"{kv.Key} {kv.Value}")))}");
                AnsiConsole.MarkupLine($"weights: {weights:N0} in {model.NamedParameters().Count()} parameters, {buffers:N0} in {model.NamedBuffers().Count()} buffers");
                if (r.GetValue(values)) foreach (var name in model.ValueNames) Console.WriteLine(name);
                return 0;
            }
            catch (Exception e) when (e is OnnxModelException or DataException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return command;
    }
}
