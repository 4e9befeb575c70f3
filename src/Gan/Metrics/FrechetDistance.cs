namespace NativeGan.Gan.Metrics;

/// <summary>
/// The Fréchet distance between two Gaussians fitted to feature sets (Heusel et al. 2017's FID, here in the
/// feature space of our own MNIST classifier rather than Inception's):
/// d² = ||mu_A - mu_B||² + Tr(S_A + S_B - 2 (S_A S_B)^(1/2)).
/// <para>The product S_A S_B is not symmetric, so its square root is taken through a symmetric matrix with the
/// same eigenvalues: S_A S_B is similar to R S_B R with R = S_A^(1/2) (R^-1 (R R S_B) R = R S_B R), hence
/// Tr((S_A S_B)^(1/2)) = Tr((R S_B R)^(1/2)) = sum_i sqrt(lambda_i(R S_B R)). Both square roots come from the
/// eigendecomposition of a symmetric positive semi-definite matrix (cyclic Jacobi rotations, float64), with
/// eigenvalues rounded below zero clamped to 0. Covariances are the unbiased sample covariances (divide by N - 1),
/// as numpy's <c>np.cov</c> and the reference FID code use.</para>
/// </summary>
public static class FrechetDistance
{
    /// <summary>
    /// d² between the Gaussians fitted to <paramref name="featuresA"/> (NA x D, row-major) and
    /// <paramref name="featuresB"/> (NB x D). Both sets need at least 2 rows.
    /// </summary>
    public static double Compute(float[] featuresA, float[] featuresB, int dimension)
    {
        var (muA, covA) = Fit(featuresA, dimension, "A");
        var (muB, covB) = Fit(featuresB, dimension, "B");
        return Compute(muA, covA, muB, covB);
    }

    /// <summary>d² between N(muA, covA) and N(muB, covB) (covariances D x D, row-major, symmetric PSD).</summary>
    public static double Compute(double[] muA, double[] covA, double[] muB, double[] covB)
    {
        int d = muA.Length;
        if (muB.Length != d || covA.Length != d * d || covB.Length != d * d)
            throw new ArgumentException($"FrechetDistance: dimensions disagree (mu {muA.Length} and {muB.Length}, covariances {covA.Length} and {covB.Length})");
        double meanTerm = 0;
        for (int i = 0; i < d; i++) meanTerm += (muA[i] - muB[i]) * (muA[i] - muB[i]);
        var r = SqrtPsd(covA, d);
        var m = MatMul(MatMul(r, covB, d), r, d);
        Symmetrize(m, d); // rounding leaves R S_B R a few ulps from symmetric
        var (eig, _) = SymmetricEigen(m, d);
        double traceSqrt = eig.Sum(l => Math.Sqrt(Math.Max(0, l)));
        double trace = 0;
        for (int i = 0; i < d; i++) trace += covA[i * d + i] + covB[i * d + i];
        return meanTerm + trace - 2 * traceSqrt;
    }

