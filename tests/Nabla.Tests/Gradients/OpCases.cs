using Nabla.Tests.Support;

namespace Nabla.Tests.Gradients;

/// <summary>How a case's gradient is checked.</summary>
public enum GradKind
{
    /// <summary>Not differentiable: the case is a CPU-vs-reference forward comparison only.</summary>
    None,
    /// <summary>Float64 central differences on the reference, and CPU float32 backward against the reference.</summary>
    Checked,
    /// <summary>
    /// The op blocks its gradient on purpose (stop-gradient, random draws: a new draw each run defeats central
    /// differences): the symbolic gradient must be exactly zero, on both devices.
    /// </summary>
    Blocked,
}

/// <summary>
/// One registered op test case: the op type it is about (its built graph must contain that op, which
/// <see cref="OpCaseCoverageTests"/> checks), a function of the inputs, and the float64 inputs. Floating inputs
/// are rounded to float32 once, so that both devices see the same values and only the kernels' rounding differs.
/// </summary>
/// <param name="Op">Registered op type.</param>
/// <param name="Label">Short description, unique per op.</param>
/// <param name="Build">The function; floating placeholders are float32 on the CPU and float64 on the reference.</param>
/// <param name="Inputs">Inputs (floating ones as float64 here).</param>
/// <param name="Grad">How the gradient is checked.</param>
/// <param name="GradRtol">Relative tolerance of the float64 check (atol is <see cref="GradientTolerance.Default"/>'s).</param>
/// <param name="Float32Tol">Tolerance of CPU float32 against the reference, relative to the largest reference magnitude (see <see cref="OpCases.Float32Tolerance"/>).</param>
public sealed record OpCase(string Op, string Label, Build Build, Tensor[] Inputs, GradKind Grad = GradKind.Checked, double GradRtol = 1e-6, double Float32Tol = OpCases.Float32Tolerance)
{
    /// <inheritdoc/>
    public override string ToString() => $"{Op}: {Label}";
}

/// <summary>The registry of op cases: one or more per registered op type.</summary>
public static partial class OpCases
{
    /// <summary>
    /// CPU float32 against reference float64, per element: |cpu − ref| ≤ tol·(|ref| + max|ref|). Inputs are the
    /// same float32 values on both devices, so only kernel rounding differs. Each float32 op rounds once (unit
    /// roundoff ε = 6e-8, a few ulp for the vectorised exp/log/tanh/erf); an element is a chain of ≲ 10 such ops or
    /// a sum of k terms, whose rounding error is at most k·ε·Σ|terms|. With inputs and weights O(1), Σ|terms| is of
    /// the order of max|ref|, so 64·ε ≈ 4e-6 of (|ref| + max|ref|) bounds the error. Measured worst over all cases:
    /// 1.7e-7 (Softmax), ~20× inside; a wrong gradient term is off by O(1).
    /// </summary>
    public const double Float32Tolerance = 4e-6;

    private static Tensor U(int[] shape, ulong seed = 1, double lo = -2, double hi = 2) => OpHarness.Uniform(shape, lo, hi, seed);

    private static Tensor Pos(int[] shape, ulong seed = 1) => OpHarness.Uniform(shape, 0.3, 2, seed);

    private static Tensor Away(int[] shape, ulong seed = 1) => OpHarness.AwayFromZero(shape, seed);

    /// <summary>Rows of positive values summing to 1 (in float64; float32 rounding moves the sums by ~1e-7 only).</summary>
    private static Tensor Distributions(int rows, int cols)
    {
        var u = U([rows, cols], 2, 0.1, 1).ToDoubleArray();
        for (var r = 0; r < rows; r++)
        {
            var sum = u.Skip(r * cols).Take(cols).Sum();
            for (var c = 0; c < cols; c++) u[r * cols + c] /= sum;
        }
        return Tensor.FromArray(u, rows, cols);
    }

    private static Output Zero(Graph g, Output like) => g.Scalar(0, like.DType);

