using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;

namespace NativeGan.Nn.Distributed;

/// <summary>
/// The processes <c>mpiexec -n N</c> started, through the MPI library (MPICH, or any library of MPICH's ABI: Intel MPI,
/// MVAPICH, Cray MPICH), called by P/Invoke: <c>MPI_Init</c>, <c>MPI_Comm_rank</c>/<c>size</c>, <c>MPI_Allreduce</c>,
/// <c>MPI_Bcast</c>, <c>MPI_Barrier</c>, <c>MPI_Abort</c>, <c>MPI_Finalize</c> on <c>MPI_COMM_WORLD</c>.
/// <para>Why a small P/Invoke layer and not the MPI.NET package: ten functions are needed; MPI.NET (1.4.0) imports
/// <c>msmpi.dll</c>, so it would need the same resolver plus its own assumptions about handle values, and a dependency
/// for what fits in this file. The handle constants below are MPICH's <c>mpi.h</c> values (integers, part of MPICH's ABI
/// since 3.1, unchanged in 4.x). Open MPI's handles are pointers to its globals (another ABI): it is refused by name.</para>
/// <para>The library is <c>libmpich.so.12</c> (or <c>libmpi.so.12</c>, the ABI's other name), found by the loader's path
/// (<c>LD_LIBRARY_PATH</c>, which tools/mpi.sh sets), or the file in <c>NATIVEGAN_MPI_LIBRARY</c>. Errors return
/// (<c>MPI_ERRORS_RETURN</c>) and become <see cref="DistributedException"/> with MPI's own message.</para>
/// <para>One per process (MPI is initialised once); call every collective from one thread.</para>
/// </summary>
public sealed class MpiCommunicator : Communicator
{
    static MpiCommunicator? world;
    static readonly Lock gate = new();
    bool finalized;

    MpiCommunicator(int rank, int size, string library)
    {
        Rank = rank;
        Size = size;
        Description = $"MPI ({library})";
    }

    public override int Rank { get; }
    public override int Size { get; }
    public override string Description { get; }

    /// <summary>Whether this process was started by an MPI launcher (hydra's <c>PMI_RANK</c> or <c>PMI_SIZE</c>, Slurm's
    /// <c>PMI_RANK</c> under srun --mpi=pmi2, Open MPI's <c>OMPI_COMM_WORLD_SIZE</c>): without one, MPI makes a group of one.</summary>
    public static bool LaunchedByMpiexec =>
        Environment.GetEnvironmentVariable("PMI_RANK") is not null || Environment.GetEnvironmentVariable("PMI_SIZE") is not null
        || Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") is not null;

