using NativeGan.Nn;

namespace NativeGan.Tests.Nn;

/// <summary>
/// The patch layers (kernel = stride along one axis) against float64 loops of a convolution's definition: values and
/// the gradients of L = sum(y · R) for x, weight and bias, at odd sizes along both axes; and their double backward: a
/// gradient penalty through them reaches the weights as it does through the engine's own Conv2d / ConvTranspose2d.
/// </summary>
public class PatchLayerTests
{
    static float[] Random(Random rng, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1))];

    static void AssertClose(double[] expected, float[] actual, string what, double tol = 1e-4)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tol * (1 + Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]}");
    }

    [Theory]
    [InlineData(PatchAxis.Height)]
    [InlineData(PatchAxis.Width)]
    public void PatchConv_matches_the_reference_in_values_and_gradients(PatchAxis axis)
    {
        var rng = new Random(3);
        int n = 2, c = 3, o = 5, k = 3;
        int h = axis == PatchAxis.Height ? 3 * k : 7, w = axis == PatchAxis.Width ? 3 * k : 7;
        int oh = axis == PatchAxis.Height ? h / k : h, ow = axis == PatchAxis.Width ? w / k : w;
        var xv = Random(rng, n * c * h * w);
        var r = Random(rng, n * o * oh * ow);
        using var layer = new PatchConv(c, o, k, axis, rng: new Rng(4));
        var wv = layer.Weight.ToArray();
        var bv = layer.Bias!.ToArray();
        using var x = Tensor.FromArray(xv, [n, c, h, w], Device.Cpu);
        x.RequiresGrad = true;
        float[] y;
        using (new TensorScope())
        {
            var yt = layer.Forward(x);
            Assert.Equal([n, o, oh, ow], yt.Shape);
            y = yt.ToArray();
            using var rt = Tensor.FromArray(r, yt.Shape, Device.Cpu);
            yt.Mul(rt).Sum().Backward();
        }

        // y[n, o, i, j] = b[o] + sum_c sum_q x[n, c, at(i, j, q)] W[o, c, q], the window along the axis.
        var ey = new double[y.Length];
        var dx = new double[xv.Length];
        var dw = new double[wv.Length];
        var db = new double[bv.Length];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int i = 0; i < oh; i++)
                    for (int j = 0; j < ow; j++)
                    {
                        int yi = ((b * o + oc) * oh + i) * ow + j;
                        double s = bv[oc];
                        db[oc] += r[yi];
                        for (int ic = 0; ic < c; ic++)
                            for (int q = 0; q < k; q++)
                            {
                                int xh = axis == PatchAxis.Height ? i * k + q : i, xw = axis == PatchAxis.Width ? j * k + q : j;
                                int xi = ((b * c + ic) * h + xh) * w + xw, wi = (oc * c + ic) * k + q;
                                s += xv[xi] * (double)wv[wi];
                                dx[xi] += r[yi] * (double)wv[wi];
                                dw[wi] += r[yi] * (double)xv[xi];
                            }
                        ey[yi] = s;
                    }
        AssertClose(ey, y, "y");
        AssertClose(dx, x.Grad!.ToArray(), "dx");
        AssertClose(dw, layer.Weight.Grad!.ToArray(), "dW");
        AssertClose(db, layer.Bias.Grad!.ToArray(), "db");
    }

    [Theory]
    [InlineData(PatchAxis.Height)]
    [InlineData(PatchAxis.Width)]
    public void PatchConvTranspose_matches_the_reference_in_values_and_gradients(PatchAxis axis)
    {
        var rng = new Random(5);
        int n = 3, c = 5, o = 3, k = 7, h = 3, w = 2;
        int oh = axis == PatchAxis.Height ? h * k : h, ow = axis == PatchAxis.Width ? w * k : w;
        var xv = Random(rng, n * c * h * w);
        var r = Random(rng, n * o * oh * ow);
        using var layer = new PatchConvTranspose(c, o, k, axis, rng: new Rng(6));
        var wv = layer.Weight.ToArray();
        var bv = layer.Bias!.ToArray();
        using var x = Tensor.FromArray(xv, [n, c, h, w], Device.Cpu);
        x.RequiresGrad = true;
        float[] y;
        using (new TensorScope())
        {
            var yt = layer.Forward(x);
            Assert.Equal([n, o, oh, ow], yt.Shape);
            y = yt.ToArray();
            using var rt = Tensor.FromArray(r, yt.Shape, Device.Cpu);
            yt.Mul(rt).Sum().Backward();
        }

        // y[n, o, at(i, j, q)] = b[o] + sum_c x[n, c, i, j] W[c, o, q]: each input cell spread over k output cells.
        var ey = new double[y.Length];
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < o; oc++)
                for (int p = 0; p < oh * ow; p++) ey[(b * o + oc) * oh * ow + p] = bv[oc];
        var dx = new double[xv.Length];
        var dw = new double[wv.Length];
        var db = new double[bv.Length];
        for (int i = 0; i < ey.Length; i++) db[i / (oh * ow) % o] += r[i];
        for (int b = 0; b < n; b++)
            for (int ic = 0; ic < c; ic++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                        for (int oc = 0; oc < o; oc++)
                            for (int q = 0; q < k; q++)
                            {
                                int yh = axis == PatchAxis.Height ? i * k + q : i, yw = axis == PatchAxis.Width ? j * k + q : j;
                                int xi = ((b * c + ic) * h + i) * w + j, yi = ((b * o + oc) * oh + yh) * ow + yw, wi = (ic * o + oc) * k + q;
                                ey[yi] += xv[xi] * (double)wv[wi];
                                dx[xi] += r[yi] * (double)wv[wi];
                                dw[wi] += r[yi] * (double)xv[xi];
                            }
        AssertClose(ey, y, "y");
        AssertClose(dx, x.Grad!.ToArray(), "dx");
        AssertClose(dw, layer.Weight.Grad!.ToArray(), "dW");
        AssertClose(db, layer.Bias.Grad!.ToArray(), "db");
    }

    /// <summary>
    /// WGAN-GP's penalty through a patch layer (then tanh and a sum per sample) gives its weights the gradient it gives
    /// the same map as the engine's Conv2d (kernel k x 1, stride k on a width-1 input) or ConvTranspose2d, whose double
    /// backward is its own: the penalty's second-order path reaches the weights, and correctly.
    /// </summary>
    [Fact]
    public void A_gradient_penalty_through_patch_layers_reaches_the_weights_as_through_convolutions()
    {
        var rng = new Random(7);
        int n = 3, c = 2, o = 3, k = 3, h = 9;
        var real = Random(rng, n * c * h);
        var fake = Random(rng, n * c * h);

        float[] PenaltyGrad(Tensor weight, Func<Tensor, Tensor> forward)
        {
            using var r = Tensor.FromArray(real, [n, c, h, 1], Device.Cpu);
            using var f = Tensor.FromArray(fake, [n, c, h, 1], Device.Cpu);
            weight.ZeroGrad();
            using (new TensorScope())
            {
                Tensor Critic(Tensor x) => Ops.Reshape(forward(x).Tanh(), x.Dim(0), -1).Sum([1], keepDims: true);
                Losses.GradientPenalty(Critic, r, f, new Rng(8), 10f).Backward();
            }
            var g = weight.Grad!.ToArray();
            Assert.Contains(g, v => Math.Abs(v) > 1e-4);
            return g;
        }

        using var patch = new PatchConv(c, o, k, PatchAxis.Height, rng: new Rng(9));
        using var convWeight = Tensor.FromArray(patch.Weight.ToArray(), [o, c, k, 1], Device.Cpu);
        convWeight.RequiresGrad = true;
        var viaPatch = PenaltyGrad(patch.Weight, x => patch.Forward(x));
        var viaConv = PenaltyGrad(convWeight, x => x.Conv2d(convWeight, patch.Bias, k));
        AssertClose([.. viaConv.Select(v => (double)v)], viaPatch, "dGP/dW (patch conv)", 1e-3);

        using var up = new PatchConvTranspose(c, o, k, PatchAxis.Height, rng: new Rng(11));
        using var upWeight = Tensor.FromArray(up.Weight.ToArray(), [c, o, k, 1], Device.Cpu);
        upWeight.RequiresGrad = true;
        // The transposed layer grows H: feed it inputs of height h / k.
        real = real[..(n * c * h / k)];
        fake = fake[..(n * c * h / k)];
        h /= k;
        var viaUp = PenaltyGrad(up.Weight, x => up.Forward(x));
        var viaConvT = PenaltyGrad(upWeight, x => x.ConvTranspose2d(upWeight, up.Bias, k));
        AssertClose([.. viaConvT.Select(v => (double)v)], viaUp, "dGP/dW (patch transposed)", 1e-3);
    }
}
