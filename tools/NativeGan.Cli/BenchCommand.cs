using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan bench dcgan|wgan-gp</c>: training steps per second of the 32x32 one-channel models on random
/// data, after warm-up, median of many steps, with the GPU pool's peak memory. The model is the real job the
/// `train` command runs (src/Gan/Gans, src/Gan/Autoencoders), so the figure is that of training, not of a separate copy. A step is
/// one generator update (for WGAN-GP: five critic updates with the gradient penalty, then the generator's).
/// --json prints the keys of benchmarks/reference/torch_reference.py, which does the same in PyTorch eager.
/// </summary>
public static class BenchCommand
{
    /// <summary>Bench name -> (job kind, workload name shared with the PyTorch reference).</summary>
    static readonly (string Name, string Kind, string Workload)[] Workloads =
    [
        ("dcgan", "dcgan", "dcgan32"),
        ("wgan-gp", "wgan-gp", "wgan-gp32"),
    ];

    public static Command Create()
    {
        var bench = new Command("bench", "End-to-end training benchmarks (steps per second), comparable with benchmarks/reference/torch_reference.py.");
        foreach (var (name, kind, workload) in Workloads)
        {
            var device = Cli.DeviceOption();
            var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
            var steps = new Option<int>("--steps") { Description = "Timed training steps (the median is reported).", DefaultValueFactory = _ => 10 };
            var warmup = new Option<int>("--warmup") { Description = "Untimed steps first (kernels compile, the pool fills).", DefaultValueFactory = _ => 2 };
            var json = new Option<bool>("--json") { Description = "Print one JSON line (the PyTorch reference's keys) instead of text." };
            var command = new Command(name, $"{workload}: training steps per second on random data (one generator update a step).")
            {
                device, batch, steps, warmup, json,
            };
            command.SetAction(result =>
            {
                var d = Cli.OpenDevice(result.GetValue(device)!);
                if (d is null) return 2;
                int b = result.GetValue(batch), n = result.GetValue(steps), w = result.GetValue(warmup);
                if (b < 2 || n < 1 || w < 0)
                {
                    Cli.Error($"bench {name}: --batch must be at least 2 (batch norm), --steps at least 1, --warmup at least 0");
                    return 2;
                }
                if (!ModelKinds.All.Any(k => k.Name == kind)) { Cli.Error($"bench {name}: the model kind '{kind}' is not built into this program"); return 2; }
                return Run(d, kind, workload, b, n, w, result.GetValue(json));
            });
            bench.Subcommands.Add(command);
        }
        return bench;
    }

    static int Run(Device device, string kind, string workload, int batch, int steps, int warmup, bool json)
    {
        // The config `train KIND` would give 32x32 one-channel data (MNIST padded), seed 1, without the generator
        // average (the PyTorch reference keeps none, so the two time the same work).
        var model = ModelKinds.Find(kind);
        var options = model.Options(new DataFacts([1, 32, 32], 0), new Dictionary<string, string> { ["g_ema"] = "0" }) with { Seed = 1 };
        using var job = model.Create(options, device);
        int perStep = job.BatchesPerStep;
        var rng = new Rng(12345);
        if (!json)
            AnsiConsole.MarkupLine($"{workload} on [bold]{device.Name}[/] ({Markup.Escape(device.Description)}), batch {batch}: " +
                string.Join(", ", job.Modules.Select(m => $"{m.Value.Parameters().Sum(p => p.Length):N0} {m.Key} parameters")));
        var times = new List<double>();
        IReadOnlyDictionary<string, float> losses = new Dictionary<string, float>();
        for (int i = 0; i < warmup + steps; i++)
        {
            using var real = rng.Uniform(device, [batch * perStep, 1, 32, 32], -1f, 1f);
            using var b = new Batch(real.Share(), null, 0, i);
            device.Synchronize();
            var sw = Stopwatch.StartNew();
            losses = job.Step(b, i); // reads the losses back to the host, as a training loop does
            device.Synchronize();
            if (i >= warmup) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        long? peak = device is GpuDevice gpu ? gpu.Pool.PeakBytesInUse : null;
        if (json)
        {
            Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
            {
                ["workload"] = workload, ["impl"] = "nativegan", ["device"] = device.Description, ["batch"] = batch,
                ["steps_per_s"] = 1 / median, ["step_ms_median"] = median * 1e3, ["step_ms_min"] = times[0] * 1e3,
                ["step_ms_max"] = times[^1] * 1e3, ["steps"] = steps, ["warmup"] = warmup, ["peak_mem_bytes"] = peak,
            }));
            return 0;
        }
        string memory = peak is long p ? $", peak pool memory {MemoryPool.Format(p)}" : "";
        AnsiConsole.MarkupLine($"median step {median * 1e3:0.0} ms = [bold]{1 / median:0.00} steps/s[/] " +
                               $"(fastest {1 / times[0]:0.00}, slowest {1 / times[^1]:0.00}; {steps} timed steps after {warmup} warm-up){memory}");
        AnsiConsole.MarkupLine("last losses: " + Markup.Escape(string.Join(", ", losses.Select(kv => $"{kv.Key} {kv.Value:0.0000}"))));
        return 0;
    }
}
