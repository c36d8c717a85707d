using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>Softmax family, part two: float64 gradient checks (first and second order) and every error path.</summary>
public partial class NNOpTests
{
    /// <summary>Rank 1, size-1 dims, odd 2-D, rank 3, empty batch, one class, empty class axis (softmax needs rank ≥ 1, so no scalar).</summary>
    private static readonly int[][] GradShapes = [[1], [1, 1], [3, 5], [2, 3, 4], [0, 3], [4, 1], [3, 0]];

    // Tolerances: every function here is smooth with O(1) derivatives on [−2, 2], so central differences with
    // h = 1e-6 are accurate to ≈ h²·f‴ + ε₆₄/h ≈ 1e-10; 1e-7 leaves a wide margin yet catches any wrong term
    // (a missing Σ dy·y changes entries by ≥ 1e-2). Second order differentiates a gradient built from the
    // same pieces: errors of the same size, 1e-6.
    private const double FirstOrderTol = 1e-7, SecondOrderTol = 1e-6;

    private static IEnumerable<TestCaseData> Shapes() => GradShapes.Select(s => new TestCaseData(s).SetArgDisplayNames($"[{string.Join(",", s)}]"));

    [TestCaseSource(nameof(Shapes))]
    public void SoftmaxAndLogSoftmaxGradientsCheck(int[] shape)
    {
        OpHarness.Gradients((g, x) => g.Softmax(x[0]), [OpHarness.Uniform(shape)], FirstOrderTol);
        OpHarness.Gradients((g, x) => g.LogSoftmax(x[0]), [OpHarness.Uniform(shape, seed: 2)], FirstOrderTol);
    }

