using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.Training;
using NativeGan.Nn;

namespace NativeGan.Gan.Music;

/// <summary>MuseGAN's three multi-track models (Dong et al. 2018, section 3).</summary>
public enum MuseGanModel
{
    /// <summary>Shared inter-track latents (z, z_t) and private intra-track ones (z_i, z_i,t); a bar generator per track, one critic.</summary>
    Hybrid,

    /// <summary>One generator for all tracks from shared latents (z, z_t); one critic.</summary>
    Composer,

    /// <summary>A generator and a critic per track, each from its own latents (z_i, z_i,t).</summary>
    Jamming,
}

/// <summary>How MuseGAN's tanh outputs become notes (the paper's section 4.3).</summary>
public enum Binarization
{
    /// <summary>Hard thresholding at 0 (the paper's default for the results).</summary>
    Hard,

    /// <summary>Bernoulli sampling: each step of each pitch on with probability (x + 1) / 2.</summary>
    Bernoulli,
}

/// <summary>The track a track-conditional MuseGAN is given (the paper's accompaniment, section 4.4), or none.</summary>
public enum Accompaniment { None, Drums, Piano, Guitar, Bass, Strings }

/// <summary>
/// The settings of <c>musegan</c> (<see cref="MuseGanJob"/>). From the paper and its PyTorch tutorial port: WGAN-GP
/// (lambda 10) with 5 critic updates a generator update, Adam 1e-3 with betas 0.5 and 0.9, batch norm in G only,
/// latents of 32 each; the channel widths are narrower than the tutorial's (256 down to 16) for a cpu.
/// </summary>
public sealed record MuseGanOptions : ModelOptions
{
    [Setting("model", "hybrid (shared and private latents, a bar generator per track), composer (one generator for all tracks) or jamming (a generator and a critic per track).")]
    public MuseGanModel Model { get; init; } = MuseGanModel.Hybrid;

    [Setting("steps_per_bar", "Time steps of a 4/4 bar in the phrases (the paper's 96, LPD-5's 48 here by default; 16 or 24 for a quick cpu run, where QN and DP lose their meaning: every note is then long enough and every onset on the sixteenth grid). A multiple of 4.", Min = 4)]
    public int StepsPerBar { get; init; } = MultiTrack.DefaultStepsPerBar;

    [Setting("latent", "Length of each latent: z, z_t, z_i and z_i,t (the tutorial's 32 for z).", Min = 1)]
    public int Latent { get; init; } = 32;

    [Setting("g_width", "G's narrowest hidden channels w: a bar generator's layers have 8w, 4w, 2w, w.", Min = 1)]
    public int GeneratorWidth { get; init; } = 16;

    [Setting("d_width", "The critic's narrowest channels w: w and 2w per track, then 4w, 4w, 8w shared.", Min = 1)]
    public int CriticWidth { get; init; } = 16;

    [Setting("n_critic", "Critic updates a generator update (WGAN-GP's 5); each takes its own batch.", Min = 1)]
    public int CriticSteps { get; init; } = 5;

    [Setting("gp_lambda", "Weight of WGAN-GP's gradient penalty.", Min = 0, ResumeMayChange = true)]
    public float GpLambda { get; init; } = 10f;

    [Setting("lr", "Adam's learning rate, both networks.", Min = 0, MinExclusive = true, ResumeMayChange = true)]
    public float LearningRate { get; init; } = 1e-3f;

