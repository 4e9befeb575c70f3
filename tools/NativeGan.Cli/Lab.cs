using System.Diagnostics;
using System.Globalization;
using System.Runtime.Intrinsics;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// The kernel lab (after llm.c's dev/cuda files): <c>nativegan lab [OP] [--variant N|all] [--device D]</c>. For each op,
/// and each of its numbered kernel variants asked for, check the device's result against the float64 reference on
/// random data of odd sizes (the worst error over the tolerance; a failure is loud and the exit code 1), then time it
/// at a real size (warm-up, synchronise, median of repetitions) and report GB/s or GFLOP/s, the variants side by side.
/// The variants are the ops' own, chosen by argument (<see cref="GemmVariant"/>, <see cref="Im2ColVariant"/>,
/// <see cref="NormVariant"/>, <see cref="MaxOverMaskVariant"/>); variant 0 is the op's default, what training runs.
/// </summary>
public static class Lab
{
    /// <summary>Exit code for a mistake the user can fix (an unknown op or variant).</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when a variant's result differs from float64 beyond its tolerance (or the kernel throws).</summary>
    public const int CheckFailed = 1;

    /// <summary>
    /// One variant of an op on a device: the number <c>--variant</c> takes and what it is. A slow one (a naive loop, an
    /// emulated instruction set) is timed at no more than <paramref name="MaxSize"/> unless <c>--size</c> says otherwise.
    /// </summary>
    public sealed record Variant(int Number, string Name, int? MaxSize = null);

    /// <summary>
    /// One lab entry: its variants on a device, the one its default runs there (0 when that depends on the size), a
    /// correctness check of one variant (the worst error relative to the tolerance: at most 1 passes) and a timed run
    /// of one variant at a size (elements, a side, a batch: <see cref="DefaultSize"/>, or <see cref="SlowDeviceSize"/>
    /// on ILGPU's CPU accelerator, which is about 1000x slower than real code).
    /// </summary>
    public sealed record Entry(string Name, Func<Device, Variant[]> Variants, Func<Device, int> DefaultOf,
        Func<Device, int, double> Check, Func<Device, int, int, Timing> Time, int DefaultSize, int SlowDeviceSize);

    public sealed record Timing(double Seconds, double Work, string Unit, string Shape)
    {
        public double Rate => Work / Seconds / 1e9;
    }

    /// <summary>The outcome of one (op, variant): the check's worst ratio (or the exception's message) and the timing.</summary>
    public sealed record Outcome(string Op, int Variant, string VariantName, double Worst, string? Error, Timing? Timing)
    {
        public bool Passed => Error is null && Worst <= 1;
    }

    static Variant[] One(Device _) => [new(1, "the one kernel")];

    public static readonly Entry[] Entries =
    [
        new("elementwise.add", One, _ => 1, (d, _) => CheckAdd(d), (d, _, n) => TimeElementwise(d, n, "add"), 1 << 24, 4096),
        new("elementwise.tanh", One, _ => 1, (d, _) => CheckTanh(d), (d, _, n) => TimeElementwise(d, n, "tanh"), 1 << 24, 4096),
        new("gemm", GemmVariants, d => d is GpuDevice ? 0 : Gemm.CpuDefaultIsWide ? 3 : 2, CheckGemm, TimeGemm, 1024, 48),
        new("im2col", Im2ColVariants, d => d is GpuDevice ? 1 : 3, CheckIm2Col, TimeIm2Col, 64, 1),
        new("col2im", Im2ColVariants, d => d is GpuDevice ? 1 : 3, CheckCol2Im, TimeCol2Im, 64, 1),
        new("conv2d", Im2ColVariants, d => d is GpuDevice ? 1 : 3, CheckConv, TimeConv, 64, 1),
        new("batchnorm", NormVariants, d => d is GpuDevice ? 1 : 2, CheckBatchNorm, TimeBatchNorm, 256, 4),
        new("maxover.mask", MaskVariants, _ => 2, CheckMask, TimeMask, 256, 2),
    ];

