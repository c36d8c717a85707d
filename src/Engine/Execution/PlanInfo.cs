namespace Nabla;

/// <summary>
/// A compiled request as users see it (<see cref="Session.Plan"/>): its kernels and its static memory
/// plan, known before anything runs.
/// </summary>
public sealed class PlanInfo
{
    internal PlanInfo(Plan plan)
    {
        PeakBytes = plan.Memory.PeakBytes;
        LiveBytesLowerBound = plan.Memory.LiveBytesLowerBound;
        ArenaBytes = new Dictionary<int, long>(plan.Memory.ArenaBytes);
        Kernels = plan.Steps.Select(s => (s.KernelName, s.KernelType)).ToArray();
        KernelCount = plan.KernelCount;
        FusedSteps = plan.Steps.Where(s => s.Fusion is not null).Select(s => new FusedStepInfo(s.KernelName,
            s.Fusion!.Members.Select(m => (m.Name, m.Type)).ToArray(), s.Fusion.Program.Inputs.Length, s.Fusion.Program.Outputs.Length,
            s.Fusion.BytesRead, s.Fusion.BytesWritten, s.Fusion.UnfusedBytes)).ToArray();
        WorkspaceBytes = plan.Steps.Sum(s => s.WorkspaceSlots.Sum(w => (long)plan.SlotTypes[w].Length * plan.SlotTypes[w].DType.SizeOf()));
        DeviceChecks = plan.Checks.Length;
    }

    /// <summary>Bytes of intermediate values (feeds, kernel outputs, workspaces) at the step's peak: the sum of the arenas. Variables and constants are not included.</summary>
    public long PeakBytes { get; }

    /// <summary>The most bytes live at any one step: no placement can do better, so <see cref="PeakBytes"/> ÷ this is the plan's packing overhead.</summary>
    public long LiveBytesLowerBound { get; }

    /// <summary>Bytes per arena, keyed by the allocator's arena number (a host backend has one arena per storage element type, numbered by its <see cref="DType"/>; a device has one).</summary>
    public IReadOnlyDictionary<int, long> ArenaBytes { get; }

    /// <summary>The steps in execution order: node name and op type; a fused step is named "fused[node,node,…]" with type "Fused".</summary>
    public IReadOnlyList<(string Node, string OpType)> Kernels { get; }

    /// <summary>Steps that enqueue device work per run (variable and constant reads, aliases and NoOps launch none); also <see cref="RunStatistics.Kernels"/>.</summary>
    public int KernelCount { get; }

    /// <summary>The fused element-wise steps (<see cref="SessionOptions.Fusion"/>): what each contains and the bytes it moves.</summary>
    public IReadOnlyList<FusedStepInfo> FusedSteps { get; }

    /// <summary>Bytes of plan-time workspaces (counted in <see cref="PeakBytes"/> while their step runs).</summary>
    public long WorkspaceBytes { get; }

    /// <summary>Device-side checks (computed indices, labels, divisors; CheckNumerics outputs) the plan enqueues.</summary>
    public int DeviceChecks { get; }
}

/// <summary>One fused element-wise step of a plan.</summary>
/// <param name="Name">The step's name in <see cref="PlanInfo.Kernels"/>.</param>
/// <param name="Nodes">The nodes it evaluates, in order: node name and op type.</param>
/// <param name="Inputs">Values it reads (each once).</param>
/// <param name="Outputs">Values it writes: those read outside the step or fetched.</param>
/// <param name="BytesRead">Bytes of its inputs (a broadcast input counts at its own size).</param>
/// <param name="BytesWritten">Bytes of its outputs.</param>
/// <param name="UnfusedBytes">Bytes the same nodes read and wrote as separate kernels.</param>
public sealed record FusedStepInfo(string Name, IReadOnlyList<(string Node, string OpType)> Nodes, int Inputs, int Outputs, long BytesRead, long BytesWritten, long UnfusedBytes)
{
    /// <summary>"fused[a,b]: Add, Relu; 2 in, 1 out; 1,024 B moved (unfused 3,072 B)".</summary>
    public override string ToString() =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"{Name}: {string.Join(", ", Nodes.Select(n => n.OpType))}; {Inputs} in, {Outputs} out; {BytesRead + BytesWritten:N0} B moved (unfused {UnfusedBytes:N0} B)");
}
