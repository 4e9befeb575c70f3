using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.RadialGan;

/// <summary>
/// RadialGAN's training (Yoon, Jordon and van der Schaar, "RadialGAN: Leveraging multiple datasets to improve
/// target-specific predictive models using Generative Adversarial Networks", ICML 2018), after the reference implementation
/// (vanderschaarlab/mlforhealthlabpub, alg/RadialGAN). Each domain i of a table has its own feature set X_i and
///   an encoder  E_i(x_i, y) -> z  into the shared latent space,
///   a decoder   F_i(z, y) -> x_i  out of it,
///   a discriminator D_i(x_i, y)  that tells domain i's real rows from rows translated into it;
/// each a one-hidden-layer tanh MLP; y (the row's binary label) is an input of all of them. The translation i -> j is
/// F_j(E_i(x_i, y), y).
/// <para><b>One step</b> on a batch of rows from every domain (each row: the union's features, then y; its domain is the
/// batch label): n_critic updates of all discriminators on L_D = sum_j [ BCE(D_j(x_j), 1) + mean_{i != j} BCE(D_j(x_i->j), 0) ],
/// then, domain after domain as the reference does, one update of (E_i, F_i) on
///   L_i = mean_{j != i} -log D_i(x_j->i)  +  alpha * sqrt( mean_{j != i} MSE(x_i->j->i, x_i) ),
/// its own adversarial loss (the translations into i) and its cycle loss (its rows sent to j and back). With
/// <c>loss wgan-gp</c> the BCE terms become mean D(fake) - mean D(real) + lambda GP and -mean D(fake). A domain absent from
/// a batch sits the step out.</para>
/// <para>Logs loss_d, loss_g (the sum of the L_i), cycle (the mean over domains of sqrt of the cycle MSE, unweighted).</para>
/// </summary>
public sealed class RadialGanJob : ITrainingJob
{
    readonly Sequential[] encoders, decoders, discriminators;
    readonly int[][] features;
    readonly Adam discriminatorOptimizer;
    readonly Adam[] generatorOptimizers;
    readonly Dictionary<string, Module> modules = new(StringComparer.Ordinal);
    readonly Dictionary<string, Optimizer> optimizers = new(StringComparer.Ordinal);
    readonly float[]?[] seenRows; // the last batch's rows per domain (own features, then y), for the picture

    /// <summary>Builds every domain's networks and the optimizers from <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public RadialGanJob(RadialGanOptions options, Device device)
    {
        options.Validate(Kind);
        Options = options;
        Device = device;
        Rng = new Rng(options.Seed);
        var init = new Rng(options.Seed ^ 0x4AD1_A100_0000_0001UL);
        int k = options.Domains, h = options.HiddenUnits, z = options.LatentSize;
        features = [.. Enumerable.Range(0, k).Select(options.FeaturesOf)];
        encoders = new Sequential[k];
        decoders = new Sequential[k];
        discriminators = new Sequential[k];
        generatorOptimizers = new Adam[k];
        seenRows = new float[k][];
        for (int d = 0; d < k; d++)
        {
            int width = features[d].Length;
            encoders[d] = Mlp(width + 1, h, z, init);
            decoders[d] = Mlp(z + 1, h, width, init);
            discriminators[d] = Mlp(width + 1, h, 1, init);
            modules[$"encoder_{d}"] = encoders[d];
            modules[$"decoder_{d}"] = decoders[d];
            modules[$"discriminator_{d}"] = discriminators[d];
            generatorOptimizers[d] = new Adam([.. encoders[d].Parameters(), .. decoders[d].Parameters()], options.GeneratorRate, options.Beta1, options.Beta2);
            optimizers[$"generator_{d}"] = generatorOptimizers[d];
        }
        discriminatorOptimizer = new Adam(discriminators.SelectMany(m => m.Parameters()), options.CriticRate, options.Beta1, options.Beta2);
        optimizers["discriminator"] = discriminatorOptimizer;
    }

