using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

internal static unsafe partial class CpuConvolution
{
    /// <summary>Largest output channel count the direct kernel takes: one masked 16-float vector per output pixel.</summary>
    internal const int DirectMaxOutC = 16;

    /// <summary>
    /// Whether a float32 forward convolution (or a stride-1 input gradient, which runs as one) goes to
    /// <see cref="DirectForward"/>: few output channels, where im2col's copy of KH·KW·InC values per output pixel costs more
    /// than the product it feeds (LeNet's first layer: 25 copied values for 150 multiply-adds).
    /// </summary>
    internal static bool UsesDirect(in Conv2DArgs a, int elementBytes) =>
        elementBytes == sizeof(float) && a.OutC is >= DirectMinOutC and <= DirectMaxOutC && Avx512F.VL.IsSupported;

    /// <summary>
    /// Smallest output channel count the direct kernel takes: with one or two channels a vector per pixel is nearly all
    /// idle lanes (those layers, e.g. an autoencoder's 1-channel output, keep im2col + GEMM).
    /// </summary>
    internal const int DirectMinOutC = 3;

    /// <summary>
    /// The input extent the direct kernel reads per image: the padded height and width that hold every window
    /// (top/left padding in front, and at the bottom/right as far as the last window reaches).
    /// </summary>
    internal static (int H, int W) DirectExtent(in Conv2DArgs a) =>
        (Math.Max(a.InH + a.PadTop, (a.OutH - 1) * a.StrideH + (a.KH - 1) * a.DilationH + 1),
         Math.Max(a.InW + a.PadLeft, (a.OutW - 1) * a.StrideW + (a.KW - 1) * a.DilationW + 1));

    /// <summary>Whether some window leaves the image, so the direct kernel reads a zero-padded copy of each image.</summary>
    internal static bool DirectPads(in Conv2DArgs a)
    {
        var (h, w) = DirectExtent(a);
        return a.PadTop > 0 || a.PadLeft > 0 || h > a.InH || w > a.InW;
    }

    /// <summary>
    /// y = conv(x, w) without im2col, for OutC ≤ 16, on the output pixels [lo, hi): each pixel's OutC outputs are one masked
    /// vector, and the filter row of tap p = (i, j, ci) (HWIO: OutC contiguous floats) is loaded once per block of 8 pixels
    /// of one output row, each of which adds x at its own position + offset(p) times that row. With one input channel, unit
    /// horizontal stride and OutC ≤ 8, pixels go in the lanes instead (<see cref="PixelLanes{TChannels}"/>): same sums, same bits. With padding, each image is
    /// first copied into <paramref name="padded"/> (zeros around it, <see cref="DirectExtent"/>), so that every window is
    /// inside the data and every pixel takes the same vector path.
    /// </summary>
    private static void DirectForward(float* x, float* w, float* y, in Conv2DArgs a, int lo, int hi, float* padded, OutputEpilogue? epilogue)
    {
        // With an epilogue, the output is handed over in runs of at least EpilogueElements (a few fused blocks, still in L2),
        // each ending on a block boundary, so that only the block at each end of the share waits for OutputEpilogue.Finish.
        const int EpilogueElements = 4 * FusedProgram.MaxBlock;
        var reported = (long)lo * a.OutC;
        var mask = GemmSkinny.Mask(a.OutC);
        var (outC, half) = (a.OutC, a.OutC <= 8);
        // A single pixel runs two FMA chains, which costs it about 2 pixels' time in a block on 512-bit vectors (one FMA per
        // cycle) and 4 on 256-bit ones (two per cycle); so a ragged end of r pixels runs one more block overlapping the
        // previous one (recomputing those pixels with the same FMAs, so the same bits) when that is cheaper than r single
        // pixels. A row segment under 8 pixels goes pixel by pixel.
        var overlapFrom = half ? 2 : 4;
        var pixelLanes = UsesPixelLanes(a);
        nint pw = (nint)w, py = (nint)y;
        ForEachRowSegment(x, a, lo, hi, padded, (src, taps, kt, t0, pixelStride, r, count) =>
        {
            var wt = (float*)pw + (nint)t0 * outC;
            var yp = (float*)py + (nint)r * outC;
            if (pixelLanes) PixelLanesRow(src, taps, kt, wt, yp, count, outC);
            else
                for (var q = 0; q < count; q += 8)
                {
                    var rest = count - q;
                    if (!half && rest is > 8 and <= 12)
                    {
                        WideBlock(src + q * pixelStride, pixelStride, taps, kt, wt, outC, yp + q * outC, rest, mask);
                        break;
                    }
                    var at = rest >= 8 ? q : count >= 8 && rest >= overlapFrom ? count - 8 : -1;
                    if (at < 0)
                    {
                        for (var one = q; one < count; one++)
                            if (half) GemmSkinny.OneRowHalf(src + one * pixelStride, taps, kt, wt, outC, yp + one * outC, mask.GetLower(), false);
                            else GemmSkinny.OneRow(src + one * pixelStride, taps, kt, wt, outC, yp + one * outC, mask, false);
                        break;
                    }
                    if (half) GemmSkinny.EightRowsHalf(src + at * pixelStride, pixelStride, taps, kt, wt, outC, yp + at * outC, outC, mask.GetLower(), false);
                    else GemmSkinny.EightRows(src + at * pixelStride, pixelStride, taps, kt, wt, outC, yp + at * outC, outC, mask, false);
                }
            if (epilogue is not null)
            {
                var done = (long)(r + count) * outC;
                var upTo = r + count == hi ? done : epilogue.BlockStartAtOrBefore(done);
                if (upTo - reported >= EpilogueElements || r + count == hi)
                {
                    epilogue.Completed(reported, upTo);
                    reported = upTo;
                }
            }
        });
    }

