using NativeGan.Gan.Data;

namespace NativeGan.Gan.Tabular;

/// <summary>How a raw column becomes features: a number (one feature, standardised per domain) or a category (one-hot).</summary>
public enum ColumnKind
{
    /// <summary>One feature, standardised per domain with its training split's mean and standard deviation.</summary>
    Numeric,
    /// <summary>One 0/1 feature per value seen in the table (values in ordinal order).</summary>
    Categorical,
}

/// <summary>One raw column of a table.</summary>
public sealed record TabularColumn(string Name, ColumnKind Kind);

/// <summary>
/// One raw row: its domain (index into the table's domain names), its binary label, its cells (a double for a numeric column,
/// a string for a categorical one, null where the value is missing or the row's domain does not record the column) and
/// where it came from ("cars.json row 33", "site-a.csv line 14"), for messages.
/// </summary>
public sealed record TabularRow(int Domain, bool Label, object?[] Cells, string Where);

/// <summary>
/// The encoded features of a multi-domain table: their names ("Horsepower", "Species=Adelie"), which are numeric, and
/// which each domain records (its feature set; RadialGAN's feature mismatch). A domain's own samples hold its features in
/// the order of <see cref="FeaturesOf"/>.
/// </summary>
/// <param name="DomainNames">The domains, by index.</param>
/// <param name="FeatureNames">Every encoded feature of any domain (the union).</param>
/// <param name="Numeric">Per feature: numeric (standardised) or a one-hot indicator.</param>
/// <param name="DomainFeatures">[domain][feature]: whether the domain records the feature.</param>
public sealed record TabularLayout(string[] DomainNames, string[] FeatureNames, bool[] Numeric, bool[][] DomainFeatures)
{
    /// <summary>The number of domains.</summary>
    public int DomainCount => DomainNames.Length;

    /// <summary>The number of features of the union.</summary>
    public int FeatureCount => FeatureNames.Length;

    /// <summary>The union indices of <paramref name="domain"/>'s features, in order.</summary>
    public int[] FeaturesOf(int domain) => [.. Enumerable.Range(0, FeatureCount).Where(f => DomainFeatures[domain][f])];

    /// <summary>The features every domain records (what simple pooling can use).</summary>
    public int[] SharedFeatures => [.. Enumerable.Range(0, FeatureCount).Where(f => DomainFeatures.All(d => d[f]))];

    /// <summary>The feature masks as 0/1, domain after domain (RadialGAN's <c>feature_mask</c> setting).</summary>
    public int[] MaskBits() => [.. DomainFeatures.SelectMany(d => d.Select(b => b ? 1 : 0))];
}

/// <summary>
/// A table split into domains, each with its own feature set and a binary label: the data RadialGAN translates between.
/// Built once from raw rows (<see cref="Build"/>): rows missing a value their domain records are dropped and reported
/// (never imputed), categorical columns become one-hot features, numbers are kept raw until a split standardises them
/// with its own training rows (<see cref="Split(ulong)"/>).
/// </summary>
public sealed class TabularTable
{
    TabularTable(string name, TabularLayout layout, float[][] rows, int[] domains, bool[] labels)
    {
        Name = name;
        Layout = layout;
        Rows = rows;
        Domains = domains;
        Labels = labels;
    }

    /// <summary>What the table is, for messages and checkpoints ("cars (npm vega-datasets@3.2.1), domains by Origin").</summary>
    public string Name { get; }
    /// <summary>The features and the domains' feature sets.</summary>
    public TabularLayout Layout { get; }
    /// <summary>Per row: the union's features, raw (numbers unstandardised; features the row's domain lacks are 0).</summary>
    public IReadOnlyList<float[]> Rows { get; }
    /// <summary>Per row: its domain.</summary>
    public IReadOnlyList<int> Domains { get; }
    /// <summary>Per row: its binary label.</summary>
    public IReadOnlyList<bool> Labels { get; }

    /// <summary>The rows of <paramref name="domain"/>.</summary>
    public int CountOf(int domain) => Domains.Count(d => d == domain);

