using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

internal static unsafe partial class CpuConvolution
{
    /// <summary>Largest output channel count <see cref="PixelLanes{TChannels}"/> takes (one vector accumulator per channel and 16 pixels).</summary>
    internal const int PixelLanesMaxOutC = 8;

    /// <summary>
    /// Whether the direct forward kernel puts output pixels rather than output channels in the vector lanes: with one input
    /// channel and a horizontal stride of 1, the values of one tap for 16 neighbouring output pixels are 16 contiguous
    /// inputs (one load), and with ≤ 8 output channels a vector per pixel would leave half of its lanes or more idle
    /// (LeNet's first layer, 1 → 6 channels: 6 of 8 lanes of a 256-bit vector).
    /// </summary>
    internal static bool UsesPixelLanes(in Conv2DArgs a) => a.InC == 1 && a.StrideW == 1 && a.OutC <= PixelLanesMaxOutC;

    /// <summary>A count known when the JIT compiles a generic kernel (output channels, pixels per block): it folds the branches on it.</summary>
    private interface ICount
    {
        static abstract int Value { get; }
    }

    private struct Count3 : ICount { public static int Value => 3; }

    private struct Count4 : ICount { public static int Value => 4; }

    private struct Count5 : ICount { public static int Value => 5; }

    private struct Count6 : ICount { public static int Value => 6; }

    private struct Count7 : ICount { public static int Value => 7; }

    private struct Count8 : ICount { public static int Value => 8; }

    private struct Count9 : ICount { public static int Value => 9; }

    private struct Count10 : ICount { public static int Value => 10; }

    private struct Count11 : ICount { public static int Value => 11; }

    private struct Count12 : ICount { public static int Value => 12; }

    /// <summary>One output row segment of <see cref="DirectForward"/> with pixels in lanes (<see cref="UsesPixelLanes"/>).</summary>
    private static void PixelLanesRow(float* src, int* taps, int kt, float* wt, float* y, int count, int outC)
    {
        switch (outC)
        {
            case 3: PixelLanes<Count3>(src, taps, kt, wt, y, count); break;
            case 4: PixelLanes<Count4>(src, taps, kt, wt, y, count); break;
            case 5: PixelLanes<Count5>(src, taps, kt, wt, y, count); break;
            case 6: PixelLanes<Count6>(src, taps, kt, wt, y, count); break;
            case 7: PixelLanes<Count7>(src, taps, kt, wt, y, count); break;
            case 8: PixelLanes<Count8>(src, taps, kt, wt, y, count); break;
            default: throw new ArgumentOutOfRangeException(nameof(outC), outC, $"the pixel-lane kernel takes {DirectMinOutC} to {PixelLanesMaxOutC} output channels");
        }
    }

    /// <summary>
    /// y[q, c] = Σ_p src[q + taps[p]] · wt[p, c] for the <paramref name="count"/> pixels q of one output row segment (one
    /// input channel, unit stride), 32 pixels at a time: per tap, two loads of 16 neighbouring inputs and one broadcast
    /// weight per channel feed two FMAs, so every lane does useful work (but the masked tail) and 2·OutC accumulators hide
    /// the FMA latency. Each accumulator adds the taps in the same order as the channel-lane kernel, so the bits are the same.
    /// The 16-pixel halves are then transposed in registers to the NHWC order (<see cref="StorePixels{TChannels}"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PixelLanes<TChannels>(float* src, int* taps, int kt, float* wt, float* y, int count)
        where TChannels : struct, ICount
    {
        var outC = TChannels.Value;
        for (var q = 0; q < count; q += 32)
        {
            var m0 = GemmSkinny.Mask(count - q);
            var m1 = GemmSkinny.Mask(count - q - 16);
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            Vector512<float> b0 = default, b1 = default, b2 = default, b3 = default, b4 = default, b5 = default, b6 = default, b7 = default;
            var s = src + q;
            var w = wt;
            for (var p = 0; p < kt; p++, w += outC)
            {
                var at = s + taps[p];
                var x0 = Avx512F.MaskLoad(at, m0, Vector512<float>.Zero);
                var x1 = Avx512F.MaskLoad(at + 16, m1, Vector512<float>.Zero);
                var v = Vector512.Create(w[0]);
                a0 = Vector512.FusedMultiplyAdd(x0, v, a0);
                b0 = Vector512.FusedMultiplyAdd(x1, v, b0);
                v = Vector512.Create(w[1]);
                a1 = Vector512.FusedMultiplyAdd(x0, v, a1);
                b1 = Vector512.FusedMultiplyAdd(x1, v, b1);
                v = Vector512.Create(w[2]);
                a2 = Vector512.FusedMultiplyAdd(x0, v, a2);
                b2 = Vector512.FusedMultiplyAdd(x1, v, b2);
                if (TChannels.Value > 3)
                {
                    v = Vector512.Create(w[3]);
                    a3 = Vector512.FusedMultiplyAdd(x0, v, a3);
                    b3 = Vector512.FusedMultiplyAdd(x1, v, b3);
                }
                if (TChannels.Value > 4)
                {
                    v = Vector512.Create(w[4]);
                    a4 = Vector512.FusedMultiplyAdd(x0, v, a4);
                    b4 = Vector512.FusedMultiplyAdd(x1, v, b4);
                }
                if (TChannels.Value > 5)
                {
                    v = Vector512.Create(w[5]);
                    a5 = Vector512.FusedMultiplyAdd(x0, v, a5);
                    b5 = Vector512.FusedMultiplyAdd(x1, v, b5);
                }
                if (TChannels.Value > 6)
                {
                    v = Vector512.Create(w[6]);
                    a6 = Vector512.FusedMultiplyAdd(x0, v, a6);
                    b6 = Vector512.FusedMultiplyAdd(x1, v, b6);
                }
                if (TChannels.Value > 7)
                {
                    v = Vector512.Create(w[7]);
                    a7 = Vector512.FusedMultiplyAdd(x0, v, a7);
                    b7 = Vector512.FusedMultiplyAdd(x1, v, b7);
                }
            }
            StorePixels<TChannels>(y + (nint)q * outC, Math.Min(16, count - q), a0, a1, a2, a3, a4, a5, a6, a7);
            if (count - q > 16) StorePixels<TChannels>(y + (nint)(q + 16) * outC, Math.Min(16, count - q - 16), b0, b1, b2, b3, b4, b5, b6, b7);
        }
    }

