using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeGan.Benchmarks;

/// <summary>
/// The cpu convolutions at the layer shapes of a DCGAN for 32x32 images (batch 64): each layer's forward,
/// input gradient and weight gradient, with a GFLOP/s column (2 * multiply-adds / mean time; all three
/// passes of a layer do the same number of multiply-adds). A short in-process job (2 warm-ups, 5 measured iterations):
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*ConvBenchmarks*'</c>.
/// </summary>
[Config(typeof(ConvConfig))]
public class ConvBenchmarks
{
    /// <summary>A layer: transposed (generator) or not (critic), x [N, Cin, H, W], a KxK kernel, stride, padding.</summary>
    public sealed record Layer(string Name, bool Transposed, int N, int Cin, int Cout, int H, int K, int Stride, int Padding)
    {
        public override string ToString() => Name;
    }

    /// <summary>DCGAN-32 (Radford et al. 2015, the 32x32 variant): a generator 100 -> 256x4x4 -> 128x8x8 -> 64x16x16 -> 3x32x32
    /// and a critic 3x32x32 -> 64x16x16 -> 128x8x8 -> 256x4x4 -> 1, 4x4 kernels throughout, batch 64.</summary>
    public static IEnumerable<Layer> Layers =>
    [
        new("G1 100-256 1-4", true, 64, 100, 256, 1, 4, 1, 0),
        new("G2 256-128 4-8", true, 64, 256, 128, 4, 4, 2, 1),
        new("G3 128-64 8-16", true, 64, 128, 64, 8, 4, 2, 1),
        new("G4 64-3 16-32", true, 64, 64, 3, 16, 4, 2, 1),
        new("D1 3-64 32-16", false, 64, 3, 64, 32, 4, 2, 1),
        new("D2 64-128 16-8", false, 64, 64, 128, 16, 4, 2, 1),
        new("D3 128-256 8-4", false, 64, 128, 256, 8, 4, 2, 1),
        new("D4 256-1 4-1", false, 64, 256, 1, 4, 4, 1, 0),
    ];

    [ParamsSource(nameof(Layers))]
    public Layer L { get; set; } = Layers.First();

    [Params("Forward", "InputGrad", "WeightGrad")]
    public string Pass { get; set; } = "Forward";

    Tensor x = null!, w = null!, b = null!, y = null!, dx = null!, dw = null!;
    int outH;

    [GlobalSetup]
    public void Setup()
    {
        var d = Device.Cpu;
        var rng = new Random(1);
        Tensor Random(params int[] shape)
        {
            var data = new float[Shapes.Numel(shape)];
            for (int i = 0; i < data.Length; i++) data[i] = 2 * rng.NextSingle() - 1;
            return Tensor.FromArray(data, shape, d);
        }
        outH = L.Transposed
            ? ConvTranspose2d.OutputSize(L.H, L.K, L.Stride, L.Padding)
            : (L.H + 2 * L.Padding - L.K) / L.Stride + 1;
        x = Random(L.N, L.Cin, L.H, L.H);
        w = L.Transposed ? Random(L.Cin, L.Cout, L.K, L.K) : Random(L.Cout, L.Cin, L.K, L.K);
        b = Random(L.Cout);
        y = Random(L.N, L.Cout, outH, outH); // the output, and the dy of the gradients
        dx = Tensor.Empty(d, x.Shape);
        dw = Tensor.Empty(d, w.Shape);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { x, w, b, y, dx, dw }) t.Dispose();
    }

    [Benchmark]
    public void Run()
    {
        switch (Pass, L.Transposed)
        {
            case ("Forward", false): Conv2d.ForwardInto(x, w, b, L.Stride, L.Padding, y); break;
            case ("InputGrad", false): Conv2d.InputGradInto(y, w, L.H, L.H, L.Stride, L.Padding, dx); break;
            case ("WeightGrad", false): Conv2d.WeightGradInto(x, y, L.K, L.K, L.Stride, L.Padding, dw); break;
            case ("Forward", true): ConvTranspose2d.ForwardInto(x, w, b, L.Stride, L.Padding, 0, y); break;
            case ("InputGrad", true): ConvTranspose2d.InputGradInto(y, w, L.Stride, L.Padding, dx); break;
            default: ConvTranspose2d.WeightGradInto(x, y, L.K, L.K, L.Stride, L.Padding, dw); break;
        }
    }

    /// <summary>Multiply-adds of one pass: N * Cin * H * W * Cout * K * K for a transposed layer (every input pixel
    /// meets every weight), N * Cout * OH * OW * Cin * K * K for a convolution.</summary>
    public static long MultiplyAdds(Layer l)
    {
        int outH = l.Transposed ? ConvTranspose2d.OutputSize(l.H, l.K, l.Stride, l.Padding) : (l.H + 2 * l.Padding - l.K) / l.Stride + 1;
        long pixels = l.Transposed ? (long)l.H * l.H : (long)outH * outH;
        return l.N * pixels * l.Cin * l.Cout * l.K * l.K;
    }

    class ConvConfig : ManualConfig
    {
        public ConvConfig()
        {
            // In process: no generated project to build (that build times out on a busy 2-core machine).
            AddJob(ShortJob.Create());
            // The usual count: products with the padding's zeros included.
            AddColumn(new RateColumn("GFLOP/s", "2 * N*Cout*OH*OW*Cin*K*K / mean time",
                benchmarkCase => (2.0 * MultiplyAdds((Layer)benchmarkCase.Parameters["L"]), null)));
        }
    }

}

