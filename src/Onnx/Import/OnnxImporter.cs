using Nabla.Onnx.Proto;

namespace Nabla.Onnx;

/// <summary>
/// Builds a Nabla graph from an ONNX graph, node by node through <see cref="ImportRules"/>. Graph inputs become
/// placeholders (symbolic dims unknown), initializers constants, unless the caller binds them to its own values
/// (the gradient check feeds float64 placeholders for both). Every attribute a rule does not read is an error, so
/// an option we would silently ignore (a group count, a ceil mode) fails naming the node and the op type.
/// </summary>
internal sealed class OnnxImporter
{
    private readonly ModelProto _model;
    private readonly string _source;
    private readonly Dictionary<string, Output> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Tensor> _constants = new(StringComparer.Ordinal);

    public OnnxImporter(ModelProto model, string source)
    {
        _model = model;
        _source = source;
        Opset = 1;
        var found = false;
        foreach (var o in model.OpsetImport)
        {
            if (o.Domain is "" or "ai.onnx") { Opset = (int)o.Version; found = true; }
        }
        if (!found) throw new OnnxException($"'{source}': the model imports no version of the standard ONNX opset");
        if (Opset < 7) throw new OnnxException($"'{source}': opset {Opset} is too old (7 or newer is supported)");
    }

    /// <summary>The default-domain opset version the model imports.</summary>
    public int Opset { get; }

    /// <summary>The dtype floating values are built in (float32, or float64 for a gradient check).</summary>
    public DType FloatType { get; private set; } = DType.Float32;

    public Graph Graph { get; private set; } = null!;

    public sealed record Result(IReadOnlyDictionary<string, Output> Inputs, IReadOnlyDictionary<string, Output> Outputs, IReadOnlyDictionary<string, Output> Initializers);

    /// <summary>
    /// Builds the graph in <paramref name="g"/>. <paramref name="bind"/> may supply the value of a graph input or a
    /// floating initializer by name (return null to use the default: a placeholder or a constant).
    /// </summary>
    public Result Build(Graph g, Func<string, DType, Shape, Output?>? bind, DType floatType)
    {
        Graph = g;
        FloatType = floatType;
        var gp = _model.Graph;
        var inits = new Dictionary<string, Output>(StringComparer.Ordinal);
        foreach (var t in gp.Initializer)
        {
            if (string.IsNullOrEmpty(t.Name)) throw new OnnxException($"'{_source}': an initializer has no name");
            var value = OnnxTypes.FromProto(t, $"'{_source}' initializer");
            if (value.DType.IsFloating()) value = Convert(value, floatType);
            _constants[t.Name] = value;
            var bound = value.DType.IsFloating() ? bind?.Invoke(t.Name, value.DType, value.Shape) : null;
            _values[t.Name] = bound ?? g.Constant(value, Safe(t.Name));
            if (value.DType.IsFloating()) inits[t.Name] = _values[t.Name];
        }
        var inputs = new Dictionary<string, Output>(StringComparer.Ordinal);
        foreach (var i in gp.Input)
        {
            if (_values.ContainsKey(i.Name)) continue; // an initializer listed as an input (IR < 4 style): it has a default value
            var (dtype, shape) = TypeOf(i);
            if (dtype.IsFloating()) dtype = floatType;
            var x = bind?.Invoke(i.Name, dtype, shape) ?? g.Placeholder(dtype, shape, Safe(i.Name));
            _values[i.Name] = inputs[i.Name] = x;
        }
        foreach (var node in gp.Node)
        {
            var n = new OnnxNode(this, node);
            if (node.Domain is not ("" or "ai.onnx")) throw n.Fail($"domain '{node.Domain}' is not supported (only the standard ONNX domain is)");
            Output[] outs;
            try
            {
                using (g.NameScope(Safe(n.Name)))
                    outs = ImportRules.Apply(n);
            }
            catch (Exception e) when (e is NablaException and not OnnxException || e is ArgumentException)
            {
                // A graph builder refused the node (shapes that do not fit, an axis out of range): the file's fault,
                // reported as an import error that names the ONNX node.
                throw n.Fail(e.Message, e);
            }
            n.CheckAllAttributesRead();
            for (var k = 0; k < outs.Length && k < node.Output.Count; k++)
                if (node.Output[k].Length > 0 && !_shapeOf.ContainsKey(node.Output[k])) _values[node.Output[k]] = outs[k];
        }
        var outputs = new Dictionary<string, Output>(StringComparer.Ordinal);
        foreach (var o in gp.Output)
            outputs[o.Name] = _values.TryGetValue(o.Name, out var v) ? v : throw new OnnxException($"'{_source}': graph output '{o.Name}' is not produced by any node");
        if (outputs.Count == 0) throw new OnnxException($"'{_source}': the graph has no outputs");
        return new Result(inputs, outputs, inits);
    }

    private readonly Dictionary<string, Output> _shapeOf = new(StringComparer.Ordinal);

    /// <summary>The value named <paramref name="name"/>, as used by node <paramref name="n"/>.</summary>
    public Output Value(OnnxNode n, string name)
    {
        if (_shapeOf.TryGetValue(name, out var of))
            throw n.Fail($"input '{name}' is the run-time shape of '{of.Name}'; only ConstantOfShape and Expand accept a computed shape");
        return _values.TryGetValue(name, out var v) ? v : throw n.Fail($"input '{name}' is not produced by an earlier node, an initializer or a graph input");
    }

    /// <summary>The tensor whose run-time shape the value <paramref name="name"/> is (a Shape node's output), or null.</summary>
    public Output? ShapeSource(string name) => _shapeOf.TryGetValue(name, out var v) ? v : null;

