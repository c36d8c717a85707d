namespace Nabla;

/// <summary>
/// A symbolic tensor: output <see cref="Index"/> of operation <see cref="Op"/>. Its static shape
/// may have unknown dimensions (−1). Arithmetic operators build nodes in the owning graph.
/// </summary>
public readonly struct Output : IEquatable<Output>
{
    /// <summary>Creates a reference to one output of an operation.</summary>
    public Output(Operation op, int index)
    {
        Op = op;
        Index = index;
    }

    /// <summary>The producing operation.</summary>
    public Operation Op { get; }

    /// <summary>Which of the operation's outputs.</summary>
    public int Index { get; }

    /// <summary>Static shape inferred when the node was built.</summary>
    public Shape Shape => Op.OutputShapes[Index];

    /// <summary>Element type.</summary>
    public DType DType => Op.OutputDTypes[Index];

    /// <summary>The graph that owns the node.</summary>
    public Graph Graph => Op.Graph;

    /// <summary>"name" for output 0, "name:i" otherwise.</summary>
    public string Name => Index == 0 ? Op.Name : $"{Op.Name}:{Index}";

    /// <inheritdoc/>
    public bool Equals(Output other) => ReferenceEquals(Op, other.Op) && Index == other.Index;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => obj is Output o && Equals(o);

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Op?.Id ?? -1, Index);

    /// <summary>Same output.</summary>
    public static bool operator ==(Output a, Output b) => a.Equals(b);

    /// <summary>Different outputs.</summary>
    public static bool operator !=(Output a, Output b) => !a.Equals(b);

    /// <summary>"Tensor 'name' shape=[?,10] dtype=float32"</summary>
    public override string ToString() => $"Output '{Name}' shape={Shape} dtype={DType.Name()}";

    // Every operator finds its graph through GraphOf, so a default(Output) operand is an
    // ArgumentException naming the operator (as g.Add gives), not a NullReferenceException.

    /// <summary>Element-wise a + b with broadcasting.</summary>
    /// <exception cref="ArgumentException">An operand is <c>default(Output)</c>, or the operands belong to different graphs.</exception>
    public static Output operator +(Output a, Output b) => GraphOf(a, b, "+").Add(a, b);
    /// <summary>Element-wise a − b with broadcasting.</summary>
    public static Output operator -(Output a, Output b) => GraphOf(a, b, "-").Sub(a, b);
    /// <summary>Element-wise a · b with broadcasting.</summary>
    public static Output operator *(Output a, Output b) => GraphOf(a, b, "*").Mul(a, b);
    /// <summary>Element-wise a / b with broadcasting.</summary>
    public static Output operator /(Output a, Output b) => GraphOf(a, b, "/").Div(a, b);
    /// <summary>−a</summary>
    public static Output operator -(Output a) => GraphOf(a, "-").Neg(a);
    /// <summary>a + scalar (the scalar takes a's dtype).</summary>
    public static Output operator +(Output a, double b) => GraphOf(a, "+").Add(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar + b</summary>
    public static Output operator +(double a, Output b) => GraphOf(b, "+").Add(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a − scalar</summary>
    public static Output operator -(Output a, double b) => GraphOf(a, "-").Sub(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar − b</summary>
    public static Output operator -(double a, Output b) => GraphOf(b, "-").Sub(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a · scalar</summary>
    public static Output operator *(Output a, double b) => GraphOf(a, "*").Mul(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar · b</summary>
    public static Output operator *(double a, Output b) => GraphOf(b, "*").Mul(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a / scalar</summary>
    public static Output operator /(Output a, double b) => GraphOf(a, "/").Div(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar / b</summary>
    public static Output operator /(double a, Output b) => GraphOf(b, "/").Div(b.Graph.Scalar(a, b.DType), b);

    private static Graph GraphOf(Output a, string op)
    {
        if (a.Op is null) throw new ArgumentException($"operator {op}: the operand is a default(Output), not an output of a graph", nameof(a));
        return a.Graph;
    }

    // Either operand may be the default one; the other's graph then builds the node, whose
    // input check names the default operand (and a second graph) with an ArgumentException.
    private static Graph GraphOf(Output a, Output b, string op) =>
        (a.Op ?? b.Op)?.Graph ?? throw new ArgumentException($"operator {op}: both operands are default(Output)", nameof(a));

    /// <summary>Operator alternative for languages without operator overloading.</summary>
    public Output Add(Output other) => this + other;
    /// <summary>Operator alternative.</summary>
    public Output Subtract(Output other) => this - other;
    /// <summary>Operator alternative.</summary>
    public Output Multiply(Output other) => this * other;
    /// <summary>Operator alternative.</summary>
    public Output Divide(Output other) => this / other;
    /// <summary>Operator alternative.</summary>
    public Output Negate() => -this;
}
