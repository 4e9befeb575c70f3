using System.Diagnostics;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// The kernel lab (after llm.c's dev/cuda files): for each op, check the device's result against the
/// float64 reference on random data of odd sizes, then time it at a real size (warm-up, synchronise,
/// median of repetitions) and report GB/s or GFLOP/s.
/// </summary>
public static class Lab
{
    /// <summary>One lab entry: a correctness check (returns the worst error relative to the tolerance, &lt;= 1 passes) and a timed run.</summary>
    public sealed record Entry(string Name, Func<Device, double> Check, Func<Device, int, Timing> Time, int DefaultSize, int SlowDeviceSize);

    public sealed record Timing(double Seconds, double Work, string Unit, string Shape)
    {
        public double Rate => Work / Seconds / 1e9;
    }

    public static readonly Entry[] Entries =
    [
        new("elementwise.add", CheckAdd, (d, n) => TimeElementwise(d, n, "add"), 1 << 24, 4096),
        new("elementwise.tanh", CheckTanh, (d, n) => TimeElementwise(d, n, "tanh"), 1 << 24, 4096),
        new("gemm", CheckGemm, TimeGemm, 1024, 48),
        new("conv2d", CheckConv, TimeConv, 64, 1),
    ];

    public static int Run(Device device, string? only, int? size, int repeats)
    {
        var entries = only is null ? Entries : Entries.Where(e => e.Name.StartsWith(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (entries.Length == 0)
        {
            AnsiConsole.MarkupLine($"[red]no lab entry matches '{Markup.Escape(only ?? "")}'[/]; entries: {string.Join(", ", Entries.Select(e => e.Name))}");
            return 2;
        }
        AnsiConsole.MarkupLine($"lab on [bold]{device.Name}[/] ({Markup.Escape(device.Description)})");
        var table = new Table().AddColumns("op", "check vs float64", "shape", "median time", "throughput");
        int failures = 0;
        foreach (var e in entries)
        {
            double worst = e.Check(device);
            bool ok = worst <= 1;
            if (!ok) failures++;
            // ILGPU's CPU accelerator is ~1000x slower than real code: it gets tiny default sizes.
            int n = size ?? (device.Kind == DeviceKind.IlgpuCpu ? e.SlowDeviceSize : e.DefaultSize);
            var t = Median(repeats, () => e.Time(device, n));
            table.AddRow(e.Name, ok ? $"[green]ok[/] ({worst:0.00} of tolerance)" : $"[red]FAILED[/] ({worst:0.0}x tolerance)",
                Markup.Escape(t.Shape), $"{t.Seconds * 1e3:0.000} ms", $"{t.Rate:0.0} {t.Unit}");
        }
        AnsiConsole.Write(table);
        return failures == 0 ? 0 : 1;
    }

    static Timing Median(int repeats, Func<Timing> run)
    {
        run(); // warm-up: the first launch compiles the kernel
        var all = Enumerable.Range(0, Math.Max(1, repeats)).Select(_ => run()).OrderBy(t => t.Seconds).ToList();
        return all[all.Count / 2];
    }

    /// <summary>Runs <paramref name="op"/> once untimed (its buffers touched, caches warm), then times a second run.</summary>
    static double TimeWarm(Device d, Action op)
    {
        op();
        d.Synchronize();
        var sw = Stopwatch.StartNew();
        op();
        d.Synchronize();
        return sw.Elapsed.TotalSeconds;
    }

    static float[] RandomArray(Random rng, int n, float lo = -1, float hi = 1)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (hi - lo) * rng.NextSingle();
        return a;
    }

    /// <summary>Worst |got - want| / (atol + rtol |want|).</summary>
    static double WorstRatio(double[] want, float[] got, double rtol = 1e-4, double atol = 1e-5)
    {
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double r = Math.Abs(got[i] - want[i]) / (atol + rtol * Math.Abs(want[i]));
            if (double.IsNaN(r)) return double.PositiveInfinity;
            worst = Math.Max(worst, r);
        }
        return worst;
    }

    static double CheckAdd(Device d)
    {
        var rng = new Random(1);
        var a = RandomArray(rng, 3 * 5 * 97);
        var b = RandomArray(rng, 97);
        using var at = Tensor.FromArray(a, [3, 5, 97], d);
        using var bt = Tensor.FromArray(b, [97], d);
        using var y = Elementwise.Add(at, bt);
        var want = Elementwise.Reference.Binary(BinaryOp.Add, Array.ConvertAll(a, x => (double)x), [3, 5, 97],
            Array.ConvertAll(b, x => (double)x), [97], out _);
        return WorstRatio(want, y.ToArray());
    }

