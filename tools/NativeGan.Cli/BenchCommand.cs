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
/// <c>nativegan bench resnet18</c> times the ONNX-imported ResNet-18's forward (images per second).
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
            var set = new Option<string[]>("--set")
            {
                Description = "Model setting key=value (repeatable), as `train` takes them: --set g_width=32 --set d_width=32 times the main job's network, --set data_shape=1,28,28 the 28x28 one.",
                AllowMultipleArgumentsPerToken = true,
            };
            var scheduler = new Option<string>("--scheduler")
            {
                Description = "cpu: how parallel loops are shared out: workers (the device's own, the default), task-parallel (.NET's Parallel.For), " +
                              "or compare (the two alternating step by step in one run, each with its median and their ratio).",
                DefaultValueFactory = _ => "workers",
            };
            scheduler.AcceptOnlyFromAmong("workers", "task-parallel", "compare");
            var command = new Command(name, $"{workload}: training steps per second on random data (one generator update a step).")
            {
                device, batch, steps, warmup, json, set, scheduler,
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
                if (Cli.Settings($"bench {name}", result.GetValue(set), new() { ["g_ema"] = "0" }) is not { } settings) return 2;
                var schedulers = result.GetValue(scheduler) switch
                {
                    "task-parallel" => new[] { CpuScheduler.TaskParallel },
                    "compare" => [CpuScheduler.Workers, CpuScheduler.TaskParallel],
                    _ => [CpuScheduler.Workers],
                };
                if (schedulers.Length > 1 && d is not CpuDevice) { Cli.Error($"bench {name}: --scheduler compare is for the cpu device"); return 2; }
                try { return Run(d, kind, workload, b, n, w, result.GetValue(json), settings, schedulers); }
                catch (ArgumentException e) { Cli.Error($"bench {name}: {e.Message}"); return 2; }
            });
            bench.Subcommands.Add(command);
        }
        bench.Subcommands.Add(ResNet18Command());
        bench.Subcommands.Add(AllReduceCommand());
        return bench;
    }

    /// <summary>
    /// <c>bash tools/mpi.sh -n N nativegan bench allreduce</c>: the time of one all-reduce (sum, in place) of float buffers of
    /// several sizes over the ranks mpiexec started, median of --repeats after a barrier each; rank 0 prints milliseconds and
    /// the algorithmic bandwidth (bytes / time). What data-parallel training pays per gradient bucket.
    /// </summary>
    static Command AllReduceCommand()
    {
        var repeats = new Option<int>("--repeats") { Description = "Timed all-reduces per size (the median is reported).", DefaultValueFactory = _ => 20 };
        var command = new Command("allreduce", "Times MPI all-reduces of 4 KB to 16 MB over the ranks `bash tools/mpi.sh -n N` started.") { repeats };
        command.SetAction(result =>
        {
            int n = result.GetValue(repeats);
            if (n < 1) { Cli.Error("bench allreduce: --repeats must be at least 1"); return 2; }
            NativeGan.Nn.Distributed.MpiCommunicator comm;
            try { comm = NativeGan.Nn.Distributed.MpiCommunicator.World(); }
            catch (NativeGan.Nn.Distributed.DistributedException e) { Cli.Error($"bench allreduce: {e.Message}"); return 2; }
            if (comm.IsRoot) AnsiConsole.MarkupLine($"all-reduce over {comm.Size} ranks ({Markup.Escape(comm.Description)}), median of {n}:");
            foreach (int bytes in new[] { 4 << 10, 64 << 10, 1 << 20, 4 << 20, 16 << 20 })
            {
                var buffer = new float[bytes / 4];
                for (int i = 0; i < buffer.Length; i++) buffer[i] = i % 7;
                comm.AllReduceSum(buffer); // warm-up (connections, registration)
                var times = new double[n];
                for (int r = 0; r < n; r++)
                {
                    comm.Barrier();
                    long start = Stopwatch.GetTimestamp();
                    comm.AllReduceSum(buffer);
                    times[r] = Stopwatch.GetElapsedTime(start).TotalSeconds;
                }
                Array.Sort(times);
                double median = times[n / 2];
                if (comm.IsRoot)
                    AnsiConsole.MarkupLine($"  {bytes / 1024.0,8:0} KiB  {median * 1e3,9:0.###} ms  {bytes / median / 1e9,7:0.###} GB/s  (min {times[0] * 1e3:0.###} ms)");
            }
            comm.Dispose();
            return 0;
        });
        return command;
    }

    /// <summary>
    /// <c>nativegan bench resnet18</c>: images per second of the imported ImageNet ResNet-18 (preprocessing and network,
    /// 224 x 224, no gradient), the figure beside <c>tools/torch_onnx.py time</c> (PyTorch CPU, same architecture).
    /// </summary>
    static Command ResNet18Command()
    {
        var device = Cli.DeviceOption();
        var batch = new Option<int>("--batch") { Description = "Images per forward.", DefaultValueFactory = _ => 8 };
        var batches = new Option<int>("--batches") { Description = "Timed forwards (the median is reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed forwards first.", DefaultValueFactory = _ => 1 };
        var json = new Option<bool>("--json") { Description = "Print one JSON line instead of text." };
        var command = new Command("resnet18", "ImageNet ResNet-18 read from ONNX (fetched from NuGet on first use): images per second of its forward at 224 x 224.")
        {
            device, batch, batches, warmup, json,
        };
        command.SetAction(result =>
        {
            var d = Cli.OpenDevice(result.GetValue(device)!);
            if (d is null) return 2;
            int b = result.GetValue(batch), n = result.GetValue(batches), w = result.GetValue(warmup);
            if (b < 1 || n < 1 || w < 0) { Cli.Error("bench resnet18: --batch and --batches must be at least 1, --warmup at least 0"); return 2; }
            NativeGan.Gan.Pretrained.ResNet18 net;
            try { net = NativeGan.Gan.Pretrained.ResNet18.Load(d, log: result.GetValue(json) ? null : Cli.Log); }
            catch (Exception e) when (e is DataException or NativeGan.Nn.Onnx.OnnxModelException) { Cli.Error(e.Message); return 2; }
            using (net)
            {
                var rng = new Rng(12345);
                var times = new List<double>();
                for (int i = 0; i < w + n; i++)
                {
                    using var scope = new TensorScope();
                    using var noGrad = Autograd.NoGrad();
                    var images = rng.Uniform(d, [b, 3, 224, 224], 0f, 255f);
                    d.Synchronize();
                    var sw = Stopwatch.StartNew();
                    var features = net.Features(images);
                    d.Synchronize();
                    if (i >= w) times.Add(sw.Elapsed.TotalSeconds);
                }
                times.Sort();
                double median = times[times.Count / 2];
                if (result.GetValue(json))
                {
                    Console.WriteLine(JsonSerializer.Serialize(new Dictionary<string, object?>
                    {
                        ["workload"] = "resnet18-224", ["impl"] = "nativegan", ["device"] = d.Description, ["batch"] = b,
                        ["images_per_s"] = b / median, ["batch_ms_median"] = median * 1e3, ["batches"] = n, ["warmup"] = w,
                    }));
                    return 0;
                }
                AnsiConsole.MarkupLine($"ResNet-18 (ONNX, 224 x 224) on [bold]{d.Name}[/] ({Markup.Escape(d.Description)}), batch {b}: median {median * 1e3:0} ms = " +
                                       $"[bold]{b / median:0.0} images/s[/] (range {b / times[^1]:0.0}-{b / times[0]:0.0}; {n} timed batches after {w} warm-up)");
                return 0;
            }
        });
        return command;
    }

    static int Run(Device device, string kind, string workload, int batch, int steps, int warmup, bool json,
        Dictionary<string, string> settings, CpuScheduler[] schedulers)
    {
        // The config `train KIND` would give 32x32 one-channel data (MNIST padded), seed 1, without the generator
        // average (the PyTorch reference keeps none, so the two time the same work), and the --set settings
        // (--set data_shape=1,28,28 times MNIST at its own size).
        var model = ModelKinds.Find(kind);
        var options = model.Options(new DataFacts([1, 32, 32], 0), settings) with { Seed = 1 };
        using var job = model.Create(options, device);
        int perStep = job.BatchesPerStep;
        var rng = new Rng(12345);
        if (!json)
            AnsiConsole.MarkupLine($"{workload} on [bold]{device.Name}[/] ({Markup.Escape(device.Description)}), batch {batch}: " +
                string.Join(", ", job.Modules.Select(m => $"{m.Value.Parameters().Sum(p => p.Length):N0} {m.Key} parameters")));
        // Each scheduler's steps; with two (compare), they alternate step by step, so both see the same machine.
        var timesBy = schedulers.Select(_ => new List<double>()).ToArray();
        var cpu = device as CpuDevice;
        var before = cpu?.Scheduler;
        IReadOnlyDictionary<string, float> losses = new Dictionary<string, float>();
        // On a GPU device: what the timed steps did besides computing (launches, syncs, ...), counted inside job.Step alone.
        var gpuDevice = device as GpuDevice;
        var counted = default(GpuCounters);
        var launchesInSteps = new Dictionary<string, long>();
        try
        {
            for (int i = 0; i < warmup + steps * schedulers.Length; i++)
            {
                int which = i % schedulers.Length;
                if (cpu is not null) cpu.Scheduler = schedulers[which];
                using var real = rng.Uniform(device, [batch * perStep, .. options.DataShape], -1f, 1f);
                using var b = new Batch(real.Share(), null, 0, i);
                device.Synchronize();
                var start = gpuDevice?.Counters;
                var byKernel = gpuDevice?.LaunchesByKernel;
                var sw = Stopwatch.StartNew();
                losses = job.Step(b, i); // reads the losses back to the host, as a training loop does
                if (i >= warmup && start is { } c0)
                {
                    counted += gpuDevice!.Counters - c0;
                    foreach (var (name, n) in gpuDevice.LaunchesByKernel)
                        launchesInSteps[name] = launchesInSteps.GetValueOrDefault(name) + n - byKernel!.GetValueOrDefault(name);
                }
                device.Synchronize();
                if (i >= warmup) timesBy[which].Add(sw.Elapsed.TotalSeconds);
            }
        }
        finally { if (cpu is not null) cpu.Scheduler = before!.Value; }
        if (schedulers.Length > 1)
        {
            var medians = timesBy.Select(t => { t.Sort(); return t[t.Count / 2]; }).ToArray();
            for (int k = 0; k < schedulers.Length; k++)
                AnsiConsole.MarkupLine($"  scheduler {schedulers[k],-12}: median step {medians[k] * 1e3:0.0} ms = [bold]{1 / medians[k]:0.00} steps/s[/] " +
                                       $"(fastest {1 / timesBy[k][0]:0.00}, slowest {1 / timesBy[k][^1]:0.00}; {steps} steps)");
            AnsiConsole.MarkupLine($"  {schedulers[0]} / {schedulers[1]}: [bold]{medians[1] / medians[0]:0.000}x[/] the steps per second, alternating step by step after {warmup} warm-up");
            return 0;
        }
        var times = timesBy[0];
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
                ["launches_per_step"] = gpuDevice is null ? null : counted.Launches / (double)steps,
                ["host_syncs_per_step"] = gpuDevice is null ? null : counted.HostSyncs / (double)steps,
            }));
            return 0;
        }
        string memory = peak is long p ? $", peak pool memory {MemoryPool.Format(p)}" : "";
        AnsiConsole.MarkupLine($"median step {median * 1e3:0.0} ms = [bold]{1 / median:0.00} steps/s[/] " +
                               $"(fastest {1 / times[0]:0.00}, slowest {1 / times[^1]:0.00}; {steps} timed steps after {warmup} warm-up){memory}");
        AnsiConsole.MarkupLine("last losses: " + Markup.Escape(string.Join(", ", losses.Select(kv => $"{kv.Key} {kv.Value:0.0000}"))));
        if (gpuDevice is not null)
        {
            AnsiConsole.MarkupLine("a step (after warm-up): " + Markup.Escape(counted.PerStep(steps)));
            var most = launchesInSteps.Select(kv => (kv.Key, Count: kv.Value)).Where(k => k.Count > 0).OrderByDescending(k => k.Count).ThenBy(k => k.Key, StringComparer.Ordinal).Take(12);
            AnsiConsole.MarkupLine("launches a step by kernel: " + Markup.Escape(string.Join(", ",
                most.Select(k => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{k.Key} {k.Count / (double)steps:0.#}")))));
        }
        return 0;
    }
}
