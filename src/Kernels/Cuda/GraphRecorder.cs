namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware: the recorder itself is plain C# and runs in the tests on the emulator; what it issues inside a
// capture on the driver (DriverCudaDevice.Graphs.cs) has not run on a GPU.

/// <summary>
/// The <see cref="ICudaDevice"/> that <see cref="CudaBackend"/> and its allocator issue through: it passes every call to the
/// real device, except while a run is being recorded (<see cref="Begin"/> … <see cref="End"/>), when kernel launches,
/// device-to-device copies, memsets and GEMMs are kept as a list of operations instead of being issued. At the end the list
/// is compared with the plan's graph: equal, the graph is launched; different, the list is captured into a new graph
/// (<see cref="ICudaGraphCapture"/>) and that is launched.
/// </summary>
/// <remarks>
/// <para><b>Interruptions.</b> A call a graph cannot hold (an allocation or free, a host-to-device or device-to-host copy,
/// a wait, a cuDNN handle: see <see cref="Interrupt"/>) while recording issues the recorded operations at once, in order,
/// and stops the recording; the call and the rest of the run then go to the device eagerly, so the stream sees exactly
/// the order of an eager run. The run ends as <see cref="StepGraphMode.Uncapturable"/>, naming the call.</para>
/// <para><b>No allocation inside a capture.</b> A capture holds only recorded operations, which never allocate; an
/// allocation or free reaching this device while it captures is a bug, and fails with an
/// <see cref="InvalidOperationException"/> (the driver would refuse it too, in thread-local capture mode).</para>
/// <para>Kernel modules are resolved (and generated kernels JIT-compiled) while recording, outside any capture.</para>
/// </remarks>
internal sealed unsafe class GraphRecorder : ICudaDevice
{
    private readonly RecordingLauncher _launcher;
    private List<Operation>? _recording;
    private bool _recordingBegun;
    private string? _interruptedBy;
    private bool _capturing;

    /// <summary>A recorder over <paramref name="inner"/> (which it disposes).</summary>
    public GraphRecorder(ICudaDevice inner)
    {
        ArgumentNullException.ThrowIfNull(inner);
        Inner = inner;
        _launcher = new RecordingLauncher(this);
    }

    /// <summary>The real device.</summary>
    public ICudaDevice Inner { get; }

    /// <summary>Whether operations are being buffered now.</summary>
    public bool Recording => _recording is not null;

    /// <inheritdoc/>
    public string Name => Inner.Name;

    /// <inheritdoc/>
    public IKernelLauncher Launcher => _launcher;

    /// <summary>Starts buffering operations.</summary>
    /// <exception cref="InvalidOperationException">A recording is already in progress.</exception>
    public void Begin()
    {
        if (_recordingBegun) throw new InvalidOperationException($"{Name}: a run is already being recorded");
        _recordingBegun = true;
        _recording = [];
        _interruptedBy = null;
    }

    /// <summary>
    /// Ends the recording: replays <paramref name="graph"/> when the recorded operations equal its, otherwise captures them
    /// into a new graph (disposing the old) and launches it. A device that cannot capture gets the operations eagerly.
    /// </summary>
    /// <exception cref="InvalidOperationException">No recording was begun.</exception>
    public StepGraphResult End(ref IStepGraph? graph)
    {
        if (!_recordingBegun) throw new InvalidOperationException($"{Name}: no run is being recorded");
        _recordingBegun = false;
        var ops = _recording;
        _recording = null;
        if (ops is null) return new StepGraphResult(StepGraphMode.Uncapturable, _interruptedBy);
        if (graph is RecordedGraph previous && previous.Owner == this && previous.Matches(ops))
        {
            previous.Exec.Launch();
            return new StepGraphResult(StepGraphMode.Replayed);
        }
        if (Inner is not ICudaGraphCapture capture)
        {
            Issue(ops);
            return new StepGraphResult(StepGraphMode.Uncapturable, $"{Name} cannot capture graphs");
        }
        ICudaGraphExec exec;
        try
        {
            capture.BeginCapture(ops.Exists(o => o is GemmOp));
            _capturing = true;
            Issue(ops);
            _capturing = false;
            exec = capture.EndCapture();
        }
        catch (CudaException e)
        {
            // Nothing captured has run: discard the capture and issue the same operations eagerly, so the run either does
            // its work (a failure of the capture alone: the plan then stays eager) or fails exactly where an eager run fails.
            _capturing = false;
            capture.AbortCapture();
            Issue(ops);
            return new StepGraphResult(StepGraphMode.Uncapturable, $"capturing the run failed ({e.Message}); it was issued eagerly");
        }
        finally
        {
            _capturing = false;
        }
        var replaced = graph is not null;
        graph?.Dispose();
        graph = new RecordedGraph(this, ops, exec);
        exec.Launch();
        return new StepGraphResult(replaced ? StepGraphMode.Recaptured : StepGraphMode.Captured);
    }

