using System.Diagnostics;

namespace Nabla.Distributed;

/// <summary>
/// The processes of an MPI job (MPI_COMM_WORLD) as an <see cref="ICollective"/>: started with
/// <c>mpirun -np N program …</c>, each process is one rank. MPI is initialised on first use and
/// finalised when the last user disposes it (<see cref="Dispose"/>), once per process, as MPI requires.
/// </summary>
/// <remarks>
/// Errors are returned, not fatal (MPI_ERRORS_RETURN on the communicator), so a failed call throws
/// <see cref="CollectiveException"/> naming the call. A rank that fails while others wait in a
/// collective must end the whole job: <see cref="Abort"/> calls MPI_Abort, after which mpirun kills
/// every rank and exits non-zero; a rank that dies without it is detected by mpirun, which does the same.
/// Calls are made from one thread at a time (MPI_THREAD_SERIALIZED).
/// </remarks>
public sealed class MpiCollective : ICollective
{
    private const int ThreadSerialized = 2;
    private static readonly Lock s_gate = new();
    private static MpiCollective? s_world;
    private static bool s_finalized;
    private readonly MpiLibrary.Loaded _mpi;
    private int _users;

    private MpiCollective(MpiLibrary.Loaded mpi)
    {
        _mpi = mpi;
        MpiLibrary.Check(MpiNative.MPI_Initialized(out var initialized), "MPI_Initialized");
        if (initialized == 0) MpiLibrary.Check(MpiNative.MPI_Init_thread(0, 0, ThreadSerialized, out _), "MPI_Init_thread");
        MpiLibrary.Check(MpiNative.MPI_Comm_set_errhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        MpiLibrary.Check(MpiNative.MPI_Comm_rank(mpi.CommWorld, out var rank), "MPI_Comm_rank");
        MpiLibrary.Check(MpiNative.MPI_Comm_size(mpi.CommWorld, out var size), "MPI_Comm_size");
        (Rank, Size) = (rank, size);
    }

    /// <summary>
    /// The world communicator of this process, initialising MPI on the first call. Each call must be
    /// matched by a <see cref="Dispose"/>; the last one finalises MPI.
    /// </summary>
    /// <exception cref="MpiLibraryNotFoundException">No MPI library is installed.</exception>
    /// <exception cref="CollectiveException">MPI was already finalised in this process, or initialisation failed.</exception>
    public static MpiCollective World()
    {
        var mpi = MpiLibrary.Load();
        lock (s_gate)
        {
            if (s_finalized) throw new CollectiveException("MPI was already finalised in this process (MPI can be initialised only once per process)");
            s_world ??= new MpiCollective(mpi);
            s_world._users++;
            return s_world;
        }
    }

    /// <summary>Whether an MPI library can be loaded on this machine (nothing is initialised).</summary>
    public static bool IsAvailable => MpiLibrary.IsAvailable();

    /// <summary>The MPI library's own version line (MPI_Get_library_version), e.g. "Open MPI v4.1.4, …".</summary>
    public static unsafe string LibraryVersion()
    {
        MpiLibrary.Load();
        var text = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI, 8192 in MPICH
        MpiLibrary.Check(MpiNative.MPI_Get_library_version(text, out var length), "MPI_Get_library_version");
        return System.Text.Encoding.UTF8.GetString(text, Math.Clamp(length, 0, 8191)).Split('\n')[0].Trim();
    }

    /// <summary>Which ABI the loaded library has.</summary>
    public MpiAbi Abi => _mpi.Abi;

    /// <summary>The file name the library was opened by.</summary>
    public string LibraryName => _mpi.Name;

    /// <inheritdoc/>
    public int Rank { get; }

    /// <inheritdoc/>
    public int Size { get; }

    /// <inheritdoc/>
    public CollectiveStats Stats { get; } = new();

    /// <inheritdoc/>
    public unsafe void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum)
    {
        var clock = Stopwatch.StartNew();
        fixed (float* p = data) AllReduceRaw(p, data.Length, sizeof(float), _mpi.Float, op);
        if (op == ReduceOp.Mean)
            for (var i = 0; i < data.Length; i++) data[i] /= Size;
        Count(data.Length * sizeof(float), clock);
    }

