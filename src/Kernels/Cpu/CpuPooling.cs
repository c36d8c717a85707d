using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// 2-D max and average pooling over NHWC tensors and their gradients. The channel axis is contiguous, so each
/// window element is a span of C values and the window is reduced with TensorPrimitives across channels (one
/// vector op per window element). The forward pass splits output rows across cores; the gradients split images
/// (windows of one image overlap, so two threads never add into the same dx element).
/// </summary>
/// <remarks>NaN: max pooling propagates NaN (TensorPrimitives.Max does); its gradient goes to the first NaN of the window.</remarks>
internal static class CpuPooling
{
    // Below ~32k touched elements one core finishes before Parallel.For's scheduling cost is repaid.
    private const long ParallelThreshold = 1 << 15;

    public static void Forward<T>(PoolKind kind, ArraySegment<T> x, ArraySegment<T> y, Pool2DArgs p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var rows = p.N * p.OutH;
        var work = (long)y.Count * p.KernelH * p.KernelW;
        For(rows, work, (start, end) =>
        {
            for (var row = start; row < end; row++)
            {
                var (n, i) = (row / p.OutH, row % p.OutH);
                var (r0, r1) = Range(i, p.StrideH, p.PadTop, p.KernelH, p.H);
                for (var j = 0; j < p.OutW; j++)
                {
                    var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
                    var acc = y.AsSpan(((n * p.OutH + i) * p.OutW + j) * p.C, p.C);
                    var first = true;
                    for (var r = r0; r < r1; r++)
                        for (var q = q0; q < q1; q++)
                        {
                            var xs = x.AsSpan(((n * p.H + r) * p.W + q) * p.C, p.C);
                            if (first) xs.CopyTo(acc);
                            else if (kind == PoolKind.Max) TensorPrimitives.Max(acc, xs, acc);
                            else TensorPrimitives.Add(acc, xs, acc);
                            first = false;
                        }
                    if (kind == PoolKind.Average) TensorPrimitives.Divide(acc, T.CreateTruncating((r1 - r0) * (q1 - q0)), acc);
                }
            }
        });
    }

    public static void Backward<T>(PoolKind kind, ArraySegment<T> x, ArraySegment<T> dy, ArraySegment<T> dx, Pool2DArgs p) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var work = (long)dy.Count * p.KernelH * p.KernelW;
        For(p.N, work, (start, end) =>
        {
            var scratch = ArrayPool<T>.Shared.Rent(p.C);
            var best = ArrayPool<int>.Shared.Rent(p.C);
            try
            {
                for (var n = start; n < end; n++)
                {
                    dx.AsSpan(n * p.H * p.W * p.C, p.H * p.W * p.C).Clear();
                    for (var i = 0; i < p.OutH; i++)
                    {
                        var (r0, r1) = Range(i, p.StrideH, p.PadTop, p.KernelH, p.H);
                        for (var j = 0; j < p.OutW; j++)
                        {
                            var (q0, q1) = Range(j, p.StrideW, p.PadLeft, p.KernelW, p.W);
                            var g = dy.AsSpan(((n * p.OutH + i) * p.OutW + j) * p.C, p.C);
                            if (kind == PoolKind.Average) AverageWindow(g, dx, scratch.AsSpan(0, p.C), n, r0, r1, q0, q1, p);
                            else MaxWindow(x, g, dx, best.AsSpan(0, p.C), n, r0, r1, q0, q1, p);
                        }
                    }
                }
            }
            finally
            {
                ArrayPool<T>.Shared.Return(scratch);
                ArrayPool<int>.Shared.Return(best);
            }
        });
    }

    private static void AverageWindow<T>(ReadOnlySpan<T> g, ArraySegment<T> dx, Span<T> share, int n, int r0, int r1, int q0, int q1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        TensorPrimitives.Divide(g, T.CreateTruncating((r1 - r0) * (q1 - q0)), share);
        for (var r = r0; r < r1; r++)
            for (var q = q0; q < q1; q++)
            {
                var d = dx.AsSpan(((n * p.H + r) * p.W + q) * p.C, p.C);
                TensorPrimitives.Add(d, share, d);
            }
    }

    /// <summary>Per channel, the flat x offset of the window's first maximum (first NaN if any) receives g.</summary>
    private static void MaxWindow<T>(ArraySegment<T> x, ReadOnlySpan<T> g, ArraySegment<T> dx, Span<int> best, int n, int r0, int r1, int q0, int q1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = x.AsSpan();
        var first = ((n * p.H + r0) * p.W + q0) * p.C;
        for (var c = 0; c < p.C; c++) best[c] = first + c;
        for (var r = r0; r < r1; r++)
            for (var q = q0; q < q1; q++)
            {
                var o = ((n * p.H + r) * p.W + q) * p.C;
                for (var c = 0; c < p.C; c++)
                {
                    T v = xs[o + c], b = xs[best[c]];
                    if (!T.IsNaN(b) && (T.IsNaN(v) || v > b)) best[c] = o + c;
                }
            }
        var d = dx.AsSpan();
        for (var c = 0; c < p.C; c++) d[best[c]] += g[c];
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
        Parallel.For(0, ranges, k => body((int)((long)count * k / ranges), (int)((long)count * (k + 1) / ranges)));
    }
}
