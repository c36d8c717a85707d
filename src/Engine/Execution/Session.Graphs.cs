using Nabla.Kernels;

namespace Nabla;

/// <summary>Whole-step graphs: when a run's device work is recorded and issued as one graph (<see cref="IStepGraphs"/>).</summary>
/// <remarks>
/// <para><b>What is recorded.</b> The steps of a run: the error flags' reset, every kernel and epilogue, and the device-side
/// checks. Feed uploads come before the recording and the downloads of the error flags and fetches after it, on the same
/// stream, so the graph sits between them in stream order (the uploads go through pinned staging whose addresses change
/// from run to run, which a graph could not hold).</para>
/// <para><b>When.</b> A plan's first run is eager: it allocates and uploads what the session keeps (variables, constants,
/// the error flags), which would interrupt a recording anyway. From the second run on every run is recorded, then
/// replayed when identical to the plan's graph or captured again when not (another arena after a larger plan grew it,
/// other feed buffers). A changed plan (other fetches, targets or feed shapes) is another plan, with a graph of its own.</para>
/// <para><b>When not.</b> A run whose recording was interrupted (<see cref="StepGraphMode.Uncapturable"/>: cuDNN, the
/// host-staged AllReduce, a wait) marks its plan eager for good, the reason kept for <see cref="RunStatistics.GraphNote"/>.
/// A plan captured again in <see cref="MaxConsecutiveRecaptures"/> runs in a row changes its launch arguments every run
/// (a random op's Philox counter advances each run and is a kernel argument); it too goes back to eager launches, since
/// capturing every run costs more than it saves.</para>
/// </remarks>
public sealed partial class Session
{
    /// <summary>Runs in a row that each captured a new graph after which a plan stops recording.</summary>
    internal const int MaxConsecutiveRecaptures = 2;

    private readonly Dictionary<Plan, PlanGraph> _stepGraphs = [];
    private StepGraphResult _lastGraph;

    /// <summary>Graphs the session holds now (one per plan that was captured and not given up); for tests and diagnostics.</summary>
    public int StepGraphCount => _stepGraphs.Values.Count(g => g.Graph is not null);

    /// <summary>Starts recording the run of <paramref name="plan"/> when it should be a graph; returns the backend's capability then, else null.</summary>
    private IStepGraphs? BeginStepGraph(Plan plan)
    {
        _lastGraph = default;
        if (!Options.CudaGraphs || _backend is not IStepGraphs graphs) return null;
        if (!_stepGraphs.TryGetValue(plan, out var state)) _stepGraphs[plan] = state = new PlanGraph();
        state.Runs++;
        if (state.Disabled is { } reason)
        {
            _lastGraph = new StepGraphResult(StepGraphMode.Eager, reason);
            return null;
        }
        if (state.Runs == 1) return null;
        graphs.BeginRecording();
        return graphs;
    }

    /// <summary>Issues the recorded run (replay or capture) and updates the plan's graph state.</summary>
    private void EndStepGraph(Plan plan, IStepGraphs? graphs)
    {
        if (graphs is null) return;
        var state = _stepGraphs[plan];
        var graph = state.Graph;
        StepGraphResult result;
        try
        {
            result = graphs.EndRecording(ref graph);
        }
        finally
        {
            // EndRecording disposes a graph it replaces before storing the new one: keep whichever it left.
            state.Graph = graph;
        }
        _lastGraph = result;
        switch (result.Mode)
        {
            case StepGraphMode.Replayed:
            case StepGraphMode.Captured:
                state.Recaptures = 0;
                break;
            case StepGraphMode.Recaptured:
                if (++state.Recaptures >= MaxConsecutiveRecaptures)
                    Disable(state, $"its device work changed in {state.Recaptures} runs in a row (launch arguments that change every run, such as a random op's counter)");
                break;
            case StepGraphMode.Uncapturable:
                Disable(state, result.Reason ?? "its recording was interrupted");
                break;
            case StepGraphMode.Eager:
                break;
        }
    }

    private static void Disable(PlanGraph state, string reason)
    {
        state.Disabled = reason;
        var graph = state.Graph;
        state.Graph = null;
        graph?.Dispose();
    }

    /// <summary>Destroys every graph (before the backend that made them).</summary>
    private void DisposeStepGraphs()
    {
        List<Exception>? errors = null;
        foreach (var state in _stepGraphs.Values)
        {
            try { state.Graph?.Dispose(); }
            catch (Exception e) when (e is not OutOfMemoryException) { (errors ??= []).Add(e); }
            state.Graph = null;
        }
        _stepGraphs.Clear();
        if (errors is not null) throw errors.Count == 1 ? errors[0] : new AggregateException("destroying the session's CUDA graphs failed", errors);
    }

    /// <summary>A plan's graph and how its runs went.</summary>
    private sealed class PlanGraph
    {
        public int Runs;
        public int Recaptures;
        public IStepGraph? Graph;
        public string? Disabled;
    }
}
