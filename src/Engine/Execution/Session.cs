using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// Runs a <see cref="Graph"/> on a <see cref="Device"/>. Each distinct request (fetches, targets,
/// feed shapes) is compiled once into a plan, with a static memory plan, and reused. Variables live
/// in the session. Not thread-safe: use one session per thread.
/// </summary>
/// <remarks>
/// Execution path: <see cref="Run(Output[], IReadOnlyDictionary{Output, Tensor}?, Operation[])"/> finds
/// or compiles the plan, makes sure the session's arenas hold its memory plan, checks fed and constant
/// values on the host, enqueues the feed uploads and every kernel on the backend's stream, and then
/// waits once: to download the error flags (only when the plan has device-side checks) and the
/// fetches. A run with nothing to fetch does not wait at all. On a backend with whole-step graphs (CUDA,
/// <see cref="SessionOptions.CudaGraphs"/>) the kernels of a plan's later runs are recorded and issued as one graph,
/// between the uploads and the downloads (Session.Graphs.cs).
/// </remarks>
public sealed partial class Session : IDisposable
{
    private readonly Dictionary<PlanKey, Plan> _plans = [];
    private readonly IBackend _backend;
    private readonly KernelContext _kernelContext = new();
    private readonly Dictionary<int, DeviceBuffer> _arenas = [];
    private readonly Dictionary<int, long> _arenaBytes = [];
    private int _arenaGeneration;
    private bool _disposed;

    /// <summary>Creates a session on <paramref name="device"/> (default <see cref="Device.Cpu"/>).</summary>
    public Session(Graph graph, Device? device = null, SessionOptions? options = null)
    {
        Graph = graph;
        Device = device ?? Device.Cpu;
        Options = options ?? SessionOptions.Default;
        // NABLA_FUSION=0 turns fusion off for every session, to measure or debug without changing code (as NABLA_DEFER_EXECUTION).
        if (Environment.GetEnvironmentVariable("NABLA_FUSION") == "0") Options = Options with { Fusion = false };
        var epilogues = Environment.GetEnvironmentVariable("NABLA_EPILOGUES");
        if (epilogues is "0" or "1") Options = Options with { OutputEpilogues = epilogues == "1" };
        var codegen = Environment.GetEnvironmentVariable("NABLA_FUSION_CODEGEN");
        if (codegen is "0" or "1") Options = Options with { FusedCodegen = codegen == "1" };
        var graphs = Environment.GetEnvironmentVariable("NABLA_CUDA_GRAPHS");
        if (graphs is "0" or "1") Options = Options with { CudaGraphs = graphs == "1" };
        var backend = Device.CreateBackend(Options);
        // Deferral makes a host backend behave like a device stream; wrapping a real one would only hide its whole-step
        // graphs (IStepGraphs) from the session.
        var defer = Options.DeferExecution || Environment.GetEnvironmentVariable("NABLA_DEFER_EXECUTION") == "1";
        _backend = defer && !backend.QueuesOnDeviceStream ? new DeferredBackend(backend) : backend;
        State = new SessionState(_backend);
    }

    /// <summary>The graph this session runs.</summary>
    public Graph Graph { get; }

    /// <summary>The device kernels run on.</summary>
    public Device Device { get; }

    /// <summary>How this session executes.</summary>
    public SessionOptions Options { get; }

    /// <summary>Variables and other state owned by this session.</summary>
    public SessionState State { get; }

    /// <summary>
    /// When set (e.g. <c>session.KernelTimings = []</c>), each Run clears it and records every executed
    /// kernel's wall time in plan order (TensorFlow's RunMetadata step stats). Null (the default) records
    /// nothing. On an asynchronous backend the time is that of enqueueing; on the host it is the kernel's.
    /// </summary>
    public List<KernelTiming>? KernelTimings { get; set; }

    /// <summary>The backend (for tests and benchmarks that inspect the stream).</summary>
    internal IBackend Backend => _backend;

    /// <summary>Number of distinct compiled plans (for tests and diagnostics).</summary>
    public int CompiledPlanCount => _plans.Count;

    /// <summary>What the backend's allocator has done since the session was created: allocations, bytes held, transfers each way.</summary>
    public AllocatorStats MemoryStats => _backend.Memory.Stats;