    /// <summary>Issues the recorded operations eagerly and stops recording (the run failed on the host part way).</summary>
    public void Abandon()
    {
        _recordingBegun = false;
        var ops = _recording;
        _recording = null;
        if (ops is not null) Issue(ops);
    }

    /// <summary>
    /// Called before every operation a graph cannot hold: while recording, issues what was recorded and stops recording,
    /// remembering <paramref name="call"/> as the reason; inside a capture, throws.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device is capturing (an allocation or wait inside a captured step is a bug).</exception>
    public void Interrupt(string call)
    {
        if (_capturing)
            throw new InvalidOperationException($"{Name}: {call} inside a CUDA graph capture; a captured step must not allocate, free, transfer to or from the host, or wait");
        if (_recording is not { } ops) return;
        _recording = null;
        _interruptedBy = call;
        Issue(ops);
    }

    /// <inheritdoc/>
    public ulong Allocate(ulong bytes)
    {
        Interrupt("an allocation (cuMemAlloc)");
        return Inner.Allocate(bytes);
    }

    /// <inheritdoc/>
    public void Free(ulong address)
    {
        Interrupt("a free (cuMemFree)");
        Inner.Free(address);
    }

    /// <inheritdoc/>
    public void CopyHostToDevice(ulong dst, void* src, ulong bytes)
    {
        Interrupt("a host-to-device copy");
        Inner.CopyHostToDevice(dst, src, bytes);
    }

    /// <inheritdoc/>
    public void CopyDeviceToHost(void* dst, ulong src, ulong bytes)
    {
        Interrupt("a device-to-host copy");
        Inner.CopyDeviceToHost(dst, src, bytes);
    }

    /// <inheritdoc/>
    public void Synchronize()
    {
        Interrupt("a wait for the stream");
        Inner.Synchronize();
    }

    /// <inheritdoc/>
    public void CopyDeviceToDevice(ulong dst, ulong src, ulong bytes)
    {
        if (_recording is { } ops) ops.Add(new CopyOp(dst, src, bytes));
        else Inner.CopyDeviceToDevice(dst, src, bytes);
    }

    /// <inheritdoc/>
    public void Memset32(ulong dst, uint value, ulong count)
    {
        if (_recording is { } ops) ops.Add(new MemsetOp(dst, value, count));
        else Inner.Memset32(dst, value, count);
    }

    /// <inheritdoc/>
    public void GemmStridedBatched(DType dtype, bool transA, bool transB, int m, int n, int k, double alpha,
        ulong a, int lda, long strideA, ulong b, int ldb, long strideB, double beta, ulong c, int ldc, long strideC, int batch, bool allowTf32)
    {
        if (_recording is { } ops)
            ops.Add(new GemmOp(dtype, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, allowTf32));
        else
            Inner.GemmStridedBatched(dtype, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch, allowTf32);
    }

    /// <summary>Disposes the real device.</summary>
    public void Dispose() => Inner.Dispose();

    private void Issue(List<Operation> ops)
    {
        foreach (var op in ops) op.Issue(Inner);
    }

    /// <summary>One recorded device operation; records compare by value (a launch by its arguments' bytes).</summary>
    private abstract record Operation
    {
        public abstract void Issue(ICudaDevice device);
    }

    private sealed record CopyOp(ulong Dst, ulong Src, ulong Bytes) : Operation
    {
        public override void Issue(ICudaDevice device) => device.CopyDeviceToDevice(Dst, Src, Bytes);
    }

