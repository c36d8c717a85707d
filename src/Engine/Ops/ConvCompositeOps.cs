namespace Nabla;

/// <summary>
/// Convolutions built from the Conv2D family rather than kernels of their own: Conv1D (lowered to a 2-D
/// convolution of height 1) and Conv2DTranspose (a <c>Conv2DBackpropInput</c> with Keras's output-size rule).
/// Their gradients are those of the ops they lower to.
/// </summary>
public sealed partial class Graph
{
    /// <summary>
    /// 1-D convolution (tf.nn.conv1d / keras Conv1D), channels last: y[n, t, co] = Σ_{j,ci} x[n, t·s − p + j·d, ci]·w[j, ci, co]
    /// for <paramref name="input"/> [batch, steps, in] and <paramref name="filter"/> [k, in, out].
    /// </summary>
    /// <remarks>
    /// Lowered, as TensorFlow does, to <see cref="Conv2D"/>: x becomes [batch, 1, steps, in] (ExpandDims), the filter
    /// [1, k, in, out], strides [1, s] and dilations [1, d], and the height axis is squeezed away afterwards.
    /// "causal" (Keras) left-pads the steps with d·(k − 1) zeros and then runs "valid", so y[t] sees only x[≤ t].
    /// </remarks>
    /// <param name="input">[batch, steps, in_channels], float32 or float64.</param>
    /// <param name="filter">[k, in_channels, out_channels] with k known.</param>
    /// <param name="stride">Step between windows (≥ 1).</param>
    /// <param name="padding">"valid", "same" or "causal".</param>
    /// <param name="dilation">Gap between taps (≥ 1).</param>
    /// <param name="name">Name scope of the nodes (default "conv1d").</param>
    /// <exception cref="ShapeException">Ranks are not 3, the kernel width is unknown, stride or dilation is not positive, the padding is unknown,
    /// or the lowered Conv2D refuses the shapes (channels differ, window does not fit).</exception>
    public Output Conv1D(Output input, Output filter, int stride = 1, string padding = "valid", int dilation = 1, string? name = null)
    {
        RequireArgument(input, "Conv1D", nameof(input));
        RequireArgument(filter, "Conv1D", nameof(filter));
        var scope = name ?? "conv1d";
        string Fail(string m) => $"Conv1D '{scope}': {m}";
        if (input.Shape.Rank != 3) throw new ShapeException(Fail($"input must have rank 3 [batch, steps, channels], got {input.Shape}"));
        if (filter.Shape.Rank != 3) throw new ShapeException(Fail($"filter must have rank 3 [width, in_channels, out_channels], got {filter.Shape}"));
        if (filter.Shape[0] < 0) throw new ShapeException(Fail($"the filter width must be known when the graph is built, got {filter.Shape}"));
        if (stride < 1 || dilation < 1) throw new ShapeException(Fail($"stride and dilation must be positive, got {stride} and {dilation}"));
        var mode = padding?.ToLowerInvariant();
        if (mode is not ("valid" or "same" or "causal")) throw new ShapeException(Fail($"padding must be \"valid\", \"same\" or \"causal\", got \"{padding}\""));
        using (NameScope(scope))
        {
            var x = input;
            if (mode == "causal")
            {
                x = Pad(x, new[,] { { 0, 0 }, { dilation * (filter.Shape[0] - 1), 0 }, { 0, 0 } });
                mode = "valid";
            }
            var y = Conv2D(ExpandDims(x, 1), ExpandDims(filter, 0), [1, stride], mode, [1, dilation]);
            return Squeeze(y, [1]);
        }
    }

