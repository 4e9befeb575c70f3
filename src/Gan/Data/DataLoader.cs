namespace NativeGan.Gan.Data;

/// <summary>
/// Shuffled batches of a <see cref="Dataset"/> on the training device.
/// <para>
/// Order: epoch e visits the samples in a permutation drawn by Fisher–Yates from a SplitMix64 stream seeded
/// with (seed, e) only, so it does not depend on what ran before: a run resumed at (epoch, batch) sees exactly the
/// batches an uninterrupted run would (<see cref="Epoch"/>'s startBatch).
/// </para>
/// <para>
/// Overlap: while the caller works on batch i, batch i+1 is gathered (rows copied from the dataset into a fresh
/// host array) on a background task. The copy to the device is made on the caller's thread when the caller asks
/// for the batch, so all device work stays on one thread (one GPU stream). Disposing the loader stops prefetching.
/// </para>
/// </summary>
public sealed class DataLoader : IDisposable
{
    readonly Dataset data;
    readonly Device device;
    readonly CancellationTokenSource stop = new();

    /// <param name="data">The dataset.</param>
    /// <param name="batchSize">Samples per batch.</param>
    /// <param name="device">Where batches are made.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="dropLast">Skip the last, smaller batch of an epoch (GAN steps want equal batches; BatchNorm statistics too).</param>
    public DataLoader(Dataset data, int batchSize, Device device, ulong seed, bool dropLast = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        if (data.Count == 0) throw new DataException($"Dataset {data.Name} is empty");
        if (dropLast && data.Count < batchSize)
            throw new DataException($"Dataset {data.Name} has {data.Count} samples, fewer than one batch of {batchSize}");
        this.data = data;
        this.device = device;
        BatchSize = batchSize;
        Seed = seed;
        DropLast = dropLast;
    }

    public Dataset Data => data;
    public int BatchSize { get; }
    public ulong Seed { get; }
    public bool DropLast { get; }

    public int BatchesPerEpoch => DropLast ? data.Count / BatchSize : (data.Count + BatchSize - 1) / BatchSize;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the samples (a function of seed and epoch only).</summary>
    public int[] Permutation(int epoch)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        var order = new int[data.Count];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        new SplitMix64(SplitMix64.Derive(Seed, (ulong)epoch)).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>
    /// The batches of epoch <paramref name="epoch"/> from batch <paramref name="startBatch"/> on. Each batch owns its
    /// device tensor: dispose it when the step is done.
    /// </summary>
    public IEnumerable<Batch> Epoch(int epoch, int startBatch = 0)
    {
        ObjectDisposedException.ThrowIf(stop.IsCancellationRequested, this);
        ArgumentOutOfRangeException.ThrowIfNegative(epoch);
        if (startBatch < 0 || startBatch > BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(startBatch), $"DataLoader.Epoch: batch {startBatch} of an epoch of {BatchesPerEpoch} batches");
        return Batches(epoch, startBatch, Permutation(epoch));
    }

    IEnumerable<Batch> Batches(int epoch, int startBatch, int[] order)
    {
        int batches = BatchesPerEpoch;
        Task<(float[], int[]?, string[][]?)>? next = startBatch < batches ? Prefetch(order, startBatch) : null;
        try
        {
            for (int b = startBatch; b < batches; b++)
            {
                ObjectDisposedException.ThrowIf(stop.IsCancellationRequested, this);
                var (samples, labels, captions) = next!.GetAwaiter().GetResult();
                next = b + 1 < batches ? Prefetch(order, b + 1) : null;
                var tensor = Tensor.FromArray(samples, [samples.Length / data.SampleSize, .. data.SampleShape], device);
                yield return new Batch(tensor, labels, epoch, b) { Captions = captions };
            }
        }
        finally
        {
            // The caller stopped early (break, exception): let the pending gather finish, it touches nothing shared.
            next?.ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
        }
    }

    Task<(float[] Samples, int[]? Labels, string[][]? Captions)> Prefetch(int[] order, int batch)
    {
        var token = stop.Token;
        return Task.Run(() =>
        {
            token.ThrowIfCancellationRequested();
            return Gather(order, batch);
        }, token);
    }

    /// <summary>Copies the rows of batch <paramref name="batch"/> (and their labels and captions) into fresh host arrays.</summary>
    (float[] Samples, int[]? Labels, string[][]? Captions) Gather(int[] order, int batch)
    {
        int first = batch * BatchSize, count = Math.Min(BatchSize, order.Length - first), size = data.SampleSize;
        var samples = new float[count * size];
        var labels = data.Labels is null ? null : new int[count];
        var captions = data.Captions is null ? null : new string[count][];
        for (int i = 0; i < count; i++)
        {
            int row = order[first + i];
            data.Data.AsSpan(row * size, size).CopyTo(samples.AsSpan(i * size, size));
            if (labels is not null) labels[i] = data.Labels![row];
            if (captions is not null) captions[i] = data.Captions![row];
        }
        return (samples, labels, captions);
    }

    public void Dispose() => stop.Cancel();
}
