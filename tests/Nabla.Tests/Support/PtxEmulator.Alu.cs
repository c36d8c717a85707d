using System.Numerics;

namespace Nabla.Tests.Support;

/// <summary>
/// The arithmetic of the PTX emulator on raw register bits: integer ops wrap at the type's width,
/// .rn float32 ops run in float32 (C# rounds each operation to nearest even; fma is
/// MathF.FusedMultiplyAdd), .ftz flushes subnormal inputs and results to sign-preserving zero, and
/// float32 NaN results are the canonical NaN 0x7FFFFFFF as on NVIDIA GPUs.
/// </summary>
/// <remarks>
/// The .approx functions (rcp, sqrt, rsqrt, ex2, lg2, sin, cos, tanh, div.approx/full) are computed
/// in double and rounded once, i.e. correctly rounded or nearly so; hardware differs by a few ulp
/// (ex2.approx ~2 ulp, lg2/sin/cos absolute error ~2^-22, tanh.approx ~2^-11 relative), so tests of
/// kernels that use them need tolerances of that size. Integer division or remainder by zero throws
/// (<see cref="PtxEmulatorException"/>): the ISA leaves the result unspecified, and a kernel that
/// divides by zero on a path it executes is a bug the emulator should report.
/// </remarks>
internal static class PtxAlu
{
    public const uint CanonicalNaN32 = 0x7FFF_FFFF;

    public static float F(ulong v) => BitConverter.UInt32BitsToSingle((uint)v);

    public static double D(ulong v) => BitConverter.UInt64BitsToDouble(v);

    public static ulong Bits(float f) => float.IsNaN(f) ? CanonicalNaN32 : BitConverter.SingleToUInt32Bits(f);

    public static ulong Bits(double d) => BitConverter.DoubleToUInt64Bits(d);

    public static float Flush(float x) => float.IsSubnormal(x) ? (x < 0 ? -0f : 0f) : x;

    public static float Sat(float x) => float.IsNaN(x) ? 0f : x < 0 ? 0f : x > 1 ? 1f : x;

    public static double Sat(double x) => double.IsNaN(x) ? 0d : x < 0 ? 0d : x > 1 ? 1d : x;

    /// <summary>The value of an integer register of type <paramref name="t"/>, sign- or zero-extended.</summary>
    public static long Signed(ulong v, int size) => size switch
    {
        1 => (sbyte)v, 2 => (short)v, 4 => (int)v, _ => (long)v,
    };

    public static ulong Unsigned(ulong v, int size) => size switch
    {
        1 => (byte)v, 2 => (ushort)v, 4 => (uint)v, _ => v,
    };

    /// <summary>Extends a value loaded as <paramref name="t"/> to 64 bits (sign for .s types, zero otherwise).</summary>
    public static ulong Extend(ulong v, PtxType t) => PtxTypes.IsSigned(t) ? (ulong)Signed(v, PtxTypes.Size(t)) : Unsigned(v, PtxTypes.Size(t));

    public static float MinF(float a, float b, bool nan)
    {
        if (float.IsNaN(a) || float.IsNaN(b)) return nan ? float.NaN : float.IsNaN(a) ? b : a;
        return MathF.Min(a, b);
    }

    public static float MaxF(float a, float b, bool nan)
    {
        if (float.IsNaN(a) || float.IsNaN(b)) return nan ? float.NaN : float.IsNaN(a) ? b : a;
        return MathF.Max(a, b);
    }

