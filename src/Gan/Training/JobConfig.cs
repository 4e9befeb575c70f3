using System.Globalization;
using NativeGan.Nn;

namespace NativeGan.Gan.Training;

/// <summary>
/// A job's configuration: string keys and values, what a checkpoint's metadata holds and what <c>--set key=value</c>
/// gives. The job's defaults are overlaid with the given settings, and typed getters read the result. Every job kind
/// reads its settings through this one class, so they all parse numbers, lists and switches the same way and a bad
/// value is reported the same way: the job kind, the key and the value (<c>wgan: setting 'lr_d' must be a finite
/// number, got 'fast'</c>).
/// <para>Numbers are read and written in the invariant culture, so a checkpoint written on one machine loads on
/// another whatever its locale. Getters ignore whitespace around a value (a hand-typed <c>--set</c> may carry some);
/// <see cref="Values"/> keeps the text as given.</para>
/// </summary>
public sealed class JobConfig
{
    readonly Dictionary<string, string> values;

    /// <summary>
    /// <paramref name="defaults"/> overlaid with <paramref name="given"/>. With <paramref name="refuseUnknown"/>, a
    /// given key the defaults lack throws (naming it and the known keys): a misspelt setting must not be silently
    /// ignored. Without it, such keys are kept in <see cref="Values"/>, so a checkpoint's metadata round-trips whole
    /// (the command line refuses unknown keys itself, see <see cref="RefuseUnknown"/>).
    /// </summary>
    public JobConfig(string kind, IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> given, bool refuseUnknown)
    {
        if (refuseUnknown) RefuseUnknown(kind, defaults, given);
        values = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        foreach (var (key, value) in given) values[key] = value;
        Kind = kind;
    }

