namespace NativeGan.Gan.Style;

/// <summary>
/// How far a stylised picture is from its content and its style, in one encoder's features, the same way whichever
/// method made it (the AdaIN paper's comparison of methods by their losses).
/// </summary>
/// <param name="Content">mean((F(out) - F(content))²) at the content layer.</param>
/// <param name="StyleMeanStd">Σ over the style layers of AdaIN's style loss (channel means and standard deviations).</param>
/// <param name="StyleGram">Σ over the style layers of Gatys' style loss (Gram matrices).</param>
public sealed record StyleMeasures(double Content, double StyleMeanStd, double StyleGram)
{
    /// <summary>The measures of <paramref name="output"/> against <paramref name="content"/> and <paramref name="style"/> (RGB [1, 3, H, W], 0..255).</summary>
    public static StyleMeasures Of(StyleEncoder encoder, Tensor output, Tensor content, Tensor style, string contentLayer, IReadOnlyList<string> styleLayers)
    {
        using var _ = Autograd.NoGrad();
        using var scope = new TensorScope();
        IReadOnlyDictionary<string, Tensor> Features(Tensor rgb)
        {
            using var input = encoder.Preprocess(rgb);
            return encoder.Network.Run(new Dictionary<string, Tensor> { [encoder.InputName] = input }, styleLayers.Append(contentLayer).Distinct(), anyImageSize: true);
        }
        var fo = Features(output);
        var fc = Features(content);
        var fs = Features(style);
        double contentLoss = StyleLosses.ContentLoss(fo[contentLayer], fc[contentLayer]).Item();
        double meanStd = 0, gram = 0;
        foreach (var layer in styleLayers)
        {
            var (mean, std) = AdaInMath.MeanStd(fs[layer]);
            meanStd += AdaInMath.StyleLoss(fo[layer], mean, std).Item();
            gram += StyleLosses.StyleLoss(fo[layer], StyleLosses.Gram(fs[layer])).Item();
        }
        return new(contentLoss, meanStd, gram);
    }
}
