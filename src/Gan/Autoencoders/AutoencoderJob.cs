using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Autoencoders;

/// <summary>The numbers <see cref="AutoencoderJob.Evaluate"/> reports on a data set.</summary>
/// <param name="Count">Samples evaluated.</param>
/// <param name="Mse">Reconstruction MSE per element on the data's [-1, 1] scale (clean input; the VAE decodes its mean code).</param>
/// <param name="Mse01">The same on the [0, 1] pixel scale (Mse / 4), the scale most MNIST papers use.</param>
/// <param name="Elbo">VAE: the evidence lower bound in nats per sample (one z sample per data point), NaN otherwise.</param>
/// <param name="ReconNll">VAE: E_q[-log p(x|z)] in nats per sample (the same single sample), NaN otherwise.</param>
/// <param name="Kl">VAE: KL(q(z|x) || p(z)) in nats per sample, NaN otherwise.</param>
/// <param name="MeanActivation">Mean of the code h over the samples and units (deterministic kinds), NaN for the VAE.</param>
/// <param name="DenoisingMse">Kinds trained with noise: MSE per element ([-1, 1] scale) between the restoration of a
/// corrupted input (the training noise, from a fixed evaluation stream) and the clean input; NaN otherwise.</param>
public sealed record AutoencoderEvaluation(int Count, double Mse, double Mse01, double Elbo, double ReconNll, double Kl, double MeanActivation,
    double DenoisingMse);

/// <summary>Codes of a data set for the 2D latent scatter: <see cref="Codes"/> holds Count x Dim values, sample after sample.</summary>
public sealed record LatentCodes(float[] Codes, int Dim, int[]? Labels)
{
    public int Count => Codes.Length / Math.Max(1, Dim);
}

/// <summary>
/// One autoencoder's training as an <see cref="ITrainingJob"/>: the networks ("encoder", "decoder"), one Adam
/// over both ("model"), the random stream (noise for the denoising kind, eps for the VAE) and one step's
/// arithmetic. Kinds and config keys: <see cref="AutoencoderOptions"/> (and the README beside this file).
///
/// <para>Only the VAE draws new samples, so only <see cref="VaeJob"/> is an <see cref="IGenerativeJob"/>;
/// <see cref="Create"/> returns one for kind vae and a plain <see cref="AutoencoderJob"/> otherwise, so
/// `nativegan sample` on a deterministic autoencoder fails with "not a generative model" rather than
/// decoding meaningless codes.</para>
///
/// <para>Streams. The weights are initialised from Rng(seed) at offset 0; the job's <see cref="Rng"/>
/// is the same seed at offset 2^40 (training noise); pictures and evaluation use fixed streams of their own
/// (offsets 2^50 and up), so they never move the training stream.</para>
/// </summary>
public class AutoencoderJob : ITrainingJob
{
    const ulong TrainStream = 1UL << 40, PriorStream = 1UL << 50, PictureStream = 1UL << 51, EvalStream = 1UL << 52;

    /// <summary>How many held samples the reconstruction picture shows (one grid row each).</summary>
    public const int HeldCount = 8;

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;
    float[]? held;   // the fixed batch of the reconstruction picture (host copy)
    int heldCount;

    protected AutoencoderJob(AutoencoderOptions options, Device device)
    {
        Options = options;
        Device = device;
        var init = new Rng(options.Seed);
        Encoder = options.Kind == AutoencoderKind.Vae
            ? Networks.VariationalEncoder(options, device, init)
            : Networks.Encoder(options, device, init);
        Decoder = Networks.Decoder(options, device, init);
        Rng = new Rng(options.Seed, TrainStream);
        Optimizer = new Adam([.. Encoder.Parameters(), .. Decoder.Parameters()], options.LearningRate, options.Beta1, options.Beta2);
        modules = new(StringComparer.Ordinal) { ["encoder"] = Encoder, ["decoder"] = Decoder };
        optimizers = new(StringComparer.Ordinal) { ["model"] = Optimizer };
    }

