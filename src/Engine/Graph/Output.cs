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

    /// <summary>Element-wise a + b with broadcasting.</summary>
    public static Output operator +(Output a, Output b) => a.Graph.Add(a, b);
    /// <summary>Element-wise a − b with broadcasting.</summary>
    public static Output operator -(Output a, Output b) => a.Graph.Sub(a, b);
    /// <summary>Element-wise a · b with broadcasting.</summary>
    public static Output operator *(Output a, Output b) => a.Graph.Mul(a, b);
    /// <summary>Element-wise a / b with broadcasting.</summary>
    public static Output operator /(Output a, Output b) => a.Graph.Div(a, b);
    /// <summary>−a</summary>
    public static Output operator -(Output a) => a.Graph.Neg(a);
    /// <summary>a + scalar (the scalar takes a's dtype).</summary>
    public static Output operator +(Output a, double b) => a.Graph.Add(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar + b</summary>
    public static Output operator +(double a, Output b) => b.Graph.Add(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a − scalar</summary>
    public static Output operator -(Output a, double b) => a.Graph.Sub(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar − b</summary>
    public static Output operator -(double a, Output b) => b.Graph.Sub(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a · scalar</summary>
    public static Output operator *(Output a, double b) => a.Graph.Mul(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar · b</summary>
    public static Output operator *(double a, Output b) => b.Graph.Mul(b.Graph.Scalar(a, b.DType), b);
    /// <summary>a / scalar</summary>
    public static Output operator /(Output a, double b) => a.Graph.Div(a, a.Graph.Scalar(b, a.DType));
    /// <summary>scalar / b</summary>
    public static Output operator /(double a, Output b) => b.Graph.Div(b.Graph.Scalar(a, b.DType), b);

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
