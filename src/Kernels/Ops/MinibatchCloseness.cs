using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// The closeness features of minibatch discrimination (Salimans et al. 2016, section 3.2). Each sample's
/// projection m[i] is a matrix of B rows (kernels) of C numbers; for every kernel b the sample gets
/// <c>o[i, b] = Σ_{j≠i} exp(-‖m[i, b, :] - m[j, b, :]‖₁)</c>, large when other samples of the batch sit close
/// to it, which lets a discriminator see a collapsed batch.
///
/// <para>Backward, with G = dL/do: the L1 distance is symmetric, so
/// <c>dm[k, b, c] = -Σ_j (G[k, b] + G[j, b]) · e[k, j, b] · sign(m[k, b, c] - m[j, b, c])</c>,
/// where e[k, j, b] is the closeness term above (the j = k term has sign 0).</para>
///
/// <para>Backward of the backward (a gradient penalty such as R1 differentiates D's input gradient again): with
/// H = dL/d(dm) and, per pair, s = sign(m[i, b] - m[j, b]) (a constant: the L1 norm is piecewise linear) and
/// <c>R[i, j, b] = Σ_c (H[i, b, c] - H[j, b, c]) · s[c]</c>,
/// <c>dG[i, b] = -Σ_j e[i, j, b] · R[i, j, b]</c> and
/// <c>d m[i, b, c] = Σ_j (G[i, b] + G[j, b]) · e[i, j, b] · R[i, j, b] · s[c]</c>
/// (e depends on m through both samples of a pair; both give the same sign, hence R's two H terms).</para>
///
/// <para>Why its own op: built from broadcast ops the layer makes an [N, N, B, C] tensor (5 M floats for
/// N = B = 100, C = 5) several times forward and back. Fused, the work is the same N²·B·C distance terms with
/// no temporary larger than [N]; the backward recomputes e rather than storing [N, N, B].</para>
/// </summary>
public static class MinibatchCloseness
{
    const string Op = "MinibatchCloseness";

    // ================================================================ float64 reference

    public static class Reference
    {
        /// <summary>exp(-‖m[i, b] - m[j, b]‖₁) for m [n, b, c] flattened.</summary>
        static double Term(double[] m, int kernels, int dims, int i, int j, int b)
        {
            double l1 = 0;
            for (int c = 0; c < dims; c++) l1 += Math.Abs(m[(i * kernels + b) * dims + c] - m[(j * kernels + b) * dims + c]);
            return Math.Exp(-l1);
        }

        public static double[] Forward(double[] m, int n, int kernels, int dims, bool includeSelf)
        {
            var o = new double[n * kernels];
            for (int i = 0; i < n; i++)
                for (int b = 0; b < kernels; b++)
                    for (int j = 0; j < n; j++)
                        if (j != i || includeSelf) o[i * kernels + b] += Term(m, kernels, dims, i, j, b);
            return o;
        }

        public static double[] Backward(double[] g, double[] m, int n, int kernels, int dims)
        {
            var dm = new double[m.Length];
            for (int k = 0; k < n; k++)
                for (int b = 0; b < kernels; b++)
                    for (int j = 0; j < n; j++)
                    {
                        double w = (g[k * kernels + b] + g[j * kernels + b]) * Term(m, kernels, dims, k, j, b);
                        for (int c = 0; c < dims; c++)
                            dm[(k * kernels + b) * dims + c] -= w * Math.Sign(m[(k * kernels + b) * dims + c] - m[(j * kernels + b) * dims + c]);
                    }
            return dm;
        }

        /// <summary>(dG [n, b], dm [n, b, c]) of L(G, m) = Σ H · Backward(G, m) (see the class summary).</summary>
        public static (double[] Dg, double[] Dm) BackwardBackward(double[] h, double[] g, double[] m, int n, int kernels, int dims)
        {
            var dg = new double[g.Length];
            var dm = new double[m.Length];
            for (int i = 0; i < n; i++)
                for (int b = 0; b < kernels; b++)
                    for (int j = 0; j < n; j++)
                    {
                        int ri = (i * kernels + b) * dims, rj = (j * kernels + b) * dims;
                        double e = Term(m, kernels, dims, i, j, b), r = 0;
                        for (int c = 0; c < dims; c++) r += (h[ri + c] - h[rj + c]) * Math.Sign(m[ri + c] - m[rj + c]);
                        dg[i * kernels + b] -= e * r;
                        double w = (g[i * kernels + b] + g[j * kernels + b]) * e * r;
                        for (int c = 0; c < dims; c++) dm[ri + c] += w * Math.Sign(m[ri + c] - m[rj + c]);
                    }
            return (dg, dm);
        }
    }

