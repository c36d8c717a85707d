using Nabla.Layers;
using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>
/// The reproducers of issue 9 §7, failures found by a seeded fuzzing run, grouped by cause (A–F and
/// "also"). Each asserts the exception type a caller is promised and a message that names the op or
/// shape; before the fixes they gave a wrong result, an OverflowException, an OutOfMemoryException,
/// a NotSupportedException at run time or a NullReferenceException.
/// </summary>
public class FuzzFoundBugTests
{
    private static Output Floats(Graph g, int n) => g.Constant(Tensor.FromArray(Enumerable.Range(1, n).Select(i => (float)i).ToArray(), n));

    private static Dictionary<Output, Tensor> Feed(Output placeholder, Tensor value) => new() { [placeholder] = value };

    // ---- A. Shape products computed in int wrapped to a wrong (or baffling) shape ----

    [Test]
    public void A_TileWhoseProductWrapsToASmallDimensionIsRefused()
    {
        var g = new Graph();
        // 3 × 1431655766 = 2^32 + 2 wrapped to 2: the node had static shape [2] and ran to [0,0].
        Assert.That(() => g.Tile(Floats(g, 3), [1431655766], "tiled"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Tile 'tiled': axis 0 tiled (3·1431655766) is 4294967298, more than 2^31-1 (inputs: float32 [3])"));
        Assert.That(g.FindOperation("tiled"), Is.Null, "the refused node is not in the graph");
    }

    [Test]
    public void A_TileWhoseProductWrapsToMinusOneIsRefused()
    {
        var g = new Graph();
        Assert.That(() => g.Tile(Floats(g, 3), [1431655765]), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("Tile 'Tile': axis 0 tiled (3·1431655765) is 4294967295, more than 2^31-1"));
    }

    [Test]
    public void A_TileWhoseDimsFitButWhoseElementCountDoesNotIsRefused()
    {
        var g = new Graph();
        var x = g.Constant(Tensor.Zeros(new Shape(2, 2)));
        Assert.That(() => g.Tile(x, [65536, 65536]), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("Tile 'Tile': output 0 would have shape [131072,131072], more than 2^31-1 elements (inputs: float32 [2,2])"));
        // The largest tile that fits still builds.
        Assert.That(g.Tile(Floats(g, 3), [715827882]).Shape, Is.EqualTo(new Shape(2147483646)));
    }

    [Test]
    public void A_TileOfAnUnknownDimensionThatWrapsAtPlanTimeIsRefusedByRun()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1), "x");
        var y = g.Tile(x, [1431655766], "tiled");
        Assert.That(y.Shape, Is.EqualTo(new Shape(-1)));
        using var s = new Session(g);
        Assert.That(() => s.Run(y, Feed(x, Tensor.FromArray([1f, 2, 3], 3))), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("Tile 'tiled': axis 0 tiled (3·1431655766) is 4294967298, more than 2^31-1"));
    }

    [Test]
    public void A_PadPastIntMaxSaysWhichAxisInsteadOfInvalidDimension()
    {
        var g = new Graph();
        Assert.That(() => g.Pad(Floats(g, 3), new[,] { { int.MaxValue, 0 } }, name: "padded"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Pad 'padded': axis 0 padded (3 + 2147483647 + 0) is 2147483650, more than 2^31-1")
            .And.Message.Not.Contains("invalid dimension"));
        Assert.That(() => g.Pad(Floats(g, 1), new[,] { { int.MaxValue, int.MaxValue } }), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("(1 + 2147483647 + 2147483647) is 4294967295"));
    }

    [Test]
    public void A_ConcatPastIntMaxSaysSoInsteadOfInvalidDimension()
    {
        var g = new Graph();
        var big = g.Placeholder(DType.Float32, new Shape(int.MaxValue), "big");
        var one = g.Placeholder(DType.Float32, new Shape(1), "one");
        Assert.That(() => g.Concat([big, one], 0, "joined"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Concat 'joined': the concatenated axis 0 (sum up to input 1) is 2147483648, more than 2^31-1 (inputs: float32 [2147483647], float32 [1])")
            .And.Message.Not.Contains("invalid dimension"));
        Assert.That(() => g.Concat([big, big], 0), Throws.TypeOf<ShapeException>().With.Message.Contains("is 4294967294"));
    }

    [Test]
    public void A_BroadcastToMoreThanIntMaxElementsIsRefused()
    {
        var g = new Graph();
        Assert.That(() => g.BroadcastTo(Floats(g, 1), new Shape(65536, 65536), "wide"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("BroadcastTo 'wide': output 0 would have shape [65536,65536], more than 2^31-1 elements"));
    }

    [Test]
    public void A_ReshapeToMoreThanIntMaxElementsIsRefused()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1), "x");
        Assert.That(() => g.Reshape(x, [65536, 65536]), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Reshape 'Reshape': output 0 would have shape [65536,65536], more than 2^31-1 elements (inputs: float32 [?])"));
        // A product beyond long (2^64) saturates instead of wrapping to a size that might match.
        Assert.That(() => g.Reshape(Floats(g, 1), [65536, 65536, 65536, 65536, 0 + 1]), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("cannot reshape [1] (1 elements)"));
    }

    [Test]
    public void A_BatchedMatMulWhoseOutputOrBroadcastCopyIsTooLargeIsRefused()
    {
        var g = new Graph();
        var a = g.Constant(Tensor.Zeros(new Shape(65536, 1, 1, 1)));
        var b = g.Constant(Tensor.Zeros(new Shape(1, 65536, 1, 1)));
        Assert.That(() => g.MatMul(a, b, name: "bmm"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("MatMul 'bmm': broadcasting [65536,1,1,1] over the batch [65536,65536] needs a [65536,65536,1,1] copy, more than 2^31-1 elements"));
        // With no broadcast copy (both batches are [1,1]) the output alone is too large.
        var col = g.Constant(Tensor.Zeros(new Shape(1, 1, 65536, 1)));
        var row = g.Constant(Tensor.Zeros(new Shape(1, 1, 1, 65536)));
        Assert.That(() => g.MatMul(col, row, name: "outer"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("MatMul 'outer': output 0 would have shape [1,1,65536,65536], more than 2^31-1 elements"));

        // Output [32768,32768,1,1] fits (2^30), but a is copied over the whole batch: [32768,32768,1,32768].
        var pa = g.Placeholder(DType.Float32, new Shape(32768, 1, 1, 32768), "pa");
        var pb = g.Placeholder(DType.Float32, new Shape(1, 32768, 32768, 1), "pb");
        Assert.That(() => g.MatMul(pa, pb, name: "bmm2"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("MatMul 'bmm2': broadcasting [32768,1,1,32768] over the batch [32768,32768] needs a [32768,32768,1,32768] copy, more than 2^31-1 elements"));
    }

    [Test]
    public void A_RandomOfMoreThanIntMaxElementsIsRefused()
    {
        var g = new Graph();
        Assert.That(() => g.RandomUniform(new Shape(65536, 65536), name: "noise"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Random 'noise': output 0 would have shape [65536,65536], more than 2^31-1 elements"));
    }

    // ---- B. Slice's bounds check wrapped ----

    [Test]
    public void B_SliceWhoseBeginPlusSizeWrapsIsRefusedWhenBuilt()
    {
        var g = new Graph();
        // 1 + int.MaxValue wrapped negative and passed "≤ 3": static shape [2147483647], then OutOfMemory at Run.
        Assert.That(() => g.Slice(Floats(g, 3), [1], [int.MaxValue], "cut"), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("Slice 'cut': begin [1] size [2147483647] does not fit in [3] on axis 0 (size 3)"));
    }

    [Test]
    public void B_SliceOfAnUnknownDimensionIsRefusedWhenThePlanIsCompiled()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1), "x");
        var y = g.Slice(x, [1], [int.MaxValue], "cut");
        using var s = new Session(g);
        Assert.That(() => s.Run(y, Feed(x, Tensor.FromArray([1f, 2, 3], 3))), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("Slice 'cut': begin [1] size [2147483647] does not fit in [3] on axis 0 (size 3)"));
        // A slice that fits still runs with the same feed.
        Assert.That(s.Run(g.Slice(x, [1], [2]), Feed(x, Tensor.FromArray([1f, 2, 3], 3))).ToArray<float>(), Is.EqualTo(new[] { 2f, 3 }));
    }

    // ---- C. OverflowException escaped from Shape.Size ----

    [Test]
    public void C_AVariableOfMoreThanIntMaxElementsIsAShapeException()
    {
        var g = new Graph();
        Assert.That(() => g.Variable(new Shape(65536, 65536), DType.Float32, Initializer.Zeros, "huge"), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Variable 'huge': output 0 would have shape [65536,65536], more than 2^31-1 elements"));
        Assert.That(g.Variables, Is.Empty);
    }

    [Test]
    public void C_SessionRunOfAShapeThatOverflowsOnlyWithTheFeedIsAShapeException()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, -1), "x");
        var y = g.Tile(x, [65536, 65536], "tiled");
        using var s = new Session(g);
        Assert.That(() => s.Run(y, Feed(x, Tensor.Zeros(new Shape(1, 1)))), Throws.TypeOf<ShapeException>()
            .With.Message.StartsWith("Tile 'tiled': output 0 would have shape [65536,65536], more than 2^31-1 elements (inputs: float32 [1,1])"));
        // An empty feed makes an empty, valid output.
        Assert.That(s.Run(y, Feed(x, Tensor.Zeros(new Shape(0, 1)))).Shape, Is.EqualTo(new Shape(0, 65536)));
    }

    [Test]
    public void C_ShapeSizeOfMoreThanIntMaxElementsIsAShapeException()
    {
        Assert.That(() => new Shape(65536, 65536).Size, Throws.TypeOf<ShapeException>().With.Message.EqualTo("shape [65536,65536] has more than 2^31-1 elements"));
        // A product past 2^63 neither wraps nor throws something else.
        Assert.That(() => new Shape(int.MaxValue, int.MaxValue, int.MaxValue).Size, Throws.TypeOf<ShapeException>());
        Assert.That(new Shape(int.MaxValue, int.MaxValue, 0).Size, Is.Zero);
        Assert.That(new Shape(int.MaxValue).Size, Is.EqualTo(int.MaxValue));
    }

    private static IEnumerable<TestCaseData> HostFactories()
    {
        var huge = new Shape(65536, 65536);
        yield return new TestCaseData((Action)(() => Tensor.Zeros(huge))).SetName("C_TensorZerosOfTooManyElements");
        yield return new TestCaseData((Action)(() => Tensor.Ones(huge))).SetName("C_TensorOnesOfTooManyElements");
        yield return new TestCaseData((Action)(() => Tensor.Fill(huge, 2))).SetName("C_TensorFillOfTooManyElements");
        yield return new TestCaseData((Action)(() => Tensor.RandomUniform(huge))).SetName("C_TensorRandomUniformOfTooManyElements");
        yield return new TestCaseData((Action)(() => Tensor.RandomNormal(huge, dtype: DType.Float64))).SetName("C_TensorRandomNormalOfTooManyElements");
    }

    [TestCaseSource(nameof(HostFactories))]
    public void HostTensorFactoriesRefuseTooManyElementsWithAnArgumentException(Action make) =>
        Assert.That(() => make(), Throws.TypeOf<ArgumentException>().With.Message.StartsWith("shape [65536,65536] has 4294967296 elements; a host tensor holds at most 2147483591")
            .And.Property(nameof(ArgumentException.ParamName)).EqualTo("shape"));

    [Test]
    public void C_HostTensorFactoriesRefuseUnknownDimensions()
    {
        Assert.That(() => Tensor.Zeros(new Shape(-1, 3)), Throws.TypeOf<ArgumentException>().With.Message.StartsWith("a tensor's shape must be fully defined, got [?,3]"));
        Assert.That(() => Tensor.Fill(new Shape(-1), 1), Throws.TypeOf<ArgumentException>().With.Message.StartsWith("a tensor's shape must be fully defined, got [?]"));
    }

    // ---- D. OutOfMemoryException instead of a refusal ----

    [Test]
    public void D_OneHotWithAHugeDepthIsRefusedBeforeAnythingIsAllocated()
    {
        var g = new Graph();
        var indices = g.Constant(Tensor.FromArray([0, 1], 2));
        Assert.That(() => g.OneHot(indices, int.MaxValue), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("OneHot 'one_hot': depth 2147483647 is more than 16777216 (the positions 0..depth-1 are a build-time constant)"));
        var unknown = g.Placeholder(DType.Int32, new Shape(-1), "labels");
        Assert.That(() => g.OneHot(unknown, 16_777_217), Throws.TypeOf<ShapeException>().With.Message.Contains("depth 16777217 is more than 16777216"));
        // Within the depth limit, an output that could not be held is refused too.
        var many = g.Placeholder(DType.Int32, new Shape(1024, 1024), "many");
        Assert.That(() => g.OneHot(many, 4096, name: "wide"), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("OneHot 'wide': output [1024,1024] + [4096] would have more than 2^31-1 elements"));
        using var s = new Session(g);
        Assert.That(s.Run(g.OneHot(indices, 3)).ToArray<float>(), Is.EqualTo(new[] { 1f, 0, 0, 0, 1, 0 }));
    }

    [Test]
    public void D_SplitIntoAHugeNumberOfPiecesIsRefusedBeforeAnythingIsAllocated()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1), "x");
        Assert.That(() => g.Split(x, int.MaxValue, name: "pieces"), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("Split 'pieces': num_split 2147483647 is more than the 65536 outputs a split may have"));
        // An empty axis divides by any count, so the count alone must be bounded.
        var empty = g.Placeholder(DType.Float32, new Shape(0), "empty");
        Assert.That(() => g.Split(empty, 65_537), Throws.TypeOf<ShapeException>().With.Message.Contains("num_split 65537"));
        Assert.That(g.Split(empty, 4), Has.Length.EqualTo(4));
        Assert.That(() => g.Split(x, new int[65_537]), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("sizes name 65537 pieces, more than the 65536 outputs a split may have"));
        var long1 = g.Placeholder(DType.Float32, new Shape(70000), "long");
        Assert.That(() => g.Unstack(long1), Throws.TypeOf<ShapeException>()
            .With.Message.EqualTo("Unstack 'unstack': axis 0 of [70000] has 70000 slices, more than the 65536 outputs a split may have"));
    }

    [Test]
    public void D_SplitSizesThatOverflowIntWhenSummedAreRefused()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3), "x");
        // int.MaxValue + int.MaxValue + 5 wrapped to 3 and "added up".
        Assert.That(() => g.Split(x, [int.MaxValue, int.MaxValue, 5]), Throws.TypeOf<ShapeException>()
            .With.Message.Contains("add up to 4294967299, but axis 0 of [3] has size 3"));
    }

    [TestCase(0, double.PositiveInfinity, 1, "start, limit and delta must be finite")]
    [TestCase(0, 1e10, 1, "would have 1E+10 values; a host tensor holds at most 2147483591")]
    [TestCase(0, 1, 1e-300, "would have 1E+300 values")]
    [TestCase(double.NaN, 1, 1, "must be finite")]
    [TestCase(0, 1, double.NegativeInfinity, "must be finite")]
    public void D_TensorRangeWithTooManyValuesIsAnArgumentException(double start, double limit, double delta, string message) =>
        Assert.That(() => Tensor.Range(start, limit, delta), Throws.TypeOf<ArgumentException>().With.Message.Contains(message));

    [Test]
    public void D_TensorRangeAndLinspaceStillWorkAndRefuseHugeCounts()
    {
        Assert.That(Tensor.Range(0, 5).ToArray<float>(), Is.EqualTo(new[] { 0f, 1, 2, 3, 4 }));
        Assert.That(Tensor.Range(5, 0).Shape, Is.EqualTo(new Shape(0)));
        Assert.That(() => Tensor.Linspace(0, 1, int.MaxValue), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("at most 2147483591"));
    }

    // ---- E. AssignAdd / AssignSub on bool failed only at run time ----

    [TestCase("AssignAdd")]
    [TestCase("AssignSub")]
    public void E_AccumulatingIntoABoolVariableIsRefusedWhenBuilt(string op)
    {
        var g = new Graph();
        var flag = g.Variable(Tensor.FromArray([true, false], 2), "flag");
        var delta = g.Constant(Tensor.FromArray([true, true], 2));
        Func<Output> build = op == "AssignAdd" ? () => flag.AssignAdd(delta, "acc") : () => flag.AssignSub(delta, "acc");
        Assert.That(() => build(), Throws.TypeOf<ShapeException>().With.Message.EqualTo($"{op} 'acc': variable 'flag' is bool [2]; {op} needs a numeric variable"));
        // Plain assignment of a bool variable is fine.
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(s.Run(g.AssignOp("Assign", flag.Value.Op, delta)[0]).ToArray<bool>(), Is.EqualTo(new[] { true, true }));
    }

    // ---- F. default(Output) arguments threw NullReferenceException ----

    private static IEnumerable<TestCaseData> DefaultOutputArguments()
    {
        TestCaseData Case(string name, Action<Graph, Output> build, string message) =>
            new TestCaseData(build, message).SetName("F_DefaultOutputIn" + name);
        var d = default(Output);
        yield return Case("GradientsYs", (g, x) => g.Gradients(d, x), "Gradients: ys[0] is a default(Output)");
        yield return Case("GradientsXs", (g, x) => g.Gradients(g.ReduceSum(x), d), "Gradients: xs[0] is a default(Output)");
        yield return Case("GradientsGradYs", (g, x) => g.Gradients([g.ReduceSum(x)], [x], [d]), "Gradients: gradYs[0] is a default(Output)");
        yield return Case("GradientsGradYsCount", (g, x) => g.Gradients([g.ReduceSum(x)], [x], []), "Gradients: 0 gradYs for 1 ys");
        yield return Case("Stack", (g, x) => g.Stack([x, d]), "Stack: values[1] is a default(Output)");
        yield return Case("Unstack", (g, _) => g.Unstack(d), "Unstack: x is a default(Output)");
        yield return Case("Transpose", (g, _) => g.Transpose(d), "Transpose: x is a default(Output)");
        yield return Case("Squeeze", (g, _) => g.Squeeze(d), "Squeeze: x is a default(Output)");
        yield return Case("PlusLeft", (g, x) => g.Identity(d + x), "Add: an input is a default(Output)");
        yield return Case("PlusRight", (g, x) => g.Identity(x + d), "Add: an input is a default(Output)");
        yield return Case("PlusBoth", (_, _) => _ = d + d, "operator +: both operands are default(Output)");
        yield return Case("MinusUnary", (_, _) => _ = -d, "operator -: the operand is a default(Output)");
        yield return Case("TimesScalar", (_, _) => _ = d * 2.0, "operator *: the operand is a default(Output)");
        yield return Case("ScalarDivide", (_, _) => _ = 2.0 / d, "operator /: the operand is a default(Output)");
        yield return Case("PowScalar", (g, _) => g.Pow(d, 2.0), "Pow: a is a default(Output)");
        yield return Case("Clip", (g, _) => g.Clip(d, 0, 1), "Clip: x is a default(Output)");
        yield return Case("LeakyRelu", (g, _) => g.LeakyRelu(d), "LeakyRelu: x is a default(Output)");
        yield return Case("OneHot", (g, _) => g.OneHot(d, 3), "OneHot: indices is a default(Output)");
        yield return Case("RandomUniformLike", (g, _) => g.RandomUniformLike(d), "RandomUniformLike: like is a default(Output)");
        yield return Case("DropoutMask", (g, _) => g.DropoutMask(d, 0.5), "DropoutMask: x is a default(Output)");
        yield return Case("SigmoidCrossEntropy", (g, x) => g.SigmoidCrossEntropyWithLogits(d, x), "SigmoidCrossEntropyWithLogits: labels is a default(Output)");
    }

    [TestCaseSource(nameof(DefaultOutputArguments))]
    public void DefaultOutputArgumentsAreAnArgumentException(Action<Graph, Output> build, string message)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3), "x");
        var before = g.Operations.Count;
        Assert.That(() => build(g, x), Throws.TypeOf<ArgumentException>().With.Message.StartsWith(message));
        Assert.That(g.Operations.Count, Is.LessThanOrEqualTo(before + 1), "at most a helper constant was added before the refusal");
    }

    /// <summary>
    /// Every public Graph builder, called with plain valid arguments except one Output (or one element of an
    /// Output[]) left default: the refusal is an ArgumentException, never a NullReferenceException.
    /// </summary>
    [Test]
    public void F_EveryPublicBuilderRefusesADefaultOutputWithAnArgumentException()
    {
        var checkedCalls = 0;
        var failures = new List<string>();
        var builders = typeof(Graph).GetMethods(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance)
            .Where(m => !m.IsGenericMethodDefinition && m.GetParameters().Any(p => p.ParameterType == typeof(Output) || p.ParameterType == typeof(Output[])));
        foreach (var method in builders)
        {
            var parameters = method.GetParameters();
            for (var target = 0; target < parameters.Length; target++)
            {
                if (parameters[target].ParameterType != typeof(Output) && parameters[target].ParameterType != typeof(Output[])) continue;
                var g = new Graph();
                var x = g.Placeholder(DType.Float32, new Shape(2, 3), "x");
                var args = parameters.Select((p, i) => i == target
                    ? (p.ParameterType == typeof(Output) ? default(Output) : new[] { x, default })
                    : PlainArgument(g, p, x)).ToArray();
                checkedCalls++;
                try
                {
                    method.Invoke(g, args);
                    failures.Add($"{method.Name}({parameters[target].Name} = default) built a node");
                }
                catch (System.Reflection.TargetInvocationException e) when (e.InnerException is ArgumentException) { }
                catch (System.Reflection.TargetInvocationException e)
                {
                    failures.Add($"{method.Name}({parameters[target].Name} = default): {e.InnerException!.GetType().Name}: {e.InnerException.Message}");
                }
            }
        }
        Assert.That(failures, Is.Empty, string.Join("\n", failures));
        Assert.That(checkedCalls, Is.GreaterThan(100), "the builders were found");
    }

    private static object? PlainArgument(Graph g, System.Reflection.ParameterInfo p, Output x)
    {
        var t = p.ParameterType;
        if (t == typeof(Variable)) return g.Variable(Tensor.Zeros(new Shape(2, 3)), p.Name);
        if (t == typeof(Output)) return x;
        if (t == typeof(Output[])) return new[] { x };
        if (t == typeof(Output?)) return null;
        if (t == typeof(int)) return p.HasDefaultValue ? p.DefaultValue : 1;
        if (t == typeof(int[]) || t == typeof(int?[])) return new[] { 0, 0 };
        if (t == typeof(int[,])) return new int[2, 2];
        if (t == typeof(double)) return p.HasDefaultValue ? p.DefaultValue : 0.5;
        if (t == typeof(Shape)) return new Shape(2, 3);
        if (p.HasDefaultValue) return p.DefaultValue;
        if (t == typeof(string)) return "n";
        if (t == typeof(DType)) return DType.Float32;
        if (t.IsValueType) return Activator.CreateInstance(t);
        return null;
    }

    // ---- Also: a checkpoint whose keras.weight_order repeats a name ----

    [Test]
    public void Also_LoadWeightsOfAFileWhoseWeightOrderRepeatsANameIsACheckpointException()
    {
        var dir = Directory.CreateTempSubdirectory("nabla-fuzzbugs-").FullName;
        try
        {
            Keras.ClearSession();
            Sequential Mlp() => new([new Dense(4, "relu", inputShape: [3]), new Dense(2)]);
            var saved = Mlp();
            var path = Path.Combine(dir, "w.safetensors");
            saved.SaveWeights(path);
            var tensors = Checkpoint.Load(path, out var metadata);
            var order = metadata["keras.weight_order"].Split('\n');
            Assert.That(order, Has.Length.EqualTo(4));
            order[3] = order[0];
            var bad = Path.Combine(dir, "repeated.safetensors");
            // The nabla.* keys (format, checksums) are the writer's own; the rest is carried over with the order edited.
            var edited = metadata.Where(kv => !kv.Key.StartsWith("nabla.", StringComparison.Ordinal)).ToDictionary();
            edited["keras.weight_order"] = string.Join("\n", order);
            Checkpoint.Save(bad, tensors, edited);

            // Other layer names: the file is matched by position, where the repeat used to map two weights to one name.
            var target = Mlp();
            Assert.That(target.Layers[0].Name, Is.Not.EqualTo(saved.Layers[0].Name));
            var before = target.GetWeights().Select(w => w.ToArray<float>()).ToArray();
            Assert.That(() => target.LoadWeights(bad), Throws.TypeOf<CheckpointException>()
                .With.Message.EqualTo($"checkpoint '{bad}': its keras.weight_order lists the weight '{order[0]}' 2 times")
                .And.Property(nameof(CheckpointException.FilePath)).EqualTo(bad));
            Assert.That(target.GetWeights().Select(w => w.ToArray<float>()).ToArray(), Is.EqualTo(before), "the model is unchanged");
            // The same names matched by name also refuse (the repeat is in the file, whatever the model).
            Assert.That(() => saved.LoadWeights(bad), Throws.TypeOf<CheckpointException>());
        }
        finally
        {
            Keras.ClearSession();
            Directory.Delete(dir, recursive: true);
        }
    }
}
