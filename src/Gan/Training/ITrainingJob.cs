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
