namespace Nabla.Tests.Gradients;

public static partial class OpCases
{
    /// <summary>A pooling geometry: input shape, window, strides, padding.</summary>
    private sealed record PoolShape(string Label, int[] X, int[] K, int[] S, string Padding);

    /// <summary>
    /// Batch 1, size-1 dims, strides ≠ ksize, odd sizes with both paddings, non-square windows, an empty batch.
    /// Random uniform inputs have no ties (central differences across a max-pool tie are ill-defined; tie routing
    /// has its own known-value test in PoolingOpTests).
    /// </summary>
    // Properties, not fields: static field initialisers of a partial class run in an unspecified order across its files, and All reads these.
    private static PoolShape[] PoolShapes =>
    [
        new("batch 1, 2x2/2 valid", [1, 4, 4, 1], [2, 2], [2, 2], "valid"),
        new("odd 5x5, 3x3/2 same", [2, 5, 5, 3], [3, 3], [2, 2], "same"),
        new("stride 1 < ksize 2, valid", [2, 5, 7, 2], [2, 2], [1, 1], "valid"),
        new("all size-1", [1, 1, 1, 1], [1, 1], [1, 1], "valid"),
        new("3x2 window, strides 2x3, same, odd", [3, 6, 5, 2], [3, 2], [2, 3], "same"),
        new("window larger than stride, same, 7x3", [1, 7, 3, 4], [4, 3], [3, 1], "same"),
        new("empty batch", [0, 4, 4, 2], [2, 2], [2, 2], "same"),
    ];

    private static int[] PooledShape(PoolShape p)
    {
        int Out(int size, int k, int s) => p.Padding == "same" ? (size + s - 1) / s : (size - k) / s + 1;
        return [p.X[0], Out(p.X[1], p.K[0], p.S[0]), Out(p.X[2], p.K[1], p.S[1]), p.X[3]];
    }

    /// <summary>Batch-norm shapes: NHWC, batch 1, one row (n = 1: zero variance), size-1 dims, a rank-2 batch.</summary>
    private static int[][] BnShapes => [[2, 3, 3, 4], [1, 2, 2, 1], [1, 1, 1, 3], [5, 3], [3, 1, 5, 2]];

    private static IEnumerable<OpCase> Pooling()
    {
        var seed = 10UL;
        foreach (var p in PoolShapes)
        {
            seed++;
            yield return new("MaxPool", p.Label, (g, x) => g.MaxPool(x[0], p.K, p.S, p.Padding), [U(p.X, seed)]);
            yield return new("AvgPool", p.Label, (g, x) => g.AvgPool(x[0], p.K, p.S, p.Padding), [U(p.X, seed)]);
            var window = SpatialRules.WindowAttrs("test", p.K, p.S, p.Padding);
            // Not differentiable itself: forward only, CPU against the reference.
            yield return new("MaxPoolGrad", p.Label, (g, x) => g.MaxPoolGrad(x[0], x[1], window), [U(p.X, seed), U(PooledShape(p), seed + 100)], GradKind.None);
            // Linear in dy; x supplies the shape only (its gradient is 0).
            yield return new("AvgPoolGrad", p.Label, (g, x) => g.AvgPoolGrad(x[0], x[1], window), [U(p.X, seed), U(PooledShape(p), seed + 100)]);
        }
        yield return new("MaxPool", "1-D pooling (ExpandDims, MaxPool, Squeeze)", (g, x) => g.MaxPool1D(x[0], 3, 2, "same"), [U([2, 7, 3], 40)]);
        yield return new("AvgPool", "1-D pooling (ExpandDims, AvgPool, Squeeze)", (g, x) => g.AvgPool1D(x[0], 2, 1), [U([2, 5, 3], 41)]);
        yield return new("AvgPoolGrad", "second order through AvgPool's gradient", (g, x) =>
            g.Gradients([g.ReduceSum(g.Square(g.AvgPool(x[0], [2, 2], [1, 1], "same")))], [x[0]])[0]!.Value, [U([1, 3, 3, 2], 42)]);

        foreach (var shape in BnShapes)
        {
            seed++;
            var c = shape[^1];
            var label = $"[{string.Join(",", shape)}]";
            Tensor[] inputs = [U(shape, seed), U([c], seed + 1, 0.5, 1.5), U([c], seed + 2), U([c], seed + 3, -0.5, 0.5), Pos([c], seed + 4)];
            yield return new("FusedBatchNorm", $"training, y, {label}", (g, x) => g.FusedBatchNorm(x[0], x[1], x[2], x[3], x[4], 1e-3, training: true).Y, inputs);
            yield return new("FusedBatchNorm", $"inference, y, {label}", (g, x) => g.FusedBatchNorm(x[0], x[1], x[2], x[3], x[4], 1e-3, training: false).Y, inputs);
            yield return new("FusedBatchNormGrad", $"training, {label}", (g, x) => BnGrad(g, x, training: true), [U(shape, seed + 5), .. inputs[..2], .. inputs[3..]], GradKind.None);
            yield return new("FusedBatchNormGrad", $"inference, {label}", (g, x) => BnGrad(g, x, training: false), [U(shape, seed + 5), .. inputs[..2], .. inputs[3..]], GradKind.None);
        }
        // The statistics outputs: their gradients flow into x (training) or into mean and variance (inference).
        Tensor[] stats = [U([4, 2, 3], 60), U([3], 61, 0.5, 1.5), U([3], 62), U([3], 63), Pos([3], 64)];
        yield return new("FusedBatchNorm", "training, y and both statistics", (g, x) => BnAll(g, x, training: true), stats);
        yield return new("FusedBatchNorm", "inference, y and both statistics", (g, x) => BnAll(g, x, training: false), stats);
    }

    /// <summary>y, batch mean and batch variance in one vector, so one case checks the gradients through all three.</summary>
    private static Output BnAll(Graph g, Output[] x, bool training)
    {
        var (y, mean, variance) = g.FusedBatchNorm(x[0], x[1], x[2], x[3], x[4], 1e-3, training);
        return g.Concat([g.Reshape(y, [-1]), mean, variance], 0);
    }

    /// <summary>dx, dscale, doffset of FusedBatchNormGrad(dy, x, scale, mean, variance) in one vector.</summary>
    private static Output BnGrad(Graph g, Output[] x, bool training)
    {
        var (dx, dScale, dOffset) = g.FusedBatchNormGrad(x[0], x[1], x[2], x[3], x[4], 1e-3, training);
        return g.Concat([g.Reshape(dx, [-1]), dScale, dOffset], 0);
    }
}
