using System.Runtime.CompilerServices;

namespace Nabla.Layers;

/// <summary>
/// The one session that runs a graph's models, created on first use on <see cref="Keras.Device"/>.
/// Sharing it is what lets several models that
/// share layers (an autoencoder and its encoder) see the same weights.
/// </summary>
internal sealed class GraphRuntime
{
    private static readonly ConditionalWeakTable<Graph, GraphRuntime> s_runtimes = [];
    private readonly Graph _graph;
    private Session? _session;

    private GraphRuntime(Graph graph) => _graph = graph;

    public static GraphRuntime For(Graph graph) => s_runtimes.GetValue(graph, static g => new GraphRuntime(g));

    public Session Session => _session ??= new Session(_graph, Keras.Device, Keras.SessionOptions);

    /// <summary>Runs the initializers of the variables the session has no value for yet (one grouped run); loaded or assigned weights are left alone.</summary>
    public void EnsureInitialized(IEnumerable<Variable> variables)
    {
        var todo = variables.Where(v => !Session.IsInitialized(v)).Distinct().ToList();
        if (todo.Count == 0) return;
        Session.Run([], null, todo.Select(v => v.Initializer).ToArray());
    }
}
