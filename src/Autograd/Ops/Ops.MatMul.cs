namespace NativeGan;

// Matrix products. With C = op(A) op(B) (op = transpose or not) and G = dL/dC:
//   dL/d op(A) = G op(B)^T        dL/d op(B) = op(A)^T G
// and undoing the op on the left side gives four cases, each itself a MatMul with transpose flags.
// So the backward of MatMul is MatMul: the op is closed under differentiation, to any order.
public static partial class Ops
{
    /// <summary>op(a) @ op(b) for rank-2 tensors; op transposes when the flag is set.</summary>
    public static Tensor MatMul(this Tensor a, Tensor b, bool transA = false, bool transB = false) =>
        Autograd.Record("MatMul", Gemm.MatMul(a, b, transA, transB), [a, b],
            (g, n) =>
            {
                Tensor A = n.Saved[0], B = n.Saved[1];
                Tensor? dA = !n.NeedsGrad(0) ? null
                    : transA ? B.MatMul(g, transB, true)        // dA = (G op(B)^T)^T = op(B) G^T
                             : g.MatMul(B, false, !transB);     // dA = G op(B)^T
                Tensor? dB = !n.NeedsGrad(1) ? null
                    : transB ? g.MatMul(A, true, transA)        // dB = (op(A)^T G)^T = G^T op(A)
                             : A.MatMul(g, !transA, false);     // dB = op(A)^T G
                return [dA, dB];
            },
            save: [a, b]);

    /// <summary>
    /// The fully connected layer: x [N, in] @ weight [out, in]^T + bias [out] (TorchSharp's layout).
    /// A composition of MatMul and Add, so its gradients of every order come from theirs. Like every
    /// composite op it disposes its intermediate at once: the graph keeps its own handles on what it needs.
    /// </summary>
    public static Tensor Linear(this Tensor x, Tensor weight, Tensor? bias = null)
    {
        if (bias is null) return x.MatMul(weight, transB: true);
        using var xw = x.MatMul(weight, transB: true);
        return xw.Add(bias);
    }
}
