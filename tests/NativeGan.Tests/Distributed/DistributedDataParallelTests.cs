using NativeGan.Nn;
using NativeGan.Nn.Distributed;

namespace NativeGan.Tests.Distributed;

/// <summary>
/// <see cref="DistributedDataParallel"/> on a group of threads in this process (<see cref="ThreadGroup"/>: the same
/// collectives as MPI's, summed in rank order), so buckets, the broadcast of state and the refusals are tested on every
/// run without MPI: odd sizes, buckets smaller than one gradient, gradients that straddle buckets, against a float64
/// average computed here.
/// </summary>
public class DistributedDataParallelTests
{
    /// <summary>Ranks as threads: each collective is two barrier phases over shared slots.</summary>
    sealed class ThreadGroup(int size)
    {
        readonly Barrier barrier = new(size);
        readonly object?[] slots = new object?[size];

        public Member Join(int rank) => new(this, rank);

        public sealed class Member(ThreadGroup group, int rank) : Communicator
        {
            public override int Rank => rank;
            public override int Size => group.slots.Length;
            public override string Description => "threads";

            void Exchange<T>(T[] mine)
            {
                group.slots[rank] = mine;
                group.barrier.SignalAndWait();
            }

            public override void AllReduceSum(Span<float> values)
            {
                Exchange(values.ToArray());
                var sum = new double[values.Length];
                foreach (float[] s in group.slots.Cast<float[]>()) for (int i = 0; i < sum.Length; i++) sum[i] += s[i];
                group.barrier.SignalAndWait();
                for (int i = 0; i < sum.Length; i++) values[i] = (float)sum[i];
            }

            public override void AllReduceSum(Span<double> values)
            {
                Exchange(values.ToArray());
                var sum = new double[values.Length];
                foreach (double[] s in group.slots.Cast<double[]>()) for (int i = 0; i < sum.Length; i++) sum[i] += s[i];
                group.barrier.SignalAndWait();
                sum.CopyTo(values);
            }

            public override void Broadcast(Span<float> values, int root = 0)
            {
                Exchange(values.ToArray());
                var theirs = (float[])group.slots[root]!;
                group.barrier.SignalAndWait();
                theirs.CopyTo(values);
            }

            public override void Broadcast(Span<byte> bytes, int root = 0)
            {
                Exchange(bytes.ToArray());
                var theirs = (byte[])group.slots[root]!;
                group.barrier.SignalAndWait();
                theirs.CopyTo(bytes);
            }

            public override void Barrier() => group.barrier.SignalAndWait();
            public override void Abort(int exitCode, string message) => throw new InvalidOperationException(message);
        }
    }

    /// <summary>Runs <paramref name="body"/> as every rank of a group of <paramref name="size"/> threads; rethrows the first failure.</summary>
    static T[] OnRanks<T>(int size, Func<Communicator, T> body)
    {
        var group = new ThreadGroup(size);
        var tasks = Enumerable.Range(0, size).Select(r => Task.Factory.StartNew(() => body(group.Join(r)), TaskCreationOptions.LongRunning)).ToArray();
        Task.WaitAll(tasks, TestContext.Current.CancellationToken);
        return [.. tasks.Select(t => t.Result)];
    }

    static Sequential Model(ulong seed) => new(new Linear(7, 5, rng: new Rng(seed)), new Linear(5, 3, rng: new Rng(seed + 1)));

    [Theory]
    [InlineData(2, 7)]    // buckets of 7 floats: every gradient straddles buckets
    [InlineData(3, 1000)] // one bucket
    public void EveryRankStepsWithTheAverageGradient(int size, int bucket)
    {
        var results = OnRanks(size, comm =>
        {
            using var model = Model(100 + (ulong)comm.Rank); // different weights on each rank: rank 0's must win
            var opt = new Sgd(model.Parameters(), 0.5f);
            using var ddp = new DistributedDataParallel(model, opt, comm, bucket);
            var before = model.Parameters().Select(p => p.ToArray()).ToArray();
            // Each rank's own gradient: odd values, different per rank.
            var rng = new Rng(7 + (ulong)comm.Rank);
            var grads = new List<float[]>();
            foreach (var p in model.Parameters())
            {
                p.Grad = rng.Normal(Device.Cpu, p.Shape);
                grads.Add(p.Grad.ToArray());
            }
            opt.Step();
            return (Before: before, Grads: grads, After: model.Parameters().Select(p => p.ToArray()).ToArray());
        });
        using var rank0 = Model(100);
        var initial = rank0.Parameters().Select(p => p.ToArray()).ToArray();
        for (int r = 0; r < size; r++)
            for (int i = 0; i < initial.Length; i++)
            {
                Assert.Equal(initial[i], results[r].Before[i]); // broadcast: rank 0's initial weights everywhere
                Assert.Equal(results[0].After[i], results[r].After[i]); // and bit-identical after the step
                for (int j = 0; j < initial[i].Length; j++)
                {
                    double mean = Enumerable.Range(0, size).Sum(q => (double)results[q].Grads[i][j]) / size;
                    double expected = initial[i][j] - 0.5 * mean;
                    Assert.True(Math.Abs(results[r].After[i][j] - expected) <= 1e-6 + 1e-6 * Math.Abs(expected),
                        $"rank {r}, parameter {i}, element {j}: {results[r].After[i][j]} against {expected}");
                }
            }
    }

