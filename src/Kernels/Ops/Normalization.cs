using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

/// <summary>
/// Which elements a normalisation averages over, and how its affine parameters are indexed: the one
/// thing in which batch, instance, layer norm and AdaIN differ. A <em>group</em> is the set of elements
/// that share one mean and one variance:
/// <list type="bullet">
/// <item>batch norm: a channel, over N, H, W (<see cref="PerChannel"/>);</item>
/// <item>instance norm and AdaIN: a plane (n, c), over H, W (<see cref="PerPlane"/>);</item>
/// <item>layer norm: a sample, over everything but N (<see cref="PerSample"/>).</item>
/// </list>
/// A group is made of runs of <see cref="Inner"/> contiguous elements, <see cref="OuterStride"/> apart;
/// consecutive groups start <see cref="GroupStride"/> apart. A struct of ints, so it travels to GPU kernels.
/// </summary>
public readonly struct NormLayout
{
    /// <summary>Number of groups (statistics computed).</summary>
    public readonly int Groups;
    /// <summary>Elements in each group (the M the mean divides by).</summary>
    public readonly int Count;
    /// <summary>Length of one contiguous run of a group.</summary>
    public readonly int Inner;
    /// <summary>Distance between the starts of two runs of one group.</summary>
    public readonly int OuterStride;
    /// <summary>Distance between the first elements of group g and g + 1.</summary>
    public readonly int GroupStride;
    /// <summary>Length of gamma and beta (and of dgamma, dbeta, which backward can give even without gamma: the gradient at gamma = 1).</summary>
    public readonly int ParamLength;
    /// <summary>1: parameter index = flat index mod <see cref="ParamLength"/> (layer norm's per-element affine);
    /// 0: parameter index = group mod <see cref="ParamLength"/> (one value per channel or per plane).</summary>
    public readonly int PerElement;
    public readonly int HasGamma, HasBeta;

    NormLayout(int groups, int count, int inner, int outerStride, int groupStride,
        int paramLength = 0, int perElement = 0, int hasGamma = 0, int hasBeta = 0)
    {
        Groups = groups; Count = count; Inner = inner; OuterStride = outerStride; GroupStride = groupStride;
        ParamLength = paramLength; PerElement = perElement; HasGamma = hasGamma; HasBeta = hasBeta;
    }

    /// <summary>Batch norm: one group per channel c of an [N, C, plane] tensor; N runs of one plane each.</summary>
    public static NormLayout PerChannel(int n, int c, int plane) => new(c, n * plane, plane, c * plane, plane);

    /// <summary>Instance norm, AdaIN: one group per plane (n, c); one run.</summary>
    public static NormLayout PerPlane(int n, int c, int plane) => new(n * c, plane, plane, 0, plane);

    /// <summary>Layer norm: one group per sample of an [N, size] tensor; one run.</summary>
    public static NormLayout PerSample(int n, int size) => new(n, size, size, 0, size);

    /// <summary>The same grouping with affine parameters of <paramref name="length"/> values.</summary>
    public NormLayout WithAffine(int length, bool perElement, bool hasGamma, bool hasBeta)
        => new(Groups, Count, Inner, OuterStride, GroupStride, length, perElement ? 1 : 0, hasGamma ? 1 : 0, hasBeta ? 1 : 0);

    /// <summary>Runs per group.</summary>
    public int Runs => Count / Inner;

    /// <summary>
    /// Batch norm of an [N, C] tensor (or [N, C, 1, 1]): every group is one column of a row-major matrix, one
    /// element a row. The cpu's v2 kernels then sweep rows, vectorised across the columns (<c>*ColumnsCpu</c>).
    /// </summary>
    public bool IsColumns => Inner == 1 && GroupStride == 1 && OuterStride == Groups && PerElement == 0;

    /// <summary>Flat index of element <paramref name="j"/> (0 .. Count-1) of group <paramref name="g"/>.</summary>
    public int Index(int g, int j) => j / Inner * OuterStride + g * GroupStride + j % Inner;

    /// <summary>Flat index of the first element of run <paramref name="r"/> of group <paramref name="g"/>.</summary>
    public int RunStart(int g, int r) => r * OuterStride + g * GroupStride;

    /// <summary>The group flat index <paramref name="i"/> belongs to.</summary>
    public int GroupOf(int i) => i / GroupStride % Groups;

    /// <summary>The index into gamma and beta of flat index <paramref name="i"/> in group <paramref name="g"/>.</summary>
    public int ParamOf(int i, int g) => ParamLength == 0 ? 0 : PerElement != 0 ? i % ParamLength : g % ParamLength;
}

/// <summary>
/// Which normalisation kernels run (<see cref="Normalization"/>): numbered as written, v1 the general kernels over a
/// group's runs, v2 the cpu's column kernels for [N, C] batch norm, v3 the GPU's fused kernels (one launch a direction).
/// </summary>
public enum NormVariant
{
    /// <summary>The measured best: v2 for [N, C] batch norm on the cpu (19x v1 forward + backward at 100 x 400,
    /// benchmarks/NOTES.md, column kernels), v1 for every other layout on the cpu; on a GPU v3 (fewer launches, the
    /// same bits as v1; not yet timed on a GPU).</summary>
    Default = 0,
    /// <summary>v1: each group's runs in turn (cpu), one thread group a normalisation group (GPU); every layout. On a GPU
    /// two launches forward (statistics, normalise) and three backward (sums, parameter gradients, input gradient).</summary>
    V1 = 1,
    /// <summary>v2 (cpu, [N, C] or [N, C, 1, 1] batch norm only): the rows swept, vectorised across the columns.</summary>
    V2 = 2,
    /// <summary>v3 (GPU, every layout): v1's kernels fused, one thread group a normalisation group that computes its
    /// statistics and then normalises its own elements (forward), or its two sums and then its input gradient and, where a
    /// group is a parameter (batch norm), its parameter gradients (backward): one launch each way (one more backward for
    /// the parameter gradients of instance and layer norm). Each thread's arithmetic is v1's, so the bits are v1's.</summary>
    V3 = 3,
}

