// UNVERIFIED on hardware: checked by the tests' PTX emulator against Math.Sin and Math.Cos, not yet on a GPU.
using System.Numerics;

namespace Nabla.Kernels.Cuda.Ptx;

/// <summary>sin and cos in float64: Cody–Waite reduction by π/2 in three parts, then Taylor polynomials on [−π/4, π/4].</summary>
internal static partial class PtxMath
{
    /// <summary>π to 120 decimal places.</summary>
    private const string PiDigits =
        "3.141592653589793238462643383279502884197169399375105820974944592307816406286208998628034825342117067982148086513282306647093844";

    /// <summary>π/2 = P1 + P2 + P3 (each the nearest double to what is left), so x − k·π/2 is exact to about 2⁻¹⁵⁹·k.</summary>
    internal static readonly double[] HalfPi = SplitDecimal(PiDigits, 2, 3);

    /// <summary>(−1)ᵏ/(2k+1)! for k = 1 … 8: sin r = r + r·z·S(z), z = r²; the first omitted term is below 2⁻⁶² for |r| ≤ π/4.</summary>
    private static readonly double[] SinSeries = Enumerable.Range(1, 8).Select(k => (k % 2 == 0 ? 1.0 : -1.0) / Factorial(2 * k + 1)).ToArray();

    /// <summary>(−1)ᵏ/(2k)! for k = 1 … 9: cos r = 1 + z·C(z); the first omitted term is below 2⁻⁶⁰.</summary>
    private static readonly double[] CosSeries = Enumerable.Range(1, 9).Select(k => (k % 2 == 0 ? 1.0 : -1.0) / Factorial(2 * k)).ToArray();

    /// <summary>
    /// sin x. For |x| &lt; 2⁵⁰ the reduction x = k·π/2 + r is Cody–Waite's in three parts (tested to a few ulp for |x| ≤ 1e5;
    /// up to 2⁵⁰ its error stays about an ulp of r plus |x|·2⁻¹⁵⁸). Larger |x| (rare: a branch) take a Payne–Hanek reduction
    /// (<see cref="PayneHanek"/>), accurate to about 2⁻⁹⁷ absolute in r, so a few ulp except for x within ~2⁻⁴⁰ of a multiple
    /// of π/2. sin(±Inf) = NaN. |x| &lt; 2⁻²⁷ returns x (so sin(−0) = −0 and subnormals are exact).
    /// </summary>
    internal static Reg Sin64(PtxEntry e, Reg x) => SinCos(e, x, cos: false);

    /// <summary>cos x, with the reductions of <see cref="Sin64"/>; cos(±Inf) = NaN.</summary>
    internal static Reg Cos64(PtxEntry e, Reg x) => SinCos(e, x, cos: true);

    /// <summary>x·2⁻⁶⁰⁰ and the chunks of 2/π scaled by 2⁶⁰⁰ keep every chunk and every product x·chunk a normal double.</summary>
    private const int ChunkScale = 600;

    /// <summary>
    /// 2/π as 22 consecutive 53-bit pieces (each exactly a double; their sum is 2/π to 2⁻¹¹⁶⁶, enough for |x| up to 2¹⁰²⁴ with
    /// 140 bits to spare), each scaled by 2^<see cref="ChunkScale"/>. Computed once from π by Machin's formula in BigInteger.
    /// </summary>
    internal static readonly double[] TwoOverPiChunks = TwoOverPi(22);

    private static double[] TwoOverPi(int chunks)
    {
        const int bits = 1300, guard = 64;
        var one = BigInteger.One << (bits + guard);
        BigInteger Atan(int k)
        {
            // atan(1/k)·2^(bits+guard) = Σ (−1)ⁿ / ((2n+1)·k^(2n+1)), each term truncated (the guard bits absorb the error).
            BigInteger sum = 0, power = one / k, k2 = (BigInteger)k * k;
            for (var n = 0; !power.IsZero; n++)
            {
                var term = power / (2 * n + 1);
                sum += n % 2 == 0 ? term : -term;
                power /= k2;
            }
            return sum;
        }
        var pi = 16 * Atan(5) - 4 * Atan(239);
        // (2/π)·2^bits: 2^(2(bits+guard)+1) / (π·2^(bits+guard)), then the guard bits dropped.
        var t = (BigInteger.One << (2 * (bits + guard) + 1)) / pi >> guard;
        var result = new double[chunks];
        var mask = (BigInteger.One << 53) - 1;
        for (var j = 0; j < chunks; j++)
        {
            var piece = (t >> (bits - 53 * (j + 1))) & mask;
            result[j] = (double)piece * Math.Pow(2, ChunkScale - 53 * (j + 1));
        }
        return result;
    }

