using System.Runtime.CompilerServices;

namespace Nabla.Layers;

/// <summary>
/// The one session that runs a graph's models, created on first use on <see cref="Keras.Device"/>,
/// and which of the graph's variables it has initialised. Sharing it is what lets several models that
/// share layers (an autoencoder and its encoder) see the same weights.
/// </summary>
internal sealed class GraphRuntime
{
    private static readonly ConditionalWeakTable<Graph, GraphRuntime> s_runtimes = [];
    private readonly Graph _graph;
    private readonly HashSet<Variable> _initialized = [];
    private Session? _session;

    private GraphRuntime(Graph graph) => _graph = graph;

    public static GraphRuntime For(Graph graph) => s_runtimes.GetValue(graph, static g => new GraphRuntime(g));

    public Session Session => _session ??= new Session(_graph, Keras.Device);

    /// <summary>Runs the initializers of the variables not yet initialised (one grouped run).</summary>
    public void EnsureInitialized(IEnumerable<Variable> variables)
    {
        var todo = variables.Where(v => !_initialized.Contains(v)).Distinct().ToList();
        if (todo.Count == 0) return;
        Session.Run([], null, todo.Select(v => v.Initializer).ToArray());
        foreach (var v in todo) _initialized.Add(v);
    }

    /// <summary>Records that a variable was set from outside its initializer (loaded weights).</summary>
    public void MarkInitialized(Variable v) => _initialized.Add(v);
}
