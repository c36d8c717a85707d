using MathNet.Numerics.LinearAlgebra.Double;

namespace Nabla.Kernels.Reference;

public sealed partial class ReferenceBackend
{
    /// <inheritdoc/>
    public void MatMul(DeviceBuffer a, DeviceBuffer b, DeviceBuffer c, in MatMulArgs p)
    {
        Span<double> av = Host(a).Span<double>(), bv = Host(b).Span<double>(), cv = Host(c).Span<double>();
        for (var bi = 0; bi < p.Batch; bi++)
        {
            var co = bi * p.M * p.N;
            if (p.M == 0 || p.N == 0) continue;
            if (p.K == 0) { cv.Slice(co, p.M * p.N).Clear(); continue; }
            // MathNet is column-major: a row-major R×C block is the column-major C×R matrix, i.e. its transpose.
            var aRows = p.TransA ? p.K : p.M;
            var aCols = p.TransA ? p.M : p.K;
            var bRows = p.TransB ? p.N : p.K;
            var bCols = p.TransB ? p.K : p.N;
            var am = DenseMatrix.OfColumnMajor(aCols, aRows, av.Slice((int)(bi * p.BatchStrideA), aRows * aCols).ToArray()).Transpose();
            var bm = DenseMatrix.OfColumnMajor(bCols, bRows, bv.Slice((int)(bi * p.BatchStrideB), bRows * bCols).ToArray()).Transpose();
            var opA = p.TransA ? am.Transpose() : am;
            var opB = p.TransB ? bm.Transpose() : bm;
            var cm = opA * opB;
            for (var i = 0; i < p.M; i++)
                for (var j = 0; j < p.N; j++)
                    cv[co + i * p.N + j] = cm[i, j];
        }
    }

    /// <inheritdoc/>
    public void Softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols, bool log)
    {
        Span<double> xv = Host(x).Span<double>(), yv = Host(y).Span<double>();
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var lse = LogSumExp(xv, o, cols);
            for (var j = 0; j < cols; j++)
                yv[o + j] = log ? xv[o + j] - lse : Math.Exp(xv[o + j] - lse);
        }
    }

    /// <summary>log Σ exp(x) with the maximum subtracted first, so no term overflows.</summary>
    private static double LogSumExp(ReadOnlySpan<double> x, int o, int n)
    {
        var m = double.NegativeInfinity;
        for (var j = 0; j < n; j++) m = Math.Max(m, x[o + j]);
        if (double.IsNegativeInfinity(m) || double.IsNaN(m)) return m;
        if (double.IsPositiveInfinity(m)) return m;
        var s = 0.0;
        for (var j = 0; j < n; j++) s += Math.Exp(x[o + j] - m);
        return m + Math.Log(s);
    }

    /// <inheritdoc/>
    public void SoftmaxCrossEntropy(DeviceBuffer logits, DeviceBuffer labels, bool sparse, int rows, int cols, DeviceBuffer loss, DeviceBuffer? backprop)
    {
        Span<double> x = Host(logits).Span<double>(), l = Host(loss).Span<double>();
        var bp = backprop is null ? default : Host(backprop).Span<double>();
        var dense = sparse ? default : Host(labels).Span<double>();
        for (var r = 0; r < rows; r++)
        {
            var o = r * cols;
            var lse = LogSumExp(x, o, cols);
            var label = sparse ? Label(labels, r) : -1;
            if (sparse && (label < 0 || label >= cols))
            {
                // Out of range (the engine's checks then fail the run): NaN, as the CPU backend.
                l[r] = double.NaN;
                if (backprop is not null) bp.Slice(o, cols).Fill(double.NaN);
                continue;
            }
            var acc = 0.0;
            for (var j = 0; j < cols; j++)
            {
                var t = sparse ? (j == label ? 1.0 : 0.0) : dense[o + j];
                if (t != 0) acc += t * (lse - x[o + j]);
                if (backprop is not null) bp[o + j] = Math.Exp(x[o + j] - lse) - t;
            }
            l[r] = acc;
        }
    }
}
