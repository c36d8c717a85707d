using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Row-wise softmax, log-softmax and fused softmax cross-entropy over a [rows, cols] matrix, with
/// the row maximum subtracted before exponentiating so no term overflows (logits of ±1000 are
/// fine). A long row is a few TensorPrimitives passes (max, x − m, exp, sum, scale); short rows
/// (≤ 32, e.g. 10 classes) are done a vector's width of rows at a time, transposed so that each
/// pass is a vector operation across rows. Rows are split across cores with Parallel.For once the
/// matrix is large enough to pay for it.
/// </summary>
/// <remarks>
/// Non-finite rows follow the float64 reference exactly: a row whose maximum is +∞ or NaN, or
/// whose entries are all −∞, takes log Σ exp = max, so +∞ entries become NaN, finite ones get
/// probability 0 (log-probability −∞), and an all −∞ row is NaN throughout. A −∞ entry in an
/// otherwise finite row gets probability 0 and log-probability −∞.
/// </remarks>
internal static class CpuSoftmax
{
    // Below ~32k elements one core finishes before Parallel.For's scheduling cost is repaid.
    private const long ParallelThreshold = 1 << 15;

    public static void Rows<T>(ArraySegment<T> x, ArraySegment<T> y, int rows, int cols, bool log, bool deterministic) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (cols == 0) return;
        ForRowRanges(rows, cols, (start, end) =>
        {
            var lse = ArrayPool<T>.Shared.Rent(Math.Min(end - start, ChunkRows(cols)));
            try
            {
                for (var r = start; r < end; r += ChunkRows(cols))
                {
                    var k = Math.Min(end - r, ChunkRows(cols));
                    var xr = x.AsSpan(r * cols, k * cols);
                    var yr = y.AsSpan(r * cols, k * cols);
                    SoftmaxAndLogSumExp(xr, yr, lse.AsSpan(0, k), cols, log, deterministic);
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(lse);
            }
        });
    }

