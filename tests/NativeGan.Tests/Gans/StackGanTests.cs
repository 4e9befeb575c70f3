using NativeGan.Gan.Data;
using NativeGan.Gan.Pictures;
using NativeGan.Gan.StackGan;
using NativeGan.Gan.Training;
using NativeGan.Nn;
using NativeGan.Tests.Data;

namespace NativeGan.Tests.Gans;

public class StackGanDataTests
{
    /// <summary>A 2x2 RGBA PNG: (255,0,0,255) opaque red, (0,0,255,0) fully transparent blue, (0,0,0,128) half black, (10,20,30,255).</summary>
    static void WriteRgba(string path) =>
        File.WriteAllBytes(path, Png.Encode([255, 0, 0, 255, 0, 0, 255, 0, 0, 0, 0, 128, 10, 20, 30, 255], 2, 2, 4));

    [Fact]
    public void Captions_are_built_from_name_short_names_category_and_tone_in_a_fixed_order()
    {
        var santa = new EmojiPicture("1f385-1f3fb.png", "father christmas", ["santa"], "People & Body", "person fantasy", "light skin tone", 7);
        Assert.Equal(["father christmas, light skin tone", "santa, light skin tone", "father christmas, people & body, person fantasy, light skin tone"],
            EmojiData.CaptionsOf(santa));
        // A short name equal to the name is not repeated; no tone, no suffix.
        var apple = new EmojiPicture("1f34e.png", "red apple", ["apple", "red apple"], "Food & Drink", "food fruit", null, 3);
        Assert.Equal(["red apple", "apple", "red apple, food & drink, food fruit"], EmojiData.CaptionsOf(apple));
        Assert.Equal(EmojiData.CaptionsOf(apple), EmojiData.CaptionsOf(apple with { }));
    }

    [Fact]
    public void A_hand_made_package_folder_loads_on_white_with_labels_captions_and_the_held_out_split()
    {
        using var dir = new TempDir();
        var img = Directory.CreateDirectory(Path.Combine(dir.Path, "img", "google", "64")).FullName;
        // 10 emoji, sort orders reversed against the file order: emoji index 9 (held out) is the one with sort_order 0.
        var entries = new List<string>();
        for (int k = 0; k < 10; k++)
        {
            WriteRgba(Path.Combine(img, $"e{k}.png"));
            string skins = k == 0 ? ", \"skin_variations\": {\"1F3FF\": {\"image\": \"e0-dark.png\"}, \"1F3FB-1F3FC\": {\"image\": \"e0-mixed.png\"}}" : "";
            entries.Add($"{{\"name\": \"EMOJI_{k} X\", \"short_names\": [\"short_{k}\", \"sh-{k}\"], \"category\": \"{(k % 2 == 0 ? "Flags" : "Smileys & Emotion")}\", \"subcategory\": \"sub-cat\", \"image\": \"e{k}.png\", \"sort_order\": {9 - k}{skins}}}");
        }
        WriteRgba(Path.Combine(img, "e0-dark.png"));
        WriteRgba(Path.Combine(img, "e0-mixed.png"));
        File.WriteAllText(Path.Combine(dir.Path, "emoji.json"), "[" + string.Join(",", entries) + "]");

        var train = EmojiData.LoadFolder(dir.Path, test: false, size: 2);
        var test = EmojiData.LoadFolder(dir.Path, test: true, size: 2);
        // Sorted by sort_order: e9 is emoji 0, ..., e0 is emoji 9 (held out, with its two skin variations).
        Assert.Equal(9, train.Count);
        Assert.Equal(3, test.Count);
        Assert.Equal(["emoji 0 x", "short 0", "sh 0", "emoji 0 x, flags, sub cat"], test.Captions![0]);
        // Skin variations in the ordinal order of their codes: 1F3FB-1F3FC before 1F3FF.
        Assert.Equal("emoji 0 x, light skin tone, medium-light skin tone", test.Captions[1][0]);
        Assert.Equal("emoji 0 x, dark skin tone", test.Captions[2][0]);
        Assert.Equal(EmojiData.Categories.ToList().IndexOf("Flags"), test.Labels![0]);
        Assert.Equal(EmojiData.Categories.ToList().IndexOf("Smileys & Emotion"), train.Labels![0]); // e9
        Assert.Equal(10, train.ClassCount);
        // emoji-faces: the smileys (odd k) of both splits, none held out, labelled 0 (Smileys & Emotion).
        var faces = EmojiData.LoadFaces(dir.Path, size: 2);
        Assert.Equal(5, faces.Count);
        Assert.Equal(2, faces.ClassCount);
        Assert.All(faces.Labels!, l => Assert.Equal(0, l));
        Assert.All(faces.Captions!, c => Assert.Contains("smileys & emotion", c[^1]));
        // Pixels composited on white: red stays red; transparent is white; half black is mid gray (128/255 of black over white).
        float V(byte b) => b / 127.5f - 1f;
        float[] s = test.Data[..12];
        Assert.Equal([V(255), V(255), 2 * (255 * (1 - 128 / 255f)) / 255f - 1f, V(10)], [s[0], s[1], s[2], s[3]], new FloatTolerance(1e-5f));
        Assert.Equal(V(0), s[4], 5);   // green of red
        Assert.Equal(V(255), s[5], 5); // green of transparent: white
        Assert.Equal(V(30), s[11], 5); // blue of the last pixel
    }