    /// <summary>Throws if <paramref name="given"/> has a key that <paramref name="defaults"/> lacks, naming the unknown keys and the known ones.</summary>
    public static void RefuseUnknown(string kind, IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> given)
    {
        var unknown = given.Keys.Where(k => !defaults.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{kind}: unknown setting(s) {string.Join(", ", unknown)}; known: {string.Join(", ", defaults.Keys.Order(StringComparer.Ordinal))}");
    }

    /// <summary>The job kind, the first word of every error message.</summary>
    public string Kind { get; }

    /// <summary>Every setting, defaults filled in, as given: what the checkpoint stores.</summary>
    public IReadOnlyDictionary<string, string> Values => values;

    // ------------------------------------------------------------------ getters

    /// <summary>The value, without surrounding whitespace.</summary>
    public string String(string key) => values.TryGetValue(key, out var v) ? v.Trim()
        : throw new ArgumentException($"{Kind}: no setting '{key}'; known: {string.Join(", ", values.Keys.Order(StringComparer.Ordinal))}");

    /// <summary>An integer, at least <paramref name="min"/>.</summary>
    public int Int(string key, int min = int.MinValue) =>
        int.TryParse(String(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw Bad(key, min == int.MinValue ? "an integer" : $"an integer >= {min}");

    /// <summary>A non-negative 64-bit integer (seeds).</summary>
    public ulong ULong(string key) =>
        ulong.TryParse(String(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw Bad(key, "a non-negative integer");

    /// <summary>A finite float: "NaN" or "Infinity" as a learning rate is a typo, never a setting.</summary>
    public float Float(string key) =>
        float.TryParse(String(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v)
            ? v : throw Bad(key, "a finite number");

    /// <summary>
    /// A switch: true, 1, yes or on; false, 0, no, off or empty (any case). The lenient forms stay because
    /// checkpoints and scripts written with them must keep loading.
    /// </summary>
    public bool Bool(string key) => String(key).ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" or "" => false,
        _ => throw Bad(key, "true or false (or 1/0, yes/no, on/off)"),
    };

    /// <summary>A comma-separated list of positive integers ("400,400,400"); "" is the empty list (no hidden layers).</summary>
    public int[] Ints(string key) =>
        TryParsePositiveInts(String(key), out var list) ? list : throw Bad(key, "positive integers separated by commas");

    /// <summary>A sample's shape such as "1,32,32" or "2": like <see cref="Ints"/>, but never empty.</summary>
    public int[] Shape(string key) =>
        TryParsePositiveInts(String(key), out var shape) && shape.Length > 0 ? shape : throw Bad(key, "a shape of positive sizes such as 1,32,32");

    static bool TryParsePositiveInts(string text, out int[] list)
    {
        list = [];
        if (text.Length == 0) return true;
        var parts = text.Split(',');
        var parsed = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i], NumberStyles.Integer, CultureInfo.InvariantCulture, out parsed[i]) || parsed[i] <= 0)
                return false;
        list = parsed;
        return true;
    }

    /// <summary>One of <paramref name="allowed"/> (exact spelling, as the checkpoint stores it).</summary>
    public string OneOf(string key, params string[] allowed) =>
        allowed.Contains(String(key)) ? String(key) : throw Bad(key, "one of " + string.Join(", ", allowed));

    /// <summary>
    /// A member of the enum <typeparamref name="T"/>, by its name in any case ("mse" for Mse). Numbers are refused:
    /// Enum.TryParse alone would take "7" and make an undefined member.
    /// </summary>
    public T OneOf<T>(string key) where T : struct, Enum
    {
        var text = String(key);
        foreach (var name in Enum.GetNames<T>())
            if (name.Equals(text, StringComparison.OrdinalIgnoreCase)) return Enum.Parse<T>(name);
        throw Bad(key, "one of " + string.Join(", ", Enum.GetNames<T>().Select(n => n.ToLowerInvariant())));
    }

    /// <summary>The learning-rate schedule's steps, lr_decay_start and lr_decay_end (see <see cref="LinearDecay"/>), checked.</summary>
    public (int From, int To) LinearDecaySteps()
    {
        (int From, int To) steps = (Int(LinearDecay.StartKey, 0), Int(LinearDecay.EndKey, 0));
        LinearDecay.Check(Kind, steps.From, steps.To);
        return steps;
    }

    /// <summary>
    /// The learning-rate schedule: <c>lr_schedule</c> (<see cref="RateSchedule"/>) when given, else the linear decay of
    /// lr_decay_start and lr_decay_end (constant when lr_decay_end is 0). Both at once are refused: which one would hold?
    /// A config without the <c>lr_schedule</c> key (a checkpoint from before it existed) reads as "".
    /// </summary>
    public RateSchedule Schedule()
    {
        var (from, to) = LinearDecaySteps();
        string text = values.TryGetValue(RateSchedule.Key, out var v) ? v.Trim() : "";
        if (text.Length == 0) return to == 0 ? RateSchedule.Constant : RateSchedule.LinearDecay(from, to);
        if (to != 0)
            throw new ArgumentException($"{Kind}: give {RateSchedule.Key} ('{text}') or {LinearDecay.StartKey}/{LinearDecay.EndKey} ({from}, {to}), not both " +
                                        $"(the decay is the schedule {RateSchedule.LinearDecay(from, to)})");
        return RateSchedule.Parse(Kind, text);
    }

    ArgumentException Bad(string key, string what) => new($"{Kind}: setting '{key}' must be {what}, got '{values[key]}'");

    // ------------------------------------------------------------------ formatting (what defaults and checkpoints store)

    /// <summary>A float as the shortest text that parses back to the same bits ("R": 0.1f is "0.1", not "0.100000001").</summary>
    public static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Format(ulong v) => v.ToString(CultureInfo.InvariantCulture);

    /// <summary>"true" or "false", the forms every reader accepts.</summary>
    public static string Format(bool v) => v ? "true" : "false";

    /// <summary>A list or shape as "1,32,32" ("" for none), what <see cref="Ints"/> and <see cref="Shape"/> read.</summary>
    public static string Format(int[] v) => string.Join(",", v.Select(Format));
}
