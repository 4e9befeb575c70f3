using System.CommandLine;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary><c>nativegan sample</c> and <c>nativegan interpolate</c>: pictures from a trained checkpoint.</summary>
public static class SampleCommands
{
    public static Command Sample()
    {
        var checkpoint = CheckpointOption();
        var count = new Option<int>("--count") { Description = "How many samples.", DefaultValueFactory = _ => 64 };
        var output = new Option<string>("--out") { Description = "The PNG to write.", DefaultValueFactory = _ => "samples.png" };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latent draws.", DefaultValueFactory = _ => 1 };
        var label = new Option<int?>("--label") { Description = "Class to draw (conditional models); without it a conditional model draws one row per class." };
        var truncation = Cli.TruncationOption();
        var psi = new Option<float?>("--psi") { Description = "StyleGAN's truncation in W: every style pulled to the average w by psi (1: none, 0: the average's image; the paper shows 0.7)." };
        var seeds = new Option<string?>("--seeds") { Description = "One image per seed, each latent drawn from its own seed (\"1-16\", \"3,7,9\"): the same seed, the same image across commands. Replaces --count and --seed." };
        var device = Cli.DeviceOption();
        var command = new Command("sample", "Draw samples from a trained generative model into a PNG grid.") { checkpoint, count, output, seed, seeds, label, truncation, psi, device };
        command.SetAction(r => Run(r.GetValue(checkpoint)!, r.GetValue(device)!, job =>
        {
            if (r.GetValue(psi) is float p)
            {
                if (job is not NativeGan.Gan.Progressive.IStyleGenerator style) throw new ArgumentException($"sample: --psi needs a model with a style space (stylegan); {job.Kind} has none (--truncation truncates z)");
                if (!(p >= 0 && p <= 1)) throw new ArgumentException($"sample: --psi must lie in [0, 1], got {p}");
                style.Truncation = new NativeGan.Gan.Progressive.StyleTruncation(p);
            }
            if (r.GetValue(seeds) is string list)
            {
                var chosen = Cli.Seeds(list, "sample --seeds");
                if (job.ClassCount > 0 && r.GetValue(label) is null) throw new ArgumentException($"sample: --seeds with a conditional model ({job.Kind}) needs --label");
                int[]? given = r.GetValue(label) is int only ? Enumerable.Repeat(only, chosen.Length).ToArray() : null;
                if (given is not null && (given[0] < 0 || given[0] >= job.ClassCount)) throw new ArgumentException($"sample: --label must be in 0..{job.ClassCount - 1}, got {given[0]}");
                using var scope = new TensorScope();
                var zs = Ops.Stack([.. chosen.Select(s => new Rng(s).Normal(job.DeviceOf(), [job.LatentSize]))]);
                using var images = job.Generate(zs, given);
                Write(r.GetValue(output)!, images, (int)Math.Ceiling(Math.Sqrt(chosen.Length)), $"{job.Kind} samples");
                return $"wrote {chosen.Length} samples (seeds {list}) to {Path.GetFullPath(r.GetValue(output)!)}";
            }
            int n = r.GetValue(count);
            if (n < 1) throw new ArgumentException($"sample: --count must be at least 1, got {n}");
            var rng = new Rng(r.GetValue(seed));
            int[]? labels = null;
            int columns = (int)Math.Ceiling(Math.Sqrt(n));
            if (r.GetValue(label) is int l)
            {
                if (job.ClassCount == 0) throw new ArgumentException($"sample: --label needs a conditional model; {job.Kind} has no classes");
                if (l < 0 || l >= job.ClassCount) throw new ArgumentException($"sample: --label must be in 0..{job.ClassCount - 1}, got {l}");
                labels = Enumerable.Repeat(l, n).ToArray();
            }
            else if (job.ClassCount > 0)
            {
                columns = Math.Max(1, n / job.ClassCount);
                n = columns * job.ClassCount;
                labels = Enumerable.Range(0, n).Select(i => i / columns).ToArray(); // one row per class
            }
            using var z = GanEvaluation.Latents(rng, job.DeviceOf(), n, job.LatentSize, Cli.Truncation(r.GetValue(truncation)));
            using var samples = job.Generate(z, labels);
            Write(r.GetValue(output)!, samples, columns, $"{job.Kind} samples");
            return $"wrote {n} samples to {Path.GetFullPath(r.GetValue(output)!)}";
        }));
        return command;
    }