    // ================================================================ entry points

    /// <summary>o [N, B] from m [N, B, C]; <paramref name="includeSelf"/> adds each sample's own term (exp 0 = 1).</summary>
    public static Tensor Forward(Tensor m, bool includeSelf = false)
    {
        CheckInput(m);
        var o = Tensor.Empty(m.Device, m.Dim(0), m.Dim(1));
        ForwardInto(m, o, includeSelf);
        return o;
    }

    public static void ForwardInto(Tensor m, Tensor o, bool includeSelf = false)
    {
        CheckInput(m);
        Check.SameDevice(Op, m, o);
        Check.Shape(Op, "o", o, m.Dim(0), m.Dim(1));
        int n = m.Dim(0), kernels = m.Dim(1), dims = m.Dim(2);
        if (o.Length == 0) return;
        switch (m.Device)
        {
            case CpuDevice cpu: ForwardCpu(cpu, m, o, n, kernels, dims, includeSelf); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, int, int, int, int>>(ForwardSpec)
                    (gpu.Stream, n * kernels, m.View, o.View, n, kernels, dims, includeSelf ? 1 : 0);
                break;
        }
    }

    /// <summary>dm [N, B, C] from g = dL/do [N, B] and the forward's input m (the same for either includeSelf).</summary>
    public static Tensor Backward(Tensor g, Tensor m)
    {
        CheckInput(m);
        var dm = Tensor.EmptyLike(m);
        BackwardInto(g, m, dm);
        return dm;
    }

    public static void BackwardInto(Tensor g, Tensor m, Tensor dm)
    {
        CheckInput(m);
        Check.SameDevice(Op, g, m, dm);
        Check.Shape(Op, "g", g, m.Dim(0), m.Dim(1));
        Check.SameShape(Op, m, dm);
        int n = m.Dim(0), kernels = m.Dim(1), dims = m.Dim(2);
        if (m.Length == 0) return;
        switch (m.Device)
        {
            case CpuDevice cpu: BackwardCpu(cpu, g, m, dm, n, kernels, dims); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>>(BackwardSpec)
                    (gpu.Stream, m.Length, g.View, m.View, dm.View, n, kernels, dims);
                break;
        }
    }

    /// <summary>(dG [N, B], dm [N, B, C]) from h = dL/d(dm) [N, B, C] and the backward's inputs g [N, B] and m.</summary>
    public static (Tensor Dg, Tensor Dm) BackwardBackward(Tensor h, Tensor g, Tensor m)
    {
        CheckInput(m);
        var dg = Tensor.EmptyLike(g);
        var dm = Tensor.EmptyLike(m);
        BackwardBackwardInto(h, g, m, dg, dm);
        return (dg, dm);
    }

    public static void BackwardBackwardInto(Tensor h, Tensor g, Tensor m, Tensor dg, Tensor dm)
    {
        CheckInput(m);
        Check.SameDevice(Op, h, g, m, dg, dm);
        Check.Shape(Op, "g", g, m.Dim(0), m.Dim(1));
        Check.Shape(Op, "dg", dg, m.Dim(0), m.Dim(1));
        Check.SameShape(Op, m, h);
        Check.SameShape(Op, m, dm);
        int n = m.Dim(0), kernels = m.Dim(1), dims = m.Dim(2);
        if (m.Length == 0) return;
        switch (m.Device)
        {
            case CpuDevice cpu: BackwardBackwardCpu(cpu, h, g, m, dg, dm, n, kernels, dims); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>>(GradOfGSpec)
                    (gpu.Stream, g.Length, h.View, m.View, dg.View, n, kernels, dims);
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, int, int, int>>(GradOfMSpec)
                    (gpu.Stream, m.Length, h.View, g.View, m.View, dm.View, n, kernels, dims);
                break;
        }
    }

    static void CheckInput(Tensor m)
    {
        if (m.Rank != 3)
            throw new TensorShapeException($"{Op}: m must be [N, kernels, dims], got shape {Shapes.Format(m.Shape)}");
    }

