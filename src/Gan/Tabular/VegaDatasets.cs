using System.Formats.Tar;
using System.Globalization;
using System.IO.Compression;
using System.Text.Json;
using NativeGan.Gan.Data;

namespace NativeGan.Gan.Tabular;

/// <summary>
/// Three real tables of the npm package <c>vega-datasets@3.2.1</c> (BSD-3-Clause; the data sets' own sources are named in
/// its README), each split into domains by a column, with a binary label and a different feature set per domain (the
/// feature mismatch RadialGAN handles). Which features each domain lacks is a fixed choice of ours, the same in every run:
/// <list type="table">
/// <item><term>cars</term><description><c>data/cars.json</c>, 406 cars, domains by Origin (USA, Europe, Japan); label:
/// Miles_per_Gallon &gt;= 28; features Cylinders, Displacement, Horsepower, Weight_in_lbs, Acceleration, Year; USA lacks
/// Acceleration, Europe lacks Displacement, Japan lacks Horsepower.</description></item>
/// <item><term>penguins</term><description><c>data/penguins.json</c>, 344 penguins, domains by Island (Biscoe, Dream,
/// Torgersen); label: Sex is MALE; features Species (one-hot), Beak Length, Beak Depth, Flipper Length, Body Mass; Biscoe
/// lacks Flipper Length, Dream lacks Body Mass, Torgersen lacks Beak Depth. A Sex of "." is malformed: the row is dropped
/// and reported.</description></item>
/// <item><term>weather</term><description><c>data/weather.csv</c>, 2,922 days, domains by location (New York, Seattle); label:
/// precipitation &gt; 0 (a wet day); features temp_max, temp_min, wind, and the season as sin and cos of the day of the year;
/// New York lacks temp_min, Seattle lacks wind.</description></item>
/// </list>
/// The package is fetched once with <c>npm pack</c> into the cache (as <see cref="MnistNpm"/> does) and the three files are
/// extracted beside it.
/// </summary>
public static class VegaDatasets
{
    /// <summary>The npm package.</summary>
    public const string Package = "vega-datasets@3.2.1";
    const string Tarball = "vega-datasets-3.2.1.tgz";
    const string Folder = "vega-datasets-3.2.1";
    static readonly string[] Files = ["cars.json", "penguins.json", "weather.csv"];

    /// <summary>The names <c>--data</c> takes.</summary>
    public static readonly string[] Names = ["cars", "penguins", "weather"];

    /// <summary>The table <paramref name="name"/> (cars, penguins or weather), fetching the package first if the cache lacks it.</summary>
    public static TabularTable Load(string name, string cacheDir, Action<string>? log = null, string npm = "npm")
    {
        var dir = Ensure(cacheDir, log, npm);
        return name switch
        {
            "cars" => Cars(Path.Combine(dir, "cars.json"), log),
            "penguins" => Penguins(Path.Combine(dir, "penguins.json"), log),
            "weather" => Weather(Path.Combine(dir, "weather.csv"), log),
            _ => throw new DataException($"unknown vega-datasets table '{name}'; known: {string.Join(", ", Names)}"),
        };
    }

