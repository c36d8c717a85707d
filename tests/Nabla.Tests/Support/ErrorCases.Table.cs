namespace Nabla.Tests.Support;

public static partial class ErrorCases
{
    private const string NotFloating = "must be float32 or float64";

    private static Output Unary(Graph g, string op, Output x) => op switch
    {
        "Sqrt" => g.Sqrt(x), "Rsqrt" => g.Rsqrt(x), "Reciprocal" => g.Reciprocal(x), "Exp" => g.Exp(x), "Expm1" => g.Expm1(x),
        "Log" => g.Log(x), "Log1p" => g.Log1p(x), "Sin" => g.Sin(x), "Cos" => g.Cos(x), "Tanh" => g.Tanh(x),
        "Sigmoid" => g.Sigmoid(x), "Relu" => g.Relu(x), "Softplus" => g.Softplus(x), "Erf" => g.Erf(x),
        "Neg" => g.Neg(x), "Abs" => g.Abs(x), "Sign" => g.Sign(x), "Square" => g.Square(x), "LogicalNot" => g.LogicalNot(x),
        _ => throw new ArgumentException(op),
    };

    private static Output Binary(Graph g, string op, Output a, Output b) => op switch
    {
        "Add" => g.Add(a, b), "Sub" => g.Sub(a, b), "Mul" => g.Mul(a, b), "Div" => g.Div(a, b), "Pow" => g.Pow(a, b),
        "Maximum" => g.Maximum(a, b), "Minimum" => g.Minimum(a, b), "Equal" => g.Equal(a, b), "NotEqual" => g.NotEqual(a, b),
        "Less" => g.Less(a, b), "LessEqual" => g.LessEqual(a, b), "Greater" => g.Greater(a, b), "GreaterEqual" => g.GreaterEqual(a, b),
        "LogicalAnd" => g.LogicalAnd(a, b), "LogicalOr" => g.LogicalOr(a, b), "LogicalXor" => g.LogicalXor(a, b),
        _ => throw new ArgumentException(op),
    };

    /// <summary>Builders of ops that accept any dtype and shape.</summary>
    private static Output AcceptsAny(Graph g, string op, Output x) => op switch
    {
        "Identity" => g.Identity(x), "StopGradient" => g.StopGradient(x), "OnesLike" => g.OnesLike(x), "ZerosLike" => g.ZerosLike(x),
        "Cast" => g.Cast(x, DType.Int32), _ => Unary(g, op, x),
    };

    private static Variable V(Graph g, DType dtype = DType.Float32, params int[] shape) =>
        g.Variable(Tensor.Zeros(new Shape(shape.Length == 0 ? [3] : shape), dtype), $"v{g.Operations.Count}");

    private static Output S(Graph g, double v = 0.1) => g.Scalar(v, DType.Float64);

