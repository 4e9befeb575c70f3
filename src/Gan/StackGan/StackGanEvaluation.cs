using System.Globalization;
using NativeGan.Gan.Data;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Pretrained;
using NativeGan.Nn;

namespace NativeGan.Gan.StackGan;

/// <summary>One image set's scores: Inception score and Fréchet distance in the emoji judge's features, R-precision.</summary>
/// <param name="Name">"stage I", "stage II", "real".</param>
/// <param name="Count">Images scored.</param>
/// <param name="InceptionScore">exp(E KL(p(y|x) || p(y))) over the judge's 10 emoji categories (1 to 10).</param>
/// <param name="FrechetDistance">d² between Gaussians fitted to the judge's 128 features of these images and of the reference (the held-out real pictures); null for the reference itself.</param>
/// <param name="RPrecision">The share of images whose own caption is the most similar of its <see cref="StackGanScores.Candidates"/> candidates, by the run's own encoders (null where not measured).</param>
/// <param name="RPrecisionIndependent">The same by the independent <see cref="TextImageMatcher"/> (null where not measured).</param>
/// <param name="R18">FID-R18, KID-R18 and precision / recall in ImageNet ResNet-18's pooled features against the held-out
/// real pictures (null where not measured: the reference itself, or no ResNet-18 given).</param>
public sealed record ImageSetScores(string Name, int Count, double InceptionScore, double? FrechetDistance, double? RPrecision, double? RPrecisionIndependent = null, PerceptualScores? R18 = null)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"{Name,-26} n {Count,5}  IS {InceptionScore,6:F3}  FD {(FrechetDistance is { } f ? f.ToString("F2", CultureInfo.InvariantCulture) : "-"),8}  R-precision own encoders {Percent(RPrecision)}, independent matcher {Percent(RPrecisionIndependent)}") +
        (R18 is { } r ? string.Create(CultureInfo.InvariantCulture, $"  FID-R18 {r.Fid:F2}  KID-R18 {r.Kid.Mean:F4} ± {r.Kid.Std:F4}  precision {r.PrecisionRecall.Precision:F3}  recall {r.PrecisionRecall.Recall:F3}") : "");

    static string Percent(double? r) => r is { } v ? v.ToString("P1", CultureInfo.InvariantCulture) : "-";
}

/// <summary>The measurements of a StackGAN checkpoint on held-out captions.</summary>
/// <param name="HeldOutPictures">Held-out real pictures (the reference of the Fréchet distance).</param>
/// <param name="HeldOutCaptions">Their captions: one generated image each.</param>
/// <param name="JudgeAccuracy">The judge's accuracy on the held-out real pictures' categories.</param>
/// <param name="Candidates">Captions each R-precision ranking chooses among (1 true, the rest other pictures'): chance is 1 / Candidates.</param>
/// <param name="Sets">Stage I (enlarged to the full side), stage II, and the references: the held-out real pictures, and the training pictures against them (real vs real).</param>
public sealed record StackGanScores(int HeldOutPictures, int HeldOutCaptions, double JudgeAccuracy, int Candidates, IReadOnlyList<ImageSetScores> Sets)
{
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"held out: {HeldOutPictures} pictures, {HeldOutCaptions} captions; judge: held-out category accuracy {JudgeAccuracy:P1}; R-precision among {Candidates} captions (chance {1.0 / Candidates:P1})\n") +
        string.Join("\n", Sets.Select(s => s.ToString()));
}

