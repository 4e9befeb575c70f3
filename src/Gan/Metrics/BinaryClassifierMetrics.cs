namespace NativeGan.Gan.Metrics;

/// <summary>
/// The ranking metrics of a binary classifier's scores against 0/1 labels, as RadialGAN's protocol reports them (the
/// reference calls scikit-learn's <c>roc_auc_score</c> and <c>average_precision_score</c>; these follow their definitions).
/// </summary>
public static class BinaryClassifierMetrics
{
    /// <summary>
    /// The area under the ROC curve: the probability that a random positive scores above a random negative, ties counting
    /// one half (the Mann-Whitney U statistic over n_pos * n_neg, with mid-ranks for ties; equal to the trapezoidal area
    /// under the ROC curve, scikit-learn's <c>roc_auc_score</c>). Throws when the labels hold one class only.
    /// </summary>
    public static double Auroc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        var (positives, negatives) = Counts(scores, labels, "Auroc");
        var order = Enumerable.Range(0, scores.Count).OrderBy(i => scores[i]).ToArray();
        double rankSum = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            double midRank = (start + end) / 2.0 + 1; // ranks from 1
            for (int k = start; k <= end; k++) if (labels[order[k]] == 1f) rankSum += midRank;
            start = end + 1;
        }
        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    /// <summary>
    /// Average precision, the area under the precision-recall curve as a step function: sum over the distinct score
    /// thresholds t, from high to low, of (R(t) - R(previous t)) * P(t), where P and R are the precision and recall of
    /// predicting positive for scores &gt;= t (scikit-learn's <c>average_precision_score</c>, no interpolation). Tied scores
    /// form one threshold. Throws when the labels hold one class only.
    /// </summary>
    public static double Auprc(IReadOnlyList<float> scores, IReadOnlyList<float> labels)
    {
        var (positives, _) = Counts(scores, labels, "Auprc");
        var order = Enumerable.Range(0, scores.Count).OrderByDescending(i => scores[i]).ToArray();
        double area = 0, previousRecall = 0;
        int truePositives = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && scores[order[end + 1]] == scores[order[start]]) end++;
            for (int k = start; k <= end; k++) if (labels[order[k]] == 1f) truePositives++;
            double recall = (double)truePositives / positives, precision = (double)truePositives / (end + 1);
            area += (recall - previousRecall) * precision;
            previousRecall = recall;
            start = end + 1;
        }
        return area;
    }

    static (int Positives, int Negatives) Counts(IReadOnlyList<float> scores, IReadOnlyList<float> labels, string name)
    {
        if (scores.Count != labels.Count) throw new ArgumentException($"{name}: {scores.Count} scores for {labels.Count} labels");
        int positives = 0, negatives = 0;
        for (int i = 0; i < labels.Count; i++)
        {
            if (labels[i] == 1f) positives++;
            else if (labels[i] == 0f) negatives++;
            else throw new ArgumentException($"{name}: label {i} is {labels[i]}, not 0 or 1");
            if (!float.IsFinite(scores[i])) throw new ArgumentException($"{name}: score {i} is {scores[i]}");
        }
        if (positives == 0 || negatives == 0) throw new ArgumentException($"{name}: the labels hold {positives} positive and {negatives} negative samples; both classes are needed");
        return (positives, negatives);
    }
}
