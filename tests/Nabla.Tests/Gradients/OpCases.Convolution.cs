namespace Nabla.Tests.Gradients;

/// <summary>
/// Convolution cases: each op over shapes that reach every code path of the CPU kernels (batch 1, a size-1 spatial
/// axis, odd sizes with "same" so the padding is asymmetric, strides 2, dilation 2, one channel, even kernels, 1×1
/// pointwise and strided 1×1, an empty batch). The float64 gradient check of Conv2DBackpropInput and
/// Conv2DBackpropFilter is the second-order check of Conv2D (their gradients are Conv2D and each other).
/// </summary>
/// <remarks>
/// Tolerances: the CPU float32 outputs are sums of at most 3·3·3 = 27 (forward), and a few hundred (filter gradient
/// over batch × positions) products of O(1) values, inside <see cref="OpCases.Float32Tolerance"/>'s k·ε bound. The
/// float64 check keeps the default 1e-6: everything is bilinear, so central differences are exact up to rounding.
/// </remarks>
public static partial class OpCases
{
    /// <summary>(label, x shape, filter shape, strides, padding, dilations) of the forward cases; the adjoint cases reuse them.</summary>
    private static readonly (string Label, int[] X, int[] W, int[] S, string P, int[] D)[] s_convShapes =
    [
        ("batch 1, one channel, valid 3x3", [1, 5, 5, 1], [3, 3, 1, 2], [1, 1], "valid", [1, 1]),
        ("odd 5x6, same, stride 2 (pad at bottom/right)", [2, 5, 6, 2], [3, 3, 2, 3], [2, 2], "same", [1, 1]),
        ("same, dilation 2", [2, 7, 6, 2], [3, 3, 2, 2], [1, 1], "same", [2, 2]),
        ("height 1, 1x3 filter", [2, 1, 6, 3], [1, 3, 3, 2], [1, 1], "valid", [1, 1]),
        ("pointwise 1x1", [2, 3, 4, 3], [1, 1, 3, 2], [1, 1], "same", [1, 1]),
        ("strided 1x1", [1, 5, 4, 2], [1, 1, 2, 3], [2, 2], "valid", [1, 1]),
        ("even 2x3 kernel, strides [2,1], dilations [1,2], valid", [2, 6, 7, 1], [2, 3, 1, 2], [2, 1], "valid", [1, 2]),
        ("even 2x2 kernel, same, stride 2 on 5x5", [1, 5, 5, 2], [2, 2, 2, 2], [2, 2], "same", [1, 1]),
        ("even 2x2 kernel, same, stride 1 (pad only at bottom/right)", [2, 5, 4, 2], [2, 2, 2, 3], [1, 1], "same", [1, 1]),
        ("empty batch", [0, 4, 4, 2], [3, 3, 2, 2], [1, 1], "same", [1, 1]),
    ];

    private static int[] ForwardOutput(int[] x, int[] w, int[] s, string p, int[] d)
    {
        int Out(int input, int k, int stride, int dil)
        {
            var e = (k - 1) * dil + 1;
            return p == "same" ? (input + stride - 1) / stride : (input - e) / stride + 1;
        }
        return [x[0], Out(x[1], w[0], s[0], d[0]), Out(x[2], w[1], s[1], d[1]), w[3]];
    }

    private static IEnumerable<OpCase> Convolution()
    {
        ulong seed = 40;
        foreach (var (label, x, w, s, p, d) in s_convShapes)
        {
            var y = ForwardOutput(x, w, s, p, d);
            yield return new("Conv2D", label, (g, v) => g.Conv2D(v[0], v[1], s, p, d), [U(x, seed++), U(w, seed++)]);
            yield return new("Conv2DBackpropInput", label, (g, v) => g.Conv2DBackpropInput(v[0], v[1], [x[1], x[2]], s, p, d), [U(y, seed++), U(w, seed++)]);
            yield return new("Conv2DBackpropFilter", label, (g, v) => g.Conv2DBackpropFilter(v[0], v[1], [w[0], w[1]], s, p, d), [U(x, seed++), U(y, seed++)]);
        }

        // The composites, registered under the op they lower to.
        yield return new("Conv2D", "Conv1D valid, stride 2", (g, v) => g.Conv1D(v[0], v[1], stride: 2), [U([2, 9, 2], 70), U([3, 2, 3], 71)]);
        yield return new("Conv2D", "Conv1D same, dilation 2", (g, v) => g.Conv1D(v[0], v[1], padding: "same", dilation: 2), [U([1, 6, 1], 72), U([3, 1, 2], 73)]);
        yield return new("Conv2D", "Conv1D causal", (g, v) => g.Conv1D(v[0], v[1], padding: "causal"), [U([2, 5, 2], 74), U([2, 2, 2], 75)]);
        yield return new("Conv2DBackpropInput", "Conv2DTranspose valid, stride 2", (g, v) => g.Conv2DTranspose(v[0], v[1], [2, 2]), [U([2, 3, 3, 2], 76), U([3, 3, 3, 2], 77)]);
        yield return new("Conv2DBackpropInput", "Conv2DTranspose same, stride 2, output padding 1", (g, v) => g.Conv2DTranspose(v[0], v[1], [2, 2], "same", [1, 1]), [U([1, 3, 4, 2], 78), U([3, 3, 1, 2], 79)]);
        yield return new("Conv2DBackpropInput", "Conv2DTranspose same, stride 1", (g, v) => g.Conv2DTranspose(v[0], v[1], padding: "same"), [U([2, 4, 3, 1], 80), U([3, 3, 2, 1], 81)]);
    }
}
