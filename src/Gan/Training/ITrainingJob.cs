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

    /// <summary>Everything needed to rebuild the job (widths, latent size, learning rates, ...): its kind's typed options
    /// record, saved in the checkpoint's metadata as JSON; a job is rebuilt from it by its kind (see <see cref="ModelKind"/>).</summary>
    ModelOptions Options { get; }

    /// <summary>How many loader batches one <see cref="Step"/> consumes (a WGAN critic's 5 updates each get their own batch).</summary>
    int BatchesPerStep => 1;

    /// <summary>Why this job cannot train data-parallel (<c>--distributed</c>), or null when it can: a step whose updates depend
    /// on what its shard of the batch holds (which networks it updates, how many times) would make the ranks call their
    /// optimizers out of step.</summary>
    string? DataParallelRefusal => null;

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

/// <summary>What every caller of a job may ask of it.</summary>
public static class TrainingJobs
{
    /// <summary>The job's options as text, by setting key (what <c>--set</c> takes and help shows).</summary>
    public static IReadOnlyDictionary<string, string> Settings(this ITrainingJob job) => OptionsBinder.ToStrings(job.Options);
}
