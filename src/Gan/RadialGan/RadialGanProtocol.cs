using System.Diagnostics;
using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Tabular;
using NativeGan.Gan.Training;

namespace NativeGan.Gan.RadialGan;

/// <summary>The predictors the protocol compares on each target domain's test split.</summary>
public enum Predictor
{
    /// <summary>Logistic regression on the target domain's own training rows.</summary>
    TargetOnly,
    /// <summary>The same on the target's rows and every other domain's training rows translated into the target by RadialGAN.</summary>
    RadialGan,
    /// <summary>Simple pooling: every domain's training rows on the features all domains share.</summary>
    Pooled,
    /// <summary>TargetOnly or RadialGan, whichever has the higher AUROC on the target's validation split.</summary>
    ValidationChoice,
    /// <summary>The paper's pairwise baseline: the target's rows and every other domain's translated into it by a cycle-GAN trained
    /// on that pair of domains alone (<see cref="CycleGanPairs"/>), joined as <see cref="ProtocolSettings.Augmentation"/> says.</summary>
    CycleGan,
    /// <summary>A diagnostic: the translated rows alone (how much of the label's relation to the target's features they carry).</summary>
    TranslatedOnly,
}

/// <summary>How RadialGAN's training batches are drawn.</summary>
public enum Batching
{
    /// <summary>The reference's: <see cref="ProtocolSettings.Batch"/> rows of each domain every step (<see cref="DomainBatches"/>).</summary>
    PerDomain,
    /// <summary>The shared trainer's: shuffled epochs of <see cref="ProtocolSettings.Batch"/> rows over all domains, split by domain.</summary>
    Shuffled,
}

/// <summary>One augmentation's AUROC on a target's validation and test rows in one repetition (<see cref="ProtocolSettings.Sweep"/>);
/// <see cref="Variant"/> -1 is target only.</summary>
public sealed record VariantScore(int Repetition, int Domain, int Variant, double ValidationAuroc, double TestAuroc, double TestAuprc);

/// <summary>How the protocol runs (RadialGAN's paper: 5 repetitions of a 64/16/20 split).</summary>
public sealed record ProtocolSettings
{
    /// <summary>Repetitions; repetition r splits and trains with seed <see cref="Seed"/> + r.</summary>
    public int Repetitions { get; init; } = 5;
    /// <summary>The first repetition's seed.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>RadialGAN training steps per repetition.</summary>
    public long Steps { get; init; } = 2000;
    /// <summary>Rows per training batch: of each domain (<see cref="Batching.PerDomain"/>, the reference's 128) or over all.</summary>
    public int Batch { get; init; } = 128;
    /// <summary>How the batches are drawn (the reference's: per domain).</summary>
    public Batching Batching { get; init; } = Batching.PerDomain;
    /// <summary>How the translated rows join the target's in the target + RadialGAN predictor (the reference's: all, weight 1).</summary>
    public Augmentation Augmentation { get; init; } = Augmentation.Reference;
    /// <summary>Augmentations also scored on every target's validation and test rows with the same trained RadialGAN
    /// (<see cref="ProtocolResult.Variants"/>), to choose one on the validation rows.</summary>
    public IReadOnlyList<Augmentation> Sweep { get; init; } = [];
    /// <summary>Also train the pairwise cycle-GAN baseline (<see cref="Predictor.CycleGan"/>).</summary>
    public bool CycleGan { get; init; }
    /// <summary>Full-batch Adam steps of each logistic regression.</summary>
    public int LogisticSteps { get; init; } = 1000;
    /// <summary>Their learning rate.</summary>
    public float LogisticRate { get; init; } = 0.01f;
    /// <summary>The paper's small-target setting: each target's training rows cut to about this many (its validation and test
    /// rows unchanged), with one RadialGAN trained per target on that; null: every training row, one RadialGAN per repetition.</summary>
    public int? TargetRows { get; init; }
    /// <summary>RadialGAN's settings (<c>--set</c>), over the kind's defaults for the table.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();
}

