using NativeGan.Gan.Training;

namespace NativeGan.Gan.RadialGan;

/// <summary>
/// The settings of <c>radialgan</c> (Yoon, Jordon and van der Schaar 2018). The data's shape is the union's features plus the
/// label (<c>data_shape</c> F+1), its domains and each domain's feature set (<c>feature_mask</c>) come from the table; the
/// defaults are the reference implementation's (vanderschaarlab/mlforhealthlabpub, alg/RadialGAN): one tanh hidden layer of
/// F units in every network, a latent space of F, TensorFlow's Adam (1e-3, 0.9, 0.999), the cycle weight alpha 0.1.
/// </summary>
public sealed record RadialGanOptions : ModelOptions
{
    /// <summary>The adversarial loss.</summary>
    public enum LossKind
    {
        /// <summary>The reference's: BCE with logits; D_j: real vs the other domains' translations into j (averaged); G: non-saturating.</summary>
        Bce,
        /// <summary>WGAN-GP (Gulrajani et al. 2017): Wasserstein critics with a gradient penalty at interpolates of (x, y).</summary>
        WganGp,
    }

    [Setting("domains", "Number of domains (taken from the data).", Min = 2)]
    public int Domains { get; init; } = 2;

    [Setting("feature_mask", "Each domain's feature set over the union's features, 0/1, domain after domain (taken from the data).", Min = 0, Max = 1)]
    public int[] FeatureMask { get; init; } = [];

    [Setting("hidden", "Hidden units of every encoder, decoder and discriminator (0: the union's feature count, the reference's h_dim).", Min = 0)]
    public int Hidden { get; init; }

    [Setting("latent", "Size of the shared latent space z (0: the union's feature count, the reference's Z_dim).", Min = 0)]
    public int Latent { get; init; }

    [Setting("loss", "The adversarial loss: bce (the reference's) or wgan-gp.")]
    public LossKind Loss { get; init; } = LossKind.Bce;

    [Setting("alpha", "Weight of the cycle loss, alpha * sqrt(mean cycle MSE) (the reference's 0.1).", Min = 0, ResumeMayChange = true)]
    public float Alpha { get; init; } = 0.1f;

    [Setting("gp_lambda", "wgan-gp: weight of the gradient penalty.", Min = 0, ResumeMayChange = true)]
    public float PenaltyWeight { get; init; } = 10f;

    [Setting("n_critic", "Discriminator updates per step, each on the step's batch (the reference: 1).", Min = 1)]
    public int CriticSteps { get; init; } = 1;

    [Setting("lr_g", "Learning rate of each domain's encoder and decoder (the reference: TensorFlow Adam's 1e-3).", Min = 0, ResumeMayChange = true)]
    public float GeneratorRate { get; init; } = 1e-3f;

    [Setting("lr_d", "Learning rate of the discriminators.", Min = 0, ResumeMayChange = true)]
    public float CriticRate { get; init; } = 1e-3f;

    [Setting("beta1", "Adam's beta1.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.9f;

    [Setting("beta2", "Adam's beta2.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta2 { get; init; } = 0.999f;

    /// <summary>The union's feature count F (data_shape is F+1: the label is the last column).</summary>
    public int FeatureCount => DataShape[0] - 1;

    /// <summary>The hidden width in use (F when <see cref="Hidden"/> is 0).</summary>
    public int HiddenUnits => Hidden > 0 ? Hidden : FeatureCount;

    /// <summary>The latent size in use (F when <see cref="Latent"/> is 0).</summary>
    public int LatentSize => Latent > 0 ? Latent : FeatureCount;

    /// <summary>The union indices of <paramref name="domain"/>'s features, in order.</summary>
    public int[] FeaturesOf(int domain) => [.. Enumerable.Range(0, FeatureCount).Where(f => FeatureMask[domain * FeatureCount + f] == 1)];

    /// <summary>The table must have these domains and feature sets (a resumed run on another table is refused here).</summary>
    public override void CheckData(string who, Data.Dataset data)
    {
        if (data.Tabular is not { } layout)
            throw new ArgumentException($"{who}: radialgan trains on a table of several domains (--data cars, penguins, weather or csv:LABEL:FILE,...), not on {data.Name}");
        if (layout.DomainCount != Domains || !layout.MaskBits().SequenceEqual(FeatureMask))
            throw new ArgumentException($"{who}: the model's {Domains} domains and feature_mask ({string.Join(",", FeatureMask)}) are not those of {data.Name} " +
                                        $"({layout.DomainCount} domains, {string.Join(",", layout.MaskBits())})");
    }

    public override void Validate(string kind)
    {
        if (DataShape.Length != 1 || DataShape[0] < 2)
            throw new ArgumentException($"{kind}: needs a multi-domain table (--data cars, penguins, weather or csv:LABEL:FILE,...), whose samples are F features and a label (data_shape F+1 >= 2); got data_shape '{string.Join(",", DataShape)}'");
        if (FeatureMask.Length != Domains * FeatureCount)
            throw new ArgumentException($"{kind}: feature_mask has {FeatureMask.Length} entries; {Domains} domains x {FeatureCount} features need {Domains * FeatureCount}");
        for (int d = 0; d < Domains; d++)
            if (FeaturesOf(d).Length == 0) throw new ArgumentException($"{kind}: feature_mask gives domain {d} no feature");
    }
}
