using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using NativeGan.Gan.Data;
using NativeGan.Gan.RadialGan;
using NativeGan.Gan.Tabular;
using NativeGan.Gan.Training;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan eval radialgan</c>: RadialGAN's protocol (<see cref="RadialGanProtocol"/>) on a table, training one RadialGAN per
/// repetition, or the scores of one trained run (<c>--checkpoint</c>) on the split it was trained on.
/// </summary>
public static class RadialGanCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "cars, penguins, weather, or csv:LABEL:FILE,FILE,... (one CSV file per domain).", DefaultValueFactory = _ => "cars" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Score this trained run (`train radialgan`) on its own split instead of training one per repetition." };
        var repeats = new Option<int>("--repeats") { Description = "Repetitions (the paper: 5); repetition r splits and trains with seed --seed + r.", DefaultValueFactory = _ => 5 };
        var seed = new Option<ulong>("--seed") { Description = "The first repetition's seed.", DefaultValueFactory = _ => 1 };
        var steps = new Option<long>("--steps") { Description = "RadialGAN training steps per repetition.", DefaultValueFactory = _ => 2000 };
        var batch = new Option<int>("--batch") { Description = "Rows per training batch: of each domain (the reference: 128), or over all domains with --batching shuffled.", DefaultValueFactory = _ => 128 };
        var batching = new Option<Batching>("--batching") { Description = "per-domain (the reference's: --batch rows of each domain every step) or shuffled (epochs of --batch rows over all domains, as `train radialgan`).", DefaultValueFactory = _ => Batching.PerDomain, CustomParser = a => Enum.Parse<Batching>(a.Tokens[0].Value.Replace("-", ""), ignoreCase: true) };
        var augment = new Option<string>("--augment") { Description = "How translated rows join the target's: 'reference' (all, weight 1) or weight=W,ratio=R|all,rank=random|discriminator|agreement,stratified.", DefaultValueFactory = _ => "reference" };
        var sweep = new Option<string?>("--sweep") { Description = "Also score these augmentations (';'-separated, or 'grid') on every target's validation and test rows with the same trained RadialGAN." };
        var cycleGan = new Option<bool>("--cycle-gan") { Description = "Also the paper's pairwise baseline: a cycle-GAN trained on each pair of domains alone, its translations joined as --augment says." };
        var logisticSteps = new Option<int>("--logistic-steps") { Description = "Full-batch Adam steps of each logistic regression.", DefaultValueFactory = _ => 1000 };
        var targetRows = new Option<int?>("--target-rows") { Description = "The paper's small-target setting: cut each target's training rows to about N (one RadialGAN trained per target on that)." };
        var json = new Option<string?>("--json") { Description = "Also write every score (repetition, domain, predictor, AUROC, AUPRC) and the summary as JSON here." };
        var set = new Option<string[]>("--set") { Description = "RadialGAN setting key=value (repeatable; `train radialgan --help` lists them).", AllowMultipleArgumentsPerToken = true };
        var device = Cli.DeviceOption();
        var command = new Command("radialgan", "RadialGAN's protocol: per target domain, logistic regression on its own rows against its rows plus the other domains' rows translated by RadialGAN, " +
                                               "and simple pooling of the shared features; AUROC and AUPRC on the test split (64/16/20), mean ± std over repetitions.")
        {
            data, checkpoint, repeats, seed, steps, batch, batching, augment, sweep, cycleGan, logisticSteps, targetRows, json, set, device,
        };
        command.SetAction(r =>
        {
            if (Cli.Settings("eval radialgan", r.GetValue(set)) is not { } settings) return 2;
            ProtocolSettings protocol;
            try
            {
                string? sweepText = r.GetValue(sweep);
                protocol = new ProtocolSettings
                {
                    Repetitions = r.GetValue(repeats), Seed = r.GetValue(seed), Steps = r.GetValue(steps), Batch = r.GetValue(batch), Batching = r.GetValue(batching),
                    Augmentation = Augmentation.Parse(r.GetValue(augment)!),
                    Sweep = sweepText is null ? [] : sweepText.Trim() == "grid" ? Augmentation.Grid : [.. sweepText.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(Augmentation.Parse)],
                    CycleGan = r.GetValue(cycleGan), LogisticSteps = r.GetValue(logisticSteps), TargetRows = r.GetValue(targetRows), Settings = settings,
                };
            }
            catch (ArgumentException e)
            {
                Cli.Error($"eval radialgan: {e.Message}");
                return 2;
            }
            if (r.GetValue(checkpoint) is { } file) return FromCheckpoint(file, protocol, r.GetValue(json), r.GetValue(device)!);
            var d = Cli.OpenDevice(r.GetValue(device)!);
            if (d is null) return 2;
            try
            {
                var table = TabularData.Load(r.GetValue(data)!, log: Cli.Log);
                Describe(table);
                var result = RadialGanProtocol.Run(table, protocol, d, Cli.Log);
                Report(result, r.GetValue(json));
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or DataException or IOException)
            {
                Cli.Error(e.Message);
                return 2;
            }
        });
        return command;
    }

    static int FromCheckpoint(string file, ProtocolSettings protocol, string? json, string deviceName) =>
        Cli.WithCheckpoint(file, deviceName, (job, meta, d) =>
        {
            if (job is not RadialGanJob radial) throw new ArgumentException($"eval radialgan: {file} holds a '{job.Kind}' model, not a RadialGAN");
            string spec = meta.GetValueOrDefault(Trainer.DataSourceKey) ?? throw new ArgumentException($"eval radialgan: {file} does not record its data (data_source)");
            ulong seed = ulong.Parse(meta.GetValueOrDefault(Trainer.DataSeedKey) ?? "1", CultureInfo.InvariantCulture);
            var table = TabularData.Load(spec, log: Cli.Log);
            Describe(table);
            AnsiConsole.MarkupLine($"[grey]scoring {Markup.Escape(file)} on the split of seed {seed} it was trained on[/]");
            var variants = new List<VariantScore>();
            var scores = RadialGanProtocol.Score(radial, table.Split(seed), protocol, d, variants: variants);
            Report(new ProtocolResult(table.Name, table.Layout, protocol with { Repetitions = 1, Seed = seed, Steps = 0 }, scores, TimeSpan.Zero) { Variants = variants }, json);
        });

    static void Describe(TabularTable table)
    {
        var layout = table.Layout;
        AnsiConsole.MarkupLine($"[bold]{Markup.Escape(table.Name)}[/]: {table.Rows.Count} rows, {layout.FeatureCount} features");
        for (int d = 0; d < layout.DomainCount; d++)
        {
            var lacks = Enumerable.Range(0, layout.FeatureCount).Where(f => !layout.DomainFeatures[d][f]).Select(f => layout.FeatureNames[f]).ToList();
            int positives = Enumerable.Range(0, table.Rows.Count).Count(i => table.Domains[i] == d && table.Labels[i]);
            AnsiConsole.MarkupLine($"[grey]  {Markup.Escape(layout.DomainNames[d])}: {table.CountOf(d)} rows ({positives} positive), {layout.FeaturesOf(d).Length} features" +
                                   $"{(lacks.Count > 0 ? $", lacks {Markup.Escape(string.Join(", ", lacks))}" : "")}[/]");
        }
    }

    static readonly Predictor[] Shown = [Predictor.TargetOnly, Predictor.RadialGan, Predictor.Pooled, Predictor.ValidationChoice, Predictor.CycleGan, Predictor.TranslatedOnly];

    static string Name(Predictor p) => p switch
    {
        Predictor.TargetOnly => "target only",
        Predictor.RadialGan => "target + RadialGAN",
        Predictor.Pooled => "pooled (shared features)",
        Predictor.ValidationChoice => "validation choice",
        Predictor.CycleGan => "target + cycle-GAN pairs",
        _ => "translated only",
    };

    /// <summary>The sweep's table: each augmentation's mean AUROC gain over target only on the validation rows (what chooses) and
    /// on the test rows (what is reported); returns the variant with the highest validation gain averaged over domains (-1: no sweep).</summary>
    static int ReportSweep(ProtocolResult result)
    {
        var sweep = result.Settings.Sweep;
        if (sweep.Count == 0 || result.Variants.Count == 0) return -1;
        var layout = result.Layout;
        var domains = Enumerable.Range(0, layout.DomainCount).Where(d => result.Variants.Any(s => s.Domain == d)).ToList();
        double Validation(int v) => domains.Average(d => result.VariantGain(d, v, true).Mean);
        int chosen = Enumerable.Range(0, sweep.Count).MaxBy(Validation);
        AnsiConsole.MarkupLine("[bold]Augmentations: AUROC gain over target only, validation rows | test rows (mean ± std over repetitions)[/]");
        Console.WriteLine("| augmentation | " + string.Join(" | ", domains.Select(d => $"{layout.DomainNames[d]} val")) + " | mean val | " +
                          string.Join(" | ", domains.Select(d => $"{layout.DomainNames[d]} test")) + " | test gains > 0 |");
        Console.WriteLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", 2 * domains.Count + 2)));
        for (int v = 0; v < sweep.Count; v++)
        {
            var tests = domains.Select(d => result.VariantGain(d, v, false)).ToList();
            Console.WriteLine($"| {(v == chosen ? "**" : "")}{sweep[v]}{(v == chosen ? "**" : "")} | " +
                              string.Join(" | ", domains.Select(d => $"{Signed(result.VariantGain(d, v, true).Mean)}")) + $" | {Signed(Validation(v))} | " +
                              string.Join(" | ", tests.Select(g => $"{Signed(g.Mean)} ± {g.Std:0.000}")) + $" | {tests.Count(g => g.Mean > 0)} of {domains.Count} |");
        }
        // Per target and repetition, the best of target only and every variant on the validation rows, scored on the test rows.
        var picked = domains.Select(d => Spread.Of([.. result.Variants.Where(s => s.Domain == d).GroupBy(s => s.Repetition).Select(g =>
        {
            var best = g.OrderByDescending(s => s.ValidationAuroc).ThenBy(s => s.Variant).First();
            return best.TestAuroc - g.Single(s => s.Variant == -1).TestAuroc;
        })])).ToList();
        AnsiConsole.MarkupLine($"chosen by mean validation gain: [bold]{Markup.Escape(sweep[chosen].ToString())}[/]; per target and repetition the best on validation " +
                               $"(target only included) gains on test: {Markup.Escape(string.Join(", ", domains.Select((d, k) => $"{layout.DomainNames[d]} {Signed(picked[k].Mean)} ± {picked[k].Std:0.000}")))}");
        return chosen;
    }

    /// <summary>A gain with its sign, to 3 decimals; one that rounds to 0 is +0.000 (not "-+0.000").</summary>
    static string Signed(double value)
    {
        double rounded = Math.Round(value, 3);
        return (rounded == 0 ? 0.0 : rounded).ToString("+0.000;-0.000", CultureInfo.InvariantCulture);
    }

    static void Report(ProtocolResult result, string? json)
    {
        var layout = result.Layout;
        int n = result.Settings.Repetitions;
        AnsiConsole.MarkupLine($"[bold]AUROC / AUPRC on each target's test split, mean ± std over {n} repetition(s)[/]" +
                               $"{(result.Settings.TargetRows is int rows ? $", each target's training rows cut to about {rows}" : "")} ({result.Time.TotalSeconds:0} s)");
        var predictors = Shown.Where(p => result.Scores.Any(s => s.Predictor == p)).ToList();
        Console.WriteLine("| target | " + string.Join(" | ", predictors.Select(Name)) + " | RadialGAN gain (AUROC) |");
        Console.WriteLine("| --- |" + string.Concat(predictors.Select(_ => " --- |")) + " --- |");
        int positiveGains = 0;
        for (int d = 0; d < layout.DomainCount; d++)
        {
            var gain = result.Gain(d, Predictor.RadialGan);
            if (gain.Mean > 0) positiveGains++;
            Console.WriteLine($"| {layout.DomainNames[d]} | " + string.Join(" | ", predictors.Select(p => $"{result.Of(d, p)} / {result.Of(d, p, auprc: true)}")) +
                              $" | {Signed(gain.Mean)} ± {gain.Std:0.000} |");
        }
        AnsiConsole.MarkupLine($"RadialGAN's mean AUROC gain over target-only is positive in [bold]{positiveGains} of {layout.DomainCount}[/] domains" +
                               (result.Settings.Augmentation == Augmentation.Reference ? "" : $" (augmentation {Markup.Escape(result.Settings.Augmentation.ToString())})"));
        if (predictors.Contains(Predictor.CycleGan))
            AnsiConsole.MarkupLine("the cycle-GAN pairs' AUROC gain over target-only: " + string.Join(", ", Enumerable.Range(0, layout.DomainCount)
                .Select(d => $"{Markup.Escape(layout.DomainNames[d])} {Signed(result.Gain(d, Predictor.CycleGan).Mean)} ± {result.Gain(d, Predictor.CycleGan).Std:0.000}")));
        int chosen = ReportSweep(result);
        if (json is null) return;
        var summary = Enumerable.Range(0, layout.DomainCount).Select(d => new
        {
            domain = layout.DomainNames[d],
            predictors = predictors.ToDictionary(p => OptionsBinder.EnumText(p.ToString()), p => new
            {
                auroc = new { mean = result.Of(d, p).Mean, std = result.Of(d, p).Std },
                auprc = new { mean = result.Of(d, p, true).Mean, std = result.Of(d, p, true).Std },
            }),
            radialgan_auroc_gain = new { mean = result.Gain(d, Predictor.RadialGan).Mean, std = result.Gain(d, Predictor.RadialGan).Std },
            cyclegan_auroc_gain = predictors.Contains(Predictor.CycleGan) ? new { mean = result.Gain(d, Predictor.CycleGan).Mean, std = result.Gain(d, Predictor.CycleGan).Std } : null,
        });
        var document = new
        {
            table = result.Table, repetitions = n, seed = result.Settings.Seed, steps = result.Settings.Steps, batch = result.Settings.Batch,
            batching = OptionsBinder.EnumText(result.Settings.Batching.ToString()), augmentation = result.Settings.Augmentation.ToString(),
            sweep = result.Settings.Sweep.Select((a, v) => new
            {
                augmentation = a.ToString(), chosen_by_validation = v == chosen,
                domains = Enumerable.Range(0, layout.DomainCount).Select(d => new
                {
                    domain = layout.DomainNames[d],
                    validation_gain = new { mean = result.VariantGain(d, v, true).Mean, std = result.VariantGain(d, v, true).Std },
                    test_gain = new { mean = result.VariantGain(d, v, false).Mean, std = result.VariantGain(d, v, false).Std },
                }),
            }),
            logistic_steps = result.Settings.LogisticSteps, target_rows = result.Settings.TargetRows, settings = result.Settings.Settings, seconds = result.Time.TotalSeconds, summary,
            scores = result.Scores.Select(s => new { repetition = s.Repetition, domain = layout.DomainNames[s.Domain], predictor = OptionsBinder.EnumText(s.Predictor.ToString()), auroc = s.Auroc, auprc = s.Auprc }),
        };
        var folder = Path.GetDirectoryName(Path.GetFullPath(json));
        if (folder is not null) Directory.CreateDirectory(folder);
        File.WriteAllText(json, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true }));
        AnsiConsole.MarkupLine($"[grey]scores: {Markup.Escape(Path.GetFullPath(json))}[/]");
    }
}
