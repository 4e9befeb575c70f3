using NativeGan;
using static NativeGan.Tests.Numerics;

namespace NativeGan.Tests.Kernels;

/// <summary>One transposed convolution's sizes: x [N, Ci, H, W], w [Ci, Co, KH, KW], stride S, padding P, output padding Op.</summary>
public readonly record struct ConvTCase(int N, int Ci, int Co, int H, int W, int KH, int KW, int S, int P, int Op)
{
    public int OH => (H - 1) * S - 2 * P + KH + Op;
    public int OW => (W - 1) * S - 2 * P + KW + Op;
    public int[] XShape => [N, Ci, H, W];
    public int[] WShape => [Ci, Co, KH, KW];
    public int[] YShape => [N, Co, OH, OW];
    public override string ToString() => $"x [{N}, {Ci}, {H}, {W}] w [{Ci}, {Co}, {KH}, {KW}] stride {S} padding {P} output padding {Op}";

    static readonly (int KH, int KW)[] Kernels = [(1, 1), (3, 3), (4, 4), (4, 3)];

    /// <summary>cpu: channels 1, 3, 5 in and out, four kernels, stride 1 and 2 (output padding 0 and 1), padding 0..2,
    /// on a 5x7 input; cases with an empty output are left out. ilgpu-cpu: a handful of tiny ones.</summary>
    public static IEnumerable<ConvTCase> For(Device d)
    {
        if (TestDevices.IsSlow(d))
        {
            yield return new(1, 1, 1, 3, 4, 3, 3, 1, 1, 0);
            yield return new(3, 3, 5, 4, 5, 4, 4, 2, 1, 0);
            yield return new(2, 5, 3, 3, 3, 3, 4, 2, 0, 1);
            yield return new(1, 3, 1, 4, 3, 1, 1, 1, 0, 0);
            yield return new(3, 1, 3, 3, 4, 4, 3, 2, 2, 1);
            yield break;
        }
        int i = 0;
        foreach (int ci in new[] { 1, 3, 5 })
            foreach (int co in new[] { 1, 3, 5 })
                foreach (var (kh, kw) in Kernels)
                    foreach (int s in new[] { 1, 2 })
                        foreach (int p in new[] { 0, 1, 2 })
                        {
                            var c = new ConvTCase(i % 2 == 0 ? 1 : 3, ci, co, 5, 7, kh, kw, s, p, s == 2 ? i / 2 % 2 : 0);
                            i++;
                            if (c.OH >= 1 && c.OW >= 1) yield return c;
                        }
    }
}

public class ConvTranspose2dTests
{
    public static TheoryData<string> Devices => TestDevices.All;

