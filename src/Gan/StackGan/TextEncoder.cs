using NativeGan.Nn;

namespace NativeGan.Gan.StackGan;

using AvgPool2d = NativeGan.Nn.AvgPool2d;
using BatchNorm2d = NativeGan.Nn.BatchNorm2d;
using Conv2d = NativeGan.Nn.Conv2d;

/// <summary>
/// Text to features without a vocabulary (fastText's hashing trick): a text's words and the character trigrams of each
/// word, hashed into <see cref="Buckets"/> buckets. A word never seen in training still shares trigrams with words that
/// were ("hearts" with "heart"), and nothing has to be stored beside a checkpoint.
/// <para><b>Words</b>: the text lower-cased (invariant culture), cut into maximal runs of letters and digits
/// (<see cref="char.IsLetterOrDigit(char)"/>): everything else (spaces, punctuation, '&amp;', emoji, control characters) only
/// separates words. <b>Features</b> of a word w: "w:" + w and each trigram of "&lt;" + w + "&gt;" (its first
/// <see cref="MaxWordChars"/> characters), each hashed with 32-bit FNV-1a over its UTF-16 code units, modulo the buckets.</para>
/// <para><b>Odd input</b>: null or a text with no letter or digit (empty, only spaces or symbols) is refused with an
/// <see cref="ArgumentException"/> quoting it; a text of more than <see cref="MaxWords"/> words uses its first
/// <see cref="MaxWords"/> (a defined result: the rest is ignored); characters outside any script are separators.</para>
/// </summary>
public sealed class TextTokenizer
{
    /// <summary>Words of a text that count; later ones are ignored.</summary>
    public const int MaxWords = 32;

    /// <summary>Characters of a word whose trigrams count (a longer word still counts whole as a word feature).</summary>
    public const int MaxWordChars = 24;

    /// <summary>A tokenizer hashing into <paramref name="buckets"/> buckets (at least 16).</summary>
    public TextTokenizer(int buckets)
    {
        if (buckets < 16) throw new ArgumentOutOfRangeException(nameof(buckets), $"TextTokenizer: at least 16 buckets, got {buckets}");
        Buckets = buckets;
    }

    /// <summary>The number of hash buckets: the length of a bag.</summary>
    public int Buckets { get; }

    /// <summary>The words of <paramref name="text"/> (at most <see cref="MaxWords"/>); refuses a text without any.</summary>
    public static IReadOnlyList<string> Words(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var words = new List<string>();
        var current = new System.Text.StringBuilder();
        foreach (char ch in text.ToLowerInvariant())
        {
            if (char.IsLetterOrDigit(ch)) { current.Append(ch); continue; }
            if (current.Length > 0) { words.Add(current.ToString()); current.Clear(); }
            if (words.Count == MaxWords) break;
        }
        if (current.Length > 0 && words.Count < MaxWords) words.Add(current.ToString());
        if (words.Count == 0)
            throw new ArgumentException($"TextTokenizer: the text \"{(text.Length > 40 ? text[..37] + "..." : text)}\" has no words (letters or digits)");
        return words;
    }

    /// <summary>The bucket of every feature of <paramref name="text"/> (a bucket repeats when features collide or repeat).</summary>
    public int[] Features(string text)
    {
        var features = new List<int>();
        foreach (var word in Words(text))
        {
            features.Add(Bucket("w:" + word));
            var padded = "<" + (word.Length > MaxWordChars ? word[..MaxWordChars] : word) + ">";
            for (int i = 0; i + 3 <= padded.Length; i++) features.Add(Bucket("t:" + padded.Substring(i, 3)));
        }
        return [.. features];
    }

    /// <summary>32-bit FNV-1a of the UTF-16 code units, modulo the buckets.</summary>
    public int Bucket(string feature)
    {
        uint h = 2166136261;
        foreach (char ch in feature)
        {
            h ^= ch;
            h *= 16777619;
        }
        return (int)(h % (uint)Buckets);
    }

    /// <summary>The texts' bags [n, Buckets]: each row the feature counts over the text's number of features (it sums to 1).</summary>
    public float[] Bags(IReadOnlyList<string> texts)
    {
        var bags = new float[texts.Count * Buckets];
        for (int i = 0; i < texts.Count; i++)
        {
            var features = Features(texts[i]);
            foreach (int f in features) bags[i * Buckets + f] += 1f / features.Length;
        }
        return bags;
    }
}

/// <summary>
/// The project's text encoder: a text's bag of hashed features (<see cref="TextTokenizer"/>) times an embedding table
/// [buckets, hidden] (the mean of its features' embeddings), LeakyReLU 0.2, then a linear layer to the embedding. Trained
/// with <see cref="ImageEncoder"/> by <see cref="Contrastive.Loss"/> before the GAN; StackGAN's conditioning starts from
/// its output (the paper used pretrained char-CNN-RNN embeddings, which cannot be had).
/// </summary>
public sealed class TextEncoder : Module
{
    /// <summary>An encoder of <paramref name="buckets"/> hash buckets to <paramref name="hidden"/> then <paramref name="dim"/> features.</summary>
    public TextEncoder(int buckets, int hidden, int dim, Device device, Rng rng)
    {
        Tokenizer = new TextTokenizer(buckets);
        Table = RegisterParameter("table", Tensor.Empty(device, buckets, hidden));
        Init.Normal(Table, 0f, 1f, rng);
        Output = RegisterModule("output", new Linear(hidden, dim, device: device, rng: rng));
        Dim = dim;
    }

    public TextTokenizer Tokenizer { get; }
    public Tensor Table { get; }
    public Linear Output { get; }

    /// <summary>The embedding's length.</summary>
    public int Dim { get; }

