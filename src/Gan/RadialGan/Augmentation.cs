using System.Globalization;
using NativeGan.Gan.Metrics;
using NativeGan.Gan.Tabular;

namespace NativeGan.Gan.RadialGan;

/// <summary>Which translated rows an <see cref="Augmentation"/> keeps when it keeps fewer than all.</summary>
public enum TranslationRanking
{
    /// <summary>A seeded random choice.</summary>
    Random,
    /// <summary>The rows the target domain's discriminator D_t(x, y) scores most real (highest logit).</summary>
    Discriminator,
    /// <summary>The rows whose carried label the target-only predictor finds most likely (its log-likelihood of y).</summary>
    Agreement,
}

/// <summary>
/// How the translated rows join a target's own rows in its predictor. The reference's is <see cref="Reference"/>: every
/// other domain's training rows translated, each counted like a real row. <see cref="Weight"/> counts a translated row as
/// that fraction of a real one in the logistic loss; <see cref="Ratio"/> keeps that multiple of the target's own training
/// row count, chosen by <see cref="Ranking"/>; <see cref="Stratified"/> keeps them in the target's own label proportion.
/// Written as text: "weight=0.5,ratio=1,rank=discriminator,stratified" ("reference" for the reference's).
/// </summary>
public sealed record Augmentation
{
    /// <summary>A translated row's weight in the predictor's loss (a real row's is 1).</summary>
    public float Weight { get; init; } = 1f;
    /// <summary>How many translated rows to keep, as a multiple of the target's own training rows (null: all of them).</summary>
    public float? Ratio { get; init; }
    /// <summary>Which rows are kept when <see cref="Ratio"/> keeps fewer than all.</summary>
    public TranslationRanking Ranking { get; init; } = TranslationRanking.Random;
    /// <summary>Keep the rows in the target's own positive fraction (else the ranking alone decides).</summary>
    public bool Stratified { get; init; }

    /// <summary>The reference's: all translated rows, weight 1.</summary>
    public static Augmentation Reference { get; } = new();

    /// <summary>The sweep's grid (<c>eval radialgan --sweep grid</c>): weights 1, 0.5, 0.25, 0.1, each with all rows, or as many as the
    /// target's own (ratio 1) chosen at random, by the discriminator or by agreement, or half as many by the last two, or ratio 1
    /// in the target's label proportion.</summary>
    public static IReadOnlyList<Augmentation> Grid { get; } =
    [
        .. new[] { 1f, 0.5f, 0.25f, 0.1f }.SelectMany(w => new Augmentation[]
        {
            new() { Weight = w },
            new() { Weight = w, Ratio = 1 },
            new() { Weight = w, Ratio = 1, Ranking = TranslationRanking.Discriminator },
            new() { Weight = w, Ratio = 1, Ranking = TranslationRanking.Agreement },
            new() { Weight = w, Ratio = 0.5f, Ranking = TranslationRanking.Discriminator },
            new() { Weight = w, Ratio = 0.5f, Ranking = TranslationRanking.Agreement },
            new() { Weight = w, Ratio = 1, Stratified = true },
        }),
    ];

