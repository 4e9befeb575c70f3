using NativeGan.Gan.Data;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.StackGan;

/// <summary>
/// The settings of <c>stackgan</c> (<see cref="StackGanJob"/>). The paper's (Zhang et al. 2017; reference
/// hanzhanggit/StackGAN-Pytorch cfg/*.yml): Adam 2e-4 with beta1 0.5 for every G and D, z of 100, the KL weight 2.0,
/// stage II 4x stage I's side; narrower networks (cpu-sized) and a condition of 64 (the paper's 128). What the paper had
/// pretrained, the text encoder, is trained here first (<c>pretrain_steps</c>).
/// </summary>
public sealed record StackGanOptions : ModelOptions
{
    [Setting("latent", "Length of the noise z of stage I (the paper's 100).", Min = 1)]
    public int Latent { get; init; } = 100;

    [Setting("embedding", "Length of the text and image encoders' embedding.", Min = 2)]
    public int Embedding { get; init; } = 128;

    [Setting("text_buckets", "Hash buckets of the text encoder's words and character trigrams.", Min = 16)]
    public int TextBuckets { get; init; } = 4096;

    [Setting("text_hidden", "Features of the text encoder's embedding table.", Min = 1)]
    public int TextHidden { get; init; } = 256;

    [Setting("condition", "Length of conditioning augmentation's condition c (the paper's 128).", Min = 1)]
    public int Condition { get; init; } = 64;

    [Setting("low_side", "Side of stage I's images (stage II's is the data's; the paper's ratio is 4).", Min = 8)]
    public int LowSide { get; init; } = 16;

    [Setting("g1_width", "Stage I generator's features at its last block (4x that at 4x4).", Min = 1)]
    public int Stage1Width { get; init; } = 32;

    [Setting("g2_width", "Stage II generator's features at the low side (halving per upsampling block, at least 16).", Min = 1)]
    public int Stage2Width { get; init; } = 32;

    [Setting("g2_blocks", "Residual blocks of stage II's generator.", Min = 0)]
    public int Stage2Blocks { get; init; } = 2;

    [Setting("d_width", "Both discriminators' features after their first convolution (doubling, up to 8x).", Min = 1)]
    public int CriticWidth { get; init; } = 16;

    [Setting("pretrain_steps", "Steps of contrastive text-image pretraining before stage I (the encoders are frozen after).", Min = 0)]
    public long PretrainSteps { get; init; } = 1500;

    [Setting("stage1_steps", "Steps of stage I after pretraining; stage II trains from then on with stage I frozen.", Min = 0)]
    public long Stage1Steps { get; init; } = 1500;

