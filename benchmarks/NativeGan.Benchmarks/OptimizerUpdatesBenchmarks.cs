using BenchmarkDotNet.Attributes;

namespace NativeGan.Benchmarks;

/// <summary>
/// The fused optimizer updates at 2^22 parameters (16 MiB a tensor), beside the same Adam step written
/// as a chain of seven elementwise ops (what an engine without a fused update launches), and a copy
/// (the bandwidth limit). Bytes counted: the tensors each update must read and write once.
/// </summary>
[Config(typeof(ShortThroughputConfig))]
public class OptimizerUpdatesBenchmarks : ThroughputBenchmark
{
    [Params("cpu")]
    public string Device { get; set; } = "cpu";

    [Params(1 << 22)]
    public int N { get; set; } = 1 << 22;

    Tensor p = null!, g = null!, m = null!, v = null!, tmp = null!;
    NativeGan.Device device = null!;
    AdamArgs adam;

    [GlobalSetup]
    public void Setup()
    {
        device = NativeGan.Device.Get(Device);
        var rng = new Random(1);
        var data = new float[N];
        for (int i = 0; i < N; i++) data[i] = rng.NextSingle() * 2 - 1;
        p = Tensor.FromArray(data, [N], device);
        g = Tensor.FromArray(data, [N], device);
        m = Tensor.Zeros(device, N);
        v = Tensor.Zeros(device, N);
        tmp = Tensor.Zeros(device, N);
        adam = AdamArgs.Create(1e-4f, 0.9f, 0.999f, 1e-8f, 0f, false, step: 10);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        p.Dispose(); g.Dispose(); m.Dispose(); v.Dispose(); tmp.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void Copy() { tmp.CopyFrom(g); device.Synchronize(); }

    [Benchmark]
    public void AdamFused() { OptimizerUpdates.Adam(p, g, m, v, adam); device.Synchronize(); }

    /// <summary>The same step as seven ops: m, g^2, v, sqrt, scale and shift, divide, update.</summary>
    [Benchmark]
    public void AdamChain()
    {
        Elementwise.ScaleAdd(m, adam.Beta1, g, 1 - adam.Beta1);
        Elementwise.BinaryInto(BinaryOp.Mul, g, g, tmp);
        Elementwise.ScaleAdd(v, adam.Beta2, tmp, 1 - adam.Beta2);
        Elementwise.UnaryInto(UnaryOp.Sqrt, v, tmp);
        Elementwise.UnaryInto(UnaryOp.Affine, tmp, tmp, 1 / adam.BiasCorrection2Sqrt, adam.Eps);
        Elementwise.BinaryInto(BinaryOp.Div, m, tmp, tmp);
        Elementwise.ScaleAdd(p, 1f, tmp, -adam.StepSize);
        device.Synchronize();
    }

    [Benchmark]
    public void SgdMomentum()
    {
        OptimizerUpdates.Sgd(p, g, m, new SgdArgs { LearningRate = 1e-4f, Momentum = 0.9f, GradScale = 1f });
        device.Synchronize();
    }

    [Benchmark]
    public void RmsProp()
    {
        OptimizerUpdates.RmsProp(p, g, v, null, null, new RmsPropArgs { LearningRate = 5e-5f, Alpha = 0.99f, Eps = 1e-8f });
        device.Synchronize();
    }

    public override (double Amount, string Unit) Work(string method) => method switch
    {
        nameof(Copy) => (2.0 * 4 * N, "GB/s"),
        nameof(AdamFused) or nameof(AdamChain) => (7.0 * 4 * N, "GB/s"), // read p, g, m, v; write p, m, v
        _ => (5.0 * 4 * N, "GB/s"),                                        // read p, g, state; write p, state
    };
}