    /// <summary>
    /// Encodes raw rows. <paramref name="domainColumns"/>[d][c] says whether domain d records column c; a row missing a value
    /// its domain records is dropped and reported through <paramref name="log"/> (how many, and where the first ones were).
    /// Throws a <see cref="DataException"/> naming the table when a domain is left without rows of both labels.
    /// </summary>
    public static TabularTable Build(string name, IReadOnlyList<TabularColumn> columns, string[] domainNames, bool[][] domainColumns,
        IReadOnlyList<TabularRow> rows, Action<string>? log = null)
    {
        if (domainNames.Length < 2) throw new DataException($"{name}: RadialGAN needs at least 2 domains, got {domainNames.Length}");
        if (domainColumns.Length != domainNames.Length || domainColumns.Any(d => d.Length != columns.Count))
            throw new ArgumentException($"{name}: domainColumns must be [{domainNames.Length}][{columns.Count}]");
        var kept = new List<TabularRow>();
        var dropped = new List<string>();
        foreach (var row in rows)
        {
            if (row.Cells.Length != columns.Count) throw new ArgumentException($"{name}: {row.Where} has {row.Cells.Length} cells for {columns.Count} columns");
            bool complete = true;
            for (int c = 0; c < columns.Count; c++)
                if (domainColumns[row.Domain][c] && row.Cells[c] is null) complete = false;
            if (complete) kept.Add(row);
            else dropped.Add(row.Where);
        }
        if (dropped.Count > 0)
            log?.Invoke($"{name}: dropped {dropped.Count} row(s) missing a value their domain records (not imputed): {string.Join(", ", dropped.Take(5))}{(dropped.Count > 5 ? ", ..." : "")}");

        // Features: a numeric column is one, a categorical one is one per value seen in the rows kept (ordinal order).
        var featureNames = new List<string>();
        var numeric = new List<bool>();
        var featureColumn = new List<int>();
        var categoryFeature = new Dictionary<(int Column, string Value), int>();
        for (int c = 0; c < columns.Count; c++)
        {
            if (columns[c].Kind == ColumnKind.Numeric)
            {
                featureColumn.Add(c);
                featureNames.Add(columns[c].Name);
                numeric.Add(true);
                continue;
            }
            var values = kept.Where(r => r.Cells[c] is string).Select(r => (string)r.Cells[c]!).Distinct().Order(StringComparer.Ordinal);
            foreach (var v in values)
            {
                categoryFeature[(c, v)] = featureNames.Count;
                featureColumn.Add(c);
                featureNames.Add($"{columns[c].Name}={v}");
                numeric.Add(false);
            }
        }
        var domainFeatures = domainColumns.Select(dc => featureColumn.Select(c => dc[c]).ToArray()).ToArray();
        var layout = new TabularLayout(domainNames, [.. featureNames], [.. numeric], domainFeatures);

        var encoded = new float[kept.Count][];
        for (int i = 0; i < kept.Count; i++)
        {
            var row = kept[i];
            var x = new float[featureNames.Count];
            for (int f = 0; f < featureNames.Count; f++)
            {
                int c = featureColumn[f];
                if (!domainColumns[row.Domain][c]) continue;
                if (numeric[f]) x[f] = (float)(double)row.Cells[c]!;
            }
            for (int c = 0; c < columns.Count; c++)
                if (columns[c].Kind == ColumnKind.Categorical && domainColumns[row.Domain][c])
                    x[categoryFeature[(c, (string)row.Cells[c]!)]] = 1f;
            encoded[i] = x;
        }
        var table = new TabularTable(name, layout, encoded, [.. kept.Select(r => r.Domain)], [.. kept.Select(r => r.Label)]);
        for (int d = 0; d < domainNames.Length; d++)
        {
            int positives = 0, negatives = 0;
            for (int i = 0; i < kept.Count; i++)
                if (kept[i].Domain == d) { if (kept[i].Label) positives++; else negatives++; }
            if (positives < 5 || negatives < 5)
                throw new DataException($"{name}: domain '{domainNames[d]}' has {positives} positive and {negatives} negative rows; the 64/16/20 split needs at least 5 of each");
            if (domainFeatures[d].All(b => !b)) throw new DataException($"{name}: domain '{domainNames[d]}' records no feature");
        }
        return table;
    }

    /// <summary>The 64/16/20 train/validation/test split of repetition <paramref name="seed"/>, standardised per domain (see <see cref="TabularSplit"/>).</summary>
    public TabularSplit Split(ulong seed) => new(this, seed);

    /// <summary>
    /// <see cref="Split(ulong)"/> with domain <paramref name="domain"/>'s training part cut to about <paramref name="trainingRows"/>
    /// rows (the first of each label's, in proportion; at least one of each label), its validation and test parts unchanged:
    /// the paper's small-target setting. The domain's numbers are standardised with the rows it keeps.
    /// </summary>
    public TabularSplit Split(ulong seed, int domain, int trainingRows)
    {
        if (domain < 0 || domain >= Layout.DomainCount) throw new ArgumentOutOfRangeException(nameof(domain), $"{Name}: no domain {domain}");
        if (trainingRows < 2) throw new ArgumentOutOfRangeException(nameof(trainingRows), $"{Name}: a domain needs at least 2 training rows (one of each label), got {trainingRows}");
        return new(this, seed, domain, trainingRows);
    }
}
