namespace Nabla.Kernels.Cuda;

// UNVERIFIED on hardware (see ElementwisePtx.cs).

/// <summary>The per-element instructions: binary ops and conversions, each matching HostBackend bit for bit.</summary>
internal static partial class ElementwisePtx
{
    /// <summary>
    /// op(a, b) on registers of dtype <paramref name="t"/>; the result register has <see cref="Kind"/> of
    /// <see cref="BinaryResult"/> (comparisons give a 0/1 bool).
    /// </summary>
    /// <remarks>
    /// Floats: + − · / round to nearest even with explicit <c>.rn</c> (which also forbids contraction into an FMA), no
    /// <c>.ftz</c>, so float32 results equal the CPU's. Maximum/minimum are IEEE 754-2019 maximum/minimum as .NET's
    /// Math.Max/Min: NaN if either is NaN (a's NaN first), and +0 &gt; −0. NotEqual is the unordered compare (NaN ≠ x is
    /// true); the other comparisons are ordered (false with NaN). Integers wrap; division truncates, x / 0 = 0 and
    /// x / −1 = −x (MIN / −1 = MIN), as IntegerDivOperator, with no trap.
    /// </remarks>
    private static string Apply(PtxKernelBuilder k, BinaryOp op, DType t, string a, string b)
    {
        if (t == DType.Bool) return ApplyBool(k, op, a, b);
        var type = Type(t);
        var isFloat = t is DType.Float32 or DType.Float64;
        switch (op)
        {
            case BinaryOp.Add or BinaryOp.Sub or BinaryOp.Mul or BinaryOp.Div when isFloat:
                return Emit(k, t, $"{OpName(op)}.rn.{type}", a, b);
            case BinaryOp.Add or BinaryOp.Sub:
                return Emit(k, t, $"{OpName(op)}.{type}", a, b);
            case BinaryOp.Mul:
                return Emit(k, t, $"mul.lo.{type}", a, b);
            case BinaryOp.Div:
                return IntegerDivide(k, t, a, b);
            case BinaryOp.Maximum or BinaryOp.Minimum when isFloat:
                return FloatExtremum(k, t, op == BinaryOp.Maximum, a, b);
            case BinaryOp.Maximum or BinaryOp.Minimum:
                return Emit(k, t, $"{(op == BinaryOp.Maximum ? "max" : "min")}.{type}", a, b);
            case BinaryOp.Equal or BinaryOp.NotEqual or BinaryOp.Less or BinaryOp.LessEqual or BinaryOp.Greater or BinaryOp.GreaterEqual:
                var p = k.Pred();
                k.Emit($"setp.{Comparison(op, isFloat)}.{type} {p}, {a}, {b};");
                return Bool(k, p);
            default:
                throw new NotSupportedException($"Binary {op} is not defined for {t.Name()}");
        }
    }

    private static string OpName(BinaryOp op) => op switch
    {
        BinaryOp.Add => "add",
        BinaryOp.Sub => "sub",
        BinaryOp.Mul => "mul",
        _ => "div",
    };

    private static string Comparison(BinaryOp op, bool isFloat) => op switch
    {
        BinaryOp.Equal => "eq",
        BinaryOp.NotEqual => isFloat ? "neu" : "ne",
        BinaryOp.Less => "lt",
        BinaryOp.LessEqual => "le",
        BinaryOp.Greater => "gt",
        _ => "ge",
    };

    private static string Emit(PtxKernelBuilder k, DType t, string instruction, string a, string b)
    {
        var r = k.Reg(Kind(t));
        k.Emit($"{instruction} {r}, {a}, {b};");
        return r;
    }

    /// <summary>A 0/1 bool register from a predicate.</summary>
    private static string Bool(PtxKernelBuilder k, string predicate)
    {
        var r = k.B32();
        k.Emit($"selp.u32 {r}, 1, 0, {predicate};");
        return r;
    }

    private static string ApplyBool(PtxKernelBuilder k, BinaryOp op, string a, string b)
    {
        var r = k.B32();
        switch (op)
        {
            case BinaryOp.LogicalAnd: k.Emit($"and.b32 {r}, {a}, {b};"); break;
            case BinaryOp.LogicalOr: k.Emit($"or.b32 {r}, {a}, {b};"); break;
            case BinaryOp.LogicalXor or BinaryOp.NotEqual: k.Emit($"xor.b32 {r}, {a}, {b};"); break;
            case BinaryOp.Equal:
                var p = k.Pred();
                k.Emit($"setp.eq.u32 {p}, {a}, {b};");
                return Bool(k, p);
            default: throw new NotSupportedException($"Binary {op} is not defined for bool");
        }
        return r;
    }

