using System.Globalization;
using CsvHelper;
using NativeGan.Gan.Data;

namespace NativeGan.Gan.Tabular;

/// <summary>One data row of a CSV file, its cells by header name, with the line it starts on for messages.</summary>
public sealed class CsvRecord
{
    readonly Dictionary<string, string> cells;

    internal CsvRecord(string path, long line, Dictionary<string, string> cells)
    {
        Path = path;
        Line = line;
        this.cells = cells;
    }

    /// <summary>The file.</summary>
    public string Path { get; }
    /// <summary>The line the row starts on (1 is the header).</summary>
    public long Line { get; }

    /// <summary>The cell of <paramref name="column"/>, trimmed ("" when empty).</summary>
    public string Get(string column) => cells.TryGetValue(column, out var v) ? v : throw new DataException($"{Path} line {Line}: no column '{column}'");

    /// <summary>The cell of <paramref name="column"/> as a number (invariant culture), null when empty; text is refused naming the file, line and column.</summary>
    public double? Number(string column)
    {
        var text = Get(column);
        if (text.Length == 0) return null;
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) && double.IsFinite(v)) return v;
        throw new DataException($"{Path} line {Line}: column '{column}' is numeric but holds '{text}'");
    }
}

/// <summary>
/// A user's own domains: one CSV file per domain (the domain is named by the file), a header line, and a binary label
/// column named by the user, read with CsvHelper. Every other column is a feature of the domains whose files have it, so
/// files with different columns make RadialGAN's feature mismatch. A column is numeric when most of its non-empty cells,
/// over all files, are numbers (invariant culture: a '.' decimal point); then a cell holding text is an error naming the
/// file, the line and the column. Other columns are categorical (one-hot). An empty cell is a missing value: its row is
/// dropped and reported, never imputed. The label takes exactly two values: 1/0, true/false or yes/no (the first is
/// positive), or any two texts (the later in ordinal order is positive; the log says which).
/// </summary>
public static class CsvDomains
{
    /// <summary>The table of <paramref name="files"/> with label column <paramref name="labelColumn"/>; <paramref name="log"/> hears what was dropped and which label is positive.</summary>
    public static TabularTable Load(IReadOnlyList<string> files, string labelColumn, Action<string>? log = null)
    {
        if (files.Count < 2) throw new DataException($"csv: RadialGAN needs one file per domain and at least 2 domains, got {files.Count} file(s)");
        var names = files.Select(f => System.IO.Path.GetFileNameWithoutExtension(f)).ToArray();
        if (names.Distinct(StringComparer.Ordinal).Count() != names.Length)
            throw new DataException($"csv: two files name the same domain ({string.Join(", ", files)}); domains are named by file name");
        var perFile = new List<(string Path, string[] Header, List<CsvRecord> Records)>();
        foreach (var file in files)
        {
            var header = ReadHeader(file);
            if (!header.Contains(labelColumn))
                throw new DataException($"{file} line 1: no label column '{labelColumn}' in the header (columns: {string.Join(", ", header)})");
            var records = ReadRecords(file).ToList();
            if (records.Count == 0) throw new DataException($"{file}: no data rows after the header line");
            perFile.Add((file, header, records));
        }

        // The columns: the union of the headers (first seen first), the label excluded.
        var columnNames = perFile.SelectMany(f => f.Header).Where(c => c != labelColumn).Distinct(StringComparer.Ordinal).ToList();
        var kinds = columnNames.Select(c =>
        {
            var values = perFile.Where(f => f.Header.Contains(c)).SelectMany(f => f.Records).Select(r => r.Get(c)).Where(v => v.Length > 0).ToList();
            int numbers = values.Count(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out _));
            return values.Count > 0 && 2 * numbers > values.Count ? ColumnKind.Numeric : ColumnKind.Categorical;
        }).ToArray();

        var labelValues = new List<string>();
        foreach (var (path, _, records) in perFile)
            foreach (var r in records)
            {
                var v = r.Get(labelColumn);
                if (v.Length == 0 || labelValues.Contains(v)) continue;
                if (labelValues.Count == 2)
                    throw new DataException($"{path} line {r.Line}: label column '{labelColumn}' holds a third value '{v}' (after '{labelValues[0]}' and '{labelValues[1]}'); the label must be binary");
                labelValues.Add(v);
            }
        if (labelValues.Count < 2) throw new DataException($"csv: label column '{labelColumn}' holds {labelValues.Count} distinct value(s) over all files; it must hold two");
        string positive = Positive(labelValues);
        log?.Invoke($"csv: label '{labelColumn}': '{positive}' is the positive class, '{labelValues.First(v => v != positive)}' the negative");

