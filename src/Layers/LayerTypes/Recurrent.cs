namespace Nabla.Layers;

/// <summary>
/// Base of Keras's recurrent layers (keras.layers.RNN with a built-in cell): the input is [batch, time, features];
/// the whole sequence runs as one fused node (<see cref="Graph.LSTM"/>, <see cref="Graph.GRU"/>,
/// <see cref="Graph.SimpleRNN"/>). Weights as Keras: kernel [features, k·units] (Glorot uniform), recurrent_kernel
/// [units, k·units] (orthogonal), bias (zeros).
/// </summary>
/// <remarks>
/// <para>Inputs: the sequence, optionally followed by the initial states (h, and c for LSTM), as Keras's
/// <c>initial_state</c>; without them the states start at zero. A mask attached to the sequence (from
/// <see cref="Embedding"/> with maskZero or <see cref="Masking"/>) skips the masked steps: the states are carried through
/// them and their outputs are 0, so the final output is the state of the last unmasked step.</para>
/// <para>Outputs: the last output (or, with <see cref="ReturnSequences"/>, all of them, which keep the mask), then with
/// <see cref="ReturnState"/> the final states. With <see cref="GoBackwards"/> the sequence is processed in reverse and
/// the returned sequence is in that reversed order, as Keras. Stateful RNNs are not supported.</para>
/// </remarks>
public abstract class RecurrentLayer : Layer
{
    private Variable? _kernel, _recurrent, _bias;

    /// <summary>Sets the options common to every recurrent layer.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="units"/> is not positive.</exception>
    /// <exception cref="NotSupportedException"><paramref name="stateful"/> is true.</exception>
    protected RecurrentLayer(int units, bool returnSequences, bool returnState, bool goBackwards, bool stateful, bool useBias,
        Initializer? kernelInitializer, Initializer? recurrentInitializer, Initializer? biasInitializer, int[]? inputShape, string? name) : base(name)
    {
        if (units <= 0) throw new ArgumentOutOfRangeException(nameof(units), units, $"{GetType().Name} '{Name}': units must be positive");
        if (stateful) throw new NotSupportedException($"{GetType().Name} '{Name}': stateful recurrent layers are not supported (the graph carries no state between batches)");
        Units = units;
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
        UseBias = useBias;
        KernelInitializer = kernelInitializer ?? Initializer.GlorotUniform();
        RecurrentInitializer = recurrentInitializer ?? Initializer.Orthogonal();
        BiasInitializer = biasInitializer;
        InputShape = inputShape;
    }

    /// <summary>Hidden units.</summary>
    public int Units { get; }

    /// <summary>Return the output of every step rather than the last one.</summary>
    public bool ReturnSequences { get; }

    /// <summary>Also return the final states.</summary>
    public bool ReturnState { get; }

    /// <summary>Process the sequence in reverse.</summary>
    public bool GoBackwards { get; }

    /// <summary>Whether the layer has a bias (without one, a zero bias is fed to the fused op).</summary>
    public bool UseBias { get; }

    /// <summary>Initializer of the kernel (Glorot uniform by default).</summary>
    public Initializer KernelInitializer { get; }

    /// <summary>Initializer of the recurrent kernel (orthogonal by default).</summary>
    public Initializer RecurrentInitializer { get; }

    /// <summary>Initializer of the bias; null is the layer's default (zeros, or LSTM's unit forget bias).</summary>
    public Initializer? BiasInitializer { get; }

    /// <summary>The [features, k·units] input weights (after the first call).</summary>
    public Variable Kernel => _kernel ?? throw new InvalidOperationException($"{this} is not built yet");

    /// <summary>The [units, k·units] recurrent weights (after the first call).</summary>
    public Variable RecurrentKernel => _recurrent ?? throw new InvalidOperationException($"{this} is not built yet");

    /// <summary>The bias (after the first call; null without bias).</summary>
    public Variable? Bias => _bias;

    /// <summary>Gate blocks: 1 (SimpleRNN), 4 (LSTM), 3 (GRU).</summary>
    protected abstract int Blocks { get; }

    /// <summary>Number of states: 1, or 2 for LSTM (h, c).</summary>
    protected virtual int StateCount => 1;

    /// <summary>Shape of the bias.</summary>
    protected virtual Shape BiasShape => new(Blocks * Units);

    /// <summary>The default bias initializer.</summary>
    protected virtual Initializer DefaultBiasInitializer => Initializer.Zeros;

