using System.Numerics.Tensors;

namespace Nabla.Kernels;

/// <summary>
/// One unary function with every form a backend needs (TensorPrimitives' operator-struct pattern): the
/// float64 scalar form (the CPU's float64 kernels, and its float32 fallback rounded once), the float32
/// vector form over a span (TensorPrimitives where it has the function, else the scalar form per element),
/// and the base name of its PTX kernel (<c>neg</c> → <c>neg_f32</c>). The reference backend keeps its own
/// float64 definitions (ReferenceMath), so that comparing the two never checks code against itself.
/// </summary>
internal interface IUnaryFunction
{
    /// <summary>Base name of the PTX kernels; PtxMath.Emit (Cuda/Ptx) emits the function's code under this name.</summary>
    static abstract string Ptx { get; }

    /// <summary>The function in float64.</summary>
    static abstract double Invoke(double x);

    /// <summary>y[i] = f(x[i]) in float32, vectorised where the function has a vector kernel; x and y may be the same span.</summary>
    static abstract void Invoke(ReadOnlySpan<float> x, Span<float> y);
}

/// <summary>Code to run for one unary function, chosen by <see cref="UnaryFunctions.Dispatch"/>.</summary>
internal interface IUnaryVisitor
{
    void Visit<TFn>() where TFn : IUnaryFunction;
}

/// <summary>The one place that maps a numeric <see cref="UnaryOp"/> to its function struct; kernels dispatch once per call, then run code specialised for the function.</summary>
internal static class UnaryFunctions
{
    public static void Dispatch<TV>(UnaryOp op, ref TV visitor) where TV : IUnaryVisitor, allows ref struct
    {
        switch (op)
        {
            case UnaryOp.Neg: visitor.Visit<NegFunction>(); break;
            case UnaryOp.Abs: visitor.Visit<AbsFunction>(); break;
            case UnaryOp.Sign: visitor.Visit<SignFunction>(); break;
            case UnaryOp.Square: visitor.Visit<SquareFunction>(); break;
            case UnaryOp.Sqrt: visitor.Visit<SqrtFunction>(); break;
            case UnaryOp.Rsqrt: visitor.Visit<RsqrtFunction>(); break;
            case UnaryOp.Reciprocal: visitor.Visit<ReciprocalFunction>(); break;
            case UnaryOp.Exp: visitor.Visit<ExpFunction>(); break;
            case UnaryOp.Expm1: visitor.Visit<Expm1Function>(); break;
            case UnaryOp.Log: visitor.Visit<LogFunction>(); break;
            case UnaryOp.Log1p: visitor.Visit<Log1pFunction>(); break;
            case UnaryOp.Sin: visitor.Visit<SinFunction>(); break;
            case UnaryOp.Cos: visitor.Visit<CosFunction>(); break;
            case UnaryOp.Tanh: visitor.Visit<TanhFunction>(); break;
            case UnaryOp.Sigmoid: visitor.Visit<SigmoidFunction>(); break;
            case UnaryOp.Relu: visitor.Visit<ReluFunction>(); break;
            case UnaryOp.Softplus: visitor.Visit<SoftplusFunction>(); break;
            case UnaryOp.Erf: visitor.Visit<ErfFunction>(); break;
            default: throw new NotSupportedException($"Unary {op} is not a numeric function");
        }
    }

    /// <summary>f(x) in float64 (dispatches per call: for single values, not loops).</summary>
    public static double Apply(UnaryOp op, double x)
    {
        var v = new One(x);
        Dispatch(op, ref v);
        return v.Result;
    }

    /// <summary>The PTX base name (<c>not</c> for <see cref="UnaryOp.LogicalNot"/>, which is boolean).</summary>
    public static string Ptx(UnaryOp op)
    {
        if (op == UnaryOp.LogicalNot) return "not";
        var v = new Name();
        Dispatch(op, ref v);
        return v.Result;
    }

    /// <summary>y = f(x) element-wise in float64.</summary>
    public static void Float64(UnaryOp op, ReadOnlySpan<double> x, Span<double> y)
    {
        var v = new Float64Loop(x, y);
        Dispatch(op, ref v);
    }

    /// <summary>y = f(x) element-wise in float32 through the float64 form, rounded once (deterministic: no vector kernel whose rounding can change with JIT tiering).</summary>
    public static void Float32Scalar(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        var v = new Float32ScalarLoop(x, y);
        Dispatch(op, ref v);
    }

    /// <summary>y = f(x) element-wise in float32 with the function's vector form.</summary>
    public static void Float32(UnaryOp op, ReadOnlySpan<float> x, Span<float> y)
    {
        var v = new Float32Vector(x, y);
        Dispatch(op, ref v);
    }

    private struct One(double x) : IUnaryVisitor
    {
        public double Result;
        public void Visit<TFn>() where TFn : IUnaryFunction => Result = TFn.Invoke(x);
    }

    private struct Name : IUnaryVisitor
    {
        public string Result;
        public void Visit<TFn>() where TFn : IUnaryFunction => Result = TFn.Ptx;
    }

