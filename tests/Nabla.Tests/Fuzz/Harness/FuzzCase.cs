using System.Globalization;
using System.Text;

namespace Nabla.Tests.Fuzz;

/// <summary>
/// The dtype of a fuzz input. <see cref="Float"/> is float32 on the CPU device and float64 on the
/// reference device, with the same (float32-representable) values; the others are exact on both.
/// </summary>
public enum FuzzKind { Float, Int32, Int64, Bool }

/// <summary>One placeholder: its kind, the shape it is declared with (−1 = unknown) and the value fed.</summary>
public sealed record FuzzInput(FuzzKind Kind, Shape Declared, Tensor Value)
{
    /// <summary>The kind of <see cref="Value"/> when a bad feed of another dtype than the placeholder's is tested; null when it is <see cref="Kind"/>.</summary>
    public FuzzKind? Fed { get; init; }

    /// <summary>The graph dtype on a device whose float type is <paramref name="floatType"/>.</summary>
    public DType DTypeFor(DType floatType) => FuzzCase.DTypeOf(Kind, floatType);

    /// <summary>The value to feed on a device whose float type is <paramref name="floatType"/>.</summary>
    public Tensor FeedFor(DType floatType) =>
        (Fed ?? Kind) != FuzzKind.Float || floatType == DType.Float64 ? Value
        : new Tensor(Value.ToDoubleArray().Select(v => (float)v).ToArray(), Value.Shape, DType.Float32);

    /// <summary>"f[2,?,3]" style: kind letter, then the declared shape, then the fed shape where it differs.</summary>
    public override string ToString()
    {
        var k = Kind switch { FuzzKind.Float => "f", FuzzKind.Int32 => "i32", FuzzKind.Int64 => "i64", _ => "b" };
        var declared = Declared.ToString();
        var fed = Fed is { } f ? $"<-{f}{Value.Shape}" : Declared.Equals(Value.Shape) ? "" : $"<-{Value.Shape}";
        return k + declared + fed;
    }
}

/// <summary>Builds the outputs of one case on a graph: placeholders in, outputs out; <c>floatType</c> is the device's float dtype.</summary>
public delegate Output[] FuzzBuild(Graph g, Output[] inputs, DType floatType);

/// <summary>One generated call: an op with its inputs, attributes and tolerance, and a one-line reproducer.</summary>
public sealed class FuzzCase(string op, FuzzInput[] inputs, string attrs, FuzzBuild build)
{
    /// <summary>The op's name in the table (e.g. <c>ReduceSum</c>).</summary>
    public string Op { get; } = op;

    /// <summary>The placeholders and their feeds.</summary>
    public FuzzInput[] Inputs { get; } = inputs;

    /// <summary>The attributes, as C#-like text for the reproducer.</summary>
    public string Attrs { get; } = attrs;

    /// <summary>Builds the case's outputs.</summary>
    public FuzzBuild Build { get; } = build;

    /// <summary>Relative tolerance of float32 CPU against float64 reference (forward).</summary>
    public double Rtol { get; init; } = 1e-4;

    /// <summary>Absolute tolerance, scaled by the largest |reference value| of the output (at least 1).</summary>
    public double Atol { get; init; } = 1e-5;

    /// <summary>Whether to also fetch ∂(random reduction of the outputs)/∂(float inputs).</summary>
    public bool Differentiable { get; init; } = true;

    /// <summary>The op's graph dtype for a kind.</summary>
    public static DType DTypeOf(FuzzKind kind, DType floatType) => kind switch
    {
        FuzzKind.Float => floatType,
        FuzzKind.Int32 => DType.Int32,
        FuzzKind.Int64 => DType.Int64,
        _ => DType.Bool,
    };

    /// <summary>The inputs' values, for a reproducer that needs them (short tensors only).</summary>
    public string Values()
    {
        var sb = new StringBuilder();
        for (var i = 0; i < Inputs.Length; i++)
        {
            var v = Inputs[i].Value.ToDoubleArray();
            sb.Append(CultureInfo.InvariantCulture, $" x{i}=[{string.Join(",", v.Take(24).Select(d => d.ToString("R", CultureInfo.InvariantCulture)))}{(v.Length > 24 ? ",..." : "")}]");
        }
        return sb.ToString();
    }

    /// <summary>One line: <c>Op(f[2,?]&lt;-[2,3], i32[3]) attrs</c>.</summary>
    public override string ToString() => $"{Op}({string.Join(", ", Inputs.Select(i => i.ToString()))}){(Attrs.Length > 0 ? " " + Attrs : "")}";
}
