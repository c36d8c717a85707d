namespace Nabla.Kernels;

/// <summary>
/// A debugging wrapper that makes a host backend behave like a device: every compute call and
/// upload is queued and runs only at the next wait (<see cref="Synchronize"/>, a download). Code that
/// read a buffer on the host in the middle of a step, or relied on a kernel having finished when it
/// returned, sees stale values under this wrapper; the test suite runs with it to prove the engine
/// does neither (<c>SessionOptions.DeferExecution</c>, or <c>NABLA_DEFER_EXECUTION=1</c> for every session).
/// </summary>
public sealed partial class DeferredBackend : IBackend
{
    private readonly IBackend _inner;
    private readonly List<Action> _queue = [];

    /// <summary>Wraps <paramref name="inner"/>, which must not be used directly afterwards.</summary>
    public DeferredBackend(IBackend inner)
    {
        _inner = inner;
        Memory = new DeferredAllocator(this, inner.Memory);
    }

    /// <inheritdoc/>
    public string Name => _inner.Name + " (deferred)";

    /// <inheritdoc/>
    public IAllocator Memory { get; }

    /// <summary>Calls queued and not yet run.</summary>
    public int Pending => _queue.Count;

    /// <inheritdoc/>
    public void Synchronize()
    {
        // Index loop: a queued call never enqueues, but keep the order even if one did.
        for (var i = 0; i < _queue.Count; i++) _queue[i]();
        _queue.Clear();
        _inner.Synchronize();
    }

    private void Enqueue(Action work) => _queue.Add(work);

    /// <inheritdoc/>
    public void Fill(DeviceBuffer dst, double value) => Enqueue(() => _inner.Fill(dst, value));

    /// <inheritdoc/>
    public void Copy(StridedView src, StridedView dst, ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        Enqueue(() => _inner.Copy(src, dst, s));
    }

    /// <inheritdoc/>
    public void Cast(DeviceBuffer src, DeviceBuffer dst) => Enqueue(() => _inner.Cast(src, dst));

