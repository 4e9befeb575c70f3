using NativeGan;
using NativeGan.Gan.Autoencoders;
using NativeGan.Nn;

namespace NativeGan.Tests.Autoencoders;

/// <summary>
/// The penalty and likelihood terms against hand computations in float64 on tiny inputs: sparse L1 and
/// KL-to-rate, the contractive penalty (closed form, autodiff and central finite differences of the
/// Jacobian agree, and so do the gradients the two forms give the weights), the VAE's KL and
/// reparameterisation, the Bernoulli and Gaussian negative log-likelihoods, and the corruptions.
/// </summary>
public class AutoencoderLossTests
{
    [Fact]
    public void SparseL1IsBetaTimesTheMeanPerSampleSumOfAbsoluteCodes()
    {
        var h = Numerics.Random(new Random(1), 3 * 5);
        using var t = Tensor.FromArray(h, [3, 5]);
        using var p = AutoencoderLosses.SparseL1(t, 0.3f);
        double expected = 0.3 * h.Sum(v => Math.Abs((double)v)) / 3;
        Assert.Equal(expected, p.Item(), 5);
    }

    [Fact]
    public void SparseKlIsTheBernoulliKlOfEachUnitsBatchRate()
    {
        const int n = 5, k = 4;
        const double rho = 0.1, beta = 0.7;
        var h = Numerics.Random(new Random(2), n * k, 0.01f, 0.99f);
        using var t = Tensor.FromArray(h, [n, k]);
        using var p = AutoencoderLosses.SparseKl(t, (float)rho, (float)beta);
        double expected = 0, eps = AutoencoderLosses.KlEps;
        for (int j = 0; j < k; j++)
        {
            double rate = 0;
            for (int i = 0; i < n; i++) rate += h[i * k + j];
            rate /= n;
            expected += rho * Math.Log(rho / (rate + eps)) + (1 - rho) * Math.Log((1 - rho) / (1 - rate + eps));
        }
        Assert.Equal(beta * expected, p.Item(), 4);

        // Zero when every unit already fires at the target rate.
        using var atRate = Tensor.Full(Device.Cpu, (float)rho, n, k);
        using var zero = AutoencoderLosses.SparseKl(atRate, (float)rho, 1f);
        Assert.True(Math.Abs(zero.Item()) < 1e-4, $"KL at the target rate is {zero.Item()}");
    }

    [Fact]
    public void MeanActivationIsTheMeanCode()
    {
        var h = Numerics.Random(new Random(3), 12, 0f, 1f);
        using var t = Tensor.FromArray(h, [3, 4]);
        Assert.Equal(h.Average(v => (double)v), AutoencoderLosses.MeanActivation(t), 5);
    }

    // ------------------------------------------------------------------ contractive

    const int N = 3, D = 5, K = 4, Hid = 3;

    /// <summary>The float64 encoder: h = sigmoid(W2 a + b2) with a = x (one layer) or a = tanh(W1 x + b1) (two layers).</summary>
    static double[] Encode64(double[] x, double[][] p, bool twoLayers)
    {
        double[] a = x;
        int width = D;
        if (twoLayers)
        {
            a = new double[Hid];
            for (int i = 0; i < Hid; i++)
            {
                double s = p[3][i];
                for (int d = 0; d < D; d++) s += p[2][i * D + d] * x[d];
                a[i] = Math.Tanh(s);
            }
            width = Hid;
        }
        var h = new double[K];
        for (int k = 0; k < K; k++)
        {
            double s = p[1][k];
            for (int i = 0; i < width; i++) s += p[0][k * width + i] * a[i];
            h[k] = 1 / (1 + Math.Exp(-s));
        }
        return h;
    }

    /// <summary>mean over samples of ||dh/dx||_F^2 by central differences of the float64 encoder (step 1e-6).</summary>
    static double JacobianNormFd(double[] x, double[][] p, bool twoLayers)
    {
        const double step = 1e-6;
        double total = 0;
        for (int n = 0; n < N; n++)
            for (int d = 0; d < D; d++)
            {
                var plus = x.Skip(n * D).Take(D).ToArray();
                var minus = (double[])plus.Clone();
                plus[d] += step;
                minus[d] -= step;
                var hp = Encode64(plus, p, twoLayers);
                var hm = Encode64(minus, p, twoLayers);
                for (int k = 0; k < K; k++) total += Math.Pow((hp[k] - hm[k]) / (2 * step), 2);
            }
        return total / N;
    }

