using static Nabla.Onnx.OnnxWriter;

namespace Nabla.Onnx;

internal static partial class ExportRules
{
    private static readonly long[] s_toNchw = [0, 3, 1, 2];
    private static readonly long[] s_toNhwc = [0, 2, 3, 1];

    /// <summary>HWIO → OIHW for Conv, and [kh, kw, out, in] → [in, out, kh, kw] for ConvTranspose: the same permutation.</summary>
    private static readonly int[] s_filterPerm = [3, 2, 0, 1];

    /// <summary>The filter in ONNX's layout: a transposed initializer when it is a weight, else a Transpose node.</summary>
    private static string Filter(OnnxWriter w, Output filter) =>
        IsConstant(filter)
            ? w.Derived(filter, "oihw", t => Permute(t, s_filterPerm))
            : w.Node("Transpose", [w.Value(filter)], Ints("perm", Longs(s_filterPerm)));

    /// <summary>The [top, left, bottom, right] padding of a TF-style "valid"/"same" window over known sizes, or null when a size is unknown.</summary>
    private static long[]? Pads(Shape nhwc, int[] kernel, int[] strides, int[] dilations, string padding)
    {
        if (nhwc[1] < 0 || nhwc[2] < 0) return null;
        var h = ConvShapeRules.Along(nhwc[1], kernel[0], strides[0], dilations[0], padding.ToLowerInvariant());
        var x = ConvShapeRules.Along(nhwc[2], kernel[1], strides[1], dilations[1], padding.ToLowerInvariant());
        return [h.PadBefore, x.PadBefore, h.PadAfter, x.PadAfter];
    }

    /// <summary>Explicit pads when the image size is known; otherwise SAME_UPPER (TensorFlow's rule: the odd pad at the end) or VALID.</summary>
    private static Google.Protobuf.Collections.RepeatedField<Proto.AttributeProto> PadAttributes(long[]? pads, string padding) =>
        pads is not null ? [Ints("pads", pads)]
        : [String("auto_pad", padding.Equals("same", StringComparison.OrdinalIgnoreCase) ? "SAME_UPPER" : "VALID")];

    private static void Conv2D(OnnxWriter w, Operation op)
    {
        var (x, filter) = (op.Inputs[0], op.Inputs[1]);
        var strides = op.Attrs.Ints("strides");
        var dilations = op.Attrs.Ints("dilations");
        var padding = op.Attrs.Get<string>("padding");
        var kernel = new[] { filter.Shape[0], filter.Shape[1] };
        var pads = Pads(x.Shape, kernel, strides, dilations, padding);
        if (pads is null && dilations.Any(d => d != 1) && padding.Equals("same", StringComparison.OrdinalIgnoreCase))
            throw Unsupported(op, "\"same\" padding with dilation needs the image size at export time");
        var nchw = w.Node("Transpose", [w.Value(x)], Ints("perm", s_toNchw));
        var conv = w.Node("Conv", [nchw, Filter(w, filter)],
            [Ints("kernel_shape", Longs(kernel)), Ints("strides", Longs(strides)), Ints("dilations", Longs(dilations)), .. PadAttributes(pads, padding)]);
        w.Bind(0, w.Node("Transpose", [conv], Ints("perm", s_toNhwc)));
    }

    /// <summary>
    /// Conv2DBackpropInput(dy, filter) as ConvTranspose: the forward convolution maps the [H, W] result to dy's [h, w]
    /// with TF's padding (top/left p₀, bottom/right p₁); ONNX's size rule H = s·(h − 1) + e − p₀ − p₁ + q then gives
    /// the output padding q that makes the sizes agree.
    /// </summary>
    private static void ConvTranspose(OnnxWriter w, Operation op)
    {
        if (op.Inputs.Count > 2) throw Unsupported(op, "the output size is only known at run time");
        var (dy, filter) = (op.Inputs[0], op.Inputs[1]);
        var size = op.Attrs.Ints("input_size");
        var strides = op.Attrs.Ints("strides");
        var dilations = op.Attrs.Ints("dilations");
        var padding = op.Attrs.Get<string>("padding").ToLowerInvariant();
        var kernel = new[] { filter.Shape[0], filter.Shape[1] };
        if (dy.Shape[1] < 0 || dy.Shape[2] < 0) throw Unsupported(op, $"the input's height and width must be known, got {dy.Shape}");
        var pads = new long[4];
        var outputPadding = new long[2];
        for (var a = 0; a < 2; a++)
        {
            var win = ConvShapeRules.Along(size[a], kernel[a], strides[a], dilations[a], padding);
            (pads[a], pads[a + 2]) = (win.PadBefore, win.PadAfter);
            var e = ConvShapeRules.Effective(kernel[a], dilations[a]);
            outputPadding[a] = size[a] - ((long)strides[a] * (dy.Shape[a + 1] - 1) + e - win.PadBefore - win.PadAfter);
            if (outputPadding[a] < 0 || outputPadding[a] >= Math.Max(strides[a], dilations[a]))
                throw Unsupported(op, $"output size [{string.Join(",", size)}] needs output padding {outputPadding[a]} on axis {a}, outside ONNX's range");
        }
        var nchw = w.Node("Transpose", [w.Value(dy)], Ints("perm", s_toNchw));
        var conv = w.Node("ConvTranspose", [nchw, Filter(w, filter)],
            Ints("kernel_shape", Longs(kernel)), Ints("strides", Longs(strides)), Ints("dilations", Longs(dilations)), Ints("pads", pads), Ints("output_padding", outputPadding));
        w.Bind(0, w.Node("Transpose", [conv], Ints("perm", s_toNhwc)));
    }