    static double CheckTanh(Device d)
    {
        var x = RandomArray(new Random(2), 1001, -5, 5);
        using var xt = Tensor.FromArray(x, [1001], d);
        using var y = Elementwise.Unary(UnaryOp.Tanh, xt);
        return WorstRatio(Array.ConvertAll(x, v => Math.Tanh(v)), y.ToArray());
    }

    static Timing TimeElementwise(Device d, int n, string op)
    {
        using var a = Tensor.Full(d, 0.5f, n);
        using var b = Tensor.Full(d, 0.25f, n);
        using var y = Tensor.Empty(d, n);
        double seconds = TimeWarm(d, () =>
        {
            if (op == "add") Elementwise.BinaryInto(BinaryOp.Add, a, b, y);
            else Elementwise.UnaryInto(UnaryOp.Tanh, a, y);
        });
        return new(seconds, (op == "add" ? 3.0 : 2.0) * 4 * n, "GB/s", $"[{n}]");
    }

    static double CheckGemm(Device d)
    {
        var rng = new Random(3);
        int m = 67, n = 45, k = 131;
        double worst = 0;
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var a = RandomArray(rng, m * k);
            var b = RandomArray(rng, k * n);
            using var at = Tensor.FromArray(a, ta ? [k, m] : [m, k], d);
            using var bt = Tensor.FromArray(b, tb ? [n, k] : [k, n], d);
            using var c = Gemm.MatMul(at, bt, ta, tb);
            var want = Gemm.Reference.MatMul(Array.ConvertAll(a, x => (double)x), ta, Array.ConvertAll(b, x => (double)x), tb, m, n, k);
            worst = Math.Max(worst, WorstRatio(want, c.ToArray(), rtol: 1e-4, atol: 1e-4));
        }
        return worst;
    }

    static double CheckConv(Device d)
    {
        var rng = new Random(5);
        int[] xShape = [3, 5, 9, 7], wShape = [3, 5, 4, 4]; // 5 -> 3 channels, 4x4, stride 2, pad 1
        var x = RandomArray(rng, 3 * 5 * 9 * 7);
        var w = RandomArray(rng, 3 * 5 * 4 * 4);
        var bias = RandomArray(rng, 3);
        using var xt = Tensor.FromArray(x, xShape, d);
        using var wt = Tensor.FromArray(w, wShape, d);
        using var bt = Tensor.FromArray(bias, [3], d);
        using var y = Conv2d.Forward(xt, wt, bt, stride: 2, padding: 1);
        var want = Conv2d.Reference.Forward(Array.ConvertAll(x, v => (double)v), xShape, Array.ConvertAll(w, v => (double)v), wShape,
            Array.ConvertAll(bias, v => (double)v), 2, 1);
        return WorstRatio(want, y.ToArray(), rtol: 1e-4, atol: 1e-4);
    }

    /// <summary>The DCGAN discriminator's second layer (64 -> 128 channels, 16x16 -> 8x8, 4x4, stride 2) at batch <paramref name="batch"/>.</summary>
    static Timing TimeConv(Device d, int batch)
    {
        var rng = new Random(6);
        using var x = Tensor.FromArray(RandomArray(rng, batch * 64 * 16 * 16), [batch, 64, 16, 16], d);
        using var w = Tensor.FromArray(RandomArray(rng, 128 * 64 * 16), [128, 64, 4, 4], d);
        using var y = Conv2d.Forward(x, w, null, stride: 2, padding: 1);
        double seconds = TimeWarm(d, () => Conv2d.ForwardInto(x, w, null, 2, 1, y));
        return new(seconds, 2.0 * batch * 128 * 8 * 8 * 64 * 16, "GFLOP/s", $"{batch}x64x16x16 * 128x64x4x4 /2");
    }

    static Timing TimeGemm(Device d, int size)
    {
        var rng = new Random(4);
        using var a = Tensor.FromArray(RandomArray(rng, size * size), [size, size], d);
        using var b = Tensor.FromArray(RandomArray(rng, size * size), [size, size], d);
        using var c = Tensor.Empty(d, size, size);
        double seconds = TimeWarm(d, () => Gemm.Into(a, false, b, false, c));
        return new(seconds, 2.0 * size * size * (double)size, "GFLOP/s", $"{size}x{size}x{size}");
    }
}