    /// <summary>Records that the output <paramref name="name"/> is the run-time shape of <paramref name="x"/> (a Shape node whose input has unknown dims).</summary>
    public void RecordShapeOf(string name, Output x) => _shapeOf[name] = x;

    /// <summary>The constant value of an input (initializer or Constant node), or null when it is computed.</summary>
    public Tensor? Constant(string name) => _constants.TryGetValue(name, out var t) ? t : null;

    /// <summary>Records a constant produced by a node (Constant, ConstantOfShape) so later nodes can read it as an attribute-like input.</summary>
    public void RecordConstant(string name, Tensor t) => _constants[name] = t;

    public string Source => _source;

    private (DType, Shape) TypeOf(ValueInfoProto v)
    {
        if (v.Type?.TensorType is not { } tt) throw new OnnxException($"'{_source}': graph input '{v.Name}' is not a tensor");
        var dtype = OnnxTypes.FromElemType(tt.ElemType, $"'{_source}': graph input '{v.Name}'");
        if (tt.Shape is null) throw new OnnxException($"'{_source}': graph input '{v.Name}' has no shape (its rank must be known)");
        var dims = tt.Shape.Dim.Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue && d.DimValue >= 0 && d.DimValue <= int.MaxValue ? (int)d.DimValue : -1).ToArray();
        return (dtype, new Shape(dims));
    }

    public static Tensor Convert(Tensor t, DType dtype)
    {
        if (t.DType == dtype) return t;
        var d = t.ToDoubleArray();
        return dtype switch
        {
            DType.Float32 => new Tensor(d.Select(v => (float)v).ToArray(), t.Shape, dtype),
            DType.Float64 => new Tensor(d, t.Shape, dtype),
            DType.Int32 => new Tensor(d.Select(v => (int)v).ToArray(), t.Shape, dtype),
            DType.Int64 => new Tensor(t.DType == DType.Int64 ? t.ToArray<long>() : d.Select(v => (long)v).ToArray(), t.Shape, dtype),
            DType.Bool => new Tensor(d.Select(v => v != 0).ToArray(), t.Shape, dtype),
            _ => throw new OnnxException($"cannot convert a constant to {dtype.Name()}"),
        };
    }

    /// <summary>ONNX names may hold characters Nabla's scoped names give meaning to ('/'); node names stay readable.</summary>
    public static string Safe(string name) => string.IsNullOrEmpty(name) ? "onnx" : name.Replace('/', '.').Replace(':', '_');
}

/// <summary>One ONNX node being imported: typed attribute access that records which attributes were read.</summary>
internal sealed class OnnxNode
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public OnnxNode(OnnxImporter importer, NodeProto proto)
    {
        Importer = importer;
        Proto = proto;
        Name = string.IsNullOrEmpty(proto.Name) ? (proto.Output.FirstOrDefault() ?? proto.OpType) : proto.Name;
    }

    public OnnxImporter Importer { get; }

    public NodeProto Proto { get; }

    public string Name { get; }

    public string OpType => Proto.OpType;

    public Graph G => Importer.Graph;

    public int Opset => Importer.Opset;

    public int InputCount => Proto.Input.Count;

    public bool HasInput(int i) => i < Proto.Input.Count && Proto.Input[i].Length > 0;

    public Output Input(int i) =>
        HasInput(i) ? Importer.Value(this, Proto.Input[i]) : throw Fail($"input {i} is required");

    /// <summary>A constant input (an initializer or a Constant node's output), or null when absent.</summary>
    public Tensor? ConstInput(int i, string what)
    {
        if (!HasInput(i)) return null;
        return Importer.Constant(Proto.Input[i]) ?? throw Fail($"input {i} ({what}) must be a constant (an initializer or Constant node); computed {what} is not supported");
    }

    public long[]? ConstInts(int i, string what) => ConstInput(i, what) is { } t ? Longs(t) : null;

    public static long[] Longs(Tensor t) => t.DType == DType.Int64 ? t.ToArray<long>() : t.ToDoubleArray().Select(v => (long)v).ToArray();

    /// <summary>"ONNX import of 'file': node 'n' (Op)", the prefix of every error about this node.</summary>
    public string Context => $"ONNX import of '{Importer.Source}': node '{Name}' ({OpType})";

    public OnnxException Fail(string message) => new($"{Context}: {message}");

    public OnnxException Fail(string message, Exception inner) => new($"{Context}: {message}", inner);

    private AttributeProto? Attr(string name)
    {
        foreach (var a in Proto.Attribute)
            if (a.Name == name)
            {
                _read.Add(name);
                return a;
            }
        return null;
    }

    public bool Has(string name) => Proto.Attribute.Any(a => a.Name == name);

    public long Int(string name, long fallback) => Attr(name) is { } a ? a.I : fallback;

    public double Float(string name, double fallback) => Attr(name) is { } a ? a.F : fallback;

    public string String(string name, string fallback) => Attr(name) is { } a ? a.S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Attr(name) is { } a ? a.Ints.ToArray() : null;

    public string[]? Strings(string name) => Attr(name) is { } a ? a.Strings.Select(b => b.ToStringUtf8()).ToArray() : null;

    public TensorProto? TensorAttr(string name) => Attr(name)?.T;

    /// <summary>Reads an attribute only to accept its value (for example a default spelled out explicitly).</summary>
    public void Accept(string name, Func<AttributeProto, bool> ok, string expectation)
    {
        if (Attr(name) is { } a && !ok(a)) throw Fail($"attribute '{name}' {expectation} is the only supported setting");
    }

    public void CheckAllAttributesRead()
    {
        foreach (var a in Proto.Attribute)
            if (!_read.Contains(a.Name)) throw Fail($"attribute '{a.Name}' is not supported");
    }
}