    /// <summary>Running a [?,3] float32 placeholder with a bad feed (<paramref name="feeds"/> of the graph and the placeholder).</summary>
    private static ErrorCase Feed(string label, Func<Graph, Output, Dictionary<Output, Tensor>> feeds, string message) =>
        new("Placeholder", label, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "images");
            using var s = new Session(g, Device.Reference);
            s.Run(g.Neg(x), feeds(g, x));
        }, typeof(FeedException), message);

    private static IEnumerable<ErrorCase> Cases()
    {
        string[] floatUnary = ["Sqrt", "Rsqrt", "Reciprocal", "Exp", "Expm1", "Log", "Log1p", "Sin", "Cos", "Tanh", "Sigmoid", "Relu", "Softplus", "Erf"];
        foreach (var op in floatUnary)
            foreach (var dt in new[] { DType.Int32, DType.Int64, DType.Bool })
                yield return Shape(op, $"{dt.Name()} input", g => Unary(g, op, Of(g, dt, 3)), $"dtype {dt.Name()} is not supported");
        foreach (var op in new[] { "Neg", "Abs", "Sign", "Square" })
            yield return Shape(op, "bool input", g => Unary(g, op, Of(g, DType.Bool, 3)), "bool");
        // Ops that accept every dtype and shape: their bad inputs are arguments that are not outputs of this graph.
        foreach (var op in new[] { "Neg", "Abs", "Sign", "Square", "Identity", "StopGradient", "OnesLike", "ZerosLike", "Cast" })
        {
            yield return new(op, "default(Output) input", g => AcceptsAny(g, op, default), typeof(ArgumentException), "default(Output)");
            yield return new(op, "input from another graph", g => AcceptsAny(g, op, new Graph().Placeholder(DType.Float32, new Shape(3), "elsewhere")),
                typeof(ArgumentException), "belongs to another graph");
        }
        yield return new("Const", "null value", g => g.Constant(null!), typeof(ArgumentNullException), "Const value");
        yield return new("NoOp", "null list", g => g.Group(null!), typeof(ArgumentNullException), "NoOp ops");
        yield return new("NoOp", "null op", g => g.Group([g.Neg(F32(g, 3)).Op, null!]), typeof(ArgumentException), "a control input is null");
        yield return new("NoOp", "op from another graph", g => g.Group([new Graph().Placeholder(DType.Float32, new Shape(3), "elsewhere").Op]),
            typeof(ArgumentException), "control input 'elsewhere' belongs to another graph");
        yield return Shape("Variable", "initial value of another dtype", g => g.Variable(new Shape(2, 2), DType.Float32, Initializer.Constant(Tensor.Zeros(new Shape(2, 2), DType.Float64)), "weights"),
            "Variable 'weights': initial value float64 [2,2] does not match variable float32 [2,2]");
        foreach (var dt in new[] { DType.Float32, DType.Int32, DType.Int64 })
            yield return Shape("LogicalNot", $"{dt.Name()} input", g => Unary(g, "LogicalNot", Of(g, dt, 3)), dt.Name());

        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual" })
        {
            yield return Shape(op, "float32 with float64", g => Binary(g, op, Of(g, DType.Float32, 3), Of(g, DType.Float64, 3)), "differ");
            yield return Shape(op, "[3] with [4]", g => Binary(g, op, F32(g, 3), Of(g, DType.Float32, 4)), "cannot be broadcast");
            yield return Shape(op, "[2,3] with [3,2]", g => Binary(g, op, F32(g, 2, 3), Of(g, DType.Float32, 3, 2)), "cannot be broadcast");
        }
        foreach (var op in new[] { "Add", "Sub", "Mul", "Div", "Pow", "Maximum", "Minimum", "Less", "LessEqual", "Greater", "GreaterEqual" })
            yield return Shape(op, "bool inputs", g => Binary(g, op, Of(g, DType.Bool, 3), Of(g, DType.Bool, 3)), "bool");
        yield return Shape("Pow", "int32 inputs", g => Binary(g, "Pow", Of(g, DType.Int32, 3), Of(g, DType.Int32, 3)), "int32");
        foreach (var op in new[] { "LogicalAnd", "LogicalOr", "LogicalXor" })
        {
            yield return Shape(op, "float32 inputs", g => Binary(g, op, F32(g, 3), Of(g, DType.Float32, 3)), "float32");
            yield return Shape(op, "int32 inputs", g => Binary(g, op, Of(g, DType.Int32, 3), Of(g, DType.Int32, 3)), "int32");
            yield return Shape(op, "[3] with [4]", g => Binary(g, op, Of(g, DType.Bool, 3), Of(g, DType.Bool, 4)), "cannot be broadcast");
        }

        yield return Shape("Select", "float condition", g => g.Select(F32(g, 3), Of(g, DType.Float32, 3), Of(g, DType.Float32, 3)), "condition must be bool");
        yield return Shape("Select", "branches differ in dtype", g => g.Select(Of(g, DType.Bool, 3), Of(g, DType.Float32, 3), Of(g, DType.Float64, 3)), "differ");
        yield return Shape("Select", "[3] branches with a [4] condition", g => g.Select(Of(g, DType.Bool, 4), Of(g, DType.Float32, 3), Of(g, DType.Float32, 3)), "cannot be broadcast");
        yield return Shape("Cast", "undefined target dtype", g => g.Cast(F32(g, 3), (DType)99), "unknown target dtype 99");

        yield return Shape("MatMul", "inner dimensions differ", g => g.MatMul(F32(g, 2, 3), Of(g, DType.Float32, 4, 2)), "inner dimensions differ");
        yield return Shape("MatMul", "rank 1", g => g.MatMul(F32(g, 3), Of(g, DType.Float32, 3, 4)), "rank ≥ 2");
        yield return Shape("MatMul", "int32", g => g.MatMul(Of(g, DType.Int32, 2, 3), Of(g, DType.Int32, 3, 2)), NotFloating);
        yield return Shape("MatMul", "mixed dtypes", g => g.MatMul(F32(g, 2, 3), Of(g, DType.Float64, 3, 2)), "dtypes differ");

        foreach (var (op, f) in new (string, Func<Graph, Output, int[], Output>)[]
        {
            ("Sum", (g, x, a) => g.ReduceSum(x, a)), ("Mean", (g, x, a) => g.ReduceMean(x, a)), ("Max", (g, x, a) => g.ReduceMax(x, a)),
            ("Min", (g, x, a) => g.ReduceMin(x, a)), ("Prod", (g, x, a) => g.ReduceProd(x, a)),
            ("ReducedCount", (g, x, a) => g.ReducedCount(x, a, DType.Float32)),
        })
        {
            yield return Shape(op, "axis 2 of a matrix", g => f(g, F32(g, 2, 3), [2]), "out of range");
            yield return Shape(op, "axis −3 of a matrix", g => f(g, F32(g, 2, 3), [-3]), "out of range");
            yield return Shape(op, "repeated axis", g => f(g, F32(g, 2, 3), [1, -1]), "repeated");
        }
        foreach (var (op, f) in new (string, Func<Graph, Output, int, Output>)[] { ("ArgMax", (g, x, a) => g.ArgMax(x, a)), ("ArgMin", (g, x, a) => g.ArgMin(x, a)) })
        {
            yield return Shape(op, "axis out of range", g => f(g, F32(g, 2, 3), 2), "out of range");
            yield return Shape(op, "scalar", g => f(g, F32(g), -1), "scalar");
            yield return Shape(op, "empty axis", g => f(g, F32(g, 0, 3), 0), "empty");
            yield return Shape(op, "bool", g => f(g, Of(g, DType.Bool, 3), 0), "bool");
        }

        yield return Shape("Reshape", "element count differs", g => g.Reshape(F32(g, 2, 3), [4, 2]), "cannot reshape");
        yield return Shape("Reshape", "two −1", g => g.Reshape(F32(g, 2, 3), [-1, -1]), "only one -1");
        yield return Shape("Reshape", "negative dimension", g => g.Reshape(F32(g, 2, 3), [-2, 3]), "dimensions must be ≥ 0");
        yield return Shape("ReshapeLike", "element counts differ", g => g.ReshapeLike(F32(g, 2, 3), Of(g, DType.Float32, 4, 2)), "cannot reshape");
        yield return Shape("ExpandDims", "axis too large", g => g.ExpandDims(F32(g, 2, 3), 4), "out of range");
        yield return Shape("ExpandDims", "axis 1 of a scalar", g => g.ExpandDims(F32(g), 1), "out of range");
        yield return Shape("Squeeze", "empty axis", g => g.Squeeze(F32(g, 0, 3), [0]), "its size is 0");
        yield return Shape("ReshapeLike", "6 elements like 7", g => g.ReshapeLike(F32(g, 2, 3), Of(g, DType.Float32, 7)), "cannot reshape");
        yield return Shape("ReshapeLike", "empty like non-empty", g => g.ReshapeLike(F32(g, 0, 3), Of(g, DType.Float32, 2)), "cannot reshape");
        yield return Shape("SplitLike", "pieces exceed the axis", g => g.SplitLike(F32(g, 5, 3), [Of(g, DType.Float32, 3, 3), Of(g, DType.Float32, 3, 3)], 0), "add up to 6");
        yield return Shape("TileGrad", "too few multiples", g => g.TileGrad(F32(g, 4, 6), Of(g, DType.Float32, 2, 3), [2]), "has 1 entries");
        yield return Shape("Cast", "negative target dtype", g => g.Cast(F32(g, 3), (DType)(-1)), "unknown target dtype -1");
        yield return Shape("AssignAdd", "int into a float variable", g => V(g).AssignAdd(Of(g, DType.Int32, 3)), "value dtype int32 differs");
        yield return Shape("AssignSub", "int into a float variable", g => V(g).AssignSub(Of(g, DType.Int32, 3)), "value dtype int32 differs");
        yield return Shape("Variable", "unknown dimension", g => g.Variable(new Shape(-1, 3), DType.Float32, Initializer.Zeros), "must be fully defined");
        yield return new("Variable", "read before its initializer ran", g =>
        {
            var v = g.Variable(Tensor.Zeros(new Shape(3), DType.Float32), "weights");
            using var s = new Session(g, Device.Reference);
            s.Run(v.Value);
        }, typeof(InvalidArgumentException), "Variable 'weights' is not initialized");
        yield return Feed("not fed", (g, x) => new Dictionary<Output, Tensor>(), "must be fed a float32 tensor of shape [?,3]");
        yield return Feed("fed float64", (g, x) => new() { [x] = Tensor.Zeros(new Shape(2, 3), DType.Float64) }, "got float64 [2,3]");
        yield return Feed("fed [2,4]", (g, x) => new() { [x] = Tensor.Zeros(new Shape(2, 4), DType.Float32) }, "expects a feed of shape [?,3], got [2,4]");
        yield return Shape("ExpandDims", "axis too negative", g => g.ExpandDims(F32(g, 2, 3), -5), "out of range");
        yield return Shape("Squeeze", "axis of size 3", g => g.Squeeze(F32(g, 1, 3), [1]), "cannot squeeze axis 1");
        yield return Shape("Squeeze", "axis out of range", g => g.Squeeze(F32(g, 1, 3), [2]), "out of range");
        yield return Shape("Transpose", "perm too short", g => g.Transpose(F32(g, 2, 3, 4), [1, 0]), "is not a permutation");
        yield return Shape("Transpose", "repeated axis", g => g.Transpose(F32(g, 2, 3, 4), [0, 0, 1]), "is not a permutation");
        yield return Shape("Transpose", "axis out of range", g => g.Transpose(F32(g, 2, 3), [0, 2]), "is not a permutation");

        yield return Shape("Concat", "ranks differ", g => g.Concat([F32(g, 2, 3), Of(g, DType.Float32, 3)], 0), "has rank");
        yield return Shape("Concat", "other axis differs", g => g.Concat([F32(g, 2, 3), Of(g, DType.Float32, 2, 4)], 0), "differs on axis 1");
        yield return Shape("Concat", "dtypes differ", g => g.Concat([F32(g, 2, 3), Of(g, DType.Float64, 2, 3)], 0), "has dtype float64");
        yield return Shape("Concat", "axis out of range", g => g.Concat([F32(g, 2, 3), Of(g, DType.Float32, 2, 3)], 2), "out of range");
        yield return Shape("Split", "not divisible", g => g.Split(F32(g, 5, 3), 2, 0), "does not split into 2 equal pieces");
        yield return Shape("Split", "sizes do not add up", g => g.Split(F32(g, 5, 3), [2, 2], 0), "add up to 4");
        yield return Shape("Split", "two −1 sizes", g => g.Split(F32(g, 5, 3), [-1, -1], 0), "only one size may be -1");
        yield return Shape("Split", "axis out of range", g => g.Split(F32(g, 5, 3), 1, 2), "out of range");
        yield return Shape("SplitLike", "sizes do not add up", g => g.SplitLike(F32(g, 5, 3), [Of(g, DType.Float32, 2, 3), Of(g, DType.Float32, 2, 3)], 0), "add up to 4");
        yield return Shape("SplitLike", "rank of a piece differs", g => g.SplitLike(F32(g, 5, 3), [Of(g, DType.Float32, 5)], 0), "has rank 1");
        yield return Shape("Tile", "too few multiples", g => g.Tile(F32(g, 2, 3), [2]), "has 1 entries");
        yield return Shape("Tile", "negative multiple", g => g.Tile(F32(g, 2, 3), [2, -1]), "must be ≥ 0");
        yield return Shape("Tile", "too many multiples", g => g.Tile(F32(g, 2, 3), [1, 1, 1]), "has 3 entries");
        yield return Shape("TileGrad", "gradient not a tiling", g => g.TileGrad(F32(g, 4, 5), Of(g, DType.Float32, 2, 3), [2, 2]), "is not input");
        yield return Shape("TileGrad", "ranks differ", g => g.TileGrad(F32(g, 4), Of(g, DType.Float32, 2, 3), [2, 2]), "differ in rank");
        yield return Shape("BroadcastTo", "incompatible axis", g => g.BroadcastTo(F32(g, 3), new Shape(2, 4)), "cannot broadcast");
        yield return Shape("BroadcastTo", "lower rank", g => g.BroadcastTo(F32(g, 2, 3), new Shape(3)), "lower-rank");
        yield return Shape("BroadcastTo", "unknown target", g => g.BroadcastTo(F32(g, 3), new Shape(-1, 3)), "fully defined");

        yield return Shape("Slice", "begin too short", g => g.Slice(F32(g, 3, 4), [1], [1, 1]), "need 2 entries");
        yield return Shape("Slice", "negative begin", g => g.Slice(F32(g, 3, 4), [-1, 0], [1, 1]), "begin is negative");
        yield return Shape("Slice", "does not fit", g => g.Slice(F32(g, 3, 4), [2, 0], [2, 1]), "does not fit");
        yield return Shape("Slice", "size below −1", g => g.Slice(F32(g, 3, 4), [0, 0], [-2, 1]), "must be ≥ 0");
        yield return Shape("Pad", "paddings of the wrong rank", g => g.Pad(F32(g, 3, 4), new[,] { { 1, 1 } }), "paddings must be [2,2]");
        yield return Shape("Pad", "negative padding", g => g.Pad(F32(g, 3, 4), new[,] { { 1, 1 }, { -1, 0 } }), "must be ≥ 0");
        yield return Shape("Pad", "three columns", g => g.Pad(F32(g, 3, 4), new[,] { { 1, 1, 1 }, { 0, 0, 0 } }), "paddings must be [2,2]");
        yield return Shape("PadLike", "window does not fit", g => g.PadLike(F32(g, 2, 3), Of(g, DType.Float32, 2, 3), [1, 0]), "does not fit");
        yield return Shape("PadLike", "negative begin", g => g.PadLike(F32(g, 2, 3), Of(g, DType.Float32, 4, 5), [-1, 0]), "is negative");
        yield return Shape("PadLike", "ranks differ", g => g.PadLike(F32(g, 2, 3), Of(g, DType.Float32, 4), [0, 0]), "ranks differ");
        yield return Shape("SliceLike", "window does not fit", g => g.SliceLike(F32(g, 2, 3), Of(g, DType.Float32, 2, 3), [1, 0]), "does not fit");
        yield return Shape("SliceLike", "negative begin", g => g.SliceLike(F32(g, 4, 5), Of(g, DType.Float32, 2, 3), [-1, 0]), "is negative");
        yield return Shape("SliceLike", "ranks differ", g => g.SliceLike(F32(g, 4, 5), Of(g, DType.Float32, 2), [0, 0]), "ranks differ");

        yield return Shape("Gather", "float indices", g => g.Gather(F32(g, 4, 3), Of(g, DType.Float32, 2)), "indices must be int32 or int64");
        yield return Shape("Gather", "scalar params", g => g.Gather(F32(g), Of(g, DType.Int64, 2)), "is a scalar");
        yield return Shape("Gather", "axis out of range", g => g.Gather(F32(g, 4, 3), Of(g, DType.Int64, 2), 2), "out of range");
        yield return Shape("GatherGrad", "gradient shape differs", g => g.GatherGrad(F32(g, 3, 5), Of(g, DType.Int64, 3), Of(g, DType.Float32, 4, 2), 0), "does not match the gather output");
        yield return Shape("GatherGrad", "float indices", g => g.GatherGrad(F32(g, 3, 2), Of(g, DType.Float32, 3), Of(g, DType.Float32, 4, 2), 0), "indices must be int32 or int64");
        yield return Shape("GatherGrad", "scalar params", g => g.GatherGrad(F32(g, 3), Of(g, DType.Int64, 3), Of(g, DType.Float32), 0), "is a scalar");

        foreach (var (op, f) in new (string, Func<Graph, Output, Output>)[] { ("Softmax", (g, x) => g.Softmax(x)), ("LogSoftmax", (g, x) => g.LogSoftmax(x)) })
        {
            yield return Shape(op, "scalar", g => f(g, F32(g)), "scalar");
            yield return Shape(op, "int32", g => f(g, Of(g, DType.Int32, 2, 3)), NotFloating);
            yield return Shape(op, "bool", g => f(g, Of(g, DType.Bool, 2, 3)), NotFloating);
        }
        yield return Shape("SoftmaxCrossEntropyWithLogits", "shapes differ", g => g.SoftmaxCrossEntropyWithLogits(Of(g, DType.Float32, 2, 4), F32(g, 2, 3)), "must have the same shape");
        yield return Shape("SoftmaxCrossEntropyWithLogits", "dtypes differ", g => g.SoftmaxCrossEntropyWithLogits(Of(g, DType.Float64, 2, 3), F32(g, 2, 3)), "must have the dtype of logits");
        yield return Shape("SoftmaxCrossEntropyWithLogits", "int logits", g => g.SoftmaxCrossEntropyWithLogits(Of(g, DType.Int32, 2, 3), Of(g, DType.Int32, 2, 3)), NotFloating);
        yield return Shape("SparseSoftmaxCrossEntropyWithLogits", "float labels", g => g.SparseSoftmaxCrossEntropyWithLogits(Of(g, DType.Float32, 2), F32(g, 2, 3)), "class ids");
        yield return Shape("SparseSoftmaxCrossEntropyWithLogits", "label shape", g => g.SparseSoftmaxCrossEntropyWithLogits(Of(g, DType.Int64, 3), F32(g, 2, 3)), "logits.shape[:-1]");
        yield return Shape("SparseSoftmaxCrossEntropyWithLogits", "int logits", g => g.SparseSoftmaxCrossEntropyWithLogits(Of(g, DType.Int64, 2), Of(g, DType.Int32, 2, 3)), NotFloating);

        yield return Shape("Random", "int32 dtype", g => g.RandomUniform(new Shape(3), dtype: DType.Int32), "int32");
        yield return Shape("Random", "bool dtype", g => g.RandomNormal(new Shape(3), dtype: DType.Bool), "bool");
        yield return Shape("Random", "unknown shape", g => g.RandomUniform(new Shape(-1, 3)), "fully defined");

        yield return Shape("Assign", "dtype differs", g => V(g).Assign(Of(g, DType.Float64, 3)), "value dtype float64 differs");
        yield return Shape("Assign", "shape differs", g => V(g).Assign(Of(g, DType.Float32, 4)), "value shape [4] differs");
        yield return Shape("Assign", "int into a float variable", g => V(g).Assign(Of(g, DType.Int32, 3)), "value dtype int32 differs");
        yield return Shape("AssignAdd", "dtype differs", g => V(g).AssignAdd(Of(g, DType.Float64, 3)), "value dtype float64 differs");
        yield return Shape("AssignAdd", "shape differs", g => V(g).AssignAdd(Of(g, DType.Float32, 4)), "value shape [4] differs");
        yield return Shape("AssignSub", "dtype differs", g => V(g).AssignSub(Of(g, DType.Float64, 3)), "value dtype float64 differs");
        yield return Shape("AssignSub", "shape differs", g => V(g).AssignSub(Of(g, DType.Float32, 4)), "value shape [4] differs");

        yield return Shape("ApplyGradientDescent", "gradient dtype", g => g.ApplyGradientDescent(V(g), Of(g, DType.Float64, 3), S(g)), "gradient dtype float64 differs");
        yield return Shape("ApplyGradientDescent", "gradient shape", g => g.ApplyGradientDescent(V(g), Of(g, DType.Float32, 4), S(g)), "gradient shape [4] differs");
        yield return Shape("ApplyGradientDescent", "vector learning rate", g => g.ApplyGradientDescent(V(g), Of(g, DType.Float32, 3), Of(g, DType.Float64, 2)), "must be a float32 or float64 scalar");
        yield return Shape("ApplyGradientDescent", "int variable", g => g.ApplyGradientDescent(V(g, DType.Int32), Of(g, DType.Int32, 3), S(g)), NotFloating);
        yield return Shape("ApplyMomentum", "gradient shape", g => g.ApplyMomentum(V(g), V(g), Of(g, DType.Float32, 4), S(g), S(g, 0.9)), "gradient shape [4] differs");
        yield return Shape("ApplyMomentum", "slot dtype", g => g.ApplyMomentum(V(g), V(g, DType.Float64), Of(g, DType.Float32, 3), S(g), S(g, 0.9)), "slot momentum_slot");
        yield return Shape("ApplyMomentum", "vector momentum", g => g.ApplyMomentum(V(g), V(g), Of(g, DType.Float32, 3), S(g), Of(g, DType.Float64, 2)), "must be a float32 or float64 scalar");
        yield return Shape("ApplyAdam", "gradient shape", g => g.ApplyAdam(V(g), V(g), V(g), Of(g, DType.Float32, 4), S(g), S(g), S(g), S(g), S(g)), "gradient shape [4] differs");
        yield return Shape("ApplyAdam", "slot shape", g => g.ApplyAdam(V(g), V(g, DType.Float32, 4), V(g), Of(g, DType.Float32, 3), S(g), S(g), S(g), S(g), S(g)), "slot m");
        yield return Shape("ApplyAdam", "int step", g => g.ApplyAdam(V(g), V(g), V(g), Of(g, DType.Float32, 3), S(g), S(g), S(g), S(g), Of(g, DType.Int64)), "must be a float32 or float64 scalar");
        yield return Shape("ApplyNadam", "gradient dtype", g => g.ApplyNadam(V(g), V(g), V(g), Of(g, DType.Float64, 3), S(g), S(g), S(g), S(g), S(g), S(g)), "gradient dtype float64 differs");
        yield return Shape("ApplyNadam", "slot dtype", g => g.ApplyNadam(V(g), V(g), V(g, DType.Float64), Of(g, DType.Float32, 3), S(g), S(g), S(g), S(g), S(g), S(g)), "slot v");
        yield return Shape("ApplyNadam", "vector u-product", g => g.ApplyNadam(V(g), V(g), V(g), Of(g, DType.Float32, 3), S(g), S(g), S(g), S(g), S(g), Of(g, DType.Float64, 3)), "must be a float32 or float64 scalar");
        yield return Shape("ApplyRMSProp", "gradient shape", g => g.ApplyRMSProp(V(g), V(g), null, null, Of(g, DType.Float32, 4), S(g), S(g), S(g), S(g)), "gradient shape [4] differs");
        yield return Shape("ApplyRMSProp", "velocity shape", g => g.ApplyRMSProp(V(g), V(g, DType.Float32, 4), null, null, Of(g, DType.Float32, 3), S(g), S(g), S(g), S(g)), "slot velocity");
        yield return Shape("ApplyRMSProp", "vector rho", g => g.ApplyRMSProp(V(g), V(g), null, null, Of(g, DType.Float32, 3), S(g), Of(g, DType.Float64, 2), S(g), S(g)), "must be a float32 or float64 scalar");

        yield return Shape("SumToShape", "target does not broadcast", g => g.SumToShape(F32(g, 3, 4), Of(g, DType.Float32, 5)), "cannot be broadcast");
        yield return Shape("SumToShape", "target of higher rank", g => g.SumToShape(F32(g, 4), Of(g, DType.Float32, 2, 4)), "cannot sum shape");
        yield return Shape("SumToShape", "size-3 axis onto 2", g => g.SumToShape(F32(g, 3, 4), Of(g, DType.Float32, 2, 4)), "cannot be broadcast");
        yield return Shape("BroadcastLike", "incompatible", g => g.BroadcastLike(F32(g, 3), Of(g, DType.Float32, 4)), "cannot be broadcast");
        yield return Shape("BroadcastLike", "size-2 axis to 3", g => g.BroadcastLike(F32(g, 2, 1), Of(g, DType.Float32, 3, 4)), "cannot be broadcast");
        yield return Shape("BroadcastLike", "to a lower rank", g => g.BroadcastLike(F32(g, 2, 3), Of(g, DType.Float32, 3)), "cannot broadcast");
    }
}
