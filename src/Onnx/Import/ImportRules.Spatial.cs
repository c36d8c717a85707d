namespace Nabla.Onnx;

internal static partial class ImportRules
{
    private static readonly int[] s_toNhwc = [0, 2, 3, 1];
    private static readonly int[] s_toNchw = [0, 3, 1, 2];

    /// <summary>OIHW (Conv) or [in, out, kh, kw] (ConvTranspose) → Nabla's [kh, kw, ·, ·]: one permutation for both.</summary>
    private static readonly int[] s_filterPerm = [2, 3, 1, 0];

    private static void RequireImage(OnnxNode n, Output x)
    {
        if (x.Shape.Rank != 4) throw n.Fail($"only 2-D images [N, C, H, W] are supported, got input {x.Shape}");
    }

    private static int[] Pair(OnnxNode n, string name, int fallback)
    {
        var v = n.Ints(name);
        if (v is null) return [fallback, fallback];
        if (v.Length != 2 || v.Any(x => x < fallback)) throw n.Fail($"attribute '{name}' needs 2 values ≥ {fallback} for a 2-D op, got [{string.Join(",", v)}]");
        return Ints(n, v);
    }

    /// <summary>The weight's [kh, kw] (known), which kernel_shape, when given, must repeat.</summary>
    private static int[] KernelShape(OnnxNode n, Output w)
    {
        int[] k = [w.Shape[2], w.Shape[3]];
        if (k.Any(d => d < 1)) throw n.Fail($"the weight's spatial size must be known and positive, got {w.Shape}");
        if (n.Ints("kernel_shape") is { } ks && !Ints(n, ks).SequenceEqual(k))
            throw n.Fail($"kernel_shape [{string.Join(",", ks)}] does not match the weight {w.Shape}");
        return k;
    }

    /// <summary>The pads [top, left, bottom, right], or null for auto_pad SAME_UPPER (TF's "same").</summary>
    private static int[]? Pads(OnnxNode n)
    {
        var auto = n.String("auto_pad", "NOTSET");
        switch (auto)
        {
            case "SAME_UPPER": return null;
            case "VALID": return [0, 0, 0, 0];
            case "NOTSET": break;
            default: throw n.Fail($"auto_pad '{auto}' is not supported (NOTSET, VALID, SAME_UPPER are)");
        }
        var pads = n.Ints("pads");
        if (pads is null) return [0, 0, 0, 0];
        if (pads.Length != 4 || pads.Any(p => p < 0)) throw n.Fail($"pads [{string.Join(",", pads)}] must be 4 non-negative values for a 2-D op");
        return Ints(n, pads);
    }

    /// <summary>Whether explicit pads are what TF's "same" would choose for this (known) image size.</summary>
    private static bool IsSame(Shape nhwc, int[] pads, int[] k, int[] s, int[] d)
    {
        if (nhwc[1] < 0 || nhwc[2] < 0) return false;
        var h = ConvShapeRules.Along(nhwc[1], k[0], s[0], d[0], "same");
        var w = ConvShapeRules.Along(nhwc[2], k[1], s[1], d[1], "same");
        return pads.SequenceEqual([h.PadBefore, w.PadBefore, h.PadAfter, w.PadAfter]);
    }

    private static Output PadImage(Graph g, Output nhwc, int[] pads, double value) =>
        g.Pad(nhwc, new[,] { { 0, 0 }, { pads[0], pads[2] }, { pads[1], pads[3] }, { 0, 0 } }, value);

    private static Output Conv(OnnxNode n)
    {
        var g = n.G;
        var (x, w) = (n.Input(0), n.Input(1));
        RequireImage(n, x);
        if (w.Shape.Rank != 4) throw n.Fail($"the weight must be [out, in, kh, kw], got {w.Shape}");
        if (n.Int("group", 1) != 1) throw n.Fail($"group = {n.Int("group", 1)} (grouped or depthwise convolution) is not supported");
        var k = KernelShape(n, w);
        var strides = Pair(n, "strides", 1);
        var dilations = Pair(n, "dilations", 1);
        var pads = Pads(n);
        var xh = g.Transpose(x, s_toNhwc);
        var mode = "same";
        if (pads is not null && !(pads.Any(p => p != 0) && IsSame(xh.Shape, pads, k, strides, dilations)))
        {
            if (pads.Any(p => p != 0)) xh = PadImage(g, xh, pads, 0);
            mode = "valid";
        }
        var y = g.Conv2D(xh, g.Transpose(w, s_filterPerm), strides, mode, dilations);
        if (n.HasInput(2)) y = y + n.Input(2);
        return g.Transpose(y, s_toNchw);
    }