    static (DeterministicEncoder Encoder, double[][] P64, float[] X) MakeEncoder(bool twoLayers, int seed)
    {
        var rng = new Random(seed);
        var x = Numerics.Random(rng, N * D, -2f, 2f);
        Module body = twoLayers ? new Sequential(new Linear(D, Hid), new NativeGan.Nn.Tanh()) : new Sequential();
        var encoder = new DeterministicEncoder(body, new Linear(twoLayers ? Hid : D, K), CodeActivation.Sigmoid);
        // Overwrite the default init with known values (so the float64 encoder sees the same numbers).
        var named = encoder.StateDict();
        float[] Fill(string name)
        {
            var v = Numerics.Random(rng, named[name].Length, -1.5f, 1.5f);
            using var src = Tensor.FromArray(v, named[name].Shape);
            named[name].CopyFrom(src);
            return v;
        }
        var p = new List<double[]> { Numerics.ToDouble(Fill("code.weight")), Numerics.ToDouble(Fill("code.bias")) };
        if (twoLayers) { p.Add(Numerics.ToDouble(Fill("body.0.weight"))); p.Add(Numerics.ToDouble(Fill("body.0.bias"))); }
        return (encoder, p.ToArray(), x);
    }

    [Fact]
    public void ContractiveClosedFormAutodiffAndFiniteDifferencesAgree()
    {
        var (encoder, p64, x32) = MakeEncoder(twoLayers: false, seed: 4);
        using var _ = encoder;
        using var scope = new TensorScope();
        var x = Tensor.FromArray(x32, [N, D]);
        x.RequiresGrad = true;
        var h = encoder.Forward(x);
        var closed = AutoencoderLosses.ContractiveClosedForm(h, encoder.Code.Weight);
        var auto = AutoencoderLosses.ContractiveAutodiff(h, x);
        double fd = JacobianNormFd(Numerics.ToDouble(x32), p64, twoLayers: false);
        Assert.Equal(fd, closed.Item(), 4);
        Assert.Equal(fd, auto.Item(), 4);

        // Both forms are differentiable and give the weights the same gradient.
        var w = encoder.Code.Weight;
        var gClosed = Autograd.Grad([closed], [w, encoder.Code.Bias!], retainGraph: true);
        var gAuto = Autograd.Grad([auto], [w, encoder.Code.Bias!]);
        Numerics.AssertClose(Numerics.ToDouble(gClosed[0].ToArray()), gAuto[0].ToArray(), 1e-3, 1e-5, "dJ/dW");
        Numerics.AssertClose(Numerics.ToDouble(gClosed[1].ToArray()), gAuto[1].ToArray(), 1e-3, 1e-5, "dJ/db");
        x.Dispose();
    }

    [Fact]
    public void ContractiveAutodiffIsExactForADeeperEncoder()
    {
        var (encoder, p64, x32) = MakeEncoder(twoLayers: true, seed: 5);
        using var _ = encoder;
        using var scope = new TensorScope();
        var x = Tensor.FromArray(x32, [N, D]);
        x.RequiresGrad = true;
        var h = encoder.Forward(x);
        var auto = AutoencoderLosses.ContractiveAutodiff(h, x);
        Assert.Equal(JacobianNormFd(Numerics.ToDouble(x32), p64, twoLayers: true), auto.Item(), 4);

        // Its weight gradient against central differences of the float64 penalty.
        var g = Autograd.Grad([auto], [encoder.Code.Weight])[0].ToArray();
        var fd = new double[g.Length];
        for (int i = 0; i < g.Length; i++)
        {
            const double step = 1e-4;
            var plus = p64.Select(a => (double[])a.Clone()).ToArray();
            var minus = p64.Select(a => (double[])a.Clone()).ToArray();
            plus[0][i] += step;
            minus[0][i] -= step;
            fd[i] = (JacobianNormFd(Numerics.ToDouble(x32), plus, true) - JacobianNormFd(Numerics.ToDouble(x32), minus, true)) / (2 * step);
        }
        Numerics.AssertClose(fd, g, 5e-3, 5e-4, "d||J||^2/dW2");
        x.Dispose();
    }

    // ------------------------------------------------------------------ VAE

    [Fact]
    public void GaussianKlEqualsTheClosedForm()
    {
        var rng = new Random(6);
        var mu = Numerics.Random(rng, 4 * 3, -2f, 2f);
        var lv = Numerics.Random(rng, 4 * 3, -3f, 1.5f);
        using var tMu = Tensor.FromArray(mu, [4, 3]);
        using var tLv = Tensor.FromArray(lv, [4, 3]);
        using var kl = Losses.GaussianKl(tMu, tLv);
        // KL(N(m, s^2) || N(0, 1)) = log(1/s) + (s^2 + m^2) / 2 - 1/2 per dimension, summed, mean over the batch.
        double expected = 0;
        for (int i = 0; i < mu.Length; i++)
        {
            double s2 = Math.Exp(lv[i]);
            expected += -0.5 * lv[i] + (s2 + (double)mu[i] * mu[i]) / 2 - 0.5;
        }
        Assert.Equal(expected / 4, kl.Item(), 4);
    }

