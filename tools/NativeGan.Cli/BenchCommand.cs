using System.CommandLine;
using System.Diagnostics;
using NativeGan.Nn;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan bench dcgan</c>: training steps per second of DCGAN-32 on random data, after warm-up,
/// median of many steps, with the GPU pool's peak memory. The workload is written directly with the
/// autograd ops (the Module classes come with the layers issue); its shapes and optimizer are those of
/// the main job: the DCGAN of Radford et al. at 32x32, one channel.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var device = Cli.DeviceOption();
        var batch = new Option<int>("--batch") { Description = "Batch size.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed training steps (the median is reported).", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first (kernels compile, the pool fills).", DefaultValueFactory = _ => 2 };
        var dcgan = new Command("dcgan", "DCGAN-32 training steps per second (one discriminator and one generator update a step).")
        {
            device, batch, steps, warmup,
        };
        dcgan.SetAction(result =>
        {
            var d = Cli.OpenDevice(result.GetValue(device)!);
            if (d is null) return 2;
            int b = result.GetValue(batch), n = result.GetValue(steps), w = result.GetValue(warmup);
            if (b < 2 || n < 1 || w < 0)
            {
                AnsiConsole.MarkupLine("[red]bench dcgan: --batch must be at least 2 (batch norm), --steps at least 1, --warmup at least 0[/]");
                return 2;
            }
            Run(d, b, n, w);
            return 0;
        });
        return new Command("bench", "End-to-end training benchmarks.") { dcgan };
    }

    static void Run(Device device, int batch, int steps, int warmup)
    {
        var model = new Dcgan32(device, seed: 1);
        AnsiConsole.MarkupLine($"DCGAN-32 on [bold]{device.Name}[/] ({Markup.Escape(device.Description)}), batch {batch}: " +
                               $"{model.GeneratorParameters.Sum(p => p.Length):N0} generator and {model.DiscriminatorParameters.Sum(p => p.Length):N0} discriminator parameters");
        var times = new List<double>();
        (float D, float G) losses = default;
        for (int i = 0; i < warmup + steps; i++)
        {
            device.Synchronize();
            var sw = Stopwatch.StartNew();
            losses = model.TrainStep(batch, (ulong)i);
            device.Synchronize();
            if (i >= warmup) times.Add(sw.Elapsed.TotalSeconds);
        }
        times.Sort();
        double median = times[times.Count / 2];
        string memory = device is GpuDevice gpu ? $", peak pool memory {MemoryPool.Format(gpu.Pool.PeakBytesInUse)}" : "";
        AnsiConsole.MarkupLine($"median step {median * 1e3:0.0} ms = [bold]{1 / median:0.00} steps/s[/] " +
                               $"(fastest {1 / times[0]:0.00}, slowest {1 / times[^1]:0.00}; {steps} timed steps after {warmup} warm-up){memory}");
        AnsiConsole.MarkupLine($"last losses: discriminator {losses.D:0.0000}, generator {losses.G:0.0000}");
    }
}

/// <summary>
/// DCGAN at 32x32 (Radford et al. 2016), written with the autograd ops. Generator: z (100) -> 256x4x4 ->
/// 128x8x8 -> 64x16x16 -> 1x32x32, transposed convolutions with batch norm and ReLU, tanh out.
/// Discriminator: the mirror with strided convolutions and LeakyReLU 0.2, batch norm after the first
/// layer, a 4x4 convolution to one logit. BCE with logits (softplus form), non-saturating generator loss,
/// Adam 2e-4, betas (0.5, 0.999), weights from normal(0, 0.02).
/// </summary>
public sealed class Dcgan32
{
    const int Latent = 100;
    readonly Device device;
    readonly ulong seed;
    readonly Tensor[] g, d;         // weights, in layer order (see Generator / Discriminator)
    readonly Tensor[] gNorm, dNorm; // batch-norm gamma and beta pairs
    readonly Adam optG, optD;
    ulong drawn;

