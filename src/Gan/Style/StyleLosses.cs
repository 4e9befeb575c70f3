namespace NativeGan.Gan.Style;

/// <summary>
/// The losses of neural style transfer (Gatys, Ecker and Bethge 2016), composed from recorded ops, so they
/// differentiate (to the pixels, and again) with no kernel of their own.
/// </summary>
public static class StyleLosses
{
    /// <summary>
    /// The Gram matrices of feature maps F [N, C, H, W]: G[n, c, c'] = (1 / (H W)) Σ_p F[n, c, p] F[n, c', p], shape
    /// [N, C, C]: the correlations between channels, averaged over positions (so images of different sizes compare).
    /// Gatys et al. use the plain sum Σ_p and divide the loss by 4 H²W² instead; the averages here put that factor
    /// into the Gram matrix.
    /// </summary>
    public static Tensor Gram(Tensor features)
    {
        if (features.Rank != 4) throw new TensorShapeException($"Gram: expects feature maps [N, C, H, W], got {Shapes.Format(features.Shape)}");
        int n = features.Dim(0), c = features.Dim(1), positions = features.Dim(2) * features.Dim(3);
        // Intermediates are disposed by hand (a TensorScope here would free the graph nodes the caller's backward needs).
        var grams = new Tensor[n];
        var samples = n == 1 ? [features] : features.Unbind();
        try
        {
            for (int i = 0; i < n; i++)
            {
                using var f = Ops.Reshape(samples[i], c, positions);
                grams[i] = f.MatMul(f, transB: true);
            }
            using var stacked = n == 1 ? Ops.Reshape(grams[0], 1, c, c) : Ops.Stack(grams);
            return stacked.Mul(1f / positions);
        }
        finally
        {
            foreach (var g in grams) g?.Dispose();
            if (n > 1) foreach (var sample in samples) sample.Dispose();
        }
    }

    /// <summary>The mean over [N, C, C] of (Gram(F) - target)²: one layer's style loss (target from the style image).</summary>
    public static Tensor StyleLoss(Tensor features, Tensor targetGram)
    {
        using var g = Gram(features);
        if (!g.Shape.SequenceEqual(targetGram.Shape))
            throw new TensorShapeException($"StyleLoss: the Gram matrix {Shapes.Format(g.Shape)} and its target {Shapes.Format(targetGram.Shape)} differ");
        using var difference = g.Sub(targetGram);
        using var squared = difference.Square();
        return squared.Mean();
    }

    /// <summary>The mean of (F - target)²: the content loss at one layer.</summary>
    public static Tensor ContentLoss(Tensor features, Tensor target)
    {
        using var difference = features.Sub(target);
        using var squared = difference.Square();
        return squared.Mean();
    }

    /// <summary>
    /// Total variation of images x [N, C, H, W]: the mean over every neighbour pair, across and down, of the squared
    /// difference (the smoothness prior of Mahendran and Vedaldi that style transfer adds). The differences are one
    /// convolution with fixed 2 x 2 kernels (per channel: [-1, 1] across, [-1; 1] down), so it is recorded and
    /// differentiable like any convolution.
    /// </summary>
    public static Tensor TotalVariation(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(2) < 2 || x.Dim(3) < 2)
            throw new TensorShapeException($"TotalVariation: expects images [N, C, H, W] of at least 2 x 2, got {Shapes.Format(x.Shape)}");
        int c = x.Dim(1);
        var w = new float[2 * c * c * 4];
        for (int ch = 0; ch < c; ch++)
        {
            // Output ch: x[i, j+1] - x[i, j]; output c + ch: x[i+1, j] - x[i, j] (kernel laid out [a, b] = [row, column]).
            int across = (ch * c + ch) * 4, down = ((c + ch) * c + ch) * 4;
            w[across + 0] = -1; w[across + 1] = 1;
            w[down + 0] = -1; w[down + 2] = 1;
        }
        using var weight = Tensor.FromArray(w, [2 * c, c, 2, 2], x.Device);
        using var d = x.Conv2d(weight);
        using var squared = d.Square();
        // The last column of "across" and the last row of "down" would pair with nothing: the 2 x 2 window has no such
        // pairs; it covers (H - 1) x (W - 1) positions, so the pairs on the last row (across) and column (down) are
        // left out, a negligible edge for images of the sizes styled.
        return squared.Mean();
    }
}