/// <summary>
/// How a StackGAN checkpoint is measured on captioned emoji (docs/RESULTS.md "StackGAN: emoji"):
/// <list type="bullet">
/// <item><b>Judge</b>: the project's small classifier (<see cref="MnistClassifier"/>'s recipe: two convolutions, 128 features)
/// trained to tell the 10 emoji categories from the training pictures, average-pooled to <see cref="JudgeSide"/>; its
/// held-out accuracy is reported. Inception score on its probabilities, Fréchet distance in its 128 features.</item>
/// <item><b>Generated sets</b>: one image per held-out caption (every caption of every held-out picture), noise from a fixed
/// seed; stage I's images enlarged with nearest neighbours to the full side, so both stages are judged alike.</item>
/// <item><b>Fréchet distance</b> against the held-out real pictures (what the captions describe); real vs real: the training
/// pictures against them.</item>
/// <item><b>R-precision</b> (AttnGAN's, Xu et al. 2018, with R = 1): each image's own caption among itself and
/// <c>candidates - 1</c> captions of other held-out pictures drawn at random, ranked by cosine similarity of image and
/// text embeddings; a hit when the own caption ranks first (ties count as misses). Chance: 1 / candidates. Twice: with the
/// job's own encoders (AttnGAN's way; flattering when G trained against them, <c>match_weight</c>) and with an
/// independent <see cref="TextImageMatcher"/> that never saw generated images (the figure to compare runs by).</item>
/// </list>
/// </summary>
public static class StackGanEvaluation
{
    /// <summary>The side the judge sees (pictures are average-pooled to it).</summary>
    public const int JudgeSide = 32;

    /// <summary>Epochs of the judge's training.</summary>
    public const int JudgeEpochs = 10;

    /// <summary>The judge: loaded from <paramref name="cacheDir"/> (<c>emoji-judge-e10.safetensors</c>) or trained on <paramref name="train"/> and saved there.</summary>
    public static MnistClassifier Judge(Dataset train, string cacheDir, Device device, Action<string>? log = null)
    {
        var path = Path.Combine(cacheDir, $"emoji-judge-s{JudgeSide}-e{JudgeEpochs}.safetensors");
        if (File.Exists(path)) return MnistClassifier.Load(path, device);
        if (train.Labels is null) throw new ArgumentException($"StackGanEvaluation.Judge: {train.Name} has no category labels");
        var judge = new MnistClassifier([3, JudgeSide, JudgeSide], train.ClassCount, device, seed: 1);
        log?.Invoke($"training the emoji judge ({JudgeEpochs} epochs on {train.Count} pictures at {JudgeSide}x{JudgeSide}); it is saved as {path}");
        judge.Train(Pooled(train), JudgeEpochs, seed: 1, progress: log);
        Directory.CreateDirectory(cacheDir);
        judge.Save(path);
        return judge;
    }

    /// <summary>Images of <paramref name="data"/> average-pooled to the judge's side.</summary>
    public static Dataset Pooled(Dataset data)
    {
        int side = data.SampleShape[1];
        if (side == JudgeSide) return data;
        return data with { Data = Pool(data.Data, data.Count, side), SampleShape = [3, JudgeSide, JudgeSide] };
    }

    static float[] Pool(float[] images, int count, int side)
    {
        int f = side / JudgeSide, outPlane = JudgeSide * JudgeSide;
        var result = new float[count * 3 * outPlane];
        for (int i = 0; i < count * 3; i++)
            for (int y = 0; y < JudgeSide; y++)
                for (int x = 0; x < JudgeSide; x++)
                {
                    double sum = 0;
                    for (int dy = 0; dy < f; dy++)
                        for (int dx = 0; dx < f; dx++) sum += images[(long)i * side * side + (y * f + dy) * side + x * f + dx];
                    result[i * outPlane + y * JudgeSide + x] = (float)(sum / (f * f));
                }
        return result;
    }