    /// <summary>The folder in <paramref name="cacheDir"/> holding the three files: used when present, else extracted from the
    /// package's tarball, fetched first with <c>npm pack</c> when that is missing too.</summary>
    public static string Ensure(string cacheDir, Action<string>? log = null, string npm = "npm")
    {
        log ??= _ => { };
        var dir = Path.Combine(cacheDir, Folder);
        bool Present() => Files.All(f => File.Exists(Path.Combine(dir, f)));
        if (Present()) return dir;
        Directory.CreateDirectory(cacheDir);
        using var cacheLock = DataPaths.LockCache(cacheDir, log);
        if (Present()) return dir;
        var tarball = Path.Combine(cacheDir, Tarball);
        if (!File.Exists(tarball))
        {
            log($"tabular data: fetching the npm package {Package} (cars, penguins, weather; BSD-3-Clause) with npm pack into {cacheDir}");
            MnistNpm.NpmPack(cacheDir, npm, Package, "The tabular data (cars, penguins, weather)",
                "pass --data csv:LABEL:FILE,FILE,... with your own CSV files (one per domain)");
            if (!File.Exists(tarball)) throw new DataException($"npm pack {Package} ran but {tarball} is not there");
        }
        try
        {
            Directory.CreateDirectory(dir);
            using var file = File.OpenRead(tarball);
            using var gz = new GZipStream(file, CompressionMode.Decompress);
            using var tar = new TarReader(gz);
            while (tar.GetNextEntry() is { } entry)
            {
                var name = entry.Name.Replace('\\', '/');
                var leaf = Files.FirstOrDefault(f => name == "package/data/" + f);
                if (leaf is null || entry.DataStream is null) continue;
                var target = Path.Combine(dir, leaf);
                using (var output = File.Create(target + ".partial")) entry.DataStream.CopyTo(output);
                File.Move(target + ".partial", target, overwrite: true);
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or FormatException)
        {
            throw new DataException($"{tarball} is not a readable npm package tarball (.tgz): {e.Message}. Delete it and run again to fetch it anew", e);
        }
        if (!Present()) throw new DataException($"{tarball} lacks one of package/data/{string.Join(", ", Files)} (is it the npm package {Package}?)");
        log($"tabular data: extracted {string.Join(", ", Files)} to {dir}");
        return dir;
    }

    /// <summary>cars.json as a table (see the class summary).</summary>
    public static TabularTable Cars(string path, Action<string>? log = null)
    {
        string[] numbers = ["Cylinders", "Displacement", "Horsepower", "Weight_in_lbs", "Acceleration", "Year"];
        string[] domains = ["USA", "Europe", "Japan"];
        var lacks = new[] { "Acceleration", "Displacement", "Horsepower" };
        var rows = new List<TabularRow>();
        var dropped = new List<string>();
        int index = 0;
        foreach (var car in ReadArray(path))
        {
            index++;
            string where = $"{Path.GetFileName(path)} object {index}";
            int domain = Array.IndexOf(domains, Text(car, "Origin"));
            double? mpg = Number(path, where, car, "Miles_per_Gallon");
            if (domain < 0 || mpg is null) { dropped.Add(where); continue; }
            var cells = numbers.Select(c => c == "Year" ? YearOf(path, where, car) : (object?)Number(path, where, car, c)).ToArray();
            for (int c = 0; c < numbers.Length; c++) if (lacks[domain] == numbers[c]) cells[c] = null; // the domain does not record it
            rows.Add(new TabularRow(domain, mpg >= 28, cells, where));
        }
        Report(log, "cars", "no Origin or no Miles_per_Gallon (the label)", dropped);
        return TabularTable.Build($"cars (npm {Package}, domains by Origin, label Miles_per_Gallon >= 28)",
            [.. numbers.Select(n => new TabularColumn(n, ColumnKind.Numeric))], domains,
            [.. domains.Select((_, d) => numbers.Select(n => n != lacks[d]).ToArray())], rows, log);
    }

    /// <summary>penguins.json as a table (see the class summary).</summary>
    public static TabularTable Penguins(string path, Action<string>? log = null)
    {
        string[] numbers = ["Beak Length (mm)", "Beak Depth (mm)", "Flipper Length (mm)", "Body Mass (g)"];
        string[] domains = ["Biscoe", "Dream", "Torgersen"];
        var lacks = new[] { "Flipper Length (mm)", "Body Mass (g)", "Beak Depth (mm)" };
        var rows = new List<TabularRow>();
        var missing = new List<string>();
        var malformed = new List<string>();
        int index = 0;
        foreach (var bird in ReadArray(path))
        {
            index++;
            string where = $"{Path.GetFileName(path)} object {index}";
            int domain = Array.IndexOf(domains, Text(bird, "Island"));
            string? sex = Text(bird, "Sex");
            if (domain < 0 || sex is null) { missing.Add(where); continue; }
            if (sex is not ("MALE" or "FEMALE")) { malformed.Add($"{where} (Sex '{sex}')"); continue; }
            var cells = new object?[numbers.Length + 1];
            cells[0] = Text(bird, "Species");
            for (int c = 0; c < numbers.Length; c++) cells[c + 1] = numbers[c] == lacks[domain] ? null : Number(path, where, bird, numbers[c]);
            rows.Add(new TabularRow(domain, sex == "MALE", cells, where));
        }
        Report(log, "penguins", "no Island or no Sex (the label)", missing);
        Report(log, "penguins", "a malformed Sex", malformed);
        TabularColumn[] columns = [new("Species", ColumnKind.Categorical), .. numbers.Select(n => new TabularColumn(n, ColumnKind.Numeric))];
        return TabularTable.Build($"penguins (npm {Package}, domains by Island, label Sex = MALE)", columns, domains,
            [.. domains.Select((_, d) => columns.Select(c => c.Name != lacks[d]).ToArray())], rows, log);
    }

    /// <summary>weather.csv as a table (see the class summary), read with <see cref="CsvDomains"/>'s reader.</summary>
    public static TabularTable Weather(string path, Action<string>? log = null)
    {
        string[] domains = ["New York", "Seattle"];
        string[] columns = ["temp_max", "temp_min", "wind", "season_sin", "season_cos"];
        var lacks = new[] { "temp_min", "wind" };
        var rows = new List<TabularRow>();
        foreach (var record in CsvDomains.ReadRecords(path))
        {
            string where = $"{Path.GetFileName(path)} line {record.Line}";
            int domain = Array.IndexOf(domains, record.Get("location"));
            if (domain < 0) throw new DataException($"{path} line {record.Line}: location '{record.Get("location")}' is neither {string.Join(" nor ", domains)}");
            double? rain = record.Number("precipitation");
            if (rain is null) continue;
            if (!DateTime.TryParseExact(record.Get("date"), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date))
                throw new DataException($"{path} line {record.Line}: date '{record.Get("date")}' is not yyyy-MM-dd");
            double angle = 2 * Math.PI * (date.DayOfYear - 1) / 365.25;
            object?[] cells = [record.Number("temp_max"), record.Number("temp_min"), record.Number("wind"), Math.Sin(angle), Math.Cos(angle)];
            for (int c = 0; c < columns.Length; c++) if (columns[c] == lacks[domain]) cells[c] = null;
            rows.Add(new TabularRow(domain, rain > 0, cells, where));
        }
        return TabularTable.Build($"weather (npm {Package}, domains by location, label precipitation > 0)",
            [.. columns.Select(n => new TabularColumn(n, ColumnKind.Numeric))], domains,
            [.. domains.Select((_, d) => columns.Select(c => c != lacks[d]).ToArray())], rows, log);
    }

    static void Report(Action<string>? log, string table, string why, List<string> rows)
    {
        if (rows.Count > 0) log?.Invoke($"{table}: dropped {rows.Count} row(s) with {why}: {string.Join(", ", rows.Take(5))}{(rows.Count > 5 ? ", ..." : "")}");
    }

    static List<JsonElement> ReadArray(string path)
    {
        try
        {
            using var doc = JsonDocument.Parse(File.ReadAllBytes(path));
            if (doc.RootElement.ValueKind != JsonValueKind.Array) throw new DataException($"{path}: expected a JSON array of objects");
            return [.. doc.RootElement.EnumerateArray().Select(e => e.Clone())];
        }
        catch (JsonException e) { throw new DataException($"{path} is not valid JSON: {e.Message}", e); }
    }

    static string? Text(JsonElement o, string key) =>
        o.ValueKind == JsonValueKind.Object && o.TryGetProperty(key, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    static double? Number(string path, string where, JsonElement o, string key)
    {
        if (!o.TryGetProperty(key, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.Number) throw new DataException($"{path}: {where}: {key} is {v.GetRawText()}, not a number");
        return v.GetDouble();
    }

    static object? YearOf(string path, string where, JsonElement o)
    {
        var text = Text(o, "Year");
        if (text is null) return null;
        if (text.Length < 4 || !int.TryParse(text[..4], NumberStyles.None, CultureInfo.InvariantCulture, out int year))
            throw new DataException($"{path}: {where}: Year '{text}' does not start with a year");
        return (double)year;
    }
}