    static Tensor Make(float[] data, int[] shape, Device d) => Tensor.FromArray(data, shape, d);

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void ForwardMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(21);
        int k = 0;
        foreach (var c in ConvTCase.For(d))
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var b = k++ % 2 == 0 ? Random(rng, c.Co) : null;
            using var xt = Make(x, c.XShape, d);
            using var wt = Make(w, c.WShape, d);
            using var bt = b is null ? null : Make(b, [c.Co], d);
            using var y = Poisoned(d, c.YShape);
            ConvTranspose2d.ForwardInto(xt, wt, bt, c.S, c.P, c.Op, y);
            var expected = ConvTranspose2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, b is null ? null : ToDouble(b), c.S, c.P, c.Op);
            AssertClose(expected, y.ToArray(), what: $"ConvTranspose2d.Forward {c} bias={b is not null} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void InputGradMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(22);
        foreach (var c in ConvTCase.For(d))
        {
            var dy = Random(rng, Shapes.Numel(c.YShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            using var dyt = Make(dy, c.YShape, d);
            using var wt = Make(w, c.WShape, d);
            using var dx = Poisoned(d, c.XShape);
            ConvTranspose2d.InputGradInto(dyt, wt, c.S, c.P, dx);
            var expected = ConvTranspose2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.S, c.P);
            AssertClose(expected, dx.ToArray(), what: $"ConvTranspose2d.InputGrad {c} on {d.Name}");
        }
    }

    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void WeightGradMatchesFloat64(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(23);
        foreach (var c in ConvTCase.For(d))
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, d);
            using var dyt = Make(dy, c.YShape, d);
            using var dw = Poisoned(d, c.WShape);
            ConvTranspose2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw);
            var expected = ConvTranspose2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P);
            AssertClose(expected, dw.ToArray(), what: $"ConvTranspose2d.WeightGrad {c} on {d.Name}");
        }
    }

    /// <summary>&lt;convT(x, w), dy&gt; = &lt;x, InputGrad(dy, w)&gt; = &lt;w, WeightGrad(x, dy)&gt; on the device's outputs.</summary>
    [Theory, MemberData(nameof(Devices)), Trait("Kernel", "Conv2d.Im2Col"), Trait("Kernel", "Conv2d.Col2Im"), Trait("Kernel", "Conv2d.SwapLeadingAxes")]
    public void GradientsAreAdjointsOfTheForward(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(24);
        ConvTCase[] cases = TestDevices.IsSlow(d)
            ? [new(2, 3, 5, 3, 4, 4, 4, 2, 1, 1), new(1, 5, 1, 4, 4, 3, 3, 1, 0, 0)]
            : [new(3, 3, 5, 5, 7, 4, 4, 2, 1, 1), new(1, 5, 1, 6, 5, 3, 3, 1, 2, 0), new(3, 1, 3, 4, 4, 4, 3, 2, 0, 0), new(4, 16, 8, 8, 8, 4, 4, 2, 1, 0)];
        foreach (var c in cases)
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape));
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, d);
            using var wt = Make(w, c.WShape, d);
            using var dyt = Make(dy, c.YShape, d);
            using var y = ConvTranspose2d.Forward(xt, wt, null, c.S, c.P, c.Op);
            using var dx = ConvTranspose2d.InputGrad(dyt, wt, c.S, c.P);
            using var dw = ConvTranspose2d.WeightGrad(xt, dyt, c.KH, c.KW, c.S, c.P);
            Conv2dTests.AssertAdjoint(y.ToArray(), dy, x, dx.ToArray(), w, dw.ToArray(), $"ConvTranspose2d {c} on {d.Name}");
        }
    }

    /// <summary>The identities themselves, through the public entry points: the transposed convolution's forward and
    /// Conv2d's input gradient (and the other two pairs) give the same numbers for the same tensors.</summary>
    [Theory, MemberData(nameof(Devices))]
    public void IdentitiesWithConv2dHold(string deviceName)
    {
        var d = TestDevices.Get(deviceName);
        var rng = new Random(25);
        var c = new ConvTCase(2, 3, 5, 4, 5, 4, 3, 2, 1, 1);
        var x = Random(rng, Shapes.Numel(c.XShape));
        var w = Random(rng, Shapes.Numel(c.WShape));
        var dy = Random(rng, Shapes.Numel(c.YShape));
        using var xt = Make(x, c.XShape, d);
        using var wt = Make(w, c.WShape, d);
        using var dyt = Make(dy, c.YShape, d);
        using (var a = ConvTranspose2d.Forward(xt, wt, null, c.S, c.P, c.Op))
        using (var b = Conv2d.InputGrad(xt, wt, c.OH, c.OW, c.S, c.P))
            Assert.Equal(a.ToArray(), b.ToArray());
        using (var a = ConvTranspose2d.InputGrad(dyt, wt, c.S, c.P))
        using (var b = Conv2d.Forward(dyt, wt, null, c.S, c.P))
            Assert.Equal(a.ToArray(), b.ToArray());
        using (var a = ConvTranspose2d.WeightGrad(xt, dyt, c.KH, c.KW, c.S, c.P))
        using (var b = Conv2d.WeightGrad(dyt, xt, c.KH, c.KW, c.S, c.P))
            Assert.Equal(a.ToArray(), b.ToArray());
    }

    /// <summary>DCGAN generator layers at real size: 128 -> 64 channels, 8x8 -> 16x16 (4x4, stride 2, padding 1), and the
    /// projection of a 100-d latent to 4x4 (4x4, stride 1, padding 0), batch 2 (the critic test has batch 4).</summary>
    [Fact]
    public void DcganGeneratorLayersOnCpu()
    {
        var d = Device.Cpu;
        var rng = new Random(26);
        foreach (var c in new[] { new ConvTCase(2, 128, 64, 8, 8, 4, 4, 2, 1, 0), new ConvTCase(2, 100, 64, 1, 1, 4, 4, 1, 0, 0) })
        {
            var x = Random(rng, Shapes.Numel(c.XShape));
            var w = Random(rng, Shapes.Numel(c.WShape), -0.05f, 0.05f);
            var b = Random(rng, c.Co);
            var dy = Random(rng, Shapes.Numel(c.YShape));
            using var xt = Make(x, c.XShape, d);
            using var wt = Make(w, c.WShape, d);
            using var bt = Make(b, [c.Co], d);
            using var dyt = Make(dy, c.YShape, d);
            using var y = Poisoned(d, c.YShape);
            using var dx = Poisoned(d, c.XShape);
            using var dw = Poisoned(d, c.WShape);
            ConvTranspose2d.ForwardInto(xt, wt, bt, c.S, c.P, c.Op, y);
            ConvTranspose2d.InputGradInto(dyt, wt, c.S, c.P, dx);
            ConvTranspose2d.WeightGradInto(xt, dyt, c.KH, c.KW, c.S, c.P, dw);
            AssertClose(ConvTranspose2d.Reference.Forward(ToDouble(x), c.XShape, ToDouble(w), c.WShape, ToDouble(b), c.S, c.P, c.Op), y.ToArray(), atol: 1e-4, what: $"DCGAN forward {c}");
            AssertClose(ConvTranspose2d.Reference.InputGrad(ToDouble(dy), c.YShape, ToDouble(w), c.WShape, c.S, c.P), dx.ToArray(), atol: 1e-4, what: $"DCGAN input gradient {c}");
            AssertClose(ConvTranspose2d.Reference.WeightGrad(ToDouble(x), c.XShape, ToDouble(dy), c.YShape, c.KH, c.KW, c.S, c.P), dw.ToArray(), atol: 1e-4, what: $"DCGAN weight gradient {c}");
        }
    }

    // ================================================================ bad input

    [Fact]
    public void ChannelMismatchNamesTheOpAndShapes()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 4, 5);
        using var w = Tensor.Zeros(Device.Cpu, 4, 2, 3, 3);
        var e = Assert.Throws<TensorShapeException>(() => ConvTranspose2d.Forward(x, w, null, 2, 1));
        Assert.Contains("ConvTranspose2d.Forward", e.Message);
        Assert.Contains("[2, 3, 4, 5]", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);

        using var dy = Tensor.Zeros(Device.Cpu, 2, 3, 7, 9);
        e = Assert.Throws<TensorShapeException>(() => ConvTranspose2d.InputGrad(dy, w, 2, 1));
        Assert.Contains("ConvTranspose2d.InputGrad", e.Message);
        Assert.Contains("[4, 2, 3, 3]", e.Message);
    }

    [Fact]
    public void OutputPaddingMustBeBelowTheStride()
    {
        using var x = Tensor.Zeros(Device.Cpu, 1, 2, 4, 4);
        using var w = Tensor.Zeros(Device.Cpu, 2, 3, 3, 3);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => ConvTranspose2d.Forward(x, w, null, 2, 1, outputPadding: 2));
        Assert.Contains("ConvTranspose2d.Forward", e.Message);
        Assert.Contains("stride 2", e.Message);
        using var y = ConvTranspose2d.Forward(x, w, null, 2, 1, outputPadding: 1);
        Assert.Equal([1, 3, 8, 8], y.Shape);
    }

    [Fact]
    public void EmptyOutputAndMismatchedGradientsAreRefused()
    {
        using var x = Tensor.Zeros(Device.Cpu, 1, 2, 1, 1);
        using var w = Tensor.Zeros(Device.Cpu, 2, 3, 1, 1);
        var e = Assert.Throws<TensorShapeException>(() => ConvTranspose2d.Forward(x, w, null, 1, 1)); // 1x1 - 2 padding
        Assert.Contains("ConvTranspose2d.Forward", e.Message);
        Assert.Contains("[1, 2, 1, 1]", e.Message);

        using var x2 = Tensor.Zeros(Device.Cpu, 1, 2, 4, 4);
        using var dy = Tensor.Zeros(Device.Cpu, 1, 3, 5, 5);
        e = Assert.Throws<TensorShapeException>(() => ConvTranspose2d.WeightGrad(x2, dy, 3, 3, 2, 1)); // should be 7x7 or 8x8
        Assert.Contains("ConvTranspose2d.WeightGrad", e.Message);
        Assert.Contains("7x7", e.Message);
    }

    [Fact]
    public void MixingDevicesIsRefused()
    {
        using var x = Tensor.Zeros(Device.Get("ilgpu-cpu"), 1, 2, 3, 3);
        using var w = Tensor.Zeros(Device.Cpu, 2, 3, 3, 3);
        var e = Assert.Throws<ArgumentException>(() => ConvTranspose2d.Forward(x, w, null, 1, 0));
        Assert.Contains("ConvTranspose2d.Forward", e.Message);
        Assert.Contains("different devices", e.Message);
    }
}
