using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Gans;

/// <summary>What the GAN jobs share to keep a generator average (<see cref="IAveragedGenerator"/>).</summary>
public static class GeneratorAveraging
{
    /// <summary>The settings a GAN kind gained with averaging (2026-11-24), with the value that loads older checkpoints
    /// as they were trained: see <see cref="ModelKind.AddedLater"/>.</summary>
    public static readonly IReadOnlyDictionary<string, string> KeysAddedLater = new Dictionary<string, string> { ["g_ema"] = "0" };

    /// <summary>The average of <paramref name="generator"/> for config value g_ema = <paramref name="decay"/>: null
    /// for 0 (off); otherwise over a second network from <paramref name="makeCopy"/> (same architecture; its initial
    /// weights are overwritten with the generator's).</summary>
    public static ExponentialMovingAverage? FromConfig(string kind, float decay, Module generator, Func<Module> makeCopy)
    {
        if (decay < 0 || decay >= 1) throw new ArgumentException($"{kind}: g_ema must be 0 (off) or a decay in (0, 1), got {decay}");
        return decay > 0 ? new ExponentialMovingAverage(generator, makeCopy(), decay) : null;
    }

    /// <summary>A job's modules by checkpoint name, with the average as "generator_ema" when there is one.</summary>
    public static IReadOnlyDictionary<string, Module> Modules(Module generator, Module discriminator, ExponentialMovingAverage? average)
    {
        var modules = new Dictionary<string, Module> { ["generator"] = generator, ["discriminator"] = discriminator };
        if (average is not null) modules["generator_ema"] = average.Average;
        return modules;
    }
}