    [Setting("beta1", "Adam's beta1.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta1 { get; init; } = 0.5f;

    [Setting("beta2", "Adam's beta2.", Min = 0, Max = 1, MaxExclusive = true)]
    public float Beta2 { get; init; } = 0.9f;

    [Setting("accompany", "none, or the track a user will give (drums, piano, guitar, bass, strings): the track-conditional model that writes the other four around it (the paper's accompaniment). G reads the given track bar by bar through an encoder; the critic judges it together with the written ones; `nativegan accompany` uses it.")]
    public Accompaniment Accompany { get; init; } = Accompaniment.None;

    /// <summary>The given track's index (drums 0 ... strings 4), or null for a model that writes all five.</summary>
    public int? GivenTrack => Accompany == Accompaniment.None ? null : (int)Accompany - 1;

    /// <summary>Bars in a phrase.</summary>
    public int Bars => MultiTrack.DefaultBars;

    public override void Validate(string kind)
    {
        if (StepsPerBar % 4 != 0) throw new ArgumentException($"{kind}: steps_per_bar must be a multiple of 4, got {StepsPerBar}");
        int[] want = [MultiTrack.Tracks, Bars * StepsPerBar, MultiTrack.Pitches];
        if (!DataShape.SequenceEqual(want))
            throw new ArgumentException($"{kind}: data_shape must be {string.Join(",", want)} (phrases of {MultiTrack.Tracks} tracks, {Bars} bars of {StepsPerBar} steps, {MultiTrack.Pitches} pitches; see --data game-music), got {string.Join(",", DataShape)}");
    }
}

/// <summary>
/// MuseGAN (Dong, Hsiao, Yang and Yang 2018, "MuseGAN: Multi-track sequential generative adversarial networks for
/// symbolic music generation and accompaniment"): 4-bar phrases of five binarised piano-roll tracks
/// (<see cref="MultiTrack"/>), [N, 5 tracks, 4 bars · steps, 84 pitches], generated bar by bar. A temporal generator
/// turns a time-dependent latent into one vector per bar; a bar generator turns a bar's latents into the bar's roll.
/// The three models of <see cref="MuseGanModel"/> differ in which latents and generators are shared by the tracks.
/// The loss is WGAN-GP with <c>n_critic</c> critic updates a step; batch norm in G only; tanh outputs, the real rolls
/// scaled to {-1, 1}, generated ones binarised at 0.
/// <para>No 3-D convolution op is needed: the reference's ConvTranspose3d / Conv3d kernels are all either equal to
/// their stride along one axis (bars, steps or pitches) — a reshape and a linear map (<see cref="PatchConvTranspose"/>,
/// <see cref="PatchConv"/>) — or 1x1x3 with stride 1, a 2-D convolution with a 1x3 kernel along pitch
/// (<see cref="PitchConv"/>); bars are folded into the batch between them.</para>
/// </summary>
public sealed class MuseGanJob : ITrainingJob
{
    const ulong TrainStream = 1UL << 40;

    /// <summary>The kind's name.</summary>
    public const string KindName = "musegan";

    /// <summary>Phrases in the progress picture (fixed latents).</summary>
    public const int SamplePhrases = 6;

    readonly Dictionary<string, Module> modules;
    readonly Dictionary<string, Optimizer> optimizers;
    readonly float[] fixedLatents;
    float[]? heldGiven; // accompaniment: the given track of the first batch's phrases, {0, 1}, for the progress picture

    /// <summary>A job for <paramref name="options"/> (checked) on <paramref name="device"/>.</summary>
    public MuseGanJob(MuseGanOptions options, Device device)
    {
        options.Validate(KindName);
        Options = options;
        Device = device;
        var init = new Rng(options.Seed);
        Rng = new Rng(options.Seed, TrainStream);
        Generator = new MuseGanGenerator(options, device, init);
        Critics = options.Model == MuseGanModel.Jamming
            ? [.. Enumerable.Range(0, MultiTrack.Tracks).Select(_ => new MuseGanCritic(1, options, device, init))]
            : [new MuseGanCritic(MultiTrack.Tracks, options, device, init)];
        Critic = new ModuleList<MuseGanCritic>(Critics);
        OptimizerG = new Adam(Generator.Parameters(), options.LearningRate, options.Beta1, options.Beta2);
        OptimizerD = new Adam(Critic.Parameters(), options.LearningRate, options.Beta1, options.Beta2);
        modules = new(StringComparer.Ordinal) { ["generator"] = Generator, ["discriminator"] = Critic };
        optimizers = new(StringComparer.Ordinal) { ["generator"] = OptimizerG, ["discriminator"] = OptimizerD };
        using var z = new Rng(options.Seed ^ 0x9E3779B97F4A7C15UL, 1UL << 58).Normal(Device.Cpu, [SamplePhrases, Generator.LatentSize]);
        fixedLatents = z.ToArray();
    }

    public MuseGanOptions Options { get; }
    public Device Device { get; }
    public MuseGanGenerator Generator { get; }

    /// <summary>The critics: one over all tracks (hybrid, composer) or one per track (jamming).</summary>
    public IReadOnlyList<MuseGanCritic> Critics { get; }

    /// <summary>The critics as one module (saved as "discriminator").</summary>
    public ModuleList<MuseGanCritic> Critic { get; }
    public Adam OptimizerG { get; }
    public Adam OptimizerD { get; }
    public string Kind => KindName;
    ModelOptions ITrainingJob.Options => Options;
    public int BatchesPerStep => Options.CriticSteps;
    public IReadOnlyDictionary<string, Module> Modules => modules;
    public IReadOnlyDictionary<string, Optimizer> Optimizers => optimizers;
    public Rng Rng { get; }

    /// <summary>Rolls in {0, 1} as the networks see them: {-1, 1}.</summary>
    static Tensor ToNetwork(Tensor rolls) => rolls.Mul(2f).Add(-1f);

    /// <summary>Accompaniment: the given track [N, 1, L, 84] of phrases [N, 5, L, 84]; null for a model that writes all five.</summary>
    Tensor? Given(Tensor phrases) => Options.GivenTrack is { } t ? phrases.ChannelSlice(t, 1) : null;

    /// <summary>The written phrases with the given track put back in its place: what the critic judges and the user hears.</summary>
    Tensor WithGiven(Tensor written, Tensor? given)
    {
        if (given is null) return written;
        int t = Options.GivenTrack!.Value;
        var parts = new List<Tensor>();
        if (t > 0) parts.Add(written.ChannelSlice(0, t));
        parts.Add(given);
        if (t < MultiTrack.Tracks - 1) parts.Add(written.ChannelSlice(t + 1, MultiTrack.Tracks - 1 - t));
        return Ops.ChannelConcat([.. parts]);
    }

    /// <summary>Keeps the given track of the first phrases seen (repeated if the batch is smaller) for the progress picture.</summary>
    void Hold(Tensor rolls)
    {
        if (Options.GivenTrack is not { } t || heldGiven is not null) return;
        var all = rolls.ToArray();
        int length = Options.DataShape[1] * MultiTrack.Pitches, n = rolls.Dim(0);
        heldGiven = new float[SamplePhrases * length];
        for (int i = 0; i < SamplePhrases; i++)
            all.AsSpan(((i % n) * MultiTrack.Tracks + t) * length, length).CopyTo(heldGiven.AsSpan(i * length));
    }

    /// <summary>Wasserstein critic loss plus gradient penalty of every critic (jamming: each on its own track).</summary>
    Tensor CriticLoss(Tensor real, Tensor fake, PendingLog? log)
    {
        Tensor? total = null, distance = null, penalty = null;
        for (int c = 0; c < Critics.Count; c++)
        {
            var critic = Critics[c];
            var r = Critics.Count == 1 ? real : real.ChannelSlice(c, 1);
            var f = Critics.Count == 1 ? fake : fake.ChannelSlice(c, 1);
            var w = Losses.WassersteinCritic(critic.Forward(r), critic.Forward(f));
            var gp = Losses.GradientPenalty(critic.Forward, r, f, Rng, Options.GpLambda);
            var term = w.Add(gp);
            total = total is null ? term : total.Add(term);
            distance = distance is null ? w : distance.Add(w);
            penalty = penalty is null ? gp : penalty.Add(gp);
        }
        if (log is not null)
        {
            log.Add("wasserstein", distance!, scale: -1f);
            log.Add("gp", penalty!);
        }
        return total!;
    }

    /// <summary>
    /// The fraction of steps·pitches that are on (above 0, as binarised) in each track of G's phrases ("on_drums" ...)
    /// and in all of the real ones ("on_real"): whether G has left its start, where tanh of pre-activations spread
    /// around 0 turns half of every roll on (no empty bar, all 12 pitch classes), towards the data's few percent.
    /// </summary>
    static void LogOnFractions(PendingLog log, Tensor real, Tensor fake)
    {
        // x > 0 as relu(x) / |x|: 1 where on, 0 where off (tanh outputs are never exactly 0 in practice).
        static Tensor On(Tensor x) => x.Relu().Div(x.Abs().Add(1e-30f)).Mean();
        using var noGrad = Autograd.NoGrad();
        log.Add("on_real", On(real));
        for (int t = 0; t < fake.Dim(1); t++)
            log.Add("on_" + ((Instrument)t).ToString().ToLowerInvariant(), On(fake.ChannelSlice(t, 1)));
    }

    Tensor GeneratorLoss(Tensor fake)
    {
        Tensor? total = null;
        for (int c = 0; c < Critics.Count; c++)
        {
            var x = Critics.Count == 1 ? fake : fake.ChannelSlice(c, 1);
            var l = Losses.WassersteinGenerator(Critics[c].Forward(x));
            total = total is null ? l : total.Add(l);
        }
        return total!;
    }

    public IReadOnlyDictionary<string, float> Step(Batch batch, long step)
    {
        var samples = batch.Samples;
        if (samples.Rank != 4 || !samples.Shape.AsSpan(1).SequenceEqual(Options.DataShape))
            throw new TensorShapeException($"{Kind}.Step: a batch must be [N, {string.Join(", ", Options.DataShape)}] phrases, got {Shapes.Format(samples.Shape)}");
        int total = samples.Dim(0), updates = Options.CriticSteps;
        bool split = updates > 1 && total % updates == 0 && total / updates >= 2;
        int size = split ? total / updates : total;
        Generator.Train();
        Critic.Train();
        using var log = new PendingLog();
        for (int k = 0; k < updates; k++)
        {
            using var scope = new TensorScope();
            using var slice = samples.SliceBatch(split ? k * size : 0, size);
            var real = ToNetwork(slice);
            var given = Given(real);
            Hold(slice);
            using var z = Rng.Normal(Device, [size, Generator.LatentSize]);
            Tensor fake;
            using (Autograd.NoGrad()) fake = WithGiven(Generator.Forward(z, given), given);
            var lossD = CriticLoss(real, fake, k == updates - 1 ? log : null);
            if (k == updates - 1) LogOnFractions(log, real, fake);
            Critic.ZeroGrad();
            lossD.Backward();
            OptimizerD.Step();
            if (k == updates - 1) log.Add("loss_d", lossD);
        }
        using (new TensorScope())
        {
            foreach (var p in Critic.Parameters()) p.RequiresGrad = false;
            try
            {
                using var z = Rng.Normal(Device, [size, Generator.LatentSize]);
                Tensor? given = null;
                if (Options.GivenTrack is not null)
                {
                    using var slice = samples.SliceBatch(0, size);
                    given = Given(ToNetwork(slice));
                }
                var lossG = GeneratorLoss(WithGiven(Generator.Forward(z, given), given));
                Generator.ZeroGrad();
                lossG.Backward();
                using (var norm = GradientClipping.GradNormTensor(Generator.Parameters())) log.Add("grad_norm_g", norm);
                OptimizerG.Step();
                log.Add("loss_g", lossG);
            }
            finally
            {
                foreach (var p in Critic.Parameters()) p.RequiresGrad = true;
            }
        }
        return log.Read();
    }

    /// <summary>
    /// Phrases for latents <paramref name="z"/> [count, <see cref="MuseGanGenerator.LatentSize"/>] in eval mode (batch
    /// norm's running statistics), binarised (<paramref name="binarization"/>: at 0, or each step on with probability
    /// (x + 1) / 2 from <paramref name="seed"/>'s own stream): rolls [count, 5, bars·steps, 84] in {0, 1}, row-major.
    /// An accompaniment model takes <paramref name="given"/>, the given track's rolls [count, L, 84] in {0, 1}, returned
    /// unchanged in its place among the written ones.
    /// </summary>
    public float[] Phrases(Tensor z, float[]? given = null, Binarization binarization = Binarization.Hard, ulong seed = 1)
    {
        if (Options.GivenTrack is not null && given is null)
            throw new ArgumentException($"{Kind}: this model accompanies a given {Options.Accompany.ToString().ToLowerInvariant()} track; give it one (`nativegan accompany --track FILE.mid`)");
        if (Options.GivenTrack is null && given is not null)
            throw new ArgumentException($"{Kind}: this model writes all five tracks (accompany none): it takes no given track");
        int count = z.Dim(0), length = Options.DataShape[1];
        if (given is not null && given.Length != count * length * MultiTrack.Pitches)
            throw new TensorShapeException($"{Kind}: the given track must be [{count}, {length}, {MultiTrack.Pitches}] (one phrase per latent), got {given.Length} values");
        bool wasTraining = Generator.Training;
        Generator.Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            using var scope = new TensorScope();
            Tensor? track = null;
            if (given is not null)
            {
                using var rolls = Tensor.FromArray(given, [count, 1, length, MultiTrack.Pitches], Device);
                track = ToNetwork(rolls);
            }
            var x = WithGiven(Generator.Forward(z, track), track).ToArray();
            if (binarization == Binarization.Bernoulli)
            {
                // The given track is exactly -1 or 1: probability 0 or 1, so it stays as given.
                using var u = new Rng(seed ^ 0xB1A5EDUL, 1UL << 61).Uniform(Device.Cpu, [x.Length], 0f, 1f);
                var draws = u.ToArray();
                for (int i = 0; i < x.Length; i++) x[i] = draws[i] < (x[i] + 1) / 2 ? 1f : 0f;
            }
            else for (int i = 0; i < x.Length; i++) x[i] = x[i] > 0 ? 1f : 0f;
            return x;
        }
        finally
        {
            Generator.Train(wasTraining);
        }
    }

    /// <summary><paramref name="count"/> phrases from latents of their own stream (<paramref name="seed"/>), the training
    /// stream untouched: rolls [count, 5, bars·steps, 84] in {0, 1}; an accompaniment model around the given track's
    /// phrases <paramref name="given"/> ([count, L, 84] in {0, 1}); binarised as <paramref name="binarization"/> says.</summary>
    public float[] Phrases(int count, ulong seed, float[]? given = null, Binarization binarization = Binarization.Hard)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, $"{Kind}.Phrases: at least one phrase");
        using var z = new Rng(seed ^ 0xC0FFEEUL, 1UL << 60).Normal(Device, [count, Generator.LatentSize]);
        return Phrases(z, given, binarization, seed);
    }

    /// <summary>
    /// Accompaniment (a model with <c>accompany</c> set): the other four tracks written around <paramref name="given"/>'s
    /// notes, which all become the given track (its pitched notes for a pitched track, its drums for drums), quantised to
    /// the model's steps a bar; the piece is cut into 4-bar phrases (the last one padded with silence), each accompanied
    /// with latents of <paramref name="seed"/>'s own stream, and joined again, as long as the given piece in whole bars.
    /// The given track comes back exactly as quantised.
    /// </summary>
    public Song Accompany(Song given, ulong seed, Binarization binarization = Binarization.Hard)
    {
        if (Options.GivenTrack is not { } t)
            throw new ArgumentException($"{Kind}: this model writes all five tracks; train one with --set accompany=TRACK to accompany a given one");
        bool drums = t == (int)Instrument.Drums;
        var notes = given.Tracks.Where(tr => tr.IsDrum == drums).SelectMany(tr => tr.Notes).ToList();
        if (notes.Count == 0)
            throw new DataException($"{given.Name}: no {(drums ? "drum" : "pitched")} notes to accompany (the model was trained to accompany {Options.Accompany.ToString().ToLowerInvariant()})");
        // One track on the given instrument, so the track mapping puts every note in the given track's place.
        var one = given with { Tracks = [new Track("given", drums ? Track.DrumChannel : 0, MultiTrack.Programs[t], notes)] };
        var (roll, steps) = MultiTrack.Roll(one, Options.StepsPerBar);
        long barTicks = 4L * one.TicksPerQuarter; // 4/4 bars, as the phrases are cut
        int length = Options.DataShape[1], bars = (int)Math.Max(1, (one.EndTick + barTicks - 1) / barTicks);
        int count = (bars * Options.StepsPerBar + length - 1) / length;
        var track = new float[count * length * MultiTrack.Pitches];
        int kept = Math.Min(steps, count * length); // the roll's one step past the end is silent
        roll.AsSpan(t * steps * MultiTrack.Pitches, kept * MultiTrack.Pitches).CopyTo(track);
        var song = ToSong(Phrases(count, seed, track, binarization), $"{given.Name}, accompanied by {Kind} seed {seed}");
        long end = bars * 4L * song.TicksPerQuarter;
        return song with { Tracks = [.. song.Tracks.Select(tr => tr with { Notes = [.. tr.Notes.Where(n => n.Onset < end).Select(n => n with { Duration = (int)Math.Min(n.Duration, end - n.Onset) })] })] };
    }

    /// <summary>Phrases (rolls [count, 5, steps, 84] in {0, 1}) one after another as one five-track song.</summary>
    public Song ToSong(float[] phrases, string name)
    {
        int size = MultiTrack.Tracks * Options.DataShape[1] * MultiTrack.Pitches, count = phrases.Length / size, steps = Options.DataShape[1];
        var joined = new float[MultiTrack.Tracks * count * steps * MultiTrack.Pitches];
        for (int i = 0; i < count; i++)
            for (int t = 0; t < MultiTrack.Tracks; t++)
                phrases.AsSpan(i * size + t * steps * MultiTrack.Pitches, steps * MultiTrack.Pitches)
                    .CopyTo(joined.AsSpan((t * count * steps + i * steps) * MultiTrack.Pitches));
        return MultiTrack.ToSong(joined, count * steps, name, Options.StepsPerBar);
    }

    /// <summary>
    /// The phrases of the fixed latents as a grid of multi-track piano rolls (two a row, one colour per track), and all of
    /// them one after another as a MIDI file beside it (.mid).
    /// </summary>
    public void WriteSamples(string path)
    {
        using var z = Tensor.FromArray(fixedLatents, [SamplePhrases, Generator.LatentSize], Device);
        // An accompaniment model before any batch (a loaded checkpoint): around silence.
        var given = Options.GivenTrack is null ? null : heldGiven ?? new float[SamplePhrases * Options.DataShape[1] * MultiTrack.Pitches];
        var rolls = Phrases(z, given);
        int size = rolls.Length / SamplePhrases;
        MidiFiles.Write(ToSong(rolls, "musegan samples"), Path.ChangeExtension(path, ".mid"));
        var pictures = Enumerable.Range(0, SamplePhrases)
            .Select(i => PianoRoll.Draw(ToSong(rolls[(i * size)..((i + 1) * size)], $"phrase {i + 1}"), maxBars: Options.Bars, pixelsPerQuarter: 12)).ToList();
        const int columns = 2, gap = 6;
        int cellW = pictures.Max(p => p.Width), cellH = pictures.Max(p => p.Height), rows = (SamplePhrases + columns - 1) / columns;
        var grid = new Canvas(columns * cellW + (columns - 1) * gap, rows * cellH + (rows - 1) * gap, new Rgb(200, 200, 200));
        for (int i = 0; i < pictures.Count; i++)
        {
            int x0 = i % columns * (cellW + gap), y0 = i / columns * (cellH + gap);
            grid.FillRect(x0, y0, cellW, cellH, Rgb.White);
            for (int y = 0; y < pictures[i].Height; y++)
                for (int x = 0; x < pictures[i].Width; x++) grid.SetPixel(x0 + x, y0 + y, pictures[i].GetPixel(x, y));
        }
        grid.SavePng(path);
    }

    public void Dispose()
    {
        Generator.Dispose();
        Critic.Dispose();
    }
}

