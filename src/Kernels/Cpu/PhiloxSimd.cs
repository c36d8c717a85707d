using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// The uniform stream of <see cref="Philox"/> computed 128 elements (32 Philox 4x32-10 blocks) per step with
/// AVX-512: element i is word i mod 4 of block (⌊i/4⌋, counter), exactly as the scalar <see cref="Philox.Sample"/>,
/// so every backend still draws the same values.
/// </summary>
/// <remarks>
/// The 32×32→64-bit products of each round are formed in 64-bit lanes (both factors are below 2³², so the product
/// is exact; vpmuludq); the high and low halves are then split with a shift and a mask. The four words of 8 blocks
/// are packed in pairs into 64-bit lanes and put into element order with two-source permutes (vpermt2q). The final
/// a + (b − a)·u is evaluated in double without FMA and rounded to float, as the scalar path does; for a = 0, b = 1
/// that is u itself, k·2⁻²⁴ with k &lt; 2²⁴, which float32 holds exactly, so it is formed in float directly.
/// Without AVX-512 the scalar <see cref="Philox.Uniform{T}"/> runs (one block per four elements).
/// </remarks>
internal static class PhiloxSimd
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>Elements per vector step: four groups of 8 blocks of 4 words.</summary>
    private const int Tile = 128;

    /// <summary>Shorter requests run the scalar path: one vector step computes a whole tile.</summary>
    private const int MinVector = 32;

    /// <summary>dst[j] = uniform element (start + j) of the stream (key, counter) scaled to [a, b).</summary>
    public static void Uniform(ulong key, ulong counter, double a, double b, long start, Span<float> dst)
    {
        if (!Avx512F.IsSupported || !Vector512.IsHardwareAccelerated || dst.Length < MinVector)
        {
            Philox.Uniform(key, counter, a, b, start, dst);
            return;
        }
        // Tiles start at block boundaries: the first one skips the elements of its first block before start, and
        // a tile that does not fit in dst is computed into a buffer and the part that is wanted copied out.
        Span<float> partial = stackalloc float[Tile];
        var unit = a == 0 && b == 1;
        var block = (ulong)start >> 2;
        var skip = (int)(start & 3);
        for (var j = 0; j < dst.Length; block += Tile / 4)
        {
            var take = Math.Min(Tile - skip, dst.Length - j);
            if (take == Tile) Step(key, counter, block, a, b, unit, ref MemoryMarshal.GetReference(dst.Slice(j, Tile)));
            else
            {
                Step(key, counter, block, a, b, unit, ref MemoryMarshal.GetReference(partial));
                partial.Slice(skip, take).CopyTo(dst[j..]);
            }
            j += take;
            skip = 0;
        }
    }

    /// <summary>Elements 4·block … 4·block + 127 into dst[0 … 127].</summary>
    private static void Step(ulong key, ulong counter, ulong block, double a, double b, bool unit, ref float dst)
    {
        var origin = Vector512.Create(a);
        var span = Vector512.Create(b - a);
        Half(key, counter, block, unit, origin, span, ref dst, 0);
        Half(key, counter, block + 16, unit, origin, span, ref dst, 64);
    }

    /// <summary>Elements 4·block … 4·block + 63 into dst[offset …]: two groups of 8 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Half(ulong key, ulong counter, ulong block, bool unit, Vector512<double> origin, Vector512<double> span, ref float dst, nuint offset)
    {
        // Two independent groups: one group's ten rounds are a chain of dependent multiplies (latency-bound), two
        // interleaved keep the multiplier busy; with four the JIT ran out of vector registers and spilled the states
        // to the stack, which made the speed depend on the stack's alignment (store forwarding of split 64-byte stores).
        var ia = Vector512.Create(block) + Vector512.Create(0UL, 1, 2, 3, 4, 5, 6, 7);
        var g0 = new Blocks8(ia, counter);
        var g1 = new Blocks8(ia + Vector512.Create(8UL), counter);
        // The ten rounds written out: as a loop the JIT spilled the state vectors at every back edge.
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        Round(ref g0, ref g1, k0, k1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 += W0, k1 += W1);
        Round(ref g0, ref g1, k0 + W0, k1 + W1);
        Store(g0.X0, g0.X1, g0.X2, g0.X3, unit, origin, span, ref dst, offset);
        Store(g1.X0, g1.X1, g1.X2, g1.X3, unit, origin, span, ref dst, offset + 32);
    }

    /// <summary>The state of 8 Philox blocks: word k of block j in the low half of lane j of Xk.</summary>
    private struct Blocks8
    {
        public Vector512<ulong> X0, X1, X2, X3;

        /// <summary>Blocks (index[j], counter): words 0, 1 from the block index, 2, 3 the counter, the same for all.</summary>
        public Blocks8(Vector512<ulong> index, ulong counter)
        {
            X0 = index & Vector512.Create(0xFFFF_FFFFUL);
            X1 = index >> 32;
            X2 = Vector512.Create((ulong)(uint)counter);
            X3 = Vector512.Create(counter >> 32);
        }
    }

    /// <summary>One Philox round with key (k0, k1) on two groups of 8 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Blocks8 g0, ref Blocks8 g1, uint k0, uint k1)
    {
        var key0 = Vector512.Create((ulong)k0);
        var key1 = Vector512.Create((ulong)k1);
        Round(ref g0, key0, key1);
        Round(ref g1, key0, key1);
    }

    /// <summary>The 32 elements of 8 blocks (words w0 … w3, one block per 64-bit lane) in element order at dst[offset …].</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(Vector512<ulong> w0, Vector512<ulong> w1, Vector512<ulong> w2, Vector512<ulong> w3, bool unit, Vector512<double> origin, Vector512<double> span, ref float dst, nuint offset)
    {
        // Lane k of p01 holds words 0, 1 of block k as 32-bit halves, p23 words 2, 3; interleaving the lanes of the two
        // gives blocks 0–3 (elements 0–15) and 4–7 (16–31) in order.
        var p01 = w0 | (w1 << 32);
        var p23 = w2 | (w3 << 32);
        var lo = Avx512F.PermuteVar8x64x2(p01, Vector512.Create(0UL, 8, 1, 9, 2, 10, 3, 11), p23).AsUInt32();
        var hi = Avx512F.PermuteVar8x64x2(p01, Vector512.Create(4UL, 12, 5, 13, 6, 14, 7, 15), p23).AsUInt32();
        ToFloat(lo, unit, origin, span).StoreUnsafe(ref dst, offset);
        ToFloat(hi, unit, origin, span).StoreUnsafe(ref dst, offset + 16);
    }

    /// <summary>(float)(a + (b − a)·u) with u = (bits ≫ 8)·2⁻²⁴, the arithmetic in double as <see cref="Philox.ToUnit"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> ToFloat(Vector512<uint> bits, bool unit, Vector512<double> origin, Vector512<double> span)
    {
        var k = (bits >> 8).AsInt32();
        if (unit) return Vector512.ConvertToSingle(k) * (1f / 16777216f);
        var lo = origin + span * (Avx512F.ConvertToVector512Double(k.GetLower()) * (1.0 / 16777216.0));
        var hi = origin + span * (Avx512F.ConvertToVector512Double(k.GetUpper()) * (1.0 / 16777216.0));
        return Vector512.Create(Avx512F.ConvertToVector256Single(lo), Avx512F.ConvertToVector256Single(hi));
    }

    /// <summary>
    /// Full 64-bit products of 32-bit values held in 64-bit lanes. vpmuludq (32×32→64) has several times
    /// the throughput of the general 64-bit vpmullq, which otherwise bounds the whole generator.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<ulong> Mul32(Vector512<ulong> a, Vector512<ulong> b) => Avx512F.Multiply(a.AsUInt32(), b.AsUInt32());

    /// <summary>One Philox round on 8 blocks.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Round(ref Blocks8 g, Vector512<ulong> k0, Vector512<ulong> k1)
    {
        var mask = Vector512.Create(0xFFFF_FFFFUL);
        var p0 = Mul32(Vector512.Create((ulong)M0), g.X0);
        var p1 = Mul32(Vector512.Create((ulong)M1), g.X2);
        g.X0 = (p1 >> 32) ^ g.X1 ^ k0;
        g.X2 = (p0 >> 32) ^ g.X3 ^ k1;
        g.X1 = p1 & mask;
        g.X3 = p0 & mask;
    }
}
