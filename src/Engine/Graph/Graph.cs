namespace Nabla;

/// <summary>
/// A dataflow graph, built first and run later in a <see cref="Session"/> (TensorFlow 1.x style).
/// Op-building methods live in the per-family files under Ops/ (this class is partial); each
/// infers shapes and dtypes immediately and throws <see cref="ShapeException"/> at the line that
/// built an inconsistent node.
/// </summary>
public sealed partial class Graph
{
    private readonly List<Operation> _ops = [];
    private readonly Dictionary<string, int> _nameCounts = new(StringComparer.Ordinal);
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Stack<string> _scopes = new();
    private readonly List<Variable> _variables = [];

    /// <summary>Graph-level seed combined with each random op's seed (as tf.set_random_seed).</summary>
    public ulong Seed { get; set; }

    /// <summary>All operations in creation (= topological) order.</summary>
    public IReadOnlyList<Operation> Operations => _ops;

    /// <summary>All variables created in this graph.</summary>
    public IReadOnlyList<Variable> Variables => _variables;

    /// <summary>Variables created with trainable = true.</summary>
    public IEnumerable<Variable> TrainableVariables => _variables.Where(v => v.Trainable);

    /// <summary>Prefixes names of nodes built inside the returned scope with "<paramref name="name"/>/".</summary>
    public IDisposable NameScope(string name)
    {
        _scopes.Push(name);
        return new ScopeExit(_scopes);
    }

    private sealed class ScopeExit(Stack<string> scopes) : IDisposable
    {
        public void Dispose() => scopes.Pop();
    }

    /// <summary>Finds an operation by its full name.</summary>
    public Operation? FindOperation(string name) => _ops.FirstOrDefault(o => o.Name == name);

    internal string UniqueName(string requested)
    {
        var prefix = _scopes.Count == 0 ? "" : string.Join("/", _scopes.Reverse()) + "/";
        var baseName = prefix + requested;
        if (_names.Add(baseName)) { _nameCounts.TryAdd(baseName, 0); return baseName; }
        var n = _nameCounts.GetValueOrDefault(baseName);
        string candidate;
        do candidate = $"{baseName}_{++n}"; while (!_names.Add(candidate));
        _nameCounts[baseName] = n;
        return candidate;
    }

    /// <summary>Creates a node: validates the inputs belong here, infers output specs (throwing at this line), registers it.</summary>
    internal Operation AddOp(string type, Output[] inputs, Attributes? attrs = null, string? name = null, Operation[]? control = null)
    {
        var def = OpRegistry.Get(type);
        foreach (var i in inputs)
        {
            if (i.Op is null) throw new ArgumentException($"{type}: an input is a default(Output)");
            if (!ReferenceEquals(i.Graph, this)) throw new ArgumentException($"{type}: input '{i.Name}' belongs to another graph");
        }
        foreach (var c in control ?? [])
        {
            if (c is null) throw new ArgumentException($"{type}: a control input is null");
            if (!ReferenceEquals(c.Graph, this)) throw new ArgumentException($"{type}: control input '{c.Name}' belongs to another graph");
        }
        attrs ??= Attributes.Empty;
        var unique = UniqueName(name ?? type);
        var ctx = new InferContext(type, unique, inputs.Select(i => i.Shape).ToArray(), inputs.Select(i => i.DType).ToArray(), attrs);
        OutputSpec[] specs;
        try
        {
            specs = def.InferChecked(ctx);
        }
        catch
        {
            _names.Remove(unique);
            throw;
        }
        var op = new Operation(this, _ops.Count, unique, def, inputs, control ?? [], attrs,
            specs.Select(s => s.Shape).ToArray(), specs.Select(s => s.DType).ToArray());
        _ops.Add(op);
        return op;
    }

    /// <summary>Refuses a <c>default(Output)</c> argument of a public builder that reads it before <see cref="AddOp"/> would.</summary>
    internal static void RequireArgument(Output x, string op, string parameter)
    {
        if (x.Op is null) throw new ArgumentException($"{op}: {parameter} is a default(Output), not an output of a graph", parameter);
    }

    /// <summary><see cref="RequireArgument(Output, string, string)"/> for every element of an array argument.</summary>
    internal static void RequireArguments(IReadOnlyList<Output> xs, string op, string parameter)
    {
        ArgumentNullException.ThrowIfNull(xs, parameter);
        for (var i = 0; i < xs.Count; i++)
            if (xs[i].Op is null) throw new ArgumentException($"{op}: {parameter}[{i}] is a default(Output), not an output of a graph", parameter);
    }

    internal Output AddSingleOutput(string type, Output[] inputs, Attributes? attrs = null, string? name = null) => AddOp(type, inputs, attrs, name)[0];

    internal void Register(Variable v) => _variables.Add(v);
}