    /// <summary>
    /// loss[r] = Σⱼ t·(lse − xⱼ) over the nonzero label weights t (dense) or lse − x[label] (sparse);
    /// backprop, when given, receives softmax − labels.
    /// </summary>
    /// <remarks>
    /// Zero label weights are skipped rather than multiplied, so a −∞ logit with weight 0 adds 0
    /// instead of 0·∞ = NaN; a −∞ logit with positive weight gives an infinite loss, as it should.
    /// </remarks>
    public static void CrossEntropy<T>(ArraySegment<T> x, ArraySegment<T>? dense, Func<int, int>? label, int rows, int cols, ArraySegment<T> loss, ArraySegment<T>? backprop, bool deterministic)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (cols == 0)
        {
            // Σ over no classes; sparse labels cannot reach here (no class id is in range).
            loss.AsSpan(0, rows).Clear();
            return;
        }
        ForRowRanges(rows, cols, (start, end) =>
        {
            // Without a backprop buffer the exponentials still need somewhere to go: one scratch chunk per range.
            var chunk = Math.Min(end - start, ChunkRows(cols));
            var scratch = backprop is null ? ArrayPool<T>.Shared.Rent(chunk * cols) : null;
            var lses = ArrayPool<T>.Shared.Rent(chunk);
            try
            {
                for (var r0 = start; r0 < end; r0 += chunk)
                {
                    var k = Math.Min(end - r0, chunk);
                    var ek = backprop is not { } bpk ? scratch.AsSpan(0, k * cols) : bpk.AsSpan(r0 * cols, k * cols);
                    SoftmaxAndLogSumExp(x.AsSpan(r0 * cols, k * cols), ek, lses.AsSpan(0, k), cols, log: false, deterministic);
                    for (var r = r0; r < r0 + k; r++)
                    {
                        var o = r * cols;
                        var xr = x.AsSpan(o, cols);
                        var er = ek.Slice((r - r0) * cols, cols);
                        var lse = lses[r - r0];
                        var lab = label?.Invoke(r) ?? -1;
                        // An id outside [0, cols) (the engine's checks then fail the run) gives NaN rather than reading out of range.
                        var badLabel = dense is null && (uint)lab >= (uint)cols;
                        if (dense is not { } dn) loss[r] = badLabel ? T.NaN : lse - xr[lab];
                        else
                        {
                            var t = dn.AsSpan(o, cols);
                            var acc = T.Zero;
                            for (var j = 0; j < cols; j++)
                                if (t[j] != T.Zero) acc += t[j] * (lse - xr[j]);
                            loss[r] = acc;
                        }
                        if (backprop is null) continue;
                        // er holds exp(x − lse) = softmax here.
                        if (badLabel) er.Fill(T.NaN);
                        else if (dense is null) er[lab] -= T.One;
                        else TensorPrimitives.Subtract(er, dense.Value.AsSpan(o, cols), er);
                    }
                }
            }
            finally
            {
                if (scratch is not null) ArrayPool<T>.Shared.Return(scratch);
                ArrayPool<T>.Shared.Return(lses);
            }
        });
    }

    /// <summary>
    /// For each of the rows of x (row length <paramref name="cols"/>): lse[i] = log Σ exp(xᵢ), and y = softmax(xᵢ), or
    /// xᵢ − lse[i] when <paramref name="log"/>.
    /// </summary>
    /// <remarks>
    /// Long rows are a few TensorPrimitives passes each. Rows of at most <see cref="ShortRow"/> elements would spend
    /// most of their time in those calls' fixed cost and in scalar per-row work (a 10-element max, sum and log), so
    /// they go Vector&lt;T&gt;.Count rows at a time through a transposed block: column j of the block is one vector
    /// holding element j of each row, and max, x − m, sum, log and the division are vector operations across rows.
    /// A row whose maximum is not finite is then redone element by element (see the class remarks).
    /// </remarks>
    private static void SoftmaxAndLogSumExp<T>(ReadOnlySpan<T> x, Span<T> y, Span<T> lse, int cols, bool log, bool deterministic)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (cols > ShortRow)
        {
            for (var i = 0; i < lse.Length; i++)
            {
                var xr = x.Slice(i * cols, cols);
                var yr = y.Slice(i * cols, cols);
                // Log-softmax only needs lse, so the exponentials are not normalised; x − lse overwrites them.
                lse[i] = RowExpAndLogSumExp(xr, yr, normalise: !log, deterministic);
                if (log) TensorPrimitives.Subtract(xr, lse[i], yr);
            }
            return;
        }
        if (lse.IsEmpty) return;
        if (typeof(T) == typeof(float) && !deterministic && cols <= 16 && Avx512F.IsSupported)
        {
            var xf = MemoryMarshal.Cast<T, float>(x);
            var yf = MemoryMarshal.Cast<T, float>(y);
            var lf = MemoryMarshal.Cast<T, float>(lse);
            var whole = lf.Length / 16 * 16;
            TransposedBlocks(xf, yf, lf[..whole], cols, log);
            MaskedRows(xf[(whole * cols)..], yf[(whole * cols)..], lf[whole..], cols, log);
            return;
        }
        var v = Vector<T>.Count;
        var blocks = (lse.Length + v - 1) / v;
        // Block b of v rows is transposed into t[b·cols·v ...]: t[(b·cols + j)·v + l] = x[b·v + l, j]. Lanes of missing
        // rows (the last block) are 0, a harmless finite row. m and then lse per block in ms, the sums in sums.
        var t = ArrayPool<T>.Shared.Rent(blocks * cols * v);
        var ms = ArrayPool<T>.Shared.Rent(blocks * v);
        var sums = ArrayPool<T>.Shared.Rent(blocks * v);
        try
        {
            Array.Clear(t, (blocks - 1) * cols * v, cols * v);
            ref var x0 = ref MemoryMarshal.GetReference(x);
            for (var i = 0; i < lse.Length; i++)
            {
                // Element refs rather than span indexing: the transposes are a large part of the work.
                ref var tb = ref t[i / v * cols * v + i % v];
                for (var j = 0; j < cols; j++) Unsafe.Add(ref tb, j * v) = Unsafe.Add(ref x0, i * cols + j);
            }
            for (var b = 0; b < blocks; b++)
            {
                var o = b * cols * v;
                var m = new Vector<T>(t, o);
                for (var j = 1; j < cols; j++) m = MaxNaN(m, new Vector<T>(t, o + j * v));
                for (var j = 0; j < cols; j++) (new Vector<T>(t, o + j * v) - m).CopyTo(t, o + j * v);
                m.CopyTo(ms, b * v);
            }
            // One exp over the chunk, one log over its sums: per-call costs are paid once per chunk, not per row.
            Exp(t.AsSpan(0, blocks * cols * v), deterministic);
            for (var b = 0; b < blocks; b++)
            {
                var o = b * cols * v;
                var sv = Vector<T>.Zero;
                for (var j = 0; j < cols; j++) sv += new Vector<T>(t, o + j * v);
                sv.CopyTo(sums, b * v);
                if (!log)
                    for (var j = 0; j < cols; j++) (new Vector<T>(t, o + j * v) / sv).CopyTo(t, o + j * v);
            }
            // As the long-row path: the vectorised log, or element by element through the C library in deterministic mode.
            var logs = sums.AsSpan(0, blocks * v);
            if (deterministic)
                for (var l = 0; l < logs.Length; l++) logs[l] = T.Log(logs[l]);
            else TensorPrimitives.Log<T>(logs, logs);
            for (var i = 0; i < lse.Length; i++)
            {
                var xr = x.Slice(i * cols, cols);
                var yr = y.Slice(i * cols, cols);
                var m = ms[i];
                if (!T.IsFinite(m))
                {
                    // Rare path (see remarks): lse = m, y = x − m or exp(x − m) element by element, as the reference does.
                    lse[i] = m;
                    for (var j = 0; j < cols; j++) yr[j] = log ? xr[j] - m : T.Exp(xr[j] - m);
                    continue;
                }
                var li = lse[i] = m + logs[i];
                ref var y0 = ref MemoryMarshal.GetReference(yr);
                ref var tb = ref t[i / v * cols * v + i % v];
                if (log)
                    for (var j = 0; j < cols; j++) Unsafe.Add(ref y0, j) = Unsafe.Add(ref x0, i * cols + j) - li;
                else
                    for (var j = 0; j < cols; j++) Unsafe.Add(ref y0, j) = Unsafe.Add(ref tb, j * v);
            }
        }
        finally
        {
            ArrayPool<T>.Shared.Return(t);
            ArrayPool<T>.Shared.Return(ms);
            ArrayPool<T>.Shared.Return(sums);
        }
    }

    /// <summary>
    /// float32 rows of at most 16 elements, one masked 512-bit vector per row (lanes past the row hold −∞, so they add
    /// exp(−∞) = 0 to the sum): max, x − m, exp, sum and the division or subtraction stay in registers, with no transposed
    /// block to fill and empty. Faster for a few rows (1×10: 0.23 → 0.09 µs; 128×10: 4.9 → 3.4–4.0 µs), the same for many
    /// (512×10: ~14 µs, where the per-row exp and log cost what the transposes did; docs/results.md, session of 2026-12-02).
    /// A row holding a NaN, or whose maximum is not finite, takes the element-wise rare path of the class remarks.
    /// </summary>
    private static unsafe void MaskedRows(ReadOnlySpan<float> x, Span<float> y, Span<float> lse, int cols, bool log)
    {
        var mask = GemmSkinny.Mask(cols);
        var padding = Vector512.Create(float.NegativeInfinity);
        fixed (float* px = x, py = y)
        {
            for (var i = 0; i < lse.Length; i++)
            {
                float* xr = px + (nint)i * cols, yr = py + (nint)i * cols;
                var v = Avx512F.MaskLoad(xr, mask, padding);
                var hasNaN = !Vector512.EqualsAll(v, v);
                var max = VectorMath.ReduceMax(v);
                if (hasNaN || !float.IsFinite(max))
                {
                    lse[i] = RareRow(new ReadOnlySpan<float>(xr, cols), new Span<float>(yr, cols), log);
                    continue;
                }
                var e = VectorMath.Exp(v - Vector512.Create(max));
                var sum = Vector512.Sum(e);
                var l = lse[i] = max + MathF.Log(sum);
                Avx512F.MaskStore(yr, mask, log ? v - Vector512.Create(l) : e / Vector512.Create(sum));
            }
        }
    }

    /// <summary>
    /// float32 rows of at most 16 elements, 16 rows at a time (lse.Length a multiple of 16): the 16 rows are loaded as
    /// masked vectors and transposed in registers (<see cref="Transpose16"/>), so that column j is one vector holding
    /// element j of every row; max, x − m, exp, sum, log and the division are then vector operations with every lane in
    /// use, and the results are transposed back and stored with the same mask. 10 columns: ~5 cycles of shuffles and one
    /// sixteenth of a vector exp per element, against a horizontal max, a horizontal sum and a scalar log per row for
    /// <see cref="MaskedRows"/>. A row whose log-sum-exp is not finite (it holds a NaN or +∞, or is all −∞) is redone by
    /// the rare path of the class remarks.
    /// </summary>
    [SkipLocalsInit]
    private static unsafe void TransposedBlocks(ReadOnlySpan<float> x, Span<float> y, Span<float> lse, int cols, bool log)
    {
        var mask = GemmSkinny.Mask(cols);
        var padding = Vector512.Create(float.NegativeInfinity);
        var v = stackalloc Vector512<float>[16];
        fixed (float* px = x, py = y, pl = lse)
        {
            for (var r0 = 0; r0 < lse.Length; r0 += 16)
            {
                float* xb = px + (nint)r0 * cols, yb = py + (nint)r0 * cols;
                for (var i = 0; i < 16; i++) v[i] = Avx512F.MaskLoad(xb + i * cols, mask, padding);
                Transpose16(v);
                var m = v[0];
                for (var j = 1; j < cols; j++) m = Vector512.MaxNative(m, v[j]);
                var sum = Vector512<float>.Zero;
                for (var j = 0; j < cols; j++)
                {
                    var e = VectorMath.Exp(v[j] - m);
                    sum += e;
                    if (!log) v[j] = e;
                }
                var l = m + Vector512.Log(sum);
                l.Store(pl + r0);
                if (log)
                    for (var j = 0; j < cols; j++) v[j] -= l;
                else
                    for (var j = 0; j < cols; j++) v[j] /= sum;
                Transpose16(v);
                for (var i = 0; i < 16; i++) Avx512F.MaskStore(yb + i * cols, mask, v[i]);
                var rare = ~Vector512.Equals(l - l, Vector512<float>.Zero).ExtractMostSignificantBits() & 0xFFFF;
                for (; rare != 0; rare &= rare - 1)
                {
                    var i = BitOperations.TrailingZeroCount(rare);
                    pl[r0 + i] = RareRow(new ReadOnlySpan<float>(xb + i * cols, cols), new Span<float>(yb + i * cols, cols), log);
                }
            }
        }
    }

    /// <summary>
    /// The rare path of the class remarks for one row: lse = the row's maximum, or NaN when it holds a NaN; y = x − lse,
    /// or exp(x − lse), element by element.
    /// </summary>
    private static float RareRow(ReadOnlySpan<float> x, Span<float> y, bool log)
    {
        var m = float.NegativeInfinity;
        foreach (var e in x) m = float.IsNaN(e) || float.IsNaN(m) ? float.NaN : Math.Max(m, e);
        for (var j = 0; j < x.Length; j++) y[j] = log ? x[j] - m : MathF.Exp(x[j] - m);
        return m;
    }

    /// <summary>
    /// Transposes the 16×16 matrix whose rows are v[0 … 15] in place: four levels of two-source permutes, each swapping
    /// the off-diagonal b×b blocks of every 2b×2b block (b = 8, 4, 2, 1). Written out on locals so the 16 rows stay in
    /// registers between levels (a loop over v[] stored and reloaded them at every level).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Transpose16(Vector512<float>* v)
    {
        Vector512<float> r0 = v[0], r1 = v[1], r2 = v[2], r3 = v[3], r4 = v[4], r5 = v[5], r6 = v[6], r7 = v[7];
        Vector512<float> r8 = v[8], r9 = v[9], r10 = v[10], r11 = v[11], r12 = v[12], r13 = v[13], r14 = v[14], r15 = v[15];
        var f = Vector512.Create(0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23);
        var s = Vector512.Create(8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31);
        (r0, r8) = Swap(r0, r8, f, s);
        (r1, r9) = Swap(r1, r9, f, s);
        (r2, r10) = Swap(r2, r10, f, s);
        (r3, r11) = Swap(r3, r11, f, s);
        (r4, r12) = Swap(r4, r12, f, s);
        (r5, r13) = Swap(r5, r13, f, s);
        (r6, r14) = Swap(r6, r14, f, s);
        (r7, r15) = Swap(r7, r15, f, s);
        f = Vector512.Create(0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27);
        s = Vector512.Create(4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31);
        (r0, r4) = Swap(r0, r4, f, s);
        (r1, r5) = Swap(r1, r5, f, s);
        (r2, r6) = Swap(r2, r6, f, s);
        (r3, r7) = Swap(r3, r7, f, s);
        (r8, r12) = Swap(r8, r12, f, s);
        (r9, r13) = Swap(r9, r13, f, s);
        (r10, r14) = Swap(r10, r14, f, s);
        (r11, r15) = Swap(r11, r15, f, s);
        f = Vector512.Create(0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29);
        s = Vector512.Create(2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31);
        (r0, r2) = Swap(r0, r2, f, s);
        (r1, r3) = Swap(r1, r3, f, s);
        (r4, r6) = Swap(r4, r6, f, s);
        (r5, r7) = Swap(r5, r7, f, s);
        (r8, r10) = Swap(r8, r10, f, s);
        (r9, r11) = Swap(r9, r11, f, s);
        (r12, r14) = Swap(r12, r14, f, s);
        (r13, r15) = Swap(r13, r15, f, s);
        f = Vector512.Create(0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30);
        s = Vector512.Create(1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31);
        (v[0], v[1]) = Swap(r0, r1, f, s);
        (v[2], v[3]) = Swap(r2, r3, f, s);
        (v[4], v[5]) = Swap(r4, r5, f, s);
        (v[6], v[7]) = Swap(r6, r7, f, s);
        (v[8], v[9]) = Swap(r8, r9, f, s);
        (v[10], v[11]) = Swap(r10, r11, f, s);
        (v[12], v[13]) = Swap(r12, r13, f, s);
        (v[14], v[15]) = Swap(r14, r15, f, s);
    }

    /// <summary>
    /// One pair of a <see cref="Transpose16"/> level: rows p = i and q = i + b become (p's lanes with bit b clear, then q's)
    /// and (p's lanes with bit b set, then q's), by the two index vectors of the level.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>) Swap(Vector512<float> p, Vector512<float> q, Vector512<int> first, Vector512<int> second) =>
        (Avx512F.PermuteVar16x32x2(p, first, q), Avx512F.PermuteVar16x32x2(p, second, q));

    /// <summary>Element-wise maximum that propagates NaN (the first NaN operand wins), as TensorPrimitives.Max does for a row.</summary>
    private static Vector<T> MaxNaN<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.Equals(a, a), Vector.ConditionalSelect(Vector.Equals(b, b), Vector.Max(a, b), b), a);

    /// <summary>Returns log Σ exp(x) and leaves exp(x − m) in <paramref name="e"/>, normalised to softmax(x) when asked.</summary>
    private static T RowExpAndLogSumExp<T>(ReadOnlySpan<T> x, Span<T> e, bool normalise, bool deterministic) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = TensorPrimitives.Max(x);
        if (!T.IsFinite(m))
        {
            for (var j = 0; j < x.Length; j++) e[j] = T.Exp(x[j] - m);
            return m;
        }
        TensorPrimitives.Subtract(x, m, e);
        Exp(e, deterministic);
        var s = TensorPrimitives.Sum<T>(e);
        if (normalise) TensorPrimitives.Divide(e, s, e);
        return m + T.Log(s);
    }

    /// <summary>Rows of at most this many elements take the transposed path of <see cref="SoftmaxAndLogSumExp{T}"/>.</summary>
    private const int ShortRow = 32;

    /// <summary>Rows per chunk (one lse scratch per chunk): ~4k elements, 16 KiB of float32.</summary>
    private static int ChunkRows(int cols) => Math.Max(1, 4096 / cols);

    /// <summary>y ← eʸ in place: vectorised, or in deterministic mode element by element through the C library (see <see cref="CpuBackend"/>).</summary>
    private static void Exp<T>(Span<T> y, bool deterministic) where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (!deterministic) { TensorPrimitives.Exp<T>(y, y); return; }
        for (var i = 0; i < y.Length; i++) y[i] = T.CreateTruncating(Math.Exp(double.CreateTruncating(y[i])));
    }

    /// <summary>Runs <paramref name="body"/>(start, end) over row ranges, in parallel for large matrices.</summary>
    private static void ForRowRanges(int rows, int cols, Action<int, int> body)
    {
        if (rows < 2 || (long)rows * cols < ParallelThreshold)
        {
            body(0, rows);
            return;
        }
        // A few ranges per core balances uneven progress without one task per row.
        var ranges = Math.Min(rows, Environment.ProcessorCount * 4);
        KernelThreads.For(0, ranges, c => body((int)((long)rows * c / ranges), (int)((long)rows * (c + 1) / ranges)));
    }
}
