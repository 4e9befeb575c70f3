namespace NativeGan.Gan.Gans;

/// <summary>How a DCGAN-style discriminator normalises its hidden layers.</summary>
public enum CriticNorm
{
    /// <summary>Batch norm after every strided convolution but the first (Radford et al.).</summary>
    Batch,
    /// <summary>Instance norm with a learned scale and shift: no statistics across the batch, so a gradient
    /// penalty per sample stays per sample (what WGAN-GP asks of its critic).</summary>
    Instance,
    /// <summary>No normalisation.</summary>
    None,
}