/// <summary>
/// The convolutions of the MNIST WGAN-GP critic (width 32, batch 64, 4x4 kernels; conv2d forward, input gradient,
/// weight gradient each) with the v1, v2 and v3 cpu im2col / col2im (by argument: <see cref="Conv2dVariant"/>), alternated in one process so that a busy machine
/// disturbs both alike; best time of each over about 2 s. A size is Cin-Cout-H-stride-padding.
/// <c>--copies</c> times im2col and col2im alone (the whole batch at once), without the products.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- conv-quick [--threads T] [--copies] [Cin-Cout-H-S-P...]</c>.
/// </summary>
public static class ConvQuick
{
    public static void Run(string[] args)
    {
        int chunkFloats = 0;
        bool copies = false;
        var (cpu, sizes) = Quick.Start(args, ["1-32-32-2-1", "32-64-16-2-1", "64-128-8-2-1", "128-1-4-1-0"], option: a =>
        {
            if (a == "--copies") return copies = true;
            if (!a.StartsWith("--chunk=", StringComparison.Ordinal)) return false;
            chunkFloats = int.Parse(a["--chunk=".Length..]); // the column matrix's budget in floats (default Conv2d.CpuChunkFloats)
            return true;
        });
        const int n = 64, k = 4;
        foreach (var size in sizes)
        {
            var p = Array.ConvertAll(size.Split('-'), int.Parse);
            int cin = p[0], cout = p[1], h = p[2], stride = p[3], pad = p[4], oh = (h + 2 * pad - k) / stride + 1;
            if (copies)
            {
                Copies(cpu, Conv2dGeometry.Of(n, cin, h, h, cout, k, k, stride, pad));
                continue;
            }
            using var x = RandomOps.Uniform(cpu, [n, cin, h, h], seed: 1);
            using var w = RandomOps.Uniform(cpu, [cout, cin, k, k], seed: 2);
            using var dy = RandomOps.Uniform(cpu, [n, cout, oh, oh], seed: 3);
            using var y = Tensor.EmptyLike(dy);
            using var dx = Tensor.EmptyLike(x);
            using var dw = Tensor.EmptyLike(w);
            // v1, v2, v3 by number, v4 (the forward's GEMM panels gathered from the image; its gradients are v3's), then the
            // default (v3, or the plain product for a kernel that covers the whole input).
            var best = new double[5, 3];
            for (int v = 0; v < 5; v++) for (int pass = 0; pass < 3; pass++) best[v, pass] = double.MaxValue;
            var watch = Stopwatch.StartNew();
            for (int rep = 0; watch.Elapsed.TotalSeconds < 2 || rep < 10; rep++)
                for (int v = 0; v < 5; v++)
                {
                    var variant = new Conv2dVariant(v < 4 ? (Im2ColVariant)(v + 1) : Im2ColVariant.Default, ChunkFloats: chunkFloats);
                    for (int pass = 0; pass < 3; pass++)
                    {
                        var sw = Stopwatch.StartNew();
                        if (pass == 0) Conv2d.ForwardInto(x, w, null, stride, pad, y, variant);
                        else if (pass == 1) Conv2d.InputGradInto(dy, w, h, h, stride, pad, dx, variant);
                        else Conv2d.WeightGradInto(x, dy, k, k, stride, pad, dw, variant);
                        best[v, pass] = Math.Min(best[v, pass], sw.Elapsed.TotalSeconds);
                    }
                }
            string Pass(int pass) => $"{best[0, pass] * 1e3:0.00} -> {best[1, pass] * 1e3:0.00} -> {best[2, pass] * 1e3:0.00} ms ({best[0, pass] / best[2, pass]:0.00}x), " +
                                     (pass == 0 ? $"v4 {best[3, pass] * 1e3:0.00} ms, " : "") + $"default {best[4, pass] * 1e3:0.00} ms";
            Console.WriteLine($"{cin}-{cout} {h}->{oh} s{stride} p{pad}: forward {Pass(0)}, input grad {Pass(1)}, weight grad {Pass(2)}");
        }
    }

    /// <summary>im2col and col2im of the whole batch, each variant alternated, best of about 2 s; GB/s counts the column matrix once.</summary>
    static void Copies(CpuDevice cpu, Conv2dGeometry g)
    {
        var rng = new Random(1);
        float[] x = new float[g.N * g.C * g.InPlane], col = new float[g.Rows * g.N * g.OutPlane], dx = new float[x.Length];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextSingle();
        for (int i = 0; i < col.Length; i++) col[i] = rng.NextSingle();
        var best = new double[3, 2];
        for (int v = 0; v < 3; v++) best[v, 0] = best[v, 1] = double.MaxValue;
        var watch = Stopwatch.StartNew();
        for (int rep = 0; watch.Elapsed.TotalSeconds < 2 || rep < 10; rep++)
            for (int v = 0; v < 3; v++)
            {
                var variant = (Im2ColVariant)(v + 1);
                var sw = Stopwatch.StartNew();
                Conv2d.Im2ColCpu(cpu, g, x, 0, 0, g.N, col, variant);
                best[v, 0] = Math.Min(best[v, 0], sw.Elapsed.TotalSeconds);
                sw.Restart();
                Conv2d.Col2ImCpu(cpu, g, col, 0, g.N, dx, 0, null, 0, variant);
                best[v, 1] = Math.Min(best[v, 1], sw.Elapsed.TotalSeconds);
            }
        double bytes = 4.0 * col.Length;
        string Pass(int pass) => string.Join(" -> ", Enumerable.Range(0, 3).Select(v => $"{best[v, pass] * 1e3:0.000}")) +
                                 $" ms ({best[0, pass] / best[2, pass]:0.00}x; v3 {bytes / best[2, pass] / 1e9:0.0} GB/s)";
        Console.WriteLine($"{g.C}-{g.O} {g.H}->{g.OH} s{g.Stride} p{g.Pad}, {g.Rows} x {g.N * g.OutPlane} columns: im2col {Pass(0)}, col2im {Pass(1)}");
    }
}
