namespace Nabla.Onnx;

/// <summary>
/// How standard ONNX ops become Nabla ops. Element-wise, matrix and shape ops map directly; NCHW spatial ops (Conv,
/// ConvTranspose, pooling) run as Nabla's NHWC ops between transposes; inference BatchNormalization is its formula.
/// An op not listed here fails naming the node and its op type.
/// </summary>
internal static partial class ImportRules
{
    private static readonly Dictionary<string, Func<Graph, Output, Output>> s_unary = new(StringComparer.Ordinal)
    {
        ["Neg"] = (g, x) => g.Neg(x), ["Abs"] = (g, x) => g.Abs(x), ["Sign"] = (g, x) => g.Sign(x), ["Sqrt"] = (g, x) => g.Sqrt(x),
        ["Reciprocal"] = (g, x) => g.Reciprocal(x), ["Exp"] = (g, x) => g.Exp(x), ["Log"] = (g, x) => g.Log(x), ["Sin"] = (g, x) => g.Sin(x),
        ["Cos"] = (g, x) => g.Cos(x), ["Tanh"] = (g, x) => g.Tanh(x), ["Sigmoid"] = (g, x) => g.Sigmoid(x), ["Relu"] = (g, x) => g.Relu(x),
        ["Softplus"] = (g, x) => g.Softplus(x), ["Erf"] = (g, x) => g.Erf(x), ["Not"] = (g, x) => g.LogicalNot(x),
        ["Softsign"] = (g, x) => g.Softsign(x), ["Identity"] = (g, x) => g.Identity(x),
    };

    private static readonly Dictionary<string, Func<Graph, Output, Output, Output>> s_binary = new(StringComparer.Ordinal)
    {
        ["Add"] = (g, a, b) => g.Add(a, b), ["Sub"] = (g, a, b) => g.Sub(a, b), ["Mul"] = (g, a, b) => g.Mul(a, b), ["Div"] = (g, a, b) => g.Div(a, b),
        ["Pow"] = (g, a, b) => g.Pow(a, b), ["Equal"] = (g, a, b) => g.Equal(a, b), ["Less"] = (g, a, b) => g.Less(a, b),
        ["Greater"] = (g, a, b) => g.Greater(a, b), ["LessOrEqual"] = (g, a, b) => g.LessEqual(a, b), ["GreaterOrEqual"] = (g, a, b) => g.GreaterEqual(a, b),
        ["And"] = (g, a, b) => g.LogicalAnd(a, b), ["Or"] = (g, a, b) => g.LogicalOr(a, b), ["Xor"] = (g, a, b) => g.LogicalXor(a, b),
    };

    /// <summary>The op types the importer understands (listed in error messages and docs).</summary>
    public static IEnumerable<string> Supported =>
        s_unary.Keys.Concat(s_binary.Keys).Concat(
        [
            "Max", "Min", "Sum", "Mean", "Where", "Cast", "Dropout", "LeakyRelu", "Elu", "Selu", "HardSigmoid", "Clip", "Softmax", "LogSoftmax",
            "MatMul", "Gemm", "Reshape", "Flatten", "Transpose", "Concat", "Split", "Unsqueeze", "Squeeze", "Tile", "Expand", "Slice", "Pad",
            "Gather", "Constant", "ConstantOfShape", "Shape", "ReduceSum", "ReduceMean", "ReduceMax", "ReduceMin", "ReduceProd", "ArgMax", "ArgMin",
            "Conv", "ConvTranspose", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool", "BatchNormalization",
            "RNN", "LSTM", "GRU",
        ]).Order(StringComparer.Ordinal);

    public static Output[] Apply(OnnxNode n)
    {
        var g = n.G;
        if (s_unary.TryGetValue(n.OpType, out var unary)) return [unary(g, n.Input(0))];
        if (s_binary.TryGetValue(n.OpType, out var binary)) return [binary(g, n.Input(0), n.Input(1))];
        switch (n.OpType)
        {
            case "Max" or "Min" or "Sum" or "Mean": return [Variadic(n)];
            case "Where": return [g.Select(n.Input(0), n.Input(1), n.Input(2))];
            case "Cast": return [Cast(n)];
            case "Dropout": return Dropout(n);
            case "LeakyRelu": return [g.LeakyRelu(n.Input(0), n.Float("alpha", 0.01))];
            case "Elu": return [g.Elu(n.Input(0), n.Float("alpha", 1.0))];
            case "Selu": return [g.Elu(n.Input(0), n.Float("alpha", 1.67326319217681884765625)) * n.Float("gamma", 1.05070102214813232421875)];
            case "HardSigmoid": return [g.Clip(n.Input(0) * n.Float("alpha", 0.2) + n.Float("beta", 0.5), 0, 1)];
            case "Clip": return [Clip(n)];
            case "Softmax" or "LogSoftmax": return [Softmax(n)];
            case "MatMul": return [g.MatMul(n.Input(0), n.Input(1))];
            case "Gemm": return [Gemm(n)];
            case "Reshape": return [Reshape(n)];
            case "Flatten": return [Flatten(n)];
            case "Transpose": return [Transpose(n)];
            case "Concat": return [g.Concat(Enumerable.Range(0, n.InputCount).Select(n.Input).ToArray(), (int)Required(n, "axis"))];
            case "Split": return Split(n);
            case "Unsqueeze": return [Unsqueeze(n)];
            case "Squeeze": return [Squeeze(n)];
            case "Tile": return [g.Tile(n.Input(0), Ints(n, n.ConstInts(1, "repeats")!))];
            case "Expand": return [Expand(n)];
            case "Slice": return [Slice(n)];
            case "Pad": return [Pad(n)];
            case "Gather": return [g.Gather(n.Input(0), n.Input(1), (int)n.Int("axis", 0))];
            case "Constant": return [Constant(n)];
            case "ConstantOfShape": return [ConstantOfShape(n)];
            case "Shape": return ShapeOf(n);
            case "ReduceSum" or "ReduceMean" or "ReduceMax" or "ReduceMin" or "ReduceProd": return [Reduce(n)];
            case "ArgMax" or "ArgMin": return [ArgReduce(n)];
            case "Conv": return [Conv(n)];
            case "ConvTranspose": return [ConvTranspose(n)];
            case "MaxPool" or "AveragePool": return [Pool(n)];
            case "GlobalAveragePool" or "GlobalMaxPool": return [GlobalPool(n)];
            case "BatchNormalization": return BatchNorm(n);
            case "RNN" or "LSTM" or "GRU": return Recurrent(n);
            default: throw n.Fail($"op type '{n.OpType}' is not supported (supported: {string.Join(", ", Supported)})");
        }
    }

