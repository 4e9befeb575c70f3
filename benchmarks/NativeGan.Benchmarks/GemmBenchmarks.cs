using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace NativeGan.Benchmarks;

/// <summary>
/// The cpu GEMM, C = A @ B (float32, row-major, no transposes), per variant and shape, with a GFLOP/s
/// column (2 m n k / mean time). A short job (3 warm-ups, 5 measured iterations) so the whole class
/// fits a 2-core machine in a few minutes:
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

    [Params("CpuV1Naive", "CpuV2Packed")]
    public string Variant { get; set; } = "CpuV2Packed";

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
        // The naive variant at 2048^3 takes minutes an iteration: skip it there (an empty run).
        if (Variant == "CpuV1Naive")
        {
            if ((long)m * n * k > 1L << 30) return;
            NativeGan.Gemm.CpuV1Naive(cpu, m, n, k, 1f, a, 0, k, false, b, 0, n, false, 0f, c, 0, n);
        }
        else
            NativeGan.Gemm.CpuV2Packed(cpu, m, n, k, 1f, a, 0, k, false, b, 0, n, false, 0f, c, 0, n);
    }

    class GemmConfig : ManualConfig
    {
        public GemmConfig()
        {
            AddJob(Job.ShortRun.WithWarmupCount(3).WithIterationCount(5).WithLaunchCount(1));
            AddColumn(new GflopsColumn());
        }
    }

    /// <summary>2 m n k / mean time, in GFLOP/s.</summary>
    class GflopsColumn : IColumn
    {
        public string Id => "GFLOPs";
        public string ColumnName => "GFLOP/s";
        public bool AlwaysShow => true;
        public ColumnCategory Category => ColumnCategory.Custom;
        public int PriorityInCategory => 0;
        public bool IsNumeric => true;
        public UnitType UnitType => UnitType.Dimensionless;
        public string Legend => "2*M*N*K / mean time";
        public bool IsAvailable(Summary summary) => true;
        public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
        public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

        public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
        {
            var report = summary[benchmarkCase];
            if (report?.ResultStatistics is not { } stats) return "-";
            var (m, n, k) = GemmShape.Parse((string)benchmarkCase.Parameters["Shape"]);
            if ((string)benchmarkCase.Parameters["Variant"] == "CpuV1Naive" && (long)m * n * k > 1L << 30) return "skipped";
            return (2.0 * m * n * k / stats.Mean).ToString("F1"); // FLOP per ns = GFLOP/s
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
/// printed as GFLOP/s. <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- gemm-quick [shapes...]</c>.
/// </summary>
public static class GemmQuick
{
    public static void Run(string[] shapes)
    {
        var cpu = (CpuDevice)Device.Get("cpu");
        Console.WriteLine($"cpu: {cpu.Description}, {cpu.Threads} threads, {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        if (shapes.Length == 0) shapes = ["1024x1024x1024", "2048x2048x2048"];
        foreach (var shape in shapes)
        {
            var (m, n, k) = GemmShape.Parse(shape);
            var rng = new Random(1);
            float[] a = GemmShape.Random(rng, m * k), b = GemmShape.Random(rng, k * n), c = new float[m * n];
            double flop = 2.0 * m * n * k;
            foreach (var variant in new[] { "CpuV1Naive", "CpuV2Packed" })
            {
                Action run = variant == "CpuV1Naive"
                    ? () => Gemm.CpuV1Naive(cpu, m, n, k, 1f, a, 0, k, false, b, 0, n, false, 0f, c, 0, n)
                    : () => Gemm.CpuV2Packed(cpu, m, n, k, 1f, a, 0, k, false, b, 0, n, false, 0f, c, 0, n);
                run(); // warm-up (JIT, pools)
                // Repeat for about 2 s (the naive variant at least twice), keep the best time.
                double best = double.MaxValue, spent = 0;
                for (int rep = 0; rep < 50 && (spent < 2.0 || rep < 2); rep++)
                {
                    var sw = Stopwatch.StartNew();
                    run();
                    double s = sw.Elapsed.TotalSeconds;
                    best = Math.Min(best, s);
                    spent += s;
                }
                Console.WriteLine($"{shape,-16} {variant,-12} {best * 1e3,10:F2} ms  {flop / best / 1e9,8:F1} GFLOP/s");
            }
        }
    }
}
