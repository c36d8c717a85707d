namespace Nabla.Optimizers;

/// <summary>
/// Base of the Keras-compatible optimizers (keras/src/optimizers/base_optimizer.py): it owns an int64
/// iteration counter, a float64 learning-rate variable and per-variable slot variables, and adds one
/// fused update op per variable (<see cref="Graph.ApplyAdam"/> and friends) to the graph.
/// </summary>
/// <remarks>
/// An optimizer binds to the graph of the first variables it sees and then serves only that graph;
/// several optimizers on disjoint variable lists may share one graph (a GAN's generator and
/// discriminator). Its own variables (<see cref="Variables"/>) are created lazily, so run their
/// initializers (or <see cref="Graph.GlobalVariablesInitializer"/>) after building the training op.
/// </remarks>
public abstract class Optimizer
{
    private readonly List<Variable> _variables = [];
    private readonly Dictionary<Variable, Variable[]> _slots = new(ReferenceEqualityComparer.Instance);
    private Graph? _graph;
    private Variable? _iterations;
    private Variable? _learningRateVariable;
    private Output _learningRateFeed;
    private Operation? _assignLearningRate;
    private double _learningRate;

    private protected Optimizer(string name, double learningRate)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        Name = name;
        LearningRate = learningRate;
    }

    /// <summary>Prefix of the optimizer's node and variable names ("Adam").</summary>
    public string Name { get; }

    /// <summary>
    /// The initial learning rate. It can be changed until the optimizer builds its variables; after
    /// that the live value is a variable in each session: use <see cref="SetLearningRate"/>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Negative, NaN or infinite.</exception>
    /// <exception cref="InvalidOperationException">Set after the optimizer was built.</exception>
    public double LearningRate
    {
        get => _learningRate;
        set
        {
            if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, $"optimizer '{Name}': the learning rate must be finite and ≥ 0");
            if (_graph is not null)
                throw new InvalidOperationException($"optimizer '{Name}' is built: its learning rate is now the variable '{_learningRateVariable!.Name}' in each session; use SetLearningRate(session, value)");
            _learningRate = value;
        }
    }

    /// <summary>The graph this optimizer is bound to, or null before it is built.</summary>
    public Graph? Graph => _graph;

    /// <summary>Number of applied steps: an int64 scalar variable incremented once per run of an <see cref="ApplyGradients"/> op.</summary>
    /// <exception cref="InvalidOperationException">The optimizer is not built yet.</exception>
    public Variable Iterations => _iterations ?? throw NotBuilt();

    /// <summary>The learning rate as a float64 scalar variable (initialised to <see cref="LearningRate"/>).</summary>
    /// <exception cref="InvalidOperationException">The optimizer is not built yet.</exception>
    public Variable LearningRateVariable => _learningRateVariable ?? throw NotBuilt();

    /// <summary>
    /// Everything the optimizer stores, for initialising and saving: the iteration counter, the
    /// learning rate, any per-optimizer state, then each variable's slots in the order they were built.
    /// </summary>
    public IReadOnlyList<Variable> Variables => _variables;

    /// <summary>The slot variables of <paramref name="variable"/> (empty for plain SGD).</summary>
    /// <exception cref="ArgumentException">The optimizer has not been built for that variable.</exception>
    public IReadOnlyList<Variable> GetSlots(Variable variable) =>
        _slots.TryGetValue(variable, out var s) ? s : throw new ArgumentException($"optimizer '{Name}' has no slots for variable '{variable.Name}'", nameof(variable));

    /// <summary>Creates the optimizer's variables and the slots of <paramref name="variables"/> not seen before (keras Optimizer.build).</summary>
    /// <exception cref="InvalidOperationException">The variables belong to another graph than the one the optimizer is bound to.</exception>
    /// <exception cref="ArgumentException">A variable is not float32 or float64.</exception>
    public void Build(IEnumerable<Variable> variables)
    {
        foreach (var v in variables)
        {
            if (!v.DType.IsFloating())
                throw new ArgumentException($"optimizer '{Name}': variable '{v.Name}' is {v.DType.Name()}; only float32 and float64 variables can be optimised", nameof(variables));
            Bind(v.Graph);
            if (_slots.ContainsKey(v)) continue;
            var slots = SlotNames.Select(s => v.Graph.Variable(v.Shape, v.DType, Initializer.Zeros, $"{v.Name}/{Name}/{s}", trainable: false)).ToArray();
            _slots[v] = slots;
            _variables.AddRange(slots);
        }
    }

    /// <summary>
    /// Adds one update op per (gradient, variable) pair and an increment of <see cref="Iterations"/>;
    /// running the returned op performs one step. Every update sees the same step number t = iterations + 1.
    /// </summary>
    /// <param name="gradsAndVars">Pairs of a gradient and the float variable it updates (each variable once).</param>
    /// <param name="name">Name scope of the new nodes (default <see cref="Name"/>).</param>
    /// <exception cref="ArgumentException">The list is empty or names a variable twice.</exception>
    /// <exception cref="ShapeException">A gradient's shape or dtype differs from its variable's.</exception>
    public Operation ApplyGradients(IReadOnlyList<(Output Grad, Variable Variable)> gradsAndVars, string? name = null)
    {
        if (gradsAndVars.Count == 0) throw new ArgumentException($"optimizer '{Name}': no gradients to apply", nameof(gradsAndVars));
        var seen = new HashSet<Variable>(ReferenceEqualityComparer.Instance);
        foreach (var (_, v) in gradsAndVars)
            if (!seen.Add(v)) throw new ArgumentException($"optimizer '{Name}': variable '{v.Name}' appears twice", nameof(gradsAndVars));
        Build(seen);
        var g = _graph!;
        using (g.NameScope(name ?? Name))
        {
            // Sessions run nodes in creation order, and a variable read aliases the variable's buffer:
            // t is copied out of the counter here, before the increment built last.
            var step = g.Add(g.Cast(_iterations!.Value, DType.Float64, "iterations_float"), Hyper(g, 1, "one"), "step");
            var update = BeginStep(g, _learningRateVariable!.Value, step);
            var ops = new List<Operation>();
            foreach (var (grad, v) in gradsAndVars)
                ops.Add(update(v, grad, _slots[v]).Op);
            ops.AddRange(EndStep(g));
            ops.Add(_iterations.AssignAdd(g.Constant(Tensor.Scalar(1L), "one_step"), "increment_iterations").Op);
            return g.Group(ops, "update");
        }
    }

    /// <summary>
    /// Differentiates <paramref name="loss"/> with respect to <paramref name="vars"/> (default: the graph's
    /// trainable variables) and applies the gradients. As Keras, variables the loss does not depend on
    /// are skipped.
    /// </summary>
    /// <exception cref="ArgumentException">There are no variables.</exception>
    /// <exception cref="GradientException">The loss depends on none of the variables.</exception>
    public Operation Minimize(Output loss, IEnumerable<Variable>? vars = null)
    {
        var list = (vars ?? loss.Graph.TrainableVariables).ToArray();
        if (list.Length == 0) throw new ArgumentException($"optimizer '{Name}': no variables to minimise '{loss.Name}' over", nameof(vars));
        var grads = loss.Graph.Gradients([loss], list.Select(v => v.Value).ToArray(), null, UnconnectedGradients.None);
        var pairs = new List<(Output, Variable)>();
        for (var i = 0; i < list.Length; i++)
            if (grads[i] is { } gr) pairs.Add((gr, list[i]));
        if (pairs.Count == 0)
            throw new GradientException($"optimizer '{Name}': '{loss.Name}' does not depend on any of the variables {string.Join(", ", list.Select(v => $"'{v.Name}'"))}");
        return ApplyGradients(pairs);
    }

    /// <summary>Sets the learning rate used by later steps in <paramref name="session"/> (Keras's optimizer.learning_rate = value).</summary>
    /// <exception cref="InvalidOperationException">The optimizer is not built yet.</exception>
    /// <exception cref="ArgumentException">The session runs another graph.</exception>
    public void SetLearningRate(Session session, double value)
    {
        if (_assignLearningRate is null) throw NotBuilt();
        if (!ReferenceEquals(session.Graph, _graph)) throw new ArgumentException($"optimizer '{Name}' is bound to another graph than this session's", nameof(session));
        if (!double.IsFinite(value) || value < 0) throw new ArgumentOutOfRangeException(nameof(value), value, $"optimizer '{Name}': the learning rate must be finite and ≥ 0");
        session.Run(_assignLearningRate, new Dictionary<Output, Tensor> { [_learningRateFeed] = Tensor.Scalar(value) });
    }

    /// <summary>The learning rate currently in <paramref name="session"/>.</summary>
    public double GetLearningRate(Session session) => session.Run(LearningRateVariable.Value).ToDoubleArray()[0];

    /// <summary>Creates an optimizer with Keras's defaults from its name: "sgd", "adam", "nadam" or "rmsprop" (any case).</summary>
    /// <exception cref="ArgumentException">Any other name.</exception>
    public static Optimizer FromName(string name) => name?.ToLowerInvariant() switch
    {
        "sgd" => new SGD(),
        "adam" => new Adam(),
        "nadam" => new Nadam(),
        "rmsprop" => new RMSprop(),
        _ => throw new ArgumentException($"unknown optimizer '{name}'; valid names: sgd, adam, nadam, rmsprop", nameof(name)),
    };

    /// <summary>Names of the slots each variable gets, in the order passed to the update builder.</summary>
    private protected abstract string[] SlotNames { get; }

    /// <summary>Creates per-optimizer state variables (Nadam's u-product); called once, when the optimizer binds to a graph.</summary>
    private protected virtual IEnumerable<Variable> CreateState(Graph g) => [];

    /// <summary>Builds the per-step scalars shared by all updates and returns the per-variable update builder.</summary>
    private protected abstract Func<Variable, Output, Variable[], Output> BeginStep(Graph g, Output learningRate, Output step);

    /// <summary>Ops that run after every variable's update and before the iteration increment.</summary>
    private protected virtual IEnumerable<Operation> EndStep(Graph g) => [];

    /// <summary>A float64 scalar constant for a hyper-parameter.</summary>
    private protected static Output Hyper(Graph g, double value, string name) => g.Scalar(value, DType.Float64, name);

    private static void CheckRange(double value, double lo, double hi, bool hiInclusive, string what)
    {
        if (!(value >= lo && (hiInclusive ? value <= hi : value < hi)))
            throw new ArgumentOutOfRangeException(what, value, $"{what} must be in [{lo}, {hi}{(hiInclusive ? "]" : ")")}");
    }

    private protected static double Unit(double value, string what) { CheckRange(value, 0, 1, true, what); return value; }

    private protected static double Decay(double value, string what) { CheckRange(value, 0, 1, false, what); return value; }

    private protected static double NonNegative(double value, string what) { CheckRange(value, 0, double.MaxValue, true, what); return value; }

    private void Bind(Graph g)
    {
        if (_graph is not null)
        {
            if (!ReferenceEquals(_graph, g)) throw new InvalidOperationException($"optimizer '{Name}' is bound to another graph; create one optimizer per graph");
            return;
        }
        _graph = g;
        _iterations = g.Variable(Tensor.Scalar(0L), $"{Name}/iterations", trainable: false);
        _learningRateVariable = g.Variable(Tensor.Scalar(_learningRate), $"{Name}/learning_rate", trainable: false);
        _learningRateFeed = g.Placeholder(DType.Float64, Shape.Scalar, $"{Name}/learning_rate_value");
        _assignLearningRate = _learningRateVariable.Assign(_learningRateFeed, $"{Name}/set_learning_rate").Op;
        _variables.Add(_iterations);
        _variables.Add(_learningRateVariable);
        _variables.AddRange(CreateState(g));
    }

    private InvalidOperationException NotBuilt() =>
        new($"optimizer '{Name}' has no variables yet: call ApplyGradients, Minimize or Build first");
}