    /// <inheritdoc/>
    public void Unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y) => Enqueue(() => _inner.Unary(op, x, y));

    /// <inheritdoc/>
    public void Binary(BinaryOp op, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        Enqueue(() => _inner.Binary(op, a, b, y, s));
    }

    /// <inheritdoc/>
    public void Select(StridedView cond, StridedView a, StridedView b, DeviceBuffer y, ReadOnlySpan<int> shape)
    {
        var s = shape.ToArray();
        Enqueue(() => _inner.Select(cond, a, b, y, s));
    }

    /// <inheritdoc/>
    public void Reduce(ReduceOp op, DeviceBuffer x, int outer, int reduce, int inner, DeviceBuffer y) =>
        Enqueue(() => _inner.Reduce(op, x, outer, reduce, inner, y));

    /// <inheritdoc/>
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs args)
    {
        var p = args;
        Enqueue(() => _inner.MatMul(a, b, c, p));
    }

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log) => Enqueue(() => _inner.Softmax(x, y, rows, cols, log));

    /// <inheritdoc/>
    public void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop) =>
        Enqueue(() => _inner.SoftmaxCrossEntropy(logits, labels, sparse, rows, cols, loss, backprop));

    /// <inheritdoc/>
    public void Gather(DeviceBuffer src, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst) =>
        Enqueue(() => _inner.Gather(src, indices, outer, axisDim, inner, dst));

    /// <inheritdoc/>
    public void ScatterAdd(DeviceBuffer updates, DeviceBuffer indices, int outer, int axisDim, int inner, DeviceBuffer dst) =>
        Enqueue(() => _inner.ScatterAdd(updates, indices, outer, axisDim, inner, dst));

    /// <inheritdoc/>
    public void Check(CheckKind kind, DeviceBuffer x, long bound, DeviceBuffer flags, int site) => Enqueue(() => _inner.Check(kind, x, bound, flags, site));

    /// <inheritdoc/>
    public void Assign(BinaryOp? op, DeviceBuffer variable, DeviceBuffer value, DeviceBuffer? abortFlags) =>
        Enqueue(() => _inner.Assign(op, variable, value, abortFlags));

    /// <inheritdoc/>
    public void ApplyOptimizer(OptimizerKind kind, bool nesterov, ReadOnlySpan<DeviceBuffer> scalars, DeviceBuffer variable, DeviceBuffer grad,
        DeviceBuffer? slot1, DeviceBuffer? slot2, DeviceBuffer? slot3, DeviceBuffer? abortFlags)
    {
        var s = scalars.ToArray();
        Enqueue(() => _inner.ApplyOptimizer(kind, nesterov, s, variable, grad, slot1, slot2, slot3, abortFlags));
    }

    /// <inheritdoc/>
    public void Random(RandomDistribution dist, ulong seed, ulong counter, double a, double b, DeviceBuffer dst) =>
        Enqueue(() => _inner.Random(dist, seed, counter, a, b, dst));

    /// <inheritdoc/>
    public void AllReduce(IAllReduceGroup group, IReadOnlyList<DeviceBuffer> inputs, IReadOnlyList<DeviceBuffer> outputs, DeviceBuffer staging)
    {
        var (x, y) = (inputs.ToArray(), outputs.ToArray());
        Enqueue(() => _inner.AllReduce(group, x, y, staging));
    }

    /// <inheritdoc/>
    public bool AllReducesInPlace => _inner.AllReducesInPlace;

    /// <inheritdoc/>
    public void AllReduceInPlace(IAllReduceGroup group, DeviceBuffer values)
    {
        if (!_inner.AllReducesInPlace) throw new NotSupportedException($"backend '{Name}' does not all-reduce in place");
        Enqueue(() => _inner.AllReduceInPlace(group, values));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _queue.Clear();
        _inner.Dispose();
    }

    /// <summary>Allocation is immediate (it is on a device too); transfers join the queue, and downloads drain it first.</summary>
    private sealed class DeferredAllocator(DeferredBackend owner, IAllocator inner) : IAllocator
    {
        public int Alignment => inner.Alignment;

        public int ArenaOf(DType dtype) => inner.ArenaOf(dtype);

        public int StorageBytes(DType dtype) => inner.StorageBytes(dtype);

        public DeviceBuffer Allocate(DType dtype, int length) => inner.Allocate(dtype, length);

        public DeviceBuffer AllocateArena(int arena, long bytes) => inner.AllocateArena(arena, bytes);

        public DeviceBuffer View(DeviceBuffer arena, long byteOffset, DType dtype, int length) => inner.View(arena, byteOffset, dtype, length);

        public void Free(DeviceBuffer buffer)
        {
            // The caller promises no queued work uses it; draining first keeps a wrong promise from reading freed memory.
            owner.Synchronize();
            inner.Free(buffer);
        }

        public void Upload(Array host, DeviceBuffer dst)
        {
            // The contract lets the caller reuse the host array at once: queue a snapshot.
            var copy = (Array)host.Clone();
            owner.Enqueue(() => inner.Upload(copy, dst));
        }

        public void Download(DeviceBuffer src, Array host)
        {
            owner.Synchronize();
            inner.Download(src, host);
        }

        public double[] ReadFloat64(DeviceBuffer src)
        {
            owner.Synchronize();
            return inner.ReadFloat64(src);
        }

        public void WriteFloat64(ReadOnlySpan<double> src, DeviceBuffer dst)
        {
            var copy = src.ToArray();
            owner.Enqueue(() => inner.WriteFloat64(copy, dst));
        }

        public void Copy(DeviceBuffer src, DeviceBuffer dst) => owner.Enqueue(() => inner.Copy(src, dst));

        public AllocatorStats Stats => inner.Stats;
    }
}
