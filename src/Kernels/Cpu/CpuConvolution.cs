using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// CPU convolutions (NHWC input, HWIO filter) as GEMMs over an im2col matrix (Chellapilla et al., "High
/// Performance Convolutional Neural Networks for Document Processing", 2006): the rows of the output,
/// r = (n, ho, wo), each get a row of col holding the KH·KW·InC input values under the filter window in
/// (i, j, ci) order, which is the HWIO filter's row order, so
/// <code>
/// forward          y[R×OutC]  = col[R×K] · W[K×OutC]
/// backprop-input   dcol[R×K]  = dy[R×OutC] · Wᵀ,   then col2im adds dcol back into dx
/// backprop-filter  dW[K×OutC] += colᵀ · dy[R×OutC]
/// </code>
/// with K = KH·KW·InC. The rows are processed in chunks of <see cref="ConvLayout.RowsPerChunk"/> (a col
/// chunk of about <see cref="ChunkBytes"/>, so it stays in the core's L2 while the GEMM packs it), each
/// core taking a contiguous share of the rows with its own chunk buffer and a single-threaded GEMM: no
/// barrier between im2col and the product, and the workspace is bounded by cores × chunk whatever the
/// batch. A 1×1 stride-1 unpadded convolution is a plain GEMM on x itself (no workspace).
/// </summary>
/// <remarks>
/// Results do not depend on scheduling: the row shares are fixed by the core count, and the filter gradient's
/// per-core partial sums are added in core order. Backprop-input splits the batch by whole images, because
/// col2im of neighbouring rows adds into the same dx elements.
/// </remarks>
internal static unsafe partial class CpuConvolution
{
    /// <summary>Target bytes of one col chunk: half of a 1–2 MiB L2, leaving room for the GEMM's packed panels.</summary>
    internal const long ChunkBytes = 512 * 1024;

    /// <summary>Below this many flops a convolution runs on the calling thread (as <see cref="Gemm.ParallelThresholdFlops"/>).</summary>
    private const double ParallelFlops = 8e6;

    /// <summary>How a call is split: threads, rows per im2col chunk, and the workspace each thread uses.</summary>
    internal readonly record struct ConvLayout(int Threads, int RowsPerChunk, bool Pointwise, long ColPerThread, long AccPerThread, long FlippedFilter = 0,
        bool Direct = false)
    {
        /// <summary>
        /// Elements of workspace: a col chunk per thread, for the filter gradient a partial sum per thread after the first,
        /// and for a stride-1 input gradient the flipped filter in front.
        /// </summary>
        public long WorkspaceElements => FlippedFilter + Threads * ColPerThread + (Threads - 1) * AccPerThread;

        /// <summary>A stride-1 input gradient run as a forward convolution of dy with the flipped filter (see <see cref="BackpropInput{T}"/>).</summary>
        public bool ViaForward => FlippedFilter > 0;
    }

    /// <summary>
    /// The forward convolution that computes a stride-1 input gradient: dx[h] = Σ_{ho, i: h = ho − pt + i·d} dy[ho]·w[i]
    /// is, with i' = kh − 1 − i, dx[h] = Σ_{i'} dy[h − pt' + i'·d]·w[kh − 1 − i'] where pt' = (kh − 1)·d − pt ≥ 0:
    /// a convolution of dy (Cout channels) with the spatially flipped, in/out-swapped filter, producing InH × InW.
    /// </summary>
    internal static Conv2DArgs FlippedForward(in Conv2DArgs a) => new(a.Batch, a.OutH, a.OutW, a.OutC, a.KH, a.KW, a.InC, 1, 1, a.DilationH, a.DilationW,
        (a.KH - 1) * a.DilationH - a.PadTop, (a.KW - 1) * a.DilationW - a.PadLeft, 0, 0, a.InH, a.InW);

    /// <summary>Whether the input gradient takes the flipped-forward route: stride 1 (and pads no larger than the dilated kernel, always so for TF padding).</summary>
    private static bool FlipsToForward(in Conv2DArgs a) =>
        a.StrideH == 1 && a.StrideW == 1 && a.PadTop <= (a.KH - 1) * a.DilationH && a.PadLeft <= (a.KW - 1) * a.DilationW;

