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
    /// <summary>A diagnostic: the translated rows alone (how much of the label's relation to the target's features they carry).</summary>
    TranslatedOnly,
}

/// <summary>How the protocol runs (RadialGAN's paper: 5 repetitions of a 64/16/20 split).</summary>
public sealed record ProtocolSettings
{
    /// <summary>Repetitions; repetition r splits and trains with seed <see cref="Seed"/> + r.</summary>
    public int Repetitions { get; init; } = 5;
    /// <summary>The first repetition's seed.</summary>
    public ulong Seed { get; init; } = 1;
    /// <summary>RadialGAN training steps per repetition.</summary>
    public long Steps { get; init; } = 2000;
    /// <summary>Rows per training batch (over all domains; the reference: 128).</summary>
    public int Batch { get; init; } = 128;
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
/// domain 64/16/20 (stratified by label, <see cref="TabularSplit"/>), train RadialGAN on the training rows of all domains,
/// then for each target domain fit a logistic regression (<see cref="LogisticRegression"/>) on (a) the target's own training
/// rows and (b) those plus every other domain's training rows translated into the target, and score both by AUROC and AUPRC
/// on the target's test rows. Baseline (c) pools every domain's training rows on the shared features. (d) chooses between (a)
/// and (b) by validation AUROC. (e), a diagnostic, fits the translated rows alone. The reference instead keeps (b) only where it beats (a) on the test split itself, which
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
            IReadOnlyDictionary<string, float> lastLosses = new Dictionary<string, float>();
            foreach (var (split, targets) in runs)
            {
                var data = split.TrainDataset();
                var options = (RadialGanOptions)kind.Options(new DataFacts(data.SampleShape, data.ClassCount) { Tabular = data.Tabular }, settings.Settings) with { Seed = seed };
                using var job = new RadialGanJob(options, device);
                lastLosses = Train(job, data, settings.Steps, settings.Batch, seed, device);
                mine.AddRange(Score(job, split, settings, device, r, targets));
            }
            scores.AddRange(mine);
            log?.Invoke($"repetition {r + 1}/{settings.Repetitions} (seed {seed}, {settings.Steps} steps, {clock.Elapsed.TotalSeconds:0} s): " +
                        string.Join(", ", lastLosses.Select(kv => $"{kv.Key} {kv.Value:0.###}")) + "; AUROC gain " +
                        string.Join(" ", Enumerable.Range(0, table.Layout.DomainCount).Select(d =>
                            $"{table.Layout.DomainNames[d]} {Gain(mine, d):+0.000;-0.000}")));
        }
        return new ProtocolResult(table.Name, table.Layout, settings, scores, clock.Elapsed);
    }

    static double Gain(List<PredictorScore> scores, int domain) =>
        scores.Single(s => s.Domain == domain && s.Predictor == Predictor.RadialGan).Auroc - scores.Single(s => s.Domain == domain && s.Predictor == Predictor.TargetOnly).Auroc;

    /// <summary>Trains <paramref name="job"/> for <paramref name="steps"/> steps on shuffled batches of <paramref name="data"/>
    /// (the whole table when it has fewer rows than a batch); returns the last step's logged values.</summary>
    public static IReadOnlyDictionary<string, float> Train(RadialGanJob job, Dataset data, long steps, int batch, ulong seed, Device device)
    {
        IReadOnlyDictionary<string, float> last = new Dictionary<string, float>();
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

    /// <summary>The four predictors' test scores on every target domain of <paramref name="split"/>, with <paramref name="job"/>'s translations.</summary>
    public static List<PredictorScore> Score(RadialGanJob job, TabularSplit split, ProtocolSettings settings, Device device, int repetition = 0, IReadOnlyList<int>? targets = null)
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
            var translatedRows = new DomainSamples([], [], 0, train.Width);
            for (int i = 0; i < layout.DomainCount; i++)
            {
                if (i == t) continue;
                var source = split.Part(i, SplitPart.Train);
                var translated = job.Translate(i, t, source.X, source.Y, source.Count);
                translatedRows = new DomainSamples([.. translatedRows.X, .. translated], [.. translatedRows.Y, .. source.Y], translatedRows.Count + source.Count, train.Width);
            }
            var augmented = new DomainSamples([.. train.X, .. translatedRows.X], [.. train.Y, .. translatedRows.Y], train.Count + translatedRows.Count, train.Width);
            var own = Fit(train);
            var radial = Fit(augmented);
            scores.Add(Scored(repetition, t, Predictor.TargetOnly, own, test));
            scores.Add(Scored(repetition, t, Predictor.RadialGan, radial, test));
            if (shared.Length > 0)
            {
                var pooled = Enumerable.Range(0, layout.DomainCount).Select(d => split.Shared(d, SplitPart.Train)).ToList();
                var model = Fit(new DomainSamples([.. pooled.SelectMany(p => p.X)], [.. pooled.SelectMany(p => p.Y)], pooled.Sum(p => p.Count), shared.Length));
                scores.Add(Scored(repetition, t, Predictor.Pooled, model, split.Shared(t, SplitPart.Test)));
            }
            bool radialWins = BinaryClassifierMetrics.Auroc(radial.Logits(validation.X), validation.Y) > BinaryClassifierMetrics.Auroc(own.Logits(validation.X), validation.Y);
            scores.Add(Scored(repetition, t, Predictor.ValidationChoice, radialWins ? radial : own, test));
            if (translatedRows.Y.Contains(0f) && translatedRows.Y.Contains(1f))
                scores.Add(Scored(repetition, t, Predictor.TranslatedOnly, Fit(translatedRows), test));
        }
        return scores;
    }

    static PredictorScore Scored(int repetition, int domain, Predictor predictor, LogisticRegression model, DomainSamples test)
    {
        var logits = model.Logits(test.X);
        return new PredictorScore(repetition, domain, predictor, BinaryClassifierMetrics.Auroc(logits, test.Y), BinaryClassifierMetrics.Auprc(logits, test.Y));
    }
}