    /// <summary>A conv, batch norm (gamma and beta not 1 and 0) and LeakyReLU; the same weights for every seed's rank.</summary>
    static Sequential NormModel()
    {
        var norm = new NativeGan.Nn.BatchNorm2d(3);
        var model = new Sequential(new NativeGan.Nn.Conv2d(2, 3, 3, padding: 1, rng: new Rng(11)), norm, new LeakyReLU(0.2f));
        var rng = new Rng(12);
        Elementwise.ScaleAdd(norm.Weight, 1f, rng.Normal(Device.Cpu, [3]), 0.5f);
        Elementwise.ScaleAdd(norm.Bias, 1f, rng.Normal(Device.Cpu, [3]), 0.5f);
        return model;
    }

    /// <summary>The objective of one batch: L = mean(model(x) * w) plus, with a penalty, rows * sum((dL/dx)^2) scaled so
    /// that the ranks' mean objective is one process's L + sum((dL/dx)^2) over the whole batch (see the test).</summary>
    static Tensor Objective(Sequential model, Tensor x, Tensor w, bool penalty, int ranks)
    {
        using var y = model.Forward(x);
        using var weighted = y.Mul(w);
        var loss = weighted.Mean();
        if (!penalty) return loss;
        var dx = Autograd.Grad([loss], [x], createGraph: true)[0]; // on a rank: d(sum of the ranks' L)/dx = ranks * dL/dx
        using var scaled = dx.Mul(1f / ranks);
        using var squares = scaled.Square();
        using var total = squares.Sum();
        using var weightedPenalty = total.Mul(ranks);
        var objective = loss.Add(weightedPenalty);
        loss.Dispose();
        dx.Dispose();
        return objective;
    }

