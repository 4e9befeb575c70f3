using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Nn;

using NativeGan.Nn; // inside the namespace: the layer names win over the kernel classes of the same name

/// <summary>
/// Whole training states in one file (<see cref="Checkpoint"/>): a round trip continues training bit for bit;
/// DCGAN-sized models give bit-identical outputs after loading; every kind of bad file is refused with a
/// <see cref="CheckpointException"/> and leaves the modules and optimizers as they were.
/// </summary>
public sealed class CheckpointTests : IDisposable
{
    public static TheoryData<string> Devices => TestDevices.All;

    readonly string folder = Directory.CreateTempSubdirectory("nativegan-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    string PathOf(string name) => Path.Combine(folder, name);

    /// <summary>A small critic with every kind of state: conv weights, BatchNorm buffers, a linear head.</summary>
    static Sequential Small(Device d, ulong seed, int channels = 3) => new(
        new Conv2d(2, channels, 3, stride: 2, padding: 1, device: d, rng: new Rng(seed)),
        new BatchNorm2d(channels, device: d), new LeakyReLU(0.2f), new Flatten(),
        new Linear(channels * 3 * 3, 2, device: d, rng: new Rng(seed + 1)));

    static Tensor Batch(Device d, int step, int[] shape) => Tensor.FromArray(Random(new Random(100 + step), Shapes.Numel(shape)), shape, d);

    /// <summary>One Adam step on mse(model(x), target); returns the loss.</summary>
    static float TrainStep(Module model, Optimizer opt, Device d, int step)
    {
        using var x = Batch(d, step, [3, 2, 5, 5]);
        using var target = Batch(d, 1000 + step, [3, 2]);
        using var scope = new TensorScope();
        var loss = Losses.Mse(model.Forward(x), target);
        loss.Backward();
        opt.Step();
        opt.ZeroGrad();
        return loss.Item();
    }

    /// <summary>Every value a module and an optimizer hold, to compare before and after.</summary>
    static Dictionary<string, string> Snapshot(IReadOnlyDictionary<string, Module> modules, IReadOnlyDictionary<string, Optimizer> optimizers)
    {
        var result = new Dictionary<string, string>();
        foreach (var (name, m) in modules)
            foreach (var (k, t) in m.StateDict()) result[$"{name}.{k}"] = Digest(t);
        foreach (var (name, o) in optimizers)
        {
            var sd = o.StateDict();
            foreach (var (k, v) in sd.Scalars) result[$"optim.{name}.{k}"] = v;
            foreach (var (k, t) in sd.Tensors) result[$"optim.{name}.{k}"] = Digest(t);
        }
        return result;
    }

    /// <summary>The SHA-256 of a tensor's bytes: equal digests, equal bits.</summary>
    static string Digest(Tensor t) =>
        Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(System.Runtime.InteropServices.MemoryMarshal.AsBytes(t.ToArray().AsSpan())));

    static Dictionary<string, Module> Modules(Module m) => new() { ["critic"] = m };

    static Dictionary<string, Optimizer> Optimizers(Optimizer o) => new() { ["critic"] = o };

