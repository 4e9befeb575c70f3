using System.Collections.Concurrent;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace NativeGan.Gan.Training;

/// <summary>One setting of an options record: its key, help line, range and property.</summary>
public sealed record SettingInfo(PropertyInfo Property, SettingAttribute Attribute)
{
    public string Key => Attribute.Key;
    public string Help => Attribute.Help;
    public bool ResumeMayChange => Attribute.ResumeMayChange;

    /// <summary>The value's type as help shows it: int, float, bool, text, a list of ints, or the choices of an enum.</summary>
    public string TypeName
    {
        get
        {
            var t = Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;
            if (t.IsEnum) return string.Join("|", Enum.GetNames(t).Select(OptionsBinder.EnumText));
            return t == typeof(int) || t == typeof(long) || t == typeof(ulong) ? "int"
                : t == typeof(float) || t == typeof(double) ? "float"
                : t == typeof(bool) ? "bool"
                : t == typeof(int[]) ? "ints"
                : "text";
        }
    }

    /// <summary>The range as text ("> 0", "in [0, 1)", ">= 1"), or "" when there is none.</summary>
    public string RangeText
    {
        get
        {
            var a = Attribute;
            bool lo = !double.IsNaN(a.Min), hi = !double.IsNaN(a.Max);
            string F(double v) => v.ToString("R", CultureInfo.InvariantCulture);
            if (lo && hi) return $"in {(a.MinExclusive ? "(" : "[")}{F(a.Min)}, {F(a.Max)}{(a.MaxExclusive ? ")" : "]")}";
            if (lo) return $"{(a.MinExclusive ? ">" : ">=")} {F(a.Min)}";
            if (hi) return $"{(a.MaxExclusive ? "<" : "<=")} {F(a.Max)}";
            return "";
        }
    }
}

/// <summary>
/// Maps settings given as text (<c>--set key=value</c>, a checkpoint's saved settings) onto a model's typed options
/// record, and back. Every kind's settings are read here, so every kind parses numbers, switches, lists and choices
/// the same way, refuses the same mistakes with the same message (the kind, the key, the value and what is expected),
/// writes the same help, and saves the same JSON. Numbers are read and written in the invariant culture, so a
/// checkpoint written on one machine loads on another whatever its locale.
/// </summary>
public static class OptionsBinder
{
    static readonly ConcurrentDictionary<Type, IReadOnlyList<SettingInfo>> cache = new();

    /// <summary>The settings of an options type: the base record's first, then each derived record's, in declaration order.</summary>
    public static IReadOnlyList<SettingInfo> Settings(Type optionsType) => cache.GetOrAdd(optionsType, t =>
    {
        var chain = new List<Type>();
        for (var c = t; c is not null && c != typeof(object); c = c.BaseType) chain.Insert(0, c);
        var list = new List<SettingInfo>();
        foreach (var c in chain)
            foreach (var p in c.GetProperties(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly).OrderBy(p => p.MetadataToken))
                if (p.GetCustomAttribute<SettingAttribute>() is { } a) list.Add(new SettingInfo(p, a));
        var twice = list.GroupBy(s => s.Key).FirstOrDefault(g => g.Count() > 1);
        if (twice is not null) throw new InvalidOperationException($"{t.Name}: setting '{twice.Key}' is declared twice");
        return list;
    });

    /// <summary>The setting <paramref name="key"/> of <paramref name="options"/>' type, or null.</summary>
    public static SettingInfo? Find(ModelOptions options, string key) => Settings(options.GetType()).FirstOrDefault(s => s.Key == key);

    /// <summary>
    /// A copy of <paramref name="options"/> with the <paramref name="given"/> settings applied and the result checked
    /// (<see cref="ModelOptions.Validate"/>). An unknown key, a value of the wrong type and a value out of range each
    /// throw an <see cref="ArgumentException"/> that starts with <paramref name="kind"/>, names the key and the value
    /// and says what is expected.
    /// </summary>
    public static T Bind<T>(T options, IReadOnlyDictionary<string, string> given, string kind) where T : ModelOptions =>
        Bind(options, given, kind, validate: true);

