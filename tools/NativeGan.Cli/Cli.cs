using System.CommandLine;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>The <c>nativegan</c> command line. Each command is built by a small method here.</summary>
public static class Cli
{
    public static int Run(string[] args)
    {
        Terminal.Unwrap(AnsiConsole.Console); // whole lines in a log file or a pipe
        var root = new RootCommand("NativeGan: a from-scratch GPU engine for GANs and autoencoders, in C#.")
        {
            DevicesCommand(),
            LabCommand(),
            KernelsCommand.Create(),
            BenchCommand.Create(),
            TrainCommand.Create(),
            SampleCommands.Sample(),
            SampleCommands.Interpolate(),
            DataCommand.Create(),
            MidiCommand.Create(),
            GenerateCommand.Create(),
            GenerateCommand.Accompany(),
            RenderCommand.Create(),
            EvalCommand.Create(),
            EvalCommand.Denoise(),
            StylizeCommand.Create(),
            OnnxCommand.Create(),
            StyleGanCommands.Mix(),
            StyleGanCommands.Pictures(),
        };
        var parsed = root.Parse(args);
        // A mistyped command or option: the errors and where the help is, not the whole help of the parent command.
        if (parsed.Errors.Count > 0 && !args.Any(a => a is "-h" or "--help" or "-?"))
        {
            foreach (var e in parsed.Errors)
                Error(System.Text.RegularExpressions.Regex.Replace(e.Message, @"'System\.(?:Nullable`1\[System\.)?(\w+)\]?'", m => m.Groups[1].Value switch
                {
                    "Int32" or "Int64" or "UInt64" => "an integer",
                    "Single" or "Double" => "a number",
                    var other => other.ToLowerInvariant(),
                }));
            var command = string.Join(" ", parsed.CommandResult.Command is RootCommand ? [] : Path(parsed.CommandResult));
            Error($"`nativegan {command}{(command.Length > 0 ? " " : "")}--help` lists what it takes");
            return 2;
        }
        return parsed.Invoke();
    }

    static IEnumerable<string> Path(System.CommandLine.Parsing.CommandResult result)
    {
        var names = new List<string>();
        for (var r = result; r is not null && r.Command is not RootCommand; r = r.Parent as System.CommandLine.Parsing.CommandResult)
            names.Insert(0, r.Command.Name);
        return names;
    }