    private static Output Long(Graph g, params long[] values) => g.Constant(Tensor.FromArray(values, values.Length));

    private static Variable Var(Graph g, Output like, ulong seed) =>
        g.Variable(Tensor.RandomUniform(like.Shape, 0.5, 1.5, seed, like.DType));

    private static Output F64(Graph g, double v) => g.Scalar(v, DType.Float64);

    /// <summary>Every case.</summary>
    public static IReadOnlyList<OpCase> All { get; } = [.. State(), .. Elementwise(), .. Structural(), .. Nn(), .. Optimizers(), .. Convolution(), .. Pooling(), .. Recurrent(), .. Collective()];

    private static IEnumerable<OpCase> State()
    {
        yield return new("Const", "x + constant", (g, x) => x[0] + g.Constant(Tensor.RandomUniform(new Shape(3, 4), -1, 1, 7, x[0].DType)), [U([3, 4])], GradKind.None);
        yield return new("Placeholder", "identity of a fed value", (g, x) => x[0], [U([2, 3])], GradKind.None);
        yield return new("Identity", "identity", (g, x) => g.Identity(x[0]), [U([3, 4])]);
        yield return new("StopGradient", "x·stop(x): the stopped side has no gradient", (g, x) => g.StopGradient(x[0]), [U([3, 4])], GradKind.Blocked);
        yield return new("Variable", "variable times x", (g, x) => Var(g, x[0], 3).Value * x[0], [U([3, 4])], GradKind.None);
        yield return new("Assign", "assign x", (g, x) => Var(g, x[0], 3).Assign(x[0]), [U([3, 4])], GradKind.None);
        yield return new("AssignAdd", "assign-add x", (g, x) => Var(g, x[0], 3).AssignAdd(x[0]), [U([3, 4])], GradKind.None);
        yield return new("AssignSub", "assign-sub x", (g, x) => Var(g, x[0], 3).AssignSub(x[0]), [U([3, 4])], GradKind.None);
        yield return new("Random", "uniform draws like x", (g, x) => g.RandomUniformLike(x[0], -1, 1, seed: 5), [U([3, 4])], GradKind.Blocked);
    }

