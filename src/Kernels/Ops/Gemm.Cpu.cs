using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace NativeGan;

/// <summary>
/// The cpu GEMM kernels (<see cref="GemmVariant"/> picks one). v1 is the textbook triple loop (the reference
/// variant). v2 is the Goto/BLIS algorithm, the way OpenBLAS and BLIS reach near-peak speed:
/// <list type="number">
/// <item>C is cut into column blocks of <see cref="NC"/> and the sum over k into equal slices of at most <see cref="KC"/>.</item>
/// <item>For each (column block, k slice), op(B) is <b>packed</b>: copied into panels of NR columns,
///   stored so that the kernel reads one row of NR floats after another (contiguous, in L1/L2).</item>
/// <item>Row blocks of up to <see cref="MCMax"/> rows of op(A) are packed into panels of MR rows,
///   stored column after column (MR floats per step of k), sized to stay in L2.</item>
/// <item>A <b>micro-kernel</b> multiplies one A panel by one B panel: an MR x NR tile of C held in
///   12 vector registers, updated by one broadcast of A and one fused multiply-add per register
///   per step of k. It never sees a transpose or a tail: packing does both (zero padding).</item>
/// </list>
/// Row blocks (and, when there are too few, column ranges) are shared out over the cores. v3 is v2 with a
/// 6 x 32 micro-tile in 12 Vector512 registers (AVX-512).
/// </summary>
public static partial class Gemm
{
    // ================================================================ cpu v1: naive (correct, slow)

