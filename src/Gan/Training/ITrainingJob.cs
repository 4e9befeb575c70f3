using NativeGan.Gan.Data;
using NativeGan.Nn;

namespace NativeGan.Gan.Training;

/// <summary>
/// One model's training, as the shared <see cref="Trainer"/> drives it: the trainer owns the loop (batches,
/// progress, logs, sample pictures, checkpoints, resume, Ctrl-C, NaN stop); a job owns its networks,
/// optimizers, random stream and the arithmetic of one step. DCGAN, the GAN family and the autoencoders
/// are each one job, so every model gets the same command-line behaviour for free.
/// </summary>
public interface ITrainingJob : IDisposable
{
    /// <summary>The model kind as the command names it ("dcgan", "wgan-gp", "ae-vae", ...); saved in checkpoints.</summary>
    string Kind { get; }

    /// <summary>Everything needed to rebuild the job (widths, latent size, learning rates, ...), saved in the
    /// checkpoint's metadata as strings; a job is rebuilt from it by its factory (see <see cref="JobFactory"/>).</summary>
    IReadOnlyDictionary<string, string> Config { get; }

    /// <summary>The networks by name ("generator", "discriminator", "encoder", ...): their state dicts are saved
    /// under "NAME." prefixes.</summary>
    IReadOnlyDictionary<string, Module> Modules { get; }

    /// <summary>The optimizers by name ("generator", "discriminator", ...): their state is saved under "optim.NAME.".</summary>
    IReadOnlyDictionary<string, Optimizer> Optimizers { get; }

    /// <summary>The job's random stream (latents, noise, dropout, interpolation): its offset is saved so a resumed
    /// run draws exactly what an uninterrupted one would.</summary>
    Rng Rng { get; }

    /// <summary>
    /// One training step on <paramref name="batch"/> (a GAN's step may run several critic updates on it).
    /// Returns the scalars to log, by name ("loss_d", "loss_g", "grad_norm_g", ...), read back to the host.
    /// The trainer stops the run if any of them is NaN or infinite.
    /// </summary>
    IReadOnlyDictionary<string, float> Step(Batch batch, long step);

    /// <summary>Writes the job's progress picture (a sample grid from a fixed latent batch, a reconstruction grid,
    /// a 2D scatter, ...) as a PNG at <paramref name="path"/>. Must not change the random stream or the weights.</summary>
    void WriteSamples(string path);
}

/// <summary>
/// A job whose model draws new samples from latent vectors (every GAN, the VAE): what `nativegan sample` and
/// `nativegan interpolate` use on a loaded checkpoint.
/// </summary>
public interface IGenerativeJob : ITrainingJob
{
    /// <summary>The latent vector's length (z is [count, LatentSize], drawn from N(0, I)).</summary>
    int LatentSize { get; }

    /// <summary>The number of classes a conditional model takes (0 for an unconditional one).</summary>
    int ClassCount { get; }

    /// <summary>Samples for latents <paramref name="z"/> [count, LatentSize] (and labels for a conditional model),
    /// in the data's range (images [count, C, H, W] in [-1, 1]; 2D points [count, 2]), in eval mode, without
    /// recording a graph. The caller disposes the result.</summary>
    Tensor Generate(Tensor z, int[]? labels = null);
}

/// <summary>
/// A generative job that keeps a moving average of its generator's weights (the <c>g_ema</c> setting, see
/// <see cref="ExponentialMovingAverage"/>): sampling uses the average unless <see cref="SampleLive"/> is set, so
/// `eval --generator live` can score both generators of one checkpoint.
/// </summary>
public interface IAveragedGenerator
{
    /// <summary>Whether the job keeps an average (g_ema &gt; 0).</summary>
    bool HasAverage { get; }

    /// <summary>Sample from the trained generator itself, not its average (default false).</summary>
    bool SampleLive { get; set; }
}

/// <summary>What the GAN jobs share to keep a generator average (<see cref="IAveragedGenerator"/>).</summary>
public static class GeneratorAveraging
{
    /// <summary>The settings a GAN kind gained with averaging (2026-11-24), with the value that loads older checkpoints
    /// as they were trained: pass to <see cref="JobFactory.Register"/>.</summary>
    public static readonly IReadOnlyDictionary<string, string> KeysAddedLater = new Dictionary<string, string> { ["g_ema"] = "0" };

