using System.Buffers;
using System.Numerics;
using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// 2-D max and average pooling over NHWC tensors and their gradients. The channel axis is contiguous, so the
/// kernels work on Vector&lt;T&gt; blocks of channels (one load and max/add per window element and block, inline rather
/// than a TensorPrimitives call per window element, whose fixed cost dominated at C = 32), with a scalar tail. The forward pass splits output rows across cores; the gradients split images
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
                    var o = ((n * p.OutH + i) * p.OutW + j) * p.C;
                    if (kind == PoolKind.Max) MaxWindowForward(x, y.AsSpan(o, p.C), n, r0, r1, q0, q1, p);
                    else AverageWindowForward(x, y.AsSpan(o, p.C), n, r0, r1, q0, q1, p);
                }
            }
        });
    }

    /// <summary>y = max over the window, channels in Vector&lt;T&gt; blocks (one load and max per window element and block).</summary>
    private static void MaxWindowForward<T>(ArraySegment<T> x, Span<T> y, int n, int r0, int r1, int q0, int q1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = x.AsSpan();
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= p.C; c += Vector<T>.Count)
            {
                var acc = new Vector<T>(xs[(((n * p.H + r0) * p.W + q0) * p.C + c)..]);
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                        acc = MaxNaN(acc, new Vector<T>(xs[(((n * p.H + r) * p.W + q) * p.C + c)..]));
                acc.CopyTo(y[c..]);
            }
        for (; c < p.C; c++)
        {
            var best = xs[((n * p.H + r0) * p.W + q0) * p.C + c];
            for (var r = r0; r < r1; r++)
                for (var q = q0; q < q1; q++)
                {
                    var v = xs[((n * p.H + r) * p.W + q) * p.C + c];
                    if (!T.IsNaN(best) && (T.IsNaN(v) || v > best)) best = v;
                }
            y[c] = best;
        }
    }

    /// <summary>y = the mean of the window's elements inside the image.</summary>
    private static void AverageWindowForward<T>(ArraySegment<T> x, Span<T> y, int n, int r0, int r1, int q0, int q1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = x.AsSpan();
        var count = T.CreateTruncating((r1 - r0) * (q1 - q0));
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= p.C; c += Vector<T>.Count)
            {
                var acc = Vector<T>.Zero;
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                        acc += new Vector<T>(xs[(((n * p.H + r) * p.W + q) * p.C + c)..]);
                (acc / new Vector<T>(count)).CopyTo(y[c..]);
            }
        for (; c < p.C; c++)
        {
            var sum = T.Zero;
            for (var r = r0; r < r1; r++)
                for (var q = q0; q < q1; q++) sum += xs[((n * p.H + r) * p.W + q) * p.C + c];
            y[c] = sum / count;
        }
    }

    /// <summary>Element-wise maximum that propagates NaN (the first NaN operand wins), as the scalar loops and the reference.</summary>
    private static Vector<T> MaxNaN<T>(Vector<T> a, Vector<T> b) where T : unmanaged, IFloatingPointIeee754<T> =>
        Vector.ConditionalSelect(Vector.Equals(a, a), Vector.ConditionalSelect(Vector.Equals(b, b), Vector.Max(a, b), b), a);

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

    /// <summary>
    /// Per channel, g goes to the window's first maximum (the first NaN if any), vectorised: the window maximum m,
    /// then one pass in window order adding g where x = m (or x is NaN when m is) and no earlier element took it.
    /// </summary>
    private static void MaxWindow<T>(ArraySegment<T> x, ReadOnlySpan<T> g, ArraySegment<T> dx, Span<int> best, int n, int r0, int r1, int q0, int q1, in Pool2DArgs p)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var xs = x.AsSpan();
        var d = dx.AsSpan();
        var c = 0;
        if (Vector.IsHardwareAccelerated)
            for (; c + Vector<T>.Count <= p.C; c += Vector<T>.Count)
            {
                var m = new Vector<T>(xs[(((n * p.H + r0) * p.W + q0) * p.C + c)..]);
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                        m = MaxNaN(m, new Vector<T>(xs[(((n * p.H + r) * p.W + q) * p.C + c)..]));
                var mIsNaN = ~Vector.Equals(m, m);
                var taken = Vector<T>.Zero;
                var gv = new Vector<T>(g[c..]);
                for (var r = r0; r < r1; r++)
                    for (var q = q0; q < q1; q++)
                    {
                        var o = ((n * p.H + r) * p.W + q) * p.C + c;
                        var v = new Vector<T>(xs[o..]);
                        var hit = Vector.AndNot(Vector.Equals(v, m) | (mIsNaN & ~Vector.Equals(v, v)), taken);
                        (new Vector<T>(d[o..]) + Vector.ConditionalSelect(hit, gv, Vector<T>.Zero)).CopyTo(d[o..]);
                        taken |= hit;
                    }
            }
        var first = ((n * p.H + r0) * p.W + q0) * p.C;
        for (var k = c; k < p.C; k++) best[k] = first + k;
        for (var r = r0; r < r1; r++)
            for (var q = q0; q < q1; q++)
            {
                var o = ((n * p.H + r) * p.W + q) * p.C;
                for (var k = c; k < p.C; k++)
                {
                    T v = xs[o + k], b = xs[best[k]];
                    if (!T.IsNaN(b) && (T.IsNaN(v) || v > b)) best[k] = o + k;
                }
            }
        for (var k = c; k < p.C; k++) d[best[k]] += g[k];
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
