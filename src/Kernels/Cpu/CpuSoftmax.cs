using System.Numerics;

namespace Nabla.Kernels.Cpu;

/// <summary>Row-wise softmax, log-softmax and fused softmax cross-entropy, max-subtracted for stability.</summary>
internal static class CpuSoftmax
{
    public static void Rows<T>(T[] x, T[] y, int rows, int cols, bool log) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var lse = LogSumExp(x.AsSpan(o, cols));
            for (var j = 0; j < cols; j++) y[o + j] = log ? x[o + j] - lse : T.Exp(x[o + j] - lse);
        }
    }

    private static T LogSumExp<T>(ReadOnlySpan<T> row) where T : unmanaged, IFloatingPointIeee754<T>
    {
        var m = T.NegativeInfinity;
        foreach (var v in row) m = T.Max(m, v);
        if (T.IsInfinity(m) || T.IsNaN(m)) return m;
        var s = T.Zero;
        foreach (var v in row) s += T.Exp(v - m);
        return m + T.Log(s);
    }

    public static void CrossEntropy<T>(T[] x, T[]? dense, Func<int, int>? label, int rows, int cols, T[] loss, T[]? backprop)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var lse = LogSumExp(x.AsSpan(o, cols));
            var lab = label?.Invoke(r) ?? -1;
            var acc = T.Zero;
            for (var j = 0; j < cols; j++)
            {
                var t = dense is null ? (j == lab ? T.One : T.Zero) : dense[o + j];
                if (t != T.Zero) acc += t * (lse - x[o + j]);
                if (backprop is not null) backprop[o + j] = T.Exp(x[o + j] - lse) - t;
            }
            loss[r] = acc;
        }
    }
}
