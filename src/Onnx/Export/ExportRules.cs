using static Nabla.Onnx.OnnxWriter;

namespace Nabla.Onnx;

/// <summary>
/// How each Nabla op becomes standard ONNX (opset 17) nodes. Element-wise and shape ops map one to one; the NHWC
/// spatial ops (Conv2D, its transpose, pooling) become their NCHW ONNX twins between two Transpose nodes, with
/// filters stored transposed to OIHW (ONNX Runtime's transpose optimizer cancels the back-to-back transposes of a conv
/// block); batch norm over the last axis moves the channels to axis 1 and back the same way.
/// </summary>
/// <remarks>
/// An op with no faithful mapping (training-only ops, random numbers, gradients) fails with an <see cref="OnnxException"/>
/// naming the node, its op type and the layer it belongs to.
/// </remarks>
internal static partial class ExportRules
{
    private static readonly Dictionary<string, string> s_unary = new(StringComparer.Ordinal)
    {
        ["Neg"] = "Neg", ["Abs"] = "Abs", ["Sign"] = "Sign", ["Sqrt"] = "Sqrt", ["Reciprocal"] = "Reciprocal", ["Exp"] = "Exp",
        ["Log"] = "Log", ["Sin"] = "Sin", ["Cos"] = "Cos", ["Tanh"] = "Tanh", ["Sigmoid"] = "Sigmoid", ["Relu"] = "Relu",
        ["Softplus"] = "Softplus", ["Erf"] = "Erf", ["LogicalNot"] = "Not", ["Identity"] = "Identity", ["StopGradient"] = "Identity",
    };

    private static readonly Dictionary<string, string> s_binary = new(StringComparer.Ordinal)
    {
        ["Add"] = "Add", ["Sub"] = "Sub", ["Mul"] = "Mul", ["Div"] = "Div", ["Pow"] = "Pow", ["Maximum"] = "Max", ["Minimum"] = "Min",
        ["Equal"] = "Equal", ["Less"] = "Less", ["LessEqual"] = "LessOrEqual", ["Greater"] = "Greater", ["GreaterEqual"] = "GreaterOrEqual",
        ["LogicalAnd"] = "And", ["LogicalOr"] = "Or", ["LogicalXor"] = "Xor",
    };

    private static readonly Dictionary<string, string> s_reduce = new(StringComparer.Ordinal)
    {
        ["Sum"] = "ReduceSum", ["Mean"] = "ReduceMean", ["Max"] = "ReduceMax", ["Min"] = "ReduceMin", ["Prod"] = "ReduceProd",
    };