    /// <summary>
    /// Scores <paramref name="job"/> on <paramref name="heldOut"/>'s captions (see the class summary), with noise from
    /// <paramref name="seed"/>, against <paramref name="train"/> for real vs real. <paramref name="log"/> hears progress.
    /// </summary>
    /// <remarks>With <paramref name="resNet"/>, each set also gets FID-R18, KID-R18 (subsets of half the held-out
    /// pictures) and precision / recall (k = 3) against the held-out pictures; the training pictures' row is then drawn
    /// from as many training pictures as there are captions (seeded), to match the generated sets' size.</remarks>
    public static StackGanScores Evaluate(StackGanJob job, MnistClassifier judge, Dataset train, Dataset heldOut, ulong seed = 1, int candidates = 100, Action<string>? log = null, TextImageMatcher? matcher = null, ResNet18? resNet = null)
    {
        if (matcher is not null && matcher.Side != job.Options.Side)
            throw new ArgumentException($"StackGanEvaluation: the matcher sees {matcher.Side}x{matcher.Side} images, the job draws {job.Options.Side}x{job.Options.Side}");
        if (heldOut.Captions is null || heldOut.Labels is null) throw new ArgumentException($"StackGanEvaluation: {heldOut.Name} needs captions and category labels");
        int side = job.Options.Side, size = 3 * side * side;
        var pairs = Enumerable.Range(0, heldOut.Count).SelectMany(i => heldOut.Captions[i].Select(c => (Image: i, Caption: c))).ToList();
        var captions = pairs.Select(p => p.Caption).ToList();
        log?.Invoke($"generating {pairs.Count} images (one per held-out caption) at both stages");
        var (low, high) = GenerateAll(job, captions, seed);
        var (_, realFeatures) = judge.Evaluate(Pooled(heldOut).Data, heldOut.Count);
        float[]? realR18 = null;
        if (resNet is not null)
        {
            log?.Invoke($"ResNet-18 features of the {heldOut.Count} held-out pictures");
            realR18 = resNet.FeaturesOf(heldOut.Data, heldOut.Count, heldOut.SampleShape, job.Device);
        }
        PerceptualScores? R18(float[] images, int count)
        {
            if (resNet is null) return null;
            log?.Invoke($"ResNet-18 features of {count} images");
            var features = resNet.FeaturesOf(images, count, [3, side, side], job.Device);
            return PerceptualMetrics.Compare(realR18!, features, ResNet18.Dimension, kidSubsets: 100, kidSubsetSize: Math.Max(2, heldOut.Count / 2), k: 3, seed);
        }
        double accuracy = judge.Accuracy(Pooled(heldOut));

        var rng = new Random(unchecked((int)seed) ^ 0x5EED);
        var distractors = pairs.Select(p => Distractors(pairs, p.Image, p.Caption, candidates - 1, rng)).ToList();
        using var textEmbeddings = job.Embed(captions);
        var text = textEmbeddings.ToArray();
        var matcherText = matcher?.EmbedTexts(captions);

        ImageSetScores Score(string name, float[] images, int count, IReadOnlyList<int>? captionOf, bool reference = false, bool r18 = true)
        {
            var pooled = Pool(images, count, side);
            var (probs, features) = judge.Evaluate(pooled, count);
            double? r = captionOf is null ? null : RPrecision(job.ImageEncoder.EmbedAll(images, count), text, job.Options.Embedding, captionOf, distractors);
            double? independent = captionOf is null || matcher is null ? null
                : RPrecision(matcher.EmbedImages(images, count), matcherText!, TextImageMatcher.Dim, captionOf, distractors);
            double? fd = reference ? null : FrechetDistance.Compute(features, realFeatures, MnistClassifier.FeatureSize);
            return new ImageSetScores(name, count, InceptionScore.Compute(probs, judge.ClassCount), fd, r, independent, reference || !r18 ? null : R18(images, count));
        }
        var all = Enumerable.Range(0, pairs.Count).ToList();
        log?.Invoke("scoring stage I");
        var s1 = Score("stage I (enlarged)", low, pairs.Count, all);
        log?.Invoke("scoring stage II");
        var s2 = Score("stage II", high, pairs.Count, all);
        // The real held-out pictures, each once per caption, so R-precision ranks the same captions.
        var realRepeated = new float[pairs.Count * size];
        for (int k = 0; k < pairs.Count; k++) Array.Copy(heldOut.Data, (long)pairs[k].Image * size, realRepeated, (long)k * size, size);
        log?.Invoke("scoring the real pictures");
        var real = Score("real held-out", realRepeated, pairs.Count, all, reference: true);
        // Real vs real: every training picture for the judge's figures; for ResNet-18's (slow: 224x224 forwards), as many
        // as the generated sets hold, drawn by a seeded shuffle.
        var trainSet = Score("real training vs held-out", train.Data, train.Count, null, r18: false);
        if (resNet is not null)
        {
            var order = Enumerable.Range(0, train.Count).ToArray();
            new Random(unchecked((int)seed) ^ 0x1218).Shuffle(order);
            int m = Math.Min(train.Count, pairs.Count);
            var drawn = order[..m].SelectMany(i => train.Data.AsSpan(i * size, size).ToArray()).ToArray();
            trainSet = trainSet with { R18 = R18(drawn, m) };
        }
        return new StackGanScores(heldOut.Count, pairs.Count, accuracy, candidates, [s1, s2, real, trainSet]);
    }