    // ================================================================ cpu kernels
    // m is first transposed to [B, C, N] so that, for one sample i and kernel b, the distances to all N samples
    // are contiguous vector work: l1[j] += |mT[b, c, j] - m[i, b, c]| for each c, then e = exp(-l1).

    /// <summary>[N, B, C] (or [N, B] with dims 1) to [B, C, N].</summary>
    static float[] TransposeToKernelMajor(Tensor m, int n, int kernels, int dims)
    {
        var (ma, mo) = m.CpuBuffer;
        var mt = new float[m.Length];
        for (int i = 0; i < n; i++)
            for (int b = 0; b < kernels; b++)
                for (int c = 0; c < dims; c++)
                    mt[(b * dims + c) * n + i] = ma[mo + (i * kernels + b) * dims + c];
        return mt;
    }

    /// <summary>e[j] = exp(-Σ_c |mT[b, c, j] - m[i, b, c]|) for every j.</summary>
    static void Terms(float[] mt, float[] ma, int mo, int n, int kernels, int dims, int i, int b, Span<float> e)
    {
        e.Clear();
        for (int c = 0; c < dims; c++)
            AddAbsDifference(mt.AsSpan((b * dims + c) * n, n), ma[mo + (i * kernels + b) * dims + c], e);
        TensorPrimitives.Negate(e, e);
        TensorPrimitives.Exp(e, e);
    }

