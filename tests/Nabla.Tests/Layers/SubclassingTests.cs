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

    /// <summary>
    /// The VAE reparameterisation layer: z = mean + exp(log_var / 2)·ε in training, z = mean in inference, so that
    /// evaluate and predict see the same z and the reported loss can be recomputed by hand.
    /// </summary>
    private sealed class Sampling : Layer
    {
        protected override Output[] Call(Output[] inputs, bool training)
        {
            var (mean, logVar) = (inputs[0], inputs[1]);
            var g = mean.Graph;
            return [training ? mean + g.Exp(logVar * 0.5) * g.RandomNormalLike(mean, seed: 7) : mean];
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
        var before = model.Evaluate(x, x)["loss"];
        Assert.That(model.CountParams(), Is.EqualTo(6 * 8 + 8 + 2 * (8 * 2 + 2) + 2 * 6 + 6));
        // The reported loss is the reconstruction loss plus the KL term, recomputed here by hand from the same
        // weights in the same (deterministic, inference) pass; float32 forward error is ~1e-6 of these O(1) values.
        var (recon, loss) = ByHand(model, x.ToArray<float>());
        Assert.That(model.Predict(x).ToArray<float>(), Is.EqualTo(recon).Within(1e-5));
        Assert.That(before, Is.EqualTo(loss).Within(2e-5));
        var kl = loss - Bce(x.ToArray<float>(), recon);
        Assert.That(kl, Is.GreaterThan(1e-3), "the KL term is material here, so the check above would see it missing");

        var history = model.Fit(x, x, batchSize: 16, epochs: 10, verbose: 0);
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0]));
        Assert.That(model.Evaluate(x, x)["loss"], Is.EqualTo(ByHand(model, x.ToArray<float>()).Loss).Within(2e-5), "after training, the trained weights");
    }

    /// <summary>TinyVae's inference forward pass and loss (BCE + mean KL / 6) in float64 from its float32 weights.</summary>
    private static (float[] Recon, double Loss) ByHand(Model model, float[] x)
    {
        var w = model.Weights.Select(v => (Shape: v.Shape, Values: model.Session.Run(v.Value).ToDoubleArray())).ToArray();
        Assert.That(w.Select(v => v.Shape.ToString()), Is.EqualTo(new[] { "[6,8]", "[8]", "[8,2]", "[2]", "[8,2]", "[2]", "[2,6]", "[6]" }));
        const double SeluScale = 1.0507009873554805, SeluAlpha = 1.6732632423543772;
        double[] Dense(double[] input, int k, (Shape Shape, double[] Values) kernel, (Shape Shape, double[] Values) bias, Func<double, double> act)
        {
            var (n, m) = (input.Length / k, kernel.Shape[1]);
            var y = new double[n * m];
            for (var i = 0; i < n; i++)
                for (var j = 0; j < m; j++)
                {
                    var sum = bias.Values[j];
                    for (var t = 0; t < k; t++) sum += input[i * k + t] * kernel.Values[t * m + j];
                    y[i * m + j] = act(sum);
                }
            return y;
        }
        var xd = x.Select(v => (double)v).ToArray();
        var h = Dense(xd, 6, w[0], w[1], v => SeluScale * (v > 0 ? v : SeluAlpha * (Math.Exp(v) - 1)));
        var mean = Dense(h, 8, w[2], w[3], v => v);
        var logVar = Dense(h, 8, w[4], w[5], v => v);
        var recon = Dense(mean, 2, w[6], w[7], v => 1 / (1 + Math.Exp(-v)));
        var rows = x.Length / 6;
        double kl = 0;
        for (var i = 0; i < rows * 2; i++) kl += -0.5 * (1 + logVar[i] - Math.Exp(logVar[i]) - mean[i] * mean[i]);
        var reconF = recon.Select(v => (float)v).ToArray();
        return (reconF, Bce(x, reconF) + kl / rows / 6.0);
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
