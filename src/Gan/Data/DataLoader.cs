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

    /// <summary>This rank's part of every batch under data parallelism (<see cref="ShardRows"/>); (0, 1, 1): the whole batch.</summary>
    public (int Rank, int Count, int Groups) Shard { get; private set; } = (0, 1, 1);

    /// <summary>
    /// Makes every batch this rank's shard of the batch all ranks share: the order and <see cref="BatchSize"/> stay the
    /// global ones (same seed on every rank), and a batch holds BatchSize / <paramref name="count"/> rows. The batch is cut
    /// into <paramref name="groups"/> equal parts (a step's updates: a WGAN critic's 5 slices) and the rank takes its
    /// count-th of each, so the union of the ranks' k-th slices is the single process's k-th slice, in rank order.
    /// </summary>
    public DataLoader ShardRows(int rank, int count, int groups = 1)
    {
        if (count < 1 || rank < 0 || rank >= count || groups < 1)
            throw new ArgumentOutOfRangeException(nameof(rank), $"DataLoader.ShardRows: rank {rank} of {count}, {groups} groups");
        if (count > 1 && (!DropLast || BatchSize % (count * groups) != 0))
            throw new DataException($"{data.Name}: a batch of {BatchSize} does not split into {groups} update(s) x {count} ranks of equal shards" +
                                    (DropLast ? "" : " (a sharded loader drops the last, smaller batch)") + ": use a batch divisible by the number of ranks");
        Shard = (rank, count, groups);
        return this;
    }

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
        var (rank, ranks, groups) = Shard;
        int group = count / groups, share = group / ranks; // under sharding count == BatchSize (whole batches only)
        if (ranks > 1) count /= ranks;
        var samples = new float[count * size];
        var labels = data.Labels is null ? null : new int[count];
        var captions = data.Captions is null ? null : new string[count][];
        for (int i = 0; i < count; i++)
        {
            // Sharded: the i-th local row is row (i % share) of this rank's share of group i / share.
            int row = ranks == 1 ? order[first + i] : order[first + i / share * group + rank * share + i % share];
            data.Data.AsSpan(row * size, size).CopyTo(samples.AsSpan(i * size, size));
            if (labels is not null) labels[i] = data.Labels![row];
            if (captions is not null) captions[i] = data.Captions![row];
        }
        return (samples, labels, captions);
    }

    public void Dispose() => stop.Cancel();
}
