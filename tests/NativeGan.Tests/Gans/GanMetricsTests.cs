using NativeGan.Gan.Metrics;

namespace NativeGan.Tests.Gans;

/// <summary>The measurements on hand-made inputs whose answers are known exactly.</summary>
public class GanMetricsTests
{
    // ---------------------------------------------------------------- mode coverage

    static float[] PointsAt(IEnumerable<(double X, double Y)> points) => points.SelectMany(p => new[] { (float)p.X, (float)p.Y }).ToArray();

    [Fact]
    public void RingModesAreEightDistinctPointsOnTheCircle()
    {
        var modes = ModeCoverage.RingModes();
        Assert.Equal(8, modes.Length);
        Assert.Equal(8, modes.Select(m => (Math.Round(m.X, 6), Math.Round(m.Y, 6))).Distinct().Count());
        Assert.All(modes, m => Assert.Equal(1.0, Math.Sqrt(m.X * m.X + m.Y * m.Y), 12));
        Assert.Equal((-4.0, -4.0), ModeCoverage.GridModes()[0]);
        Assert.Equal((-4.0, -2.0), ModeCoverage.GridModes()[1]); // x outer, y inner, as Mixtures2D.Grid25
    }

    static ModeCoverageResult Run(int modes, double quality, double kl) => new(modes, 8, quality, kl, new int[8], 0, 0, 1);

    [Fact]
    public void SeveralRunsAreSummarisedByTheirMeanAndTheirWorst()
    {
        // Hand computation: modes (8 + 7 + 8) / 3; quality mean 92.333..., deviations -1/3, -7/3, 8/3, so the sample
        // variance is (1 + 49 + 64) / 9 / 2 = 6.333... and the sd 2.5166...
        var s = ModeCoverage.Summarize([Run(8, 92.0, 0.01), Run(7, 90.0, 0.2), Run(8, 95.0, 0.03)]);
        Assert.Equal(3, s.Runs);
        Assert.Equal(8, s.ModeCount);
        Assert.Equal(23.0 / 3, s.MeanModesCaptured, 12);
        Assert.Equal(7, s.FewestModesCaptured);
        Assert.False(s.EveryModeInEveryRun);
        Assert.Equal(277.0 / 3, s.MeanHighQualityPercent, 12);
        Assert.Equal(90.0, s.LowestHighQualityPercent);
        Assert.Equal(Math.Sqrt(19.0 / 3), s.HighQualitySpread, 12);
        Assert.Equal(0.08, s.MeanReverseKl, 12);
        Assert.Equal("3 runs: modes 7.67/8 (fewest 7), high-quality 92.3% (lowest 90.0%, sd 2.5), reverse KL 0.0800", s.ToString());

        var one = ModeCoverage.Summarize([Run(8, 93.5, 0.002)]);
        Assert.True(one.EveryModeInEveryRun);
        Assert.Equal(0, one.HighQualitySpread);
        Assert.Equal(93.5, one.LowestHighQualityPercent);

        Assert.Contains("no runs", Assert.Throws<ArgumentException>(() => ModeCoverage.Summarize([])).Message);
        var grid = new ModeCoverageResult(25, 25, 80, 0.01, new int[25], 0, 0, 1);
        Assert.Contains("different mixtures", Assert.Throws<ArgumentException>(() => ModeCoverage.Summarize([Run(8, 90, 0), grid])).Message);
    }

    [Fact]
    public void AllModesEvenlyCoveredGiveFullCountsAndZeroKl()
    {
        var modes = ModeCoverage.GridModes();
        // 4 points per mode, each within 2 std of its mode on both axes.
        var pts = modes.SelectMany(m => new[] { (m.X + 0.1, m.Y), (m.X - 0.1, m.Y + 0.05), (m.X, m.Y - 0.1), (m.X + 0.05, m.Y + 0.1) });
        var r = ModeCoverage.Evaluate(PointsAt(pts), modes, ModeCoverage.GridStd);
        Assert.Equal(25, r.ModesCaptured);
        Assert.Equal(100.0, r.HighQualityPercent, 9);
        Assert.Equal(0.0, r.ReverseKl, 9);
        Assert.All(r.SamplesPerMode, c => Assert.Equal(4, c));
    }

    [Fact]
    public void OneModeGivesOneCapturedAndKlLogK()
    {
        var modes = ModeCoverage.RingModes();
        var pts = Enumerable.Repeat((modes[3].X + 0.02, modes[3].Y - 0.02), 50);
        var r = ModeCoverage.Evaluate(PointsAt(pts), modes, ModeCoverage.RingStd);
        Assert.Equal(1, r.ModesCaptured);
        Assert.Equal(50, r.SamplesPerMode[3]);
        Assert.Equal(100.0, r.HighQualityPercent, 9);
        Assert.Equal(Math.Log(8), r.ReverseKl, 6); // KL(point mass || uniform over 8) = log 8
    }

