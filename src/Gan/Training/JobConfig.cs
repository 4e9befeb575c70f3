using System.Globalization;

namespace NativeGan.Gan.Training;

/// <summary>
/// A job's configuration: string keys and values (what a checkpoint's metadata holds), read with typed getters
/// that fall back to the job's defaults and name the key and value when one does not parse.
/// </summary>
public sealed class JobConfig
{
    readonly Dictionary<string, string> values;

    /// <summary><paramref name="defaults"/> overlaid with <paramref name="given"/>; keys the job does not know are refused.</summary>
    public JobConfig(string kind, IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string> given)
    {
        var unknown = given.Keys.Where(k => !defaults.ContainsKey(k)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"{kind}: unknown setting(s) {string.Join(", ", unknown)}; known: {string.Join(", ", defaults.Keys.Order())}");
        values = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        foreach (var (k, v) in given) values[k] = v;
        Kind = kind;
    }

    public string Kind { get; }

    /// <summary>Every setting, defaults filled in: what the checkpoint stores.</summary>
    public IReadOnlyDictionary<string, string> Values => values;

    public string String(string key) => values[key];

    public int Int(string key, int min = int.MinValue) =>
        int.TryParse(values[key], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v : throw Bad(key, $"an integer >= {min}");

    public ulong ULong(string key) =>
        ulong.TryParse(values[key], NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : throw Bad(key, "a non-negative integer");

    public float Float(string key) =>
        float.TryParse(values[key], NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && float.IsFinite(v)
            ? v : throw Bad(key, "a finite number");

    public bool Bool(string key) =>
        bool.TryParse(values[key], out var v) ? v : throw Bad(key, "true or false");

    /// <summary>A shape written as "1,32,32".</summary>
    public int[] Shape(string key)
    {
        try { return [.. values[key].Split(',', StringSplitOptions.TrimEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))]; }
        catch (FormatException) { throw Bad(key, "a shape such as 1,32,32"); }
    }

    ArgumentException Bad(string key, string what) => new($"{Kind}: setting '{key}' must be {what}, got '{values[key]}'");

    /// <summary>Formats a float so it parses back to the same value.</summary>
    public static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Formats a shape as "1,32,32".</summary>
    public static string Format(int[] shape) => string.Join(",", shape);
}