    [TestCaseSource(nameof(Shapes))]
    public void CrossEntropyGradientsCheck(int[] shape)
    {
        // Dense: both logits and labels. Rows of labels sum to 1, the op's contract: ∂/∂logits = softmax − labels
        // holds only then (see UnnormalizedLabelsGetTheTensorFlowLogitsGradient). ∂/∂labels is exact for any labels.
        OpHarness.Gradients((g, x) => g.SoftmaxCrossEntropyWithLogits(x[1], x[0]), [OpHarness.Uniform(shape), ProbabilityLabels(shape, 3)], FirstOrderTol);
        if (shape[^1] == 0) return;
        var ids = ClassIds(shape, 1);
        OpHarness.Gradients((g, x) => g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(ids), x[0]), [OpHarness.Uniform(shape)], FirstOrderTol);
    }

    [TestCase(new[] { 3, 5 })]
    [TestCase(new[] { 2, 3, 4 })]
    [TestCase(new[] { 1, 1 })]
    [TestCase(new[] { 6 })]
    public void SecondOrderGradientsCheck(int[] shape)
    {
        var x = OpHarness.Uniform(shape);
        var z = OpHarness.Uniform(shape, 0, 1, seed: 3);
        OpHarness.SecondOrder((g, xs) => g.Softmax(xs[0]), [x], SecondOrderTol);
        OpHarness.SecondOrder((g, xs) => g.LogSoftmax(xs[0]), [x], SecondOrderTol);
        // Hessian wrt logits and the mixed logits/labels block: exercises the gradient of the fused backprop output.
        OpHarness.SecondOrder((g, xs) => g.SoftmaxCrossEntropyWithLogits(xs[1], xs[0]), [x, z], SecondOrderTol);
        // Gradient wrt labels (−log_softmax), differentiated again.
        OpHarness.SecondOrder((g, xs) => g.SoftmaxCrossEntropyWithLogits(xs[0], xs[1]), [z, x], SecondOrderTol);
        var ids = ClassIds(shape, 2);
        OpHarness.SecondOrder((g, xs) => g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(ids), xs[0]), [x], SecondOrderTol);
        // The result of a second-order gradient is itself differentiable: a third order through the same ops.
        OpHarness.SecondOrder((g, xs) => g.Gradients([g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(ids), xs[0])], [xs[0]])[0]!.Value * xs[0], [x], SecondOrderTol);
    }

    [Test]
    public void SigmoidCrossEntropyGradientsCheckIncludingZeroLogits()
    {
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, x) => g.SigmoidCrossEntropyWithLogits(x[1], x[0]), [OpHarness.Uniform(shape, -4, 4), OpHarness.Uniform(shape, 0, 1, seed: 5)], FirstOrderTol);
        // At x = 0 exactly the loss is smooth with slope σ(0) − z = ½ − z; a Relu/Abs composition would give −z.
        var zeros = Tensor.Zeros(new Shape(3), DType.Float64);
        var labels = Tensor.FromArray([0.0, 0.5, 1], 3);
        var r = OpHarness.Gradients((g, x) => g.SigmoidCrossEntropyWithLogits(x[1], x[0]), [zeros, labels], FirstOrderTol);
        OpHarness.AssertClose([0.5, 0, -0.5], r.Inputs[0].Analytic.Zip(GradCheckWeights(3), (a, w) => a / w).ToArray(), 1e-12, 1e-12, "slope at 0");
        OpHarness.SecondOrder((g, x) => g.SigmoidCrossEntropyWithLogits(x[1], x[0]), [OpHarness.Uniform([2, 3], -3, 3), OpHarness.Uniform([2, 3], 0, 1, seed: 6)], SecondOrderTol);
    }

    /// <summary>The fixed weights w of GradientCheck's L = Σ w·y, to recover ∂y/∂x from its analytic gradient.</summary>
    private static double[] GradCheckWeights(int n) =>
        Enumerable.Range(0, n).Select(k => 0.5 + Nabla.Kernels.Philox.ToUnit(Nabla.Kernels.Philox.Block(0x5EED, (ulong)k, 7).Item1)).ToArray();

    [Test]
    public void UnnormalizedLabelsGetTheTensorFlowLogitsGradient()
    {
        // Labels [1, 1] sum to 2: the true slope is 2·softmax − labels, but, as TensorFlow, the op returns softmax − labels.
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(1, 2), "x");
        var z = g.Placeholder(DType.Float64, new Shape(1, 2), "z");
        var grads = g.Gradients([g.SoftmaxCrossEntropyWithLogits(z, x)], [x, z]);
        using var s = new Session(g, Device.Reference);
        var r = s.Run([grads[0]!.Value, grads[1]!.Value], new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([0.0, 0], 1, 2), [z] = Tensor.FromArray([1.0, 1], 1, 2) });
        Assert.That(r[0].ToDoubleArray(), Is.EqualTo(new[] { -0.5, -0.5 }).Within(1e-15));
        Assert.That(r[1].ToDoubleArray(), Is.EqualTo(new[] { Math.Log(2), Math.Log(2) }).Within(1e-15), "∂/∂labels = −log_softmax, exact");
    }

    [Test]
    public void LabelsOfSparseCrossEntropyAreNotDifferentiableButDoNotBlockLogits()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(2, 3), "x");
        var ids = g.Cast(g.ArgMax(x), DType.Int32);
        var loss = g.SparseSoftmaxCrossEntropyWithLogits(ids, x);
        // The labels depend on x only through ArgMax/Cast (integers): the gradient is the logits path alone.
        var dx = g.Gradients(loss, x)[0];
        using var s = new Session(g, Device.Reference);
        var r = s.Run(dx, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([0.0, 0, 0, 0, 0, 0], 2, 3) });
        var third = 1.0 / 3;
        OpHarness.AssertClose([third - 1, third, third, third - 1, third, third], r.ToDoubleArray(), 1e-12, 1e-12, "softmax − one_hot(argmax)");
    }

    // ---- errors ----

    private static void Throws<TException>(Action build, params string[] parts) where TException : Exception
    {
        var ex = Assert.Throws<TException>(build)!;
        foreach (var p in parts) Assert.That(ex.Message, Does.Contain(p));
    }

    [TestCase("Softmax")]
    [TestCase("LogSoftmax")]
    public void SoftmaxRejectsScalarsAndNonFloatingInputs(string op)
    {
        Output Make(Graph g, Output x) => op == "Softmax" ? g.Softmax(x, "probs") : g.LogSoftmax(x, "probs");
        var g = new Graph();
        Throws<ShapeException>(() => Make(g, g.Placeholder(DType.Float32, Shape.Scalar)), $"{op} 'probs'", "scalar");
        Throws<ShapeException>(() => Make(g, g.Placeholder(DType.Int32, new Shape(2, 3))), $"{op} 'probs'", "int32", "[2,3]");
        Throws<ShapeException>(() => Make(g, g.Placeholder(DType.Bool, new Shape(4))), $"{op} 'probs'", "bool");
        // A failed build leaves the name free for the next node.
        Assert.That(Make(g, g.Placeholder(DType.Float32, new Shape(4))).Op.Name, Is.EqualTo("probs"));
    }

    [Test]
    public void DenseCrossEntropyRejectsMismatchedShapesAndDTypes()
    {
        const string op = "SoftmaxCrossEntropyWithLogits 'xent'";
        var g = new Graph();
        Output P(DType d, params int[] s) => g.Placeholder(d, new Shape(s));
        Throws<ShapeException>(() => g.SoftmaxCrossEntropyWithLogits(P(DType.Float32, 2, 4), P(DType.Float32, 2, 3), "xent"), op, "[2,4]", "[2,3]", "same shape");
        Throws<ShapeException>(() => g.SoftmaxCrossEntropyWithLogits(P(DType.Float32, 6), P(DType.Float32, 2, 3), "xent"), op, "[6]", "[2,3]");
        Throws<ShapeException>(() => g.SoftmaxCrossEntropyWithLogits(P(DType.Float64, 2, 3), P(DType.Float32, 2, 3), "xent"), op, "float64", "float32");
        Throws<ShapeException>(() => g.SoftmaxCrossEntropyWithLogits(P(DType.Int32, 2, 3), P(DType.Int32, 2, 3), "xent"), op, "int32");
        Throws<ShapeException>(() => g.SoftmaxCrossEntropyWithLogits(P(DType.Float32), P(DType.Float32), "xent"), op, "scalar");
        // Unknown dims that disagree at run time fail when the plan resolves shapes, still naming the node.
        var x = P(DType.Float32, -1, 3);
        var z = P(DType.Float32, -1, 3);
        var loss = g.SoftmaxCrossEntropyWithLogits(z, x, "xent");
        using var s = new Session(g);
        Throws<ShapeException>(() => s.Run(loss, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 3)), [z] = Tensor.Zeros(new Shape(4, 3)) }), op, "[4,3]", "[2,3]");
    }

    [Test]
    public void SparseCrossEntropyRejectsBadLabelTypesAndShapes()
    {
        const string op = "SparseSoftmaxCrossEntropyWithLogits 'xent'";
        var g = new Graph();
        Output P(DType d, params int[] s) => g.Placeholder(d, new Shape(s));
        Throws<ShapeException>(() => g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Float32, 2), P(DType.Float32, 2, 3), "xent"), op, "int32 or int64", "float32");
        Throws<ShapeException>(() => g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Int32, 2, 3), P(DType.Float32, 2, 3), "xent"), op, "logits.shape[:-1]", "[2,3]");
        Throws<ShapeException>(() => g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Int64, 3), P(DType.Float32, 2, 5), "xent"), op, "[3]", "[2]");
        Throws<ShapeException>(() => g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Int32, 2), P(DType.Int32, 2, 3), "xent"), op, "int32");
        Throws<ShapeException>(() => g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Int32), P(DType.Float32), "xent"), op, "scalar");
        // Ids are not differentiable inputs.
        Throws<GradientException>(() => g.Gradients(g.SparseSoftmaxCrossEntropyWithLogits(P(DType.Int32, 2), P(DType.Float32, 2, 3)), P(DType.Int32, 2)), "int32");
    }

    [Test]
    public void OutOfRangeLabelsFailBeforeAnyKernelWhenFedOrConstant()
    {
        const string op = "SparseSoftmaxCrossEntropyWithLogits 'xent'";
        var g = new Graph();
        var counter = g.Variable(Tensor.Scalar(0f), "counter");
        // Built first, so the plan would run it before the loss: it must not run when a label is bad.
        var bump = counter.AssignAdd(g.Scalar(1));
        var x = g.Placeholder(DType.Float32, new Shape(-1, 5), "x");
        var ids = g.Placeholder(DType.Int32, new Shape(-1), "ids");
        var fedLoss = g.SparseSoftmaxCrossEntropyWithLogits(ids, x, "xent");
        var constLoss = g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(Tensor.FromArray([0L, 5], 2)), x, "xent_const");
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        var logits = Tensor.Zeros(new Shape(2, 5));
        Throws<InvalidArgumentException>(() => s.Run([bump, fedLoss], new Dictionary<Output, Tensor> { [x] = logits, [ids] = Tensor.FromArray([1, -1], 2) }), op, "label -1", "[0, 5)");
        Throws<InvalidArgumentException>(() => s.Run([bump, constLoss], new Dictionary<Output, Tensor> { [x] = logits }), "'xent_const'", "label 5", "flat index 1");
        Assert.That(s.Run(counter.Value).ToScalar<float>(), Is.Zero, "no kernel of the failed steps ran");
        Assert.That(s.Run([bump, fedLoss], new Dictionary<Output, Tensor> { [x] = logits, [ids] = Tensor.FromArray([4, 0], 2) })[1].ToArray<float>(),
            Is.EqualTo(new[] { MathF.Log(5), MathF.Log(5) }).Within(1e-6));
    }

    [TestCaseSource(nameof(Devices))]
    public void OutOfRangeComputedLabelsFailInTheKernel(Device d)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3), "x");
        var raw = g.Placeholder(DType.Float32, new Shape(2), "raw");
        // Labels computed in the graph are seen only when the node runs; int64 and 3 classes.
        var loss = g.SparseSoftmaxCrossEntropyWithLogits(g.Cast(raw, DType.Int64), x, "xent");
        using var s = new Session(g, d);
        Throws<InvalidArgumentException>(() => s.Run(loss, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 3)), [raw] = Tensor.FromArray([0f, 3f], 2) }),
            "SparseSoftmaxCrossEntropyWithLogits 'xent'", "label 3", "[0, 3)");
        // With no classes, no id is valid.
        var empty = g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(Tensor.FromArray([0], 1)), g.Placeholder(DType.Float32, new Shape(1, 0), "e"), "xent_empty");
        Throws<InvalidArgumentException>(() => s.Run(empty, new Dictionary<Output, Tensor> { [g.FindOperation("e")!.Outputs[0]] = Tensor.Zeros(new Shape(1, 0)) }), "'xent_empty'", "[0, 0)");
    }

    [Test]
    public void SigmoidCrossEntropyRejectsMismatchedShapesAndDTypes()
    {
        const string op = "SigmoidCrossEntropyWithLogits 'bce'";
        var g = new Graph();
        Output P(DType d, params int[] s) => g.Placeholder(d, new Shape(s));
        Throws<ShapeException>(() => g.SigmoidCrossEntropyWithLogits(P(DType.Float32, 2, 4), P(DType.Float32, 2, 3), "bce"), op, "[2,4]", "[2,3]");
        Throws<ShapeException>(() => g.SigmoidCrossEntropyWithLogits(P(DType.Float32, 6), P(DType.Float32, 2, 3), "bce"), op, "same shape");
        Throws<ShapeException>(() => g.SigmoidCrossEntropyWithLogits(P(DType.Float64, 3), P(DType.Float32, 3), "bce"), op, "float64", "float32");
        Throws<ShapeException>(() => g.SigmoidCrossEntropyWithLogits(P(DType.Int32, 3), P(DType.Int32, 3), "bce"), op, "int32");
    }
}
