namespace NativeGan.Nn;

/// <summary>
/// A multi-layer GRU (PyTorch's <c>nn.GRU</c>, its parameter names, shapes and init), built as <see cref="Lstm"/> is:
/// <code>
/// xg = x_t W_ih^T + b_ih    hg = h_{t-1} W_hh^T + b_hh      [N, 3H] each, gates in the order r, z, n
/// r = σ(xg_r + hg_r)   z = σ(xg_z + hg_z)   n = tanh(xg_n + r hg_n)   h_t = (1 - z) n + z h_{t-1}
/// </code>
/// per layer and direction; the reverse direction, the joined features [H | H_reverse], dropout between layers in
/// training and batch-first as in <see cref="Lstm"/>. Per step two GEMMs and the fused cell (<see cref="Ops.GruCell"/>).
/// <para>Parameters, per layer k and direction suffix ("" or "_reverse"): <c>weight_ih_l{k}</c> [3H, in],
/// <c>weight_hh_l{k}</c> [3H, H], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c> [3H]; all U(-1/sqrt(H), 1/sqrt(H)).
/// Call it inside a <see cref="TensorScope"/>.</para>
/// </summary>
public sealed class Gru(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f,
    bool bidirectional = false, Device? device = null, Rng? rng = null, Rng? dropoutRng = null)
    : RecurrentModule("Gru", 3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, device, rng, dropoutRng)
{
    /// <summary>The output sequence [T, N, D·H] ([N, T, D·H] batch-first) of x [T, N, in] ([N, T, in]), from zero states.</summary>
    public override Tensor Forward(Tensor x) => Forward(x, null).Output;

    /// <summary>The output sequence and the final state hN [layers·D, N, H], from h0 of that shape (zeros when null).</summary>
    public (Tensor Output, Tensor H) Forward(Tensor x, Tensor? h0)
    {
        var (output, finalH, _) = Run(x, [h0],
            (k, xt, h, _) => Ops.GruCell(xt.Linear(WeightIh[k], BiasIh[k]), h.Linear(WeightHh[k], BiasHh[k]), h),
            h => h);
        return (output, Ops.Stack(finalH));
    }
}
