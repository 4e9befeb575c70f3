using System.CommandLine;
using NativeGan.Gan.Data;
using NativeGan.Gan.Models;
using NativeGan.Gan.Training;

namespace NativeGan.Cli;

/// <summary>
/// The model kinds the command line trains, with their command-line defaults (data, epochs, batch) and how a
/// dataset fills their settings (image shape, class count). Registering a kind here registers its job with
/// <see cref="JobFactory"/> too, so `sample`, `interpolate` and --resume rebuild it from a checkpoint.
/// </summary>
public static class Kinds
{
    public sealed record Info(string Name, string Description, string DefaultData, int DefaultEpochs, int DefaultBatch,
        IReadOnlyDictionary<string, string> Defaults, Func<IReadOnlyDictionary<string, string>, string>? JobKindOf = null,
        (string Key, Option<string> Option)? ExtraOption = null)
    {
        /// <summary>The job kind for these settings (the name, or for `ae` the chosen autoencoder kind).</summary>
        public string JobKind(IReadOnlyDictionary<string, string> settings) => JobKindOf?.Invoke(settings) ?? Name;

        public string SettingsHelp => string.Join(", ", Defaults.Select(kv => $"{kv.Key}={kv.Value}"));

        /// <summary>Images are padded or resized to 32x32 unless they come from a folder (64x64).</summary>
        public int? ImageSize(string data) => Directory.Exists(data) ? 64 : 32;

        /// <summary>The settings given, plus the seed and what the data decides (image shape, class count).</summary>
        public Dictionary<string, string> Config(Dataset data, ulong seed, IReadOnlyDictionary<string, string> settings)
        {
            var config = new Dictionary<string, string>(settings, StringComparer.Ordinal) { ["seed"] = seed.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            foreach (var key in new[] { "image", "data_shape" })
                if (Defaults.ContainsKey(key) && !settings.ContainsKey(key)) config[key] = JobConfig.Format(data.SampleShape);
            foreach (var key in new[] { "classes", "num_classes" })
                if (Defaults.ContainsKey(key) && !settings.ContainsKey(key) && data.ClassCount > 0)
                    config[key] = data.ClassCount.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return config;
        }
    }

    static Kinds()
    {
        JobFactory.Register(DcganJob.KindName, DcganJob.Create);
    }

    public static IReadOnlyList<Info> All { get; } =
    [
        new(DcganJob.KindName, "DCGAN (Radford et al. 2016): conv generator and discriminator with batch norm, BCE with logits, non-saturating generator loss, Adam 2e-4 (0.5, 0.999).",
            "mnist", DefaultEpochs: 5, DefaultBatch: 64, DcganJob.DefaultConfig),
    ];

    /// <summary>Makes sure every job kind is registered with <see cref="JobFactory"/> (the static constructor runs).</summary>
    public static void EnsureRegistered() => _ = All.Count;
}
