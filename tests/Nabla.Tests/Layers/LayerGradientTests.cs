using NUnit.Framework;
using Nabla.Layers;
using Nabla.Tests.Support;

namespace Nabla.Tests.Layers;

/// <summary>
/// Float64 central-difference checks of every layer's gradient with respect to its input and to each
/// of its weights, on the Reference device, within <see cref="GradientTolerance.Default"/> (atol 1e−8 + rtol 1e−6·|n|):
/// float64 central differences with h = 1e−6 are accurate to ~1e−9 for these smooth functions; the kinks of
/// relu/leaky_relu/elu are avoided by inputs bounded away from 0. Dropout, GaussianNoise and ActivityRegularization
/// are identities in inference; their training-mode gradients are checked by the dedicated tests below.
/// </summary>
public sealed class LayerGradientTests : KerasTestBase
{
    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var act in new[] { "linear", "relu", "leaky_relu", "elu", "selu", "sigmoid", "tanh", "softmax", "softplus", "gelu", "swish" })
            yield return new TestCaseData((Func<Layer>)(() => new Dense(3, act)), new[] { 4, 5 }).SetName($"Dense_{act}");
        yield return new TestCaseData((Func<Layer>)(() => new Dense(2, useBias: false)), new[] { 1, 1 }).SetName("Dense_size1_nobias");
        yield return new TestCaseData((Func<Layer>)(() => new Dense(2, "tanh")), new[] { 2, 3, 4 }).SetName("Dense_rank3");
        yield return new TestCaseData((Func<Layer>)(() => new Dense(3)), new[] { 0, 4 }).SetName("Dense_emptyBatch");
        yield return new TestCaseData((Func<Layer>)(() => new Flatten()), new[] { 2, 3, 2 }).SetName("Flatten");
        yield return new TestCaseData((Func<Layer>)(() => new Reshape([3, -1])), new[] { 2, 6 }).SetName("Reshape");
        yield return new TestCaseData((Func<Layer>)(() => new Activation("selu")), new[] { 3, 3 }).SetName("Activation_selu");
        yield return new TestCaseData((Func<Layer>)(() => new Dropout(0.5)), new[] { 3, 3 }).SetName("Dropout_inference");
        yield return new TestCaseData((Func<Layer>)(() => new GaussianNoise(0.1)), new[] { 3, 3 }).SetName("GaussianNoise_inference");
        yield return new TestCaseData((Func<Layer>)(() => new ActivityRegularization(0.1, 0.1)), new[] { 3, 3 }).SetName("ActivityRegularization");
    }

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchCentralDifferences(Func<Layer> make, int[] shape)
    {
        var worst = LayerGradientCheck.Run(make(), [new Shape(shape)], training: false);
        Assert.That(worst, Is.LessThanOrEqualTo(1.0));
    }

    /// <summary>Fixed weights c of the checked scalar Σ c·y, and inputs with |x| ∈ [0.2, 2].</summary>
    private static (Tensor X, Tensor C) TrainingInputs(Shape shape) =>
        (OpHarness.AwayFromZero(shape.ToArray(), seed: 5), Tensor.RandomUniform(shape, 0.5, 1.5, seed: 6, dtype: DType.Float64));

    /// <summary>Runs y = layer(x, training) and ∂(Σ c·y)/∂x in one session run (one random draw).</summary>
    private static (double[] X, double[] C, double[] Y, double[] Grad) TrainingPass(Layer layer, Shape shape)
    {
        var (xv, cv) = TrainingInputs(shape);
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, shape, "x");
        var y = layer.Apply(x, training: true);
        var grad = g.Gradients(g.ReduceSum(y * g.Constant(cv)), x)[0];
        using var s = new Session(g, Device.Reference);
        var outs = s.Run([y, grad], new Dictionary<Output, Tensor> { [x] = xv });
        return (xv.ToDoubleArray(), cv.ToDoubleArray(), outs[0].ToDoubleArray(), outs[1].ToDoubleArray());
    }

    [Test]
    public void DropoutTrainingGradientIsTheMaskOverKeep()
    {
        // y = x·m/keep with a Bernoulli mask m, so ∂(Σ c·y)/∂x = c·m/keep. The mask is read off y (x ≠ 0) in the
        // same run, since each run draws a new mask.
        const double Rate = 0.25, Keep = 1 - Rate;
        var (x, c, y, grad) = TrainingPass(new Dropout(Rate, seed: 3), new Shape(4, 5));
        var mask = y.Select(v => v != 0 ? 1.0 : 0.0).ToArray();
        Assert.That(mask.Count(m => m == 0), Is.InRange(1, 19), "with 20 draws at rate 0.25 both outcomes occur (for this seed)");
        for (var i = 0; i < x.Length; i++)
        {
            Assert.That(y[i], Is.EqualTo(x[i] * mask[i] / Keep).Within(1e-15), $"y[{i}]");
            Assert.That(grad[i], Is.EqualTo(c[i] * mask[i] / Keep).Within(1e-15), $"grad[{i}]");
        }
    }

    [Test]
    public void GaussianNoiseTrainingGradientIsTheIdentity()
    {
        // y = x + n with n independent of x: ∂(Σ c·y)/∂x = c exactly, though y ≠ x.
        var (x, c, y, grad) = TrainingPass(new GaussianNoise(0.1, seed: 3), new Shape(4, 5));
        Assert.That(grad, Is.EqualTo(c));
        var noise = x.Select((v, i) => y[i] - v).ToArray();
        Assert.That(noise, Has.All.Not.EqualTo(0.0));
        var std = Math.Sqrt(noise.Select(n => n * n).Average());
        Assert.That(std, Is.InRange(0.05, 0.2), "20 draws of N(0, 0.1²)");
    }

    [Test]
    public void ActivityRegularizationTrainingPenaltyAndItsGradient()
    {
        // penalty = mean over the batch of Σ_row (l1·|x| + l2·x²), so ∂penalty/∂x = (l1·sign(x) + 2·l2·x) / batch.
        const double L1 = 0.1, L2 = 0.2;
        var shape = new Shape(3, 4);
        var (xv, _) = TrainingInputs(shape);
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, shape, "x");
        var layer = new ActivityRegularization(L1, L2);
        var y = layer.Apply(x, training: true);
        var penalty = layer.Losses.Single();
        var grad = g.Gradients(penalty, x)[0];
        using var s = new Session(g, Device.Reference);
        var outs = s.Run([y, penalty, grad], new Dictionary<Output, Tensor> { [x] = xv });
        var xs = xv.ToDoubleArray();
        Assert.That(outs[0].ToDoubleArray(), Is.EqualTo(xs), "the layer itself is the identity");
        Assert.That(outs[1].ToDoubleArray()[0], Is.EqualTo(xs.Sum(v => L1 * Math.Abs(v) + L2 * v * v) / 3).Within(1e-14));
        var expected = xs.Select(v => (L1 * Math.Sign(v) + 2 * L2 * v) / 3).ToArray();
        Assert.That(outs[2].ToDoubleArray(), Is.EqualTo(expected).Within(1e-15));
        // And the symbolic gradient agrees with central differences (|x| ≥ 0.2 keeps them off the kink of |x|).
        var check = GradientCheck.Check(g, penalty, [x], [xs]);
        Assert.That(check.Passed, Is.True, () => check.ToString());
    }

    [Test]
    public void MergeLayersGradients()
    {
        Assert.That(LayerGradientCheck.Run(new Add(), [new Shape(2, 3), new Shape(2, 3), new Shape(2, 3)], false), Is.LessThanOrEqualTo(1.0));
        Assert.That(LayerGradientCheck.Run(new Concatenate(), [new Shape(2, 3), new Shape(2, 1)], false), Is.LessThanOrEqualTo(1.0));
        Assert.That(LayerGradientCheck.Run(new Concatenate(axis: 0), [new Shape(1, 3), new Shape(2, 3)], false), Is.LessThanOrEqualTo(1.0));
    }
}