    /// <summary>
    /// What <see cref="ForEachRowSegment"/> hands over for one output row's pixels [r, r + count): the (padded) input under the
    /// first pixel's window, the live taps' offsets (<c>kt</c> of them, from tap <c>t0</c>: see <see cref="LiveTaps"/>) and the
    /// input step from one pixel to the next.
    /// </summary>
    private delegate void RowSegment(float* src, int* taps, int kt, int t0, nint pixelStride, int r, int count);

    /// <summary>
    /// Walks the output pixels [lo, hi) one output-row segment at a time for the direct kernels: builds the table of tap
    /// offsets (tap p = (i, j, ci) from the window's top-left element), copies each image into <paramref name="padded"/> with
    /// zeros around it when windows leave the image (<see cref="DirectExtent"/>), so every pixel takes the same vector path,
    /// and skips the kernel rows that lie wholly in the top/bottom padding.
    /// </summary>
    private static void ForEachRowSegment(float* x, in Conv2DArgs a, int lo, int hi, float* padded, RowSegment body)
    {
        var k = a.KH * a.KW * a.InC;
        var pads = DirectPads(a);
        var (hp, wp) = pads ? DirectExtent(a) : (a.InH, a.InW);
        var rented = ArrayPool<int>.Shared.Rent(k);
        try
        {
            fixed (int* offsets = rented)
            {
                for (int i = 0, p = 0; i < a.KH; i++)
                    for (var j = 0; j < a.KW; j++)
                        for (var ci = 0; ci < a.InC; ci++, p++)
                            offsets[p] = (i * a.DilationH * wp + j * a.DilationW) * a.InC + ci;
                var pixelStride = (nint)a.StrideW * a.InC;
                var paddedImage = -1;
                for (var r = lo; r < hi;)
                {
                    int wo = r % a.OutW, ho = r / a.OutW % a.OutH, n = r / (a.OutW * a.OutH);
                    var count = Math.Min(hi, r - wo + a.OutW) - r; // the rest of this output row within the share
                    var image = x + (nint)n * a.InH * a.InW * a.InC;
                    if (pads)
                    {
                        if (paddedImage != n) PadImage(image, padded, a, hp, wp);
                        paddedImage = n;
                        image = padded;
                    }
                    var (t0, t1) = LiveTaps(a, ho, pads);
                    body(image + ((nint)ho * a.StrideH * wp + (nint)wo * a.StrideW) * a.InC, offsets + t0, t1 - t0, t0, pixelStride, r, count);
                    r += count;
                }
            }
        }
        finally
        {
            ArrayPool<int>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The taps [first, end) of output row <paramref name="ho"/> whose kernel row reads real input rows: taps are ordered
    /// (i, j, ci), so each kernel row is a contiguous run of KW·InC taps, and the rows in the top or bottom padding form a
    /// prefix and a suffix. A stride-1 input gradient run as a forward convolution pads by the kernel size less one, so
    /// its border rows skip most of their taps.
    /// </summary>
    private static (int First, int End) LiveTaps(in Conv2DArgs a, int ho, bool pads)
    {
        var rowTaps = a.KW * a.InC;
        if (!pads) return (0, a.KH * rowTaps);
        int top = ho * a.StrideH, first = 0, last = a.KH;
        while (first < a.KH && top + first * a.DilationH < a.PadTop) first++;
        while (last > first && top + (last - 1) * a.DilationH >= a.PadTop + a.InH) last--;
        return (first * rowTaps, last * rowTaps);
    }

    /// <summary>Copies one NHWC image into the top-left-offset interior of a zeroed hp × wp buffer.</summary>
    private static void PadImage(float* image, float* padded, in Conv2DArgs a, int hp, int wp)
    {
        new Span<float>(padded, hp * wp * a.InC).Clear();
        var rowLength = a.InW * a.InC;
        for (var h = 0; h < a.InH; h++)
            new ReadOnlySpan<float>(image + (nint)h * rowLength, rowLength)
                .CopyTo(new Span<float>(padded + (((nint)h + a.PadTop) * wp + a.PadLeft) * a.InC, rowLength));
    }

    /// <summary>
    /// dW (+)= Σ over the output pixels [lo, hi) of x(window, p) · dy(pixel) without im2col, for 3 ≤ OutC ≤ 16: per output
    /// row, taps in groups of 8 hold 8 vector accumulators (dW rows) while the row's pixels stream by (one masked dy load
    /// and 8 broadcasts of x per pixel), then add into <paramref name="dw"/>. <paramref name="dw"/> must be zeroed first.
    /// Padded images are copied to <paramref name="padded"/> as in <see cref="DirectForward"/>.
    /// </summary>
    private static void DirectFilter(float* x, float* dy, float* dw, in Conv2DArgs a, int lo, int hi, float* padded)
    {
        var mask = GemmSkinny.Mask(a.OutC);
        var outC = a.OutC;
        nint pdy = (nint)dy, pdw = (nint)dw;
        ForEachRowSegment(x, a, lo, hi, padded, (src, taps, kt, t0, pixelStride, r, count) =>
        {
            var g = (float*)pdy + (nint)r * outC;
            var acc = (float*)pdw + (nint)t0 * outC;
            var p = 0;
            for (; p + 8 <= kt; p += 8) EightTaps(src, pixelStride, taps + p, g, count, outC, acc + (nint)p * outC, mask);
            for (; p < kt; p++) OneTap(src + taps[p], pixelStride, g, count, outC, acc + (nint)p * outC, mask);
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightTaps(float* src, nint stride, int* offsets, float* dy, int count, int outC, float* dw, Vector512<float> mask)
    {
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        nint o0 = offsets[0], o1 = offsets[1], o2 = offsets[2], o3 = offsets[3], o4 = offsets[4], o5 = offsets[5], o6 = offsets[6], o7 = offsets[7];
        for (var q = 0; q < count; q++, src += stride, dy += outC)
        {
            var g = Avx512F.MaskLoad(dy, mask, Vector512<float>.Zero);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o0]), g, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o1]), g, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o2]), g, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o3]), g, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o4]), g, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o5]), g, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o6]), g, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(src[o7]), g, c7);
        }
        AddRow(dw, mask, c0);
        AddRow(dw + outC, mask, c1);
        AddRow(dw + 2 * outC, mask, c2);
        AddRow(dw + 3 * outC, mask, c3);
        AddRow(dw + 4 * outC, mask, c4);
        AddRow(dw + 5 * outC, mask, c5);
        AddRow(dw + 6 * outC, mask, c6);
        AddRow(dw + 7 * outC, mask, c7);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneTap(float* src, nint stride, float* dy, int count, int outC, float* dw, Vector512<float> mask)
    {
        Vector512<float> even = default, odd = default;
        var q = 0;
        for (; q + 1 < count; q += 2, src += 2 * stride, dy += 2 * outC)
        {
            even = Vector512.FusedMultiplyAdd(Vector512.Create(src[0]), Avx512F.MaskLoad(dy, mask, Vector512<float>.Zero), even);
            odd = Vector512.FusedMultiplyAdd(Vector512.Create(src[stride]), Avx512F.MaskLoad(dy + outC, mask, Vector512<float>.Zero), odd);
        }
        if (q < count) even = Vector512.FusedMultiplyAdd(Vector512.Create(src[0]), Avx512F.MaskLoad(dy, mask, Vector512<float>.Zero), even);
        AddRow(dw, mask, even + odd);
    }

    private static void AddRow(float* dw, Vector512<float> mask, Vector512<float> sum) =>
        Avx512F.MaskStore(dw, mask, Avx512F.MaskLoad(dw, mask, Vector512<float>.Zero) + sum);
}