    /// <summary>Linear(in, hidden), tanh, Linear(hidden, out), with the reference's init: weights N(0, 2 / fan_in), biases 0.</summary>
    Sequential Mlp(int inputs, int hidden, int outputs, Rng init)
    {
        var first = new Linear(inputs, hidden, device: Device, rng: init);
        var second = new Linear(hidden, outputs, device: Device, rng: init);
        foreach (var layer in new[] { first, second })
        {
            Init.Normal(layer.Weight, 0f, MathF.Sqrt(2f / layer.Weight.Dim(1)), init);
            Elementwise.Fill(layer.Bias!, 0f);
        }
        return new Sequential(first, new Tanh(), second);
    }

    /// <summary>"radialgan".</summary>
    public string Kind => RadialGanFamily.Name;
    /// <summary>The job's options.</summary>
    public RadialGanOptions Options { get; }
    ModelOptions ITrainingJob.Options => Options;
    /// <summary>encoder_D, decoder_D, discriminator_D for each domain D.</summary>
    public IReadOnlyDictionary<string, Module> Modules => modules;
    /// <summary>generator_D (domain D's encoder and decoder) and discriminator (all discriminators).</summary>
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;

    /// <summary>A step updates the networks of the domains its batch holds: ranks with different shards would update different ones.</summary>
    public string? DataParallelRefusal => "radialgan: which domains' networks a step updates depends on the rows its batch holds, so ranks with different shards would take different steps; train it in one process";
    /// <summary>The job's random stream (the gradient penalty's interpolates).</summary>
    public Rng Rng { get; }
    /// <summary>Where the networks live.</summary>
    public Device Device { get; }
    /// <summary>The number of domains.</summary>
    public int DomainCount => Options.Domains;
    /// <summary>The union indices of <paramref name="domain"/>'s features: what its rows, translated or real, hold.</summary>
    public IReadOnlyList<int> FeaturesOf(int domain) => features[domain];
    /// <summary>Domain <paramref name="domain"/>'s encoder (x, y) -> z.</summary>
    public Sequential Encoder(int domain) => encoders[domain];
    /// <summary>Domain <paramref name="domain"/>'s decoder (z, y) -> x.</summary>
    public Sequential Decoder(int domain) => decoders[domain];
    /// <summary>Domain <paramref name="domain"/>'s discriminator (x, y) -> logit.</summary>
    public Sequential Discriminator(int domain) => discriminators[domain];

    // ------------------------------------------------------------------ the networks as functions

    static Tensor Join(Tensor x, Tensor y) => Ops.ChannelConcat(x, y);

    /// <summary>E_i(x, y).</summary>
    public Tensor Encode(int domain, Tensor x, Tensor y) => encoders[domain].Forward(Join(x, y));

    /// <summary>F_j(z, y).</summary>
    public Tensor Decode(int domain, Tensor z, Tensor y) => decoders[domain].Forward(Join(z, y));

    /// <summary>The translation <paramref name="from"/> -> <paramref name="to"/>: F_to(E_from(x, y), y), rows of <paramref name="to"/>'s features.</summary>
    public Tensor Translate(int from, int to, Tensor x, Tensor y) => Decode(to, Encode(from, x, y), y);

    /// <summary>D_j(x, y), one logit (or critic score) per row.</summary>
    public Tensor Judge(int domain, Tensor x, Tensor y) => discriminators[domain].Forward(Join(x, y));

    /// <summary>
    /// Domain <paramref name="domain"/>'s cycle term sqrt( mean_{j != i, j present} MSE(F_i(E_j(F_j(E_i(x_i, y), y), y), y), x_i) ),
    /// on its rows <paramref name="x"/> [n, |X_i|] with labels <paramref name="y"/> [n, 1]; <paramref name="present"/> says which
    /// domains take part (null: all). The square root of the mean is the reference's (alpha * tf.sqrt(G_Recov_loss)).
    /// </summary>
    public Tensor CycleLoss(int domain, Tensor x, Tensor y, IReadOnlyList<bool>? present = null)
    {
        Tensor? sum = null;
        int count = 0;
        for (int j = 0; j < DomainCount; j++)
        {
            if (j == domain || present is { } p && !p[j]) continue;
            var back = Translate(j, domain, Translate(domain, j, x, y), y);
            var mse = Losses.Mse(back, x);
            sum = sum is null ? mse : sum.Add(mse);
            count++;
        }
        if (sum is null) throw new ArgumentException($"{Kind}: the cycle loss of domain {domain} needs another domain");
        return sum.Div(count).Add(1e-12f).Sqrt(); // the epsilon keeps the gradient of sqrt finite at a perfect cycle
    }

