// UNVERIFIED on hardware: the sequences below were checked by the tests' PTX emulator against the CPU's
// float64 functions, not yet by ptxas or a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>
/// The PTX math library: for every <see cref="UnaryOp"/> and pow, the instruction sequence that computes y = f(x)
/// into a new register of an entry being written (<see cref="PtxEntry"/>), for float32 (F32 registers) and float64
/// (F64 registers), with the CPU backend's semantics (UnaryFunctions.cs).
/// </summary>
/// <remarks>
/// <para>PTX has no float64 transcendental instructions, and <c>ex2.approx.f32</c>/<c>lg2.approx.f32</c> are off by
/// a few ulp (and more for large arguments), so every transcendental function is computed in float64 with range
/// reduction and polynomials (PtxMath.Float64.cs), and the float32 forms convert to float64, evaluate, and round
/// once (<c>cvt.rn.f32.f64</c>): within 1 ulp of the correctly rounded float32, as the CPU's float32 path (which also
/// evaluates in float64 and rounds once). The cost is float64 throughput, full-rate on data-centre GPUs (H100/H200)
/// and 1/32–1/64 rate on consumer parts.</para>
/// <para>NaN propagates from every function (its payload is unspecified); the float64 forms are within 3 ulp of the
/// correctly rounded result on every argument tried (sin and cos for all finite x: Cody–Waite reduction below 2⁵⁰,
/// Payne–Hanek above, see <see cref="Sin64"/>; pow, see <see cref="Pow"/>). Exact operations (neg, abs, sqrt, reciprocal,
/// square, relu, sign) use the correctly rounded instructions and equal the CPU bit for bit, as does 1/√x (sqrt then divide).</para>
/// <para>Throughput: each transcendental costs about 30 (exp) to 250 (erf) float64 operations; on a GPU with full-rate
/// float64 (H100/H200) exp, log and sigmoid stay memory-bound in an element-wise kernel, tanh and erf do not.</para>
/// </remarks>
internal static partial class PtxMath
{
    /// <summary>The PTX base names of the unary functions (<see cref="IUnaryFunction.Ptx"/>, <c>not</c> for LogicalNot), each mapped to its emitter.</summary>
    private static readonly Dictionary<string, Func<PtxEntry, Reg, Reg>> Snippets = new(StringComparer.Ordinal)
    {
        ["neg"] = (e, x) => Simple(e, x, "neg"),
        ["abs"] = (e, x) => Simple(e, x, "abs"),
        ["sign"] = Sign,
        ["square"] = (e, x) => Binary(e, "mul.rn", x, x),
        ["sqrt"] = (e, x) => Simple(e, x, "sqrt.rn"),
        ["rsqrt"] = Rsqrt,
        ["recip"] = (e, x) => Simple(e, x, "rcp.rn"),
        ["exp"] = (e, x) => ViaF64(e, x, Exp64),
        ["expm1"] = (e, x) => ViaF64(e, x, Expm164),
        ["log"] = (e, x) => ViaF64(e, x, Log64),
        ["log1p"] = (e, x) => ViaF64(e, x, Log1p64),
        ["sin"] = (e, x) => ViaF64(e, x, Sin64),
        ["cos"] = (e, x) => ViaF64(e, x, Cos64),
        ["tanh"] = (e, x) => ViaF64(e, x, Tanh64),
        ["sigmoid"] = (e, x) => ViaF64(e, x, Sigmoid64),
        ["relu"] = Relu,
        ["softplus"] = (e, x) => ViaF64(e, x, Softplus64),
        ["erf"] = (e, x) => ViaF64(e, x, Erf64),
    };

    /// <summary>Whether <paramref name="ptx"/> names a snippet of this library (a unary function's <see cref="IUnaryFunction.Ptx"/>).</summary>
    public static bool Has(string ptx) => Snippets.ContainsKey(ptx);