    private static long Required(OnnxNode n, string name) =>
        n.Has(name) ? n.Int(name, 0) : throw n.Fail($"attribute '{name}' is required");

    public static int[] Ints(OnnxNode n, long[] v) =>
        v.Select(x => x is >= int.MinValue and <= int.MaxValue ? (int)x : throw n.Fail($"value {x} is out of the int range")).ToArray();

    private static Output Variadic(OnnxNode n)
    {
        var g = n.G;
        var acc = n.Input(0);
        for (var i = 1; i < n.InputCount; i++)
            acc = n.OpType switch
            {
                "Max" => g.Maximum(acc, n.Input(i)),
                "Min" => g.Minimum(acc, n.Input(i)),
                _ => g.Add(acc, n.Input(i)),
            };
        return n.OpType == "Mean" ? acc * (1.0 / n.InputCount) : n.InputCount == 1 ? g.Identity(acc) : acc;
    }

    private static Output Cast(OnnxNode n)
    {
        var to = OnnxTypes.FromElemType((int)Required(n, "to"), n.Context);
        if (to.IsFloating()) to = n.Importer.FloatType;
        if (n.Has("saturate")) n.Accept("saturate", a => a.I == 1, "= 1");
        return n.G.Cast(n.Input(0), to);
    }

    private static Output[] Dropout(OnnxNode n)
    {
        // Inference: the identity. A training_mode input that is a true constant cannot be honoured.
        if (n.ConstInput(2, "training_mode") is { } mode && mode.ToDoubleArray()[0] != 0) throw n.Fail("training_mode = true is not supported (inference only)");
        if (n.Proto.Output.Count > 1 && n.Proto.Output[1].Length > 0) throw n.Fail("the mask output is not supported (inference only)");
        if (n.Has("seed")) n.Int("seed", 0);
        if (n.Has("ratio")) n.Float("ratio", 0);
        if (n.Has("is_test")) n.Int("is_test", 1);
        return [n.G.Identity(n.Input(0))];
    }

    private static Output Clip(OnnxNode n)
    {
        double lo, hi;
        if (n.Opset < 11) (lo, hi) = (n.Float("min", double.NegativeInfinity), n.Float("max", double.PositiveInfinity));
        else (lo, hi) = (n.ConstInput(1, "min")?.ToDoubleArray()[0] ?? double.NegativeInfinity, n.ConstInput(2, "max")?.ToDoubleArray()[0] ?? double.PositiveInfinity);
        var x = n.Input(0);
        var g = n.G;
        if (double.IsNegativeInfinity(lo) && double.IsPositiveInfinity(hi)) return g.Identity(x);
        if (double.IsNegativeInfinity(lo)) return g.Minimum(x, g.Scalar(hi, x.DType));
        if (double.IsPositiveInfinity(hi)) return g.Maximum(x, g.Scalar(lo, x.DType));
        return g.Clip(x, lo, hi);
    }

    private static Output Softmax(OnnxNode n)
    {
        var x = n.Input(0);
        var g = n.G;
        var rank = x.Shape.Rank;
        var axis = (int)n.Int("axis", n.Opset >= 13 ? -1 : 1);
        if (axis < -rank || axis >= rank) throw n.Fail($"axis {axis} is out of range for input {x.Shape}");
        if (axis < 0) axis += rank;
        Func<Output, Output> f = n.OpType == "Softmax" ? v => g.Softmax(v) : v => g.LogSoftmax(v);
        if (axis == rank - 1) return f(x);
        if (n.Opset < 13) throw n.Fail($"opset {n.Opset} softmax over axes {axis}.. (flattened) is only supported when axis is the last one");
        var perm = Enumerable.Range(0, rank).ToArray();
        (perm[axis], perm[rank - 1]) = (perm[rank - 1], perm[axis]);
        return g.Transpose(f(g.Transpose(x, perm)), perm);
    }

    private static Output Gemm(OnnxNode n)
    {
        var g = n.G;
        var (a, b) = (n.Input(0), n.Input(1));
        if (a.Shape.Rank != 2 || b.Shape.Rank != 2) throw n.Fail($"Gemm needs rank-2 A and B, got {a.Shape} and {b.Shape}");
        var y = g.MatMul(a, b, n.Int("transA", 0) != 0, n.Int("transB", 0) != 0);
        var alpha = n.Float("alpha", 1.0);
        var beta = n.Float("beta", 1.0);
        if (alpha != 1) y = y * alpha;
        if (n.HasInput(2)) y = beta == 1 ? y + n.Input(2) : y + n.Input(2) * beta;
        return y;
    }
}