    /// <summary><see cref="Bind{T}(T, IReadOnlyDictionary{string, string}, string)"/>, with the combination check only if <paramref name="validate"/>.</summary>
    public static T Bind<T>(T options, IReadOnlyDictionary<string, string> given, string kind, bool validate) where T : ModelOptions
    {
        var settings = Settings(options.GetType());
        var copy = Clone(options);
        foreach (var (key, text) in given)
        {
            var s = settings.FirstOrDefault(x => x.Key == key) ?? throw Unknown(kind, key, settings);
            s.Property.SetValue(copy, Parse(kind, s, text));
        }
        if (validate) copy.Validate(kind);
        return copy;
    }

    /// <summary>
    /// A resumed run's options: the run's own <paramref name="saved"/> ones with <paramref name="given"/> applied, where
    /// only settings marked <see cref="SettingAttribute.ResumeMayChange"/> may take a new value (a value equal to the
    /// run's is no change). Anything else is refused naming the setting, both values and what may change; then the
    /// kind's own check (<see cref="ModelOptions.CheckResume"/>) runs. <paramref name="changes"/> lists what changed.
    /// </summary>
    public static T Resume<T>(T saved, IReadOnlyDictionary<string, string> given, string kind, long step, Action<string> warn,
        out IReadOnlyList<string> changes) where T : ModelOptions
    {
        var resumed = Bind(saved, given, kind);
        var list = new List<string>();
        var settings = Settings(saved.GetType());
        foreach (var s in settings)
        {
            string was = Format(saved, s), now = Format(resumed, s);
            if (was == now) continue;
            if (!s.ResumeMayChange)
            {
                var may = settings.Where(x => x.ResumeMayChange).Select(x => x.Key).ToList();
                throw new ArgumentException($"--resume: {kind}: setting '{s.Key}' is the run's own ({Shown(was)}) and cannot change to {Shown(now)} on resume; " +
                    (may.Count > 0 ? $"what may change: {string.Join(", ", may)}" : "nothing may change") +
                    (s.Key == "seed" ? "" : "; start a new run for other settings"));
            }
            list.Add($"{s.Key} {Shown(was)} -> {Shown(now)}");
        }
        resumed.CheckResume(kind, saved, step, warn);
        changes = list;
        return resumed;
    }

    static string Shown(string text) => text.Length == 0 ? "(none)" : text;

    // ------------------------------------------------------------------ text

