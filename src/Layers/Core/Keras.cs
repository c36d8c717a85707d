namespace Nabla.Layers;

/// <summary>
/// The Keras-like front end's context, per thread: the graph new layers and inputs are built in,
/// layer-name counters, and the device models run on (tf.keras.backend in TensorFlow 1.x, where
/// layers also lived in one default graph and one session).
/// </summary>
/// <remarks>
/// Every model and layer built on a thread shares one <see cref="Graph"/> and, through
/// <see cref="GraphRuntime"/>, one <see cref="Session"/>, so an encoder trained as part of an
/// autoencoder predicts with the trained weights. <see cref="ClearSession"/> starts a fresh graph;
/// models built before keep working in their own.
/// </remarks>
public static class Keras
{
    [ThreadStatic] private static Graph? t_graph;
    [ThreadStatic] private static Dictionary<string, int>? t_names;
    private static Device s_device = Device.Cpu;
    private static SessionOptions s_sessionOptions = SessionOptions.Default;

    /// <summary>The graph that <see cref="Input(int[])"/> and symbolic layer calls build into.</summary>
    public static Graph Graph => t_graph ??= new Graph();

    /// <summary>The device sessions created from now on run on (default <see cref="Nabla.Device.Cpu"/>).</summary>
    public static Device Device
    {
        get => s_device;
        set => s_device = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>
    /// The options sessions created from now on use: <c>CheckNumerics</c> (tf.debugging.enable_check_numerics),
    /// <c>Deterministic</c> (tf.config.experimental.enable_op_determinism), <c>DeferExecution</c> (debugging).
    /// A graph's session is created when its first model compiles or runs, so set this before.
    /// </summary>
    public static SessionOptions SessionOptions
    {
        get => s_sessionOptions;
        set => s_sessionOptions = value ?? throw new ArgumentNullException(nameof(value));
    }

    /// <summary>Starts a fresh graph and resets layer-name counters (tf.keras.backend.clear_session).</summary>
    public static void ClearSession()
    {
        t_graph = null;
        t_names = null;
    }

    /// <summary>Sets the current graph's seed, which every random initializer and dropout mask derives from (tf.random.set_seed).</summary>
    public static void SetRandomSeed(ulong seed) => Graph.Seed = seed;

    /// <summary>
    /// The session that runs models built in <paramref name="graph"/> (default: the current graph), for
    /// custom training loops that mix models with graph ops (for example a GAN with two optimizers).
    /// </summary>
    public static Session GetSession(Graph? graph = null) => GraphRuntime.For(graph ?? Graph).Session;

    /// <summary>Initialises those of <paramref name="variables"/> that this graph's session has not initialised yet (and leaves the others' values alone).</summary>
    public static void InitializeVariables(IEnumerable<Variable> variables)
    {
        var list = variables.ToList();
        if (list.Count == 0) return;
        GraphRuntime.For(list[0].Graph).EnsureInitialized(list);
    }

    /// <summary>A symbolic input of shape [batch, ..<paramref name="shape"/>] (keras.Input); the batch size is unknown.</summary>
    public static KerasTensor Input(params int[] shape) => Input(shape, DType.Float32);

    /// <summary>A symbolic input of shape [batch, ..<paramref name="shape"/>] with the given dtype and name.</summary>
    /// <exception cref="ArgumentException">A dimension is negative (other than −1 for unknown).</exception>
    public static KerasTensor Input(int[] shape, DType dtype, string? name = null)
    {
        foreach (var d in shape)
            if (d < -1) throw new ArgumentException($"Input: dimension {d} in [{string.Join(", ", shape)}] is invalid (use −1 for unknown)", nameof(shape));
        var layerName = name ?? UniqueLayerName("input");
        var placeholder = Graph.Placeholder(dtype, new Shape([-1, .. shape]), layerName);
        return new KerasTensor(placeholder, null, 0);
    }

    /// <summary>"dense", "dense_1", … per thread, as Keras names layers.</summary>
    internal static string UniqueLayerName(string prefix)
    {
        var names = t_names ??= new Dictionary<string, int>(StringComparer.Ordinal);
        var n = names.GetValueOrDefault(prefix);
        names[prefix] = n + 1;
        return n == 0 ? prefix : $"{prefix}_{n}";
    }
}