    /// <summary>Indices of <paramref name="count"/> captions of pictures other than <paramref name="image"/>, none equal to <paramref name="caption"/>.</summary>
    static int[] Distractors(List<(int Image, string Caption)> pairs, int image, string caption, int count, Random rng)
    {
        var pool = Enumerable.Range(0, pairs.Count).Where(k => pairs[k].Image != image && pairs[k].Caption != caption).ToArray();
        if (pool.Length < count) throw new ArgumentException($"StackGanEvaluation: R-precision needs {count} other captions, the held-out set has {pool.Length}");
        rng.Shuffle(pool);
        return pool[..count];
    }

    /// <summary>
    /// R-precision with R = 1 (AttnGAN, Xu et al. 2018, section 5): the share of images i whose own caption
    /// (row captionOf[i] of <paramref name="text"/>) has a higher cosine similarity to the image's embedding (row i of
    /// <paramref name="images"/>) than every one of its distractors (rows distractors[captionOf[i]]); a tie is a miss.
    /// Embeddings are rows of <paramref name="d"/> floats. Chance is 1 / (distractors + 1) for embeddings that say nothing.
    /// </summary>
    public static double RPrecision(float[] images, float[] text, int d, IReadOnlyList<int> captionOf, IReadOnlyList<int[]> distractors)
    {
        int count = images.Length / d;
        double Cos(int image, int caption)
        {
            double dot = 0, a = 0, b = 0;
            for (int k = 0; k < d; k++)
            {
                double u = images[image * d + k], v = text[caption * d + k];
                dot += u * v; a += u * u; b += v * v;
            }
            return dot / Math.Sqrt(a * b + 1e-30);
        }
        int hits = 0;
        for (int i = 0; i < count; i++)
        {
            double own = Cos(i, captionOf[i]);
            if (distractors[captionOf[i]].All(k => Cos(i, k) < own)) hits++;
        }
        return (double)hits / count;
    }

    /// <summary>Stage I's images enlarged to the full side and stage II's, one per caption, noise from <paramref name="seed"/>.</summary>
    static (float[] Low, float[] High) GenerateAll(StackGanJob job, IReadOnlyList<string> captions, ulong seed)
    {
        var o = job.Options;
        int side = o.Side, low = o.LowSide, f = side / low, size = 3 * side * side;
        var lows = new float[captions.Count * size];
        var highs = new float[captions.Count * size];
        var rng = new Rng(seed, 1UL << 50);
        for (int start = 0; start < captions.Count; start += 128)
        {
            int n = Math.Min(128, captions.Count - start);
            using var scope = new TensorScope();
            using var text = job.Embed([.. captions.Skip(start).Take(n)]);
            using var z = rng.Normal(job.Device, [n, o.Latent]);
            using var eps = rng.Normal(job.Device, [n, o.Condition]);
            var (l, h) = job.Generate(text, z, eps);
            using (l)
            using (h)
            {
                var lv = l.ToArray();
                for (int i = 0; i < n; i++)
                    for (int c = 0; c < 3; c++)
                        for (int y = 0; y < side; y++)
                            for (int x = 0; x < side; x++)
                                lows[(long)(start + i) * size + (c * side + y) * side + x] = lv[((i * 3 + c) * low + y / f) * low + x / f];
                Array.Copy(h.ToArray(), 0, highs, (long)start * size, n * size);
            }
        }
        return (lows, highs);
    }