    [Fact]
    public void A_captioned_folder_loads_in_file_order_and_refuses_bad_lines_naming_file_and_line()
    {
        using var dir = new TempDir();
        WriteRgba(dir.File("a.png"));
        WriteRgba(dir.File("b.png"));
        File.WriteAllText(dir.File(CaptionedFolder.CaptionsFile), "# comment\nb.png\ta blue thing\n\na.png\tfirst of a\nb.png\tanother of b\n");
        var data = DataSource.Load(dir.Path, new DataOptions(ImageSize: 4));
        Assert.Equal(2, data.Count);
        Assert.Equal([3, 4, 4], data.SampleShape);
        Assert.Equal(["a blue thing", "another of b"], data.Captions![0]);
        Assert.Equal(["first of a"], data.Captions[1]);

        string captions = dir.File(CaptionedFolder.CaptionsFile);
        File.WriteAllText(captions, "a.png\tok\nb.png no tab\n");
        var e = Assert.Throws<DataException>(() => CaptionedFolder.Load(dir.Path));
        Assert.Contains($"{captions}:2", e.Message);
        File.WriteAllText(captions, "missing.png\tsomething\n");
        e = Assert.Throws<DataException>(() => CaptionedFolder.Load(dir.Path));
        Assert.Contains("missing.png does not exist", e.Message);
        Assert.Contains(":1", e.Message);
        File.WriteAllText(captions, "a.png\t  \n");
        Assert.Contains("caption of a.png is empty", Assert.Throws<DataException>(() => CaptionedFolder.Load(dir.Path)).Message);
        File.WriteAllText(captions, "# nothing\n");
        Assert.Contains("names no pictures", Assert.Throws<DataException>(() => CaptionedFolder.Load(dir.Path)).Message);
        File.WriteAllText(dir.File("a.png"), "not a png");
        File.WriteAllText(captions, "a.png\tbroken\n");
        Assert.Contains("a.png", Assert.Throws<DataException>(() => CaptionedFolder.Load(dir.Path)).Message);
    }

    [Fact]
    public void Batches_carry_their_samples_captions()
    {
        var data = new Dataset("d", [0f, 1f, 2f, 3f], [1], null, 0) { Captions = [["zero"], ["one"], ["two"], ["three"]] };
        using var loader = new DataLoader(data, 2, Device.Cpu, seed: 3);
        foreach (var batch in loader.Epoch(0))
            using (batch)
            {
                var values = batch.Samples.ToArray();
                for (int i = 0; i < 2; i++) Assert.Equal(data.Captions[(int)values[i]], batch.Captions![i]);
            }
    }
}

sealed class FloatTolerance(float tolerance) : IEqualityComparer<float>
{
    public bool Equals(float a, float b) => Math.Abs(a - b) <= tolerance;
    public int GetHashCode(float f) => 0;
}