    /// <summary>A 1×1, stride-1, unpadded convolution: the input rows are already the col rows.</summary>
    internal static bool IsPointwise(in Conv2DArgs a) =>
        a.KH == 1 && a.KW == 1 && a.StrideH == 1 && a.StrideW == 1 && a.PadTop == 0 && a.PadLeft == 0 && a.OutH == a.InH && a.OutW == a.InW;

    /// <summary>The split of one call; <see cref="CpuBackend.ConvolutionWorkspace"/> and the kernels both use it, so they agree on the size.</summary>
    internal static ConvLayout Layout(ConvolutionPass pass, in Conv2DArgs a, int elementBytes, int cores)
    {
        var rows = (long)a.Batch * a.OutH * a.OutW;
        var k = a.KH * a.KW * a.InC;
        if (IsPointwise(a) || rows == 0 || k == 0 || a.OutC == 0) return new(1, 0, IsPointwise(a), 0, 0);
        if (pass == ConvolutionPass.BackpropInput && FlipsToForward(a) && (long)a.Batch * a.InH * a.InW > 0)
        {
            // GEMM with depth kh·kw·Cout over all N·H·W rows split freely between cores, instead of a depth-Cout GEMM and
            // a col2im scatter split by images: the same flops, a deeper product, no read-modify-write of dx.
            var f = Layout(ConvolutionPass.Forward, FlippedForward(a), elementBytes, cores);
            return f with { FlippedFilter = (long)a.KH * a.KW * a.InC * a.OutC };
        }
        var threads = 2.0 * a.MultiplyAdds < ParallelFlops ? 1 : cores;
        if (pass == ConvolutionPass.BackpropInput) threads = Math.Min(threads, a.Batch);
        threads = (int)Math.Max(1, Math.Min(threads, rows));
        if (pass != ConvolutionPass.BackpropInput && UsesDirect(a, elementBytes))
        {
            // Workspace: one zero-padded image per thread when windows leave the image, and the filter gradient's partial sums.
            var (hp, wp) = DirectExtent(a);
            return new(threads, 0, false, DirectPads(a) ? (long)hp * wp * a.InC : 0, pass == ConvolutionPass.BackpropFilter ? (long)k * a.OutC : 0, Direct: true);
        }
        var share = pass == ConvolutionPass.BackpropInput
            ? (long)((a.Batch + threads - 1) / threads) * a.OutH * a.OutW
            : (rows + threads - 1) / threads;
        var chunk = (int)Math.Min(Math.Clamp(ChunkBytes / ((long)k * elementBytes), 48, 8192), share);
        var acc = pass == ConvolutionPass.BackpropFilter ? (long)k * a.OutC : 0;
        return new(threads, chunk, false, (long)chunk * k, acc);
    }

    /// <summary>y = conv(x, w).</summary>
    public static void Forward<T>(T* x, T* w, T* y, T* ws, in Conv2DArgs a, in ConvLayout l, OutputEpilogue? epilogue = null) where T : unmanaged, INumber<T>
    {
        int k = a.KH * a.KW * a.InC, rows = a.Batch * a.OutH * a.OutW;
        if (rows == 0 || a.OutC == 0) return;
        if (k == 0) { new Span<T>(y, rows * a.OutC).Clear(); return; }
        if (l.Pointwise) { Gemm.Product(false, false, rows, a.OutC, k, x, k, w, a.OutC, y, a.OutC, false, parallel: true); return; }
        if (epilogue is not null && !l.Direct) throw new ArgumentException("only the direct kernel runs an output epilogue", nameof(epilogue));
        var args = a;
        var layout = l;
        nint px = (nint)x, pw = (nint)w, py = (nint)y, pws = (nint)ws;
        if (l.Direct && typeof(T) == typeof(float))
        {
            ForEachShare(l.Threads, rows, 1, (t, lo, hi) => DirectForward((float*)px, (float*)pw, (float*)py, args, lo, hi, (float*)pws + t * layout.ColPerThread, epilogue));
            return;
        }
        ForEachShare(l.Threads, rows, 1, (t, lo, hi) =>
        {
            var col = (T*)pws + t * layout.ColPerThread;
            for (var r0 = lo; r0 < hi; r0 += layout.RowsPerChunk)
            {
                var n = Math.Min(layout.RowsPerChunk, hi - r0);
                Im2Col((T*)px, args, r0, n, col);
                Gemm.Product(false, false, n, args.OutC, k, col, k, (T*)pw, args.OutC, (T*)py + (nint)r0 * args.OutC, args.OutC, false, parallel: false);
            }
        });
    }