    /// <summary>Parses "reference" or comma-separated weight=W, ratio=R, rank=random|discriminator|agreement, stratified.</summary>
    public static Augmentation Parse(string text)
    {
        var result = new Augmentation();
        if (text.Trim().Equals("reference", StringComparison.OrdinalIgnoreCase)) return result;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            int eq = part.IndexOf('=');
            string key = (eq < 0 ? part : part[..eq]).ToLowerInvariant(), value = eq < 0 ? "" : part[(eq + 1)..];
            float Number() => float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v > 0 && float.IsFinite(v)
                ? v : throw new ArgumentException($"augmentation '{text}': {key} takes a positive number, got '{value}'");
            result = key switch
            {
                "weight" => result with { Weight = Number() },
                "ratio" => result with { Ratio = value.Equals("all", StringComparison.OrdinalIgnoreCase) ? null : Number() },
                "rank" => result with
                {
                    Ranking = Enum.TryParse<TranslationRanking>(value, ignoreCase: true, out var r) && Enum.IsDefined(r) && !int.TryParse(value, out _)
                        ? r : throw new ArgumentException($"augmentation '{text}': rank is random, discriminator or agreement, got '{value}'"),
                },
                "stratified" when eq < 0 => result with { Stratified = true },
                _ => throw new ArgumentException($"augmentation '{text}': unknown part '{part}' (known: weight=W, ratio=R|all, rank=random|discriminator|agreement, stratified)"),
            };
        }
        return result;
    }

    /// <summary>The text <see cref="Parse"/> reads back.</summary>
    public override string ToString()
    {
        if (this == Reference) return "reference";
        var parts = new List<string> { $"weight={Weight.ToString(CultureInfo.InvariantCulture)}" };
        if (Ratio is float r) parts.Add($"ratio={r.ToString(CultureInfo.InvariantCulture)}");
        if (Ranking != TranslationRanking.Random) parts.Add($"rank={Ranking.ToString().ToLowerInvariant()}");
        if (Stratified) parts.Add("stratified");
        return string.Join(",", parts);
    }

    /// <summary>
    /// The translated rows kept for a target with <paramref name="ownCount"/> training rows of positive fraction
    /// <paramref name="ownPositive"/>: indices into <paramref name="translated"/>, best first by <paramref name="score"/> (higher is
    /// kept first; null: a random order from <paramref name="seed"/>). All rows when <see cref="Ratio"/> is null and not stratified.
    /// </summary>
    public int[] Keep(DomainSamples translated, int ownCount, double ownPositive, float[]? score, ulong seed)
    {
        int n = translated.Count;
        int keep = Ratio is float r ? Math.Min(n, (int)Math.Round(r * ownCount)) : n;
        var order = Enumerable.Range(0, n).ToArray();
        if (score is not null)
        {
            if (score.Length != n) throw new ArgumentException($"Augmentation.Keep: {n} translated rows, {score.Length} scores");
            order = [.. order.OrderByDescending(i => score[i]).ThenBy(i => i)];
        }
        else if (keep < n || Stratified) new Random(unchecked((int)seed) ^ 0xA06).Shuffle(order);
        if (!Stratified) return [.. order.Take(keep).Order()];
        // Each label's best rows, as many as the target's own proportion asks; when a label is short, both shrink alike.
        var pos = order.Where(i => translated.Y[i] == 1f).ToList();
        var neg = order.Where(i => translated.Y[i] != 1f).ToList();
        double wantPos = keep * Math.Clamp(ownPositive, 0, 1), wantNeg = keep - wantPos;
        double scale = Math.Min(1, Math.Min(wantPos > 0 ? pos.Count / wantPos : 1, wantNeg > 0 ? neg.Count / wantNeg : 1));
        int p = (int)Math.Round(wantPos * scale), q = (int)Math.Round(wantNeg * scale);
        return [.. pos.Take(p).Concat(neg.Take(q)).Order()];
    }

    /// <summary>The scores <paramref name="ranking"/> ranks <paramref name="translated"/> rows by (null for a random choice):
    /// <paramref name="judge"/> gives the target's discriminator logits on them, <paramref name="own"/> is the target-only predictor.</summary>
    public static float[]? Scores(TranslationRanking ranking, Func<DomainSamples, float[]> judge, DomainSamples translated, LogisticRegression own)
    {
        switch (ranking)
        {
            case TranslationRanking.Discriminator:
                return translated.Count == 0 ? [] : judge(translated);
            case TranslationRanking.Agreement:
                var logits = own.Logits(translated.X);
                // log p(y | x) up to a constant in the ranking: -softplus(-z) for y = 1, -softplus(z) for y = 0.
                return [.. logits.Select((z, i) => translated.Y[i] == 1f ? -Softplus(-z) : -Softplus(z))];
            default:
                return null;
        }
    }

    static float Softplus(float z) => z > 0 ? z + MathF.Log(1 + MathF.Exp(-z)) : MathF.Log(1 + MathF.Exp(z));
}
