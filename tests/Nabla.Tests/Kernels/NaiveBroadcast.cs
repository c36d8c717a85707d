namespace Nabla.Tests.Kernels;

/// <summary>
/// A broadcasting element-wise loop written in the test, as plainly as possible, to produce expected
/// values that depend on neither backend: NumPy's rule (align shapes on the right; a dimension of 1
/// repeats) applied one output element at a time.
/// </summary>
internal static class NaiveBroadcast
{
    /// <summary>The broadcast shape of a and b (the shapes are assumed compatible).</summary>
    public static int[] Shape(int[] a, int[] b)
    {
        var rank = Math.Max(a.Length, b.Length);
        var r = new int[rank];
        for (var d = 0; d < rank; d++)
        {
            var da = d - (rank - a.Length) >= 0 ? a[d - (rank - a.Length)] : 1;
            var db = d - (rank - b.Length) >= 0 ? b[d - (rank - b.Length)] : 1;
            r[d] = da == 1 ? db : da;
        }
        return r;
    }

    /// <summary>f(a[i], b[i]) over the broadcast shape, in row-major order.</summary>
    public static T[] Apply<T>(Tensor a, Tensor b, Func<double, double, T> f) => Apply([a, b], v => f(v[0], v[1]));

    /// <summary>f(x₀[i], x₁[i], …) over the broadcast shape of all operands, in row-major order (bools read as 0 and 1).</summary>
    public static T[] Apply<T>(Tensor[] operands, Func<double[], T> f)
    {
        var shapes = operands.Select(t => t.Shape.ToArray()).ToArray();
        var values = operands.Select(t => t.ToDoubleArray()).ToArray();
        var shape = shapes.Aggregate(Array.Empty<int>(), Shape);
        var n = shape.Aggregate(1, (p, d) => p * d);
        var result = new T[n];
        var index = new int[shape.Length];
        var args = new double[operands.Length];
        for (var k = 0; k < n; k++)
        {
            // The multi-index of output element k, last axis fastest.
            var rest = k;
            for (var d = shape.Length - 1; d >= 0; d--) { index[d] = rest % shape[d]; rest /= shape[d]; }
            for (var j = 0; j < operands.Length; j++) args[j] = values[j][Flat(index, shapes[j])];
            result[k] = f(args);
        }
        return result;
    }

    /// <summary>The row-major position in an operand of shape s of the output index (trailing-aligned; size-1 axes read element 0).</summary>
    private static int Flat(int[] index, int[] s)
    {
        var lead = index.Length - s.Length;
        var flat = 0;
        for (var d = 0; d < s.Length; d++) flat = flat * s[d] + (s[d] == 1 ? 0 : index[lead + d]);
        return flat;
    }
}
