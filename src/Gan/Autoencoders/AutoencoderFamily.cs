using NativeGan.Gan.Training;

namespace NativeGan.Gan.Autoencoders;

/// <summary>The autoencoders as one model kind, <c>ae</c>, whose <c>kind</c> setting picks which (its jobs are "ae-KIND").</summary>
public sealed class AutoencoderFamily : IModelFamily
{
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = "ae",
            Description = "Autoencoders (Goodfellow et al., Deep Learning, ch. 14): --kind " + string.Join(", ", AutoencoderOptions.KindNames) + ".",
            Defaults = (data, given) => AutoencoderOptions.For(AutoencoderOptions.ParseKind(given.GetValueOrDefault("kind") ?? "undercomplete"), data.SampleShape),
            Create = (options, device) => AutoencoderJob.Create((AutoencoderOptions)options, device),
            DefaultEpochs = 5,
            DefaultBatch = 128,
            // Before typed options the sample shape was "shape".
            UpgradeConfig = config =>
            {
                if (config.Remove("shape", out var shape)) config["data_shape"] = shape;
                return config;
            },
        },
    ];
}
