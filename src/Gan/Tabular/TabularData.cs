using NativeGan.Gan.Data;

namespace NativeGan.Gan.Tabular;

/// <summary>
/// The <c>--data</c> values of multi-domain tables: <c>cars</c>, <c>penguins</c>, <c>weather</c> (<see cref="VegaDatasets"/>)
/// and <c>csv:LABEL:FILE,FILE,...</c> (a user's files, one per domain, with label column LABEL; <see cref="CsvDomains"/>).
/// </summary>
public static class TabularData
{
    /// <summary>The prefix of a user's CSV files.</summary>
    public const string CsvPrefix = "csv:";

    /// <summary>Whether <paramref name="spec"/> names a multi-domain table.</summary>
    public static bool IsTabular(string spec) =>
        VegaDatasets.Names.Contains(spec.ToLowerInvariant()) || spec.StartsWith(CsvPrefix, StringComparison.OrdinalIgnoreCase);

    /// <summary>The table <paramref name="spec"/> names (see the class summary).</summary>
    public static TabularTable Load(string spec, string? cacheDir = null, Action<string>? log = null)
    {
        if (VegaDatasets.Names.Contains(spec.ToLowerInvariant()))
            return VegaDatasets.Load(spec.ToLowerInvariant(), cacheDir ?? DataPaths.DefaultCache(), log);
        if (!spec.StartsWith(CsvPrefix, StringComparison.OrdinalIgnoreCase))
            throw new DataException($"'{spec}' is not a table: give {string.Join(", ", VegaDatasets.Names)} or {CsvPrefix}LABEL:FILE,FILE,...");
        var rest = spec[CsvPrefix.Length..];
        int colon = rest.IndexOf(':');
        if (colon <= 0 || colon == rest.Length - 1)
            throw new DataException($"'{spec}': expected {CsvPrefix}LABEL:FILE,FILE,... (the label column's name, then one CSV file per domain)");
        var files = rest[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return CsvDomains.Load(files, rest[..colon], log);
    }

    /// <summary>The training rows of <paramref name="spec"/>'s split of seed <paramref name="seed"/>, as the trainer's dataset.</summary>
    public static Dataset TrainDataset(string spec, ulong seed, string? cacheDir = null, Action<string>? log = null) =>
        Load(spec, cacheDir, log).Split(seed).TrainDataset();
}