    /// <summary>
    /// Initialises MPI (once per process) and returns the world group. Throws <see cref="DistributedException"/> saying what
    /// to install when the library cannot be loaded (tools/mpi.sh fetches MPICH into .cache/mpich).
    /// </summary>
    public static MpiCommunicator World()
    {
        lock (gate)
        {
            if (world is not null && !world.finalized) return world;
            if (world is not null) throw new DistributedException("MPI: already finalized in this process (MPI can be initialised once)");
            try
            {
                Native.Check("MPI_Initialized", Native.MPI_Initialized(out int already));
                if (already == 0) Native.Check("MPI_Init", Native.MPI_Init(0, 0));
                Native.Check("MPI_Comm_set_errhandler", Native.MPI_Comm_set_errhandler(Native.CommWorld, Native.ErrorsReturn));
                Native.Check("MPI_Comm_rank", Native.MPI_Comm_rank(Native.CommWorld, out int rank));
                Native.Check("MPI_Comm_size", Native.MPI_Comm_size(Native.CommWorld, out int size));
                world = new MpiCommunicator(rank, size, Native.LibraryVersion());
                return world;
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
            {
                throw new DistributedException(
                    $"MPI: the MPI library could not be loaded ({Native.Tried}): {e.Message}. Fetch MPICH with `bash tools/mpi.sh` and run through it " +
                    "(`bash tools/mpi.sh -n 2 nativegan train ...`), install MPICH (`apt-get install mpich`), or point NATIVEGAN_MPI_LIBRARY at a libmpich.so.12", e);
            }
        }
    }

    public override void AllReduceSum(Span<float> values)
    {
        if (values.IsEmpty) return;
        CheckLength("MPI_Allreduce", values.Length);
        using var _ = Time(values.Length * sizeof(float));
        Check("MPI_Allreduce", Native.MPI_Allreduce(Native.InPlace, ref MemoryMarshal.GetReference(values), values.Length, Native.Float, Native.Sum, Native.CommWorld));
    }

    public override void AllReduceSum(Span<double> values)
    {
        if (values.IsEmpty) return;
        CheckLength("MPI_Allreduce", values.Length);
        using var _ = Time(values.Length * sizeof(double));
        Check("MPI_Allreduce", Native.MPI_Allreduce(Native.InPlace, ref MemoryMarshal.GetReference(values), values.Length, Native.Double, Native.Sum, Native.CommWorld));
    }

    public override void Broadcast(Span<float> values, int root = 0)
    {
        CheckRoot(root);
        if (values.IsEmpty) return;
        using var _ = Time(values.Length * sizeof(float));
        Check("MPI_Bcast", Native.MPI_Bcast(ref MemoryMarshal.GetReference(values), values.Length, Native.Float, root, Native.CommWorld));
    }

    public override void Broadcast(Span<byte> bytes, int root = 0)
    {
        CheckRoot(root);
        // MPI counts are ints: a long message goes in pieces of at most 1 GiB.
        for (int start = 0; start < bytes.Length; start += 1 << 30)
        {
            var piece = bytes[start..Math.Min(bytes.Length, start + (1 << 30))];
            using var _ = Time(piece.Length);
            Check("MPI_Bcast", Native.MPI_Bcast(ref MemoryMarshal.GetReference(piece), piece.Length, Native.Byte, root, Native.CommWorld));
        }
    }

    public override void Barrier()
    {
        using var _ = Time(0);
        Check("MPI_Barrier", Native.MPI_Barrier(Native.CommWorld));
    }

    public override void Abort(int exitCode, string message)
    {
        Console.Error.WriteLine(message);
        Console.Error.Flush();
        Native.MPI_Abort(Native.CommWorld, exitCode);
        Environment.Exit(exitCode); // MPI_Abort does not return; this is for a library that would
    }

    /// <summary>Finalises MPI (every rank must call it; a rank that exits without it is reported by mpiexec as failed).</summary>
    public override void Dispose()
    {
        lock (gate)
        {
            if (!finalized)
            {
                finalized = true;
                Native.MPI_Finalize();
            }
        }
        base.Dispose();
    }

    void CheckRoot(int root)
    {
        if (root < 0 || root >= Size) throw new ArgumentOutOfRangeException(nameof(root), $"MPI_Bcast: root {root} is not a rank of this group of {Size}");
    }

    static void CheckLength(string call, int length)
    {
        if (length <= 0) throw new ArgumentOutOfRangeException(nameof(length), $"{call}: {length} elements");
    }

    void Check(string call, int code)
    {
        ObjectDisposedException.ThrowIf(finalized, this);
        if (code != Native.Success)
            throw new DistributedException($"{call} failed on rank {Rank} of {Size}: {Native.ErrorString(code)} (a rank may have died or become unreachable; " +
                                           "the job cannot go on: rank 0's last checkpoint stays, run again with --resume)");
    }

    /// <summary>The MPI functions and MPICH's handle values (mpi.h of MPICH 4.0.2: typedef int MPI_Comm, MPI_Datatype, MPI_Op).</summary>
    static class Native
    {
        const string Library = "nativegan-mpi";
        public const int Success = 0;
        public const int CommWorld = 0x44000000;
        public const int Float = 0x4c00040a, Double = 0x4c00080b, Byte = 0x4c00010d;
        public const int Sum = 0x58000003;
        public const int ErrorsReturn = 0x54000001;
        public static readonly nint InPlace = -1; // MPI_IN_PLACE is (void *) -1
        public static string Tried { get; private set; } = "";

        static Native() => NativeLibrary.SetDllImportResolver(typeof(Native).Assembly, Resolve);

        static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
        {
            if (name != Library) return 0;
            var candidates = new List<string>();
            if (Environment.GetEnvironmentVariable("NATIVEGAN_MPI_LIBRARY") is { Length: > 0 } chosen) candidates.Add(chosen);
            candidates.AddRange(["libmpich.so.12", "libmpi.so.12"]);
            Tried = string.Join(", ", candidates);
            foreach (var c in candidates)
                if (NativeLibrary.TryLoad(c, out var handle))
                {
                    // Open MPI (libmpi.so.40) exports ompi_mpi_comm_world: its handles are pointers, not MPICH's integers.
                    if (NativeLibrary.TryGetExport(handle, "ompi_mpi_comm_world", out _))
                        throw new DllNotFoundException($"{c} is Open MPI, whose handles are not MPICH's integers: use MPICH (tools/mpi.sh fetches it)");
                    return handle;
                }
            return 0;
        }

        public static string LibraryVersion()
        {
            var buffer = new byte[8192];
            if (MPI_Get_library_version(buffer, out int length) != Success) return "MPI";
            var text = Encoding.ASCII.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).Trim('\0', ' ', '\n');
            int line = text.IndexOf('\n');
            text = line > 0 ? text[..line] : text;
            return System.Text.RegularExpressions.Regex.Replace(text, @"\s+", " ").Trim();
        }

        public static string ErrorString(int code)
        {
            var buffer = new byte[1024];
            return MPI_Error_string(code, buffer, out int length) == Success
                ? Encoding.ASCII.GetString(buffer, 0, Math.Clamp(length, 0, buffer.Length)).Trim('\0', ' ', '\n')
                : $"MPI error {code}";
        }

        public static void Check(string call, int code)
        {
            if (code != Success) throw new DistributedException($"{call} failed: {ErrorString(code)}");
        }

        [DllImport(Library)] public static extern int MPI_Initialized(out int flag);
        [DllImport(Library)] public static extern int MPI_Init(nint argc, nint argv);
        [DllImport(Library)] public static extern int MPI_Finalize();
        [DllImport(Library)] public static extern int MPI_Comm_rank(int comm, out int rank);
        [DllImport(Library)] public static extern int MPI_Comm_size(int comm, out int size);
        [DllImport(Library)] public static extern int MPI_Comm_set_errhandler(int comm, int handler);
        [DllImport(Library)] public static extern int MPI_Allreduce(nint sendBuffer, ref float receiveBuffer, int count, int type, int op, int comm);
        [DllImport(Library)] public static extern int MPI_Allreduce(nint sendBuffer, ref double receiveBuffer, int count, int type, int op, int comm);
        [DllImport(Library)] public static extern int MPI_Bcast(ref float buffer, int count, int type, int root, int comm);
        [DllImport(Library)] public static extern int MPI_Bcast(ref byte buffer, int count, int type, int root, int comm);
        [DllImport(Library)] public static extern int MPI_Barrier(int comm);
        [DllImport(Library)] public static extern int MPI_Abort(int comm, int code);
        [DllImport(Library)] public static extern int MPI_Error_string(int code, byte[] text, out int length);
        [DllImport(Library)] public static extern int MPI_Get_library_version(byte[] text, out int length);
    }
}
