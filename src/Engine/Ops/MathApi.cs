namespace Nabla;

public sealed partial class Graph
{
    /// <summary>a + b with broadcasting.</summary>
    public Output Add(Output a, Output b, string? name = null) => Add1("Add", [a, b], null, name);
    /// <summary>a − b with broadcasting.</summary>
    public Output Sub(Output a, Output b, string? name = null) => Add1("Sub", [a, b], null, name);
    /// <summary>a · b with broadcasting.</summary>
    public Output Mul(Output a, Output b, string? name = null) => Add1("Mul", [a, b], null, name);
    /// <summary>a / b with broadcasting (integers truncate; division by an integer zero throws <see cref="InvalidArgumentException"/>).</summary>
    public Output Div(Output a, Output b, string? name = null) => Add1("Div", [a, b], null, name);
    /// <summary>aᵇ with broadcasting (floating only).</summary>
    public Output Pow(Output a, Output b, string? name = null) => Add1("Pow", [a, b], null, name);
    /// <summary>aᵇ for a scalar exponent.</summary>
    public Output Pow(Output a, double b, string? name = null) => Pow(a, Scalar(b, a.DType), name);
    /// <summary>Element-wise maximum (NaN if either is NaN).</summary>
    public Output Maximum(Output a, Output b, string? name = null) => Add1("Maximum", [a, b], null, name);
    /// <summary>Element-wise minimum (NaN if either is NaN).</summary>
    public Output Minimum(Output a, Output b, string? name = null) => Add1("Minimum", [a, b], null, name);
    /// <summary>a == b (bool).</summary>
    public Output Equal(Output a, Output b, string? name = null) => Add1("Equal", [a, b], null, name);
    /// <summary>a != b (bool).</summary>
    public Output NotEqual(Output a, Output b, string? name = null) => Add1("NotEqual", [a, b], null, name);
    /// <summary>a &lt; b (bool).</summary>
    public Output Less(Output a, Output b, string? name = null) => Add1("Less", [a, b], null, name);
    /// <summary>a ≤ b (bool).</summary>
    public Output LessEqual(Output a, Output b, string? name = null) => Add1("LessEqual", [a, b], null, name);
    /// <summary>a &gt; b (bool).</summary>
    public Output Greater(Output a, Output b, string? name = null) => Add1("Greater", [a, b], null, name);
    /// <summary>a ≥ b (bool).</summary>
    public Output GreaterEqual(Output a, Output b, string? name = null) => Add1("GreaterEqual", [a, b], null, name);
    /// <summary>a ∧ b.</summary>
    public Output LogicalAnd(Output a, Output b, string? name = null) => Add1("LogicalAnd", [a, b], null, name);
    /// <summary>a ∨ b.</summary>
    public Output LogicalOr(Output a, Output b, string? name = null) => Add1("LogicalOr", [a, b], null, name);
    /// <summary>a ⊕ b.</summary>
    public Output LogicalXor(Output a, Output b, string? name = null) => Add1("LogicalXor", [a, b], null, name);
    /// <summary>¬a.</summary>
    public Output LogicalNot(Output a, string? name = null) => Add1("LogicalNot", [a], null, name);

    /// <summary>cond ? a : b element-wise, all three broadcast together (tf.where).</summary>
    public Output Select(Output cond, Output a, Output b, string? name = null) => Add1("Select", [cond, a, b], null, name);

    /// <summary>Alias of <see cref="Select"/> (tf.where).</summary>
    public Output Where(Output cond, Output a, Output b, string? name = null) => Select(cond, a, b, name ?? "Where");

    /// <summary>Converts the dtype (float → int truncates toward zero; nonzero → true).</summary>
    public Output Cast(Output x, DType dtype, string? name = null) => Add1("Cast", [x], new Attributes().Set("dtype", dtype), name);

    /// <summary>−x</summary>
    public Output Neg(Output x, string? name = null) => Add1("Neg", [x], null, name);
    /// <summary>|x|</summary>
    public Output Abs(Output x, string? name = null) => Add1("Abs", [x], null, name);
    /// <summary>sign(x) ∈ {−1, 0, 1}</summary>
    public Output Sign(Output x, string? name = null) => Add1("Sign", [x], null, name);
    /// <summary>x²</summary>
    public Output Square(Output x, string? name = null) => Add1("Square", [x], null, name);
    /// <summary>√x (NaN for x &lt; 0)</summary>
    public Output Sqrt(Output x, string? name = null) => Add1("Sqrt", [x], null, name);
    /// <summary>1/√x</summary>
    public Output Rsqrt(Output x, string? name = null) => Add1("Rsqrt", [x], null, name);
    /// <summary>1/x</summary>
    public Output Reciprocal(Output x, string? name = null) => Add1("Reciprocal", [x], null, name);
    /// <summary>eˣ</summary>
    public Output Exp(Output x, string? name = null) => Add1("Exp", [x], null, name);
    /// <summary>eˣ − 1, accurate near 0.</summary>
    public Output Expm1(Output x, string? name = null) => Add1("Expm1", [x], null, name);
    /// <summary>ln x (−∞ at 0, NaN below).</summary>
    public Output Log(Output x, string? name = null) => Add1("Log", [x], null, name);
    /// <summary>ln(1 + x), accurate near 0.</summary>
    public Output Log1p(Output x, string? name = null) => Add1("Log1p", [x], null, name);
    /// <summary>sin x</summary>
    public Output Sin(Output x, string? name = null) => Add1("Sin", [x], null, name);
    /// <summary>cos x</summary>
    public Output Cos(Output x, string? name = null) => Add1("Cos", [x], null, name);
    /// <summary>tanh x</summary>
    public Output Tanh(Output x, string? name = null) => Add1("Tanh", [x], null, name);
    /// <summary>1/(1+e⁻ˣ), evaluated without overflow.</summary>
    public Output Sigmoid(Output x, string? name = null) => Add1("Sigmoid", [x], null, name);
    /// <summary>max(x, 0)</summary>
    public Output Relu(Output x, string? name = null) => Add1("Relu", [x], null, name);
    /// <summary>ln(1+eˣ), evaluated without overflow.</summary>
    public Output Softplus(Output x, string? name = null) => Add1("Softplus", [x], null, name);
    /// <summary>Gauss error function.</summary>
    public Output Erf(Output x, string? name = null) => Add1("Erf", [x], null, name);