    // ------------------------------------------------------------------ factory

    /// <summary>A job for <paramref name="options"/> (checked again here): a <see cref="VaeJob"/> for kind vae, an
    /// <see cref="AutoencoderJob"/> otherwise.</summary>
    public static ITrainingJob Create(AutoencoderOptions options, Device device)
    {
        options.Validate(JobKind(options.Kind));
        return options.Kind == AutoencoderKind.Vae ? new VaeJob(options, device) : new AutoencoderJob(options, device);
    }

    /// <summary>The job kind of an autoencoder kind in checkpoints: "ae-" + name ("ae-vae").</summary>
    public static string JobKind(AutoencoderKind kind) => "ae-" + AutoencoderOptions.Name(kind);

    // ------------------------------------------------------------------ the job

    public AutoencoderOptions Options { get; }
    public Device Device { get; }

    /// <summary>A <see cref="DeterministicEncoder"/> (x -> h), or the VAE's <see cref="GaussianEncoder"/>.</summary>
    public Module Encoder { get; }

    /// <summary>h -> logits (BCE, Bernoulli) or values (MSE, Gaussian) of shape [N, ...Shape].</summary>
    public Sequential Decoder { get; }

    public Adam Optimizer { get; }

    public string Kind => JobKind(Options.Kind);
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }

    /// <summary>Whether the contractive penalty uses the closed form (one sigmoid layer) rather than k vector-Jacobian products.</summary>
    public bool UsesClosedFormJacobian => Options.Jacobian == AutoencoderOptions.JacobianKind.Closed || (Options.Jacobian == AutoencoderOptions.JacobianKind.Auto && Options.HasClosedFormJacobian);

    /// <summary>
    /// One Adam step on the batch. Returns "loss" and "recon" (the reconstruction term: per element for the
    /// deterministic kinds, nats per sample for the VAE) and, by kind, "sparsity" and "mean_activation",
    /// "contractive" (lambda ||J||_F^2), "kl" (nats per sample).
    /// </summary>
    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var x = batch.Samples;
        CheckBatch("Step", x);
        if (held is null) Hold(x);
        Encoder.Train();
        Decoder.Train();
        var scalars = new Dictionary<string, float>(StringComparer.Ordinal);
        using (new TensorScope())
        {
            var terms = Options.Kind == AutoencoderKind.Vae ? VaeTerms(x, Rng) : DeterministicTerms(x);
            var loss = terms["loss"];
            loss.Backward();
            Optimizer.Step();
            Optimizer.ZeroGrad();
            // The contractive penalty's input required grad, so Backward gave it a .Grad too: the leaf owns it.
            jacobianInput?.ZeroGrad();
            jacobianInput?.Dispose();
            jacobianInput = null;
            foreach (var (name, t) in terms) scalars[name] = t.Item();
        }
        return scalars;
    }

    Tensor? jacobianInput; // the input leaf of the autodiff contractive penalty, freed after the step's backward

    /// <summary>The loss terms of a deterministic kind on clean data <paramref name="x"/> (inside the caller's scope).</summary>
    Dictionary<string, Tensor> DeterministicTerms(Tensor x)
    {
        var o = Options;
        var terms = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        Tensor input = o.Noise > 0 ? AutoencoderLosses.Corrupt(x, o.NoiseKind, o.Noise, Rng) : x.Detach();
        bool autodiffJacobian = o.Lambda > 0 && !UsesClosedFormJacobian;
        if (autodiffJacobian)
        {
            input.RequiresGrad = true;
            jacobianInput = input;
        }
        var encoder = (DeterministicEncoder)Encoder;
        var h = encoder.Forward(input);
        var output = Decoder.Forward(h);
        var recon = AutoencoderLosses.Reconstruction(o.Recon, output, x);
        var loss = recon;
        terms["recon"] = recon;
        if (o.Sparsity > 0)
        {
            var penalty = o.SparsePenalty == SparsePenalty.L1
                ? AutoencoderLosses.SparseL1(h, o.Sparsity)
                : AutoencoderLosses.SparseKl(h, o.Rho, o.Sparsity);
            terms["sparsity"] = penalty;
            loss = loss.Add(penalty);
            using (Autograd.NoGrad())
            using (var code = h.Detach())
                terms["mean_activation"] = code.Mean(); // logged, not trained
        }
        if (o.Lambda > 0)
        {
            var jacobian = autodiffJacobian
                ? AutoencoderLosses.ContractiveAutodiff(h, input)
                : AutoencoderLosses.ContractiveClosedForm(h, encoder.Code.Weight);
            var penalty = jacobian.Mul(o.Lambda);
            terms["contractive"] = penalty;
            loss = loss.Add(penalty);
        }
        terms["loss"] = loss;
        if (!autodiffJacobian) input.Dispose(); // the graph keeps its own handles
        return terms;
    }

    /// <summary>-ELBO = E_q[-log p(x|z)] + KL(q(z|x) || p(z)) with one reparameterised z per sample from <paramref name="rng"/>.</summary>
    Dictionary<string, Tensor> VaeTerms(Tensor x, Rng rng)
    {
        var encoder = (GaussianEncoder)Encoder;
        using var input = x.Detach();
        var (mu, logVar) = encoder.Encode(input);
        var z = AutoencoderLosses.Reparameterise(mu, logVar, rng);
        var output = Decoder.Forward(z);
        var recon = Options.Decoder == DecoderDistribution.Bernoulli
            ? AutoencoderLosses.BernoulliNll(output, x)
            : AutoencoderLosses.GaussianNll(output, x, Options.DecoderSigma);
        var kl = Losses.GaussianKl(mu, logVar);
        return new(StringComparer.Ordinal) { ["loss"] = recon.Add(kl), ["recon"] = recon, ["kl"] = kl };
    }

    // ------------------------------------------------------------------ reconstruction and pictures

    /// <summary>
    /// The reconstruction of <paramref name="x"/> [N, ...Shape] in the data's range [-1, 1] (logits mapped by
    /// 2 sigmoid(l) - 1 = tanh(l / 2)), in eval mode, without a graph; the VAE decodes the mean code. The caller disposes it.
    /// </summary>
    public Tensor Reconstruct(Tensor x)
    {
        CheckBatch("Reconstruct", x);
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            Encoder.Eval();
            Decoder.Eval();
            using var input = x.Detach();
            using var h = Encoder.Forward(input);
            var result = ToDataRange(Decoder.Forward(h));
            Encoder.Train();
            Decoder.Train();
            return TensorScope.Current!.Keep(result);
        }
    }

    /// <summary>The decoder's output mapped to the data range (takes ownership of <paramref name="output"/>).</summary>
    protected Tensor ToDataRange(Tensor output)
    {
        bool logits = Options.Kind == AutoencoderKind.Vae ? Options.Decoder == DecoderDistribution.Bernoulli : Options.Recon == ReconstructionLoss.Bce;
        if (!logits) return output;
        using (output) return output.Affine(0.5f, 0f).Tanh();
    }

    /// <summary>
    /// Sets the fixed batch of the reconstruction picture: its first <see cref="HeldCount"/> samples (copied).
    /// Without a call, the first training batch is held.
    /// </summary>
    public void Hold(Tensor x)
    {
        CheckBatch("Hold", x);
        heldCount = Math.Min(HeldCount, x.Dim(0));
        using var first = x.SliceBatch(0, heldCount);
        held = first.ToArray();
    }

    Tensor HeldBatch() => held is null
        ? throw new InvalidOperationException("WriteSamples: no batch is held yet (call Hold(x) or run a Step first)")
        : Tensor.FromArray(held, [heldCount, .. Options.DataShape], Device);

    /// <summary>
    /// The progress picture (PNG): the held batch's inputs over their reconstructions; for the denoising kind
    /// noisy / restored / clean rows (fixed noise); for the VAE a third row of samples from the prior (fixed z).
    /// Leaves the weights and <see cref="Rng"/> untouched. Non-image data (shape [D]) writes nothing.
    /// </summary>
    public virtual void WriteSamples(string path)
    {
        if (Options.DataShape.Length != 3) return;
        using var x = HeldBatch();
        if (Options.Noise > 0)
        {
            WriteDenoising(path, x);
            return;
        }
        using var r = Reconstruct(x);
        var rows = new List<Tensor> { x, r };
        if (this is VaeJob vae)
        {
            using var samples = vae.SamplePrior(heldCount);
            rows.Add(samples);
            ImageGrid.SaveRows(path, rows, columns: heldCount, scale: PictureScale, labels: ["input", "reconstruction", "prior sample"]);
            return;
        }
        ImageGrid.SaveRows(path, rows, columns: heldCount, scale: PictureScale, labels: ["input", "reconstruction"]);
    }

    /// <summary>The pictures' upsampling, the GAN samples' rule (<see cref="ImageGrid.ScaleFor"/>): 2 up to 32 pixels high.</summary>
    private protected int PictureScale => ImageGrid.ScaleFor(Options.DataShape[1]);

    /// <summary>
    /// Corrupts <paramref name="clean"/> with the job's noise setting (or <paramref name="noise"/>) from a fixed
    /// picture stream (not <see cref="Rng"/>) and restores it: returns (noisy, restored), both owned by the caller.
    /// </summary>
    public (Tensor Noisy, Tensor Restored) Denoise(Tensor clean, float? noise = null, NoiseKind? kind = null)
    {
        CheckBatch("Denoise", clean);
        float level = noise ?? (Options.Noise > 0 ? Options.Noise : 0.5f);
        var noisy = AutoencoderLosses.Corrupt(clean, kind ?? Options.NoiseKind, level, new Rng(Options.Seed, PictureStream));
        return (noisy, Reconstruct(noisy));
    }

    /// <summary>Writes noisy / restored / clean rows of <paramref name="clean"/> [n, C, H, W] as one PNG.</summary>
    public void WriteDenoising(string path, Tensor clean, float? noise = null, NoiseKind? kind = null)
    {
        RequireImages("WriteDenoising");
        var (noisy, restored) = Denoise(clean, noise, kind);
        using (noisy)
        using (restored)
            ImageGrid.SaveRows(path, [noisy, restored, clean], columns: clean.Dim(0), scale: PictureScale, labels: ["noisy", "restored", "clean"]);
    }

    // ------------------------------------------------------------------ evaluation

    /// <summary>
    /// Reconstruction MSE on <paramref name="data"/> (clean inputs), and by kind the mean code activation or
    /// the VAE's ELBO (nats per sample, one reparameterised z per sample from a fixed evaluation stream),
    /// in eval mode without a graph, in batches of <paramref name="batchSize"/>. Leaves <see cref="Rng"/> untouched.
    /// </summary>
    public AutoencoderEvaluation Evaluate(Dataset data, int batchSize = 256)
    {
        if (!data.SampleShape.SequenceEqual(Options.DataShape))
            throw new ArgumentException($"Evaluate: the data's samples are [{string.Join(", ", data.SampleShape)}], the model's are [{string.Join(", ", Options.DataShape)}]");
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        double sqErr = 0, recon = 0, kl = 0, act = 0, denoiseErr = 0;
        var evalRng = new Rng(Options.Seed, EvalStream);
        var noiseRng = new Rng(Options.Seed, EvalStream + (1UL << 40));
        bool vae = Options.Kind == AutoencoderKind.Vae;
        Encoder.Eval();
        Decoder.Eval();
        try
        {
            for (int start = 0; start < data.Count; start += batchSize)
            {
                int n = Math.Min(batchSize, data.Count - start);
                var slice = new float[n * data.SampleSize];
                Array.Copy(data.Data, (long)start * data.SampleSize, slice, 0, slice.Length);
                using var x = Tensor.FromArray(slice, [n, .. Options.DataShape], Device);
                using (Autograd.NoGrad())
                using (new TensorScope())
                {
                    var h = Encoder.Forward(x);
                    var r = ToDataRange(Decoder.Forward(h));
                    sqErr += (double)r.Sub(x).Square().Sum().Item();
                    if (vae)
                    {
                        var terms = VaeTerms(x, evalRng);
                        recon += (double)terms["recon"].Item() * n;
                        kl += (double)terms["kl"].Item() * n;
                    }
                    else act += (double)h.Sum().Item();
                    if (Options.Noise > 0)
                    {
                        var noisy = AutoencoderLosses.Corrupt(x, Options.NoiseKind, Options.Noise, noiseRng);
                        var restored = ToDataRange(Decoder.Forward(Encoder.Forward(noisy)));
                        denoiseErr += (double)restored.Sub(x).Square().Sum().Item();
                    }
                }
            }
        }
        finally
        {
            Encoder.Train();
            Decoder.Train();
        }
        int count = data.Count;
        double mse = sqErr / ((double)count * data.SampleSize);
        return new AutoencoderEvaluation(count, mse, mse / 4,
            vae ? -(recon + kl) / count : double.NaN,
            vae ? recon / count : double.NaN,
            vae ? kl / count : double.NaN,
            vae ? double.NaN : act / ((double)count * Options.Code),
            Options.Noise > 0 ? denoiseErr / ((double)count * data.SampleSize) : double.NaN);
    }

    /// <summary>
    /// The codes of up to <paramref name="maxCount"/> samples of <paramref name="data"/> (the VAE's mean code,
    /// else h) with their labels: the data of the 2D latent scatter coloured by class.
    /// </summary>
    public LatentCodes LatentScatter(Dataset data, int maxCount = 5000)
    {
        if (!data.SampleShape.SequenceEqual(Options.DataShape))
            throw new ArgumentException($"LatentScatter: the data's samples are [{string.Join(", ", data.SampleShape)}], the model's are [{string.Join(", ", Options.DataShape)}]");
        int count = Math.Min(maxCount, data.Count), k = Options.Code;
        var codes = new float[count * k];
        Encoder.Eval();
        try
        {
            for (int start = 0; start < count; start += 256)
            {
                int n = Math.Min(256, count - start);
                var slice = new float[n * data.SampleSize];
                Array.Copy(data.Data, (long)start * data.SampleSize, slice, 0, slice.Length);
                using var x = Tensor.FromArray(slice, [n, .. Options.DataShape], Device);
                using (Autograd.NoGrad())
                using (var h = Encoder.Forward(x))
                    h.ToArray().CopyTo(codes, start * k);
            }
        }
        finally { Encoder.Train(); }
        return new LatentCodes(codes, k, data.Labels?[..count]);
    }

    /// <summary>
    /// The 2D latent scatter coloured by class as a PNG: the codes (the VAE's mean code, else h) of up to
    /// <paramref name="maxCount"/> samples of <paramref name="data"/>, one colour per label (one set when the
    /// data has no labels). Needs a code of size 2.
    /// </summary>
    public void WriteLatentScatter(string path, Dataset data, int maxCount = 5000)
    {
        if (Options.Code != 2) throw new InvalidOperationException($"WriteLatentScatter: needs a 2D code (code 2), this model has code {Options.Code}");
        var codes = LatentScatter(data, maxCount);
        var x = new double[codes.Count];
        var y = new double[codes.Count];
        for (int i = 0; i < codes.Count; i++) (x[i], y[i]) = (codes.Codes[2 * i], codes.Codes[2 * i + 1]);
        var sets = codes.Labels is { } labels && data.ClassCount > 0
            ? ScatterPlot.ByClass(x, y, labels, data.ClassCount)
            : [new PointSet(data.Name, x, y)];
        ScatterPlot.Save(path, $"{Kind}: 2D codes of {codes.Count} samples", sets, xLabel: "h1", yLabel: "h2");
    }

    // ------------------------------------------------------------------ checks

    protected void RequireImages(string what)
    {
        if (Options.DataShape.Length != 3)
            throw new InvalidOperationException($"{what}: pictures need image data [C, H, W], this model's samples are [{string.Join(", ", Options.DataShape)}]");
    }

    void CheckBatch(string what, Tensor x)
    {
        if (x.Rank != Options.DataShape.Length + 1 || !x.Shape.AsSpan(1).SequenceEqual(Options.DataShape))
            throw new TensorShapeException($"AutoencoderJob.{what}: expected a batch [N, {string.Join(", ", Options.DataShape)}], got {Shapes.Format(x.Shape)}");
        if (x.Device != Device)
            throw new ArgumentException($"AutoencoderJob.{what}: the batch is on {x.Device.Name}, the model on {Device.Name}");
    }

    public void Dispose()
    {
        Encoder.Dispose();
        Decoder.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>Fixed prior stream for the sample row: the same z in every picture of a run.</summary>
    protected Tensor PriorLatents(int count) => RandomOps.Normal(Device, [count, Options.Code], Options.Seed, PriorStream);
}