/// <summary>
/// The kernels all normalisations share (<see cref="BatchNorm2d"/>, <see cref="InstanceNorm2d"/>,
/// <see cref="AdaIN"/>, <see cref="LayerNorm"/> validate their arguments and call these with their
/// <see cref="NormLayout"/>). With xhat = (x - mean) * invStd:
/// <code>
/// forward:   mean = E[x], var = E[(x - mean)^2] (biased; two passes), y = gamma * xhat + beta
/// backward:  A = sum(w * dy), B = sum(w * dy * xhat) over the group, w = gamma where it varies inside
///            the group (layer norm) and 1 otherwise; with gc = the group's constant gamma (or 1):
///            dx = invStd * (w' * dy - gc * (A + xhat * B) / M),  w' = gamma at the element (or 1)
///            dgamma = sum(dy * xhat), dbeta = sum(dy) over the elements that use the parameter
/// </code>
/// The dx formula is the full derivative through the mean and the variance (the two sums are what the
/// mean and the variance pass back). Statistics use two passes (mean, then squared deviations from it),
/// so inputs with a large offset lose nothing to cancellation.
/// <para>Variants (<see cref="NormVariant"/>, an argument of each entry point): on the cpu, v1 walks each group's runs
/// (every layout), v2 sweeps the rows of an [N, C] layout vectorised across its columns (<see cref="NormLayout.IsColumns"/>);
/// the default is v2 where the layout allows, else v1. A GPU has one set of kernels (v1).</para>
/// </summary>
internal static class Normalization
{
    // ================================================================ dispatch

    /// <summary>mean[g], invStd[g] = 1/sqrt(var + eps) for every group; with running statistics given,
    /// also running = (1 - momentum) * running + momentum * batch (the unbiased variance for runningVar).</summary>
    public static void Statistics(Tensor x, NormLayout layout, Tensor mean, Tensor invStd, float eps,
        Tensor? runningMean = null, Tensor? runningVar = null, float momentum = 0f, NormVariant variant = NormVariant.Default)
    {
        switch (x.Device)
        {
            case CpuDevice cpu: StatisticsCpu(cpu, x, layout, mean, invStd, eps, runningMean, runningVar, momentum, Columns("Norm.Statistics", x.Device, layout, variant)); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                        ArrayView<float>, ArrayView<float>, NormLayout, float, float, int>>(StatisticsSpec)
                    (gpu.Stream, Groups(gpu, layout), x.View, mean.View, invStd.View,
                     (runningMean ?? mean).View, (runningVar ?? invStd).View, layout, eps, momentum, runningMean is null ? 0 : 1);
                break;
        }
    }

    /// <summary>
    /// <see cref="Statistics"/> then <see cref="Normalize(Tensor, NormLayout, Tensor, Tensor, Tensor?, Tensor?, Tensor, NormVariant)"/>
    /// (y may be x): on a GPU with v3 (the default there) one fused launch.
    /// </summary>
    public static void StatisticsAndNormalize(Tensor x, NormLayout layout, Tensor mean, Tensor invStd, float eps, Tensor? gamma, Tensor? beta,
        Tensor y, Tensor? runningMean = null, Tensor? runningVar = null, float momentum = 0f, NormVariant variant = NormVariant.Default)
    {
        if (x.Device is GpuDevice gpu && FusedGpu("Norm.StatisticsAndNormalize", gpu, variant))
        {
            gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout, NormScalars>>(StatisticsNormalizeSpec)
                (gpu.Stream, Groups(gpu, layout), x.View, y.View, mean.View, invStd.View, (gamma ?? x).View, (beta ?? x).View,
                 (runningMean ?? mean).View, (runningVar ?? invStd).View, layout, new NormScalars(eps, momentum, runningMean is null ? 0 : 1));
            return;
        }
        Statistics(x, layout, mean, invStd, eps, runningMean, runningVar, momentum, variant);
        Normalize(x, layout, mean, invStd, gamma, beta, y, variant);
    }

    /// <summary>y = (x - mean[g]) * invStd[g] * gamma[p] + beta[p]; y may be x.</summary>
    public static void Normalize(Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma, Tensor? beta, Tensor y,
        NormVariant variant = NormVariant.Default)
    {
        switch (x.Device)
        {
            case CpuDevice cpu: NormalizeCpu(cpu, x, layout, mean, invStd, gamma, beta, y, Columns("Norm.Normalize", x.Device, layout, variant)); break;
            case GpuDevice gpu:
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                        ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout>>(NormalizeSpec)
                    (gpu.Stream, x.Length, x.View, y.View, mean.View, invStd.View, (gamma ?? x).View, (beta ?? x).View, layout);
                break;
        }
    }