    public static void Emit(OnnxWriter w, Operation op)
    {
        string In(int i) => w.Value(op.Inputs[i]);
        if (s_unary.TryGetValue(op.Type, out var unary)) { w.Bind(0, w.Node(unary, [In(0)])); return; }
        if (s_binary.TryGetValue(op.Type, out var binary)) { w.Bind(0, w.Node(binary, [In(0), In(1)])); return; }
        if (s_reduce.TryGetValue(op.Type, out var reduce)) { Reduce(w, op, reduce); return; }
        switch (op.Type)
        {
            case "NotEqual": w.Bind(0, w.Node("Not", [w.Node("Equal", [In(0), In(1)])])); return;
            case "Square": w.Bind(0, w.Node("Mul", [In(0), In(0)])); return;
            case "Rsqrt": w.Bind(0, w.Node("Reciprocal", [w.Node("Sqrt", [In(0)])])); return;
            // ONNX has neither expm1 nor log1p: computing them in float64 keeps the float32 result exact where
            // exp(x) − 1 in float32 would cancel (ELU and SELU near 0 use expm1).
            case "Expm1": InDouble(w, op, x => w.Node("Sub", [w.Node("Exp", [x]), w.Scalar("one", 1, DType.Float64)])); return;
            case "Log1p": InDouble(w, op, x => w.Node("Log", [w.Node("Add", [x, w.Scalar("one", 1, DType.Float64)])])); return;
            case "Select": w.Bind(0, w.Node("Where", [In(0), In(1), In(2)])); return;
            case "Cast": w.Bind(0, w.Node("Cast", [In(0)], Int("to", OnnxTypes.ElemType(op.Attrs.Get<DType>("dtype"))))); return;
            case "Softmax": w.Bind(0, w.Node("Softmax", [In(0)], Int("axis", -1))); return;
            case "LogSoftmax": w.Bind(0, w.Node("LogSoftmax", [In(0)], Int("axis", -1))); return;
            case "MatMul": MatMul(w, op); return;
            case "Reshape": Reshape(w, op); return;
            case "Transpose": w.Bind(0, w.Node("Transpose", [In(0)], Ints("perm", Longs(op.Attrs.Ints("perm"))))); return;
            case "ExpandDims": w.Bind(0, w.Node("Unsqueeze", [In(0), w.Int64s("axes", op.Attrs.Int("axis"))])); return;
            case "Squeeze": w.Bind(0, w.Node("Squeeze", [In(0), w.Int64s("axes", Longs(op.Attrs.Ints("axes")))])); return;
            case "Concat": w.Bind(0, w.Node("Concat", op.Inputs.Select(w.Value).ToArray(), Int("axis", op.Attrs.Int("axis")))); return;
            case "Split": Split(w, op); return;
            case "Tile": w.Bind(0, w.Node("Tile", [In(0), w.Int64s("repeats", Longs(op.Attrs.Ints("multiples")))])); return;
            case "BroadcastTo": w.Bind(0, w.Node("Expand", [In(0), w.Int64s("shape", Longs(op.Attrs.Get<Shape>("shape").ToArray()))])); return;
            case "BroadcastLike": w.Bind(0, w.Node("Expand", [In(0), w.Node("Shape", [In(1)])])); return;
            case "ZerosLike" or "OnesLike":
                var fill = OnnxTypes.ToProto(Tensor.Fill(new Shape(1), op.Type == "OnesLike" ? 1 : 0, op.Inputs[0].DType), "value");
                w.Bind(0, w.Node("ConstantOfShape", [w.Node("Shape", [In(0)])], TensorAttr("value", fill)));
                return;
            case "Slice": Slice(w, op); return;
            case "Pad": Pad(w, op); return;
            case "Gather": w.Bind(0, w.Node("Gather", [In(0), In(1)], Int("axis", op.Attrs.Int("axis")))); return;
            case "ArgMax" or "ArgMin":
                var arg = w.Node(op.Type, [In(0)], Int("axis", op.Attrs.Int("axis")), Int("keepdims", 0));
                w.Bind(0, op.OutputDTypes[0] == DType.Int64 ? arg : w.Node("Cast", [arg], Int("to", OnnxTypes.ElemType(op.OutputDTypes[0]))));
                return;
            case "Conv2D": Conv2D(w, op); return;
            case "Conv2DBackpropInput": ConvTranspose(w, op); return;
            case "MaxPool" or "AvgPool": Pool(w, op); return;
            case "FusedBatchNorm": BatchNorm(w, op); return;
            case "SimpleRNN" or "LSTM" or "GRU": Recurrent(w, op); return;
            default: throw Unsupported(op, null);
        }
    }

    /// <summary>"no ONNX mapping" naming the node, its op type and its layer.</summary>
    public static OnnxException Unsupported(Operation op, string? why) =>
        new($"ONNX export: layer '{LayerOf(op)}' cannot be exported: {op.Type} '{op.Name}' has no faithful ONNX mapping{(why is null ? "" : $" ({why})")}");

    public static long[] Longs(int[] v) => v.Select(x => (long)x).ToArray();

    private static void InDouble(OnnxWriter w, Operation op, Func<string, string> f)
    {
        var dt = op.Inputs[0].DType;
        var x = dt == DType.Float64 ? w.Value(op.Inputs[0]) : w.Node("Cast", [w.Value(op.Inputs[0])], Int("to", OnnxTypes.ElemType(DType.Float64)));
        var y = f(x);
        w.Bind(0, dt == DType.Float64 ? y : w.Node("Cast", [y], Int("to", OnnxTypes.ElemType(dt))));
    }

