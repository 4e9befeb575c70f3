namespace NativeGan;

// The GRU cell's gate math (src/Kernels/Ops/GruCell.cs): one fused kernel each way; under createGraph the same
// formulas from recorded ops.
public static partial class Ops
{
    /// <summary>
    /// One GRU step after its GEMMs: h [N, H] from xg = x W_ih^T + b_ih and hg = h_prev W_hh^T + b_hh ([N, 3H] each,
    /// PyTorch's order r, z, n) and <paramref name="hPrev"/> [N, H]:
    /// <c>r = σ(xg_r + hg_r)</c>, <c>z = σ(xg_z + hg_z)</c>, <c>n = tanh(xg_n + r hg_n)</c>, <c>h = (1 - z) n + z h_prev</c>.
    /// Backward: the fused kernel, or with createGraph <see cref="GruCellBackwardRecorded"/>.
    /// </summary>
    public static Tensor GruCell(Tensor xg, Tensor hg, Tensor hPrev)
    {
        int hidden = hPrev.Rank == 2 ? hPrev.Dim(1) : 0;
        return Autograd.Record("GruCell", NativeGan.GruCell.Forward(xg, hg, hPrev), [xg, hg, hPrev],
            (g, n) =>
            {
                if (Autograd.IsGradEnabled)
                    return GruCellBackwardRecorded(g, n.Saved[0], n.Saved[1], n.Saved[2], hidden);
                var (dxg, dhg, dPrev) = NativeGan.GruCell.Backward(g, n.Saved[0], n.Saved[1], n.Saved[2]);
                TensorScope.Track(dxg);
                TensorScope.Track(dhg);
                TensorScope.Track(dPrev);
                return [n.NeedsGrad(0) ? dxg : null, n.NeedsGrad(1) ? dhg : null, n.NeedsGrad(2) ? dPrev : null];
            },
            save: [xg, hg, hPrev]);
    }

    /// <summary>The GRU cell's backward from recorded ops (gates recomputed from the saved inputs); differentiable again.</summary>
    static Tensor?[] GruCellBackwardRecorded(Tensor dh, Tensor xg, Tensor hg, Tensor hPrev, int hidden)
    {
        var r = xg.ChannelSlice(0, hidden).Add(hg.ChannelSlice(0, hidden)).Sigmoid();
        var z = xg.ChannelSlice(hidden, hidden).Add(hg.ChannelSlice(hidden, hidden)).Sigmoid();
        var hn = hg.ChannelSlice(2 * hidden, hidden);
        var c = xg.ChannelSlice(2 * hidden, hidden).Add(r.Mul(hn)).Tanh();
        var dn = dh.Mul(z.Affine(-1f, 1f)).Mul(c.Square().Affine(-1f, 1f));
        var dz = dh.Mul(hPrev.Sub(c)).Mul(z.Mul(z.Affine(-1f, 1f)));
        var dr = dn.Mul(hn).Mul(r.Mul(r.Affine(-1f, 1f)));
        return [ChannelConcat(dr, dz, dn), ChannelConcat(dr, dz, dn.Mul(r)), dh.Mul(z)];
    }
}