    /// <summary>y = f(x) for the unary function whose PTX base name is <paramref name="ptx"/> (UnaryFunctions.Ptx); x is F32 or F64.</summary>
    /// <exception cref="ArgumentException">No snippet has that name, or x is not a float register.</exception>
    public static Reg Emit(PtxEntry e, string ptx, Reg x)
    {
        RequireFloat(x);
        if (!Snippets.TryGetValue(ptx, out var emit))
            throw new ArgumentException($"no PTX snippet '{ptx}'; the library has {string.Join(", ", Snippets.Keys)}", nameof(ptx));
        e.Comment($"{ptx}({x})");
        return emit(e, x);
    }

    /// <summary>y = op(x) for a float register x (F32 or F64), as UnaryFunctions defines op.</summary>
    /// <exception cref="NotSupportedException">op is <see cref="UnaryOp.LogicalNot"/> (boolean, see <see cref="LogicalNot"/>).</exception>
    public static Reg Unary(PtxEntry e, UnaryOp op, Reg x)
    {
        if (op == UnaryOp.LogicalNot) throw new NotSupportedException("LogicalNot is boolean; use PtxMath.LogicalNot");
        return Emit(e, UnaryFunctions.Ptx(op), x);
    }

    /// <summary>eˣ (F32 or F64); overflow gives +Inf, underflow 0 (or a subnormal), NaN stays NaN.</summary>
    public static Reg Exp(PtxEntry e, Reg x) => Emit(e, "exp", x);

    /// <summary>ln x (F32 or F64): ln 0 = −Inf, ln(x &lt; 0) = NaN, ln +Inf = +Inf; subnormals are scaled first.</summary>
    public static Reg Log(PtxEntry e, Reg x) => Emit(e, "log", x);

    /// <summary>
    /// y = 1 − x for a boolean held as an integer 0 or 1 (B32); the Unary kernel's LogicalNot on bytes.
    /// </summary>
    public static Reg LogicalNot(PtxEntry e, Reg x)
    {
        if (x.Type != PtxType.B32) throw new ArgumentException($"LogicalNot takes a B32 register holding 0 or 1, not {x.Type}", nameof(x));
        var y = e.Reg(PtxType.B32);
        e.Op($"xor.b32 {y}, {x}, 1");
        return y;
    }

    /// <summary>
    /// y = op(x) for a signed integer register (B32 = int32, B64 = int64): Neg, Abs and Square wrap in two's complement
    /// (|MIN| = MIN, as HostBackend), Sign gives −1, 0 or 1.
    /// </summary>
    /// <exception cref="NotSupportedException">op is not defined for integers.</exception>
    public static Reg Integer(PtxEntry e, UnaryOp op, Reg x)
    {
        var s = x.Type switch
        {
            PtxType.B32 => "s32",
            PtxType.B64 => "s64",
            _ => throw new ArgumentException($"Integer takes a B32 or B64 register, not {x.Type}", nameof(x)),
        };
        var y = e.Reg(x.Type);
        switch (op)
        {
            case UnaryOp.Neg: e.Op($"neg.{s} {y}, {x}"); break;
            case UnaryOp.Square: e.Op($"mul.lo.{s} {y}, {x}, {x}"); break;
            case UnaryOp.Abs:
                {
                    var p = e.Reg(PtxType.Pred);
                    e.Op($"neg.{s} {y}, {x}");
                    e.Op($"setp.lt.{s} {p}, {x}, 0");
                    e.Op($"selp.{s} {y}, {y}, {x}, {p}");
                    break;
                }
            case UnaryOp.Sign:
                {
                    Reg pos = e.Reg(PtxType.Pred), neg = e.Reg(PtxType.Pred);
                    e.Op($"setp.gt.{s} {pos}, {x}, 0");
                    e.Op($"setp.lt.{s} {neg}, {x}, 0");
                    e.Op($"selp.{s} {y}, 1, 0, {pos}");
                    e.Op($"selp.{s} {y}, -1, {y}, {neg}");
                    break;
                }
            default: throw new NotSupportedException($"Unary {op} is not defined for integers");
        }
        return y;
    }