    private static void Pool(OnnxWriter w, Operation op)
    {
        var x = op.Inputs[0];
        var k = op.Attrs.Ints("ksize");
        var s = op.Attrs.Ints("strides");
        var padding = op.Attrs.Get<string>("padding");
        var pads = Pads(x.Shape, k, s, [1, 1], padding);
        var nchw = w.Node("Transpose", [w.Value(x)], Ints("perm", s_toNchw));
        // TF's "same" average pooling divides by the number of image elements in the window: count_include_pad = 0.
        // Max pooling ignores pads (they act as −∞), as TF's.
        var pooled = op.Type == "MaxPool"
            ? w.Node("MaxPool", [nchw], [Ints("kernel_shape", Longs(k)), Ints("strides", Longs(s)), .. PadAttributes(pads, padding)])
            : w.Node("AveragePool", [nchw], [Ints("kernel_shape", Longs(k)), Ints("strides", Longs(s)), Int("count_include_pad", 0), .. PadAttributes(pads, padding)]);
        w.Bind(0, w.Node("Transpose", [pooled], Ints("perm", s_toNhwc)));
    }

    /// <summary>Inference batch norm over the last axis: BatchNormalization wants the channels at axis 1, so ranks above 2 are transposed there and back.</summary>
    private static void BatchNorm(OnnxWriter w, Operation op)
    {
        if (op.Attrs.Bool("training")) throw Unsupported(op, "batch normalisation in training mode (export the inference graph: batch statistics are not an inference computation)");
        var x = op.Inputs[0];
        var rank = x.Shape.Rank;
        var xs = w.Value(x);
        if (rank > 2)
        {
            long[] toFirst = [0, rank - 1, .. Enumerable.Range(1, rank - 2).Select(i => (long)i)];
            xs = w.Node("Transpose", [xs], Ints("perm", toFirst));
        }
        var y = w.Node("BatchNormalization", [xs, w.Value(op.Inputs[1]), w.Value(op.Inputs[2]), w.Value(op.Inputs[3]), w.Value(op.Inputs[4])],
            Float("epsilon", op.Attrs.Double("epsilon")));
        if (rank > 2)
        {
            long[] toLast = [0, .. Enumerable.Range(2, rank - 2).Select(i => (long)i), 1];
            y = w.Node("Transpose", [y], Ints("perm", toLast));
        }
        w.Bind(0, y);
    }

    /// <summary>A host-side transposition of a constant (filters are small; this runs once per export).</summary>
    public static Tensor Permute(Tensor t, int[] perm)
    {
        var src = t.Shape;
        var dst = new Shape(perm.Select(p => src[p]).ToArray());
        var srcStrides = src.Strides();
        var n = t.Size;
        var values = t.ToDoubleArray();
        var output = new double[n];
        var idx = new int[dst.Rank];
        for (var k = 0; k < n; k++)
        {
            long offset = 0;
            for (var a = 0; a < dst.Rank; a++) offset += (long)idx[a] * srcStrides[perm[a]];
            output[k] = values[offset];
            for (var a = dst.Rank - 1; a >= 0; a--)
            {
                if (++idx[a] < dst[a]) break;
                idx[a] = 0;
            }
        }
        var d = new Tensor(output, dst, DType.Float64);
        return t.DType == DType.Float64 ? d : new Tensor(output.Select(v => (float)v).ToArray(), dst, DType.Float32);
    }
}
