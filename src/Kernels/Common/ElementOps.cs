using System.Numerics;

namespace Nabla.Kernels;

/// <summary>A scalar binary function, as an operator struct so loops specialise per op (dotnet/runtime's IBinaryOperator pattern).</summary>
internal interface IBinaryOperator<T, TResult>
{
    static abstract TResult Invoke(T a, T b);
}

/// <summary>Truncating integer division; MIN / −1 wraps to MIN (as NumPy and TensorFlow on x86) instead of raising the CPU's overflow trap, and x / 0 gives 0 instead of the divide trap (the engine checks divisors and fails the run).</summary>
internal readonly struct IntegerDivOperator<T> : IBinaryOperator<T, T> where T : IBinaryInteger<T>, ISignedNumber<T> { public static T Invoke(T a, T b) => b == T.Zero ? T.Zero : b == T.NegativeOne ? -a : a / b; }
internal readonly struct PowOperator<T> : IBinaryOperator<T, T> where T : IFloatingPointIeee754<T> { public static T Invoke(T a, T b) => T.Pow(a, b); }
internal readonly struct EqualOperator<T> : IBinaryOperator<T, bool> where T : IEquatable<T> { public static bool Invoke(T a, T b) => a.Equals(b) && !(a is double d && double.IsNaN(d)) && !(a is float f && float.IsNaN(f)); }
internal readonly struct NotEqualOperator<T> : IBinaryOperator<T, bool> where T : IEquatable<T> { public static bool Invoke(T a, T b) => !EqualOperator<T>.Invoke(a, b); }
internal readonly struct LessOperator<T> : IBinaryOperator<T, bool> where T : INumber<T> { public static bool Invoke(T a, T b) => a < b; }
internal readonly struct LessEqualOperator<T> : IBinaryOperator<T, bool> where T : INumber<T> { public static bool Invoke(T a, T b) => a <= b; }
internal readonly struct GreaterOperator<T> : IBinaryOperator<T, bool> where T : INumber<T> { public static bool Invoke(T a, T b) => a > b; }
internal readonly struct GreaterEqualOperator<T> : IBinaryOperator<T, bool> where T : INumber<T> { public static bool Invoke(T a, T b) => a >= b; }
internal readonly struct AndOperator : IBinaryOperator<bool, bool> { public static bool Invoke(bool a, bool b) => a & b; }
internal readonly struct OrOperator : IBinaryOperator<bool, bool> { public static bool Invoke(bool a, bool b) => a | b; }
internal readonly struct XorOperator : IBinaryOperator<bool, bool> { public static bool Invoke(bool a, bool b) => a ^ b; }

/// <summary>Numerically careful scalar helpers of the unary functions (<see cref="UnaryFunctions"/>), in double precision, for the CPU backend. The reference backend has its own (ReferenceMath), and the tests compare the two.</summary>
internal static class ScalarMath
{
    /// <summary>ln(1+x) without cancellation (Goldberg, "What every computer scientist should know about floating-point arithmetic", thm. 4).</summary>
    public static double Log1p(double x)
    {
        var u = 1.0 + x;
        if (u == 1.0) return x;
        if (double.IsInfinity(u)) return Math.Log(u);
        return Math.Log(u) * x / (u - 1.0);
    }

    /// <summary>eˣ−1 without cancellation (Kahan's trick).</summary>
    public static double Expm1(double x)
    {
        if (Math.Abs(x) > 0.5) return Math.Exp(x) - 1.0;
        var u = Math.Exp(x);
        if (u == 1.0) return x;
        var um1 = u - 1.0;
        return um1 * x / Math.Log(u);
    }

    /// <summary>Logistic function, evaluated on the side where exp cannot overflow.</summary>
    public static double Sigmoid(double x)
    {
        if (x >= 0) return 1.0 / (1.0 + Math.Exp(-x));
        var e = Math.Exp(x);
        return e / (1.0 + e);
    }

    /// <summary>ln(1+eˣ) = max(x,0) + log1p(e^−|x|): no overflow for large x, no underflow to 0 for large −x.</summary>
    public static double Softplus(double x) => double.IsNaN(x) ? x : Math.Max(x, 0) + Log1p(Math.Exp(-Math.Abs(x)));
}

/// <summary>
/// A floating comparison in scalar and vector form (TensorPrimitives' operator pattern): the vector form
/// gives an all-ones lane where the scalar form gives true. IEEE semantics: every comparison with NaN is
/// false except ≠. Used by the fused element-wise interpreter (<see cref="HostBackend"/>).
/// </summary>
internal interface IVectorPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    static abstract bool Invoke(T a, T b);
    static abstract Vector<T> Invoke(Vector<T> a, Vector<T> b);
}

internal readonly struct EqualPredicate<T> : IVectorPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T a, T b) => a == b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => Vector.Equals(a, b);
}

internal readonly struct NotEqualPredicate<T> : IVectorPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T a, T b) => a != b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => ~Vector.Equals(a, b);
}

internal readonly struct LessPredicate<T> : IVectorPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T a, T b) => a < b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => Vector.LessThan(a, b);
}

internal readonly struct LessEqualPredicate<T> : IVectorPredicate<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T a, T b) => a <= b;
    public static Vector<T> Invoke(Vector<T> a, Vector<T> b) => Vector.LessThanOrEqual(a, b);
}
