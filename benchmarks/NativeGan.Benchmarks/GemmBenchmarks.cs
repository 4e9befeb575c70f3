using System.Diagnostics;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeGan.Benchmarks;

/// <summary>
/// The cpu GEMM, C = A @ B (float32, row-major, no transposes), per variant and shape, with a GFLOP/s
/// column (2 m n k / mean time). A short in-process job (3 warm-ups, 5 measured iterations) so the
/// whole class fits a 2-core machine in a few minutes; the naive variant is skipped past 512^3:
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*GemmBenchmarks*'</c>.
/// </summary>
[Config(typeof(GemmConfig))]
public class GemmBenchmarks
{
    /// <summary>M x N x K. The square sizes, then DCGAN-like shapes: an im2col convolution
    /// (64 output channels, 32x32 positions of a batch of 16 = 16384, 3x3x32 = 288 inputs)
    /// and a generator projection (batch 64, 100 latent values to 4x4x512 = 8192).</summary>
    public static IEnumerable<string> Shapes => ["512x512x512", "1024x1024x1024", "2048x2048x2048", "64x16384x288", "64x8192x100"];

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "512x512x512";

    /// <summary>By argument: v1 the naive loop, Default the packed GEMM (v2, or v3 where AVX-512 is).</summary>
    [Params(GemmVariant.V1, GemmVariant.Default)]
    public GemmVariant Variant { get; set; } = GemmVariant.Default;

    int m, n, k;
    float[] a = [], b = [], c = [];
    readonly CpuDevice cpu = (CpuDevice)Device.Get("cpu");

    [GlobalSetup]
    public void Setup()
    {
        (m, n, k) = GemmShape.Parse(Shape);
        var rng = new Random(1);
        a = GemmShape.Random(rng, m * k);
        b = GemmShape.Random(rng, k * n);
        c = new float[m * n];
    }

    [Benchmark]
    public void Gemm()
    {
        // The naive variant takes seconds to minutes an iteration past 512^3: skip it there (an empty run).
        if (Variant == GemmVariant.V1 && SkipNaive(m, n, k)) return;
        NativeGan.Gemm.Cpu(cpu, m, n, k, 1f, a, 0, k, false, b, 0, n, false, 0f, c, 0, n, Variant);
    }

    static bool SkipNaive(int m, int n, int k) => (long)m * n * k > 1L << 27;

    /// <summary>In-process (no separate build of a benchmark project), 3 warm-ups, 5 measured iterations.</summary>
    class GemmConfig : ManualConfig
    {
        public GemmConfig()
        {
            AddJob(ShortJob.Create(warmups: 3));
            AddColumn(new RateColumn("GFLOP/s", "2*M*N*K / mean time", benchmarkCase =>
            {
                var (m, n, k) = GemmShape.Parse((string)benchmarkCase.Parameters["Shape"]);
                bool skipped = (GemmVariant)benchmarkCase.Parameters["Variant"] == GemmVariant.V1 && SkipNaive(m, n, k);
                return skipped ? null : (2.0 * m * n * k, null);
            }));
        }
    }

}

/// <summary>Shape parsing and data shared by the benchmark class and the quick measurement.</summary>
static class GemmShape
{
    public static (int M, int N, int K) Parse(string shape)
    {
        var p = shape.Split('x').Select(int.Parse).ToArray();
        return (p[0], p[1], p[2]);
    }

    public static float[] Random(Random rng, int length)
    {
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }
}