/// <summary>
/// A 2-D convolution with a 1xK kernel along the last axis (pitch) and stride 1, no padding: MuseGAN's (1, 1, 3)
/// stride-1 Conv3d with the bars folded into the batch. Weight [out, in, 1, K] (the engine's Conv2d takes rectangular
/// kernels); transposed: the transposed convolution, weight [in, out, 1, K], W grows by K - 1.
/// </summary>
public sealed class PitchConv : Module
{
    readonly bool transposed;

    /// <summary>Weight and bias drawn as PyTorch draws a convolution's.</summary>
    public PitchConv(int inChannels, int outChannels, int kernel, bool transposed, Device device, Rng rng)
    {
        this.transposed = transposed;
        Weight = RegisterParameter("weight", transposed ? Tensor.Empty(device, inChannels, outChannels, 1, kernel) : Tensor.Empty(device, outChannels, inChannels, 1, kernel));
        Bias = RegisterParameter("bias", Tensor.Empty(device, outChannels));
        Init.DefaultLinearOrConv(Weight, Bias, rng);
    }

    public Tensor Weight { get; }
    public Tensor Bias { get; }

    public override Tensor Forward(Tensor x) => transposed ? x.ConvTranspose2d(Weight, Bias) : x.Conv2d(Weight, Bias);
}