    static Variant[] GemmVariants(Device d) => d is GpuDevice
        ? [new(1, "naive, a thread an element", MaxSize: 2048), new(2, "16x16 shared-memory tiles"), new(3, "64x64 register tiles"),
           new(4, "128x128 tiles, 8x8 a thread, LDS.128, double-buffered"), new(5, "TF32 tensor cores (mma.sync), v4's tiles")]
        : [new(1, "naive triple loop", MaxSize: 256), new(2, "packed, 6x16 Vector256"),
           Vector512.IsHardwareAccelerated ? new(3, "packed, 6x32 Vector512") : new(3, "packed, 6x32 Vector512 (emulated: no AVX-512)", MaxSize: 256)];

    static Variant[] Im2ColVariants(Device d) => d is GpuDevice
        ? [new(1, "a thread an entry")]
        : [new(1, "rows in parallel, span slices"), new(2, "v1 on refs"), new(3, "zero-bordered planes, gathers")];

    static Variant[] NormVariants(Device d) => d is GpuDevice
        ? [new(1, "a thread group a channel")]
        : [new(1, "a group's runs (general)"), new(2, "[N, C] columns, vectorised")];

    static Variant[] MaskVariants(Device _) => [new(1, "five general kernels"), new(2, "one kernel")];

    /// <summary>
    /// Runs the entries whose name is <paramref name="only"/> (or starts with it; all when null) with the variants
    /// <paramref name="variant"/> names: null for the default only, "all" for every numbered one, or a number (0 is the
    /// default). An unknown op or variant is one red line listing the valid ones and exit code <see cref="UsageError"/>;
    /// a check that fails is a red line after the table and exit code <see cref="CheckFailed"/>.
    /// </summary>
    public static int Run(IAnsiConsole console, Device device, string? only, string? variant, int? size, int repeats)
        => Run(console, device, only, variant, size, repeats, out _);

    /// <inheritdoc cref="Run(IAnsiConsole, Device, string?, string?, int?, int)"/>
    /// <param name="outcomes">Each (op, variant) run: its check and timing.</param>
    /// <param name="entries">The lab's entries (<see cref="Entries"/> unless a test gives its own).</param>
    public static int Run(IAnsiConsole console, Device device, string? only, string? variant, int? size, int repeats, out List<Outcome> outcomes,
        IReadOnlyList<Entry>? entries = null)
    {
        outcomes = [];
        List<(Entry Entry, Variant[] Variants)> plan;
        try
        {
            var selected = Select(entries ?? Entries, only);
            plan = selected.Select(e => (e, Chosen(e, device, variant))).ToList();
            if (size is <= 0) throw new ArgumentException($"--size must be positive, got {size}");
        }
        catch (ArgumentException e)
        {
            console.MarkupLine("[red]error:[/] " + Markup.Escape(e.Message));
            return UsageError;
        }

        console.MarkupLine($"lab on [bold]{Markup.Escape(device.Name)}[/] ({Markup.Escape(device.Description)})");
        var table = new Table().AddColumns("op", "variant", "check vs float64", "shape", "median time", "throughput");
        foreach (var (e, variants) in plan)
        {
            int defaultNumber = e.DefaultOf(device);
            foreach (var v in variants)
            {
                string name = v.Number == 0
                    ? "default" + (defaultNumber == 0 ? " (by size)" : $" = v{defaultNumber} {e.Variants(device).First(x => x.Number == defaultNumber).Name}")
                    : $"v{v.Number} {v.Name}" + (v.Number == defaultNumber ? " (default)" : "");
                double worst;
                string? error = null;
                Timing? timing = null;
                try { worst = e.Check(device, v.Number); }
                catch (Exception ex) { (worst, error) = (double.PositiveInfinity, $"{ex.GetType().Name}: {ex.Message}"); }
                var outcome = new Outcome(e.Name, v.Number, name, worst, error, null);
                if (outcome.Passed)
                {
                    // ILGPU's CPU accelerator gets tiny default sizes; so do slow variants (naive, emulated) on the cpu.
                    int n = size ?? (device.Kind == DeviceKind.IlgpuCpu ? e.SlowDeviceSize : Math.Min(e.DefaultSize, v.MaxSize ?? int.MaxValue));
                    timing = Median(repeats, () => e.Time(device, v.Number, n));
                    outcome = outcome with { Timing = timing };
                }
                outcomes.Add(outcome);
                string check = error is not null ? "[red]FAILED[/] (threw)"
                    : outcome.Passed ? $"[green]ok[/] ({worst:0.00} of tolerance)"
                    : $"[red]FAILED[/] ({worst:0.0}x tolerance)";
                table.AddRow(Markup.Escape(e.Name), Markup.Escape(name), check,
                    timing is null ? "-" : Markup.Escape(timing.Shape),
                    timing is null ? "-" : $"{timing.Seconds * 1e3:0.000} ms",
                    timing is null ? "-" : $"{timing.Rate:0.0} {timing.Unit}");
            }
        }
        if (Console.IsOutputRedirected) console.Profile.Width = Math.Max(console.Profile.Width, 200);
        console.Write(table);
        var failed = outcomes.Where(o => !o.Passed).ToList();
        foreach (var f in failed)
            console.MarkupLine("[red]FAILED:[/] " + Markup.Escape($"{f.Op} {f.VariantName} on {device.Name}: " +
                (f.Error ?? $"differs from float64 by {f.Worst.ToString("0.0", CultureInfo.InvariantCulture)}x the tolerance")));
        return failed.Count == 0 ? 0 : CheckFailed;
    }

