using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>One convolution's sizes: x [N, C, H, W] * w [O, C, KH, KW], stride S, padding P.</summary>
public readonly record struct ConvCase(int N, int C, int O, int H, int W, int KH, int KW, int S, int P)
{
    public int OH => (H + 2 * P - KH) / S + 1;
    public int OW => (W + 2 * P - KW) / S + 1;
    public int[] XShape => [N, C, H, W];
    public int[] WShape => [O, C, KH, KW];
    public int[] YShape => [N, O, OH, OW];
    public override string ToString() => $"x [{N}, {C}, {H}, {W}] w [{O}, {C}, {KH}, {KW}] stride {S} padding {P}";

    static readonly (int KH, int KW)[] Kernels = [(1, 1), (3, 3), (4, 4), (4, 3)];

    /// <summary>
    /// cpu: every combination of channels 1, 3, 5 (in and out), kernels 1x1, 3x3, 4x4 and 4x3, stride 1 and 2,
    /// padding 0, 1, 2, on a 7x9 image, batch 1 or 3. ilgpu-cpu (about 1000x slower): a handful of tiny ones.
    /// </summary>
    public static IEnumerable<ConvCase> For(Device d)
    {
        if (TestDevices.IsSlow(d))
        {
            yield return new(1, 1, 1, 5, 6, 3, 3, 1, 1);
            yield return new(3, 3, 5, 7, 9, 4, 4, 2, 1);
            yield return new(2, 5, 3, 5, 4, 3, 4, 2, 0);
            yield return new(1, 3, 1, 4, 5, 1, 1, 1, 0);
            yield return new(3, 1, 3, 6, 5, 4, 3, 2, 2);
            yield break;
        }
        int i = 0;
        foreach (int c in new[] { 1, 3, 5 })
            foreach (int o in new[] { 1, 3, 5 })
                foreach (var (kh, kw) in Kernels)
                    foreach (int s in new[] { 1, 2 })
                        foreach (int p in new[] { 0, 1, 2 })
                            yield return new(i++ % 2 == 0 ? 1 : 3, c, o, 7, 9, kh, kw, s, p);
    }
}

