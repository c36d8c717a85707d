namespace Nabla.Kernels.Reference;

/// <summary>
/// The element-wise functions of <see cref="UnaryOp"/> and <see cref="BinaryOp"/> in float64, each
/// written from its definition for the oracle (the CPU backend has its own, in ScalarMath and its
/// vector kernels; tests compare the two).
/// </summary>
/// <remarks>
/// NaN in gives NaN out for every numeric function (Sign, Relu, Maximum and Minimum included), as
/// <see cref="UnaryOp"/> and <see cref="BinaryOp"/> document; ±∞ follow the limits of the definitions
/// (exp(−∞) = 0, expm1(−∞) = −1, log1p(−1) = −∞, sigmoid(±∞) = 1 or 0, softplus(−∞) = 0,
/// softplus(+∞) = +∞, erf(±∞) = ±1). Comparisons follow IEEE 754: NaN is unequal to everything.
/// </remarks>
internal static class ReferenceMath
{
    /// <summary>f(x) for a floating unary op.</summary>
    public static double Unary(UnaryOp op, double x) => op switch
    {
        UnaryOp.Neg => -x,
        UnaryOp.Abs => x < 0 ? -x : x == 0 ? 0.0 : x,
        UnaryOp.Sign => double.IsNaN(x) ? x : x > 0 ? 1.0 : x < 0 ? -1.0 : 0.0,
        UnaryOp.Square => x * x,
        UnaryOp.Sqrt => Math.Sqrt(x),
        UnaryOp.Rsqrt => 1.0 / Math.Sqrt(x),
        UnaryOp.Reciprocal => 1.0 / x,
        UnaryOp.Exp => Math.Exp(x),
        UnaryOp.Expm1 => Expm1(x),
        UnaryOp.Log => Math.Log(x),
        UnaryOp.Log1p => Log1p(x),
        UnaryOp.Sin => Math.Sin(x),
        UnaryOp.Cos => Math.Cos(x),
        UnaryOp.Tanh => Math.Tanh(x),
        UnaryOp.Sigmoid => Sigmoid(x),
        UnaryOp.Relu => double.IsNaN(x) ? x : x > 0 ? x : 0.0,
        UnaryOp.Softplus => Softplus(x),
        UnaryOp.Erf => double.IsNaN(x) ? x : MathNet.Numerics.SpecialFunctions.Erf(x),
        _ => throw new NotSupportedException($"Unary {op} is not defined for floats"),
    };

    /// <summary>
    /// eˣ − 1. For |x| &lt; ½ the Taylor series Σₖ≥₁ xᵏ/k!, summed until the terms stop changing the sum
    /// (at most ~20 terms, since ½ᵏ/k! falls below 2⁻⁵³ by k = 18), so there is no cancellation near 0;
    /// elsewhere eˣ − 1 loses nothing (eˣ is at least 0.39 from 1).
    /// </summary>
    public static double Expm1(double x)
    {
        if (!(Math.Abs(x) < 0.5)) return Math.Exp(x) - 1.0;
        double sum = 0, term = 1;
        for (var k = 1; k < 40; k++)
        {
            term *= x / k;
            var next = sum + term;
            if (next == sum) break;
            sum = next;
        }
        return sum;
    }

    /// <summary>
    /// ln(1 + x). For |x| &lt; ½, ln(1 + x) = 2·atanh(z) with z = x / (2 + x), |z| ≤ ⅓, summed as the
    /// series 2·Σₖ≥₀ z²ᵏ⁺¹/(2k + 1) (the terms shrink by z² ≤ ⅑ each, ~17 terms): no cancellation near
    /// 0. Elsewhere 1 + x is exact enough that ln(1 + x) is accurate. log1p(−1) = −∞, below −1 NaN.
    /// </summary>
    public static double Log1p(double x)
    {
        if (!(Math.Abs(x) < 0.5)) return Math.Log(1.0 + x);
        var z = x / (2.0 + x);
        var z2 = z * z;
        double sum = 0, power = z;
        for (var k = 0; k < 60; k++)
        {
            var next = sum + power / (2 * k + 1);
            if (next == sum) break;
            sum = next;
            power *= z2;
        }
        return 2.0 * sum;
    }

