namespace Nabla.Layers;

/// <summary>
/// A Keras-like layer: owns weights (graph variables, created once by <see cref="Build(Shape[])"/> on
/// the first call) and defines a forward pass (<see cref="Call(Output[], bool)"/>) that adds nodes to
/// the graph of its inputs. Applying it to <see cref="KerasTensor"/>s builds a functional model;
/// applying it to <see cref="Output"/>s (for instance inside a subclassed model's Call) adds graph nodes directly.
/// </summary>
/// <remarks>
/// Layers called inside another layer's Call are tracked as its sublayers automatically (their weights
/// count as the outer layer's), so subclassed models need no registration. A layer lives in one graph.
/// </remarks>
public abstract class Layer
{
    private readonly List<(string Name, Variable Variable)> _weights = [];
    private readonly List<Layer> _sublayers = [];
    private readonly List<Output> _untracedLosses = [];
    private readonly List<Operation> _untracedUpdates = [];
    private Graph? _graph;
    private DType _weightDType = DType.Float32;
    private Output?[]? _inputMasks;

    /// <summary>Creates a layer named <paramref name="name"/>, or a unique snake_case name from the type ("dense", "dense_1").</summary>
    protected Layer(string? name = null) => Name = name ?? Keras.UniqueLayerName(DefaultName(GetType().Name));

    /// <summary>The layer's name (unique per thread unless given explicitly); weights are saved under it.</summary>
    public string Name { get; }

    /// <summary>Whether optimizers update this layer's weights (and its sublayers'). Like Keras, a model picks this up when it is compiled.</summary>
    public bool Trainable { get; set; } = true;

    /// <summary>Whether <see cref="Build(Shape[])"/> has run (weights exist).</summary>
    public bool Built { get; private set; }

    /// <summary>Input shape without the batch dimension, for a layer that starts a <see cref="Sequential"/> model (Keras's input_shape).</summary>
    public int[]? InputShape { get; init; }

    /// <summary>The graph the layer's weights live in, once built.</summary>
    public Graph? Graph => _graph;

    /// <summary>This layer's own weights and then its sublayers', in creation order.</summary>
    public IReadOnlyList<Variable> Weights => NamedWeights().Select(w => w.Variable).ToList();

    /// <summary>Weights optimizers update: empty when the layer is frozen.</summary>
    public IReadOnlyList<Variable> TrainableWeights => CollectWeights(trainable: true);

    /// <summary>Weights optimizers leave alone (a frozen layer's, or ones made with trainable = false).</summary>
    public IReadOnlyList<Variable> NonTrainableWeights => CollectWeights(trainable: false);

    /// <summary>Layers called inside this layer's Call, in first-call order.</summary>
    public IReadOnlyList<Layer> Sublayers => _sublayers;

    /// <summary>Losses added by <see cref="AddLoss"/> when the layer was applied outside a model's forward pass (custom training loops).</summary>
    public IReadOnlyList<Output> Losses => _untracedLosses;

    /// <summary>
    /// State updates added by <see cref="AddUpdate"/> when the layer was applied in training mode outside a model's
    /// forward pass (custom training loops run them as targets, as TF1's UPDATE_OPS collection).
    /// </summary>
    public IReadOnlyList<Operation> Updates => _untracedUpdates;

    /// <summary>Output shapes of the most recent call (shown by Summary).</summary>
    internal Shape[]? LastOutputShapes { get; private set; }

    /// <summary>Number of scalars in all weights.</summary>
    public long CountParams() => Weights.Sum(w => (long)w.Shape.Size);

    /// <summary>Applies the layer to symbolic tensors, recording the call for a functional <see cref="Model"/>; the layer must produce one output.</summary>
    public KerasTensor Apply(params KerasTensor[] inputs)
    {
        var outputs = ApplyMulti(inputs);
        return outputs.Length == 1 ? outputs[0]
            : throw new InvalidOperationException($"layer '{Name}' produced {outputs.Length} outputs; use ApplyMulti");
    }

    /// <summary>Applies the layer to symbolic tensors; returns every output.</summary>
    public KerasTensor[] ApplyMulti(params KerasTensor[] inputs)
    {
        if (inputs.Length == 0) throw new ArgumentException($"layer '{Name}' needs at least one input", nameof(inputs));
        // Traced once here in inference mode to learn the output shapes; models replay the call per mode.
        Output[] values;
        using (Trace.Begin(training: false))
            values = Apply(inputs.Select(t => t.Value).ToArray(), training: false);
        var call = new LayerCall(this, inputs);
        call.Outputs = values.Select((v, i) => new KerasTensor(v, call, i)).ToArray();
        return call.Outputs;
    }

