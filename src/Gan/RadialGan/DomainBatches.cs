using NativeGan.Gan.Data;

namespace NativeGan.Gan.RadialGan;

/// <summary>
/// The reference's batches (vanderschaarlab/mlforhealthlabpub, alg/RadialGAN): every iteration draws
/// <see cref="RowsPerDomain"/> rows from <i>each</i> domain, the first rows of a fresh random permutation of that domain's
/// rows (<c>np.random.permutation(n)[:mb_size]</c>), so every domain's terms see the same number of rows a step however
/// small the domain. A domain with fewer rows gives all of them (the reference's reshape would fail there). The batch holds
/// the domains one after another; its <see cref="Batch.Labels"/> are the domains, as <see cref="RadialGanJob.Step"/> expects.
/// </summary>
public sealed class DomainBatches
{
    readonly Dataset data;
    readonly int[][] rowsOf;
    readonly Random random;

    /// <summary>Draws from <paramref name="data"/> (a table's training rows, <see cref="Tabular.TabularSplit.TrainDataset"/>: each row's
    /// label is its domain, 0 to ClassCount - 1), seeded by <paramref name="seed"/>.</summary>
    public DomainBatches(Dataset data, int rowsPerDomain, ulong seed)
    {
        if (data.Labels is not { } domains || data.ClassCount < 2)
            throw new ArgumentException($"DomainBatches: {data.Name} is not a table of several domains (rows labelled by their domain)");
        if (rowsPerDomain < 1) throw new ArgumentException($"DomainBatches: rows per domain must be at least 1, got {rowsPerDomain}");
        this.data = data;
        RowsPerDomain = rowsPerDomain;
        rowsOf = [.. Enumerable.Range(0, data.ClassCount).Select(d => Enumerable.Range(0, domains.Length).Where(i => domains[i] == d).ToArray())];
        random = new Random(unchecked((int)(seed ^ (seed >> 32)) ^ 0x5EED));
    }

    /// <summary>Rows drawn from each domain a step (the reference: 128).</summary>
    public int RowsPerDomain { get; }

    /// <summary>The table rows (indices into the dataset) of the next batch, domain after domain.</summary>
    public int[] NextRows()
    {
        var picked = new List<int>();
        foreach (var rows in rowsOf)
        {
            var order = (int[])rows.Clone();
            random.Shuffle(order);
            picked.AddRange(order.Take(Math.Min(RowsPerDomain, order.Length)));
        }
        return [.. picked];
    }

    /// <summary>The next batch on <paramref name="device"/> (step <paramref name="index"/>, for the batch's record).</summary>
    public Batch Next(Device device, int index)
    {
        var rows = NextRows();
        int width = data.SampleSize;
        var samples = new float[rows.Length * width];
        for (int i = 0; i < rows.Length; i++) Array.Copy(data.Data, rows[i] * width, samples, i * width, width);
        return new Batch(Tensor.FromArray(samples, [rows.Length, width], device), [.. rows.Select(r => data.Labels![r])], 0, index);
    }
}
