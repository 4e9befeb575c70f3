using NativeGan.Gan.Training;

namespace NativeGan.Gan.Gans;

/// <summary>The settings of <c>cgan</c>: those of the BCE kinds and the number of classes both networks are given.</summary>
public sealed record ConditionalGanOptions : BceGanOptions
{
    [Setting("classes", "Classes the label takes (taken from the data's labels).", Min = 1)]
    public int Classes { get; init; } = 10;

    public override int ClassCount => Classes;
}
