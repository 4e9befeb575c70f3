using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

namespace NativeGan.Benchmarks;

/// <summary>
/// The memory-bound helper ops (reductions, Philox draws, transpose) on the cpu and, when present, on CUDA.
/// Every call ends with <c>Synchronize()</c>, so GPU times include the kernels, not just their queueing.
/// Bandwidth = bytes read + written / mean time; each benchmark's description names its size.
/// <c>dotnet run -c Release --project benchmarks/NativeGan.Benchmarks -- --filter '*MiscBenchmarks*'</c>.
/// </summary>
[Config(typeof(MiscConfig))]
public class MiscBenchmarks
{
    /// <summary>cpu always; cuda when this machine has it.</summary>
    public static IEnumerable<string> Devices
        => Device.Available().Any(d => d.Name == "cuda") ? ["cpu", "cuda"] : ["cpu"];

    [ParamsSource(nameof(Devices))]
    public string DeviceName { get; set; } = "cpu";

    const int N = 1 << 24; // 64 MiB of floats
    Device device = Device.Cpu;
    Tensor x = null!, matrix = null!, transposed = null!, rows = null!, columns = null!, scalar = null!, draws = null!;

    [GlobalSetup]
    public void Setup()
    {
        device = Device.Get(DeviceName);
        x = RandomOps.Uniform(device, [N], seed: 1);
        matrix = x.Reshape(4096, 4096);
        transposed = Tensor.Empty(device, 4096, 4096);
        rows = Tensor.Empty(device, 4096);
        columns = Tensor.Empty(device, 4096);
        scalar = Tensor.Empty(device, 1);
        draws = Tensor.Empty(device, N);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        foreach (var t in new[] { x, matrix, transposed, rows, columns, scalar, draws }) t.Dispose();
    }

    [Benchmark(Description = "SumAll 2^24 (64 MiB read)")]
    public void SumAll() { Reduce.Into(ReduceOp.Sum, x, [0], scalar); device.Synchronize(); }

    [Benchmark(Description = "Sum rows of 4096x4096 (64 MiB read)")]
    public void SumRows() { Reduce.Into(ReduceOp.Sum, matrix, [1], rows); device.Synchronize(); }

    [Benchmark(Description = "Sum columns of 4096x4096 (64 MiB read)")]
    public void SumColumns() { Reduce.Into(ReduceOp.Sum, matrix, [0], columns); device.Synchronize(); }

    // MuseGAN's patch layer along W ([N, C, A, k, W] -> [N, A, W, C, k]) at 2^24 floats: runs of 4 contiguous in neither.
    static readonly int[] PatchShape = [64, 32, 16, 4, 128], PatchPerm = [0, 2, 4, 1, 3];

    [Benchmark(Description = "Permute v1 [64,32,16,4,128] by [0,2,4,1,3] (128 MiB moved)")]
    public void PermuteV1() => PermutePatch(PermuteVariant.V1);

    [Benchmark(Description = "Permute v2 [64,32,16,4,128] by [0,2,4,1,3] (128 MiB moved)")]
    public void PermuteV2() => PermutePatch(PermuteVariant.V2);

    void PermutePatch(PermuteVariant variant)
    {
        using var source = x.Reshape(PatchShape);
        using var target = draws.Reshape([.. PatchPerm.Select(p => PatchShape[p])]);
        Transpose.PermuteInto(source, PatchPerm, target, variant);
        device.Synchronize();
    }

    [Benchmark(Description = "FillUniform 2^24 (64 MiB written)")]
    public void Uniform() { RandomOps.FillUniform(draws, 2); device.Synchronize(); }

    [Benchmark(Description = "FillNormal 2^24 (64 MiB written)")]
    public void Normal() { RandomOps.FillNormal(draws, 2); device.Synchronize(); }

    [Benchmark(Description = "Transpose 4096x4096 (128 MiB moved)")]
    public void TransposeMatrix() { Transpose.MatrixInto(matrix, transposed); device.Synchronize(); }

    /// <summary>In-process, 3 warm-ups, 5 measured iterations: fits a small shared machine.</summary>
    class MiscConfig : ManualConfig
    {
        public MiscConfig()
            => AddJob(ShortJob.Create(warmups: 3));
    }
}
