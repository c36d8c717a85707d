namespace Nabla.Kernels;

/// <summary>
/// A fused element-wise program armed to run on the output of the next MatMul or Conv2D (the epilogue fusion of issue 10:
/// bias + activation after the GEMM): the kernel's workers report each range of output elements as it becomes final, and
/// the program runs on it while it is still in cache, instead of in a second pass over the whole output.
/// </summary>
/// <remarks>
/// The program runs in exactly the element blocks an unfused launch uses (HostBackend.IsFusedBlockBoundary), so
/// every element goes through the same vector or tail code path and the results are bit-identical to running it after
/// the kernel: <see cref="Completed"/> runs the whole blocks inside a reported range at once and remembers the blocks it
/// only partly covers; <see cref="Finish"/> runs those once every worker is done. Workers may report concurrently.
/// </remarks>
public sealed class OutputEpilogue
{
    private readonly HostBackend _backend;
    private readonly DeviceBuffer[] _inputs, _outputs;
    private readonly ulong[] _counters;
    private readonly SortedSet<long> _edgeBlocks = [];

    internal OutputEpilogue(HostBackend backend, FusedProgram program, DeviceBuffer[] inputs, DeviceBuffer[] outputs, ulong[] counters)
    {
        _backend = backend;
        Program = program;
        _inputs = inputs;
        _outputs = outputs;
        _counters = counters;
    }

    /// <summary>The program; its shape is the kernel's output shape.</summary>
    public FusedProgram Program { get; }

    /// <summary>Elements of the kernel's output.</summary>
    public long Length => Program.Length;

    /// <summary>Output elements [<paramref name="lo"/>, <paramref name="hi"/>) are final: runs the program on the whole blocks among them.</summary>
    public void Completed(long lo, long hi)
    {
        if (hi <= lo) return;
        var n = Length;
        var first = NextBoundary(lo);
        var last = hi >= n ? n : PreviousBoundary(hi);
        if (first < last) _backend.FusedRange(Program, _inputs, _outputs, _counters, (int)first, (int)last);
        lock (_edgeBlocks)
        {
            if (lo < first) _edgeBlocks.Add(PreviousBoundary(lo));
            if (last < hi && last >= first) _edgeBlocks.Add(last);
            if (first > last) _edgeBlocks.Add(PreviousBoundary(lo)); // the range lies inside one block
        }
    }

    /// <summary>
    /// The last block boundary at or before element <paramref name="i"/>: a worker that reports its output in pieces ends each
    /// piece there (and its last at its share's end), so only the blocks at the edges of the workers' shares wait for
    /// <see cref="Finish"/>.
    /// </summary>
    public long BlockStartAtOrBefore(long i) => PreviousBoundary(i);

    /// <summary>Runs the blocks that straddled two reported ranges; call after every worker has finished.</summary>
    public void Finish()
    {
        foreach (var start in _edgeBlocks) _backend.FusedRange(Program, _inputs, _outputs, _counters, (int)start, (int)NextBoundary(start + 1));
        _edgeBlocks.Clear();
    }

    private long NextBoundary(long i)
    {
        var n = Length;
        long block = Program.BlockSize;
        for (var b = (i + block - 1) / block * block; b < n; b += block)
            if (HostBackend.IsFusedBlockBoundary(Program, b)) return b;
        return n;
    }

    private long PreviousBoundary(long i)
    {
        long block = Program.BlockSize;
        for (var b = i / block * block; b > 0; b -= block)
            if (HostBackend.IsFusedBlockBoundary(Program, b)) return b;
        return 0;
    }
}
