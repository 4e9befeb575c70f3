using NativeGan.Gan.Training;

namespace NativeGan.Gan.RadialGan;

/// <summary>RadialGAN as one model kind, <c>radialgan</c>, trained on a multi-domain table (see <see cref="Tabular.TabularData"/>).</summary>
public sealed class RadialGanFamily : IModelFamily
{
    /// <summary>The kind's name.</summary>
    public const string Name = "radialgan";

    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = Name,
            Description = "RadialGAN (Yoon et al. 2018): one encoder into a shared latent space, one decoder out of it and one discriminator per domain of a table, " +
                          "adversarial losses on the translations into each domain and a cycle loss (alpha 0.1); --data cars, penguins, weather or csv:LABEL:FILE,FILE,...",
            Defaults = (data, given) => Defaults(data, given.GetValueOrDefault("loss")),
            Create = (options, device) => new RadialGanJob((RadialGanOptions)options, device),
            DefaultData = "cars",
            // The reference runs 20,000 iterations. An epoch of cars' 250 training rows is one batch of 128 (the smaller last
            // batch is dropped), so on cars 2,000 epochs are 2,000 steps; give --steps on larger tables.
            DefaultEpochs = 2000,
            DefaultBatch = 128,
        },
    ];

    /// <summary>
    /// The reference's defaults for <paramref name="data"/> (its domains and feature sets when it is a table; a placeholder
    /// for other data, refused when the job is made). <paramref name="loss"/> wgan-gp takes the WGAN-GP paper's Adam 1e-4
    /// (0.5, 0.9) and 5 critic updates (its public code's beta1 0.5; Algorithm 1 has 0).
    /// </summary>
    public static RadialGanOptions Defaults(DataFacts data, string? loss)
    {
        var options = new RadialGanOptions { DataShape = data.SampleShape };
        if (data.Tabular is { } layout) options = options with { Domains = layout.DomainCount, FeatureMask = layout.MaskBits() };
        bool wgan = loss is not null && loss.Replace("-", "").Replace("_", "").Equals("wgangp", StringComparison.OrdinalIgnoreCase);
        return wgan
            ? options with { Loss = RadialGanOptions.LossKind.WganGp, GeneratorRate = 1e-4f, CriticRate = 1e-4f, Beta1 = 0.5f, Beta2 = 0.9f, CriticSteps = 5 }
            : options;
    }
}
