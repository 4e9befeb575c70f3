using System.Globalization;

namespace NativeGan.Gan.Models;

/// <summary>
/// A job's configuration: string keys and values (what a checkpoint's metadata holds), defaults filled in,
/// read with typed getters that name the key in their errors.
/// </summary>
public sealed class GanConfig
{
    readonly Dictionary<string, string> values;

    /// <summary><paramref name="defaults"/> overridden by <paramref name="given"/> (keys the defaults lack are kept too).</summary>
    public GanConfig(IReadOnlyDictionary<string, string> defaults, IReadOnlyDictionary<string, string>? given)
    {
        values = new Dictionary<string, string>(defaults, StringComparer.Ordinal);
        if (given is not null) foreach (var (k, v) in given) values[k] = v;
    }

    public IReadOnlyDictionary<string, string> Values => values;

    public string String(string key) => values.TryGetValue(key, out var v) ? v
        : throw new ArgumentException($"config: missing key '{key}'");

    public int Int(string key) => int.TryParse(String(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"config: '{key}' = '{String(key)}' is not an integer");

    public ulong ULong(string key) => ulong.TryParse(String(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"config: '{key}' = '{String(key)}' is not a non-negative integer");

    public float Float(string key) => float.TryParse(String(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v
        : throw new ArgumentException($"config: '{key}' = '{String(key)}' is not a number");

    public bool Bool(string key) => String(key).ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "on" => true,
        "false" or "0" or "no" or "off" or "" => false,
        var s => throw new ArgumentException($"config: '{key}' = '{s}' is not true or false"),
    };

    /// <summary>A comma-separated list of integers ("400,400,400"); empty for "".</summary>
    public int[] Ints(string key)
    {
        var s = String(key).Trim();
        if (s.Length == 0) return [];
        return s.Split(',').Select(p => int.TryParse(p.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v > 0 ? v
            : throw new ArgumentException($"config: '{key}' = '{s}' is not a list of positive integers")).ToArray();
    }

    public static string Format(float v) => v.ToString("R", CultureInfo.InvariantCulture);

    public static string Format(int[] v) => string.Join(",", v.Select(x => x.ToString(CultureInfo.InvariantCulture)));

    public static string Format(int v) => v.ToString(CultureInfo.InvariantCulture);

    public static string Format(bool v) => v ? "true" : "false";
}
