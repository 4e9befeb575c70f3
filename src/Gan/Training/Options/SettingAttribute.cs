namespace NativeGan.Gan.Training;

/// <summary>
/// Marks a property of a model's options record as a setting: the key <c>--set key=value</c> and checkpoints use, one
/// line of help for <c>train KIND --help</c>, the range a value must lie in, and whether a resumed run may change it.
/// <see cref="OptionsBinder"/> reads these attributes; nothing else lists a model's settings.
/// </summary>
[AttributeUsage(AttributeTargets.Property, Inherited = true)]
public sealed class SettingAttribute(string key, string help) : Attribute
{
    /// <summary>The setting's name: lower case, words joined by '_' ("lr_g", "data_shape").</summary>
    public string Key { get; } = key;

    /// <summary>One line for --help.</summary>
    public string Help { get; } = help;

    /// <summary>The smallest value allowed (numbers; the sizes of a list), inclusive unless <see cref="MinExclusive"/>. NaN: no bound.</summary>
    public double Min { get; init; } = double.NaN;

    /// <summary>The largest value allowed, inclusive unless <see cref="MaxExclusive"/>. NaN: no bound.</summary>
    public double Max { get; init; } = double.NaN;

    public bool MinExclusive { get; init; }
    public bool MaxExclusive { get; init; }

    /// <summary>
    /// Whether <c>--resume</c> may give it a new value (a learning rate or a penalty's weight late in training). Every
    /// other setting is the run's own: a resumed run that asks to change it is refused (<see cref="OptionsBinder.Resume"/>).
    /// </summary>
    public bool ResumeMayChange { get; init; }
}