        var rows = new List<TabularRow>();
        var unlabelled = new List<string>();
        for (int d = 0; d < perFile.Count; d++)
        {
            var (path, header, records) = perFile[d];
            foreach (var r in records)
            {
                var cells = new object?[columnNames.Count];
                for (int c = 0; c < columnNames.Count; c++)
                {
                    if (!header.Contains(columnNames[c])) continue;
                    if (kinds[c] == ColumnKind.Numeric) cells[c] = r.Number(columnNames[c]);
                    else if (r.Get(columnNames[c]) is { Length: > 0 } text) cells[c] = text;
                }
                string label = r.Get(labelColumn);
                string where = $"{System.IO.Path.GetFileName(path)} line {r.Line}";
                if (label.Length == 0) unlabelled.Add(where); // a missing label is a missing value: dropped, reported
                else rows.Add(new TabularRow(d, label == positive, cells, where));
            }
        }
        if (unlabelled.Count > 0)
            log?.Invoke($"csv: dropped {unlabelled.Count} row(s) without a label: {string.Join(", ", unlabelled.Take(5))}{(unlabelled.Count > 5 ? ", ..." : "")}");
        var domainColumns = perFile.Select(f => columnNames.Select(c => f.Header.Contains(c)).ToArray()).ToArray();
        return TabularTable.Build($"csv ({string.Join(", ", files.Select(System.IO.Path.GetFileName))}; label {labelColumn})",
            [.. columnNames.Select((c, i) => new TabularColumn(c, kinds[i]))], names, domainColumns, rows, log);
    }

    static string Positive(List<string> values)
    {
        foreach (var (yes, no) in new[] { ("1", "0"), ("true", "false"), ("yes", "no") })
        {
            var p = values.FirstOrDefault(v => v.Equals(yes, StringComparison.OrdinalIgnoreCase));
            if (p is not null && values.Any(v => v.Equals(no, StringComparison.OrdinalIgnoreCase))) return p;
        }
        return values.Max(StringComparer.Ordinal)!;
    }

    static CsvReader Open(string path) => CsvReader.FromFile(path, new CsvReaderOptions
    {
        HasHeader = false, // the header is read as a row: an empty file and a bad header get their own messages
        Separator = ',',
        TrimWhitespace = true,
        TrackLineNumbers = true,
        FieldCountMismatch = CsvFieldCountHandling.Allow, // checked here, to name the file, line and counts
        MalformedData = CsvMalformedDataHandling.Throw,
    }, FileOptions.None);

    static string[] Fields(CsvReader csv) => [.. Enumerable.Range(0, csv.FieldCount).Select(i => csv.GetString(i).Trim())];

    /// <summary>The header of <paramref name="path"/>; an empty file, or one whose header has an empty or repeated name, is refused naming the file.</summary>
    public static string[] ReadHeader(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: no such file");
        try
        {
            using var csv = Open(path);
            if (!csv.Read()) throw new DataException($"{path}: the file is empty (a CSV file needs a header line naming its columns)");
            var header = Fields(csv);
            if (header.All(h => h.Length == 0)) throw new DataException($"{path} line {csv.LineNumber}: the header line is blank");
            if (Array.IndexOf(header, "") is >= 0 and var blank)
                throw new DataException($"{path} line {csv.LineNumber}: column {blank + 1} of the header has no name");
            if (header.GroupBy(h => h).FirstOrDefault(g => g.Count() > 1) is { } twice)
                throw new DataException($"{path} line {csv.LineNumber}: column '{twice.Key}' is named twice in the header");
            return header;
        }
        catch (CsvFormatException e) { throw Malformed(path, e); }
    }

    /// <summary>The data rows of <paramref name="path"/> by header name; a row with a different number of fields than the header is refused naming the file and line.</summary>
    public static IEnumerable<CsvRecord> ReadRecords(string path)
    {
        var header = ReadHeader(path);
        using var csv = Open(path);
        bool first = true;
        while (true)
        {
            string[] fields;
            long line;
            try
            {
                if (!csv.Read()) yield break;
                line = csv.LineNumber;
                fields = Fields(csv);
            }
            catch (CsvFormatException e) { throw Malformed(path, e); }
            if (first) { first = false; continue; } // the header
            if (fields.Length != header.Length)
                throw new DataException($"{path} line {line}: {fields.Length} field(s), but the header names {header.Length} columns");
            var cells = new Dictionary<string, string>(StringComparer.Ordinal);
            for (int i = 0; i < header.Length; i++) cells[header[i]] = fields[i];
            yield return new CsvRecord(path, line, cells);
        }
    }

    static DataException Malformed(string path, CsvFormatException e) => new($"{path} line {e.LineNumber}: malformed CSV: {e.Message}", e);
}
