using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Tests.Support;

namespace Nabla.Tests.Layers;

/// <summary>
/// Pooling, spatial, batch-normalisation and activation layers: float64 gradient checks (input and every weight),
/// known values, Summary counts, BatchNormalization's moving statistics against a hand computation, frozen-BN
/// behaviour and save/load of the moving statistics.
/// </summary>
public sealed class ConvNetLayerTests : KerasTestBase
{
    private static IEnumerable<TestCaseData> GradientCases()
    {
        TestCaseData Case(string name, Func<Layer> make, int[] shape, bool training = false) =>
            new TestCaseData(make, shape, training).SetName($"Gradient_{name}");
        // Random magnitudes in [0.2, 1.2] with random signs: no ties within a pooling window.
        yield return Case("MaxPooling2D", () => new MaxPooling2D(), [2, 4, 4, 3]);
        yield return Case("MaxPooling2D_same_strides1", () => new MaxPooling2D([3, 3], [1, 1], "same"), [1, 3, 5, 2]);
        yield return Case("AveragePooling2D_same", () => new AveragePooling2D([2, 3], [2, 2], "same"), [2, 5, 5, 2]);
        yield return Case("MaxPooling1D", () => new MaxPooling1D(3, 2), [2, 7, 2]);
        yield return Case("AveragePooling1D_same", () => new AveragePooling1D(2, padding: "same"), [2, 5, 3]);
        yield return Case("GlobalAveragePooling2D", () => new GlobalAveragePooling2D(), [2, 3, 3, 2]);
        yield return Case("GlobalMaxPooling2D", () => new GlobalMaxPooling2D(), [2, 3, 3, 2]);
        yield return Case("GlobalAveragePooling1D", () => new GlobalAveragePooling1D(), [2, 4, 3]);
        yield return Case("GlobalMaxPooling1D_keepDims", () => new GlobalMaxPooling1D(keepDims: true), [2, 4, 3]);
        yield return Case("UpSampling2D", () => new UpSampling2D([2, 3]), [2, 2, 3, 2]);
        yield return Case("ZeroPadding2D", () => new ZeroPadding2D([1, 0, 2, 1]), [1, 2, 3, 2]);
        yield return Case("Cropping2D", () => new Cropping2D([1, 1]), [2, 4, 4, 1]);
        yield return Case("BatchNormalization_inference", () => new BatchNormalization(), [3, 2, 2, 3]);
        yield return Case("BatchNormalization_training", () => new BatchNormalization(), [3, 2, 2, 3], training: true);
        yield return Case("BatchNormalization_rank2_training", () => new BatchNormalization(center: false), [5, 4], training: true);
        yield return Case("LeakyReLU", () => new LeakyReLU(), [3, 4]);
        yield return Case("ReLU_capped_sloped_threshold", () => new ReLU(1.0, 0.1, 0.5), [4, 5]);
        yield return Case("ELU", () => new ELU(0.7), [3, 4]);
        yield return Case("Softmax_axis1", () => new Softmax(1), [2, 3, 4]);
        yield return Case("SpatialDropout2D_inference", () => new SpatialDropout2D(0.5), [2, 2, 2, 3]);
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientsMatchCentralDifferences(Func<Layer> make, int[] shape, bool training) =>
        Assert.That(LayerGradientCheck.Run(make(), [new Shape(shape)], training), Is.LessThanOrEqualTo(1.0));

    private static double[] Eval(Layer layer, Tensor x, bool training = false)
    {
        var g = new Graph();
        var p = g.Placeholder(x.DType, x.Shape, "x");
        var y = layer.Apply(p, training);
        using var s = new Session(g, Device.Cpu);
        if (g.Variables.Count > 0) s.Run([], null, g.Variables.Select(v => v.Initializer).ToArray());
        return s.Run(y, new Dictionary<Output, Tensor> { [p] = x }).ToDoubleArray();
    }

    [Test]
    public void ActivationLayersKnownValues()
    {
        var x = Tensor.FromArray(new double[] { -2, -0.5, 0, 0.5, 2, 8 }, 1, 6);
        Assert.That(Eval(new LeakyReLU(), x), Is.EqualTo(new[] { -0.6, -0.15, 0, 0.5, 2, 8 }).Within(1e-12));
        Assert.That(Eval(new ReLU(), x), Is.EqualTo(new double[] { 0, 0, 0, 0.5, 2, 8 }));
        Assert.That(Eval(new ReLU(maxValue: 6), x), Is.EqualTo(new double[] { 0, 0, 0, 0.5, 2, 6 }));
        // Keras: negative_slope·(x − threshold) below the threshold, x from it up to max_value.
        Assert.That(Eval(new ReLU(6, 0.1, 1), x), Is.EqualTo(new[] { -0.3, -0.15, -0.1, -0.05, 2, 6 }).Within(1e-12));
        Assert.That(Eval(new ReLU(threshold: 1), x), Is.EqualTo(new double[] { 0, 0, 0, 0, 2, 8 }));
        Assert.That(Eval(new ELU(), x), Is.EqualTo(new[] { Math.Exp(-2) - 1, Math.Exp(-0.5) - 1, 0, 0.5, 2, 8 }).Within(1e-12));
        var m = Tensor.FromArray(new double[] { 0, 1, 2, 3 }, 2, 2);
        var e = Math.Exp(2);
        Assert.That(Eval(new Softmax(0), m), Is.EqualTo(new[] { 1 / (1 + e), 1 / (1 + e), e / (1 + e), e / (1 + e) }).Within(1e-12));
        Assert.That(() => new ReLU(maxValue: -1), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new LeakyReLU(-0.1), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => new MaxPooling2D([2, 2], padding: "full"), Throws.ArgumentException.With.Message.Contains("padding"));
        Assert.That(() => new ZeroPadding2D([1, -1]), Throws.ArgumentException.With.Message.Contains("≥ 0"));
    }

    [Test]
    public void SpatialDropoutDropsWholeChannels()
    {
        var x = Tensor.Fill(new Shape(4, 3, 3, 8), 1, DType.Float64);
        var y = Eval(new SpatialDropout2D(0.5, seed: 3), x, training: true);
        var dropped = 0;
        for (var n = 0; n < 4; n++)
            for (var c = 0; c < 8; c++)
            {
                var values = Enumerable.Range(0, 9).Select(k => y[(n * 9 + k) * 8 + c]).Distinct().ToArray();
                Assert.That(values, Has.Length.EqualTo(1), "one value per (image, channel)");
                Assert.That(values[0], Is.EqualTo(0).Or.EqualTo(2.0));
                if (values[0] == 0) dropped++;
            }
        Assert.That(dropped, Is.InRange(4, 28), "about half of 32 channels dropped");
        Assert.That(Eval(new SpatialDropout2D(0.5), x), Is.All.EqualTo(1.0), "identity at inference");
    }

    private static Sequential SmallConvNet(int[] input) => new(
    [
        new BatchNormalization(inputShape: input),
        new MaxPooling2D(),
        new UpSampling2D(),
        new ZeroPadding2D([1, 1]),
        new Cropping2D([1, 1]),
        new AveragePooling2D([2, 2], [1, 1], "same"),
        new LeakyReLU(),
        new GlobalAveragePooling2D(),
        new Dense(2),
    ]);

    [Test]
    public void SummaryShowsFourWeightsPerChannelTwoOfThemNonTrainable()
    {
        var model = SmallConvNet([4, 4, 3]);
        var text = model.Summary(_ => { });
        // BN: 4·3 = 12 (6 non-trainable); Dense: 3·2 + 2 = 8.
        Assert.That(text, Does.Contain("Total params: 20"));
        Assert.That(text, Does.Contain("Trainable params: 14"));
        Assert.That(text, Does.Contain("Non-trainable params: 6"));
        Assert.That(text, Does.Contain(" batch_normalization (BatchN (None, 4, 4, 3)           12        "));
        Assert.That(text, Does.Contain("(None, 2, 2, 3)"));
        Assert.That(text, Does.Contain("(None, 3)"));
        var bn = (BatchNormalization)model.Layers[0];
        Assert.That(bn.Weights.Select(w => w.Name), Is.EqualTo(new[] { "batch_normalization/gamma", "batch_normalization/beta", "batch_normalization/moving_mean", "batch_normalization/moving_variance" }));
    }

    /// <summary>
    /// Two training steps: the moving statistics follow Keras's m ← m·0.99 + batch·0.01, with the Bessel-corrected
    /// batch variance (TF's fused kernel), computed here by hand from the float32 batches.
    /// </summary>
    [Test]
    public void MovingStatisticsAfterTrainingStepsMatchAHandComputation()
    {
        var model = SmallConvNet([4, 4, 3]);
        model.Compile(new SGD(0.01), new MeanSquaredError());
        var batches = new[] { Tensor.RandomNormal(new Shape(5, 4, 4, 3), 1, 2, 7), Tensor.RandomNormal(new Shape(5, 4, 4, 3), -1, 0.5, 8) };
        var targets = Tensor.Zeros(new Shape(5, 2), DType.Float32);
        double[] mean = [0, 0, 0], variance = [1, 1, 1];
        foreach (var b in batches)
        {
            model.TrainOnBatch(b, targets);
            var v = b.ToDoubleArray();
            var n = v.Length / 3;
            for (var c = 0; c < 3; c++)
            {
                var xs = Enumerable.Range(0, n).Select(i => v[i * 3 + c]).ToArray();
                var mu = xs.Average();
                var unbiased = xs.Sum(t => (t - mu) * (t - mu)) / (n - 1);
                mean[c] = mean[c] * 0.99 + mu * 0.01;
                variance[c] = variance[c] * 0.99 + unbiased * 0.01;
            }
        }
        var w = model.GetWeights();
        OpHarness.AssertClose(mean, w[2].ToDoubleArray(), 1e-5, 1e-7, "moving_mean");
        OpHarness.AssertClose(variance, w[3].ToDoubleArray(), 1e-5, 1e-7, "moving_variance");
        Assert.That(w[0].ToDoubleArray(), Is.Not.EqualTo(new double[] { 1, 1, 1 }), "gamma is trained");
        // Evaluation and prediction do not move the statistics.
        model.Evaluate(batches[0], targets);
        model.Predict(batches[0]);
        Assert.That(model.GetWeights()[2].ToDoubleArray(), Is.EqualTo(w[2].ToDoubleArray()));
    }

    /// <summary>Inference uses the moving statistics: y = γ(x − m)/√(v + ε) + β, checked at given statistics.</summary>
    [Test]
    public void InferenceUsesTheMovingStatistics()
    {
        var model = new Sequential([new BatchNormalization(epsilon: 0.01, inputShape: [2])]);
        model.SetWeights([Tensor.FromArray(new float[] { 2, 3 }, 2), Tensor.FromArray(new float[] { 1, -1 }, 2),
            Tensor.FromArray(new float[] { 0.5f, -2 }, 2), Tensor.FromArray(new float[] { 4, 0.25f }, 2)]);
        var y = model.Predict(Tensor.FromArray(new float[] { 1, 0, 2.5f, -2 }, 2, 2)).ToDoubleArray();
        double[] expected = [2 * 0.5 / Math.Sqrt(4.01) + 1, 3 * 2 / Math.Sqrt(0.26) - 1, 2 * 2 / Math.Sqrt(4.01) + 1, 3 * 0 / Math.Sqrt(0.26) - 1];
        OpHarness.AssertClose(expected, y, 1e-6, 1e-6, "y");
    }

    /// <summary>A frozen layer runs in inference mode (TF2): no statistics update, no γ/β update, moving statistics used while training.</summary>
    [Test]
    public void FrozenBatchNormalizationRunsInInferenceMode()
    {
        var model = SmallConvNet([4, 4, 3]);
        var bn = (BatchNormalization)model.Layers[0];
        bn.Trainable = false;
        model.Compile(new SGD(0.1), new MeanSquaredError());
        var before = model.GetWeights();
        var x = Tensor.RandomNormal(new Shape(6, 4, 4, 3), 3, 2, 9);
        var targets = Tensor.RandomNormal(new Shape(6, 2), 0, 1, 10);
        model.TrainOnBatch(x, targets);
        var after = model.GetWeights();
        for (var i = 0; i < 4; i++) Assert.That(after[i].ToDoubleArray(), Is.EqualTo(before[i].ToDoubleArray()), $"BN weight {i} unchanged");
        Assert.That(after[4].ToDoubleArray(), Is.Not.EqualTo(before[4].ToDoubleArray()), "the Dense kernel still trains");
        // The training step's loss (computed before its update) equals the evaluation loss: the frozen layer normalised
        // with the moving statistics (0 and 1) while training, not with this batch's (mean 3, variance 4).
        var evalLoss = model.Evaluate(x, targets)["loss"];
        var trainLoss = model.TrainOnBatch(x, targets)["loss"];
        Assert.That(trainLoss, Is.EqualTo(evalLoss).Within(1e-5 * Math.Abs(evalLoss)));
        Assert.That(bn.TrainableWeights, Is.Empty);
        Assert.That(bn.NonTrainableWeights, Has.Count.EqualTo(4));
        Assert.That(model.GetWeights()[2].ToDoubleArray(), Is.EqualTo(before[2].ToDoubleArray()));
    }

    /// <summary>Freezing a model that contains the layer freezes it too (Keras sets trainable recursively).</summary>
    [Test]
    public void BatchNormalizationInsideAFrozenModelRunsInInferenceMode()
    {
        var inner = new Sequential([new BatchNormalization(inputShape: [3])]);
        var outer = new Sequential([inner, new Dense(1)]);
        inner.Trainable = false;
        outer.Compile(new SGD(0.1), new MeanSquaredError());
        var x = Tensor.RandomNormal(new Shape(8, 3), 5, 2, 13);
        var y = Tensor.Zeros(new Shape(8, 1), DType.Float32);
        var evalLoss = outer.Evaluate(x, y)["loss"];
        var trainLoss = outer.TrainOnBatch(x, y)["loss"];
        Assert.That(trainLoss, Is.EqualTo(evalLoss).Within(1e-5 * Math.Abs(evalLoss)));
        var bn = (BatchNormalization)inner.Layers[0];
        Assert.That(Keras.GetSession(bn.Graph).Run(bn.MovingMean.Value).ToDoubleArray(), Is.EqualTo(new double[] { 0, 0, 0 }));
    }

    [Test]
    public void SaveAndLoadKeepTheMovingStatistics()
    {
        var dir = Path.Combine(Path.GetTempPath(), "nabla-bn-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var model = SmallConvNet([4, 4, 3]);
            model.Compile(new SGD(0.05), new MeanSquaredError());
            var x = Tensor.RandomNormal(new Shape(8, 4, 4, 3), 2, 3, 11);
            var y = Tensor.RandomNormal(new Shape(8, 2), 0, 1, 12);
            model.Fit(x, y, batchSize: 4, epochs: 2, verbose: 0);
            var path = Path.Combine(dir, "bn.safetensors");
            model.SaveWeights(path);
            var expected = model.Predict(x).ToArray<float>();
            var stats = model.GetWeights()[2..4].Select(t => t.ToDoubleArray()).ToArray();
            Assert.That(stats[0], Is.Not.EqualTo(new double[] { 0, 0, 0 }), "the moving mean moved");

            Keras.ClearSession();
            var other = SmallConvNet([4, 4, 3]);
            other.LoadWeights(path);
            Assert.That(other.GetWeights()[2].ToDoubleArray(), Is.EqualTo(stats[0]));
            Assert.That(other.GetWeights()[3].ToDoubleArray(), Is.EqualTo(stats[1]));
            Assert.That(other.Predict(x).ToArray<float>(), Is.EqualTo(expected));
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    /// <summary>A custom training loop: updates from a layer applied outside a model are exposed on <see cref="Layer.Updates"/>.</summary>
    [Test]
    public void UpdatesOutsideAModelAreExposed()
    {
        var g = new Graph();
        var bn = new BatchNormalization(momentum: 0.5);
        var x = g.Placeholder(DType.Float32, new Shape(-1, 2), "x");
        bn.Apply(x, training: true);
        Assert.That(bn.Updates, Has.Count.EqualTo(2));
        using var s = new Session(g, Device.Cpu);
        s.Run([], null, g.Variables.Select(v => v.Initializer).ToArray());
        s.Run([], new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new float[] { 1, 2, 3, 6 }, 2, 2) }, [.. bn.Updates]);
        Assert.That(s.Run(bn.MovingMean.Value).ToDoubleArray(), Is.EqualTo(new[] { 1.0, 2 }));
        // Unbiased variances 2 and 8, halfway from 1.
        Assert.That(s.Run(bn.MovingVariance.Value).ToDoubleArray(), Is.EqualTo(new[] { 1.5, 4.5 }));
    }
}
