using NativeGan.Gan.Metrics;
using NativeGan.Gan.RadialGan;
using NativeGan.Gan.Tabular;

namespace NativeGan.Tests.RadialGan;

/// <summary>
/// The reference's per-domain batches, and the choices of which translated rows join a target's predictor (how many, ranked by
/// the target's discriminator or by agreement with the target-only predictor, in the target's label proportion), on crafted
/// rows whose answers are counted by hand.
/// </summary>
public class AugmentationTests
{
    [Fact]
    public void A_batch_holds_the_rows_per_domain_of_every_domain_or_all_of_a_smaller_one()
    {
        var data = TabularTests.Crafted().Split(1).TrainDataset();
        int[] counts = [.. Enumerable.Range(0, 2).Select(d => data.Labels!.Count(l => l == d))];
        Assert.True(counts[0] < 25 && counts[1] > 25, $"the crafted split's training rows per domain: {string.Join(", ", counts)}");
        var draws = new DomainBatches(data, 25, seed: 3);
        var seen = new HashSet<int>();
        for (int k = 0; k < 4; k++)
        {
            var rows = draws.NextRows();
            // Domain 0 first, all of its rows (fewer than 25); then 25 distinct rows of domain 1.
            Assert.Equal(counts[0] + 25, rows.Length);
            Assert.All(rows.Take(counts[0]), r => Assert.Equal(0, data.Labels![r]));
            Assert.Equal(counts[0], rows.Take(counts[0]).Distinct().Count());
            Assert.All(rows.Skip(counts[0]), r => Assert.Equal(1, data.Labels![r]));
            Assert.Equal(25, rows.Skip(counts[0]).Distinct().Count());
            seen.UnionWith(rows.Skip(counts[0]));
        }
        Assert.True(seen.Count > 25, "fresh draws each step, not the same 25 rows");
        // The batch's tensor holds those rows, its labels their domains.
        var again = new DomainBatches(data, 25, seed: 3);
        var expected = again.NextRows();
        using var batch = new DomainBatches(data, 25, seed: 3).Next(Device.Cpu, 0);
        var values = batch.Samples.ToArray();
        int width = data.SampleSize;
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(data.Data.AsSpan(expected[i] * width, width).ToArray(), values.AsSpan(i * width, width).ToArray());
        Assert.Equal(expected.Select(r => data.Labels![r]), batch.Labels!);
    }

    /// <summary>Eight translated rows of one feature (its value is the row's number), labels 1,1,1,0,0,0,0,0.</summary>
    static DomainSamples Eight() => new([0, 1, 2, 3, 4, 5, 6, 7], [1, 1, 1, 0, 0, 0, 0, 0], 8, 1);

    [Fact]
    public void The_kept_rows_follow_the_ratio_the_ranking_and_the_targets_label_proportion()
    {
        var rows = Eight();
        float[] score = [0.1f, 0.9f, 0.5f, 0.8f, -1f, 0.7f, 0.2f, 0.3f];
        // All rows by default, in order.
        Assert.Equal([0, 1, 2, 3, 4, 5, 6, 7], Augmentation.Reference.Keep(rows, ownCount: 2, ownPositive: 0.5, score: null, seed: 1));
        // Ratio 1.5 of 2 own rows: the 3 best scored (0.9, 0.8, 0.7: rows 1, 3, 5).
        var three = new Augmentation { Ratio = 1.5f, Ranking = TranslationRanking.Discriminator };
        Assert.Equal([1, 3, 5], three.Keep(rows, 2, 0.5, score, 1));
        // Random choice: 3 distinct rows, fixed by the seed.
        var random = new Augmentation { Ratio = 1.5f }.Keep(rows, 2, 0.5, null, 7);
        Assert.Equal(3, random.Distinct().Count());
        Assert.Equal(random, new Augmentation { Ratio = 1.5f }.Keep(rows, 2, 0.5, null, 7));
        // Stratified, 4 rows at the target's positive rate 0.25: 1 positive (the best: row 1), 3 negatives (rows 3, 5, 7).
        var strata = new Augmentation { Ratio = 2, Ranking = TranslationRanking.Discriminator, Stratified = true };
        Assert.Equal([1, 3, 5, 7], strata.Keep(rows, 2, 0.25, score, 1));
        // At rate 0.75 of 8 rows: 6 positives wanted, 3 exist, so both labels shrink alike: 3 positives and 1 negative (row 3).
        var all = new Augmentation { Ratio = 4, Ranking = TranslationRanking.Discriminator, Stratified = true };
        Assert.Equal([0, 1, 2, 3], all.Keep(rows, 2, 0.75, score, 1));
    }

    [Fact]
    public void Agreement_ranks_rows_by_the_target_only_predictors_likelihood_of_their_label()
    {
        // A predictor that says "positive" for large x: trained on separable rows, its logit grows with x.
        var own = LogisticRegression.Fit([-2, -1, 1, 2], [0, 0, 1, 1], 4, 1, Device.Cpu, steps: 200, learningRate: 0.1f);
        Assert.True(own.Weights[0] > 0);
        var rows = Eight();
        var scores = Augmentation.Scores(TranslationRanking.Agreement, null!, rows, own)!;
        var logits = own.Logits(rows.X);
        for (int i = 0; i < 8; i++)
        {
            double z = logits[i], expected = rows.Y[i] == 1 ? -Math.Log(1 + Math.Exp(-z)) : -Math.Log(1 + Math.Exp(z)); // log p(y | x)
            Assert.Equal(expected, scores[i], 4);
        }
        // Positive labels on small x disagree with the predictor; negative labels on large x too.
        Assert.True(scores[2] > scores[0] && scores[3] > scores[7]);
        Assert.Null(Augmentation.Scores(TranslationRanking.Random, null!, rows, own));
    }

    [Fact]
    public void Augmentations_read_back_from_their_text_and_bad_text_is_refused()
    {
        foreach (var a in Augmentation.Grid.Append(Augmentation.Reference))
            Assert.Equal(a, Augmentation.Parse(a.ToString()));
        Assert.Equal(new Augmentation { Weight = 0.5f, Ratio = 1, Ranking = TranslationRanking.Agreement, Stratified = true },
                     Augmentation.Parse("weight=0.5, ratio=1, rank=agreement, stratified"));
        Assert.Contains("unknown part", Assert.Throws<ArgumentException>(() => Augmentation.Parse("weigth=1")).Message);
        Assert.Contains("positive number", Assert.Throws<ArgumentException>(() => Augmentation.Parse("weight=-1")).Message);
        Assert.Contains("rank is", Assert.Throws<ArgumentException>(() => Augmentation.Parse("rank=1")).Message);
    }
}
