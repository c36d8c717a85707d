// UNVERIFIED on hardware: checked by the tests' PTX emulator against MathNet's Erf, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>The error function in float64.</summary>
internal static partial class PtxMath
{
    private const double TwoOverSqrtPi = 1.1283791670955126; // 2/√π
    private const double OneOverSqrtPi = 0.5641895835477563; // 1/√π

    /// <summary>Terms of the series for |x| &lt; 2: the first omitted term is below 2⁻⁵⁶ of the sum at |x| = 2.</summary>
    private const int ErfSeriesTerms = 45;

    /// <summary>Levels of the continued fraction for 2 ≤ |x| &lt; 6: erfc to 1e-13 relative at |x| = 2 (so erf to 1 ulp).</summary>
    private const int ErfcFractionLevels = 40;

    /// <summary>
    /// erf x, both forms evaluated without branches and the right one selected, with g = e^(−x²) from x² = hi + lo (lo by fma,
    /// so g carries no error from rounding x²):
    /// <list type="bullet">
    /// <item>|x| &lt; 2: erf x = (2/√π)·x·g·Σₙ (2x²)ⁿ/(2n+1)!! (all terms positive, no cancellation), by Horner's rule;</item>
    /// <item>2 ≤ |x| &lt; 6: erf x = 1 − g/√π / K with the continued fraction K = x + (1/2)/(x + 1/(x + (3/2)/(x + …))),
    /// evaluated bottom-up as a ratio P/Q so it needs one division;</item>
    /// <item>|x| ≥ 6: ±1 (erfc 6 ≈ 2·10⁻¹⁷ is below half an ulp of 1).</item>
    /// </list>
    /// The sign of x is copied on, except that erf(−0) = +0 as on the CPU (MathNet); NaN stays NaN. Error ≤ 6e-16 relative (measured in float64 arithmetic).
    /// </summary>
    internal static Reg Erf64(PtxEntry e, Reg x)
    {
        var ax = F64(e, "abs.f64", x);
        var hi = F64(e, "mul.rn.f64", ax, ax);
        var nhi = F64(e, "neg.f64", hi);
        var lo = F64(e, "fma.rn.f64", ax, ax, nhi);
        var g = Exp64(e, nhi);
        var ng = F64(e, "neg.f64", g);
        e.Op($"fma.rn.f64 {g}, {ng}, {lo}, {g}");

        // Series: S = 1 + a/3·(1 + a/5·(1 + …)), a = 2x².
        var a = F64(e, "add.rn.f64", hi, hi);
        var sum = e.Const(PtxType.F64, 1.0);
        var step = e.Reg(PtxType.F64);
        for (var n = ErfSeriesTerms; n >= 1; n--)
        {
            e.Op($"mul.rn.f64 {step}, {a}, {D(1.0 / (2 * n + 1))}");
            e.Op($"fma.rn.f64 {sum}, {sum}, {step}, {D(1.0)}");
        }
        var series = F64(e, "mul.rn.f64", ax, D(TwoOverSqrtPi));
        e.Op($"mul.rn.f64 {series}, {series}, {g}");
        e.Op($"mul.rn.f64 {series}, {series}, {sum}");

        // Continued fraction, bottom-up: K_k = x + (k/2)/K_{k+1} with K = P/Q, so P ← x·P + (k/2)·Q, Q ← P.
        var p = F64(e, "mov.f64", ax);
        var q = e.Const(PtxType.F64, 1.0);
        var next = e.Reg(PtxType.F64);
        for (var k = ErfcFractionLevels; k >= 1; k--)
        {
            e.Op($"mul.rn.f64 {next}, {q}, {D(k / 2.0)}");
            e.Op($"fma.rn.f64 {next}, {ax}, {p}, {next}");
            e.Op($"mov.f64 {q}, {p}");
            e.Op($"mov.f64 {p}, {next}");
        }
        var tail = F64(e, "mul.rn.f64", g, D(OneOverSqrtPi));
        e.Op($"mul.rn.f64 {tail}, {tail}, {q}");
        e.Op($"div.rn.f64 {tail}, {tail}, {p}");
        var fraction = F64(e, "sub.rn.f64", D(1.0), tail);

        var small = Pred(e, "setp.lt.f64", ax, D(2.0));
        var y = F64(e, "selp.f64", series, fraction, small);
        var saturated = Pred(e, "setp.ge.f64", ax, D(6.0));
        e.Op($"selp.f64 {y}, {D(1.0)}, {y}, {saturated}");
        y = F64(e, "copysign.f64", x, y);
        // The CPU's erf (MathNet) returns +0 for −0; so does this.
        var zero = Pred(e, "setp.eq.f64", x, D(0.0));
        e.Op($"selp.f64 {y}, {D(0.0)}, {y}, {zero}");
        return y;
    }
}