    [Fact]
    public void OffModePointsAreNotHighQualityAndCaptureNothing()
    {
        var modes = ModeCoverage.RingModes();
        // The origin, a point just outside 3 std on one axis of mode 0, and a NaN.
        float[] pts = [0f, 0f, 1.031f, 0f, float.NaN, 0f, 1.0f, 0.029f];
        var r = ModeCoverage.Evaluate(pts, modes, ModeCoverage.RingStd);
        Assert.Equal(1, r.ModesCaptured);          // only (1.0, 0.029): 2.9 std away on y
        Assert.Equal(25.0, r.HighQualityPercent, 9);
        Assert.Equal(1, r.SamplesPerMode[0]);
        // With no high-quality sample at all there is no histogram: 0 modes, reverse KL undefined (NaN).
        var none = ModeCoverage.Evaluate([0f, 0f, 5f, 5f], modes, ModeCoverage.RingStd);
        Assert.Equal((0, 0.0), (none.ModesCaptured, none.HighQualityPercent));
        Assert.True(double.IsNaN(none.ReverseKl));
    }

    [Fact]
    public void TheOtherSamplesSplitIntoNearMissesAndSamplesBetweenModes()
    {
        var modes = ModeCoverage.GridModes();
        double s = ModeCoverage.GridStd;
        // Mode (0, 0): one sample 2 std off (high quality), one 5 std off on x (near miss), one 9.9 std off on y
        // (near miss), one 10.5 std off (between), the midpoint (1, 0) of two modes (between), and a NaN (between).
        float[] pts = [(float)(2 * s), 0f, (float)(5 * s), 0f, 0f, (float)(-9.9 * s), (float)(10.5 * s), 0f, 1f, 0f, float.NaN, 1f];
        var r = ModeCoverage.Evaluate(pts, modes, s);
        Assert.Equal(100.0 / 6, r.HighQualityPercent, 9);
        Assert.Equal(200.0 / 6, r.NearMissPercent, 9);
        Assert.Equal(300.0 / 6, r.BetweenModesPercent, 9);
        // Width over the three samples within 10 std: sqrt((2² + 5² + 9.9²) / (2 x 3)) std.
        Assert.Equal(Math.Sqrt((4 + 25 + 9.9 * 9.9) / 6), r.ClusterWidth, 4);
        var far = ModeCoverage.Evaluate([1f, 1f], modes, s);
        Assert.True(double.IsNaN(far.ClusterWidth));
        Assert.Equal(100.0, far.BetweenModesPercent, 9);
    }

