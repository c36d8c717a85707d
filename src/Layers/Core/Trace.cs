namespace Nabla.Layers;

/// <summary>
/// The state of one forward pass being built into the graph: whether it is the training or the
/// inference version, the extra losses layers add (<see cref="Layer.AddLoss"/>), and the stack of
/// layers being called, from which nested layers are tracked without reflection.
/// </summary>
internal sealed class Trace : IDisposable
{
    [ThreadStatic] private static Trace? t_current;
    [ThreadStatic] private static Stack<Layer>? t_calls;

    private readonly Trace? _outer;

    private Trace(bool training)
    {
        Training = training;
        _outer = t_current;
        t_current = this;
    }

    public bool Training { get; }

    public List<Output> Losses { get; } = [];

    /// <summary>State updates layers add (<see cref="Layer.AddUpdate"/>): a training step runs them with the optimizer's update.</summary>
    public List<Operation> Updates { get; } = [];

    public static Trace? Current => t_current;

    /// <summary>Starts collecting a forward pass; dispose to end it.</summary>
    public static Trace Begin(bool training) => new(training);

    public void Dispose() => t_current = _outer;

    /// <summary>The layer whose Call is running on this thread, if any (the parent of a nested call).</summary>
    public static Layer? Caller => t_calls is { Count: > 0 } s ? s.Peek() : null;

    /// <summary>
    /// Whether a layer being called on this thread (the running one or any layer whose Call it is nested in) is frozen:
    /// a frozen model freezes the layers inside it, as Keras's recursive trainable = False does.
    /// </summary>
    public static bool InFrozenLayer => t_calls is { } s && s.Any(l => !l.Trainable);

    public static void Enter(Layer layer) => (t_calls ??= new Stack<Layer>()).Push(layer);

    public static void Exit() => t_calls!.Pop();
}