/// <summary>
/// A temporal generator: a latent [N, d] to one vector per bar [N·4, d] (rows sample-major), two transposed patch
/// layers (1 -> 2 -> 4 bars, the paper's kernel-2 transposed convolutions), batch norm and ReLU after each.
/// </summary>
public sealed class TemporalGenerator : Module
{
    /// <summary>Layers of width 2d then d.</summary>
    public TemporalGenerator(int latent, Device device, Rng rng)
    {
        First = RegisterModule("first", new PatchConvTranspose(latent, 2 * latent, 2, PatchAxis.Height, device: device, rng: rng));
        FirstNorm = RegisterModule("first_norm", new Nn.BatchNorm2d(2 * latent, device: device));
        Second = RegisterModule("second", new PatchConvTranspose(2 * latent, latent, 2, PatchAxis.Height, device: device, rng: rng));
        SecondNorm = RegisterModule("second_norm", new Nn.BatchNorm2d(latent, device: device));
    }

    public PatchConvTranspose First { get; }
    public Nn.BatchNorm2d FirstNorm { get; }
    public PatchConvTranspose Second { get; }
    public Nn.BatchNorm2d SecondNorm { get; }

    /// <summary>[N, d] -> [N·4, d].</summary>
    public override Tensor Forward(Tensor z)
    {
        int n = z.Dim(0), d = z.Dim(1);
        using var x = Ops.Reshape(z, n, d, 1, 1);
        using var a = FirstNorm.Forward(First.Forward(x)).Relu();
        using var b = SecondNorm.Forward(Second.Forward(a)).Relu();      // [N, d, 4, 1]
        using var bars = b.Permute(0, 2, 1, 3);                           // [N, 4, d, 1]
        return Ops.Reshape(bars, n * b.Dim(2), d);
    }
}

