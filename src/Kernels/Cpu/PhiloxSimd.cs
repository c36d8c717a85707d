using System.Runtime.Intrinsics;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The uniform stream of <see cref="Philox"/> computed 8 (Vector512) or 4 (Vector256) elements at a
/// time: element i is lane 0 of the Philox 4x32-10 block (i, counter), exactly as the scalar
/// <see cref="Philox.Sample"/>, so every backend still draws the same values.
/// </summary>
/// <remarks>
/// The 32×32→64-bit products of each round are formed in 64-bit lanes (both factors are below 2³²,
/// so the product is exact); the high and low halves are then split with a shift and a mask. The
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
            var lane = Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
            for (; j + 8 <= dst.Length; j += 8)
            {
                var bits = Lane0(key, counter, Vector512.Create((ulong)(start + j)) + lane);
                var u = Vector512.ConvertToDouble(bits >> 8) * (1.0 / 16777216.0);
                var v = Vector512.Create(a) + Vector512.Create(b - a) * u;
                for (var k = 0; k < 8; k++) dst[j + k] = (float)v.GetElement(k);
            }
        }
        for (; j < dst.Length; j++)
            dst[j] = (float)Philox.Sample(RandomDistribution.Uniform, key, counter, start + j, a, b);
    }

    private static Vector512<ulong> Lane0(ulong key, ulong counter, Vector512<ulong> index)
    {
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        var m0 = Vector512.Create((ulong)M0);
        var m1 = Vector512.Create((ulong)M1);
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        var x0 = index & mask;
        var x1 = index >> 32;
        var x2 = Vector512.Create((ulong)(uint)counter);
        var x3 = Vector512.Create(counter >> 32);
        for (var r = 0; r < 10; r++)
        {
            var p0 = m0 * x0;
            var p1 = m1 * x2;
            var y0 = (p1 >> 32) ^ x1 ^ Vector512.Create((ulong)k0);
            var y2 = (p0 >> 32) ^ x3 ^ Vector512.Create((ulong)k1);
            x1 = p1 & mask;
            x3 = p0 & mask;
            x0 = y0;
            x2 = y2;
            k0 += W0;
            k1 += W1;
        }
        return x0;
    }
}