/// <summary>One predictor's AUROC and AUPRC on one target domain's test split in one repetition.</summary>
public sealed record PredictorScore(int Repetition, int Domain, Predictor Predictor, double Auroc, double Auprc);

/// <summary>A mean and a sample standard deviation (n - 1) over repetitions.</summary>
public readonly record struct Spread(double Mean, double Std, int Count)
{
    /// <summary>The spread of <paramref name="values"/>.</summary>
    public static Spread Of(IReadOnlyList<double> values)
    {
        double mean = values.Average();
        double std = values.Count > 1 ? Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1)) : 0;
        return new Spread(mean, std, values.Count);
    }

    public override string ToString() => $"{Mean:0.000} ± {Std:0.000}";
}

/// <summary>Every score of a protocol run, with the summaries the results report.</summary>
public sealed record ProtocolResult(string Table, TabularLayout Layout, ProtocolSettings Settings, IReadOnlyList<PredictorScore> Scores, TimeSpan Time)
{
    /// <summary>The sweep's scores (empty without <see cref="ProtocolSettings.Sweep"/>).</summary>
    public IReadOnlyList<VariantScore> Variants { get; init; } = [];

    /// <summary>The spread over repetitions of sweep variant <paramref name="variant"/>'s AUROC gain over target only on
    /// <paramref name="domain"/>, on the validation rows or the test rows.</summary>
    public Spread VariantGain(int domain, int variant, bool validation)
    {
        var baseline = Variants.Where(s => s.Domain == domain && s.Variant == -1).ToDictionary(s => s.Repetition);
        return Spread.Of([.. Variants.Where(s => s.Domain == domain && s.Variant == variant)
            .Select(s => validation ? s.ValidationAuroc - baseline[s.Repetition].ValidationAuroc : s.TestAuroc - baseline[s.Repetition].TestAuroc)]);
    }

    /// <summary>The spread over repetitions of <paramref name="predictor"/>'s AUROC (or AUPRC) on <paramref name="domain"/>.</summary>
    public Spread Of(int domain, Predictor predictor, bool auprc = false) =>
        Spread.Of([.. Scores.Where(s => s.Domain == domain && s.Predictor == predictor).Select(s => auprc ? s.Auprc : s.Auroc)]);

    /// <summary>The spread over repetitions of <paramref name="predictor"/>'s gain over target-only on <paramref name="domain"/>.</summary>
    public Spread Gain(int domain, Predictor predictor, bool auprc = false)
    {
        var baseline = Scores.Where(s => s.Domain == domain && s.Predictor == Predictor.TargetOnly).ToDictionary(s => s.Repetition);
        return Spread.Of([.. Scores.Where(s => s.Domain == domain && s.Predictor == predictor)
            .Select(s => auprc ? s.Auprc - baseline[s.Repetition].Auprc : s.Auroc - baseline[s.Repetition].Auroc)]);
    }
}