    [Theory]
    [InlineData(2, false)]
    [InlineData(3, false)]
    [InlineData(2, true)]  // a gradient penalty: the double backward crosses the ranks too
    public void SynchronisedBatchNormTrainsAsOneProcessOnTheWholeBatch(int size, bool penalty)
    {
        // One process, the whole batch of 3 x size rows, the fused batch norm: the reference.
        int rows = 3 * size;
        var xs = new Rng(20).Normal(Device.Cpu, [rows, 2, 5, 5]).ToArray();
        var ws = new Rng(21).Normal(Device.Cpu, [rows, 3, 5, 5]).ToArray();
        float[] yWhole;
        float[][] gradWhole, statsWhole;
        using (var model = NormModel())
        using (var x = Tensor.FromArray(xs, [rows, 2, 5, 5]))
        using (var w = Tensor.FromArray(ws, [rows, 3, 5, 5]))
        {
            x.RequiresGrad = penalty;
            using (var y = model.Forward(x)) yWhole = y.ToArray();
            using (var objective = Objective(model, x, w, penalty, 1)) objective.Backward();
            gradWhole = [.. model.Parameters().Select(p => p.Grad!.ToArray())];
            var norm = (NativeGan.Nn.BatchNorm2d)model.NamedChildren().Single(c => c.Module is NativeGan.Nn.BatchNorm2d).Module;
            statsWhole = [norm.RunningMean.ToArray(), norm.RunningVar.ToArray()];
        }

        var results = OnRanks(size, comm =>
        {
            using var model = NormModel();
            var opt = new Sgd(model.Parameters(), 0.1f);
            using var ddp = new DistributedDataParallel(model, opt, comm, syncBatchNorm: true);
            Assert.True(ddp.SyncBatchNorm);
            int per = rows / comm.Size, r = comm.Rank;
            using var x = Tensor.FromArray(xs[(r * per * 50)..((r + 1) * per * 50)], [per, 2, 5, 5]);
            using var w = Tensor.FromArray(ws[(r * per * 75)..((r + 1) * per * 75)], [per, 3, 5, 5]);
            x.RequiresGrad = penalty;
            float[] y;
            using (var yt = model.Forward(x)) y = yt.ToArray();
            using (var objective = Objective(model, x, w, penalty, comm.Size)) objective.Backward();
            ddp.AverageGradients(opt.Parameters);
            var norm = (NativeGan.Nn.BatchNorm2d)model.NamedChildren().Single(c => c.Module is NativeGan.Nn.BatchNorm2d).Module;
            return (Y: y, Grads: model.Parameters().Select(p => p.Grad!.ToArray()).ToArray(),
                Stats: new[] { norm.RunningMean.ToArray(), norm.RunningVar.ToArray() });
        });

        static void Close(float[] expected, float[] actual, double tolerance, string what)
        {
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} against {expected[i]}");
        }
        for (int r = 0; r < size; r++)
        {
            int per = 3 * 3 * 25;
            Close(yWhole[(r * per)..((r + 1) * per)], results[r].Y, 1e-5, $"rank {r} output");
            for (int i = 0; i < gradWhole.Length; i++) Close(gradWhole[i], results[r].Grads[i], 1e-4, $"rank {r} gradient {i}");
            // The running statistics moved twice (the output, then the objective's forward), as the reference's.
            for (int i = 0; i < 2; i++) Close(statsWhole[i], results[r].Stats[i], 1e-5, $"rank {r} running statistic {i}");
        }
    }

    [Fact]
    public void OneRanksShardAloneIsNotTheWholeBatchWithoutSynchronisation()
    {
        // The test above can fail: the same shards without synchronisation normalise differently.
        int rows = 6;
        var xs = new Rng(20).Normal(Device.Cpu, [rows, 2, 5, 5]).ToArray();
        float[] yWhole;
        using (var model = NormModel())
        using (var x = Tensor.FromArray(xs, [rows, 2, 5, 5]))
        using (var y = model.Forward(x)) yWhole = y.ToArray();
        using var shardModel = NormModel();
        using var shard = Tensor.FromArray(xs[..(3 * 50)], [3, 2, 5, 5]);
        using var ys = shardModel.Forward(shard);
        var own = ys.ToArray();
        Assert.True(own.Zip(yWhole).Max(p => Math.Abs(p.First - p.Second)) > 1e-2);
    }

    [Fact]
    public void RankZerosOptimizerStateReachesTheOthers()
    {
        var states = OnRanks(2, comm =>
        {
            using var model = Model(3);
            var opt = new Adam(model.Parameters(), 1e-3f);
            if (comm.IsRoot)
            {
                // Rank 0 has taken two steps (a resumed run); rank 1 none.
                for (int s = 0; s < 2; s++)
                {
                    foreach (var p in model.Parameters()) p.Grad = new Rng(50 + (ulong)s).Normal(Device.Cpu, p.Shape);
                    opt.Step();
                    opt.ZeroGrad();
                }
            }
            using var ddp = new DistributedDataParallel(model, opt, comm);
            var sd = opt.StateDict();
            return (Step: opt.StepCount, Moments: sd.Tensors.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => (kv.Key, kv.Value.ToArray())).ToList(),
                Weights: model.Parameters().Select(p => p.ToArray()).ToList());
        });
        Assert.Equal(2, states[1].Step);
        Assert.Equal(states[0].Moments.Select(m => m.Key), states[1].Moments.Select(m => m.Key));
        Assert.NotEmpty(states[1].Moments);
        for (int i = 0; i < states[0].Moments.Count; i++) Assert.Equal(states[0].Moments[i].Item2, states[1].Moments[i].Item2);
        for (int i = 0; i < states[0].Weights.Count; i++) Assert.Equal(states[0].Weights[i], states[1].Weights[i]);
    }

    [Fact]
    public void RanksWhoseGraphsDifferAreRefused()
    {
        var errors = OnRanks(2, comm =>
        {
            using var model = Model(3);
            var opt = new Sgd(model.Parameters(), 0.1f);
            using var ddp = new DistributedDataParallel(model, opt, comm, bucketFloats: 8);
            var ps = model.Parameters().ToList();
            // Rank 1 has no gradient for its last parameter (a layer its step did not use).
            for (int i = 0; i < ps.Count - comm.Rank; i++) ps[i].Grad = Tensor.Ones(Device.Cpu, ps[i].Shape);
            try { opt.Step(); return null; }
            catch (DistributedException e) { return e.Message; }
        });
        // The counts ride in the first bucket, so both ranks see them before any gradient is changed.
        Assert.All(errors, e => Assert.Contains("the ranks ran different graphs", e));
    }

    [Fact]
    public void RanksWithDifferentModelsAreRefusedNamingTheTensors()
    {
        var errors = OnRanks(2, comm =>
        {
            using var model = comm.IsRoot ? Model(1) : new Sequential(new Linear(7, 4, rng: new Rng(1)));
            var opt = new Sgd(model.Parameters(), 0.1f);
            try { using var ddp = new DistributedDataParallel(model, opt, comm); return null; }
            catch (DistributedException e) { return e.Message; }
        });
        Assert.Contains("1 of the 2 ranks hold a Sequential that differs from rank 0's", errors[0]);
        Assert.Contains("rank 1's Sequential differs from rank 0's", errors[1]);
        Assert.Contains("0.weight:5x7", errors[1]);
    }
}