    /// <summary>x for x &gt; 0, alpha·x otherwise (tf.nn.leaky_relu; default alpha 0.2).</summary>
    public Output LeakyRelu(Output x, double alpha = 0.2, string? name = null)
    {
        RequireFloatingInput("LeakyRelu", name, x);
        using (NameScope(name ?? "LeakyRelu"))
            return Select(Greater(x, Scalar(0, x.DType)), x, x * alpha);
    }

    /// <summary>x for x &gt; 0, alpha·(eˣ − 1) otherwise. Uses expm1(min(x, 0)) so the unused branch never overflows into a NaN gradient.</summary>
    public Output Elu(Output x, double alpha = 1.0, string? name = null)
    {
        RequireFloatingInput("Elu", name, x);
        using (NameScope(name ?? "Elu"))
            return Select(Greater(x, Scalar(0, x.DType)), x, Expm1(Minimum(x, Scalar(0, x.DType))) * alpha);
    }

    /// <summary>Scaled ELU with the self-normalising constants of Klambauer et al. (2017).</summary>
    public Output Selu(Output x, string? name = null)
    {
        const double alpha = 1.6732632423543772848170429916717, scale = 1.0507009873554804934193349852946;
        RequireFloatingInput("Selu", name, x);
        using (NameScope(name ?? "Selu"))
            return Elu(x, alpha) * scale;
    }

    /// <summary>x / (1 + |x|)</summary>
    public Output Softsign(Output x, string? name = null)
    {
        RequireFloatingInput("Softsign", name, x);
        using (NameScope(name ?? "Softsign"))
            return x / (Abs(x) + 1.0);
    }

    /// <summary>GELU: x·Φ(x) = ½x(1 + erf(x/√2)); with <paramref name="approximate"/>, the tanh form of Hendrycks &amp; Gimpel.</summary>
    public Output Gelu(Output x, bool approximate = false, string? name = null)
    {
        RequireFloatingInput("Gelu", name, x);
        using (NameScope(name ?? "Gelu"))
        {
            if (!approximate) return x * 0.5 * (Erf(x * (1.0 / Math.Sqrt(2.0))) + 1.0);
            var inner = (x + x * x * x * 0.044715) * Math.Sqrt(2.0 / Math.PI);
            return x * 0.5 * (Tanh(inner) + 1.0);
        }
    }

    /// <summary>min(max(x, lo), hi) (tf.clip_by_value).</summary>
    /// <exception cref="ShapeException"><paramref name="min"/> &gt; <paramref name="max"/>, or either bound is NaN.</exception>
    public Output Clip(Output x, double min, double max, string? name = null)
    {
        // NaN bounds compare false with everything, so "min > max" alone would let them through and make every output NaN.
        if (!(min <= max)) throw new ShapeException($"Clip '{ScopedName(name ?? "clip_by_value")}': bounds must satisfy min ≤ max, got min {min} and max {max} (input {x.DType.Name()} {x.Shape})");
        using (NameScope(name ?? "clip_by_value"))
            return Minimum(Maximum(x, Scalar(min, x.DType)), Scalar(max, x.DType));
    }

    /// <summary>
    /// Composites check the dtype up front: on an integer input their float constants (α, 0.044715,
    /// the 1 in 1 + |x|) would be truncated by Scalar and the result silently wrong.
    /// </summary>
    private void RequireFloatingInput(string op, string? name, Output x)
    {
        if (!x.DType.IsFloating())
            throw new ShapeException($"{op} '{ScopedName(name ?? op)}': input must be float32 or float64, got {x.DType.Name()} {x.Shape}");
    }

    private string ScopedName(string name) => _scopes.Count == 0 ? name : string.Join("/", _scopes.Reverse()) + "/" + name;

    /// <summary>Sums <paramref name="x"/> over the axes along which it was broadcast from <paramref name="like"/>'s shape (run-time shapes).</summary>
    public Output SumToShape(Output x, Output like, string? name = null) => Add1("SumToShape", [x, like], null, name);

    /// <summary>Broadcasts <paramref name="x"/> to <paramref name="like"/>'s run-time shape.</summary>
    public Output BroadcastLike(Output x, Output like, string? name = null) => Add1("BroadcastLike", [x, like], null, name);

    /// <summary>Zeros with x's run-time shape and dtype.</summary>
    public Output ZerosLike(Output x, string? name = null) => Add1("ZerosLike", [x], null, name);

    /// <summary>Ones with x's run-time shape and dtype.</summary>
    public Output OnesLike(Output x, string? name = null) => Add1("OnesLike", [x], null, name);
}
