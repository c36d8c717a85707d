// UNVERIFIED on hardware: checked by the tests' PTX emulator against the CPU's float64 functions, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>The float64 functions built from exp and log, in the CPU's formulas (ScalarMath), so both backends round alike.</summary>
internal static partial class PtxMath
{
    /// <summary>
    /// eˣ − 1 as ScalarMath.Expm1 (Kahan's trick): |x| &gt; 0.5 → eˣ − 1; else u = eˣ, u = 1 → x, else (u − 1)·x / ln u.
    /// expm1(−Inf) = −1, expm1(+Inf) = +Inf, NaN stays NaN.
    /// </summary>
    internal static Reg Expm164(PtxEntry e, Reg x)
    {
        var u = Exp64(e, x);
        var um1 = F64(e, "sub.rn.f64", u, D(1.0));
        var lg = Log64(e, u);
        var y = F64(e, "mul.rn.f64", um1, x);
        e.Op($"div.rn.f64 {y}, {y}, {lg}");
        var one = Pred(e, "setp.eq.f64", u, D(1.0));
        e.Op($"selp.f64 {y}, {x}, {y}, {one}");
        var ax = F64(e, "abs.f64", x);
        var big = Pred(e, "setp.gt.f64", ax, D(0.5));
        e.Op($"selp.f64 {y}, {um1}, {y}, {big}");
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
        var pos = F64(e, "rcp.rn.f64", d);
        var neg = F64(e, "div.rn.f64", en, d);
        var nonNegative = Pred(e, "setp.ge.f64", x, D(0.0));
        return F64(e, "selp.f64", pos, neg, nonNegative);
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
