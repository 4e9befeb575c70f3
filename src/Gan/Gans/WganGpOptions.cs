using NativeGan.Gan.Training;

namespace NativeGan.Gan.Gans;

/// <summary>The settings of <c>wgan-gp</c>: those of every GAN kind and the gradient penalty's weight.</summary>
public sealed record WganGpOptions : GanOptions
{
    [Setting("gp_lambda", "Weight lambda of the gradient penalty lambda mean (||dD/dx^|| - 1)^2 at interpolates.", Min = 0, ResumeMayChange = true)]
    public float PenaltyWeight { get; init; } = 10f;
}
