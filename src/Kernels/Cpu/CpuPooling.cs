using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// 2-D max and average pooling over NHWC tensors and their gradients, vectorised whatever the channel count.
/// A row of an NHWC image is W·C contiguous elements, so each output row first reduces its window's input rows
/// element-wise over whole W·C rows (Vector&lt;T&gt; over contiguous memory, independent of C), then reduces the
/// window's columns of that row buffer (see <see cref="ReduceColumns{T}"/>). The max gradient finds each window's
/// winner the same way, carrying the winner's row and column along, and adds dy there; the average gradient spreads
/// dy / count over one row buffer and adds it to the window's rows. For C smaller than a vector a per-pixel block is
/// the pixel plus the next pixel's first channels: those extra lanes are overwritten by the next pixel, or masked.
/// The forward pass splits output rows across cores; the gradients split images (windows of one image overlap, so
/// two threads never add into the same dx element).
/// </summary>
/// <remarks>
/// NaN: max pooling propagates NaN; its gradient goes to the first NaN of the window. Otherwise the max gradient
/// goes to the first maximum in row-major window order (TensorFlow's rule). Average pooling divides by the number
/// of window elements inside the image (padding is not counted). Sums are taken rows first, then columns, so the
/// average may differ from a window-order sum in the last bit.
/// </remarks>
internal static partial class CpuPooling
{
    // Below ~32k touched elements one core finishes before Parallel.For's scheduling cost is repaid.
    private const long ParallelThreshold = 1 << 15;

    /// <summary>y = pool(x) over NHWC windows (see <see cref="Pool2DArgs"/>); output rows split across cores.</summary>
    public static void Forward<T>(PoolKind kind, ArraySegment<T> x, ArraySegment<T> y, Pool2DArgs p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (typeof(T) == typeof(float) && UsesNarrow(p))
        {
            ForwardNarrow(kind, (ArraySegment<float>)(object)x, (ArraySegment<float>)(object)y, p);
            return;
        }
        var rows = p.N * p.OutH;
        var work = (long)y.Count * p.KernelH * p.KernelW;
        var blocks = Blocks<T>(p.C);
        For(rows, work, (start, end) =>
        {
            // Row buffers padded by one vector so a block load at the last pixel never leaves them.
            var buf = ArrayPool<T>.Shared.Rent(p.W * p.C + Vector<T>.Count);
            var shifted = ArrayPool<T>.Shared.Rent(p.W * p.C + Vector<T>.Count);
            try
            {
                for (var row = start; row < end; row++)
                {
                    var (n, i) = (row / p.OutH, row % p.OutH);
                    var (r0, r1) = Range(i, p.StrideH, p.PadTop, p.KernelH, p.H);
                    ReduceRows(kind, x, buf, n, r0, r1, p);
                    var yRow = y.AsSpan(row * p.OutW * p.C, p.OutW * p.C);
                    ReduceColumns(kind, buf, shifted, yRow, blocks, r1 - r0, p);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(buf);
                ArrayPool<T>.Shared.Return(shifted);
            }
        });
    }

    /// <summary>
    /// buf[0, W·C) = the element-wise max (or sum) of the image rows [r0, r1) of image n: whole contiguous rows,
    /// so the vector width is used fully for any C.
    /// </summary>
    private static void ReduceRows<T>(PoolKind kind, ArraySegment<T> x, T[] buf, int n, int r0, int r1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var len = p.W * p.C;
        var xs = x.AsSpan();
        var first = xs.Slice((n * p.H + r0) * len, len);
        var dst = buf.AsSpan(0, len);
        if (r1 - r0 == 1)
        {
            first.CopyTo(dst);
            return;
        }
        // The first two rows straight into buf (no copy of the first), the rest accumulated in place.
        Combine(kind, first, xs.Slice((n * p.H + r0 + 1) * len, len), dst);
        for (var r = r0 + 2; r < r1; r++) Combine(kind, dst, xs.Slice((n * p.H + r) * len, len), dst);
    }

    /// <summary>dst = max(a, b) (NaN-propagating, a's NaN first) or a + b, element-wise; dst may alias a.</summary>
    private static void Combine<T>(PoolKind kind, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> dst) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var k = 0;
        var v = Vector<T>.Count;
        if (kind == PoolKind.Max)
        {
            for (; k + v <= dst.Length; k += v) MaxNaN(new Vector<T>(a[k..]), new Vector<T>(b[k..])).CopyTo(dst[k..]);
            for (; k < dst.Length; k++) dst[k] = MaxNaN(a[k], b[k]);
        }
        else
        {
            for (; k + v <= dst.Length; k += v) (new Vector<T>(a[k..]) + new Vector<T>(b[k..])).CopyTo(dst[k..]);
            for (; k < dst.Length; k++) dst[k] = a[k] + b[k];
        }
    }

