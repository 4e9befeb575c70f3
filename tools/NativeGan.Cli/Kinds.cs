using System.CommandLine;
using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Data;
using NativeGan.Gan.Models;
using NativeGan.Gan.Training;

namespace NativeGan.Cli;

/// <summary>
/// The model kinds the command line trains, with their command-line defaults (data, epochs, batch) and how a
/// dataset fills their settings (sample shape, class count). Registering the kinds here registers their jobs
/// with <see cref="JobFactory"/> too, so `sample`, `interpolate`, `eval` and --resume rebuild any of them from a
/// checkpoint.
/// </summary>
public static class Kinds
{
    /// <param name="DefaultsFor">The model's settings and defaults for data of a sample shape and class count
    /// (and, for `ae`, the chosen autoencoder kind).</param>
    public sealed record Info(string Name, string Description, string DefaultData, int DefaultEpochs, int DefaultBatch,
        Func<int[], int, string?, IReadOnlyDictionary<string, string>> DefaultsFor,
        Func<IReadOnlyDictionary<string, string>, string>? JobKindOf = null,
        (string Key, Option<string> Option)? ExtraOption = null)
    {
        /// <summary>The job kind for these settings (the name, or for `ae` "ae-" and the chosen kind).</summary>
        public string JobKind(IReadOnlyDictionary<string, string> settings) => JobKindOf?.Invoke(settings) ?? Name;

        /// <summary>Whether a checkpoint of job kind <paramref name="kind"/> belongs to this command (`ae` takes every "ae-*").</summary>
        public bool Owns(string kind) => kind == Name || (JobKindOf is not null && kind.StartsWith(Name + "-", StringComparison.Ordinal));

        /// <summary>The settings and their defaults for MNIST at 32x32, for --help.</summary>
        public string SettingsHelp => string.Join(", ", DefaultsFor([1, 32, 32], 10, null)
            .Where(kv => kv.Key is not ("seed" or "image" or "data_shape" or "shape" or "classes"))
            .Select(kv => $"{kv.Key}={kv.Value}"));

        /// <summary>Images are padded or resized to 32x32 unless they come from a folder (64x64).</summary>
        public int? ImageSize(string data) => Directory.Exists(data) ? 64 : 32;

        /// <summary>The settings given, plus the seed and what the data decides (sample shape, class count).</summary>
        public Dictionary<string, string> Config(Dataset data, ulong seed, IReadOnlyDictionary<string, string> settings)
        {
            var defaults = DefaultsFor(data.SampleShape, data.ClassCount, settings.GetValueOrDefault("kind"));
            // One check for every kind: the GAN jobs keep keys they do not know (so checkpoints round-trip whole),
            // so a misspelt --set key must be caught here.
            JobConfig.RefuseUnknown(Name, defaults, settings);
            var config = new Dictionary<string, string>(settings, StringComparer.Ordinal) { ["seed"] = JobConfig.Format(seed) };
            foreach (var key in new[] { "image", "data_shape", "shape" })
                if (defaults.ContainsKey(key) && !settings.ContainsKey(key)) config[key] = JobConfig.Format(data.SampleShape);
            if (defaults.ContainsKey("classes") && !settings.ContainsKey("classes") && data.ClassCount > 0)
                config["classes"] = JobConfig.Format(data.ClassCount);
            return config;
        }
    }

    static Kinds()
    {
        JobFactory.Register(DcganJob.KindName, DcganJob.Create, GeneratorAveraging.KeysAddedLater);
        GanJobs.Register();
        AutoencoderJob.RegisterAll();
    }

    static Info Gan(string kind, string description, int epochs, int batch) =>
        new(kind, description, "mnist", epochs, batch, (shape, classes, _) => GanJobs.DefaultConfig(kind, shape, classes));

    static readonly Option<string> AeKind = new("--kind")
    {
        Description = "Autoencoder kind: " + string.Join(", ", AutoencoderOptions.KindNames) + " (default undercomplete).",
    };

    public static IReadOnlyList<Info> All { get; } =
    [
        new(DcganJob.KindName, "DCGAN (Radford et al. 2016): conv generator and discriminator with batch norm, BCE with logits, non-saturating generator loss, Adam 2e-4 (0.5, 0.999).",
            "mnist", DefaultEpochs: 5, DefaultBatch: 64, (_, _, _) => DcganJob.DefaultConfig),
        Gan(VanillaGanJob.KindName, "The original GAN (Goodfellow et al. 2014): BCE, dropout in D; --set g_loss=saturating shows the saturation problem. 2D mixtures: PacGAN's networks.", 20, 100),
        Gan(WganJob.KindName, "Wasserstein GAN (Arjovsky et al. 2017): linear critic, weight clipping 0.01, RMSProp 5e-5, 5 critic steps per generator step.", 20, 64),
        Gan(WganGpJob.KindName, "WGAN-GP (Gulrajani et al. 2017): gradient penalty 10 (0.1 on 2D points) on random interpolates (double backward), Adam 1e-4 (0, 0.9), 5 critic steps, no batch norm in the critic.", 20, 64),
        Gan(ConditionalGanJob.KindName, "Conditional GAN: the class label given to generator and discriminator; `sample --label 7` draws a chosen digit.", 10, 64),
        new("ae", "Autoencoders (Goodfellow et al., Deep Learning, ch. 14): --kind undercomplete, overcomplete, sparse, denoising, contractive or vae.",
            "mnist", DefaultEpochs: 5, DefaultBatch: 128, (_, _, kind) => AutoencoderJob.DefaultConfig(kind ?? "undercomplete"),
            settings => AutoencoderJob.JobKind(AutoencoderOptions.ParseKind(settings.GetValueOrDefault("kind") ?? "undercomplete")),
            ("kind", AeKind)),
    ];

    /// <summary>Makes sure every job kind is registered with <see cref="JobFactory"/> (the static constructor runs).</summary>
    public static void EnsureRegistered() => _ = All.Count;
}