    [Setting("lr_encoders", "Adam learning rate of the text and image encoders' pretraining.", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateEncoders { get; init; } = 1e-3f;

    [Setting("temperature", "Temperature of the contrastive loss (fixed; CLIP learns it, from 0.07).", Min = 0, MinExclusive = true)]
    public float Temperature { get; init; } = 0.1f;

    [Setting("lr_g", "Adam learning rate of both generators (the paper's 2e-4).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateG { get; init; } = 2e-4f;

    [Setting("lr_d", "Adam learning rate of both discriminators (the paper's 2e-4).", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRateD { get; init; } = 2e-4f;

    [Setting("beta1", "Adam's beta1 for G and D (the paper's 0.5).", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.5f;

    [Setting("kl_weight", "Weight of conditioning augmentation's KL term in G's loss (the paper's 2.0).", Min = 0, ResumeMayChange = true)]
    public float KlWeight { get; init; } = ConditioningAugmentation.PaperKlWeight;

    [Setting("uncond_logit", "Stage II's D also judges realism without the text (the reference's stage-II unconditional logit; its loss terms as the reference weighs them).")]
    public bool UnconditionalLogit { get; init; } = true;

    [Setting("stage2_tie", "Weight of an L1 term tying stage II's image, average-pooled to low_side, to the stage-I image it redraws (0: off, the paper's): stage II starts from stage I's layout instead of from scratch.", Min = 0, ResumeMayChange = true)]
    public float Stage2Tie { get; init; } = 1f;

    [Setting("match_weight", "Weight of a text-image matching term in G's loss: the contrastive loss of the frozen pretrained encoders between the generated images and their captions (AttnGAN's DAMSM role; 0: off, StackGAN's).", Min = 0, ResumeMayChange = true)]
    public float MatchWeight { get; init; } = 1f;

    /// <summary>The full side (data_shape's).</summary>
    public int Side => DataShape[1];

    public override void Validate(string kind)
    {
        if (DataShape.Length != 3 || DataShape[0] != 3 || DataShape[1] != DataShape[2])
            throw new ArgumentException($"{kind}: images must be square RGB (data_shape 3,S,S), got {string.Join(",", DataShape)}");
        int side = DataShape[1];
        if (side < 16 || (side & (side - 1)) != 0) throw new ArgumentException($"{kind}: the side must be a power of 2 of at least 16, got {side}");
        if ((LowSide & (LowSide - 1)) != 0 || LowSide >= side)
            throw new ArgumentException($"{kind}: low_side must be a power of 2 below the side {side}, got {LowSide}");
    }
}

/// <summary>Where a StackGAN run stands: which networks a step trains.</summary>
public enum StackGanPhase
{
    /// <summary>The text and image encoders, contrastively.</summary>
    Pretrain,
    /// <summary>Stage I's G and D (low resolution).</summary>
    Stage1,
    /// <summary>Stage II's G and D, stage I frozen.</summary>
    Stage2,
}

/// <summary>
/// StackGAN (Zhang et al. 2017) on captioned images, in three phases by step (<see cref="PhaseAt"/>): the text encoder
/// and an image encoder trained together with CLIP's symmetric InfoNCE (then frozen: StackGAN's embeddings are fixed);
/// stage I (noise and condition to 16x16) for <c>stage1_steps</c>; then stage II (stage I's image and the condition to
/// 64x64) with stage I frozen, as the paper trains them (one stage after the other: stage II learns to correct a fixed
/// stage I, and on a cpu each step trains one pair of networks). Each GAN step is the reference's: D on real with its
/// text, fake with the text and real with a mismatched text (the next sample's caption), loss real + (fake + wrong) / 2;
/// then G with the non-saturating loss plus <c>kl_weight</c> times the KL of conditioning augmentation. Captions: each
/// sample's k-th caption, k = (step + i) modulo its number of captions, so every caption is used and a resumed run picks
/// the same ones. The step number is in the checkpoint, so <c>--resume</c> continues in the right phase.
/// </summary>
public sealed class StackGanJob : ITrainingJob
{
    const ulong TrainStream = 1UL << 40;

    /// <summary>The kind's name.</summary>
    public const string KindName = "stackgan";

    /// <summary>The captions of the progress pictures: emoji of several categories (held out or not).</summary>
    public static readonly IReadOnlyList<string> SampleCaptions =
    [
        "red apple", "smiling face with heart-shaped eyes", "japan flag", "dog face",
        "woman raising hand, medium skin tone", "automobile", "soccer ball", "black heart",
    ];

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;
    readonly float[] fixedLatents, fixedEps;
    long stepsDone;

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public StackGanJob(StackGanOptions options, Device device)
    {
        options.Validate(KindName);
        Options = options;
        Device = device;
        var init = new Rng(options.Seed);
        var o = options;
        TextEncoder = new TextEncoder(o.TextBuckets, o.TextHidden, o.Embedding, device, init);
        ImageEncoder = new ImageEncoder(3, o.Side, o.Embedding, device, init);
        Stage1G = new Stage1Generator(o.Embedding, o.Latent, o.Condition, o.Stage1Width, o.LowSide, device, init);
        Stage1D = new StageDiscriminator(o.LowSide, o.Condition, o.CriticWidth, device, init);
        Stage2G = new Stage2Generator(o.Embedding, o.Condition, o.Stage2Width, o.Stage2Blocks, o.LowSide, o.Side, device, init);
        Stage2D = new StageDiscriminator(o.Side, o.Condition, o.CriticWidth, device, init, unconditional: o.UnconditionalLogit);
        Rng = new Rng(o.Seed, TrainStream);
        Encoders = new Adam([.. TextEncoder.Parameters(), .. ImageEncoder.Parameters()], o.LearningRateEncoders);
        OptimizerG1 = new Adam(Stage1G.Parameters(), o.LearningRateG, o.Beta1, 0.999f);
        OptimizerD1 = new Adam(Stage1D.Parameters(), o.LearningRateD, o.Beta1, 0.999f);
        OptimizerG2 = new Adam(Stage2G.Parameters(), o.LearningRateG, o.Beta1, 0.999f);
        OptimizerD2 = new Adam(Stage2D.Parameters(), o.LearningRateD, o.Beta1, 0.999f);
        modules = new(StringComparer.Ordinal)
        {
            ["text_encoder"] = TextEncoder, ["image_encoder"] = ImageEncoder,
            ["stage1_g"] = Stage1G, ["stage1_d"] = Stage1D, ["stage2_g"] = Stage2G, ["stage2_d"] = Stage2D,
        };
        optimizers = new(StringComparer.Ordinal)
        {
            ["encoders"] = Encoders, ["stage1_g"] = OptimizerG1, ["stage1_d"] = OptimizerD1, ["stage2_g"] = OptimizerG2, ["stage2_d"] = OptimizerD2,
        };
        var fixedRng = new Rng(o.Seed ^ 0x9E3779B97F4A7C15UL, 1UL << 58);
        using (var z = fixedRng.Normal(Device.Cpu, [4, o.Latent])) fixedLatents = z.ToArray();
        using (var e = fixedRng.Normal(Device.Cpu, [4, o.Condition])) fixedEps = e.ToArray();
    }

    public StackGanOptions Options { get; }
    public Device Device { get; }
    public TextEncoder TextEncoder { get; }
    public ImageEncoder ImageEncoder { get; }
    public Stage1Generator Stage1G { get; }
    public StageDiscriminator Stage1D { get; }
    public Stage2Generator Stage2G { get; }
    public StageDiscriminator Stage2D { get; }
    public Adam Encoders { get; }
    public Adam OptimizerG1 { get; }
    public Adam OptimizerD1 { get; }
    public Adam OptimizerG2 { get; }
    public Adam OptimizerD2 { get; }
    public string Kind => KindName;
    ModelOptions ITrainingJob.Options => Options;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }

    /// <summary>The phase of step <paramref name="step"/> (counted from 0).</summary>
    public static StackGanPhase PhaseAt(long step, long pretrainSteps, long stage1Steps) =>
        step < pretrainSteps ? StackGanPhase.Pretrain : step < pretrainSteps + stage1Steps ? StackGanPhase.Stage1 : StackGanPhase.Stage2;

    /// <summary>The phase of the next step (after the steps this job has run or was resumed at; see <see cref="StepsDone"/>).</summary>
    public StackGanPhase Phase => PhaseAt(stepsDone, Options.PretrainSteps, Options.Stage1Steps);

    /// <summary>Steps run so far: the last step given to <see cref="Step"/> plus one (0 for a job loaded from a checkpoint
    /// until its first step); the progress picture's title uses it to say which stages have trained.</summary>
    public long StepsDone { get => stepsDone; set => stepsDone = value; }

    /// <summary>The caption of sample <paramref name="i"/> at <paramref name="step"/>: its (step + i)-th, cyclically.</summary>
    public static string CaptionAt(string[] captions, long step, int i)
    {
        if (captions.Length == 0) throw new DataException($"{KindName}: sample {i} has no caption");
        return captions[(int)((step + i) % captions.Length)];
    }

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var real = batch.Samples;
        if (real.Rank != 4 || !real.Shape.AsSpan(1).SequenceEqual(Options.DataShape))
            throw new TensorShapeException($"{Kind}.Step: a batch must be [N, {string.Join(", ", Options.DataShape)}], got {Shapes.Format(real.Shape)}");
        if (batch.Captions is not { } all)
            throw new DataException($"{Kind}: the data has no captions; train on --data emoji or a folder with a {CaptionedFolder.CaptionsFile}");
        int n = real.Dim(0);
        if (n < 2) throw new ArgumentException($"{Kind}: a batch needs at least 2 samples (mismatched captions come from another sample), got {n}");
        var captions = Enumerable.Range(0, n).Select(i => CaptionAt(all[i], step, i)).ToArray();
        var phase = PhaseAt(step, Options.PretrainSteps, Options.Stage1Steps);
        stepsDone = step + 1;
        var log = phase switch
        {
            StackGanPhase.Pretrain => PretrainStep(real, captions),
            StackGanPhase.Stage1 => GanStep(real, captions, stage: 1),
            _ => GanStep(real, captions, stage: 2),
        };
        log["phase"] = (int)phase;
        return log;
    }

    Dictionary<string, float> PretrainStep(Tensor real, string[] captions)
    {
        TextEncoder.Train();
        ImageEncoder.Train();
        using var scope = new TensorScope();
        var loss = Contrastive.Loss(TextEncoder.Encode(captions), ImageEncoder.Forward(real), Options.Temperature, out float accuracy);
        Encoders.ZeroGrad();
        loss.Backward();
        Encoders.Step();
        Encoders.ZeroGrad();
        return new(StringComparer.Ordinal) { ["loss_contrastive"] = loss.Item(), ["match_top1"] = accuracy };
    }

    /// <summary>Text embeddings of captions with the frozen encoder (no graph).</summary>
    public Tensor Embed(IReadOnlyList<string> captions)
    {
        bool was = TextEncoder.Training;
        TextEncoder.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            return TextEncoder.Encode(captions);
        }
        finally { TextEncoder.Train(was); }
    }

    Dictionary<string, float> GanStep(Tensor real, string[] captions, int stage)
    {
        int n = real.Dim(0);
        var g = stage == 1 ? (Module)Stage1G : Stage2G;
        var d = stage == 1 ? Stage1D : Stage2D;
        var optG = stage == 1 ? OptimizerG1 : OptimizerG2;
        var optD = stage == 1 ? OptimizerD1 : OptimizerD2;
        var ca = stage == 1 ? Stage1G.Augmentation : Stage2G.Augmentation;
        var wrongCaptions = Enumerable.Range(0, n).Select(i => captions[(i + 1) % n]).ToArray();
        var log = new Dictionary<string, float>(StringComparer.Ordinal);
        using var scope = new TensorScope();
        var text = Embed(captions);
        var wrongText = Embed(wrongCaptions);
        var target = stage == 1 ? Downsample(real, Options.LowSide) : real;

        g.Train();
        d.Train();
        var (mu, logVar) = ca.Gaussian(text);
        using var eps = Rng.Normal(Device, [n, Options.Condition]);
        var c = ConditioningAugmentation.Sample(mu, logVar, eps);
        Tensor fake;
        Tensor? stageOneImage = null;
        if (stage == 1)
        {
            using var z = Rng.Normal(Device, [n, Options.Latent]);
            fake = Stage1G.Forward(z, c);
        }
        else
        {
            stageOneImage = StageOne(text, n);
            fake = Stage2G.Forward(stageOneImage, c);
        }
        var muD = mu.Detach();
        Tensor wrongMu;
        using (Autograd.NoGrad()) wrongMu = ca.Mu.Forward(wrongText);

        // D: real with its text, fake with the text, real with another sample's text (and, with the text-blind head,
        // real and fake alone).
        var (realLogits, realUnconditional) = d.Logits(target, muD);
        var (fakeLogits, fakeUnconditional) = d.Logits(fake.Detach(), muD);
        var wrongLogits = d.Forward(target, wrongMu);
        var lossD = realUnconditional is not null
            ? MatchingAwareLoss.Discriminator(realLogits, fakeLogits, wrongLogits, realUnconditional, fakeUnconditional!)
            : MatchingAwareLoss.Discriminator(realLogits, fakeLogits, wrongLogits);
        optD.ZeroGrad();
        lossD.Backward();
        optD.Step();
        optD.ZeroGrad();
        log["loss_d"] = lossD.Item();

        // G: fool D with the text, keep the condition's Gaussian near N(0, I).
        foreach (var p in d.Parameters()) p.RequiresGrad = false;
        try
        {
            var (gLogits, gUnconditional) = d.Logits(fake, muD);
            var adversarial = gUnconditional is not null ? MatchingAwareLoss.Generator(gLogits, gUnconditional) : MatchingAwareLoss.Generator(gLogits);
            var kl = ConditioningAugmentation.Kl(mu, logVar);
            var lossG = adversarial.Add(kl.Mul(Options.KlWeight));
            if (stage == 2 && Options.Stage2Tie > 0)
            {
                // Stage II's image seen at stage I's side should still be stage I's picture.
                var tie = Losses.L1(Downsample(fake, Options.LowSide), stageOneImage!);
                lossG = lossG.Add(tie.Mul(Options.Stage2Tie));
                log["tie"] = tie.Item();
            }
            if (Options.MatchWeight > 0)
            {
                var match = MatchLoss(fake, text, out float matched);
                lossG = lossG.Add(match.Mul(Options.MatchWeight));
                log["match_g"] = match.Item();
                log["match_g_top1"] = matched;
            }
            optG.ZeroGrad();
            lossG.Backward();
            optG.Step();
            optG.ZeroGrad();
            log["loss_g"] = lossG.Item();
            log["kl"] = kl.Item();
        }
        finally
        {
            foreach (var p in d.Parameters()) p.RequiresGrad = true;
        }
        return log;
    }

    /// <summary>
    /// The contrastive loss (<see cref="Contrastive.Loss"/>, the pretraining's temperature) between generated images
    /// [n, 3, s, s] (enlarged by nearest neighbours to the full side when s is smaller) and their captions' embeddings,
    /// through the frozen image encoder: the gradient reaches G only. <paramref name="matched"/>: the share of images
    /// whose own caption is the batch's most similar.
    /// </summary>
    Tensor MatchLoss(Tensor images, Tensor text, out float matched)
    {
        // The encoders are frozen after pretraining: the term moves G's images, not the judge of matching.
        foreach (var p in ImageEncoder.Parameters()) p.RequiresGrad = false;
        ImageEncoder.Eval();
        var full = images;
        while (full.Dim(2) < Options.Side) full = full.UpsampleNearest2x();
        return Contrastive.Loss(text, ImageEncoder.Forward(full), Options.Temperature, out matched);
    }

    /// <summary>Stage I's images for embeddings <paramref name="text"/> with fresh noise from the job's stream, frozen (eval mode, no graph).</summary>
    Tensor StageOne(Tensor text, int n)
    {
        bool was = Stage1G.Training;
        Stage1G.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            using var z = Rng.Normal(Device, [n, Options.Latent]);
            using var eps = Rng.Normal(Device, [n, Options.Condition]);
            var (mu, logVar) = Stage1G.Augmentation.Gaussian(text);
            return scope.Keep(Stage1G.Forward(z, ConditioningAugmentation.Sample(mu, logVar, eps)));
        }
        finally { Stage1G.Train(was); }
    }

    /// <summary>Images [n, C, S, S] average-pooled to <paramref name="side"/> (what stage I learns to draw).</summary>
    public static Tensor Downsample(Tensor images, int side) => images.Dim(2) == side ? Ops.Reshape(images, images.Shape) : images.AvgPool2d(images.Dim(2) / side);

    /// <summary>
    /// Stage I's and stage II's images for text embeddings [n, embedding], noise z [n, latent] and augmentation noise eps
    /// [n, condition] (null: zero, the condition is mu), in eval mode without a graph. The caller disposes both.
    /// </summary>
    public (Tensor Low, Tensor High) Generate(Tensor text, Tensor z, Tensor? eps = null)
    {
        int n = text.Dim(0);
        if (text.Rank != 2 || text.Dim(1) != Options.Embedding) throw new TensorShapeException($"{Kind}.Generate: text embeddings must be [n, {Options.Embedding}], got {Shapes.Format(text.Shape)}");
        if (z.Rank != 2 || z.Dim(0) != n || z.Dim(1) != Options.Latent) throw new TensorShapeException($"{Kind}.Generate: z must be [{n}, {Options.Latent}], got {Shapes.Format(z.Shape)}");
        if (eps is not null && (eps.Rank != 2 || eps.Dim(0) != n || eps.Dim(1) != Options.Condition)) throw new TensorShapeException($"{Kind}.Generate: eps must be [{n}, {Options.Condition}], got {Shapes.Format(eps.Shape)}");
        bool was1 = Stage1G.Training, was2 = Stage2G.Training;
        Stage1G.Eval();
        Stage2G.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            using var zeros = eps is null ? Tensor.Zeros(Device, n, Options.Condition) : null;
            var noise = eps ?? zeros!;
            var (mu1, lv1) = Stage1G.Augmentation.Gaussian(text);
            var low = Stage1G.Forward(z, ConditioningAugmentation.Sample(mu1, lv1, noise));
            var (mu2, lv2) = Stage2G.Augmentation.Gaussian(text);
            var high = Stage2G.Forward(low, ConditioningAugmentation.Sample(mu2, lv2, noise));
            return (scope.Keep(low), scope.Keep(high));
        }
        finally
        {
            Stage1G.Train(was1);
            Stage2G.Train(was2);
        }
    }

    /// <summary>Stage I's and II's images for captions, one per (caption, noise) pair, with the fixed noises of the progress pictures.</summary>
    public (Tensor Low, Tensor High) GenerateFixed(IReadOnlyList<string> captions, int noises)
    {
        if (noises < 1 || noises > 4) throw new ArgumentOutOfRangeException(nameof(noises), $"{Kind}: 1 to 4 fixed noises, got {noises}");
        var texts = captions.SelectMany(c => Enumerable.Repeat(c, noises)).ToList();
        int n = texts.Count;
        var z = new float[n * Options.Latent];
        var e = new float[n * Options.Condition];
        for (int i = 0; i < n; i++)
        {
            Array.Copy(fixedLatents, i % noises * Options.Latent, z, i * Options.Latent, Options.Latent);
            Array.Copy(fixedEps, i % noises * Options.Condition, e, i * Options.Condition, Options.Condition);
        }
        using var text = Embed(texts);
        using var zt = Tensor.FromArray(z, [n, Options.Latent], Device);
        using var et = Tensor.FromArray(e, [n, Options.Condition], Device);
        return Generate(text, zt, et);
    }

    /// <summary>The progress picture: for each of <see cref="SampleCaptions"/>, its caption and stage I (upscaled) beside stage II
    /// for 3 fixed noises; the title says which stages have trained.</summary>
    public void WriteSamples(string path)
    {
        var (low, high) = GenerateFixed(SampleCaptions, 3);
        using (low)
        using (high)
        {
            // The phase of the last step run: what the pictures show has trained.
            string title = PhaseAt(Math.Max(0, stepsDone - 1), Options.PretrainSteps, Options.Stage1Steps) switch
            {
                StackGanPhase.Pretrain => $"step {stepsDone}: pretraining the encoders (G untrained)",
                StackGanPhase.Stage1 => $"step {stepsDone}: stage I training (stage II untrained)",
                _ => $"step {stepsDone}: stage II training",
            };
            StackGanPictures.SaveCaptionRows(path, title, SampleCaptions, low, high, 3);
        }
    }

    public void Dispose()
    {
        foreach (var m in modules.Values) m.Dispose();
    }
}

/// <summary>StackGAN as a model kind: <c>stackgan</c>.</summary>
public sealed class StackGanFamily : IModelFamily
{
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = StackGanJob.KindName,
            Description = "StackGAN (Zhang et al. 2017): text to image in two stages on captioned images (emoji with their names). A text encoder of hashed words and character trigrams is first trained contrastively against an image encoder (pretrain_steps); then stage I draws 16x16 images from noise and conditioning augmentation's condition (stage1_steps), then stage II redraws them at 64x64 through residual blocks with stage I frozen. Matching-aware discriminators (real + (fake + mismatched) / 2), KL weight 2.0, Adam 2e-4 (0.5, 0.999).",
            Defaults = (data, _) => new StackGanOptions { DataShape = data.SampleShape },
            // Checkpoints from before these settings trained without them.
            AddedLater = new Dictionary<string, string> { ["uncond_logit"] = "false", ["stage2_tie"] = "0", ["match_weight"] = "0" },
            Create = (options, device) => new StackGanJob((StackGanOptions)options, device),
            DefaultData = "emoji",
            DefaultEpochs = 40,
            DefaultBatch = 32,
        },
    ];
}