    /// <summary>
    /// yRow[j] = the max (or mean) over window j's columns of the row-reduced buffer <paramref name="buf"/>.
    /// </summary>
    /// <remarks>
    /// For C ≥ Vector&lt;T&gt;.Count each window is reduced directly, one vector per channel block. For smaller C a vector
    /// per output pixel would leave most lanes idle, so the reduction is first done at every start column over the
    /// contiguous row (shifted[k] = op over p &lt; KernelW of buf[k + p·C], whole vectors whatever C is), and each window
    /// lying fully inside the image then copies its C values from its start column; the (padding-clipped) edge windows
    /// take the direct path. Blocks are stored in increasing j, so when C &lt; Vector&lt;T&gt;.Count the lanes spilling into
    /// pixel j + 1 are overwritten by it; <see cref="Store{T}"/> keeps the last pixel's spill inside this output row
    /// (another thread may own the next).
    /// </remarks>
    private static void ReduceColumns<T>(PoolKind kind, T[] buf, T[] shifted, Span<T> yRow, Block<T>[] blocks, int rows, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector<T>.Count;
        var max = kind == PoolKind.Max;
        var starts = p.C < v ? p.W - p.KernelW + 1 : 0;
        if (starts > 0)
        {
            var count = new Vector<T>(T.CreateTruncating(rows * p.KernelW));
            // k runs past starts·C by less than a vector; the reads stay below W·C + Count (buf is padded).
            for (var k = 0; k < starts * p.C; k += v)
            {
                var acc = new Vector<T>(buf, k);
                for (var q = 1; q < p.KernelW; q++)
                {
                    var b = new Vector<T>(buf, k + q * p.C);
                    acc = max ? MaxNaN(acc, b) : acc + b;
                }
                (max ? acc : acc / count).CopyTo(shifted, k);
            }
        }
        for (var j = 0; j < p.OutW; j++)
        {
            var start = j * p.StrideW - p.PadLeft;
            if (starts > 0 && start >= 0 && start + p.KernelW <= p.W)
            {
                Store(yRow, j * p.C, new Vector<T>(shifted, start * p.C));
                continue;
            }
            var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
            var count = new Vector<T>(T.CreateTruncating(rows * (q1 - q0)));
            foreach (var b in blocks)
            {
                var acc = new Vector<T>(buf, q0 * p.C + b.C0);
                for (var q = q0 + 1; q < q1; q++)
                {
                    var e = new Vector<T>(buf, q * p.C + b.C0);
                    acc = max ? MaxNaN(acc, e) : acc + e;
                }
                Store(yRow, j * p.C + b.C0, max ? acc : acc / count);
            }
        }
    }

