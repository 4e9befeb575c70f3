using NativeGan.Gan.Data;
using NativeGan.Gan.Tabular;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.RadialGan;

/// <summary>A user's CSV files, one per domain: the union of their columns, the label, and the errors that name the file and line.</summary>
public class CsvDomainsTests
{
    /// <summary>Site A: age, dose, sex, outcome; site B: age, weight, outcome (12 rows each, 6 of each label).</summary>
    static (string A, string B) Sites(TempDir dir)
    {
        var a = new List<string> { "age,dose,sex,outcome" };
        var b = new List<string> { "age,weight,outcome" };
        for (int i = 0; i < 12; i++)
        {
            a.Add($"{30 + i},{1.5 + i * 0.1},{(i % 3 == 0 ? "F" : "M")},{(i % 2 == 0 ? "yes" : "no")}");
            b.Add($"{40 + 2 * i},{60 + i},{(i < 6 ? "yes" : "no")}");
        }
        File.WriteAllLines(dir.File("site-a.csv"), a);
        File.WriteAllLines(dir.File("site-b.csv"), b);
        return (dir.File("site-a.csv"), dir.File("site-b.csv"));
    }

    [Fact]
    public void Files_are_domains_and_their_columns_make_the_feature_sets()
    {
        using var dir = new TempDir();
        var (a, b) = Sites(dir);
        var log = new List<string>();
        var table = CsvDomains.Load([a, b], "outcome", log.Add);
        Assert.Equal(["site-a", "site-b"], table.Layout.DomainNames);
        Assert.Equal(["age", "dose", "sex=F", "sex=M", "weight"], table.Layout.FeatureNames);
        Assert.Equal([1, 1, 1, 1, 0, 1, 0, 0, 0, 1], table.Layout.MaskBits());
        Assert.Contains(log, l => l.Contains("'yes' is the positive class"));
        Assert.Equal(6, Enumerable.Range(0, table.Rows.Count).Count(i => table.Domains[i] == 0 && table.Labels[i]));
        // The same through --data's spelling.
        var viaSpec = TabularData.Load($"csv:outcome:{a},{b}");
        Assert.Equal(table.Layout.FeatureNames, viaSpec.Layout.FeatureNames);
    }

    [Fact]
    public void A_missing_label_column_names_the_file_and_the_header_line()
    {
        using var dir = new TempDir();
        var (a, b) = Sites(dir);
        var e = Assert.Throws<DataException>(() => CsvDomains.Load([a, b], "died"));
        Assert.Contains("site-a.csv line 1", e.Message);
        Assert.Contains("'died'", e.Message);
        Assert.Contains("age, dose, sex, outcome", e.Message);
    }

    [Fact]
    public void Text_in_a_numeric_column_names_the_file_the_line_and_the_column()
    {
        using var dir = new TempDir();
        var (a, b) = Sites(dir);
        var lines = File.ReadAllLines(b);
        lines[4] = "forty-six,63,yes"; // line 5 of the file
        File.WriteAllLines(b, lines);
        var e = Assert.Throws<DataException>(() => CsvDomains.Load([a, b], "outcome"));
        Assert.Contains("site-b.csv line 5", e.Message);
        Assert.Contains("'age'", e.Message);
        Assert.Contains("'forty-six'", e.Message);
    }

    [Fact]
    public void An_empty_file_is_refused_naming_it()
    {
        using var dir = new TempDir();
        var (a, _) = Sites(dir);
        File.WriteAllText(dir.File("site-c.csv"), "");
        var e = Assert.Throws<DataException>(() => CsvDomains.Load([a, dir.File("site-c.csv")], "outcome"));
        Assert.Contains("site-c.csv", e.Message);
        Assert.Contains("empty", e.Message);
        File.WriteAllText(dir.File("site-d.csv"), "age,outcome\n");
        e = Assert.Throws<DataException>(() => CsvDomains.Load([a, dir.File("site-d.csv")], "outcome"));
        Assert.Contains("site-d.csv: no data rows", e.Message);
    }

    [Fact]
    public void Malformed_rows_name_the_file_and_line_and_missing_values_are_dropped_and_reported()
    {
        using var dir = new TempDir();
        var (a, b) = Sites(dir);
        var lines = File.ReadAllLines(b).ToList();
        lines[3] = "44,,yes"; // line 4: no weight
        File.WriteAllLines(b, lines);
        var log = new List<string>();
        var table = CsvDomains.Load([a, b], "outcome", log.Add);
        Assert.Equal(23, table.Rows.Count);
        Assert.Contains(log, l => l.Contains("dropped 1 row") && l.Contains("site-b.csv line 4"));

        lines[6] = "46,63"; // line 7: a field short
        File.WriteAllLines(b, lines);
        var e = Assert.Throws<DataException>(() => CsvDomains.Load([a, b], "outcome"));
        Assert.Contains("site-b.csv line 7", e.Message);
        Assert.Contains("2 field(s)", e.Message);

        lines[6] = "46,63,maybe"; // a third label value
        File.WriteAllLines(b, lines);
        e = Assert.Throws<DataException>(() => CsvDomains.Load([a, b], "outcome"));
        Assert.Contains("site-b.csv line 7", e.Message);
        Assert.Contains("'maybe'", e.Message);

        lines[6] = "46,\"63,yes"; // a quote never closed
        File.WriteAllLines(b, lines);
        e = Assert.Throws<DataException>(() => CsvDomains.Load([a, b], "outcome"));
        Assert.Contains("site-b.csv line 7", e.Message);
    }
}
