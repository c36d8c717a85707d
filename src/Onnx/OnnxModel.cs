using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>
/// An imported ONNX model: a new <see cref="Graph"/> whose placeholders are the model's inputs (named as in the file,
/// symbolic dimensions unknown) and whose outputs are the model's outputs. Initializers are constants of the graph.
/// Run it with a <see cref="Session"/> on any device.
/// </summary>
public sealed class OnnxModel
{
    private readonly ModelProto _proto;

    internal OnnxModel(Graph graph, IReadOnlyDictionary<string, Output> inputs, IReadOnlyDictionary<string, Output> outputs,
        IReadOnlyDictionary<string, Output> initializers, ModelProto proto, string source)
    {
        Graph = graph;
        Inputs = inputs;
        Outputs = outputs;
        Initializers = initializers;
        _proto = proto;
        Source = source;
    }

    /// <summary>The graph the model was built in.</summary>
    public Graph Graph { get; }

    /// <summary>The model's inputs by ONNX name, in the file's order.</summary>
    public IReadOnlyDictionary<string, Output> Inputs { get; }

    /// <summary>The model's outputs by ONNX name, in the file's order.</summary>
    public IReadOnlyDictionary<string, Output> Outputs { get; }

    /// <summary>The floating initializers (weights) by ONNX name.</summary>
    public IReadOnlyDictionary<string, Output> Initializers { get; }

    /// <summary>Where the model came from (the file name).</summary>
    public string Source { get; }

    /// <summary>The opset version the file imports for the standard domain.</summary>
    public long Opset => _proto.OpsetImport.Where(o => o.Domain is "" or "ai.onnx").Select(o => o.Version).DefaultIfEmpty(0).Max();

    /// <summary>Runs the model once in <paramref name="session"/> (which must be a session of <see cref="Graph"/>), feeding the inputs in order.</summary>
    /// <exception cref="ArgumentException">The number of tensors differs from the number of inputs.</exception>
    public Tensor[] Run(Session session, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(session);
        if (inputs.Length != Inputs.Count) throw new ArgumentException($"model '{Source}' has {Inputs.Count} inputs, got {inputs.Length} tensors", nameof(inputs));
        var feeds = new Dictionary<Output, Tensor>();
        var k = 0;
        foreach (var x in Inputs.Values) feeds[x] = inputs[k++];
        return session.Run(Outputs.Values.ToArray(), feeds);
    }

    internal ModelProto Proto => _proto;
}