/// <summary>
/// A bar generator: a bar's latent vector [M, in] to its roll [M, tracks, steps, 84] (M = phrases · bars). The tutorial
/// port's layers with the bars axis gone (the temporal generators made it): steps x4, pitches x5, pitches +2 (1x3
/// kernel), steps x steps/4, pitches x12; batch norm and ReLU between, tanh at the end.
/// </summary>
public sealed class BarGenerator : Module
{
    readonly List<(Module Layer, Nn.BatchNorm2d? Norm)> layers = [];

    /// <summary>A bar generator of width w = <paramref name="width"/> writing <paramref name="tracks"/> tracks.</summary>
    public BarGenerator(int inFeatures, int tracks, int width, int stepsPerBar, Device device, Rng rng)
    {
        Add("steps4", new PatchConvTranspose(inFeatures, 8 * width, 4, PatchAxis.Height, device: device, rng: rng), 8 * width);
        Add("pitch5", new PatchConvTranspose(8 * width, 4 * width, 5, PatchAxis.Width, device: device, rng: rng), 4 * width);
        Add("pitch3", new PitchConv(4 * width, 2 * width, 3, transposed: true, device, rng), 2 * width);
        Add("steps", new PatchConvTranspose(2 * width, width, stepsPerBar / 4, PatchAxis.Height, device: device, rng: rng), width);
        Add("pitch12", new PatchConvTranspose(width, tracks, 12, PatchAxis.Width, device: device, rng: rng), null);

        void Add(string name, Module layer, int? norm) =>
            layers.Add((RegisterModule(name, layer), norm is { } c ? RegisterModule(name + "_norm", new Nn.BatchNorm2d(c, device: device)) : null));
    }

