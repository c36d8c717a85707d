namespace Nabla.Layers;

/// <summary>Activation functions by Keras name, built from the engine's primitive ops.</summary>
public static class Activations
{
    private static readonly Dictionary<string, Func<Output, Output>> s_byName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["linear"] = x => x,
        ["relu"] = x => x.Graph.Relu(x),
        // Keras's default negative slope for the named activation is 0.2 (keras.activations.leaky_relu).
        ["leaky_relu"] = x => x.Graph.LeakyRelu(x, 0.2),
        ["elu"] = x => x.Graph.Elu(x),
        ["selu"] = x => x.Graph.Selu(x),
        ["sigmoid"] = x => x.Graph.Sigmoid(x),
        ["tanh"] = x => x.Graph.Tanh(x),
        ["softmax"] = x => x.Graph.Softmax(x),
        ["softplus"] = x => x.Graph.Softplus(x),
        ["softsign"] = x => x.Graph.Softsign(x),
        // keras.activations.gelu defaults to the exact erf form (approximate=False).
        ["gelu"] = x => x.Graph.Gelu(x),
        ["swish"] = x => x * x.Graph.Sigmoid(x),
        ["exponential"] = x => x.Graph.Exp(x),
    };

    /// <summary>The Keras names understood by <see cref="Get"/>.</summary>
    public static IReadOnlyCollection<string> Names => s_byName.Keys;

    /// <summary>The activation called <paramref name="name"/> (case-insensitive); null or "linear" is the identity.</summary>
    /// <exception cref="ArgumentException">Unknown name; the message lists the known ones.</exception>
    public static Func<Output, Output> Get(string? name) =>
        name is null ? s_byName["linear"]
        : s_byName.TryGetValue(name, out var f) ? f
        : throw new ArgumentException($"unknown activation '{name}'; known: {string.Join(", ", s_byName.Keys)}", nameof(name));
}

/// <summary>Applies an activation function by name (keras.layers.Activation).</summary>
public sealed class Activation(string activation, string? name = null) : Layer(name)
{
    private readonly Func<Output, Output> _f = Activations.Get(activation);

    /// <summary>The activation's name.</summary>
    public string Function { get; } = activation;

    /// <inheritdoc/>
    protected override Output Call(Output inputs, bool training) => _f(inputs);
}
