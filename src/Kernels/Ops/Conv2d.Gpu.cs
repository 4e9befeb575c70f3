using ILGPU;
using ILGPU.Runtime;

namespace NativeGan;

// The GPU convolution: four small kernels around Gemm.Gpu (one variant of each; the GEMM's variant is the argument's). One chunk of samples (usually the whole batch)
// costs three launches: forward = im2col, GEMM, relayout(+bias); input gradient = relayout, GEMM,
// col2im(+bias); weight gradient = relayout, im2col, GEMM. A chunk of one sample skips the relayout.
// Temporaries come from the device's pool and go back to it when the call has queued its work (the
// stream runs in order, so the next user of a buffer starts after these kernels end).
public static partial class Conv2d
{
    // ================================================================ the three cores on the GPU

    static void ForwardGpu(GpuDevice gpu, in Conv2dGeometry g, Tensor x, Tensor w, Tensor? bias, Tensor y, Conv2dVariant variant)
    {
        int nb = ChunkSamples(g, variant.BudgetFloats(GpuChunkFloats)), plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane;
        using var col = Tensor.Empty(gpu, rows * nb * plane);
        using var tmp = nb > 1 ? Tensor.Empty(gpu, outSample * nb) : null;
        for (int n0 = 0; n0 < g.N; n0 += nb)
        {
            int m = Math.Min(nb, g.N - n0), cols = m * plane;
            var yChunk = y.View.SubView((long)n0 * outSample, (long)m * outSample);
            Im2ColGpu(gpu, g, x.View, n0, m, col.View);
            var target = m == 1 ? yChunk : tmp!.View;
            Gemm.Gpu(gpu, g.O, cols, rows, 1f, w.View, rows, false, col.View, cols, false, 0f, target, cols, variant.Gemm);
            if (m > 1 || bias is not null) SwapLeadingAxesGpu(gpu, g.O, m, plane, target, yChunk, bias);
        }
    }

    static void InputGradGpu(GpuDevice gpu, in Conv2dGeometry g, Tensor dy, Tensor w, Tensor? bias, Tensor dx, Conv2dVariant variant)
    {
        int nb = ChunkSamples(g, variant.BudgetFloats(GpuChunkFloats)), plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane;
        using var col = Tensor.Empty(gpu, rows * nb * plane);
        using var dyT = nb > 1 ? Tensor.Empty(gpu, outSample * nb) : null;
        for (int n0 = 0; n0 < g.N; n0 += nb)
        {
            int m = Math.Min(nb, g.N - n0), cols = m * plane;
            var dyChunk = dy.View.SubView((long)n0 * outSample, (long)m * outSample);
            var source = m == 1 ? dyChunk : dyT!.View;
            if (m > 1) SwapLeadingAxesGpu(gpu, m, g.O, plane, dyChunk, source, null);
            Gemm.Gpu(gpu, rows, cols, g.O, 1f, w.View, rows, true, source, cols, false, 0f, col.View, cols, variant.Gemm);
            Col2ImGpu(gpu, g, col.View, n0, m, dx.View, bias);
        }
    }

    static void WeightGradGpu(GpuDevice gpu, in Conv2dGeometry g, Tensor x, Tensor dy, Tensor dw, Conv2dVariant variant)
    {
        int nb = ChunkSamples(g, variant.BudgetFloats(GpuChunkFloats)), plane = g.OutPlane, rows = g.Rows, outSample = g.O * plane;
        using var col = Tensor.Empty(gpu, rows * nb * plane);
        using var dyT = nb > 1 ? Tensor.Empty(gpu, outSample * nb) : null;
        for (int n0 = 0; n0 < g.N; n0 += nb)
        {
            int m = Math.Min(nb, g.N - n0), cols = m * plane;
            var dyChunk = dy.View.SubView((long)n0 * outSample, (long)m * outSample);
            var source = m == 1 ? dyChunk : dyT!.View;
            if (m > 1) SwapLeadingAxesGpu(gpu, m, g.O, plane, dyChunk, source, null);
            Im2ColGpu(gpu, g, x.View, n0, m, col.View);
            Gemm.Gpu(gpu, g.O, rows, cols, 1f, source, cols, false, col.View, cols, true, n0 == 0 ? 0f : 1f, dw.View, rows, variant.Gemm);
        }
    }

    static void BiasGradGpu(GpuDevice gpu, Tensor dy, Tensor db)
        => gpu.Kernel<Action<AcceleratorStream, KernelConfig, ArrayView<float>, ArrayView<float>, int, int, int>>(BiasGradSpec)
            (gpu.Stream, new KernelConfig(dy.Dim(1), BiasGradGroup), dy.View, db.View, dy.Dim(0), dy.Dim(1), dy.Dim(2) * dy.Dim(3));

    // ================================================================ launchers

    static void Im2ColGpu(GpuDevice gpu, in Conv2dGeometry g, ArrayView<float> x, int n0, int m, ArrayView<float> col)
        => gpu.Kernel<Action<AcceleratorStream, Index1D, Conv2dGeometry, int, int, ArrayView<float>, ArrayView<float>>>(Im2ColSpec)
            (gpu.Stream, g.Rows * m * g.OutPlane, g, n0, m, x, col);

    static void Col2ImGpu(GpuDevice gpu, in Conv2dGeometry g, ArrayView<float> col, int n0, int m, ArrayView<float> dx, Tensor? bias)
        => gpu.Kernel<Action<AcceleratorStream, Index1D, Conv2dGeometry, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(Col2ImSpec)
            (gpu.Stream, m * g.C * g.InPlane, g, n0, m, col, dx, bias is null ? dx : bias.View, bias is null ? 0 : 1);