    /// <summary>dx = col2im(dy · Wᵀ).</summary>
    public static void BackpropInput<T>(T* dy, T* w, T* dx, T* ws, in Conv2DArgs a, in ConvLayout l) where T : unmanaged, INumber<T>
    {
        int k = a.KH * a.KW * a.InC, rows = a.Batch * a.OutH * a.OutW;
        var inputSize = (long)a.Batch * a.InH * a.InW * a.InC;
        if (inputSize == 0) return;
        if (rows == 0 || a.OutC == 0) { new Span<T>(dx, (int)inputSize).Clear(); return; }
        if (l.Pointwise) { Gemm.Product(false, true, rows, k, a.OutC, dy, a.OutC, w, a.OutC, dx, k, false, parallel: true); return; }
        if (l.ViaForward)
        {
            // wf[i', j', co, ci] = w[kh − 1 − i', kw − 1 − j', ci, co], then dx = conv(dy, wf) (see FlippedForward).
            for (var i = 0; i < a.KH; i++)
                for (var j = 0; j < a.KW; j++)
                {
                    var src = w + ((nint)(a.KH - 1 - i) * a.KW + (a.KW - 1 - j)) * a.InC * a.OutC;
                    var dst = ws + ((nint)i * a.KW + j) * a.OutC * a.InC;
                    for (var ci = 0; ci < a.InC; ci++)
                        for (var co = 0; co < a.OutC; co++) dst[(nint)co * a.InC + ci] = src[(nint)ci * a.OutC + co];
                }
            Forward(dy, ws, dx, ws + l.FlippedFilter, FlippedForward(a), l with { FlippedFilter = 0 });
            return;
        }
        var args = a;
        var layout = l;
        var image = a.OutH * a.OutW;
        nint pdy = (nint)dy, pw = (nint)w, pdx = (nint)dx, pws = (nint)ws;
        // Shares are whole images (unit = one image's rows): col2im of one image touches only that image of dx.
        ForEachShare(l.Threads, a.Batch, image, (t, lo, hi) =>
        {
            var imageElements = (long)args.InH * args.InW * args.InC;
            new Span<T>((T*)pdx + lo / image * imageElements, (int)((hi - lo) / image * imageElements)).Clear();
            var dcol = (T*)pws + t * layout.ColPerThread;
            for (var r0 = lo; r0 < hi; r0 += layout.RowsPerChunk)
            {
                var n = Math.Min(layout.RowsPerChunk, hi - r0);
                Gemm.Product(false, true, n, k, args.OutC, (T*)pdy + (nint)r0 * args.OutC, args.OutC, (T*)pw, args.OutC, dcol, k, false, parallel: false);
                Col2Im(dcol, args, r0, n, (T*)pdx);
            }
        });
    }

