// UNVERIFIED on hardware: checked by the tests' PTX emulator against the CPU's float64 functions, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>The float64 functions built from exp and log: log1p, sigmoid and softplus in the CPU's formulas (ScalarMath), expm1 and tanh by fdlibm's methods.</summary>
internal static partial class PtxMath
{
    /// <summary>
    /// eˣ − 1 without cancellation (the CPU's ScalarMath.Expm1 uses Kahan's trick; this is faster on the GPU and as accurate):
    /// x = k·ln2 + r as in <see cref="Exp64"/> (x clamped to [−40, 710]), eʳ − 1 = r + r²·Q(r) by its Taylor series to r¹⁴,
    /// then eˣ − 1 = 2ᵏ·(eʳ − 1) + (2ᵏ − 1) for k &lt; 54 (2ᵏ·(eʳ − 1) and 2ᵏ − 1 are exact, so one rounding), and
    /// 2ᵏ·(1 + (eʳ − 1)) for larger k (the −1 is below half an ulp). |x| &lt; 2⁻⁵⁴ returns x (so expm1(−0) = −0).
    /// expm1(−Inf) = −1, expm1(+Inf) = +Inf, NaN stays NaN. Error ≤ 3 ulp (about).
    /// </summary>
    internal static Reg Expm164(PtxEntry e, Reg x)
    {
        var xc = F64(e, "max.f64", x, D(-40.0));
        e.Op($"min.f64 {xc}, {xc}, {D(710.0)}");
        var kf = F64(e, "mul.rn.f64", xc, D(Log2E));
        e.Op($"cvt.rni.f64.f64 {kf}, {kf}");
        var nk = F64(e, "neg.f64", kf);
        var r = F64(e, "fma.rn.f64", nk, D(Ln2Hi), xc);
        e.Op($"fma.rn.f64 {r}, {nk}, {D(Ln2Lo)}, {r}");
        // eʳ − 1 = r + r²·Σ_{n≥2} rⁿ⁻²/n!
        var q = Horner(e, r, ExpTaylor.AsSpan(2));
        var r2 = F64(e, "mul.rn.f64", r, r);
        var em = F64(e, "fma.rn.f64", r2, q, r);
        // Small k: 2ᵏ·em + (2ᵏ − 1), with 2ᵏ built exactly (k ≥ −58 here).
        var k = e.Reg(PtxType.B32);
        e.Op($"cvt.rzi.s32.f64 {k}, {kf}");
        var kSmall = e.Reg(PtxType.B32);
        e.Op($"min.s32 {kSmall}, {k}, 53");
        var scale = PowerOfTwo(e, kSmall);
        var small = F64(e, "sub.rn.f64", scale, D(1.0));
        e.Op($"fma.rn.f64 {small}, {scale}, {em}, {small}");
        // Large k: (1 + em)·2ᵏ in two exact steps, overflowing to +Inf above 709.78.
        var onePlus = F64(e, "add.rn.f64", em, D(1.0));
        var large = ScaleByPowerOfTwo(e, onePlus, kf);
        e.Op($"sub.rn.f64 {large}, {large}, {D(1.0)}");
        var big = Pred(e, "setp.ge.s32", k, 54);
        var y = F64(e, "selp.f64", large, small, big);
        var ax = F64(e, "abs.f64", x);
        var tiny = Pred(e, "setp.lt.f64", ax, D(Math.Pow(2, -54)));
        e.Op($"selp.f64 {y}, {x}, {y}, {tiny}");
        KeepNaN(e, y, x);
        return y;
    }

    /// <summary>
    /// ln(1 + x) as ScalarMath.Log1p: u = 1 + x; u = 1 → x; u infinite → ln u; else ln(u)·x / (u − 1) (the rounding of u cancels).
    /// log1p(−1) = −Inf, log1p(x &lt; −1) = NaN, NaN stays NaN.
    /// </summary>
    internal static Reg Log1p64(PtxEntry e, Reg x)
    {
        var u = F64(e, "add.rn.f64", x, D(1.0));
        var lg = Log64(e, u);
        var um1 = F64(e, "sub.rn.f64", u, D(1.0));
        var y = F64(e, "mul.rn.f64", lg, x);
        e.Op($"div.rn.f64 {y}, {y}, {um1}");
        var au = F64(e, "abs.f64", u);
        var infinite = Pred(e, "setp.eq.f64", au, D(double.PositiveInfinity));
        e.Op($"selp.f64 {y}, {lg}, {y}, {infinite}");
        var one = Pred(e, "setp.eq.f64", u, D(1.0));
        e.Op($"selp.f64 {y}, {x}, {y}, {one}");
        return y;
    }

    /// <summary>1/(1 + e⁻ˣ) as ScalarMath.Sigmoid: e = e^−|x|, then 1/(1 + e) for x ≥ 0 and e/(1 + e) below, so exp never overflows.</summary>
    internal static Reg Sigmoid64(PtxEntry e, Reg x)
    {
        var nax = F64(e, "abs.f64", x);
        e.Op($"neg.f64 {nax}, {nax}");
        var en = Exp64(e, nax);
        var d = F64(e, "add.rn.f64", en, D(1.0));
        // One division: the numerator is 1 for x ≥ 0 and e below (NaN: e, so NaN).
        var nonNegative = Pred(e, "setp.ge.f64", x, D(0.0));
        var numerator = F64(e, "selp.f64", D(1.0), en, nonNegative);
        return F64(e, "div.rn.f64", numerator, d);
    }

    /// <summary>ln(1 + eˣ) as ScalarMath.Softplus: max(x, 0) + log1p(e^−|x|); NaN stays NaN, softplus(+Inf) = +Inf, softplus(−Inf) = 0.</summary>
    internal static Reg Softplus64(PtxEntry e, Reg x)
    {
        var nax = F64(e, "abs.f64", x);
        e.Op($"neg.f64 {nax}, {nax}");
        var l = Log1p64(e, Exp64(e, nax));
        var m = F64(e, "max.f64", x, D(0.0));
        var y = F64(e, "add.rn.f64", m, l);
        KeepNaN(e, y, x);
        return y;
    }

    /// <summary>
    /// tanh x from one expm1 (fdlibm's formulas): with t = |x|, t &lt; 1 → −m/(m + 2) for m = expm1(−2t), else 1 − 2/(m + 2) for
    /// m = expm1(2t); the sign of x is copied on (tanh(−0) = −0). tanh(±Inf) = ±1, NaN stays NaN. Error ≤ 3 ulp (about).
    /// </summary>
    internal static Reg Tanh64(PtxEntry e, Reg x)
    {
        var t = F64(e, "abs.f64", x);
        var small = Pred(e, "setp.lt.f64", t, D(1.0));
        var twoT = F64(e, "add.rn.f64", t, t);
        var negTwoT = F64(e, "neg.f64", twoT);
        var a = F64(e, "selp.f64", negTwoT, twoT, small);
        var m = Expm164(e, a);
        var d = F64(e, "add.rn.f64", m, D(2.0));
        var zSmall = F64(e, "div.rn.f64", m, d);
        e.Op($"neg.f64 {zSmall}, {zSmall}");
        var zBig = F64(e, "div.rn.f64", D(2.0), d);
        e.Op($"sub.rn.f64 {zBig}, {D(1.0)}, {zBig}");
        var z = F64(e, "selp.f64", zSmall, zBig, small);
        // copysign(a, b): |b| with the sign of a.
        return F64(e, "copysign.f64", x, z);
    }
}
