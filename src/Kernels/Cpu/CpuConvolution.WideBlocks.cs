using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

internal static unsafe partial class CpuConvolution
{
    /// <summary>
    /// A row segment of 9–12 pixels for the channel-lane direct kernel (9 &lt; OutC ≤ 16, one 512-bit vector per pixel):
    /// one block with an accumulator per pixel, instead of 8 pixels and then single pixels that run two FMA chains each
    /// (about two pixels' time apiece). LeNet's second layer has 10-pixel rows: 10 pixels' time instead of 12.
    /// </summary>
    private static void WideBlock(float* src, nint pixelStride, int* taps, int kt, float* wt, int outC, float* y, int count, Vector512<float> mask)
    {
        switch (count)
        {
            case 9: Rows<Count9>(src, pixelStride, taps, kt, wt, outC, y, mask); break;
            case 10: Rows<Count10>(src, pixelStride, taps, kt, wt, outC, y, mask); break;
            case 11: Rows<Count11>(src, pixelStride, taps, kt, wt, outC, y, mask); break;
            case 12: Rows<Count12>(src, pixelStride, taps, kt, wt, outC, y, mask); break;
            default: throw new ArgumentOutOfRangeException(nameof(count), count, "a wide block has 9 to 12 pixels");
        }
    }

    /// <summary>
    /// <see cref="GemmSkinny.EightRows"/> for <typeparamref name="TPixels"/> (9–12) pixels of one output row: pixel q reads
    /// src[q·pixelStride + taps[p]], the filter row of each tap is loaded once for all of them, and each pixel's vector adds
    /// the taps in order (one FMA chain), as in the 8-pixel blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rows<TPixels>(float* src, nint stride, int* taps, int kt, float* wt, int outC, float* y, Vector512<float> mask)
        where TPixels : struct, ICount
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default;
        Vector512<float> c6 = default, c7 = default, c8 = default, c9 = default, c10 = default, c11 = default;
        for (var p = 0; p < kt; p++)
        {
            var bv = Avx512F.MaskLoad(wt + (nint)p * outC, mask, Vector512<float>.Zero);
            var s = src + taps[p];
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(s[0]), bv, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(s[stride]), bv, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(s[2 * stride]), bv, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(s[3 * stride]), bv, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(s[4 * stride]), bv, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(s[5 * stride]), bv, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(s[6 * stride]), bv, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(s[7 * stride]), bv, c7);
            c8 = Vector512.FusedMultiplyAdd(Vector512.Create(s[8 * stride]), bv, c8);
            if (TPixels.Value > 9) c9 = Vector512.FusedMultiplyAdd(Vector512.Create(s[9 * stride]), bv, c9);
            if (TPixels.Value > 10) c10 = Vector512.FusedMultiplyAdd(Vector512.Create(s[10 * stride]), bv, c10);
            if (TPixels.Value > 11) c11 = Vector512.FusedMultiplyAdd(Vector512.Create(s[11 * stride]), bv, c11);
        }
        Avx512F.MaskStore(y, mask, c0);
        Avx512F.MaskStore(y + outC, mask, c1);
        Avx512F.MaskStore(y + 2 * outC, mask, c2);
        Avx512F.MaskStore(y + 3 * outC, mask, c3);
        Avx512F.MaskStore(y + 4 * outC, mask, c4);
        Avx512F.MaskStore(y + 5 * outC, mask, c5);
        Avx512F.MaskStore(y + 6 * outC, mask, c6);
        Avx512F.MaskStore(y + 7 * outC, mask, c7);
        Avx512F.MaskStore(y + 8 * outC, mask, c8);
        if (TPixels.Value > 9) Avx512F.MaskStore(y + 9 * outC, mask, c9);
        if (TPixels.Value > 10) Avx512F.MaskStore(y + 10 * outC, mask, c10);
        if (TPixels.Value > 11) Avx512F.MaskStore(y + 11 * outC, mask, c11);
    }
}
