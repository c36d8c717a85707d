using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// One arithmetic function of two values with every form a backend needs, as TensorPrimitives'
/// operator structs: the scalar <see cref="IBinaryOperator{T, TResult}.Invoke"/> (strided loops, any
/// dtype), the vectorised span forms (TensorPrimitives: equal spans, a scalar on either side), the float64
/// form that documents the function, and the base name of its PTX kernels (<c>add</c> → <c>add_f32</c>,
/// <c>add_f64</c>) from which the CUDA backend will emit a fused kernel's code.
/// </summary>
internal interface IArithmeticOperator<T> : IBinaryOperator<T, T> where T : INumber<T>
{
    /// <summary>Base name of the PTX kernels; PtxMath.EmitBinary (Cuda/Ptx) emits the function's code under this name.</summary>
    static abstract string Ptx { get; }

    /// <summary>The function in float64.</summary>
    static abstract double Float64(double a, double b);

    /// <summary>y[i] = f(a[i], b[i]).</summary>
    static abstract void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y);

    /// <summary>y[i] = f(a[i], b).</summary>
    static abstract void Invoke(ReadOnlySpan<T> a, T b, Span<T> y);

    /// <summary>y[i] = f(a, b[i]).</summary>
    static abstract void Invoke(T a, ReadOnlySpan<T> b, Span<T> y);
}

internal readonly struct AddOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "add";
    public static T Invoke(T a, T b) => a + b;
    public static double Float64(double a, double b) => a + b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Add(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Add(b, a, y);
}

internal readonly struct SubOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "sub";
    public static T Invoke(T a, T b) => a - b;
    public static double Float64(double a, double b) => a - b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Subtract(a, b, y);
}

internal readonly struct MulOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "mul";
    public static T Invoke(T a, T b) => a * b;
    public static double Float64(double a, double b) => a * b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Multiply(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Multiply(b, a, y);
}

/// <summary>Division; for integers the strided loops use <see cref="IntegerDivOperator{T}"/> instead (no trap on 0 or MIN / −1).</summary>
internal readonly struct DivOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "div";
    public static T Invoke(T a, T b) => a / b;
    public static double Float64(double a, double b) => a / b;
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Divide(a, b, y);
}

/// <summary>IEEE 754:2019 maximum: NaN if either is NaN, +0 above −0; symmetric, so the scalar-first form swaps.</summary>
internal readonly struct MaxOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "max";
    public static T Invoke(T a, T b) => T.Max(a, b);
    public static double Float64(double a, double b) => Math.Max(a, b);
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Max(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Max(b, a, y);
}

/// <summary>IEEE 754:2019 minimum (as <see cref="MaxOperator{T}"/>).</summary>
internal readonly struct MinOperator<T> : IArithmeticOperator<T> where T : INumber<T>
{
    public static string Ptx => "min";
    public static T Invoke(T a, T b) => T.Min(a, b);
    public static double Float64(double a, double b) => Math.Min(a, b);
    public static void Invoke(ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void Invoke(ReadOnlySpan<T> a, T b, Span<T> y) => TensorPrimitives.Min(a, b, y);
    public static void Invoke(T a, ReadOnlySpan<T> b, Span<T> y) => TensorPrimitives.Min(b, a, y);
}

/// <summary>Code to run for one arithmetic operator, chosen by <see cref="Arithmetic.Dispatch"/>.</summary>
internal interface IArithmeticVisitor<T> where T : INumber<T>
{
    void Visit<TOp>() where TOp : IArithmeticOperator<T>;
}

/// <summary>
/// The one place that maps <see cref="BinaryOp"/> to its arithmetic operator struct: every kernel (strided
/// loops, the CPU's vector paths, the fused interpreter) dispatches here once per call and then runs code
/// specialised for the operator, instead of keeping its own switch per op.
/// </summary>
internal static class Arithmetic
{
    /// <summary>The ops with an <see cref="IArithmeticOperator{T}"/> (Pow has only a scalar form; comparisons and logic return bool).</summary>
    public static bool Has(BinaryOp op) => op is BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div or BinaryOp.Maximum or BinaryOp.Minimum;

    public static void Dispatch<T, TV>(BinaryOp op, ref TV visitor) where T : INumber<T> where TV : IArithmeticVisitor<T>, allows ref struct
    {
        switch (op)
        {
            case BinaryOp.Add: visitor.Visit<AddOperator<T>>(); break;
            case BinaryOp.Sub: visitor.Visit<SubOperator<T>>(); break;
            case BinaryOp.Mul: visitor.Visit<MulOperator<T>>(); break;
            case BinaryOp.Div: visitor.Visit<DivOperator<T>>(); break;
            case BinaryOp.Maximum: visitor.Visit<MaxOperator<T>>(); break;
            case BinaryOp.Minimum: visitor.Visit<MinOperator<T>>(); break;
            default: throw new NotSupportedException($"{op} is not an arithmetic operator");
        }
    }

    /// <summary>The PTX base name of an arithmetic op.</summary>
    public static string Ptx(BinaryOp op)
    {
        var v = new NameVisitor();
        Dispatch<double, NameVisitor>(op, ref v);
        return v.Name;
    }

    /// <summary>The op's float64 form.</summary>
    public static double Float64(BinaryOp op, double a, double b)
    {
        var v = new Float64Visitor(a, b);
        Dispatch<double, Float64Visitor>(op, ref v);
        return v.Result;
    }

    private struct NameVisitor : IArithmeticVisitor<double>
    {
        public string Name;
        public void Visit<TOp>() where TOp : IArithmeticOperator<double> => Name = TOp.Ptx;
    }

    private struct Float64Visitor(double a, double b) : IArithmeticVisitor<double>
    {
        public double Result;
        public void Visit<TOp>() where TOp : IArithmeticOperator<double> => Result = TOp.Float64(a, b);
    }
}