/// <summary>
/// A quick stand-alone measurement (no BenchmarkDotNet): best-of-N wall time per variant and shape,
/// printed as GFLOP/s, beside GFLOP per second of CPU time the process used (which a busy, shared
/// machine disturbs less than wall time: on 2 uncontended cores the wall figure approaches twice it).
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- gemm-quick [--threads T] [--packed-only] [MxNxK[:nt]...]</c>.
/// </summary>
public static class GemmQuick
{
    public static void Run(string[] args)
    {
        // --narrow: the 6 x 16 Vector256 micro-kernel even where the CPU has AVX-512 (to compare the two there).
        bool narrow = args.Contains("--narrow"), wide = Vector512.IsHardwareAccelerated && !narrow;
        if (args.Contains("--peak")) { MicroKernelPeak(wide); return; }
        bool packedOnly = false;
        var (cpu, shapes) = Quick.Start(args, ["1024x1024x1024", "2048x2048x2048"], option: a =>
        {
            if (a == "--narrow") return true;
            if (a != "--packed-only") return false;
            packedOnly = true;
            return true;
        });
        var process = Process.GetCurrentProcess();
        foreach (var shape in shapes)
        {
            // MxNxK, optionally ":XY" with X, Y = n (as stored) or t (transposed) for A and B: "64x400x400:nt" is a
            // linear layer's forward (x W^T), "400x400x64:tn" its weight gradient (dY^T x).
            var parts = shape.Split(':');
            var (m, n, k) = GemmShape.Parse(parts[0]);
            bool ta = parts.Length > 1 && parts[1][0] == 't', tb = parts.Length > 1 && parts[1][1] == 't';
            int lda = ta ? m : k, ldb = tb ? k : n;
            var rng = new Random(1);
            float[] a = GemmShape.Random(rng, m * k), b = GemmShape.Random(rng, k * n), c = new float[m * n];
            double flop = 2.0 * m * n * k;
            var packed = wide ? GemmVariant.V3 : GemmVariant.V2;
            foreach (var variant in packedOnly ? [packed] : new[] { GemmVariant.V1, packed })
            {
                Action run = () => Gemm.Cpu(cpu, m, n, k, 1f, a, 0, lda, ta, b, 0, ldb, tb, 0f, c, 0, n, variant);
                // The first run warms up (JIT, pools); when it takes over 5 s (the naive variant at large
                // sizes) it is the one measurement. Otherwise repeat for about 3 s; keep the best times.
                double best = double.MaxValue, bestCpu = double.MaxValue, spent = 0;
                for (int rep = -1; rep < 100 && (spent < 3.0 || rep < 2); rep++)
                {
                    if (rep == 0 && best > 5.0) break;
                    process.Refresh();
                    var cpu0 = process.TotalProcessorTime;
                    var sw = Stopwatch.StartNew();
                    run();
                    double s = sw.Elapsed.TotalSeconds;
                    process.Refresh();
                    best = Math.Min(best, s);
                    bestCpu = Math.Min(bestCpu, (process.TotalProcessorTime - cpu0).TotalSeconds);
                    spent += s;
                }
                string name = variant switch { GemmVariant.V1 => "v1 naive", GemmVariant.V2 => "v2 packed 6x16", _ => "v3 packed 6x32" };
                Console.WriteLine($"{shape,-16} {name,-17} {best * 1e3,10:F2} ms  {flop / best / 1e9,7:F1} GFLOP/s wall  " +
                                  $"{flop / bestCpu / 1e9,7:F1} GFLOP per CPU-second");
            }
        }
    }

    /// <summary>
    /// The micro-kernel alone, one thread, on panels that stay in L1 (kc = 256): the ceiling the packed
    /// GEMM can approach on one core. Prints GFLOP per second of wall and of CPU time.
    /// </summary>
    static unsafe void MicroKernelPeak(bool wide)
    {
        int nr = wide ? 32 : 16, kc = 256, reps = 20000;
        float* a = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc(6 * 256 * 4, 64);
        float* b = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(nr * 256 * 4), 64);
        float* c = (float*)System.Runtime.InteropServices.NativeMemory.AlignedAlloc((nuint)(6 * nr * 4), 64);
        for (int i = 0; i < 6 * 256; i++) a[i] = 1e-3f * (i % 7);
        for (int i = 0; i < nr * 256; i++) b[i] = 1e-3f * (i % 5);
        var process = Process.GetCurrentProcess();
        for (int round = 0; round < 5; round++)
        {
            process.Refresh();
            var cpu0 = process.TotalProcessorTime;
            var sw = Stopwatch.StartNew();
            for (int r = 0; r < reps; r++)
                if (wide) Gemm.Kernel6x32(kc, a, b, c, nr, 1f, 0f);
                else Gemm.Kernel6x16(kc, a, b, c, nr, 1f, 0f);
            double s = sw.Elapsed.TotalSeconds;
            process.Refresh();
            double flop = 2.0 * 6 * nr * kc * reps;
            Console.WriteLine($"micro-kernel 6x{nr}: {flop / s / 1e9:F1} GFLOP/s wall, {flop / (process.TotalProcessorTime - cpu0).TotalSeconds / 1e9:F1} GFLOP per CPU-second");
        }
    }
}
