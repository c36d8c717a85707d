// UNVERIFIED on hardware: checked by the tests' PTX emulator against the CPU's float64 functions, not yet on a GPU.

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>The float64 transcendental functions: range reduction and polynomials, every step an IEEE-rounded PTX instruction.</summary>
internal static partial class PtxMath
{
    private static readonly double Ln2Hi = BitConverter.UInt64BitsToDouble(0x3FE62E42FEE00000); // ln 2 to 32 bits (fdlibm's split): k·Ln2Hi is exact for |k| < 2²¹
    private static readonly double Ln2Lo = BitConverter.UInt64BitsToDouble(0x3DEA39EF35793C76); // ln 2 − Ln2Hi
    private static readonly double Ln2 = Math.Log(2.0);
    private const double Log2E = 1.4426950408889634;

    /// <summary>1/n! for n = 0 … 13: the Taylor coefficients of eʳ; with |r| ≤ ln2/2 the first omitted term is below 2⁻⁵⁸.</summary>
    private static readonly double[] ExpTaylor = Enumerable.Range(0, 14).Select(n => 1.0 / Factorial(n)).ToArray();

    /// <summary>2/(2k+1) for k = 1 … 11: log(1+f) = f − f²/2 + s·(f²/2 + R), R = Σ 2 s²ᵏ/(2k+1), s = f/(2+f), |s| ≤ 0.1716 (fdlibm's
    /// arrangement, with the exact series instead of a minimax fit: the first omitted term is below 2⁻⁵⁹ of the result).</summary>
    private static readonly double[] LogSeries = Enumerable.Range(1, 11).Select(k => 2.0 / (2 * k + 1)).ToArray();

    private static double Factorial(int n)
    {
        var f = 1.0;
        for (var i = 2; i <= n; i++) f *= i;
        return f;
    }

    private static string D(double v) => PtxWriter.F64(v);

    /// <summary>p(x) = c[n−1]·x^(n−1) + … + c[0] by Horner's rule with fused multiply-adds.</summary>
    private static Reg Horner(PtxEntry e, Reg x, ReadOnlySpan<double> c)
    {
        var p = e.Const(PtxType.F64, c[^1]);
        for (var i = c.Length - 2; i >= 0; i--) e.Op($"fma.rn.f64 {p}, {p}, {x}, {D(c[i])}");
        return p;
    }

    private static Reg F64(PtxEntry e, string op, params object[] operands)
    {
        var y = e.Reg(PtxType.F64);
        e.Op($"{op} {y}, {string.Join(", ", operands)}");
        return y;
    }

    private static Reg Pred(PtxEntry e, string op, object a, object b)
    {
        var p = e.Reg(PtxType.Pred);
        e.Op($"{op} {p}, {a}, {b}");
        return p;
    }

    /// <summary>y ← x where x is NaN (the min/max clamps and integer conversions lose NaN).</summary>
    private static void KeepNaN(PtxEntry e, Reg y, Reg x)
    {
        var nan = Pred(e, "setp.nan.f64", x, x);
        e.Op($"selp.f64 {y}, {x}, {y}, {nan}");
    }

    /// <summary>
    /// eˣ: x = k·ln2 + r with k = rint(x·log₂e) and r by a two-step Cody–Waite reduction (fma, so the first step is exact),
    /// eʳ by its Taylor polynomial of degree 13 (|r| ≤ 0.347), scaled by 2ᵏ as two exact powers 2^⌊k/2⌋·2^(k−⌊k/2⌋) so that
    /// results near overflow and in the subnormal range round once. x is clamped to [−746, 710] first: below, the result is 0;
    /// above, +Inf. Error ≤ 1 ulp (about).
    /// </summary>
    internal static Reg Exp64(PtxEntry e, Reg x)
    {
        var xc = F64(e, "max.f64", x, D(-746.0));
        e.Op($"min.f64 {xc}, {xc}, {D(710.0)}");
        var kf = F64(e, "mul.rn.f64", xc, D(Log2E));
        e.Op($"cvt.rni.f64.f64 {kf}, {kf}");
        var nk = F64(e, "neg.f64", kf);
        var r = F64(e, "fma.rn.f64", nk, D(Ln2Hi), xc);
        e.Op($"fma.rn.f64 {r}, {nk}, {D(Ln2Lo)}, {r}");
        var p = Horner(e, r, ExpTaylor);
        var y = ScaleByPowerOfTwo(e, p, kf);
        KeepNaN(e, y, x);
        return y;
    }

    /// <summary>p·2ᵏ for an integral k (F64) in [−1100, 1100]: two multiplications by normal powers of two, so only the last rounds.</summary>
    private static Reg ScaleByPowerOfTwo(PtxEntry e, Reg p, Reg kf)
    {
        Reg k = e.Reg(PtxType.B32), k1 = e.Reg(PtxType.B32), k2 = e.Reg(PtxType.B32);
        e.Op($"cvt.rzi.s32.f64 {k}, {kf}");
        e.Op($"shr.s32 {k1}, {k}, 1");
        e.Op($"sub.s32 {k2}, {k}, {k1}");
        var y = F64(e, "mul.rn.f64", p, PowerOfTwo(e, k1));
        e.Op($"mul.rn.f64 {y}, {y}, {PowerOfTwo(e, k2)}");
        return y;
    }

    /// <summary>2ᵏ for k (B32) in [−1022, 1023], built from its exponent bits.</summary>
    private static Reg PowerOfTwo(PtxEntry e, Reg k)
    {
        var biased = e.Reg(PtxType.B32);
        e.Op($"add.s32 {biased}, {k}, 1023");
        var bits = e.Reg(PtxType.B64);
        e.Op($"cvt.u64.u32 {bits}, {biased}");
        e.Op($"shl.b64 {bits}, {bits}, 52");
        return F64(e, "mov.b64", bits);
    }