    /// <summary>A layer of the same configuration and the opposite direction, for <see cref="Bidirectional"/>.</summary>
    protected internal abstract RecurrentLayer CloneReversed(string name);

    /// <summary>Runs the fused op: returns the output sequence and the final states.</summary>
    protected abstract (Output Y, Output[] States) RunSequence(Output x, Output[] initialStates, Output kernel, Output recurrent, Output bias, Output? mask);

    /// <inheritdoc/>
    protected override void Build(Shape[] inputShapes)
    {
        var s = inputShapes[0];
        if (s.Rank != 3 || s[2] < 0)
            throw new ShapeException($"{GetType().Name} '{Name}': the input must be [batch, time, features] with features known, got {s}");
        _kernel = AddWeight("kernel", new Shape(s[2], Blocks * Units), KernelInitializer);
        _recurrent = AddWeight("recurrent_kernel", new Shape(Units, Blocks * Units), RecurrentInitializer);
        if (UseBias) _bias = AddWeight("bias", BiasShape, BiasInitializer ?? DefaultBiasInitializer);
    }

    /// <inheritdoc/>
    protected internal override Output? ComputeMask(Output input, Output? mask) => ReturnSequences ? mask : null;

    /// <inheritdoc/>
    protected override Output[] Call(Output[] inputs, bool training)
    {
        var x = inputs[0];
        var g = x.Graph;
        if (x.Shape.Rank != 3 || x.Shape[2] != Kernel.Shape[0])
            throw new ShapeException($"{GetType().Name} '{Name}': input {x.Shape} does not match the kernel {Kernel.Shape} (expected [batch, time, {Kernel.Shape[0]}])");
        if (inputs.Length != 1 && inputs.Length != 1 + StateCount)
            throw new ArgumentException($"{GetType().Name} '{Name}' takes the sequence and optionally {StateCount} initial state(s), got {inputs.Length} inputs", nameof(inputs));
        var states = inputs.Length > 1 ? inputs[1..] : Enumerable.Range(0, StateCount).Select(_ => ZeroState(x)).ToArray();
        var mask = InputMask(0) is { } m ? g.Cast(m, x.DType, "mask") : (Output?)null;
        var bias = _bias?.Value ?? g.Constant(Tensor.Fill(BiasShape, 0, x.DType), "zero_bias");
        var (y, final) = RunSequence(x, states, Kernel.Value, RecurrentKernel.Value, bias, mask);
        var output = ReturnSequences ? y : final[0];
        if (inputs.Length > 1 || ReturnState) SetMask(output, ReturnSequences ? InputMask(0) : null);
        return ReturnState ? [output, .. final] : [output];
    }

    /// <summary>Zeros [batch, units] with the batch of x (which may be unknown until run time).</summary>
    private Output ZeroState(Output x)
    {
        var g = x.Graph;
        var column = g.ZerosLike(g.Reshape(g.Slice(x, [0, 0, 0], [-1, 1, 1]), [-1, 1]));
        return g.MatMul(column, g.Constant(Tensor.Fill(new Shape(1, Units), 0, x.DType)), name: "initial_state");
    }
}

/// <summary>Fully connected recurrence h = tanh(x·W + h₋₁·R + b) (keras.layers.SimpleRNN with its default tanh).</summary>
public sealed class SimpleRNN : RecurrentLayer
{
    /// <summary>Creates the layer (Keras defaults).</summary>
    public SimpleRNN(int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false, bool useBias = true,
        Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null, int[]? inputShape = null, string? name = null)
        : base(units, returnSequences, returnState, goBackwards, stateful, useBias, kernelInitializer, recurrentInitializer, biasInitializer, inputShape, name)
    {
    }

    /// <inheritdoc/>
    protected override int Blocks => 1;

    /// <inheritdoc/>
    protected internal override RecurrentLayer CloneReversed(string name) => new SimpleRNN(Units, ReturnSequences, ReturnState, !GoBackwards, false, UseBias,
        KernelInitializer, RecurrentInitializer, BiasInitializer, InputShape, name);

    /// <inheritdoc/>
    protected override (Output Y, Output[] States) RunSequence(Output x, Output[] s, Output kernel, Output recurrent, Output bias, Output? mask)
    {
        var (y, h) = x.Graph.SimpleRNN(x, s[0], kernel, recurrent, bias, mask, GoBackwards, "simple_rnn");
        return (y, [h]);
    }
}