    private static void RequireFloat(Reg x)
    {
        if (x.Type is not (PtxType.F32 or PtxType.F64)) throw new ArgumentException($"the math library takes F32 or F64 registers, not {x.Type}", nameof(x));
    }

    /// <summary>".f32" or ".f64" for a float register.</summary>
    internal static string Suffix(Reg x) => x.Type == PtxType.F32 ? "f32" : "f64";

    private static Reg Simple(PtxEntry e, Reg x, string op)
    {
        var y = e.Reg(x.Type);
        e.Op($"{op}.{Suffix(x)} {y}, {x}");
        return y;
    }

    private static Reg Binary(PtxEntry e, string op, Reg a, Reg b)
    {
        var y = e.Reg(a.Type);
        e.Op($"{op}.{Suffix(a)} {y}, {a}, {b}");
        return y;
    }

    /// <summary>An F32 argument is widened to F64, <paramref name="f64"/> evaluated, and the result rounded once.</summary>
    private static Reg ViaF64(PtxEntry e, Reg x, Func<PtxEntry, Reg, Reg> f64)
    {
        if (x.Type == PtxType.F64) return f64(e, x);
        var wide = e.Reg(PtxType.F64);
        e.Op($"cvt.f64.f32 {wide}, {x}");
        var r = f64(e, wide);
        var y = e.Reg(PtxType.F32);
        e.Op($"cvt.rn.f32.f64 {y}, {r}");
        return y;
    }

    /// <summary>−1, 0 or 1; NaN stays NaN; sign(±0) = +0 (Math.Sign gives the integer 0).</summary>
    private static Reg Sign(PtxEntry e, Reg x)
    {
        var t = Suffix(x);
        var y = e.Const(x.Type, 0);
        Reg one = e.Const(x.Type, 1), minus = e.Const(x.Type, -1);
        Reg pos = e.Reg(PtxType.Pred), neg = e.Reg(PtxType.Pred), nan = e.Reg(PtxType.Pred);
        e.Op($"setp.gt.{t} {pos}, {x}, {Zero(x)}");
        e.Op($"setp.lt.{t} {neg}, {x}, {Zero(x)}");
        e.Op($"setp.nan.{t} {nan}, {x}, {x}");
        e.Op($"selp.{t} {y}, {one}, {y}, {pos}");
        e.Op($"selp.{t} {y}, {minus}, {y}, {neg}");
        e.Op($"selp.{t} {y}, {x}, {y}, {nan}");
        return y;
    }

    /// <summary>x &gt; 0 ? x : 0, NaN stays NaN; relu(−0) = +0.</summary>
    private static Reg Relu(PtxEntry e, Reg x)
    {
        var t = Suffix(x);
        var y = e.Const(x.Type, 0);
        var keep = e.Reg(PtxType.Pred);
        // gtu: greater than, or unordered (NaN), so NaN passes through.
        e.Op($"setp.gtu.{t} {keep}, {x}, {Zero(x)}");
        e.Op($"selp.{t} {y}, {x}, {y}, {keep}");
        return y;
    }

    /// <summary>1/√x, as the CPU's float64 form: sqrt and divide, each correctly rounded (in float64 for both dtypes, then rounded once for float32).</summary>
    private static Reg Rsqrt(PtxEntry e, Reg x) => ViaF64(e, x, (e2, w) =>
    {
        var s = e2.Reg(PtxType.F64);
        e2.Op($"sqrt.rn.f64 {s}, {w}");
        var y = e2.Reg(PtxType.F64);
        e2.Op($"rcp.rn.f64 {y}, {s}");
        return y;
    });

    /// <summary>The exact zero immediate of a float register's type.</summary>
    internal static string Zero(Reg x) => x.Type == PtxType.F32 ? PtxWriter.F32(0f) : PtxWriter.F64(0.0);

    /// <summary>The immediate of <paramref name="value"/> in a float register's type.</summary>
    internal static string Imm(Reg x, double value) => x.Type == PtxType.F32 ? PtxWriter.F32((float)value) : PtxWriter.F64(value);
}
