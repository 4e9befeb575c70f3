using BenchmarkDotNet.Attributes;

namespace NativeGan.Benchmarks;

/// <summary>
/// Memory-bound elementwise kernels at 2^26 elements (256 MiB a tensor), beside a plain device copy of
/// the same size: the copy is the bandwidth limit the kernels are read against.
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class ElementwiseBenchmarks : ThroughputBenchmark
{
    [Params("cpu")]
    public string Device { get; set; } = "cpu";

    [Params(1 << 26)]
    public int N { get; set; } = 1 << 26;

    Tensor a = null!, b = null!, y = null!;
    NativeGan.Device device = null!;

    [GlobalSetup]
    public void Setup()
    {
        device = NativeGan.Device.Get(Device);
        a = Tensor.FromArray(RandomArray(N, 1), [N], device);
        b = Tensor.FromArray(RandomArray(N, 2), [N], device);
        y = Tensor.Empty(device, N);
    }

    static float[] RandomArray(int n, int seed)
    {
        var rng = new Random(seed);
        var data = new float[n];
        for (int i = 0; i < n; i++) data[i] = rng.NextSingle() * 2 - 1;
        return data;
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        a.Dispose(); b.Dispose(); y.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Copy() { y.CopyFrom(a); device.Synchronize(); }

    [Benchmark]
    public void Add() { Elementwise.BinaryInto(BinaryOp.Add, a, b, y); device.Synchronize(); }

    [Benchmark]
    public void ScaleAdd() { Elementwise.ScaleAdd(y, 0.9f, a, 0.1f); device.Synchronize(); }

    [Benchmark]
    public void Tanh() { Elementwise.UnaryInto(UnaryOp.Tanh, a, y); device.Synchronize(); }

    [Benchmark]
    public void LeakyRelu() { Elementwise.UnaryInto(UnaryOp.LeakyRelu, a, y, 0.2f); device.Synchronize(); }

    public override (double Amount, string Unit) Work(string method) => method switch
    {
        nameof(Add) => (3.0 * 4 * N, "GB/s"),      // read a, b; write y
        nameof(ScaleAdd) => (3.0 * 4 * N, "GB/s"), // read x, y; write y
        _ => (2.0 * 4 * N, "GB/s"),                // read one, write one
    };
}