    private static void Reduce(OnnxWriter w, Operation op, string onnx)
    {
        var axes = op.Attrs.Get<int[]?>("axes", null);
        var keep = Int("keepdims", op.Attrs.Bool("keep_dims") ? 1 : 0);
        var x = w.Value(op.Inputs[0]);
        if (axes is { Length: 0 }) { w.Bind(0, w.Node("Identity", [x])); return; }
        // Opset 17: ReduceSum takes its axes as an input (since 13), the others as an attribute (until 18). No axes = all.
        if (onnx == "ReduceSum")
            w.Bind(0, axes is null ? w.Node(onnx, [x], keep) : w.Node(onnx, [x, w.Int64s("axes", Longs(axes))], keep));
        else
            w.Bind(0, axes is null ? w.Node(onnx, [x], keep) : w.Node(onnx, [x], keep, Ints("axes", Longs(axes))));
    }

    private static void MatMul(OnnxWriter w, Operation op)
    {
        string Side(int i, string flag)
        {
            var v = w.Value(op.Inputs[i]);
            if (!op.Attrs.Get("transpose_" + flag, false)) return v;
            var r = op.Inputs[i].Shape.Rank;
            var perm = Enumerable.Range(0, r).Select(k => (long)k).ToArray();
            (perm[r - 2], perm[r - 1]) = (perm[r - 1], perm[r - 2]);
            return w.Node("Transpose", [v], Ints("perm", perm));
        }
        w.Bind(0, w.Node("MatMul", [Side(0, "a"), Side(1, "b")]));
    }

    private static void Reshape(OnnxWriter w, Operation op)
    {
        var shape = op.Attrs.Ints("shape");
        // ONNX reads a 0 as "copy this dimension" unless allowzero is set (which forbids −1 alongside).
        var zero = shape.Contains(0);
        if (zero && shape.Contains(-1)) throw Unsupported(op, $"target shape [{string.Join(",", shape)}] has both 0 and −1");
        var x = w.Value(op.Inputs[0]);
        var target = w.Int64s("shape", Longs(shape));
        w.Bind(0, zero ? w.Node("Reshape", [x, target], Int("allowzero", 1)) : w.Node("Reshape", [x, target]));
    }

    private static void Split(OnnxWriter w, Operation op)
    {
        var axis = op.Attrs.Int("axis");
        var sizes = op.OutputShapes.Select(s => s[axis < 0 ? axis + s.Rank : axis]).ToArray();
        if (sizes.Any(s => s < 0)) throw Unsupported(op, "split sizes unknown at export time");
        var outs = w.NodeMulti("Split", [w.Value(op.Inputs[0]), w.Int64s("split", Longs(sizes))], op.NumOutputs, Int("axis", axis));
        for (var i = 0; i < outs.Length; i++) w.Bind(i, outs[i]);
    }

    private static void Slice(OnnxWriter w, Operation op)
    {
        var begin = op.Attrs.Ints("begin");
        var size = op.Attrs.Ints("size");
        var ends = begin.Select((b, i) => size[i] < 0 ? long.MaxValue : (long)b + size[i]).ToArray();
        w.Bind(0, w.Node("Slice", [w.Value(op.Inputs[0]), w.Int64s("starts", Longs(begin)), w.Int64s("ends", ends),
            w.Int64s("axes", Enumerable.Range(0, begin.Length).Select(a => (long)a).ToArray())]));
    }

    private static void Pad(OnnxWriter w, Operation op)
    {
        var p = op.Attrs.Get<int[,]>("paddings");
        var rank = p.GetLength(0);
        var pads = new long[2 * rank];
        for (var i = 0; i < rank; i++) (pads[i], pads[rank + i]) = (p[i, 0], p[i, 1]);
        var value = w.Scalar("value", op.Attrs.Double("value"), op.Inputs[0].DType);
        w.Bind(0, w.Node("Pad", [w.Value(op.Inputs[0]), w.Int64s("pads", pads), value], String("mode", "constant")));
    }
}
