using NativeGan.Gan.Data;

namespace NativeGan.Gan.Tabular;

/// <summary>The three parts of a split (RadialGAN's protocol: 64% train, 16% validation, 20% test).</summary>
public enum SplitPart
{
    /// <summary>64%: what RadialGAN and the predictors train on.</summary>
    Train,
    /// <summary>16%: held out for choices made before testing.</summary>
    Validation,
    /// <summary>20%: where AUROC and AUPRC are measured.</summary>
    Test,
}

/// <summary>Samples of one domain: <paramref name="Count"/> rows of <paramref name="Width"/> features (row after row) and their 0/1 labels.</summary>
public sealed record DomainSamples(float[] X, float[] Y, int Count, int Width);

/// <summary>
/// One repetition's split of a <see cref="TabularTable"/>: in each domain and each label, the rows are shuffled by a
/// SplitMix64 stream of (seed, domain, label) and the first 64% (rounded) go to train, the next 16% to validation, the rest
/// to test. Stratifying by label keeps both labels in every part of a small domain, so AUROC is defined on each test split.
/// Numeric features are then standardised per domain with the mean and (population) standard deviation of that domain's
/// training rows only (a constant feature is only centred), so nothing of the validation or test rows leaks into training.
/// </summary>
public sealed class TabularSplit
{
    readonly TabularTable table;
    readonly int[][][] parts; // [domain][part] -> row indices
    readonly double[][] mean, std; // [domain][feature]

    internal TabularSplit(TabularTable table, ulong seed, int limitedDomain = -1, int trainingRows = 0)
    {
        this.table = table;
        Seed = seed;
        LimitedDomain = limitedDomain;
        var layout = table.Layout;
        parts = new int[layout.DomainCount][][];
        mean = new double[layout.DomainCount][];
        std = new double[layout.DomainCount][];
        for (int d = 0; d < layout.DomainCount; d++)
        {
            var train = new List<int>();
            var validation = new List<int>();
            var test = new List<int>();
            foreach (bool label in new[] { false, true })
            {
                var rows = Enumerable.Range(0, table.Rows.Count).Where(i => table.Domains[i] == d && table.Labels[i] == label).ToArray();
                new SplitMix64(SplitMix64.Derive(seed, (ulong)(2 * d + (label ? 1 : 0)))).Shuffle(rows.AsSpan());
                int nTrain = (int)Math.Round(rows.Length * 0.64, MidpointRounding.AwayFromZero);
                int nValidation = (int)Math.Round(rows.Length * 0.16, MidpointRounding.AwayFromZero);
                // A limited domain keeps the first of its training rows, in proportion to each label's share of them
                // (at least one of each); the rest are left out, so its validation and test rows stay the same.
                int kept = d != limitedDomain ? nTrain
                    : Math.Clamp((int)Math.Round((double)trainingRows * nTrain / Math.Max(1, TrainingRowsOf(table, d)), MidpointRounding.AwayFromZero), 1, nTrain);
                train.AddRange(rows[..kept]);
                validation.AddRange(rows[nTrain..(nTrain + nValidation)]);
                test.AddRange(rows[(nTrain + nValidation)..]);
            }
            parts[d] = [[.. train.Order()], [.. validation.Order()], [.. test.Order()]];
            (mean[d], std[d]) = Standardisation(d, parts[d][(int)SplitPart.Train]);
        }
    }

    static int TrainingRowsOf(TabularTable table, int domain) =>
        new[] { false, true }.Sum(label => (int)Math.Round(Enumerable.Range(0, table.Rows.Count).Count(i => table.Domains[i] == domain && table.Labels[i] == label) * 0.64, MidpointRounding.AwayFromZero));

    /// <summary>The domain whose training rows were cut down (<see cref="TabularTable.Split(ulong, int, int)"/>), or -1.</summary>
    public int LimitedDomain { get; }

    /// <summary>The repetition's seed.</summary>
    public ulong Seed { get; }

    /// <summary>The table's features and domains.</summary>
    public TabularLayout Layout => table.Layout;

