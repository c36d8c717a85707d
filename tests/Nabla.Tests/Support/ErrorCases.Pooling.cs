namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static IEnumerable<ErrorCase> PoolingCases()
    {
        foreach (var op in new[] { "MaxPool", "AvgPool" })
        {
            Func<Graph, Output, int[], int[], string, Output> pool = op == "MaxPool" ? (g, x, k, s, p) => g.MaxPool(x, k, s, p) : (g, x, k, s, p) => g.AvgPool(x, k, s, p);
            yield return Shape(op, "rank 3 input", g => pool(g, F32(g, 2, 4, 4), [2, 2], [2, 2], "valid"), "rank 4");
            yield return Shape(op, "int32 input", g => pool(g, Of(g, DType.Int32, 1, 4, 4, 1), [2, 2], [2, 2], "valid"), "float32 or float64");
            yield return Shape(op, "window larger than the image, valid", g => pool(g, F32(g, 1, 2, 5, 1), [3, 3], [1, 1], "valid"), "does not fit the height 2");
            yield return Shape(op, "zero stride", g => pool(g, F32(g, 1, 4, 4, 1), [2, 2], [0, 1], "same"), "strides must be 2 positive");
            yield return Shape(op, "one ksize entry", g => pool(g, F32(g, 1, 4, 4, 1), [2], [1, 1], "same"), "ksize must be 2 positive");
            yield return Shape(op, "unknown padding", g => pool(g, F32(g, 1, 4, 4, 1), [2, 2], [1, 1], "full"), "padding must be \"valid\" or \"same\"");
            yield return new(op, "default(Output) input", g => pool(g, default, [2, 2], [1, 1], "same"), typeof(ArgumentException), "default(Output)");
        }
        yield return Shape("MaxPool", "1-D pooling of a rank-4 input", g => g.MaxPool1D(F32(g, 1, 4, 4, 1), 2, 2), "rank 3");

        var w = SpatialRules.WindowAttrs("test", [2, 2], [2, 2], "valid");
        foreach (var op in new[] { "MaxPoolGrad", "AvgPoolGrad" })
        {
            Func<Graph, Output, Output, Output> grad = op == "MaxPoolGrad" ? (g, x, dy) => g.MaxPoolGrad(x, dy, w) : (g, x, dy) => g.AvgPoolGrad(x, dy, w);
            yield return Shape(op, "dy not the pooled shape", g => grad(g, F32(g, 1, 4, 4, 1), Of(g, DType.Float32, 1, 3, 3, 1)), "must have the pooled shape [1,2,2,1]");
            yield return Shape(op, "dtypes differ", g => grad(g, F32(g, 1, 4, 4, 1), Of(g, DType.Float64, 1, 2, 2, 1)), "dtypes differ");
            yield return Shape(op, "rank 2 input", g => grad(g, F32(g, 4, 4), Of(g, DType.Float32, 2, 2)), "rank 4");
        }

        Output C(Graph g, int c, DType dtype = DType.Float32) => Of(g, dtype, c);
        yield return Shape("FusedBatchNorm", "scale of the wrong length", g => g.FusedBatchNorm(F32(g, 2, 4, 4, 3), C(g, 4), C(g, 3), C(g, 3), C(g, 3)), "input 1 is [4]");
        yield return Shape("FusedBatchNorm", "rank 1 x", g => g.FusedBatchNorm(F32(g, 3), C(g, 3), C(g, 3), C(g, 3), C(g, 3)), "rank ≥ 2");
        yield return Shape("FusedBatchNorm", "float64 variance with float32 x", g => g.FusedBatchNorm(F32(g, 2, 3), C(g, 3), C(g, 3), C(g, 3), C(g, 3, DType.Float64)), "dtypes differ");
        yield return Shape("FusedBatchNorm", "int32 x", g => g.FusedBatchNorm(Of(g, DType.Int32, 2, 3), Of(g, DType.Int32, 3), Of(g, DType.Int32, 3), Of(g, DType.Int32, 3), Of(g, DType.Int32, 3)), "float32 or float64");
        yield return new("FusedBatchNorm", "negative epsilon", g => g.FusedBatchNorm(F32(g, 2, 3), C(g, 3), C(g, 3), C(g, 3), C(g, 3), -1), typeof(ArgumentOutOfRangeException), "epsilon must be finite");
        yield return Shape("FusedBatchNormGrad", "dy not shaped like x", g => g.FusedBatchNormGrad(F32(g, 2, 3), Of(g, DType.Float32, 4, 3), C(g, 3), C(g, 3), C(g, 3), 1e-3, true), "must have the shape of x");
        yield return Shape("FusedBatchNormGrad", "mean of the wrong length", g => g.FusedBatchNormGrad(F32(g, 2, 3), Of(g, DType.Float32, 2, 3), C(g, 3), C(g, 2), C(g, 3), 1e-3, true), "input 3 is [2]");
        yield return Shape("FusedBatchNormGrad", "float64 dy with float32 x", g => g.FusedBatchNormGrad(Of(g, DType.Float64, 2, 3), F32(g, 2, 3), C(g, 3), C(g, 3), C(g, 3), 1e-3, false), "dtypes differ");
    }
}