    private static Output ConvTranspose(OnnxNode n)
    {
        var g = n.G;
        var (x, w) = (n.Input(0), n.Input(1));
        RequireImage(n, x);
        if (w.Shape.Rank != 4) throw n.Fail($"the weight must be [in, out, kh, kw], got {w.Shape}");
        if (n.Int("group", 1) != 1) throw n.Fail($"group = {n.Int("group", 1)} is not supported");
        if (n.Has("output_shape")) throw n.Fail("attribute 'output_shape' is not supported (give pads and output_padding)");
        var k = KernelShape(n, w);
        var strides = Pair(n, "strides", 1);
        var dilations = Pair(n, "dilations", 1);
        var q = Pair(n, "output_padding", 0);
        var pads = Pads(n) ?? throw n.Fail("auto_pad SAME_UPPER is not supported for ConvTranspose (give explicit pads)");
        if (x.Shape[2] < 0 || x.Shape[3] < 0) throw n.Fail($"the input's height and width must be known, got {x.Shape}");
        var full = new int[2];
        for (var a = 0; a < 2; a++)
        {
            if (q[a] >= strides[a]) throw n.Fail($"output_padding {q[a]} must be smaller than the stride {strides[a]}");
            full[a] = (int)(strides[a] * (long)(x.Shape[a + 2] - 1) + ConvShapeRules.Effective(k[a], dilations[a]) + q[a]);
        }
        // The full (unpadded) transposed convolution, then the pads cropped off.
        var y = g.Conv2DBackpropInput(g.Transpose(x, s_toNhwc), g.Transpose(w, s_filterPerm), full, strides, "valid", dilations);
        if (pads.Any(p => p != 0))
        {
            int hOut = full[0] - pads[0] - pads[2], wOut = full[1] - pads[1] - pads[3];
            if (hOut <= 0 || wOut <= 0) throw n.Fail($"pads [{string.Join(",", pads)}] remove the whole {full[0]}x{full[1]} output");
            y = g.Slice(y, [0, pads[0], pads[1], 0], [-1, hOut, wOut, -1]);
        }
        if (n.HasInput(2)) y = y + n.Input(2);
        return g.Transpose(y, s_toNchw);
    }

    private static Output Pool(OnnxNode n)
    {
        var g = n.G;
        var x = n.Input(0);
        RequireImage(n, x);
        var max = n.OpType == "MaxPool";
        var k = n.Ints("kernel_shape") is { Length: 2 } ks && ks.All(v => v >= 1) ? Ints(n, ks) : throw n.Fail("kernel_shape must be 2 positive values");
        var strides = Pair(n, "strides", 1);
        if (n.Int("ceil_mode", 0) != 0) throw n.Fail("ceil_mode = 1 is not supported");
        if (Pair(n, "dilations", 1).Any(d => d != 1)) throw n.Fail("dilated pooling is not supported");
        if (max && n.Int("storage_order", 0) != 0) throw n.Fail("storage_order = 1 is not supported");
        if (max && n.Proto.Output.Count > 1 && n.Proto.Output[1].Length > 0) throw n.Fail("the Indices output is not supported");
        var includePad = !max && n.Int("count_include_pad", 0) != 0;
        var pads = Pads(n);
        var xh = g.Transpose(x, s_toNhwc);
        string mode;
        if (pads is null) mode = includePad ? throw n.Fail("SAME_UPPER with count_include_pad = 1 is not supported") : "same";
        else if (pads.All(p => p == 0)) mode = "valid";
        else if (!includePad && IsSame(xh.Shape, pads, k, strides, [1, 1])) mode = "same";
        else if (max || includePad)
        {
            xh = PadImage(g, xh, pads, max ? double.NegativeInfinity : 0);
            mode = "valid";
        }
        else throw n.Fail($"pads [{string.Join(",", pads)}] with count_include_pad = 0 are only supported when they equal TF's \"same\" padding");
        var y = max ? g.MaxPool(xh, k, strides, mode) : g.AvgPool(xh, k, strides, mode);
        return g.Transpose(y, s_toNchw);
    }

    private static Output GlobalPool(OnnxNode n)
    {
        var x = n.Input(0);
        if (x.Shape.Rank < 3) throw n.Fail($"needs [N, C, spatial...], got {x.Shape}");
        var axes = Enumerable.Range(2, x.Shape.Rank - 2).ToArray();
        return n.OpType == "GlobalAveragePool" ? n.G.ReduceMean(x, axes, keepDims: true) : n.G.ReduceMax(x, axes, keepDims: true);
    }

    /// <summary>Inference batch norm over axis 1: y = (x − mean)·scale/√(var + ε) + B, parameters broadcast as [C, 1, …].</summary>
    private static Output[] BatchNorm(OnnxNode n)
    {
        var g = n.G;
        var x = n.Input(0);
        if (x.Shape.Rank < 2) throw n.Fail($"needs [N, C, ...], got {x.Shape}");
        if (n.Int("training_mode", 0) != 0) throw n.Fail("training_mode = 1 is not supported (inference only)");
        if (n.Has("spatial")) n.Accept("spatial", a => a.I == 1, "= 1");
        if (n.Has("momentum")) n.Float("momentum", 0.9);
        if (n.Proto.Output.Skip(1).Any(o => o.Length > 0)) throw n.Fail("running-statistics outputs are not supported (inference only)");
        var eps = n.Float("epsilon", 1e-5);
        int[] shape = [-1, .. Enumerable.Repeat(1, x.Shape.Rank - 2)];
        Output P(int i) => g.Reshape(n.Input(i), shape);
        var factor = P(1) * g.Rsqrt(P(4) + g.Scalar(eps, x.DType));
        return [(x - P(3)) * factor + P(2)];
    }
}