    /// <summary>The textbook triple loop, rows over the cores: the reference the fast variant is checked against.</summary>
    internal static void CpuV1Naive(CpuDevice cpu, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, bool transA, float[] b, int bOffset, int ldb, bool transB,
        float beta, float[] c, int cOffset, int ldc)
    {
        cpu.For(m, i =>
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += a[aOffset + (transA ? p * lda + i : i * lda + p)] * b[bOffset + (transB ? j * ldb + p : p * ldb + j)];
                ref float cij = ref c[cOffset + i * ldc + j];
                cij = beta == 0f ? alpha * s : alpha * s + beta * cij;
            }
        });
    }

    // ================================================================ cpu v2: packed, cache-blocked, register micro-kernel

    /// <summary>Rows of a micro-tile (A panel height). 6 rows x 2 vectors = 12 accumulator registers.</summary>
    const int MR = 6;

    /// <summary>The k slice: an A panel (6 x 256) and a B panel (256 x 16 or 32) stay in L1 together.</summary>
    const int KC = 256;

    /// <summary>Most rows of a packed A block (144 x 256 floats = 144 KiB, half of a 512 KiB L2).</summary>
    const int MCMax = 144;

    /// <summary>Most columns of a packed B block (256 x 4096 floats = 4 MiB, in the shared L3).</summary>
    const int NC = 4096;

    /// <summary>Below this many multiply-adds the work runs on the calling thread (a parallel loop costs more than it saves).</summary>
    const long SerialBelow = 64L * 64 * 64;

    /// <summary>The packed GEMM with the micro-kernel chosen by the caller: 6 x 16 with <see cref="Vector256"/> (v2), or
    /// 6 x 32 with <see cref="Vector512"/> when <paramref name="wide"/> (v3). <see cref="Cpu"/> picks by its variant argument.</summary>
    internal static unsafe void CpuV2Packed(CpuDevice cpu, int m, int n, int k, float alpha,
        float[] a, int aOffset, int lda, bool transA, float[] b, int bOffset, int ldb, bool transB,
        float beta, float[] c, int cOffset, int ldc, bool wide, PanelSource? panels = null, Segments segments = default, Segments aSegments = default,
        Segments bSegments = default)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            ScaleC(m, n, beta, c, cOffset, ldc); // an empty sum: C = beta * C
            return;
        }

        int nr = wide ? 32 : 16;
        if (segments.Columns > 0 && (segments.Columns % nr != 0 || n % segments.Columns != 0))
            throw new ArgumentException($"Gemm: C's column segments of {segments.Columns} must be whole panels of {nr} and divide n = {n}");
        if (aSegments.Columns > 0 && (transA || k % aSegments.Columns != 0))
            throw new ArgumentException($"Gemm: A's column segments of {aSegments.Columns} need A untransposed and must divide k = {k}");
        if (bSegments.Columns > 0 && (transB || bSegments.Columns % nr != 0 || n % bSegments.Columns != 0))
            throw new ArgumentException($"Gemm: B's column segments of {bSegments.Columns} need B untransposed, whole panels of {nr}, and must divide n = {n}");
        int threads = Math.Max(1, cpu.Threads);
        bool serial = threads == 1 || (long)m * n * k < SerialBelow;
        int workers = serial ? 1 : threads;

        // Row blocks: as few as fit MCMax, but a multiple of the workers so no core idles at the end.
        // When there are fewer row blocks than workers (a short, wide C), the columns are split too.
        int panelsM = (m + MR - 1) / MR;
        int blocksM = (m + MCMax - 1) / MCMax;
        int splitN = 1;
        if (blocksM >= workers) blocksM = Math.Min(panelsM, RoundUp(blocksM, workers));
        else splitN = (workers + blocksM - 1) / blocksM;
        int mc = RoundUp((m + blocksM - 1) / blocksM, MR);
        blocksM = (m + mc - 1) / mc;

        // k slices of equal depth, at most KC: k = 288 is two slices of 144, not 256 and a thin 32
        // (a thin slice pays a whole pass over C for little work).
        int slices = (k + KC - 1) / KC, kcMax = (k + slices - 1) / slices;
        int ncMax = Math.Min(RoundUp(n, nr), NC);
        // The packed B block is shared by all tasks: pinned for the whole call, so its address holds still.
        float[] bPack = ArrayPool<float>.Shared.Rent(kcMax * ncMax + 16);
        var pin = GCHandle.Alloc(bPack, GCHandleType.Pinned);
        nint bBase = (nint)Align64((float*)pin.AddrOfPinnedObject());
        try
        {
            for (int jc = 0; jc < n; jc += NC)
            {
                int nc = Math.Min(NC, n - jc), panelsN = (nc + nr - 1) / nr;
                for (int pc = 0; pc < k; pc += kcMax)
                {
                    int kc = Math.Min(kcMax, k - pc);
                    float betaNow = pc == 0 ? beta : 1f; // later k slices add to what the first one wrote

                    // 1. Pack op(B)[pc.., jc..] into panels of nr columns (in parallel over panels).
                    For(serial, cpu, Math.Min(workers, panelsN), part =>
                    {
                        var (first, end) = Share(panelsN, Math.Min(workers, panelsN), part);
                        if (panels is not null) panels(pc, kc, jc, nc, first, end, nr, (float*)bBase);
                        else PackB(b, bOffset, ldb, transB, pc, kc, jc, nc, first, end, nr, (float*)bBase, bSegments);
                    });

                    // 2. Each task packs one row block of op(A) and sweeps its share of the B panels.
                    For(serial, cpu, blocksM * splitN, task =>
                    {
                        int ib = task / splitN, ic = ib * mc, rows = Math.Min(mc, m - ic);
                        var (qFirst, qEnd) = Share(panelsN, splitN, task % splitN);
                        if (qFirst == qEnd) return;
                        float[] aPack = ArrayPool<float>.Shared.Rent(mc * kc + 16);
                        try
                        {
                            fixed (float* ap0 = aPack, cp = c)
                            {
                                float* ap = Align64(ap0), bp = (float*)bBase;
                                int panelsA = (rows + MR - 1) / MR;
                                for (int r = 0; r < panelsA; r++)
                                    PackA(a, aOffset, lda, transA, ic + r * MR, Math.Min(MR, rows - r * MR), pc, kc, ap + r * kc * MR, aSegments);
                                float* tile = stackalloc float[MR * 32];
                                for (int q = qFirst; q < qEnd; q++)          // B panel: stays in L1
                                {
                                    int col = jc + q * nr, cols = Math.Min(nr, n - col), width = PanelWidth(cols, nr);
                                    for (int r = 0; r < panelsA; r++)        // A panels: streamed from L2
                                    {
                                        int row = ic + r * MR, rowsHere = Math.Min(MR, m - row);
                                        float* cTile = cp + cOffset + (long)row * ldc + segments.Offset(col);
                                        float* aPanel = ap + r * kc * MR, bPanel = bp + q * kc * nr;
                                        if (rowsHere == MR && cols == width)
                                        {
                                            if (width == 32) Kernel6x32(kc, aPanel, bPanel, cTile, ldc, alpha, betaNow);
                                            else Kernel6x16(kc, aPanel, bPanel, cTile, ldc, alpha, betaNow);
                                        }
                                        else
                                        {
                                            // A tail tile: compute the whole padded tile aside, keep the part inside C.
                                            if (width == 32) Kernel6x32(kc, aPanel, bPanel, tile, width, 1f, 0f);
                                            else Kernel6x16(kc, aPanel, bPanel, tile, width, 1f, 0f);
                                            for (int i = 0; i < rowsHere; i++)
                                                for (int j = 0; j < cols; j++)
                                                {
                                                    ref float cij = ref cTile[(long)i * ldc + j];
                                                    float v = alpha * tile[i * width + j];
                                                    cij = betaNow == 0f ? v : v + betaNow * cij;
                                                }
                                        }
                                    }
                                }
                            }
                        }
                        finally { ArrayPool<float>.Shared.Return(aPack); }
                    });
                }
            }
        }
        finally
        {
            pin.Free();
            ArrayPool<float>.Shared.Return(bPack);
        }
    }

    // ---------------------------------------------------------------- packing

    /// <summary>
    /// Fills panels [q0, q1) of the packed block of op(B)[pc .. pc + kc, jc .. jc + nc] at <paramref name="dst"/> (the
    /// block's base) as <see cref="PackB"/> would from a matrix: panel q at dst + q kc nr holds kc rows of nr floats, except
    /// that a last, partial panel is <see cref="PanelWidth"/> wide with its columns past nc zero. Lets B's values come
    /// from wherever they are (a convolution's image: no column matrix, <c>Conv2d</c>'s im2col v4).
    /// </summary>
    internal unsafe delegate void PanelSource(int pc, int kc, int jc, int nc, int q0, int q1, int nr, float* dst);

    /// <summary>
    /// A matrix whose columns are stored in segments: column j lives at (j / Columns) * Stride + j % Columns from its row's
    /// start (rows ld apart inside a segment). A convolution's [O, m*OH*OW] matrices are kept this way in the tensors' own
    /// [m, O, OH*OW] layout (Columns = OH*OW, Stride = O*OH*OW, ld = OH*OW), so no relayout pass is needed: C of the
    /// forward (Columns a multiple of the micro-tile's width, so that no tile straddles two segments), B of the input
    /// gradient and A of the weight gradient (dy, untransposed). Default (Columns 0): an ordinary row-major matrix.
    /// </summary>
    internal readonly record struct Segments(int Columns, long Stride)
    {
        /// <summary>Where column <paramref name="col"/> starts, from its row's start.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public long Offset(int col) => Columns == 0 ? col : (long)(col / Columns) * Stride + col % Columns;
    }

    /// <summary>The packed GEMM's micro-tile width for <paramref name="variant"/> (16, or 32 with AVX-512), or 0 for a variant that packs nothing.</summary>
    internal static int CpuPanelWidth(GemmVariant variant) => variant switch
    {
        GemmVariant.V2 => 16,
        GemmVariant.V3 => 32,
        GemmVariant.Default => CpuDefaultIsWide ? 32 : 16,
        _ => 0,
    };

    /// <summary>The packed GEMM C = alpha op(A) op(B) + beta C, C stored in <paramref name="segments"/> (v2 or v3 by
    /// <paramref name="variant"/>), op(B)'s panels written by <paramref name="panels"/> or packed from b.</summary>
    internal static void CpuPacked(CpuDevice cpu, int m, int n, int k, float alpha, float[] a, int aOffset, int lda, bool transA,
        float[] b, int bOffset, int ldb, bool transB, PanelSource? panels, float beta, float[] c, int cOffset, int ldc, Segments segments,
        GemmVariant variant, Segments aSegments = default, Segments bSegments = default)
    {
        int nr = CpuPanelWidth(variant);
        if (nr == 0)
            throw new ArgumentOutOfRangeException(nameof(variant), $"Gemm.CpuPacked: packed variants only (2, 3 or 0), got {(int)variant}");
        CpuV2Packed(cpu, m, n, k, alpha, a, aOffset, lda, transA, b, bOffset, ldb, transB, beta, c, cOffset, ldc, nr == 32, panels, segments, aSegments, bSegments);
    }

    /// <summary>The packed GEMM C = alpha A op(B) + beta C with op(B)'s panels written by <paramref name="panels"/> (v2 or v3
    /// by <paramref name="variant"/>; v1, which packs nothing, is refused).</summary>
    internal static void CpuFromPanels(CpuDevice cpu, int m, int n, int k, float alpha, float[] a, int aOffset, int lda, bool transA,
        PanelSource panels, float beta, float[] c, int cOffset, int ldc, GemmVariant variant)
        => CpuPacked(cpu, m, n, k, alpha, a, aOffset, lda, transA, [], 0, 0, false, panels, beta, c, cOffset, ldc, default, variant);

    /// <summary>How wide panel q of a block of nc columns is packed (a last, partial one may be 16 of 32).</summary>
    internal static int PackedPanelWidth(int q, int nc, int nr) => q < nc / nr ? nr : PanelWidth(nc - nc / nr * nr, nr);

    /// <summary>
    /// Packs rows [row, row + rows) x columns [pc, pc + kc) of op(A) into one MR-row panel: for each p,
    /// the MR values of column p, rows past <paramref name="rows"/> set to zero.
    /// </summary>
    static unsafe void PackA(float[] a, int aOffset, int lda, bool transA, int row, int rows, int pc, int kc, float* dst, Segments segments = default)
    {
        if (rows < MR) new Span<float>(dst, kc * MR).Clear();
        fixed (float* a0 = a)
        {
            float* src = a0 + aOffset;
            if (segments.Columns > 0)
                // A's columns in segments (untransposed): the run of columns inside each segment as below, 8 at a time
                // while 8 more stay inside the run and a column still follows in the panel.
                for (int p = 0; p < kc;)
                {
                    int col = pc + p, run = Math.Min(kc - p, segments.Columns - col % segments.Columns), q = 0;
                    float* s0 = src + segments.Offset(col) + (long)row * lda;
                    if (Avx.IsSupported && rows == MR)
                        for (; q + 8 <= run && p + q + 8 < kc; q += 8) Transpose8x8(s0 + q, lda, dst + (long)(p + q) * MR, MR, rows: MR);
                    for (; q < run; q++)
                        for (int i = 0; i < rows; i++) dst[(long)(p + q) * MR + i] = s0[(long)i * lda + q];
                    p += run;
                }
            else if (!transA && rows == MR)
            {
                // op(A)(i, p) = a[i * lda + p]: read the six rows side by side, write the panel in order.
                float* s0 = src + (long)row * lda + pc, s1 = s0 + lda, s2 = s1 + lda, s3 = s2 + lda, s4 = s3 + lda, s5 = s4 + lda;
                int p = 0;
                if (Avx.IsSupported)
                    // 8 columns at a time: the six rows and two zero rows transposed in registers, each column
                    // stored as 8 floats of which the last 2 spill into the next column's slots, rewritten next;
                    // so this stops while a column still follows the block (p + 8 < kc).
                    for (; p + 8 < kc; p += 8, dst += 8 * MR) Transpose8x8(s0 + p, lda, dst, MR, rows: MR);
                for (; p < kc; p++, dst += MR)
                {
                    dst[0] = s0[p]; dst[1] = s1[p]; dst[2] = s2[p];
                    dst[3] = s3[p]; dst[4] = s4[p]; dst[5] = s5[p];
                }
            }
            else if (!transA)
                // The last, partial panel: row by row, scattered with stride MR.
                for (int i = 0; i < rows; i++)
                {
                    float* s = src + (long)(row + i) * lda + pc;
                    for (int p = 0; p < kc; p++) dst[p * MR + i] = s[p];
                }
            else
                // op(A)(i, p) = a[p * lda + i]: the MR values for one p are contiguous.
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)(pc + p) * lda + row;
                    for (int i = 0; i < rows; i++) dst[p * MR + i] = s[i];
                }
        }
    }

    /// <summary>
    /// Packs panels [q0, q1) of the block op(B)[pc .. pc + kc, jc .. jc + nc] into <paramref name="dst"/>
    /// (the block's base): panel q holds, for each p, the <paramref name="nr"/> values of row p in columns
    /// jc + q nr ..; a last, partial panel is zero-padded. With <paramref name="segments"/> (untransposed B, whole panels) each
    /// panel's columns are read from their segment.
    /// </summary>
    static unsafe void PackB(float[] b, int bOffset, int ldb, bool transB, int pc, int kc, int jc, int nc, int q0, int q1, int nr, float* dst,
        Segments segments = default)
    {
        int full = nc / nr, fullEnd = Math.Min(q1, full);
        fixed (float* b0 = b)
        {
            float* src = b0 + bOffset;
            if (!transB)
                // op(B)(p, j) = b[p * ldb + j]. Walk B row by row, one long contiguous read a row (which
                // the hardware prefetcher follows; panel by panel would jump a whole row ahead every 16
                // floats), and deal each row's floats out to the panels, a vector at a time.
                for (int p = 0; p < kc; p++)
                {
                    float* s = src + (long)(pc + p) * ldb;
                    for (int q = q0; q < fullEnd; q++)
                    {
                        float* sq = s + segments.Offset(jc + q * nr), d = dst + ((long)q * kc + p) * nr;
                        for (int j = 0; j < nr; j += Vector256<float>.Count)
                            Vector256.Store(Vector256.Load(sq + j), d + j);
                    }
                }
            else
                // op(B)(p, j) = b[j * ldb + p]: column j of op(B) is row j of B, contiguous along p. A linear
                // layer's forward (x W^T) packs its weights this way every call: 8 columns at a time.
                for (int q = q0; q < fullEnd; q++)
                    for (int j = 0; j < nr; j += 8)
                        PackTransposed8(src + (long)(jc + q * nr + j) * ldb + pc, ldb, kc, dst + (long)q * kc * nr + j, nr);

            if (nc % nr != 0 && full >= q0 && full < q1)
            {
                // The last, partial panel (a layer of 200 or 1000 units ends in one of 8 columns), PanelWidth wide:
                // whole groups of 8 columns as above, the rest element by element, the columns past nc set to zero.
                int cols = nc - full * nr, width = PanelWidth(cols, nr), groups = cols / 8 * 8, col0 = jc + full * nr;
                float* d = dst + (long)full * kc * nr;
                new Span<float>(d, kc * width).Clear();
                if (!transB)
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)(pc + p) * ldb + col0;
                        for (int j = 0; j < groups; j += 8) Vector256.Store(Vector256.Load(s + j), d + (long)p * width + j);
                        for (int j = groups; j < cols; j++) d[(long)p * width + j] = s[j];
                    }
                else
                {
                    for (int j = 0; j < groups; j += 8)
                        PackTransposed8(src + (long)(col0 + j) * ldb + pc, ldb, kc, d + j, width);
                    for (int p = 0; p < kc; p++)
                        for (int j = groups; j < cols; j++) d[(long)p * width + j] = src[(long)(col0 + j) * ldb + pc + p];
                }
            }
        }
    }

    /// <summary>d[p * nr + r] = s[r * ldb + p] for rows r = 0..7 and p = 0..kc-1: 8 x 8 blocks transposed in registers
    /// (8 row loads, 24 shuffles, 8 stores), the k tail element by element.</summary>
    static unsafe void PackTransposed8(float* s, int ldb, int kc, float* d, int nr)
    {
        int p = 0;
        if (Avx.IsSupported)
            for (; p + 8 <= kc; p += 8) Transpose8x8(s + p, ldb, d + (long)p * nr, nr);
        for (; p < kc; p++)
            for (int r = 0; r < 8; r++) d[(long)p * nr + r] = s[(long)r * ldb + p];
    }

    /// <summary>
    /// How wide a B panel of <paramref name="cols"/> columns is packed and computed: <paramref name="nr"/>, except that
    /// a last panel of at most 16 columns is 16 wide, for the 6 x 16 micro-kernel, when the panels are 32 wide (a layer
    /// of 200 units ends in 8 columns: padded to 32, its last panel did four times the work it needed).
    /// </summary>
    static int PanelWidth(int cols, int nr) => cols <= 16 ? 16 : nr;

    /// <summary>dst[c * ldd + r] = src[r * lds + c] for an 8 x 8 block (AVX), rows past <paramref name="rows"/> read as
    /// zero: rows are interleaved in pairs, then in fours, then the 128-bit halves are exchanged (24 shuffles). The
    /// eight stores go in order of c, so with ldd &lt; 8 each one overwrites the previous one's spill.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Transpose8x8(float* src, nint lds, float* dst, nint ldd, int rows = 8)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + lds),
            r2 = Avx.LoadVector256(src + 2 * lds), r3 = Avx.LoadVector256(src + 3 * lds),
            r4 = Avx.LoadVector256(src + 4 * lds), r5 = Avx.LoadVector256(src + 5 * lds),
            r6 = rows > 6 ? Avx.LoadVector256(src + 6 * lds) : Vector256<float>.Zero,
            r7 = rows > 7 ? Avx.LoadVector256(src + 7 * lds) : Vector256<float>.Zero;
        // Pairs: t0 = r0[0] r1[0] r0[1] r1[1] | r0[4] r1[4] r0[5] r1[5], t1 the same for elements 2, 3 | 6, 7.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        // Fours: u0 = element 0 of rows 0-3 | element 4 of rows 0-3, u1 elements 1 | 5, and so on.
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE),
            u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Halves: rows 0-3 of element c from u, rows 4-7 from the matching u of rows 4-7.
        Avx.Store(dst, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(dst + ldd, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(dst + 2 * ldd, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(dst + 3 * ldd, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(dst + 4 * ldd, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(dst + 5 * ldd, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(dst + 6 * ldd, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(dst + 7 * ldd, Avx.Permute2x128(u3, u7, 0x31));
    }

    // ---------------------------------------------------------------- micro-kernels

    /// <summary>
    /// C[0..6, 0..16] = alpha * Apanel * Bpanel + beta * C (beta = 0: C is not read). Apanel is kc steps of
    /// 6 floats, Bpanel kc steps of 16; the 6 x 16 tile lives in 12 Vector256 registers during the loop.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Kernel6x16(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        PrefetchTile(c, ldc, 16);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += MR, b += 16)
        {
            Vector256<float> b0 = Vector256.Load(b), b1 = Vector256.Load(b + 8), ai;
            ai = Vector256.Create(a[0]); c00 = Vector256.FusedMultiplyAdd(ai, b0, c00); c01 = Vector256.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector256.Create(a[1]); c10 = Vector256.FusedMultiplyAdd(ai, b0, c10); c11 = Vector256.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector256.Create(a[2]); c20 = Vector256.FusedMultiplyAdd(ai, b0, c20); c21 = Vector256.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector256.Create(a[3]); c30 = Vector256.FusedMultiplyAdd(ai, b0, c30); c31 = Vector256.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector256.Create(a[4]); c40 = Vector256.FusedMultiplyAdd(ai, b0, c40); c41 = Vector256.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector256.Create(a[5]); c50 = Vector256.FusedMultiplyAdd(ai, b0, c50); c51 = Vector256.FusedMultiplyAdd(ai, b1, c51);
        }
        var va = Vector256.Create(alpha);
        Store(c, c00, c01, va, beta); c += ldc;
        Store(c, c10, c11, va, beta); c += ldc;
        Store(c, c20, c21, va, beta); c += ldc;
        Store(c, c30, c31, va, beta); c += ldc;
        Store(c, c40, c41, va, beta); c += ldc;
        Store(c, c50, c51, va, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store(float* c, Vector256<float> lo, Vector256<float> hi, Vector256<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector256.Store(lo * alpha, c);
            Vector256.Store(hi * alpha, c + 8);
        }
        else
        {
            var vb = Vector256.Create(beta);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c), vb, lo * alpha), c);
            Vector256.Store(Vector256.FusedMultiplyAdd(Vector256.Load(c + 8), vb, hi * alpha), c + 8);
        }
    }

    /// <summary>The AVX-512 micro-kernel: a 6 x 32 tile in 12 Vector512 registers (Bpanel is kc steps of 32).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void Kernel6x32(int kc, float* a, float* b, float* c, nint ldc, float alpha, float beta)
    {
        PrefetchTile(c, ldc, 32);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++, a += MR, b += 32)
        {
            Vector512<float> b0 = Vector512.Load(b), b1 = Vector512.Load(b + 16), ai;
            ai = Vector512.Create(a[0]); c00 = Vector512.FusedMultiplyAdd(ai, b0, c00); c01 = Vector512.FusedMultiplyAdd(ai, b1, c01);
            ai = Vector512.Create(a[1]); c10 = Vector512.FusedMultiplyAdd(ai, b0, c10); c11 = Vector512.FusedMultiplyAdd(ai, b1, c11);
            ai = Vector512.Create(a[2]); c20 = Vector512.FusedMultiplyAdd(ai, b0, c20); c21 = Vector512.FusedMultiplyAdd(ai, b1, c21);
            ai = Vector512.Create(a[3]); c30 = Vector512.FusedMultiplyAdd(ai, b0, c30); c31 = Vector512.FusedMultiplyAdd(ai, b1, c31);
            ai = Vector512.Create(a[4]); c40 = Vector512.FusedMultiplyAdd(ai, b0, c40); c41 = Vector512.FusedMultiplyAdd(ai, b1, c41);
            ai = Vector512.Create(a[5]); c50 = Vector512.FusedMultiplyAdd(ai, b0, c50); c51 = Vector512.FusedMultiplyAdd(ai, b1, c51);
        }
        var va = Vector512.Create(alpha);
        Store(c, c00, c01, va, beta); c += ldc;
        Store(c, c10, c11, va, beta); c += ldc;
        Store(c, c20, c21, va, beta); c += ldc;
        Store(c, c30, c31, va, beta); c += ldc;
        Store(c, c40, c41, va, beta); c += ldc;
        Store(c, c50, c51, va, beta);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void Store(float* c, Vector512<float> lo, Vector512<float> hi, Vector512<float> alpha, float beta)
    {
        if (beta == 0f)
        {
            Vector512.Store(lo * alpha, c);
            Vector512.Store(hi * alpha, c + 16);
        }
        else
        {
            var vb = Vector512.Create(beta);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c), vb, lo * alpha), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(Vector512.Load(c + 16), vb, hi * alpha), c + 16);
        }
    }

    // ---------------------------------------------------------------- helpers

    /// <summary>
    /// Asks for the 6 rows of a C tile (first and last float of each) to be brought into cache while the
    /// k loop runs, so the loads and stores at its end do not wait for memory (C rows far apart, as in
    /// a wide C, miss every cache level otherwise).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static unsafe void PrefetchTile(float* c, nint ldc, int width)
    {
        if (!Sse.IsSupported) return;
        for (int i = 0; i < MR; i++, c += ldc)
        {
            Sse.Prefetch0(c);
            Sse.Prefetch0(c + width - 1);
        }
    }

    /// <summary>C = beta * C over an m x n block (beta = 0 writes zeros, whatever C held).</summary>
    static void ScaleC(int m, int n, float beta, float[] c, int cOffset, int ldc)
    {
        for (int i = 0; i < m; i++)
        {
            var row = c.AsSpan(cOffset + i * ldc, n);
            if (beta == 0f) row.Clear();
            else System.Numerics.Tensors.TensorPrimitives.Multiply(row, beta, row);
        }
    }

    /// <summary>Runs body(0..count) in parallel on the device's threads, or in order on this thread.</summary>
    static void For(bool serial, CpuDevice cpu, int count, Action<int> body)
    {
        if (serial || count == 1)
            for (int i = 0; i < count; i++) body(i);
        else
            cpu.For(count, body);
    }

    /// <summary>Part <paramref name="part"/> of <paramref name="parts"/> near-equal parts of [0, total).</summary>
    static (int First, int End) Share(int total, int parts, int part)
        => ((int)((long)total * part / parts), (int)((long)total * (part + 1) / parts));

    static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;

    /// <summary>The first 64-byte aligned address at or after p (pack buffers are rented 16 floats longer).</summary>
    static unsafe float* Align64(float* p) => (float*)(((nint)p + 63) & ~(nint)63);
}