/// <summary>
/// The variational autoencoder's job: an <see cref="AutoencoderJob"/> that also draws new samples, decoding
/// z ~ N(0, I) (<see cref="IGenerativeJob"/>), and renders the manifold of a 2D latent.
/// </summary>
public sealed class VaeJob : AutoencoderJob, IGenerativeJob
{
    internal VaeJob(AutoencoderOptions options, Device device) : base(options, device) { }

    public int LatentSize => Options.Code;
    public int ClassCount => 0;

    /// <summary>The decoder's mean for latents <paramref name="z"/> [count, k], in [-1, 1], eval mode, no graph.</summary>
    public Tensor Generate(Tensor z, int[]? labels = null)
    {
        if (labels is not null) throw new ArgumentException("VaeJob.Generate: the VAE is unconditional; pass no labels");
        if (z.Rank != 2 || z.Dim(1) != Options.Code)
            throw new TensorShapeException($"VaeJob.Generate: expected z [count, {Options.Code}], got {Shapes.Format(z.Shape)}");
        using (Autograd.NoGrad())
        using (new TensorScope())
        {
            Decoder.Eval();
            using var input = z.Detach();
            var result = ToDataRange(Decoder.Forward(input));
            Decoder.Train();
            return TensorScope.Current!.Keep(result);
        }
    }

