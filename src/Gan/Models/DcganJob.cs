using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Models;

/// <summary>
/// DCGAN training (Radford et al. 2016): one discriminator update and one generator update per batch.
/// <para>Discriminator: minimise BCE(D(x), 1) + BCE(D(G(z)), 0), i.e. maximise log D(x) + log(1 - D(G(z))).
/// Generator, non-saturating: minimise BCE(D(G(z)), 1) = -log D(G(z)), which has strong gradients exactly when
/// the discriminator rejects the fakes (the saturating log(1 - D(G(z))) would have almost none then).</para>
/// Adam 2e-4, betas (0.5, 0.999), as in the paper. Real and fake batches go through the discriminator
/// separately, so each batch-norm pass sees one kind of image (as in the reference code).
/// </summary>
public sealed class DcganJob : IGenerativeJob, IAveragedGenerator
{
    public const string KindName = "dcgan";
    /// <summary>The config key of both nets' start rate (what the schedule scales; a resumed run may change it).</summary>
    public const string RateKey = "lr";

    /// <summary>The defaults: the paper's DCGAN at 32x32, one channel (MNIST padded to 32x32).</summary>
    public static IReadOnlyDictionary<string, string> DefaultConfig { get; } = new Dictionary<string, string>
    {
        ["latent"] = "100",
        ["g_width"] = "64",           // generator channels before the image: 256 -> 128 -> 64 at 32x32
        ["d_width"] = "64",
        ["image"] = "1,32,32",        // channels, height, width (square, side 2^k)
        [RateKey] = "0.0002",
        ["beta1"] = "0.5",
        ["beta2"] = "0.999",
        ["seed"] = "1",
        ["sample_count"] = "64",      // the fixed latent batch of the progress pictures
        [LinearDecay.StartKey] = "0", // lr_decay_start: the step where the linear decay begins
        [LinearDecay.EndKey] = "0",   // lr_decay_end > 0: lr reaches 0 at this step (LinearDecay); 0: constant
        [RateSchedule.Key] = "",      // lr_schedule STEP:FACTOR,...: a piecewise-linear schedule instead (RateSchedule)
        ["g_ema"] = "0.999",          // moving average of G's weights for sampling (0: off); see ExponentialMovingAverage
    };

    readonly Device device;
    readonly Tensor fixedLatents;
    readonly int[] image;
    readonly ExponentialMovingAverage? generatorAverage;
    readonly float learningRate; // the start rate of both optimizers
    readonly RateSchedule schedule; // lr_schedule, or lr_decay_start and lr_decay_end

    public DcganJob(IReadOnlyDictionary<string, string> config, Device device)
    {
        var c = new JobConfig(KindName, DefaultConfig, config, refuseUnknown: true);
        Config = c.Values;
        this.device = device;
        LatentSize = c.Int("latent", 1);
        image = c.Shape("image");
        if (image.Length != 3 || image[1] != image[2])
            throw new ArgumentException($"{KindName}: setting 'image' must be channels,side,side (square), got {c.String("image")}");
        schedule = c.Schedule();
        ulong seed = c.ULong("seed");
        Rng = new Rng(seed);
        // Weights come from their own stream so changing the sampling of a step never changes the initial weights.
        var init = new Rng(seed, 1UL << 62);
        Generator = Dcgan.Generator(LatentSize, image[0], image[1], c.Int("g_width", 1), device, init);
        Discriminator = Dcgan.Discriminator(image[0], image[1], c.Int("d_width", 1), device, init);
        float lr = c.Float(RateKey), b1 = c.Float("beta1"), b2 = c.Float("beta2");
        learningRate = lr;
        OptimizerG = new Adam(Generator.Parameters(), lr, b1, b2);
        OptimizerD = new Adam(Discriminator.Parameters(), lr, b1, b2);
        generatorAverage = GeneratorAveraging.FromConfig(KindName, c.Float("g_ema"), Generator,
            () => Dcgan.Generator(LatentSize, image[0], image[1], c.Int("g_width", 1), device, new Rng(seed, 5UL << 60)));
        fixedLatents = new Rng(seed, 3UL << 61).Normal(device, [c.Int("sample_count", 1), LatentSize, 1, 1]);
    }

    /// <summary>Builds a job from a config (missing keys take <see cref="DefaultConfig"/>).</summary>
    public static ITrainingJob Create(IReadOnlyDictionary<string, string> config, Device device) => new DcganJob(config, device);

    public string Kind => KindName;
    public IReadOnlyDictionary<string, string> Config { get; }
    public Sequential Generator { get; }
    /// <summary>What sampling and pictures use: the moving average of G's weights (g_ema &gt; 0), else G.</summary>
    public Sequential SamplingGenerator => SampleLive ? Generator : (Sequential?)generatorAverage?.Average ?? Generator;
    public bool HasAverage => generatorAverage is not null;
    public bool SampleLive { get; set; }
    public Sequential Discriminator { get; }
    public Adam OptimizerG { get; }
    public Adam OptimizerD { get; }
    public Rng Rng { get; }
    public int LatentSize { get; }
    public int ClassCount => 0;