/// <summary>
/// RadialGAN's evaluation protocol (the paper's section 5; the reference's RadialGAN_Main.py): in each repetition, split every
/// domain 64/16/20 (stratified by label, <see cref="TabularSplit"/>), train RadialGAN on the training rows of all domains
/// (the reference's batches: <see cref="ProtocolSettings.Batch"/> rows of each domain a step, <see cref="DomainBatches"/>),
/// then for each target domain fit a logistic regression (<see cref="LogisticRegression"/>) on (a) the target's own training
/// rows and (b) those plus every other domain's training rows translated into the target, and score both by AUROC and AUPRC
/// on the target's test rows. Baseline (c) pools every domain's training rows on the shared features. (d) chooses between (a)
/// and (b) by validation AUROC. (e), a diagnostic, fits the translated rows alone. (b) joins the translated rows as
/// <see cref="ProtocolSettings.Augmentation"/> says; <see cref="ProtocolSettings.Sweep"/> scores other ways on the validation and
/// test rows; <see cref="ProtocolSettings.CycleGan"/> adds the pairwise cycle-GAN baseline (<see cref="CycleGanPairs"/>). The reference instead keeps (b) only where it beats (a) on the test split itself, which
/// reads the test labels; that choice is not made here.
/// </summary>
public static class RadialGanProtocol
{
    /// <summary>Runs <paramref name="settings"/>' repetitions on <paramref name="table"/>; <paramref name="log"/> hears each repetition.</summary>
    public static ProtocolResult Run(TabularTable table, ProtocolSettings settings, Device device, Action<string>? log = null)
    {
        if (settings.Repetitions < 1 || settings.Steps < 0 || settings.Batch < 1 || settings.LogisticSteps < 1)
            throw new ArgumentException($"eval radialgan: repetitions, batch and logistic steps must be at least 1 and steps at least 0, got {settings}");
        var clock = Stopwatch.StartNew();
        var scores = new List<PredictorScore>();
        var allVariants = new List<VariantScore>();
        var kind = ModelKinds.Find(RadialGanFamily.Name);
        for (int r = 0; r < settings.Repetitions; r++)
        {
            ulong seed = settings.Seed + (ulong)r;
            // All rows: one RadialGAN scores every target. Small targets: one RadialGAN per target, trained with that
            // target's rows cut down (so no translation has seen the rows its predictor does not get).
            var runs = settings.TargetRows is int rows
                ? Enumerable.Range(0, table.Layout.DomainCount).Select(t => (Split: table.Split(seed, t, rows), Targets: new[] { t })).ToList()
                : [(Split: table.Split(seed), Targets: Enumerable.Range(0, table.Layout.DomainCount).ToArray())];
            var mine = new List<PredictorScore>();
            var variants = new List<VariantScore>();
            IReadOnlyDictionary<string, float> lastLosses = new Dictionary<string, float>();
            foreach (var (split, targets) in runs)
            {
                var data = split.TrainDataset();
                var options = (RadialGanOptions)kind.Options(new DataFacts(data.SampleShape, data.ClassCount) { Tabular = data.Tabular }, settings.Settings) with { Seed = seed };
                using var job = new RadialGanJob(options, device);
                lastLosses = Train(job, data, settings.Steps, settings.Batch, seed, device, settings.Batching);
                using var pairs = settings.CycleGan ? CycleGanPairs.Train(data, options, targets, settings, device) : null;
                mine.AddRange(Score(job, split, settings, device, r, targets, variants, pairs));
            }
            scores.AddRange(mine);
            allVariants.AddRange(variants);
            log?.Invoke($"repetition {r + 1}/{settings.Repetitions} (seed {seed}, {settings.Steps} steps, {clock.Elapsed.TotalSeconds:0} s): " +
                        string.Join(", ", lastLosses.Select(kv => $"{kv.Key} {kv.Value:0.###}")) + "; AUROC gain " +
                        string.Join(" ", Enumerable.Range(0, table.Layout.DomainCount).Select(d =>
                            $"{table.Layout.DomainNames[d]} {Gain(mine, d):+0.000;-0.000}")));
        }
        return new ProtocolResult(table.Name, table.Layout, settings, scores, clock.Elapsed) { Variants = allVariants };
    }

    static double Gain(List<PredictorScore> scores, int domain) =>
        scores.Single(s => s.Domain == domain && s.Predictor == Predictor.RadialGan).Auroc - scores.Single(s => s.Domain == domain && s.Predictor == Predictor.TargetOnly).Auroc;

