using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The uniform stream of <see cref="Philox"/> computed 8 (Vector512) or 4 (Vector256) elements at a
/// time: element i is lane 0 of the Philox 4x32-10 block (i, counter), exactly as the scalar
/// <see cref="Philox.Sample"/>, so every backend still draws the same values.
/// </summary>
/// <remarks>
/// The 32×32→64-bit products of each round are formed in 64-bit lanes (both factors are below 2³²,
/// so the product is exact; vpmuludq where available); the high and low halves are then split with a shift and a mask. The
/// final a + (b − a)·u is evaluated in double without FMA and rounded to float, as the scalar path does.
/// </remarks>
internal static class PhiloxSimd
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>dst[j] = uniform element (start + j) of the stream (key, counter) scaled to [a, b).</summary>
    public static void Uniform(ulong key, ulong counter, double a, double b, long start, Span<float> dst)
    {
        var j = 0;
        if (Vector512.IsHardwareAccelerated)
        {
            // Four independent groups of 8 per iteration: one group's ten rounds are a chain of dependent
            // 64-bit multiplies (latency-bound); interleaving four keeps the multiplier busy.
            var lane = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            var span = Vector512.Create(b - a);
            var origin = Vector512.Create(a);
            Span<double> v = stackalloc double[32];
            for (; j + 32 <= dst.Length; j += 32)
            {
                var i0 = Vector512.Create((ulong)(start + j)) + lane;
                var (r0, r1, r2, r3) = Lane0x4(key, counter, i0, i0 + Vector512.Create(8UL), i0 + Vector512.Create(16UL), i0 + Vector512.Create(24UL));
                Scale(r0, origin, span).CopyTo(v);
                Scale(r1, origin, span).CopyTo(v[8..]);
                Scale(r2, origin, span).CopyTo(v[16..]);
                Scale(r3, origin, span).CopyTo(v[24..]);
                for (var k = 0; k < 32; k++) dst[j + k] = (float)v[k];
            }
        }
        for (; j < dst.Length; j++)
            dst[j] = (float)Philox.Sample(RandomDistribution.Uniform, key, counter, start + j, a, b);
    }

    /// <summary>a + (b − a)·u with u = (bits ≫ 8)·2⁻²⁴, in double, as <see cref="Philox.ToUnit"/>.</summary>
    private static Vector512<double> Scale(Vector512<ulong> bits, Vector512<double> origin, Vector512<double> span) =>
        origin + span * (Vector512.ConvertToDouble(bits >> 8) * (1.0 / 16777216.0));

    private static (Vector512<ulong>, Vector512<ulong>, Vector512<ulong>, Vector512<ulong>) Lane0x4(
        ulong key, ulong counter, Vector512<ulong> ia, Vector512<ulong> ib, Vector512<ulong> ic, Vector512<ulong> id)
    {
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        var m0 = Vector512.Create((ulong)M0);
        var m1 = Vector512.Create((ulong)M1);
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        // Lanes 2 and 3 of the counter are the same for every element.
        var c2 = Vector512.Create((ulong)(uint)counter);
        var c3 = Vector512.Create(counter >> 32);
        Vector512<ulong> a0 = ia & mask, a1 = ia >> 32, a2 = c2, a3 = c3;
        Vector512<ulong> b0 = ib & mask, b1 = ib >> 32, b2 = c2, b3 = c3;
        Vector512<ulong> e0 = ic & mask, e1 = ic >> 32, e2 = c2, e3 = c3;
        Vector512<ulong> d0 = id & mask, d1 = id >> 32, d2 = c2, d3 = c3;
        for (var r = 0; r < 10; r++)
        {
            var key0 = Vector512.Create((ulong)k0);
            var key1 = Vector512.Create((ulong)k1);
            Round(ref a0, ref a1, ref a2, ref a3, m0, m1, mask, key0, key1);
            Round(ref b0, ref b1, ref b2, ref b3, m0, m1, mask, key0, key1);
            Round(ref e0, ref e1, ref e2, ref e3, m0, m1, mask, key0, key1);
            Round(ref d0, ref d1, ref d2, ref d3, m0, m1, mask, key0, key1);
            k0 += W0;
            k1 += W1;
        }
        return (a0, b0, e0, d0);
    }

    /// <summary>
    /// Full 64-bit products of 32-bit values held in 64-bit lanes. vpmuludq (32×32→64) has several times
    /// the throughput of the general 64-bit vpmullq, which otherwise bounds the whole generator.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mul32(Vector512<ulong> a, Vector512<ulong> b) =>
        System.Runtime.Intrinsics.X86.Avx512F.IsSupported ? System.Runtime.Intrinsics.X86.Avx512F.Multiply(a.AsUInt32(), b.AsUInt32()) : a * b;

    /// <summary>One Philox round on 8 blocks held as four 64-bit lanes of 32-bit words.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Vector512<ulong> x0, ref Vector512<ulong> x1, ref Vector512<ulong> x2, ref Vector512<ulong> x3,
        Vector512<ulong> m0, Vector512<ulong> m1, Vector512<ulong> mask, Vector512<ulong> k0, Vector512<ulong> k1)
    {
        var p0 = Mul32(m0, x0);
        var p1 = Mul32(m1, x2);
        var y0 = (p1 >> 32) ^ x1 ^ k0;
        var y2 = (p0 >> 32) ^ x3 ^ k1;
        x1 = p1 & mask;
        x3 = p0 & mask;
        x0 = y0;
        x2 = y2;
    }
}
