using System.Numerics.Tensors;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The gate math of one LSTM time step, fused: one launch forward, one back. The GEMMs that make the gate
/// pre-activations (<c>a = x W_ih^T + b_ih + h_prev W_hh^T + b_hh</c>, [N, 4H] in PyTorch's order i, f, g, o)
/// stay GEMMs; this op is everything after them:
/// <code>
/// i = σ(a_i)  f = σ(a_f)  g = tanh(a_g)  o = σ(a_o)
/// c = f c_prev + i g        h = o tanh(c)
/// </code>
/// The state travels as one tensor [N, 2H], h in the first H columns and c in the last H, so that the
/// autograd tape (one output per op) records one node per step; the cell reads only the c half of the
/// previous state (h_prev enters through the gates).
///
/// <para>Backward, with dh and dc the two halves of dL/dstate: <c>dc' = dc + dh o (1 - tanh² c)</c>, then
/// <c>da_o = dh tanh(c) o (1 - o)</c>, <c>da_i = dc' g i (1 - i)</c>, <c>da_f = dc' c_prev f (1 - f)</c>,
/// <c>da_g = dc' i (1 - g²)</c> and <c>dc_prev = dc' f</c> (the h half of dL/dstate_prev is 0). The gate
/// activations are recomputed from a (four exp per element, cheaper than storing them), c is read from the
/// saved state.</para>
/// </summary>
public static class LstmCell
{
    const string Op = "LstmCell";

    static double Sigmoid(double x) => 1 / (1 + Math.Exp(-x));

    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>state [N, 2H] = [h | c] from gates [N, 4H] and the previous state [N, 2H] (its c half).</summary>
        public static double[] Forward(double[] gates, double[] statePrev, int n, int hidden)
        {
            var state = new double[n * 2 * hidden];
            for (int r = 0; r < n; r++)
                for (int j = 0; j < hidden; j++)
                {
                    int a = r * 4 * hidden + j;
                    double i = Sigmoid(gates[a]), f = Sigmoid(gates[a + hidden]), g = Math.Tanh(gates[a + 2 * hidden]), o = Sigmoid(gates[a + 3 * hidden]);
                    double c = f * statePrev[r * 2 * hidden + hidden + j] + i * g;
                    state[r * 2 * hidden + j] = o * Math.Tanh(c);
                    state[r * 2 * hidden + hidden + j] = c;
                }
            return state;
        }

