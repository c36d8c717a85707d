// UNVERIFIED on hardware: checked by the tests' PTX emulator against the CPU, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>The float arithmetic of the element-function table (ElementFunctions.cs), by its PTX names.</summary>
internal static partial class PtxMath
{
    /// <summary>The PTX base names of the arithmetic operators (<see cref="IArithmeticOperator{T}.Ptx"/>) and pow, each mapped to its emitter.</summary>
    private static readonly Dictionary<string, Func<PtxEntry, Reg, Reg, Reg>> BinarySnippets = new(StringComparer.Ordinal)
    {
        // .rn on every operation: it also forbids the JIT to contract a multiply and an add into an fma, which the CPU never does.
        ["add"] = (e, a, b) => Binary(e, "add.rn", a, b),
        ["sub"] = (e, a, b) => Binary(e, "sub.rn", a, b),
        ["mul"] = (e, a, b) => Binary(e, "mul.rn", a, b),
        ["div"] = (e, a, b) => Binary(e, "div.rn", a, b),
        ["max"] = (e, a, b) => MaxMin(e, a, b, max: true),
        ["min"] = (e, a, b) => MaxMin(e, a, b, max: false),
        ["pow"] = Pow,
    };

    /// <summary>Whether <paramref name="ptx"/> names a binary snippet (an arithmetic operator's <see cref="IArithmeticOperator{T}.Ptx"/>, or pow).</summary>
    public static bool HasBinary(string ptx) => BinarySnippets.ContainsKey(ptx);

    /// <summary>
    /// y = f(a, b) for the float function whose PTX base name is <paramref name="ptx"/> (Arithmetic.Ptx: add, sub, mul, div,
    /// max, min; or pow), on F32 or F64 registers of one class: IEEE-rounded arithmetic and the IEEE 754-2019 maximum and minimum.
    /// </summary>
    /// <exception cref="ArgumentException">No snippet has that name, or the registers are not floats of one class.</exception>
    public static Reg EmitBinary(PtxEntry e, string ptx, Reg a, Reg b)
    {
        RequireFloat(a);
        if (a.Type != b.Type) throw new ArgumentException($"{ptx} takes registers of one class, not {a.Type} and {b.Type}", nameof(b));
        if (!BinarySnippets.TryGetValue(ptx, out var emit))
            throw new ArgumentException($"no binary PTX snippet '{ptx}'; the library has {string.Join(", ", BinarySnippets.Keys)}", nameof(ptx));
        return emit(e, a, b);
    }

    /// <summary>
    /// IEEE 754-2019 maximum/minimum, as Math.Max/Min and TensorPrimitives: NaN if either is NaN, and +0 above −0. (PTX's
    /// max/min return the other operand for one NaN, and <c>.NaN</c> needs sm_80, so the cases are selected by hand.)
    /// </summary>
    internal static Reg MaxMin(PtxEntry e, Reg a, Reg b, bool max)
    {
        var t = Suffix(a);
        var bits = a.Type == PtxType.F32 ? PtxType.B32 : PtxType.B64;
        var b32 = a.Type == PtxType.F32 ? "b32" : "b64";
        var pick = e.Reg(PtxType.Pred);
        e.Op($"setp.{(max ? "gt" : "lt")}.{t} {pick}, {a}, {b}");
        var y = e.Reg(a.Type);
        e.Op($"selp.{t} {y}, {a}, {b}, {pick}");
        // Equal values (±0 among them): max ands the bits (−0 only if both are), min ors them.
        Reg ab = e.Reg(bits), bb = e.Reg(bits);
        e.Op($"mov.{b32} {ab}, {a}");
        e.Op($"mov.{b32} {bb}, {b}");
        e.Op($"{(max ? "and" : "or")}.{b32} {ab}, {ab}, {bb}");
        var joined = e.Reg(a.Type);
        e.Op($"mov.{b32} {joined}, {ab}");
        var equal = e.Reg(PtxType.Pred);
        e.Op($"setp.eq.{t} {equal}, {a}, {b}");
        e.Op($"selp.{t} {y}, {joined}, {y}, {equal}");
        var nan = e.Reg(PtxType.Pred);
        e.Op($"setp.nan.{t} {nan}, {a}, {b}");
        var sum = e.Reg(a.Type);
        e.Op($"add.rn.{t} {sum}, {a}, {b}");
        e.Op($"selp.{t} {y}, {sum}, {y}, {nan}");
        return y;
    }
}
