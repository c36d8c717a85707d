using Nabla.Layers;
using Nabla.Optimizers;
using NUnit.Framework;

namespace Nabla.Tests.Layers;

/// <summary>
/// Conv1D, Conv2D and Conv2DTranspose layers: Keras's kernel layouts, output shapes and parameter counts in Summary
/// (VGG16's 138,357,544 with the pooling replaced by a 7×7 input, which changes no count), argument checks, float64
/// gradient checks against central differences, and small convolutional models that learn on the CPU.
/// </summary>
public sealed class ConvolutionLayerTests : KerasTestBase
{
    [Test]
    public void Conv2DOn28x28x1Has320Parameters()
    {
        var model = new Sequential([new Conv2D(32, 3, inputShape: [28, 28, 1])]);
        var text = model.Summary(_ => { });
        Assert.That(model.CountParams(), Is.EqualTo(320));
        Assert.That(text, Does.Contain(" conv2d (Conv2D)             (None, 26, 26, 32)        320       "));
        Assert.That(((Conv2D)model.Layers[0]).Kernel.Shape, Is.EqualTo(new Shape(3, 3, 1, 32)), "HWIO");
    }

    [Test]
    public void Vgg16ConvolutionAndDenseStackHasKerasParameterCount()
    {
        // VGG16's convolutions (all 3×3 "same") and classifier. Pooling has no parameters: a 7×7 input gives the
        // classifier the same 7·7·512 = 25,088 features that five poolings of 224×224 do.
        var model = new Sequential();
        model.Add(new InputLayer([7, 7, 3]));
        foreach (var (filters, count) in new[] { (64, 2), (128, 2), (256, 3), (512, 3), (512, 3) })
            for (var i = 0; i < count; i++) model.Add(new Conv2D(filters, 3, padding: "same", activation: "relu"));
        model.Add(new Flatten());
        model.Add(new Dense(4096, "relu"));
        model.Add(new Dense(4096, "relu"));
        model.Add(new Dense(1000, "softmax"));
        var text = model.Summary(_ => { });
        Assert.That(model.CountParams(), Is.EqualTo(138_357_544));
        Assert.That(text, Does.Contain("Total params: 138,357,544"));
        Assert.That(text, Does.Contain(" conv2d_12 (Conv2D)          (None, 7, 7, 512)         2359808   "));
    }

    [Test]
    public void Conv1DAndConv2DTransposeShapesAndCounts()
    {
        // W19's Conv1D(256, 3) on 200 steps of 256 features: 3·256·256 + 256 = 196,864.
        var c1 = new Sequential([new Conv1D(256, 3, activation: "relu", inputShape: [200, 256])]);
        Assert.That(c1.CountParams(), Is.EqualTo(196_864));
        Assert.That(c1.Summary(_ => { }), Does.Contain("(None, 198, 256)"));
        Assert.That(((Conv1D)c1.Layers[0]).Kernel.Shape, Is.EqualTo(new Shape(3, 256, 256)));
        Keras.ClearSession();
        // Keras stores the transpose kernel as [kh, kw, filters, in]; 7 → 7·2 + max(3 − 2, 0) = 15 with "valid".
        var t = new Sequential([new Conv2DTranspose(32, 3, strides: [2, 2], inputShape: [7, 7, 64]), new Conv2DTranspose(16, 3, strides: [2, 2], padding: "same")]);
        Assert.That(t.CountParams(), Is.EqualTo(3 * 3 * 32 * 64 + 32 + 3 * 3 * 16 * 32 + 16));
        var summary = t.Summary(_ => { });
        Assert.That(summary, Does.Contain("(None, 15, 15, 32)").And.Contain("(None, 30, 30, 16)"));
        Assert.That(((Conv2DTranspose)t.Layers[0]).Kernel.Shape, Is.EqualTo(new Shape(3, 3, 32, 64)));
        Keras.ClearSession();
        var causal = new Sequential([new Conv1D(4, 3, padding: "causal", dilationRate: 2, useBias: false, inputShape: [10, 2])]);
        Assert.That(causal.Summary(_ => { }), Does.Contain("(None, 10, 4)"));
        Assert.That(causal.CountParams(), Is.EqualTo(3 * 2 * 4));
    }

    private static IEnumerable<TestCaseData> BadArguments() =>
    [
        new TestCaseData((Action)(() => _ = new Conv2D(0, 3)), "filters must be positive").SetName("zero filters"),
        new TestCaseData((Action)(() => _ = new Conv2D(4, [3, 3, 3])), "kernelSize needs 1 or 2 entries").SetName("three kernel sizes"),
        new TestCaseData((Action)(() => _ = new Conv2D(4, 3, strides: [0])), "strides must be positive").SetName("zero stride"),
        new TestCaseData((Action)(() => _ = new Conv2D(4, 3, padding: "causal")), "padding must be one of \"valid\", \"same\"").SetName("causal Conv2D"),
        new TestCaseData((Action)(() => _ = new Conv1D(4, 3, padding: "full")), "padding must be one of \"valid\", \"same\", \"causal\"").SetName("unknown Conv1D padding"),
        new TestCaseData((Action)(() => _ = new Conv2DTranspose(4, 3, strides: [2], outputPadding: [2])), "must be smaller than the strides").SetName("output padding ≥ stride"),
    ];