    /// <summary>Decodings of <paramref name="count"/> fixed prior draws (the same in every picture of a run).</summary>
    public Tensor SamplePrior(int count)
    {
        using var z = PriorLatents(count);
        return Generate(z);
    }

    /// <summary>
    /// The manifold of a 2D latent as one PNG: a <paramref name="gridSize"/> x gridSize grid of decodings of the
    /// latent points (z1, z2) on an even grid over [-<paramref name="extent"/>, extent]^2, z1 growing to the
    /// right and z2 growing upwards (Kingma and Welling 2014, figure 4, with a linear rather than
    /// inverse-CDF grid).
    /// </summary>
    public void Manifold(string path, int gridSize = 20, float extent = 3f)
    {
        RequireImages("Manifold");
        if (Options.Code != 2) throw new InvalidOperationException($"Manifold: needs a 2D latent (code 2), this VAE has code {Options.Code}");
        ArgumentOutOfRangeException.ThrowIfLessThan(gridSize, 2);
        var points = new float[gridSize * gridSize * 2];
        for (int row = 0; row < gridSize; row++)
            for (int col = 0; col < gridSize; col++)
            {
                int i = row * gridSize + col;
                points[2 * i] = -extent + 2 * extent * col / (gridSize - 1);
                points[2 * i + 1] = extent - 2 * extent * row / (gridSize - 1);
            }
        using var z = Tensor.FromArray(points, [gridSize * gridSize, 2], Device);
        using var images = Generate(z);
        ImageGrid.Save(path, images, columns: gridSize, scale: PictureScale);
    }
}