    /// <summary>[M, in] -> [M, tracks, steps, 84] in (-1, 1).</summary>
    public override Tensor Forward(Tensor x)
    {
        var h = Ops.Reshape(x, x.Dim(0), x.Dim(1), 1, 1);
        foreach (var (layer, norm) in layers)
        {
            var y = layer.Forward(h);
            h = norm is null ? y.Tanh() : norm.Forward(y).Relu();
        }
        return h;
    }
}

/// <summary>
/// MuseGAN's generator for each of <see cref="MuseGanModel"/>. Its latent [N, L] is the concatenation of z (d; hybrid,
/// composer), z_t (d; hybrid, composer), z_1..z_5 (5d; hybrid, jamming) and z_1,t..z_5,t (5d; hybrid, jamming). A bar
/// generator's input for bar b is [z | G_temp(z_t)_b | z_i | G_temp,i(z_i,t)_b] (what its model has).
/// Output: phrases [N, 5, bars·steps, 84] in (-1, 1).
/// </summary>
public sealed class MuseGanGenerator : Module
{
    readonly MuseGanModel model;
    readonly int latent, bars;

    /// <summary>G of <paramref name="options"/>, weights from <paramref name="rng"/>.</summary>
    public MuseGanGenerator(MuseGanOptions options, Device device, Rng rng)
    {
        (model, latent, bars) = (options.Model, options.Latent, options.Bars);
        bool shared = model != MuseGanModel.Jamming, perTrack = model != MuseGanModel.Composer;
        if (shared) SharedTemporal = RegisterModule("temporal", new TemporalGenerator(latent, device, rng));
        if (perTrack) TrackTemporal = RegisterModule("track_temporal", new ModuleList<TemporalGenerator>(Enumerable.Range(0, MultiTrack.Tracks).Select(_ => new TemporalGenerator(latent, device, rng))));
        int inFeatures = (shared ? 2 : 0) * latent + (perTrack ? 2 : 0) * latent;
        if (options.GivenTrack is not null)
        {
            GivenEncoder = RegisterModule("given", new GivenTrackEncoder(latent, options.GeneratorWidth, options.StepsPerBar, device, rng));
            inFeatures += latent;
        }
        BarGenerators = RegisterModule("bar", new ModuleList<BarGenerator>(model == MuseGanModel.Composer
            ? new[] { new BarGenerator(inFeatures, MultiTrack.Tracks, options.GeneratorWidth, options.StepsPerBar, device, rng) }
            : Enumerable.Range(0, MultiTrack.Tracks).Select(_ => new BarGenerator(inFeatures, 1, options.GeneratorWidth, options.StepsPerBar, device, rng))));
        LatentSize = ((shared ? 2 : 0) + (perTrack ? 2 * MultiTrack.Tracks : 0)) * latent;
    }

    /// <summary>The shared temporal generator (hybrid, composer).</summary>
    public TemporalGenerator? SharedTemporal { get; }

    /// <summary>The per-track temporal generators (hybrid, jamming).</summary>
    public ModuleList<TemporalGenerator>? TrackTemporal { get; }

    /// <summary>One bar generator for all tracks (composer) or one per track.</summary>
    public ModuleList<BarGenerator> BarGenerators { get; }

    /// <summary>The length L of the latent [N, L] (see the class summary).</summary>
    public int LatentSize { get; }

    /// <summary>Accompaniment: the encoder of the given track, whose vector per bar every bar generator reads too.</summary>
    public GivenTrackEncoder? GivenEncoder { get; }

    public override Tensor Forward(Tensor z) => Forward(z, null);

    /// <summary>Phrases for latents <paramref name="z"/> [N, L] around <paramref name="given"/> [N, 1, bars·steps, 84] in
    /// {-1, 1} (an accompaniment model; null otherwise). The given track's own place in the output is written too, and
    /// replaced by the caller.</summary>
    public Tensor Forward(Tensor z, Tensor? given)
    {
        if (z.Rank != 2 || z.Dim(1) != LatentSize) throw new TensorShapeException($"MuseGanGenerator: latents must be [N, {LatentSize}], got {Shapes.Format(z.Shape)}");
        if ((GivenEncoder is null) != (given is null))
            throw new ArgumentException(GivenEncoder is null ? "MuseGanGenerator: this generator takes no given track" : "MuseGanGenerator: this generator accompanies a given track: pass it");
        int n = z.Dim(0), at = 0;
        Tensor Take(int count) { var part = z.ChannelSlice(at, count); at += count; return part; }
        // A time-independent latent [N, d] seen by every bar: [N·bars, d], rows sample-major like the temporal generators'.
        Tensor EveryBar(Tensor v) => Ops.Reshape(Ops.Reshape(v, n, 1, latent).Expand([n, bars, latent]), n * bars, latent);
        var sharedParts = new List<Tensor>();
        if (SharedTemporal is not null)
        {
            sharedParts.Add(EveryBar(Take(latent)));
            sharedParts.Add(SharedTemporal.Forward(Take(latent)));
        }
        if (GivenEncoder is not null) sharedParts.Add(GivenEncoder.Forward(given!));
        Tensor[] tracks;
        if (TrackTemporal is null) tracks = [BarGenerators[0].Forward(Ops.ChannelConcat([.. sharedParts]))];
        else
        {
            var own = Enumerable.Range(0, MultiTrack.Tracks).Select(_ => EveryBar(Take(latent))).ToList();
            var ownTime = Enumerable.Range(0, MultiTrack.Tracks).Select(i => TrackTemporal[i].Forward(Take(latent))).ToList();
            tracks = [.. Enumerable.Range(0, MultiTrack.Tracks).Select(i => BarGenerators[i].Forward(Ops.ChannelConcat([.. sharedParts, own[i], ownTime[i]])))];
        }
        var perBar = tracks.Length == 1 ? tracks[0] : Ops.ChannelConcat(tracks);                  // [N·bars, 5, S, 84]
        int steps = perBar.Dim(2);
        var byBar = Ops.Reshape(perBar, n, bars, MultiTrack.Tracks, steps, MultiTrack.Pitches).Permute(0, 2, 1, 3, 4);
        return Ops.Reshape(byBar, n, MultiTrack.Tracks, bars * steps, MultiTrack.Pitches);
    }
}

