namespace Nabla.Layers;

/// <summary>
/// A model: a layer with training and inference loops. Build one of three ways, as in Keras:
/// functional (<c>new Model(inputs, outputs)</c> over <see cref="KerasTensor"/>s), <see cref="Sequential"/>,
/// or by subclassing and overriding <c>Call</c>. Models nest as layers of other models.
/// </summary>
/// <remarks>
/// The forward pass is traced into the graph twice, once with training = true (dropout, noise and
/// training-only losses active) for <see cref="Fit(Tensor, Tensor?, int, int, int, IReadOnlyList{Callback}?, double, ValueTuple{Tensor, Tensor}?, bool, int)"/>
/// and once with training = false for Evaluate and Predict; both share the same weights.
/// </remarks>
public partial class Model : Layer
{
    private KerasTensor[]? _inputs;
    private KerasTensor[]? _outputs;
    private List<LayerCall> _calls = [];
    private Output[]? _executionInputs;

    /// <summary>For subclassed models: override <c>Call</c> and create layers in the constructor.</summary>
    protected Model(string? name = null) : base(name)
    {
    }

    /// <summary>A functional model from symbolic inputs to symbolic outputs.</summary>
    /// <exception cref="ArgumentException">An output does not depend only on the given inputs (a disconnected graph).</exception>
    public Model(KerasTensor[] inputs, KerasTensor[] outputs, string? name = null) : base(name) => SetGraph(inputs, outputs);

    /// <summary>A functional model with one input and one output.</summary>
    public Model(KerasTensor input, KerasTensor output, string? name = null) : this([input], [output], name)
    {
    }

    /// <summary>Whether the model is a graph of layer calls (functional or a built Sequential).</summary>
    public bool IsFunctional => _outputs is not null;

    /// <summary>Symbolic inputs (functional models).</summary>
    public IReadOnlyList<KerasTensor> Inputs => _inputs ?? [];

    /// <summary>Symbolic outputs (functional models).</summary>
    public IReadOnlyList<KerasTensor> Outputs => _outputs ?? [];

    /// <summary>The layers, in call order: a functional model's layer calls, or the layers a subclassed model's Call used.</summary>
    public virtual IReadOnlyList<Layer> Layers =>
        IsFunctional ? _calls.Select(c => c.Layer).Distinct().ToList() : Sublayers;

    /// <summary>The session that runs this model (shared by every model of its graph).</summary>
    public Session Session => Runtime.Session;

    private GraphRuntime Runtime => GraphRuntime.For(Graph ?? Keras.Graph);

    /// <inheritdoc/>
    protected internal override IEnumerable<Layer> EnumerateSublayers() =>
        IsFunctional ? Layers.Concat(base.EnumerateSublayers()).Distinct() : base.EnumerateSublayers();

    /// <summary>Makes this a graph of layer calls from <paramref name="inputs"/> to <paramref name="outputs"/>.</summary>
    private protected void SetGraph(KerasTensor[] inputs, KerasTensor[] outputs)
    {
        if (inputs.Length == 0 || outputs.Length == 0) throw new ArgumentException($"model '{Name}' needs at least one input and one output");
        foreach (var i in inputs)
            if (!i.IsInput) throw new ArgumentException($"model '{Name}': {i} is not a Keras.Input (functional models start from inputs)", nameof(inputs));
        var calls = new List<LayerCall>();
        var visited = new HashSet<LayerCall>();
        foreach (var o in outputs) Visit(o);
        _inputs = inputs;
        _outputs = outputs;
        _calls = calls;
        _executionInputs = null;

        void Visit(KerasTensor t)
        {
            if (Array.IndexOf(inputs, t) >= 0) return;
            if (t.Producer is null)
                throw new ArgumentException($"model '{Name}': graph disconnected — input '{t.Value.Name}' is needed to compute the outputs but is not among the model's inputs", nameof(outputs));
            if (!visited.Add(t.Producer)) return;
            foreach (var i in t.Producer.Inputs) Visit(i);
            calls.Add(t.Producer);
        }
    }

    /// <summary>Functional models replay their layer calls on the given inputs; subclasses override this (or the one-input form).</summary>
    protected override Output[] Call(Output[] inputs, bool training)
    {
        if (!IsFunctional) return base.Call(inputs, training);
        if (inputs.Length != _inputs!.Length)
            throw new ArgumentException($"model '{Name}' takes {_inputs.Length} inputs, got {inputs.Length}", nameof(inputs));
        var values = new Dictionary<KerasTensor, Output>();
        for (var i = 0; i < inputs.Length; i++)
        {
            if (!inputs[i].Shape.IsCompatibleWith(_inputs[i].Shape))
                throw new ShapeException($"model '{Name}': input {i} has shape {inputs[i].Shape}, expected {_inputs[i].Shape}");
            values[_inputs[i]] = inputs[i];
        }
        foreach (var call in _calls)
        {
            var outs = call.Layer.Apply(call.Inputs.Select(t => values[t]).ToArray(), training);
            for (var k = 0; k < outs.Length; k++) values[call.Outputs[k]] = outs[k];
        }
        return _outputs!.Select(o => values[o]).ToArray();
    }

    /// <summary>
    /// Placeholders the model's loops feed: a functional model's inputs, or, for a subclassed model,
    /// placeholders made once from the first data (batch dimension unknown).
    /// </summary>
    internal virtual Output[] ExecutionInputs(IReadOnlyList<Tensor> sample)
    {
        if (_executionInputs is not null) return _executionInputs;
        if (IsFunctional) return _executionInputs = _inputs!.Select(i => i.Value).ToArray();
        var g = Graph ?? Keras.Graph;
        return _executionInputs = sample.Select((t, i) =>
            g.Placeholder(t.DType, new Shape([-1, .. t.Shape.Skip(1)]), $"{Name}_input{(i == 0 ? "" : "_" + i)}")).ToArray();
    }
}
