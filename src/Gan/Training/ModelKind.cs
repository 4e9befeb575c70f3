using System.Reflection;
using NativeGan.Nn;

namespace NativeGan.Gan.Training;

/// <summary>What a data set tells a model's defaults: one sample's shape and the number of classes (0: no labels).</summary>
public sealed record DataFacts(int[] SampleShape, int ClassCount)
{
    /// <summary>A multi-domain table's features and domains (see <see cref="Data.Dataset.Tabular"/>); null for other data.</summary>
    public Tabular.TabularLayout? Tabular { get; init; }
}

/// <summary>
/// One model kind as the program trains it (<c>nativegan train NAME</c>): its options' defaults for a data set, how a
/// job is built from options, and what the command line starts it with. A family (a folder of src/Gan) lists its
/// kinds in a class implementing <see cref="IModelFamily"/>; <see cref="ModelKinds"/> finds them, so the command line,
/// <c>--resume</c>, <c>sample</c> and <c>eval</c> need no code per kind.
/// </summary>
public sealed record ModelKind
{
    /// <summary>The name <c>train</c> takes and checkpoints keep ("dcgan", "wgan-gp", "ae").</summary>
    public required string Name { get; init; }

    /// <summary>One paragraph for --help: the model, its paper, its loss.</summary>
    public required string Description { get; init; }

    /// <summary>The default options for a data set; <c>given</c> are the settings asked for, for a kind whose defaults
    /// depend on one of them (the autoencoders' <c>kind</c>). Defaults come from the kind's paper.</summary>
    public required Func<DataFacts, IReadOnlyDictionary<string, string>, ModelOptions> Defaults { get; init; }

    /// <summary>A new job from options (checked) on a device.</summary>
    public required Func<ModelOptions, Device, ITrainingJob> Create { get; init; }

    /// <summary>
    /// How the kind reads <c>--data</c> when not as <see cref="Data.DataSource.Load"/> does (null: that way): from the data
    /// spec, the data options, the run's settings and, on <c>--resume</c>, the saved run's options (MuseGAN's phrases,
    /// whose step resolution is a setting).
    /// </summary>
    public Func<string, Data.DataOptions, IReadOnlyDictionary<string, string>, ModelOptions?, Data.Dataset>? LoadData { get; init; }

    /// <summary>What <c>train</c> trains on, how long and in batches of how many when the command does not say.</summary>
    public string DefaultData { get; init; } = "mnist";
    public int DefaultEpochs { get; init; } = 5;
    public int DefaultBatch { get; init; } = 64;

    /// <summary>Settings the kind gained after checkpoints of it were written, each with the value that reproduces the
    /// older behaviour: a saved run's settings are complete, so one missing from them predates it.</summary>
    public IReadOnlyDictionary<string, string> AddedLater { get; init; } = new Dictionary<string, string>();

    /// <summary>Turns the string config of a checkpoint written before typed options (metadata "config") into today's
    /// settings (renamed keys, retired ones dropped); null: the keys are today's.</summary>
    public Func<Dictionary<string, string>, Dictionary<string, string>>? UpgradeConfig { get; init; }

    /// <summary>Whether a checkpoint of job kind <paramref name="jobKind"/> belongs to this kind (<c>ae</c> owns "ae-vae").</summary>
    public bool Owns(string jobKind) => jobKind == Name || jobKind.StartsWith(Name + "-", StringComparison.Ordinal);

    /// <summary>The options for a data set with <paramref name="given"/> settings applied and checked.</summary>
    public ModelOptions Options(DataFacts data, IReadOnlyDictionary<string, string> given) =>
        OptionsBinder.Bind(Defaults(data, given), given, Name);

    /// <summary>The options a saved run's settings describe (complete, apart from <see cref="AddedLater"/> keys).</summary>
    public ModelOptions FromSaved(IReadOnlyDictionary<string, string> saved)
    {
        var settings = new Dictionary<string, string>(saved, StringComparer.Ordinal);
        foreach (var (key, value) in AddedLater) settings.TryAdd(key, value);
        return Options(DataOf(settings), settings);
    }

    /// <summary>The options of <paramref name="settings"/> over the kind's defaults for the data they name (data_shape,
    /// classes; else the kind's default data): what a program or a test that has no data set builds options from.</summary>
    public ModelOptions FromSettings(IReadOnlyDictionary<string, string> settings) => Options(DataOf(settings), settings);

    /// <summary>The data facts that settings name (data_shape, classes; else the kind's defaults'), which the defaults
    /// depend on when settings are bound without a data set (a checkpoint, a test).</summary>
    public DataFacts DataOf(IReadOnlyDictionary<string, string> settings)
    {
        var probe = Defaults(new DataFacts([1, 32, 32], 0), settings);
        var named = settings.Where(kv => kv.Key is "data_shape" or "classes" && OptionsBinder.Find(probe, kv.Key) is not null).ToDictionary(kv => kv.Key, kv => kv.Value);
        var bound = OptionsBinder.Bind(probe, named, Name, validate: false);
        int classes = OptionsBinder.Find(bound, "classes") is { } c ? (int)c.Property.GetValue(bound)! : 0;
        return new DataFacts(bound.DataShape, classes);
    }
}

/// <summary>A model family (one folder of src/Gan): the kinds it adds. <see cref="ModelKinds"/> finds every implementation.</summary>
public interface IModelFamily
{
    static abstract IReadOnlyList<ModelKind> Kinds { get; }
}

/// <summary>Every model kind: the families' (found by reflection over this assembly) and any a program registers.</summary>
public static class ModelKinds
{
    static readonly List<ModelKind> registered = [];
    static readonly Lazy<IReadOnlyList<ModelKind>> families = new(() =>
        [.. typeof(ModelKinds).Assembly.GetTypes()
            .Where(t => !t.IsInterface && typeof(IModelFamily).IsAssignableFrom(t))
            .OrderBy(t => t.FullName, StringComparer.Ordinal)
            .SelectMany(t => (IReadOnlyList<ModelKind>)t.GetProperty(nameof(IModelFamily.Kinds), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)]);

    /// <summary>The kinds, the built-in families' first (in the order each family lists them).</summary>
    public static IReadOnlyList<ModelKind> All
    {
        get { lock (registered) return [.. families.Value, .. registered]; }
    }

    /// <summary>Adds a kind a program defines (its name must be new).</summary>
    public static void Register(ModelKind kind)
    {
        lock (registered)
        {
            if (All.Any(k => k.Name == kind.Name)) throw new ArgumentException($"a model kind named '{kind.Name}' exists already");
            registered.Add(kind);
        }
    }

    /// <summary>The kind named <paramref name="name"/>, or the one that owns job kind <paramref name="name"/> ("ae-vae"); throws naming the known kinds.</summary>
    public static ModelKind Find(string name) =>
        All.FirstOrDefault(k => k.Name == name) ?? All.FirstOrDefault(k => k.Owns(name))
        ?? throw new ArgumentException($"unknown model kind '{name}'; known kinds: {string.Join(", ", All.Select(k => k.Name))}");

    /// <summary>A new job of <paramref name="kind"/> with <paramref name="settings"/> (text, as <c>--set</c> gives them) over
    /// the kind's defaults for samples of the settings' data_shape (the kind's default shape when absent).</summary>
    public static ITrainingJob Create(string kind, IReadOnlyDictionary<string, string> settings, Device device)
    {
        var k = Find(kind);
        var job = k.Create(k.FromSettings(settings), device);
        if (job.Kind != kind)
        {
            job.Dispose();
            throw new ArgumentException($"{kind}: the settings make a '{job.Kind}' model");
        }
        return job;
    }
}
