using System.Diagnostics;

namespace NativeGan.Nn.Distributed;

/// <summary>
/// A group of processes training one model together (PyTorch's process group): each has a <see cref="Rank"/> in
/// 0 .. <see cref="Size"/> - 1, and every collective (<see cref="AllReduceSum(Span{float})"/>, <see cref="Broadcast(Span{float}, int)"/>,
/// <see cref="Barrier"/>) must be called by every rank in the same order with the same lengths. Two kinds: <see cref="SingleProcess"/>
/// (size 1, every collective a no-op) and <see cref="MpiCommunicator"/> (the processes <c>mpiexec -n N</c> starts).
/// <para>A collective that fails (a rank died, the network went away) throws <see cref="DistributedException"/> naming the
/// call and the ranks; the caller cannot go on with the group after that.</para>
/// </summary>
public abstract class Communicator : IDisposable
{
    /// <summary>This process's index in the group (0 is the one that writes files).</summary>
    public abstract int Rank { get; }

    /// <summary>How many processes the group holds.</summary>
    public abstract int Size { get; }

    /// <summary>What carries the collectives, for messages ("single process", "MPI (MPICH 4.0.2 ...)").</summary>
    public abstract string Description { get; }

    /// <summary>Whether this is rank 0: the rank that writes pictures, logs and checkpoints.</summary>
    public bool IsRoot => Rank == 0;

    /// <summary>Sums <paramref name="values"/> element-wise over all ranks, in place: every rank ends with the same sums.</summary>
    public abstract void AllReduceSum(Span<float> values);

    /// <summary>Sums <paramref name="values"/> element-wise over all ranks, in place (double precision: counts, flags, timings).</summary>
    public abstract void AllReduceSum(Span<double> values);

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="values"/> into every other rank's (same length everywhere).</summary>
    public abstract void Broadcast(Span<float> values, int root = 0);

    /// <summary>Copies rank <paramref name="root"/>'s <paramref name="bytes"/> into every other rank's (same length everywhere).</summary>
    public abstract void Broadcast(Span<byte> bytes, int root = 0);

    /// <summary>Returns once every rank has called it.</summary>
    public abstract void Barrier();

    /// <summary>Ends every rank of the group at once with <paramref name="exitCode"/> (after <paramref name="message"/> on stderr):
    /// what a rank does when it cannot go on and the others would otherwise wait for it forever.</summary>
    public abstract void Abort(int exitCode, string message);

    /// <summary>Rank <paramref name="root"/>'s byte array on every rank (its length is sent first, so other ranks pass null).</summary>
    public byte[] Broadcast(byte[]? bytes, int root = 0)
    {
        Span<double> length = [Rank == root ? (bytes ?? throw new ArgumentNullException(nameof(bytes), $"Broadcast: rank {root} is the root and must give the bytes")).Length : 0];
        // A sum of one non-zero contribution: the length reaches every rank in one collective.
        AllReduceSum(length);
        var result = Rank == root ? bytes! : new byte[(int)length[0]];
        Broadcast(result.AsSpan(), root);
        return result;
    }

    /// <summary>Seconds and bytes spent in collectives so far (what benchmarks and the trainer's summary report).</summary>
    public CommunicationStats Stats { get; } = new();

    /// <summary>Times one collective of <paramref name="bytes"/> into <see cref="Stats"/>.</summary>
    protected CollectiveTimer Time(long bytes) => new(Stats, bytes);

    public virtual void Dispose() => GC.SuppressFinalize(this);
}

/// <summary>Collective calls, their bytes and their time, summed since the communicator was made (or <see cref="Reset"/>).</summary>
public sealed class CommunicationStats
{
    /// <summary>Collective calls made.</summary>
    public long Calls { get; internal set; }

    /// <summary>Bytes handed to collectives (each rank's own buffer, counted once).</summary>
    public long Bytes { get; internal set; }

    /// <summary>Wall-clock seconds spent inside collectives (waiting for slower ranks included).</summary>
    public double Seconds { get; internal set; }

    /// <summary>Starts the counts again from zero.</summary>
    public void Reset() { Calls = 0; Bytes = 0; Seconds = 0; }

    public override string ToString() => $"{Calls} collectives, {Bytes / 1e6:0.###} MB, {Seconds * 1e3:0.#} ms";
}

/// <summary>Adds one collective's bytes and time to <see cref="CommunicationStats"/> when disposed.</summary>
public readonly struct CollectiveTimer(CommunicationStats stats, long bytes) : IDisposable
{
    readonly long start = Stopwatch.GetTimestamp();

    public void Dispose()
    {
        stats.Calls++;
        stats.Bytes += bytes;
        stats.Seconds += Stopwatch.GetElapsedTime(start).TotalSeconds;
    }
}

/// <summary>The group of one process: rank 0 of 1, every collective leaves the data as it is. What a run without
/// <c>--distributed</c> uses, so the same code path serves both.</summary>
public sealed class SingleProcess : Communicator
{
    /// <summary>The one instance (it holds no state but its statistics).</summary>
    public static SingleProcess Instance { get; } = new();

    public override int Rank => 0;
    public override int Size => 1;
    public override string Description => "single process";
    public override void AllReduceSum(Span<float> values) { }
    public override void AllReduceSum(Span<double> values) { }
    public override void Broadcast(Span<float> values, int root = 0) => CheckRoot(root);
    public override void Broadcast(Span<byte> bytes, int root = 0) => CheckRoot(root);
    public override void Barrier() { }

    public override void Abort(int exitCode, string message)
    {
        Console.Error.WriteLine(message);
        Environment.Exit(exitCode);
    }

    static void CheckRoot(int root)
    {
        if (root != 0) throw new ArgumentOutOfRangeException(nameof(root), $"Broadcast: root {root} is not a rank of a single process (only 0)");
    }
}

/// <summary>A collective failed: a rank died or could not be reached, or the MPI library refused the call.</summary>
public sealed class DistributedException(string message, Exception? inner = null) : Exception(message, inner);
