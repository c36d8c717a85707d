using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Row-wise softmax, log-softmax and fused softmax cross-entropy over a [rows, cols] matrix, with
/// the row maximum subtracted before exponentiating so no term overflows (logits of ±1000 are
/// fine). A long row is a few TensorPrimitives passes (max, x − m, exp, sum, scale); short rows (≤ 32, e.g. 10
/// classes) are done a chunk of rows at a time with one vectorised exp per chunk. Rows are split across cores
/// with Parallel.For once the matrix is large enough to pay for it.
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
                    // Log-softmax only needs lse, so the exponentials are not normalised; x − lse overwrites them.
                    ExpAndLogSumExp(xr, yr, lse.AsSpan(0, k), cols, normalise: !log, deterministic);
                    if (log)
                        for (var i = 0; i < k; i++)
                            TensorPrimitives.Subtract(xr.Slice(i * cols, cols), lse[i], yr.Slice(i * cols, cols));
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
                    ExpAndLogSumExp(x.AsSpan(r0 * cols, k * cols), ek, lses.AsSpan(0, k), cols, normalise: true, deterministic);
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
    /// For each of the rows of x (row length <paramref name="cols"/>): lse[i] = log Σ exp(xᵢ) and e = exp(xᵢ − m),
    /// divided by Σ exp(xᵢ − m) when <paramref name="normalise"/> (then e = softmax(xᵢ)).
    /// </summary>
    /// <remarks>
    /// Long rows are a few TensorPrimitives passes each. Rows of at most <see cref="ShortRow"/> elements would spend
    /// most of their time in those calls' fixed cost, so the whole chunk is done at once: a scalar max and
    /// x − m per row, one vectorised exp over the chunk, a scalar sum and scale per row. A row whose maximum is not
    /// finite is then redone element by element (see the class remarks).
    /// </remarks>
    private static void ExpAndLogSumExp<T>(ReadOnlySpan<T> x, Span<T> e, Span<T> lse, int cols, bool normalise, bool deterministic)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (cols > ShortRow)
        {
            for (var i = 0; i < lse.Length; i++) lse[i] = RowExpAndLogSumExp(x.Slice(i * cols, cols), e.Slice(i * cols, cols), normalise, deterministic);
            return;
        }
        for (var i = 0; i < lse.Length; i++)
        {
            var xr = x.Slice(i * cols, cols);
            var er = e.Slice(i * cols, cols);
            var m = xr[0];
            for (var j = 1; j < cols; j++)
                if (!T.IsNaN(m) && (T.IsNaN(xr[j]) || xr[j] > m)) m = xr[j];
            lse[i] = m;
            for (var j = 0; j < cols; j++) er[j] = xr[j] - m;
        }
        Exp(e, deterministic);
        for (var i = 0; i < lse.Length; i++)
        {
            var er = e.Slice(i * cols, cols);
            var m = lse[i];
            if (!T.IsFinite(m))
            {
                // Rare path (see remarks): lse = m and e = exp(x − m) element by element, as the reference does.
                var xr = x.Slice(i * cols, cols);
                for (var j = 0; j < cols; j++) er[j] = T.Exp(xr[j] - m);
                continue;
            }
            var s = T.Zero;
            for (var j = 0; j < cols; j++) s += er[j];
            lse[i] = m + T.Log(s);
            if (normalise)
                for (var j = 0; j < cols; j++) er[j] /= s;
        }
    }

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

    /// <summary>Rows of at most this many elements take the chunked path of <see cref="ExpAndLogSumExp{T}"/>.</summary>
    private const int ShortRow = 32;

    /// <summary>Rows per chunk: ~4k elements (16 KiB of float32) keeps a chunk's x and e in L1 between passes.</summary>
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
        Parallel.For(0, ranges, c => body((int)((long)rows * c / ranges), (int)((long)rows * (c + 1) / ranges)));
    }
}