    /// <summary>dW = colᵀ · dy, summed over the batch.</summary>
    public static void BackpropFilter<T>(T* x, T* dy, T* dw, T* ws, in Conv2DArgs a, in ConvLayout l) where T : unmanaged, INumber<T>
    {
        int k = a.KH * a.KW * a.InC, rows = a.Batch * a.OutH * a.OutW;
        if (k == 0 || a.OutC == 0) return;
        if (rows == 0) { new Span<T>(dw, k * a.OutC).Clear(); return; }
        if (l.Pointwise) { Gemm.Product(true, false, k, a.OutC, rows, x, k, dy, a.OutC, dw, a.OutC, false, parallel: true); return; }
        var args = a;
        var layout = l;
        nint px = (nint)x, pdy = (nint)dy, pdw = (nint)dw, pws = (nint)ws;
        if (l.Direct && typeof(T) == typeof(float))
            ForEachShare(l.Threads, rows, 1, (t, lo, hi) =>
            {
                var acc = t == 0 ? (float*)pdw : (float*)pws + layout.Threads * layout.ColPerThread + (t - 1) * layout.AccPerThread;
                new Span<float>(acc, k * args.OutC).Clear();
                DirectFilter((float*)px, (float*)pdy, acc, args, lo, hi, (float*)pws + t * layout.ColPerThread);
            });
        else ForEachShare(l.Threads, rows, 1, (t, lo, hi) =>
        {
            var col = (T*)pws + t * layout.ColPerThread;
            // Core 0 sums straight into dw; the others into their own partial sums, added below in core order.
            var acc = t == 0 ? (T*)pdw : (T*)pws + layout.Threads * layout.ColPerThread + (t - 1) * layout.AccPerThread;
            if (hi <= lo) new Span<T>(acc, k * args.OutC).Clear();
            for (var r0 = lo; r0 < hi; r0 += layout.RowsPerChunk)
            {
                var n = Math.Min(layout.RowsPerChunk, hi - r0);
                Im2Col((T*)px, args, r0, n, col);
                Gemm.Product(true, false, k, args.OutC, n, col, k, (T*)pdy + (nint)r0 * args.OutC, args.OutC, acc, args.OutC, accumulate: r0 != lo, parallel: false);
            }
        });
        for (var t = 1; t < l.Threads; t++)
        {
            var partial = new Span<T>(ws + l.Threads * l.ColPerThread + (t - 1) * l.AccPerThread, k * a.OutC);
            var sum = new Span<T>(dw, k * a.OutC);
            for (var i = 0; i < sum.Length; i++) sum[i] += partial[i];
        }
    }

    /// <summary>Runs body(thread, firstRow, endRow) over <paramref name="threads"/> contiguous shares of <paramref name="units"/> units of <paramref name="unitRows"/> rows.</summary>
    private static void ForEachShare(int threads, int units, int unitRows, Action<int, int, int> body)
    {
        if (threads <= 1) { body(0, 0, units * unitRows); return; }
        KernelThreads.For(0, threads, t =>
            body(t, (int)((long)units * t / threads) * unitRows, (int)((long)units * (t + 1) / threads) * unitRows));
    }

    /// <summary>
    /// col[r, (i, j, ci)] = x[n, ho·sh − pt + i·dh, wo·sw − pl + j·dw, ci] (0 outside) for the rows r0 ≤ r &lt; r0 + count.
    /// With dilation 1 along W, the in-range taps of one filter row are one contiguous run of NHWC memory: one copy.
    /// </summary>
    internal static void Im2Col<T>(T* x, in Conv2DArgs a, int r0, int count, T* col) where T : unmanaged, INumber<T>
    {
        int c = a.InC, k = a.KH * a.KW * c, rowLen = a.KW * c;
        int wo = r0 % a.OutW, ho = r0 / a.OutW % a.OutH, n = r0 / (a.OutW * a.OutH);
        for (var r = 0; r < count; r++)
        {
            var dst = col + (nint)r * k;
            var image = x + (nint)n * a.InH * a.InW * c;
            int hBase = ho * a.StrideH - a.PadTop, wBase = wo * a.StrideW - a.PadLeft;
            var (jLo, jHi) = TapRange(wBase, a.DilationW, a.KW, a.InW);
            for (var i = 0; i < a.KH; i++)
            {
                var d = dst + i * rowLen;
                var h = hBase + i * a.DilationH;
                if ((uint)h >= (uint)a.InH || jLo >= jHi) { Clear(d, rowLen); continue; }
                if (jLo > 0) Clear(d, jLo * c);
                var src = image + ((nint)h * a.InW + wBase) * c;
                if (a.DilationW == 1)
                    Copy(src + jLo * c, d + jLo * c, (jHi - jLo) * c);
                else
                    for (var j = jLo; j < jHi; j++)
                        Copy(src + (nint)j * a.DilationW * c, d + j * c, c);
                if (jHi < a.KW) Clear(d + jHi * c, (a.KW - jHi) * c);
            }
            if (++wo == a.OutW) { wo = 0; if (++ho == a.OutH) { ho = 0; n++; } }
        }
    }

