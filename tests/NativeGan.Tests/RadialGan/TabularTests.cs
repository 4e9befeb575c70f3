using NativeGan.Gan.Data;
using NativeGan.Gan.Tabular;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.RadialGan;

/// <summary>
/// Multi-domain tables on a crafted set: the encoded features and each domain's feature mask, rows with missing values
/// dropped and reported, the stratified 64/16/20 split, the per-domain standardisation against statistics computed here
/// from the raw rows, and the trainer's dataset.
/// </summary>
public class TabularTests
{
    /// <summary>Two domains: "small" records a and c, "large" records a, b and c; c is categorical (u, v). Labels alternate,
    /// a and b vary, so every statistic is distinct. Row 3 of "large" misses b (dropped); row 1 of "small" misses b, which
    /// "small" does not record (kept).</summary>
    internal static TabularTable Crafted(Action<string>? log = null)
    {
        var rows = new List<TabularRow>();
        for (int i = 0; i < 30; i++)
            rows.Add(new TabularRow(0, i % 2 == 0, [1.5 + i * 0.25 + (i % 3), null, i % 4 == 0 ? "v" : "u"], $"small row {i}"));
        for (int i = 0; i < 50; i++)
            rows.Add(new TabularRow(1, i % 3 == 0, [10.0 - i * 0.5, i == 3 ? null : 100.0 + i * i, i % 5 == 0 ? "u" : "v"], $"large row {i}"));
        return TabularTable.Build("crafted", [new("a", ColumnKind.Numeric), new("b", ColumnKind.Numeric), new("c", ColumnKind.Categorical)],
            ["small", "large"], [[true, false, true], [true, true, true]], rows, log);
    }

    [Fact]
    public void Features_are_the_union_with_one_hot_categories_and_each_domain_has_its_mask()
    {
        var log = new List<string>();
        var table = Crafted(log.Add);
        var layout = table.Layout;
        Assert.Equal(["a", "b", "c=u", "c=v"], layout.FeatureNames);
        Assert.Equal([true, true, false, false], layout.Numeric);
        Assert.Equal([0, 2, 3], layout.FeaturesOf(0));
        Assert.Equal([0, 1, 2, 3], layout.FeaturesOf(1));
        Assert.Equal([0, 2, 3], layout.SharedFeatures);
        Assert.Equal([1, 0, 1, 1, 1, 1, 1, 1], layout.MaskBits());
        // One row dropped, reported by where it was; the small domain's missing b is not a missing value.
        Assert.Equal(79, table.Rows.Count);
        Assert.Equal(30, table.CountOf(0));
        Assert.Single(log, l => l.Contains("dropped 1 row") && l.Contains("large row 3"));
        // Raw encoding: large row 4 is a = 8, b = 116, c = v; the small rows hold 0 where b would be.
        int row = Enumerable.Range(0, table.Rows.Count).Single(i => table.Domains[i] == 1 && table.Rows[i][0] == 8f);
        Assert.Equal([8f, 116f, 0f, 1f], table.Rows[row]);
        Assert.All(Enumerable.Range(0, 30), i => Assert.Equal(0f, table.Rows[i][1]));
    }

    [Fact]
    public void A_domain_without_both_labels_is_refused_naming_it()
    {
        var rows = Enumerable.Range(0, 20).Select(i => new TabularRow(i % 2, i % 2 == 0 || i < 4, [(object?)(double)i], $"row {i}")).ToList();
        var e = Assert.Throws<DataException>(() => TabularTable.Build("t", [new("a", ColumnKind.Numeric)], ["d0", "d1"], [[true], [true]], rows));
        Assert.Contains("'d0'", e.Message);
        Assert.Contains("0 negative", e.Message);
    }

    [Fact]
    public void The_split_is_stratified_64_16_20_disjoint_and_fixed_by_its_seed()
    {
        var table = Crafted();
        var split = table.Split(7);
        for (int d = 0; d < 2; d++)
        {
            var parts = Enum.GetValues<SplitPart>().Select(p => split.RowsOf(d, p)).ToList();
            var all = parts.SelectMany(p => p).ToList();
            Assert.Equal(all.Count, all.Distinct().Count());
            Assert.Equal(table.CountOf(d), all.Count);
            Assert.All(all, i => Assert.Equal(d, table.Domains[i]));
            foreach (bool label in new[] { false, true })
            {
                int n = Enumerable.Range(0, table.Rows.Count).Count(i => table.Domains[i] == d && table.Labels[i] == label);
                int train = parts[0].Count(i => table.Labels[i] == label), validation = parts[1].Count(i => table.Labels[i] == label);
                Assert.Equal((int)Math.Round(n * 0.64, MidpointRounding.AwayFromZero), train);
                Assert.Equal((int)Math.Round(n * 0.16, MidpointRounding.AwayFromZero), validation);
            }
        }
        Assert.Equal(split.RowsOf(1, SplitPart.Test), table.Split(7).RowsOf(1, SplitPart.Test));
        Assert.NotEqual(split.RowsOf(1, SplitPart.Test), table.Split(8).RowsOf(1, SplitPart.Test));
    }