    // ------------------------------------------------------------------ the step

    /// <summary>The batch's rows of each domain: its own features [n, |X_d|] and labels [n, 1] as host arrays (null when absent).</summary>
    (float[] X, float[] Y, int Count)?[] SplitByDomain(Batch batch)
    {
        int width = Options.FeatureCount + 1;
        if (batch.Samples.Rank != 2 || batch.Samples.Dim(1) != width)
            throw new TensorShapeException($"{Kind}.Step: the batch has shape {Shapes.Format(batch.Samples.Shape)}, the model expects rows of {width} (features and label)");
        if (batch.Labels is not { } domains) throw new ArgumentException($"{Kind}.Step: the batch has no domain labels (train on a table: --data cars, penguins, weather or csv:...)");
        var rows = batch.Samples.ToArray();
        var result = new (float[] X, float[] Y, int Count)?[DomainCount];
        for (int d = 0; d < DomainCount; d++)
        {
            var mine = Enumerable.Range(0, domains.Length).Where(i => domains[i] == d).ToArray();
            if (mine.Length == 0) continue;
            var f = features[d];
            var x = new float[mine.Length * f.Length];
            var y = new float[mine.Length];
            for (int r = 0; r < mine.Length; r++)
            {
                for (int c = 0; c < f.Length; c++) x[r * f.Length + c] = rows[mine[r] * width + f[c]];
                y[r] = rows[mine[r] * width + width - 1];
            }
            result[d] = (x, y, mine.Length);
        }
        foreach (int d in domains)
            if (d < 0 || d >= DomainCount) throw new ArgumentException($"{Kind}.Step: a row of domain {d}; the model has domains 0..{DomainCount - 1}");
        return result;
    }

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var parts = SplitByDomain(batch);
        for (int d = 0; d < DomainCount; d++)
            if (parts[d] is { } p) seenRows[d] = [.. Enumerable.Range(0, p.Count).SelectMany(r => p.X.AsSpan(r * features[d].Length, features[d].Length).ToArray().Append(p.Y[r]))];
        var log = new Dictionary<string, float>(StringComparer.Ordinal);
        var present = parts.Select(p => p is not null).ToArray();
        var xs = new Tensor?[DomainCount];
        var ys = new Tensor?[DomainCount];
        for (int d = 0; d < DomainCount; d++)
            if (parts[d] is { } p)
            {
                xs[d] = Tensor.FromArray(p.X, [p.Count, features[d].Length], Device);
                ys[d] = Tensor.FromArray(p.Y, [p.Count, 1], Device);
            }
        try
        {
            for (int k = 0; k < Options.CriticSteps; k++) CriticUpdate(xs, ys, present, log);
            GeneratorUpdates(xs, ys, present, log);
        }
        finally
        {
            foreach (var t in xs.Concat(ys)) t?.Dispose();
        }
        return log;
    }

    void CriticUpdate(Tensor?[] xs, Tensor?[] ys, bool[] present, Dictionary<string, float> log)
    {
        using var scope = new TensorScope();
        Tensor? total = null;
        for (int j = 0; j < DomainCount; j++)
        {
            if (!present[j]) continue;
            var others = Enumerable.Range(0, DomainCount).Where(i => i != j && present[i]).ToList();
            if (others.Count == 0) continue;
            var real = Judge(j, xs[j]!, ys[j]!);
            Tensor? fakeTerm = null;
            foreach (int i in others)
            {
                Tensor translated;
                using (Autograd.NoGrad()) translated = Translate(i, j, xs[i]!, ys[i]!);
                var fakeScores = Judge(j, translated, ys[i]!);
                Tensor term;
                if (Options.Loss == RadialGanOptions.LossKind.Bce) term = Losses.BceWithLogits(fakeScores, 0f);
                else
                {
                    term = fakeScores.Mean();
                    // The penalty pairs the first m real and translated rows (their counts may differ).
                    int m = Math.Min(xs[j]!.Dim(0), translated.Dim(0));
                    int jj = j;
                    using var realRows = Join(xs[j]!, ys[j]!).SliceBatch(0, m);
                    using var fakeRows = Join(translated, ys[i]!).SliceBatch(0, m);
                    var penalty = Losses.GradientPenalty(input => discriminators[jj].Forward(input), realRows, fakeRows, Rng, Options.PenaltyWeight);
                    term = term.Add(penalty);
                }
                fakeTerm = fakeTerm is null ? term : fakeTerm.Add(term);
            }
            var realTerm = Options.Loss == RadialGanOptions.LossKind.Bce ? Losses.BceWithLogits(real, 1f) : real.Mean().Neg();
            var domainLoss = realTerm.Add(fakeTerm!.Div(others.Count));
            total = total is null ? domainLoss : total.Add(domainLoss);
        }
        if (total is null) return;
        foreach (var d in discriminators) d.ZeroGrad();
        total.Backward();
        discriminatorOptimizer.Step();
        log["loss_d"] = total.Item();
    }

    void GeneratorUpdates(Tensor?[] xs, Tensor?[] ys, bool[] present, Dictionary<string, float> log)
    {
        foreach (var p in discriminators.SelectMany(d => d.Parameters())) p.RequiresGrad = false;
        try
        {
            float total = 0, cycles = 0;
            int counted = 0;
            for (int i = 0; i < DomainCount; i++)
            {
                if (!present[i]) continue;
                var others = Enumerable.Range(0, DomainCount).Where(j => j != i && present[j]).ToList();
                if (others.Count == 0) continue;
                using var scope = new TensorScope();
                Tensor? adversarial = null;
                foreach (int j in others)
                {
                    var scores = Judge(i, Translate(j, i, xs[j]!, ys[j]!), ys[j]!);
                    var term = Options.Loss == RadialGanOptions.LossKind.Bce ? Losses.BceWithLogits(scores, 1f) : scores.Mean().Neg();
                    adversarial = adversarial is null ? term : adversarial.Add(term);
                }
                var cycle = CycleLoss(i, xs[i]!, ys[i]!, present);
                var loss = adversarial!.Div(others.Count).Add(cycle.Mul(Options.Alpha));
                foreach (var m in encoders.Concat(decoders)) m.ZeroGrad();
                loss.Backward();
                generatorOptimizers[i].Step();
                total += loss.Item();
                cycles += cycle.Item();
                counted++;
            }
            log["loss_g"] = total;
            if (counted > 0) log["cycle"] = cycles / counted;
        }
        finally
        {
            foreach (var p in discriminators.SelectMany(d => d.Parameters())) p.RequiresGrad = true;
        }
    }

    // ------------------------------------------------------------------ translation for the protocol

    /// <summary>
    /// Rows of domain <paramref name="from"/> (<paramref name="x"/>: <paramref name="count"/> rows of its own features, standardised;
    /// <paramref name="y"/>: their labels) translated into domain <paramref name="to"/>: <paramref name="count"/> rows of
    /// <paramref name="to"/>'s features, as host floats, in eval mode and without recording a graph.
    /// </summary>
    public float[] Translate(int from, int to, float[] x, float[] y, int count)
    {
        if (x.Length != count * features[from].Length || y.Length != count)
            throw new ArgumentException($"{Kind}.Translate: {count} rows of domain {from} need {count * features[from].Length} features and {count} labels, got {x.Length} and {y.Length}");
        if (count == 0) return [];
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        using var xt = Tensor.FromArray(x, [count, features[from].Length], Device);
        using var yt = Tensor.FromArray(y, [count, 1], Device);
        return Translate(from, to, xt, yt).ToArray();
    }

    /// <summary>
    /// Domain <paramref name="domain"/>'s discriminator logits D(x, y) on <paramref name="count"/> rows of its own features
    /// (<paramref name="x"/>) with labels <paramref name="y"/>: higher is "more like a real row of this domain". Host floats, no graph.
    /// </summary>
    public float[] DiscriminatorLogits(int domain, float[] x, float[] y, int count)
    {
        if (x.Length != count * features[domain].Length || y.Length != count)
            throw new ArgumentException($"{Kind}.DiscriminatorLogits: {count} rows of domain {domain} need {count * features[domain].Length} features and {count} labels, got {x.Length} and {y.Length}");
        if (count == 0) return [];
        using var noGrad = Autograd.NoGrad();
        using var scope = new TensorScope();
        using var xt = Tensor.FromArray(x, [count, features[domain].Length], Device);
        using var yt = Tensor.FromArray(y, [count, 1], Device);
        return Judge(domain, xt, yt).ToArray();
    }

    // ------------------------------------------------------------------ the picture

    /// <summary>Domain 0's real rows of the last batch against the other domains' rows translated into domain 0, on the two
    /// features of domain 0 that vary most in those real rows (standardised numbers, rather than one-hot indicators; its only
    /// feature against the label when it has one).</summary>
    public void WriteSamples(string path)
    {
        var f = features[0];
        int width = f.Length + 1;
        var real = seenRows[0];
        // Columns of the rows [own features..., y] to plot: the two most varying features (or the feature and the label).
        int[] shown = f.Length == 1 ? [0, 1] : [.. Enumerable.Range(0, f.Length).OrderByDescending(c => real is null ? -c : Variance(real, width, c)).Take(2).Order()];
        (double[] X, double[] Y) Points(float[] rows) =>
            ([.. Enumerable.Range(0, rows.Length / width).Select(r => (double)rows[r * width + shown[0]])],
             [.. Enumerable.Range(0, rows.Length / width).Select(r => (double)rows[r * width + shown[1]])]);
        var sets = new List<PointSet>();
        if (real is not null)
        {
            var (px, py) = Points(real);
            sets.Add(new PointSet("real", px, py));
        }
        for (int i = 1; i < DomainCount; i++)
        {
            if (seenRows[i] is not { } rows) continue;
            int w = features[i].Length + 1, n = rows.Length / w;
            var x = new float[n * features[i].Length];
            var y = new float[n];
            for (int r = 0; r < n; r++)
            {
                Array.Copy(rows, r * w, x, r * features[i].Length, features[i].Length);
                y[r] = rows[r * w + w - 1];
            }
            var translated = Translate(i, 0, x, y, n);
            var withLabel = new float[n * width];
            for (int r = 0; r < n; r++)
            {
                Array.Copy(translated, r * f.Length, withLabel, r * width, f.Length);
                withLabel[r * width + width - 1] = y[r];
            }
            var (tx, ty) = Points(withLabel);
            sets.Add(new PointSet($"from domain {i}", tx, ty));
        }
        string Axis(int column) => column < f.Length ? $"feature {f[column]} (standardised)" : "label";
        ScatterPlot.Save(path, "RadialGAN: domain 0, real and translated rows", sets, xLabel: Axis(shown[0]), yLabel: Axis(shown[1]));
    }

    static double Variance(float[] rows, int width, int column)
    {
        int n = rows.Length / width;
        double mean = 0, squares = 0;
        for (int r = 0; r < n; r++) mean += rows[r * width + column];
        mean /= n;
        for (int r = 0; r < n; r++) squares += (rows[r * width + column] - mean) * (rows[r * width + column] - mean);
        return squares / n;
    }

    public void Dispose()
    {
        foreach (var m in encoders.Concat(decoders).Concat(discriminators)) m.Dispose();
    }
}