    // ---------------------------------------------------------------- round trips

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "OptimizerUpdates.Adam")]
    public void RoundTripContinuesTrainingBitForBit(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var a = Small(d, 1);
        var optA = new Adam(a.Parameters(), 1e-2f, 0.5f, 0.999f);
        for (int t = 0; t < 3; t++) TrainStep(a, optA, d, t);
        var path = PathOf("a.safetensors");
        Checkpoint.Save(path, Modules(a), Optimizers(optA), new Dictionary<string, string> { ["step"] = "3", ["kind"] = "test" });

        var b = Small(d, 77);                                       // another initialisation
        var optB = new Adam(b.Parameters(), 0.5f, 0.9f, 0.9f);     // other settings: the file brings the saved ones
        var meta = Checkpoint.Load(path, Modules(b), Optimizers(optB));
        Assert.Equal(new Dictionary<string, string> { ["step"] = "3", ["kind"] = "test", ["format"] = Checkpoint.Format }, meta);
        Assert.Equal(meta, Checkpoint.ReadMetadata(path));
        Assert.Equal(Snapshot(Modules(a), Optimizers(optA)), Snapshot(Modules(b), Optimizers(optB)));
        Assert.Equal([3f], ((BatchNorm2d)b[1]).NumBatchesTracked.ToArray());

        for (int t = 3; t < 6; t++)
        {
            float la = TrainStep(a, optA, d, t), lb = TrainStep(b, optB, d, t);
            Assert.Equal(BitConverter.SingleToInt32Bits(la), BitConverter.SingleToInt32Bits(lb));
        }
        Assert.Equal(Snapshot(Modules(a), Optimizers(optA)), Snapshot(Modules(b), Optimizers(optB)));
        a.Dispose(); b.Dispose();
    }

    static Sequential DcganGenerator(ulong seed) => new(
        new ConvTranspose2d(100, 256, 4, 1, 0, bias: false, rng: new Rng(seed)), new BatchNorm2d(256), new ReLU(),
        new ConvTranspose2d(256, 128, 4, 2, 1, bias: false, rng: new Rng(seed + 1)), new BatchNorm2d(128), new ReLU(),
        new ConvTranspose2d(128, 64, 4, 2, 1, bias: false, rng: new Rng(seed + 2)), new BatchNorm2d(64), new ReLU(),
        new ConvTranspose2d(64, 1, 4, 2, 1, bias: false, rng: new Rng(seed + 3)), new Tanh());

    static Sequential DcganDiscriminator(ulong seed) => new(
        new Conv2d(1, 64, 4, 2, 1, bias: false, rng: new Rng(seed)), new LeakyReLU(0.2f),
        new Conv2d(64, 128, 4, 2, 1, bias: false, rng: new Rng(seed + 1)), new BatchNorm2d(128), new LeakyReLU(0.2f),
        new Conv2d(128, 256, 4, 2, 1, bias: false, rng: new Rng(seed + 2)), new BatchNorm2d(256), new LeakyReLU(0.2f),
        new Conv2d(256, 1, 4, 1, 0, bias: false, rng: new Rng(seed + 3)), new Flatten());

    [Fact]
    public void DcganGeneratorAndDiscriminatorReloadBitIdentical()
    {
        var d = Device.Cpu;
        var g = DcganGenerator(1);
        var disc = DcganDiscriminator(10);
        var optG = new Adam(g.Parameters(), 2e-4f, 0.5f, 0.999f);
        var optD = new Adam(disc.Parameters(), 2e-4f, 0.5f, 0.999f);
        using var z = Tensor.FromArray(Random(new Random(1), 4 * 100), [4, 100, 1, 1], d);
        // One training step each, so the running statistics and Adam's moments are not their initial values.
        using (new TensorScope())
        {
            var fake = g.Forward(z);
            Assert.Equal([4, 1, 32, 32], fake.Shape);
            var logits = disc.Forward(fake);
            Assert.Equal([4, 1], logits.Shape);
            Losses.BceWithLogits(logits, 1f).Backward();
            optG.Step(); optD.Step();
            optG.ZeroGrad(); optD.ZeroGrad();
        }
        Assert.Equal(100 * 256 * 16 + 256 * 128 * 16 + 128 * 64 * 16 + 64 * 16 + 2 * (256 + 128 + 64), g.Parameters().Sum(p => p.Length));
        var modules = new Dictionary<string, Module> { ["generator"] = g, ["discriminator"] = disc };
        var optimizers = new Dictionary<string, Optimizer> { ["generator"] = optG, ["discriminator"] = optD };
        var path = PathOf("dcgan.safetensors");
        Checkpoint.Save(path, modules, optimizers, new Dictionary<string, string> { ["model"] = "dcgan", ["config"] = "{\"nz\":100}" });
        Assert.Contains(Safetensors.ReadHeader(path).Tensors, e => e.Name == "generator.1.num_batches_tracked");
        Assert.Contains(Safetensors.ReadHeader(path).Tensors, e => e.Name == "optim.discriminator.state.0.exp_avg_sq");

        var g2 = DcganGenerator(101);
        var disc2 = DcganDiscriminator(110);
        var optG2 = new Adam(g2.Parameters());
        var optD2 = new Adam(disc2.Parameters());
        var fresh = new Dictionary<string, Module> { ["generator"] = g2, ["discriminator"] = disc2 };
        var freshOpt = new Dictionary<string, Optimizer> { ["generator"] = optG2, ["discriminator"] = optD2 };
        Assert.NotEqual(Snapshot(modules, optimizers), Snapshot(fresh, freshOpt));
        Assert.Equal("dcgan", Checkpoint.Load(path, fresh, freshOpt)["model"]);
        Assert.Equal(Snapshot(modules, optimizers), Snapshot(fresh, freshOpt));

        g.Eval(); disc.Eval(); g2.Eval(); disc2.Eval();
        using (new TensorScope())
        {
            var (img, img2) = (g.Forward(z), g2.Forward(z));
            Assert.Equal(img.ToArray(), img2.ToArray());
            Assert.Equal(disc.Forward(img).ToArray(), disc2.Forward(img2).ToArray());
        }
        foreach (var m in new Module[] { g, disc, g2, disc2 }) m.Dispose();
    }

    // ---------------------------------------------------------------- bad files and mismatches

    /// <summary>A saved critic and fresh targets that differ from it in every value.</summary>
    (string Path, Dictionary<string, Module> Modules, Dictionary<string, Optimizer> Optimizers) SavedAndTargets(Func<Device, ulong, Sequential>? makeTarget = null, Func<IEnumerable<Tensor>, Optimizer>? makeOpt = null)
    {
        var d = Device.Cpu;
        var a = Small(d, 1);
        var optA = new Adam(a.Parameters(), 1e-2f, 0f, 0.9f);
        for (int t = 0; t < 2; t++) TrainStep(a, optA, d, t);
        var path = PathOf("good.safetensors");
        Checkpoint.Save(path, Modules(a), Optimizers(optA), new Dictionary<string, string> { ["step"] = "2" });
        var b = makeTarget is null ? Small(d, 50) : makeTarget(d, 50);
        var optB = (makeOpt ?? (ps => new Adam(ps, 0.3f)))(b.Parameters());
        TrainStep(b, optB, d, 9); // state of its own, different from the file's
        return (path, Modules(b), Optimizers(optB));
    }

    void Refused(string path, Dictionary<string, Module> modules, Dictionary<string, Optimizer> optimizers, params string[] expected)
    {
        var before = Snapshot(modules, optimizers);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, modules, optimizers));
        Assert.Contains(path, e.Message);
        foreach (var s in expected) Assert.Contains(s, e.Message);
        Assert.Equal(before, Snapshot(modules, optimizers));
    }

    [Fact]
    public void MismatchesAreRefusedAndChangeNothing()
    {
        // Wrong shape: 4 channels where the file has 3.
        var (path, m, o) = SavedAndTargets((d, s) => Small(d, s, channels: 4));
        Refused(path, m, o, "critic.0.weight", "shape");

        // Missing name: the target has a layer more (a tensor the file lacks) ...
        (path, m, o) = SavedAndTargets((d, s) => new Sequential([.. Small(d, s).NamedChildren().Select(c => c.Module), new Linear(2, 2, rng: new Rng(s))]));
        Refused(path, m, o, "critic.5.weight", "not in the file");
        // ... or a module fewer (a tensor of the file nobody loads).
        (path, m, o) = SavedAndTargets();
        var extra = new Dictionary<string, Module>(m) { ["other"] = new Linear(2, 2) };
        Refused(path, extra, o, "other.weight", "not in the file");
        Refused(path, m, new(), "optim.critic.", "no module or optimizer");

        // Wrong optimizer kind, and the right kind over another parameter list.
        (path, m, o) = SavedAndTargets(makeOpt: ps => new Sgd(ps, 0.1f, momentum: 0.9f));
        Refused(path, m, o, "optimizer 'critic'", "Adam", "Sgd");
        (path, m, o) = SavedAndTargets(makeOpt: ps => new Adam(ps.Skip(1)));
        Refused(path, m, o, "optimizer 'critic'", "parameters");
        // An optimizer the file does not have.
        (path, m, o) = SavedAndTargets();
        var moreOpt = new Dictionary<string, Optimizer>(o) { ["other"] = new Adam(m["critic"].Parameters()) };
        Refused(path, m, moreOpt, "optimizer 'other' is not in the file");

        // A plain safetensors file (no format entry).
        var plain = PathOf("plain.safetensors");
        Safetensors.Save(plain, m["critic"].StateDict());
        Refused(plain, m, new(), "not a NativeGan checkpoint");
        Assert.Throws<CheckpointException>(() => Checkpoint.ReadMetadata(plain));

        // Reserved metadata keys and bad names are refused at save time.
        Assert.Throws<CheckpointException>(() => Checkpoint.Save(PathOf("x.safetensors"), m, o, new Dictionary<string, string> { ["format"] = "mine" }));
        Assert.Throws<CheckpointException>(() => Checkpoint.Save(PathOf("x.safetensors"), m, o, new Dictionary<string, string> { ["optim.x"] = "1" }));
        Assert.Throws<CheckpointException>(() => Checkpoint.Save(PathOf("x.safetensors"), new Dictionary<string, Module> { ["a.b"] = m["critic"] }, o, new Dictionary<string, string>()));
        Assert.False(File.Exists(PathOf("x.safetensors")));
    }

    [Fact]
    public void TruncatedFilesAreRefusedAndChangeNothing()
    {
        var (path, m, o) = SavedAndTargets();
        var bytes = File.ReadAllBytes(path);
        long headerEnd = 8 + BitConverter.ToInt64(bytes, 0);
        foreach (long cut in new[] { 0, 5, 8, 40, headerEnd - 1, headerEnd, headerEnd + 3, bytes.Length - 4, bytes.Length - 1 })
        {
            var p = PathOf($"cut{cut}.safetensors");
            File.WriteAllBytes(p, bytes[..(int)cut]);
            Refused(p, m, o);
        }
    }

    [Fact]
    public void BitFlippedHeadersAreRefusedCleanly()
    {
        var (path, m, o) = SavedAndTargets();
        var baseline = PathOf("baseline.safetensors");
        Checkpoint.Save(baseline, m, o, new Dictionary<string, string>());
        var before = Snapshot(m, o);
        var bytes = File.ReadAllBytes(path);
        int headerEnd = 8 + (int)BitConverter.ToInt64(bytes, 0);

        // Flips that must be caught: the length, the opening brace, a tensor name, a shape digit, a dtype, an offset.
        string json = System.Text.Encoding.UTF8.GetString(bytes, 8, headerEnd - 8);
        int[] chosen =
        [
            0, 3, 8, 8 + json.IndexOf("critic.0.weight", StringComparison.Ordinal) + 3,
            8 + json.IndexOf("\"shape\":[3", StringComparison.Ordinal) + 9, 8 + json.IndexOf("F32", StringComparison.Ordinal),
            8 + json.IndexOf("data_offsets\":[", StringComparison.Ordinal) + 16, 8 + json.IndexOf("kind\":\"Adam", StringComparison.Ordinal) + 8,
        ];
        foreach (int at in chosen)
        {
            var p = PathOf($"flip{at}.safetensors");
            var flipped = (byte[])bytes.Clone();
            flipped[at] ^= 0x04;
            File.WriteAllBytes(p, flipped);
            Refused(p, m, o);
        }

        // Random single-bit flips anywhere in the header: each is refused with a CheckpointException that changes
        // nothing, or (a flip inside a metadata value such as "step", which the format cannot tell) loads; never
        // another exception.
        var rng = new Random(8);
        int refused = 0, loaded = 0;
        for (int trial = 0; trial < 150; trial++)
        {
            int at = rng.Next(headerEnd);
            var flipped = (byte[])bytes.Clone();
            flipped[at] ^= (byte)(1 << rng.Next(8));
            var p = PathOf("fuzz.safetensors");
            File.WriteAllBytes(p, flipped);
            try
            {
                Checkpoint.Load(p, m, o);
                loaded++;
                Checkpoint.Load(baseline, m, o); // put the targets back
            }
            catch (CheckpointException e)
            {
                refused++;
                Assert.Contains(p, e.Message);
                Assert.Equal(before, Snapshot(m, o));
            }
        }
        Assert.True(refused > 100, $"only {refused} of 150 header flips were refused ({loaded} loaded)");
    }

    // ---------------------------------------------------------------- a committed file

    /// <summary>
    /// tests/NativeGan.Tests/TestData/checkpoint-v1.safetensors, written by <see cref="Checkpoint.Save"/>: a Linear(3, 2)
    /// named "net" with the weights below after one SGD step (lr 0.5, momentum 0.9) on a gradient of 0.5 everywhere,
    /// so the weights moved by -0.25 and the momentum buffers hold 0.5 (PyTorch's first step sets the buffer to the
    /// gradient). It pins the format: the file loads with these values, and saving the same state gives the same bytes.
    /// (Set NATIVEGAN_WRITE_CHECKPOINT_TESTDATA to a path to write the file again.)
    /// </summary>
    [Fact]
    public void CommittedCheckpointLoadsWithKnownValues()
    {
        static (Linear, Sgd) Make(float[] w, float[] b)
        {
            var net = new Linear(3, 2);
            using (var wt = Tensor.FromArray(w, [2, 3])) net.Weight.CopyFrom(wt);
            using (var bt = Tensor.FromArray(b, [2])) net.Bias!.CopyFrom(bt);
            return (net, new Sgd(net.Parameters(), 0.5f, momentum: 0.9f));
        }
        var (net, sgd) = Make([0.5f, -1f, 2f, 0.75f, 1f, -2f], [0.25f, -0.125f]);
        foreach (var p in net.Parameters()) p.Grad = Tensor.Full(Device.Cpu, 0.5f, p.Shape);
        sgd.Step();
        sgd.ZeroGrad();
        var meta = new Dictionary<string, string> { ["step"] = "1", ["model"] = "linear-3-2" };
        if (Environment.GetEnvironmentVariable("NATIVEGAN_WRITE_CHECKPOINT_TESTDATA") is { Length: > 0 } write)
            Checkpoint.Save(write, new Dictionary<string, Module> { ["net"] = net }, new Dictionary<string, Optimizer> { ["net"] = sgd }, meta);

        var committed = Path.Combine(AppContext.BaseDirectory, "TestData", "checkpoint-v1.safetensors");
        Assert.Equal(["net.bias", "net.weight", "optim.net.state.0.momentum_buffer", "optim.net.state.1.momentum_buffer"],
            Safetensors.ReadHeader(committed).Tensors.Select(e => e.Name));
        var (fresh, freshSgd) = Make(new float[6], new float[2]);
        var loaded = Checkpoint.Load(committed, new Dictionary<string, Module> { ["net"] = fresh }, new Dictionary<string, Optimizer> { ["net"] = freshSgd });
        Assert.Equal(new Dictionary<string, string> { ["step"] = "1", ["model"] = "linear-3-2", ["format"] = "nativegan-checkpoint-1" }, loaded);
        Assert.Equal([0.25f, -1.25f, 1.75f, 0.5f, 0.75f, -2.25f], fresh.Weight.ToArray());
        Assert.Equal([0f, -0.375f], fresh.Bias!.ToArray());
        Assert.Equal(1, freshSgd.StepCount);
        Assert.Equal(0.5f, freshSgd.LearningRate);
        Assert.All(freshSgd.State(0)!.Buffers["momentum_buffer"].ToArray(), v => Assert.Equal(0.5f, v));
        Assert.Equal("0.9", freshSgd.StateDict().Scalars["momentum"]);

        var again = PathOf("again.safetensors");
        Checkpoint.Save(again, new Dictionary<string, Module> { ["net"] = net }, new Dictionary<string, Optimizer> { ["net"] = sgd }, meta);
        Assert.Equal(File.ReadAllBytes(committed), File.ReadAllBytes(again));
    }
}
