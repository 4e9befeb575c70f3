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
/// The cpu normalisations, forward (training) and backward, at DCGAN-like activation shapes, with a GB/s
/// column: the bytes the kernels must move at least (forward: x read twice for the two-pass statistics,
/// once more to normalise, y written: 16 bytes an element; backward: dy and x read for the sums and
/// again for dx, dx written: 20 bytes an element) over the mean time. Memory-bound ops: compare with the
/// machine's stream bandwidth.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*NormBenchmarks*'</c>
/// </summary>
[Config(typeof(NormConfig))]
public class NormBenchmarks
{
    /// <summary>N x C x H x W: a DCGAN discriminator's second layer at batch 64, and a generator's 16x16 layer.</summary>
    public static IEnumerable<string> Shapes => ["64x64x32x32", "64x128x16x16"];

    [ParamsSource(nameof(Shapes))]
    public string Shape { get; set; } = "64x64x32x32";

    [Params("BatchNorm2d", "InstanceNorm2d", "LayerNorm")]
    public string Op { get; set; } = "BatchNorm2d";

    [Params("Forward", "Backward")]
    public string Pass { get; set; } = "Forward";

    Tensor x = null!, dy = null!, y = null!, dx = null!, gamma = null!, beta = null!, dgamma = null!, dbeta = null!, mean = null!, invStd = null!;

    [GlobalSetup]
    public void Setup()
    {
        var s = Array.ConvertAll(Shape.Split('x'), int.Parse);
        var rng = new Random(1);
        float[] Random(int count) { var a = new float[count]; for (int i = 0; i < count; i++) a[i] = 3f + 2f * (rng.NextSingle() - 0.5f); return a; }
        int numel = s[0] * s[1] * s[2] * s[3];
        var cpu = Device.Cpu;
        x = Tensor.FromArray(Random(numel), s, cpu);
        dy = Tensor.FromArray(Random(numel), s, cpu);
        y = Tensor.EmptyLike(x);
        dx = Tensor.EmptyLike(x);
        int[] param = Op == "LayerNorm" ? s[1..] : [s[1]];
        int groups = Op switch { "BatchNorm2d" => s[1], "InstanceNorm2d" => s[0] * s[1], _ => s[0] };
        gamma = Tensor.FromArray(Random(Shapes_.Numel(param)), param, cpu);
        beta = Tensor.FromArray(Random(Shapes_.Numel(param)), param, cpu);
        dgamma = Tensor.EmptyLike(gamma);
        dbeta = Tensor.EmptyLike(beta);
        mean = Tensor.Empty(cpu, groups);
        invStd = Tensor.Empty(cpu, groups);
        Forward();
    }

    [Benchmark]
    public void Run()
    {
        if (Pass == "Forward") Forward();
        else Backward();
    }

    void Forward()
    {
        switch (Op)
        {
            case "BatchNorm2d": BatchNorm2d.ForwardInto(x, gamma, beta, null, null, true, y, mean, invStd); break;
            case "InstanceNorm2d": InstanceNorm2d.ForwardInto(x, gamma, beta, y, mean, invStd); break;
            default: LayerNorm.ForwardInto(x, gamma, beta, y, mean, invStd); break;
        }
    }

    void Backward()
    {
        switch (Op)
        {
            case "BatchNorm2d": BatchNorm2d.BackwardInto(dy, x, gamma, mean, invStd, dx, dgamma, dbeta); break;
            case "InstanceNorm2d": InstanceNorm2d.BackwardInto(dy, x, gamma, mean, invStd, dx, dgamma, dbeta); break;
            default: LayerNorm.BackwardInto(dy, x, gamma, mean, invStd, dx, dgamma, dbeta); break;
        }
    }

    static class Shapes_
    {
        public static int Numel(int[] s) => s.Aggregate(1, (a, b) => a * b);
    }

    class NormConfig : ManualConfig
    {
        public NormConfig()
        {
            AddJob(ShortJob.Create(warmups: 3));
            AddColumn(new RateColumn("GB/s", "minimum bytes moved (16 an element forward, 20 backward) / mean time", benchmarkCase =>
            {
                long numel = ((string)benchmarkCase.Parameters["Shape"]).Split('x').Select(long.Parse).Aggregate(1L, (a, b) => a * b);
                return (numel * ((string)benchmarkCase.Parameters["Pass"] == "Forward" ? 16.0 : 20.0), null);
            }));
        }
    }

}

