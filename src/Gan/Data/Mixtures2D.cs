namespace NativeGan.Gan.Data;

/// <summary>
/// A mixture of equally weighted isotropic Gaussians in the plane: the mode-collapse benchmark of
/// VEEGAN (Srivastava et al. 2017) and PacGAN (Lin et al. 2018, Table 1).
/// </summary>
/// <param name="Name">"ring8" or "grid25".</param>
/// <param name="Modes">The mode centers (x, y), indexed by mode (the sample labels).</param>
/// <param name="Std">The standard deviation of every mode along each axis.</param>
public sealed record Mixture2D(string Name, (float X, float Y)[] Modes, float Std)
{
    /// <summary>
    /// <paramref name="count"/> points, [N, 2], with their mode index as label. Sample i belongs to mode i mod K
    /// (so every mode gets count / K points, give or take one: the data loader shuffles), placed at its center
    /// plus Gaussian noise of std <see cref="Std"/> on each axis drawn from a SplitMix64 stream seeded with
    /// <paramref name="seed"/>.
    /// </summary>
    public Dataset Sample(int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var rng = new SplitMix64(SplitMix64.Derive(seed, 0x2D));
        var data = new float[2 * count];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            int k = i % Modes.Length;
            labels[i] = k;
            data[2 * i] = (float)(Modes[k].X + Std * rng.NextGaussian());
            data[2 * i + 1] = (float)(Modes[k].Y + Std * rng.NextGaussian());
        }
        return new Dataset($"{Name} ({count} points, seed {seed})", data, [2], labels, Modes.Length);
    }
}

/// <summary>The two standard 2D mixtures, with the exact parameters of the PacGAN protocol.</summary>
public static class Mixtures2D
{
    /// <summary>PacGAN's training-set size.</summary>
    public const int DefaultCount = 100_000;

    /// <summary>
    /// 8 Gaussians on the unit circle, means (cos 2πk/8, sin 2πk/8) for k = 0..7, std 0.01. (The angles are
    /// 2πk/8: some public copies use linspace(0, 2π, 8), whose first and last angle coincide, giving 7 modes.)
    /// </summary>
    public static readonly Mixture2D Ring8 = new("ring8",
        [.. Enumerable.Range(0, 8).Select(k => ((float)Math.Cos(2 * Math.PI * k / 8), (float)Math.Sin(2 * Math.PI * k / 8)))],
        0.01f);

    /// <summary>25 Gaussians with means on {-4, -2, 0, 2, 4}², std 0.05; x outer, y inner: mode (x_i, y_j) has index 5 i + j.</summary>
    public static readonly Mixture2D Grid25 = new("grid25",
        [.. from x in new[] { -4, -2, 0, 2, 4 } from y in new[] { -4, -2, 0, 2, 4 } select ((float)x, (float)y)],
        0.05f);

    public static Dataset Ring(int count = DefaultCount, ulong seed = 0) => Ring8.Sample(count, seed);

    public static Dataset Grid(int count = DefaultCount, ulong seed = 0) => Grid25.Sample(count, seed);

    /// <summary>The mixture called <paramref name="name"/> ("ring8" or "grid25"), or null.</summary>
    public static Mixture2D? ByName(string name) => name.ToLowerInvariant() switch
    {
        "ring8" or "ring" => Ring8,
        "grid25" or "grid" => Grid25,
        _ => null,
    };
}