    /// <summary>dx[n, h, w, ci] += dcol[r, (i, j, ci)] over the in-range taps of rows r0 ≤ r &lt; r0 + count (the adjoint of <see cref="Im2Col{T}"/>).</summary>
    internal static void Col2Im<T>(T* dcol, in Conv2DArgs a, int r0, int count, T* dx) where T : unmanaged, INumber<T>
    {
        int c = a.InC, k = a.KH * a.KW * c, rowLen = a.KW * c;
        int wo = r0 % a.OutW, ho = r0 / a.OutW % a.OutH, n = r0 / (a.OutW * a.OutH);
        for (var r = 0; r < count; r++)
        {
            var src = dcol + (nint)r * k;
            var image = dx + (nint)n * a.InH * a.InW * c;
            int hBase = ho * a.StrideH - a.PadTop, wBase = wo * a.StrideW - a.PadLeft;
            var (jLo, jHi) = TapRange(wBase, a.DilationW, a.KW, a.InW);
            for (var i = 0; i < a.KH; i++)
            {
                var h = hBase + i * a.DilationH;
                if ((uint)h >= (uint)a.InH) continue;
                var s = src + i * rowLen;
                var d = image + ((nint)h * a.InW + wBase) * c;
                if (a.DilationW == 1) Add(s + jLo * c, d + jLo * c, (jHi - jLo) * c);
                else
                    for (var j = jLo; j < jHi; j++) Add(s + j * c, d + (nint)j * a.DilationW * c, c);
            }
            if (++wo == a.OutW) { wo = 0; if (++ho == a.OutH) { ho = 0; n++; } }
        }
    }

    /// <summary>The taps j (jLo ≤ j &lt; jHi) whose column wBase + j·dilation lies inside [0, width).</summary>
    private static (int Lo, int Hi) TapRange(int wBase, int dilation, int taps, int width)
    {
        if (dilation == 1)
        {
            // No division: im2col calls this once per output pixel, and two integer divisions were a visible share of a small layer's copy.
            int l = Math.Clamp(-wBase, 0, taps), h = Math.Clamp(width - wBase, 0, taps);
            return (l, Math.Max(h, l));
        }
        var lo = wBase >= 0 ? 0 : (-wBase + dilation - 1) / dilation;
        var hi = wBase >= width ? 0 : Math.Min(taps, (width - 1 - wBase) / dilation + 1);
        return (Math.Min(lo, taps), Math.Max(hi, Math.Min(lo, taps)));
    }

    /// <summary>
    /// Copies <paramref name="count"/> elements. im2col copies one kernel row (KW·InC elements) at a time, which for a small
    /// layer (LeNet's first: 5 × 1) is a few floats: one masked AVX-512 move instead of a memmove call, whose fixed cost
    /// was most of that convolution's time.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Copy<T>(T* src, T* dst, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(float) && count <= 16 && Avx512F.IsSupported)
        {
            var mask = GemmSkinny.Mask(count);
            Avx512F.MaskStore((float*)dst, mask, Avx512F.MaskLoad((float*)src, mask, Vector512<float>.Zero));
            return;
        }
        new ReadOnlySpan<T>(src, count).CopyTo(new Span<T>(dst, count));
    }

    /// <summary>Zeroes <paramref name="count"/> elements (the padding taps of an im2col row), small runs as one masked store.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Clear<T>(T* dst, int count) where T : unmanaged
    {
        if (typeof(T) == typeof(float) && count <= 16 && Avx512F.IsSupported)
        {
            Avx512F.MaskStore((float*)dst, GemmSkinny.Mask(count), Vector512<float>.Zero);
            return;
        }
        new Span<T>(dst, count).Clear();
    }

    private static void Add<T>(T* src, T* dst, int count) where T : unmanaged, INumber<T>
    {
        if (count <= 0) return;
        if (typeof(T) == typeof(float) && count <= 16 && Avx512F.IsSupported)
        {
            var mask = GemmSkinny.Mask(count);
            var sum = Avx512F.MaskLoad((float*)dst, mask, Vector512<float>.Zero) + Avx512F.MaskLoad((float*)src, mask, Vector512<float>.Zero);
            Avx512F.MaskStore((float*)dst, mask, sum);
        }
        else if (typeof(T) == typeof(float))
            System.Numerics.Tensors.TensorPrimitives.Add(new ReadOnlySpan<float>(dst, count), new ReadOnlySpan<float>(src, count), new Span<float>(dst, count));
        else
            for (var i = 0; i < count; i++) dst[i] += src[i];
    }
}
