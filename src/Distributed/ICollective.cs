namespace Nabla.Distributed;

/// <summary>How <see cref="ICollective.AllReduce(Span{float}, ReduceOp)"/> combines the ranks' values.</summary>
public enum ReduceOp
{
    /// <summary>Element-wise sum over the ranks.</summary>
    Sum,
    /// <summary>Element-wise sum divided by <see cref="ICollective.Size"/>.</summary>
    Mean,
    /// <summary>Element-wise maximum.</summary>
    Max,
}

/// <summary>
/// Collective communication among the <see cref="Size"/> members ("ranks") of a group: every member
/// calls the same collectives in the same order with buffers of the same length, and each call returns
/// once the member's part is done. This is the one interface data-parallel training goes through.
/// </summary>
/// <remarks>
/// Implementations: <see cref="InProcessGroup"/> (the replicas of one process, one thread each),
/// <see cref="MpiCollective"/> (one process per rank, over an MPI library: Open MPI's libmpi.so.40 or
/// MPICH's libmpich.so.12). NCCL is the GPU twin of MPI and belongs behind this same interface with the
/// CUDA backend (device buffers instead of spans); it is not built yet: see docs/scale-out.md.
/// A member that fails makes the others fail too, within a bounded time, instead of leaving them waiting:
/// in-process through <see cref="InProcessGroup.Abort"/> and a timeout, over MPI through MPI_Abort.
/// Reductions combine the ranks in a fixed order, so every rank gets bitwise the same result.
/// </remarks>
public interface ICollective : IDisposable
{
    /// <summary>This member's index, 0 ≤ Rank &lt; Size; rank 0 is the chief.</summary>
    int Rank { get; }

    /// <summary>Number of members.</summary>
    int Size { get; }

    /// <summary>Replaces <paramref name="data"/> on every rank by the element-wise reduction over the ranks.</summary>
    void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum);

    /// <summary>The double-precision form of <see cref="AllReduce(Span{float}, ReduceOp)"/>.</summary>
    void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum);

    /// <summary>Copies <paramref name="data"/> of rank <paramref name="root"/> into <paramref name="data"/> of every other rank.</summary>
    void Broadcast(Span<float> data, int root = 0);

    /// <summary>Copies raw bytes from <paramref name="root"/> to every rank (variables of any dtype, metadata).</summary>
    void Broadcast(Span<byte> data, int root = 0);

    /// <summary>Gathers every rank's <paramref name="send"/> into <paramref name="receive"/> (rank r's values at r × send.Length), on every rank.</summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>Returns once every rank has called it.</summary>
    void Barrier();

    /// <summary>Counters of the calls made by this member.</summary>
    CollectiveStats Stats { get; }
}

/// <summary>What one member of a group has sent through collectives, for benchmarks and logs.</summary>
public sealed class CollectiveStats
{
    /// <summary>All-reduce calls.</summary>
    public long AllReduceCalls { get; internal set; }

    /// <summary>Bytes of the buffers handed to all-reduce (each rank's payload, not the wire traffic).</summary>
    public long AllReduceBytes { get; internal set; }

    /// <summary>Wall time spent inside all-reduce calls, waiting for slower ranks included.</summary>
    public TimeSpan AllReduceTime { get; internal set; }

    /// <summary>Broadcast calls.</summary>
    public long BroadcastCalls { get; internal set; }

    /// <summary>Zeroes the counters.</summary>
    public void Reset()
    {
        AllReduceCalls = AllReduceBytes = BroadcastCalls = 0;
        AllReduceTime = TimeSpan.Zero;
    }
}

/// <summary>A collective failed: a library call returned an error, another member failed, or members waited past the timeout.</summary>
public class CollectiveException : Exception
{
    /// <summary>Creates the exception.</summary>
    public CollectiveException(string message) : base(message) { }

    /// <summary>Creates the exception with a cause.</summary>
    public CollectiveException(string message, Exception inner) : base(message, inner) { }

    /// <summary>Creates the exception.</summary>
    public CollectiveException() { }
}

/// <summary>No MPI library could be loaded: the message names every library tried and how to install one.</summary>
public sealed class MpiLibraryNotFoundException : CollectiveException
{
    /// <summary>Creates the exception for the libraries that were tried.</summary>
    public MpiLibraryNotFoundException(IReadOnlyList<string> probed)
        : base($"no MPI library found (tried {string.Join(", ", probed)}); install Open MPI (apt-get install openmpi-bin libopenmpi-dev) or MPICH, or set NABLA_MPI_LIBRARY to the library's path") =>
        Probed = probed;

    /// <summary>Creates the exception.</summary>
    public MpiLibraryNotFoundException(string message) : base(message) => Probed = [];

    /// <summary>Creates the exception with a cause.</summary>
    public MpiLibraryNotFoundException(string message, Exception inner) : base(message, inner) => Probed = [];

    /// <summary>Creates the exception.</summary>
    public MpiLibraryNotFoundException() => Probed = [];

    /// <summary>The names handed to dlopen, in order.</summary>
    public IReadOnlyList<string> Probed { get; }
}