public class StackGanTextTests
{
    [Fact]
    public void The_tokenizer_cuts_words_at_anything_but_letters_and_digits_and_refuses_texts_without_words()
    {
        Assert.Equal(["red", "apple", "food", "drink", "2nd"], TextTokenizer.Words("Red APPLE, food & drink 🍎 2nd"));
        Assert.Equal(["piñata"], TextTokenizer.Words("  PIÑATA!! "));
        foreach (var bad in new[] { "", "   ", "🍎 & , !", "\u0000\t\n" })
            Assert.Contains("has no words", Assert.Throws<ArgumentException>(() => TextTokenizer.Words(bad)).Message);
        Assert.Throws<ArgumentNullException>(() => TextTokenizer.Words(null!));
        // A very long text: its first MaxWords words, the rest ignored (a defined result).
        var longText = string.Join(" ", Enumerable.Range(0, 1000).Select(i => $"w{i}"));
        var words = TextTokenizer.Words(longText);
        Assert.Equal(TextTokenizer.MaxWords, words.Count);
        Assert.Equal("w31", words[^1]);
        var tokenizer = new TextTokenizer(64);
        Assert.Equal(tokenizer.Features(longText), tokenizer.Features(string.Join(" ", Enumerable.Range(0, 32).Select(i => $"w{i}"))));
        // A 100-letter word: one word feature and the trigrams of its first MaxWordChars letters (+2 for < and >).
        Assert.Equal(1 + TextTokenizer.MaxWordChars, tokenizer.Features(new string('a', 100)).Length);
    }

    [Fact]
    public void Features_hash_with_fnv1a_and_bags_sum_to_one()
    {
        // FNV-1a 32 of "w:a": computed by hand from the offset basis and the prime.
        uint h = 2166136261;
        foreach (char c in "w:a") { h ^= c; h *= 16777619; }
        var tokenizer = new TextTokenizer(1000);
        Assert.Equal((int)(h % 1000), tokenizer.Bucket("w:a"));
        Assert.Equal(0x0428FE5Fu % 1000, (uint)tokenizer.Bucket("w:a")); // the constant, so the hash cannot drift unnoticed
        // "ab": the word and the trigrams "<ab", "ab>".
        Assert.Equal([tokenizer.Bucket("w:ab"), tokenizer.Bucket("t:<ab"), tokenizer.Bucket("t:ab>")], tokenizer.Features("ab"));
        var bags = tokenizer.Bags(["ab", "red apple"]);
        Assert.Equal(1.0, bags[..1000].Sum(), 5);
        Assert.Equal(1.0, bags[1000..].Sum(), 5);
    }

    [Fact]
    public void The_contrastive_loss_equals_a_float64_reference()
    {
        using var scope = new TensorScope();
        var rng = new Rng(4);
        var t = rng.Normal(Device.Cpu, [5, 3]);
        var v = rng.Normal(Device.Cpu, [5, 3]);
        const float temperature = 0.3f;
        float loss = Contrastive.Loss(t, v, temperature, out float accuracy).Item();
        double[] T = [.. t.ToArray().Select(x => (double)x)], V = [.. v.ToArray().Select(x => (double)x)];
        double[] Row(double[] m, int i) { var r = m[(i * 3)..(i * 3 + 3)]; double n = Math.Sqrt(r.Sum(x => x * x)); return [.. r.Select(x => x / n)]; }
        double Cos(int i, int j) => Row(T, i).Zip(Row(V, j), (a, b) => a * b).Sum() / temperature;
        double ce = 0;
        int right = 0;
        for (int i = 0; i < 5; i++)
        {
            ce += -Cos(i, i) + Math.Log(Enumerable.Range(0, 5).Sum(j => Math.Exp(Cos(i, j))));
            ce += -Cos(i, i) + Math.Log(Enumerable.Range(0, 5).Sum(j => Math.Exp(Cos(j, i))));
            if (Enumerable.Range(0, 5).All(j => Cos(i, j) <= Cos(i, i))) right++;
        }
        Assert.Equal(ce / 10, loss, 4);
        Assert.Equal(right / 5f, accuracy);
    }
}

