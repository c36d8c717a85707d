using System.Diagnostics;
using System.Numerics;

namespace Nabla.Distributed;

/// <summary>
/// A group of <see cref="Size"/> members in one process, one thread each (the replicas of
/// <c>MirroredStrategy</c>): collectives rendezvous in shared memory, with no copies beyond the reduction.
/// </summary>
/// <remarks>
/// An all-reduce is a reduce-scatter followed by an all-gather over shared memory: after every member has
/// published its buffer, member r reduces elements [r·n/p, (r+1)·n/p) across the members in rank order
/// into a shared scratch array, and after a second rendezvous every member copies the whole result back.
/// Each element is combined in the same order on every member, so the results are bitwise equal.
/// A member that fails calls <see cref="Abort"/>; the others then throw <see cref="CollectiveException"/>
/// naming it at their next (or current) rendezvous. A member that never arrives makes the waiting ones
/// fail after <see cref="Timeout"/>, naming the missing ranks, so no training loop hangs.
/// </remarks>
public sealed class InProcessGroup
{
    private readonly object _gate = new(); // Monitor.Wait/PulseAll need a monitor, not a System.Threading.Lock
    private readonly InProcessCollective[] _members;
    private readonly nint[] _buffers;
    private readonly int[] _lengths;
    private readonly bool[] _arrived;
    private int _count;
    private long _generation;
    private string? _abortReason;
    private float[] _floatScratch = [];
    private double[] _doubleScratch = [];

    /// <summary>Creates a group of <paramref name="size"/> members.</summary>
    /// <param name="size">Number of members (replicas), at least 1.</param>
    /// <param name="timeout">How long a member waits for the others at one rendezvous (default 2 minutes).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="size"/> is below 1.</exception>
    public InProcessGroup(int size, TimeSpan? timeout = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        Size = size;
        Timeout = timeout ?? TimeSpan.FromMinutes(2);
        _buffers = new nint[size];
        _lengths = new int[size];
        _arrived = new bool[size];
        _members = new InProcessCollective[size];
        for (var r = 0; r < size; r++) _members[r] = new InProcessCollective(this, r);
    }

    /// <summary>Number of members.</summary>
    public int Size { get; }

    /// <summary>How long a member waits at a rendezvous before the group fails.</summary>
    public TimeSpan Timeout { get; }

    /// <summary>The member with rank <paramref name="rank"/>; each must be used from one thread at a time.</summary>
    public ICollective Member(int rank) => _members[rank];

    /// <summary>Marks the group failed because member <paramref name="rank"/> failed: every member waiting now, or calling a collective later, throws <see cref="CollectiveException"/> naming it.</summary>
    public void Abort(int rank, Exception cause)
    {
        lock (_gate)
        {
            _abortReason ??= $"replica {rank} failed: {cause.GetType().Name}: {cause.Message}";
            Monitor.PulseAll(_gate);
        }
    }

    /// <summary>How long a member that arrived first polls for the others before it blocks.</summary>
    private const int SpinMicroseconds = 200;

