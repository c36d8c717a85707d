using NUnit.Framework;
using Nabla.Layers;

namespace Nabla.Tests.Layers;

/// <summary>
/// Float64 central-difference checks of every layer's gradient with respect to its input and to each
/// of its weights, on the Reference device. Tolerance 1e−6 relative: float64 central differences with
/// h = 1e−6 are accurate to ~1e−9 for these smooth functions; the kinks of relu/leaky_relu/elu are avoided
/// by inputs bounded away from 0.
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

    [Test]
    public void DropoutTrainingGradientUsesTheSameMask()
    {
        // The same seed in a fresh graph gives the same mask, and each run of the check reruns the same plan,
        // but the counter advances per run; so compare the analytic gradient to the mask itself instead.
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(4, 5), "x");
        var y = new Dropout(0.5, seed: 3).Apply(x, training: true);
        var grad = g.Gradients(g.ReduceSum(y), x)[0];
        using var s = new Session(g, Device.Reference);
        var ones = Tensor.Ones(new Shape(4, 5), DType.Float64);
        var outs = s.Run([y, grad], new Dictionary<Output, Tensor> { [x] = ones });
        Assert.That(outs[1].ToDoubleArray(), Is.EqualTo(outs[0].ToDoubleArray()), "∂Σy/∂x is the mask, which equals y for x = 1");
        Assert.That(outs[0].ToDoubleArray().Distinct().OrderBy(v => v), Is.EqualTo(new[] { 0.0, 2.0 }));
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
