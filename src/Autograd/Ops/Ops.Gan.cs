namespace NativeGan;

// Ops the GAN models need beyond the core set: maxima (elementwise, and over an axis: maxout layers) and a
// log-softmax (the MNIST classifier's cross-entropy), composed from existing kernels; and the closeness features
// of minibatch discrimination, one fused kernel each way (src/Kernels/Ops/MinibatchCloseness.cs).
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
    /// The maximum over <paramref name="axis"/>, which is removed: [N, P, F] over axis 1 gives [N, F] (a maxout
    /// layer's pieces). One reduction kernel forward. Backward: each output gradient goes to the input elements
    /// that equal the maximum, shared evenly when several tie (PyTorch's <c>amax</c> rule), through the constant
    /// mask hit / count (hit = 1 at the maximum, else 0; count = the hits along the axis), one kernel
    /// (<see cref="MaxOverMask"/>). Piecewise linear: the rule is differentiable again (its second derivative is 0).
    /// </summary>
    public static Tensor MaxOver(this Tensor x, int axis)
    {
        int a = axis < 0 ? axis + x.Rank : axis;
        if (a < 0 || a >= x.Rank) throw new TensorShapeException($"MaxOver: axis {axis} is outside shape {Shapes.Format(x.Shape)}");
        var kept = (int[])x.Shape.Clone();
        kept[a] = 1;
        return Autograd.Record("MaxOver", Reduce.Max(x, [a], keepDims: false), [x],
            (g, n) =>
            {
                var mask = TensorScope.Track(MaxOverMask.Compute(n.Saved[0], n.Saved[1], a)); // a constant
                using var gKept = Reshape(g, kept);
                return [gKept.Mul(mask)];                                         // broadcast over the axis
            },
            save: [x], saveOutput: true);
    }

    /// <summary>
    /// Minibatch discrimination's closeness o [N, B] of m [N, B, C]: o[i, b] = Σ_{j≠i} exp(-‖m[i, b] - m[j, b]‖₁)
    /// (<paramref name="includeSelf"/> adds the j = i term, 1). One fused kernel each way; when the backward is
    /// itself recorded (createGraph) it is built from broadcast ops over [N, N, B, C] instead, with the sign of
    /// m[k] - m[j] a constant (the L1 norm is piecewise linear), so it differentiates again.
    /// </summary>
    public static Tensor MinibatchCloseness(this Tensor m, bool includeSelf = false) =>
        Autograd.Record("MinibatchCloseness", NativeGan.MinibatchCloseness.Forward(m, includeSelf), [m],
            (g, n) => Autograd.IsGradEnabled
                ? [ClosenessBackwardRecorded(g, n.Saved[0])]
                : [TensorScope.Track(NativeGan.MinibatchCloseness.Backward(g, n.Saved[0]))],
            save: [m]);

    /// <summary>dm = -Σ_j (G[k] + G[j]) e[k, j] sign(m[k] - m[j]) from recorded ops (see <see cref="NativeGan.MinibatchCloseness"/>).</summary>
    static Tensor ClosenessBackwardRecorded(Tensor g, Tensor m)
    {
        int n = m.Dim(0), kernels = m.Dim(1), dims = m.Dim(2);
        using var scope = new TensorScope(ownsNodes: false); // frees the intermediates; the nodes belong to the graph being made
        var diff = Reshape(m, n, 1, kernels, dims).Sub(Reshape(m, 1, n, kernels, dims));      // [N, N, B, C]
        var e = diff.Abs().Sum([3]).Neg().Exp();                                              // [N, N, B]
        var w = Reshape(g, n, 1, kernels).Add(Reshape(g, 1, n, kernels)).Mul(e);              // (G[k] + G[j]) e[k, j]
        var sign = Constant(UnaryOp.Sign, diff);
        return scope.Keep(Reshape(w, n, n, kernels, 1).Mul(sign).Sum([1]).Neg());            // [N, B, C]
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
