using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The gate math of one GRU time step (PyTorch's <c>nn.GRU</c>), fused: one launch forward, one back. The two GEMMs
/// stay GEMMs and stay apart, because the reset gate scales only the hidden part of the candidate:
/// <c>xg = x W_ih^T + b_ih</c> and <c>hg = h_prev W_hh^T + b_hh</c>, [N, 3H] each in PyTorch's order r, z, n;
/// <code>
/// r = σ(xg_r + hg_r)   z = σ(xg_z + hg_z)   n = tanh(xg_n + r hg_n)
/// h = (1 - z) n + z h_prev
/// </code>
/// <para>Backward, with dh = dL/dh: <c>dh_prev = dh z</c>, <c>da_n = dh (1 - z)(1 - n²)</c>,
/// <c>da_z = dh (h_prev - n) z (1 - z)</c>, <c>da_r = da_n hg_n r (1 - r)</c>; then dxg = [da_r, da_z, da_n] and
/// dhg = [da_r, da_z, da_n r]. The gates are recomputed from xg and hg.</para>
/// </summary>
public static class GruCell
{
    const string Op = "GruCell";

    // ================================================================ float64 reference

    public static class Reference
    {
        static double S(double x) => 1 / (1 + Math.Exp(-x));

        /// <summary>h [N, H] from xg, hg [N, 3H] and hPrev [N, H].</summary>
        public static double[] Forward(double[] xg, double[] hg, double[] hPrev, int n, int hidden)
        {
            var h = new double[n * hidden];
            for (int b = 0; b < n; b++)
                for (int j = 0; j < hidden; j++)
                {
                    int a = b * 3 * hidden + j, s = b * hidden + j;
                    double r = S(xg[a] + hg[a]), z = S(xg[a + hidden] + hg[a + hidden]);
                    double c = Math.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
                    h[s] = (1 - z) * c + z * hPrev[s];
                }
            return h;
        }

        /// <summary>(dxg, dhg [N, 3H], dhPrev [N, H]) from dh [N, H].</summary>
        public static (double[] Dxg, double[] Dhg, double[] DhPrev) Backward(double[] dh, double[] xg, double[] hg, double[] hPrev, int n, int hidden)
        {
            var dxg = new double[xg.Length];
            var dhg = new double[hg.Length];
            var dPrev = new double[hPrev.Length];
            for (int b = 0; b < n; b++)
                for (int j = 0; j < hidden; j++)
                {
                    int a = b * 3 * hidden + j, s = b * hidden + j;
                    double r = S(xg[a] + hg[a]), z = S(xg[a + hidden] + hg[a + hidden]);
                    double c = Math.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
                    double dn = dh[s] * (1 - z) * (1 - c * c);
                    double dz = dh[s] * (hPrev[s] - c) * z * (1 - z);
                    double dr = dn * hg[a + 2 * hidden] * r * (1 - r);
                    dxg[a] = dhg[a] = dr;
                    dxg[a + hidden] = dhg[a + hidden] = dz;
                    dxg[a + 2 * hidden] = dn;
                    dhg[a + 2 * hidden] = dn * r;
                    dPrev[s] = dh[s] * z;
                }
            return (dxg, dhg, dPrev);
        }
    }

    // ================================================================ entry points

    /// <summary>h [N, H] from xg, hg [N, 3H] (r, z, n) and hPrev [N, H].</summary>
    public static Tensor Forward(Tensor xg, Tensor hg, Tensor hPrev)
    {
        CheckInputs(xg, hg, hPrev);
        var h = Tensor.EmptyLike(hPrev);
        ForwardInto(xg, hg, hPrev, h);
        return h;
    }

    public static void ForwardInto(Tensor xg, Tensor hg, Tensor hPrev, Tensor h)
    {
        int hidden = CheckInputs(xg, hg, hPrev);
        Check.SameDevice(Op, xg, hg, hPrev, h);
        Check.SameShape(Op, hPrev, h);
        int n = xg.Dim(0);
        if (h.Length == 0) return;
        switch (xg.Device)
        {
            case CpuDevice cpu:
                var (xa, xo) = xg.CpuBuffer; var (ha, ho) = hg.CpuBuffer; var (pa, po) = hPrev.CpuBuffer; var (oa, oo) = h.CpuBuffer;
                CpuParallel.For(cpu, n * hidden, (start, count) =>
                {
                    for (int t = start; t < start + count; t++)
                        oa[oo + t] = ForwardOne(xa.AsSpan(xo), ha.AsSpan(ho), pa[po + t], t / hidden, t % hidden, hidden);
                }, grain: 4096);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(ForwardSpec)
                    (gpu.Stream, n * hidden, xg.View, hg.View, hPrev.View, h.View, hidden);
                break;
        }
    }

    /// <summary>(dxg, dhg [N, 3H], dhPrev [N, H]) from dh = dL/dh [N, H] and the forward's inputs.</summary>
    public static (Tensor Dxg, Tensor Dhg, Tensor DhPrev) Backward(Tensor dh, Tensor xg, Tensor hg, Tensor hPrev)
    {
        CheckInputs(xg, hg, hPrev);
        var dxg = Tensor.EmptyLike(xg);
        var dhg = Tensor.EmptyLike(hg);
        var dPrev = Tensor.EmptyLike(hPrev);
        BackwardInto(dh, xg, hg, hPrev, dxg, dhg, dPrev);
        return (dxg, dhg, dPrev);
    }

    public static void BackwardInto(Tensor dh, Tensor xg, Tensor hg, Tensor hPrev, Tensor dxg, Tensor dhg, Tensor dhPrev)
    {
        int hidden = CheckInputs(xg, hg, hPrev);
        Check.SameDevice(Op, dh, xg, hg, hPrev, dxg, dhg, dhPrev);
        Check.SameShape(Op, hPrev, dh);
        Check.SameShape(Op, hPrev, dhPrev);
        Check.SameShape(Op, xg, dxg);
        Check.SameShape(Op, xg, dhg);
        int n = xg.Dim(0);
        if (dh.Length == 0) return;
        switch (xg.Device)
        {
            case CpuDevice cpu:
                var (ga, go) = dh.CpuBuffer; var (xa, xo) = xg.CpuBuffer; var (ha, ho) = hg.CpuBuffer; var (pa, po) = hPrev.CpuBuffer;
                var (dxa, dxo) = dxg.CpuBuffer; var (dha, dho) = dhg.CpuBuffer; var (dpa, dpo) = dhPrev.CpuBuffer;
                CpuParallel.For(cpu, n * hidden, (start, count) =>
                {
                    for (int t = start; t < start + count; t++)
                        BackwardOne(ga[go + t], xa.AsSpan(xo), ha.AsSpan(ho), pa[po + t], dxa.AsSpan(dxo), dha.AsSpan(dho), out dpa[dpo + t], t / hidden, t % hidden, hidden);
                }, grain: 4096);
                break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(BackwardSpec)
                    (gpu.Stream, n * hidden, dh.View, xg.View, hg.View, hPrev.View, dxg.View, dhg.View, dhPrev.View, hidden);
                break;
        }
    }

    /// <summary>Checks xg, hg [N, 3H] and hPrev [N, H]; returns H.</summary>
    static int CheckInputs(Tensor xg, Tensor hg, Tensor hPrev)
    {
        Check.Rank(Op, "hPrev", hPrev, 2);
        int n = hPrev.Dim(0), hidden = hPrev.Dim(1);
        Check.Shape(Op, "xg", xg, n, 3 * hidden);
        Check.Shape(Op, "hg", hg, n, 3 * hidden);
        return hidden;
    }

    // ================================================================ cpu kernels: one (row, unit) per call, parallel over chunks

    static float SigmoidF(float x) => 1f / (1f + MathF.Exp(-x));

    static float ForwardOne(ReadOnlySpan<float> xg, ReadOnlySpan<float> hg, float hPrev, int b, int j, int hidden)
    {
        int a = b * 3 * hidden + j;
        float r = SigmoidF(xg[a] + hg[a]), z = SigmoidF(xg[a + hidden] + hg[a + hidden]);
        float c = MathF.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
        return (1f - z) * c + z * hPrev;
    }

    static void BackwardOne(float dh, ReadOnlySpan<float> xg, ReadOnlySpan<float> hg, float hPrev, Span<float> dxg, Span<float> dhg, out float dPrev,
        int b, int j, int hidden)
    {
        int a = b * 3 * hidden + j;
        float r = SigmoidF(xg[a] + hg[a]), z = SigmoidF(xg[a + hidden] + hg[a + hidden]);
        float c = MathF.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
        float dn = dh * (1f - z) * (1f - c * c), dz = dh * (hPrev - c) * z * (1f - z), dr = dn * hg[a + 2 * hidden] * r * (1f - r);
        dxg[a] = dhg[a] = dr;
        dxg[a + hidden] = dhg[a + hidden] = dz;
        dxg[a + 2 * hidden] = dn;
        dhg[a + 2 * hidden] = dn * r;
        dPrev = dh * z;
    }

    // ================================================================ GPU kernels: one thread per (row, unit)

    internal static readonly KernelSpec ForwardSpec = KernelSpec.Implicit("GruCell.Forward", typeof(GruCell), nameof(ForwardKernel));
    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("GruCell.Backward", typeof(GruCell), nameof(BackwardKernel));

    static void ForwardKernel(Index1D t, ArrayView<float> xg, ArrayView<float> hg, ArrayView<float> hPrev, ArrayView<float> h, int hidden)
    {
        int a = t / hidden * 3 * hidden + t % hidden;
        float r = SigmoidF(xg[a] + hg[a]), z = SigmoidF(xg[a + hidden] + hg[a + hidden]);
        float c = MathF.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
        h[t] = (1f - z) * c + z * hPrev[t];
    }

    static void BackwardKernel(Index1D t, ArrayView<float> dh, ArrayView<float> xg, ArrayView<float> hg, ArrayView<float> hPrev,
        ArrayView<float> dxg, ArrayView<float> dhg, ArrayView<float> dhPrev, int hidden)
    {
        int a = t / hidden * 3 * hidden + t % hidden;
        float r = SigmoidF(xg[a] + hg[a]), z = SigmoidF(xg[a + hidden] + hg[a + hidden]);
        float c = MathF.Tanh(xg[a + 2 * hidden] + r * hg[a + 2 * hidden]);
        float g = dh[t];
        float dn = g * (1f - z) * (1f - c * c), dz = g * (hPrev[t] - c) * z * (1f - z), dr = dn * hg[a + 2 * hidden] * r * (1f - r);
        dxg[a] = dr;
        dhg[a] = dr;
        dxg[a + hidden] = dz;
        dhg[a + hidden] = dz;
        dxg[a + 2 * hidden] = dn;
        dhg[a + 2 * hidden] = dn * r;
        dhPrev[t] = g * z;
    }
}