    /// <summary>Bytes the session's arenas hold: the largest memory plan of any request run so far.</summary>
    public long ArenaBytes => _arenaBytes.Values.Sum();

    /// <summary>Allocations and transfers of the last <see cref="Run(Output[], IReadOnlyDictionary{Output, Tensor}?, Operation[])"/>, or null before the first.</summary>
    public RunStatistics? LastRun { get; private set; }

    /// <summary>
    /// Compiles (or finds) the plan of a request without running it, so its memory is known in advance:
    /// <c>session.Plan([loss], feeds, train).PeakBytes</c>.
    /// </summary>
    /// <exception cref="FeedException">A needed placeholder is not fed, or a feed has the wrong dtype or shape.</exception>
    public PlanInfo Plan(Output[] fetches, IReadOnlyDictionary<Output, Tensor>? feeds = null, params Operation[] targets)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        feeds ??= new Dictionary<Output, Tensor>();
        CheckFeeds(feeds);
        return new PlanInfo(GetPlan(fetches, targets, feeds));
    }

    /// <summary>Evaluates <paramref name="fetches"/> after running <paramref name="targets"/>, with placeholders (or any outputs) replaced by <paramref name="feeds"/>.</summary>
    /// <exception cref="FeedException">A needed placeholder is not fed, or a feed has the wrong dtype or shape.</exception>
    /// <exception cref="InvalidArgumentException">A run-time value is invalid (index out of range, uninitialised variable).</exception>
    public Tensor[] Run(Output[] fetches, IReadOnlyDictionary<Output, Tensor>? feeds = null, params Operation[] targets)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        feeds ??= new Dictionary<Output, Tensor>();
        CheckFeeds(feeds);
        var plan = GetPlan(fetches, targets, feeds);
        var before = _backend.Memory.Stats;
        var run = Execute(plan, (feed, buffer) => _backend.Memory.Upload(feed.Data, buffer), feeds);
        RaiseDeviceErrors(plan, run);
        var result = new Tensor[fetches.Length];
        for (var i = 0; i < fetches.Length; i++)
        {
            var host = fetches[i].DType.NewArray(plan.FetchShapes[i].Size);
            _backend.Memory.Download(run.Slots[plan.FetchSlots[i]]!, host);
            result[i] = new Tensor(host, plan.FetchShapes[i], fetches[i].DType);
        }
        LastRun = new RunStatistics(before, _backend.Memory.Stats, plan.Memory.PeakBytes) { Kernels = plan.KernelCount, Graph = _lastGraph.Mode, GraphNote = _lastGraph.Reason };
        return result;
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
        _backend.Memory.Download(State.ReadVariable(variable.Value.Op), host);
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
        _backend.Memory.Upload(value.Data, State.VariableForWrite(variable.Value.Op, variable.DType, variable.Shape.Size));
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
        ObjectDisposedException.ThrowIf(_disposed, this);
        var plan = GetPlan(fetches, [], feeds.Select(kv => new KeyValuePair<Output, Shape>(kv.Key, kv.Value.Shape)));
        shapes = plan.FetchShapes;
        var run = Execute(plan, (feed, buffer) => _backend.Memory.WriteFloat64(feed.Values, buffer), feeds);
        RaiseDeviceErrors(plan, run);
        return plan.FetchSlots.Select(s => _backend.Memory.ReadFloat64(run.Slots[s]!)).ToArray();
    }

    private RunState Execute<TFeed>(Plan plan, Action<TFeed, DeviceBuffer> upload, IReadOnlyDictionary<Output, TFeed> feeds)
    {
        var run = Bind(plan);
        PreRunChecks(plan, feeds);
        foreach (var (output, slot) in plan.FeedSlots)
        {
            var feed = feeds[output];
            // A large input read only by GEMM/convolution kernels is read where it is (no copy into the arena), when the backend can.
            if (feed is Tensor t && plan.BorrowableFeeds.Contains(slot) && _backend.Memory.Borrow(t.Data, t.DType) is { } borrowed
                && borrowed.Length == run.Planned[slot]!.Length)
            {
                run.Slots[slot] = borrowed;
                continue;
            }
            run.Slots[slot] = run.Planned[slot];
            upload(feed, run.Slots[slot]!);
        }
        // From here to the last step the run's device work may be recorded and issued as one graph (Session.Graphs.cs).
        var graphs = BeginStepGraph(plan);
        try
        {
            RunSteps(plan, run);
        }
        catch (Exception) when (graphs is not null)
        {
            // Issue what the steps before the failure enqueued, as an eager run would have, then report the failure.
            graphs.AbandonRecording();
            throw;
        }
        EndStepGraph(plan, graphs);
        return run;
    }

    /// <summary>Enqueues the run's steps: the error flags' reset, every kernel (with its epilogue) and the device-side checks.</summary>
    private void RunSteps(Plan plan, RunState run)
    {
        if (run.Flags is { } flags) _backend.Fill(flags, 0);
        var ctx = _kernelContext;
        ctx.Run = run;
        var stats = KernelTimings;
        stats?.Clear();
        var epilogueDone = false;
        foreach (var step in plan.Steps)
        {
            if (step.RunsAsEpilogue && epilogueDone)
            {
                // Its producer, the step before, ran it.
                epilogueDone = false;
                continue;
            }
            ctx.Step = step;
            var start = stats is null ? 0 : System.Diagnostics.Stopwatch.GetTimestamp();
            foreach (var c in step.ChecksBefore) _backend.Check(c.Kind, ctx.Input(c.Input), c.Bound, run.Flags!, c.Site);
            if (step.Epilogue is { Fusion: { } epilogue } fusedStep)
            {
                // Arm binds the fused step's buffers and draws its random counters once; if the backend has no epilogues, or
                // the kernel did not take it (it is still armed), the program runs here, right after the kernel, on those.
                ctx.Step = fusedStep;
                var armed = epilogue.Arm(ctx);
                ctx.Step = step;
                step.Execute(ctx);
                if (!armed || _backend.DisarmOutputEpilogue())
                {
                    ctx.Step = fusedStep;
                    epilogue.Launch(ctx);
                    ctx.Step = step;
                }
                epilogueDone = true;
            }
            else step.Execute(ctx);
            foreach (var c in step.ChecksAfter) _backend.Check(c.Kind, run.Slots[step.OutputSlots[-1 - c.Input]]!, c.Bound, run.Flags!, c.Site);
            if (stats is not null) stats.Add(new KernelTiming(step.KernelName, step.KernelType, System.Diagnostics.Stopwatch.GetElapsedTime(start).TotalMicroseconds));
        }
    }

    /// <summary>
    /// Makes the session's arenas large enough for <paramref name="plan"/> (allocating only when a plan
    /// needs more than any before it) and points the plan's slots at their places in them.
    /// </summary>
    private RunState Bind(Plan plan)
    {
        foreach (var (arena, bytes) in plan.Memory.ArenaBytes)
        {
            if (_arenaBytes.TryGetValue(arena, out var have) && have >= bytes) continue;
            if (_arenas.Remove(arena, out var old))
            {
                // Forget the old arena before allocating its successor: when that fails (out of device memory) the next run
                // allocates again, instead of binding views of freed memory, and the session stays usable.
                _arenaBytes.Remove(arena);
                _arenaGeneration++;
                _backend.Memory.Free(old);
            }
            _arenas[arena] = _backend.Memory.AllocateArena(arena, bytes);
            _arenaBytes[arena] = bytes;
            _arenaGeneration++;
        }
        if (plan.RunState is { } bound && bound.ArenaGeneration == _arenaGeneration) return bound;
        var slots = new DeviceBuffer?[plan.SlotCount];
        for (var s = 0; s < slots.Length; s++)
        {
            var arena = plan.Memory.Arenas[s];
            if (arena < 0) continue;
            var (dtype, length) = plan.SlotTypes[s];
            slots[s] = _backend.Memory.View(_arenas[arena], plan.Memory.Offsets[s], dtype, length);
        }
        var flags = plan.RunState?.Flags ?? (plan.Checks.Length > 0 ? _backend.Memory.Allocate(DType.Int64, 2 * plan.Checks.Length) : null);
        plan.RunState = new RunState(_backend, State, slots, flags, _arenaGeneration);
        return plan.RunState;
    }

    /// <summary>Reads the run's error flags (one wait, only for plans with device-side checks) and raises the first failure in plan order.</summary>
    private void RaiseDeviceErrors(Plan plan, RunState run)
    {
        if (run.Flags is not { } flags) return;
        var values = new long[flags.Length];
        _backend.Memory.Download(flags, values);
        foreach (var c in plan.Checks)
            if (values[2 * c.Site] != 0)
                throw new InvalidArgumentException(c.Message(values[2 * c.Site] - 1, values[2 * c.Site + 1]));
    }

    private static void PreRunChecks<TFeed>(Plan plan, IReadOnlyDictionary<Output, TFeed> feeds)
    {
        foreach (var step in plan.Steps)
        {
            // A fused step holds only floating element-wise nodes, none of which checks host values.
            if (step.Fusion is not null || step.Op.Def.PreRunCheck is not { } check) continue;
            check(step.Op, step.InputShapes, i =>
            {
                var input = step.Op.Inputs[i];
                if (feeds.TryGetValue(input, out var f))
                {
                    // Every fed value is checked here: Prepare declares device-side checks only for inputs that were not fed (PlanStep.HostVisibleInputs).
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
            if (output.Op is null) throw new FeedException("a feed key is default(Output), not an output of this session's graph");
            ArgumentNullException.ThrowIfNull(tensor, nameof(feeds));
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
            plan = Nabla.Plan.Compile(fetches, targets, feedShapes.ToDictionary(kv => kv.Key, kv => kv.Value), _backend, Options);
            _plans[key] = plan;
        }
        return plan;
    }

    /// <summary>Frees variables, constants and the arenas.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _backend.Synchronize();
        State.Dispose();
        foreach (var p in _plans.Values)
            if (p.RunState?.Flags is { } f) _backend.Memory.Free(f);
        foreach (var a in _arenas.Values) _backend.Memory.Free(a);
        _arenas.Clear();
        try { DisposeStepGraphs(); }
        finally { _backend.Dispose(); }
    }
}

/// <summary>One executed kernel of a run: node name, op type and wall time in microseconds.</summary>
public readonly record struct KernelTiming(string Node, string OpType, double Microseconds);

/// <summary>What one run did to memory: allocations and transfers in each direction, and the planned peak.</summary>
/// <param name="Allocations">Buffers allocated during the run (variables and constants on first use, arenas when a larger plan arrives; 0 in a steady training loop).</param>
/// <param name="Uploads">Host-to-device transfers (feeds, and constants on first use).</param>
/// <param name="Downloads">Device-to-host transfers (the fetches, plus the error flags when the plan has device-side checks).</param>
/// <param name="DownloadBytes">Bytes downloaded.</param>
/// <param name="PlannedPeakBytes">The plan's memory plan: bytes of intermediate values at the step's peak.</param>
public readonly record struct RunStatistics(long Allocations, long Uploads, long Downloads, long DownloadBytes, long PlannedPeakBytes)
{
    internal RunStatistics(AllocatorStats before, AllocatorStats after, long planned)
        : this(after.Allocations - before.Allocations, after.Uploads - before.Uploads, after.Downloads - before.Downloads,
            after.DownloadBytes - before.DownloadBytes, planned) { }

    /// <summary>Kernels the run enqueued: steps that launch device work, a fused element-wise step counting once (variable and constant reads, aliases and NoOps launch nothing).</summary>
    public int Kernels { get; init; }

    /// <summary>
    /// How the run's device work was issued: <see cref="StepGraphMode.Eager"/> on the host backends, with
    /// <see cref="SessionOptions.CudaGraphs"/> off, and on a plan's first run; otherwise as one CUDA graph, captured,
    /// recaptured or replayed (<see cref="StepGraphMode"/>), or eagerly when the plan cannot be graphed (see <see cref="GraphNote"/>).
    /// </summary>
    public StepGraphMode Graph { get; init; }

    /// <summary>Why the run's plan is not issued as a graph (the call that stopped its recording, or arguments that change every run); null otherwise.</summary>
    public string? GraphNote { get; init; }
}