    /// <summary>Trains <paramref name="job"/> for <paramref name="steps"/> steps on batches of <paramref name="data"/>: <paramref name="batch"/>
    /// rows of each domain (<see cref="Batching.PerDomain"/>) or shuffled epochs of <paramref name="batch"/> rows over all domains
    /// (the whole table when it has fewer rows than a batch); returns the last step's logged values.</summary>
    public static IReadOnlyDictionary<string, float> Train(RadialGanJob job, Dataset data, long steps, int batch, ulong seed, Device device, Batching batching = Batching.PerDomain)
    {
        IReadOnlyDictionary<string, float> last = new Dictionary<string, float>();
        if (batching == Batching.PerDomain)
        {
            var draws = new DomainBatches(data, batch, seed);
            for (long s = 0; s < steps; s++)
            {
                using (var b = draws.Next(device, (int)s)) last = job.Step(b, s);
                if (last.Values.Any(v => !float.IsFinite(v)))
                    throw new InvalidOperationException($"radialgan: a non-finite loss at step {s}: {string.Join(", ", last.Select(kv => $"{kv.Key} {kv.Value}"))}");
            }
            return last;
        }
        using var loader = new DataLoader(data, Math.Min(batch, data.Count), device, seed);
        long step = 0;
        for (int epoch = 0; step < steps; epoch++)
            foreach (var b in loader.Epoch(epoch))
            {
                using (b) last = job.Step(b, step);
                if (last.Values.Any(v => !float.IsFinite(v)))
                    throw new InvalidOperationException($"radialgan: a non-finite loss at step {step}: {string.Join(", ", last.Select(kv => $"{kv.Key} {kv.Value}"))}");
                if (++step >= steps) break;
            }
        return last;
    }

    /// <summary>The predictors' test scores on every target domain of <paramref name="split"/>, with <paramref name="job"/>'s
    /// translations; with <see cref="ProtocolSettings.Sweep"/>, each variant's validation and test AUROC goes to <paramref name="variants"/>.</summary>
    public static List<PredictorScore> Score(RadialGanJob job, TabularSplit split, ProtocolSettings settings, Device device, int repetition = 0,
                                             IReadOnlyList<int>? targets = null, List<VariantScore>? variants = null, CycleGanPairs? pairs = null)
    {
        var layout = split.Layout;
        if (job.DomainCount != layout.DomainCount || !Enumerable.Range(0, layout.DomainCount).All(d => job.FeaturesOf(d).SequenceEqual(layout.FeaturesOf(d))))
            throw new ArgumentException($"eval radialgan: the model's domains and feature sets are not those of {split.Name}");
        var scores = new List<PredictorScore>();
        LogisticRegression Fit(DomainSamples s) => LogisticRegression.Fit(s.X, s.Y, s.Count, s.Width, device, settings.LogisticSteps, settings.LogisticRate);
        var shared = layout.SharedFeatures;
        foreach (int t in targets ?? [.. Enumerable.Range(0, layout.DomainCount)])
        {
            var train = split.Part(t, SplitPart.Train);
            var validation = split.Part(t, SplitPart.Validation);
            var test = split.Part(t, SplitPart.Test);
            var translatedRows = Translated(job, split, t);
            var own = Fit(train);
            float[] Judge(DomainSamples rows) => job.DiscriminatorLogits(t, rows.X, rows.Y, rows.Count);
            var radial = FitAugmented(Judge, t, train, translatedRows, own, settings.Augmentation, settings, device, split.Seed);
            scores.Add(Scored(repetition, t, Predictor.TargetOnly, own, test));
            scores.Add(Scored(repetition, t, Predictor.RadialGan, radial, test));
            if (shared.Length > 0)
            {
                var pooled = Enumerable.Range(0, layout.DomainCount).Select(d => split.Shared(d, SplitPart.Train)).ToList();
                var model = Fit(new DomainSamples([.. pooled.SelectMany(p => p.X)], [.. pooled.SelectMany(p => p.Y)], pooled.Sum(p => p.Count), shared.Length));
                scores.Add(Scored(repetition, t, Predictor.Pooled, model, split.Shared(t, SplitPart.Test)));
            }
            if (pairs is not null)
            {
                var (cycled, cycleJudged) = pairs.Translated(split, t);
                var cycleModel = FitAugmented(_ => cycleJudged, t, train, cycled, own, settings.Augmentation, settings, device, split.Seed);
                scores.Add(Scored(repetition, t, Predictor.CycleGan, cycleModel, test));
            }
            bool radialWins = Auroc(radial, validation) > Auroc(own, validation);
            scores.Add(Scored(repetition, t, Predictor.ValidationChoice, radialWins ? radial : own, test));
            if (translatedRows.Y.Contains(0f) && translatedRows.Y.Contains(1f))
                scores.Add(Scored(repetition, t, Predictor.TranslatedOnly, Fit(translatedRows), test));
            if (variants is null || settings.Sweep.Count == 0) continue;
            variants.Add(new VariantScore(repetition, t, -1, Auroc(own, validation), Auroc(own, test), Auprc(own, test)));
            for (int v = 0; v < settings.Sweep.Count; v++)
            {
                var model = FitAugmented(Judge, t, train, translatedRows, own, settings.Sweep[v], settings, device, split.Seed);
                variants.Add(new VariantScore(repetition, t, v, Auroc(model, validation), Auroc(model, test), Auprc(model, test)));
            }
        }
        return scores;
    }