    [Fact]
    public void TheMixturesOwnSamplesHaveClusterWidthOne()
    {
        // 20,000 draws of the grid mixture (float64 Box-Muller, fixed seed): the width estimate is 1 within 3%.
        var modes = ModeCoverage.GridModes();
        var random = new Random(7);
        var pts = new float[2 * 20_000];
        var drawn = new int[20_000];
        for (int i = 0; i < 20_000; i++)
        {
            var m = modes[drawn[i] = random.Next(modes.Length)];
            double r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())), a = 2 * Math.PI * random.NextDouble();
            pts[2 * i] = (float)(m.X + ModeCoverage.GridStd * r * Math.Cos(a));
            pts[2 * i + 1] = (float)(m.Y + ModeCoverage.GridStd * r * Math.Sin(a));
        }
        var result = ModeCoverage.Evaluate(pts, modes, ModeCoverage.GridStd);
        Assert.Equal(1.0, result.ClusterWidth, 0.03);
        // A square of side 3 std holds 0.9973² = 99.46% of a 2D standard Gaussian; the rest are near misses.
        Assert.Equal(99.46, result.HighQualityPercent, 0.3);
        Assert.Equal(100 - result.HighQualityPercent, result.NearMissPercent, 9);
        Assert.Equal(0.0, result.BetweenModesPercent, 9);
        // The same draws twice as far from their modes read twice the width (all still within 10 std but 0.02%).
        var wide = new float[pts.Length];
        for (int i = 0; i < 20_000; i++)
        {
            var m = modes[drawn[i]];
            wide[2 * i] = (float)(m.X + 2 * (pts[2 * i] - m.X));
            wide[2 * i + 1] = (float)(m.Y + 2 * (pts[2 * i + 1] - m.Y));
        }
        var wideResult = ModeCoverage.Evaluate(wide, modes, ModeCoverage.GridStd);
        Assert.Equal(2.0, wideResult.ClusterWidth, 0.06);
        // The robust width reads the same for Gaussian clusters, and their medians sit on the centres.
        Assert.Equal(1.0, result.CoreWidth, 0.03);
        Assert.Equal(2.0, wideResult.CoreWidth, 0.06);
        Assert.InRange(result.CentreOffset, 0, 0.1);
    }

    [Fact]
    public void SharpClustersWithBridgesHaveANarrowCoreAndWideTails()
    {
        // What the grid's WGAN-GP generators make: each cluster 0.3 std wide with its median 0.7 std right of the mode, and
        // one sample in eight spread evenly along the segments between neighbouring modes (the bridges). The rms offset
        // within 10 std reads the bridges' starts as width (> 1); the core width and centre offset read the clusters.
        var modes = ModeCoverage.GridModes();
        var random = new Random(11);
        var pts = new List<float>();
        for (int i = 0; i < 20_000; i++)
        {
            var m = modes[random.Next(modes.Length)];
            double std = ModeCoverage.GridStd;
            if (i % 8 == 7)
            {
                // A bridge point: on the segment to the right or upper neighbour (an edge mode bridges inwards).
                bool alongX = random.Next(2) == 0;
                double t = random.NextDouble() * 2 * ((alongX ? m.X : m.Y) < 4 ? 1 : -1);
                pts.AddRange([(float)(m.X + (alongX ? t : 0)), (float)(m.Y + (alongX ? 0 : t))]);
                continue;
            }
            double r = Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())), a = 2 * Math.PI * random.NextDouble();
            pts.AddRange([(float)(m.X + std * (0.7 + 0.3 * r * Math.Cos(a))), (float)(m.Y + std * 0.3 * r * Math.Sin(a))]);
        }
        var result = ModeCoverage.Evaluate([.. pts], modes, ModeCoverage.GridStd);
        Assert.InRange(result.CoreWidth, 0.28, 0.34);
        Assert.InRange(result.CentreOffset, 0.65, 0.75);
        // Without the bridges the rms would be sqrt((0.7² + 0.3² + 0.3²) / 2) = 0.58; their starts (1 sample in 8, of which
        // half lie within 10 std of a mode) double it.
        Assert.True(result.ClusterWidth > 1.0, $"rms offset {result.ClusterWidth}: the bridges' starts should count");
        // The bridges outside 3 std: the segments are 40 std long, and their first and last 3 std are high quality.
        Assert.Equal(12.5 * 34 / 40, result.NearMissPercent + result.BetweenModesPercent, 0.6);
    }

    [Fact]
    public void ThePointsCsvSaysWhereEachSampleLies()
    {
        // On the grid (std 0.05): at mode (2, -2) plus 2 std in x (high quality); 5 std right of (-4, 4) (a near miss);
        // halfway between (0, 0) and (0, 2), nearer the first by 0.1 (between modes); and a NaN sample.
        var modes = ModeCoverage.GridModes();
        float[] pts = [2.1f, -2f, -3.75f, 4f, 0f, 0.9f, float.NaN, 1f];
        var path = Path.Combine(Path.GetTempPath(), $"nativegan-points-{Guid.NewGuid():N}.csv");
        try
        {
            ModeCoverage.WritePointsCsv(path, pts, modes, ModeCoverage.GridStd);
            var rows = File.ReadAllLines(path);
            Assert.Equal("x,y,nearest_mode,mode_x,mode_y,offset_x_std,offset_y_std,place", rows[0]);
            Assert.Equal(5, rows.Length);
            string[] Cells(int row) => rows[row].Split(',');
            // Mode (x_i, y_j) has index 5 i + j with x, y in -4, -2, 0, 2, 4: (2, -2) is 16, (-4, 4) is 4, (0, 0) is 12.
            Assert.Equal(["16", "2", "-2", "2", "0", "high_quality"], Cells(1)[2..]);
            Assert.Equal(["4", "-4", "4", "5", "0", "near_miss"], Cells(2)[2..]);
            Assert.Equal(["12", "0", "0", "0", "18", "between_modes"], Cells(3)[2..]);
            Assert.Equal(["", "", "", "NaN", "NaN", "between_modes"], Cells(4)[2..]);
            Assert.Equal(2.1f, float.Parse(Cells(1)[0], System.Globalization.CultureInfo.InvariantCulture)); // round-trips
        }
        finally { File.Delete(path); }
        // Evaluate counts the same places: 1 of 4 high quality, 1 near miss, 2 between modes.
        var r = ModeCoverage.Evaluate(pts, modes, ModeCoverage.GridStd);
        Assert.Equal((25.0, 25.0, 50.0), (r.HighQualityPercent, r.NearMissPercent, r.BetweenModesPercent));
    }

    [Fact]
    public void ReverseKlOfTwoEvenModesOfFourIsLog2()
    {
        Assert.Equal(Math.Log(2), ModeCoverage.ReverseKl([10, 10, 0, 0]), 8);
        Assert.Throws<ArgumentException>(() => ModeCoverage.Evaluate([1f, 2f, 3f], ModeCoverage.RingModes(), 0.01));
    }

    // ---------------------------------------------------------------- inception score

    static float[] OneHots(int[] classes, int k)
    {
        var p = new float[classes.Length * k];
        for (int i = 0; i < classes.Length; i++) p[i * k + classes[i]] = 1f;
        return p;
    }

    [Fact]
    public void InceptionScoreIsOneForIdenticalPredictions()
    {
        Assert.Equal(1.0, InceptionScore.Compute(OneHots(Enumerable.Repeat(4, 30).ToArray(), 10), 10), 12);
        var soft = Enumerable.Range(0, 20).SelectMany(_ => new[] { 0.2f, 0.3f, 0.5f }).ToArray();
        Assert.Equal(1.0, InceptionScore.Compute(soft, 3), 6);
    }

    [Fact]
    public void InceptionScoreIsTenForConfidentEvenClasses()
    {
        var classes = Enumerable.Range(0, 100).Select(i => i % 10).ToArray();
        Assert.Equal(10.0, InceptionScore.Compute(OneHots(classes, 10), 10), 9);
        // Confident but only 5 classes used: 5.
        Assert.Equal(5.0, InceptionScore.Compute(OneHots(classes.Select(c => c / 2).ToArray(), 10), 10), 9);
        // Uniform (unconfident) predictions: 1.
        Assert.Equal(1.0, InceptionScore.Compute(Enumerable.Repeat(0.1f, 100).ToArray(), 10), 5);
    }

    [Fact]
    public void ClassHistogramCountsAndEvenness()
    {
        var even = ClassHistogram.Of(Enumerable.Range(0, 50).Select(i => i % 10).ToArray(), 10);
        Assert.Equal(10, even.ClassesPresent);
        Assert.Equal(1.0, even.Evenness, 12);
        Assert.Equal(1.0, even.MaxOverMin);
        var one = ClassHistogram.Of([3, 3, 3], 10);
        Assert.Equal((1, 0.0), (one.ClassesPresent, one.Evenness));
        Assert.True(double.IsPositiveInfinity(one.MaxOverMin));
        Assert.Throws<ArgumentException>(() => ClassHistogram.Of([10], 10));
    }

    // ---------------------------------------------------------------- Fréchet distance

    [Fact]
    public void FrechetDistanceIsZeroForIdenticalSets()
    {
        var rng = new Random(5);
        var f = Numerics.Random(rng, 200 * 6);
        Assert.Equal(0.0, FrechetDistance.Compute(f, f, 6), 9);
    }

    [Fact]
    public void FrechetDistanceMatchesTheClosedFormForDiagonalGaussians()
    {
        // d² = ||mu1 - mu2||² + sum_i (s1_i + s2_i - 2 sqrt(s1_i s2_i)) = ||mu1 - mu2||² + sum_i (sqrt s1_i - sqrt s2_i)².
        double[] mu1 = [0, 1, -2], mu2 = [1, 1, 0], v1 = [1, 4, 0.25], v2 = [9, 1, 0.25];
        double expected = 1 + 0 + 4 + (1 - 3) * (1 - 3) + (2 - 1) * (2 - 1) + 0;
        Assert.Equal(expected, FrechetDistance.Compute(mu1, Diag(v1), mu2, Diag(v2)), 9);
        // Rotating both covariances by the same orthogonal matrix changes nothing (they still commute).
        var q = Rotation(3, 0.7);
        Assert.Equal(expected, FrechetDistance.Compute(mu1, Conj(q, Diag(v1), 3), mu2, Conj(q, Diag(v2), 3)), 8);
    }

    [Fact]
    public void FrechetDistanceOfNonCommutingCovariancesMatches2x2ClosedForm()
    {
        // For 2x2 SPD A, B: Tr sqrt(A B) = sqrt(Tr(AB) + 2 sqrt(det(AB))) (the eigenvalues of AB are positive).
        double[] a = [2, 1, 1, 3], b = [1, -0.5, -0.5, 2];
        double trAb = a[0] * b[0] + a[1] * b[2] + a[2] * b[1] + a[3] * b[3];
        double det = (a[0] * a[3] - a[1] * a[2]) * (b[0] * b[3] - b[1] * b[2]);
        double expected = a[0] + a[3] + b[0] + b[3] - 2 * Math.Sqrt(trAb + 2 * Math.Sqrt(det));
        Assert.Equal(expected, FrechetDistance.Compute([0, 0], a, [0, 0], b), 10);
    }

    [Fact]
    public void JacobiEigenReconstructsARandomSymmetricMatrix()
    {
        int d = 7;
        var rng = new Random(2);
        var s = new double[d * d];
        for (int i = 0; i < d; i++) for (int j = i; j < d; j++) s[i * d + j] = s[j * d + i] = rng.NextDouble() - 0.5;
        var (eig, v) = FrechetDistance.SymmetricEigen(s, d);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                double r = 0;
                for (int k = 0; k < d; k++) r += v[i * d + k] * eig[k] * v[j * d + k];
                Assert.Equal(s[i * d + j], r, 10);
            }
    }

    static double[] Diag(double[] v)
    {
        var m = new double[v.Length * v.Length];
        for (int i = 0; i < v.Length; i++) m[i * v.Length + i] = v[i];
        return m;
    }

    static double[] Rotation(int d, double angle)
    {
        var q = Diag(Enumerable.Repeat(1.0, d).ToArray());
        q[0] = Math.Cos(angle); q[1] = -Math.Sin(angle); q[d] = Math.Sin(angle); q[d + 1] = Math.Cos(angle);
        return q;
    }

    static double[] Conj(double[] q, double[] m, int d) // q m q^T
    {
        var r = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                    for (int l = 0; l < d; l++) r[i * d + j] += q[i * d + k] * m[k * d + l] * q[j * d + l];
        return r;
    }
}