/// <summary>
/// Accompaniment's encoder of the given track: each bar of it, [N·bars, 1, steps, 84], to a vector [N·bars, d] that the
/// bar generators read beside their latents (rows sample-major, as the temporal generators'). The critic's per-track
/// layers without its scoring end: pitches /12, steps /(steps/4), pitches /7, steps /4; LeakyReLU 0.2 between, none at
/// the end (it is a latent, not a decision).
/// </summary>
public sealed class GivenTrackEncoder : Module
{
    const float Slope = 0.2f;
    readonly int stepsPerBar;

    public GivenTrackEncoder(int latent, int width, int stepsPerBar, Device device, Rng rng)
    {
        this.stepsPerBar = stepsPerBar;
        Pitch12 = RegisterModule("pitch12", new PatchConv(1, width, 12, PatchAxis.Width, device: device, rng: rng));
        Steps = RegisterModule("steps", new PatchConv(width, 2 * width, stepsPerBar / 4, PatchAxis.Height, device: device, rng: rng));
        Pitch7 = RegisterModule("pitch7", new PatchConv(2 * width, 4 * width, MultiTrack.Pitches / 12, PatchAxis.Width, device: device, rng: rng));
        Steps4 = RegisterModule("steps4", new PatchConv(4 * width, latent, 4, PatchAxis.Height, device: device, rng: rng));
    }

    public PatchConv Pitch12 { get; }
    public PatchConv Steps { get; }
    public PatchConv Pitch7 { get; }
    public PatchConv Steps4 { get; }

    /// <summary>The given track [N, 1, bars·steps, 84] in {-1, 1} to one vector a bar, [N·bars, d].</summary>
    public override Tensor Forward(Tensor given)
    {
        if (given.Rank != 4 || given.Dim(1) != 1 || given.Dim(2) % stepsPerBar != 0 || given.Dim(3) != MultiTrack.Pitches)
            throw new TensorShapeException($"GivenTrackEncoder: the given track must be [N, 1, bars·{stepsPerBar}, {MultiTrack.Pitches}], got {Shapes.Format(given.Shape)}");
        int n = given.Dim(0), barsCount = given.Dim(2) / stepsPerBar;
        var perBar = Ops.Reshape(given, n * barsCount, 1, stepsPerBar, MultiTrack.Pitches);           // rows sample-major
        var h = Pitch12.Forward(perBar).LeakyRelu(Slope);                                            // [M, w, S, 7]
        h = Steps.Forward(h).LeakyRelu(Slope);                                                       // [M, 2w, 4, 7]
        h = Pitch7.Forward(h).LeakyRelu(Slope);                                                      // [M, 4w, 4, 1]
        h = Steps4.Forward(h);                                                                       // [M, d, 1, 1]
        return Ops.Reshape(h, n * barsCount, h.Dim(1));
    }
}

/// <summary>
/// MuseGAN's critic (no batch norm: WGAN-GP), the tutorial port's discriminator in patch layers: per track
/// (private) pitches /12 then steps /(steps/4); shared: a 1x3 pitch convolution, pitches /5, steps /4, bars /4, then a
/// linear score. LeakyReLU 0.2 between. Takes phrases [N, tracks, bars·steps, 84] in [-1, 1], gives scores [N, 1].
/// </summary>
public sealed class MuseGanCritic : Module
{
    const float Slope = 0.2f;
    readonly int tracks, bars, stepsPerBar;

    /// <summary>A critic of <paramref name="tracks"/> tracks (5, or 1 for jamming) for phrases of <paramref name="options"/>.</summary>
    public MuseGanCritic(int tracks, MuseGanOptions options, Device device, Rng rng)
    {
        (this.tracks, bars, stepsPerBar) = (tracks, options.Bars, options.StepsPerBar);
        int w = options.CriticWidth;
        PitchLayers = RegisterModule("track_pitch", new ModuleList<PatchConv>(Enumerable.Range(0, tracks).Select(_ => new PatchConv(1, w, 12, PatchAxis.Width, device: device, rng: rng))));
        StepLayers = RegisterModule("track_steps", new ModuleList<PatchConv>(Enumerable.Range(0, tracks).Select(_ => new PatchConv(w, 2 * w, stepsPerBar / 4, PatchAxis.Height, device: device, rng: rng))));
        Pitch3 = RegisterModule("pitch3", new PitchConv(tracks * 2 * w, 4 * w, 3, transposed: false, device, rng));
        Pitch5 = RegisterModule("pitch5", new PatchConv(4 * w, 4 * w, 5, PatchAxis.Width, device: device, rng: rng));
        Steps4 = RegisterModule("steps4", new PatchConv(4 * w, 8 * w, 4, PatchAxis.Height, device: device, rng: rng));
        Bars4 = RegisterModule("bars", new PatchConv(8 * w, 8 * w, bars, PatchAxis.Height, device: device, rng: rng));
        Score = RegisterModule("score", new Linear(8 * w, 1, device: device, rng: rng));
    }