    /// <summary>Every other domain's training rows of <paramref name="split"/> translated into <paramref name="target"/>, with their labels.</summary>
    public static DomainSamples Translated(RadialGanJob job, TabularSplit split, int target)
    {
        int width = split.Part(target, SplitPart.Train).Width;
        var x = new List<float>();
        var y = new List<float>();
        for (int i = 0; i < split.Layout.DomainCount; i++)
        {
            if (i == target) continue;
            var source = split.Part(i, SplitPart.Train);
            x.AddRange(job.Translate(i, target, source.X, source.Y, source.Count));
            y.AddRange(source.Y);
        }
        return new DomainSamples([.. x], [.. y], y.Count, width);
    }

    /// <summary>The predictor on <paramref name="train"/> (target <paramref name="target"/>'s own rows, weight 1) and the rows of
    /// <paramref name="translated"/> that <paramref name="augmentation"/> keeps, at its weight; <paramref name="judge"/> gives the target's
    /// discriminator logits on translated rows, <paramref name="own"/> is the target-only predictor (the rankings' inputs).</summary>
    public static LogisticRegression FitAugmented(Func<DomainSamples, float[]> judge, int target, DomainSamples train, DomainSamples translated, LogisticRegression own,
                                                  Augmentation augmentation, ProtocolSettings settings, Device device, ulong seed)
    {
        var keep = augmentation.Keep(translated, train.Count, train.Y.Average(), Augmentation.Scores(augmentation.Ranking, judge, translated, own), seed + (ulong)target);
        int width = train.Width;
        var x = new float[(train.Count + keep.Length) * width];
        var y = new float[train.Count + keep.Length];
        var w = new float[y.Length];
        Array.Copy(train.X, x, train.X.Length);
        Array.Copy(train.Y, y, train.Count);
        Array.Fill(w, 1f, 0, train.Count);
        for (int k = 0; k < keep.Length; k++)
        {
            Array.Copy(translated.X, keep[k] * width, x, (train.Count + k) * width, width);
            y[train.Count + k] = translated.Y[keep[k]];
            w[train.Count + k] = augmentation.Weight;
        }
        return LogisticRegression.Fit(x, y, y.Length, width, device, settings.LogisticSteps, settings.LogisticRate, augmentation.Weight == 1f ? null : w);
    }

    static double Auroc(LogisticRegression model, DomainSamples rows) => BinaryClassifierMetrics.Auroc(model.Logits(rows.X), rows.Y);

    static double Auprc(LogisticRegression model, DomainSamples rows) => BinaryClassifierMetrics.Auprc(model.Logits(rows.X), rows.Y);

    static PredictorScore Scored(int repetition, int domain, Predictor predictor, LogisticRegression model, DomainSamples test)
    {
        var logits = model.Logits(test.X);
        return new PredictorScore(repetition, domain, predictor, BinaryClassifierMetrics.Auroc(logits, test.Y), BinaryClassifierMetrics.Auprc(logits, test.Y));
    }
}