    /// <summary>
    /// The pictures of a checkpoint, in <paramref name="folder"/>: <c>heldout.png</c> (stage I beside stage II for held-out
    /// captions, two noises each), <c>noises.png</c> (one caption, eight noises), <c>interpolation.png</c> (the text
    /// embedding moved from one caption to another in eight steps, noise fixed). Returns the paths.
    /// </summary>
    public static IReadOnlyList<string> WritePictures(StackGanJob job, Dataset heldOut, string folder, ulong seed = 1)
    {
        if (heldOut.Captions is null) throw new ArgumentException($"StackGanEvaluation: {heldOut.Name} has no captions");
        Directory.CreateDirectory(folder);
        var o = job.Options;
        var rng = new Rng(seed, 1UL << 52);
        var paths = new List<string>();
        // Held-out captions: 12 pictures spread over the set's base pictures (no skin variation: more kinds of emoji), each
        // picture's first caption; the interpolation runs between the first two of different categories.
        var plain = Enumerable.Range(0, heldOut.Count).Where(i => !heldOut.Captions[i][0].Contains("skin tone", StringComparison.Ordinal)).ToList();
        if (plain.Count < 12) plain = [.. Enumerable.Range(0, heldOut.Count)];
        var picked = Enumerable.Range(0, 12).Select(k => plain[k * plain.Count / 12]).ToList();
        var chosen = picked.Select(i => heldOut.Captions[i][0]).ToList();
        paths.Add(Rows(job, Path.Combine(folder, "heldout.png"), "held-out captions: stage I (enlarged) | stage II, two noises each", chosen, 2, rng));
        paths.Add(Rows(job, Path.Combine(folder, "noises.png"), "one held-out caption, eight noises", [chosen[0]], 8, rng));
        int other = heldOut.Labels is { } labels ? picked.FirstOrDefault(i => labels[i] != labels[picked[0]], picked[^1]) : picked[^1];
        string from = chosen[0], to = heldOut.Captions[other][0];
        paths.Add(Interpolation(job, Path.Combine(folder, "interpolation.png"), from, to, 8, rng));
        return paths;
    }

    /// <summary>A picture of <paramref name="captions"/>, each with <paramref name="noises"/> noises from <paramref name="rng"/>.</summary>
    public static string Rows(StackGanJob job, string path, string title, IReadOnlyList<string> captions, int noises, Rng rng)
    {
        var texts = captions.SelectMany(c => Enumerable.Repeat(c, noises)).ToList();
        using var text = job.Embed(texts);
        using var z = rng.Normal(job.Device, [texts.Count, job.Options.Latent]);
        using var eps = rng.Normal(job.Device, [texts.Count, job.Options.Condition]);
        var (low, high) = job.Generate(text, z, eps);
        using (low)
        using (high) StackGanPictures.SaveCaptionRows(path, title, captions, low, high, noises);
        return path;
    }

    /// <summary>A picture of the text embedding moved linearly from <paramref name="from"/>'s to <paramref name="to"/>'s in
    /// <paramref name="steps"/> steps, one noise for all (conditions at mu: no augmentation noise).</summary>
    public static string Interpolation(StackGanJob job, string path, string from, string to, int steps, Rng rng)
    {
        if (steps < 2) throw new ArgumentOutOfRangeException(nameof(steps), "StackGanEvaluation.Interpolation: at least 2 steps");
        using var ends = job.Embed([from, to]);
        var e = ends.ToArray();
        int d = job.Options.Embedding;
        var mixed = new float[steps * d];
        for (int s = 0; s < steps; s++)
        {
            float t = s / (float)(steps - 1);
            for (int k = 0; k < d; k++) mixed[s * d + k] = (1 - t) * e[k] + t * e[d + k];
        }
        using var text = Tensor.FromArray(mixed, [steps, d], job.Device);
        using var one = rng.Normal(Device.Cpu, [1, job.Options.Latent]);
        var zs = Enumerable.Range(0, steps).SelectMany(_ => one.ToArray()).ToArray();
        using var z = Tensor.FromArray(zs, [steps, job.Options.Latent], job.Device);
        var (low, high) = job.Generate(text, z);
        using (low)
        using (high) StackGanPictures.SaveCaptionRows(path, $"from \"{from}\" to \"{to}\" (noise fixed)", [$"{Short(from)} -> {Short(to)}"], low, high, steps);
        return path;
    }

    static string Short(string s) => s.Length <= 20 ? s : s[..17] + "...";
}
