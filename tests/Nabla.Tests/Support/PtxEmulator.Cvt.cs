namespace Nabla.Tests.Support;

/// <summary>
/// cvt: integer↔integer (truncate or, with .sat, clamp), float→integer (rounded by .rni/.rzi/.rmi/.rpi,
/// always saturating, NaN → 0, as the ISA specifies for sm_20 and later), integer→float and float
/// narrowing with .rn/.rz/.rm/.rp (exact: the round-to-nearest result is corrected by one ulp where the
/// directed mode requires), float widening (exact), and float→same float rounding to an integer.
/// </summary>
internal static class PtxCvt
{
    public static ulong Convert(PtxInstr i, ulong a)
    {
        PtxType d = i.T, s = i.T2;
        bool dFloat = PtxTypes.IsFloat(d), sFloat = PtxTypes.IsFloat(s);
        if (!sFloat)
        {
            Int128 v = PtxTypes.IsSigned(s) ? PtxAlu.Signed(a, PtxTypes.Size(s)) : PtxAlu.Unsigned(a, PtxTypes.Size(s));
            if (!dFloat) return FromInteger(v, d, i.Sat);
            return FromFloat(IntToFloat(v, d, i.Round), d, i.Sat, i.Ftz);
        }
        double x = s switch
        {
            PtxType.F32 => i.Ftz ? PtxAlu.Flush(PtxAlu.F(a)) : PtxAlu.F(a),
            PtxType.F64 => PtxAlu.D(a),
            _ => (double)BitConverter.UInt16BitsToHalf((ushort)a),
        };
        if (!dFloat)
        {
            if (double.IsNaN(x)) return 0;
            var r = RoundToInteger(x, i.Round);
            var size = PtxTypes.Size(d);
            double lo = PtxTypes.IsSigned(d) ? -Math.Pow(2, size * 8 - 1) : 0, hi = PtxTypes.IsSigned(d) ? Math.Pow(2, size * 8 - 1) - 1 : Math.Pow(2, size * 8) - 1;
            if (r <= lo) return FromInteger(PtxTypes.IsSigned(d) ? -(Int128.One << (size * 8 - 1)) : 0, d, false);
            if (r >= hi) return FromInteger(PtxTypes.IsSigned(d) ? (Int128.One << (size * 8 - 1)) - 1 : (Int128.One << (size * 8)) - 1, d, false);
            return FromInteger((Int128)r, d, false);
        }
        if (d == s) return FromFloat(RoundToInteger(x, i.Round), d, i.Sat, i.Ftz);
        return d switch
        {
            PtxType.F64 => FromFloat(x, d, i.Sat, i.Ftz),
            PtxType.F32 => FromFloat(NarrowToSingle(x, i.Round), d, i.Sat, i.Ftz),
            _ => i.Round == PtxRound.Rn ? FromFloat((double)(Half)x, d, i.Sat, i.Ftz)
                : throw new NotSupportedException($"cvt to .f16 with rounding {i.Round} is not emulated"),
        };
    }

    private static double RoundToInteger(double x, PtxRound round) => round switch
    {
        PtxRound.Rni => Math.Round(x, MidpointRounding.ToEven),
        PtxRound.Rzi => Math.Truncate(x),
        PtxRound.Rmi => Math.Floor(x),
        PtxRound.Rpi => Math.Ceiling(x),
        PtxRound.None => x,
        _ => throw new InvalidOperationException($"integer rounding expected, got {round}"),
    };

    private static ulong FromInteger(Int128 v, PtxType d, bool sat)
    {
        var size = PtxTypes.Size(d);
        if (sat)
        {
            Int128 lo = PtxTypes.IsSigned(d) ? -(Int128.One << (size * 8 - 1)) : 0;
            Int128 hi = PtxTypes.IsSigned(d) ? (Int128.One << (size * 8 - 1)) - 1 : (Int128.One << (size * 8)) - 1;
            v = v < lo ? lo : v > hi ? hi : v;
        }
        var bits = (ulong)(v & ulong.MaxValue);
        return PtxAlu.Extend(bits, d);
    }

    /// <summary>The bits of <paramref name="x"/> (already rounded to <paramref name="d"/>) with .sat and .ftz applied.</summary>
    private static ulong FromFloat(double x, PtxType d, bool sat, bool ftz)
    {
        if (sat) x = PtxAlu.Sat(x);
        switch (d)
        {
            case PtxType.F32:
                var f = (float)x;
                if (ftz) f = PtxAlu.Flush(f);
                return PtxAlu.Bits(f);
            case PtxType.F64:
                return PtxAlu.Bits(x);
            default:
                return BitConverter.HalfToUInt16Bits((Half)x);
        }
    }

    /// <summary>x rounded to float32 with the directed mode (exact: x is a double, compared exactly with the candidate).</summary>
    private static double NarrowToSingle(double x, PtxRound round)
    {
        var f = (float)x;
        if (double.IsNaN(x) || round == PtxRound.Rn || (double)f == x) return f;
        var up = (double)f > x;
        f = round switch
        {
            PtxRound.Rz => (x > 0) == up ? (up ? MathF.BitDecrement(f) : MathF.BitIncrement(f)) : f,
            PtxRound.Rm => up ? MathF.BitDecrement(f) : f,
            PtxRound.Rp => up ? f : MathF.BitIncrement(f),
            _ => throw new InvalidOperationException($"float rounding expected, got {round}"),
        };
        return f;
    }

    private static double IntToFloat(Int128 v, PtxType d, PtxRound round)
    {
        if (d == PtxType.F64)
        {
            var r = (double)v;
            var exact = (Int128)r;
            if (round == PtxRound.Rn || exact == v) return r;
            var up = exact > v;
            return round switch
            {
                PtxRound.Rz => (v > 0) == up ? (up ? Math.BitDecrement(r) : Math.BitIncrement(r)) : r,
                PtxRound.Rm => up ? Math.BitDecrement(r) : r,
                PtxRound.Rp => up ? r : Math.BitIncrement(r),
                _ => throw new InvalidOperationException($"float rounding expected, got {round}"),
            };
        }
        if (d == PtxType.F16)
        {
            if (round != PtxRound.Rn) throw new NotSupportedException("integer to .f16 with a directed rounding is not emulated");
            return (double)(Half)(double)v;
        }
        var f = (float)v;
        var fe = float.IsInfinity(f) ? (f > 0 ? Int128.MaxValue : Int128.MinValue) : (Int128)(double)f;
        if (round == PtxRound.Rn || fe == v) return f;
        var above = fe > v;
        f = round switch
        {
            PtxRound.Rz => (v > 0) == above ? (above ? MathF.BitDecrement(f) : MathF.BitIncrement(f)) : f,
            PtxRound.Rm => above ? MathF.BitDecrement(f) : f,
            PtxRound.Rp => above ? f : MathF.BitIncrement(f),
            _ => throw new InvalidOperationException($"float rounding expected, got {round}"),
        };
        return f;
    }
}