/// <summary><see cref="GanEvaluation"/> on a stand-in generator whose outputs are known.</summary>
public class GanEvaluationTests
{
    /// <summary>Sample i of every Generate call sits exactly on ring mode (i mod 8), or (label mod 8) when labelled.</summary>
    sealed class RingStub(int classes) : NativeGan.Gan.Training.IGenerativeJob
    {
        public int LatentSize => 3;
        public int ClassCount => classes;
        public List<int[]?> LabelsSeen { get; } = [];
        public Tensor Generate(Tensor z, int[]? labels = null)
        {
            LabelsSeen.Add(labels);
            var modes = ModeCoverage.RingModes();
            var data = new float[z.Dim(0) * 2];
            for (int i = 0; i < z.Dim(0); i++)
            {
                var m = modes[(labels?[i] ?? i) % 8];
                (data[2 * i], data[2 * i + 1]) = ((float)m.X, (float)m.Y);
            }
            return Tensor.FromArray(data, [z.Dim(0), 2], z.Device);
        }
        public string Kind => "stub";
        public NativeGan.Gan.Training.ModelOptions Options => throw new NotSupportedException();
        public IReadOnlyDictionary<string, NativeGan.Nn.Module> Modules => new Dictionary<string, NativeGan.Nn.Module>();
        public IReadOnlyDictionary<string, NativeGan.Nn.Optimizer> Optimizers => new Dictionary<string, NativeGan.Nn.Optimizer>();
        public Rng Rng { get; } = new(0);
        public IReadOnlyDictionary<string, float> Step(NativeGan.Gan.Data.Batch batch, long step) => throw new NotSupportedException();
        public void WriteSamples(string path) => throw new NotSupportedException();
        public void Dispose() { }
    }

    [Fact]
    public void ModesOfAGeneratorOnEveryModeAreAllCaptured()
    {
        var r = GanEvaluation.Modes(new RingStub(0), Device.Cpu, "ring8", count: 2500);
        Assert.Equal((8, 100.0), (r.ModesCaptured, r.HighQualityPercent));
        Assert.Equal(0.0, r.ReverseKl, 3); // 2500 = 8 x 312 + 4: nearly even
        Assert.Throws<ArgumentException>(() => GanEvaluation.Modes(new RingStub(0), Device.Cpu, "spiral"));
    }

    [Fact]
    public void ConditionalJobsGetTheClassesInTurnAcrossChunks()
    {
        var stub = new RingStub(3);
        var pts = GanEvaluation.Sample(stub, Device.Cpu, 7, seed: 1, chunk: 4);
        Assert.Equal(14, pts.Length);
        Assert.Equal([0, 1, 2, 0], stub.LabelsSeen[0]!);
        Assert.Equal([1, 2, 0], stub.LabelsSeen[1]!);
    }
}