public class Conv2dTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static Tensor Make(float[] data, int[] shape, Device d) => Tensor.FromArray(data, shape, d);

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void ForwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(11);
        int k = 0;
        foreach (var c in ConvCase.For(d))
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var b = k++ % 2 == 0 ? Random(rng, c.O) : null; // with and without bias
            using var xt = Make(x, c.XShape, d);
            using var wt = Make(w, c.WShape, d);
            using var bt = b is null ? null : Make(b, [c.O], d);
            using var y = Poisoned(d, c.YShape);
            Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y);
            var expected = Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, b is null ? null : ToDouble(b), c.S, c.P);
            AssertClose(expected, y.ToArray(), what: $"Conv2d.Forward {c} bias={b is not null} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void InputGradMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(12);
        foreach (var c in ConvCase.For(d))
        {
            var dy = Random(rng, Shapes.Numel(c.YShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            using var dyt = Make(dy, c.YShape, d);
            using var wt = Make(w, c.WShape, d);
            using var dx = Poisoned(d, c.XShape);
            Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx);
            var expected = Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P);
            AssertClose(expected, dx.ToArray(), what: $"Conv2d.InputGrad {c} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void WeightGradMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(13);
        foreach (var c in ConvCase.For(d))
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, d);
            using var dyt = Make(dy, c.YShape, d);
            using var dw = Poisoned(d, c.WShape);
            Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw);
            var expected = Conv2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P);
            AssertClose(expected, dw.ToArray(), what: $"Conv2d.WeightGrad {c} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.BiasGrad")]
    public void BiasGradSumsOverBatchAndPixels(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(14);
        // A plane longer than the GPU kernel's group of 256 threads, and ones shorter; 1, 3 and 5 channels.
        int[][] shapes = TestDevices.IsSlow(d)
            ? [[1, 1, 3, 5], [2, 3, 17, 19]]
            : [[1, 1, 3, 5], [3, 5, 7, 9], [2, 3, 17, 19], [4, 128, 8, 8], [5, 3, 33, 31]];
        foreach (var shape in shapes)
        {
            var dy = Random(rng, Shapes.Numel(shape));
            using var dyt = Make(dy, shape, d);
            using var db = Poisoned(d, shape[1]);
            Conv2d.BiasGradInto(dyt, db);
            AssertClose(Conv2d.Reference.BiasGrad(ToDouble(dy), shape), db.ToArray(), what: $"Conv2d.BiasGrad {Shapes.Format(shape)} on {d.Name}");
        }
    }

    /// <summary>
    /// The definition of the two gradients as adjoints, checked on the device's own outputs with float64 sums:
    /// &lt;conv(x, w), dy&gt; = &lt;x, InputGrad(dy, w)&gt; = &lt;w, WeightGrad(x, dy)&gt;.
    /// </summary>
    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void GradientsAreAdjointsOfTheForward(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(15);
        ConvCase[] cases = TestDevices.IsSlow(d)
            ? [new(2, 3, 5, 6, 7, 3, 3, 2, 1), new(1, 5, 1, 5, 5, 4, 4, 1, 2)]
            : [new(3, 3, 5, 7, 9, 3, 3, 2, 1), new(1, 5, 1, 9, 7, 4, 4, 1, 2), new(3, 1, 3, 8, 8, 4, 3, 2, 0), new(4, 16, 8, 16, 16, 4, 4, 2, 1)];
        foreach (var c in cases)
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, d);
            using var wt = Make(w, c.WShape, d);
            using var dyt = Make(dy, c.YShape, d);
            using var y = Conv2d.Forward(xt, wt, null, c.S, c.P);
            using var dx = Conv2d.InputGrad(dyt, wt, c.H, c.W, c.S, c.P);
            using var dw = Conv2d.WeightGrad(xt, dyt, c.KH, c.KW, c.S, c.P);
            AssertAdjoint(y.ToArray(), dy, x, dx.ToArray(), w, dw.ToArray(), $"Conv2d {c} on {d.Name}");
        }
    }

    /// <summary>&lt;y, dy&gt; = &lt;x, dx&gt; = &lt;w, dw&gt; in float64, to a tolerance scaled by the sum of |terms|.</summary>
    internal static void AssertAdjoint(float[] y, float[] dy, float[] x, float[] dx, float[] w, float[] dw, string what)
    {
        static (double Dot, double Scale) Dot(float[] a, float[] b)
        {
            double dot = 0, scale = 0;
            for (int i = 0; i < a.Length; i++) { dot += (double)a[i] * b[i]; scale += Math.Abs((double)a[i] * b[i]); }
            return (dot, scale);
        }
        var (yDy, scale) = Dot(y, dy);
        var (xDx, _) = Dot(x, dx);
        var (wDw, _) = Dot(w, dw);
        double tol = 1e-5 * scale + 1e-6;
        Assert.True(Math.Abs(yDy - xDx) <= tol, $"{what}: <y, dy> = {yDy} but <x, dx> = {xDx} (tolerance {tol:g3})");
        Assert.True(Math.Abs(yDy - wDw) <= tol, $"{what}: <y, dy> = {yDy} but <w, dw> = {wDw} (tolerance {tol:g3})");
    }

    /// <summary>A batch cut into chunks of 2 samples (5 = 2 + 2 + 1): the relayout, the one-sample shortcut and the
    /// accumulation of the weight gradient across chunks all run.</summary>
    [Fact]
    public void CpuIm2ColV2ToV4GiveV1sFloats()
    {
        // v2 (loops on refs), v3 (scratch planes with a zero border, gathers through an offset table) and v4 (the forward's
        // GEMM panels gathered straight from the image, masked at the edges) must round exactly as v1: the same copies, the same sums in the same order. Strides 1 to 3 (3 is in no float64 case
        // above), paddings 0 to 2, rows of 1 to 13 outputs (v3's stride-2 col2im: 8 + 4 + 1 and 8 + 2), planes of 1 to 65.
        var rng = new Random(17);
        foreach (var c in new ConvCase[] { new(3, 2, 3, 7, 9, 4, 3, 3, 2), new(2, 3, 2, 11, 6, 4, 4, 2, 1), new(1, 1, 2, 5, 5, 3, 3, 1, 0),
                                           new(4, 2, 1, 8, 8, 4, 4, 2, 1), new(2, 1, 3, 9, 7, 2, 3, 3, 0), new(2, 2, 2, 4, 4, 4, 4, 1, 2),
                                           new(2, 2, 3, 5, 26, 4, 4, 2, 1), new(3, 1, 2, 9, 21, 3, 3, 2, 0),
                                           new(3, 20, 5, 9, 7, 4, 4, 2, 1) }) // 320 taps: two k slices of the GEMM's packing
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var b = Random(rng, c.O);
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, Device.Cpu);
            using var wt = Make(w, c.WShape, Device.Cpu);
            using var bt = Make(b, [c.O], Device.Cpu);
            using var dyt = Make(dy, c.YShape, Device.Cpu);
            var results = new float[4][][];
            // Newest first: the column matrices come from a pool, so a variant run after another could be handed a
            // buffer that already holds the right values where it failed to write.
            for (int v = 3; v >= 0; v--)
            {
                using var y = Poisoned(Device.Cpu, c.YShape);
                using var dx = Poisoned(Device.Cpu, c.XShape);
                using var dw = Poisoned(Device.Cpu, c.WShape);
                var variant = new Conv2dVariant((Im2ColVariant)(v + 1));
                Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y, variant);
                Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx, variant);
                Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw, variant);
                results[v] = [y.ToArray(), dx.ToArray(), dw.ToArray()];
            }
            // v4 with the 6 x 32 GEMM kernel (32-wide panels, a last one 16 wide): the same sums again.
            using (var wide = Poisoned(Device.Cpu, c.YShape))
            {
                Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, wide, new Conv2dVariant(Im2ColVariant.V4, GemmVariant.V3));
                Assert.True(results[0][0].SequenceEqual(wide.ToArray()), $"{c}: the forward differs between v1 and v4 with GEMM v3");
            }
            for (int v = 1; v < 4; v++)
                for (int pass = 0; pass < 3; pass++)
                    Assert.True(results[0][pass].SequenceEqual(results[v][pass]), $"{c}: pass {pass} (forward, input grad, weight grad) differs between v1 and v{v + 1}");
            AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P), results[3][0], what: $"{c} forward");
            AssertClose(Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), results[2][1], what: $"{c} input gradient");
        }
    }

    [Fact]
    public void CpuDenseLayersAreAPlainProductBitForBit()
    {
        // A kernel that covers the whole unpadded input (DCGAN's last critic layer; as a transposed convolution, its
        // generator's first) skips im2col on the default variant: the same floats as im2col v3, and float64's values.
        // Batches of 1 to 65 (GEMM tails on both sides), strides 1 and 2 (one output either way), bias or none.
        var rng = new Random(19);
        foreach (var c in new ConvCase[] { new(3, 5, 7, 4, 4, 4, 4, 1, 0), new(2, 3, 1, 4, 3, 4, 3, 2, 0), new(65, 7, 1, 4, 4, 4, 4, 1, 0),
                                           new(1, 1, 1, 1, 1, 1, 1, 1, 0), new(13, 2, 9, 2, 5, 2, 5, 1, 0) })
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var b = Random(rng, c.O);
            var dy = Random(rng, Shapes.Numel(c.YShape));
            var bc = Random(rng, c.C); // the transposed convolution's bias: one per channel of its output (x's)
            using var xt = Make(x, c.XShape, Device.Cpu);
            using var wt = Make(w, c.WShape, Device.Cpu);
            using var bt = Make(b, [c.O], Device.Cpu);
            using var bct = Make(bc, [c.C], Device.Cpu);
            using var dyt = Make(dy, c.YShape, Device.Cpu);
            var results = new float[2][][];
            foreach (int v in new[] { 1, 0 }) // im2col v3, then the default (the product); see CpuIm2ColV2ToV4GiveV1sFloats on pool reuse
            {
                using var y = Poisoned(Device.Cpu, c.YShape);
                using var dx = Poisoned(Device.Cpu, c.XShape);
                using var dw = Poisoned(Device.Cpu, c.WShape);
                using var t = Poisoned(Device.Cpu, c.XShape);
                var variant = v == 1 ? new Conv2dVariant(Im2ColVariant.V3) : default;
                Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y, variant);
                Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx, variant);
                Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw, variant);
                ConvTranspose2d.ForwardInto(dyt, wt, bct, c.S, c.P, 0, t, variant);
                results[v] = [y.ToArray(), dx.ToArray(), dw.ToArray(), t.ToArray()];
            }
            for (int pass = 0; pass < 4; pass++)
                Assert.True(results[0][pass].SequenceEqual(results[1][pass]),
                    $"{c}: pass {pass} (forward, input grad, weight grad, transposed forward with bias) differs between the product and im2col v3");
            AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P), results[0][0], what: $"{c} forward");
            AssertClose(Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), results[0][1], what: $"{c} input gradient");
            AssertClose(Conv2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P), results[0][2], what: $"{c} weight gradient");
            var transposed = ConvTranspose2d.Reference.Forward(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, ToDouble(bc), c.S, c.P);
            AssertClose(transposed, results[0][3], what: $"{c} transposed forward with bias");
        }
    }

    [Fact]
    public void CpuPlanesOfWholeTilesSkipTheRelayoutBitForBit()
    {
        // Output planes of whole micro-tiles (16 or 32 pixels) store the forward's product straight into y and pack dy
        // straight from its [N, O, OH*OW] layout (no relayout pass); im2col v2 keeps the relayout. The two must give the
        // same floats in every pass, both directions of the transposed convolution included, and float64's values.
        // Planes 16 (4x4, implicit B panels), 64 (8x8: im2col v3), 32 (4x8) and 256 (16x16); batches of 2 to 7; a chunked run.
        // Kernels 4 wide also read the weight gradient's panels straight from x (no column matrix), planes or not.
        var rng = new Random(23);
        foreach (var (c, chunk) in new (ConvCase, int)[] { (new(5, 3, 7, 8, 8, 4, 4, 2, 1), 0), (new(3, 2, 5, 16, 16, 4, 4, 2, 1), 0),
                                                           (new(4, 3, 6, 8, 8, 3, 3, 1, 1), 0), (new(2, 5, 3, 4, 8, 1, 1, 1, 0), 0),
                                                           (new(7, 2, 3, 32, 32, 4, 4, 2, 1), 0), (new(7, 3, 5, 8, 8, 4, 4, 2, 1), 3 * 48 * 16),
                                                           // kernels 4 wide, whose weight gradient packs patches straight from x, at the image's edges
                                                           (new(2, 3, 5, 5, 6, 2, 4, 1, 1), 0), (new(3, 1, 4, 5, 6, 1, 4, 2, 2), 0),
                                                           (new(2, 5, 2, 10, 7, 4, 4, 3, 0), 0), (new(3, 3, 2, 7, 9, 4, 4, 1, 2), 0) })
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var b = Random(rng, c.O);
            var dy = Random(rng, Shapes.Numel(c.YShape));
            var bc = Random(rng, c.C);
            using var xt = Make(x, c.XShape, Device.Cpu);
            using var wt = Make(w, c.WShape, Device.Cpu);
            using var bt = Make(b, [c.O], Device.Cpu);
            using var bct = Make(bc, [c.C], Device.Cpu);
            using var dyt = Make(dy, c.YShape, Device.Cpu);
            var results = new float[2][][];
            foreach (int v in new[] { 1, 0 }) // im2col v2 with the relayout, then the default
            {
                using var y = Poisoned(Device.Cpu, c.YShape);
                using var dx = Poisoned(Device.Cpu, c.XShape);
                using var dw = Poisoned(Device.Cpu, c.WShape);
                using var t = Poisoned(Device.Cpu, c.XShape);
                using var dt = Poisoned(Device.Cpu, c.YShape);
                var variant = new Conv2dVariant(v == 1 ? Im2ColVariant.V2 : Im2ColVariant.Default, ChunkFloats: chunk);
                Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y, variant);
                Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx, variant);
                Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw, variant);
                ConvTranspose2d.ForwardInto(dyt, wt, bct, c.S, c.P, 0, t, variant);
                ConvTranspose2d.InputGradInto(xt, wt, c.S, c.P, dt, variant);
                results[v] = [y.ToArray(), dx.ToArray(), dw.ToArray(), t.ToArray(), dt.ToArray()];
            }
            for (int pass = 0; pass < 5; pass++)
                Assert.True(results[0][pass].SequenceEqual(results[1][pass]),
                    $"{c}: pass {pass} (forward, input grad, weight grad, transposed forward, transposed input grad) differs from the relayout's");
            AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P), results[0][0], what: $"{c} forward");
            AssertClose(Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), results[0][1], what: $"{c} input gradient");
            AssertClose(Conv2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P), results[0][2], what: $"{c} weight gradient");
            AssertClose(ConvTranspose2d.Reference.Forward(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, ToDouble(bc), c.S, c.P), results[0][3], what: $"{c} transposed forward");
            AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, null, c.S, c.P), results[0][4], what: $"{c} transposed input gradient");
        }
    }

    /// <summary>The device's im2col / col2im variants, by argument: v1 to v3 on the cpu (v4 differs from v3 only inside the
    /// forward: CpuIm2ColV2ToV4GiveV1sFloats), the one GPU kernel (v1) elsewhere.</summary>
    static Im2ColVariant[] Im2ColVariants(Device d) => d is GpuDevice ? [Im2ColVariant.V1] : [Im2ColVariant.V1, Im2ColVariant.V2, Im2ColVariant.V3];

    /// <summary>im2col and col2im as ops, each variant against its float64 definition at tail sizes: strides 1 to 3, paddings
    /// 0 to 2, rows of 1 to 13 outputs (v3's stride-2 vector rows: 8 + 4 + 1 and 8 + 2), with and without a bias.</summary>
    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.Col2Im")]
    public void Im2ColAndCol2ImMatchFloat64EveryVariant(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(19);
        ConvCase[] cases = TestDevices.IsSlow(d)
            ? [new(2, 3, 1, 5, 7, 3, 3, 2, 1), new(1, 2, 1, 4, 5, 4, 3, 1, 0)]
            : [new(3, 2, 1, 7, 9, 4, 3, 3, 2), new(2, 3, 1, 11, 6, 4, 4, 2, 1), new(1, 1, 1, 5, 5, 3, 3, 1, 0),
               new(2, 2, 1, 5, 26, 4, 4, 2, 1), new(3, 1, 1, 9, 21, 3, 3, 2, 0), new(2, 2, 1, 4, 4, 4, 4, 1, 2)];
        foreach (var c in cases)
        {
            var g = Conv2dGeometry.Of(c.N, c.C, c.H, c.W, c.O, c.KH, c.KW, c.S, c.P);
            var x = Random(rng, Shapes.Numel(c.XShape));
            var colIn = Random(rng, g.Rows * c.N * g.OutPlane);
            var bias = Random(rng, c.C);
            var wantCol = Conv2d.Reference.Im2Col(ToDouble(x), g);
            using var xt = Make(x, c.XShape, d);
            using var colT = Make(colIn, [g.Rows, c.N * g.OutPlane], d);
            using var bt = Make(bias, [c.C], d);
            foreach (var v in Im2ColVariants(d))
            {
                using var col = Poisoned(d, g.Rows, c.N * g.OutPlane);
                Conv2d.Im2ColInto(xt, g, col, v);
                Assert.Equal(Array.ConvertAll(wantCol, e => (float)e), col.ToArray()); // copies and zeros: exact
                foreach (bool withBias in new[] { false, true })
                {
                    using var dx = Poisoned(d, c.XShape);
                    Conv2d.Col2ImInto(colT, g, dx, withBias ? bt : null, v);
                    AssertClose(Conv2d.Reference.Col2Im(ToDouble(colIn), g, withBias ? ToDouble(bias) : null), dx.ToArray(),
                        what: $"col2im {v} bias={withBias} {c} on {d.Name}");
                }
            }
        }
    }

    [Theory, MemberData(nameof(Devices))]
    public void AVariantTheDeviceLacksIsRefusedNamingTheValidOnes(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var x = Tensor.Zeros(d, 1, 1, 3, 3);
        using var w = Tensor.Zeros(d, 1, 1, 2, 2);
        var unknown = Assert.Throws<ArgumentOutOfRangeException>(() => Conv2d.Forward(x, w, null, 1, 0, new Conv2dVariant((Im2ColVariant)5)));
        Assert.Contains("no im2col variant 5", unknown.Message);
        var gemm = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose2d.InputGrad(x, w, 1, 0, new Conv2dVariant(Gemm: (GemmVariant)7)));
        Assert.Contains($"no GEMM variant 7 on {d.Name}; the variants are {(d is GpuDevice ? "1, 2, 3, 4, 5" : "1, 2, 3")} and 0 (Default)", gemm.Message);
        if (d is GpuDevice)
        {
            var cpuOnly = Assert.Throws<ArgumentOutOfRangeException>(() => Conv2d.Forward(x, w, null, 1, 0, new Conv2dVariant(Im2ColVariant.V3)));
            Assert.Contains($"no im2col variant 3 on {d.Name}; the variants are 1 (one GPU kernel) and 0 (Default)", cpuOnly.Message);
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void ChunkedBatchesMatchFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(16);
        var c = new ConvCase(5, 3, 5, 6, 7, 3, 4, 2, 1);
        var g = Conv2dGeometry.Of(c.N, c.C, c.H, c.W, c.O, c.KH, c.KW, c.S, c.P);
        var x = Random(rng, Shapes.Numel(c.XShape));
        var w = Random(rng, Shapes.Numel(c.WShape));
        var b = Random(rng, c.O);
        var dy = Random(rng, Shapes.Numel(c.YShape));
        using var xt = Make(x, c.XShape, d);
        using var wt = Make(w, c.WShape, d);
        using var bt = Make(b, [c.O], d);
        using var dyt = Make(dy, c.YShape, d);
        using var y = Poisoned(d, c.YShape);
        using var dx = Poisoned(d, c.XShape);
        using var dw = Poisoned(d, c.WShape);
        var variant = new Conv2dVariant(ChunkFloats: 2 * (g.Rows + g.O) * g.OutPlane);
        Assert.Equal(2, Conv2d.ChunkSamples(g, variant.BudgetFloats(Conv2d.CpuChunkFloats)));
        Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y, variant);
        Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx, variant);
        Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw, variant);
        AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P), y.ToArray(), what: "chunked forward");
        AssertClose(Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), dx.ToArray(), what: "chunked input gradient");
        AssertClose(Conv2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P), dw.ToArray(), what: "chunked weight gradient");
    }

    /// <summary>Inputs and outputs that are views at an offset into larger storage (SliceBatch): the ops read and write
    /// their own samples only; the poisoned samples around the output stay NaN.</summary>
    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes"), Trait("Kernel", "Conv2d.BiasGrad")]
    public void ViewsAtAnOffsetReadAndWriteOnlyTheirSamples(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(18);
        var c = new ConvCase(2, 3, 5, 5, 6, 3, 3, 2, 1);
        int[] bigX = [4, c.C, c.H, c.W], bigY = [4, c.O, c.OH, c.OW];
        var x = Random(rng, Shapes.Numel(bigX));
        var w = Random(rng, Shapes.Numel(c.WShape));
        var dy = Random(rng, Shapes.Numel(bigY));
        using var xAll = Make(x, bigX, d);
        using var dyAll = Make(dy, bigY, d);
        using var wt = Make(w, c.WShape, d);
        using var xs = xAll.SliceBatch(1, 2);
        using var dys = dyAll.SliceBatch(1, 2);
        using var yAll = Poisoned(d, bigY);
        using var dxAll = Poisoned(d, bigX);
        using var ys = yAll.SliceBatch(1, 2);
        using var dxs = dxAll.SliceBatch(1, 2);
        using var dw = Poisoned(d, c.WShape);
        using var db = Poisoned(d, c.O);
        Conv2d.ForwardInto(xs, wt, null, c.S, c.P, ys);
        Conv2d.InputGradInto(dys, wt, c.H, c.W, c.S, c.P, dxs);
        Conv2d.WeightGradInto(xs, dys, c.KH, c.KW, c.S, c.P, dw);
        Conv2d.BiasGradInto(dys, db);

        var xSlice = ToDouble(x[(Shapes.Numel(bigX) / 4)..(3 * Shapes.Numel(bigX) / 4)]);
        var dySlice = ToDouble(dy[(Shapes.Numel(bigY) / 4)..(3 * Shapes.Numel(bigY) / 4)]);
        AssertClose(Conv2d.Reference.Forward(xSlice, c.XShape, ToDouble(w), c.WShape, null, c.S, c.P), ys.ToArray(), what: "forward of a view");
        AssertClose(Conv2d.Reference.InputGrad(dySlice, c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), dxs.ToArray(), what: "input gradient into a view");
        AssertClose(Conv2d.Reference.WeightGrad(xSlice, c.XShape, dySlice, c.YShape, c.KH, c.KW, c.S, c.P), dw.ToArray(), what: "weight gradient of views");
        AssertClose(Conv2d.Reference.BiasGrad(dySlice, c.YShape), db.ToArray(), what: "bias gradient of a view");
        foreach (var (all, name) in new[] { (yAll.ToArray(), "y"), (dxAll.ToArray(), "dx") })
        {
            int quarter = all.Length / 4;
            Assert.All(all[..quarter], v => Assert.True(float.IsNaN(v), $"{name}: sample 0 was written"));
            Assert.All(all[(3 * quarter)..], v => Assert.True(float.IsNaN(v), $"{name}: sample 3 was written"));
        }
    }

    /// <summary>An empty batch: empty outputs, and a weight gradient of zeros (nothing contributed), not the poison.</summary>
    [Theory, MemberData(nameof(Devices))]
    public void EmptyBatch(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        using var x = Tensor.Zeros(d, 0, 3, 5, 5);
        using var w = Tensor.Ones(d, 2, 3, 3, 3);
        using var y = Conv2d.Forward(x, w, null, 1, 0);
        Assert.Equal([0, 2, 3, 3], y.Shape);
        using var dw = Poisoned(d, 2, 3, 3, 3);
        Conv2d.WeightGradInto(x, y, 3, 3, 1, 0, dw);
        Assert.All(dw.ToArray(), v => Assert.Equal(0f, v));
        using var db = Conv2d.BiasGrad(y);
        Assert.All(db.ToArray(), v => Assert.Equal(0f, v));
    }

    /// <summary>A DCGAN critic layer at its real size: 64 -> 128 channels, 16x16 -> 8x8, 4x4 kernel, stride 2, padding 1, batch 4.</summary>
    [Fact]
    public void DcganCriticLayerOnCpu()
    {
        var d = Device.Cpu;
        var rng = new Random(17);
        var c = new ConvCase(4, 64, 128, 16, 16, 4, 4, 2, 1);
        var x = Random(rng, Shapes.Numel(c.XShape));
        var w = Random(rng, Shapes.Numel(c.WShape), -0.05f, 0.05f);
        var b = Random(rng, c.O);
        var dy = Random(rng, Shapes.Numel(c.YShape));
        using var xt = Make(x, c.XShape, d);
        using var wt = Make(w, c.WShape, d);
        using var bt = Make(b, [c.O], d);
        using var dyt = Make(dy, c.YShape, d);
        using var y = Poisoned(d, c.YShape);
        using var dx = Poisoned(d, c.XShape);
        using var dw = Poisoned(d, c.WShape);
        using var db = Poisoned(d, c.O);
        Conv2d.ForwardInto(xt, wt, bt, c.S, c.P, y);
        Conv2d.InputGradInto(dyt, wt, c.H, c.W, c.S, c.P, dx);
        Conv2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw);
        Conv2d.BiasGradInto(dyt, db);
        // Sums of 1024 (forward), 128*16/4 (input gradient) and 256 (weight gradient) float32 products.
        AssertClose(Conv2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P), y.ToArray(), atol: 1e-4, what: "DCGAN forward");
        AssertClose(Conv2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.H, c.W, c.S, c.P), dx.ToArray(), atol: 1e-4, what: "DCGAN input gradient");
        AssertClose(Conv2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P), dw.ToArray(), atol: 1e-4, what: "DCGAN weight gradient");
        AssertClose(Conv2d.Reference.BiasGrad(ToDouble(dy), c.YShape), db.ToArray(), atol: 1e-4, what: "DCGAN bias gradient");
    }

    // ================================================================ bad input

    [Fact]
    public void ChannelMismatchNamesTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 7, 9);
        using var w = Tensor.Zeros(Device.Cpu, 4, 5, 3, 3);
        var e = Assert.Throws<TensorShapeException>(() => Conv2d.Forward(x, w, null, 1, 1));
        Assert.Contains("Conv2d.Forward", e.Message);
        Assert.Contains("[2, 3, 7, 9]", e.Message);
        Assert.Contains("[4, 5, 3, 3]", e.Message);

        using var dy = Tensor.Zeros(Device.Cpu, 2, 3, 7, 9);
        e = Assert.Throws<TensorShapeException>(() => Conv2d.InputGrad(dy, w, 7, 9, 1, 1));
        Assert.Contains("Conv2d.InputGrad", e.Message);
        Assert.Contains("[4, 5, 3, 3]", e.Message);
    }

    [Fact]
    public void KernelLargerThanPaddedInputIsRefused()
    {
        using var x = Tensor.Zeros(Device.Cpu, 1, 1, 3, 3);
        using var w = Tensor.Zeros(Device.Cpu, 1, 1, 5, 5);
        var e = Assert.Throws<TensorShapeException>(() => Conv2d.Forward(x, w, null, 1, 0));
        Assert.Contains("Conv2d.Forward", e.Message);
        Assert.Contains("5x5", e.Message);
        Assert.Contains("3x3", e.Message);
        using var ok = Conv2d.Forward(x, w, null, 1, 1); // with padding 1 the 5x5 kernel fits
        Assert.Equal([1, 1, 1, 1], ok.Shape);

        using var dy = Tensor.Zeros(Device.Cpu, 1, 1, 1, 1);
        e = Assert.Throws<TensorShapeException>(() => Conv2d.WeightGrad(x, dy, 5, 5, 1, 0));
        Assert.Contains("Conv2d.WeightGrad", e.Message);
    }

    [Fact]
    public void GradientShapesThatDoNotFitAreRefused()
    {
        using var w = Tensor.Zeros(Device.Cpu, 4, 3, 3, 3);
        using var dy = Tensor.Zeros(Device.Cpu, 2, 4, 5, 5);
        var e = Assert.Throws<TensorShapeException>(() => Conv2d.InputGrad(dy, w, 9, 9, 1, 0)); // 9x9 gives 7x7
        Assert.Contains("Conv2d.InputGrad", e.Message);
        Assert.Contains("7x7", e.Message);

        using var x = Tensor.Zeros(Device.Cpu, 3, 3, 7, 7);
        e = Assert.Throws<TensorShapeException>(() => Conv2d.WeightGrad(x, dy, 3, 3, 1, 0));
        Assert.Contains("batch", e.Message);

        using var x2 = Tensor.Zeros(Device.Cpu, 2, 3, 7, 7);
        using var bias = Tensor.Zeros(Device.Cpu, 3);
        e = Assert.Throws<TensorShapeException>(() => Conv2d.Forward(x2, w, bias, 1, 0));
        Assert.Contains("bias", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Conv2d.Forward(x2, w, null, 0, 0));
    }

    [Fact]
    public void MixingDevicesIsRefused()
    {
        using var x = Tensor.Zeros(Device.Cpu, 1, 3, 5, 5);
        using var w = Tensor.Zeros(Device.Get("ilgpu-cpu"), 2, 3, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => Conv2d.Forward(x, w, null, 1, 1));
        Assert.Contains("Conv2d.Forward", e.Message);
        Assert.Contains("different devices", e.Message);
        Assert.Contains("ilgpu-cpu", e.Message);
    }
}
