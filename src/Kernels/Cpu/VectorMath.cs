using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Vector transcendentals in float32 arithmetic for kernels where .NET's own are the bottleneck. <c>Vector512.Exp</c> of
/// float32 costs ~48 cycles per vector on Zen 4 (0.85 ns per element; it works in float64), which made it most of
/// a 10-class softmax.
/// </summary>
internal static class VectorMath
{
    /// <summary>
    /// eˣ per lane (AVX-512F): x = n·ln 2 + r with n = round(x·log₂e) and r taken in two parts (Cody–Waite), so |r| ≤ ln 2 / 2;
    /// eʳ by its Taylor polynomial of degree 7 (truncation below 6·10⁻⁹ relative) in FMA Horner form; then p·2ⁿ by
    /// vscalefps, which overflows to +∞ and underflows through the subnormals to 0 as it should. x is clamped to
    /// [−104, 88.8] first (e⁻¹⁰⁴ is below the smallest subnormal, e^88.8 above float.MaxValue) with NaN kept.
    /// Measured against float64 exp over 2·10⁶ points in [−110, 90]: at most 7.7·10⁻⁸ relative (0.64 ulp at 1).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Exp(Vector512<float> x)
    {
        // MaxNative/MinNative return their second operand when either is NaN: x goes second, so a NaN stays.
        x = Vector512.MinNative(Vector512.Create(88.8f), Vector512.MaxNative(Vector512.Create(-104f), x));
        var n = Vector512.Round(x * Vector512.Create(1.44269504088896341f));
        // ln 2 = 0.693359375 − 2.12194440e−4 (the first part has few bits, so n·it is exact for |n| < 2¹⁵).
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693359375f), x);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(2.12194440e-4f), r);
        var p = Vector512.Create(1f / 5040);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 720));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        return Avx512F.Scale(p, n);
    }

    /// <summary>The largest lane (vmaxps semantics: a NaN lane gives an unspecified result, so callers test for NaN first).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReduceMax(Vector512<float> v)
    {
        var h = Vector256.MaxNative(v.GetLower(), v.GetUpper());
        var q = Vector128.MaxNative(h.GetLower(), h.GetUpper());
        q = Vector128.MaxNative(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MaxNative(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    /// <summary>The smallest lane, as <see cref="ReduceMax"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float ReduceMin(Vector512<float> v)
    {
        var h = Vector256.MinNative(v.GetLower(), v.GetUpper());
        var q = Vector128.MinNative(h.GetLower(), h.GetUpper());
        q = Vector128.MinNative(q, Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1)));
        return Vector128.MinNative(q, Vector128.Shuffle(q, Vector128.Create(1, 0, 3, 2))).ToScalar();
    }

    /// <summary>Below this |x|, tanh is taken from its Maclaurin series (here and in <see cref="CpuUnary"/>'s small-argument fix-up).</summary>
    internal const float TanhSeriesLimit = 0.5f;

    // tanh x = x + x·z·P(z), z = x², with P's coefficients those of x³ … x¹⁵ in the Maclaurin series, 2²ⁿ(2²ⁿ−1)B₂ₙ/(2n)!;
    // Horner from the highest. Below |x| = 0.5 the truncation is under 10⁻⁸ relative.
    internal const float TanhC3 = -0.3333333333333333f, TanhC5 = 0.13333333333333333f, TanhC7 = -5.396825396825397e-2f, TanhC9 = 2.1869488536155203e-2f,
        TanhC11 = -8.863235529902197e-3f, TanhC13 = 3.592128036572481e-3f, TanhC15 = -1.4558343870513183e-3f;

    /// <summary>1 / (1 + e⁻ˣ) per lane: 0 and 1 at the ends (e⁻ˣ overflowing to +∞ gives 0), NaN kept.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Sigmoid(Vector512<float> x) => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    /// <summary>
    /// tanh per lane. Below |x| = 0.5 the Maclaurin series to x¹⁵ (coefficients 2²ⁿ(2²ⁿ−1)B₂ₙ/(2n)!, truncation under
    /// 10⁻⁸ relative there), so small arguments keep their relative accuracy; above it 1 − 2/(e^{2|x|} + 1) with x's
    /// sign, within ~3 ulp (the cancellation is at most 2× at 0.5), ±1 once e^{2|x|} overflows; ±0 and NaN kept.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Tanh(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var large = Vector512<float>.One - Vector512.Create(2f) / (Exp(a + a) + Vector512<float>.One);
        var z = x * x;
        var p = Vector512.Create(TanhC15);
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC13));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC11));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC9));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC7));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC5));
        p = Vector512.FusedMultiplyAdd(p, z, Vector512.Create(TanhC3));
        var small = Vector512.FusedMultiplyAdd(a * z, p, a);
        // tanh is odd: |tanh| from either branch, then x's sign bit (so tanh(−0) = −0 and tanh(−∞) = −1).
        var magnitude = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(TanhSeriesLimit)), small, large);
        return Vector512.ConditionalSelect(Vector512.Create(-0f), x, magnitude);
    }

    /// <summary>y = F(x) over a row, 16 lanes at a time and a masked tail (x and y may be the same row); F is inlined.</summary>
    public static unsafe void Map<TF>(float* x, float* y, int count) where TF : IVectorFunction
    {
        var i = 0;
        for (; i + 16 <= count; i += 16) TF.Invoke(Vector512.Load(x + i)).Store(y + i);
        if (i < count)
        {
            var m = GemmSkinny.Mask(count - i);
            Avx512F.MaskStore(y + i, m, TF.Invoke(Avx512F.MaskLoad(x + i, m, Vector512<float>.Zero)));
        }
    }

    /// <summary>A lane-wise function for <see cref="Map{TF}"/>.</summary>
    public interface IVectorFunction
    {
        static abstract Vector512<float> Invoke(Vector512<float> x);
    }

    /// <summary><see cref="Sigmoid"/> as an <see cref="IVectorFunction"/>.</summary>
    public readonly struct SigmoidFunction : IVectorFunction
    {
        public static Vector512<float> Invoke(Vector512<float> x) => Sigmoid(x);
    }

    /// <summary><see cref="Tanh"/> as an <see cref="IVectorFunction"/>.</summary>
    public readonly struct TanhFunction : IVectorFunction
    {
        public static Vector512<float> Invoke(Vector512<float> x) => Tanh(x);
    }
}
