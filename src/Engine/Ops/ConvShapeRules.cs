namespace Nabla;

/// <summary>
/// Shape rule "conv window", shared by the convolution ops (and usable by pooling): the output length of a
/// sliding window along one spatial axis and the zero padding on each side, as TensorFlow computes them.
/// </summary>
/// <remarks>
/// With effective kernel e = (k − 1)·d + 1 (dilation d) and stride s:
/// <list type="bullet">
/// <item><b>valid</b>: no padding, out = ⌊(in − e) / s⌋ + 1 (the window must fit: in ≥ e).</item>
/// <item><b>same</b>: out = ⌈in / s⌉; total padding p = max((out − 1)·s + e − in, 0), split p/2 before
/// (top/left) and the rest after (bottom/right): the extra row or column goes at the bottom/right, as in
/// TensorFlow and Keras (PyTorch's padding='same' pads symmetrically and differs by one pixel here).</item>
/// </list>
/// </remarks>
internal static class ConvShapeRules
{
    /// <summary>The window geometry along one axis: output length (−1 when the input length is unknown) and padding.</summary>
    internal readonly record struct Window(int Out, int PadBefore, int PadAfter);

    /// <summary>"valid" or "same" (any case) as the canonical lower-case name, or a failure naming the op.</summary>
    public static string Padding(InferContext ctx, string? padding) => padding?.ToLowerInvariant() switch
    {
        "valid" => "valid",
        "same" => "same",
        _ => throw ctx.Fail($"padding must be \"valid\" or \"same\", got \"{padding}\""),
    };

    /// <summary>Effective (dilated) kernel extent (k − 1)·d + 1.</summary>
    public static long Effective(int kernel, int dilation) => (long)(kernel - 1) * dilation + 1;

    /// <summary>The output length and padding of a window of <paramref name="kernel"/> taps over <paramref name="input"/> (−1 = unknown).</summary>
    public static Window Along(int input, int kernel, int stride, int dilation, string padding)
    {
        if (input < 0) return new(-1, 0, 0);
        var eff = Effective(kernel, dilation);
        if (padding == "valid") return new(input >= eff ? (int)((input - eff) / stride + 1) : (int)Math.Floor((double)(input - eff) / stride) + 1, 0, 0);
        var output = (int)((input + (long)stride - 1) / stride);
        var total = (int)Math.Max((long)(output - 1) * stride + eff - input, 0);
        return new(output, total / 2, total - total / 2);
    }

    /// <summary>
    /// Keras's <c>deconv_output_length</c>: the length a transposed convolution produces from
    /// <paramref name="input"/> (−1 = unknown). Without output padding: valid → in·s + max(e − s, 0), same → in·s.
    /// With output padding q: (in − 1)·s + e − 2·pad + q, where pad = ⌊e/2⌋ for same and 0 for valid.
    /// </summary>
    public static long TransposedLength(int input, int kernel, int stride, int dilation, string padding, int? outputPadding)
    {
        if (input < 0) return -1;
        var eff = Effective(kernel, dilation);
        if (outputPadding is not { } q)
            return padding == "valid" ? (long)input * stride + Math.Max(eff - stride, 0) : (long)input * stride;
        var pad = padding == "same" ? eff / 2 : 0;
        return (long)(input - 1) * stride + eff - 2 * pad + q;
    }

    /// <summary>Two positive integers from a 1- or 2-element attribute (one value is used for both axes), or a failure naming it.</summary>
    public static (int H, int W) Pair(InferContext ctx, string what, int[] values)
    {
        if (values.Length is not (1 or 2)) throw ctx.Fail($"{what} must have 1 or 2 entries (height, width), got [{string.Join(",", values)}]");
        var (h, w) = values.Length == 1 ? (values[0], values[0]) : (values[0], values[1]);
        if (h < 1 || w < 1) throw ctx.Fail($"{what} must be positive, got [{string.Join(",", values)}]");
        return (h, w);
    }
}
