using System.Globalization;
using NativeGan.Gan.Data;
using NativeGan.Nn;

namespace NativeGan.Gan.StackGan;

/// <summary>
/// A text encoder and an image encoder trained together for one purpose: to judge how well images match captions
/// (R-precision) independently of the generator under test. A StackGAN run trains its own encoders and, with
/// <c>match_weight</c>, trains G against them; R-precision measured with those encoders would then reward G for fooling
/// its own judge (the objection raised against AttnGAN's R-precision). This pair has the same architecture, a different
/// seed, and never sees generated images. Trained once on the training pictures and cached.
/// </summary>
public sealed class TextImageMatcher : IDisposable
{
    /// <summary>The pair's hyperparameters (StackGAN's defaults for its own encoders).</summary>
    public const int Buckets = 4096, Hidden = 256, Dim = 128, Batch = 32;

    /// <summary>Steps and seed of the pair's training, and its contrastive temperature.</summary>
    public const int Steps = 3000;
    public const ulong Seed = 7;
    public const float Temperature = 0.1f;

    /// <summary>An untrained pair for images of <paramref name="side"/> x <paramref name="side"/>.</summary>
    public TextImageMatcher(int side, Device device)
    {
        Side = side;
        var rng = new Rng(Seed);
        Text = new TextEncoder(Buckets, Hidden, Dim, device, rng);
        Image = new ImageEncoder(3, side, Dim, device, rng);
        Device = device;
    }

    public int Side { get; }
    public Device Device { get; }
    public TextEncoder Text { get; }
    public ImageEncoder Image { get; }

    /// <summary>
    /// The pair for <paramref name="train"/>'s pictures: loaded from <paramref name="cacheDir"/> or trained
    /// (<paramref name="steps"/> steps of CLIP's symmetric loss, Adam 1e-3, a random caption of each picture) and saved there.
    /// </summary>
    public static TextImageMatcher ForData(Dataset train, string cacheDir, Device device, Action<string>? log = null, int steps = Steps)
    {
        if (train.Captions is null) throw new ArgumentException($"TextImageMatcher: {train.Name} has no captions");
        int side = train.SampleShape[1];
        var path = Path.Combine(cacheDir, $"emoji-matcher-s{side}-n{train.Count}-{steps}.safetensors");
        var matcher = new TextImageMatcher(side, device);
        if (File.Exists(path))
        {
            matcher.Load(path);
            return matcher;
        }
        log?.Invoke($"training the R-precision matcher ({steps} steps on {train.Count} captioned pictures); it is saved as {path}");
        matcher.Train(train, steps, log);
        Directory.CreateDirectory(cacheDir);
        matcher.Save(path);
        return matcher;
    }

    /// <summary>Trains the pair for <paramref name="steps"/> steps on <paramref name="data"/> (deterministic).</summary>
    public void Train(Dataset data, int steps, Action<string>? log = null)
    {
        if (data.Captions is null) throw new ArgumentException($"TextImageMatcher: {data.Name} has no captions");
        if (data.Count < Batch) throw new ArgumentException($"TextImageMatcher: {data.Name} has {data.Count} pictures, fewer than a batch of {Batch}");
        var random = new Random((int)Seed);
        var adam = new Adam([.. Text.Parameters(), .. Image.Parameters()], 1e-3f);
        int size = data.SampleSize;
        var order = Enumerable.Range(0, data.Count).ToArray();
        int at = order.Length;
        var images = new float[Batch * size];
        for (int step = 0; step < steps; step++)
        {
            var captions = new string[Batch];
            for (int i = 0; i < Batch; i++)
            {
                if (at == order.Length) { random.Shuffle(order); at = 0; }
                int k = order[at++];
                Array.Copy(data.Data, (long)k * size, images, (long)i * size, size);
                var own = data.Captions[k];
                captions[i] = own[random.Next(own.Length)];
            }
            using var scope = new TensorScope();
            using var x = Tensor.FromArray(images, [Batch, .. data.SampleShape], Device);
            var loss = Contrastive.Loss(Text.Encode(captions), Image.Forward(x), Temperature, out float accuracy);
            adam.ZeroGrad();
            loss.Backward();
            adam.Step();
            adam.ZeroGrad();
            if ((step + 1) % 500 == 0) log?.Invoke(string.Create(CultureInfo.InvariantCulture, $"matcher step {step + 1}: loss {loss.Item():F3}, top-1 in a batch {accuracy:P0}"));
        }
    }

    /// <summary>Embeddings [texts, Dim] (no graph).</summary>
    public float[] EmbedTexts(IReadOnlyList<string> texts)
    {
        using var noGrad = Autograd.NoGrad();
        using var e = Text.Encode(texts);
        return e.ToArray();
    }

    /// <summary>Embeddings [count, Dim] of images [count, 3, Side, Side] (no graph).</summary>
    public float[] EmbedImages(float[] images, int count) => Image.EmbedAll(images, count);

    void Save(string path)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (k, v) in Text.StateDict()) state["text." + k] = v;
        foreach (var (k, v) in Image.StateDict()) state["image." + k] = v;
        Safetensors.Save(path, state, new Dictionary<string, string> { ["kind"] = "text-image-matcher", ["side"] = Side.ToString(CultureInfo.InvariantCulture) });
    }

    void Load(string path)
    {
        var (tensors, meta) = Safetensors.Load(path, Device);
        try
        {
            if (meta.GetValueOrDefault("kind") != "text-image-matcher")
                throw new CheckpointException($"{path}: not a text-image matcher (its metadata says kind '{meta.GetValueOrDefault("kind", "(none)")}')");
            Text.LoadStateDict(tensors.Where(p => p.Key.StartsWith("text.", StringComparison.Ordinal)).ToDictionary(p => p.Key[5..], p => p.Value));
            Image.LoadStateDict(tensors.Where(p => p.Key.StartsWith("image.", StringComparison.Ordinal)).ToDictionary(p => p.Key[6..], p => p.Value));
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    public void Dispose()
    {
        Text.Dispose();
        Image.Dispose();
    }
}
