namespace NativeGan.Gan.Training;

/// <summary>
/// What every model kind's options record has: the shape of one sample and the seed. A kind's record adds its own
/// settings as <c>init</c> properties marked with <see cref="SettingAttribute"/>; its defaults come from the kind's
/// family (one place, with the paper each default is from), and <see cref="OptionsBinder"/> maps <c>--set key=value</c>
/// and a checkpoint's saved settings onto it.
/// </summary>
public abstract record ModelOptions
{
    [Setting("data_shape", "One sample's shape: C,H,W for images, 2 for points (taken from the data).", Min = 1)]
    public int[] DataShape { get; init; } = [1, 32, 32];

    [Setting("seed", "Seed of the weights, the noise and the pictures (the command's --seed).")]
    public ulong Seed { get; init; }

    /// <summary>Whether one sample is an image [C, H, W] (else a vector such as a 2D point).</summary>
    public bool IsImage => DataShape.Length == 3;

    /// <summary>
    /// Checks what single settings' ranges cannot: combinations, and values that depend on others. Throws an
    /// <see cref="ArgumentException"/> that starts with <paramref name="kind"/> and names the settings.
    /// </summary>
    public virtual void Validate(string kind) { }

    /// <summary>
    /// Checks that <paramref name="data"/> is what these options were made for, beyond the sample shape the run checks for
    /// every kind (a table's domains and feature sets, say); throws an <see cref="ArgumentException"/> that starts with
    /// <paramref name="who"/>. Called before the first step, also on <c>--resume</c>.
    /// </summary>
    public virtual void CheckData(string who, Data.Dataset data) { }

    /// <summary>
    /// Checks a resumed run's settings (changed or not) against the run's own (<paramref name="saved"/>) at checkpoint step
    /// <paramref name="step"/>, beyond which settings may change at all (that is <see cref="OptionsBinder.Resume"/>'s):
    /// a learning-rate schedule that would not train any more is refused; <paramref name="warn"/> hears of a rate jump.
    /// </summary>
    public virtual void CheckResume(string kind, ModelOptions saved, long step, Action<string> warn) { }
}