    /// <summary>The table's name.</summary>
    public string Name => table.Name;

    /// <summary>The table row indices of <paramref name="domain"/>'s <paramref name="part"/>.</summary>
    public IReadOnlyList<int> RowsOf(int domain, SplitPart part) => parts[domain][(int)part];

    /// <summary>The mean and standard deviation <paramref name="domain"/>'s feature <paramref name="feature"/> is standardised
    /// with (0 and 1 for a one-hot feature or one the domain lacks).</summary>
    public (double Mean, double Std) Standardiser(int domain, int feature) => (mean[domain][feature], std[domain][feature]);

    (double[] Mean, double[] Std) Standardisation(int domain, int[] trainRows)
    {
        var layout = table.Layout;
        var m = new double[layout.FeatureCount];
        var s = new double[layout.FeatureCount];
        for (int f = 0; f < layout.FeatureCount; f++)
        {
            s[f] = 1;
            if (!layout.Numeric[f] || !layout.DomainFeatures[domain][f]) continue;
            double sum = 0;
            foreach (int i in trainRows) sum += table.Rows[i][f];
            m[f] = sum / trainRows.Length;
            double squares = 0;
            foreach (int i in trainRows) squares += (table.Rows[i][f] - m[f]) * (table.Rows[i][f] - m[f]);
            double sd = Math.Sqrt(squares / trainRows.Length);
            s[f] = sd > 1e-12 ? sd : 1;
        }
        return (m, s);
    }

    /// <summary>Table row <paramref name="row"/>'s feature <paramref name="feature"/>, standardised with its domain's training statistics.</summary>
    float Value(int row, int feature)
    {
        int d = table.Domains[row];
        return (float)((table.Rows[row][feature] - mean[d][feature]) / std[d][feature]);
    }

    /// <summary><paramref name="domain"/>'s <paramref name="part"/> on its own features (<see cref="TabularLayout.FeaturesOf"/>), standardised.</summary>
    public DomainSamples Part(int domain, SplitPart part) => Columns(domain, part, Layout.FeaturesOf(domain));

    /// <summary><paramref name="domain"/>'s <paramref name="part"/> on the features every domain records (simple pooling's input).</summary>
    public DomainSamples Shared(int domain, SplitPart part) => Columns(domain, part, Layout.SharedFeatures);

    DomainSamples Columns(int domain, SplitPart part, int[] features)
    {
        var rows = parts[domain][(int)part];
        var x = new float[rows.Count() * features.Length];
        var y = new float[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            for (int k = 0; k < features.Length; k++) x[i * features.Length + k] = Value(rows[i], features[k]);
            y[i] = table.Labels[rows[i]] ? 1f : 0f;
        }
        return new DomainSamples(x, y, rows.Length, features.Length);
    }

    /// <summary>
    /// The training rows of every domain as one <see cref="Dataset"/> for the trainer: each sample is the union's features
    /// (standardised; 0 where its domain lacks one) followed by its label (0 or 1); <see cref="Dataset.Labels"/> holds each
    /// sample's domain, and <see cref="Dataset.Tabular"/> the layout.
    /// </summary>
    public Dataset TrainDataset()
    {
        int width = Layout.FeatureCount + 1;
        var rows = Enumerable.Range(0, Layout.DomainCount).SelectMany(d => parts[d][(int)SplitPart.Train]).ToArray();
        var data = new float[rows.Length * width];
        var domains = new int[rows.Length];
        for (int i = 0; i < rows.Length; i++)
        {
            int r = rows[i], d = table.Domains[r];
            for (int f = 0; f < Layout.FeatureCount; f++)
                if (Layout.DomainFeatures[d][f]) data[i * width + f] = Value(r, f);
            data[i * width + width - 1] = table.Labels[r] ? 1f : 0f;
            domains[i] = d;
        }
        return new Dataset($"{Name}, train split of seed {Seed}", data, [width], domains, Layout.DomainCount) { Tabular = Layout };
    }
}