    /// <summary>
    /// The backward of <see cref="Normalize(Tensor, NormLayout, Tensor, Tensor, Tensor?, Tensor?, Tensor, NormVariant)"/> composed with <see cref="Statistics"/>: dx (may be dy),
    /// and dgamma, dbeta where given. Order: group sums, parameter gradients, then dx, so dx may overwrite dy.
    /// </summary>
    public static void Backward(Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma,
        Tensor dx, Tensor? dgamma, Tensor? dbeta, NormVariant variant = NormVariant.Default)
    {
        switch (x.Device)
        {
            case CpuDevice cpu: BackwardCpu(cpu, dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta, Columns("Norm.Backward", x.Device, layout, variant)); break;
            case GpuDevice gpu:
                if (FusedGpu("Norm.Backward", gpu, variant)) BackwardFusedGpu(gpu, dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
                else BackwardGpu(gpu, dy, x, layout, mean, invStd, gamma, dx, dgamma, dbeta);
                break;
        }
    }

    /// <summary>Refuses a variant that <paramref name="device"/> or <paramref name="layout"/> does not have (v2 is the cpu's,
    /// for [N, C] layouts only); call it before allocating anything.</summary>
    public static void CheckVariant(string op, Device device, NormLayout layout, NormVariant variant) => Columns(op, device, layout, variant);

    /// <summary>Whether the cpu runs the v2 column kernels for this layout and variant (after checking the variant).</summary>
    static bool Columns(string op, Device device, NormLayout layout, NormVariant variant)
    {
        bool gpu = device is GpuDevice;
        switch (variant)
        {
            case NormVariant.Default: return layout.IsColumns && !gpu;
            case NormVariant.V1: return false;
            case NormVariant.V2 when gpu:
                throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: no variant 2 on {device.Name}; the GPU's variants are 1 (separate kernels), 3 (fused) and 0 (Default)");
            case NormVariant.V2 when !layout.IsColumns:
                throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: variant 2 (the column kernels) takes [N, C] or [N, C, 1, 1] batch norm only; this layout has variant 1 and 0 (Default)");
            case NormVariant.V2: return true;
            case NormVariant.V3 when !gpu:
                throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: no variant 3 (the GPU's fused kernels) on {device.Name}; the cpu's variants are 1, 2 ([N, C] batch norm) and 0 (Default)");
            case NormVariant.V3: return false;
            default: throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: no variant {(int)variant}; the variants are 1, 2 (cpu, [N, C] batch norm), 3 (GPU) and 0 (Default)");
        }
    }

    /// <summary>Whether a GPU runs the v3 fused kernels (the default there) for this variant (after checking it).</summary>
    static bool FusedGpu(string op, GpuDevice gpu, NormVariant variant)
    {
        if (variant is not (NormVariant.Default or NormVariant.V1 or NormVariant.V3))
            throw new ArgumentOutOfRangeException(nameof(variant), $"{op}: no variant {(int)variant} on {gpu.Name}; the GPU's variants are 1 (separate kernels), 3 (fused) and 0 (Default)");
        return variant != NormVariant.V1;
    }

    // ================================================================ cpu kernels

    /// <summary>Groups small enough are handed to a thread together, so a thread gets at least this many elements.</summary>
    const int CpuGrainElements = 32768;

    static int Grain(NormLayout layout) => Math.Max(1, CpuGrainElements / Math.Max(1, layout.Count));

    static void StatisticsCpu(CpuDevice cpu, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, float eps,
        Tensor? runningMean, Tensor? runningVar, float momentum, bool columns)
    {
        if (columns) { StatisticsColumnsCpu(cpu, x, layout, mean, invStd, eps, runningMean, runningVar, momentum); return; }
        var (xa, xo) = x.CpuBuffer;
        var (ma, mo) = mean.CpuBuffer;
        var (sa, so) = invStd.CpuBuffer;
        CpuParallel.For(cpu, layout.Groups, (start, count) =>
        {
            for (int g = start; g < start + count; g++)
            {
                // Pass 1: the mean. Pass 2: squared deviations from it (no E[x^2] - E[x]^2 cancellation).
                float sum = 0f;
                for (int r = 0; r < layout.Runs; r++)
                    sum += TensorPrimitives.Sum(xa.AsSpan(xo + layout.RunStart(g, r), layout.Inner));
                float mu = sum / layout.Count;
                float squares = 0f;
                for (int r = 0; r < layout.Runs; r++)
                    squares += SumSquaredDeviations(xa.AsSpan(xo + layout.RunStart(g, r), layout.Inner), mu);
                float variance = squares / layout.Count;
                ma[mo + g] = mu;
                sa[so + g] = 1f / MathF.Sqrt(variance + eps);
                if (runningMean is not null && runningVar is not null)
                {
                    var (rma, rmo) = runningMean.CpuBuffer;
                    var (rva, rvo) = runningVar.CpuBuffer;
                    rma[rmo + g] = (1f - momentum) * rma[rmo + g] + momentum * mu;
                    rva[rvo + g] = (1f - momentum) * rva[rvo + g] + momentum * variance * layout.Count / (layout.Count - 1);
                }
            }
        }, grain: Grain(layout));
    }

    static void NormalizeCpu(CpuDevice cpu, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma, Tensor? beta, Tensor y, bool columns)
    {
        if (columns) { NormalizeColumnsCpu(cpu, x, layout, mean, invStd, gamma, beta, y); return; }
        var (xa, xo) = x.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        var (ma, mo) = mean.CpuBuffer;
        var (sa, so) = invStd.CpuBuffer;
        float[]? ga = gamma?.CpuBuffer.Array, ba = beta?.CpuBuffer.Array;
        int go = gamma?.CpuBuffer.Offset ?? 0, bo = beta?.CpuBuffer.Offset ?? 0;
        CpuParallel.For(cpu, layout.Groups, (start, count) =>
        {
            for (int g = start; g < start + count; g++)
            {
                float mu = ma[mo + g], s = sa[so + g];
                for (int r = 0; r < layout.Runs; r++)
                {
                    int i0 = layout.RunStart(g, r);
                    var xs = xa.AsSpan(xo + i0, layout.Inner);
                    var ys = ya.AsSpan(yo + i0, layout.Inner);
                    if (layout.PerElement != 0)
                    {
                        int p0 = layout.ParamOf(i0, g);
                        NormalizeElementwise(xs, ys, mu, s,
                            ga is null ? default : ga.AsSpan(go + p0, layout.Inner),
                            ba is null ? default : ba.AsSpan(bo + p0, layout.Inner));
                    }
                    else
                    {
                        int p = layout.ParamOf(i0, g);
                        float scale = ga is null ? s : s * ga[go + p], shift = ba is null ? 0f : ba[bo + p];
                        Normalize(xs, ys, mu, scale, shift);
                    }
                }
            }
        }, grain: Grain(layout));
    }

    static void BackwardCpu(CpuDevice cpu, Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma,
        Tensor dx, Tensor? dgamma, Tensor? dbeta, bool columns)
    {
        var (da, dyo) = dy.CpuBuffer;
        var (xa, xo) = x.CpuBuffer;
        var (ma, mo) = mean.CpuBuffer;
        var (sa, so) = invStd.CpuBuffer;
        float[]? ga = gamma?.CpuBuffer.Array;
        int go = gamma?.CpuBuffer.Offset ?? 0;
        bool weighted = layout.PerElement != 0 && ga is not null;
        int groups = layout.Groups;
        var sums = new float[2 * groups]; // A = sum(w dy) at [g], B = sum(w dy xhat) at [groups + g]

        // Pass 1: the two sums of every group.
        if (columns) GroupSumsColumnsCpu(cpu, dy, x, layout, mean, invStd, sums);
        else CpuParallel.For(cpu, groups, (start, count) =>
        {
            for (int g = start; g < start + count; g++)
            {
                float mu = ma[mo + g], a = 0f, b = 0f;
                for (int r = 0; r < layout.Runs; r++)
                {
                    int i0 = layout.RunStart(g, r);
                    var dys = da.AsSpan(dyo + i0, layout.Inner);
                    var xs = xa.AsSpan(xo + i0, layout.Inner);
                    if (weighted)
                    {
                        var ws = ga.AsSpan(go + layout.ParamOf(i0, g), layout.Inner);
                        a += TensorPrimitives.Dot(dys, ws);
                        b += DotCentered(dys, xs, mu, ws);
                    }
                    else
                    {
                        a += TensorPrimitives.Sum(dys);
                        b += DotCentered(dys, xs, mu, default);
                    }
                }
                sums[g] = a;
                sums[groups + g] = b * sa[so + g];
            }
        }, grain: Grain(layout));

        // Pass 2: parameter gradients (before dx, which may overwrite dy).
        if (dgamma is not null || dbeta is not null)
        {
            var (dga, dgo) = dgamma?.CpuBuffer ?? (null!, 0);
            var (dba, dbo) = dbeta?.CpuBuffer ?? (null!, 0);
            int p = layout.ParamLength;
            if (layout.PerElement == 0)
            {
                // One parameter per channel or plane: sum the groups' unweighted sums that use it.
                for (int k = 0; k < p; k++)
                {
                    float a = 0f, b = 0f;
                    for (int g = k; g < groups; g += p) { a += sums[g]; b += sums[groups + g]; }
                    if (dgamma is not null) dga[dgo + k] = b;
                    if (dbeta is not null) dba[dbo + k] = a;
                }
            }
            else
            {
                // Layer norm: dgamma[j] = sum over samples of dy * xhat, a column sum, vectorised along j.
                CpuParallel.For(cpu, p, (start, count) =>
                {
                    Span<float> dg = dgamma is null ? default : dga.AsSpan(dgo + start, count);
                    Span<float> db = dbeta is null ? default : dba.AsSpan(dbo + start, count);
                    dg.Clear();
                    db.Clear();
                    for (int g = 0; g < groups; g++)
                    {
                        int i0 = layout.RunStart(g, 0) + start;
                        var dys = da.AsSpan(dyo + i0, count);
                        if (dbeta is not null) TensorPrimitives.Add(db, dys, db);
                        if (dgamma is not null) AccumulateScaledCentered(dg, dys, xa.AsSpan(xo + i0, count), ma[mo + g], sa[so + g]);
                    }
                }, grain: Math.Max(1, CpuGrainElements / Math.Max(1, groups)));
            }
        }

        // Pass 3: dx.
        if (columns) { InputGradColumnsCpu(cpu, dy, x, layout, mean, invStd, gamma, sums, dx); return; }
        var (dxa, dxo) = dx.CpuBuffer;
        float inverseCount = 1f / layout.Count;
        CpuParallel.For(cpu, groups, (start, count) =>
        {
            for (int g = start; g < start + count; g++)
            {
                float mu = ma[mo + g], s = sa[so + g];
                float a = sums[g] * inverseCount, b = sums[groups + g] * inverseCount;
                for (int r = 0; r < layout.Runs; r++)
                {
                    int i0 = layout.RunStart(g, r);
                    var dys = da.AsSpan(dyo + i0, layout.Inner);
                    var xs = xa.AsSpan(xo + i0, layout.Inner);
                    var dxs = dxa.AsSpan(dxo + i0, layout.Inner);
                    if (weighted)
                        InputGradElementwise(dys, xs, ga.AsSpan(go + layout.ParamOf(i0, g), layout.Inner), dxs, mu, s, a, b);
                    else
                    {
                        // dx = gc * s * (dy - a - b * (x - mu) * s): factors of one multiply-add each.
                        float gc = ga is null ? 1f : ga[go + layout.ParamOf(i0, g)];
                        InputGrad(dys, xs, dxs, mu, gc * s, -gc * s * s * b, -gc * s * a);
                    }
                }
            }
        }, grain: Grain(layout));
    }

    // ---------------------------------------------------------------- v2: [N, C] batch norm, one column a group
    // The general kernels above walk a group's runs; for [N, C] a run is one element, so a 100 x 400 batch norm
    // made 80,000 one-element span calls (12% of a 2D wgan-gp step, benchmarks/NOTES.md). These sweep the rows
    // instead, vectorised across the columns; sums still run over the rows in order, as the general kernels do.
    // NormVariant.V1 runs the general kernels on [N, C] too: `nativegan lab batchnorm --variant all` and benchmarks'
    // `norm-quick` time the two side by side.

    /// <summary>Columns per parallel chunk: a multiple of the vector width, the chunk holding about the grain's elements.</summary>
    static int ColumnGrain(NormLayout layout) => Math.Max(8, CpuGrainElements / Math.Max(1, layout.Runs)) / 8 * 8;

    static void StatisticsColumnsCpu(CpuDevice cpu, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, float eps,
        Tensor? runningMean, Tensor? runningVar, float momentum)
    {
        var (xa, xo) = x.CpuBuffer;
        var (ma, mo) = mean.CpuBuffer;
        var (sa, so) = invStd.CpuBuffer;
        int rows = layout.Runs, columns = layout.Groups;
        CpuParallel.For(cpu, columns, (start, count) =>
        {
            // Pass 1 sums into the mean's slots; pass 2 accumulates squared deviations in invStd's, then converts.
            var mu = ma.AsSpan(mo + start, count);
            var squares = sa.AsSpan(so + start, count);
            mu.Clear();
            for (int r = 0; r < rows; r++) TensorPrimitives.Add(mu, xa.AsSpan(xo + r * columns + start, count), mu);
            TensorPrimitives.Divide(mu, layout.Count, mu);
            squares.Clear();
            for (int r = 0; r < rows; r++) AccumulateSquaredDeviations(xa.AsSpan(xo + r * columns + start, count), mu, squares);
            for (int j = 0; j < count; j++)
            {
                float variance = squares[j] / layout.Count;
                squares[j] = 1f / MathF.Sqrt(variance + eps);
                if (runningMean is not null && runningVar is not null)
                {
                    var (rma, rmo) = runningMean.CpuBuffer;
                    var (rva, rvo) = runningVar.CpuBuffer;
                    int g = start + j;
                    rma[rmo + g] = (1f - momentum) * rma[rmo + g] + momentum * mu[j];
                    rva[rvo + g] = (1f - momentum) * rva[rvo + g] + momentum * variance * layout.Count / (layout.Count - 1);
                }
            }
        }, grain: ColumnGrain(layout));
    }

    static void NormalizeColumnsCpu(CpuDevice cpu, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma, Tensor? beta, Tensor y)
    {
        var (xa, xo) = x.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        int rows = layout.Runs, columns = layout.Groups;
        // y = (x - mean) * scale + shift with scale = invStd * gamma, shift = beta: per column, computed once.
        var mu = mean.CpuBuffer.Array.AsSpan(mean.CpuBuffer.Offset, columns).ToArray();
        var scale = invStd.CpuBuffer.Array.AsSpan(invStd.CpuBuffer.Offset, columns).ToArray();
        var shift = new float[columns];
        for (int g = 0; g < columns; g++)
        {
            int p = layout.ParamOf(g, g);
            if (gamma is not null) scale[g] *= gamma.CpuBuffer.Array[gamma.CpuBuffer.Offset + p];
            if (beta is not null) shift[g] = beta.CpuBuffer.Array[beta.CpuBuffer.Offset + p];
        }
        CpuParallel.For(cpu, rows, (start, count) =>
        {
            for (int r = start; r < start + count; r++)
                AffineRow(xa.AsSpan(xo + r * columns, columns), ya.AsSpan(yo + r * columns, columns), mu, scale, default, default, shift);
        }, grain: Math.Max(1, CpuGrainElements / Math.Max(1, columns)));
    }

    /// <summary>Pass 1 of the backward for columns: sums[g] = sum(dy), sums[groups + g] = sum(dy (x - mean)) * invStd.</summary>
    static void GroupSumsColumnsCpu(CpuDevice cpu, Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, float[] sums)
    {
        var (da, dyo) = dy.CpuBuffer;
        var (xa, xo) = x.CpuBuffer;
        var (ma, mo) = mean.CpuBuffer;
        var (sa, so) = invStd.CpuBuffer;
        int rows = layout.Runs, columns = layout.Groups;
        CpuParallel.For(cpu, columns, (start, count) =>
        {
            var a = sums.AsSpan(start, count);
            var b = sums.AsSpan(columns + start, count);
            var mu = ma.AsSpan(mo + start, count);
            for (int r = 0; r < rows; r++)
            {
                var dys = da.AsSpan(dyo + r * columns + start, count);
                TensorPrimitives.Add(a, dys, a);
                AccumulateDotCentered(dys, xa.AsSpan(xo + r * columns + start, count), mu, b);
            }
            TensorPrimitives.Multiply(b, sa.AsSpan(so + start, count), b);
        }, grain: ColumnGrain(layout));
    }

    /// <summary>Pass 3 for columns: dx = k1 dy + k2 (x - mean) + k3 per column (<see cref="InputGrad"/>'s factors); dx may be dy.</summary>
    static void InputGradColumnsCpu(CpuDevice cpu, Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma,
        float[] sums, Tensor dx)
    {
        var (da, dyo) = dy.CpuBuffer;
        var (xa, xo) = x.CpuBuffer;
        var (dxa, dxo) = dx.CpuBuffer;
        int rows = layout.Runs, columns = layout.Groups;
        float inverseCount = 1f / layout.Count;
        var mu = mean.CpuBuffer.Array.AsSpan(mean.CpuBuffer.Offset, columns).ToArray();
        float[] k1 = new float[columns], k2 = new float[columns], k3 = new float[columns];
        for (int g = 0; g < columns; g++)
        {
            float s = invStd.CpuBuffer.Array[invStd.CpuBuffer.Offset + g];
            float gc = gamma is null ? 1f : gamma.CpuBuffer.Array[gamma.CpuBuffer.Offset + layout.ParamOf(g, g)];
            float a = sums[g] * inverseCount, b = sums[columns + g] * inverseCount;
            k1[g] = gc * s; k2[g] = -gc * s * s * b; k3[g] = -gc * s * a;
        }
        CpuParallel.For(cpu, rows, (start, count) =>
        {
            for (int r = start; r < start + count; r++)
                AffineRow(xa.AsSpan(xo + r * columns, columns), dxa.AsSpan(dxo + r * columns, columns), mu, k2, da.AsSpan(dyo + r * columns, columns), k1, k3);
        }, grain: Math.Max(1, CpuGrainElements / Math.Max(1, columns)));
    }

    /// <summary>acc += (x - mean)^2, element by element.</summary>
    static void AccumulateSquaredDeviations(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> acc)
    {
        int i = 0;
        const int V = 8; // Vector256<float>.Count
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - V; i += V)
            {
                var d = Vector256.Create(x.Slice(i, V)) - Vector256.Create(mean.Slice(i, V));
                Vector256.FusedMultiplyAdd(d, d, Vector256.Create(acc.Slice(i, V))).CopyTo(acc.Slice(i, V));
            }
        for (; i < x.Length; i++) { float d = x[i] - mean[i]; acc[i] += d * d; }
    }

    /// <summary>acc += dy * (x - mean), element by element.</summary>
    static void AccumulateDotCentered(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, Span<float> acc)
    {
        int i = 0;
        const int V = 8; // Vector256<float>.Count
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - V; i += V)
            {
                var d = Vector256.Create(x.Slice(i, V)) - Vector256.Create(mean.Slice(i, V));
                Vector256.FusedMultiplyAdd(Vector256.Create(dy.Slice(i, V)), d, Vector256.Create(acc.Slice(i, V))).CopyTo(acc.Slice(i, V));
            }
        for (; i < x.Length; i++) acc[i] += dy[i] * (x[i] - mean[i]);
    }