public class StackGanLossTests
{
    [Fact]
    public void Conditioning_augmentation_kl_and_sample_match_hand_computation_and_finite_differences()
    {
        float[] mu = [0.3f, -1.2f, 0.0f, 2.0f, 0.5f, -0.1f], lv = [0.1f, -0.7f, 0.4f, 0.0f, -2.0f, 1.3f], e = [1.5f, -0.2f, 0.3f, 0.9f, -1.1f, 0.0f];
        static double Kl(float[] m, float[] l) => Enumerable.Range(0, m.Length).Sum(i => -0.5 * (1 + l[i] - (double)m[i] * m[i] - Math.Exp(l[i]))) / m.Length;
        using var scope = new TensorScope();
        var muT = Tensor.FromArray(mu, [2, 3]);
        var lvT = Tensor.FromArray(lv, [2, 3]);
        muT.RequiresGrad = true;
        lvT.RequiresGrad = true;
        var kl = ConditioningAugmentation.Kl(muT, lvT);
        Assert.Equal(Kl(mu, lv), kl.Item(), 5);
        // Zero at N(0, I).
        Assert.Equal(0.0, ConditioningAugmentation.Kl(Tensor.Zeros(Device.Cpu, 2, 3), Tensor.Zeros(Device.Cpu, 2, 3)).Item(), 6);
        // Reparameterised sample: c = mu + exp(lv / 2) e.
        var c = ConditioningAugmentation.Sample(muT, lvT, Tensor.FromArray(e, [2, 3]));
        var cs = c.ToArray();
        for (int i = 0; i < 6; i++) Assert.Equal(mu[i] + Math.Exp(lv[i] / 2) * e[i], cs[i], 5);
        // Gradients of KL + sum(c * w) against central differences in float64.
        float[] w = [0.7f, -0.3f, 1.1f, 0.2f, -0.9f, 0.4f];
        var total = kl.Add(c.Mul(Tensor.FromArray(w, [2, 3])).Sum());
        total.Backward();
        var gMu = muT.Grad!.ToArray();
        var gLv = lvT.Grad!.ToArray();
        double F(double[] m, double[] l) => Enumerable.Range(0, 6).Sum(i => -0.5 * (1 + l[i] - m[i] * m[i] - Math.Exp(l[i])) / 6 + (m[i] + Math.Exp(l[i] / 2) * e[i]) * w[i]);
        const double h = 1e-6;
        for (int i = 0; i < 6; i++)
        {
            double[] m = [.. mu.Select(x => (double)x)], l = [.. lv.Select(x => (double)x)];
            m[i] += h; double up = F(m, l); m[i] -= 2 * h; double down = F(m, l); m[i] += h;
            Assert.Equal((up - down) / (2 * h), gMu[i], 4);
            l[i] += h; up = F(m, l); l[i] -= 2 * h; down = F(m, l);
            Assert.Equal((up - down) / (2 * h), gLv[i], 4);
        }
    }

    [Fact]
    public void The_matching_aware_loss_is_real_plus_half_fake_and_wrong()
    {
        using var scope = new TensorScope();
        float[] real = [2.0f, -0.5f], fake = [0.3f, -1.0f], wrong = [1.2f, 0.1f];
        static double Bce(float x, double y) => -(y * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - y) * Math.Log(1 - 1 / (1 + Math.Exp(-x))));
        double expected = (Bce(2.0f, 1) + Bce(-0.5f, 1)) / 2 + ((Bce(0.3f, 0) + Bce(-1.0f, 0)) / 2 + (Bce(1.2f, 0) + Bce(0.1f, 0)) / 2) / 2;
        var loss = MatchingAwareLoss.Discriminator(Tensor.FromArray(real, [2, 1]), Tensor.FromArray(fake, [2, 1]), Tensor.FromArray(wrong, [2, 1]));
        Assert.Equal(expected, loss.Item(), 5);
        Assert.Equal((Bce(0.3f, 1) + Bce(-1.0f, 1)) / 2, MatchingAwareLoss.Generator(Tensor.FromArray(fake, [2, 1])).Item(), 5);
    }

    [Fact]
    public void With_the_text_blind_logits_the_losses_weigh_terms_as_the_reference()
    {
        using var scope = new TensorScope();
        float[] real = [2.0f, -0.5f, 0.7f], fake = [0.3f, -1.0f, 2.2f], wrong = [1.2f, 0.1f, -0.4f], realU = [-0.6f, 1.5f, 0.2f], fakeU = [0.9f, -2.0f, 0.05f];
        static double Bce(float x, double y) => -(y * Math.Log(1 / (1 + Math.Exp(-x))) + (1 - y) * Math.Log(1 - 1 / (1 + Math.Exp(-x))));
        static double Mean(float[] xs, double y) => xs.Average(x => Bce(x, y));
        // StackGAN-Pytorch's compute_discriminator_loss with get_uncond_logits: (real + uncond real) / 2 + (fake + wrong + uncond fake) / 3.
        double expectedD = (Mean(real, 1) + Mean(realU, 1)) / 2 + (Mean(fake, 0) + Mean(wrong, 0) + Mean(fakeU, 0)) / 3;
        static Tensor T(float[] v) => Tensor.FromArray(v, [v.Length, 1]);
        Assert.Equal(expectedD, MatchingAwareLoss.Discriminator(T(real), T(fake), T(wrong), T(realU), T(fakeU)).Item(), 5);
        // compute_generator_loss: fake + uncond fake, both against "real".
        Assert.Equal(Mean(fake, 1) + Mean(fakeU, 1), MatchingAwareLoss.Generator(T(fake), T(fakeU)).Item(), 5);
    }
}

