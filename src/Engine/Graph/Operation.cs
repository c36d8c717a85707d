namespace Nabla;

/// <summary>A node of a <see cref="Graph"/>: an op type, inputs, attributes and typed outputs.</summary>
public sealed class Operation
{
    internal Operation(Graph graph, int id, string name, OpDef def, Output[] inputs, Operation[] controlInputs, Attributes attrs, Shape[] shapes, DType[] dtypes)
    {
        Graph = graph;
        Id = id;
        Name = name;
        Def = def;
        Inputs = inputs;
        ControlInputs = controlInputs;
        Attrs = attrs;
        OutputShapes = shapes;
        OutputDTypes = dtypes;
    }

    /// <summary>Owning graph.</summary>
    public Graph Graph { get; }

    /// <summary>Creation index; creation order is a topological order.</summary>
    public int Id { get; }

    /// <summary>Unique name within the graph ("dense_1/matmul").</summary>
    public string Name { get; }

    /// <summary>Op type ("MatMul").</summary>
    public string Type => Def.Type;

    internal OpDef Def { get; }

    /// <summary>Data inputs.</summary>
    public IReadOnlyList<Output> Inputs { get; }

    /// <summary>Operations that must run before this one.</summary>
    public IReadOnlyList<Operation> ControlInputs { get; }

    internal Attributes Attrs { get; }

    internal Shape[] OutputShapes { get; }

    internal DType[] OutputDTypes { get; }

    /// <summary>Number of outputs.</summary>
    public int NumOutputs => OutputShapes.Length;

    /// <summary>Output <paramref name="index"/>.</summary>
    public Output this[int index] => index >= 0 && index < NumOutputs
        ? new Output(this, index)
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"{Type} '{Name}' has {NumOutputs} outputs");

    /// <summary>All outputs.</summary>
    public Output[] Outputs => Enumerable.Range(0, NumOutputs).Select(i => new Output(this, i)).ToArray();

    /// <summary>"MatMul 'dense_1/matmul'"</summary>
    public override string ToString() => $"{Type} '{Name}'";
}

/// <summary>Typed attribute bag of a node.</summary>
internal sealed class Attributes
{
    private readonly Dictionary<string, object> _values = new(StringComparer.Ordinal);

    public static Attributes Empty => new();

    public Attributes Set(string key, object value)
    {
        _values[key] = value;
        return this;
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public T Get<T>(string key) => _values.TryGetValue(key, out var v) ? (T)v : throw new KeyNotFoundException($"attribute '{key}' is missing");

    public T Get<T>(string key, T fallback) => _values.TryGetValue(key, out var v) ? (T)v : fallback;

    public int Int(string key) => Get<int>(key);

    public int[] Ints(string key) => Get<int[]>(key);

    public double Double(string key) => Get<double>(key);

    public bool Bool(string key) => Get<bool>(key);
}
