using System.CommandLine;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Progressive;
using NativeGan.Gan.Training;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan mix</c> and <c>nativegan pictures</c>: StyleGAN's style-mixing grid and its other pictures.</summary>
public static class StyleGanCommands
{
    public static Command Mix()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A stylegan checkpoint.safetensors.", Required = true };
        var rows = new Option<string>("--rows") { Description = "Seeds of the row latents (whose styles every cell of the row keeps outside --layers).", DefaultValueFactory = _ => "1,2,3" };
        var cols = new Option<string>("--cols") { Description = "Seeds of the column latents (whose styles replace the row's on --layers).", DefaultValueFactory = _ => "4,5,6" };
        var layers = new Option<string?>("--layers") { Description = "The swapped layers FROM-TO, both included, 0-based (default: the coarse third, the lowest resolutions)." };
        var output = new Option<string>("--out") { Description = "The PNG to write.", DefaultValueFactory = _ => "mix.png" };
        var device = Cli.DeviceOption();
        var command = new Command("mix", "StyleGAN's style-mixing grid: row latents' images with the column latents' styles on some layers (coarse layers: pose and shape; fine: colour and detail).")
        {
            checkpoint, rows, cols, layers, output, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            var style = StyleOf(job, "mix");
            int from = 0, to = Math.Max(2, style.StyleLayers / 3);
            if (r.GetValue(layers) is string text)
            {
                var ends = text.Split('-');
                if (ends.Length != 2 || !int.TryParse(ends[0], out from) || !int.TryParse(ends[1], out int last))
                    throw new ArgumentException($"mix: --layers must be FROM-TO (\"0-3\"), got '{text}'");
                to = last + 1;
            }
            var (grid, columns) = StyleGanPictures.MixingGrid(style, ((IGenerativeJob)job).LatentSize, d, Cli.Seeds(r.GetValue(rows)!, "mix --rows"), Cli.Seeds(r.GetValue(cols)!, "mix --cols"), from, to);
            using (grid) ImageGrid.Save(r.GetValue(output)!, grid, columns, scale: ImageGrid.ScaleFor(grid.Dim(2)));
            AnsiConsole.MarkupLine($"[green]wrote the mixing grid (layers {from}-{to - 1} of {style.StyleLayers} from the columns) to {Markup.Escape(Path.GetFullPath(r.GetValue(output)!))}[/]");
        }));
        return command;
    }

    public static Command Pictures()
    {
        var checkpoint = new Option<string>("--checkpoint") { Description = "A stylegan checkpoint.safetensors.", Required = true };
        var output = new Option<string>("--out") { Description = "The folder to write the pictures into.", DefaultValueFactory = _ => "pictures" };
        var device = Cli.DeviceOption();
        var command = new Command("pictures", "StyleGAN's pictures into a folder: style mixing (coarse, middle, fine), a truncation sweep, the effect of the noise, interpolation in Z and in W.")
        {
            checkpoint, output, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            var style = StyleOf(job, "pictures");
            foreach (var path in StyleGanPictures.WriteAll(style, ((IGenerativeJob)job).LatentSize, d, r.GetValue(output)!))
                AnsiConsole.MarkupLine($"[green]wrote {Markup.Escape(Path.GetFullPath(path))}[/]");
        }));
        return command;
    }

    static IStyleGenerator StyleOf(ITrainingJob job, string who) =>
        job as IStyleGenerator ?? throw new ArgumentException($"{who}: needs a model with a style space (stylegan), the checkpoint holds a '{job.Kind}'");
}