    /// <summary>Runs the layer's forward pass on graph outputs (building it on first use); the layer must produce one output.</summary>
    public Output Apply(Output input, bool training = false)
    {
        var outputs = Apply([input], training);
        return outputs.Length == 1 ? outputs[0]
            : throw new InvalidOperationException($"layer '{Name}' produced {outputs.Length} outputs; use the Output[] overload");
    }

    /// <summary>Runs the layer's forward pass on graph outputs, building its weights on first use.</summary>
    /// <exception cref="InvalidOperationException">The inputs belong to a different graph than the layer's weights.</exception>
    public Output[] Apply(Output[] inputs, bool training = false)
    {
        if (inputs.Length == 0) throw new ArgumentException($"layer '{Name}' needs at least one input", nameof(inputs));
        var g = inputs[0].Graph;
        if (_graph is null) _graph = g;
        else if (!ReferenceEquals(_graph, g))
            throw new InvalidOperationException($"layer '{Name}' was built in another graph; a layer can only be used in one graph (create a new layer, or build models after the same Keras.ClearSession())");
        var caller = Trace.Caller;
        if (caller is not null && !ReferenceEquals(caller, this) && !caller._sublayers.Contains(this)) caller._sublayers.Add(this);
        Trace.Enter(this);
        try
        {
            using (g.NameScope(Name))
            {
                if (!Built)
                {
                    _weightDType = inputs[0].DType.IsFloating() ? inputs[0].DType : DType.Float32;
                    Build(inputs.Select(i => i.Shape).ToArray());
                    Built = true;
                }
                var masks = inputs.Select(Masks.Get).ToArray();
                var outer = _inputMasks;
                _inputMasks = masks;
                Output[] outputs;
                try
                {
                    outputs = Call(inputs, training);
                }
                finally
                {
                    _inputMasks = outer;
                }
                // Keras's mask propagation, for the common single-input, single-output layer; multi-output layers set theirs,
                // and a model's output keeps the mask its last inner layer attached (Keras's functional compute_mask).
                if (inputs.Length == 1 && outputs.Length == 1 && outputs[0] != inputs[0] && this is not Model)
                    Masks.Set(outputs[0], ComputeMask(inputs[0], masks[0]));
                LastOutputShapes = outputs.Select(o => o.Shape).ToArray();
                return outputs;
            }
        }
        finally
        {
            Trace.Exit();
        }
    }

    /// <summary>
    /// Whether the layer passes a mask from its input to its output unchanged (Keras supports_masking): true for
    /// element-wise and per-step layers (Dense, Dropout, Activation, TimeDistributed); a layer that does not drops it.
    /// </summary>
    public virtual bool SupportsMasking => false;

    /// <summary>
    /// The boolean [batch, time] mask of the output (Keras compute_mask), given the input and its mask: by default the
    /// input's mask when <see cref="SupportsMasking"/>, else none. Embedding(mask_zero) and Masking create one.
    /// </summary>
    protected internal virtual Output? ComputeMask(Output input, Output? mask) => SupportsMasking ? mask : null;

    /// <summary>The mask attached to input <paramref name="i"/> of the running call (null when it has none), for Call to use.</summary>
    protected Output? InputMask(int i = 0) => _inputMasks is { } m && i < m.Length ? m[i] : null;

    /// <summary>The mask attached to a tensor by the layer that produced it (null when none).</summary>
    protected static Output? MaskOf(Output t) => Masks.Get(t);

    /// <summary>Attaches <paramref name="mask"/> to <paramref name="t"/> (for layers with several outputs).</summary>
    protected static void SetMask(Output t, Output? mask) => Masks.Set(t, mask);

    /// <summary>Creates the weights once the input shapes are known; the default forwards a single shape to <see cref="Build(Shape)"/>.</summary>
    protected virtual void Build(Shape[] inputShapes)
    {
        if (inputShapes.Length == 1) Build(inputShapes[0]);
    }

    /// <summary>Creates the weights for a single-input layer; the default creates none.</summary>
    protected virtual void Build(Shape inputShape)
    {
    }

    /// <summary>The forward pass of a single-input, single-output layer.</summary>
    /// <param name="inputs">The input (batch dimension first).</param>
    /// <param name="training">True when building the training version: dropout, noise and training-only losses are active.</param>
    protected virtual Output Call(Output inputs, bool training) =>
        throw new NotSupportedException($"{GetType().Name} '{Name}' must override Call(Output, bool) or Call(Output[], bool)");