    /// <summary>Element-wise maximum that propagates NaN (the first NaN operand wins), as the scalar loops and the reference.</summary>
    private static Vector<T> MaxNaN<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.Equals(a, a), Vector.ConditionalSelect(Vector.Equals(b, b), Vector.Max(a, b), b), a);

    /// <summary>Scalar twin of the vector <see cref="MaxNaN{T}(Vector{T}, Vector{T})"/>; on equal values (±0) the first wins.</summary>
    private static T MaxNaN<T>(T a, T b) where T : unmanaged, IFloatingPointIeee754<T> => !T.IsNaN(a) && (T.IsNaN(b) || b > a) ? b : a;

    /// <summary>dx = the pooling gradient for dy (overwritten; x is read for max only); images split across cores.</summary>
    public static void Backward<T>(PoolKind kind, ArraySegment<T> x, ArraySegment<T> dy, ArraySegment<T> dx, Pool2DArgs p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var work = (long)dy.Count * p.KernelH * p.KernelW;
        var blocks = Blocks<T>(p.C);
        For(p.N, work, (start, end) =>
        {
            // Row-sized and output-row-sized scratch, each padded by one vector so block loads and stores stay inside.
            var v = Vector<T>.Count;
            var (rowLen, outLen, imageLen) = (p.W * p.C, p.OutW * p.C, p.H * p.W * p.C);
            var rowBuf = ArrayPool<T>.Shared.Rent(rowLen + v);
            var outBuf = ArrayPool<T>.Shared.Rent(outLen + v);
            var rowOf = ArrayPool<T>.Shared.Rent(rowLen + v);
            var bestQ = ArrayPool<T>.Shared.Rent(outLen + v);
            try
            {
                for (var n = start; n < end; n++)
                {
                    var dxImage = dx.AsSpan(n * imageLen, imageLen);
                    // dx rows are cleared just before the first window that reaches them (r1 never decreases with i),
                    // so they are still in cache when the gradient is added: one pass over dx in memory, not two.
                    var cleared = 0;
                    for (var i = 0; i < p.OutH; i++)
                    {
                        var (r0, r1) = Range(i, p.StrideH, p.PadTop, p.KernelH, p.H);
                        if (r1 > cleared)
                        {
                            dxImage.Slice(cleared * rowLen, (r1 - cleared) * rowLen).Clear();
                            cleared = r1;
                        }
                        var g = dy.AsSpan((n * p.OutH + i) * outLen, outLen);
                        if (kind == PoolKind.Average) AverageRowBackward(g, dxImage, rowBuf, outBuf, blocks, r0, r1, p);
                        else if (p.C >= Vector<T>.Count) MaxRowBackwardWide(x, g, dxImage, blocks, n, r0, r1, p);
                        else MaxRowBackward(x, g, dxImage, rowBuf, rowOf, outBuf, bestQ, blocks, n, r0, r1, p);
                    }
                    // Rows below every window ('valid' cropping) get no gradient.
                    dxImage[(cleared * rowLen)..].Clear();
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(rowBuf);
                ArrayPool<T>.Shared.Return(outBuf);
                ArrayPool<T>.Shared.Return(rowOf);
                ArrayPool<T>.Shared.Return(bestQ);
            }
        });
    }

    /// <summary>
    /// One output row of the average gradient: share[j] = g[j] / count is spread over the columns of its window into
    /// the row buffer (masked blocks, so the lanes of neighbouring pixels get + 0), which is then added to every
    /// image row of the window as whole contiguous rows.
    /// </summary>
    private static void AverageRowBackward<T>(ReadOnlySpan<T> g, Span<T> dxImage, T[] rowBuf, T[] share, Block<T>[] blocks, int r0, int r1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rowLen = p.W * p.C;
        Array.Clear(rowBuf, 0, rowLen + Vector<T>.Count);
        for (var j = 0; j < p.OutW; j++)
        {
            var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
            var count = new Vector<T>(T.CreateTruncating((r1 - r0) * (q1 - q0)));
            // Stored in increasing j: a spill into pixel j + 1's share is overwritten by it (the buffer is padded).
            foreach (var b in blocks) (Load(g, j * p.C + b.C0) / count).CopyTo(share, j * p.C + b.C0);
            foreach (var b in blocks)
            {
                var s = Vector.ConditionalSelect(b.Mask, new Vector<T>(share, j * p.C + b.C0), Vector<T>.Zero);
                for (var q = q0; q < q1; q++)
                {
                    var o = q * p.C + b.C0;
                    (new Vector<T>(rowBuf, o) + s).CopyTo(rowBuf, o);
                }
            }
        }
        var spread = rowBuf.AsSpan(0, rowLen);
        for (var r = r0; r < r1; r++)
        {
            var d = dxImage.Slice(r * rowLen, rowLen);
            TensorPrimitives.Add(d, spread, d);
        }
    }

    /// <summary>
    /// One output row of the max gradient: g[j, c] goes to the first maximum of window j in row-major window order
    /// (the first NaN if there is one). As a max over rows then columns: down the window's rows, over whole contiguous
    /// rows, each column keeps its maximum and the first row holding it (<paramref name="rowOf"/>, relative to r0, so
    /// it is exact as a T); then across each window's columns in increasing order the best (value, row) wins, a later
    /// column only on a strictly greater value or an equal value in an earlier row. That selects the smallest
    /// (row, column) among the window's maxima, the same element as a scan in window order. The winners are then
    /// added into dx one element at a time (one per output element).
    /// </summary>
    private static void MaxRowBackward<T>(ArraySegment<T> x, ReadOnlySpan<T> g, Span<T> dxImage, T[] val, T[] rowOf, T[] bestRow, T[] bestQ,
        Block<T>[] blocks, int n, int r0, int r1, in Pool2DArgs p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector<T>.Count;
        var len = p.W * p.C;
        var xs = x.AsSpan();
        var first = (n * p.H + r0) * len;
        // k may run past len by less than a vector: the extra lanes read the next row (or zeros past x's end) into the padding.
        for (var k = 0; k < len; k += v)
        {
            Load(xs, first + k).CopyTo(val, k);
            Vector<T>.Zero.CopyTo(rowOf, k);
        }
        for (var r = r0 + 1; r < r1; r++)
        {
            var row = (n * p.H + r) * len;
            var rv = new Vector<T>(T.CreateTruncating(r - r0));
            for (var k = 0; k < len; k += v)
            {
                var (e, b) = (Load(xs, row + k), new Vector<T>(val, k));
                var better = Better(e, b);
                Vector.ConditionalSelect(better, e, b).CopyTo(val, k);
                Vector.ConditionalSelect(better, rv, new Vector<T>(rowOf, k)).CopyTo(rowOf, k);
            }
        }
        for (var j = 0; j < p.OutW; j++)
        {
            var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
            foreach (var blk in blocks)
            {
                var o = q0 * p.C + blk.C0;
                var (bv, br, bq) = (new Vector<T>(val, o), new Vector<T>(rowOf, o), Vector<T>.Zero);
                for (var q = q0 + 1; q < q1; q++)
                {
                    o = q * p.C + blk.C0;
                    var (e, er) = (new Vector<T>(val, o), new Vector<T>(rowOf, o));
                    var same = Vector.Equals(e, bv) | (~Vector.Equals(e, e) & ~Vector.Equals(bv, bv));
                    var better = Better(e, bv) | (same & Vector.LessThan(er, br));
                    bv = Vector.ConditionalSelect(better, e, bv);
                    br = Vector.ConditionalSelect(better, er, br);
                    bq = Vector.ConditionalSelect(better, new Vector<T>(T.CreateTruncating(q - q0)), bq);
                }
                // Stored in increasing j: a spill into pixel j + 1 is overwritten by it (the buffers are padded).
                br.CopyTo(bestRow, j * p.C + blk.C0);
                bq.CopyTo(bestQ, j * p.C + blk.C0);
            }
        }
        for (var j = 0; j < p.OutW; j++)
        {
            var q0 = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W).Lo;
            for (var c = 0; c < p.C; c++)
            {
                var (r, q) = (r0 + int.CreateTruncating(bestRow[j * p.C + c]), q0 + int.CreateTruncating(bestQ[j * p.C + c]));
                dxImage[(r * p.W + q) * p.C + c] += g[j * p.C + c];
            }
        }
    }

    /// <summary>
    /// One output row of the max gradient for C ≥ Vector&lt;T&gt;.Count, where every channel block is a whole vector
    /// inside its pixel: per window and block, the maximum m, then one pass in window order adding g where x = m (or x
    /// is NaN when m is) and no earlier element took it. Measured faster than <see cref="MaxRowBackward{T}"/> at
    /// C = 32 and 64, whose scalar scatter costs one add per output element; the lanes a block does not own (the
    /// overlapping last block of C % Count ≠ 0) start as taken, so they never receive g.
    /// </summary>
    private static void MaxRowBackwardWide<T>(ArraySegment<T> x, ReadOnlySpan<T> g, Span<T> dxImage, Block<T>[] blocks, int n, int r0, int r1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = x.AsSpan().Slice(n * dxImage.Length, dxImage.Length);
        for (var j = 0; j < p.OutW; j++)
        {
            var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
            foreach (var blk in blocks)
            {
                var m = new Vector<T>(xs[((r0 * p.W + q0) * p.C + blk.C0)..]);
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                        m = MaxNaN(m, new Vector<T>(xs[((r * p.W + q) * p.C + blk.C0)..]));
                var mIsNaN = ~Vector.Equals(m, m);
                var taken = ~blk.Mask;
                var gv = new Vector<T>(g[(j * p.C + blk.C0)..]);
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                    {
                        var o = (r * p.W + q) * p.C + blk.C0;
                        var v = new Vector<T>(xs[o..]);
                        var hit = Vector.AndNot(Vector.Equals(v, m) | (mIsNaN & ~Vector.Equals(v, v)), taken);
                        if (Vector.EqualsAll(hit.As<T, int>(), Vector<int>.Zero)) continue;
                        (new Vector<T>(dxImage[o..]) + Vector.ConditionalSelect(hit, gv, Vector<T>.Zero)).CopyTo(dxImage[o..]);
                        taken |= hit;
                    }
            }
        }
    }

    /// <summary>Lanes where a beats the earlier b: a is NaN and b is not, or a &gt; b (false when either is NaN).</summary>
    private static Vector<T> Better<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.GreaterThan(a, b) | Vector.AndNot(Vector.Equals(b, b), Vector.Equals(a, a));

    /// <summary>One vector of channels [C0, C0 + Vector&lt;T&gt;.Count) of a pixel; Mask selects the lanes this block owns.</summary>
    private readonly record struct Block<T>(int C0, Vector<T> Mask) where T : unmanaged;

    /// <summary>
    /// The channel blocks of a pixel: full vectors, then for C % Count ≠ 0 a last vector ending at C (overlapping the
    /// previous block, its mask keeps the new lanes only), or for C &lt; Count one vector from 0 whose mask keeps
    /// lanes [0, C). Max and average forward recompute overlapped lanes to the same value, so only the gradients,
    /// which add, use the mask.
    /// </summary>
    private static Block<T>[] Blocks<T>(int c) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var v = Vector<T>.Count;
        var lanes = new T[v];
        for (var l = 0; l < v; l++) lanes[l] = T.CreateTruncating(l);
        var index = new Vector<T>(lanes);
        var all = Vector<T>.AllBitsSet;
        if (c < v) return [new Block<T>(0, Vector.LessThan(index, new Vector<T>(T.CreateTruncating(c))))];
        var blocks = new List<Block<T>>();
        for (var c0 = 0; c0 + v <= c; c0 += v) blocks.Add(new Block<T>(c0, all));
        if (c % v != 0) blocks.Add(new Block<T>(c - v, Vector.GreaterThanOrEqual(index, new Vector<T>(T.CreateTruncating(v - c % v)))));
        return [.. blocks];
    }

    /// <summary>A vector from s[o..]; lanes past the end of <paramref name="s"/> read as 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector<T> Load<T>(ReadOnlySpan<T> s, int o) where T : unmanaged, IFloatingPointIeee754<T> =>
        o + Vector<T>.Count <= s.Length ? new Vector<T>(s[o..]) : LoadPartial(s, o);

    /// <summary>s[o..] = v, dropping the lanes past the end of <paramref name="s"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store<T>(Span<T> s, int o, Vector<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (o + Vector<T>.Count <= s.Length) v.CopyTo(s[o..]);
        else StorePartial(s, o, v);
    }

    /// <summary>
    /// s[o..] += v, the lanes past the end of <paramref name="s"/> dropped. Callers pass v = 0 in the lanes they do
    /// not own; <paramref name="s"/> is one image of dx, which only this thread writes, so the read-modify-write of
    /// those lanes is harmless.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AddAt<T>(Span<T> s, int o, Vector<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (o + Vector<T>.Count <= s.Length) (new Vector<T>(s[o..]) + v).CopyTo(s[o..]);
        else StorePartial(s, o, LoadPartial(s, o) + v);
    }

    // The partial forms are out of line: a method with stackalloc is never inlined, and these run once per row at most.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static Vector<T> LoadPartial<T>(ReadOnlySpan<T> s, int o) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> tmp = stackalloc T[Vector<T>.Count];
        tmp.Clear();
        s[o..].CopyTo(tmp);
        return new Vector<T>(tmp);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void StorePartial<T>(Span<T> s, int o, Vector<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        Span<T> tmp = stackalloc T[Vector<T>.Count];
        v.CopyTo(tmp);
        tmp[..(s.Length - o)].CopyTo(s[o..]);
    }

    /// <summary>The rows [lo, hi) of the image that window <paramref name="i"/> covers (padding clipped).</summary>
    private static (int Lo, int Hi) Range(int i, int stride, int pad, int kernel, int size)
    {
        var start = i * stride - pad;
        return (Math.Max(start, 0), Math.Min(start + kernel, size));
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over [0, count), in parallel when the work is large enough.</summary>
    private static void For(int count, long work, Action<int, int> body)
    {
        if (count < 2 || work < ParallelThreshold)
        {
            body(0, count);
            return;
        }
        var ranges = Math.Min(count, Environment.ProcessorCount * 4);
        KernelThreads.For(0, ranges, k => body((int)((long)count * k / ranges), (int)((long)count * (k + 1) / ranges)));
    }
}