    [TestCaseSource(nameof(BadArguments))]
    public void BadArgumentsAreRefused(Action make, string message)
    {
        var ex = Assert.Catch<ArgumentException>(() => make());
        Assert.That(ex!.Message, Does.Contain(message));
    }

    [Test]
    public void AnInputWithoutChannelsIsRefusedNamingTheLayer()
    {
        var g = new Graph();
        var ex = Assert.Throws<ShapeException>(() => new Conv2D(4, 3, name: "c").Apply(g.Placeholder(DType.Float32, new Shape(-1, 5, 5))));
        Assert.That(ex!.Message, Does.Contain("Conv2D 'c': the input must be [batch, height, width, channels]"));
    }

    private static IEnumerable<TestCaseData> GradientCases()
    {
        yield return new TestCaseData((Func<Layer>)(() => new Conv2D(3, 3, activation: "tanh")), new[] { 2, 5, 4, 2 }).SetName("Conv2D_valid_tanh");
        yield return new TestCaseData((Func<Layer>)(() => new Conv2D(2, [2, 3], strides: [2, 1], padding: "same")), new[] { 1, 5, 5, 3 }).SetName("Conv2D_same_stride2_batch1");
        yield return new TestCaseData((Func<Layer>)(() => new Conv2D(2, 3, padding: "same", dilationRate: [2], useBias: false)), new[] { 2, 5, 6, 1 }).SetName("Conv2D_dilated_nobias");
        yield return new TestCaseData((Func<Layer>)(() => new Conv1D(3, 3, padding: "causal", activation: "sigmoid")), new[] { 2, 6, 2 }).SetName("Conv1D_causal");
        yield return new TestCaseData((Func<Layer>)(() => new Conv1D(2, 2, strides: 2)), new[] { 1, 7, 3 }).SetName("Conv1D_stride2");
        yield return new TestCaseData((Func<Layer>)(() => new Conv2DTranspose(2, 3, strides: [2, 2], padding: "same", outputPadding: [1, 1], activation: "tanh")), new[] { 2, 3, 2, 2 }).SetName("Conv2DTranspose_same_outputPadding");
        yield return new TestCaseData((Func<Layer>)(() => new Conv2DTranspose(3, [2, 3], strides: [1, 2])), new[] { 1, 2, 3, 1 }).SetName("Conv2DTranspose_valid");
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientsMatchCentralDifferences(Func<Layer> make, int[] shape) =>
        Assert.That(LayerGradientCheck.Run(make(), [new Shape(shape)], training: false), Is.LessThanOrEqualTo(1.0));

    /// <summary>8×8 images, each a bright horizontal (class 0) or vertical (class 1) bar at a random place, plus noise.</summary>
    private static (Tensor X, Tensor Y) Bars(int n, ulong seed)
    {
        var noise = Tensor.RandomUniform(new Shape(n, 8, 8, 1), 0, 0.3, seed).ToArray<float>();
        var place = Tensor.RandomUniform(new Shape(n), 0, 8, seed + 1).ToArray<float>();
        var x = new float[n * 64];
        var y = new int[n];
        for (var i = 0; i < n; i++)
        {
            y[i] = i % 2;
            var p = (int)place[i];
            for (var k = 0; k < 64; k++)
            {
                int r = k / 8, c = k % 8;
                x[i * 64 + k] = noise[i * 64 + k] + ((y[i] == 0 ? r : c) == p ? 1f : 0f);
            }
        }
        return (Tensor.FromArray(x, n, 8, 8, 1), Tensor.FromArray(y, n));
    }

    [Test]
    public void ASmallConvNetLearnsBarOrientation()
    {
        var (x, y) = Bars(256, 3);
        var model = new Sequential([
            new Conv2D(6, 3, padding: "same", activation: "relu", kernelInitializer: Initializer.GlorotUniform(1), inputShape: [8, 8, 1]),
            new Conv2D(8, 3, strides: [2, 2], activation: "relu", kernelInitializer: Initializer.GlorotUniform(2)),
            new Flatten(),
            new Dense(2, "softmax", kernelInitializer: Initializer.GlorotUniform(3)),
        ]);
        model.Compile(new Adam(0.01), new SparseCategoricalCrossentropy(), "accuracy");
        var history = model.Fit(x, y, batchSize: 32, epochs: 8, verbose: 0);
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0] * 0.5));
        Assert.That(model.Evaluate(x, y, batchSize: 64)["accuracy"], Is.GreaterThan(0.95));
    }

    [Test]
    public void AConvAutoencoderWithTransposeReducesItsReconstructionError()
    {
        var (x, _) = Bars(128, 5);
        var model = new Sequential([
            new Conv2D(8, 3, strides: [2, 2], padding: "same", activation: "relu", kernelInitializer: Initializer.GlorotUniform(1), inputShape: [8, 8, 1]),
            new Conv2DTranspose(8, 3, strides: [2, 2], padding: "same", activation: "relu", kernelInitializer: Initializer.GlorotUniform(2)),
            new Conv2D(1, 3, padding: "same", kernelInitializer: Initializer.GlorotUniform(3)),
        ]);
        model.Compile(new Adam(0.01), new MeanSquaredError());
        var history = model.Fit(x, x, batchSize: 32, epochs: 10, verbose: 0);
        Assert.That(model.Predict(x, batchSize: 64).Shape, Is.EqualTo(x.Shape));
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0] * 0.5));
    }
}