    /// <summary>The entry named <paramref name="only"/>, else those whose name starts with it, else every entry (null).</summary>
    static IReadOnlyList<Entry> Select(IReadOnlyList<Entry> entries, string? only)
    {
        if (only is null) return entries;
        var exact = entries.Where(e => e.Name.Equals(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (exact.Length > 0) return exact;
        var prefixed = entries.Where(e => e.Name.StartsWith(only, StringComparison.OrdinalIgnoreCase)).ToArray();
        if (prefixed.Length > 0) return prefixed;
        throw new ArgumentException($"unknown op '{only}'; the ops are: {string.Join(", ", entries.Select(e => e.Name))}");
    }

    /// <summary>The variants <paramref name="variant"/> names for an entry on a device (0 is the default).</summary>
    static Variant[] Chosen(Entry e, Device device, string? variant)
    {
        var all = e.Variants(device);
        if (variant is null) return [new(0, "default")];
        if (variant.Equals("all", StringComparison.OrdinalIgnoreCase)) return all;
        string valid = $"{string.Join(", ", all.Select(v => $"{v.Number} ({v.Name})"))}, 0 (the default) or all";
        if (!int.TryParse(variant, NumberStyles.Integer, CultureInfo.InvariantCulture, out int number))
            throw new ArgumentException($"--variant must be a number or all, got '{variant}'; {e.Name} on {device.Name} has {valid}");
        if (number == 0) return [new(0, "default")];
        return all.FirstOrDefault(v => v.Number == number) is { } chosen ? [chosen]
            : throw new ArgumentException($"{e.Name} has no variant {number} on {device.Name}; its variants: {valid}");
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

    static double[] D(float[] a) => Array.ConvertAll(a, x => (double)x);

    /// <summary>Worst |got - want| / (atol + rtol |want|).</summary>
    static double WorstRatio(double[] want, float[] got, double rtol = 1e-4, double atol = 1e-5)
    {
        if (want.Length != got.Length) return double.PositiveInfinity;
        double worst = 0;
        for (int i = 0; i < want.Length; i++)
        {
            double r = Math.Abs(got[i] - want[i]) / (atol + rtol * Math.Abs(want[i]));
            if (double.IsNaN(r)) return double.PositiveInfinity;
            worst = Math.Max(worst, r);
        }
        return worst;
    }

    // ================================================================ elementwise (one kernel each)

    static double CheckAdd(Device d)
    {
        var rng = new Random(1);
        var a = RandomArray(rng, 3 * 5 * 97);
        var b = RandomArray(rng, 97);
        using var at = Tensor.FromArray(a, [3, 5, 97], d);
        using var bt = Tensor.FromArray(b, [97], d);
        using var y = Elementwise.Add(at, bt);
        var want = Elementwise.Reference.Binary(BinaryOp.Add, D(a), [3, 5, 97], D(b), [97], out _);
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

    // ================================================================ GEMM

    /// <summary>67 x 45 x 131 (no size a multiple of any tile or vector), all four transposes.</summary>
    static double CheckGemm(Device d, int variant)
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
            using var c = Gemm.MatMul(at, bt, ta, tb, (GemmVariant)variant);
            // v5 (TF32) against float64 of its inputs rounded to TF32, as the tensor cores read them.
            Func<float[], double[]> exact = variant == (int)GemmVariant.V5 && d is GpuDevice ? x => Array.ConvertAll(x, Tf32) : D;
            worst = Math.Max(worst, WorstRatio(Gemm.Reference.MatMul(exact(a), ta, exact(b), tb, m, n, k), c.ToArray(), rtol: 1e-4, atol: 1e-4));
        }
        return worst;
    }

    /// <summary>A float rounded to TF32 (10 mantissa bits; to nearest, ties away from zero), in float64 arithmetic.</summary>
    static double Tf32(float x)
    {
        if (x == 0 || !float.IsFinite(x)) return x;
        double unit = Math.ScaleB(1.0, Math.ILogB(x) - 10);
        return Math.CopySign(Math.Floor(Math.Abs(x) / unit + 0.5) * unit, x);
    }

    static Timing TimeGemm(Device d, int variant, int size)
    {
        var rng = new Random(4);
        using var a = Tensor.FromArray(RandomArray(rng, size * size), [size, size], d);
        using var b = Tensor.FromArray(RandomArray(rng, size * size), [size, size], d);
        using var c = Tensor.Empty(d, size, size);
        double seconds = TimeWarm(d, () => Gemm.Into(a, false, b, false, c, variant: (GemmVariant)variant));
        return new(seconds, 2.0 * size * size * (double)size, "GFLOP/s", $"{size}x{size}x{size}");
    }

    // ================================================================ im2col, col2im, conv2d

    /// <summary>Odd geometries: strides 1 to 3, paddings 0 to 2, rows of 1 to 13 outputs (v3's stride-2 vector rows and tails).</summary>
    static readonly Conv2dGeometry[] ColumnCases =
    [
        Conv2dGeometry.Of(3, 2, 7, 9, 1, 4, 3, 3, 2), Conv2dGeometry.Of(2, 3, 11, 6, 1, 4, 4, 2, 1), Conv2dGeometry.Of(1, 1, 5, 5, 1, 3, 3, 1, 0),
        Conv2dGeometry.Of(2, 2, 5, 26, 1, 4, 4, 2, 1), Conv2dGeometry.Of(3, 1, 9, 21, 1, 3, 3, 2, 0),
    ];

    static double CheckIm2Col(Device d, int variant)
    {
        var rng = new Random(7);
        double worst = 0;
        foreach (var g in ColumnCases)
        {
            var x = RandomArray(rng, g.N * g.C * g.InPlane);
            using var xt = Tensor.FromArray(x, [g.N, g.C, g.H, g.W], d);
            using var col = Tensor.Full(d, float.NaN, g.Rows, g.N * g.OutPlane);
            Conv2d.Im2ColInto(xt, g, col, (Im2ColVariant)variant);
            worst = Math.Max(worst, WorstRatio(Conv2d.Reference.Im2Col(D(x), g), col.ToArray(), rtol: 1e-7, atol: 1e-30)); // copies: exact
        }
        return worst;
    }

    static double CheckCol2Im(Device d, int variant)
    {
        var rng = new Random(8);
        double worst = 0;
        foreach (var g in ColumnCases)
        {
            var col = RandomArray(rng, g.Rows * g.N * g.OutPlane);
            var bias = RandomArray(rng, g.C);
            using var colT = Tensor.FromArray(col, [g.Rows, g.N * g.OutPlane], d);
            using var bt = Tensor.FromArray(bias, [g.C], d);
            using var dx = Tensor.Full(d, float.NaN, g.N, g.C, g.H, g.W);
            Conv2d.Col2ImInto(colT, g, dx, bt, (Im2ColVariant)variant);
            worst = Math.Max(worst, WorstRatio(Conv2d.Reference.Col2Im(D(col), g, D(bias)), dx.ToArray()));
        }
        return worst;
    }

    /// <summary>The DCGAN discriminator's second layer (64 -> 128 channels, 16x16 -> 8x8, 4x4, stride 2) at batch <paramref name="batch"/>.</summary>
    static Conv2dGeometry D2(int batch) => Conv2dGeometry.Of(batch, 64, 16, 16, 128, 4, 4, 2, 1);

    /// <summary>im2col alone; GB/s counts x read once and the column matrix written once.</summary>
    static Timing TimeIm2Col(Device d, int variant, int batch)
    {
        var g = D2(batch);
        using var x = Tensor.FromArray(RandomArray(new Random(9), g.N * g.C * g.InPlane), [g.N, g.C, g.H, g.W], d);
        using var col = Tensor.Empty(d, g.Rows, g.N * g.OutPlane);
        double seconds = TimeWarm(d, () => Conv2d.Im2ColInto(x, g, col, (Im2ColVariant)variant));
        return new(seconds, 4.0 * (x.Length + col.Length), "GB/s", $"{batch}x64x16x16 -> {g.Rows}x{g.N * g.OutPlane}");
    }

    /// <summary>col2im alone; GB/s counts the column matrix read once and dx written once.</summary>
    static Timing TimeCol2Im(Device d, int variant, int batch)
    {
        var g = D2(batch);
        using var col = Tensor.FromArray(RandomArray(new Random(10), g.Rows * g.N * g.OutPlane), [g.Rows, g.N * g.OutPlane], d);
        using var dx = Tensor.Empty(d, g.N, g.C, g.H, g.W);
        double seconds = TimeWarm(d, () => Conv2d.Col2ImInto(col, g, dx, null, (Im2ColVariant)variant));
        return new(seconds, 4.0 * (col.Length + dx.Length), "GB/s", $"{g.Rows}x{g.N * g.OutPlane} -> {batch}x64x16x16");
    }

    /// <summary>Forward, input gradient and weight gradient (the three cores) against float64: strides 2, 1 and 3.</summary>
    static double CheckConv(Device d, int variant)
    {
        var rng = new Random(5);
        var v = new Conv2dVariant((Im2ColVariant)variant);
        double worst = 0;
        foreach (var (xShape, wShape, s, p) in new (int[], int[], int, int)[]
                 { ([3, 5, 9, 7], [3, 5, 4, 4], 2, 1), ([2, 3, 7, 8], [4, 3, 3, 3], 1, 1), ([2, 2, 9, 11], [3, 2, 4, 3], 3, 2) })
        {
            int o = wShape[0], oh = (xShape[2] + 2 * p - wShape[2]) / s + 1, ow = (xShape[3] + 2 * p - wShape[3]) / s + 1;
            int[] yShape = [xShape[0], o, oh, ow];
            var x = RandomArray(rng, Shapes.Numel(xShape));
            var w = RandomArray(rng, Shapes.Numel(wShape));
            var bias = RandomArray(rng, o);
            var dy = RandomArray(rng, Shapes.Numel(yShape));
            using var xt = Tensor.FromArray(x, xShape, d);
            using var wt = Tensor.FromArray(w, wShape, d);
            using var bt = Tensor.FromArray(bias, [o], d);
            using var dyt = Tensor.FromArray(dy, yShape, d);
            using var y = Conv2d.Forward(xt, wt, bt, s, p, v);
            using var dx = Conv2d.InputGrad(dyt, wt, xShape[2], xShape[3], s, p, v);
            using var dw = Conv2d.WeightGrad(xt, dyt, wShape[2], wShape[3], s, p, v);
            worst = Math.Max(worst, WorstRatio(Conv2d.Reference.Forward(D(x), xShape, D(w), wShape, D(bias), s, p), y.ToArray(), rtol: 1e-4, atol: 1e-4));
            worst = Math.Max(worst, WorstRatio(Conv2d.Reference.InputGrad(D(dy), yShape, D(w), wShape, xShape[2], xShape[3], s, p), dx.ToArray(), rtol: 1e-4, atol: 1e-4));
            worst = Math.Max(worst, WorstRatio(Conv2d.Reference.WeightGrad(D(x), xShape, D(dy), yShape, wShape[2], wShape[3], s, p), dw.ToArray(), rtol: 1e-4, atol: 1e-4));
        }
        return worst;
    }

    /// <summary>The D2 layer's forward, input gradient and weight gradient together; GFLOP/s counts 2 multiply-adds' FLOP of each pass.</summary>
    static Timing TimeConv(Device d, int variant, int batch)
    {
        var g = D2(batch);
        var v = new Conv2dVariant((Im2ColVariant)variant);
        var rng = new Random(6);
        using var x = Tensor.FromArray(RandomArray(rng, batch * 64 * 16 * 16), [batch, 64, 16, 16], d);
        using var w = Tensor.FromArray(RandomArray(rng, 128 * 64 * 16), [128, 64, 4, 4], d);
        using var y = Tensor.Empty(d, batch, 128, 8, 8);
        using var dx = Tensor.EmptyLike(x);
        using var dw = Tensor.EmptyLike(w);
        double seconds = TimeWarm(d, () =>
        {
            Conv2d.ForwardInto(x, w, null, 2, 1, y, v);
            Conv2d.InputGradInto(y, w, 16, 16, 2, 1, dx, v);
            Conv2d.WeightGradInto(x, y, 4, 4, 2, 1, dw, v);
        });
        return new(seconds, 3 * 2.0 * Conv2d.MultiplyAdds(g), "GFLOP/s", $"{batch}x64x16x16 * 128x64x4x4 /2, fwd+dx+dw");
    }

    // ================================================================ batch norm of [N, C]

    /// <summary>Training forward (y) and backward (dx, dgamma, dbeta) of [N, C, 1, 1] against float64: columns off the vector width.</summary>
    static double CheckBatchNorm(Device d, int variant)
    {
        var rng = new Random(11);
        const float eps = 1e-5f;
        double worst = 0;
        // ILGPU's CPU accelerator runs a thread group a channel, each thread an OS thread: few channels there.
        foreach (var (n, c) in d.Kind == DeviceKind.IlgpuCpu ? new[] { (13, 21), (2, 9) } : [(13, 21), (37, 203), (2, 9)])
        {
            var x = RandomArray(rng, n * c, 2f, 4f); // off-centre: the two-pass statistics matter
            var gamma = RandomArray(rng, c, 0.5f, 1.5f);
            var beta = RandomArray(rng, c);
            var dy = RandomArray(rng, n * c);
            using var xt = Tensor.FromArray(x, [n, c, 1, 1], d);
            using var gt = Tensor.FromArray(gamma, [c], d);
            using var bt = Tensor.FromArray(beta, [c], d);
            using var dyt = Tensor.FromArray(dy, [n, c, 1, 1], d);
            var (y, mean, invStd) = BatchNorm2d.Forward(xt, gt, bt, null, null, training: true, eps: eps, variant: (NormVariant)variant);
            var (dx, dgamma, dbeta) = BatchNorm2d.Backward(dyt, xt, gt, mean, invStd, (NormVariant)variant);
            var (ey, _, _) = BatchNorm2d.Reference.Forward(D(x), n, c, 1, 1, D(gamma), D(beta), eps);
            var (edx, edg, edb) = BatchNorm2d.Reference.Backward(D(dy), D(x), n, c, 1, 1, D(gamma), eps);
            worst = Math.Max(worst, WorstRatio(ey, y.ToArray()));
            worst = Math.Max(worst, WorstRatio(edx, dx.ToArray(), rtol: 1e-3, atol: 1e-4));
            worst = Math.Max(worst, WorstRatio(edg, dgamma!.ToArray(), atol: 1e-4));
            worst = Math.Max(worst, WorstRatio(edb, dbeta!.ToArray(), atol: 1e-4));
            foreach (var t in new[] { y, mean, invStd, dx, dgamma, dbeta }) t.Dispose();
        }
        return worst;
    }

    /// <summary>Forward (training) then backward of [rows, 1024, 1, 1] (32 channels on ILGPU's CPU accelerator); GB/s counts 16
    /// bytes an element forward and 20 backward (benchmarks' norm figures).</summary>
    static Timing TimeBatchNorm(Device d, int variant, int rows)
    {
        int c = d.Kind == DeviceKind.IlgpuCpu ? 32 : 1024;
        var rng = new Random(12);
        var v = (NormVariant)variant;
        using var x = Tensor.FromArray(RandomArray(rng, rows * c, 2f, 4f), [rows, c, 1, 1], d);
        using var dy = Tensor.FromArray(RandomArray(rng, rows * c), [rows, c, 1, 1], d);
        using var gamma = Tensor.Full(d, 1.5f, c);
        using var beta = Tensor.Full(d, 0.5f, c);
        using var y = Tensor.EmptyLike(x);
        using var dx = Tensor.EmptyLike(x);
        using var dgamma = Tensor.Empty(d, c);
        using var dbeta = Tensor.Empty(d, c);
        using var mean = Tensor.Empty(d, c);
        using var invStd = Tensor.Empty(d, c);
        double seconds = TimeWarm(d, () =>
        {
            BatchNorm2d.ForwardInto(x, gamma, beta, null, null, true, y, mean, invStd, variant: v);
            BatchNorm2d.BackwardInto(dy, x, gamma, mean, invStd, dx, dgamma, dbeta, v);
        });
        return new(seconds, 36.0 * rows * c, "GB/s", $"[{rows}, {c}] fwd+bwd");
    }

    // ================================================================ a maximum's backward mask

    /// <summary>[7, 5, 13] over axis 1 with ties (every third column: all pieces, or two, at the maximum) against float64.</summary>
    static double CheckMask(Device d, int variant)
    {
        var rng = new Random(13);
        int outer = 7, pieces = 5, inner = 13;
        var x = RandomArray(rng, outer * pieces * inner);
        var max = new float[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++)
            {
                int at(int p) => (o * pieces + p) * inner + i;
                float top = Enumerable.Range(0, pieces).Max(p => x[at(p)]);
                if ((o * inner + i) % 3 == 0)
                {
                    if (i % 2 == 0) for (int p = 0; p < pieces; p++) x[at(p)] = top;
                    else x[at((i + o) % pieces)] = top;
                }
                max[o * inner + i] = top;
            }
        using var xt = Tensor.FromArray(x, [outer, pieces, inner], d);
        using var mt = Tensor.FromArray(max, [outer, inner], d);
        using var mask = MaxOverMask.Compute(xt, mt, 1, (MaxOverMaskVariant)variant);
        return WorstRatio(MaxOverMask.Reference.Mask(D(x), D(max), outer, pieces, inner), mask.ToArray(), rtol: 1e-7, atol: 1e-30);
    }

    /// <summary>A maxout layer's mask, [rows, 5, 1024] over the pieces; GB/s counts x and the maximum read, the mask written.</summary>
    static Timing TimeMask(Device d, int variant, int rows)
    {
        const int pieces = 5, inner = 1024;
        using var x = Tensor.FromArray(RandomArray(new Random(14), rows * pieces * inner), [rows, pieces, inner], d);
        using var max = Reduce.Max(x, [1]);
        using var mask = Tensor.EmptyLike(x);
        double seconds = TimeWarm(d, () => MaxOverMask.ComputeInto(x, max, 1, mask, (MaxOverMaskVariant)variant));
        return new(seconds, 4.0 * (2 * x.Length + max.Length), "GB/s", $"[{rows}, {pieces}, {inner}] over axis 1");
    }
}
