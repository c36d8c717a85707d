using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Buffers of one run: slot → buffer, reference counts for aliases (reshape shares its input's
/// buffer), and buffers owned by the session (variables, constants) that a run never frees.
/// </summary>
internal sealed class RunState
{
    private readonly Dictionary<DeviceBuffer, int> _refs = new(ReferenceEqualityComparer.Instance);
    private readonly HashSet<DeviceBuffer> _external = new(ReferenceEqualityComparer.Instance);
    private readonly BufferPool _pool;

    public RunState(IBackend backend, SessionState state, BufferPool pool, int slotCount)
    {
        Backend = backend;
        State = state;
        _pool = pool;
        Slots = new Slot[slotCount];
    }

    public IBackend Backend { get; }

    public SessionState State { get; }

    public Slot[] Slots { get; }

    public DeviceBuffer Allocate(DType dtype, int length) => _pool.Rent(dtype, length);

    /// <summary>Returns a scratch buffer obtained from <see cref="Allocate"/> that never entered a slot.</summary>
    public void ReturnScratch(DeviceBuffer buffer) => _pool.Return(buffer);

    public void SetSlot(int slot, DeviceBuffer buffer)
    {
        Slots[slot].Buffer = buffer;
        _refs[buffer] = _refs.GetValueOrDefault(buffer) + 1;
    }

    public void Alias(int slot, int source) => SetSlot(slot, Slots[source].Buffer!);

    public void SetExternal(int slot, DeviceBuffer buffer)
    {
        _external.Add(buffer);
        Slots[slot].Buffer = buffer;
    }

    public void Release(int slot)
    {
        var b = Slots[slot].Buffer;
        if (b is null) return;
        Slots[slot].Buffer = null;
        if (_external.Contains(b)) return;
        var n = _refs[b] - 1;
        if (n > 0) { _refs[b] = n; return; }
        _refs.Remove(b);
        _pool.Return(b);
    }

    public void ReleaseAll()
    {
        for (var s = 0; s < Slots.Length; s++) Release(s);
        _refs.Clear();
    }

    internal struct Slot
    {
        public DeviceBuffer? Buffer;
    }
}

/// <summary>Buffers reused across steps and runs, keyed by (dtype, length).</summary>
internal sealed class BufferPool(IBackend backend) : IDisposable
{
    private readonly Dictionary<(DType, int), Stack<DeviceBuffer>> _free = [];

    public DeviceBuffer Rent(DType dtype, int length) =>
        _free.TryGetValue((dtype, length), out var s) && s.Count > 0 ? s.Pop() : backend.Allocate(dtype, length);

    public void Return(DeviceBuffer b)
    {
        if (!_free.TryGetValue((b.DType, b.Length), out var s)) _free[(b.DType, b.Length)] = s = new Stack<DeviceBuffer>();
        s.Push(b);
    }

    public void Dispose()
    {
        foreach (var s in _free.Values)
            foreach (var b in s) b.Dispose();
        _free.Clear();
    }
}