    public static double MinD(double a, double b, bool nan)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return nan ? double.NaN : double.IsNaN(a) ? b : a;
        return Math.Min(a, b);
    }

    public static double MaxD(double a, double b, bool nan)
    {
        if (double.IsNaN(a) || double.IsNaN(b)) return nan ? double.NaN : double.IsNaN(a) ? b : a;
        return Math.Max(a, b);
    }

    /// <summary>Integer binary ops (add sub mul div rem min max) of type <paramref name="t"/>; result zero-extended to 64 bits.</summary>
    public static ulong IntBinary(PtxInstr i, ulong a, ulong b, ulong c)
    {
        var size = PtxTypes.Size(i.T);
        var signed = PtxTypes.IsSigned(i.T);
        ulong r;
        switch (i.Op)
        {
            case PtxOp.Add or PtxOp.Sub:
                if (i.Sat)
                {
                    var s = i.Op == PtxOp.Add ? (long)(int)a + (int)b : (long)(int)a - (int)b;
                    return (uint)(int)Math.Clamp(s, int.MinValue, int.MaxValue);
                }
                r = i.Op == PtxOp.Add ? a + b : a - b;
                break;
            case PtxOp.Mul or PtxOp.Mad:
                r = MulPart(i.Mode, size, signed, a, b);
                if (i.Op == PtxOp.Mad)
                {
                    if (i.Sat)
                    {
                        var s = (long)(int)r + (int)c;
                        return (uint)(int)Math.Clamp(s, int.MinValue, int.MaxValue);
                    }
                    r += c;
                }
                if (i.Mode == 2) return Unsigned(r, size * 2);
                break;
            case PtxOp.Div or PtxOp.Rem:
                if (Unsigned(b, size) == 0) throw new PtxEmulatorException("integer division by zero");
                if (signed)
                {
                    long x = Signed(a, size), y = Signed(b, size);
                    if (y == -1) r = i.Op == PtxOp.Div ? (ulong)(0 - x) : 0; // wraps for the minimum value as the hardware does
                    else r = (ulong)(i.Op == PtxOp.Div ? x / y : x % y);
                }
                else
                {
                    ulong x = Unsigned(a, size), y = Unsigned(b, size);
                    r = i.Op == PtxOp.Div ? x / y : x % y;
                }
                break;
            case PtxOp.Min:
                r = signed ? (ulong)Math.Min(Signed(a, size), Signed(b, size)) : Math.Min(Unsigned(a, size), Unsigned(b, size));
                break;
            case PtxOp.Max:
                r = signed ? (ulong)Math.Max(Signed(a, size), Signed(b, size)) : Math.Max(Unsigned(a, size), Unsigned(b, size));
                break;
            default:
                throw new InvalidOperationException($"not an integer binary op: {i.Op}");
        }
        return Unsigned(r, size);
    }

    /// <summary>.lo (0), .hi (1) or .wide (2) part of a product.</summary>
    private static ulong MulPart(int mode, int size, bool signed, ulong a, ulong b)
    {
        if (mode == 0) return a * b;
        if (size == 8)
        {
            // .hi of 64-bit operands
            if (signed) return (ulong)Math.BigMul((long)a, (long)b, out _);
            return Math.BigMul(a, b, out _);
        }
        var product = signed ? (ulong)(Signed(a, size) * Signed(b, size)) : Unsigned(a, size) * Unsigned(b, size);
        return mode == 2 ? product : product >> (size * 8);
    }

    /// <summary>Float binary ops of f32 with .ftz/.sat.</summary>
    public static ulong F32Binary(PtxInstr i, ulong ab, ulong bb, ulong cb)
    {
        float a = F(ab), b = F(bb);
        if (i.Ftz) { a = Flush(a); b = Flush(b); }
        float r;
        switch (i.Op)
        {
            case PtxOp.Add: r = a + b; break;
            case PtxOp.Sub: r = a - b; break;
            case PtxOp.Mul: r = a * b; break;
            case PtxOp.Div: r = i.Approx ? (float)((double)a / b) : a / b; break;
            case PtxOp.Min: r = MinF(a, b, i.NaN); break;
            case PtxOp.Max: r = MaxF(a, b, i.NaN); break;
            case PtxOp.Mad or PtxOp.Fma:
                var c = F(cb);
                if (i.Ftz) c = Flush(c);
                r = MathF.FusedMultiplyAdd(a, b, c);
                break;
            default: throw new InvalidOperationException($"not a float binary op: {i.Op}");
        }
        if (i.Sat) r = Sat(r);
        if (i.Ftz) r = Flush(r);
        return Bits(r);
    }

    public static ulong F64Binary(PtxInstr i, ulong ab, ulong bb, ulong cb)
    {
        double a = D(ab), b = D(bb);
        var r = i.Op switch
        {
            PtxOp.Add => a + b,
            PtxOp.Sub => a - b,
            PtxOp.Mul => a * b,
            PtxOp.Div => a / b,
            PtxOp.Min => MinD(a, b, i.NaN),
            PtxOp.Max => MaxD(a, b, i.NaN),
            PtxOp.Mad or PtxOp.Fma => Math.FusedMultiplyAdd(a, b, D(cb)),
            _ => throw new InvalidOperationException($"not a float binary op: {i.Op}"),
        };
        return Bits(r);
    }

    /// <summary>setp/set comparison of <paramref name="a"/> and <paramref name="b"/> as type <see cref="PtxInstr.T2"/>.</summary>
    public static bool Compare(PtxInstr i, ulong a, ulong b)
    {
        var t = i.T2;
        if (PtxTypes.IsFloat(t))
        {
            double x, y;
            if (t == PtxType.F32)
            {
                float fx = F(a), fy = F(b);
                if (i.Ftz) { fx = Flush(fx); fy = Flush(fy); }
                (x, y) = (fx, fy);
            }
            else (x, y) = (D(a), D(b));
            var nan = double.IsNaN(x) || double.IsNaN(y);
            return i.Cmp switch
            {
                PtxCmp.Eq => !nan && x == y, PtxCmp.Ne => !nan && x != y, PtxCmp.Lt => !nan && x < y,
                PtxCmp.Le => !nan && x <= y, PtxCmp.Gt => !nan && x > y, PtxCmp.Ge => !nan && x >= y,
                PtxCmp.Equ => nan || x == y, PtxCmp.Neu => nan || x != y, PtxCmp.Ltu => nan || x < y,
                PtxCmp.Leu => nan || x <= y, PtxCmp.Gtu => nan || x > y, PtxCmp.Geu => nan || x >= y,
                PtxCmp.Num => !nan, PtxCmp.Nan => nan,
                _ => throw new InvalidOperationException($"comparison {i.Cmp} on floats"),
            };
        }
        var size = PtxTypes.Size(t);
        if (PtxTypes.IsSigned(t) && i.Cmp < PtxCmp.Lo)
        {
            long x = Signed(a, size), y = Signed(b, size);
            return i.Cmp switch
            {
                PtxCmp.Eq => x == y, PtxCmp.Ne => x != y, PtxCmp.Lt => x < y, PtxCmp.Le => x <= y, PtxCmp.Gt => x > y, _ => x >= y,
            };
        }
        ulong u = Unsigned(a, size), v = Unsigned(b, size);
        return i.Cmp switch
        {
            PtxCmp.Eq => u == v, PtxCmp.Ne => u != v,
            PtxCmp.Lt or PtxCmp.Lo => u < v, PtxCmp.Le or PtxCmp.Ls => u <= v,
            PtxCmp.Gt or PtxCmp.Hi => u > v, PtxCmp.Ge or PtxCmp.Hs => u >= v,
            _ => throw new InvalidOperationException($"comparison {i.Cmp} on integers"),
        };
    }

    /// <summary>rcp, sqrt, rsqrt, ex2, lg2, sin, cos, tanh.</summary>
    public static ulong Math1(PtxInstr i, ulong a)
    {
        if (i.T == PtxType.F64)
        {
            var x = D(a);
            if (i.Ftz && double.IsSubnormal(x)) x = x < 0 ? -0d : 0d;
            return Bits(i.Op switch
            {
                PtxOp.Rcp => 1d / x,
                PtxOp.Sqrt => Math.Sqrt(x),
                PtxOp.Rsqrt => 1d / Math.Sqrt(x),
                _ => throw new InvalidOperationException($"{i.Op}.f64"),
            });
        }
        var f = F(a);
        if (i.Ftz) f = Flush(f);
        float r = i.Op switch
        {
            PtxOp.Rcp => i.Approx ? (float)(1d / f) : 1f / f,
            PtxOp.Sqrt => MathF.Sqrt(f),
            PtxOp.Rsqrt => (float)(1d / Math.Sqrt(f)),
            PtxOp.Ex2 => (float)Math.Pow(2d, f),
            PtxOp.Lg2 => (float)Math.Log2(f),
            PtxOp.Sin => (float)Math.Sin(f),
            PtxOp.Cos => (float)Math.Cos(f),
            PtxOp.Tanh => (float)Math.Tanh(f),
            _ => throw new InvalidOperationException($"{i.Op}.f32"),
        };
        if (i.Ftz) r = Flush(r);
        return Bits(r);
    }

    public static bool Testp(int mode, PtxType t, ulong a)
    {
        var x = t == PtxType.F32 ? F(a) : D(a);
        return mode switch
        {
            0 => double.IsFinite(x),
            1 => double.IsInfinity(x),
            2 => !double.IsNaN(x),
            3 => double.IsNaN(x),
            4 => t == PtxType.F32 ? float.IsNormal(F(a)) : double.IsNormal(x),
            _ => t == PtxType.F32 ? float.IsSubnormal(F(a)) : double.IsSubnormal(x),
        };
    }

    public static ulong Brev(ulong v, int bits)
    {
        ulong r = 0;
        for (var k = 0; k < bits; k++) r |= ((v >> k) & 1) << (bits - 1 - k);
        return r;
    }

    /// <summary>bfe per the ISA: pos and len are the low 8 bits of b and c; the field is sign-extended for .s types.</summary>
    public static ulong Bfe(PtxType t, ulong a, ulong b, ulong c)
    {
        var bits = PtxTypes.Size(t) * 8;
        var msb = bits - 1;
        int pos = (int)(b & 0xFF), len = (int)(c & 0xFF);
        var sbit = PtxTypes.IsSigned(t) && len > 0 ? (a >> Math.Min(pos + len - 1, msb)) & 1 : 0;
        ulong d = 0;
        for (var k = 0; k <= msb; k++)
        {
            var bit = k < len && pos + k <= msb ? (a >> (pos + k)) & 1 : sbit;
            d |= bit << k;
        }
        return d;
    }

    public static ulong Bfi(PtxType t, ulong f, ulong b, ulong c, ulong e)
    {
        var msb = PtxTypes.Size(t) * 8 - 1;
        int pos = (int)(c & 0xFF), len = (int)(e & 0xFF);
        var d = b;
        for (var k = 0; k < len && pos + k <= msb; k++)
            d = (d & ~(1UL << (pos + k))) | (((f >> k) & 1) << (pos + k));
        return Unsigned(d, msb + 1 >> 3);
    }

    /// <summary>prmt.b32 default mode: each selector nibble picks a byte of {b, a}; its bit 3 replicates the byte's sign.</summary>
    public static ulong Prmt(ulong a, ulong b, ulong c)
    {
        var source = ((ulong)(uint)b << 32) | (uint)a;
        uint d = 0;
        for (var k = 0; k < 4; k++)
        {
            var sel = (int)(c >> (4 * k)) & 0xF;
            var value = (uint)(source >> (8 * (sel & 7))) & 0xFF;
            if ((sel & 8) != 0) value = (value & 0x80) != 0 ? 0xFFu : 0u;
            d |= value << (8 * k);
        }
        return d;
    }

    public static ulong Popc(ulong v, int size) => (ulong)BitOperations.PopCount(Unsigned(v, size));

    public static ulong Clz(ulong v, int size) => size == 4 ? (ulong)BitOperations.LeadingZeroCount((uint)v) : (ulong)BitOperations.LeadingZeroCount(v);
}
