using Nabla.Kernels;

namespace Nabla;

/// <summary>
/// The shape rule of 2-D windows over NHWC images (pooling; the arithmetic is TensorFlow's): with padding
/// "valid" out = ⌈(in − k + 1) / s⌉ and nothing is padded; with "same" out = ⌈in / s⌉ and the
/// max((out − 1)·s + k − in, 0) padded positions are split with the extra one after the image (bottom/right).
/// </summary>
internal static class SpatialRules
{
    /// <summary>The window attributes of a pooling node: ksize [kh, kw], strides [sh, sw], padding.</summary>
    public static Attributes WindowAttrs(string op, int[] ksize, int[] strides, string padding)
    {
        ArgumentNullException.ThrowIfNull(ksize, $"{op} ksize");
        ArgumentNullException.ThrowIfNull(strides, $"{op} strides");
        ArgumentNullException.ThrowIfNull(padding, $"{op} padding");
        return new Attributes().Set("ksize", (int[])ksize.Clone()).Set("strides", (int[])strides.Clone()).Set("padding", padding);
    }

    /// <summary>Checks an NHWC input and the window attributes; returns the output shape [N, OutH, OutW, C] (unknown dims stay −1).</summary>
    public static Shape Pool2D(InferContext ctx, Shape x)
    {
        var (k, s, same) = Window(ctx);
        if (x.Rank != 4) throw ctx.Fail($"input must have rank 4 [batch, height, width, channels] (NHWC), got {x}");
        return new Shape(x[0], OutSize(ctx, x[1], k[0], s[0], same, "height"), OutSize(ctx, x[2], k[1], s[1], same, "width"), x[3]);
    }

    /// <summary>The validated ksize, strides and padding attributes.</summary>
    public static (int[] Ksize, int[] Strides, bool Same) Window(InferContext ctx)
    {
        var (k, s, p) = (ctx.Attrs.Ints("ksize"), ctx.Attrs.Ints("strides"), ctx.Attrs.Get<string>("padding"));
        if (k.Length != 2 || k[0] < 1 || k[1] < 1) throw ctx.Fail($"ksize must be 2 positive sizes [height, width], got [{string.Join(",", k)}]");
        if (s.Length != 2 || s[0] < 1 || s[1] < 1) throw ctx.Fail($"strides must be 2 positive steps [height, width], got [{string.Join(",", s)}]");
        var same = p switch
        {
            "same" or "SAME" => true,
            "valid" or "VALID" => false,
            _ => throw ctx.Fail($"padding must be \"valid\" or \"same\", got \"{p}\""),
        };
        return (k, s, same);
    }

    private static int OutSize(InferContext ctx, int size, int k, int s, bool same, string axis)
    {
        if (size < 0) return -1;
        if (same) return (int)(((long)size + s - 1) / s);
        if (size < k) throw ctx.Fail($"a {k}-wide window does not fit the {axis} {size} with \"valid\" padding (inputs: {ctx.DescribeInputs()})");
        return (size - k) / s + 1;
    }

    /// <summary>The kernel geometry of a node whose input <paramref name="x"/> is the NHWC image (all dims known).</summary>
    public static Pool2DArgs Args(Attributes attrs, Shape x)
    {
        var (k, s) = (attrs.Ints("ksize"), attrs.Ints("strides"));
        var same = attrs.Get<string>("padding") is "same" or "SAME";
        var (outH, padTop) = Axis(x[1], k[0], s[0], same);
        var (outW, padLeft) = Axis(x[2], k[1], s[1], same);
        return new Pool2DArgs(x[0], x[1], x[2], x[3], outH, outW, k[0], k[1], s[0], s[1], padTop, padLeft);
    }

    private static (int Out, int PadBefore) Axis(int size, int k, int s, bool same)
    {
        if (!same) return ((size - k) / s + 1, 0);
        var outSize = (size + s - 1) / s;
        var total = Math.Max((outSize - 1) * s + k - size, 0);
        return (outSize, total / 2);
    }
}