    /// <summary>Embeddings [n, Dim] of <paramref name="texts"/> (refused as <see cref="TextTokenizer.Words"/> refuses).</summary>
    public Tensor Encode(IReadOnlyList<string> texts)
    {
        if (texts.Count == 0) throw new ArgumentException("TextEncoder.Encode: no texts given");
        using var bags = Tensor.FromArray(Tokenizer.Bags(texts), [texts.Count, Tokenizer.Buckets], Table.Device);
        return Forward(bags);
    }

    /// <summary>Embeddings of bags [n, buckets].</summary>
    public override Tensor Forward(Tensor bags)
    {
        using var hidden = bags.MatMul(Table);
        using var act = hidden.LeakyRelu(0.2f);
        return Output.Forward(act);
    }
}

/// <summary>
/// The image side of the contrastive pair, and R-precision's judge: average-pool to half size, three 4x4 stride-2
/// convolutions with LeakyReLU 0.2 (32, 64, 128 features), a linear layer to the embedding. 64x64 in, 4x4x128 before the
/// linear layer.
/// </summary>
public sealed class ImageEncoder : Module
{
    readonly Sequential layers;
    readonly int channels, side, dim;
    readonly Device device;

    /// <summary>An encoder of [channels, side, side] images (side divisible by 16) to <paramref name="dim"/> features.</summary>
    public ImageEncoder(int channels, int side, int dim, Device device, Rng rng)
    {
        if (side % 16 != 0) throw new ArgumentException($"ImageEncoder: the side must be divisible by 16, got {side}");
        (this.channels, this.side, this.dim, this.device) = (channels, side, dim, device);
        layers = RegisterModule("layers", new Sequential(
            new AvgPool2d(2),
            new Conv2d(channels, 32, 4, 2, 1, device: device, rng: rng), new LeakyReLU(0.2f),
            new Conv2d(32, 64, 4, 2, 1, device: device, rng: rng), new LeakyReLU(0.2f),
            new Conv2d(64, 128, 4, 2, 1, device: device, rng: rng), new LeakyReLU(0.2f),
            new Flatten(),
            new Linear(128 * (side / 16) * (side / 16), dim, device: device, rng: rng)));
    }

    public override Tensor Forward(Tensor images) => layers.Forward(images);

    /// <summary>Embeddings [count, dim] of <paramref name="count"/> images [channels, side, side] held in an array,
    /// 256 at a time, in eval mode without a graph.</summary>
    public float[] EmbedAll(float[] images, int count)
    {
        int size = channels * side * side;
        if (images.Length < (long)count * size) throw new ArgumentException($"ImageEncoder.EmbedAll: {images.Length} floats hold fewer than {count} images of [{channels}, {side}, {side}]");
        var embeddings = new float[count * dim];
        bool was = Training;
        Eval();
        try
        {
            using var noGrad = Autograd.NoGrad();
            for (int start = 0; start < count; start += 256)
            {
                int n = Math.Min(256, count - start);
                using var scope = new TensorScope();
                using var x = Tensor.FromArray(images[(start * size)..((start + n) * size)], [n, channels, side, side], device);
                Array.Copy(Forward(x).ToArray(), 0, embeddings, start * dim, n * dim);
            }
        }
        finally { Train(was); }
        return embeddings;
    }
}

/// <summary>CLIP's objective (Radford et al. 2021) for text-image pairs.</summary>
public static class Contrastive
{
    /// <summary>Rows of x [n, d] divided by their L2 norm (eps 1e-8 inside: a zero row stays finite).</summary>
    public static Tensor Normalize(Tensor x)
    {
        var norm = Ops.Reshape(x.PerSampleL2Norm(1e-8f), x.Dim(0), 1);
        return x.Div(norm);
    }

    /// <summary>Cosine similarities [texts, images] of two sets of embeddings.</summary>
    public static Tensor Similarities(Tensor texts, Tensor images)
    {
        return Normalize(texts).MatMul(Normalize(images), transB: true);
    }

    /// <summary>
    /// The symmetric InfoNCE loss of n matching pairs (text i with image i): with logits s_ij = cos(t_i, v_j) / temperature,
    /// the mean of the cross-entropy of each text over the images and of each image over the texts, the right partner the
    /// target. Also returns the share of texts whose most similar image is their own (the batch's top-1 accuracy).
    /// </summary>
    public static Tensor Loss(Tensor texts, Tensor images, float temperature, out float accuracy)
    {
        if (texts.Rank != 2 || images.Rank != 2 || texts.Dim(0) != images.Dim(0) || texts.Dim(1) != images.Dim(1))
            throw new TensorShapeException($"Contrastive.Loss: texts and images must be [n, d] alike, got {Shapes.Format(texts.Shape)} and {Shapes.Format(images.Shape)}");
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), $"Contrastive.Loss: temperature must be positive, got {temperature}");
        int n = texts.Dim(0);
        var t = Normalize(texts);
        var v = Normalize(images);
        var byText = t.MatMul(v, transB: true).Mul(1f / temperature);
        var byImage = v.MatMul(t, transB: true).Mul(1f / temperature);
        var labels = Enumerable.Range(0, n).ToArray();
        var loss = Losses.CrossEntropy(byText, labels).Add(Losses.CrossEntropy(byImage, labels)).Mul(0.5f);
        var s = byText.ToArray();
        int right = 0;
        for (int i = 0; i < n; i++)
        {
            int best = 0;
            for (int j = 1; j < n; j++) if (s[i * n + j] > s[i * n + best]) best = j;
            if (best == i) right++;
        }
        accuracy = (float)right / n;
        return loss;
    }
}
