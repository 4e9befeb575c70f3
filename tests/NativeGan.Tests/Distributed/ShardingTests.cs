using NativeGan.Gan.Data;
using NativeGan.Nn;
using NativeGan.Nn.Distributed;

namespace NativeGan.Tests.Distributed;

/// <summary>
/// What data parallelism rests on, without MPI: the ranks' shards of a batch and of a random draw put together (in rank
/// order, slice by slice) are exactly what one process takes; the single-process communicator changes nothing.
/// </summary>
public class ShardingTests
{
    [Theory]
    [InlineData(2, 1)]
    [InlineData(3, 5)] // a WGAN critic's 5 slices over 3 ranks
    public void TheRanksShardsOfABatchMakeTheSingleProcessBatch(int ranks, int groups)
    {
        int rows = 7 * 90, batch = ranks * groups * 4, features = 3;
        var data = new float[rows * features];
        for (int i = 0; i < data.Length; i++) data[i] = i; // row r holds 3r, 3r+1, 3r+2
        var labels = Enumerable.Range(0, rows).Select(r => r % 10).ToArray();
        var set = new Dataset("rows", data, [features], labels, 10);
        using var whole = new DataLoader(set, batch, Device.Cpu, seed: 11);
        var shards = Enumerable.Range(0, ranks).Select(r => new DataLoader(set, batch, Device.Cpu, seed: 11).ShardRows(r, ranks, groups)).ToList();
        try
        {
            var expected = whole.Epoch(1, 3).Take(2).Select(b => { using (b) return (b.Samples.ToArray(), b.Labels!); }).ToList();
            var got = shards.Select(s => s.Epoch(1, 3).Take(2).Select(b => { using (b) return (b.Samples.ToArray(), b.Labels!); }).ToList()).ToList();
            for (int k = 0; k < expected.Count; k++)
            {
                // Slice g of the whole batch = slice g of rank 0, then of rank 1, ...
                int slice = batch / groups, share = slice / ranks;
                var rebuilt = new List<float>();
                var rebuiltLabels = new List<int>();
                for (int g = 0; g < groups; g++)
                    for (int r = 0; r < ranks; r++)
                    {
                        Assert.Equal(batch / ranks * features, got[r][k].Item1.Length);
                        rebuilt.AddRange(got[r][k].Item1.AsSpan(g * share * features, share * features).ToArray());
                        rebuiltLabels.AddRange(got[r][k].Item2.AsSpan(g * share, share).ToArray());
                    }
                Assert.Equal(expected[k].Item1, rebuilt.ToArray());
                Assert.Equal(expected[k].Item2, rebuiltLabels.ToArray());
            }
        }
        finally { foreach (var s in shards) s.Dispose(); }
    }

    [Fact]
    public void ABatchThatDoesNotSplitOverTheRanksIsRefused()
    {
        var set = new Dataset("rows", new float[100], [1], null, 0);
        using var loader = new DataLoader(set, 10, Device.Cpu, seed: 1);
        var e = Assert.Throws<DataException>(() => loader.ShardRows(0, 3));
        Assert.Contains("divisible by the number of ranks", e.Message);
    }

    [Fact]
    public void TheRanksRowsOfADrawMakeTheSingleProcessDraw()
    {
        // Two draws in a row (the stream moves on by the whole draw on every rank), normal and uniform, odd sizes.
        var single = new Rng(5, offset: 17);
        float[] normal, uniform;
        using (var n = single.Normal(Device.Cpu, [6, 7])) normal = n.ToArray();
        using (var u = single.Uniform(Device.Cpu, [6, 1, 3])) uniform = u.ToArray();
        var normalParts = new List<float>();
        var uniformParts = new List<float>();
        for (int rank = 0; rank < 3; rank++)
        {
            var rng = new Rng(5, offset: 17);
            rng.ShardRows(rank, 3);
            using (var n = rng.Normal(Device.Cpu, [2, 7])) normalParts.AddRange(n.ToArray());
            using (var u = rng.Uniform(Device.Cpu, [2, 1, 3])) uniformParts.AddRange(u.ToArray());
            Assert.Equal(single.Offset, rng.Offset); // same position on every rank, and as one process
        }
        Assert.Equal(normal, normalParts.ToArray());
        Assert.Equal(uniform, uniformParts.ToArray());
    }

    [Fact]
    public void OneProcessAveragesNothingAndBroadcastsNothing()
    {
        using var w = Tensor.FromArray([1f, -2f, 3f], [3]);
        w.RequiresGrad = true;
        var opt = new Sgd([w], 0.5f);
        using var ddp = new DistributedDataParallel(new Sequential(), opt, SingleProcess.Instance);
        w.Grad = Tensor.FromArray([2f, 4f, -6f], [3]);
        opt.Step();
        Assert.Equal([0f, -4f, 6f], w.ToArray()); // w - 0.5 g: the gradient as it was
        Assert.Equal(0, SingleProcess.Instance.Stats.Calls);
    }
}