    /// <inheritdoc/>
    public unsafe void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum)
    {
        var clock = Stopwatch.StartNew();
        fixed (double* p = data) AllReduceRaw(p, data.Length, sizeof(double), _mpi.Double, op);
        if (op == ReduceOp.Mean)
            for (var i = 0; i < data.Length; i++) data[i] /= Size;
        Count(data.Length * sizeof(double), clock);
    }

    /// <inheritdoc/>
    public unsafe void Broadcast(Span<float> data, int root = 0)
    {
        fixed (float* p = data) BroadcastRaw((byte*)p, data.Length, sizeof(float), _mpi.Float, root);
    }

    /// <inheritdoc/>
    public unsafe void Broadcast(Span<byte> data, int root = 0)
    {
        fixed (byte* p = data) BroadcastRaw(p, data.Length, 1, _mpi.Byte, root);
    }

    /// <inheritdoc/>
    public unsafe void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != (long)send.Length * Size)
            throw new ArgumentException($"AllGather: the receive buffer holds {receive.Length} values, expected {Size} × {send.Length}", nameof(receive));
        fixed (float* s = send)
        fixed (float* r = receive)
            MpiLibrary.Check(MpiNative.MPI_Allgather(s, send.Length, _mpi.Float, r, send.Length, _mpi.Float, _mpi.CommWorld), "MPI_Allgather");
    }

    /// <inheritdoc/>
    public void Barrier() => MpiLibrary.Check(MpiNative.MPI_Barrier(_mpi.CommWorld), "MPI_Barrier");

    /// <summary>
    /// Ends the whole job (MPI_Abort on the world communicator): every rank is killed and mpirun exits
    /// with <paramref name="exitCode"/>. Called by a rank that failed, so that none of the others waits
    /// forever in a collective. Does not return.
    /// </summary>
    public void Abort(int exitCode = 1)
    {
        var code = MpiNative.MPI_Abort(_mpi.CommWorld, exitCode);
        // MPI_Abort does not return; should a library return anyway, end this process so mpirun sees the failure.
        Console.Error.WriteLine($"MPI_Abort returned {code}; exiting rank {Rank}");
        Environment.Exit(exitCode);
    }

    /// <summary>Releases this user's hold; the last one finalises MPI (after which no collective can run in this process).</summary>
    public void Dispose()
    {
        lock (s_gate)
        {
            if (_users == 0 || --_users > 0) return;
            s_world = null;
            s_finalized = true;
            MpiLibrary.Check(MpiNative.MPI_Finalize(), "MPI_Finalize");
        }
    }

    // MPI counts are C ints: larger buffers go in pieces.
    private const int MaxCount = int.MaxValue / 8;

    private unsafe void AllReduceRaw(void* data, int length, int elementSize, nint type, ReduceOp op)
    {
        var mpiOp = op == ReduceOp.Max ? _mpi.OpMax : _mpi.OpSum;
        for (var offset = 0; offset < length; offset += MaxCount)
        {
            var n = Math.Min(MaxCount, length - offset);
            MpiLibrary.Check(MpiNative.MPI_Allreduce((void*)_mpi.InPlace, (byte*)data + (long)offset * elementSize, n, type, mpiOp, _mpi.CommWorld), "MPI_Allreduce");
        }
    }

    private unsafe void BroadcastRaw(byte* data, int length, int elementSize, nint type, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        for (var offset = 0; offset < length; offset += MaxCount)
            MpiLibrary.Check(MpiNative.MPI_Bcast(data + (long)offset * elementSize, Math.Min(MaxCount, length - offset), type, root, _mpi.CommWorld), "MPI_Bcast");
        Stats.BroadcastCalls++;
    }

    private void Count(long bytes, Stopwatch clock)
    {
        Stats.AllReduceCalls++;
        Stats.AllReduceBytes += bytes;
        Stats.AllReduceTime += clock.Elapsed;
    }
}
