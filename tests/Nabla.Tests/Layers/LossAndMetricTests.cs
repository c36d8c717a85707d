using NUnit.Framework;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>Every loss and metric against values computed by hand in float64 (Keras formulas).</summary>
public sealed class LossAndMetricTests
{
    private static double Eval(Func<Graph, Output, Output, Output> f, Tensor yTrue, Tensor yPred, Func<Graph, Output, Output>? transform = null, Device? device = null)
    {
        var g = new Graph();
        var t = g.Placeholder(yTrue.DType, yTrue.Shape, "y_true");
        var p = g.Placeholder(yPred.DType, yPred.Shape, "y_pred");
        var pred = transform is null ? p : transform(g, p);
        using var s = new Session(g, device ?? Device.Cpu);
        return s.Run(f(g, t, pred), new Dictionary<Output, Tensor> { [t] = yTrue, [p] = yPred }).ToDoubleArray()[0];
    }

    private static readonly Tensor Probs = Tensor.FromArray([0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f], 2, 3);
    private static readonly Tensor OneHot = Tensor.FromArray([1f, 0f, 0f, 0f, 1f, 0f], 2, 3);

    [Test]
    public void MeanSquaredAndAbsoluteError()
    {
        var t = Tensor.FromArray([1f, 2f, 3f, 4f], 2, 2);
        var p = Tensor.FromArray([1.5f, 2f, 2f, 6f], 2, 2);
        // Per sample: mean(0.25, 0) = 0.125, mean(1, 4) = 2.5 → 1.3125; MAE: 0.25, 1.5 → 0.875.
        Assert.That(Eval((g, a, b) => new MeanSquaredError().Compute(a, b), t, p), Is.EqualTo(1.3125).Within(1e-6));
        Assert.That(Eval((g, a, b) => new MeanAbsoluteError().Compute(a, b), t, p), Is.EqualTo(0.875).Within(1e-6));
        Assert.That(Eval((g, a, b) => Loss.FromName("mse").Compute(a, b), t, p), Is.EqualTo(1.3125).Within(1e-6));
    }

