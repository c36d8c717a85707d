using Nabla.Kernels;

namespace Nabla;

/// <summary>State that lives as long as a session: variable buffers, uploaded constants, random-op counters.</summary>
public sealed class SessionState : IDisposable
{
    private readonly Dictionary<Operation, DeviceBuffer> _variables = [];
    private readonly Dictionary<Operation, DeviceBuffer> _constants = [];
    private readonly Dictionary<Operation, ulong> _counters = [];

    internal SessionState(IBackend backend) => Backend = backend;

    internal IBackend Backend { get; }

    /// <summary>
    /// The group this session's <c>AllReduce</c> ops sum over; a session on its own is a group of one
    /// (<see cref="IAllReduceGroup.Alone"/>). A distribution strategy sets each replica's session's group.
    /// </summary>
    /// <exception cref="ArgumentNullException">Set to null.</exception>
    public IAllReduceGroup Collective
    {
        get;
        set => field = value ?? throw new ArgumentNullException(nameof(value), "Collective: use IAllReduceGroup.Alone for a session on its own");
    } = IAllReduceGroup.Alone;

    internal DeviceBuffer ReadVariable(Operation variable) =>
        _variables.TryGetValue(variable, out var b) ? b
        : throw new InvalidArgumentException($"Variable '{variable.Name}' is not initialized: run its initializer (or graph.GlobalVariablesInitializer()) first");

    internal bool IsInitialized(Operation variable) => _variables.ContainsKey(variable);

    /// <summary>The variable's buffer, allocated on first assignment.</summary>
    internal DeviceBuffer VariableForWrite(Operation variable, DType dtype, int length)
    {
        if (!_variables.TryGetValue(variable, out var b))
        {
            b = Backend.Memory.Allocate(dtype, length);
            _variables[variable] = b;
        }
        return b;
    }

    internal DeviceBuffer Constant(Operation op, Tensor value)
    {
        if (!_constants.TryGetValue(op, out var b))
        {
            b = Backend.Memory.Allocate(value.DType, value.Size);
            Backend.Memory.Upload(value.Data, b);
            _constants[op] = b;
        }
        return b;
    }

    /// <summary>Returns the op's run counter and advances it, so each run of a random op draws fresh values.</summary>
    internal ulong NextCounter(Operation op)
    {
        var c = _counters.GetValueOrDefault(op);
        _counters[op] = c + 1;
        return c;
    }

    /// <summary>Frees every buffer.</summary>
    public void Dispose()
    {
        foreach (var b in _variables.Values) Backend.Memory.Free(b);
        foreach (var b in _constants.Values) Backend.Memory.Free(b);
        _variables.Clear();
        _constants.Clear();
    }
}
