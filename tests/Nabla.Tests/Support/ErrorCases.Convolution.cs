namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private static Output W32(Graph g, params int[] shape) => g.Placeholder(DType.Float32, new Shape(shape), $"w{g.Operations.Count}");

    private static IEnumerable<ErrorCase> ConvolutionCases()
    {
        // Conv2D
        yield return Shape("Conv2D", "rank-3 input", g => g.Conv2D(F32(g, 5, 5, 1), W32(g, 3, 3, 1, 2)), "input must have rank 4");
        yield return Shape("Conv2D", "rank-2 filter", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, 9, 2)), "filter must have rank 4");
        yield return Shape("Conv2D", "channel mismatch", g => g.Conv2D(F32(g, -1, 5, 5, 3), W32(g, 3, 3, 2, 4)), "input channels differ: input [?,5,5,3] has 3, filter [3,3,2,4] expects 2");
        yield return Shape("Conv2D", "zero stride", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, 3, 3, 1, 2), strides: [0, 1]), "strides must be positive");
        yield return Shape("Conv2D", "negative dilation", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, 3, 3, 1, 2), dilations: [-1]), "dilations must be positive");
        yield return Shape("Conv2D", "three strides", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, 3, 3, 1, 2), strides: [1, 1, 1]), "strides must have 1 or 2 entries");
        yield return Shape("Conv2D", "valid window larger than the input", g => g.Conv2D(F32(g, 1, 2, 5, 1), W32(g, 3, 3, 1, 2)), "output height would be 0 < 1");
        yield return Shape("Conv2D", "dilated window larger than the input", g => g.Conv2D(F32(g, 1, 5, 4, 1), W32(g, 3, 3, 1, 2), dilations: [1, 2]), "output width would be 0 < 1");
        yield return Shape("Conv2D", "unknown padding", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, 3, 3, 1, 2), padding: "full"), "padding must be \"valid\" or \"same\", got \"full\"");
        yield return Shape("Conv2D", "dtypes differ", g => g.Conv2D(F32(g, 1, 5, 5, 1), Of(g, DType.Float64, 3, 3, 1, 2)), "dtypes differ");
        yield return Shape("Conv2D", "integer input", g => g.Conv2D(Of(g, DType.Int32, 1, 5, 5, 1), Of(g, DType.Int32, 3, 3, 1, 2)), NotFloating);
        yield return Shape("Conv2D", "unknown filter height", g => g.Conv2D(F32(g, 1, 5, 5, 1), W32(g, -1, 3, 1, 2)), "filter's height and width must be known");
        yield return new("Conv2D", "default(Output) filter", g => g.Conv2D(F32(g, 1, 5, 5, 1), default), typeof(ArgumentException), "default(Output)");

        // Conv2DBackpropInput
        yield return Shape("Conv2DBackpropInput", "dy does not match the input size", g => g.Conv2DBackpropInput(F32(g, 1, 4, 4, 2), W32(g, 3, 3, 1, 2), [5, 5]),
            "dy [1,4,4,2] does not match the [5,5] input: a \"valid\" convolution with filter [3,3,1,2], strides [1,1] and dilations [1,1] gives [3,3]");
        yield return Shape("Conv2DBackpropInput", "output channels differ", g => g.Conv2DBackpropInput(F32(g, 1, 3, 3, 4), W32(g, 3, 3, 1, 2), [5, 5]), "output channels differ: dy [1,3,3,4] has 4, filter [3,3,1,2] produces 2");
        yield return Shape("Conv2DBackpropInput", "input size of one entry", g => g.Conv2DBackpropInput(F32(g, 1, 3, 3, 2), W32(g, 3, 3, 1, 2), [5]), "input_size must be the input's [height, width]");
        yield return Shape("Conv2DBackpropInput", "rank-3 dy", g => g.Conv2DBackpropInput(F32(g, 3, 3, 2), W32(g, 3, 3, 1, 2), [5, 5]), "dy must have rank 4");
        yield return Shape("Conv2DBackpropInput", "same with stride 2: 9 rows do not give 4", g => g.Conv2DBackpropInput(F32(g, 1, 4, 5, 2), W32(g, 3, 3, 1, 2), [9, 9], [2, 2], "same"),
            "gives [5,5]");
        yield return Shape("Conv2DBackpropInput", "Conv2DTranspose with an output size that does not map back", g => g.Conv2DTranspose(F32(g, 1, 3, 3, 2), W32(g, 3, 3, 1, 2), [2, 2], outputSize: [4, 7]),
            "does not match the [4,7] input");

        // Conv2DBackpropFilter
        yield return Shape("Conv2DBackpropFilter", "dy is not the forward output", g => g.Conv2DBackpropFilter(F32(g, 1, 5, 5, 1), F32(g, 1, 5, 5, 2), [3, 3]),
            "dy [1,5,5,2] does not match the convolution output [3,3] of input [1,5,5,1]");
        yield return Shape("Conv2DBackpropFilter", "batch sizes differ", g => g.Conv2DBackpropFilter(F32(g, 2, 5, 5, 1), F32(g, 3, 3, 3, 2), [3, 3]), "batch sizes differ: input [2,5,5,1] vs dy [3,3,3,2]");
        yield return Shape("Conv2DBackpropFilter", "non-positive filter size", g => g.Conv2DBackpropFilter(F32(g, 1, 5, 5, 1), F32(g, 1, 3, 3, 2), [0, 3]), "filter_size must be the filter's [height, width] (positive)");
        yield return Shape("Conv2DBackpropFilter", "filter larger than the input", g => g.Conv2DBackpropFilter(F32(g, 1, 2, 2, 1), F32(g, 1, 1, 1, 2), [3, 3]), "output height would be 0 < 1");
        yield return Shape("Conv2DBackpropFilter", "bool input", g => g.Conv2DBackpropFilter(Of(g, DType.Bool, 1, 5, 5, 1), Of(g, DType.Bool, 1, 3, 3, 2), [3, 3]), NotFloating);
    }
}