    /// <summary>
    /// Stores the first <paramref name="pixels"/> of 16 pixels whose channel c is row r<sub>c</sub> (lane = pixel) as NHWC
    /// (<c>y[pixel · OutC + c]</c>): three levels of two-source permutes turn the 8 channel rows into 8 vectors holding two
    /// pixels' 8 channels each (pixel 2k in lanes 0–7, 2k + 1 in lanes 8–15), and one permute per vector packs the two
    /// pixels' OutC channels together for a masked store. Rows at or above OutC are zero and never stored.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePixels<TChannels>(float* y, int pixels, Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7)
        where TChannels : struct, ICount
    {
        var outC = TChannels.Value;
        // Level 1: pairs of channels, pixels 0–7 (lo) and 8–15 (hi): lanes (c, c + 1) of pixel i.
        var pairLo = Vector512.Create(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
        var pairHi = Vector512.Create(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
        var c01L = Avx512F.PermuteVar16x32x2(r0, pairLo, r1);
        var c01H = Avx512F.PermuteVar16x32x2(r0, pairHi, r1);
        var c23L = Avx512F.PermuteVar16x32x2(r2, pairLo, r3);
        var c23H = Avx512F.PermuteVar16x32x2(r2, pairHi, r3);
        var c45L = Avx512F.PermuteVar16x32x2(r4, pairLo, r5);
        var c45H = Avx512F.PermuteVar16x32x2(r4, pairHi, r5);
        var c67L = Avx512F.PermuteVar16x32x2(r6, pairLo, r7);
        var c67H = Avx512F.PermuteVar16x32x2(r6, pairHi, r7);
        // Level 2: quads of channels, 4 pixels per vector (pixels 0–3, 4–7 from the lo halves; 8–11, 12–15 from the hi).
        var quadLo = Vector512.Create(0, 1, 16, 17, 2, 3, 18, 19, 4, 5, 20, 21, 6, 7, 22, 23);
        var quadHi = Vector512.Create(8, 9, 24, 25, 10, 11, 26, 27, 12, 13, 28, 29, 14, 15, 30, 31);
        var lowP0 = Avx512F.PermuteVar16x32x2(c01L, quadLo, c23L);
        var lowP4 = Avx512F.PermuteVar16x32x2(c01L, quadHi, c23L);
        var lowP8 = Avx512F.PermuteVar16x32x2(c01H, quadLo, c23H);
        var lowP12 = Avx512F.PermuteVar16x32x2(c01H, quadHi, c23H);
        var highP0 = Avx512F.PermuteVar16x32x2(c45L, quadLo, c67L);
        var highP4 = Avx512F.PermuteVar16x32x2(c45L, quadHi, c67L);
        var highP8 = Avx512F.PermuteVar16x32x2(c45H, quadLo, c67H);
        var highP12 = Avx512F.PermuteVar16x32x2(c45H, quadHi, c67H);
        // Level 3: all 8 channels of two pixels per vector.
        var octLo = Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 4, 5, 6, 7, 20, 21, 22, 23);
        var octHi = Vector512.Create(8, 9, 10, 11, 24, 25, 26, 27, 12, 13, 14, 15, 28, 29, 30, 31);
        // Lanes [0, OutC) and [8, 8 + OutC) moved next to each other.
        var pack = Vector512<int>.Indices + Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(Vector512<int>.Indices, Vector512.Create(outC)),
            Vector512.Create(8 - outC), Vector512<int>.Zero);
        Store(0, lowP0, highP0, octLo);
        Store(2, lowP0, highP0, octHi);
        Store(4, lowP4, highP4, octLo);
        Store(6, lowP4, highP4, octHi);
        Store(8, lowP8, highP8, octLo);
        Store(10, lowP8, highP8, octHi);
        Store(12, lowP12, highP12, octLo);
        Store(14, lowP12, highP12, octHi);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        void Store(int pixel, Vector512<float> low, Vector512<float> high, Vector512<int> oct)
        {
            if (pixel >= pixels) return;
            var two = Avx512F.PermuteVar16x32x2(low, oct, high);
            if (outC < 8) two = Avx512F.PermuteVar16x32(two, pack);
            Avx512F.MaskStore(y + pixel * outC, GemmSkinny.Mask(Math.Min(2, pixels - pixel) * outC), two);
        }
    }
}