    /// <summary>a / b truncated, with b = 0 giving 0 and b = −1 giving −a, without ever dividing by 0 or −1 (undefined in PTX).</summary>
    private static string IntegerDivide(PtxKernelBuilder k, DType t, string a, string b)
    {
        var type = Type(t);
        string zero = k.Pred(), minusOne = k.Pred(), special = k.Pred();
        k.Emit($"setp.eq.{type} {zero}, {b}, 0;");
        k.Emit($"setp.eq.{type} {minusOne}, {b}, -1;");
        k.Emit($"or.pred {special}, {zero}, {minusOne};");
        string divisor = k.Reg(Kind(t)), quotient = k.Reg(Kind(t)), negated = k.Reg(Kind(t)), byMinusOne = k.Reg(Kind(t)), result = k.Reg(Kind(t));
        k.Emit($"selp.{type} {divisor}, 1, {b}, {special};");
        k.Emit($"div.{type} {quotient}, {a}, {divisor};");
        k.Emit($"neg.{type} {negated}, {a};");
        k.Emit($"selp.{type} {byMinusOne}, {negated}, {quotient}, {minusOne};");
        k.Emit($"selp.{type} {result}, 0, {byMinusOne}, {zero};");
        return result;
    }

    /// <summary>
    /// Math.Max/Min for floats, spelled out rather than PTX max/min (which return the non-NaN operand, and
    /// max.NaN needs sm_80): ordered compare, then for equal operands the bitwise AND (max: −0 only if both are −0)
    /// or OR (min: −0 if either is) of the bits, then a's NaN, then b's (what the compare already chose).
    /// </summary>
    private static string FloatExtremum(PtxKernelBuilder k, DType t, bool max, string a, string b)
    {
        var type = Type(t);
        var bits = t == DType.Float64 ? "b64" : "b32";
        string less = k.Pred(), equal = k.Pred(), aNaN = k.Pred();
        k.Emit(max ? $"setp.lt.{type} {less}, {b}, {a};" : $"setp.lt.{type} {less}, {a}, {b};");
        var chosen = k.Reg(Kind(t));
        k.Emit($"selp.{type} {chosen}, {a}, {b}, {less};");
        string ia = k.Reg(bits), ib = k.Reg(bits), ic = k.Reg(bits), zeros = k.Reg(Kind(t));
        k.Emit($"mov.{bits} {ia}, {a};");
        k.Emit($"mov.{bits} {ib}, {b};");
        k.Emit($"{(max ? "and" : "or")}.{bits} {ic}, {ia}, {ib};");
        k.Emit($"mov.{bits} {zeros}, {ic};");
        k.Emit($"setp.eq.{type} {equal}, {a}, {b};");
        var tied = k.Reg(Kind(t));
        k.Emit($"selp.{type} {tied}, {zeros}, {chosen}, {equal};");
        k.Emit($"setp.nan.{type} {aNaN}, {a}, {a};");
        var result = k.Reg(Kind(t));
        k.Emit($"selp.{type} {result}, {a}, {tied}, {aNaN};");
        return result;
    }

    /// <summary>
    /// Converts register <paramref name="v"/> of dtype <paramref name="from"/> to dtype <paramref name="to"/> as HostConvert:
    /// float.CreateSaturating / double.CreateSaturating (round to nearest even), int.CreateSaturating /
    /// long.CreateSaturating with NaN → 0 (cvt.rzi saturates float to int; the NaN test is explicit), and x != 0 for bool.
    /// </summary>
    private static string Convert(PtxKernelBuilder k, DType from, DType to, string v)
    {
        var source = from == DType.Bool ? DType.Int32 : from; // a bool is 0/1 in 32 bits: it converts as an int32
        var sourceFloat = source is DType.Float32 or DType.Float64;
        if (to == DType.Bool)
        {
            var p = k.Pred();
            var zero = source switch { DType.Float32 => "0f00000000", DType.Float64 => "0d0000000000000000", _ => "0" };
            k.Emit($"setp.{(sourceFloat ? "neu" : "ne")}.{Type(source)} {p}, {v}, {zero};");
            return Bool(k, p);
        }
        if (source == to) return v;
        var r = k.Reg(Kind(to));
        switch (source, to)
        {
            case (DType.Float32, DType.Float64): k.Emit($"cvt.f64.f32 {r}, {v};"); return r;
            case (DType.Float64, DType.Float32): k.Emit($"cvt.rn.f32.f64 {r}, {v};"); return r;
            case (DType.Int32, DType.Int64): k.Emit($"cvt.s64.s32 {r}, {v};"); return r;
            case (DType.Int64, DType.Int32):
                string low = k.B64(), clamped = k.B64();
                k.Emit($"max.s64 {low}, {v}, {Imm(int.MinValue)};");
                k.Emit($"min.s64 {clamped}, {low}, {Imm(int.MaxValue)};");
                k.Emit($"cvt.s32.s64 {r}, {clamped};");
                return r;
            case (DType.Int32 or DType.Int64, DType.Float32 or DType.Float64):
                k.Emit($"cvt.rn.{Type(to)}.{Type(source)} {r}, {v};");
                return r;
            case (DType.Float32 or DType.Float64, DType.Int32 or DType.Int64):
                k.Emit($"cvt.rzi.{Type(to)}.{Type(source)} {r}, {v};");
                var nan = k.Pred();
                k.Emit($"setp.nan.{Type(source)} {nan}, {v}, {v};");
                var result = k.Reg(Kind(to));
                k.Emit($"selp.{Type(to)} {result}, 0, {r}, {nan};");
                return result;
            default:
                throw new NotSupportedException($"no conversion from {from.Name()} to {to.Name()}");
        }
    }
}
