using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

using NativeGan.Nn; // inside the namespace: the layer names win over the kernel classes of the same name

/// <summary>State dicts (PyTorch's names, round trip, errors), train/eval, and seeded initialisation.</summary>
[Collection("MemoryTests")] // pool leak checks: not beside other tests on the same device
public class ModuleStateTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    /// <summary>A DCGAN-style block with a nested Sequential, to exercise dotted names at two depths.</summary>
    sealed class Block : Module
    {
        public Sequential Net { get; }
        public Linear Head { get; }

        public Block(Device d, Rng rng)
        {
            Net = RegisterModule("net", new Sequential(new Conv2d(3, 4, 3, padding: 1, bias: false, device: d, rng: rng),
                new BatchNorm2d(4, device: d), new LeakyReLU(0.2f), new Flatten()));
            Head = RegisterModule("head", new Linear(4 * 5 * 5, 1, device: d, rng: rng));
        }

        public override Tensor Forward(Tensor x)
        {
            using var h = Net.Forward(x);
            return Head.Forward(h);
        }
    }

    [Fact]
    public void StateDictNamesFollowPyTorch()
    {
        using var seq = new Sequential(new Conv2d(3, 8, 4, 2, 1, device: Device.Cpu, rng: new Rng(1)), new BatchNorm2d(8), new ReLU());
        Assert.Equal(["0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked"], seq.StateDict().Keys);
        Assert.Equal(["1.running_mean", "1.running_var", "1.num_batches_tracked"], seq.NamedBuffers().Select(b => b.Name));

        using var block = new Block(Device.Cpu, new Rng(2));
        Assert.Equal(["net.0.weight", "net.1.weight", "net.1.bias", "net.1.running_mean", "net.1.running_var", "net.1.num_batches_tracked", "head.weight", "head.bias"],
            block.StateDict().Keys);
        Assert.Equal(["net.0.weight", "net.1.weight", "net.1.bias", "head.weight", "head.bias"], block.NamedParameters().Select(p => p.Name));
        Assert.All(block.Parameters(), p => Assert.True(p.RequiresGrad));
        Assert.All(block.NamedBuffers(), b => Assert.False(b.Tensor.RequiresGrad));
    }

    [Fact]
    public void TrainAndEvalAreRecursive()
    {
        using var block = new Block(Device.Cpu, new Rng(3));
        Assert.True(block.Net[1].Training);
        block.Eval();
        Assert.False(block.Training);
        Assert.False(block.Net[1].Training);
        block.Train();
        Assert.True(block.Net[1].Training);
    }

    [Theory, MemberData(nameof(Devices))]
    public void LoadStateDictRoundTripsAcrossDevices(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var source = new Block(Device.Cpu, new Rng(4));
        // Move the running statistics off their initial values so buffers are really copied.
        using (var x = Tensor.FromArray(Random(new Random(1), 2 * 3 * 5 * 5), [2, 3, 5, 5]))
        using (new TensorScope()) source.Forward(x);
        using var target = new Block(d, new Rng(5));
        Assert.NotEqual(source.Head.Weight.ToArray(), target.Head.Weight.ToArray());

        target.LoadStateDict(source.StateDict());
        var s = source.StateDict();
        foreach (var (name, t) in target.StateDict())
        {
            Assert.Equal(d, t.Device);
            Assert.Equal(s[name].ToArray(), t.ToArray());
        }
        Assert.All(target.Parameters(), p => Assert.True(p.RequiresGrad));
    }

    [Fact]
    public void LoadStateDictNamesEveryProblemAndWritesNothing()
    {
        using var model = new Sequential(new Linear(3, 2, rng: new Rng(6)), new BatchNorm2d(2));
        var before = model.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());

        using var wrong = Tensor.Zeros(Device.Cpu, 3, 2);
        using var extra = Tensor.Zeros(Device.Cpu, 2);
        using var fine = Tensor.Zeros(Device.Cpu, 2);
        var bad = new Dictionary<string, Tensor>
        {
            ["0.weight"] = wrong,              // [3, 2] for [2, 3]
            ["0.bias"] = fine,                 // a good entry: must not be written either
            ["1.weight"] = fine, ["1.bias"] = fine, ["1.running_mean"] = fine,
            ["2.weight"] = extra,              // unexpected
        };                                     // 1.running_var missing
        var e = Assert.Throws<ArgumentException>(() => model.LoadStateDict(bad));
        Assert.Contains("missing keys: 1.running_var, 1.num_batches_tracked", e.Message);
        Assert.Contains("unexpected keys: 2.weight", e.Message);
        Assert.Contains("0.weight: expected [2, 3], got [3, 2]", e.Message);
        foreach (var (name, t) in model.StateDict()) Assert.Equal(before[name], t.ToArray());
    }

    [Fact]
    public void TheSameSeedGivesTheSameWeightsAndAnotherSeedOthers()
    {
        static float[][] Weights(ulong seed)
        {
            using var m = new Sequential(new Conv2d(3, 5, 3, rng: new Rng(seed)), new ConvTranspose2d(5, 2, 4, 2, 1, rng: new Rng(seed + 100)),
                new Linear(7, 3, rng: new Rng(seed + 200)));
            return m.Parameters().Select(p => p.ToArray()).ToArray();
        }
        var a = Weights(42);
        var b = Weights(42);
        var c = Weights(43);
        for (int i = 0; i < a.Length; i++)
        {
            Assert.Equal(a[i], b[i]);
            Assert.NotEqual(a[i], c[i]);
        }

        // The default generator: ManualSeed fixes it like torch.manual_seed.
        Init.ManualSeed(7);
        using var l1 = new Linear(4, 4);
        Init.ManualSeed(7);
        using var l2 = new Linear(4, 4);
        Assert.Equal(l1.Weight.ToArray(), l2.Weight.ToArray());
    }

    static (double Mean, double Std, double MaxAbs) Stats(float[] v)
    {
        double mean = v.Average(x => (double)x);
        double std = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / v.Length);
        return (mean, std, v.Max(x => Math.Abs((double)x)));
    }

    [Fact]
    public void InitialisationStatisticsAtFanIn1000()
    {
        // Uniform(-b, b) has standard deviation b / sqrt(3). 200 x 1000 = 200k samples: the sample std is within ~0.3 %.
        const int fanIn = 1000, fanOut = 200;
        using var w = Tensor.Empty(Device.Cpu, fanOut, fanIn);

        Init.KaimingUniform(w, 0f, new Rng(1));                 // b = sqrt(2) * sqrt(3 / 1000)
        double b = Math.Sqrt(6.0 / fanIn);
        var (mean, std, maxAbs) = Stats(w.ToArray());
        Assert.InRange(std, 0.98 * b / Math.Sqrt(3), 1.02 * b / Math.Sqrt(3));
        Assert.InRange(maxAbs, 0.99 * b, b);
        Assert.InRange(mean, -0.01 * b, 0.01 * b);

        Init.XavierUniform(w, 1f, new Rng(2));                  // b = sqrt(6 / 1200)
        b = Math.Sqrt(6.0 / (fanIn + fanOut));
        (_, std, maxAbs) = Stats(w.ToArray());
        Assert.InRange(std, 0.98 * b / Math.Sqrt(3), 1.02 * b / Math.Sqrt(3));
        Assert.InRange(maxAbs, 0.99 * b, b);

        Init.Normal(w, 0f, 0.02f, new Rng(3));                  // DCGAN
        (mean, std, _) = Stats(w.ToArray());
        Assert.InRange(std, 0.0196, 0.0204);
        Assert.InRange(mean, -0.0005, 0.0005);

        // PyTorch's default Linear init: weight and bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
        using var linear = new Linear(fanIn, fanOut, rng: new Rng(4));
        b = 1 / Math.Sqrt(fanIn);
        (_, std, maxAbs) = Stats(linear.Weight.ToArray());
        Assert.InRange(std, 0.98 * b / Math.Sqrt(3), 1.02 * b / Math.Sqrt(3));
        Assert.InRange(maxAbs, 0.99 * b, b);
        Assert.All(linear.Bias!.ToArray(), v => Assert.InRange(Math.Abs(v), 0, b));

        // Conv2d fan_in = in * k * k; ConvTranspose2d [in, out, k, k] reads size(1) = out, as PyTorch does.
        Assert.Equal((3 * 16, 8 * 16), Init.Fans(new Conv2d(3, 8, 4, rng: new Rng(5)).Weight));
        Assert.Equal((8 * 16, 3 * 16), Init.Fans(new ConvTranspose2d(3, 8, 4, rng: new Rng(6)).Weight));
    }

    [Theory, MemberData(nameof(Devices))]
    public void AdamStepsOnAModuleLowerTheLossAndLeakNothing(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        long before = TestDevices.SettledBytesInUse(d);
        var rng = new Rng(8);
        var model = new Sequential(new Conv2d(2, 3, 3, padding: 1, device: d, rng: rng), new BatchNorm2d(3, device: d),
            new LeakyReLU(0.2f), new AvgPool2d(2), new Flatten(), new Linear(3 * 2 * 2, 1, device: d, rng: rng), new Sigmoid());
        var opt = new Adam(model.Parameters(), 0.05f);
        var x = Tensor.FromArray(Random(new Random(2), 4 * 2 * 5 * 5), [4, 2, 5, 5], d);
        var losses = new List<float>();
        for (int step = 0; step < 8; step++)
        {
            using (new TensorScope())
            {
                var loss = model.Forward(x).Mean();   // drive the output towards 0
                losses.Add(loss.Item());
                loss.Backward();
                opt.Step();
                opt.ZeroGrad();
            }
        }
        Assert.True(losses[^1] < losses[0] - 0.05f, $"loss {losses[0]} -> {losses[^1]}");
        x.Dispose();
        model.Dispose();
        foreach (var (_, state) in opt.StateDict().Tensors) state.Dispose();
        if (d is GpuDevice gpu) Assert.Equal(before, gpu.Pool.BytesInUse);
    }
}
