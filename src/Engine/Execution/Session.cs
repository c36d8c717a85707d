using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Runs a <see cref="Graph"/> on a <see cref="Device"/>. Each distinct request (fetches, targets,
/// feed shapes) is compiled once into a <see cref="Plan"/> and reused. Variables live in the
/// session. Not thread-safe: use one session per thread.
/// </summary>
public sealed class Session : IDisposable
{
    private readonly Dictionary<PlanKey, Plan> _plans = [];
    private readonly IBackend _backend;
    private readonly BufferPool _pool;
    private readonly KernelContext _kernelContext = new();
    private bool _disposed;

    /// <summary>Creates a session on <paramref name="device"/> (default <see cref="Device.Cpu"/>).</summary>
    public Session(Graph graph, Device? device = null)
    {
        Graph = graph;
        Device = device ?? Device.Cpu;
        _backend = Device.CreateBackend();
        _pool = new BufferPool(_backend);
        State = new SessionState(_backend);
    }

    /// <summary>The graph this session runs.</summary>
    public Graph Graph { get; }

    /// <summary>The device kernels run on.</summary>
    public Device Device { get; }

    /// <summary>Variables and other state owned by this session.</summary>
    public SessionState State { get; }

    /// <summary>
    /// When set (e.g. <c>session.StepStats = []</c>), each Run clears it and records every executed
    /// kernel's wall time in plan order (TensorFlow's RunMetadata step stats). Null (the default) records nothing.
    /// </summary>
    public List<StepStat>? StepStats { get; set; }

    /// <summary>Number of distinct compiled plans (for tests and diagnostics).</summary>
    public int CompiledPlanCount => _plans.Count;

    /// <summary>Evaluates <paramref name="fetches"/> after running <paramref name="targets"/>, with placeholders (or any outputs) replaced by <paramref name="feeds"/>.</summary>
    /// <exception cref="FeedException">A needed placeholder is not fed, or a feed has the wrong dtype or shape.</exception>
    /// <exception cref="InvalidArgumentException">A run-time value is invalid (index out of range, uninitialised variable).</exception>
    public Tensor[] Run(Output[] fetches, IReadOnlyDictionary<Output, Tensor>? feeds = null, params Operation[] targets)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        feeds ??= new Dictionary<Output, Tensor>();
        CheckFeeds(feeds);
        var plan = GetPlan(fetches, targets, feeds);
        var run = Execute(plan, (output, feed) => { var b = _pool.Rent(feed.DType, feed.Size); _backend.Upload(feed.Data, b); return b; }, feeds);
        try
        {
            var result = new Tensor[fetches.Length];
            for (var i = 0; i < fetches.Length; i++)
            {
                var host = fetches[i].DType.NewArray(plan.FetchShapes[i].Size);
                _backend.Download(run.Slots[plan.FetchSlots[i]].Buffer!, host);
                result[i] = new Tensor(host, plan.FetchShapes[i], fetches[i].DType);
            }
            return result;
        }
        finally
        {
            run.ReleaseAll();
        }
    }

    /// <summary>Evaluates one output.</summary>
    public Tensor Run(Output fetch, IReadOnlyDictionary<Output, Tensor>? feeds = null) => Run([fetch], feeds)[0];

    /// <summary>Runs operations for their effect (initialisers, training steps).</summary>
    public void Run(Operation target, IReadOnlyDictionary<Output, Tensor>? feeds = null) => Run([], feeds, target);

    /// <summary>Whether <paramref name="variable"/> has a value in this session: its initializer ran, or it was assigned or loaded.</summary>
    /// <exception cref="ArgumentException">The variable belongs to another graph.</exception>
    public bool IsInitialized(Variable variable)
    {
        CheckVariable(variable);
        return State.IsInitialized(variable.Value.Op);
    }

    /// <summary>Copies the variable's current value to the host, without running the graph.</summary>
    /// <exception cref="InvalidArgumentException">The variable is not initialized in this session.</exception>
    /// <exception cref="ArgumentException">The variable belongs to another graph.</exception>
    public Tensor ReadVariable(Variable variable)
    {
        CheckVariable(variable);
        var host = variable.DType.NewArray(variable.Shape.Size);
        _backend.Download(State.ReadVariable(variable.Value.Op), host);
        return new Tensor(host, variable.Shape, variable.DType);
    }

    /// <summary>
    /// Sets the variable to <paramref name="value"/> by uploading it straight into the session's buffer,
    /// without running the graph. A variable never initialised becomes initialised (loading weights needs
    /// no initializer run).
    /// </summary>
    /// <exception cref="InvalidArgumentException">The value's dtype or shape differs from the variable's.</exception>
    /// <exception cref="ArgumentException">The variable belongs to another graph.</exception>
    public void AssignVariable(Variable variable, Tensor value)
    {
        CheckVariable(variable);
        ArgumentNullException.ThrowIfNull(value);
        if (value.DType != variable.DType || !value.Shape.Equals(variable.Shape))
            throw new InvalidArgumentException($"Variable '{variable.Name}' is {variable.DType.Name()} of shape {variable.Shape}; cannot assign a {value.DType.Name()} value of shape {value.Shape}");
        _backend.Upload(value.Data, State.VariableForWrite(variable.Value.Op, variable.DType, variable.Shape.Size));
    }

    private void CheckVariable(Variable variable)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(variable);
        if (!ReferenceEquals(variable.Graph, Graph)) throw new ArgumentException($"variable '{variable.Name}' belongs to another graph", nameof(variable));
    }

    /// <summary>Runs and returns fetched values as float64 at the backend's storage precision, with float64 feeds; used by <see cref="GradientCheck"/>.</summary>
    internal double[][] RunFloat64(Output[] fetches, IReadOnlyDictionary<Output, (Shape Shape, double[] Values)> feeds) => RunFloat64(fetches, feeds, out _);

    /// <summary>As above, also returning the fetches' run-time shapes.</summary>
    internal double[][] RunFloat64(Output[] fetches, IReadOnlyDictionary<Output, (Shape Shape, double[] Values)> feeds, out Shape[] shapes)
    {
        var plan = GetPlan(fetches, [], feeds.Select(kv => new KeyValuePair<Output, Shape>(kv.Key, kv.Value.Shape)));
        shapes = plan.FetchShapes;
        var run = Execute(plan, (output, feed) => { var b = _pool.Rent(output.DType, feed.Values.Length); _backend.WriteFloat64(feed.Values, b); return b; }, feeds);
        try
        {
            return plan.FetchSlots.Select(s => _backend.ReadFloat64(run.Slots[s].Buffer!)).ToArray();
        }
        finally
        {
            run.ReleaseAll();
        }
    }

    private RunState Execute<TFeed>(Plan plan, Func<Output, TFeed, DeviceBuffer> upload, IReadOnlyDictionary<Output, TFeed> feeds)
    {
        var run = plan.RunState ??= new RunState(_backend, State, _pool, plan.SlotCount);
        try
        {
            PreRunChecks(plan, feeds);
            foreach (var (output, slot) in plan.FeedSlots) run.SetSlot(slot, upload(output, feeds[output]));
            var ctx = _kernelContext;
            ctx.Run = run;
            var stats = StepStats;
            stats?.Clear();
            foreach (var step in plan.Steps)
            {
                ctx.Step = step;
                var start = stats is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
                step.Op.Def.Kernel(ctx);
                foreach (var s in step.FreeAfter) run.Release(s);
                if (stats is not null) stats.Add(new StepStat(step.Op.Name, step.Op.Type, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds));
            }
            return run;
        }
        catch
        {
            run.ReleaseAll();
            throw;
        }
    }

    private static void PreRunChecks<TFeed>(Plan plan, IReadOnlyDictionary<Output, TFeed> feeds)
    {
        foreach (var step in plan.Steps)
        {
            if (step.Op.Def.PreRunCheck is not { } check) continue;
            check(step.Op, step.InputShapes, i =>
            {
                var input = step.Op.Inputs[i];
                if (feeds.TryGetValue(input, out var f))
                {
                    // Every fed value is checked here: kernels skip re-checking inputs that were fed (Step.HostVisibleInputs).
                    if (f is Tensor t) return t;
                    if (f is ValueTuple<Shape, double[]> raw) return new Tensor(Tensor.FromDoubles(raw.Item2, input.DType), raw.Item1, input.DType);
                }
                return input.Op.Type == "Const" ? input.Op.Attrs.Get<Tensor>("value") : null;
            });
        }
    }

    private void CheckFeeds(IReadOnlyDictionary<Output, Tensor> feeds)
    {
        foreach (var (output, tensor) in feeds)
        {
            if (!ReferenceEquals(output.Graph, Graph)) throw new FeedException($"feed key '{output.Name}' belongs to another graph");
            if (tensor.DType != output.DType)
                throw new FeedException($"{output.Op} expects a {output.DType.Name()} feed of shape {output.Shape}, got {tensor.DType.Name()} {tensor.Shape}");
            if (!tensor.Shape.IsCompatibleWith(output.Shape))
                throw new FeedException($"{output.Op} expects a feed of shape {output.Shape}, got {tensor.Shape}");
        }
    }

    private Plan GetPlan(Output[] fetches, Operation[] targets, IReadOnlyDictionary<Output, Tensor> feeds) =>
        GetPlan(fetches, targets, feeds.Select(kv => new KeyValuePair<Output, Shape>(kv.Key, kv.Value.Shape)));

    private Plan GetPlan(Output[] fetches, Operation[] targets, IEnumerable<KeyValuePair<Output, Shape>> feedShapes)
    {
        foreach (var f in fetches)
            if (f.Op is null || !ReferenceEquals(f.Graph, Graph)) throw new ArgumentException("a fetch does not belong to this session's graph", nameof(fetches));
        var key = new PlanKey(fetches, targets, feedShapes);
        if (!_plans.TryGetValue(key, out var plan))
        {
            plan = Plan.Compile(fetches, targets, feedShapes.ToDictionary(kv => kv.Key, kv => kv.Value));
            _plans[key] = plan;
        }
        return plan;
    }

    /// <summary>Frees variables, constants and pooled buffers.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        State.Dispose();
        _pool.Dispose();
        _backend.Dispose();
    }
}

/// <summary>One executed kernel of a run: node name, op type and wall time in microseconds.</summary>
public readonly record struct StepStat(string Node, string OpType, double Microseconds);