    /// <summary>The mean and the unbiased covariance (N - 1) of N x D features.</summary>
    public static (double[] Mean, double[] Covariance) Fit(float[] features, int dimension, string name = "")
    {
        if (dimension < 1 || features.Length % dimension != 0 || features.Length / dimension < 2)
            throw new ArgumentException($"FrechetDistance: feature set {name} must be N x {dimension} with N >= 2, got {features.Length} floats");
        int n = features.Length / dimension, d = dimension;
        var mu = new double[d];
        for (int i = 0; i < n; i++) for (int j = 0; j < d; j++) mu[j] += features[i * d + j];
        for (int j = 0; j < d; j++) mu[j] /= n;
        var cov = new double[d * d];
        var centred = new double[d];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < d; j++) centred[j] = features[i * d + j] - mu[j];
            for (int a = 0; a < d; a++)
            {
                double ca = centred[a];
                for (int b = a; b < d; b++) cov[a * d + b] += ca * centred[b];
            }
        }
        for (int a = 0; a < d; a++)
            for (int b = a; b < d; b++) cov[b * d + a] = cov[a * d + b] /= n - 1;
        return (mu, cov);
    }

    /// <summary>The symmetric square root V diag(sqrt(max(lambda, 0))) V^T of a symmetric PSD matrix.</summary>
    public static double[] SqrtPsd(double[] s, int d)
    {
        var (eig, v) = SymmetricEigen(s, d);
        var result = new double[d * d];
        for (int k = 0; k < d; k++)
        {
            double root = Math.Sqrt(Math.Max(0, eig[k]));
            if (root == 0) continue;
            for (int i = 0; i < d; i++)
            {
                double vik = v[i * d + k] * root;
                for (int j = 0; j < d; j++) result[i * d + j] += vik * v[j * d + k];
            }
        }
        return result;
    }

    /// <summary>
    /// Eigenvalues and eigenvectors (columns of V, row-major D x D) of a symmetric matrix by the cyclic Jacobi
    /// method: each rotation zeroes one off-diagonal pair; sweeps repeat until the off-diagonal mass is
    /// negligible (quadratic convergence, typically 6 to 10 sweeps). Plain, accurate, O(D³) a sweep.
    /// </summary>
    public static (double[] Eigenvalues, double[] Vectors) SymmetricEigen(double[] s, int d)
    {
        var a = (double[])s.Clone();
        var v = new double[d * d];
        for (int i = 0; i < d; i++) v[i * d + i] = 1;
        double scale = 0;
        for (int i = 0; i < d * d; i++) scale += a[i] * a[i];
        for (int sweep = 0; sweep < 100; sweep++)
        {
            double off = 0;
            for (int p = 0; p < d; p++) for (int q = p + 1; q < d; q++) off += a[p * d + q] * a[p * d + q];
            if (off <= 1e-30 * scale || off == 0) break;
            for (int p = 0; p < d; p++)
                for (int q = p + 1; q < d; q++)
                {
                    double apq = a[p * d + q];
                    if (apq == 0) continue;
                    // Rotation angle that zeroes a[p, q] (Golub and Van Loan, Algorithm 8.4.1).
                    double theta = (a[q * d + q] - a[p * d + p]) / (2 * apq);
                    double t = Math.Sign(theta) / (Math.Abs(theta) + Math.Sqrt(theta * theta + 1));
                    if (theta == 0) t = 1;
                    double c = 1 / Math.Sqrt(t * t + 1), sn = t * c;
                    for (int k = 0; k < d; k++) // A = A J (columns p, q)
                    {
                        double akp = a[k * d + p], akq = a[k * d + q];
                        a[k * d + p] = c * akp - sn * akq;
                        a[k * d + q] = sn * akp + c * akq;
                    }
                    for (int k = 0; k < d; k++) // A = J^T A (rows p, q)
                    {
                        double apk = a[p * d + k], aqk = a[q * d + k];
                        a[p * d + k] = c * apk - sn * aqk;
                        a[q * d + k] = sn * apk + c * aqk;
                    }
                    for (int k = 0; k < d; k++) // V = V J
                    {
                        double vkp = v[k * d + p], vkq = v[k * d + q];
                        v[k * d + p] = c * vkp - sn * vkq;
                        v[k * d + q] = sn * vkp + c * vkq;
                    }
                }
        }
        var eig = new double[d];
        for (int i = 0; i < d; i++) eig[i] = a[i * d + i];
        return (eig, v);
    }

    static double[] MatMul(double[] x, double[] y, int d)
    {
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int k = 0; k < d; k++)
            {
                double xik = x[i * d + k];
                if (xik == 0) continue;
                for (int j = 0; j < d; j++) r[i * d + j] += xik * y[k * d + j];
            }
        return r;
    }

    static void Symmetrize(double[] m, int d)
    {
        for (int i = 0; i < d; i++)
            for (int j = i + 1; j < d; j++)
                m[i * d + j] = m[j * d + i] = 0.5 * (m[i * d + j] + m[j * d + i]);
    }
}