    private sealed record MemsetOp(ulong Dst, uint Value, ulong Count) : Operation
    {
        public override void Issue(ICudaDevice device) => device.Memset32(Dst, Value, Count);
    }

    private sealed record GemmOp(DType DType, bool TransA, bool TransB, int M, int N, int K, double Alpha, ulong A, int Lda, long StrideA,
        ulong B, int Ldb, long StrideB, double Beta, ulong C, int Ldc, long StrideC, int Batch, bool AllowTf32) : Operation
    {
        public override void Issue(ICudaDevice device) =>
            device.GemmStridedBatched(DType, TransA, TransB, M, N, K, Alpha, A, Lda, StrideA, B, Ldb, StrideB, Beta, C, Ldc, StrideC, Batch, AllowTf32);
    }

    /// <summary>A kernel launch: the function, the launch shape, and a copy of the parameter bytes and layout.</summary>
    private sealed record LaunchOp(KernelHandle Function, (uint X, uint Y, uint Z) Grid, uint Block, uint SharedBytes, byte[] Data, (int Offset, int Size)[] Params)
        : Operation
    {
        public static LaunchOp Of(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args)
        {
            var layout = new (int Offset, int Size)[args.Count];
            for (var i = 0; i < layout.Length; i++) layout[i] = args[i];
            return new LaunchOp(function, grid, block, sharedBytes, args.Data.ToArray(), layout);
        }

        public override void Issue(ICudaDevice device) => device.Launcher.Launch(Function, Grid, Block, SharedBytes, Args());

        /// <summary>
        /// A fresh <see cref="KernelArgs"/> with every parameter at its recorded offset: each is added with the largest
        /// power-of-two alignment (at most 64) that divides its offset, which lands it exactly there (the original
        /// alignment A divided the offset and left less than A bytes of padding, and A is at most that power of two).
        /// </summary>
        private KernelArgs Args()
        {
            var args = new KernelArgs();
            foreach (var (offset, size) in Params)
            {
                var alignment = offset == 0 ? 1 : Math.Min(64, offset & -offset);
                args.AddBytes<byte>(Data.AsSpan(offset, size), alignment);
            }
            if (args.Data.Length != Data.Length || !args.Data.SequenceEqual(Data))
                throw new InvalidOperationException($"recorded launch of {Function.Module}:{Function.Entry}: its parameters could not be laid out again at their offsets");
            return args;
        }

        public bool Equals(LaunchOp? other) =>
            other is not null && Function == other.Function && Grid == other.Grid && Block == other.Block && SharedBytes == other.SharedBytes
            && Data.AsSpan().SequenceEqual(other.Data) && Params.AsSpan().SequenceEqual(other.Params);

        public override int GetHashCode() => HashCode.Combine(Function, Grid, Block, SharedBytes, Data.Length);
    }

    /// <summary>A captured graph and the operations it was captured from.</summary>
    private sealed class RecordedGraph(GraphRecorder owner, List<Operation> ops, ICudaGraphExec exec) : IStepGraph
    {
        public GraphRecorder Owner { get; } = owner;

        public ICudaGraphExec Exec { get; } = exec;

        public int Operations => ops.Count;

        public bool Matches(List<Operation> other)
        {
            if (other.Count != ops.Count) return false;
            for (var i = 0; i < ops.Count; i++)
                if (!ops[i].Equals(other[i])) return false;
            return true;
        }

        public void Dispose() => Exec.Dispose();
    }

    /// <summary>The launcher the kernel families see: resolves functions on the real launcher; records launches while recording.</summary>
    private sealed class RecordingLauncher(GraphRecorder recorder) : IKernelLauncher
    {
        public KernelHandle Function(string module, string entry) => recorder.Inner.Launcher.Function(module, entry);

        public KernelHandle Function(string key, Func<string> ptx, string entry) => recorder.Inner.Launcher.Function(key, ptx, entry);

        public void Launch(KernelHandle function, (uint X, uint Y, uint Z) grid, uint block, uint sharedBytes, KernelArgs args)
        {
            if (recorder._recording is { } ops) ops.Add(LaunchOp.Of(function, grid, block, sharedBytes, args));
            else recorder.Inner.Launcher.Launch(function, grid, block, sharedBytes, args);
        }
    }
}