    public ModuleList<PatchConv> PitchLayers { get; }
    public ModuleList<PatchConv> StepLayers { get; }
    public PitchConv Pitch3 { get; }
    public PatchConv Pitch5 { get; }
    public PatchConv Steps4 { get; }
    public PatchConv Bars4 { get; }
    public Linear Score { get; }

    public override Tensor Forward(Tensor x)
    {
        if (x.Rank != 4 || x.Dim(1) != tracks || x.Dim(2) != bars * stepsPerBar || x.Dim(3) != MultiTrack.Pitches)
            throw new TensorShapeException($"MuseGanCritic: phrases must be [N, {tracks}, {bars * stepsPerBar}, {MultiTrack.Pitches}], got {Shapes.Format(x.Shape)}");
        int n = x.Dim(0);
        // Bars into the batch: [N, T, bars·S, P] -> [N·bars, T, S, P].
        var perBar = Ops.Reshape(Ops.Reshape(x, n, tracks, bars, stepsPerBar, MultiTrack.Pitches).Permute(0, 2, 1, 3, 4), n * bars, tracks, stepsPerBar, MultiTrack.Pitches);
        var own = Enumerable.Range(0, tracks).Select(t =>
        {
            var track = tracks == 1 ? perBar : perBar.ChannelSlice(t, 1);
            return StepLayers[t].Forward(PitchLayers[t].Forward(track).LeakyRelu(Slope)).LeakyRelu(Slope);   // [M, 2w, 4, 7]
        }).ToArray();
        var h = own.Length == 1 ? own[0] : Ops.ChannelConcat(own);
        h = Pitch3.Forward(h).LeakyRelu(Slope);                                   // [M, 4w, 4, 5]
        h = Pitch5.Forward(h).LeakyRelu(Slope);                                   // [M, 4w, 4, 1]
        h = Steps4.Forward(h).LeakyRelu(Slope);                                   // [M, 8w, 1, 1]
        int c = h.Dim(1);
        var phrase = Ops.Reshape(Ops.Reshape(h, n, bars, c).Permute(0, 2, 1), n, c, bars, 1);   // [N, 8w, bars, 1]
        h = Bars4.Forward(phrase).LeakyRelu(Slope);                               // [N, 8w, 1, 1]
        return Score.Forward(Ops.Reshape(h, n, c));
    }
}

/// <summary>MuseGAN as a model kind: <c>musegan</c>, its data the multi-track phrases of <see cref="MultiTrack"/>.</summary>
public sealed class MuseGanFamily : IModelFamily
{
    public static IReadOnlyList<ModelKind> Kinds { get; } =
    [
        new ModelKind
        {
            Name = MuseGanJob.KindName,
            Description = "MuseGAN (Dong et al. 2018): 4-bar phrases of five binarised piano-roll tracks (drums, piano, guitar, bass, strings; General MIDI programs mapped as LPD-5), from temporal and bar generators; model=hybrid (shared and private latents, a bar generator per track), composer or jamming; WGAN-GP with 5 critic updates a step, batch norm in G only. Data: --data game-music (41 game songs from Debian) or a folder of .mid files, cut into 4-bar phrases (steps_per_bar steps a bar, 84 pitches).",
            Defaults = (data, _) => new MuseGanOptions
            {
                DataShape = data.SampleShape,
                StepsPerBar = data.SampleShape is [MultiTrack.Tracks, var length, MultiTrack.Pitches] ? length / MultiTrack.DefaultBars : MultiTrack.DefaultStepsPerBar,
            },
            Create = (options, device) => new MuseGanJob((MuseGanOptions)options, device),
            LoadData = (spec, options, settings, saved) =>
            {
                int stepsPerBar = saved is MuseGanOptions s ? s.StepsPerBar
                    : settings.TryGetValue("steps_per_bar", out var given) && int.TryParse(given, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out int v) ? v
                    : MultiTrack.DefaultStepsPerBar;
                return Phrases(spec, stepsPerBar, options.CacheDir ?? DataPaths.DefaultCache(), options.Log);
            },
            DefaultData = "game-music",
            AddedLater = new Dictionary<string, string> { ["accompany"] = "none" },
            DefaultEpochs = 20,
            DefaultBatch = 16,
        },
    ];

    /// <summary>The 4-bar phrases of the music <paramref name="spec"/> names (game-music, a folder of .mid files, a .mid file).</summary>
    public static Dataset Phrases(string spec, int stepsPerBar, string cacheDir, Action<string>? log = null)
    {
        var songs = NoteEvents.LoadSongs(spec, cacheDir, log)
            ?? throw new DataException($"musegan: --data {spec} names no music (game-music, a .mid file or a folder of them)");
        string name = spec.Equals("game-music", StringComparison.OrdinalIgnoreCase) ? "game-music phrases (Debian openttd-openmsx and planetblupi-music-midi)" : $"{spec} phrases";
        return MultiTrack.Phrases(songs, $"{name}, {stepsPerBar} steps a bar", stepsPerBar: stepsPerBar);
    }
}
