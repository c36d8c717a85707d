using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Row-wise softmax, log-softmax and fused softmax cross-entropy over a [rows, cols] matrix, with
/// the row maximum subtracted before exponentiating so no term overflows (logits of ±1000 are
/// fine). Each row is a few TensorPrimitives passes (max, x − m, exp, sum, scale); rows are split
/// across cores with Parallel.For once the matrix is large enough to pay for it.
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
            for (var r = start; r < end; r++) Row(x.AsSpan(r * cols, cols), y.AsSpan(r * cols, cols), log, deterministic);
        });
    }

    private static void Row<T>(ReadOnlySpan<T> x, Span<T> y, bool log, bool deterministic) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = TensorPrimitives.Max(x);
        if (!T.IsFinite(m))
        {
            // Rare path (see remarks): lse = m, element by element, as the reference does.
            for (var j = 0; j < x.Length; j++) y[j] = log ? x[j] - m : T.Exp(x[j] - m);
            return;
        }
        // y = exp(x − m) first: its sum gives lse, and for softmax it is already the numerator.
        TensorPrimitives.Subtract(x, m, y);
        Exp(y, deterministic);
        var s = TensorPrimitives.Sum<T>(y);
        if (log) TensorPrimitives.Subtract(x, m + T.Log(s), y);
        else TensorPrimitives.Divide(y, s, y);
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
            // Without a backprop buffer the exponentials still need somewhere to go: one scratch row per range.
            var scratch = backprop is null ? ArrayPool<T>.Shared.Rent(cols) : null;
            try
            {
                for (var r = start; r < end; r++)
                {
                    var o = r * cols;
                    var xr = x.AsSpan(o, cols);
                    var er = backprop is not { } bp ? scratch.AsSpan(0, cols) : bp.AsSpan(o, cols);
                    var lse = ExpAndLogSumExp(xr, er, deterministic);
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
            finally
            {
                if (scratch is not null) ArrayPool<T>.Shared.Return(scratch);
            }
        });
    }

    /// <summary>Returns log Σ exp(x) and leaves softmax(x) = exp(x − lse) in <paramref name="e"/>.</summary>
    private static T ExpAndLogSumExp<T>(ReadOnlySpan<T> x, Span<T> e, bool deterministic) where T : unmanaged, IFloatingPointIeee754<T>
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
        TensorPrimitives.Divide(e, s, e);
        return m + T.Log(s);
    }

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