public class StackGanMetricTests
{
    [Fact]
    public void R_precision_counts_images_whose_own_caption_beats_every_distractor()
    {
        // 2-d embeddings. Captions: 0 = (1, 0), 1 = (0, 1), 2 = (1, 1), 3 = (-1, 0).
        float[] text = [1, 0, 0, 1, 1, 1, -1, 0];
        // Image 0 at (2, 0.1): caption 0 wins over 1 and 3 (cos 1.0 vs 0.05, -1). Image 1 at (1, 1) for caption 1: caption 2
        // (cos 1) beats it: a miss. Image 2 at (0, 3) for caption 2, distractor 1 (cos 1 > 0.71): a miss. Image 3 at
        // (-1, 0) for caption 3 against 0 and 2: a hit.
        float[] images = [2, 0.1f, 1, 1, 0, 3, -1, 0];
        int[] captionOf = [0, 1, 2, 3];
        int[][] distractors = [[1, 3], [2, 0], [1], [0, 2]];
        Assert.Equal(0.5, StackGanEvaluation.RPrecision(images, text, 2, captionOf, distractors));
        // A tie is a miss: image (1, 0) with its caption 0 against a distractor pointing the same way at another length.
        Assert.Equal(0.0, StackGanEvaluation.RPrecision([1, 0], [1, 0, 3, 0], 2, [0], [[1]]));
    }
}

public class StackGanJobTests
{
    static readonly Dictionary<string, string> Tiny = new()
    {
        ["data_shape"] = "3,16,16", ["low_side"] = "8", ["latent"] = "5", ["embedding"] = "6", ["text_buckets"] = "32", ["text_hidden"] = "7",
        ["condition"] = "4", ["g1_width"] = "4", ["g2_width"] = "6", ["g2_blocks"] = "1", ["d_width"] = "4",
        ["pretrain_steps"] = "2", ["stage1_steps"] = "2", ["seed"] = "3",
    };

    static Dataset Captioned(int count)
    {
        var rng = new Random(2);
        var data = new float[count * 3 * 16 * 16];
        for (int i = 0; i < data.Length; i++) data[i] = (float)(rng.NextDouble() * 2 - 1);
        string[] words = ["red apple", "blue car", "green tree", "yellow sun", "black cat", "white dog"];
        return new Dataset("tiny", data, [3, 16, 16], null, 0) { Captions = [.. Enumerable.Range(0, count).Select(i => new[] { words[i % 6], words[i % 6] + ", thing" })] };
    }