    [Fact]
    public void Numbers_are_standardised_per_domain_with_the_training_rows_statistics_and_one_hot_kept()
    {
        var table = Crafted();
        var split = table.Split(3);
        for (int d = 0; d < 2; d++)
        {
            var features = table.Layout.FeaturesOf(d);
            var trainRows = split.RowsOf(d, SplitPart.Train);
            foreach (var part in Enum.GetValues<SplitPart>())
            {
                var samples = split.Part(d, part);
                var rows = split.RowsOf(d, part);
                Assert.Equal(features.Length, samples.Width);
                for (int k = 0; k < features.Length; k++)
                {
                    int f = features[k];
                    // The statistics, from the raw rows of this domain's training part (population standard deviation).
                    double mean = trainRows.Average(i => (double)table.Rows[i][f]);
                    double std = Math.Sqrt(trainRows.Average(i => Math.Pow(table.Rows[i][f] - mean, 2)));
                    for (int r = 0; r < rows.Count; r++)
                    {
                        double raw = table.Rows[rows[r]][f];
                        double expected = table.Layout.Numeric[f] ? (raw - mean) / std : raw;
                        Assert.Equal(expected, samples.X[r * features.Length + k], 4);
                    }
                }
                for (int r = 0; r < rows.Count; r++) Assert.Equal(table.Labels[rows[r]] ? 1f : 0f, samples.Y[r]);
            }
            // On the training part itself: mean 0 and standard deviation 1 for each number.
            var train = split.Part(d, SplitPart.Train);
            for (int k = 0; k < features.Length; k++)
            {
                if (!table.Layout.Numeric[features[k]]) continue;
                var column = Enumerable.Range(0, train.Count).Select(r => (double)train.X[r * train.Width + k]).ToList();
                Assert.Equal(0, column.Average(), 4);
                Assert.Equal(1, Math.Sqrt(column.Average(v => v * v)), 4);
            }
        }
        // The statistics differ per domain: feature a's mean in "small" is not its mean in "large".
        Assert.NotEqual(split.Standardiser(0, 0).Mean, split.Standardiser(1, 0).Mean);
    }

    [Fact]
    public void A_small_target_keeps_about_n_training_rows_of_both_labels_and_the_same_validation_and_test_rows()
    {
        var table = Crafted();
        var full = table.Split(6);
        var small = table.Split(6, 1, 10);
        Assert.Equal(1, small.LimitedDomain);
        var kept = small.RowsOf(1, SplitPart.Train);
        Assert.InRange(kept.Count, 9, 11);
        Assert.Contains(kept, i => table.Labels[i]);
        Assert.Contains(kept, i => !table.Labels[i]);
        Assert.All(kept, i => Assert.Contains(i, full.RowsOf(1, SplitPart.Train)));
        foreach (var part in new[] { SplitPart.Validation, SplitPart.Test })
            Assert.Equal(full.RowsOf(1, part), small.RowsOf(1, part));
        foreach (var part in Enum.GetValues<SplitPart>())
            Assert.Equal(full.RowsOf(0, part), small.RowsOf(0, part));
        // Standardised with the rows it keeps: feature a's training mean is 0 again.
        var train = small.Part(1, SplitPart.Train);
        Assert.Equal(0, Enumerable.Range(0, train.Count).Average(r => (double)train.X[r * train.Width]), 4);
        Assert.NotEqual(full.Standardiser(1, 0).Mean, small.Standardiser(1, 0).Mean);
    }

    [Fact]
    public void The_trainers_dataset_is_the_union_with_zeros_where_a_domain_lacks_a_feature_then_the_label()
    {
        var table = Crafted();
        var split = table.Split(5);
        var data = split.TrainDataset();
        Assert.Equal([5], data.SampleShape); // 4 features + the label
        Assert.Equal(2, data.ClassCount);
        Assert.Same(table.Layout, data.Tabular);
        Assert.Equal(split.RowsOf(0, SplitPart.Train).Count + split.RowsOf(1, SplitPart.Train).Count, data.Count);
        var small = split.Part(0, SplitPart.Train);
        int k = 0;
        for (int n = 0; n < data.Count; n++)
        {
            if (data.Labels![n] != 0) continue;
            Assert.Equal(0f, data.Data[n * 5 + 1]); // small has no b
            Assert.Equal(small.X[k * 3], data.Data[n * 5 + 0]);
            Assert.Equal(small.X[k * 3 + 1], data.Data[n * 5 + 2]);
            Assert.Equal(small.Y[k], data.Data[n * 5 + 4]);
            k++;
        }
        Assert.Equal(small.Count, k);
    }

    [Fact]
    public void The_vega_tables_when_cached_have_their_domains_and_feature_mismatch()
    {
        var cache = DataPaths.DefaultCache();
        if (!File.Exists(Path.Combine(cache, "vega-datasets-3.2.1", "cars.json")))
            Assert.Skip($"vega-datasets is not in {cache} (run `nativegan eval radialgan --data cars` once)");
        var log = new List<string>();
        var cars = VegaDatasets.Load("cars", cache, log.Add);
        Assert.Equal(["USA", "Europe", "Japan"], cars.Layout.DomainNames);
        Assert.Equal(392, cars.Rows.Count); // 406 less 8 without MPG and 6 without a Horsepower their domain records
        Assert.Equal(3, cars.Layout.SharedFeatures.Length);
        var penguins = VegaDatasets.Load("penguins", cache, log.Add);
        Assert.Contains(log, l => l.Contains("malformed Sex") && l.Contains("'.'"));
        Assert.Equal(3, penguins.Layout.DomainCount);
        var weather = VegaDatasets.Load("weather", cache, log.Add);
        Assert.Equal(2922, weather.Rows.Count);
        Assert.Equal(["New York", "Seattle"], weather.Layout.DomainNames);
    }

    [Fact]
    public void Without_npm_the_tables_say_what_to_install_or_pass()
    {
        using var dir = new TempDir();
        var e = Assert.Throws<DataException>(() => VegaDatasets.Ensure(dir.Path, null, npm: "nativegan-no-such-npm"));
        Assert.Contains("apt-get install npm", e.Message);
        Assert.Contains("csv:LABEL", e.Message);
    }
}
