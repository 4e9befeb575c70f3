using NativeGan.Nn;
using NativeGan.Tests.AutogradTests;

namespace NativeGan.Tests.NnTests;

/// <summary>
/// ProGAN's layers: pixel norm (values, gradients and second derivatives against float64 central differences of the
/// paper's formula) and the equalized learning rate (the run-time scale, the init, values against a float64 direct
/// computation, and the weight gradient scaled by the same constant).
/// </summary>
public class ProgressiveLayerTests
{
    /// <summary>y = x / sqrt(mean over channels of x² + eps), per (sample, pixel), for [N, C, ...].</summary>
    static double[] PixelNorm64(double[] x, int[] shape, double eps = 1e-8)
    {
        int n = shape[0], c = shape[1], plane = x.Length / (n * c);
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int p = 0; p < plane; p++)
            {
                double ms = 0;
                for (int k = 0; k < c; k++) ms += x[(i * c + k) * plane + p] * x[(i * c + k) * plane + p];
                double inv = 1 / Math.Sqrt(ms / c + eps);
                for (int k = 0; k < c; k++) y[(i * c + k) * plane + p] = x[(i * c + k) * plane + p] * inv;
            }
        return y;
    }

    static readonly Dictionary<string, OpCase> Cases = new OpCase[]
    {
        new("PixelNorm [3, 5]", [[3, 5]], t => new PixelNorm().Forward(t[0]), x => PixelNorm64(x[0], [3, 5]), AwayFromZero: true),
        new("PixelNorm [2, 3, 2, 3]", [[2, 3, 2, 3]], t => new PixelNorm().Forward(t[0]), x => PixelNorm64(x[0], [2, 3, 2, 3]), AwayFromZero: true),
        new("PixelNorm one channel [4, 1, 1, 3]", [[4, 1, 1, 3]], t => new PixelNorm().Forward(t[0]), x => PixelNorm64(x[0], [4, 1, 1, 3]), AwayFromZero: true),
    }.ToDictionary(c => c.Name);

    public static TheoryData<string, string> DeviceCases
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var d in new[] { "cpu", "ilgpu-cpu" })
                foreach (var c in Cases.Keys) data.Add(d, c);
            return data;
        }
    }

    [Theory, MemberData(nameof(DeviceCases))]
    public void Pixel_norm_and_its_gradient_match_float64(string deviceName, string op) => GradChecker.GradCheck(TestDevices.Get(deviceName), Cases[op]);

    [Theory, MemberData(nameof(DeviceCases))]
    public void Pixel_norm_second_derivatives_match_float64(string deviceName, string op) => GradChecker.GradGradCheck(TestDevices.Get(deviceName), Cases[op]);

    [Fact]
    public void Pixel_norm_refuses_other_ranks()
    {
        using var x = Tensor.Zeros(Device.Cpu, 2, 3, 4);
        Assert.Contains("PixelNorm", Assert.Throws<TensorShapeException>(() => new PixelNorm().Forward(x)).Message);
    }

    [Fact]
    public void Equalized_linear_scales_its_weight_at_run_time()
    {
        var rng = new Rng(3);
        // 7 inputs, 5 outputs, lr multiplier 0.01 (StyleGAN's mapping network): init N(0, 100²), scale sqrt(2)/sqrt(7) * 0.01.
        var layer = new EqualizedLinear(7, 5, lrMultiplier: 0.01f, rng: rng);
        Assert.Equal(Math.Sqrt(2) / Math.Sqrt(7) * 0.01, layer.WeightScale, 6);
        Assert.All(layer.Bias!.ToArray(), b => Assert.Equal(0f, b));
        using (var b = Tensor.FromArray([.. Enumerable.Range(0, 5).Select(i => 0.5f * i - 1)], [5], Device.Cpu)) layer.Bias!.CopyFrom(b);

        var random = new Random(4);
        var x = Numerics.Random(random, 3 * 7);
        var w = layer.Weight.ToArray();
        var bias = layer.Bias!.ToArray();
        using var scope = new TensorScope();
        using var xt = Tensor.FromArray(x, [3, 7], Device.Cpu);
        var y = layer.Forward(xt);
        var expected = new double[15];
        for (int i = 0; i < 3; i++)
            for (int o = 0; o < 5; o++)
            {
                double s = 0.01 * bias[o];
                for (int k = 0; k < 7; k++) s += x[i * 7 + k] * (double)w[o * 7 + k] * layer.WeightScale;
                expected[i * 5 + o] = s;
            }
        Numerics.AssertClose(expected, y.ToArray(), 1e-5, 1e-5, "EqualizedLinear forward");
        // d sum(y) / d W[o, k] = scale * sum_i x[i, k]; d / d b[o] = 0.01 * 3.
        y.Sum().Backward();
        var gw = layer.Weight.Grad!.ToArray();
        for (int o = 0; o < 5; o++)
            for (int k = 0; k < 7; k++)
                Assert.Equal(layer.WeightScale * (x[k] + x[7 + k] + x[14 + k]), gw[o * 7 + k], 5);
        Assert.All(layer.Bias!.Grad!.ToArray(), g => Assert.Equal(0.03f, g, 5));
    }

    [Fact]
    public void Equalized_layers_draw_unit_normal_weights_over_the_multiplier()
    {
        var big = new EqualizedLinear(200, 100, lrMultiplier: 0.5f, rng: new Rng(1)).Weight.ToArray();
        double mean = big.Average(v => (double)v), std = Math.Sqrt(big.Average(v => (v - mean) * (v - mean)));
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(std, 2 * 0.97, 2 * 1.03);
        var conv = new EqualizedConv2d(30, 40, 3, padding: 1, rng: new Rng(2));
        var cw = conv.Weight.ToArray();
        Assert.InRange(Math.Sqrt(cw.Average(v => (double)v * v)), 0.97, 1.03);
        Assert.Equal(Math.Sqrt(2) / Math.Sqrt(30 * 9), conv.WeightScale, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => new EqualizedLinear(2, 2, lrMultiplier: 0f));
    }

    [Fact]
    public void Equalized_conv_matches_a_float64_direct_convolution()
    {
        // [2, 3, 5, 4] input, 4 outputs, kernel 3, stride 2, padding 1: odd sizes and a ragged edge.
        var conv = new EqualizedConv2d(3, 4, 3, stride: 2, padding: 1, rng: new Rng(5));
        using (var b = Tensor.FromArray([0.1f, -0.2f, 0.3f, 0f], [4], Device.Cpu)) conv.Bias!.CopyFrom(b);
        var x = Numerics.Random(new Random(6), 2 * 3 * 5 * 4);
        var w = conv.Weight.ToArray();
        var bias = conv.Bias!.ToArray();
        using var scope = new TensorScope();
        using var xt = Tensor.FromArray(x, [2, 3, 5, 4], Device.Cpu);
        var y = conv.Forward(xt);
        Assert.Equal([2, 4, 3, 2], y.Shape);
        var expected = new double[2 * 4 * 3 * 2];
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < 4; o++)
                for (int r = 0; r < 3; r++)
                    for (int c = 0; c < 2; c++)
                    {
                        double s = bias[o];
                        for (int i = 0; i < 3; i++)
                            for (int kr = 0; kr < 3; kr++)
                                for (int kc = 0; kc < 3; kc++)
                                {
                                    int yr = r * 2 - 1 + kr, xc = c * 2 - 1 + kc;
                                    if (yr < 0 || yr >= 5 || xc < 0 || xc >= 4) continue;
                                    s += x[((n * 3 + i) * 5 + yr) * 4 + xc] * (double)w[((o * 3 + i) * 3 + kr) * 3 + kc] * conv.WeightScale;
                                }
                        expected[((n * 4 + o) * 3 + r) * 2 + c] = s;
                    }
        Numerics.AssertClose(expected, y.ToArray(), 1e-5, 1e-5, "EqualizedConv2d forward");
    }
}
