using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace NativeGan;

/// <summary>How the cpu device shares a parallel loop out over its threads (<see cref="CpuDevice.Scheduler"/>).</summary>
public enum CpuScheduler
{
    /// <summary>The device's own workers (<see cref="CpuWorkers"/>): threads kept for the device that spin briefly
    /// between loops, so a loop starts and ends in about a microsecond. The default.</summary>
    Workers = 0,

    /// <summary>.NET's <c>Parallel.For</c> on the shared thread pool: tens of microseconds a loop on a small virtual
    /// machine, kept to compare against.</summary>
    TaskParallel = 1,
}

/// <summary>
/// A fork-join pool for the cpu kernels: <see cref="For"/> runs body(0 .. count) on the calling thread and
/// Threads - 1 workers of its own, and returns when every index is done.
/// <para>Why not <c>Parallel.For</c>: a training step of a small network is hundreds of parallel loops of tens to
/// hundreds of microseconds each (one per im2col, packing, GEMM, batch norm pass), and on a 2-core virtual machine
/// each <c>Parallel.For</c> cost 20-150 us to start and join (it wakes a thread-pool thread through the kernel every
/// time). Here the workers spin on the next job for a while after each one (<see cref="SpinTicks"/>), then park on
/// a semaphore; a loop posted while they spin starts at once.</para>
/// <para>Indices are taken one at a time from a shared counter, so uneven items balance. One loop runs on the pool at
/// a time: a loop started while another is running (another thread's, or one nested inside a body) runs on .NET's
/// <c>Parallel.For</c> or inline instead, so callers never wait for each other. An exception in a body is rethrown on
/// the calling thread after the loop ends (the first one, unwrapped).</para>
/// </summary>
public sealed class CpuWorkers : IDisposable
{
    /// <summary>One posted loop: its body, its next index and how many indices are not finished.</summary>
    sealed class Job(Action<int> body, int count)
    {
        public readonly Action<int> Body = body;
        public readonly int Count = count;
        public int Next;
        public int Remaining = count;
        public ExceptionDispatchInfo? Error;
    }

    /// <summary>How long an idle worker spins for the next loop before it parks: about 200 us.</summary>
    static readonly long SpinTicks = Stopwatch.Frequency / 5000;

    readonly Thread[] threads;
    readonly SemaphoreSlim[] wake;
    readonly int[] parked;
    Job? current;
    int busy;
    volatile bool stopping;

    [ThreadStatic] static bool insideBody;

    /// <summary>A pool of <paramref name="threads"/> - 1 workers (the caller of <see cref="For"/> is the last one).</summary>
    public CpuWorkers(int threads)
    {
        if (threads < 1) throw new ArgumentOutOfRangeException(nameof(threads), $"CpuWorkers: {threads} threads; at least 1");
        Threads = threads;
        this.threads = new Thread[threads - 1];
        wake = new SemaphoreSlim[threads - 1];
        parked = new int[threads - 1];
        for (int i = 0; i < this.threads.Length; i++)
        {
            int index = i;
            wake[i] = new SemaphoreSlim(0);
            this.threads[i] = new Thread(() => Run(index)) { IsBackground = true, Name = $"nativegan cpu worker {i + 1}" };
            this.threads[i].Start();
        }
    }

    /// <summary>Threads a loop runs on, the caller's included.</summary>
    public int Threads { get; }

    /// <summary>Runs <paramref name="body"/>(i) for i in [0, count) on the pool's threads; returns when all are done.</summary>
    public void For(int count, Action<int> body)
    {
        if (count <= 0) return;
        if (count == 1 || threads.Length == 0 || insideBody)
        {
            for (int i = 0; i < count; i++) body(i);
            return;
        }
        if (Interlocked.CompareExchange(ref busy, 1, 0) != 0)
        {
            // Another thread's loop holds the pool: this one goes to .NET's thread pool rather than wait.
            Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = Threads }, body);
            return;
        }
        try
        {
            var job = new Job(body, count);
            Volatile.Write(ref current, job);
            for (int i = 0; i < parked.Length; i++)
                if (Interlocked.Exchange(ref parked[i], 0) == 1) wake[i].Release();
            Work(job);
            var spin = new SpinWait();
            while (Volatile.Read(ref job.Remaining) > 0) spin.SpinOnce(sleep1Threshold: -1);
            Volatile.Write(ref current, null);
            job.Error?.Throw();
        }
        finally { Volatile.Write(ref busy, 0); }
    }

    /// <summary>Takes indices of <paramref name="job"/> until none are left.</summary>
    static void Work(Job job)
    {
        int i;
        while ((i = Interlocked.Increment(ref job.Next) - 1) < job.Count)
        {
            insideBody = true;
            try { job.Body(i); }
            catch (Exception e) { Interlocked.CompareExchange(ref job.Error, ExceptionDispatchInfo.Capture(e), null); }
            finally
            {
                insideBody = false;
                Interlocked.Decrement(ref job.Remaining);
            }
        }
    }

    /// <summary>A worker: spin for a new job, do its share, and park when none has come for a while.</summary>
    void Run(int index)
    {
        Job? last = null;
        while (!stopping)
        {
            long start = Stopwatch.GetTimestamp();
            Job? job;
            var spin = new SpinWait();
            while ((job = Volatile.Read(ref current)) is null || job == last)
            {
                if (stopping) return;
                if (Stopwatch.GetTimestamp() - start < SpinTicks) { spin.SpinOnce(sleep1Threshold: -1); continue; }
                // Park: say so, look once more (a job posted before the flag was seen is not missed), then wait.
                Volatile.Write(ref parked[index], 1);
                job = Volatile.Read(ref current);
                if (job is not null && job != last)
                {
                    Interlocked.Exchange(ref parked[index], 0); // a Release that raced with this leaves one spurious wake: harmless
                    break;
                }
                wake[index].Wait();
                start = Stopwatch.GetTimestamp();
            }
            if (stopping || job is null) return;
            last = job;
            Work(job);
        }
    }

    /// <summary>Stops the workers (they end after their current loop).</summary>
    public void Dispose()
    {
        stopping = true;
        foreach (var s in wake) s.Release();
    }
}
