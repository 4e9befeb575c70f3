namespace NativeGan;

// Ops the GAN models need beyond the core set, each composed from existing kernels (no new GPU kernel):
// an elementwise maximum (maxout layers), and a log-softmax (the MNIST classifier's cross-entropy).
public static partial class Ops
{
    /// <summary>
    /// max(a, b) elementwise, with numpy broadcasting (the existing <see cref="BinaryOp.Max"/> kernel).
    /// Backward: the gradient goes to the larger input, through the constant mask m = step(a - b)
    /// (1 where a &gt; b, else 0; ties go to b, as any subgradient may): da = g m, db = g (1 - m).
    /// Piecewise linear, so its second derivative is 0 and the rule is itself differentiable.
    /// </summary>
    public static Tensor Maximum(this Tensor a, Tensor b)
    {
        int[] aShape = a.Shape, bShape = b.Shape;
        return Autograd.Record("Maximum", Elementwise.Binary(BinaryOp.Max, a, b), [a, b],
            (g, n) =>
            {
                using var diff = Elementwise.Binary(BinaryOp.Sub, n.Saved[0], n.Saved[1]);
                var mask = Constant(UnaryOp.Step, diff, 0f); // broadcast shape of a and b
                var ga = g.Mul(mask);
                return [n.NeedsGrad(0) ? SumToShape(ga, aShape) : null,
                        n.NeedsGrad(1) ? SumToShape(g.Sub(ga), bShape) : null];
            },
            save: [a, b]);
    }

    /// <summary>
    /// log softmax over axis 1 of [N, K] logits: x_k - log sum_j exp(x_j), computed as
    /// (x - m) - log sum_j exp(x_j - m) with m the row maximum (held constant: the result does not depend on
    /// m, so no gradient flows through it), which keeps exp from overflowing.
    /// </summary>
    public static Tensor LogSoftmax(this Tensor x)
    {
        if (x.Rank != 2) throw new TensorShapeException($"LogSoftmax: expected [N, K] logits, got {Shapes.Format(x.Shape)}");
        using var rowMax = Reduce.Max(x, [1], keepDims: true); // a raw kernel result: a constant to autograd
        using var shifted = x.Sub(rowMax);
        using var exp = shifted.Exp();
        using var sum = exp.Sum([1], keepDims: true);
        using var lse = sum.Log();
        return shifted.Sub(lse);
    }
}
