// UNVERIFIED on hardware: checked by the tests' PTX emulator against Math.Pow and MathF.Pow, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>pow in float64 (and float32 through it).</summary>
internal static partial class PtxMath
{
    /// <summary>
    /// aᵇ (F32 or F64 registers of the same class) with the special cases of C99/IEEE pow, as Math.Pow and MathF.Pow:
    /// pow(x, ±0) = 1 and pow(1, y) = 1 even for NaN; pow(−1, ±Inf) = 1; a negative finite base with a non-integral
    /// exponent gives NaN; signed zeros and infinities as C99 F.9.4.4; NaN otherwise propagates.
    /// </summary>
    /// <remarks>
    /// Computed as e^(b·ln|a|) with ln|a| as a double plus the rounding error of its last step, the product b·ln|a| kept as a
    /// double-double (fma), and the exponential corrected by its low part. The float64 error is about |b·ln m|·2⁻⁵³ relative
    /// plus 2 ulp, where ln m ∈ [−0.35, 0.35] is the part of ln|a| below a multiple of ln 2 (a few ulp for |b| ≤ 10; up to
    /// ~100 ulp for |b| in the hundreds). Float32 rounds the float64 result once.
    /// </remarks>
    public static Reg Pow(PtxEntry e, Reg a, Reg b)
    {
        RequireFloat(a);
        if (a.Type != b.Type) throw new ArgumentException($"pow takes registers of one class, not {a.Type} and {b.Type}", nameof(b));
        e.Comment($"pow({a}, {b})");
        if (a.Type == PtxType.F64) return Pow64(e, a, b);
        Reg wa = e.Reg(PtxType.F64), wb = e.Reg(PtxType.F64);
        e.Op($"cvt.f64.f32 {wa}, {a}");
        e.Op($"cvt.f64.f32 {wb}, {b}");
        var r = Pow64(e, wa, wb);
        var y = e.Reg(PtxType.F32);
        e.Op($"cvt.rn.f32.f64 {y}, {r}");
        return y;
    }

    private static Reg Pow64(PtxEntry e, Reg x, Reg y)
    {
        var ax = F64(e, "abs.f64", x);
        var (l, llo) = Log64Parts(e, ax);
        var hi = F64(e, "mul.rn.f64", y, l);
        var nhi = F64(e, "neg.f64", hi);
        var lo = F64(e, "fma.rn.f64", y, l, nhi);
        e.Op($"fma.rn.f64 {lo}, {y}, {llo}, {lo}");
        var r = Exp64(e, hi);
        // r·(1 + lo), unless hi is out of exp's range (lo is then NaN or meaningless, and r 0 or Inf).
        var corrected = F64(e, "fma.rn.f64", r, lo, r);
        var ahi = F64(e, "abs.f64", hi);
        var extreme = Pred(e, "setp.gt.f64", ahi, D(700.0));
        e.Op($"selp.f64 {r}, {r}, {corrected}, {extreme}");

        // Integral and odd exponents (±Inf counts as integral and even; |y| ≥ 2⁵³ is even).
        var yi = F64(e, "cvt.rzi.f64.f64", y);
        var integral = Pred(e, "setp.eq.f64", yi, y);
        var half = F64(e, "mul.rn.f64", y, D(0.5));
        var halfInt = F64(e, "cvt.rzi.f64.f64", half);
        var odd = Pred(e, "setp.ne.f64", halfInt, half);
        e.Op($"and.pred {odd}, {odd}, {integral}");

        // A negative base (sign bit set, so −0 too) to an odd power is negative.
        var bits = e.Reg(PtxType.B64);
        e.Op($"mov.b64 {bits}, {x}");
        var signBit = Pred(e, "setp.lt.s64", bits, 0);
        e.Op($"and.pred {signBit}, {signBit}, {odd}");
        var minus = F64(e, "neg.f64", r);
        e.Op($"selp.f64 {r}, {minus}, {r}, {signBit}");

        // A negative finite base to a non-integral power is NaN.
        var negative = Pred(e, "setp.lt.f64", x, D(0.0));
        var finite = Pred(e, "setp.lt.f64", ax, D(double.PositiveInfinity));
        e.Op($"and.pred {negative}, {negative}, {finite}");
        var notIntegral = Pred(e, "setp.neu.f64", yi, y);
        e.Op($"and.pred {negative}, {negative}, {notIntegral}");
        e.Op($"selp.f64 {r}, {D(double.NaN)}, {r}, {negative}");

        // pow(±1, ±Inf) = 1, pow(1, y) = 1, pow(x, ±0) = 1.
        var unit = Pred(e, "setp.eq.f64", ax, D(1.0));
        var ay = F64(e, "abs.f64", y);
        var infiniteY = Pred(e, "setp.eq.f64", ay, D(double.PositiveInfinity));
        e.Op($"and.pred {unit}, {unit}, {infiniteY}");
        var one = Pred(e, "setp.eq.f64", x, D(1.0));
        e.Op($"or.pred {unit}, {unit}, {one}");
        var zero = Pred(e, "setp.eq.f64", y, D(0.0));
        e.Op($"or.pred {unit}, {unit}, {zero}");
        e.Op($"selp.f64 {r}, {D(1.0)}, {r}, {unit}");
        return r;
    }
}
