using NativeGan.Nn;

namespace NativeGan.Gan.Metrics;

/// <summary>
/// Logistic regression trained with the engine: p(y = 1 | x) = sigmoid(w . x + b), w and b from 0, minimising the mean
/// binary cross-entropy (<see cref="Losses.BceWithLogits(Tensor, Tensor)"/>) with full-batch Adam. Unregularised, as the
/// RadialGAN reference's <c>Logit_R</c> (which runs minibatch Adam at 1e-3 for 50,000 iterations); full batches at a higher
/// rate reach the same optimum of this convex loss in far fewer steps. Starting from 0 makes a fit deterministic.
/// </summary>
public sealed class LogisticRegression
{
    LogisticRegression(float[] weights, float bias)
    {
        Weights = weights;
        Bias = bias;
    }

    /// <summary>w, one per feature.</summary>
    public float[] Weights { get; }
    /// <summary>b.</summary>
    public float Bias { get; }

    /// <summary>
    /// Fits <paramref name="count"/> rows of <paramref name="width"/> features (<paramref name="x"/>, row after row) to 0/1
    /// labels <paramref name="y"/>: <paramref name="steps"/> full-batch Adam steps at <paramref name="learningRate"/>. With
    /// <paramref name="weights"/> (one per row, at least 0, not all 0) the loss is the weighted mean sum_i w_i l_i / sum_i w_i, so
    /// a row of weight 2 counts as that row twice and a row of weight 0 as no row.
    /// </summary>
    public static LogisticRegression Fit(float[] x, float[] y, int count, int width, Device device, int steps = 1000, float learningRate = 0.01f, float[]? weights = null)
    {
        if (count < 1 || width < 1 || x.Length != count * width || y.Length != count)
            throw new ArgumentException($"LogisticRegression.Fit: {count} rows of {width} features need {count * width} values and {count} labels, got {x.Length} and {y.Length}");
        if (weights is not null && (weights.Length != count || weights.Any(w => !(w >= 0f) || float.IsInfinity(w)) || weights.Sum() <= 0f))
            throw new ArgumentException($"LogisticRegression.Fit: {count} rows need {count} finite weights of at least 0, not all 0; got {weights.Length}");
        using var weight = Tensor.Zeros(device, 1, width);
        using var bias = Tensor.Zeros(device, 1);
        weight.RequiresGrad = true;
        bias.RequiresGrad = true;
        using var xt = Tensor.FromArray(x, [count, width], device);
        using var yt = Tensor.FromArray(y, [count, 1], device);
        float total = weights?.Sum() ?? 0f;
        using var wt = weights is null ? null : Tensor.FromArray([.. weights.Select(w => w / total)], [count, 1], device);
        var adam = new Adam([weight, bias], learningRate);
        for (int s = 0; s < steps; s++)
        {
            using var scope = new TensorScope();
            weight.ZeroGrad();
            bias.ZeroGrad();
            var logits = xt.Linear(weight, bias);
            var loss = wt is null ? Losses.BceWithLogits(logits, yt) : logits.Softplus().Sub(logits.Mul(yt)).Mul(wt).Sum(); // BCE per row (see Losses), weighted
            loss.Backward();
            adam.Step();
        }
        return new LogisticRegression(weight.ToArray(), bias.ToArray()[0]);
    }

    /// <summary>The logits w . x + b of <paramref name="x"/>'s rows (a monotone function of the probability: what AUROC and AUPRC rank).</summary>
    public float[] Logits(float[] x)
    {
        int width = Weights.Length;
        if (x.Length % width != 0) throw new ArgumentException($"LogisticRegression.Logits: {x.Length} values are not rows of {width} features");
        var logits = new float[x.Length / width];
        for (int r = 0; r < logits.Length; r++)
        {
            double sum = Bias;
            for (int f = 0; f < width; f++) sum += (double)Weights[f] * x[r * width + f];
            logits[r] = (float)sum;
        }
        return logits;
    }
}