    public IReadOnlyDictionary<string, Module> Modules => GeneratorAveraging.Modules(Generator, Discriminator, generatorAverage);

    public IReadOnlyDictionary<string, Optimizer> Optimizers => new Dictionary<string, Optimizer>
    {
        ["generator"] = OptimizerG,
        ["discriminator"] = OptimizerD,
    };

    /// <summary>One discriminator update and one generator update, with latents z ~ N(0, 1) drawn from <see cref="Rng"/>.</summary>
    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        CheckBatch(batch.Samples);
        using var z = Rng.Normal(device, [batch.Samples.Dim(0), LatentSize, 1, 1]);
        return Step(batch, step, z);
    }

    /// <summary>
    /// The same step with given latents <paramref name="z"/> [N, latent, 1, 1] instead of a draw from
    /// <see cref="Rng"/> (which this overload leaves untouched): the seam that lets a test replay a step computed
    /// elsewhere (tests/NativeGan.Tests/Training/DcganStepTests.cs replays PyTorch's). <paramref name="z"/> is
    /// read, not kept or disposed.
    /// </summary>
    public IReadOnlyDictionary<string, float> Step(Batch batch, long step, Tensor z)
    {
        var real = batch.Samples;
        CheckBatch(real);
        if (z.Rank != 4 || z.Dim(0) != real.Dim(0) || z.Dim(1) != LatentSize || z.Dim(2) != 1 || z.Dim(3) != 1)
            throw new TensorShapeException($"{KindName}: latents must be [{real.Dim(0)}, {LatentSize}, 1, 1] for a batch of {real.Dim(0)}, got {Shapes.Format(z.Shape)}");
        schedule.Apply(OptimizerD, learningRate, step);
        schedule.Apply(OptimizerG, learningRate, step);
        using var scope = new TensorScope();
        var fake = Generator.Forward(z);

        // Discriminator: real images towards 1, generated ones towards 0; the fakes are detached so this
        // loss trains the discriminator only.
        var realLogits = Discriminator.Forward(real);
        using var fakeDetached = fake.Detach();
        var fakeLogitsD = Discriminator.Forward(fakeDetached);
        var lossD = Losses.BceWithLogits(realLogits, 1f).Add(Losses.BceWithLogits(fakeLogitsD, 0f));
        lossD.Backward();
        OptimizerD.Step();
        OptimizerD.ZeroGrad();

        // Generator: make the (just updated) discriminator call the fakes real.
        var fakeLogitsG = Discriminator.Forward(fake);
        var lossG = Losses.BceWithLogits(fakeLogitsG, 1f);
        lossG.Backward();
        OptimizerG.Step();
        OptimizerG.ZeroGrad();
        generatorAverage?.Update(OptimizerG.StepCount - 1);
        OptimizerD.ZeroGrad(); // the generator's loss reached the discriminator's weights too: not an update for it

        using (Autograd.NoGrad())
            return new Dictionary<string, float>
            {
                ["loss_d"] = lossD.Item(),
                ["loss_g"] = lossG.Item(),
                ["d_real"] = realLogits.Sigmoid().Mean().Item(),  // D(x): near 1 when the discriminator wins
                ["d_fake"] = fakeLogitsD.Sigmoid().Mean().Item(), // D(G(z)) before the generator's update
            };
    }

    void CheckBatch(Tensor real)
    {
        if (real.Rank != 4 || !real.Shape.AsSpan(1).SequenceEqual(image))
            throw new TensorShapeException($"{KindName}: batches must be [N, {JobConfig.Format(image)}], got {Shapes.Format(real.Shape)}");
    }

    public Tensor Generate(Tensor z, int[]? labels = null)
    {
        if (labels is not null) throw new ArgumentException($"{KindName}: the model is unconditional; it takes no labels");
        if (z.Rank != 2 && z.Rank != 4 || z.Dim(1) != LatentSize)
            throw new TensorShapeException($"{KindName}: latents must be [N, {LatentSize}], got {Shapes.Format(z.Shape)}");
        // Eval mode: batch norm uses its running statistics and updates nothing, so sampling changes no state.
        var generator = SamplingGenerator;
        generator.Eval();
        try
        {
            using var _ = Autograd.NoGrad();
            using var z4 = z.Rank == 4 ? z.Share() : Ops.Reshape(z, z.Dim(0), LatentSize, 1, 1);
            return generator.Forward(z4);
        }
        finally { generator.Train(); }
    }

    public void WriteSamples(string path)
    {
        using var images = Generate(fixedLatents);
        ImageGrid.Save(path, images, columns: (int)Math.Ceiling(Math.Sqrt(images.Dim(0))), scale: images.Dim(2) <= 32 ? 2 : 1);
    }

    public void Dispose()
    {
        Generator.Dispose();
        generatorAverage?.Average.Dispose();
        Discriminator.Dispose();
        fixedLatents.Dispose();
    }
}