    private static Reg SinCos(PtxEntry e, Reg x, bool cos)
    {
        var kf = F64(e, "mul.rn.f64", x, D(2 / Math.PI));
        e.Op($"cvt.rni.f64.f64 {kf}, {kf}");
        var nk = F64(e, "neg.f64", kf);
        var r = F64(e, "fma.rn.f64", nk, D(HalfPi[0]), x);
        e.Op($"fma.rn.f64 {r}, {nk}, {D(HalfPi[1])}, {r}");
        e.Op($"fma.rn.f64 {r}, {nk}, {D(HalfPi[2])}, {r}");
        var ax = F64(e, "abs.f64", x);
        var huge = Pred(e, "setp.ge.f64", ax, D(Math.Pow(2, 50)));
        var skip = e.NewLabel("reduced");
        e.Op($"@!{huge} bra {skip}");
        PayneHanek(e, x, kf, r);
        e.Label(skip);
        // The quadrant k mod 4, taken in float64 (exact for integral |k| < 2⁵³) so that it never saturates an int.
        var quarter = F64(e, "mul.rn.f64", kf, D(0.25));
        e.Op($"cvt.rmi.f64.f64 {quarter}, {quarter}");
        var qf = F64(e, "fma.rn.f64", quarter, D(-4.0), kf);
        var q = e.Reg(PtxType.B32);
        e.Op($"cvt.rzi.s32.f64 {q}, {qf}");
        // cos x = sin(x + π/2): the same r, one quadrant on.
        if (cos) e.Op($"add.s32 {q}, {q}, 1");

        var z = F64(e, "mul.rn.f64", r, r);
        var rz = F64(e, "mul.rn.f64", r, z);
        var s = F64(e, "fma.rn.f64", rz, Horner(e, z, SinSeries), r);
        var c = F64(e, "fma.rn.f64", z, Horner(e, z, CosSeries), D(1.0));
        Reg odd = e.Reg(PtxType.B32), negative = e.Reg(PtxType.B32);
        e.Op($"and.b32 {odd}, {q}, 1");
        e.Op($"and.b32 {negative}, {q}, 2");
        var useCos = Pred(e, "setp.ne.u32", odd, 0);
        var y = F64(e, "selp.f64", c, s, useCos);
        var minus = F64(e, "neg.f64", y);
        var flip = Pred(e, "setp.ne.u32", negative, 0);
        e.Op($"selp.f64 {y}, {minus}, {y}, {flip}");
        if (!cos)
        {
            var tiny = Pred(e, "setp.lt.f64", ax, D(Math.Pow(2, -27)));
            e.Op($"selp.f64 {y}, {x}, {y}, {tiny}");
        }
        var infinite = Pred(e, "setp.eq.f64", ax, D(double.PositiveInfinity));
        e.Op($"selp.f64 {y}, {D(double.NaN)}, {y}, {infinite}");
        return y;
    }

