namespace Nabla;

/// <summary>
/// A mutable tensor stored in each session that runs the graph. Reading it is the output
/// <see cref="Value"/>; <see cref="Initializer"/> sets its initial value.
/// </summary>
public sealed class Variable
{
    internal Variable(Output read, Operation initializer, bool trainable)
    {
        Value = read;
        Initializer = initializer;
        Trainable = trainable;
    }

    /// <summary>The variable's current value in a run.</summary>
    public Output Value { get; }

    /// <summary>The op that assigns the initial value.</summary>
    public Operation Initializer { get; }

    /// <summary>Whether optimizers update it.</summary>
    public bool Trainable { get; set; }

    /// <summary>Node name.</summary>
    public string Name => Value.Op.Name;

    /// <summary>Static (fully defined) shape.</summary>
    public Shape Shape => Value.Shape;

    /// <summary>Element type.</summary>
    public DType DType => Value.DType;

    /// <summary>Graph that owns it.</summary>
    public Graph Graph => Value.Graph;

    /// <summary>An op that sets the variable to <paramref name="value"/> and outputs the new value.</summary>
    public Output Assign(Output value, string? name = null) => Graph.AssignOp("Assign", Value.Op, value, name)[0];

    /// <summary>An op that adds <paramref name="delta"/> in place.</summary>
    public Output AssignAdd(Output delta, string? name = null) => Graph.AssignOp("AssignAdd", Value.Op, delta, name)[0];

    /// <summary>An op that subtracts <paramref name="delta"/> in place.</summary>
    public Output AssignSub(Output delta, string? name = null) => Graph.AssignOp("AssignSub", Value.Op, delta, name)[0];

    /// <summary>Variables read as their value.</summary>
    public static implicit operator Output(Variable v) => v.Value;

    /// <summary>Operator alternative.</summary>
    public Output ToOutput() => Value;

    /// <inheritdoc/>
    public override string ToString() => $"Variable '{Name}' shape={Shape} dtype={DType.Name()}";
}