    [Test]
    public void HuberMatchesKerasFormula()
    {
        // The example in keras.losses.Huber's docstring: errors 0.6, −0.6 | 0.4, 0.6 are all ≤ δ = 1, so
        // ½e² per element, 0.18 and 0.13 per sample, 0.155 over the batch.
        var t = Tensor.FromArray([0f, 1f, 0f, 0f], 2, 2);
        var p = Tensor.FromArray([0.6f, 0.4f, 0.4f, 0.6f], 2, 2);
        Assert.That(Eval((g, a, b) => new Huber().Compute(a, b), t, p), Is.EqualTo(0.155).Within(1e-6));
        Assert.That(Eval((g, a, b) => Loss.FromName("huber").Compute(a, b), t, p), Is.EqualTo(0.155).Within(1e-6));

        // Linear branch: δ·|e| − ½δ². δ = 1: e = 3 → 2.5, e = −0.5 → 0.125; δ = 2: e = 3 → 4, e = −0.5 → 0.125.
        var zeros = Tensor.FromArray([0.0, 0.0], 1, 2);
        var errors = Tensor.FromArray([3.0, -0.5], 1, 2);
        Assert.That(Eval((g, a, b) => new Huber().Compute(a, b), zeros, errors, device: Device.Reference), Is.EqualTo((2.5 + 0.125) / 2).Within(1e-12));
        Assert.That(Eval((g, a, b) => new Huber(2.0).Compute(a, b), zeros, errors, device: Device.Reference), Is.EqualTo((4 + 0.125) / 2).Within(1e-12));
        // At |e| = δ both branches give ½δ².
        Assert.That(Eval((g, a, b) => new Huber(2.0).Compute(a, b), Tensor.FromArray([0.0], 1, 1), Tensor.FromArray([2.0], 1, 1), device: Device.Reference), Is.EqualTo(2).Within(1e-12));
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Huber(0));
    }

    [Test]
    public void HuberGradientIsTheErrorClippedToDelta()
    {
        // d/dŷ of mean over 4 elements: clip(e, −δ, δ) / 4 with δ = 1.
        var g = new Graph();
        var yTrue = g.Constant(Tensor.FromArray([0.0, 0.0, 0.0, 0.0], 1, 4));
        var yPred = g.Placeholder(DType.Float64, new Shape(1, 4), "y_pred");
        var grad = g.Gradients(new Huber().Compute(yTrue, yPred), yPred)[0];
        using var s = new Session(g, Device.Reference);
        var values = s.Run(grad, new Dictionary<Output, Tensor> { [yPred] = Tensor.FromArray([-3.0, -0.5, 0.25, 2.0], 1, 4) }).ToDoubleArray();
        Assert.That(values, Is.EqualTo(new[] { -0.25, -0.125, 0.0625, 0.25 }).Within(1e-12));
    }

    [Test]
    public void BinaryCrossentropyOnProbabilitiesClipsLikeKeras()
    {
        var t = Tensor.FromArray([1.0, 0, 1, 0], 2, 2);
        var p = Tensor.FromArray([0.9, 0.2, 0, 1], 2, 2);
        const double eps = 1e-7;
        double B(double z, double q) { q = Math.Clamp(q, eps, 1 - eps); return -(z * Math.Log(q + eps) + (1 - z) * Math.Log(1 - q + eps)); }
        var expected = ((B(1, 0.9) + B(0, 0.2)) / 2 + (B(1, 0) + B(0, 1)) / 2) / 2;
        Assert.That(Eval((g, a, b) => new BinaryCrossentropy().Compute(a, b), t, p, device: Device.Reference), Is.EqualTo(expected).Within(1e-9 * expected));
        Assert.That(double.IsFinite(Eval((g, a, b) => new BinaryCrossentropy().Compute(a, b), t, p)), Is.True);
    }

    [Test]
    public void BinaryCrossentropyOfSigmoidUsesTheLogits()
    {
        var t = Tensor.FromArray([1f, 0f], 1, 2);
        var logits = Tensor.FromArray([-40f, 3f], 1, 2);
        // Exact: softplus(−x) for z = 1 and softplus(x) for z = 0; float32 probabilities would saturate to the clip instead.
        var expected = ((40 + Math.Log(1 + Math.Exp(-40))) + Math.Log(1 + Math.Exp(3))) / 2;
        var viaSigmoid = Eval((g, a, b) => new BinaryCrossentropy().Compute(a, b), t, logits, (g, x) => g.Sigmoid(x));
        var fromLogits = Eval((g, a, b) => new BinaryCrossentropy(fromLogits: true).Compute(a, b), t, logits);
        Assert.That(viaSigmoid, Is.EqualTo(expected).Within(1e-4));
        Assert.That(fromLogits, Is.EqualTo(expected).Within(1e-4));
    }

    [Test]
    public void CategoricalCrossentropy()
    {
        var expected = (-Math.Log(0.7) - Math.Log(0.3)) / 2;
        Assert.That(Eval((g, a, b) => new CategoricalCrossentropy().Compute(a, b), OneHot, Probs), Is.EqualTo(expected).Within(1e-6));
        // Unnormalised probabilities are renormalised, as Keras does.
        var doubled = Tensor.FromArray(Probs.ToArray<float>().Select(v => v * 2).ToArray(), 2, 3);
        Assert.That(Eval((g, a, b) => new CategoricalCrossentropy().Compute(a, b), OneHot, doubled), Is.EqualTo(expected).Within(1e-6));
        var logits = Tensor.FromArray([2f, 1f, 0f, 0f, 1f, 2f], 2, 3);
        double Lse(double a, double b, double c) => Math.Log(Math.Exp(a) + Math.Exp(b) + Math.Exp(c));
        var fromLogits = ((Lse(2, 1, 0) - 2) + (Lse(0, 1, 2) - 1)) / 2;
        Assert.That(Eval((g, a, b) => new CategoricalCrossentropy(true).Compute(a, b), OneHot, logits), Is.EqualTo(fromLogits).Within(1e-5));
        Assert.That(Eval((g, a, b) => new CategoricalCrossentropy().Compute(a, b), OneHot, logits, (g, x) => g.Softmax(x)), Is.EqualTo(fromLogits).Within(1e-5));
    }

    [Test]
    public void SparseCategoricalCrossentropyAcceptsBothLabelShapes()
    {
        var expected = (-Math.Log(0.7) - Math.Log(0.3)) / 2;
        var labels = Tensor.FromArray([0, 1], 2);
        Assert.That(Eval((g, a, b) => new SparseCategoricalCrossentropy().Compute(a, b), labels, Probs), Is.EqualTo(expected).Within(1e-6));
        var column = Tensor.FromArray([0f, 1f], 2, 1);
        Assert.That(Eval((g, a, b) => new SparseCategoricalCrossentropy().Compute(a, b), column, Probs), Is.EqualTo(expected).Within(1e-6));
    }

    [Test]
    public void SparseLabelOutOfRangeIsRejectedBeforeTheStep()
    {
        var labels = Tensor.FromArray([0, 3], 2);
        Assert.Throws<InvalidArgumentException>(() => Eval((g, a, b) => new SparseCategoricalCrossentropy().Compute(a, b), labels, Probs));
    }

    [Test]
    public void LossShapeMismatchIsABuildTimeError()
    {
        var g = new Graph();
        var t = g.Placeholder(DType.Float32, new Shape(-1, 3));
        var p = g.Placeholder(DType.Float32, new Shape(-1, 4));
        var e = Assert.Throws<ShapeException>(() => new MeanSquaredError().Compute(t, p))!;
        Assert.That(e.Message, Does.Contain("[?,3]").And.Contain("[?,4]"));
    }

    [Test]
    public void AccuracyIsResolvedAsKerasDoes()
    {
        Assert.That(Metric.FromName("accuracy", new Shape(-1), new Shape(-1, 10)), Is.TypeOf<SparseCategoricalAccuracy>());
        Assert.That(Metric.FromName("accuracy", new Shape(-1, 1), new Shape(-1, 10)), Is.TypeOf<SparseCategoricalAccuracy>());
        Assert.That(Metric.FromName("accuracy", new Shape(-1, 10), new Shape(-1, 10)), Is.TypeOf<CategoricalAccuracy>());
        Assert.That(Metric.FromName("accuracy", new Shape(-1, 1), new Shape(-1, 1)), Is.TypeOf<BinaryAccuracy>());
        Assert.That(Metric.FromName("acc", new Shape(-1, 1), new Shape(-1, 1)).Name, Is.EqualTo("acc"));
        Assert.Throws<ArgumentException>(() => Metric.FromName("f1", new Shape(-1), new Shape(-1)));
        Assert.Throws<ArgumentException>(() => Loss.FromName("hinge"));
    }

    [Test]
    public void AccuracyValues()
    {
        var probs = Tensor.FromArray([0.7f, 0.2f, 0.1f, 0.1f, 0.3f, 0.6f, 0.2f, 0.5f, 0.3f], 3, 3);
        var labels = Tensor.FromArray([0, 1, 1], 3);
        Output Mean(Graph g, Output x) => g.ReduceMean(x);
        Assert.That(Eval((g, a, b) => Mean(g, new SparseCategoricalAccuracy().Call(a, b)), labels, probs), Is.EqualTo(2.0 / 3).Within(1e-6));
        var onehot = Tensor.FromArray([1f, 0f, 0f, 0f, 1f, 0f, 0f, 1f, 0f], 3, 3);
        Assert.That(Eval((g, a, b) => Mean(g, new CategoricalAccuracy().Call(a, b)), onehot, probs), Is.EqualTo(2.0 / 3).Within(1e-6));
        var bt = Tensor.FromArray([1f, 0f, 1f, 0f], 4, 1);
        var bp = Tensor.FromArray([0.6f, 0.4f, 0.5f, 0.7f], 4, 1);
        // 0.5 is not above the threshold, so only the first two are right.
        Assert.That(Eval((g, a, b) => Mean(g, new BinaryAccuracy().Call(a, b)), bt, bp), Is.EqualTo(0.5).Within(1e-6));
    }
}
