using System.Numerics.Tensors;

namespace Nabla.Kernels.Cpu;

/// <summary>
/// float32 binary kernels. Fast paths cover what training graphs produce: equal contiguous
/// shapes, a scalar on either side, and a row vector broadcast over rows (bias add); everything
/// else takes the generic strided loop.
/// </summary>
internal static class CpuBinary
{
    public static bool TryFloat(BinaryOp op, ReadOnlySpan<float> a, StridedView av, ReadOnlySpan<float> b, StridedView bv, Span<float> y, ReadOnlySpan<int> shape)
    {
        if (!Arithmetic.Has(op)) return false;
        var paths = new FastPaths(a, av, b, bv, y, shape);
        Arithmetic.Dispatch<float, FastPaths>(op, ref paths);
        return paths.Handled;
    }

    /// <summary>The fast paths, specialised for the operator <see cref="Arithmetic.Dispatch"/> picks.</summary>
    private ref struct FastPaths : IArithmeticVisitor<float>
    {
        private readonly ReadOnlySpan<float> _a, _b;
        private readonly Span<float> _y;
        private readonly ReadOnlySpan<int> _shape;
        private readonly StridedView _av, _bv;

        public FastPaths(ReadOnlySpan<float> a, StridedView av, ReadOnlySpan<float> b, StridedView bv, Span<float> y, ReadOnlySpan<int> shape)
        {
            _a = a;
            _b = b;
            _y = y;
            _shape = shape;
            _av = av;
            _bv = bv;
        }

        public bool Handled { get; private set; }

        public void Visit<TOp>() where TOp : IArithmeticOperator<float> => Handled = Try<TOp>(_a, _av, _b, _bv, _y, _shape);
    }

    private static bool Try<TOp>(ReadOnlySpan<float> a, StridedView av, ReadOnlySpan<float> b, StridedView bv, Span<float> y, ReadOnlySpan<int> shape)
        where TOp : IArithmeticOperator<float>
    {
        var n = StridedLoops.Count(shape);
        if (n == 0) return true;
        var rank = shape.Length;
        bool aC = IsContiguous(av.Strides, shape), bC = IsContiguous(bv.Strides, shape);
        bool aS = IsScalar(av.Strides), bS = IsScalar(bv.Strides);
        if (aC && bC) { TOp.Invoke(a.Slice(av.Offset, n), b.Slice(bv.Offset, n), y.Slice(0, n)); return true; }
        if (aC && bS) { TOp.Invoke(a.Slice(av.Offset, n), b[bv.Offset], y.Slice(0, n)); return true; }
        if (aS && bC) { TOp.Invoke(a[av.Offset], b.Slice(bv.Offset, n), y.Slice(0, n)); return true; }
        if (rank >= 1)
        {
            var cols = shape[rank - 1];
            var rows = n / cols;
            // [rows, cols] (+|*|...) [cols]: a row vector repeated over all leading dims.
            if (aC && IsRowVector(bv.Strides, shape))
            {
                for (var r = 0; r < rows; r++) TOp.Invoke(a.Slice(av.Offset + r * cols, cols), b.Slice(bv.Offset, cols), y.Slice(r * cols, cols));
                return true;
            }
            if (bC && IsRowVector(av.Strides, shape))
            {
                for (var r = 0; r < rows; r++) TOp.Invoke(a.Slice(av.Offset, cols), b.Slice(bv.Offset + r * cols, cols), y.Slice(r * cols, cols));
                return true;
            }
        }
        return false;
    }

    /// <summary>
    /// float32 comparisons of a contiguous tensor with a scalar (x &gt; 0 in ReLU gradients, u ≥ rate in
    /// dropout masks) as a plain loop instead of the generic strided one. IEEE semantics as everywhere:
    /// every comparison with NaN is false except ≠.
    /// </summary>
    public static bool TryCompareScalar(BinaryOp op, ReadOnlySpan<float> a, StridedView av, ReadOnlySpan<float> b, StridedView bv, Span<bool> y, ReadOnlySpan<int> shape)
    {
        if (op is not (BinaryOp.Greater or BinaryOp.GreaterEqual or BinaryOp.Less or BinaryOp.LessEqual or BinaryOp.Equal or BinaryOp.NotEqual)) return false;
        if (!IsContiguous(av.Strides, shape) || !IsScalar(bv.Strides)) return false;
        var n = StridedLoops.Count(shape);
        if (n == 0) return true;
        var x = a.Slice(av.Offset, n);
        var s = b[bv.Offset];
        var dst = y.Slice(0, n);
        switch (op)
        {
            case BinaryOp.Greater: for (var i = 0; i < x.Length; i++) dst[i] = x[i] > s; break;
            case BinaryOp.GreaterEqual: for (var i = 0; i < x.Length; i++) dst[i] = x[i] >= s; break;
            case BinaryOp.Less: for (var i = 0; i < x.Length; i++) dst[i] = x[i] < s; break;
            case BinaryOp.LessEqual: for (var i = 0; i < x.Length; i++) dst[i] = x[i] <= s; break;
            case BinaryOp.Equal: for (var i = 0; i < x.Length; i++) dst[i] = x[i] == s; break;
            default: for (var i = 0; i < x.Length; i++) dst[i] = x[i] != s; break;
        }
        return true;
    }

    private static bool IsContiguous(int[] strides, ReadOnlySpan<int> shape)
    {
        var expect = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            if (shape[d] != 1 && strides[d] != expect) return false;
            expect *= shape[d];
        }
        return true;
    }

    private static bool IsScalar(int[] strides)
    {
        foreach (var s in strides) if (s != 0) return false;
        return true;
    }

    private static bool IsRowVector(int[] strides, ReadOnlySpan<int> shape)
    {
        var r = shape.Length;
        if (strides[r - 1] != 1 && shape[r - 1] != 1) return false;
        for (var d = 0; d < r - 1; d++) if (strides[d] != 0 && shape[d] != 1) return false;
        return true;
    }
}
