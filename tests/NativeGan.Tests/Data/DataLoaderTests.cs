using NativeGan.Gan.Data;

namespace NativeGan.Tests.Data;

public class DataLoaderTests
{
    /// <summary>Sample i is [i, i + 0.5, i + 0.25] (shape [3]) with label i % 7: every row says who it is.</summary>
    static Dataset Numbered(int count) => new("numbered",
        [.. Enumerable.Range(0, count).SelectMany(i => new[] { i, i + 0.5f, i + 0.25f })], [3],
        [.. Enumerable.Range(0, count).Select(i => i % 7)], 7);

    static List<(int[] Ids, int[] Labels, int Epoch, int Index)> Read(DataLoader loader, int epoch, int startBatch = 0)
    {
        var result = new List<(int[], int[], int, int)>();
        foreach (var batch in loader.Epoch(epoch, startBatch))
            using (batch)
            {
                var rows = batch.Samples.ToArray();
                Assert.Equal(3, batch.Samples.Shape[1]);
                int n = batch.Samples.Shape[0];
                var ids = new int[n];
                for (int i = 0; i < n; i++)
                {
                    ids[i] = (int)rows[3 * i];
                    Assert.Equal(ids[i] + 0.5f, rows[3 * i + 1]);   // the whole row, in order
                    Assert.Equal(ids[i] + 0.25f, rows[3 * i + 2]);
                    Assert.Equal(ids[i] % 7, batch.Labels![i]);     // its label
                }
                result.Add((ids, batch.Labels!, batch.Epoch, batch.Index));
            }
        return result;
    }

    [Theory, MemberData(nameof(Devices))]
    public void Every_sample_once_per_epoch_with_its_label(string deviceName)
    {
        var device = TestDevices.Get(deviceName);
        using var loader = new DataLoader(Numbered(103), 10, device, seed: 5, dropLast: false);
        Assert.Equal(11, loader.BatchesPerEpoch);
        var batches = Read(loader, 0);
        Assert.Equal(11, batches.Count);
        Assert.Equal(3, batches[^1].Ids.Length);
        Assert.Equal(Enumerable.Range(0, 11), batches.Select(b => b.Index));
        Assert.All(batches, b => Assert.Equal(0, b.Epoch));
        Assert.Equal(Enumerable.Range(0, 103), batches.SelectMany(b => b.Ids).Order());
        Assert.NotEqual(Enumerable.Range(0, 103), batches.SelectMany(b => b.Ids)); // shuffled
    }

    public static TheoryData<string> Devices => TestDevices.All;

    [Fact]
    public void Drop_last_skips_the_short_batch()
    {
        using var loader = new DataLoader(Numbered(103), 10, Device.Cpu, seed: 5);
        Assert.Equal(10, loader.BatchesPerEpoch);
        var ids = Read(loader, 2).SelectMany(b => b.Ids).ToArray();
        Assert.Equal(100, ids.Length);
        Assert.Equal(100, ids.Distinct().Count());
    }

    [Fact]
    public void Order_depends_only_on_seed_and_epoch()
    {
        var data = Numbered(50);
        using var a = new DataLoader(data, 8, Device.Cpu, seed: 11);
        using var b = new DataLoader(data, 8, Device.Cpu, seed: 11);
        using var c = new DataLoader(data, 8, Device.Cpu, seed: 12);
        Read(a, 0); // a has already run an epoch: it must not matter
        var a3 = Read(a, 3).SelectMany(x => x.Ids).ToArray();
        Assert.Equal(a3, Read(b, 3).SelectMany(x => x.Ids));
        Assert.NotEqual(a3, Read(b, 4).SelectMany(x => x.Ids));
        Assert.NotEqual(a3, Read(c, 3).SelectMany(x => x.Ids));
        Assert.Equal(a.Permutation(3)[..48], a3);
    }

    [Fact]
    public void StartBatch_resumes_exactly()
    {
        using var loader = new DataLoader(Numbered(64), 6, Device.Cpu, seed: 99);
        var full = Read(loader, 7);
        var resumed = Read(loader, 7, startBatch: 4);
        Assert.Equal(full.Count - 4, resumed.Count);
        for (int i = 0; i < resumed.Count; i++)
        {
            Assert.Equal(full[4 + i].Ids, resumed[i].Ids);
            Assert.Equal(full[4 + i].Index, resumed[i].Index);
        }
        Assert.Empty(Read(loader, 7, startBatch: loader.BatchesPerEpoch));
        Assert.Throws<ArgumentOutOfRangeException>(() => loader.Epoch(7, loader.BatchesPerEpoch + 1));
    }

    [Fact]
    public void Stopping_early_and_disposing_are_clean()
    {
        var loader = new DataLoader(Numbered(40), 4, Device.Cpu, seed: 1);
        foreach (var batch in loader.Epoch(0))
        {
            batch.Dispose();
            break; // the prefetched batch 1 is abandoned
        }
        var e = loader.Epoch(1).GetEnumerator();
        Assert.True(e.MoveNext());
        e.Current.Dispose();
        loader.Dispose();
        Assert.Throws<ObjectDisposedException>(() => e.MoveNext());
        Assert.Throws<ObjectDisposedException>(() => loader.Epoch(2));
        e.Dispose();
    }

    [Fact]
    public void Images_keep_their_shape()
    {
        var images = Transforms.PadTo(new Dataset("x", new float[5 * 28 * 28], [1, 28, 28], null, 0), 32);
        using var loader = new DataLoader(images, 2, Device.Cpu, seed: 0);
        using var batch = loader.Epoch(0).First();
        Assert.Equal([2, 1, 32, 32], batch.Samples.Shape);
        Assert.Null(batch.Labels);
        Assert.Throws<DataException>(() => new DataLoader(images, 6, Device.Cpu, 0));
    }
}