    private readonly ref struct Float64Loop : IUnaryVisitor
    {
        private readonly ReadOnlySpan<double> _x;
        private readonly Span<double> _y;

        public Float64Loop(ReadOnlySpan<double> x, Span<double> y)
        {
            _x = x;
            _y = y;
        }

        public void Visit<TFn>() where TFn : IUnaryFunction
        {
            for (var i = 0; i < _x.Length; i++) _y[i] = TFn.Invoke(_x[i]);
        }
    }

    private readonly ref struct Float32ScalarLoop : IUnaryVisitor
    {
        private readonly ReadOnlySpan<float> _x;
        private readonly Span<float> _y;

        public Float32ScalarLoop(ReadOnlySpan<float> x, Span<float> y)
        {
            _x = x;
            _y = y;
        }

        public void Visit<TFn>() where TFn : IUnaryFunction
        {
            for (var i = 0; i < _x.Length; i++) _y[i] = (float)TFn.Invoke(_x[i]);
        }
    }

    private readonly ref struct Float32Vector : IUnaryVisitor
    {
        private readonly ReadOnlySpan<float> _x;
        private readonly Span<float> _y;

        public Float32Vector(ReadOnlySpan<float> x, Span<float> y)
        {
            _x = x;
            _y = y;
        }

        public void Visit<TFn>() where TFn : IUnaryFunction => TFn.Invoke(_x, _y);
    }
}

internal readonly struct NegFunction : IUnaryFunction
{
    public static string Ptx => "neg";
    public static double Invoke(double x) => -x;
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Negate(x, y); }
}

internal readonly struct AbsFunction : IUnaryFunction
{
    public static string Ptx => "abs";
    public static double Invoke(double x) => Math.Abs(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Abs(x, y); }
}

internal readonly struct SignFunction : IUnaryFunction
{
    public static string Ptx => "sign";
    public static double Invoke(double x) => double.IsNaN(x) ? x : Math.Sign(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (var i = 0; i < x.Length; i++) y[i] = (float)Invoke(x[i]); }
}

internal readonly struct SquareFunction : IUnaryFunction
{
    public static string Ptx => "square";
    public static double Invoke(double x) => x * x;
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Multiply(x, x, y); }
}

internal readonly struct SqrtFunction : IUnaryFunction
{
    public static string Ptx => "sqrt";
    public static double Invoke(double x) => Math.Sqrt(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Sqrt(x, y); }
}

internal readonly struct RsqrtFunction : IUnaryFunction
{
    public static string Ptx => "rsqrt";
    public static double Invoke(double x) => 1.0 / Math.Sqrt(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.ReciprocalSqrt(x, y); }
}

internal readonly struct ReciprocalFunction : IUnaryFunction
{
    public static string Ptx => "recip";
    public static double Invoke(double x) => 1.0 / x;
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Reciprocal(x, y); }
}

internal readonly struct ExpFunction : IUnaryFunction
{
    public static string Ptx => "exp";
    public static double Invoke(double x) => Math.Exp(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Exp(x, y); }
}

internal readonly struct Expm1Function : IUnaryFunction
{
    public static string Ptx => "expm1";
    public static double Invoke(double x) => ScalarMath.Expm1(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (var i = 0; i < x.Length; i++) y[i] = (float)Invoke(x[i]); }
}

internal readonly struct LogFunction : IUnaryFunction
{
    public static string Ptx => "log";
    public static double Invoke(double x) => Math.Log(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Log(x, y); }
}

internal readonly struct Log1pFunction : IUnaryFunction
{
    public static string Ptx => "log1p";
    public static double Invoke(double x) => ScalarMath.Log1p(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (var i = 0; i < x.Length; i++) y[i] = (float)Invoke(x[i]); }
}

internal readonly struct SinFunction : IUnaryFunction
{
    public static string Ptx => "sin";
    public static double Invoke(double x) => Math.Sin(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Sin(x, y); }
}

internal readonly struct CosFunction : IUnaryFunction
{
    public static string Ptx => "cos";
    public static double Invoke(double x) => Math.Cos(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Cos(x, y); }
}

internal readonly struct TanhFunction : IUnaryFunction
{
    public static string Ptx => "tanh";
    public static double Invoke(double x) => Math.Tanh(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { Cpu.CpuUnary.Tanh(x, y); }
}

internal readonly struct SigmoidFunction : IUnaryFunction
{
    public static string Ptx => "sigmoid";
    public static double Invoke(double x) => ScalarMath.Sigmoid(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Sigmoid(x, y); }
}

internal readonly struct ReluFunction : IUnaryFunction
{
    public static string Ptx => "relu";
    public static double Invoke(double x) => x > 0 ? x : (double.IsNaN(x) ? x : 0.0);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { TensorPrimitives.Max(x, 0f, y); }
}

internal readonly struct SoftplusFunction : IUnaryFunction
{
    public static string Ptx => "softplus";
    public static double Invoke(double x) => ScalarMath.Softplus(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (var i = 0; i < x.Length; i++) y[i] = (float)Invoke(x[i]); }
}

internal readonly struct ErfFunction : IUnaryFunction
{
    public static string Ptx => "erf";
    public static double Invoke(double x) => double.IsNaN(x) ? x : MathNet.Numerics.SpecialFunctions.Erf(x);
    public static void Invoke(ReadOnlySpan<float> x, Span<float> y) { for (var i = 0; i < x.Length; i++) y[i] = (float)Invoke(x[i]); }
}
