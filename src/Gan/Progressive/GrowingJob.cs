using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Progressive;

/// <summary>
/// What ProGAN's and StyleGAN's jobs share: G and ProGAN's critic built from one seeded stream (G first), the count of
/// images shown (module <c>progress</c>, where the schedule stands), Adam for each network with the options' rates and
/// betas, G's moving average, the checkpointed modules and optimizers, and the sample grid from 32 fixed latents with
/// one picture per phase beside it. A kind adds its step, its sampling and where its schedule stands.
/// </summary>
public abstract class GrowingJob<TOptions, TGenerator> : IGenerativeJob, IAveragedGenerator
    where TOptions : GrowingOptions
    where TGenerator : Module
{
    const ulong TrainStream = 1UL << 40;

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;
    readonly ExponentialMovingAverage? average;
    readonly float[] fixedLatents;

    /// <summary>A job of kind <paramref name="kind"/> for <paramref name="options"/> (checked) on <paramref name="device"/>;
    /// <paramref name="newGenerator"/> and <paramref name="newDiscriminator"/> build the networks from a seeded stream.</summary>
    protected GrowingJob(string kind, TOptions options, Device device, Func<Rng, TGenerator> newGenerator, Func<Rng, ProGanDiscriminator> newDiscriminator)
    {
        options.Validate(kind);
        (Kind, Options, Device) = (kind, options, device);
        var init = new Rng(options.Seed);
        Generator = newGenerator(init);
        Discriminator = newDiscriminator(init);
        Progress = new ImagesShown(device);
        Rng = new Rng(options.Seed, TrainStream);
        OptimizerG = new Adam(Generator.Parameters(), options.LearningRateG, options.Beta1, options.Beta2, 1e-8f);
        OptimizerD = new Adam(Discriminator.Parameters(), options.LearningRateD, options.Beta1, options.Beta2, 1e-8f);
        if (options.GeneratorEma > 0) average = new ExponentialMovingAverage(Generator, newGenerator(new Rng(options.Seed)), options.GeneratorEma);
        modules = new(StringComparer.Ordinal) { ["generator"] = Generator, ["discriminator"] = Discriminator, ["progress"] = Progress };
        if (average is not null) modules["generator_ema"] = average.Average;
        optimizers = new(StringComparer.Ordinal) { ["generator"] = OptimizerG, ["discriminator"] = OptimizerD };
        using var fixedZ = new Rng(options.Seed ^ 0x9E3779B97F4A7C15UL, 1UL << 58).Normal(Device.Cpu, [32, options.Latent]);
        fixedLatents = fixedZ.ToArray();
    }

    public TOptions Options { get; }
    public Device Device { get; }
    public TGenerator Generator { get; }
    public ProGanDiscriminator Discriminator { get; }

    /// <summary>Images shown so far: where the schedule stands (saved in checkpoints).</summary>
    public ImagesShown Progress { get; }
    public Adam OptimizerG { get; }
    public Adam OptimizerD { get; }
    public string Kind { get; }
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }
    public int LatentSize => Options.Latent;
    public int ClassCount => 0;
    public bool HasAverage => average is not null;
    public bool SampleLive { get; set; }

    /// <summary>The stage (1: 4x4) and fade-in alpha the next step trains at.</summary>
    public abstract (int Stage, float Alpha) Now { get; }

    /// <summary>Whether the run grows by phases (then a picture per phase is kept).</summary>
    protected virtual bool Grows => true;

    /// <summary>The generator pictures and sampling use: the average unless <see cref="SampleLive"/>.</summary>
    public TGenerator SamplingGenerator => average is not null && !SampleLive ? (TGenerator)average.Average : Generator;

    public abstract IReadOnlyDictionary<string, float> Step(Batch batch, long step);

    public abstract Tensor Generate(Tensor z, int[]? labels = null);

    /// <summary>Refuses a batch that is not [N, ...data_shape].</summary>
    protected void CheckBatch(Tensor real)
    {
        if (real.Rank != 4 || !real.Shape.AsSpan(1).SequenceEqual(Options.DataShape))
            throw new TensorShapeException($"{Kind}.Step: a batch must be [N, {string.Join(", ", Options.DataShape)}], got {Shapes.Format(real.Shape)}");
    }

    /// <summary>Ends a step: G's average follows G, and the batch's images are counted.</summary>
    protected void EndStep(long step, int images)
    {
        average?.Update(step);
        Progress.Add(images);
    }

    /// <summary>32 images from fixed latents at the current stage (nearest-upsampled to the data's side); while growing,
    /// one picture per phase beside them (<see cref="KeepPhasePicture"/>).</summary>
    public void WriteSamples(string path)
    {
        using var z = Tensor.FromArray(fixedLatents, [32, Options.Latent], Device);
        using var images = Generate(z);
        ImageGrid.Save(path, images, columns: 8, scale: Options.DataShape[1] <= 32 ? 2 : 1);
        if (Grows) KeepPhasePicture(path, Progress.Images, Options.PhaseImages, Now);
    }

    /// <summary>
    /// One picture per phase of the schedule: a copy of the newest sample grid <paramref name="path"/> as
    /// <c>phase_PP_SIDExSIDE[_fade].png</c> beside it, replaced while the phase lasts, so each phase's file ends as its last
    /// grid (ProGAN's figure of the resolutions one after another).
    /// </summary>
    internal static void KeepPhasePicture(string path, long images, long phaseImages, (int Stage, float Alpha) now)
    {
        long phase = images / phaseImages;
        int side = ProGanGenerator.SideOf(now.Stage);
        var name = $"phase_{phase:00}_{side}x{side}{(now.Alpha < 1f ? "_fade" : "")}.png";
        File.Copy(path, Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, name), overwrite: true);
    }

    public void Dispose()
    {
        Generator.Dispose();
        Discriminator.Dispose();
        average?.Average.Dispose();
        Progress.Dispose();
        GC.SuppressFinalize(this);
    }
}