    [Fact]
    public void The_phases_run_in_order_and_a_resumed_run_ends_bit_identical()
    {
        Assert.Equal(StackGanPhase.Pretrain, StackGanJob.PhaseAt(1, 2, 2));
        Assert.Equal(StackGanPhase.Stage1, StackGanJob.PhaseAt(2, 2, 2));
        Assert.Equal(StackGanPhase.Stage2, StackGanJob.PhaseAt(4, 2, 2));
        Assert.Equal("b", StackGanJob.CaptionAt(["a", "b", "c"], 3, 1));

        using var dir = new TempDir();
        var data = Captioned(12);
        TrainerOptions Options(string name, long steps, bool resume = false) => new()
        {
            OutDir = Path.Combine(dir.Path, name), Epochs = 100, MaxSteps = steps, SampleEvery = 3, LatestEvery = TimeSpan.Zero, CheckpointEvery = 3, Resume = resume, DataName = "tiny",
        };
        static float[] Weights(ITrainingJob job) =>
            [.. job.Modules.OrderBy(kv => kv.Key, StringComparer.Ordinal).SelectMany(kv => kv.Value.StateDict().OrderBy(p => p.Key, StringComparer.Ordinal).SelectMany(p => p.Value.ToArray()))];
        float[] straight, stage2Before;
        using (var job = (StackGanJob)ModelKinds.Create(StackGanJob.KindName, Tiny, Device.Cpu))
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
        {
            stage2Before = [.. job.Stage2G.Parameters().SelectMany(p => p.ToArray())];
            var result = Trainer.Run(job, loader, Options("straight", 6), CancellationToken.None);
            Assert.Equal(TrainOutcome.Finished, result.Outcome);
            Assert.True(File.Exists(result.LatestSamples));
            straight = Weights(job);
            Assert.NotEqual(stage2Before, [.. job.Stage2G.Parameters().SelectMany(p => p.ToArray())]);
        }
        var log = File.ReadAllLines(Path.Combine(dir.Path, "straight", Trainer.LossLogFile));
        Assert.Contains("loss_contrastive", log[1]);
        Assert.Contains("\"phase\":1", log[2]);
        Assert.Contains("\"phase\":2", log[5]);
        Assert.Contains("kl", log[5]);
        using (var job = ModelKinds.Create(StackGanJob.KindName, Tiny, Device.Cpu))
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
            Trainer.Run(job, loader, Options("resumed", 3), CancellationToken.None);
        using (var job = ModelKinds.Create(StackGanJob.KindName, Tiny, Device.Cpu))
        using (var loader = new DataLoader(data, 4, Device.Cpu, seed: 5))
        {
            Trainer.Run(job, loader, Options("resumed", 6, resume: true), CancellationToken.None);
            Assert.Equal(straight, Weights(job));
        }
    }

    [Fact]
    public void Stage_one_is_frozen_while_stage_two_trains_and_data_without_captions_is_refused()
    {
        using var job = (StackGanJob)ModelKinds.Create(StackGanJob.KindName, new Dictionary<string, string>(Tiny) { ["pretrain_steps"] = "0", ["stage1_steps"] = "0" }, Device.Cpu);
        var data = Captioned(4);
        using var loader = new DataLoader(data, 4, Device.Cpu, seed: 1);
        var before = job.Stage1G.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        var textBefore = job.TextEncoder.Table.ToArray();
        var imageBefore = job.ImageEncoder.StateDict().ToDictionary(kv => kv.Key, kv => kv.Value.ToArray());
        foreach (var batch in loader.Epoch(0))
            using (batch)
            {
                var log = job.Step(batch, 0);
                Assert.Equal((int)StackGanPhase.Stage2, log["phase"]);
                Assert.True(float.IsFinite(log["loss_d"]) && float.IsFinite(log["loss_g"]));
            }
        foreach (var (name, t) in job.Stage1G.StateDict()) Assert.Equal(before[name], t.ToArray());
        Assert.Equal(textBefore, job.TextEncoder.Table.ToArray());
        foreach (var (name, t) in job.ImageEncoder.StateDict()) Assert.Equal(imageBefore[name], t.ToArray());

        foreach (var p in job.ImageEncoder.Parameters()) Assert.False(p.RequiresGrad, "the match term must not train the image encoder");

        using var noCaptions = new DataLoader(data with { Captions = null }, 4, Device.Cpu, seed: 1);
        foreach (var batch in noCaptions.Epoch(0))
            using (batch)
                Assert.Contains("no captions", Assert.Throws<DataException>(() => job.Step(batch, 0)).Message);
    }

