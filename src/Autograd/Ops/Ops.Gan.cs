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
    /// (<paramref name="includeSelf"/> adds the j = i term, 1). One fused kernel each way. When the backward is
    /// itself recorded (createGraph: a penalty on D's input gradient, R1 or WGAN-GP's), it is an op of its own,
    /// <see cref="ClosenessBackward"/>, whose backward is fused again (<see cref="ClosenessDoubleBackward"/> picks
    /// the older composition of broadcast ops instead).
    /// </summary>
    public static Tensor MinibatchCloseness(this Tensor m, bool includeSelf = false) =>
        Autograd.Record("MinibatchCloseness", NativeGan.MinibatchCloseness.Forward(m, includeSelf), [m],
            (g, n) => !Autograd.IsGradEnabled
                ? [TensorScope.Track(NativeGan.MinibatchCloseness.Backward(g, n.Saved[0]))]
                : ClosenessDoubleBackward == ClosenessDoubleBackwardVariant.Fused
                    ? [ClosenessBackward(g, n.Saved[0])]
                    : [ClosenessBackwardComposed(g, n.Saved[0])],
            save: [m]);

    /// <summary>How a recorded closeness backward is differentiated (kept both ways to compare them: the benchmarks' `mbd-quick`).</summary>
    public enum ClosenessDoubleBackwardVariant
    {
        /// <summary>v1: broadcast ops over [N, N, B, C], several tensors of N²·B·C floats each way; any order.</summary>
        Composed,
        /// <summary>v2: one fused kernel for dm and one each for its gradients; second derivatives only.</summary>
        Fused,
    }

    /// <summary>The variant a recorded closeness backward uses on this thread (the one running the backward):
    /// <see cref="ClosenessDoubleBackwardVariant.Fused"/> unless a benchmark or test sets it, which then reaches no other thread.</summary>
    public static ClosenessDoubleBackwardVariant ClosenessDoubleBackward
    {
        get => closenessDoubleBackward ?? ClosenessDoubleBackwardVariant.Fused;
        set => closenessDoubleBackward = value;
    }

    [ThreadStatic] static ClosenessDoubleBackwardVariant? closenessDoubleBackward;

    /// <summary>
    /// dm = Backward(g, m) as a recorded op of g and m: its backward takes H = dL/d(dm) to (dG, dm) in fused
    /// kernels (<see cref="NativeGan.MinibatchCloseness.BackwardBackward"/>). A third derivative would need that
    /// backward recorded in turn, which this op does not do: it says so (the composed variant can).
    /// </summary>
    static Tensor ClosenessBackward(Tensor g, Tensor m) =>
        Autograd.Record("MinibatchClosenessBackward", NativeGan.MinibatchCloseness.Backward(g, m), [g, m],
            (h, n) =>
            {
                if (Autograd.IsGradEnabled)
                    throw new NotSupportedException("MinibatchClosenessBackward: a third derivative of minibatch discrimination is not implemented " +
                        "by the fused variant; set Ops.ClosenessDoubleBackward = ClosenessDoubleBackwardVariant.Composed");
                var (dg, dm) = NativeGan.MinibatchCloseness.BackwardBackward(h, n.Saved[0], n.Saved[1]);
                TensorScope.Track(dg);
                TensorScope.Track(dm);
                return [n.NeedsGrad(0) ? dg : null, n.NeedsGrad(1) ? dm : null];
            },
            save: [g, m]);

    /// <summary>dm = -Σ_j (G[k] + G[j]) e[k, j] sign(m[k] - m[j]) from recorded ops (see <see cref="NativeGan.MinibatchCloseness"/>).</summary>
    static Tensor ClosenessBackwardComposed(Tensor g, Tensor m)
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