    [Fact]
    public void ReparameterisationUsesTheJobsStreamAndPassesGradients()
    {
        var rng = new Random(7);
        var mu = Numerics.Random(rng, 6);
        var lv = Numerics.Random(rng, 6);
        using var scope = new TensorScope();
        var tMu = Tensor.FromArray(mu, [2, 3]);
        var tLv = Tensor.FromArray(lv, [2, 3]);
        tMu.RequiresGrad = tLv.RequiresGrad = true;
        var stream = new Rng(42, 1000);
        var z = AutoencoderLosses.Reparameterise(tMu, tLv, stream);
        Assert.Equal(1006UL, stream.Offset);
        var eps = RandomOps.Normal(Device.Cpu, [2, 3], 42, 1000).ToArray();
        var expected = Enumerable.Range(0, 6).Select(i => mu[i] + Math.Exp(lv[i] / 2.0) * eps[i]).ToArray();
        Numerics.AssertClose(expected, z.ToArray(), 1e-5, 1e-6, "z");
        // dz/dmu = 1, dz/dlogVar = exp(logVar/2) eps / 2.
        var g = Autograd.Grad([z.Sum()], [tMu, tLv]);
        Assert.All(g[0].ToArray(), v => Assert.Equal(1f, v, 6));
        Numerics.AssertClose(Enumerable.Range(0, 6).Select(i => Math.Exp(lv[i] / 2.0) * eps[i] / 2).ToArray(), g[1].ToArray(), 1e-5, 1e-6, "dz/dlogVar");
        tMu.Dispose(); tLv.Dispose();
    }

    [Fact]
    public void DecoderNegativeLogLikelihoodsInNatsPerSample()
    {
        var rng = new Random(8);
        var logits = Numerics.Random(rng, 2 * 6, -3f, 3f);
        var x = Numerics.Random(rng, 2 * 6);
        using var tl = Tensor.FromArray(logits, [2, 1, 2, 3]);
        using var tx = Tensor.FromArray(x, [2, 1, 2, 3]);
        double bern = 0, gauss = 0;
        const double sigma = 0.3;
        for (int i = 0; i < x.Length; i++)
        {
            double t = (x[i] + 1) / 2, p = 1 / (1 + Math.Exp(-logits[i]));
            bern += -(t * Math.Log(p) + (1 - t) * Math.Log(1 - p));
            double mean = logits[i] / 3; // any values serve as the Gaussian mean
            gauss += Math.Pow(x[i] - mean, 2) / (2 * sigma * sigma) + 0.5 * Math.Log(2 * Math.PI * sigma * sigma);
        }
        using var b = AutoencoderLosses.BernoulliNll(tl, tx);
        Assert.Equal(bern / 2, b.Item(), 4);
        using var means = tl.Mul(1f / 3);
        using var g = AutoencoderLosses.GaussianNll(means, tx, (float)sigma);
        Assert.Equal(gauss / 2, g.Item(), 3);
    }

    // ------------------------------------------------------------------ corruption

    [Fact]
    public void MaskingNoiseSetsAboutRateOfTheElementsToBlack()
    {
        var x = Numerics.Random(new Random(9), 4000, -0.9f, 0.9f);
        using var t = Tensor.FromArray(x, [40, 100]);
        using var noisy = AutoencoderLosses.Corrupt(t, NoiseKind.Mask, 0.3f, new Rng(3));
        var y = noisy.ToArray();
        int masked = 0;
        for (int i = 0; i < y.Length; i++)
        {
            if (y[i] == -1f) masked++;
            else Assert.True(Math.Abs(x[i] - y[i]) < 1e-6, $"element {i}: {y[i]}, expected {x[i]}");
        }
        Assert.InRange(masked / 4000.0, 0.27, 0.33);
    }

    [Fact]
    public void GaussianNoiseHasTheRequestedStd()
    {
        var x = Numerics.Random(new Random(10), 4000);
        using var t = Tensor.FromArray(x, [4000]);
        using var noisy = AutoencoderLosses.Corrupt(t, NoiseKind.Gaussian, 0.5f, new Rng(4));
        var y = noisy.ToArray();
        var d = y.Select((v, i) => (double)v - x[i]).ToArray();
        double mean = d.Average(), std = Math.Sqrt(d.Select(v => (v - mean) * (v - mean)).Average());
        Assert.InRange(mean, -0.05, 0.05);
        Assert.InRange(std, 0.47, 0.53);
    }
}
