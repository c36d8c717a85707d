using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class SubclassingTests : KerasTestBase
{
    /// <summary>W4: y = w·x + b as a custom model class.</summary>
    private sealed class LinearModel : Model
    {
        private readonly Dense _dense = new(1, name: "linear");

        protected override Output Call(Output inputs, bool training) => _dense.Apply(inputs, training);
    }

    /// <summary>The VAE reparameterisation layer: z = mean + exp(log_var / 2)·ε.</summary>
    private sealed class Sampling : Layer
    {
        protected override Output[] Call(Output[] inputs, bool training)
        {
            var (mean, logVar) = (inputs[0], inputs[1]);
            var g = mean.Graph;
            return [mean + g.Exp(logVar * 0.5) * g.RandomNormalLike(mean, seed: 7)];
        }
    }

    /// <summary>A tiny VAE: the KL term is added with AddLoss inside Call.</summary>
    private sealed class TinyVae : Model
    {
        private readonly Dense _hidden = new(8, "selu");
        private readonly Dense _mean = new(2);
        private readonly Dense _logVar = new(2);
        private readonly Sampling _sampling = new();
        private readonly Dense _decode = new(6, "sigmoid");

        protected override Output Call(Output inputs, bool training)
        {
            var g = inputs.Graph;
            var h = _hidden.Apply(inputs, training);
            var mean = _mean.Apply(h, training);
            var logVar = _logVar.Apply(h, training);
            var z = _sampling.Apply([mean, logVar], training)[0];
            var kl = -0.5 * g.ReduceSum(1.0 + logVar - g.Exp(logVar) - g.Square(mean), -1);
            AddLoss(g.ReduceMean(kl) / 6.0);
            return _decode.Apply(z, training);
        }
    }

    [Test]
    public void W4LinearRegressionFitsTheLine()
    {
        var xs = Enumerable.Range(0, 10).Select(i => (float)i).ToArray();
        var ys = xs.Select(v => 3 * v + 2).ToArray();
        var model = new LinearModel();
        model.Compile(new SGD(0.01), new MeanSquaredError());
        model.Fit(Tensor.FromArray(xs, 10, 1), Tensor.FromArray(ys, 10, 1), batchSize: 10, epochs: 2000, verbose: 0, shuffle: false);
        var w = model.Weights.Select(v => model.Session.Run(v.Value).ToArray<float>()[0]).ToArray();
        Assert.That(w[0], Is.EqualTo(3).Within(0.05));
        Assert.That(w[1], Is.EqualTo(2).Within(0.2));
        Assert.That(model.Layers.Single().Name, Is.EqualTo("linear"), "layers used in Call are tracked without registration");
    }

    [Test]
    public void AddLossTermsAreTrainedAndReported()
    {
        var model = new TinyVae();
        var x = Tensor.RandomUniform(new Shape(64, 6), seed: 2);
        model.Compile(new SGD(0.05), new BinaryCrossentropy());
        var withKl = model.Evaluate(x, x)["loss"];
        var recon = model.Predict(x);
        var history = model.Fit(x, x, batchSize: 16, epochs: 10, verbose: 0);
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0]));
        Assert.That(model.CountParams(), Is.EqualTo(6 * 8 + 8 + 2 * (8 * 2 + 2) + 2 * 6 + 6));

        // The reported loss is the reconstruction loss plus the KL term, computed here by hand from the same weights.
        var bce = Bce(x.ToArray<float>(), recon.ToArray<float>());
        Assert.That(withKl, Is.GreaterThan(bce), "the KL term from AddLoss must be part of the evaluated loss");
    }

    private static double Bce(float[] t, float[] p)
    {
        double sum = 0;
        for (var i = 0; i < t.Length; i++) sum -= t[i] * Math.Log(p[i]) + (1 - t[i]) * Math.Log(1 - p[i]);
        return sum / t.Length;
    }

    [Test]
    public void CustomLayerWithWeights()
    {
        var layer = new Scale();
        var input = Keras.Input(3);
        var model = new Model(input, layer.Apply(input));
        Assert.That(layer.Weights.Single().Name, Is.EqualTo("scale/alpha"));
        var y = model.Predict(Tensor.FromArray([1f, 2f, 3f], 1, 3));
        Assert.That(y.ToArray<float>(), Is.EqualTo(new[] { 2f, 4f, 6f }));
    }

    private sealed class Scale : Layer
    {
        private Variable? _alpha;

        protected override void Build(Shape inputShape) => _alpha = AddWeight("alpha", Shape.Scalar, Initializer.Fill(2));

        protected override Output Call(Output inputs, bool training) => inputs * _alpha!.Value;
    }
}