    /// <summary>dst [b, a, plane] = src [a, b, plane] with the axes swapped, + bias[k] along a (a dummy view when there is none).</summary>
    static void SwapLeadingAxesGpu(GpuDevice gpu, int a, int b, int plane, ArrayView<float> src, ArrayView<float> dst, Tensor? bias)
        => gpu.Kernel<Action<AcceleratorStream, Index1D, int, int, int, ArrayView<float>, ArrayView<float>, ArrayView<float>, int>>(SwapLeadingAxesSpec)
            (gpu.Stream, a * b * plane, a, b, plane, src, dst, bias is null ? dst : bias.View, bias is null ? 0 : 1);

    // ================================================================ kernels

    internal static readonly KernelSpec Im2ColSpec = KernelSpec.Implicit("Conv2d.Im2Col", typeof(Conv2d), nameof(Im2ColKernel), hot: true);
    internal static readonly KernelSpec Col2ImSpec = KernelSpec.Implicit("Conv2d.Col2Im", typeof(Conv2d), nameof(Col2ImKernel), hot: true);
    internal static readonly KernelSpec SwapLeadingAxesSpec = KernelSpec.Implicit("Conv2d.SwapLeadingAxes", typeof(Conv2d), nameof(SwapLeadingAxesKernel), hot: true);
    internal static readonly KernelSpec BiasGradSpec = KernelSpec.Explicit("Conv2d.BiasGrad", typeof(Conv2d), nameof(BiasGradKernel), BiasGradGroup, hot: true);

    /// <summary>
    /// One thread per column-matrix entry col[(c, a, b), (n, i, j)] (row-major, so neighbouring threads take
    /// neighbouring output pixels j and read input pixels a stride apart): x[n0 + n, c, i*s - p + a, j*s - p + b] or 0.
    /// </summary>
    static void Im2ColKernel(Index1D index, Conv2dGeometry g, int n0, int m, ArrayView<float> x, ArrayView<float> col)
    {
        int e = index, plane = g.OH * g.OW, cols = m * plane;
        int r = e / cols, q = e - r * cols;
        int n = q / plane, pixel = q - n * plane;
        int i = pixel / g.OW, j = pixel - i * g.OW;
        int b = r % g.KW, a = r / g.KW % g.KH, c = r / (g.KW * g.KH);
        int ih = i * g.Stride - g.Pad + a, iw = j * g.Stride - g.Pad + b;
        col[e] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W
            ? x[(((n0 + n) * g.C + c) * g.H + ih) * g.W + iw]
            : 0f;
    }

    /// <summary>
    /// One thread per input pixel dx[n0 + n, c, ih, iw], gathering (no atomics) the column entries that im2col
    /// copied from it: the taps (a, b) and output pixels (i, j) with i*s + a = ih + p and j*s + b = iw + p.
    /// Only every s-th tap can satisfy that, so the loops start at a = (ih + p) mod s and step by s, while i
    /// steps down by one from (ih + p) div s: no division inside the loops, no test of the skipped taps.
    /// </summary>
    static void Col2ImKernel(Index1D index, Conv2dGeometry g, int n0, int m, ArrayView<float> col, ArrayView<float> dx,
        ArrayView<float> bias, int hasBias)
    {
        int e = index, plane = g.OH * g.OW, cols = m * plane;
        int iw = e % g.W, t = e / g.W;
        int ih = t % g.H;
        t /= g.H;
        int c = t % g.C, n = t / g.C;
        int rowStart = (ih + g.Pad) % g.Stride, rowTop = (ih + g.Pad) / g.Stride;
        int colStart = (iw + g.Pad) % g.Stride, colTop = (iw + g.Pad) / g.Stride;
        int patch = c * g.KH * g.KW * cols + n * plane; // col[(c, 0, 0), (n, 0, 0)]
        float sum = hasBias != 0 ? bias[c] : 0f;
        for (int a = rowStart, i = rowTop; a < g.KH && i >= 0; a += g.Stride, i--)
        {
            if (i >= g.OH) continue;
            for (int b = colStart, j = colTop; b < g.KW && j >= 0; b += g.Stride, j--)
            {
                if (j >= g.OW) continue;
                sum += col[patch + (a * g.KW + b) * cols + i * g.OW + j];
            }
        }
        dx[n0 * g.C * g.H * g.W + e] = sum;
    }

    /// <summary>One thread per dst entry: dst[j, k, r] = src[k, j, r] (+ bias[k]).</summary>
    static void SwapLeadingAxesKernel(Index1D index, int a, int b, int plane, ArrayView<float> src, ArrayView<float> dst,
        ArrayView<float> bias, int hasBias)
    {
        int e = index, r = e % plane, t = e / plane;
        int k = t % a, j = t / a;
        float v = src[(k * b + j) * plane + r];
        dst[e] = hasBias != 0 ? v + bias[k] : v;
    }

    const int BiasGradGroup = 256;

    /// <summary>
    /// One group per channel o: its threads stride over the N*OH*OW values of dy[:, o] (neighbours read
    /// neighbouring pixels), then a tree reduction in shared memory; thread 0 writes db[o].
    /// </summary>
    static void BiasGradKernel(ArrayView<float> dy, ArrayView<float> db, int n, int channels, int plane)
    {
        var partial = SharedMemory.Allocate<float>(BiasGradGroup);
        int o = Grid.IdxX, t = Group.IdxX;
        float sum = 0f;
        for (int q = t; q < n * plane; q += BiasGradGroup)
        {
            int s = q / plane;
            sum += dy[(s * channels + o) * plane + q - s * plane];
        }
        partial[t] = sum;
        Group.Barrier();
        for (int half = BiasGradGroup / 2; half > 0; half /= 2)
        {
            if (t < half) partial[t] += partial[t + half];
            Group.Barrier();
        }
        if (t == 0) db[o] = partial[0];
    }
}
