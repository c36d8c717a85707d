using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// The view of a node that a kernel sees while a plan executes: concrete shapes, input buffers, the
/// output and workspace buffers the memory plan placed in the arena, and the state
/// <see cref="OpDef.Prepare"/> left on the step. A kernel only enqueues work on
/// <see cref="Backend"/>; it never reads a device value on the host.
/// </summary>
internal sealed class KernelContext
{
    internal PlanStep Step = null!;
    internal RunState Run = null!;

    public IBackend Backend => Run.Backend;

    public Operation Op => Step.Op;

    public Attributes Attrs => Step.Op.Attrs;

    public int NumInputs => Step.InputSlots.Length;

    public DeviceBuffer Input(int i) => Run.Slots[Step.InputSlots[i]]!;

    public Shape InputShape(int i) => Step.InputShapes[i];

    public DType InputDType(int i) => Step.Op.Inputs[i].DType;

    public Shape OutputShape(int i) => Step.OutputShapes[i];

    public DType OutputDType(int i) => Step.Op.OutputDTypes[i];

    /// <summary>Whether a later step reads output i or the run fetches it; a kernel may skip computing an unused output.</summary>
    public bool IsOutputUsed(int i) => Step.OutputUsed[i];

    /// <summary>The buffer the memory plan gave output i (no allocation happens here).</summary>
    public DeviceBuffer Output(int i)
    {
        if (Step.AliasOf[i] >= 0 || Op.Def.OutputsAreSessionState)
            throw new InvalidOperationException($"{Op}: output {i} is planned as an alias or as session state; the kernel must not ask for a buffer");
        return Run.Slots[Step.OutputSlots[i]]!;
    }

    /// <summary>Workspace <paramref name="index"/>, in the order <see cref="PrepareContext.Workspace"/> declared it; it lives only during this step.</summary>
    public DeviceBuffer Workspace(int index) => Run.Slots[Step.WorkspaceSlots[index]]!;

    /// <summary>For an all-reduce the plan made in place: the buffer spanning its inputs, which sit in it one after another (each at the arena's alignment); else null.</summary>
    public DeviceBuffer? PackedSpan => Step.PackedSpan >= 0 ? Run.Slots[Step.PackedSpan] : null;

    /// <summary>The object <see cref="PrepareContext.State"/> was set to.</summary>
    public T Prepared<T>() => (T)Step.Prepared!;

    /// <summary>Makes output i share input j's buffer (reshape, identity): no copy. The op's Prepare must have declared it.</summary>
    public void AliasInput(int output, int input)
    {
        if (Step.AliasOf[output] != input)
            throw new InvalidOperationException($"{Op}: the kernel aliases output {output} to input {input}, but Prepare did not declare it");
        Run.Slots[Step.OutputSlots[output]] = Run.Slots[Step.InputSlots[input]];
    }

    /// <summary>Makes output i a buffer the session owns (variable, constant); only for ops with <see cref="OpDef.OutputsAreSessionState"/>.</summary>
    public void SetExternal(int output, DeviceBuffer buffer)
    {
        if (!Op.Def.OutputsAreSessionState) throw new InvalidOperationException($"{Op}: only ops whose outputs are session state may set external buffers");
        Run.Slots[Step.OutputSlots[output]] = buffer;
    }

    /// <summary>Session-lifetime state (variables, constants, random counters).</summary>
    public SessionState State => Run.State;

    /// <summary>
    /// The run's error flags when a device-side check precedes this step in the plan, else null. State
    /// writes (assignments, optimizer updates) pass it to the backend, which skips them once a check failed.
    /// </summary>
    public DeviceBuffer? AbortFlags => Step.AfterDeviceCheck ? Run.Flags : null;
}

/// <summary>What <see cref="OpDef.Prepare"/> sees: the step's concrete shapes, and what it may declare for the memory plan and the run.</summary>
internal sealed class PrepareContext
{
    private readonly PlanStep _step;
    private readonly List<(DType DType, int Length)> _workspaces = [];
    private readonly List<DeviceCheck> _checks;

    internal PrepareContext(PlanStep step, IBackend backend, List<DeviceCheck> checks)
    {
        _step = step;
        Backend = backend;
        _checks = checks;
    }

    /// <summary>The backend the plan will run on (for algorithm choices and descriptors); prepare must not enqueue work.</summary>
    public IBackend Backend { get; }

    public Operation Op => _step.Op;

    public Attributes Attrs => _step.Op.Attrs;

    public int NumInputs => _step.InputSlots.Length;

    public Shape InputShape(int i) => _step.InputShapes[i];

    public DType InputDType(int i) => _step.Op.Inputs[i].DType;

    public Shape OutputShape(int i) => _step.OutputShapes[i];

    public DType OutputDType(int i) => _step.Op.OutputDTypes[i];

    /// <summary>True when input i is fed or constant, so <see cref="OpDef.PreRunCheck"/> checks its values on the host before the run.</summary>
    public bool InputCheckedBeforeRun(int i) => _step.HostVisibleInputs[i];

    /// <summary>Output <paramref name="output"/> will be input <paramref name="input"/>'s buffer (same dtype and size).</summary>
    public void AliasOutput(int output, int input)
    {
        if (InputDType(input) != OutputDType(output) || InputShape(input).Size != OutputShape(output).Size)
            throw new InvalidOperationException($"{Op}: output {output} ({OutputDType(output).Name()} {OutputShape(output)}) cannot alias input {input} ({InputDType(input).Name()} {InputShape(input)})");
        _step.AliasOf[output] = input;
    }

    /// <summary>Declares a scratch buffer that lives during this step only and counts in the memory plan; returns its index for <see cref="KernelContext.Workspace"/>.</summary>
    public int Workspace(DType dtype, int length)
    {
        _workspaces.Add((dtype, length));
        return _workspaces.Count - 1;
    }

    /// <summary>
    /// Declares a device-side check of input <paramref name="input"/>, enqueued before the kernel on every
    /// run. A failure fails the run, after it finishes, with <paramref name="message"/>(flat position, value).
    /// </summary>
    public void Check(CheckKind kind, int input, long bound, Func<long, long, string> message) =>
        _checks.Add(new DeviceCheck(_checks.Count, _step, kind, input, bound, message));

    /// <summary>Per-step backend state for the kernel (<see cref="KernelContext.Prepared{T}"/>).</summary>
    public object? State { set => _step.Prepared = value; }

    internal IReadOnlyList<(DType DType, int Length)> Workspaces => _workspaces;
}

/// <summary>
/// One device-side check site of a plan: before <see cref="Step"/>'s kernel (or, for
/// <see cref="Input"/> = −1 − k, after it on output k), the backend records the first bad element
/// of the value in the run's flags at <see cref="Site"/>.
/// </summary>
internal sealed record DeviceCheck(int Site, PlanStep Step, CheckKind Kind, int Input, long Bound, Func<long, long, string> Message);
