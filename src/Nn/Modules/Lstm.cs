namespace NativeGan.Nn;

/// <summary>
/// A multi-layer LSTM (PyTorch's <c>nn.LSTM</c>, its parameter names, shapes and init): each layer and direction runs
/// <code>
/// a = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh      [N, 4H], gates in the order i, f, g, o
/// c_t = σ(a_f) c_{t-1} + σ(a_i) tanh(a_g)            h_t = σ(a_o) tanh(c_t)
/// </code>
/// over the sequence; a reverse direction (<c>bidirectional</c>) runs from the last step to the first and its
/// h is joined to the forward one's (features [H | H_reverse]); a layer's output is the next layer's input, with
/// dropout between layers in training. Per step: two GEMMs (<see cref="Ops.Linear"/>) and the fused cell
/// (<see cref="Ops.LstmCell"/>); backpropagation through time is the tape's.
/// <para>Parameters (4H rows, gates i, f, g, o), init, layers and directions: <see cref="RecurrentModule"/>.</para>
/// <para>Call it inside a <see cref="TensorScope"/> (a training step): the per-step intermediates are op results,
/// which the scope frees. The input x_t of each step is a view of the input (<see cref="Ops.Unbind"/>): when the input itself
/// requires grad its gradient costs one full-size tensor per step.</para>
/// </summary>
public sealed class Lstm(int inputSize, int hiddenSize, int numLayers = 1, bool bias = true, bool batchFirst = false, float dropout = 0f,
    bool bidirectional = false, Device? device = null, Rng? rng = null, Rng? dropoutRng = null)
    : RecurrentModule("Lstm", 4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional, device, rng, dropoutRng)
{
    /// <summary>The output sequence [T, N, D·H] ([N, T, D·H] batch-first) of x [T, N, in] ([N, T, in]), from zero states.</summary>
    public override Tensor Forward(Tensor x) => Forward(x, null, null).Output;

    /// <summary>
    /// The output sequence and the final states hN, cN [layers·D, N, H] (PyTorch's order: layer by layer, the
    /// forward direction first), from the initial states h0, c0 of that shape (zeros when null).
    /// </summary>
    public (Tensor Output, (Tensor H, Tensor C) State) Forward(Tensor x, Tensor? h0, Tensor? c0)
    {
        // The state is [h | c] [N, 2H]: one fused cell a step.
        var (output, finalH, finalState) = Run(x, [h0, c0],
            (k, xt, h, state) => xt.Linear(WeightIh[k], BiasIh[k]).Add(h.Linear(WeightHh[k], BiasHh[k])).LstmCell(state),
            state => state.ChannelSlice(0, HiddenSize), ["h0", "c0"]);
        return (output, (Ops.Stack(finalH), Ops.Stack([.. finalState.Select(state => state.ChannelSlice(HiddenSize, HiddenSize))])));
    }
}