    /// <summary>
    /// Transposed 2-D convolution (keras Conv2DTranspose, tf.nn.conv2d_transpose): the adjoint of a <see cref="Conv2D"/> that maps
    /// the [batch, H, W, out] result to <paramref name="input"/> [batch, h, w, in]. <paramref name="filter"/> is [kh, kw, out, in],
    /// the layout Keras stores for this layer (the forward convolution's HWIO filter). Built as one <see cref="Conv2DBackpropInput"/>.
    /// </summary>
    /// <remarks>
    /// The output size, unless <paramref name="outputSize"/> gives it, is Keras's <c>deconv_output_length</c> per axis with
    /// effective kernel e = (k − 1)·d + 1: without output padding, valid → h·s + max(e − s, 0) and same → h·s; with output
    /// padding q, (h − 1)·s + e − 2·pad + q where pad = ⌊e/2⌋ for same and 0 for valid. The zero padding itself then
    /// follows TensorFlow's rule for that output size (extra row/column at the bottom/right).
    /// </remarks>
    /// <param name="input">[batch, h, w, in_channels] with h and w known (unless <paramref name="outputSize"/> is given).</param>
    /// <param name="filter">[kh, kw, out_channels, in_channels].</param>
    /// <param name="strides">[sh, sw] or [s] (default 1).</param>
    /// <param name="padding">"valid" or "same".</param>
    /// <param name="outputPadding">[qh, qw] or [q], each below its stride (Keras's rule), or null.</param>
    /// <param name="dilations">[dh, dw] or [d] (default 1).</param>
    /// <param name="outputSize">An explicit output [H, W] (tf.nn.conv2d_transpose's output_shape); it must be one a forward
    /// convolution maps back to the input's size.</param>
    /// <param name="name">Node name (default "conv2d_transpose").</param>
    /// <exception cref="ShapeException">Ranks are not 4, the sizes needed for the output rule are unknown, strides, dilations or output
    /// padding are out of range, or the output size does not map back to the input (the Conv2DBackpropInput node reports it).</exception>
    public Output Conv2DTranspose(Output input, Output filter, int[]? strides = null, string padding = "valid", int[]? outputPadding = null,
        int[]? dilations = null, int[]? outputSize = null, string? name = null)
    {
        RequireArgument(input, "Conv2DTranspose", nameof(input));
        RequireArgument(filter, "Conv2DTranspose", nameof(filter));
        var scope = name ?? "conv2d_transpose";
        string Fail(string m) => $"Conv2DTranspose '{scope}': {m}";
        Shape x = input.Shape, w = filter.Shape;
        if (x.Rank != 4) throw new ShapeException(Fail($"input must have rank 4 [batch, height, width, channels], got {x}"));
        if (w.Rank != 4) throw new ShapeException(Fail($"filter must have rank 4 [height, width, out_channels, in_channels], got {w}"));
        var (sh, sw) = Pair(strides ?? [1], "strides", 1);
        var (dh, dw) = Pair(dilations ?? [1], "dilations", 1);
        var mode = padding?.ToLowerInvariant();
        if (mode is not ("valid" or "same")) throw new ShapeException(Fail($"padding must be \"valid\" or \"same\", got \"{padding}\""));
        int[] size;
        if (outputSize is not null)
        {
            if (outputSize.Length != 2 || outputSize[0] < 0 || outputSize[1] < 0)
                throw new ShapeException(Fail($"outputSize must be [height, width] (non-negative), got [{string.Join(",", outputSize)}]"));
            size = (int[])outputSize.Clone();
        }
        else
        {
            if (x[1] < 0 || x[2] < 0 || w[0] < 0 || w[1] < 0)
                throw new ShapeException(Fail($"the output size needs the input's height and width and the filter's, known when the graph is built: input {x}, filter {w} (or pass outputSize)"));
            int? qh = null, qw = null;
            if (outputPadding is not null)
            {
                var (ph, pw) = Pair(outputPadding, "outputPadding", 0);
                if (ph >= sh || pw >= sw) throw new ShapeException(Fail($"outputPadding [{ph},{pw}] must be smaller than the strides [{sh},{sw}]"));
                (qh, qw) = (ph, pw);
            }
            var h = ConvShapeRules.TransposedLength(x[1], w[0], sh, dh, mode, qh);
            var wd = ConvShapeRules.TransposedLength(x[2], w[1], sw, dw, mode, qw);
            if (h < 0 || wd < 0 || h > int.MaxValue || wd > int.MaxValue)
                throw new ShapeException(Fail($"output size [{h},{wd}] from input {x} and filter {w} is out of range"));
            size = [(int)h, (int)wd];
        }
        return AddSingleOutput("Conv2DBackpropInput", [input, filter], ConvAttributes([sh, sw], mode, [dh, dw]).Set("input_size", size), scope);

        (int, int) Pair(int[] v, string what, int min)
        {
            if (v.Length is not (1 or 2) || v.Any(e => e < min))
                throw new ShapeException(Fail($"{what} must have 1 or 2 entries ≥ {min}, got [{string.Join(",", v)}]"));
            return v.Length == 1 ? (v[0], v[0]) : (v[0], v[1]);
        }
    }
}