/// <summary>
/// Long short-term memory (keras.layers.LSTM, Hochreiter and Schmidhuber 1997): gates i, f, c, o with sigmoid
/// recurrent activation and tanh activation; <c>unit_forget_bias</c> (default) initialises the forget block of the bias to 1.
/// Initial states and final states are (h, c).
/// </summary>
public sealed class LSTM : RecurrentLayer
{
    /// <summary>Creates the layer (Keras defaults).</summary>
    public LSTM(int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false, bool useBias = true,
        bool unitForgetBias = true, Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, string? name = null)
        : base(units, returnSequences, returnState, goBackwards, stateful, useBias, kernelInitializer, recurrentInitializer, biasInitializer, inputShape, name)
    {
        UnitForgetBias = unitForgetBias;
    }

    /// <summary>Initialise the forget gate's bias to 1 (Jozefowicz et al. 2015), as Keras by default.</summary>
    public bool UnitForgetBias { get; }

    /// <inheritdoc/>
    protected override int Blocks => 4;

    /// <inheritdoc/>
    protected override int StateCount => 2;

    /// <inheritdoc/>
    protected override Initializer DefaultBiasInitializer => UnitForgetBias ? new ForgetBias(Units) : Initializer.Zeros;

    /// <inheritdoc/>
    protected internal override RecurrentLayer CloneReversed(string name) => new LSTM(Units, ReturnSequences, ReturnState, !GoBackwards, false, UseBias,
        UnitForgetBias, KernelInitializer, RecurrentInitializer, BiasInitializer, InputShape, name);

    /// <inheritdoc/>
    protected override (Output Y, Output[] States) RunSequence(Output x, Output[] s, Output kernel, Output recurrent, Output bias, Output? mask)
    {
        var (y, h, c) = x.Graph.LSTM(x, s[0], s[1], kernel, recurrent, bias, mask, GoBackwards, "lstm");
        return (y, [h, c]);
    }

    /// <summary>Zeros with ones in the forget block [units, 2·units).</summary>
    private sealed class ForgetBias(int units) : Initializer
    {
        public override Output Build(Graph graph, Shape shape, DType dtype)
        {
            var v = new double[shape.ElementCount];
            for (var j = units; j < 2 * units; j++) v[j] = 1;
            var t = Tensor.FromArray(v, [.. shape]);
            return graph.Constant(dtype == DType.Float64 ? t : Tensor.FromArray(v.Select(d => (float)d).ToArray(), [.. shape]), "initial_value");
        }
    }
}

/// <summary>
/// Gated recurrent unit (keras.layers.GRU, Cho et al. 2014): gates z, r, h; with <see cref="ResetAfter"/> (TF2's
/// default, cuDNN-compatible) the reset gate multiplies h₋₁·R_h + b'_h and the bias is [2, 3·units].
/// </summary>
public sealed class GRU : RecurrentLayer
{
    /// <summary>Creates the layer (Keras defaults).</summary>
    public GRU(int units, bool returnSequences = false, bool returnState = false, bool goBackwards = false, bool stateful = false, bool useBias = true,
        bool resetAfter = true, Initializer? kernelInitializer = null, Initializer? recurrentInitializer = null, Initializer? biasInitializer = null,
        int[]? inputShape = null, string? name = null)
        : base(units, returnSequences, returnState, goBackwards, stateful, useBias, kernelInitializer, recurrentInitializer, biasInitializer, inputShape, name)
    {
        ResetAfter = resetAfter;
    }

    /// <summary>Apply the reset gate after the recurrent product (Keras reset_after).</summary>
    public bool ResetAfter { get; }

    /// <inheritdoc/>
    protected override int Blocks => 3;

    /// <inheritdoc/>
    protected override Shape BiasShape => ResetAfter ? new Shape(2, 3 * Units) : new Shape(3 * Units);

    /// <inheritdoc/>
    protected internal override RecurrentLayer CloneReversed(string name) => new GRU(Units, ReturnSequences, ReturnState, !GoBackwards, false, UseBias,
        ResetAfter, KernelInitializer, RecurrentInitializer, BiasInitializer, InputShape, name);

    /// <inheritdoc/>
    protected override (Output Y, Output[] States) RunSequence(Output x, Output[] s, Output kernel, Output recurrent, Output bias, Output? mask)
    {
        var (y, h) = x.Graph.GRU(x, s[0], kernel, recurrent, bias, mask, ResetAfter, GoBackwards, "gru");
        return (y, [h]);
    }
}