    public Dcgan32(Device device, ulong seed)
    {
        this.device = device;
        this.seed = seed;
        g = [Weight([Latent, 256, 4, 4]), Weight([256, 128, 4, 4]), Weight([128, 64, 4, 4]), Weight([64, 1, 4, 4])];
        d = [Weight([64, 1, 4, 4]), Weight([128, 64, 4, 4]), Weight([256, 128, 4, 4]), Weight([1, 256, 4, 4])];
        gNorm = [Gamma(256), Beta(256), Gamma(128), Beta(128), Gamma(64), Beta(64)];
        dNorm = [Gamma(128), Beta(128), Gamma(256), Beta(256)];
        optG = new Adam(GeneratorParameters, learningRate: 2e-4f, beta1: 0.5f, beta2: 0.999f);
        optD = new Adam(DiscriminatorParameters, learningRate: 2e-4f, beta1: 0.5f, beta2: 0.999f);
    }

    public IEnumerable<Tensor> GeneratorParameters => g.Concat(gNorm);

    public IEnumerable<Tensor> DiscriminatorParameters => d.Concat(dNorm);

    Tensor Parameter(Tensor t)
    {
        t.RequiresGrad = true;
        return t;
    }

    Tensor Weight(int[] shape)
    {
        var t = RandomOps.Normal(device, shape, seed, drawn, mean: 0f, std: 0.02f);
        drawn += (ulong)t.Length;
        return Parameter(t);
    }

    Tensor Gamma(int channels) => Parameter(Tensor.Ones(device, channels));

    Tensor Beta(int channels) => Parameter(Tensor.Zeros(device, channels));

    Tensor Generator(Tensor z)
    {
        var h = z.ConvTranspose2d(g[0]).BatchNorm2d(gNorm[0], gNorm[1]).Relu();              // 256 x 4 x 4
        h = h.ConvTranspose2d(g[1], stride: 2, padding: 1).BatchNorm2d(gNorm[2], gNorm[3]).Relu(); // 128 x 8 x 8
        h = h.ConvTranspose2d(g[2], stride: 2, padding: 1).BatchNorm2d(gNorm[4], gNorm[5]).Relu(); // 64 x 16 x 16
        return h.ConvTranspose2d(g[3], stride: 2, padding: 1).Tanh();                          // 1 x 32 x 32
    }

    Tensor Discriminator(Tensor x)
    {
        var h = x.Conv2d(d[0], stride: 2, padding: 1).LeakyRelu(0.2f);                         // 64 x 16 x 16
        h = h.Conv2d(d[1], stride: 2, padding: 1).BatchNorm2d(dNorm[0], dNorm[1]).LeakyRelu(0.2f); // 128 x 8 x 8
        h = h.Conv2d(d[2], stride: 2, padding: 1).BatchNorm2d(dNorm[2], dNorm[3]).LeakyRelu(0.2f); // 256 x 4 x 4
        return h.Conv2d(d[3]);                                                                  // 1 x 1 x 1 logit
    }

    /// <summary>One discriminator update and one generator update on a random "real" batch in [-1, 1].</summary>
    public (float D, float G) TrainStep(int batch, ulong step)
    {
        using var scope = new TensorScope();
        ulong offset = 1UL << 40 | step << 24; // draws of this step, apart from the weights' draws
        var real = RandomOps.Uniform(device, [batch, 1, 32, 32], seed, offset, low: -1f, high: 1f);
        var z = RandomOps.Normal(device, [batch, Latent, 1, 1], seed, offset + (ulong)real.Length);
        var fake = Generator(z);

        // Discriminator: BCE(D(real), 1) + BCE(D(fake), 0) = softplus(-D(real)) + softplus(D(fake)).
        using var fakeConstant = fake.Detach(); // no gradient into the generator from this loss
        var lossD = Discriminator(real).Neg().Softplus().Mean().Add(Discriminator(fakeConstant).Softplus().Mean());
        lossD.Backward();
        optD.Step();
        optD.ZeroGrad();

        // Generator, non-saturating: BCE(D(G(z)), 1) = softplus(-D(G(z))).
        var lossG = Discriminator(fake).Neg().Softplus().Mean();
        lossG.Backward();
        optG.Step();
        optG.ZeroGrad();
        optD.ZeroGrad(); // the generator's backward passed through the discriminator's weights too
        real.Dispose();
        z.Dispose();
        return (lossD.Item(), lossG.Item());
    }
}