/// <summary>
/// Batch norm of an [N, C] activation (the 2D models' generator, BatchNorm1d), forward (training) then backward,
/// with the v1 kernels (a group's runs, here one element each) and the v2 column kernels (by argument:
/// <see cref="NormVariant"/>), alternated in one
/// process so that a busy machine disturbs both alike; best time of each over about 2 s.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- norm-quick [--threads T] [NxC...]</c>.
/// </summary>
public static class NormQuick
{
    public static void Run(string[] args)
    {
        var (cpu, sizes) = Quick.Start(args, ["100x400", "64x1024", "256x4096"]);
        foreach (var size in sizes)
        {
            var s = Array.ConvertAll(size.Split('x'), int.Parse);
            int n = s[0], c = s[1];
            var rng = new Random(1);
            float[] Random(int count) { var a = new float[count]; for (int i = 0; i < count; i++) a[i] = 3f + 2f * (rng.NextSingle() - 0.5f); return a; }
            using var x = Tensor.FromArray(Random(n * c), [n, c, 1, 1], cpu);
            using var dy = Tensor.FromArray(Random(n * c), [n, c, 1, 1], cpu);
            using var gamma = Tensor.FromArray(Random(c), [c], cpu);
            using var beta = Tensor.FromArray(Random(c), [c], cpu);
            using var y = Tensor.EmptyLike(x);
            using var dx = Tensor.EmptyLike(x);
            using var dgamma = Tensor.EmptyLike(gamma);
            using var dbeta = Tensor.EmptyLike(beta);
            using var mean = Tensor.Empty(cpu, c);
            using var invStd = Tensor.Empty(cpu, c);
            var best = new Dictionary<NormVariant, double> { [NormVariant.V1] = double.MaxValue, [NormVariant.V2] = double.MaxValue };
            var watch = Stopwatch.StartNew();
            for (int rep = 0; watch.Elapsed.TotalSeconds < 2 || rep < 20; rep++)
                foreach (var variant in new[] { NormVariant.V1, NormVariant.V2 })
                {
                    var sw = Stopwatch.StartNew();
                    BatchNorm2d.ForwardInto(x, gamma, beta, null, null, true, y, mean, invStd, variant: variant);
                    BatchNorm2d.BackwardInto(dy, x, gamma, mean, invStd, dx, dgamma, dbeta, variant);
                    best[variant] = Math.Min(best[variant], sw.Elapsed.TotalSeconds);
                }
            double v1 = best[NormVariant.V1], v2 = best[NormVariant.V2];
            Console.WriteLine($"{n}x{c}: forward + backward v1 (runs) {v1 * 1e6:0.0} us, v2 (columns) {v2 * 1e6:0.0} us: {v1 / v2:0.0}x");
        }
    }
}

/// <summary>
/// The backward mask of a maxout layer's maximum over its pieces, x [N, P, F] over axis 1 (<see cref="MaxOverMask"/>):
/// v1 (five general kernels) against v2 (one kernel), alternated in one process, best time of each over about 2 s.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- maxout-quick [--threads T] [NxPxF...]</c>.
/// </summary>
public static class MaxoutQuick
{
    public static void Run(string[] args)
    {
        var (cpu, sizes) = Quick.Start(args, ["100x5x200", "64x5x1024"]);
        foreach (var size in sizes)
        {
            var s = Array.ConvertAll(size.Split('x'), int.Parse);
            using var x = RandomOps.Uniform(cpu, s, seed: 1);
            using var max = Reduce.Max(x, [1]);
            var best = new double[2] { double.MaxValue, double.MaxValue };
            var watch = Stopwatch.StartNew();
            for (int rep = 0; watch.Elapsed.TotalSeconds < 2 || rep < 20; rep++)
                for (int v = 0; v < 2; v++)
                {
                    var sw = Stopwatch.StartNew();
                    using (var mask = MaxOverMask.Compute(x, max, 1, v == 0 ? MaxOverMaskVariant.V1 : MaxOverMaskVariant.V2))
                        best[v] = Math.Min(best[v], sw.Elapsed.TotalSeconds);
                }
            Console.WriteLine($"{size}: mask v1 (five kernels) {best[0] * 1e6:0.0} us, v2 (one kernel) {best[1] * 1e6:0.0} us: {best[0] / best[1]:0.0}x");
        }
    }
}

/// <summary>
/// A gradient of a gradient through minibatch discrimination's closeness (what R1 or WGAN-GP's penalty asks of a
/// discriminator with the layer), m [N, B, C]: the first gradient recorded, then the gradient of v · it.
/// v1 composes the recorded backward from broadcast ops over [N, N, B, C]; v2 records it as one op with fused
/// kernels for its own backward (by argument: <see cref="Ops.ClosenessDoubleBackwardVariant"/>). Alternated, best of each over ~2 s.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- mbd-quick [--threads T] [NxBxC...]</c>.
/// </summary>
public static class MbdQuick
{
    public static void Run(string[] args)
    {
        var (cpu, sizes) = Quick.Start(args, ["100x100x5", "256x100x5"]);
        foreach (var size in sizes)
        {
            var s = Array.ConvertAll(size.Split('x'), int.Parse);
            using var m = RandomOps.Uniform(cpu, s, seed: 1);
            using var v = RandomOps.Uniform(cpu, s, seed: 2);
            m.RequiresGrad = true;
            var variants = new[] { Ops.ClosenessDoubleBackwardVariant.Composed, Ops.ClosenessDoubleBackwardVariant.Fused };
            var best = new double[2] { double.MaxValue, double.MaxValue };
            var watch = Stopwatch.StartNew();
            for (int rep = 0; watch.Elapsed.TotalSeconds < 2 || rep < 5; rep++)
                for (int k = 0; k < 2; k++)
                {
                    var sw = Stopwatch.StartNew();
                    using (var scope = new TensorScope())
                    {
                        var dm = Autograd.Grad([m.MinibatchCloseness(doubleBackward: variants[k]).Sum()], [m], createGraph: true)[0];
                        Autograd.Grad([dm.Mul(v).Sum()], [m]);
                    }
                    best[k] = Math.Min(best[k], sw.Elapsed.TotalSeconds);
                }
            Console.WriteLine($"{size}: closeness forward + gradient + its gradient: v1 (broadcast ops) {best[0] * 1e3:0.00} ms, v2 (fused) {best[1] * 1e3:0.00} ms: {best[0] / best[1]:0.0}x");
        }
    }
}