    /// <summary>
    /// 1 / (1 + e⁻ˣ). Below x = −37, e⁻ˣ exceeds 2⁵³ so 1 + e⁻ˣ rounds to e⁻ˣ and the definition equals
    /// eˣ; computing eˣ there keeps the result from overflowing e⁻ˣ to ∞ (and 1/∞ to 0) below x = −709.
    /// </summary>
    public static double Sigmoid(double x) => x < -37 ? Math.Exp(x) : 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>ln(1 + eˣ) in the stable form max(x, 0) + log1p(e^−|x|), which neither overflows for large x nor rounds to 0 for large −x.</summary>
    public static double Softplus(double x) => double.IsNaN(x) ? x : (x > 0 ? x : 0.0) + Log1p(Math.Exp(-Math.Abs(x)));

    /// <summary>op(a, b) for a floating arithmetic op.</summary>
    public static double Binary(BinaryOp op, double a, double b) => op switch
    {
        BinaryOp.Add => a + b,
        BinaryOp.Sub => a - b,
        BinaryOp.Mul => a * b,
        BinaryOp.Div => a / b,
        BinaryOp.Pow => Math.Pow(a, b),
        BinaryOp.Maximum => Maximum(a, b),
        BinaryOp.Minimum => Minimum(a, b),
        _ => throw new NotSupportedException($"Binary {op} is not an arithmetic op"),
    };

    /// <summary>The larger of a and b; NaN if either is NaN; +0 is larger than −0 (IEEE 754-2019 maximum).</summary>
    public static double Maximum(double a, double b)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.NaN;
        if (a == b) return double.IsNegative(a) ? b : a;
        return a > b ? a : b;
    }

    /// <summary>The smaller of a and b; NaN if either is NaN; −0 is smaller than +0 (IEEE 754-2019 minimum).</summary>
    public static double Minimum(double a, double b)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return double.NaN;
        if (a == b) return double.IsNegative(a) ? a : b;
        return a < b ? a : b;
    }

    /// <summary>
    /// A comparison, of doubles or of integers held in long (so int64 values above 2⁵³ compare exactly); with a NaN
    /// every comparison is false except NotEqual, which is true.
    /// </summary>
    public static bool Compare<T>(BinaryOp op, T a, T b) where T : System.Numerics.INumber<T> => op switch
    {
        BinaryOp.Equal => a == b,
        BinaryOp.NotEqual => a != b,
        BinaryOp.Less => a < b,
        BinaryOp.LessEqual => a <= b,
        BinaryOp.Greater => a > b,
        BinaryOp.GreaterEqual => a >= b,
        _ => throw new NotSupportedException($"Binary {op} is not a comparison"),
    };

    /// <summary>
    /// op(a, b) for integers held in long: +, −, · wrap (the caller keeps the low bits for int32);
    /// division truncates toward zero, x / 0 = 0 (the engine checks divisors and fails the run) and
    /// MIN / −1 wraps to MIN rather than trapping.
    /// </summary>
    public static long IntegerBinary(BinaryOp op, long a, long b) => op switch
    {
        BinaryOp.Add => unchecked(a + b),
        BinaryOp.Sub => unchecked(a - b),
        BinaryOp.Mul => unchecked(a * b),
        BinaryOp.Div => b == 0 ? 0 : b == -1 ? unchecked(-a) : a / b,
        BinaryOp.Maximum => a > b ? a : b,
        BinaryOp.Minimum => a < b ? a : b,
        _ => throw new NotSupportedException($"Binary {op} is not defined for integers"),
    };
}