    /// <summary>The forward pass in general form; the default accepts one input and calls <see cref="Call(Output, bool)"/>.</summary>
    protected virtual Output[] Call(Output[] inputs, bool training) =>
        inputs.Length == 1 ? [Call(inputs[0], training)]
        : throw new ArgumentException($"{GetType().Name} '{Name}' takes one input, got {inputs.Length}", nameof(inputs));

    /// <summary>
    /// Creates a weight variable "<c>layer/name</c>" in the input's graph; call it from <see cref="Build(Shape)"/>.
    /// The dtype defaults to the first input's floating dtype (float32 for integer inputs), so a layer fed float64 computes in float64.
    /// </summary>
    protected Variable AddWeight(string name, Shape shape, Initializer initializer, bool trainable = true, DType? dtype = null)
    {
        if (_graph is null) throw new InvalidOperationException($"layer '{Name}': AddWeight can only be called from Build");
        if (_weights.Any(w => w.Name == name)) throw new ArgumentException($"layer '{Name}' already has a weight named '{name}'", nameof(name));
        var v = _graph.Variable(shape, dtype ?? _weightDType, initializer, name, trainable);
        _weights.Add((name, v));
        return v;
    }

    /// <summary>
    /// Adds a scalar loss term (Keras add_loss), such as a VAE's KL divergence: it is added to the
    /// compiled loss of the model whose forward pass is being built. Non-scalar values are averaged.
    /// </summary>
    protected void AddLoss(Output loss)
    {
        if (!loss.DType.IsFloating()) throw new ArgumentException($"layer '{Name}': a loss must be floating, got {loss.DType.Name()} {loss.Shape}", nameof(loss));
        if (loss.Shape.Rank != 0) loss = loss.Graph.ReduceMean(loss);
        if (Trace.Current is { } trace) trace.Losses.Add(loss);
        else _untracedLosses.Add(loss);
    }

    /// <summary>
    /// Adds a state update (Keras add_update), such as batch normalisation's moving-average assignments: the training
    /// step of the model whose forward pass is being built runs it together with the optimizer's update, once per step.
    /// Add updates only when building the training pass (they are not run by evaluation or prediction).
    /// </summary>
    protected void AddUpdate(Operation update)
    {
        ArgumentNullException.ThrowIfNull(update);
        if (Trace.Current is { } trace) trace.Updates.Add(update);
        else _untracedUpdates.Add(update);
    }

    /// <summary>Every weight with its save name "<c>layer/weight</c>", own first, then sublayers' (each once).</summary>
    internal IEnumerable<(string Name, Variable Variable)> NamedWeights()
    {
        var seen = new HashSet<Variable>();
        foreach (var (layer, name, v) in WalkWeights(this))
            if (seen.Add(v)) yield return ($"{layer.Name}/{name}", v);
    }

    private static IEnumerable<(Layer Layer, string Name, Variable V)> WalkWeights(Layer layer)
    {
        foreach (var (n, v) in layer._weights) yield return (layer, n, v);
        foreach (var s in layer.EnumerateSublayers())
            foreach (var w in WalkWeights(s)) yield return w;
    }

    /// <summary>Layers whose weights belong to this one: those called inside Call, plus any a subclass holds in another way (a functional model's layers).</summary>
    protected internal virtual IEnumerable<Layer> EnumerateSublayers() => _sublayers;

    private List<Variable> CollectWeights(bool trainable)
    {
        var result = new List<Variable>();
        var seen = new HashSet<Variable>();
        Collect(this, frozen: false);
        return result;

        void Collect(Layer layer, bool frozen)
        {
            var isFrozen = frozen || !layer.Trainable;
            foreach (var (_, v) in layer._weights)
                if ((v.Trainable && !isFrozen) == trainable && seen.Add(v)) result.Add(v);
            foreach (var s in layer.EnumerateSublayers()) Collect(s, isFrozen);
        }
    }

    /// <summary>"GaussianNoise" → "gaussian_noise".</summary>
    internal static string DefaultName(string typeName)
    {
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < typeName.Length; i++)
        {
            var c = typeName[i];
            if (char.IsUpper(c) && i > 0 && (char.IsLower(typeName[i - 1]) || (i + 1 < typeName.Length && char.IsLower(typeName[i + 1])))) sb.Append('_');
            sb.Append(char.ToLowerInvariant(c));
        }
        return sb.ToString();
    }

    /// <inheritdoc/>
    public override string ToString() => $"{GetType().Name} '{Name}'";
}
