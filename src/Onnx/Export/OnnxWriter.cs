using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>
/// Translates the inference part of a Nabla graph (the ops between given placeholders and outputs) into an ONNX
/// <c>GraphProto</c>, op by op through <see cref="ExportRules"/>. Variables and constants become initializers, read
/// from the session that holds their values; they are written only when a node uses them, so a convolution filter
/// that is only read through its OIHW transposition is stored once, transposed.
/// </summary>
internal sealed class OnnxWriter
{
    private readonly Graph _graph;
    private readonly Session? _session;
    private readonly Dictionary<Output, string> _names = [];
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly Dictionary<(Output, string), string> _derived = [];
    private readonly Dictionary<Output, string> _unavailable = [];

    public OnnxWriter(Graph graph, Session? session)
    {
        _graph = graph;
        _session = session;
    }

    public GraphProto Proto { get; } = new();

    /// <summary>The node being translated (for names and messages).</summary>
    public Operation Current { get; private set; } = null!;

    public ModelProto Write(Output[] inputs, Output[] outputs, string[]? outputNames, string graphName)
    {
        Proto.Name = graphName;
        foreach (var x in inputs)
        {
            if (x.Op.Type != "Placeholder") throw new OnnxException($"ONNX export: input '{x.Name}' is a {x.Op.Type}, not a placeholder");
            var name = Unique(x.Op.Name);
            _names[x] = name;
            Proto.Input.Add(OnnxTypes.ValueInfo(name, x.DType, x.Shape));
        }
        foreach (var op in Needed(inputs, outputs))
        {
            Current = op;
            if (op.Type is "Variable" or "Const") continue; // written when first used
            if (op.Type == "Placeholder")
                throw new OnnxException($"ONNX export: the outputs depend on placeholder '{op.Name}', which is not among the inputs ({string.Join(", ", inputs.Select(i => $"'{i.Name}'"))})");
            ExportRules.Emit(this, op);
        }
        for (var i = 0; i < outputs.Length; i++)
        {
            var o = outputs[i];
            Current = o.Op;
            var name = Unique(outputNames?[i] ?? (o.Op.Name + (o.Index == 0 ? "" : $":{o.Index}")));
            Proto.Node.Add(NodeProto("Identity", [Value(o)], [name], $"{name}/output"));
            Proto.Output.Add(OnnxTypes.ValueInfo(name, o.DType, o.Shape));
        }
        var model = new ModelProto
        {
            IrVersion = OnnxTypes.IrVersion,
            ProducerName = "Nabla",
            ProducerVersion = typeof(OnnxWriter).Assembly.GetName().Version?.ToString() ?? "0",
            Graph = Proto,
        };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = OnnxTypes.Opset });
        return model;
    }

    /// <summary>The ops the outputs depend on, stopping at the inputs, in creation (topological) order.</summary>
    private static List<Operation> Needed(Output[] inputs, Output[] outputs)
    {
        var stop = inputs.Select(i => i.Op).ToHashSet();
        var seen = new HashSet<Operation>();
        var stack = new Stack<Operation>(outputs.Select(o => o.Op));
        while (stack.Count > 0)
        {
            var op = stack.Pop();
            if (stop.Contains(op) || !seen.Add(op)) continue;
            foreach (var i in op.Inputs) stack.Push(i.Op);
        }
        return seen.OrderBy(o => o.Id).ToList();
    }

    /// <summary>The ONNX name of a graph value, writing a variable's or constant's initializer on first use.</summary>
    public string Value(Output o)
    {
        if (_names.TryGetValue(o, out var n)) return n;
        if (_unavailable.TryGetValue(o, out var why)) throw ExportRules.Unsupported(o.Op, $"output {o.Index} is used, and {why}");
        if (o.Op.Type is "Variable" or "Const")
        {
            var name = Unique(o.Op.Name);
            Proto.Initializer.Add(OnnxTypes.ToProto(ConstantValue(o), name));
            return _names[o] = name;
        }
        throw new OnnxException($"ONNX export: {o.Op} has not been translated before its use by {Current}");
    }

    /// <summary>Whether a value is fixed at export time (a variable or constant), so it can be rewritten as an initializer.</summary>
    public static bool IsConstant(Output o) => o.Op.Type is "Variable" or "Const";

    /// <summary>The value of a variable (from the session) or constant.</summary>
    public Tensor ConstantValue(Output o)
    {
        if (o.Op.Type == "Const") return o.Op.Attrs.Get<Tensor>("value");
        var v = _graph.Variables.First(v => v.Value == o);
        if (_session is null || !_session.IsInitialized(v))
            throw new OnnxException($"ONNX export: variable '{v.Name}' has no value in the session (initialise or train the model first)");
        return _session.ReadVariable(v);
    }

    /// <summary>An initializer derived from a constant value (a transposed filter), written once per (value, key).</summary>
    public string Derived(Output o, string key, Func<Tensor, Tensor> transform)
    {
        if (_derived.TryGetValue((o, key), out var n)) return n;
        var name = Unique($"{o.Op.Name}_{key}");
        Proto.Initializer.Add(OnnxTypes.ToProto(transform(ConstantValue(o)), name));
        return _derived[(o, key)] = name;
    }

    /// <summary>A new int64 initializer (shapes, axes, pads).</summary>
    public string Int64s(string hint, params long[] values) => Initializer(hint, Tensor.FromArray(values, values.Length));

    /// <summary>A new scalar initializer of a dtype.</summary>
    public string Scalar(string hint, double value, DType dtype) => Initializer(hint, Tensor.Fill(Shape.Scalar, value, dtype));

    public string Initializer(string hint, Tensor t)
    {
        var name = Unique($"{Current.Name}/{hint}");
        Proto.Initializer.Add(OnnxTypes.ToProto(t, name));
        return name;
    }

    /// <summary>Adds a node; returns its first output's name. The outputs get fresh names under the current node's name.</summary>
    public string Node(string opType, string[] inputs, params AttributeProto[] attributes) => NodeMulti(opType, inputs, 1, attributes)[0];

    public string[] NodeMulti(string opType, string[] inputs, int outputs, params AttributeProto[] attributes)
    {
        var names = Enumerable.Range(0, outputs).Select(i => Unique($"{Current.Name}/{opType}{(outputs > 1 ? $":{i}" : "")}")).ToArray();
        var node = NodeProto(opType, inputs, names, Unique($"{Current.Name}/{opType}#node"));
        node.Attribute.Add(attributes);
        Proto.Node.Add(node);
        return names;
    }

    /// <summary>Records the ONNX value that holds output <paramref name="index"/> of the current node.</summary>
    public void Bind(int index, string name) => _names[Current[index]] = name;

    /// <summary>Records that output <paramref name="index"/> of the current node has no ONNX value: using it fails, saying why.</summary>
    public void Unavailable(int index, string why) => _unavailable[Current[index]] = why;

    private static NodeProto NodeProto(string opType, IEnumerable<string> inputs, IEnumerable<string> outputs, string name)
    {
        var n = new NodeProto { OpType = opType, Name = name };
        n.Input.Add(inputs);
        n.Output.Add(outputs);
        return n;
    }

    private string Unique(string name)
    {
        if (_used.Add(name)) return name;
        for (var k = 1; ; k++)
            if (_used.Add($"{name}_{k}")) return $"{name}_{k}";
    }

    /// <summary>The layer a node belongs to: the first part of its scoped name ("dense_1/MatMul" → "dense_1").</summary>
    public static string LayerOf(Operation op) => op.Name.Split('/')[0];

    public static AttributeProto Int(string name, long v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Int, I = v };

    public static AttributeProto Float(string name, double v) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Float, F = (float)v };

    public static AttributeProto Ints(string name, params long[] v)
    {
        var a = new AttributeProto { Name = name, Type = AttributeProto.Types.AttributeType.Ints };
        a.Ints.Add(v);
        return a;
    }

    public static AttributeProto String(string name, string v) =>
        new() { Name = name, Type = AttributeProto.Types.AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(v) };

    public static AttributeProto TensorAttr(string name, TensorProto t) => new() { Name = name, Type = AttributeProto.Types.AttributeType.Tensor, T = t };
}