    /// <summary>
    /// Payne–Hanek reduction for |x| ≥ 2⁵⁰, into <paramref name="k"/> (an integer, only its value mod 4 matters) and
    /// <paramref name="r"/> = x − k·π/2 ∈ [−π/4, π/4]. x·(2/π) mod 4 is summed from the exact products of x with each chunk of
    /// 2/π (hi by mul, lo by fma), each reduced mod 4 exactly (v − 4·rint(v/4)), into a double-double kept in [−2, 2]; then
    /// k = rint(sum), r = (sum − k)·π/2 with π/2 as a double-double.
    /// </summary>
    private static void PayneHanek(PtxEntry e, Reg x, Reg k, Reg r)
    {
        e.Comment("Payne-Hanek reduction for |x| >= 2^50");
        var xs = F64(e, "mul.rn.f64", x, D(Math.Pow(2, -ChunkScale)));
        var ah = e.Const(PtxType.F64, 0.0);
        var al = e.Const(PtxType.F64, 0.0);
        Reg hi = e.Reg(PtxType.F64), lo = e.Reg(PtxType.F64), t = e.Reg(PtxType.F64), s = e.Reg(PtxType.F64), bb = e.Reg(PtxType.F64), err = e.Reg(PtxType.F64);
        // v − 4·rint(v/4) ∈ [−2, 2], exact; values below 2 in magnitude (the small tails) pass unchanged.
        void Mod4(Reg v)
        {
            e.Op($"mul.rn.f64 {t}, {v}, {D(0.25)}");
            e.Op($"cvt.rni.f64.f64 {t}, {t}");
            e.Op($"fma.rn.f64 {v}, {t}, {D(-4.0)}, {v}");
        }
        void Accumulate(Reg v)
        {
            // TwoSum(ah, v) → (s, err), then ah = s mod 4 (exact), al += err (small: its own rounding is ~2⁻¹⁰⁰).
            e.Op($"add.rn.f64 {s}, {ah}, {v}");
            e.Op($"sub.rn.f64 {bb}, {s}, {ah}");
            e.Op($"sub.rn.f64 {err}, {s}, {bb}");
            e.Op($"sub.rn.f64 {err}, {ah}, {err}");
            e.Op($"sub.rn.f64 {t}, {v}, {bb}");
            e.Op($"add.rn.f64 {err}, {err}, {t}");
            e.Op($"add.rn.f64 {al}, {al}, {err}");
            e.Op($"mov.f64 {ah}, {s}");
            Mod4(ah);
        }
        foreach (var chunk in TwoOverPiChunks)
        {
            e.Op($"mul.rn.f64 {hi}, {xs}, {D(chunk)}");
            e.Op($"neg.f64 {t}, {hi}");
            e.Op($"fma.rn.f64 {lo}, {xs}, {D(chunk)}, {t}");
            Mod4(hi);
            Mod4(lo);
            Accumulate(hi);
            Accumulate(lo);
        }
        // k = rint(ah + al); f = (ah − k) + al (ah − k is exact); r = f·π/2 with π/2 = P1 + P2.
        e.Op($"add.rn.f64 {k}, {ah}, {al}");
        e.Op($"cvt.rni.f64.f64 {k}, {k}");
        e.Op($"sub.rn.f64 {ah}, {ah}, {k}");
        var f = F64(e, "add.rn.f64", ah, al);
        var fl = F64(e, "sub.rn.f64", f, ah);
        e.Op($"sub.rn.f64 {fl}, {al}, {fl}");
        // r = f·P1 + (fl·P1 + f·P2)
        e.Op($"mul.rn.f64 {t}, {f}, {D(HalfPi[1])}");
        e.Op($"fma.rn.f64 {t}, {fl}, {D(HalfPi[0])}, {t}");
        e.Op($"fma.rn.f64 {r}, {f}, {D(HalfPi[0])}, {t}");
    }

    /// <summary>
    /// Splits the decimal number <paramref name="digits"/> divided by <paramref name="divisor"/> into <paramref name="parts"/>
    /// doubles: each the nearest double to the exact remainder of the previous ones (exact rational arithmetic on BigInteger).
    /// </summary>
    internal static double[] SplitDecimal(string digits, int divisor, int parts)
    {
        var point = digits.IndexOf('.', StringComparison.Ordinal);
        var numerator = BigInteger.Parse(digits.Remove(point, 1), System.Globalization.CultureInfo.InvariantCulture);
        var denominator = BigInteger.Pow(10, digits.Length - point - 1) * divisor;
        var result = new double[parts];
        for (var i = 0; i < parts; i++)
        {
            result[i] = NearestDouble(numerator, denominator);
            // numerator/denominator −= result[i], exactly: result[i] = m·2^e.
            var bits = BitConverter.DoubleToInt64Bits(result[i]);
            var exponent = (int)((bits >> 52) & 0x7FF);
            var mantissa = (bits & 0xF_FFFF_FFFF_FFFF) | (1L << 52);
            var e2 = exponent - 1075;
            BigInteger m = bits < 0 ? -mantissa : mantissa;
            if (e2 >= 0) numerator -= m * BigInteger.Pow(2, e2) * denominator;
            else
            {
                numerator = numerator * BigInteger.Pow(2, -e2) - m * denominator;
                denominator *= BigInteger.Pow(2, -e2);
            }
        }
        return result;
    }

    /// <summary>The double nearest to n/d (normal range, d &gt; 0), ties to even.</summary>
    private static double NearestDouble(BigInteger n, BigInteger d)
    {
        if (n.IsZero) return 0;
        var negative = n.Sign < 0;
        n = BigInteger.Abs(n);
        // Scale so that 2^52 ≤ n·2^-e/d < 2^53.
        var e2 = (int)(n.GetBitLength() - d.GetBitLength()) - 53;
        while (true)
        {
            var (q, rem) = e2 >= 0 ? BigInteger.DivRem(n, d * BigInteger.Pow(2, e2)) : BigInteger.DivRem(n * BigInteger.Pow(2, -e2), d);
            var den = e2 >= 0 ? d * BigInteger.Pow(2, e2) : d;
            if (q >= BigInteger.One << 53) { e2++; continue; }
            if (q < BigInteger.One << 52) { e2--; continue; }
            var twice = rem * 2;
            if (twice > den || (twice == den && !q.IsEven)) q++;
            var value = (double)q * Math.Pow(2, e2);
            return negative ? -value : value;
        }
    }
}
