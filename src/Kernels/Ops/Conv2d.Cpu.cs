using System.Buffers;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeGan;

// The cpu device's convolution: im2col / col2im in managed code, the products by Gemm.Cpu. Each pass is
// parallel on its own (im2col over column-matrix rows, col2im over input planes, the relayout over rows),
// and the GEMM parallelises itself, so no parallel loop nests inside another. Temporaries come from
// ArrayPool and are bounded by CpuChunkFloats: a large batch is done in chunks of samples.
public static partial class Conv2d
{
    // ================================================================ the three cores on the cpu

    static void ForwardCpu(CpuDevice cpu, in Conv2dGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dVariant variant)
    {
        var (xa, xo) = x.CpuBuffer;
        var (wa, wo) = w.CpuBuffer;
        var (ya, yo) = y.CpuBuffer;
        float[]? ba = null;
        int bo = 0;
        if (bias is not null) (ba, bo) = bias.CpuBuffer;
        if (IsDense(g, variant))
        {
            // y [N, O] = x [N, C*H*W] @ w [O, C*H*W]^T, then the bias.
            Gemm.Cpu(cpu, g.N, g.O, g.Rows, 1f, xa, xo, g.Rows, false, wa, wo, g.Rows, true, 0f, ya, yo, g.O, variant.Gemm);
            if (ba is not null) AddChannelBias(cpu, ya, yo, g.N, g.O, 1, ba, bo);
            return;
        }
        // im2col v4 (IsImplicit) gathers the GEMM's B panels straight from x: no column matrix, so the chunk only bounds
        // the relayout's [O, m*OH*OW]. Where the output plane is whole micro-tiles wide (StoresInPlace), the product is
        // stored straight into y's [m, O, OH*OW] layout: no relayout, and with v4 no temporary at all.
        bool implicitB = IsImplicit(g, variant) || IsPlanePacked(g, variant), gathered = IsImplicit(g, variant), inPlace = StoresInPlace(g, variant);
        int plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane, budget = variant.BudgetFloats(CpuChunkFloats);
        int nb = implicitB
            ? (inPlace ? Math.Max(1, g.N) : (int)Math.Clamp(budget / Math.Max(1L, outSample), 1, Math.Max(1, g.N)))
            : inPlace ? (int)Math.Clamp(budget / Math.Max(1L, (long)rows * plane), 1, Math.Max(1, g.N)) : ChunkSamples(g, budget);
        var col = implicitB ? null : ArrayPool<float>.Shared.Rent(rows * nb * plane);
        var tmp = nb > 1 && !inPlace ? ArrayPool<float>.Shared.Rent(outSample * nb) : null;
        var geometry = g;
        try
        {
            for (int n0 = 0; n0 < g.N; n0 += nb)
            {
                int m = Math.Min(nb, g.N - n0), cols = m * plane, first = n0;
                // One sample: the [O, OH*OW] product is y[n0] itself. Several: [O, m, OH*OW], relaid below, or stored in
                // segments of OH*OW columns a sample apart.
                var (target, to, ldc, segments) = m == 1 ? (ya, yo + n0 * outSample, cols, default)
                    : inPlace ? (ya, yo + n0 * outSample, plane, new Gemm.Segments(plane, outSample))
                    : (tmp!, 0, cols, default(Gemm.Segments));
                Gemm.PanelSource? panels = null;
                if (gathered)
                    unsafe { panels = (pc, kc, jc, nc, q0, q1, nr, dst) => PackColumnPanels(geometry, xa, xo, first, pc, kc, jc, nc, q0, q1, nr, dst); }
                else if (implicitB)
                    unsafe { panels = (pc, kc, jc, nc, q0, q1, nr, dst) => PackPlanePanels(geometry, xa, xo, first, pc, kc, jc, nc, q0, q1, nr, dst); }
                else
                    Im2ColCpu(cpu, g, xa, xo, n0, m, col!, variant.Im2Col);
                if (implicitB || inPlace)
                    Gemm.CpuPacked(cpu, g.O, cols, rows, 1f, wa, wo, rows, false, col ?? [], 0, cols, false, panels, 0f, target, to, ldc, segments, variant.Gemm);
                else
                    Gemm.Cpu(cpu, g.O, cols, rows, 1f, wa, wo, rows, false, col!, 0, cols, false, 0f, target, to, cols, variant.Gemm);
                if (m > 1 && !inPlace)
                    SwapLeadingAxesCpu(cpu, g.O, m, plane, target, to, ya, yo + n0 * outSample, ba, bo);
                else if (ba is not null)
                    AddChannelBias(cpu, ya, yo + n0 * outSample, m, g.O, plane, ba, bo);
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
            if (tmp is not null) ArrayPool<float>.Shared.Return(tmp);
        }
    }

    /// <summary>Whether a pass stores its [O, m*OH*OW] product (or reads its [O, m*OH*OW] operand) in the tensor's own [m, O,
    /// OH*OW] layout, segment by segment (<see cref="Gemm.Segments"/>), instead of through a relayout copy: the packed GEMM, and an output plane of whole micro-tiles (16 or 32 pixels: DCGAN's 4x4, 8x8, 16x16).
    /// The same products as the relayout path, bit for bit; im2col v1 and v2, kept to compare against, keep the relayout (a
    /// test compares the two).</summary>
    static bool StoresInPlace(in Conv2dGeometry g, Conv2dVariant variant)
    {
        int nr = Gemm.CpuPanelWidth(variant.Gemm);
        return nr > 0 && g.OutPlane % nr == 0 && variant.Im2Col is Im2ColVariant.Default or Im2ColVariant.V3 or Im2ColVariant.V4;
    }

    static void InputGradCpu(CpuDevice cpu, in Conv2dGeometry g, Tensor dy, Tensor w, Tensor? bias, Tensor dx, Conv2dVariant variant)
    {
        var (da, doff) = dy.CpuBuffer;
        var (wa, wo) = w.CpuBuffer;
        var (xa, xo) = dx.CpuBuffer;
        float[]? ba = null;
        int bo = 0;
        if (bias is not null) (ba, bo) = bias.CpuBuffer;
        if (IsDense(g, variant))
        {
            // dx [N, C*H*W] = dy [N, O] @ w [O, C*H*W], then the bias of each of the C channels (a transposed convolution's).
            Gemm.Cpu(cpu, g.N, g.Rows, g.O, 1f, da, doff, g.O, false, wa, wo, g.Rows, false, 0f, xa, xo, g.Rows, variant.Gemm);
            if (ba is not null) AddChannelBias(cpu, xa, xo, g.N, g.C, g.InPlane, ba, bo);
            return;
        }
        // Where the plane is whole micro-tiles (StoresInPlace), the GEMM packs dy's [m, O, OH*OW] chunk as [O, m*OH*OW] itself:
        // no relayout copy.
        bool inPlace = StoresInPlace(g, variant);
        int plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane, budget = variant.BudgetFloats(CpuChunkFloats);
        int nb = inPlace ? (int)Math.Clamp(budget / Math.Max(1L, (long)rows * plane), 1, Math.Max(1, g.N)) : ChunkSamples(g, budget);
        var col = ArrayPool<float>.Shared.Rent(rows * nb * plane);
        var dyT = nb > 1 && !inPlace ? ArrayPool<float>.Shared.Rent(outSample * nb) : null;
        try
        {
            for (int n0 = 0; n0 < g.N; n0 += nb)
            {
                int m = Math.Min(nb, g.N - n0), cols = m * plane, chunk = doff + n0 * outSample;
                if (m > 1 && inPlace)
                    Gemm.CpuPacked(cpu, rows, cols, g.O, 1f, wa, wo, rows, true, da, chunk, plane, false, null, 0f, col, 0, cols, default,
                        variant.Gemm, bSegments: new Gemm.Segments(plane, outSample));
                else
                {
                    // dy's chunk as [O, m*OH*OW]: sample n0 itself when m = 1, else relaid out.
                    var (source, so) = m == 1 ? (da, chunk) : (dyT!, 0);
                    if (m > 1) SwapLeadingAxesCpu(cpu, m, g.O, plane, da, chunk, dyT!, 0, null, 0);
                    Gemm.Cpu(cpu, rows, cols, g.O, 1f, wa, wo, rows, true, source, so, cols, false, 0f, col, 0, cols, variant.Gemm);
                }
                Col2ImCpu(cpu, g, col, n0, m, xa, xo, ba, bo, variant.Im2Col);
            }
        }
        finally
        {
            ArrayPool<float>.Shared.Return(col);
            if (dyT is not null) ArrayPool<float>.Shared.Return(dyT);
        }
    }

    static void WeightGradCpu(CpuDevice cpu, in Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Conv2dVariant variant)
    {
        var (xa, xo) = x.CpuBuffer;
        var (da, doff) = dy.CpuBuffer;
        var (wa, wo) = dw.CpuBuffer;
        if (IsDense(g, variant))
        {
            // dw [O, C*H*W] = dy [N, O]^T @ x [N, C*H*W].
            Gemm.Cpu(cpu, g.O, g.Rows, g.N, 1f, da, doff, g.O, true, xa, xo, g.Rows, false, 0f, wa, wo, g.Rows, variant.Gemm);
            return;
        }
        // Where the plane is whole micro-tiles (StoresInPlace), the GEMM packs dy's [m, O, OH*OW] chunk as A = [O, m*OH*OW]
        // itself (A's columns in segments of a plane): no relayout copy. For kernels 4 wide (IsPatchPacked) the B panels,
        // col^T, are read straight from x: no column matrix. The chunks stay the relayout's (its budget counted): chunks
        // are added one to the next, so other chunks would round the sum differently.
        bool inPlace = StoresInPlace(g, variant), patches = IsPatchPacked(g, variant);
        int plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane;
        int nb = ChunkSamples(g, variant.BudgetFloats(CpuChunkFloats));
        var col = patches ? null : ArrayPool<float>.Shared.Rent(rows * nb * plane);
        var dyT = nb > 1 && !inPlace ? ArrayPool<float>.Shared.Rent(outSample * nb) : null;
        var geometry = g;
        try
        {
            for (int n0 = 0; n0 < g.N; n0 += nb)
            {
                int m = Math.Min(nb, g.N - n0), cols = m * plane, chunk = doff + n0 * outSample, first = n0;
                Gemm.PanelSource? panels = null;
                if (patches)
                    unsafe { panels = (pc, kc, jc, nc, q0, q1, nr, dst) => PackPatchPanels(geometry, xa, xo, first, pc, kc, jc, nc, q0, q1, nr, dst); }
                else
                    Im2ColCpu(cpu, g, xa, xo, n0, m, col!, variant.Im2Col);
                // dw[O, C*KH*KW] (+)= dy[O, cols] @ col[C*KH*KW, cols]^T; the first chunk overwrites. dy's chunk as A: in
                // segments of a plane, sample n0 itself (m = 1), or relaid out.
                var (source, so, lda, segments) = m > 1 && inPlace ? (da, chunk, plane, new Gemm.Segments(plane, outSample))
                    : m == 1 ? (da, chunk, cols, default) : (dyT!, 0, cols, default(Gemm.Segments));
                if (m > 1 && !inPlace) SwapLeadingAxesCpu(cpu, m, g.O, plane, da, chunk, dyT!, 0, null, 0);
                if (patches || segments.Columns > 0)
                    Gemm.CpuPacked(cpu, g.O, rows, cols, 1f, source, so, lda, false, col ?? [], 0, cols, true, panels, n0 == 0 ? 0f : 1f,
                        wa, wo, rows, default, variant.Gemm, aSegments: segments);
                else
                    Gemm.Cpu(cpu, g.O, rows, cols, 1f, source, so, lda, false, col!, 0, cols, true, n0 == 0 ? 0f : 1f, wa, wo, rows, variant.Gemm);
            }
        }
        finally
        {
            if (col is not null) ArrayPool<float>.Shared.Return(col);
            if (dyT is not null) ArrayPool<float>.Shared.Return(dyT);
        }
    }

    static void BiasGradCpu(CpuDevice cpu, Tensor dy, Tensor db)
    {
        var (da, doff) = dy.CpuBuffer;
        var (ba, bo) = db.CpuBuffer;
        int n = dy.Dim(0), channels = dy.Dim(1), plane = dy.Dim(2) * dy.Dim(3);
        CpuParallel.For(cpu, channels, (start, count) =>
        {
            for (int o = start; o < start + count; o++)
            {
                double sum = 0; // float rows, summed across the batch in double
                for (int s = 0; s < n; s++) sum += TensorPrimitives.Sum(da.AsSpan(doff + (s * channels + o) * plane, plane));
                ba[bo + o] = (float)sum;
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, n * plane)));
    }

    /// <summary>Whether the forward packs the GEMM's B panels straight from the image (im2col v4, an implicit GEMM: the column
    /// matrix is never written nor read back; the same floats as v3, as the GEMM sees the same panels) with a packed GEMM: when v4
    /// is asked for by number, and by default where output rows are shorter than 8 pixels. Measured on a Zen 3 (AVX2
    /// gathers; benchmarks/NOTES.md): 32% faster than v3 on DCGAN's 64 -> 128 layer (4 x 4 outputs, where v3 pays a
    /// plane's overhead for 16 floats), 21-27% slower on the 32 -> 64 and 1 -> 32 layers (rows of 8 and 16, which v3
    /// copies with vector shuffles).</summary>
    static bool IsImplicit(in Conv2dGeometry g, Conv2dVariant variant)
        => variant.Gemm is GemmVariant.Default or GemmVariant.V2 or GemmVariant.V3
           && (variant.Im2Col == Im2ColVariant.V4 || (variant.Im2Col == Im2ColVariant.Default && g.OW < 8 && Avx2.IsSupported));

    /// <summary>
    /// B panels [q0, q1) of the column matrix of samples from <paramref name="n0"/>, rows [pc, pc + kc), columns [jc, jc + nc),
    /// in the GEMM's packed layout (<see cref="Gemm.PanelSource"/>), read straight from x: panel column j is output pixel
    /// (n, i, j') and row p the tap (c, a, b), so its value is x[n0 + n, c, i s - pad + a, j' s - pad + b], or 0 in the
    /// padding and past the last column. Eight columns at a time with a masked AVX2 gather, the mask from the tap's
    /// position against the image's edges.
    /// </summary>
    static unsafe void PackColumnPanels(in Conv2dGeometry g, float[] x, int xOffset, int n0, int pc, int kc, int jc, int nc, int q0, int q1, int nr, float* dst)
    {
        int plane = g.OutPlane, taps = g.KH * g.KW, inPlane = g.InPlane;
        int* origin = stackalloc int[32]; // where the patch of each column starts in x (its tap (0, 0)), may lie outside
        int* top = stackalloc int[32], left = stackalloc int[32];
        const int Outside = -(1 << 28); // a column past nc: no tap is ever inside
        fixed (float* xp = x)
        {
            float* image = xp + xOffset;
            for (int q = q0; q < q1; q++)
            {
                int width = Gemm.PackedPanelWidth(q, nc, nr), col0 = jc + q * nr, live = Math.Min(width, jc + nc - col0);
                for (int j = 0; j < width; j++)
                {
                    if (j >= live) { origin[j] = 0; top[j] = Outside; left[j] = Outside; continue; }
                    int t = col0 + j, n = t / plane, r = t % plane;
                    top[j] = r / g.OW * g.Stride - g.Pad;
                    left[j] = r % g.OW * g.Stride - g.Pad;
                    origin[j] = (n0 + n) * g.C * inPlane + top[j] * g.W + left[j];
                }
                float* d = dst + (long)q * kc * nr;
                int c = pc / taps, a = pc % taps / g.KW, b = pc % g.KW;
                for (int p = 0; p < kc; p++, d += width)
                {
                    int shift = c * inPlane + a * g.W + b;
                    if (Avx2.IsSupported)
                    {
                        Vector256<int> va = Vector256.Create(a), vb = Vector256.Create(b), h = Vector256.Create(g.H), w = Vector256.Create(g.W),
                            minus1 = Vector256.Create(-1), vshift = Vector256.Create(shift);
                        for (int j = 0; j < width; j += 8)
                        {
                            Vector256<int> y = Avx2.Add(Avx.LoadVector256(top + j), va), xx = Avx2.Add(Avx.LoadVector256(left + j), vb);
                            var inside = Avx2.And(Avx2.And(Avx2.CompareGreaterThan(y, minus1), Avx2.CompareGreaterThan(h, y)),
                                                  Avx2.And(Avx2.CompareGreaterThan(xx, minus1), Avx2.CompareGreaterThan(w, xx)));
                            var offsets = Avx2.Add(Avx.LoadVector256(origin + j), vshift);
                            Avx.Store(d + j, Avx2.GatherMaskVector256(Vector256<float>.Zero, image, offsets, inside.AsSingle(), 4));
                        }
                    }
                    else
                        for (int j = 0; j < width; j++)
                        {
                            int y = top[j] + a, xx = left[j] + b;
                            d[j] = (uint)y < (uint)g.H && (uint)xx < (uint)g.W ? image[origin[j] + shift] : 0f;
                        }
                    if (++b == g.KW) { b = 0; if (++a == g.KH) { a = 0; c++; } }
                }
            }
        }
    }

    /// <summary>Whether the forward's B panels (the column matrix's) are copied straight from zero-bordered copies of x's planes
    /// (<see cref="PackPlanePanels"/>: im2col v3's copies, written where the GEMM reads them, so no column matrix): the
    /// default variant with the packed GEMM where v4's gathers are not used (output rows of 8 or more pixels), and an output
    /// plane of whole panels (a panel never spans two samples). The same floats as im2col v3 and its packing, bit for bit
    /// (a test).</summary>
    static bool IsPlanePacked(in Conv2dGeometry g, Conv2dVariant variant)
    {
        int nr = Gemm.CpuPanelWidth(variant.Gemm);
        return variant.Im2Col == Im2ColVariant.Default && nr > 0 && g.OutPlane % nr == 0 && !IsImplicit(g, variant);
    }

    /// <summary>
    /// B panels [q0, q1) of the forward's column matrix for the m samples from <paramref name="n0"/> (<see cref="Gemm.PanelSource"/>):
    /// panel row p is tap (c, a, b), its columns nr consecutive output pixels of one sample (one or more output rows, or
    /// part of one). The k slice's channels of the panel's sample are first copied into zero-bordered planes (kept while
    /// the next panel is of the same sample), then each output row's run is read from them as im2col v3 reads (stride 2:
    /// every other float, a vector at a time).
    /// </summary>
    static unsafe void PackPlanePanels(in Conv2dGeometry g, float[] x, int xOffset, int n0, int pc, int kc, int jc, int nc, int q0, int q1, int nr, float* dst)
    {
        int plane = g.OutPlane, taps = g.KH * g.KW, wp = g.W + 2 * g.Pad, padded = (g.H + 2 * g.Pad) * wp;
        int cFirst = pc / taps, cEnd = (pc + kc - 1) / taps + 1;
        float[] scratch = ArrayPool<float>.Shared.Rent((cEnd - cFirst) * padded + 8);
        try
        {
            Array.Clear(scratch, 0, (cEnd - cFirst) * padded + 8);
            fixed (float* xp = x, sp = scratch)
            {
                int sample = -1;
                for (int q = q0; q < q1; q++)
                {
                    int width = Gemm.PackedPanelWidth(q, nc, nr), col0 = jc + q * nr, live = Math.Min(width, jc + nc - col0);
                    int n = col0 / plane, r0 = col0 % plane;
                    if (n != sample)
                    {
                        // The interiors of the slice's planes of sample n (the borders stay zero).
                        sample = n;
                        for (int c = cFirst; c < cEnd; c++)
                        {
                            float* image = xp + xOffset + ((long)(n0 + n) * g.C + c) * g.InPlane, to = sp + (c - cFirst) * padded + g.Pad * wp + g.Pad;
                            for (int y = 0; y < g.H; y++)
                                new ReadOnlySpan<float>(image + y * g.W, g.W).CopyTo(new Span<float>(to + y * wp, g.W));
                        }
                    }
                    float* d = dst + (long)q * kc * nr;
                    int c0 = pc / taps, a0 = pc % taps / g.KW, b0 = pc % g.KW;
                    for (int p = 0; p < kc; p++, d += width)
                    {
                        float* tap = sp + (c0 - cFirst) * padded + a0 * wp + b0;
                        // The live columns, one output row's run at a time (a panel may start mid-row, and the last of a
                        // block may end early: the rest is zero).
                        for (int t = 0; t < live;)
                        {
                            int r = r0 + t, i = r / g.OW, j = r % g.OW, run = Math.Min(live - t, g.OW - j);
                            float* src = tap + (long)i * g.Stride * wp + j * g.Stride;
                            if (g.Stride == 2 && Avx2.IsSupported) TakeEveryOther(src, d + t, run);
                            else if (g.Stride == 1) new ReadOnlySpan<float>(src, run).CopyTo(new Span<float>(d + t, run));
                            else for (int u = 0; u < run; u++) d[t + u] = src[u * g.Stride];
                            t += run;
                        }
                        for (int t = live; t < width; t++) d[t] = 0f;
                        if (++b0 == g.KW) { b0 = 0; if (++a0 == g.KH) { a0 = 0; c0++; } }
                    }
                }
            }
        }
        finally { ArrayPool<float>.Shared.Return(scratch); }
    }

    /// <summary>Whether the weight gradient reads its B panels (the column matrix transposed: a panel row is one output
    /// pixel's taps) straight from x (<see cref="PackPatchPanels"/>): the default variant, the packed GEMM, kernels 4 wide
    /// whose taps are whole panels' fractions (4x4, every DCGAN layer: one channel a 16-wide panel). The same floats as
    /// im2col v3 and its packing, bit for bit (a test).</summary>
    static bool IsPatchPacked(in Conv2dGeometry g, Conv2dVariant variant)
    {
        int nr = Gemm.CpuPanelWidth(variant.Gemm);
        return variant.Im2Col == Im2ColVariant.Default && nr > 0 && g.KW == 4 && nr % (g.KH * g.KW) == 0;
    }

    /// <summary>
    /// B panels [q0, q1) of op(B) = col^T for the m samples from <paramref name="n0"/> (<see cref="Gemm.PanelSource"/>): row p
    /// is output pixel (n, i, j), column t the tap (c, a, b), so panel row p holds, channel after channel, the KH rows of
    /// 4 pixels of x[n0 + n, c] at (i s - pad + a, j s - pad) .. + 3: one 4-float load and store a kernel row inside the
    /// image, zeros for a row in the padding, element by element for a row cut by the left or right edge.
    /// </summary>
    static unsafe void PackPatchPanels(in Conv2dGeometry g, float[] x, int xOffset, int n0, int pc, int kc, int jc, int nc, int q0, int q1, int nr, float* dst)
    {
        int plane = g.OutPlane, taps = g.KH * g.KW, inPlane = g.InPlane, width0 = g.W;
        long sample = (long)g.C * inPlane;
        fixed (float* xp = x)
        {
            float* image = xp + xOffset + n0 * sample;
            for (int q = q0; q < q1; q++)
            {
                int width = Gemm.PackedPanelWidth(q, nc, nr), tap0 = jc + q * nr, live = Math.Min(width, jc + nc - tap0);
                int c0 = tap0 / taps, channels = live / taps; // taps divide the panel and the rows: whole channels
                float* d = dst + (long)q * kc * nr;
                int n = pc / plane, r = pc % plane, i = r / g.OW, j = r % g.OW;
                bool oneChannel4x4 = channels == 1 && width == 16 && g.KH == 4;
                for (int p = 0; p < kc; p++, d += width)
                {
                    int top = i * g.Stride - g.Pad, left = j * g.Stride - g.Pad;
                    bool across = left >= 0 && left + 4 <= width0;
                    float* s = image + n * sample + c0 * (long)inPlane + (long)top * width0 + left;
                    if (++j == g.OW) { j = 0; if (++i == g.OH) { i = 0; n++; } }
                    if (oneChannel4x4 && across && top >= 0 && top + 4 <= g.H)
                    {
                        // The common case (a 16-wide panel is one channel's 4x4 patch, all inside): four loads, four stores.
                        Vector128.Store(Vector128.Load(s), d);
                        Vector128.Store(Vector128.Load(s + width0), d + 4);
                        Vector128.Store(Vector128.Load(s + 2 * width0), d + 8);
                        Vector128.Store(Vector128.Load(s + 3 * width0), d + 12);
                        continue;
                    }
                    for (int c = 0; c < channels; c++, s += inPlane)
                        for (int a = 0; a < g.KH; a++)
                        {
                            float* o = d + c * taps + a * 4;
                            int y = top + a;
                            if ((uint)y >= (uint)g.H) Vector128.Store(Vector128<float>.Zero, o);
                            else if (across) Vector128.Store(Vector128.Load(s + a * width0), o);
                            else
                                for (int b = 0; b < 4; b++)
                                    o[b] = (uint)(left + b) < (uint)width0 ? s[a * width0 + b] : 0f;
                        }
                    for (int t = channels * taps; t < width; t++) d[t] = 0f;
                }
            }
        }
    }

    /// <summary>
    /// A convolution whose kernel covers its whole unpadded input (OH = OW = 1: DCGAN's last critic layer, and as a
    /// transposed convolution its generator's first) is a plain product of x [N, C*H*W] and w [O, C*H*W]: its column
    /// matrix is x transposed, and its output needs no relayout. The default variant takes this path; im2col v1-v3,
    /// asked for by number, still unfold (to compare against). The sums run over the same k in the same order, so the
    /// results are the im2col path's, bit for bit (a test).
    /// </summary>
    static bool IsDense(in Conv2dGeometry g, Conv2dVariant variant)
        => variant.Im2Col == Im2ColVariant.Default && g.Pad == 0 && g.KH == g.H && g.KW == g.W;

    /// <summary>t[n, c, :] += bias[c] over a [rows, channels, plane] block.</summary>
    static void AddChannelBias(CpuDevice cpu, float[] t, int offset, int rows, int channels, int plane, float[] bias, int biasOffset)
        => CpuParallel.For(cpu, rows * channels, (start, count) =>
        {
            for (int q = start; q < start + count; q++)
            {
                var span = t.AsSpan(offset + q * plane, plane);
                TensorPrimitives.Add(span, bias[biasOffset + q % channels], span);
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, plane)));

    // ================================================================ im2col, col2im, relayout

    /// <summary>
    /// Output positions o in [lo, hi) whose input position o*stride - padding + k lies inside [0, inSize):
    /// outside that range the patch reads padding (zeros).
    /// </summary>
    static (int Lo, int Hi) InsideRange(int k, int stride, int padding, int inSize, int outSize)
    {
        int lo = padding > k ? (padding - k + stride - 1) / stride : 0;
        int last = inSize - 1 + padding - k; // o*stride <= last
        int hi = last < 0 ? 0 : Math.Min(outSize, last / stride + 1);
        return (lo, Math.Max(lo, hi));
    }

    /// <summary>
    /// col[(c, a, b), (n, i, j)] = x[n0 + n, c, i*s - p + a, j*s - p + b] (zero in the padding), for the m samples
    /// from n0: a [C*KH*KW, m*OH*OW] matrix, by the kernel <paramref name="variant"/> names (default v3; v1 and v2 are
    /// kept to compare against: `nativegan lab im2col --variant all`, benchmarks' `conv-quick`).
    /// </summary>
    internal static void Im2ColCpu(CpuDevice cpu, Conv2dGeometry g, float[] x, int xOffset, int n0, int m, float[] col, Im2ColVariant variant)
    {
        switch (variant)
        {
            case Im2ColVariant.V1: Im2ColCpuV1(cpu, g, x, xOffset, n0, m, col); break;
            case Im2ColVariant.V2: Im2ColCpuV2(cpu, g, x, xOffset, n0, m, col); break;
            // v4 writes no column matrix in the forward (IsImplicit); where one is needed (the weight gradient, this op
            // alone) it is v3's.
            case Im2ColVariant.V3 or Im2ColVariant.V4 or Im2ColVariant.Default: Im2ColCpuV3(cpu, g, x, xOffset, n0, m, col); break;
            default: throw new ArgumentOutOfRangeException(nameof(variant), $"Conv2d.Im2Col: no variant {(int)variant}; the variants are 1, 2, 3, 4 and 0 (Default)");
        }
    }

    /// <summary>The adjoint of im2col: dx[n0 + n, c] = bias[c] (or 0) + the sum of every column entry that im2col copied from that
    /// pixel, by the kernel <paramref name="variant"/> names (numbered with im2col's: v3 is the adjoint of im2col v3).</summary>
    internal static void Col2ImCpu(CpuDevice cpu, Conv2dGeometry g, float[] col, int n0, int m, float[] dx, int dxOffset, float[]? bias, int biasOffset,
        Im2ColVariant variant)
    {
        switch (variant)
        {
            case Im2ColVariant.V1: Col2ImCpuV1(cpu, g, col, n0, m, dx, dxOffset, bias, biasOffset); break;
            case Im2ColVariant.V2: Col2ImCpuV2(cpu, g, col, n0, m, dx, dxOffset, bias, biasOffset); break;
            case Im2ColVariant.V3 or Im2ColVariant.V4 or Im2ColVariant.Default: Col2ImCpuV3(cpu, g, col, n0, m, dx, dxOffset, bias, biasOffset); break;
            default: throw new ArgumentOutOfRangeException(nameof(variant), $"Conv2d.Col2Im: no variant {(int)variant}; the variants are 1, 2, 3, 4 and 0 (Default)");
        }
    }

    /// <summary>
    /// v3 of im2col: one (sample, channel) plane at a time, copied first into a scratch plane with a border of zeros
    /// <c>Pad</c> wide, so that every patch read lands inside it. Then the KH*KW rows this plane feeds are gathers through
    /// one table of offsets: output (i, j) of row (a, b) reads scratch[a*Wp + b + offset[i*OW + j]], with offset =
    /// s*i*Wp + s*j the same for every row (8 at a time with an AVX2 gather); at stride 2, DCGAN's, each output row
    /// is instead two vectors' even floats shuffled into one (<see cref="TakeEveryOther"/>). No padding tests, no
    /// clears: v2 spent most of its time on those for the DCGAN layers, whose rows hold 4 to 16 outputs. Planes go
    /// samples innermost, so that consecutive planes write consecutive floats of the same column-matrix rows.
    /// </summary>
    static unsafe void Im2ColCpuV3(CpuDevice cpu, Conv2dGeometry g, float[] x, int xOffset, int n0, int m, float[] col)
    {
        int plane = g.OutPlane, cols = m * plane, wp = g.W + 2 * g.Pad;
        ForEachPlane(cpu, g, m, (c, n, sp, op) =>
        {
            fixed (float* xp = x, cp = col)
            {
                // The interior of the scratch plane (its border stays zero).
                float* image = xp + xOffset + ((long)(n0 + n) * g.C + c) * g.InPlane;
                for (int y = 0; y < g.H; y++)
                    new ReadOnlySpan<float>(image + y * g.W, g.W).CopyTo(new Span<float>(sp + (y + g.Pad) * wp + g.Pad, g.W));
                for (int a = 0; a < g.KH; a++)
                    for (int b = 0; b < g.KW; b++)
                    {
                        float* src = sp + a * wp + b, dst = cp + (long)((c * g.KH + a) * g.KW + b) * cols + n * plane;
                        if (g.Stride == 2 && Avx2.IsSupported) // DCGAN's stride: row by row, 8 outputs a vector
                            for (int i = 0; i < g.OH; i++) TakeEveryOther(src + 2 * i * wp, dst + i * g.OW, g.OW);
                        else GatherRow(src, op, dst, plane);
                    }
            }
        });
    }

    /// <summary>
    /// v3 of col2im, the adjoint of v3 of im2col: each (sample, channel) plane is summed in a scratch plane with the
    /// zero border (what lands on the border is padding, dropped), row (a, b) added through the same offset table
    /// (stride 2: a vector at a time, <see cref="AddToEveryOther"/>), then the interior copied out. Each pixel gets
    /// its bias, then the rows' entries in v1's order (a, then b), so the sums round as v1's.
    /// </summary>
    static unsafe void Col2ImCpuV3(CpuDevice cpu, Conv2dGeometry g, float[] col, int n0, int m, float[] dx, int dxOffset, float[]? bias, int biasOffset)
    {
        int plane = g.OutPlane, cols = m * plane, wp = g.W + 2 * g.Pad, padded = (g.H + 2 * g.Pad) * wp;
        ForEachPlane(cpu, g, m, (c, n, sp, op) =>
        {
            fixed (float* dp = dx, cp = col)
            {
                new Span<float>(sp, padded).Fill(bias is null ? 0f : bias[biasOffset + c]);
                for (int a = 0; a < g.KH; a++)
                    for (int b = 0; b < g.KW; b++)
                    {
                        float* dst = sp + a * wp + b, src = cp + (long)((c * g.KH + a) * g.KW + b) * cols + n * plane;
                        if (g.Stride == 2 && Avx.IsSupported && b + 1 < g.KW)
                        {
                            // DCGAN's stride: taps b and b + 1 fill the even and the odd pixels of one span, so they are
                            // interleaved and added in one pass (each pixel still gets its taps in the order of (a, b)).
                            for (int i = 0; i < g.OH; i++) AddInterleaved(dst + 2 * i * wp, src + i * g.OW, src + cols + i * g.OW, g.OW);
                            b++;
                        }
                        else if (g.Stride == 2 && Avx.IsSupported) // an odd kernel's last tap: row by row, 8 outputs a vector
                            for (int i = 0; i < g.OH; i++) AddToEveryOther(dst + 2 * i * wp, src + i * g.OW, g.OW);
                        else
                            for (int p = 0; p < plane; p++) dst[op[p]] += src[p];
                    }
                float* target = dp + dxOffset + ((long)(n0 + n) * g.C + c) * g.InPlane;
                for (int y = 0; y < g.H; y++)
                    new ReadOnlySpan<float>(sp + (y + g.Pad) * wp + g.Pad, g.W).CopyTo(new Span<float>(target + y * g.W, g.W));
            }
        });
    }

    /// <summary>What v3 of im2col or col2im does with one plane (channel c, sample n), given its task's scratch plane and the offset table.</summary>
    unsafe delegate void PlaneWork(int c, int n, float* scratch, int* offsets);

    /// <summary>
    /// The scaffolding v3 of im2col and of col2im share: the m*C planes of a chunk over the cores, samples innermost
    /// (consecutive planes touch consecutive floats of the same column-matrix rows), each task with a scratch plane the
    /// size of the padded image, zeroed once, plus 8 floats that a vector row may touch past its end (TakeEveryOther,
    /// AddToEveryOther), and the offset table of <see cref="PatchOffsets"/>.
    /// </summary>
    static unsafe void ForEachPlane(CpuDevice cpu, Conv2dGeometry g, int m, PlaneWork work)
    {
        int wp = g.W + 2 * g.Pad, padded = (g.H + 2 * g.Pad) * wp;
        int[] offsets = PatchOffsets(g, wp);
        try
        {
            CpuParallel.For(cpu, m * g.C, (start, count) =>
            {
                float[] scratch = ArrayPool<float>.Shared.Rent(padded + 8);
                try
                {
                    Array.Clear(scratch, 0, padded + 8);
                    fixed (float* sp = scratch)
                    fixed (int* op = offsets)
                        for (int q = start; q < start + count; q++) work(q / m, q % m, sp, op);
                }
                finally { ArrayPool<float>.Shared.Return(scratch); }
            }, grain: Math.Max(1, 32768 / Math.Max(1, g.KH * g.KW * g.OutPlane)));
        }
        finally { ArrayPool<int>.Shared.Return(offsets); }
    }

    /// <summary>offset[i*OW + j] = s*i*Wp + s*j: where output (i, j) of patch row (0, 0) reads in a plane <paramref name="wp"/> wide
    /// (rented from the pool: the caller returns it).</summary>
    static int[] PatchOffsets(in Conv2dGeometry g, int wp)
    {
        int[] offsets = ArrayPool<int>.Shared.Rent(g.OutPlane);
        for (int i = 0; i < g.OH; i++)
            for (int j = 0; j < g.OW; j++) offsets[i * g.OW + j] = g.Stride * (i * wp + j);
        return offsets;
    }

    /// <summary>d[j] = s[2j] for j &lt; count: two vectors' even floats shuffled into one, 8 (then 4) at a time. It reads
    /// the float s[2 count - 1], one past the last it takes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void TakeEveryOther(float* s, float* d, int count)
    {
        int j = 0;
        for (; j + 8 <= count; j += 8, s += 16)
        {
            // s0 s2 s8 s10 | s4 s6 s12 s14, then the middle 64-bit pairs swapped: s0 s2 s4 s6 s8 s10 s12 s14.
            var evens = Avx.Shuffle(Avx.LoadVector256(s), Avx.LoadVector256(s + 8), 0b10_00_10_00);
            Avx.Store(d + j, Avx2.Permute4x64(evens.AsDouble(), 0b11_01_10_00).AsSingle());
        }
        if (j + 4 <= count)
        {
            var v = Avx.LoadVector256(s);
            Sse.Store(d + j, Avx2.Permute4x64(Avx.Shuffle(v, v, 0b10_00_10_00).AsDouble(), 0b11_01_10_00).AsSingle().GetLower());
            j += 4;
            s += 8;
        }
        for (int t = 0; j < count; j++, t += 2) d[j] = s[t];
    }

    /// <summary>d[2j] += even[j], d[2j + 1] += odd[j] for j &lt; count: 8 of each a step, interleaved in registers (AVX).</summary>
    static unsafe void AddInterleaved(float* d, float* even, float* odd, int count)
    {
        int j = 0;
        for (; j + 8 <= count; j += 8, d += 16)
        {
            Vector256<float> e = Avx.LoadVector256(even + j), o = Avx.LoadVector256(odd + j);
            Vector256<float> low = Avx.UnpackLow(e, o), high = Avx.UnpackHigh(e, o); // e0 o0 e1 o1 | e4 o4 e5 o5 and e2 o2 e3 o3 | e6 o6 e7 o7
            Avx.Store(d, Avx.Add(Avx.LoadVector256(d), Avx.Permute2x128(low, high, 0x20)));
            Avx.Store(d + 8, Avx.Add(Avx.LoadVector256(d + 8), Avx.Permute2x128(low, high, 0x31)));
        }
        for (; j < count; j++, d += 2)
        {
            d[0] += even[j];
            d[1] += odd[j];
        }
    }

    /// <summary>
    /// d[2j] += s[j] for j &lt; count, the odd floats of d kept bit for bit (a blend, not an addition of zero, which
    /// would turn -0 into +0): s's floats spread over every other lane, 8 (then 4) at a time. It reads and rewrites,
    /// unchanged, the float d[2 count - 1] one past the last it adds to.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void AddToEveryOther(float* d, float* s, int count)
    {
        int j = 0;
        var zero = Vector256<float>.Zero;
        for (; j + 8 <= count; j += 8, d += 16)
        {
            var v = Avx.LoadVector256(s + j);
            Vector256<float> low = Avx.UnpackLow(v, zero), high = Avx.UnpackHigh(v, zero); // s0 0 s1 0 | s4 0 s5 0 and s2 0 s3 0 | s6 0 s7 0
            Vector256<float> d0 = Avx.LoadVector256(d), d1 = Avx.LoadVector256(d + 8);
            Avx.Store(d, Avx.Blend(d0, Avx.Add(d0, Avx.Permute2x128(low, high, 0x20)), 0b0101_0101));
            Avx.Store(d + 8, Avx.Blend(d1, Avx.Add(d1, Avx.Permute2x128(low, high, 0x31)), 0b0101_0101));
        }
        if (j + 4 <= count)
        {
            var v = Sse.LoadVector128(s + j);
            var spread = Vector256.Create(Sse.UnpackLow(v, Vector128<float>.Zero), Sse.UnpackHigh(v, Vector128<float>.Zero));
            var d0 = Avx.LoadVector256(d);
            Avx.Store(d, Avx.Blend(d0, Avx.Add(d0, spread), 0b0101_0101));
            j += 4;
            d += 8;
        }
        for (int t = 0; j < count; j++, t += 2) d[t] += s[j];
    }

    /// <summary>dst[p] = src[offsets[p]] for p &lt; count: eight at a time with an AVX2 gather.</summary>
    static unsafe void GatherRow(float* src, int* offsets, float* dst, int count)
    {
        int p = 0;
        if (Avx2.IsSupported)
            for (; p + 8 <= count; p += 8)
                Avx.Store(dst + p, Avx2.GatherVector256(src, Avx.LoadVector256(offsets + p), 4));
        for (; p < count; p++) dst[p] = src[offsets[p]];
    }

    /// <summary>
    /// v2 of im2col: v1's loops on refs. The DCGAN layers have rows of 4 to 16 outputs and stride 2, where v1 spent
    /// more on each row's span slices, clears and bounds checks than on the copy; here a row is three plain loops
    /// (zeros left of the image, the strided gather, zeros right of it), and whole rows of padding one clear.
    /// </summary>
    static void Im2ColCpuV2(CpuDevice cpu, Conv2dGeometry g, float[] x, int xOffset, int n0, int m, float[] col)
    {
        int plane = g.OutPlane, cols = m * plane, ow = g.OW, s = g.Stride;
        CpuParallel.For(cpu, g.Rows, (start, count) =>
        {
            ref float xBase = ref MemoryMarshal.GetArrayDataReference(x);
            ref float colBase = ref MemoryMarshal.GetArrayDataReference(col);
            for (int r = start; r < start + count; r++)
            {
                int b = r % g.KW, a = r / g.KW % g.KH, c = r / (g.KW * g.KH);
                var (iLo, iHi) = InsideRange(a, s, g.Pad, g.H, g.OH);
                var (jLo, jHi) = InsideRange(b, s, g.Pad, g.W, g.OW);
                if (jLo == jHi) (iLo, iHi) = (0, 0); // no column inside: the whole plane is padding
                for (int n = 0; n < m; n++)
                {
                    var dst = col.AsSpan(r * cols + n * plane, plane);
                    dst[..(iLo * ow)].Clear();
                    dst[(iHi * ow)..].Clear();
                    int xPlane = xOffset + ((n0 + n) * g.C + c) * g.InPlane;
                    for (int i = iLo; i < iHi; i++)
                    {
                        ref float row = ref Unsafe.Add(ref colBase, r * cols + n * plane + i * ow);
                        ref float src = ref Unsafe.Add(ref xBase, xPlane + (i * s - g.Pad + a) * g.W + (jLo * s - g.Pad + b));
                        int j = 0;
                        for (; j < jLo; j++) Unsafe.Add(ref row, j) = 0f;
                        if (s == 1) // a contiguous run: a vectorised copy
                        {
                            MemoryMarshal.CreateReadOnlySpan(ref src, jHi - jLo).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref row, jLo), jHi - jLo));
                            j = jHi;
                        }
                        else for (int k = 0; j < jHi; j++, k += s) Unsafe.Add(ref row, j) = Unsafe.Add(ref src, k);
                        for (; j < ow; j++) Unsafe.Add(ref row, j) = 0f;
                    }
                }
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, cols)));
    }

    /// <summary>
    /// v2 of col2im: v1's loops on refs (see <see cref="Im2ColCpuV2"/>), the additions in v1's order, so the sums
    /// round the same. Parallel over (sample, channel) planes, so each thread adds into its own plane only.
    /// </summary>
    static void Col2ImCpuV2(CpuDevice cpu, Conv2dGeometry g, float[] col, int n0, int m, float[] dx, int dxOffset, float[]? bias, int biasOffset)
    {
        int plane = g.OutPlane, cols = m * plane, ow = g.OW, s = g.Stride;
        CpuParallel.For(cpu, m * g.C, (start, count) =>
        {
            ref float colBase = ref MemoryMarshal.GetArrayDataReference(col);
            ref float dxBase = ref MemoryMarshal.GetArrayDataReference(dx);
            for (int q = start; q < start + count; q++)
            {
                int n = q / g.C, c = q % g.C, dstPlane = dxOffset + ((n0 + n) * g.C + c) * g.InPlane;
                dx.AsSpan(dstPlane, g.InPlane).Fill(bias is null ? 0f : bias[biasOffset + c]);
                for (int a = 0; a < g.KH; a++)
                {
                    var (iLo, iHi) = InsideRange(a, s, g.Pad, g.H, g.OH);
                    for (int b = 0; b < g.KW; b++)
                    {
                        var (jLo, jHi) = InsideRange(b, s, g.Pad, g.W, g.OW);
                        int length = jHi - jLo, colRow = ((c * g.KH + a) * g.KW + b) * cols + n * plane;
                        if (length == 0) continue;
                        for (int i = iLo; i < iHi; i++)
                        {
                            ref float src = ref Unsafe.Add(ref colBase, colRow + i * ow + jLo);
                            ref float dst = ref Unsafe.Add(ref dxBase, dstPlane + (i * s - g.Pad + a) * g.W + (jLo * s - g.Pad + b));
                            if (s == 1)
                            {
                                var target = MemoryMarshal.CreateSpan(ref dst, length);
                                TensorPrimitives.Add(target, MemoryMarshal.CreateReadOnlySpan(ref src, length), target);
                            }
                            else for (int j = 0, k = 0; j < length; j++, k += s) Unsafe.Add(ref dst, k) += Unsafe.Add(ref src, j);
                        }
                    }
                }
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, g.InPlane * g.KH * g.KW)));
    }

    /// <summary>v1 of im2col, kept to compare against: parallel over the column matrix's rows; a row is a contiguous copy when the stride is 1.</summary>
    static void Im2ColCpuV1(CpuDevice cpu, Conv2dGeometry g, float[] x, int xOffset, int n0, int m, float[] col)
    {
        int plane = g.OutPlane, cols = m * plane;
        CpuParallel.For(cpu, g.Rows, (start, count) =>
        {
            for (int r = start; r < start + count; r++)
            {
                int b = r % g.KW, a = r / g.KW % g.KH, c = r / (g.KW * g.KH);
                var (iLo, iHi) = InsideRange(a, g.Stride, g.Pad, g.H, g.OH);
                var (jLo, jHi) = InsideRange(b, g.Stride, g.Pad, g.W, g.OW);
                for (int n = 0; n < m; n++)
                {
                    var dst = col.AsSpan(r * cols + n * plane, plane);
                    int xPlane = xOffset + ((n0 + n) * g.C + c) * g.InPlane;
                    for (int i = 0; i < g.OH; i++)
                    {
                        var row = dst.Slice(i * g.OW, g.OW);
                        if (i < iLo || i >= iHi || jLo == jHi) { row.Clear(); continue; }
                        row[..jLo].Clear();
                        row[jHi..].Clear();
                        int src = xPlane + (i * g.Stride - g.Pad + a) * g.W + (jLo * g.Stride - g.Pad + b);
                        if (g.Stride == 1) x.AsSpan(src, jHi - jLo).CopyTo(row[jLo..jHi]);
                        else for (int j = jLo; j < jHi; j++, src += g.Stride) row[j] = x[src];
                    }
                }
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, cols)));
    }

    /// <summary>v1 of col2im, kept to compare against: parallel over (sample, channel) planes, so each thread adds into its own plane only.</summary>
    static void Col2ImCpuV1(CpuDevice cpu, Conv2dGeometry g, float[] col, int n0, int m, float[] dx, int dxOffset, float[]? bias, int biasOffset)
    {
        int plane = g.OutPlane, cols = m * plane;
        CpuParallel.For(cpu, m * g.C, (start, count) =>
        {
            for (int q = start; q < start + count; q++)
            {
                int n = q / g.C, c = q % g.C;
                var dst = dx.AsSpan(dxOffset + ((n0 + n) * g.C + c) * g.InPlane, g.InPlane);
                dst.Fill(bias is null ? 0f : bias[biasOffset + c]);
                for (int a = 0; a < g.KH; a++)
                {
                    var (iLo, iHi) = InsideRange(a, g.Stride, g.Pad, g.H, g.OH);
                    for (int b = 0; b < g.KW; b++)
                    {
                        var (jLo, jHi) = InsideRange(b, g.Stride, g.Pad, g.W, g.OW);
                        if (jLo == jHi) continue;
                        int colRow = ((c * g.KH + a) * g.KW + b) * cols + n * plane;
                        for (int i = iLo; i < iHi; i++)
                        {
                            int d = (i * g.Stride - g.Pad + a) * g.W + (jLo * g.Stride - g.Pad + b);
                            var src = col.AsSpan(colRow + i * g.OW + jLo, jHi - jLo);
                            if (g.Stride == 1)
                            {
                                var target = dst.Slice(d, src.Length);
                                TensorPrimitives.Add(target, src, target);
                            }
                            else for (int j = 0; j < src.Length; j++, d += g.Stride) dst[d] += src[j];
                        }
                    }
                }
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, g.InPlane * g.KH * g.KW)));
    }

    /// <summary>
    /// dst[j, k, :] = src[k, j, :] + bias[k]: swaps the two leading axes of src [a, b, plane] (the GEMM's
    /// [O, N, OH*OW] and the tensors' [N, O, OH*OW]). With b = 1 it may run in place (it then only adds the bias).
    /// </summary>
    static void SwapLeadingAxesCpu(CpuDevice cpu, int a, int b, int plane, float[] src, int srcOffset, float[] dst, int dstOffset,
        float[]? bias, int biasOffset)
    {
        CpuParallel.For(cpu, a * b, (start, count) =>
        {
            for (int t = start; t < start + count; t++)
            {
                int j = t / a, k = t % a;
                var s = src.AsSpan(srcOffset + (k * b + j) * plane, plane);
                var d = dst.AsSpan(dstOffset + t * plane, plane);
                if (bias is null) s.CopyTo(d);
                else TensorPrimitives.Add(s, bias[biasOffset + k], d);
            }
        }, grain: Math.Max(1, 32768 / Math.Max(1, plane)));
    }
}