    /// <summary>
    /// ln x: x = 2ᵉ·m with m in [√2/2, √2) (subnormals scaled by 2⁵⁴ first), f = m − 1 (exact), s = f/(2+f), and
    /// ln x = e·ln2 + f − f²/2 + s·(f²/2 + R(s²)) in fdlibm's order (e·ln2 split in two so e·Ln2Hi is exact). Error ≤ 1 ulp (about).
    /// ln(±0) = −Inf, ln(x &lt; 0) = NaN, ln(+Inf) = +Inf, NaN stays NaN.
    /// </summary>
    internal static Reg Log64(PtxEntry e, Reg x) => Log64Parts(e, x).Y;

    /// <summary>
    /// <see cref="Log64"/> and the rounding error of its last addition (ln x ≈ Y + Lo to about 2⁻⁵³ of the part below e·ln2,
    /// by Fast2Sum), which pow uses to keep b·ln a accurate for large |ln a|. Lo is meaningless where Y is not finite.
    /// </summary>
    internal static (Reg Y, Reg Lo) Log64Parts(PtxEntry e, Reg x)
    {
        var sub = Pred(e, "setp.lt.f64", x, D(BitConverter.UInt64BitsToDouble(0x0010000000000000)));
        var xs = F64(e, "mul.rn.f64", x, D(Math.Pow(2, 54)));
        e.Op($"selp.f64 {xs}, {xs}, {x}, {sub}");
        var adjust = e.Reg(PtxType.B32);
        e.Op($"selp.s32 {adjust}, -54, 0, {sub}");
        var bits = e.Reg(PtxType.B64);
        e.Op($"mov.b64 {bits}, {xs}");
        var top = e.Reg(PtxType.B64);
        e.Op($"shr.u64 {top}, {bits}, 52");
        var exponent = e.Reg(PtxType.B32);
        e.Op($"cvt.u32.u64 {exponent}, {top}");
        e.Op($"and.b32 {exponent}, {exponent}, 2047");
        e.Op($"add.s32 {exponent}, {exponent}, -1023");
        e.Op($"add.s32 {exponent}, {exponent}, {adjust}");
        e.Op($"and.b64 {bits}, {bits}, 0x000FFFFFFFFFFFFF");
        e.Op($"or.b64 {bits}, {bits}, 0x3FF0000000000000");
        var m = F64(e, "mov.b64", bits);
        var big = Pred(e, "setp.gt.f64", m, D(Math.Sqrt(2.0)));
        var half = F64(e, "mul.rn.f64", m, D(0.5));
        e.Op($"selp.f64 {m}, {half}, {m}, {big}");
        var plus = e.Reg(PtxType.B32);
        e.Op($"selp.s32 {plus}, 1, 0, {big}");
        e.Op($"add.s32 {exponent}, {exponent}, {plus}");
        var dk = F64(e, "cvt.rn.f64.s32", exponent);
        var (y, lo) = LogOnePlus(e, F64(e, "sub.rn.f64", m, D(1.0)), dk);

        var zero = Pred(e, "setp.eq.f64", x, D(0.0));
        e.Op($"selp.f64 {y}, {D(double.NegativeInfinity)}, {y}, {zero}");
        var negative = Pred(e, "setp.lt.f64", x, D(0.0));
        e.Op($"selp.f64 {y}, {D(double.NaN)}, {y}, {negative}");
        var infinite = Pred(e, "setp.eq.f64", x, D(double.PositiveInfinity));
        e.Op($"selp.f64 {y}, {x}, {y}, {infinite}");
        KeepNaN(e, y, x);
        return (y, lo);
    }

    /// <summary>dk·ln2 + ln(1+f) for |f| ≤ 0.415 (fdlibm's evaluation order), with the rounding error of the last addition.</summary>
    private static (Reg Y, Reg Lo) LogOnePlus(PtxEntry e, Reg f, Reg dk)
    {
        var s = F64(e, "add.rn.f64", f, D(2.0));
        e.Op($"div.rn.f64 {s}, {f}, {s}");
        var z = F64(e, "mul.rn.f64", s, s);
        var r = Horner(e, z, LogSeries);
        e.Op($"mul.rn.f64 {r}, {r}, {z}");
        var hfsq = F64(e, "mul.rn.f64", f, f);
        e.Op($"mul.rn.f64 {hfsq}, {hfsq}, {D(0.5)}");
        // t = s·(hfsq + R) + dk·Ln2Lo
        var t = F64(e, "add.rn.f64", hfsq, r);
        var dkLo = F64(e, "mul.rn.f64", dk, D(Ln2Lo));
        e.Op($"fma.rn.f64 {t}, {s}, {t}, {dkLo}");
        // y = dk·Ln2Hi − ((hfsq − t) − f)
        var u = F64(e, "sub.rn.f64", hfsq, t);
        e.Op($"sub.rn.f64 {u}, {u}, {f}");
        var hi = F64(e, "mul.rn.f64", dk, D(Ln2Hi));
        var y = F64(e, "sub.rn.f64", hi, u);
        // Fast2Sum of hi + (−u) (|hi| ≥ |u| unless hi = 0): lo = (hi − y) − u exactly.
        var lo = F64(e, "sub.rn.f64", hi, y);
        e.Op($"sub.rn.f64 {lo}, {lo}, {u}");
        return (y, lo);
    }
}
