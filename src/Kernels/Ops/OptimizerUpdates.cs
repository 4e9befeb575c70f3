using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The arguments of one SGD update, the same for every element of a parameter (PyTorch's
/// <c>torch.optim.SGD</c>). A struct of primitives, so it travels to a GPU kernel as one parameter.
/// </summary>
public struct SgdArgs
{
    public float LearningRate;
    /// <summary>0 turns momentum off (then no buffer is read or written).</summary>
    public float Momentum;
    /// <summary>
    /// How much of the gradient enters the momentum buffer: 1 - dampening, except on a parameter's first
    /// step, where PyTorch starts the buffer at the gradient itself (so 1). The optimizer decides.
    /// </summary>
    public float GradScale;
    /// <summary>L2 penalty: the gradient becomes grad + weightDecay * param.</summary>
    public float WeightDecay;
    /// <summary>1: Nesterov momentum (step along grad + momentum * buffer).</summary>
    public int Nesterov;
    /// <summary>1: clamp the updated weight to [-Clip, Clip] (the original WGAN's critic), fused into the update.</summary>
    public int ClipEnabled;
    public float Clip;
}

/// <summary>The arguments of one RMSProp update (PyTorch's <c>torch.optim.RMSprop</c>).</summary>
public struct RmsPropArgs
{
    public float LearningRate;
    /// <summary>Smoothing constant of the running mean of squared gradients (PyTorch default 0.99).</summary>
    public float Alpha;
    /// <summary>Added to the root mean square, outside the square root (default 1e-8).</summary>
    public float Eps;
    public float WeightDecay;
    /// <summary>0 turns momentum off (then no buffer is read or written).</summary>
    public float Momentum;
    /// <summary>1: divide by an estimate of the gradient's variance (mean of g^2 minus the squared mean of g).</summary>
    public int Centered;
    public int ClipEnabled;
    public float Clip;
}

/// <summary>
/// The arguments of one Adam update (PyTorch's <c>torch.optim.Adam</c> / <c>AdamW</c>). The bias
/// corrections depend only on the step number, so the host computes them once as scalars.
/// </summary>
public struct AdamArgs
{
    public float Beta1, Beta2, Eps;
    /// <summary>lr / (1 - beta1^t).</summary>
    public float StepSize;
    /// <summary>sqrt(1 - beta2^t).</summary>
    public float BiasCorrection2Sqrt;
    public float WeightDecay;
    /// <summary>0: L2 decay added to the gradient (Adam). 1: decoupled decay, param *= 1 - lr * wd (AdamW).</summary>
    public int Decoupled;
    /// <summary>lr * weightDecay, for the decoupled form.</summary>
    public float LrTimesDecay;
    public int ClipEnabled;
    public float Clip;

    /// <summary>The scalars of step <paramref name="step"/> (1 for the first), computed in float64 on the host.</summary>
    public static AdamArgs Create(float lr, float beta1, float beta2, float eps, float weightDecay, bool decoupled, long step, float? clip = null)
    {
        if (step < 1) throw new ArgumentOutOfRangeException(nameof(step), $"Adam: the step number starts at 1, got {step}");
        double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
        return new AdamArgs
        {
            Beta1 = beta1, Beta2 = beta2, Eps = eps,
            StepSize = (float)(lr / bc1),
            BiasCorrection2Sqrt = (float)Math.Sqrt(bc2),
            WeightDecay = weightDecay,
            Decoupled = decoupled ? 1 : 0,
            LrTimesDecay = lr * weightDecay,
            ClipEnabled = clip is null ? 0 : 1,
            Clip = clip ?? 0,
        };
    }
}

/// <summary>
/// Fused optimizer updates: for each parameter, one pass (one GPU launch) reads the weight, its
/// gradient and the optimizer's state and writes the new weight and state. A chain of elementwise
/// ops would read and write each tensor several times and cost several launches (~4 us each on an
/// H100, which dominates the step of a small GAN). In the order every op file follows: the scalar
/// math (shared by the cpu tails and the GPU kernels), the float64 reference, the entry points, the
/// vectorised cpu kernels, the GPU kernels. Everything is in place: the parameter and the state
/// tensors are overwritten.
/// </summary>
public static class OptimizerUpdates
{
    // ================================================================ scalar math

    /// <summary>One SGD element: weight <paramref name="p"/>, gradient <paramref name="g"/>, momentum buffer <paramref name="buf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void SgdElement(ref float p, float g, ref float buf, in SgdArgs a)
    {
        g += a.WeightDecay * p;
        if (a.Momentum != 0f)
        {
            buf = a.Momentum * buf + a.GradScale * g;
            g = a.Nesterov != 0 ? g + a.Momentum * buf : buf;
        }
        p -= a.LearningRate * g;
        if (a.ClipEnabled != 0) p = MathF.Min(MathF.Max(p, -a.Clip), a.Clip);
    }

    /// <summary>One RMSProp element: running mean of g^2 <paramref name="sq"/>, of g <paramref name="avg"/> (centered only), momentum buffer <paramref name="buf"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void RmsPropElement(ref float p, float g, ref float sq, ref float avg, ref float buf, in RmsPropArgs a)
    {
        g += a.WeightDecay * p;
        sq = a.Alpha * sq + (1f - a.Alpha) * g * g;
        float variance = sq;
        if (a.Centered != 0)
        {
            avg = a.Alpha * avg + (1f - a.Alpha) * g;
            variance = sq - avg * avg;
        }
        float step = g / (MathF.Sqrt(variance) + a.Eps);
        if (a.Momentum != 0f)
        {
            buf = a.Momentum * buf + step;
            step = buf;
        }
        p -= a.LearningRate * step;
        if (a.ClipEnabled != 0) p = MathF.Min(MathF.Max(p, -a.Clip), a.Clip);
    }

    /// <summary>One Adam element: first moment <paramref name="m"/>, second moment <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void AdamElement(ref float p, float g, ref float m, ref float v, in AdamArgs a)
    {
        if (a.Decoupled != 0) p -= a.LrTimesDecay * p;
        else g += a.WeightDecay * p;
        m = a.Beta1 * m + (1f - a.Beta1) * g;
        v = a.Beta2 * v + (1f - a.Beta2) * g * g;
        p -= a.StepSize * m / (MathF.Sqrt(v) / a.BiasCorrection2Sqrt + a.Eps);
        if (a.ClipEnabled != 0) p = MathF.Min(MathF.Max(p, -a.Clip), a.Clip);
    }

    // ================================================================ float64 reference

    /// <summary>One step of each update in float64, written as PyTorch's documentation writes it.</summary>
    public static class Reference
    {
        public static void Sgd(double[] p, double[] g, double[]? buf, double lr, double momentum, double gradScale,
            double weightDecay, bool nesterov, double? clip = null)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double d = g[i] + weightDecay * p[i];
                if (momentum != 0)
                {
                    buf![i] = momentum * buf[i] + gradScale * d;
                    d = nesterov ? d + momentum * buf[i] : buf[i];
                }
                p[i] -= lr * d;
                if (clip is { } c) p[i] = Math.Clamp(p[i], -c, c);
            }
        }

        public static void RmsProp(double[] p, double[] g, double[] sq, double[]? avg, double[]? buf, double lr, double alpha,
            double eps, double weightDecay, double momentum, bool centered, double? clip = null)
        {
            for (int i = 0; i < p.Length; i++)
            {
                double d = g[i] + weightDecay * p[i];
                sq[i] = alpha * sq[i] + (1 - alpha) * d * d;
                double variance = sq[i];
                if (centered)
                {
                    avg![i] = alpha * avg[i] + (1 - alpha) * d;
                    variance -= avg[i] * avg[i];
                }
                double step = d / (Math.Sqrt(variance) + eps);
                if (momentum != 0)
                {
                    buf![i] = momentum * buf[i] + step;
                    step = buf[i];
                }
                p[i] -= lr * step;
                if (clip is { } c) p[i] = Math.Clamp(p[i], -c, c);
            }
        }

        /// <summary>Step <paramref name="step"/> (1 for the first) of Adam, or AdamW when <paramref name="decoupled"/>.</summary>
        public static void Adam(double[] p, double[] g, double[] m, double[] v, double lr, double beta1, double beta2,
            double eps, double weightDecay, bool decoupled, long step, double? clip = null)
        {
            double bc1 = 1 - Math.Pow(beta1, step), bc2 = 1 - Math.Pow(beta2, step);
            for (int i = 0; i < p.Length; i++)
            {
                double d = g[i];
                if (decoupled) p[i] *= 1 - lr * weightDecay;
                else d += weightDecay * p[i];
                m[i] = beta1 * m[i] + (1 - beta1) * d;
                v[i] = beta2 * v[i] + (1 - beta2) * d * d;
                double mHat = m[i] / bc1, vHat = v[i] / bc2;
                p[i] -= lr * mHat / (Math.Sqrt(vHat) + eps);
                if (clip is { } c) p[i] = Math.Clamp(p[i], -c, c);
            }
        }
    }

    // ================================================================ entry points

    /// <summary>
    /// One SGD update of <paramref name="param"/> in place. <paramref name="momentumBuffer"/> is
    /// required when <see cref="SgdArgs.Momentum"/> is not 0 (start it at zeros) and ignored otherwise.
    /// </summary>
    public static void Sgd(Tensor param, Tensor grad, Tensor? momentumBuffer, in SgdArgs args)
    {
        const string op = "OptimizerUpdates.Sgd";
        var buf = args.Momentum != 0f ? Required(op, "the momentum buffer", momentumBuffer) : param;
        CheckState(op, param, grad, buf);
        if (param.Length == 0) return;
        switch (param.Device)
        {
            case CpuDevice cpu:
            {
                var (pa, po) = param.CpuBuffer;
                var (ga, go) = grad.CpuBuffer;
                var (ba, bo) = buf.CpuBuffer;
                var a = args;
                CpuParallel.For(cpu, param.Length, (start, count) =>
                    SgdSpan(pa.AsSpan(po + start, count), ga.AsSpan(go + start, count), ba.AsSpan(bo + start, count), a));
                break;
            }
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, SgdArgs>>(SgdSpec)
                    (gpu.Stream, param.Length, param.View, grad.View, buf.View, args);
                break;
        }
    }

    /// <summary>
    /// One RMSProp update in place. <paramref name="squareAvg"/> is always required;
    /// <paramref name="gradAvg"/> only when centered, <paramref name="momentumBuffer"/> only with momentum.
    /// </summary>
    public static void RmsProp(Tensor param, Tensor grad, Tensor squareAvg, Tensor? gradAvg, Tensor? momentumBuffer, in RmsPropArgs args)
    {
        const string op = "OptimizerUpdates.RmsProp";
        var avg = args.Centered != 0 ? Required(op, "the gradient average (centered)", gradAvg) : param;
        var buf = args.Momentum != 0f ? Required(op, "the momentum buffer", momentumBuffer) : param;
        CheckState(op, param, grad, squareAvg, avg, buf);
        if (param.Length == 0) return;
        switch (param.Device)
        {
            case CpuDevice cpu:
            {
                var (pa, po) = param.CpuBuffer;
                var (ga, go) = grad.CpuBuffer;
                var (sa, so) = squareAvg.CpuBuffer;
                var (aa, ao) = avg.CpuBuffer;
                var (ba, bo) = buf.CpuBuffer;
                var a = args;
                CpuParallel.For(cpu, param.Length, (start, count) =>
                    RmsPropSpan(pa.AsSpan(po + start, count), ga.AsSpan(go + start, count), sa.AsSpan(so + start, count),
                        aa.AsSpan(ao + start, count), ba.AsSpan(bo + start, count), a));
                break;
            }
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, RmsPropArgs>>(RmsPropSpec)
                    (gpu.Stream, param.Length, param.View, grad.View, squareAvg.View, avg.View, buf.View, args);
                break;
        }
    }

    /// <summary>One Adam (or AdamW) update in place; <paramref name="expAvg"/> and <paramref name="expAvgSq"/> start at zeros.</summary>
    public static void Adam(Tensor param, Tensor grad, Tensor expAvg, Tensor expAvgSq, in AdamArgs args)
    {
        const string op = "OptimizerUpdates.Adam";
        CheckState(op, param, grad, expAvg, expAvgSq);
        if (param.Length == 0) return;
        switch (param.Device)
        {
            case CpuDevice cpu:
            {
                var (pa, po) = param.CpuBuffer;
                var (ga, go) = grad.CpuBuffer;
                var (ma, mo) = expAvg.CpuBuffer;
                var (va, vo) = expAvgSq.CpuBuffer;
                var a = args;
                CpuParallel.For(cpu, param.Length, (start, count) =>
                    AdamSpan(pa.AsSpan(po + start, count), ga.AsSpan(go + start, count), ma.AsSpan(mo + start, count), va.AsSpan(vo + start, count), a));
                break;
            }
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, AdamArgs>>(AdamSpec)
                    (gpu.Stream, param.Length, param.View, grad.View, expAvg.View, expAvgSq.View, args);
                break;
        }
    }

    /// <summary>
    /// One Adam (or AdamW) update of each of <paramref name="parameters"/> in place, all with the same
    /// <paramref name="args"/> (the same step number): the same arithmetic as <see cref="Adam"/> on each, element for
    /// element, so the results are bit for bit the same; on a GPU one launch covers up to <see cref="ViewTable.Slots"/>
    /// tensors (<see cref="MultiTensor"/>) instead of one launch a tensor. The lists are parallel: the gradient and
    /// the two moments of parameter i are <paramref name="grads"/>[i], <paramref name="expAvgs"/>[i] and
    /// <paramref name="expAvgSqs"/>[i].
    /// </summary>
    public static void AdamMany(IReadOnlyList<Tensor> parameters, IReadOnlyList<Tensor> grads, IReadOnlyList<Tensor> expAvgs,
        IReadOnlyList<Tensor> expAvgSqs, in AdamArgs args)
    {
        const string op = "OptimizerUpdates.AdamMany";
        if (grads.Count != parameters.Count || expAvgs.Count != parameters.Count || expAvgSqs.Count != parameters.Count)
            throw new ArgumentException($"{op}: {parameters.Count} parameters but {grads.Count} gradients, {expAvgs.Count} first and {expAvgSqs.Count} second moments");
        if (parameters.Count == 0) return;
        for (int i = 0; i < parameters.Count; i++)
        {
            CheckState($"{op} (tensor {i})", parameters[i], grads[i], expAvgs[i], expAvgSqs[i]);
            Check.SameDevice(op, parameters[0], parameters[i]);
        }
        if (parameters[0].Device is not GpuDevice gpu)
        {
            for (int i = 0; i < parameters.Count; i++) Adam(parameters[i], grads[i], expAvgs[i], expAvgSqs[i], args);
            return;
        }
        var launch = gpu.Kernel<Action<AcceleratorStream, Index1D, ViewTable, ViewTable, ViewTable, ViewTable, SlotEnds, AdamArgs>>(AdamManySpec);
        foreach (var (first, count, total) in MultiTensor.Chunks(parameters))
        {
            if (total == 0) continue;
            launch(gpu.Stream, total, MultiTensor.Views(parameters, first, count), MultiTensor.Views(grads, first, count),
                MultiTensor.Views(expAvgs, first, count), MultiTensor.Views(expAvgSqs, first, count),
                MultiTensor.Ends(parameters, first, count), args);
        }
    }

    static Tensor Required(string op, string what, Tensor? t)
        => t ?? throw new ArgumentNullException(what, $"{op}: {what} is required with these settings");

    /// <summary>The gradient and every state tensor must match the parameter's shape and device.</summary>
    static void CheckState(string op, Tensor param, params Tensor[] others)
    {
        Check.SameDevice(op, [param, .. others]);
        foreach (var t in others) Check.SameShape(op, param, t);
    }

    // ================================================================ cpu kernels

    // Each span kernel runs 8 floats at a time with Vector256 (AVX2 + FMA; the development machine does
    // not accelerate Vector512, and these loops are bound by memory bandwidth more than by width) and
    // finishes the tail with the scalar math. The vector body is the scalar math, line for line.

    static void SgdSpan(Span<float> p, ReadOnlySpan<float> g, Span<float> buf, SgdArgs a)
    {
        int i = 0, n = p.Length;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float br = ref MemoryMarshal.GetReference(buf);
            var lr = Vector256.Create(a.LearningRate);
            var wd = Vector256.Create(a.WeightDecay);
            var mom = Vector256.Create(a.Momentum);
            var scale = Vector256.Create(a.GradScale);
            var hi = Vector256.Create(a.Clip);
            var lo = -hi;
            bool momentum = a.Momentum != 0f, nesterov = a.Nesterov != 0, clip = a.ClipEnabled != 0;
            for (; i <= n - 8; i += 8)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                var d = Vector256.FusedMultiplyAdd(wd, pv, Vector256.LoadUnsafe(ref gr, (nuint)i));
                if (momentum)
                {
                    var bv = Vector256.FusedMultiplyAdd(mom, Vector256.LoadUnsafe(ref br, (nuint)i), scale * d);
                    bv.StoreUnsafe(ref br, (nuint)i);
                    d = nesterov ? Vector256.FusedMultiplyAdd(mom, bv, d) : bv;
                }
                pv = Vector256.FusedMultiplyAdd(-lr, d, pv);
                if (clip) pv = Vector256.Min(Vector256.Max(pv, lo), hi);
                pv.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        for (; i < n; i++) SgdElement(ref p[i], g[i], ref buf[i], a);
    }

    static void RmsPropSpan(Span<float> p, ReadOnlySpan<float> g, Span<float> sq, Span<float> avg, Span<float> buf, RmsPropArgs a)
    {
        int i = 0, n = p.Length;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float sr = ref MemoryMarshal.GetReference(sq);
            ref float ar = ref MemoryMarshal.GetReference(avg);
            ref float br = ref MemoryMarshal.GetReference(buf);
            var lr = Vector256.Create(a.LearningRate);
            var wd = Vector256.Create(a.WeightDecay);
            var alpha = Vector256.Create(a.Alpha);
            var oneMinusAlpha = Vector256.Create(1f - a.Alpha);
            var eps = Vector256.Create(a.Eps);
            var mom = Vector256.Create(a.Momentum);
            var hi = Vector256.Create(a.Clip);
            var lo = -hi;
            bool centered = a.Centered != 0, momentum = a.Momentum != 0f, clip = a.ClipEnabled != 0;
            for (; i <= n - 8; i += 8)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                var d = Vector256.FusedMultiplyAdd(wd, pv, Vector256.LoadUnsafe(ref gr, (nuint)i));
                var sv = Vector256.FusedMultiplyAdd(alpha, Vector256.LoadUnsafe(ref sr, (nuint)i), oneMinusAlpha * d * d);
                sv.StoreUnsafe(ref sr, (nuint)i);
                var variance = sv;
                if (centered)
                {
                    var av = Vector256.FusedMultiplyAdd(alpha, Vector256.LoadUnsafe(ref ar, (nuint)i), oneMinusAlpha * d);
                    av.StoreUnsafe(ref ar, (nuint)i);
                    variance = Vector256.FusedMultiplyAdd(-av, av, sv);
                }
                var step = d / (Vector256.Sqrt(variance) + eps);
                if (momentum)
                {
                    step = Vector256.FusedMultiplyAdd(mom, Vector256.LoadUnsafe(ref br, (nuint)i), step);
                    step.StoreUnsafe(ref br, (nuint)i);
                }
                pv = Vector256.FusedMultiplyAdd(-lr, step, pv);
                if (clip) pv = Vector256.Min(Vector256.Max(pv, lo), hi);
                pv.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        for (; i < n; i++) RmsPropElement(ref p[i], g[i], ref sq[i], ref avg[i], ref buf[i], a);
    }

    static void AdamSpan(Span<float> p, ReadOnlySpan<float> g, Span<float> m, Span<float> v, AdamArgs a)
    {
        int i = 0, n = p.Length;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float pr = ref MemoryMarshal.GetReference(p);
            ref float gr = ref MemoryMarshal.GetReference(g);
            ref float mr = ref MemoryMarshal.GetReference(m);
            ref float vr = ref MemoryMarshal.GetReference(v);
            var beta1 = Vector256.Create(a.Beta1);
            var oneMinusBeta1 = Vector256.Create(1f - a.Beta1);
            var beta2 = Vector256.Create(a.Beta2);
            var oneMinusBeta2 = Vector256.Create(1f - a.Beta2);
            var eps = Vector256.Create(a.Eps);
            var stepSize = Vector256.Create(a.StepSize);
            var bc2Sqrt = Vector256.Create(a.BiasCorrection2Sqrt);
            var wd = Vector256.Create(a.WeightDecay);
            var lrWd = Vector256.Create(a.LrTimesDecay);
            var hi = Vector256.Create(a.Clip);
            var lo = -hi;
            bool decoupled = a.Decoupled != 0, clip = a.ClipEnabled != 0;
            for (; i <= n - 8; i += 8)
            {
                var pv = Vector256.LoadUnsafe(ref pr, (nuint)i);
                var d = Vector256.LoadUnsafe(ref gr, (nuint)i);
                if (decoupled) pv = Vector256.FusedMultiplyAdd(-lrWd, pv, pv);
                else d = Vector256.FusedMultiplyAdd(wd, pv, d);
                var mv = Vector256.FusedMultiplyAdd(beta1, Vector256.LoadUnsafe(ref mr, (nuint)i), oneMinusBeta1 * d);
                var vv = Vector256.FusedMultiplyAdd(beta2, Vector256.LoadUnsafe(ref vr, (nuint)i), oneMinusBeta2 * d * d);
                mv.StoreUnsafe(ref mr, (nuint)i);
                vv.StoreUnsafe(ref vr, (nuint)i);
                pv -= stepSize * mv / (Vector256.Sqrt(vv) / bc2Sqrt + eps);
                if (clip) pv = Vector256.Min(Vector256.Max(pv, lo), hi);
                pv.StoreUnsafe(ref pr, (nuint)i);
            }
        }
        for (; i < n; i++) AdamElement(ref p[i], g[i], ref m[i], ref v[i], a);
    }

    // ================================================================ GPU kernels

    internal static readonly KernelSpec SgdSpec = KernelSpec.Implicit("OptimizerUpdates.Sgd", typeof(OptimizerUpdates), nameof(SgdKernel), hot: true);
    internal static readonly KernelSpec RmsPropSpec = KernelSpec.Implicit("OptimizerUpdates.RmsProp", typeof(OptimizerUpdates), nameof(RmsPropKernel), hot: true);
    internal static readonly KernelSpec AdamSpec = KernelSpec.Implicit("OptimizerUpdates.Adam", typeof(OptimizerUpdates), nameof(AdamKernel), hot: true);
    internal static readonly KernelSpec AdamManySpec = KernelSpec.Implicit("OptimizerUpdates.AdamMany", typeof(OptimizerUpdates), nameof(AdamManyKernel), hot: true);

    // One thread an element. The settings (momentum on or off, centered, clipping) are uniform across
    // the launch, so their branches cost no divergence. A state tensor a setting does not use is passed
    // as the parameter itself and never touched.

    static void SgdKernel(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> buf, SgdArgs a)
    {
        float w = p[i], b = a.Momentum != 0f ? buf[i] : 0f;
        SgdElement(ref w, g[i], ref b, a);
        p[i] = w;
        if (a.Momentum != 0f) buf[i] = b;
    }

    static void RmsPropKernel(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> sq, ArrayView<float> avg,
        ArrayView<float> buf, RmsPropArgs a)
    {
        float w = p[i], s = sq[i], m = a.Centered != 0 ? avg[i] : 0f, b = a.Momentum != 0f ? buf[i] : 0f;
        RmsPropElement(ref w, g[i], ref s, ref m, ref b, a);
        p[i] = w;
        sq[i] = s;
        if (a.Centered != 0) avg[i] = m;
        if (a.Momentum != 0f) buf[i] = b;
    }

    static void AdamKernel(Index1D i, ArrayView<float> p, ArrayView<float> g, ArrayView<float> m, ArrayView<float> v, AdamArgs a)
    {
        float w = p[i], mi = m[i], vi = v[i];
        AdamElement(ref w, g[i], ref mi, ref vi, a);
        p[i] = w;
        m[i] = mi;
        v[i] = vi;
    }

    /// <summary>
    /// <see cref="AdamKernel"/> over the concatenation of up to 16 tensors: thread i finds its tensor k (the slot of
    /// i) and its element j in it, then does exactly AdamKernel's work on element j of tensor k.
    /// </summary>
    static void AdamManyKernel(Index1D i, ViewTable p, ViewTable g, ViewTable m, ViewTable v, SlotEnds ends, AdamArgs a)
    {
        int k = ends.SlotOf(i), j = i - ends.End(k - 1);
        var pk = p.Get(k);
        var mk = m.Get(k);
        var vk = v.Get(k);
        float w = pk[j], mi = mk[j], vi = vk[j];
        AdamElement(ref w, g.Get(k)[j], ref mi, ref vi, a);
        pk[j] = w;
        mk[j] = mi;
        vk[j] = vi;
    }
}
