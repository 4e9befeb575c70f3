using NativeGan;
using NativeGan.Gan.Autoencoders;
using NativeGan.Gan.Data;
using NativeGan.Nn;

namespace NativeGan.Tests.Autoencoders;

/// <summary>
/// Goodfellow et al. 14.1: an undercomplete autoencoder with a linear encoder and decoder trained with MSE
/// learns the same subspace as PCA (Baldi and Hornik 1989). On random correlated data (D = 8, a random 8x8
/// mixing of decaying variances) with k = 3, Adam must reach PCA's optimal reconstruction error (the sum of
/// the D - k smallest covariance eigenvalues, per element) within 1%, and the decoder's column space must lie
/// along the top-3 principal subspace (the cosines of all principal angles above 0.99). PCA is computed here
/// in float64 by Jacobi's eigenvalue iteration.
/// </summary>
public class LinearAutoencoderPcaTests
{
    const int D = 8, K = 3, Count = 400;

    /// <summary>Eigenvalues (descending) and eigenvectors (columns of V, same order) of a symmetric matrix, by cyclic Jacobi rotations.</summary>
    public static (double[] Values, double[,] Vectors) Jacobi(double[,] symmetric)
    {
        int n = symmetric.GetLength(0);
        var a = (double[,])symmetric.Clone();
        var v = new double[n, n];
        for (int i = 0; i < n; i++) v[i, i] = 1;
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < n; p++) for (int q = p + 1; q < n; q++) off += a[p, q] * a[p, q];
            if (off < 1e-30) break;
            for (int p = 0; p < n; p++)
                for (int q = p + 1; q < n; q++)
                {
                    if (Math.Abs(a[p, q]) < 1e-300) continue;
                    // The rotation in the (p, q) plane that zeroes a[p, q] (Golub and Van Loan, 8.5.2).
                    double theta = (a[q, q] - a[p, p]) / (2 * a[p, q]);
                    double t = Math.Sign(theta == 0 ? 1 : theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    double c = 1 / Math.Sqrt(t * t + 1), s = t * c;
                    for (int k = 0; k < n; k++)
                    {
                        double akp = a[k, p], akq = a[k, q];
                        a[k, p] = c * akp - s * akq;
                        a[k, q] = s * akp + c * akq;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double apk = a[p, k], aqk = a[q, k];
                        a[p, k] = c * apk - s * aqk;
                        a[q, k] = s * apk + c * aqk;
                    }
                    for (int k = 0; k < n; k++)
                    {
                        double vkp = v[k, p], vkq = v[k, q];
                        v[k, p] = c * vkp - s * vkq;
                        v[k, q] = s * vkp + c * vkq;
                    }
                }
        }
        var order = Enumerable.Range(0, n).OrderByDescending(i => a[i, i]).ToArray();
        var values = order.Select(i => a[i, i]).ToArray();
        var vectors = new double[n, n];
        for (int j = 0; j < n; j++) for (int i = 0; i < n; i++) vectors[i, j] = v[i, order[j]];
        return (values, vectors);
    }

    [Fact]
    public void JacobiDiagonalisesASymmetricMatrix()
    {
        var rng = new Random(1);
        var m = new double[5, 5];
        for (int i = 0; i < 5; i++) for (int j = 0; j <= i; j++) m[i, j] = m[j, i] = rng.NextDouble() - 0.5;
        var (values, vectors) = Jacobi(m);
        for (int j = 0; j < 5; j++)
            for (int i = 0; i < 5; i++)
            {
                double mv = 0;
                for (int k = 0; k < 5; k++) mv += m[i, k] * vectors[k, j];
                Assert.Equal(values[j] * vectors[i, j], mv, 10);
            }
    }

    /// <summary>x = A s + offset, s ~ N(0, diag(variances)), A a random 8x8 mixing.</summary>
    static float[] CorrelatedData(int seed)
    {
        var rng = new Random(seed);
        double[] variances = [4, 2.5, 1.5, 0.3, 0.2, 0.12, 0.08, 0.05];
        var mix = new double[D, D];
        for (int i = 0; i < D; i++) for (int j = 0; j < D; j++) mix[i, j] = rng.NextDouble() - 0.5;
        var data = new float[Count * D];
        for (int n = 0; n < Count; n++)
        {
            var s = variances.Select(v => Math.Sqrt(v) * Gaussian(rng)).ToArray();
            for (int i = 0; i < D; i++)
            {
                double x = 0.3;
                for (int j = 0; j < D; j++) x += mix[i, j] * s[j];
                data[n * D + i] = (float)x;
            }
        }
        return data;
    }

    static double Gaussian(Random rng) => Math.Sqrt(-2 * Math.Log(1 - rng.NextDouble())) * Math.Cos(2 * Math.PI * rng.NextDouble());

    [Fact]
    public void LinearAutoencoderFindsThePcaSubspace()
    {
        var data = CorrelatedData(2);

        // PCA in float64: the covariance (1/N, centred), its eigenvalues; the best rank-k reconstruction error
        // per element is the sum of the D - k smallest eigenvalues over D.
        var mean = new double[D];
        for (int n = 0; n < Count; n++) for (int i = 0; i < D; i++) mean[i] += data[n * D + i] / (double)Count;
        var cov = new double[D, D];
        for (int n = 0; n < Count; n++)
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                    cov[i, j] += (data[n * D + i] - mean[i]) * (data[n * D + j] - mean[j]) / Count;
        var (values, vectors) = Jacobi(cov);
        double optimum = values.Skip(K).Sum() / D;

        var config = new Dictionary<string, string>
        {
            ["kind"] = "undercomplete", ["data_shape"] = "8", ["code"] = "3", ["hidden"] = "",
            ["code_activation"] = "linear", ["output"] = "linear", ["recon"] = "mse", ["lr"] = "0.02", ["seed"] = "3",
        };
        using var job = (AutoencoderJob)AutoencoderJob.Create(AutoencoderOptions.Parse(config), Device.Cpu);
        using var x = Tensor.FromArray(data, [Count, D]);
        var batch = new Batch(x, null, 0, 0);
        for (int step = 0; step < 2400; step++)
        {
            if (step == 1600) job.Optimizer.LearningRate = 0.002f;
            if (step == 2100) job.Optimizer.LearningRate = 0.0002f;
            job.Step(batch, step);
        }
        double mse = job.Evaluate(new Dataset("correlated", data, [D], null, 0), Count).Mse;
        Assert.True(mse <= optimum * 1.01 && mse >= optimum * 0.999,
            $"linear autoencoder MSE {mse:g6}, PCA optimum {optimum:g6} (ratio {mse / optimum:f4}); eigenvalues {string.Join(", ", values.Select(v => v.ToString("g3")))}");

        // Principal angles between span(decoder columns) and the top-k eigenvectors: the singular values of Q^T U.
        var w = ((Linear)job.Decoder[0]).Weight.ToArray();   // [D, K]
        var q = new double[D, K];
        for (int j = 0; j < K; j++)                          // Gram-Schmidt, twice for stability
        {
            for (int i = 0; i < D; i++) q[i, j] = w[i * K + j];
            for (int pass = 0; pass < 2; pass++)
                for (int m = 0; m < j; m++)
                {
                    double dot = 0;
                    for (int i = 0; i < D; i++) dot += q[i, m] * q[i, j];
                    for (int i = 0; i < D; i++) q[i, j] -= dot * q[i, m];
                }
            double norm = Math.Sqrt(Enumerable.Range(0, D).Sum(i => q[i, j] * q[i, j]));
            for (int i = 0; i < D; i++) q[i, j] /= norm;
        }
        var mtm = new double[K, K];                          // (Q^T U)^T (Q^T U)
        var qtu = new double[K, K];
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                for (int i = 0; i < D; i++) qtu[a, b] += q[i, a] * vectors[i, b];
        for (int a = 0; a < K; a++)
            for (int b = 0; b < K; b++)
                for (int c = 0; c < K; c++) mtm[a, b] += qtu[c, a] * qtu[c, b];
        var cosines = Jacobi(mtm).Values.Select(v => Math.Sqrt(Math.Max(0, v))).ToArray();
        Assert.True(cosines.All(c => c > 0.99), $"principal angle cosines {string.Join(", ", cosines.Select(c => c.ToString("f5")))}");
    }
}
