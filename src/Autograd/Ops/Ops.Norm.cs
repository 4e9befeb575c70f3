namespace NativeGan;

// Norms used by GAN losses and layers, composed from the ops above so that their gradients of every
// order come from those ops' rules.
public static partial class Ops
{
    /// <summary>
    /// The L2 norm of each sample: sqrt(sum over every axis but the first of x² + eps), shape [N]. The
    /// epsilon sits inside the square root: at a zero gradient (a critic that is flat around x) the norm
    /// is sqrt(eps), not 0, so its derivative x / norm is 0, not 0/0 = NaN (PITFALLS: NaN at zero norm).
    /// </summary>
    public static Tensor PerSampleL2Norm(this Tensor x, float eps = 1e-12f)
    {
        if (x.Rank < 2) throw new TensorShapeException($"PerSampleL2Norm: needs [N, ...], got shape {Shapes.Format(x.Shape)}");
        var axes = Enumerable.Range(1, x.Rank - 1).ToArray();
        using var squares = x.Square();
        using var sums = squares.Sum(axes);
        using var shifted = sums.Add(eps);
        return shifted.Sqrt();
    }
}
