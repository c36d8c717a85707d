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
        Kernels = plan.Steps.Select(s => (s.Op.Name, s.Op.Type)).ToArray();
        WorkspaceBytes = plan.Steps.Sum(s => s.WorkspaceSlots.Sum(w => (long)plan.SlotTypes[w].Length * plan.SlotTypes[w].DType.SizeOf()));
        DeviceChecks = plan.Checks.Length;
    }

    /// <summary>Bytes of intermediate values (feeds, kernel outputs, workspaces) at the step's peak: the sum of the arenas. Variables and constants are not included.</summary>
    public long PeakBytes { get; }

    /// <summary>The most bytes live at any one step: no placement can do better, so <see cref="PeakBytes"/> ÷ this is the plan's packing overhead.</summary>
    public long LiveBytesLowerBound { get; }

    /// <summary>Bytes per arena, keyed by the allocator's arena number (a host backend has one arena per storage element type, numbered by its <see cref="DType"/>; a device has one).</summary>
    public IReadOnlyDictionary<int, long> ArenaBytes { get; }

    /// <summary>The kernels in execution order: node name and op type.</summary>
    public IReadOnlyList<(string Node, string OpType)> Kernels { get; }

    /// <summary>Bytes of plan-time workspaces (counted in <see cref="PeakBytes"/> while their step runs).</summary>
    public long WorkspaceBytes { get; }

    /// <summary>Device-side checks (computed indices, labels, divisors; CheckNumerics outputs) the plan enqueues.</summary>
    public int DeviceChecks { get; }
}
