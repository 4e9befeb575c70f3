using NativeGan;

namespace NativeGan.Tests.Kernels;

/// <summary>The cpu device's fork-join pool: every index once, errors and nesting, callers on several threads, and the
/// kernels' floats the same whichever scheduler shares their loops out.</summary>
public class CpuWorkersTests
{
    [Theory]
    [InlineData(2), InlineData(3), InlineData(4)]
    public void EveryIndexRunsExactlyOnce(int threads)
    {
        using var pool = new CpuWorkers(threads);
        var rng = new Random(threads);
        for (int round = 0; round < 300; round++)
        {
            int count = round < 20 ? round : rng.Next(1, 1000); // 0 and 1 too, then loops back to back with no pause
            var hits = new int[count];
            pool.For(count, i => Interlocked.Increment(ref hits[i]));
            Assert.All(hits, h => Assert.Equal(1, h));
        }
    }

    [Fact]
    public void AnExceptionIsRethrownOnTheCallerAfterTheLoopEnds()
    {
        using var pool = new CpuWorkers(2);
        int done = 0;
        var e = Assert.Throws<InvalidOperationException>(() => pool.For(64, i =>
        {
            if (i == 5) throw new InvalidOperationException("item 5 failed");
            Thread.SpinWait(200);
            Interlocked.Increment(ref done);
        }));
        Assert.Equal("item 5 failed", e.Message); // the body's own exception, not wrapped
        Assert.Equal(63, Volatile.Read(ref done)); // every other index still ran before it returned
        var after = new int[10];
        pool.For(10, i => after[i]++); // the pool is usable afterwards
        Assert.All(after, h => Assert.Equal(1, h));
    }

    [Fact]
    public void ALoopInsideABodyRunsInlineAndCompletes()
    {
        using var pool = new CpuWorkers(2);
        var hits = new int[8, 16];
        pool.For(8, i => pool.For(16, j => Interlocked.Increment(ref hits[i, j])));
        foreach (int h in hits) Assert.Equal(1, h);
    }

    [Fact]
    public void CallersOnSeveralThreadsEachGetTheirWholeLoop()
    {
        // One loop holds the pool; the others run on .NET's thread pool meanwhile. None waits for another or loses an index.
        using var pool = new CpuWorkers(2);
        var totals = new long[6];
        var callers = Enumerable.Range(0, 6).Select(t => new Thread(() =>
        {
            for (int round = 0; round < 50; round++)
                pool.For(100, i => Interlocked.Add(ref totals[t], i + 1));
        })).ToArray();
        foreach (var c in callers) c.Start();
        foreach (var c in callers) Assert.True(c.Join(TimeSpan.FromSeconds(60)), "a caller did not finish");
        Assert.All(totals, total => Assert.Equal(50L * 100 * 101 / 2, total));
    }

    [Fact]
    public void KernelsGiveTheSameFloatsOnEitherScheduler()
    {
        // The loops are cut the same way whoever runs them, so a GEMM with a k tail, a convolution's three passes and a
        // reduction round identically on the device's workers and on Parallel.For.
        var cpu = Device.Cpu;
        var before = cpu.Scheduler;
        var rng = new Random(5);
        using var a = Tensor.FromArray(Numerics.Random(rng, 67 * 301), [67, 301], cpu);
        using var b = Tensor.FromArray(Numerics.Random(rng, 301 * 45), [301, 45], cpu);
        using var x = Tensor.FromArray(Numerics.Random(rng, 5 * 3 * 17 * 17), [5, 3, 17, 17], cpu);
        using var w = Tensor.FromArray(Numerics.Random(rng, 7 * 3 * 4 * 4), [7, 3, 4, 4], cpu);
        var results = new List<float[][]>();
        try
        {
            foreach (var scheduler in new[] { CpuScheduler.TaskParallel, CpuScheduler.Workers })
            {
                cpu.Scheduler = scheduler;
                using var c = Gemm.MatMul(a, b);
                using var y = Conv2d.Forward(x, w, null, 2, 1);
                using var dx = Conv2d.InputGrad(y, w, 17, 17, 2, 1);
                using var dw = Conv2d.WeightGrad(x, y, 4, 4, 2, 1);
                results.Add([c.ToArray(), y.ToArray(), dx.ToArray(), dw.ToArray()]);
            }
        }
        finally { cpu.Scheduler = before; }
        for (int i = 0; i < results[0].Length; i++)
            Assert.True(results[0][i].SequenceEqual(results[1][i]), $"output {i} (GEMM, conv forward, input grad, weight grad) differs between the schedulers");
    }

    [Fact]
    public void ZeroThreadsAreRefused()
        => Assert.Contains("at least 1", Assert.Throws<ArgumentOutOfRangeException>(() => new CpuWorkers(0)).Message);
}