    /// <summary>Every setting as text, in declaration order: what help shows and what <see cref="Bind{T}(T, IReadOnlyDictionary{string, string}, string)"/> reads back to equal options.</summary>
    public static IReadOnlyDictionary<string, string> ToStrings(ModelOptions options)
    {
        var d = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var s in Settings(options.GetType())) d[s.Key] = Format(options, s);
        return d;
    }

    /// <summary>One setting's value as text.</summary>
    public static string Format(ModelOptions options, SettingInfo s) => FormatValue(s.Property.GetValue(options));

    static string FormatValue(object? value) => value switch
    {
        null => "",
        float f => f.ToString("R", CultureInfo.InvariantCulture),
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        int[] list => string.Join(",", list.Select(i => i.ToString(CultureInfo.InvariantCulture))),
        Enum e => EnumText(e.ToString()),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };

    /// <summary>An enum member's name as settings spell it: lower case, words joined by '-' (NonSaturating: "non-saturating").</summary>
    public static string EnumText(string name) =>
        string.Concat(name.Select((c, i) => char.IsUpper(c) ? (i > 0 ? "-" : "") + char.ToLowerInvariant(c) : c.ToString()));

    static object? Parse(string kind, SettingInfo s, string raw)
    {
        string text = raw.Trim();
        var type = s.Property.PropertyType;
        var inner = Nullable.GetUnderlyingType(type);
        if (inner is not null && text.Length == 0) return null;
        type = inner ?? type;
        object? value = null;
        string expected;
        var ci = CultureInfo.InvariantCulture;
        if (type == typeof(int)) { expected = "an integer"; if (int.TryParse(text, NumberStyles.Integer, ci, out var v)) value = v; }
        else if (type == typeof(long)) { expected = "an integer"; if (long.TryParse(text, NumberStyles.Integer, ci, out var v)) value = v; }
        else if (type == typeof(ulong)) { expected = "a non-negative integer"; if (ulong.TryParse(text, NumberStyles.Integer, ci, out var v)) value = v; }
        else if (type == typeof(float))
        {
            // "NaN" or "Infinity" as a learning rate is a typo, never a setting.
            expected = "a finite number";
            if (float.TryParse(text, NumberStyles.Float, ci, out var v) && float.IsFinite(v)) value = v;
        }
        else if (type == typeof(double)) { expected = "a finite number"; if (double.TryParse(text, NumberStyles.Float, ci, out var v) && double.IsFinite(v)) value = v; }
        else if (type == typeof(bool))
        {
            // The lenient forms stay because checkpoints and scripts written with them must keep loading.
            expected = "true or false (or 1/0, yes/no, on/off)";
            value = text.ToLowerInvariant() switch
            {
                "true" or "1" or "yes" or "on" => true,
                "false" or "0" or "no" or "off" or "" => false,
                _ => null,
            };
        }
        else if (type == typeof(int[]))
        {
            expected = "integers separated by commas (e.g. 256,512)";
            value = ParseInts(text);
        }
        else if (type == typeof(string)) { expected = "text"; value = text; }
        else if (type.IsEnum)
        {
            expected = "one of " + string.Join(", ", Enum.GetNames(type).Select(EnumText));
            // By name in any case, '-' or '_' between words; numbers are refused (Enum.TryParse would take "7").
            static string Squash(string n) => n.Replace("-", "").Replace("_", "").ToLowerInvariant();
            var name = Enum.GetNames(type).FirstOrDefault(n => Squash(n) == Squash(text));
            if (name is not null) value = Enum.Parse(type, name);
        }
        else throw new InvalidOperationException($"{s.Property.DeclaringType?.Name}.{s.Property.Name}: settings of type {type.Name} are not supported");
        if (value is null) throw Bad(kind, s, raw, expected);
        CheckRange(kind, s, raw, value);
        return value;
    }

    static int[]? ParseInts(string text)
    {
        if (text.Length == 0) return [];
        var parts = text.Split(',');
        var list = new int[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            if (!int.TryParse(parts[i].Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out list[i])) return null;
        return list;
    }

    static void CheckRange(string kind, SettingInfo s, string raw, object value)
    {
        var a = s.Attribute;
        if (double.IsNaN(a.Min) && double.IsNaN(a.Max)) return;
        bool InRange(double v) =>
            (double.IsNaN(a.Min) || (a.MinExclusive ? v > a.Min : v >= a.Min)) &&
            (double.IsNaN(a.Max) || (a.MaxExclusive ? v < a.Max : v <= a.Max));
        if (value is int[] list)
        {
            if (!list.All(i => InRange(i))) throw Bad(kind, s, raw, $"integers each {s.RangeText}");
            return;
        }
        double x = Convert.ToDouble(value, CultureInfo.InvariantCulture);
        if (!InRange(x)) throw Bad(kind, s, raw, $"{(s.TypeName == "int" ? "an integer" : "a number")} {s.RangeText}");
    }

    static ArgumentException Bad(string kind, SettingInfo s, string raw, string expected) =>
        new($"{kind}: setting '{s.Key}' must be {expected}, got '{raw}'");

    static ArgumentException Unknown(string kind, string key, IReadOnlyList<SettingInfo> settings)
    {
        var candidates = settings.Select(s => s.Key).Where(k => Distance(k, key) <= Math.Max(1, key.Length / 3) || k.StartsWith(key + "_", StringComparison.Ordinal)).ToList();
        var near = candidates.Where(k => Distance(k, key) == candidates.Min(c => Distance(c, key))).ToList(); // the closest ones
        string hint = near.Count > 0 ? $" (did you mean {string.Join(" or ", near)}?)" : "";
        return new ArgumentException($"{kind}: unknown setting '{key}'{hint}; known: {string.Join(", ", settings.Select(s => s.Key).Order(StringComparer.Ordinal))}");
    }

    /// <summary>Levenshtein distance, for the "did you mean" hint.</summary>
    static int Distance(string a, string b)
    {
        var row = Enumerable.Range(0, b.Length + 1).ToArray();
        for (int i = 1; i <= a.Length; i++)
        {
            int diagonal = row[0];
            row[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int above = row[j];
                row[j] = Math.Min(Math.Min(row[j] + 1, row[j - 1] + 1), diagonal + (a[i - 1] == b[j - 1] ? 0 : 1));
                diagonal = above;
            }
        }
        return row[b.Length];
    }

    static T Clone<T>(T options) where T : ModelOptions =>
        (T)options.GetType().GetMethod("<Clone>$")!.Invoke(options, null)!;

    // ------------------------------------------------------------------ JSON (what checkpoints keep)

    /// <summary>The options as one JSON object, setting key to typed value (numbers, switches, lists, choices as text).</summary>
    public static string ToJson(ModelOptions options)
    {
        var o = new JsonObject();
        foreach (var s in Settings(options.GetType()))
        {
            var v = s.Property.GetValue(options);
            o[s.Key] = v switch
            {
                null => null,
                int i => JsonValue.Create(i),
                long l => JsonValue.Create(l),
                ulong u => JsonValue.Create(u),
                float f => JsonValue.Create(f),
                double d => JsonValue.Create(d),
                bool b => JsonValue.Create(b),
                int[] list => new JsonArray([.. list.Select(i => (JsonNode?)JsonValue.Create(i))]),
                _ => JsonValue.Create(FormatValue(v)),
            };
        }
        return o.ToJsonString();
    }

    /// <summary>A JSON object of settings (<see cref="ToJson"/>) as text settings for <see cref="Bind{T}(T, IReadOnlyDictionary{string, string}, string)"/>; throws a
    /// <see cref="FormatException"/> naming what is wrong when it is not such an object.</summary>
    public static Dictionary<string, string> FromJson(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e) { throw new FormatException($"the options are not valid JSON ({e.Message})"); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new FormatException("the options are not a JSON object");
            var d = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in doc.RootElement.EnumerateObject())
                d[p.Name] = p.Value.ValueKind switch
                {
                    JsonValueKind.Null => "",
                    JsonValueKind.True => "true",
                    JsonValueKind.False => "false",
                    JsonValueKind.Number => p.Value.GetRawText(),
                    JsonValueKind.String => p.Value.GetString()!,
                    JsonValueKind.Array when p.Value.EnumerateArray().All(e => e.ValueKind == JsonValueKind.Number) =>
                        string.Join(",", p.Value.EnumerateArray().Select(e => e.GetRawText())),
                    _ => throw new FormatException($"the options' '{p.Name}' is {p.Value.ValueKind}, not a number, switch, text or list of numbers"),
                };
            return d;
        }
    }

    // ------------------------------------------------------------------ help

    /// <summary>One row per setting of <paramref name="defaults"/>' type: key, type (and range), default, help line, and
    /// whether a resumed run may change it.</summary>
    public static IReadOnlyList<(string Key, string Type, string Default, string Help, bool ResumeMayChange)> Help(ModelOptions defaults) =>
        [.. Settings(defaults.GetType()).Select(s =>
            (s.Key, s.RangeText.Length > 0 ? $"{s.TypeName} {s.RangeText}" : s.TypeName, Format(defaults, s), s.Help, s.ResumeMayChange))];
}