    public static Command Interpolate()
    {
        var checkpoint = CheckpointOption();
        var output = new Option<string>("--out") { Description = "The PNG to write.", DefaultValueFactory = _ => "walk.png" };
        var rows = new Option<int>("--rows") { Description = "Walks, one per row.", DefaultValueFactory = _ => 4 };
        var steps = new Option<int>("--steps") { Description = "Images per walk, both ends included.", DefaultValueFactory = _ => 10 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the end points.", DefaultValueFactory = _ => 1 };
        var device = Cli.DeviceOption();
        var command = new Command("interpolate", "Walk in a straight line between two latent points: one row of images per walk.") { checkpoint, output, rows, steps, seed, device };
        command.SetAction(r => Run(r.GetValue(checkpoint)!, r.GetValue(device)!, job =>
        {
            int rowCount = r.GetValue(rows), stepCount = r.GetValue(steps);
            if (rowCount < 1 || stepCount < 2) throw new ArgumentException("interpolate: --rows must be at least 1 and --steps at least 2");
            if (job.ClassCount > 0) throw new ArgumentException($"interpolate: {job.Kind} is conditional; use sample --label instead");
            var rng = new Rng(r.GetValue(seed));
            int k = job.LatentSize;
            using var ends = rng.Normal(NativeGan.Device.Cpu, [rowCount * 2, k]);
            var e = ends.ToArray();
            var z = new float[rowCount * stepCount * k];
            for (int row = 0; row < rowCount; row++)
                for (int s = 0; s < stepCount; s++)
                {
                    float t = s / (float)(stepCount - 1);
                    for (int j = 0; j < k; j++)
                        z[(row * stepCount + s) * k + j] = (1 - t) * e[(2 * row) * k + j] + t * e[(2 * row + 1) * k + j];
                }
            using var zt = Tensor.FromArray(z, [rowCount * stepCount, k], job.DeviceOf());
            using var samples = job.Generate(zt);
            Write(r.GetValue(output)!, samples, stepCount, $"{job.Kind} latent walks");
            return $"wrote {rowCount} walks of {stepCount} images to {Path.GetFullPath(r.GetValue(output)!)}";
        }));
        return command;
    }

    static Option<string> CheckpointOption() => new("--checkpoint") { Description = "A checkpoint.safetensors written by `nativegan train`.", Required = true };

    static int Run(string checkpoint, string deviceName, Func<IGenerativeJob, string> work) =>
        Cli.WithCheckpoint(checkpoint, deviceName, (job, _, _) =>
        {
            if (job is not IGenerativeJob generative) throw new ArgumentException($"{checkpoint}: a '{job.Kind}' model does not generate samples");
            AnsiConsole.MarkupLine($"[green]{Markup.Escape(work(generative))}[/]");
        });

    /// <summary>Images as a grid; 2D points as a scatter plot.</summary>
    static void Write(string path, Tensor samples, int columns, string title)
    {
        if (samples.Rank == 4) ImageGrid.Save(path, samples, columns: columns, scale: samples.Dim(2) <= 32 ? 2 : 1);
        else
        {
            var p = samples.ToArray();
            int n = samples.Dim(0);
            ScatterPlot.Save(path, title, [new PointSet("generated", [.. Enumerable.Range(0, n).Select(i => (double)p[2 * i])], [.. Enumerable.Range(0, n).Select(i => (double)p[2 * i + 1])])]);
        }
    }

    internal static Device DeviceOf(this IGenerativeJob job) => job.Modules.Values.First().Parameters().First().Device;
}