    /// <summary>
    /// One row, per column j: y = (x - mean) * k2 + k3, plus k1 * dy when <paramref name="dy"/> is given (the
    /// normalisation is the case without dy: k2 = scale, k3 = shift). Each element reads dy and x before y is
    /// written, so y may be dy.
    /// </summary>
    static void AffineRow(ReadOnlySpan<float> x, Span<float> y, ReadOnlySpan<float> mean, ReadOnlySpan<float> k2,
        ReadOnlySpan<float> dy, ReadOnlySpan<float> k1, ReadOnlySpan<float> k3)
    {
        bool withDy = !dy.IsEmpty;
        int i = 0;
        const int V = 8; // Vector256<float>.Count
        if (Vector256.IsHardwareAccelerated)
            for (; i <= x.Length - V; i += V)
            {
                var v = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, V)) - Vector256.Create(mean.Slice(i, V)),
                    Vector256.Create(k2.Slice(i, V)), Vector256.Create(k3.Slice(i, V)));
                if (withDy) v = Vector256.FusedMultiplyAdd(Vector256.Create(dy.Slice(i, V)), Vector256.Create(k1.Slice(i, V)), v);
                v.CopyTo(y.Slice(i, V));
            }
        for (; i < x.Length; i++) y[i] = (withDy ? k1[i] * dy[i] : 0f) + ((x[i] - mean[i]) * k2[i] + k3[i]);
    }

    // ---------------------------------------------------------------- vectorised span helpers (AVX2 + FMA: Vector256)

    /// <summary>sum((x - mean)^2).</summary>
    static float SumSquaredDeviations(ReadOnlySpan<float> x, float mean)
    {
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            var m = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i <= x.Length - Vector256<float>.Count; i += Vector256<float>.Count)
            {
                var d = Vector256.Create(x.Slice(i, Vector256<float>.Count)) - m;
                acc = Vector256.FusedMultiplyAdd(d, d, acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) { float d = x[i] - mean; sum += d * d; }
        return sum;
    }

    /// <summary>sum(dy * (x - mean) * w), w = 1 when <paramref name="w"/> is empty.</summary>
    static float DotCentered(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, ReadOnlySpan<float> w)
    {
        bool weighted = !w.IsEmpty;
        int i = 0;
        float sum = 0f;
        if (Vector256.IsHardwareAccelerated && x.Length >= Vector256<float>.Count)
        {
            const int V = 8; // Vector256<float>.Count
            var m = Vector256.Create(mean);
            var acc = Vector256<float>.Zero;
            for (; i <= x.Length - V; i += V)
            {
                var d = Vector256.Create(dy.Slice(i, V));
                if (weighted) d *= Vector256.Create(w.Slice(i, V));
                acc = Vector256.FusedMultiplyAdd(d, Vector256.Create(x.Slice(i, V)) - m, acc);
            }
            sum = Vector256.Sum(acc);
        }
        for (; i < x.Length; i++) sum += dy[i] * (weighted ? w[i] : 1f) * (x[i] - mean);
        return sum;
    }

    /// <summary>y = (x - mean) * scale + shift.</summary>
    static void Normalize(ReadOnlySpan<float> x, Span<float> y, float mean, float scale, float shift)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            const int V = 8;
            Vector256<float> m = Vector256.Create(mean), a = Vector256.Create(scale), b = Vector256.Create(shift);
            for (; i <= x.Length - V; i += V)
                Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, V)) - m, a, b).CopyTo(y.Slice(i, V));
        }
        for (; i < x.Length; i++) y[i] = (x[i] - mean) * scale + shift;
    }

    /// <summary>y = (x - mean) * invStd * gamma + beta with per-element gamma, beta (either may be empty).</summary>
    static void NormalizeElementwise(ReadOnlySpan<float> x, Span<float> y, float mean, float invStd, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta)
    {
        Normalize(x, y, mean, invStd, 0f);
        if (!gamma.IsEmpty && !beta.IsEmpty) TensorPrimitives.MultiplyAdd(y, gamma, beta, y);
        else if (!gamma.IsEmpty) TensorPrimitives.Multiply(y, gamma, y);
        else if (!beta.IsEmpty) TensorPrimitives.Add(y, beta, y);
    }

    /// <summary>dx = k1 * dy + k2 * (x - mean) + k3; one read of dy and x per element, so dx may be dy.</summary>
    static void InputGrad(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, Span<float> dx, float mean, float k1, float k2, float k3)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            const int V = 8;
            Vector256<float> m = Vector256.Create(mean), a = Vector256.Create(k1), b = Vector256.Create(k2), c = Vector256.Create(k3);
            for (; i <= x.Length - V; i += V)
            {
                var centered = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, V)) - m, b, c);
                Vector256.FusedMultiplyAdd(Vector256.Create(dy.Slice(i, V)), a, centered).CopyTo(dx.Slice(i, V));
            }
        }
        for (; i < x.Length; i++) dx[i] = k1 * dy[i] + (k2 * (x[i] - mean) + k3);
    }

    /// <summary>dx = invStd * (gamma * dy - a - b * (x - mean) * invStd) (layer norm, per-element gamma); dx may be dy.</summary>
    static void InputGradElementwise(ReadOnlySpan<float> dy, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, Span<float> dx,
        float mean, float invStd, float a, float b)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            const int V = 8;
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(invStd),
                nbs = Vector256.Create(-b * invStd), na = Vector256.Create(-a);
            for (; i <= x.Length - V; i += V)
            {
                var inner = Vector256.FusedMultiplyAdd(Vector256.Create(x.Slice(i, V)) - m, nbs, na);
                inner = Vector256.FusedMultiplyAdd(Vector256.Create(gamma.Slice(i, V)), Vector256.Create(dy.Slice(i, V)), inner);
                (inner * s).CopyTo(dx.Slice(i, V));
            }
        }
        for (; i < x.Length; i++) dx[i] = invStd * (gamma[i] * dy[i] - a - b * (x[i] - mean) * invStd);
    }

    /// <summary>acc += dy * (x - mean) * invStd.</summary>
    static void AccumulateScaledCentered(Span<float> acc, ReadOnlySpan<float> dy, ReadOnlySpan<float> x, float mean, float invStd)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            const int V = 8;
            Vector256<float> m = Vector256.Create(mean), s = Vector256.Create(invStd);
            for (; i <= x.Length - V; i += V)
            {
                var xhat = (Vector256.Create(x.Slice(i, V)) - m) * s;
                Vector256.FusedMultiplyAdd(Vector256.Create(dy.Slice(i, V)), xhat, Vector256.Create(acc.Slice(i, V))).CopyTo(acc.Slice(i, V));
            }
        }
        for (; i < x.Length; i++) acc[i] += dy[i] * ((x[i] - mean) * invStd);
    }

    // ================================================================ GPU kernels

    /// <summary>Threads in a group of the reduction kernels: one group reduces one channel / plane / sample.</summary>
    internal const int GroupSize = 256;

    /// <summary>
    /// The group size on ILGPU's CPU accelerator, which runs every thread of a group as an OS thread and
    /// makes each barrier wait for all of them: 2 warps keep the cross-warp step of <see cref="GroupSum"/>
    /// tested at a quarter of the cost. The kernels take any multiple of the warp size up to <see cref="GroupSize"/>.
    /// </summary>
    const int IlgpuCpuGroupSize = 64;

    static KernelConfig Groups(GpuDevice gpu, NormLayout layout)
        => new(layout.Groups, gpu.Kind == DeviceKind.IlgpuCpu ? IlgpuCpuGroupSize : GroupSize);

    /// <summary>Room for one partial sum per warp (warps of 8 or more lanes).</summary>
    const int MaxWarps = GroupSize / 8;

    internal static readonly KernelSpec StatisticsSpec = KernelSpec.Explicit("Norm.Statistics", typeof(Normalization), nameof(StatisticsKernel), GroupSize, hot: true);
    internal static readonly KernelSpec NormalizeSpec = KernelSpec.Implicit("Norm.Normalize", typeof(Normalization), nameof(NormalizeKernel), hot: true);
    internal static readonly KernelSpec BackwardSumsSpec = KernelSpec.Explicit("Norm.BackwardSums", typeof(Normalization), nameof(BackwardSumsKernel), GroupSize, hot: true);
    internal static readonly KernelSpec InputGradSpec = KernelSpec.Implicit("Norm.InputGrad", typeof(Normalization), nameof(InputGradKernel), hot: true);
    internal static readonly KernelSpec ParamGradGroupsSpec = KernelSpec.Implicit("Norm.ParamGradGroups", typeof(Normalization), nameof(ParamGradGroupsKernel), hot: true);
    internal static readonly KernelSpec ParamGradElementsSpec = KernelSpec.Implicit("Norm.ParamGradElements", typeof(Normalization), nameof(ParamGradElementsKernel), hot: true);
    internal static readonly KernelSpec StatisticsNormalizeSpec = KernelSpec.Explicit("Norm.StatisticsNormalize", typeof(Normalization), nameof(StatisticsNormalizeKernel), GroupSize, hot: true);
    internal static readonly KernelSpec BackwardFusedSpec = KernelSpec.Explicit("Norm.BackwardFused", typeof(Normalization), nameof(BackwardFusedKernel), GroupSize, hot: true);

    /// <summary>The sum of <paramref name="value"/> over the warp, in every lane (butterfly of xor shuffles).</summary>
    static float WarpSum(float value)
    {
        for (int offset = Warp.WarpSize / 2; offset > 0; offset /= 2)
            value += Warp.ShuffleXor(value, offset);
        return value;
    }

    /// <summary>
    /// The sum of <paramref name="value"/> over the group, returned to every thread: each warp reduces
    /// with shuffles, lane 0 of each warp puts its warp's sum in shared memory, and every thread adds
    /// those few partial sums in the same order (so all threads hold the same bits).
    /// </summary>
    static float GroupSum(float value, ArrayView<float> scratch)
    {
        value = WarpSum(value);
        if (Warp.IsFirstLane) scratch[Warp.WarpIdx] = value;
        Group.Barrier();
        float total = 0f;
        int warps = Group.DimX / Warp.WarpSize;
        for (int w = 0; w < warps; w++) total += scratch[w];
        Group.Barrier(); // the scratch may be written again by the next GroupSum
        return total;
    }

    /// <summary>One group per normalisation group: the mean, then the squared deviations from it.</summary>
    static void StatisticsKernel(ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> runningMean, ArrayView<float> runningVar, NormLayout layout, float eps, float momentum, int updateRunning)
    {
        var scratch = SharedMemory.Allocate<float>(MaxWarps);
        int g = Grid.IdxX;
        float sum = 0f;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX) sum += x[layout.Index(g, j)];
        float mu = GroupSum(sum, scratch) / layout.Count;
        float squares = 0f;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            float d = x[layout.Index(g, j)] - mu;
            squares += d * d;
        }
        float variance = GroupSum(squares, scratch) / layout.Count;
        if (Group.IsFirstThread)
        {
            mean[g] = mu;
            invStd[g] = 1f / MathF.Sqrt(variance + eps);
            if (updateRunning != 0)
            {
                runningMean[g] = (1f - momentum) * runningMean[g] + momentum * mu;
                runningVar[g] = (1f - momentum) * runningVar[g] + momentum * variance * layout.Count / (layout.Count - 1);
            }
        }
    }

    /// <summary>
    /// v3's forward: <see cref="StatisticsKernel"/>'s work, then the group normalises its own elements as
    /// <see cref="NormalizeKernel"/> does (every thread holds the group's mean and variance, the same bits thread 0
    /// stores). y may be x: each element is read and written by one thread, after the statistics' last read.
    /// </summary>
    static void StatisticsNormalizeKernel(ArrayView<float> x, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> runningMean, ArrayView<float> runningVar, NormLayout layout, NormScalars s)
    {
        var scratch = SharedMemory.Allocate<float>(MaxWarps);
        int g = Grid.IdxX;
        float sum = 0f;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX) sum += x[layout.Index(g, j)];
        float mu = GroupSum(sum, scratch) / layout.Count;
        float squares = 0f;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            float d = x[layout.Index(g, j)] - mu;
            squares += d * d;
        }
        float variance = GroupSum(squares, scratch) / layout.Count;
        float inv = 1f / MathF.Sqrt(variance + s.Eps);
        if (Group.IsFirstThread)
        {
            mean[g] = mu;
            invStd[g] = inv;
            if (s.UpdateRunning != 0)
            {
                runningMean[g] = (1f - s.Momentum) * runningMean[g] + s.Momentum * mu;
                runningVar[g] = (1f - s.Momentum) * runningVar[g] + s.Momentum * variance * layout.Count / (layout.Count - 1);
            }
        }
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            int i = layout.Index(g, j), p = layout.ParamOf(i, g);
            float v = (x[i] - mu) * inv;
            if (layout.HasGamma != 0) v *= gamma[p];
            if (layout.HasBeta != 0) v += beta[p];
            y[i] = v;
        }
    }

    static void NormalizeKernel(Index1D i, ArrayView<float> x, ArrayView<float> y, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> beta, NormLayout layout)
    {
        int g = layout.GroupOf(i), p = layout.ParamOf(i, g);
        float v = (x[i] - mean[g]) * invStd[g];
        if (layout.HasGamma != 0) v *= gamma[p];
        if (layout.HasBeta != 0) v += beta[p];
        y[i] = v;
    }

    /// <summary>One group per normalisation group: A = sum(w dy) to sums[g], B = sum(w dy xhat) to sums[Groups + g].</summary>
    static void BackwardSumsKernel(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> sums, NormLayout layout)
    {
        var scratch = SharedMemory.Allocate<float>(MaxWarps);
        int g = Grid.IdxX;
        float mu = mean[g], a = 0f, b = 0f;
        bool weighted = layout.PerElement != 0 && layout.HasGamma != 0;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            int i = layout.Index(g, j);
            float d = dy[i];
            if (weighted) d *= gamma[layout.ParamOf(i, g)];
            a += d;
            b += d * (x[i] - mu);
        }
        a = GroupSum(a, scratch);
        b = GroupSum(b, scratch) * invStd[g];
        if (Group.IsFirstThread)
        {
            sums[g] = a;
            sums[layout.Groups + g] = b;
        }
    }

    /// <summary>
    /// v3's backward: <see cref="BackwardSumsKernel"/>'s work (the sums also stored, for a parameter-gradient launch
    /// where a parameter spans several groups), the parameter gradients where group g is parameter g (batch norm:
    /// <see cref="ParamGradGroupsKernel"/> would add one term), then the group's input gradient as
    /// <see cref="InputGradKernel"/>. dx may be dy: every element's dy is read by the sums before the barrier of the
    /// second group sum and then once more by the thread that writes its dx.
    /// </summary>
    static void BackwardFusedKernel(ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> sums, ArrayView<float> dx, ArrayView<float> dgamma, ArrayView<float> dbeta,
        NormLayout layout, int wantGamma, int wantBeta)
    {
        var scratch = SharedMemory.Allocate<float>(MaxWarps);
        int g = Grid.IdxX;
        float mu = mean[g], a = 0f, b = 0f;
        bool weighted = layout.PerElement != 0 && layout.HasGamma != 0;
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            int i = layout.Index(g, j);
            float d = dy[i];
            if (weighted) d *= gamma[layout.ParamOf(i, g)];
            a += d;
            b += d * (x[i] - mu);
        }
        a = GroupSum(a, scratch);
        b = GroupSum(b, scratch) * invStd[g];
        if (Group.IsFirstThread)
        {
            sums[g] = a;
            sums[layout.Groups + g] = b;
            if (layout.Groups == layout.ParamLength && layout.PerElement == 0)
            {
                if (wantGamma != 0) dgamma[g] = 0f + b;
                if (wantBeta != 0) dbeta[g] = 0f + a;
            }
        }
        float s = invStd[g];
        for (int j = Group.IdxX; j < layout.Count; j += Group.DimX)
        {
            int i = layout.Index(g, j);
            float w = layout.HasGamma != 0 ? gamma[layout.ParamOf(i, g)] : 1f;
            float groupGamma = layout.PerElement != 0 ? 1f : w;
            float xhat = (x[i] - mu) * s;
            dx[i] = s * (w * dy[i] - groupGamma * (a + xhat * b) / layout.Count);
        }
    }

    static void InputGradKernel(Index1D i, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> gamma, ArrayView<float> sums, ArrayView<float> dx, NormLayout layout)
    {
        int g = layout.GroupOf(i);
        float s = invStd[g];
        float w = layout.HasGamma != 0 ? gamma[layout.ParamOf(i, g)] : 1f;
        float groupGamma = layout.PerElement != 0 ? 1f : w; // a gamma constant over the group factors out of the sums
        float xhat = (x[i] - mean[g]) * s;
        dx[i] = s * (w * dy[i] - groupGamma * (sums[g] + xhat * sums[layout.Groups + g]) / layout.Count);
    }

    /// <summary>One thread per parameter p: dgamma[p] = sum of B, dbeta[p] = sum of A over the groups g = p mod P.</summary>
    static void ParamGradGroupsKernel(Index1D p, ArrayView<float> sums, ArrayView<float> dgamma, ArrayView<float> dbeta,
        NormLayout layout, int wantGamma, int wantBeta)
    {
        float a = 0f, b = 0f;
        for (int g = p; g < layout.Groups; g += layout.ParamLength)
        {
            a += sums[g];
            b += sums[layout.Groups + g];
        }
        if (wantGamma != 0) dgamma[p] = b;
        if (wantBeta != 0) dbeta[p] = a;
    }

    /// <summary>Layer norm, one thread per element j of a sample: column sums over the samples (coalesced along j).</summary>
    static void ParamGradElementsKernel(Index1D j, ArrayView<float> dy, ArrayView<float> x, ArrayView<float> mean, ArrayView<float> invStd,
        ArrayView<float> dgamma, ArrayView<float> dbeta, NormLayout layout, int wantGamma, int wantBeta)
    {
        float a = 0f, b = 0f;
        for (int g = 0; g < layout.Groups; g++)
        {
            int i = g * layout.GroupStride + j;
            float d = dy[i];
            a += d;
            b += d * ((x[i] - mean[g]) * invStd[g]);
        }
        if (wantGamma != 0) dgamma[j] = b;
        if (wantBeta != 0) dbeta[j] = a;
    }

    static void BackwardGpu(GpuDevice gpu, Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma,
        Tensor dx, Tensor? dgamma, Tensor? dbeta)
    {
        using var sums = Tensor.Empty(gpu, 2 * layout.Groups);
        var g = (gamma ?? x).View;
        gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, NormLayout>>(BackwardSumsSpec)
            (gpu.Stream, Groups(gpu, layout), dy.View, x.View, mean.View, invStd.View, g, sums.View, layout);
        if (dgamma is not null || dbeta is not null)
        {
            var dg = (dgamma ?? dbeta)!.View;
            var db = (dbeta ?? dgamma)!.View;
            int wantGamma = dgamma is null ? 0 : 1, wantBeta = dbeta is null ? 0 : 1;
            if (layout.PerElement == 0)
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout, int, int>>(ParamGradGroupsSpec)
                    (gpu.Stream, layout.ParamLength, sums.View, dg, db, layout, wantGamma, wantBeta);
            else
                gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                        ArrayView<float>, ArrayView<float>, NormLayout, int, int>>(ParamGradElementsSpec)
                    (gpu.Stream, layout.ParamLength, dy.View, x.View, mean.View, invStd.View, dg, db, layout, wantGamma, wantBeta);
        }
        gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout>>(InputGradSpec)
            (gpu.Stream, x.Length, dy.View, x.View, mean.View, invStd.View, g, sums.View, dx.View, layout);
    }

    /// <summary>
    /// v3's backward: layer norm's parameter gradients first (they read dy, which dx may overwrite), then one fused
    /// launch (sums, batch norm's parameter gradients, input gradient), then instance norm's parameter gradients from the
    /// stored sums (a parameter spans the N groups of its channel).
    /// </summary>
    static void BackwardFusedGpu(GpuDevice gpu, Tensor dy, Tensor x, NormLayout layout, Tensor mean, Tensor invStd, Tensor? gamma,
        Tensor dx, Tensor? dgamma, Tensor? dbeta)
    {
        using var sums = Tensor.Empty(gpu, 2 * layout.Groups);
        var g = (gamma ?? x).View;
        bool want = dgamma is not null || dbeta is not null;
        var dg = (dgamma ?? dbeta ?? x).View;
        var db = (dbeta ?? dgamma ?? x).View;
        int wantGamma = dgamma is null ? 0 : 1, wantBeta = dbeta is null ? 0 : 1;
        if (want && layout.PerElement != 0)
            gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                    ArrayView<float>, ArrayView<float>, NormLayout, int, int>>(ParamGradElementsSpec)
                (gpu.Stream, layout.ParamLength, dy.View, x.View, mean.View, invStd.View, dg, db, layout, wantGamma, wantBeta);
        bool inKernel = layout.Groups == layout.ParamLength && layout.PerElement == 0;
        gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>,
                ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout, int, int>>(BackwardFusedSpec)
            (gpu.Stream, Groups(gpu, layout), dy.View, x.View, mean.View, invStd.View, g, sums.View, dx.View, dg, db, layout,
             inKernel ? wantGamma : 0, inKernel ? wantBeta : 0);
        if (want && layout.PerElement == 0 && !inKernel)
            gpu.Kernel<Action<AcceleratorStream, Index1D, ArrayView<float>, ArrayView<float>, ArrayView<float>, NormLayout, int, int>>(ParamGradGroupsSpec)
                (gpu.Stream, layout.ParamLength, sums.View, dg, db, layout, wantGamma, wantBeta);
    }

    // ================================================================ argument checks shared by the ops

    /// <summary>Checks an optional per-channel (or other) parameter's shape.</summary>
    public static void CheckOptional(string op, string name, Tensor? t, params int[] shape)
    {
        if (t is not null) Check.Shape(op, name, t, shape);
    }

    /// <summary>Every tensor that is not null on one device.</summary>
    public static void SameDevice(string op, params Tensor?[] tensors)
        => Check.SameDevice(op, tensors.Where(t => t is not null).Select(t => t!).ToArray());
}

/// <summary>The scalars of v3's fused forward (one kernel parameter): eps, the running statistics' momentum, and 1 to update them.</summary>
public readonly struct NormScalars(float eps, float momentum, int updateRunning)
{
    public readonly float Eps = eps, Momentum = momentum;
    public readonly int UpdateRunning = updateRunning;
}