    [Fact]
    public void The_tie_and_match_terms_add_their_weighted_values_to_g_and_old_runs_load_without_them()
    {
        // One stage-II step from the same state with the terms off and on: D's step is the same, and G's loss differs by
        // exactly the weighted terms the step logs (the terms are computed before any update, from the same draws).
        var settings = new Dictionary<string, string>(Tiny) { ["pretrain_steps"] = "0", ["stage1_steps"] = "0", ["uncond_logit"] = "true" };
        var data = Captioned(4);
        IReadOnlyDictionary<string, float> StepWith(string tie, string match)
        {
            using var job = (StackGanJob)ModelKinds.Create(StackGanJob.KindName, new Dictionary<string, string>(settings) { ["stage2_tie"] = tie, ["match_weight"] = match }, Device.Cpu);
            Assert.NotNull(job.Stage2D.UnconditionalHead);
            Assert.Null(job.Stage1D.UnconditionalHead);
            using var loader = new DataLoader(data, 4, Device.Cpu, seed: 1);
            foreach (var batch in loader.Epoch(0))
                using (batch) return job.Step(batch, 0);
            throw new InvalidOperationException("no batch");
        }
        var off = StepWith("0", "0");
        var on = StepWith("2.5", "0.75");
        Assert.False(off.ContainsKey("tie") || off.ContainsKey("match_g"));
        Assert.Equal(off["loss_d"], on["loss_d"]);
        Assert.True(on["tie"] > 0 && on["match_g"] > 0);
        Assert.Equal(off["loss_g"] + 2.5 * on["tie"] + 0.75 * on["match_g"], on["loss_g"], 4);
        // The contrastive loss of n pairs lies near ln n for encoders that match nothing; here the encoders are untrained.
        Assert.InRange(on["match_g"], 0.5 * Math.Log(4), 2 * Math.Log(4));

        // A checkpoint's settings from before the three existed: the text-blind head, the tie and the match term are off.
        var kind = ModelKinds.Find(StackGanJob.KindName);
        using var current = ModelKinds.Create(StackGanJob.KindName, Tiny, Device.Cpu);
        var old = current.Settings().Where(kv => kv.Key is not ("uncond_logit" or "stage2_tie" or "match_weight")).ToDictionary(kv => kv.Key, kv => kv.Value);
        var loaded = (StackGanOptions)kind.FromSaved(old);
        Assert.False(loaded.UnconditionalLogit);
        Assert.Equal(0f, loaded.Stage2Tie);
        Assert.Equal(0f, loaded.MatchWeight);
        var defaults = (StackGanOptions)current.Options;
        Assert.True(defaults.UnconditionalLogit && defaults.Stage2Tie > 0 && defaults.MatchWeight > 0);
    }

    [Fact]
    public void The_independent_matcher_learns_its_pairs_and_loads_from_its_cache_as_saved()
    {
        using var dir = new TempDir();
        var data = Captioned(40);
        using var trained = TextImageMatcher.ForData(data, dir.Path, Device.Cpu, steps: 500);
        Assert.Single(Directory.GetFiles(dir.Path, "emoji-matcher-*.safetensors"));
        using var loaded = TextImageMatcher.ForData(data, dir.Path, Device.Cpu, steps: 500);
        string[] captions = [.. data.Captions!.Select(c => c[0])];
        Assert.Equal(trained.EmbedTexts(captions), loaded.EmbedTexts(captions));
        Assert.Equal(trained.EmbedImages(data.Data, data.Count), loaded.EmbedImages(data.Data, data.Count));
        // The 40 noise pictures are memorised: each picks its own caption among the 5 other kinds' far more often than 1 in 6.
        var captionOf = Enumerable.Range(0, 40).ToArray();
        var distractors = Enumerable.Range(0, 40).Select(i => Enumerable.Range(0, 6).Where(k => k != i % 6).ToArray()).ToArray();
        double r = StackGanEvaluation.RPrecision(trained.EmbedImages(data.Data, data.Count), trained.EmbedTexts(captions), TextImageMatcher.Dim, captionOf, distractors);
        Assert.True(r > 0.5, $"R-precision of the matcher on its own training pairs: {r}");
    }
}
