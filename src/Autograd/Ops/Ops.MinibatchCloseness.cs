namespace NativeGan;

// Minibatch discrimination's closeness features (Salimans et al. 2016): one fused kernel each way
// (src/Kernels/Ops/MinibatchCloseness.cs), and a recorded backward whose own backward is fused again.
public static partial class Ops
{
    /// <summary>
    /// Minibatch discrimination's closeness o [N, B] of m [N, B, C]: o[i, b] = Σ_{j≠i} exp(-‖m[i, b] - m[j, b]‖₁)
    /// (<paramref name="includeSelf"/> adds the j = i term, 1). One fused kernel each way. When the backward is
    /// itself recorded (createGraph: a penalty on D's input gradient, R1 or WGAN-GP's), it is an op of its own,
    /// <see cref="ClosenessBackward"/>, whose backward is fused again; <paramref name="doubleBackward"/> picks
    /// the older composition of broadcast ops instead (v1, which also has third derivatives).
    /// </summary>
    public static Tensor MinibatchCloseness(this Tensor m, bool includeSelf = false,
        ClosenessDoubleBackwardVariant doubleBackward = ClosenessDoubleBackwardVariant.Default)
    {
        if (doubleBackward is < ClosenessDoubleBackwardVariant.Default or > ClosenessDoubleBackwardVariant.Fused)
            throw new ArgumentOutOfRangeException(nameof(doubleBackward),
                $"MinibatchCloseness: no double-backward variant {(int)doubleBackward}; the variants are 1 (Composed), 2 (Fused) and 0 (Default)");
        return Autograd.Record("MinibatchCloseness", NativeGan.MinibatchCloseness.Forward(m, includeSelf), [m],
            (g, n) => !Autograd.IsGradEnabled
                ? [TensorScope.Track(NativeGan.MinibatchCloseness.Backward(g, n.Saved[0]))]
                : doubleBackward == ClosenessDoubleBackwardVariant.Composed
                    ? [ClosenessBackwardComposed(g, n.Saved[0])]
                    : [ClosenessBackward(g, n.Saved[0])],
            save: [m]);
    }

    /// <summary>How a recorded closeness backward is differentiated, numbered as written (kept both ways to compare
    /// them: the benchmarks' `mbd-quick`). An argument of <see cref="MinibatchCloseness"/>, never a global setting.</summary>
    public enum ClosenessDoubleBackwardVariant
    {
        /// <summary>v2, <see cref="Fused"/>: measured faster than v1 (benchmarks/NOTES.md, minibatch discrimination).</summary>
        Default = 0,
        /// <summary>v1: broadcast ops over [N, N, B, C], several tensors of N²·B·C floats each way; any order.</summary>
        Composed = 1,
        /// <summary>v2: one fused kernel for dm and one each for its gradients; second derivatives only.</summary>
        Fused = 2,
    }

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
                        "by the fused variant; pass doubleBackward: ClosenessDoubleBackwardVariant.Composed to MinibatchCloseness");
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
}