    /// <summary>--truncation for the commands that draw latents (sample, eval modes, eval mnist).</summary>
    /// <summary>Seeds written as "1-16", "3,7,9" or "1-4,10": every one of them, in order; at most 1,024.</summary>
    internal static ulong[] Seeds(string text, string who)
    {
        var seeds = new List<ulong>();
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var ends = part.Split('-');
            if (ends.Length > 2 || !ulong.TryParse(ends[0], out var first) || !ulong.TryParse(ends[^1], out var last) || last < first)
                throw new ArgumentException($"{who}: '{part}' is not a seed or a range of seeds (\"1-16\", \"3,7,9\")");
            if (last - first >= 1024 || seeds.Count + (int)(last - first + 1) > 1024) throw new ArgumentException($"{who}: at most 1,024 seeds, '{text}' names more");
            for (ulong s = first; s <= last; s++) seeds.Add(s);
        }
        if (seeds.Count == 0) throw new ArgumentException($"{who}: no seeds in '{text}'");
        return [.. seeds];
    }

    internal static Option<float> TruncationOption() => new("--truncation")
    {
        Description = "Draw latents from N(0, I) cut to [-T, T] per coordinate (BigGAN's truncation trick: fidelity for variety). 0: the plain prior, as the protocols use.",
        DefaultValueFactory = _ => 0f,
    };

    /// <summary>Checks --truncation and says, when it is set, that the latents are not the protocol's.</summary>
    internal static float Truncation(float truncation)
    {
        if (truncation == 0) return 0;
        if (!Rng.IsTruncationBound(truncation)) throw new ArgumentException($"--truncation must be 0 (off) or a finite bound of at least {Rng.SmallestTruncationBound}, got {truncation}");
        AnsiConsole.MarkupLine($"[yellow]latents: N(0, I) truncated to ±{truncation:0.###} (not the protocol's prior)[/]");
        return truncation;
    }

    /// <summary>The --device option every command shares: auto|cuda|opencl|cpu|ilgpu-cpu, default from NATIVEGAN_DEVICE.</summary>
    internal static Option<string> DeviceOption() => new("--device")
    {
        Description = "Device: auto (CUDA, then OpenCL, then cpu), cuda, opencl, cpu or ilgpu-cpu. Default: $NATIVEGAN_DEVICE, else auto.",
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("NATIVEGAN_DEVICE") is { Length: > 0 } v ? v : "auto",
    };

    /// <summary>Opens the device an option names, or prints why it cannot (null).</summary>
    internal static Device? OpenDevice(string name)
    {
        try
        {
            var d = Device.Get(name);
            if (name.Equals("auto", StringComparison.OrdinalIgnoreCase) && Device.LastAutoChoice is { } why)
                AnsiConsole.MarkupLine($"[grey]{Markup.Escape(why)}[/]");
            return d;
        }
        catch (Exception e) when (e is ArgumentException or DeviceNotFoundException)
        {
            AnsiConsole.MarkupLine($"[red]{Markup.Escape(e.Message)}[/]");
            return null;
        }
    }

    static Command LabCommand()
    {
        var op = new Argument<string?>("op")
        {
            Description = $"The op (or the ops whose name starts with this); all when left out. Ops: {string.Join(", ", Lab.Entries.Select(e => e.Name))}.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var variant = new Option<string?>("--variant")
        {
            Description = "Which kernel variant: a number (the op's v1, v2, ... on this device; 0 the default), or all to check and time every one side by side. Default: the op's default only.",
        };
        var device = DeviceOption();
        var size = new Option<int?>("--size") { Description = "Problem size for the timed run (elements, the GEMM side, or a batch)." };
        var repeats = new Option<int>("--repeats") { Description = "Timed repetitions; the median is reported.", DefaultValueFactory = _ => 5 };
        var command = new Command("lab", "Check each kernel variant against its float64 reference on the device, then time the variants side by side (GB/s, GFLOP/s).")
        {
            op, variant, device, size, repeats,
        };
        command.SetAction(result =>
        {
            var d = OpenDevice(result.GetValue(device)!);
            if (d is null) return 2;
            return Lab.Run(AnsiConsole.Console, d, result.GetValue(op), result.GetValue(variant), result.GetValue(size), result.GetValue(repeats));
        });
        return command;
    }

    static Command DevicesCommand()
    {
        var command = new Command("devices", "List the devices this machine offers (cpu, ilgpu-cpu, cuda, opencl).");
        command.SetAction(_ =>
        {
            var table = new Table().AddColumn("device").AddColumn("what it is");
            foreach (var (name, description) in Device.Available()) table.AddRow(name, Markup.Escape(description));
            AnsiConsole.Write(table);
            var auto = Device.Get("auto");
            AnsiConsole.MarkupLine(Markup.Escape(Device.LastAutoChoice ?? $"auto picked {auto.Name}"));
            return 0;
        });
        return command;
    }

    /// <summary>Prints an error in red (the message names the command, the value and what was expected).</summary>
    internal static void Error(string message) => AnsiConsole.MarkupLine($"[red]{Markup.Escape(message)}[/]");

    /// <summary>The settings of repeated <c>--set key=value</c> options over <paramref name="into"/> (the later of two
    /// equal keys wins; key and value trimmed); null, after an error naming <paramref name="command"/>, for an item that is not key=value.</summary>
    internal static Dictionary<string, string>? Settings(string command, IEnumerable<string>? items, Dictionary<string, string>? into = null)
    {
        var settings = into ?? new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var item in items ?? [])
        {
            int eq = item.IndexOf('=');
            if (eq <= 0 || item[..eq].Trim().Length == 0) { Error($"{command}: --set expects key=value, got '{item}'"); return null; }
            settings[item[..eq].Trim()] = item[(eq + 1)..].Trim();
        }
        return settings;
    }

    internal static void Warn(string message) => AnsiConsole.MarkupLine($"[yellow]{Markup.Escape(message)}[/]");

    /// <summary>
    /// Runs <paramref name="work"/> with its progress shown as one <see cref="ProgressLine"/>: redrawn in place at the
    /// terminal's width on an interactive terminal; elsewhere (a log file, CI) a plain status line every 10 seconds and
    /// at the end (see <see cref="ProgressDisplay"/>).
    /// </summary>
    internal static T WithProgress<T>(string title, Func<Action<ProgressSnapshot>, T> work) =>
        ProgressDisplay.Run(AnsiConsole.Console, title, work, Terminal.CanAnimate(AnsiConsole.Console));

    /// <summary>Prints a progress message in grey (what data was fetched, a resume, a classifier epoch).</summary>
    internal static void Log(string message) => AnsiConsole.MarkupLine($"[grey]{Markup.Escape(message)}[/]");

    /// <summary>
    /// The commands that work on a trained model (sample, interpolate, eval, denoise): opens the device, rebuilds the
    /// job from the checkpoint (kind, config, weights) and runs <paramref name="work"/> with it and the checkpoint's
    /// metadata. A missing file, a bad checkpoint or a refused argument is one red line and exit code 2.
    /// </summary>
    internal static int WithCheckpoint(string checkpoint, string deviceName, Action<NativeGan.Gan.Training.ITrainingJob, Dictionary<string, string>, Device> work)
    {
        var device = OpenDevice(deviceName);
        if (device is null) return 2;
        if (!File.Exists(checkpoint)) { Error($"no checkpoint at {checkpoint}"); return 2; }
        try
        {
            var saved = NativeGan.Gan.Training.Trainer.ReadJob(checkpoint);
            using var job = NativeGan.Gan.Training.Trainer.Load(checkpoint, device);
            work(job, saved.Metadata, device);
            return 0;
        }
        catch (Exception e) when (e is ArgumentException or NativeGan.Nn.CheckpointException or NativeGan.Gan.Data.DataException or NativeGan.Nn.Onnx.OnnxModelException or IOException)
        {
            Error(e.Message);
            return 2;
        }
    }
}
