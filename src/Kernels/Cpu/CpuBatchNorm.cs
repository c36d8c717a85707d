using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// Fused batch normalisation over x viewed as [rows, channels]. Every pass walks whole rows (the channel axis is
/// contiguous) in Vector&lt;T&gt; channel blocks, so per-channel sums are vector adds of rows. Sums are taken over fixed blocks
/// of <see cref="Block"/> rows, in parallel, and the block partials are added in float64 in block order: the result
/// does not depend on the core count, and float32 rounding grows with the block length, not with the batch.
/// </summary>
/// <remarks>
/// Statistics are two-pass (mean, then Σ(x − μ)²), so a large common offset does not cancel the variance away.
/// NaN or ±∞ in a channel makes that channel's statistics and outputs NaN.
/// </remarks>
internal static class CpuBatchNorm
{
    private const int Block = 256;

    // Below ~32k elements one core finishes before Parallel.For's scheduling cost is repaid.
    private const long ParallelThreshold = 1 << 15;

    public static void Forward<T>(ArraySegment<T> x, ArraySegment<T> scale, ArraySegment<T> offset, ArraySegment<T> mean, ArraySegment<T> variance,
        double epsilon, bool training, int rows, int channels, ArraySegment<T> y, ArraySegment<T> batchMean, ArraySegment<T> batchVariance)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mu, v) = training ? Moments(x, rows, channels) : (ToDouble(mean), ToDouble(variance));
        // y = x·a + b with a = γ/√(σ² + ε), b = β − μ·a: one fused multiply-add per row.
        T[] a = new T[channels], b = new T[channels];
        for (var c = 0; c < channels; c++)
        {
            var ac = double.CreateTruncating(scale[c]) / Math.Sqrt(v[c] + epsilon);
            a[c] = T.CreateTruncating(ac);
            b[c] = T.CreateTruncating(double.CreateTruncating(offset[c]) - mu[c] * ac);
        }
        ForRows(rows, channels, (start, end) =>
        {
            for (var r = start; r < end; r++) Affine<T>(x.AsSpan(r * channels, channels), a, b, y.AsSpan(r * channels, channels));
        });
        for (var c = 0; c < channels; c++)
        {
            batchMean[c] = T.CreateTruncating(mu[c]);
            // As TensorFlow's fused kernel: the Bessel-corrected variance (Keras feeds it to the moving average).
            batchVariance[c] = T.CreateTruncating(training && rows > 1 ? v[c] * rows / (rows - 1) : v[c]);
        }
    }

    public static void Backward<T>(ArraySegment<T> dy, ArraySegment<T> x, ArraySegment<T> scale, ArraySegment<T> mean, ArraySegment<T> variance,
        double epsilon, bool training, int rows, int channels, ArraySegment<T> dx, ArraySegment<T> dScale, ArraySegment<T> dOffset)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var (mu, v) = training ? Moments(x, rows, channels) : (ToDouble(mean), ToDouble(variance));
        var r = new double[channels];
        T[] negMu = new T[channels], rT = new T[channels];
        for (var c = 0; c < channels; c++)
        {
            r[c] = 1 / Math.Sqrt(v[c] + epsilon);
            negMu[c] = T.CreateTruncating(-mu[c]);
            rT[c] = T.CreateTruncating(r[c]);
        }
        // Σ dy and Σ dy·x̂ per channel, x̂ = (x − μ)·r.
        var sums = BlockSums<T>(rows, channels, 2, (row, acc) =>
        {
            var g = dy.AsSpan(row * channels, channels);
            var xs = x.AsSpan(row * channels, channels);
            GradientSums<T>(g, xs, negMu, rT, acc[..channels], acc[channels..]);
        });
        // dx = γr·(dy − m₁ − x̂·m₂) with m₁ = Σdy/n, m₂ = Σdy·x̂/n (training) or m₁ = m₂ = 0 (inference). Written in this
        // order rather than folded into dy·A + x·K + K0 (two passes instead of four) because the folded form cancels
        // catastrophically where dx is ≈ 0, e.g. exactly 0 for a batch of one row, leaving float32 noise of γr·|dy|·ε.
        T[] aT = new T[channels], m1 = new T[channels], m2 = new T[channels];
        for (var c = 0; c < channels; c++)
        {
            double sumDy = sums[c], sumDyXhat = sums[channels + c];
            aT[c] = T.CreateTruncating(double.CreateTruncating(scale[c]) * r[c]);
            if (training && rows > 0)
            {
                m1[c] = T.CreateTruncating(sumDy / rows);
                m2[c] = T.CreateTruncating(sumDyXhat / rows);
            }
            dScale[c] = T.CreateTruncating(sumDyXhat);
            dOffset[c] = T.CreateTruncating(sumDy);
        }
        ForRows(rows, channels, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                var d = dx.AsSpan(row * channels, channels);
                var g = dy.AsSpan(row * channels, channels);
                if (training) TrainingGradient<T>(g, x.AsSpan(row * channels, channels), negMu, rT, m1, m2, aT, d);
                else TensorPrimitives.Multiply(g, aT, d);
            }
        });
    }

    /// <summary>Per-channel mean and biased variance, two-pass; NaN for no rows.</summary>
    private static (double[] Mean, double[] Variance) Moments<T>(ArraySegment<T> x, int rows, int channels) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var s = BlockSums<T>(rows, channels, 1, (row, acc) => AddTo<T>(x.AsSpan(row * channels, channels), acc));
        var mu = new double[channels];
        var negMu = new T[channels];
        for (var c = 0; c < channels; c++)
        {
            mu[c] = s[c] / rows;
            negMu[c] = T.CreateTruncating(-mu[c]);
        }
        var q = BlockSums<T>(rows, channels, 1, (row, acc) =>
        {
            SquaredDeviations<T>(x.AsSpan(row * channels, channels), negMu, acc);
        });
        for (var c = 0; c < channels; c++) q[c] /= rows;
        return (mu, q);
    }

    private delegate void RowAccumulator<T>(int row, Span<T> acc);

    /// <summary>
    /// Sums <paramref name="width"/>·channels accumulators over all rows: each block of <see cref="Block"/> rows
    /// accumulates in T, then the blocks are added in float64 in block order (deterministic for any core count).
    /// </summary>
    private static double[] BlockSums<T>(int rows, int channels, int width, RowAccumulator<T> add) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var len = width * channels;
        var blocks = (rows + Block - 1) / Block;
        var partial = new T[blocks * len];
        void Run(int blk)
        {
            var acc = partial.AsSpan(blk * len, len);
            for (var row = blk * Block; row < Math.Min(rows, (blk + 1) * Block); row++) add(row, acc);
        }
        if (blocks < 2 || (long)rows * channels < ParallelThreshold) for (var blk = 0; blk < blocks; blk++) Run(blk);
        else KernelThreads.For(0, blocks, Run);
        var total = new double[len];
        for (var blk = 0; blk < blocks; blk++)
            for (var k = 0; k < len; k++) total[k] += double.CreateTruncating(partial[blk * len + k]);
        return total;
    }

    // Row kernels: one pass over a row of C channels in Vector<T> blocks with a scalar tail, inline. One TensorPrimitives
    // call per row (two or three per row and pass) cost more than the arithmetic at the usual C = 16…128.

    /// <summary>acc += x.</summary>
    private static void AddTo<T>(ReadOnlySpan<T> x, Span<T> acc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= x.Length; c += Vector<T>.Count)
                (new Vector<T>(acc[c..]) + new Vector<T>(x[c..])).CopyTo(acc[c..]);
        for (; c < x.Length; c++) acc[c] += x[c];
    }

    /// <summary>acc += (x − μ)², with negMu = −μ.</summary>
    private static void SquaredDeviations<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> negMu, Span<T> acc) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= x.Length; c += Vector<T>.Count)
            {
                var d = new Vector<T>(x[c..]) + new Vector<T>(negMu[c..]);
                (new Vector<T>(acc[c..]) + d * d).CopyTo(acc[c..]);
            }
        for (; c < x.Length; c++)
        {
            var d = x[c] + negMu[c];
            acc[c] += d * d;
        }
    }

    /// <summary>y = x·a + b.</summary>
    private static void Affine<T>(ReadOnlySpan<T> x, ReadOnlySpan<T> a, ReadOnlySpan<T> b, Span<T> y) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= x.Length; c += Vector<T>.Count)
                (new Vector<T>(x[c..]) * new Vector<T>(a[c..]) + new Vector<T>(b[c..])).CopyTo(y[c..]);
        for (; c < x.Length; c++) y[c] = x[c] * a[c] + b[c];
    }

    /// <summary>sumDy += g; sumDyXhat += g·x̂ with x̂ = (x − μ)·r.</summary>
    private static void GradientSums<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> negMu, ReadOnlySpan<T> r, Span<T> sumDy, Span<T> sumDyXhat)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= x.Length; c += Vector<T>.Count)
            {
                var gv = new Vector<T>(g[c..]);
                var xhat = (new Vector<T>(x[c..]) + new Vector<T>(negMu[c..])) * new Vector<T>(r[c..]);
                (new Vector<T>(sumDy[c..]) + gv).CopyTo(sumDy[c..]);
                (new Vector<T>(sumDyXhat[c..]) + gv * xhat).CopyTo(sumDyXhat[c..]);
            }
        for (; c < x.Length; c++)
        {
            sumDy[c] += g[c];
            sumDyXhat[c] += g[c] * ((x[c] + negMu[c]) * r[c]);
        }
    }

    /// <summary>d = a·(g − (x̂·m₂ + m₁)) with x̂ = (x − μ)·r: the training-mode dx, in the non-cancelling order.</summary>
    private static void TrainingGradient<T>(ReadOnlySpan<T> g, ReadOnlySpan<T> x, ReadOnlySpan<T> negMu, ReadOnlySpan<T> r, ReadOnlySpan<T> m1, ReadOnlySpan<T> m2,
        ReadOnlySpan<T> a, Span<T> d) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= x.Length; c += Vector<T>.Count)
            {
                var xhat = (new Vector<T>(x[c..]) + new Vector<T>(negMu[c..])) * new Vector<T>(r[c..]);
                (new Vector<T>(a[c..]) * (new Vector<T>(g[c..]) - (xhat * new Vector<T>(m2[c..]) + new Vector<T>(m1[c..])))).CopyTo(d[c..]);
            }
        for (; c < x.Length; c++) d[c] = a[c] * (g[c] - ((x[c] + negMu[c]) * r[c] * m2[c] + m1[c]));
    }

    private static double[] ToDouble<T>(ArraySegment<T> v) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var d = new double[v.Count];
        for (var i = 0; i < d.Length; i++) d[i] = double.CreateTruncating(v[i]);
        return d;
    }

    private static void ForRows(int rows, int channels, Action<int, int> body)
    {
        if (rows < 2 || (long)rows * channels < ParallelThreshold)
        {
            body(0, rows);
            return;
        }
        var ranges = Math.Min(rows, Environment.ProcessorCount * 4);
        KernelThreads.For(0, ranges, k => body((int)((long)rows * k / ranges), (int)((long)rows * (k + 1) / ranges)));
    }
}
