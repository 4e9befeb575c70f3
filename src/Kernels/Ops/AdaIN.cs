namespace NativeGan;

/// <summary>
/// Adaptive instance normalisation (Huang and Belongie 2017; the style input of StyleGAN):
/// <c>y = styleScale[n,c] * (x - mean[n,c]) / sqrt(var[n,c] + eps) + styleBias[n,c]</c>, with the
/// instance statistics of the content x (biased variance over H, W). It is instance norm whose affine
/// parameters differ per sample: the kernels are <see cref="Normalization"/>'s with the grouping
/// <see cref="NormLayout.PerPlane"/> and one parameter per plane.
/// </summary>
public static class AdaIN
{
    const string Op = "AdaIN";

    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>y, and the per-plane mean and biased variance ([N*C] each).</summary>
        public static (double[] Y, double[] Mean, double[] Var) Forward(double[] content, int n, int c, int h, int w,
            double[] styleScale, double[] styleBias, double eps)
        {
            int plane = h * w;
            var y = new double[content.Length];
            var mean = new double[n * c];
            var variance = new double[n * c];
            for (int p = 0; p < n * c; p++)
            {
                (mean[p], variance[p]) = InstanceNorm2d.Reference.Moments(content, p * plane, plane);
                for (int k = 0; k < plane; k++)
                {
                    int i = p * plane + k;
                    y[i] = styleScale[p] * (content[i] - mean[p]) / Math.Sqrt(variance[p] + eps) + styleBias[p];
                }
            }
            return (y, mean, variance);
        }

        /// <summary>dContent by the chain rule through the plane's statistics; dScale = sum(dy * xhat), dBias = sum(dy) per plane.</summary>
        public static (double[] DContent, double[] DScale, double[] DBias) Backward(double[] dy, double[] content, int n, int c, int h, int w,
            double[] styleScale, double eps)
        {
            int plane = h * w;
            var dx = new double[content.Length];
            var dScale = new double[n * c];
            var dBias = new double[n * c];
            for (int p = 0; p < n * c; p++)
                (dScale[p], dBias[p]) = InstanceNorm2d.Reference.GroupBackward(dy, content, p * plane, plane, styleScale[p], eps, dx);
            return (dx, dScale, dBias);
        }
    }

    // ================================================================ tensor entry points

    /// <summary>y for content [N, C, H, W], styleScale and styleBias [N, C]. Returns the content's per-plane mean and 1/sqrt(var + eps), [N*C].</summary>
    public static (Tensor Y, Tensor Mean, Tensor InvStd) Forward(Tensor content, Tensor styleScale, Tensor styleBias, float eps = 1e-5f)
    {
        var layout = CheckForward(content, styleScale, styleBias);
        var y = Tensor.EmptyLike(content);
        var mean = Tensor.Empty(content.Device, layout.Groups);
        var invStd = Tensor.Empty(content.Device, layout.Groups);
        Normalization.StatisticsAndNormalize(content, layout, mean, invStd, eps, styleScale, styleBias, y);
        return (y, mean, invStd);
    }

    /// <summary><see cref="Forward"/> into given tensors: y like content (may be content), mean and invStd [N*C].</summary>
    public static void ForwardInto(Tensor content, Tensor styleScale, Tensor styleBias, Tensor y, Tensor mean, Tensor invStd, float eps = 1e-5f)
    {
        var layout = CheckForward(content, styleScale, styleBias);
        CheckStatistics(layout, mean, invStd);
        Check.SameShape(Op, content, y);
        Check.SameDevice(Op, content, y, mean, invStd);
        Normalization.StatisticsAndNormalize(content, layout, mean, invStd, eps, styleScale, styleBias, y);
    }

    /// <summary>Gradients with respect to the content (through its statistics), the scale and the bias ([N, C] each).</summary>
    public static (Tensor DContent, Tensor DScale, Tensor DBias) Backward(Tensor dy, Tensor content, Tensor styleScale, Tensor mean, Tensor invStd)
    {
        var layout = CheckBackward(dy, content, styleScale, mean, invStd);
        var dx = Tensor.EmptyLike(content);
        var dScale = Tensor.Empty(content.Device, content.Dim(0), content.Dim(1));
        var dBias = Tensor.Empty(content.Device, content.Dim(0), content.Dim(1));
        Normalization.Backward(dy, content, layout, mean, invStd, styleScale, dx, dScale, dBias);
        return (dx, dScale, dBias);
    }

    /// <summary><see cref="Backward"/> into given tensors (dContent may be dy); dScale, dBias [N, C] each optional.</summary>
    public static void BackwardInto(Tensor dy, Tensor content, Tensor styleScale, Tensor mean, Tensor invStd,
        Tensor dContent, Tensor? dScale, Tensor? dBias)
    {
        var layout = CheckBackward(dy, content, styleScale, mean, invStd);
        int n = content.Dim(0), c = content.Dim(1);
        Check.SameShape(Op, dContent, content);
        Normalization.CheckOptional(Op, "dScale", dScale, n, c);
        Normalization.CheckOptional(Op, "dBias", dBias, n, c);
        Normalization.SameDevice(Op, content, dContent, dScale, dBias);
        Normalization.Backward(dy, content, layout, mean, invStd, styleScale, dContent, dScale, dBias);
    }

    // Every input is checked before anything is allocated, so a refused call leaks nothing.

    static NormLayout CheckInput(Tensor content, Tensor styleScale)
    {
        Check.Rank(Op, "content", content, 4);
        Check.NotEmpty(Op, "content", content);
        int n = content.Dim(0), c = content.Dim(1), plane = content.Dim(2) * content.Dim(3);
        Check.Shape(Op, "styleScale", styleScale, n, c);
        return NormLayout.PerPlane(n, c, plane).WithAffine(n * c, perElement: false, hasGamma: true, hasBeta: true);
    }

    static NormLayout CheckForward(Tensor content, Tensor styleScale, Tensor styleBias)
    {
        var layout = CheckInput(content, styleScale);
        Check.Shape(Op, "styleBias", styleBias, content.Dim(0), content.Dim(1));
        Check.SameDevice(Op, content, styleScale, styleBias);
        return layout;
    }

    static NormLayout CheckBackward(Tensor dy, Tensor content, Tensor styleScale, Tensor mean, Tensor invStd)
    {
        var layout = CheckInput(content, styleScale);
        Check.SameShape(Op, dy, content);
        CheckStatistics(layout, mean, invStd);
        Check.SameDevice(Op, dy, content, styleScale, mean, invStd);
        return layout;
    }

    static void CheckStatistics(NormLayout layout, Tensor mean, Tensor invStd)
    {
        Check.Shape(Op, "mean", mean, layout.Groups);
        Check.Shape(Op, "invStd", invStd, layout.Groups);
    }
}
