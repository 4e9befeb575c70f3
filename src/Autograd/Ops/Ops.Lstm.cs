namespace NativeGan;

// The LSTM cell's gate math (src/Kernels/Ops/LstmCell.cs): one fused kernel each way; when the backward is
// itself recorded (createGraph), the same formulas from recorded ops, so gradients of every order follow.
public static partial class Ops
{
    /// <summary>
    /// One LSTM step after its GEMMs: the new state [N, 2H] = [h | c] from the gate pre-activations
    /// <paramref name="gates"/> [N, 4H] (PyTorch's order i, f, g, o; both GEMMs and both biases already added)
    /// and the previous state <paramref name="statePrev"/> [N, 2H], of which only the c half is read:
    /// <c>c = σ(f) c_prev + σ(i) tanh(g)</c>, <c>h = σ(o) tanh(c)</c>. Take h and c with
    /// <c>state.ChannelSlice(0, H)</c> and <c>state.ChannelSlice(H, H)</c>; the next step can take the state itself.
    /// <para>Backward: the fused kernel (dGates, and dStatePrev whose h half is 0) when nothing is being recorded;
    /// with createGraph, <see cref="LstmCellBackwardRecorded"/>.</para>
    /// </summary>
    public static Tensor LstmCell(this Tensor gates, Tensor statePrev)
    {
        int hidden = gates.Rank == 2 ? gates.Dim(1) / 4 : 0;
        return Autograd.Record("LstmCell", NativeGan.LstmCell.Forward(gates, statePrev), [gates, statePrev],
            (g, n) =>
            {
                if (Autograd.IsGradEnabled)
                    return LstmCellBackwardRecorded(g, n.Saved[0], n.Saved[1], hidden, n.NeedsGrad(0), n.NeedsGrad(1));
                var (dGates, dPrev) = NativeGan.LstmCell.Backward(g, n.Saved[0], n.Saved[1], n.Saved[2]);
                TensorScope.Track(dGates);
                TensorScope.Track(dPrev);
                return [n.NeedsGrad(0) ? dGates : null, n.NeedsGrad(1) ? dPrev : null];
            },
            save: [gates, statePrev], saveOutput: true);
    }

    /// <summary>
    /// The cell's backward from recorded ops (the formulas of <see cref="NativeGan.LstmCell"/>): the gate
    /// activations and c are recomputed from the saved inputs, so the result is a function of
    /// (dState, gates, statePrev) that the tape differentiates again. The rule runs inside the engine's scope,
    /// which frees the intermediates.
    /// </summary>
    static Tensor?[] LstmCellBackwardRecorded(Tensor dState, Tensor gates, Tensor statePrev, int hidden, bool wantGates, bool wantPrev)
    {
        var i = gates.ChannelSlice(0, hidden).Sigmoid();
        var f = gates.ChannelSlice(hidden, hidden).Sigmoid();
        var g = gates.ChannelSlice(2 * hidden, hidden).Tanh();
        var o = gates.ChannelSlice(3 * hidden, hidden).Sigmoid();
        var cPrev = statePrev.ChannelSlice(hidden, hidden);
        var tc = f.Mul(cPrev).Add(i.Mul(g)).Tanh();
        var dh = dState.ChannelSlice(0, hidden);
        var dc = dState.ChannelSlice(hidden, hidden).Add(dh.Mul(o).Mul(tc.Square().Affine(-1f, 1f)));
        Tensor? dGates = null, dPrev = null;
        if (wantGates)
        {
            static Tensor SigmoidSlope(Tensor s) => s.Mul(s.Affine(-1f, 1f)); // σ' = σ (1 - σ)
            dGates = ChannelConcat(
                dc.Mul(g).Mul(SigmoidSlope(i)),
                dc.Mul(cPrev).Mul(SigmoidSlope(f)),
                dc.Mul(i).Mul(g.Square().Affine(-1f, 1f)),
                dh.Mul(tc).Mul(SigmoidSlope(o)));
        }
        if (wantPrev)
            dPrev = ChannelConcat(TensorScope.Track(Tensor.Zeros(dState.Device, dState.Dim(0), hidden)), dc.Mul(f));
        return [dGates, dPrev];
    }
}