    /// <summary>acc[j] += |x[j] - v|, vectorised.</summary>
    static void AddAbsDifference(ReadOnlySpan<float> x, float v, Span<float> acc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vv = Vector256.Create(v);
            for (; j <= x.Length - Vector256<float>.Count; j += Vector256<float>.Count)
                (Vector256.Create(acc.Slice(j, Vector256<float>.Count)) + Vector256.Abs(Vector256.Create(x.Slice(j, Vector256<float>.Count)) - vv)).CopyTo(acc.Slice(j));
        }
        for (; j < x.Length; j++) acc[j] += MathF.Abs(x[j] - v);
    }

    /// <summary>Σ_j w[j] sign(x[j] - v), vectorised (sign as the difference of two comparison masks).</summary>
    static float SignWeightedSum(ReadOnlySpan<float> x, float v, ReadOnlySpan<float> w)
    {
        int j = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vv = Vector256.Create(v), acc = Vector256<float>.Zero;
            for (; j <= x.Length - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var xs = Vector256.Create(x.Slice(j, Vector256<float>.Count));
                var ws = Vector256.Create(w.Slice(j, Vector256<float>.Count));
                acc += (Vector256.GreaterThan(xs, vv) & ws) - (Vector256.LessThan(xs, vv) & ws);
            }
            sum = Vector256.Sum(acc);
        }
        for (; j < x.Length; j++) sum += x[j] > v ? w[j] : x[j] < v ? -w[j] : 0f;
        return sum;
    }

    static void ForwardCpu(CpuDevice cpu, Tensor m, Tensor o, int n, int kernels, int dims, bool includeSelf)
    {
        var mt = TransposeToKernelMajor(m, n, kernels, dims);
        var (ma, mo) = m.CpuBuffer;
        var (oa, oo) = o.CpuBuffer;
        CpuParallel.For(cpu, n * kernels, (start, count) =>
        {
            var e = new float[n];
            for (int r = start; r < start + count; r++)
            {
                int i = r / kernels, b = r % kernels;
                Terms(mt, ma, mo, n, kernels, dims, i, b, e);
                oa[oo + r] = TensorPrimitives.Sum<float>(e) - (includeSelf ? 0f : e[i]); // e[i] = exp(0) = 1
            }
        }, grain: Math.Max(1, 65536 / Math.Max(1, n * dims)));
    }

    static void BackwardCpu(CpuDevice cpu, Tensor g, Tensor m, Tensor dm, int n, int kernels, int dims)
    {
        var mt = TransposeToKernelMajor(m, n, kernels, dims);
        var gt = TransposeToKernelMajor(g, n, kernels, 1); // G as [B, N]: G[j, b] for every j is contiguous
        var (ga, go) = g.CpuBuffer;
        var (ma, mo) = m.CpuBuffer;
        var (da, doff) = dm.CpuBuffer;
        CpuParallel.For(cpu, n * kernels, (start, count) =>
        {
            var w = new float[n];
            for (int r = start; r < start + count; r++)
            {
                int k = r / kernels, b = r % kernels;
                Terms(mt, ma, mo, n, kernels, dims, k, b, w);                       // w[j] = e[k, j]
                TensorPrimitives.AddMultiply(gt.AsSpan(b * n, n), ga[go + r], w, w);  // w[j] = (G[j, b] + G[k, b]) e[k, j]
                // dm[k, b, c] = -Σ_j w[j] sign(m[k] - m[j]) = Σ_j w[j] sign(m[j] - m[k])
                for (int c = 0; c < dims; c++)
                    da[doff + r * dims + c] = SignWeightedSum(mt.AsSpan((b * dims + c) * n, n), ma[mo + r * dims + c], w);
            }
        }, grain: Math.Max(1, 65536 / Math.Max(1, n * dims)));
    }

    /// <summary>acc[j] += (hv - hx[j]) · sign(v - x[j]), vectorised: R's terms for one c.</summary>
    static void AddSignedDifference(ReadOnlySpan<float> x, float v, ReadOnlySpan<float> hx, float hv, Span<float> acc)
    {
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> vv = Vector256.Create(v), hvv = Vector256.Create(hv);
            for (; j <= x.Length - Vector256<float>.Count; j += Vector256<float>.Count)
            {
                var xs = Vector256.Create(x.Slice(j, Vector256<float>.Count));
                var d = hvv - Vector256.Create(hx.Slice(j, Vector256<float>.Count));
                (Vector256.Create(acc.Slice(j, Vector256<float>.Count)) + (Vector256.LessThan(xs, vv) & d) - (Vector256.GreaterThan(xs, vv) & d)).CopyTo(acc.Slice(j));
            }
        }
        for (; j < x.Length; j++) acc[j] += x[j] < v ? hv - hx[j] : x[j] > v ? hx[j] - hv : 0f;
    }

    static void BackwardBackwardCpu(CpuDevice cpu, Tensor h, Tensor g, Tensor m, Tensor dg, Tensor dm, int n, int kernels, int dims)
    {
        var mt = TransposeToKernelMajor(m, n, kernels, dims);
        var ht = TransposeToKernelMajor(h, n, kernels, dims);
        var gt = TransposeToKernelMajor(g, n, kernels, 1);
        var (ha, ho) = h.CpuBuffer;
        var (ga, go) = g.CpuBuffer;
        var (ma, mo) = m.CpuBuffer;
        var (dga, dgo) = dg.CpuBuffer;
        var (dma, dmo) = dm.CpuBuffer;
        CpuParallel.For(cpu, n * kernels, (start, count) =>
        {
            var e = new float[n];
            var r = new float[n];
            for (int row = start; row < start + count; row++)
            {
                int i = row / kernels, b = row % kernels;
                Terms(mt, ma, mo, n, kernels, dims, i, b, e);                                 // e[j] = e[i, j]
                r.AsSpan().Clear();
                for (int c = 0; c < dims; c++)                                               // r[j] = R[i, j]
                    AddSignedDifference(mt.AsSpan((b * dims + c) * n, n), ma[mo + row * dims + c], ht.AsSpan((b * dims + c) * n, n), ha[ho + row * dims + c], r);
                TensorPrimitives.Multiply(e, r, e);                                          // e[j] = e[i, j] R[i, j]
                dga[dgo + row] = -TensorPrimitives.Sum<float>(e);
                TensorPrimitives.AddMultiply(gt.AsSpan(b * n, n), ga[go + row], e, e);        // (G[j] + G[i]) e R
                // dm[i, b, c] = Σ_j w[j] sign(m[i] - m[j]) = -Σ_j w[j] sign(m[j] - m[i])
                for (int c = 0; c < dims; c++)
                    dma[dmo + row * dims + c] = -SignWeightedSum(mt.AsSpan((b * dims + c) * n, n), ma[mo + row * dims + c], e);
            }
        }, grain: Math.Max(1, 65536 / Math.Max(1, n * dims)));
    }

    // ================================================================ GPU kernels
    // One thread per output element; each walks the batch. N²·B·C (forward) and N²·B·C² (backward, e recomputed
    // per c) multiply-adds for minibatches of a few hundred: small next to the layers around it.

    internal static readonly KernelSpec ForwardSpec = KernelSpec.Implicit("MinibatchCloseness.Forward", typeof(MinibatchCloseness), nameof(ForwardKernel));
    internal static readonly KernelSpec BackwardSpec = KernelSpec.Implicit("MinibatchCloseness.Backward", typeof(MinibatchCloseness), nameof(BackwardKernel));

    internal static readonly KernelSpec GradOfGSpec = KernelSpec.Implicit("MinibatchCloseness.BackwardBackward.G", typeof(MinibatchCloseness), nameof(GradOfGKernel));
    internal static readonly KernelSpec GradOfMSpec = KernelSpec.Implicit("MinibatchCloseness.BackwardBackward.M", typeof(MinibatchCloseness), nameof(GradOfMKernel));

    static float L1(ArrayView<float> m, int rowI, int rowJ, int dims)
    {
        float l1 = 0f;
        for (int c = 0; c < dims; c++) l1 += MathF.Abs(m[rowI + c] - m[rowJ + c]);
        return l1;
    }

    static void ForwardKernel(Index1D r, ArrayView<float> m, ArrayView<float> o, int n, int kernels, int dims, int includeSelf)
    {
        int i = r / kernels, b = r % kernels;
        float sum = 0f;
        for (int j = 0; j < n; j++)
            if (j != i || includeSelf != 0) sum += MathF.Exp(-L1(m, (i * kernels + b) * dims, (j * kernels + b) * dims, dims));
        o[r] = sum;
    }

    static void BackwardKernel(Index1D t, ArrayView<float> g, ArrayView<float> m, ArrayView<float> dm, int n, int kernels, int dims)
    {
        int row = t / dims, c = t % dims, k = row / kernels, b = row % kernels;
        float mine = m[t], sum = 0f;
        for (int j = 0; j < n; j++)
        {
            int other = (j * kernels + b) * dims;
            float d = mine - m[other + c];
            if (d == 0f) continue; // sign 0, and j = k
            float e = MathF.Exp(-L1(m, row * dims, other, dims));
            sum += (g[row] + g[j * kernels + b]) * e * (d > 0f ? 1f : -1f);
        }
        dm[t] = -sum;
    }

    /// <summary>R[i, j] = Σ_c (h[i, c] - h[j, c]) sign(m[i, c] - m[j, c]) for the rows starting at rowI and rowJ.</summary>
    static float SignedDifference(ArrayView<float> h, ArrayView<float> m, int rowI, int rowJ, int dims)
    {
        float r = 0f;
        for (int c = 0; c < dims; c++)
        {
            float d = m[rowI + c] - m[rowJ + c];
            if (d != 0f) r += (h[rowI + c] - h[rowJ + c]) * (d > 0f ? 1f : -1f);
        }
        return r;
    }

    /// <summary>dG[i, b] = -Σ_j e[i, j] R[i, j]: one thread per (i, b).</summary>
    static void GradOfGKernel(Index1D row, ArrayView<float> h, ArrayView<float> m, ArrayView<float> dg, int n, int kernels, int dims)
    {
        int b = row % kernels, mine = row * dims;
        float sum = 0f;
        for (int j = 0; j < n; j++)
        {
            int other = (j * kernels + b) * dims;
            float r = SignedDifference(h, m, mine, other, dims); // 0 for j = i
            if (r != 0f) sum += MathF.Exp(-L1(m, mine, other, dims)) * r;
        }
        dg[row] = -sum;
    }

    /// <summary>dm[i, b, c] = Σ_j (G[i] + G[j]) e[i, j] R[i, j] sign(m[i, c] - m[j, c]): one thread per element.</summary>
    static void GradOfMKernel(Index1D t, ArrayView<float> h, ArrayView<float> g, ArrayView<float> m, ArrayView<float> dm, int n, int kernels, int dims)
    {
        int row = t / dims, c = t % dims, b = row % kernels, mine = row * dims;
        float sum = 0f;
        for (int j = 0; j < n; j++)
        {
            int other = (j * kernels + b) * dims;
            float d = m[t] - m[other + c];
            if (d == 0f) continue; // sign 0, and j = i
            float w = (g[row] + g[j * kernels + b]) * MathF.Exp(-L1(m, mine, other, dims)) * SignedDifference(h, m, mine, other, dims);
            sum += d > 0f ? w : -w;
        }
        dm[t] = sum;
    }
}
