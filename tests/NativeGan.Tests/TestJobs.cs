using NativeGan.Gan.Gans;
using NativeGan.Gan.Training;

namespace NativeGan.Tests;

/// <summary>Jobs for tests, built from text settings as <c>--set</c> gives them.</summary>
static class TestJobs
{
    /// <summary>Every setting of <paramref name="kind"/>'s defaults for samples of <paramref name="shape"/>, as text.</summary>
    public static Dictionary<string, string> Settings(string kind, int[] shape, int classes = 0) =>
        new(OptionsBinder.ToStrings(ModelKinds.Find(kind).Defaults(new DataFacts(shape, classes), new Dictionary<string, string>())), StringComparer.Ordinal);

    /// <summary>A dcgan job (1x32x32 unless the settings say otherwise) on <paramref name="device"/>.</summary>
    public static GanJob Dcgan(IReadOnlyDictionary<string, string> settings, Device? device = null) =>
        (GanJob)ModelKinds.Create(GanFamily.Dcgan, settings, device ?? Device.Cpu);
}