/// <summary>Checks ∂(Σ c·layer(x))/∂x and /∂w for every weight w with the public <see cref="GradientCheck"/> (float64, Reference device).</summary>
internal static class LayerGradientCheck
{
    /// <summary>Returns the worst error as a multiple of the default tolerance (≤ 1 passes; asserted here too).</summary>
    public static double Run(Layer layer, Shape[] inputShapes, bool training)
    {
        var g = new Graph();
        var xs = inputShapes.Select((s, i) => g.Placeholder(DType.Float64, s, $"x{i}")).ToArray();
        var y = layer.Apply(xs, training)[0];
        var result = GradientCheck.Check(g, y, xs, Inputs(inputShapes), layer.Weights);
        Assert.That(result.Inputs, Has.Count.EqualTo(xs.Length + layer.Weights.Count));
        Assert.That(result.Passed, Is.True, () => result.ToString());
        return result.WorstRatio;
    }

    /// <summary>Magnitudes in [0.2, 1.2] with random signs keep every input away from the kinks at 0.</summary>
    private static double[][] Inputs(Shape[] shapes) =>
        shapes.Select((s, i) =>
        {
            var mag = Tensor.RandomUniform(s, 0.2, 1.2, seed: (ulong)(11 + i), dtype: DType.Float64).ToDoubleArray();
            var sign = Tensor.RandomUniform(s, 0, 1, seed: (ulong)(31 + i), dtype: DType.Float64).ToDoubleArray();
            return mag.Select((m, k) => sign[k] < 0.5 ? -m : m).ToArray();
        }).ToArray();
}