    /// <summary>The average of <paramref name="generator"/> for config value g_ema = <paramref name="decay"/>: null
    /// for 0 (off); otherwise over a second network from <paramref name="makeCopy"/> (same architecture; its initial
    /// weights are overwritten with the generator's).</summary>
    public static ExponentialMovingAverage? FromConfig(string kind, float decay, Module generator, Func<Module> makeCopy)
    {
        if (decay < 0 || decay >= 1) throw new ArgumentException($"{kind}: g_ema must be 0 (off) or a decay in (0, 1), got {decay}");
        return decay > 0 ? new ExponentialMovingAverage(generator, makeCopy(), decay) : null;
    }

    /// <summary>A job's modules by checkpoint name, with the average as "generator_ema" when there is one.</summary>
    public static IReadOnlyDictionary<string, Module> Modules(Module generator, Module discriminator, ExponentialMovingAverage? average)
    {
        var modules = new Dictionary<string, Module> { ["generator"] = generator, ["discriminator"] = discriminator };
        if (average is not null) modules["generator_ema"] = average.Average;
        return modules;
    }
}

/// <summary>Helpers every caller of a job shares.</summary>
public static class TrainingJobs
{
    /// <summary>
    /// How many loader batches one <see cref="ITrainingJob.Step"/> consumes: the config's "batches_per_step" (a WGAN
    /// critic's 5 updates each get their own batch), 1 when the job does not say.
    /// </summary>
    public static int BatchesPerStep(this ITrainingJob job) =>
        job.Config.TryGetValue("batches_per_step", out var v) ? int.Parse(v, System.Globalization.CultureInfo.InvariantCulture) : 1;
}

/// <summary>
/// Builds jobs by kind, from a full config (a checkpoint's metadata or the command's options with defaults
/// filled in). Each model registers itself once (in <c>JobFactory</c>'s static table) so the command line,
/// resume and `sample` need no per-model code.
/// </summary>
public static class JobFactory
{
    static readonly Dictionary<string, Func<IReadOnlyDictionary<string, string>, Device, ITrainingJob>> makers = new(StringComparer.Ordinal);
    static readonly Dictionary<string, IReadOnlyDictionary<string, string>> addedKeys = new(StringComparer.Ordinal);

    /// <summary>Registers <paramref name="make"/> for <paramref name="kind"/> (idempotent for the same kind).
    /// <paramref name="keysAddedLater"/>: settings the kind gained after checkpoints of it were written, each with the
    /// value that reproduces the older behaviour (a checkpoint's config is complete, so a key missing from it
    /// predates the key; see <see cref="CompleteCheckpointConfig"/>).</summary>
    public static void Register(string kind, Func<IReadOnlyDictionary<string, string>, Device, ITrainingJob> make,
        IReadOnlyDictionary<string, string>? keysAddedLater = null)
    {
        lock (makers)
        {
            makers[kind] = make;
            if (keysAddedLater is not null) addedKeys[kind] = keysAddedLater;
        }
    }

    /// <summary>Fills into a checkpoint's saved <paramref name="config"/> the keys <paramref name="kind"/> gained after it was
    /// written, with their old-behaviour values (a run saved before generator averaging existed loads without it).</summary>
    public static void CompleteCheckpointConfig(string kind, Dictionary<string, string> config)
    {
        IReadOnlyDictionary<string, string>? added;
        lock (makers) addedKeys.TryGetValue(kind, out added);
        foreach (var (key, value) in added ?? new Dictionary<string, string>()) config.TryAdd(key, value);
    }

    /// <summary>The registered kinds.</summary>
    public static IReadOnlyList<string> Kinds { get { lock (makers) return [.. makers.Keys.Order()]; } }

    /// <summary>A new job of <paramref name="kind"/> built from <paramref name="config"/> on <paramref name="device"/>.</summary>
    public static ITrainingJob Create(string kind, IReadOnlyDictionary<string, string> config, Device device)
    {
        Func<IReadOnlyDictionary<string, string>, Device, ITrainingJob>? make;
        lock (makers) makers.TryGetValue(kind, out make);
        if (make is null)
            throw new ArgumentException($"unknown model kind '{kind}'; known kinds: {string.Join(", ", Kinds)}");
        return make(config, device);
    }
}
