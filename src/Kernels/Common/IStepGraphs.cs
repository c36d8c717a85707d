namespace Nabla.Kernels;

/// <summary>How a run's device work was issued (<see cref="IStepGraphs.EndRecording"/>, and the session's run statistics).</summary>
public enum StepGraphMode
{
    /// <summary>Launched call by call, as it was enqueued (the first run of a plan, graphs off, or a backend without graphs).</summary>
    Eager,

    /// <summary>Recorded, captured into a new graph (the plan had none) and launched as one graph.</summary>
    Captured,

    /// <summary>Recorded, found different from the plan's graph (another arena, other arguments), captured anew and launched; the old graph was destroyed.</summary>
    Recaptured,

    /// <summary>Recorded, found identical to the plan's graph, and that graph was launched: no per-kernel launches.</summary>
    Replayed,

    /// <summary>
    /// Recording stopped part way because the run needed something a graph cannot hold (a wait, a host transfer, an
    /// allocation, a library handle used outside the recorder); what was recorded was issued eagerly, in order, and the
    /// rest of the run ran eagerly. <see cref="StepGraphResult.Reason"/> names the call.
    /// </summary>
    Uncapturable,
}

/// <summary>What <see cref="IStepGraphs.EndRecording"/> did, and, for <see cref="StepGraphMode.Uncapturable"/>, why.</summary>
/// <param name="Mode">How the run's work was issued.</param>
/// <param name="Reason">For <see cref="StepGraphMode.Uncapturable"/> (or an eager fallback): the call that stopped the recording; otherwise null.</param>
public readonly record struct StepGraphResult(StepGraphMode Mode, string? Reason = null);

/// <summary>A replayable graph of one plan's device work, owned by whoever holds it (dispose it before its backend).</summary>
public interface IStepGraph : IDisposable
{
    /// <summary>Device operations (kernel launches, copies, memsets, GEMMs) in the graph.</summary>
    int Operations { get; }
}

/// <summary>
/// Optional capability of an asynchronous backend (the CUDA backend): record a run's device work, then issue it as one
/// graph, replaying the previous graph when the work is identical. The session uses it for the steps of a plan from the
/// plan's second run on (an <see cref="IBackend"/> caller that never asks gets eager launches).
/// </summary>
/// <remarks>
/// <para><b>Protocol.</b> <see cref="BeginRecording"/>, then the run's backend calls as usual (they enqueue nothing yet),
/// then exactly one of <see cref="EndRecording"/> (the normal end) or <see cref="AbandonRecording"/> (the run failed on the
/// host part way). Feed uploads before <see cref="BeginRecording"/> and fetch downloads after <see cref="EndRecording"/>
/// keep their stream order: the graph is launched on the same stream, between them.</para>
/// <para><b>Safety.</b> A graph is replayed only when the work recorded in this run equals, operation by operation and
/// argument byte by argument byte, the work it was captured from; so a replay does exactly what eager launches of this
/// run would have done, whatever changed between runs (arenas, variables, arguments).</para>
/// </remarks>
public interface IStepGraphs
{
    /// <summary>Starts buffering device work instead of issuing it.</summary>
    /// <exception cref="InvalidOperationException">A recording is already in progress.</exception>
    void BeginRecording();

    /// <summary>
    /// Ends the recording and issues its work: launches <paramref name="graph"/> when the recorded work equals it,
    /// otherwise captures the work into a new graph (disposing the old one), stores it in <paramref name="graph"/> and
    /// launches it. When the recording was interrupted (<see cref="StepGraphMode.Uncapturable"/>) the work was already
    /// issued and <paramref name="graph"/> is left as it was.
    /// </summary>
    /// <exception cref="InvalidOperationException">No recording was begun.</exception>
    StepGraphResult EndRecording(ref IStepGraph? graph);

    /// <summary>Issues what was recorded so far eagerly, in order, and stops recording (a run whose host part failed).</summary>
    void AbandonRecording();
}