    /// <summary>
    /// Waits until all members have arrived (one rendezvous), or fails on abort or timeout. A member that arrives early
    /// polls for <see cref="SpinMicroseconds"/> before it blocks: the replicas of a step arrive within microseconds of
    /// each other, and waking a blocked thread costs tens of µs in a virtual machine (three rendezvous per all-reduce).
    /// </summary>
    private void Arrive(int rank)
    {
        long generation;
        lock (_gate)
        {
            ThrowIfAborted(rank);
            generation = _generation;
            _arrived[rank] = true;
            if (++_count == Size)
            {
                _count = 0;
                Array.Clear(_arrived);
                _generation = generation + 1;
                Monitor.PulseAll(_gate);
                return;
            }
        }
        var start = Stopwatch.GetTimestamp();
        var spin = new SpinWait();
        while (Stopwatch.GetElapsedTime(start).TotalMicroseconds < SpinMicroseconds)
        {
            if (Volatile.Read(ref _generation) != generation) return;
            if (Volatile.Read(ref _abortReason) is not null) break;
            spin.SpinOnce(sleep1Threshold: -1);
        }
        lock (_gate)
        {
            if (_generation != generation) return;
            var clock = Stopwatch.StartNew();
            while (_generation == generation)
            {
                ThrowIfAborted(rank);
                var left = Timeout - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    var missing = string.Join(", ", Enumerable.Range(0, Size).Where(r => !_arrived[r]));
                    _abortReason ??= $"replica(s) {missing} did not reach the collective within {Timeout.TotalSeconds:0.#} s";
                    Monitor.PulseAll(_gate);
                    ThrowIfAborted(rank);
                }
                Monitor.Wait(_gate, left);
            }
        }
    }

    private void ThrowIfAborted(int rank)
    {
        if (_abortReason is { } reason) throw new CollectiveException($"in-process collective, replica {rank}: the group was aborted: {reason}");
    }

    internal unsafe void AllReduce<T>(int rank, Span<T> data, ReduceOp op, CollectiveStats stats) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var clock = Stopwatch.StartNew();
        fixed (T* p = data)
        {
            if (rank == 0) EnsureScratch<T>(data.Length);
            Publish(rank, (nint)p, data.Length);
            Arrive(rank);
            CheckLengths(rank, "AllReduce");
            var n = data.Length;
            var scratch = Scratch<T>();
            var lo = (int)((long)n * rank / Size);
            var hi = (int)((long)n * (rank + 1) / Size);
            var scale = T.One / T.CreateChecked(Size);
            var i = lo;
            if (op != ReduceOp.Max && Vector.IsHardwareAccelerated)
            {
                // The same additions in the same order as the scalar loop below, a vector of elements at a time.
                var vectorScale = new Vector<T>(scale);
                fixed (T* s = scratch)
                    for (; i + Vector<T>.Count <= hi; i += Vector<T>.Count)
                    {
                        var acc = Vector.Load((T*)_buffers[0] + i);
                        for (var m = 1; m < Size; m++) acc += Vector.Load((T*)_buffers[m] + i);
                        Vector.Store(op == ReduceOp.Mean ? acc * vectorScale : acc, s + i);
                    }
            }
            for (; i < hi; i++)
            {
                var acc = ((T*)_buffers[0])[i];
                for (var m = 1; m < Size; m++)
                {
                    var v = ((T*)_buffers[m])[i];
                    acc = op == ReduceOp.Max ? T.MaxNumber(acc, v) : acc + v;
                }
                scratch[i] = op == ReduceOp.Mean ? acc * scale : acc;
            }
            Arrive(rank);
            scratch.AsSpan(0, n).CopyTo(data);
            Arrive(rank);
        }
        stats.AllReduceCalls++;
        stats.AllReduceBytes += (long)data.Length * sizeof(T);
        stats.AllReduceTime += clock.Elapsed;
    }

    internal unsafe void Broadcast<T>(int rank, Span<T> data, int root, CollectiveStats stats) where T : unmanaged
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, Size);
        fixed (T* p = data)
        {
            Publish(rank, (nint)p, data.Length);
            Arrive(rank);
            CheckLengths(rank, "Broadcast");
            if (rank != root) new ReadOnlySpan<T>((T*)_buffers[root], data.Length).CopyTo(data);
            Arrive(rank);
        }
        stats.BroadcastCalls++;
    }

    internal unsafe void AllGather(int rank, ReadOnlySpan<float> send, Span<float> receive)
    {
        if (receive.Length != send.Length * Size)
            throw new ArgumentException($"AllGather: the receive buffer holds {receive.Length} values, expected {Size} × {send.Length}", nameof(receive));
        fixed (float* p = send)
        {
            Publish(rank, (nint)p, send.Length);
            Arrive(rank);
            CheckLengths(rank, "AllGather");
            for (var m = 0; m < Size; m++) new ReadOnlySpan<float>((float*)_buffers[m], send.Length).CopyTo(receive[(m * send.Length)..]);
            Arrive(rank);
        }
    }

    internal void Barrier(int rank) => Arrive(rank);

    private void Publish(int rank, nint buffer, int length)
    {
        _buffers[rank] = buffer;
        _lengths[rank] = length;
    }

    /// <summary>After the first rendezvous every member sees the same lengths, so all throw or none does.</summary>
    private void CheckLengths(int rank, string call)
    {
        for (var m = 1; m < Size; m++)
            if (_lengths[m] != _lengths[0])
            {
                var lengths = string.Join(", ", _lengths.Select((l, r) => $"replica {r}: {l}"));
                Abort(rank, new CollectiveException("buffer lengths differ"));
                throw new CollectiveException($"in-process {call}: the replicas passed buffers of different lengths ({lengths})");
            }
    }

    private void EnsureScratch<T>(int n)
    {
        if (typeof(T) == typeof(float) && _floatScratch.Length < n) _floatScratch = new float[n];
        if (typeof(T) == typeof(double) && _doubleScratch.Length < n) _doubleScratch = new double[n];
    }

    private T[] Scratch<T>() => typeof(T) == typeof(float) ? (T[])(object)_floatScratch : (T[])(object)_doubleScratch;
}

/// <summary>One member of an <see cref="InProcessGroup"/>.</summary>
internal sealed class InProcessCollective(InProcessGroup group, int rank) : ICollective
{
    public int Rank => rank;

    public int Size => group.Size;

    public CollectiveStats Stats { get; } = new();

    public void AllReduce(Span<float> data, ReduceOp op = ReduceOp.Sum) => group.AllReduce(rank, data, op, Stats);

    public void AllReduce(Span<double> data, ReduceOp op = ReduceOp.Sum) => group.AllReduce(rank, data, op, Stats);

    public void Broadcast(Span<float> data, int root = 0) => group.Broadcast(rank, data, root, Stats);

    public void Broadcast(Span<byte> data, int root = 0) => group.Broadcast(rank, data, root, Stats);

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => group.AllGather(rank, send, receive);

    public void Barrier() => group.Barrier(rank);

    public void Dispose()
    {
    }
}