        /// <summary>(dGates [N, 4H], dStatePrev [N, 2H], its h half 0) from dState [N, 2H] = [dh | dc].</summary>
        public static (double[] DGates, double[] DStatePrev) Backward(double[] dState, double[] gates, double[] statePrev, int n, int hidden)
        {
            var dGates = new double[n * 4 * hidden];
            var dPrev = new double[n * 2 * hidden];
            for (int r = 0; r < n; r++)
                for (int j = 0; j < hidden; j++)
                {
                    int a = r * 4 * hidden + j, s = r * 2 * hidden + j;
                    double i = Sigmoid(gates[a]), f = Sigmoid(gates[a + hidden]), g = Math.Tanh(gates[a + 2 * hidden]), o = Sigmoid(gates[a + 3 * hidden]);
                    double cPrev = statePrev[s + hidden], c = f * cPrev + i * g, tc = Math.Tanh(c);
                    double dh = dState[s], dc = dState[s + hidden] + dh * o * (1 - tc * tc);
                    dGates[a] = dc * g * i * (1 - i);
                    dGates[a + hidden] = dc * cPrev * f * (1 - f);
                    dGates[a + 2 * hidden] = dc * i * (1 - g * g);
                    dGates[a + 3 * hidden] = dh * tc * o * (1 - o);
                    dPrev[s + hidden] = dc * f;
                }
            return (dGates, dPrev);
        }
    }

    // ================================================================ entry points

    /// <summary>The new state [N, 2H] = [h | c] from gates [N, 4H] (i, f, g, o) and the previous state [N, 2H].</summary>
    public static Tensor Forward(Tensor gates, Tensor statePrev)
    {
        int hidden = CheckInputs(gates, statePrev);
        var state = Tensor.Empty(gates.Device, gates.Dim(0), 2 * hidden);
        ForwardInto(gates, statePrev, state);
        return state;
    }

    public static void ForwardInto(Tensor gates, Tensor statePrev, Tensor state)
    {
        int hidden = CheckInputs(gates, statePrev);
        Check.SameDevice(Op, gates, statePrev, state);
        Check.SameShape(Op, statePrev, state);
        int n = gates.Dim(0);
        if (state.Length == 0) return;
        switch (gates.Device)
        {
            case CpuDevice cpu: ForwardCpu(cpu, gates, statePrev, state, n, hidden); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(ForwardSpec)
                    (gpu.Stream, n * hidden, gates.View, statePrev.View, state.View, hidden);
                break;
        }
    }

    /// <summary>(dGates [N, 4H], dStatePrev [N, 2H]) from dState = dL/dstate [N, 2H] and the forward's inputs and output.</summary>
    public static (Tensor DGates, Tensor DStatePrev) Backward(Tensor dState, Tensor gates, Tensor statePrev, Tensor state)
    {
        CheckInputs(gates, statePrev);
        var dGates = Tensor.EmptyLike(gates);
        var dPrev = Tensor.EmptyLike(statePrev);
        BackwardInto(dState, gates, statePrev, state, dGates, dPrev);
        return (dGates, dPrev);
    }

    public static void BackwardInto(Tensor dState, Tensor gates, Tensor statePrev, Tensor state, Tensor dGates, Tensor dStatePrev)
    {
        int hidden = CheckInputs(gates, statePrev);
        Check.SameDevice(Op, dState, gates, statePrev, state, dGates, dStatePrev);
        Check.SameShape(Op, statePrev, dState);
        Check.SameShape(Op, statePrev, state);
        Check.SameShape(Op, statePrev, dStatePrev);
        Check.SameShape(Op, gates, dGates);
        int n = gates.Dim(0);
        if (gates.Length == 0) return;
        switch (gates.Device)
        {
            case CpuDevice cpu: BackwardCpu(cpu, dState, gates, statePrev, state, dGates, dStatePrev, n, hidden); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(BackwardSpec)
                    (gpu.Stream, n * hidden, dState.View, gates.View, statePrev.View, state.View, dGates.View, dStatePrev.View, hidden);
                break;
        }
    }

    /// <summary>Checks gates [N, 4H] and the state [N, 2H]; returns H.</summary>
    static int CheckInputs(Tensor gates, Tensor statePrev)
    {
        Check.Rank(Op, "gates", gates, 2);
        Check.Rank(Op, "statePrev", statePrev, 2);
        if (gates.Dim(1) % 4 != 0)
            throw new TensorShapeException($"{Op}: gates must be [N, 4H] (i, f, g, o), got shape {Shapes.Format(gates.Shape)}");
        int hidden = gates.Dim(1) / 4;
        Check.Shape(Op, "statePrev", statePrev, gates.Dim(0), 2 * hidden);
        return hidden;
    }

    // ================================================================ cpu kernels
    // Parallel over rows (samples). Forward: per row, the gate activations with TensorPrimitives into a scratch
    // row, then c and h as vector multiply-adds. Backward: plain loops, one pass per row.

    static void ForwardCpu(CpuDevice cpu, Tensor gates, Tensor statePrev, Tensor state, int n, int hidden)
    {
        var (ga, go) = gates.CpuBuffer;
        var (pa, po) = statePrev.CpuBuffer;
        var (sa, so) = state.CpuBuffer;
        CpuParallel.For(cpu, n, (start, count) =>
        {
            var act = new float[4 * hidden];
            for (int r = start; r < start + count; r++)
            {
                var a = ga.AsSpan(go + r * 4 * hidden, 4 * hidden);
                TensorPrimitives.Sigmoid(a[..(2 * hidden)], act);                                     // i, f
                TensorPrimitives.Tanh(a.Slice(2 * hidden, hidden), act.AsSpan(2 * hidden, hidden));   // g
                TensorPrimitives.Sigmoid(a[(3 * hidden)..], act.AsSpan(3 * hidden, hidden));          // o
                ReadOnlySpan<float> i = act.AsSpan(0, hidden), f = act.AsSpan(hidden, hidden), g = act.AsSpan(2 * hidden, hidden), o = act.AsSpan(3 * hidden, hidden);
                var cPrev = pa.AsSpan(po + r * 2 * hidden + hidden, hidden);
                var h = sa.AsSpan(so + r * 2 * hidden, hidden);
                var c = sa.AsSpan(so + r * 2 * hidden + hidden, hidden);
                TensorPrimitives.Multiply(f, cPrev, h);           // h as scratch: f c_prev (statePrev may be state: c_prev read first)
                TensorPrimitives.MultiplyAdd(i, g, h, c);         // c = i g + f c_prev
                TensorPrimitives.Tanh(c, h);
                TensorPrimitives.Multiply(o, h, h);               // h = o tanh(c)
            }
        }, grain: Math.Max(1, 16384 / Math.Max(1, hidden)));
    }

    static void BackwardCpu(CpuDevice cpu, Tensor dState, Tensor gates, Tensor statePrev, Tensor state, Tensor dGates, Tensor dStatePrev, int n, int hidden)
    {
        var (da, doff) = dState.CpuBuffer;
        var (ga, go) = gates.CpuBuffer;
        var (pa, po) = statePrev.CpuBuffer;
        var (sa, so) = state.CpuBuffer;
        var (dga, dgo) = dGates.CpuBuffer;
        var (dpa, dpo) = dStatePrev.CpuBuffer;
        CpuParallel.For(cpu, n, (start, count) =>
        {
            for (int r = start; r < start + count; r++)
                for (int j = 0; j < hidden; j++)
                {
                    int a = r * 4 * hidden + j, s = r * 2 * hidden + j;
                    float i = SigmoidF(ga[go + a]), f = SigmoidF(ga[go + a + hidden]), g = MathF.Tanh(ga[go + a + 2 * hidden]), o = SigmoidF(ga[go + a + 3 * hidden]);
                    float cPrev = pa[po + s + hidden], tc = MathF.Tanh(sa[so + s + hidden]);
                    float dh = da[doff + s], dc = da[doff + s + hidden] + dh * o * (1f - tc * tc);
                    dga[dgo + a] = dc * g * i * (1f - i);
                    dga[dgo + a + hidden] = dc * cPrev * f * (1f - f);
                    dga[dgo + a + 2 * hidden] = dc * i * (1f - g * g);
                    dga[dgo + a + 3 * hidden] = dh * tc * o * (1f - o);
                    dpa[dpo + s] = 0f;
                    dpa[dpo + s + hidden] = dc * f;
                }
        }, grain: Math.Max(1, 8192 / Math.Max(1, hidden)));
    }

    static float SigmoidF(float x) => 1f / (1f + MathF.Exp(-x));

    // ================================================================ GPU kernels
    // One thread per (row, unit): it reads the unit's four gate pre-activations and c_prev, writes h and c
    // (backward: four gate gradients and the state's two halves). Memory-bound: 6 floats in and out per thread
    // forward, 10 back; the GEMMs around it dominate a step.

    internal static readonly KernelSpec ForwardSpec = KernelSpec.Implicit("LstmCell.Forward", typeof(LstmCell), nameof(ForwardKernel));
    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("LstmCell.Backward", typeof(LstmCell), nameof(BackwardKernel));

    static void ForwardKernel(Index1D t, ArrayView<float> gates, ArrayView<float> statePrev, ArrayView<float> state, int hidden)
    {
        int r = t / hidden, j = t % hidden, a = r * 4 * hidden + j, s = r * 2 * hidden + j;
        float i = SigmoidF(gates[a]), f = SigmoidF(gates[a + hidden]), g = MathF.Tanh(gates[a + 2 * hidden]), o = SigmoidF(gates[a + 3 * hidden]);
        float c = f * statePrev[s + hidden] + i * g;
        state[s] = o * MathF.Tanh(c);
        state[s + hidden] = c;
    }

    static void BackwardKernel(Index1D t, ArrayView<float> dState, ArrayView<float> gates, ArrayView<float> statePrev, ArrayView<float> state,
        ArrayView<float> dGates, ArrayView<float> dStatePrev, int hidden)
    {
        int r = t / hidden, j = t % hidden, a = r * 4 * hidden + j, s = r * 2 * hidden + j;
        float i = SigmoidF(gates[a]), f = SigmoidF(gates[a + hidden]), g = MathF.Tanh(gates[a + 2 * hidden]), o = SigmoidF(gates[a + 3 * hidden]);
        float cPrev = statePrev[s + hidden], tc = MathF.Tanh(state[s + hidden]);
        float dh = dState[s], dc = dState[s + hidden] + dh * o * (1f - tc * tc);
        dGates[a] = dc * g * i * (1f - i);
        dGates[a + hidden] = dc * cPrev * f * (1f - f);
        dGates[a + 2 * hidden] = dc * i * (1f - g * g);
        dGates[a + 3 * hidden] = dh * tc * o * (1f - o);
        dStatePrev[s] = 0f;
        dStatePrev[s + hidden] = dc * f;
    }
}