    private static IEnumerable<OpCase> Elementwise()
    {
        yield return new("Neg", "[3,4]", (g, x) => g.Neg(x[0]), [U([3, 4])]);
        yield return new("Abs", "away from 0", (g, x) => g.Abs(x[0]), [Away([3, 4])]);
        yield return new("Sign", "away from 0 (gradient 0)", (g, x) => g.Sign(x[0]), [Away([3, 4])]);
        yield return new("Square", "[3,4]", (g, x) => g.Square(x[0]), [U([3, 4])]);
        yield return new("Sqrt", "positive", (g, x) => g.Sqrt(x[0]), [Pos([3, 4])]);
        yield return new("Rsqrt", "positive", (g, x) => g.Rsqrt(x[0]), [Pos([3, 4])]);
        yield return new("Reciprocal", "away from 0", (g, x) => g.Reciprocal(x[0]), [Away([3, 4])]);
        yield return new("Exp", "[3,4]", (g, x) => g.Exp(x[0]), [U([3, 4])]);
        yield return new("Expm1", "[3,4]", (g, x) => g.Expm1(x[0]), [U([3, 4])]);
        yield return new("Log", "positive", (g, x) => g.Log(x[0]), [Pos([3, 4])]);
        yield return new("Log1p", "above −1", (g, x) => g.Log1p(x[0]), [U([3, 4], 1, -0.7, 2)]);
        yield return new("Sin", "[3,4]", (g, x) => g.Sin(x[0]), [U([3, 4])]);
        yield return new("Cos", "[3,4]", (g, x) => g.Cos(x[0]), [U([3, 4])]);
        yield return new("Tanh", "[3,4]", (g, x) => g.Tanh(x[0]), [U([3, 4])]);
        yield return new("Sigmoid", "[3,4]", (g, x) => g.Sigmoid(x[0]), [U([3, 4])]);
        yield return new("Relu", "away from the kink", (g, x) => g.Relu(x[0]), [Away([3, 4])]);
        yield return new("Softplus", "[3,4]", (g, x) => g.Softplus(x[0]), [U([3, 4])]);
        yield return new("Erf", "[3,4]", (g, x) => g.Erf(x[0]), [U([3, 4])]);
        yield return new("LogicalNot", "not (x > 0)", (g, x) => g.LogicalNot(g.Greater(x[0], Zero(g, x[0]))), [Away([3, 4])], GradKind.None);

        // Binary ops on a broadcasting pair, so the gradient's sum back to each shape is checked too.
        yield return new("Add", "[3,1] + [4]", (g, x) => g.Add(x[0], x[1]), [U([3, 1]), U([4], 2)]);
        yield return new("Sub", "[3,1] − [4]", (g, x) => g.Sub(x[0], x[1]), [U([3, 1]), U([4], 2)]);
        yield return new("Mul", "[3,1] · [4]", (g, x) => g.Mul(x[0], x[1]), [U([3, 1]), U([4], 2)]);
        yield return new("Div", "[3,1] / [4], divisor away from 0", (g, x) => g.Div(x[0], x[1]), [U([3, 1]), Away([4], 2)]);
        yield return new("Pow", "positive base [3,4] ^ [4]", (g, x) => g.Pow(x[0], x[1]), [Pos([3, 4]), U([4], 2)]);
        yield return new("Maximum", "no ties", (g, x) => g.Maximum(x[0], x[1]), [U([3, 4]), U([3, 4], 2)]);
        yield return new("Minimum", "no ties", (g, x) => g.Minimum(x[0], x[1]), [U([3, 4]), U([3, 4], 2)]);
        // Comparisons see ties through max(a, b) == a, which is exact in both precisions.
        yield return new("Equal", "max(a,b) == a", (g, x) => g.Equal(g.Maximum(x[0], x[1]), x[0]), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("NotEqual", "max(a,b) != a", (g, x) => g.NotEqual(g.Maximum(x[0], x[1]), x[0]), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("Less", "[3,1] < [4]", (g, x) => g.Less(x[0], x[1]), [U([3, 1]), U([4], 2)], GradKind.None);
        yield return new("LessEqual", "max(a,b) <= a", (g, x) => g.LessEqual(g.Maximum(x[0], x[1]), x[0]), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("Greater", "[3,1] > [4]", (g, x) => g.Greater(x[0], x[1]), [U([3, 1]), U([4], 2)], GradKind.None);
        yield return new("GreaterEqual", "a >= max(a,b)", (g, x) => g.GreaterEqual(x[0], g.Maximum(x[0], x[1])), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("LogicalAnd", "a > 0 and b > 0", (g, x) => g.LogicalAnd(g.Greater(x[0], Zero(g, x[0])), g.Greater(x[1], Zero(g, x[1]))), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("LogicalOr", "a > 0 or b > 0", (g, x) => g.LogicalOr(g.Greater(x[0], Zero(g, x[0])), g.Greater(x[1], Zero(g, x[1]))), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("LogicalXor", "a > 0 xor b > 0", (g, x) => g.LogicalXor(g.Greater(x[0], Zero(g, x[0])), g.Greater(x[1], Zero(g, x[1]))), [U([3, 4]), U([3, 4], 2)], GradKind.None);
        yield return new("Select", "c > 0 ? a : b", (g, x) => g.Select(g.Greater(x[2], Zero(g, x[2])), x[0], x[1]), [U([3, 4]), U([3, 4], 2), Away([3, 4], 3)]);
        yield return new("Cast", "to float64", (g, x) => g.Cast(x[0], DType.Float64), [U([3, 4])]);
        yield return new("SumToShape", "[3,4] summed to [1,4]", (g, x) => g.SumToShape(x[0], x[1]), [U([3, 4]), U([1, 4], 2)]);
        yield return new("BroadcastLike", "[1,4] broadcast like [3,4]", (g, x) => g.BroadcastLike(x[0], x[1]), [U([1, 4]), U([3, 4], 2)]);
        yield return new("ZerosLike", "zeros like x (gradient 0)", (g, x) => g.ZerosLike(x[0]), [U([3, 4])]);
        yield return new("OnesLike", "ones like x (gradient 0)", (g, x) => g.OnesLike(x[0]), [U([3, 4])]);
    }

    private static IEnumerable<OpCase> Structural()
    {
        yield return new("MatMul", "[3,4]·[4,5]", (g, x) => g.MatMul(x[0], x[1]), [U([3, 4]), U([4, 5], 2)]);
        yield return new("MatMul", "batched, both transposed", (g, x) => g.MatMul(x[0], x[1], transposeA: true, transposeB: true), [U([2, 4, 3]), U([2, 5, 4], 2)]);
        yield return new("Sum", "axis 1", (g, x) => g.ReduceSum(x[0], [1]), [U([3, 4])]);
        yield return new("Mean", "axis 0, kept", (g, x) => g.ReduceMean(x[0], [0], keepDims: true), [U([3, 4])]);
        yield return new("Max", "axis 1, no ties", (g, x) => g.ReduceMax(x[0], [1]), [U([3, 4])]);
        yield return new("Min", "all axes, no ties", (g, x) => g.ReduceMin(x[0]), [U([3, 4])]);
        yield return new("Prod", "axis 1", (g, x) => g.ReduceProd(x[0], [1]), [U([3, 4])]);
        yield return new("ArgMax", "axis 1", (g, x) => g.ArgMax(x[0], 1), [U([3, 4])], GradKind.None);
        yield return new("ArgMin", "axis 0", (g, x) => g.ArgMin(x[0], 0), [U([3, 4])], GradKind.None);
        yield return new("ReducedCount", "count over axis 1 (gradient 0)", (g, x) => g.ReducedCount(x[0], [1], x[0].DType), [U([3, 4])]);
        yield return new("Reshape", "[3,4] → [2,6]", (g, x) => g.Reshape(x[0], [2, 6]), [U([3, 4])]);
        yield return new("ReshapeLike", "[3,4] like [2,6]", (g, x) => g.ReshapeLike(x[0], x[1]), [U([3, 4]), U([2, 6], 2)]);
        yield return new("ExpandDims", "axis 1", (g, x) => g.ExpandDims(x[0], 1), [U([3, 4])]);
        yield return new("Squeeze", "[3,1,4]", (g, x) => g.Squeeze(x[0]), [U([3, 1, 4])]);
        yield return new("Transpose", "[2,3,4] perm 2,0,1", (g, x) => g.Transpose(x[0], [2, 0, 1]), [U([2, 3, 4])]);
        yield return new("Concat", "axis 1", (g, x) => g.Concat([x[0], x[1]], 1), [U([3, 2]), U([3, 4], 2)]);
        yield return new("Split", "second of 2 pieces", (g, x) => g.Split(x[0], 2, 1)[1], [U([3, 4])]);
        yield return new("SplitLike", "second piece like [3,3]", (g, x) => g.SplitLike(x[0], [x[1], x[2]], 0)[1], [U([5, 3]), U([2, 3], 2), U([3, 3], 3)]);
        yield return new("Tile", "[2,3] × [2,2]", (g, x) => g.Tile(x[0], [2, 2]), [U([2, 3])]);
        yield return new("TileGrad", "[4,6] folded onto [2,3]", (g, x) => g.TileGrad(x[0], x[1], [2, 2]), [U([4, 6]), U([2, 3], 2)]);
        yield return new("BroadcastTo", "[4] → [3,4]", (g, x) => g.BroadcastTo(x[0], new Shape(3, 4)), [U([4])]);
        yield return new("Slice", "interior", (g, x) => g.Slice(x[0], [1, 1], [2, 2]), [U([3, 4])]);
        yield return new("Pad", "constant 0.5", (g, x) => g.Pad(x[0], new[,] { { 1, 0 }, { 2, 1 } }, 0.5), [U([3, 4])]);
        yield return new("PadLike", "[2,3] into [4,5] at 1,1", (g, x) => g.PadLike(x[0], x[1], [1, 1]), [U([2, 3]), U([4, 5], 2)]);
        yield return new("SliceLike", "[4,5] cut like [2,3] at 1,1", (g, x) => g.SliceLike(x[0], x[1], [1, 1]), [U([4, 5]), U([2, 3], 2)]);
        yield return new("Gather", "rows with a repeat", (g, x) => g.Gather(x[0], Long(g, 2, 0, 2)), [U([4, 3])]);
        yield return new("GatherGrad", "[3,2] scattered onto [4,2]", (g, x) => g.GatherGrad(x[0], Long(g, 2, 0, 2), x[1], 0), [U([3, 2]), U([4, 2], 2)]);
    }

    private static IEnumerable<OpCase> Nn()
    {
        yield return new("Softmax", "rows", (g, x) => g.Softmax(x[0]), [U([3, 4])]);
        yield return new("LogSoftmax", "rows", (g, x) => g.LogSoftmax(x[0]), [U([3, 4])]);
        // Labels are distributions (rows summing to 1), as the op documents: for other labels the logits
        // gradient softmax − labels (as TensorFlow's) is not the derivative, softmax·Σlabels − labels.
        yield return new("SoftmaxCrossEntropyWithLogits", "both inputs", (g, x) => g.SoftmaxCrossEntropyWithLogits(x[1], x[0]), [U([3, 4]), Distributions(3, 4)]);
        yield return new("SparseSoftmaxCrossEntropyWithLogits", "class ids", (g, x) => g.SparseSoftmaxCrossEntropyWithLogits(Long(g, 3, 0, 1), x[0]), [U([3, 4])]);
    }

    /// <summary>Optimizer updates: one step on a variable, CPU against reference (they mutate state, so no gradient).</summary>
    private static IEnumerable<OpCase> Optimizers()
    {
        yield return new("ApplyGradientDescent", "one step", (g, x) => g.ApplyGradientDescent(Var(g, x[0], 3), x[0], F64(g, 0.1)), [U([3, 4])], GradKind.None);
        yield return new("ApplyMomentum", "nesterov", (g, x) => g.ApplyMomentum(Var(g, x[0], 3), Var(g, x[0], 4), x[0], F64(g, 0.1), F64(g, 0.9), nesterov: true), [U([3, 4])], GradKind.None);
        yield return new("ApplyAdam", "step 3", (g, x) => g.ApplyAdam(Var(g, x[0], 3), Var(g, x[0], 4), Var(g, x[0], 5), x[0], F64(g, 0.01), F64(g, 0.9), F64(g, 0.999), F64(g, 1e-7), F64(g, 3)), [U([3, 4])], GradKind.None);
        yield return new("ApplyNadam", "step 3", (g, x) => g.ApplyNadam(Var(g, x[0], 3), Var(g, x[0], 4), Var(g, x[0], 5), x[0], F64(g, 0.01), F64(g, 0.9), F64(g, 0.999), F64(g, 1e-7), F64(g, 3), F64(g, 0.5)), [U([3, 4])], GradKind.None);
        // Not centred: a centred variance v − ā² of arbitrary initial slots could be negative.
        yield return new("ApplyRMSProp", "with momentum", (g, x) => g.ApplyRMSProp(Var(g, x[0], 3), Var(g, x[0], 4), Var(g, x[0], 5), null, x[0], F64(g, 0.01), F64(g, 0.9), F64(g, 0.5), F64(g, 1e-7)), [U([3, 4])], GradKind.None);
    }
}
