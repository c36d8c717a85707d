using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class FunctionalTests : KerasTestBase
{
    [Test]
    public void MultipleInputsAndOutputsWithSharedLayer()
    {
        var a = Keras.Input(4);
        var b = Keras.Input(4);
        var shared = new Dense(3, "tanh", name: "shared");
        var ha = shared.Apply(a);
        var hb = shared.Apply(b);
        var merged = new Concatenate().Apply(ha, hb);
        var sum = new Add().Apply(ha, hb);
        var out1 = new Dense(1, name: "out1").Apply(merged);
        var out2 = new Dense(2, name: "out2").Apply(sum);
        var model = new Model([a, b], [out1, out2]);

        Assert.That(merged.Shape, Is.EqualTo(new Shape(-1, 6)));
        // The shared layer's weights count once: 4·3+3, then 6·1+1 and 3·2+2.
        Assert.That(model.CountParams(), Is.EqualTo(15 + 7 + 8));
        var text = model.Summary(_ => { });
        Assert.That(text, Does.Contain("Connected to"));
        Assert.That(text, Does.Contain("['shared', 'shared']"));

        var xa = Tensor.RandomNormal(new Shape(64, 4), seed: 3);
        var xb = Tensor.RandomNormal(new Shape(64, 4), seed: 4);
        var y1 = Tensor.RandomNormal(new Shape(64, 1), seed: 5);
        var y2 = Tensor.RandomNormal(new Shape(64, 2), seed: 6);
        model.Compile(new SGD(0.05), [new MeanSquaredError(), new MeanSquaredError()], [new LossMetric(new MeanAbsoluteError(), "mae")], lossWeights: [1.0, 0.5]);
        var before = model.Evaluate([xa, xb], [y1, y2]);
        Assert.That(before.Keys, Is.EquivalentTo(new[] { "loss", "out1_mae", "out2_mae" }));
        model.Fit([xa, xb], [y1, y2], batchSize: 16, epochs: 20, verbose: 0);
        var after = model.Evaluate([xa, xb], [y1, y2]);
        Assert.That(after["loss"], Is.LessThan(before["loss"]));
        var preds = model.PredictMulti([xa, xb]);
        Assert.That(preds.Select(p => p.Shape), Is.EqualTo(new[] { new Shape(64, 1), new Shape(64, 2) }));
    }

    [Test]
    public void NestedModelsShareTrainedWeights()
    {
        // Encoder and decoder as models, chained into an autoencoder (SEEDS W6/W7 pattern).
        var encoder = new Sequential([new Dense(2, inputShape: [3])], name: "encoder");
        var decoder = new Sequential([new Dense(3, inputShape: [2])], name: "decoder");
        var input = Keras.Input(3);
        var autoencoder = new Model(input, decoder.Apply(encoder.Apply(input)), "autoencoder");
        Assert.That(autoencoder.CountParams(), Is.EqualTo(8 + 9));

        var x = Tensor.RandomNormal(new Shape(200, 3), seed: 9);
        var codesBefore = encoder.Predict(x);
        autoencoder.Compile(new SGD(0.1), new MeanSquaredError());
        var h = autoencoder.Fit(x, x, batchSize: 20, epochs: 30, verbose: 0);
        Assert.That(h["loss"][^1], Is.LessThan(h["loss"][0]));
        var codesAfter = encoder.Predict(x);
        Assert.That(codesAfter.Shape, Is.EqualTo(new Shape(200, 2)));
        Assert.That(codesAfter.ToArray<float>(), Is.Not.EqualTo(codesBefore.ToArray<float>()), "the encoder must see the weights the autoencoder trained");
        // decoder(encoder(x)) run separately equals the autoencoder's prediction.
        var recon = decoder.Predict(codesAfter).ToDoubleArray();
        var direct = autoencoder.Predict(x).ToDoubleArray();
        Support.OpHarness.AssertClose(direct, recon, 1e-5, 1e-6, "decoder(encoder(x)) vs autoencoder(x)");
    }

    [Test]
    public void DisconnectedGraphIsRejected()
    {
        var a = Keras.Input(2);
        var b = Keras.Input(2);
        var y = new Add().Apply(a, b);
        var e = Assert.Throws<ArgumentException>(() => _ = new Model(a, y))!;
        Assert.That(e.Message, Does.Contain("graph disconnected"));
    }

    [Test]
    public void ShapeErrorsNameTheLayer()
    {
        var a = Keras.Input(2);
        var b = Keras.Input(3);
        var e = Assert.Throws<ShapeException>(() => new Add(name: "sum").Apply(a, b))!;
        Assert.That(e.Message, Does.Contain("sum").And.Contain("[?,3]").And.Contain("[?,2]"));
        var dense = new Dense(4, name: "d");
        dense.Apply(Keras.Input(5));
        var e2 = Assert.Throws<ShapeException>(() => dense.Apply(Keras.Input(6)))!;
        Assert.That(e2.Message, Does.Contain("Dense 'd'"));
    }

    [Test]
    public void FrozenLayerIsNotTrainedAfterCompile()
    {
        var frozen = new Dense(4, name: "frozen");
        var head = new Dense(1, name: "head");
        var input = Keras.Input(3);
        var model = new Model(input, head.Apply(frozen.Apply(input)));
        frozen.Trainable = false;
        model.Compile(new SGD(0.1), new MeanSquaredError());
        var summary = model.Summary(_ => { });
        Assert.That(summary, Does.Contain("Trainable params: 5").And.Contain("Non-trainable params: 16"));
        var before = model.GetWeights().Take(2).ToArray();
        var x = Tensor.RandomNormal(new Shape(32, 3), seed: 1);
        var y = Tensor.RandomNormal(new Shape(32, 1), seed: 2);
        model.Fit(x, y, epochs: 3, verbose: 0);
        var after = model.GetWeights().Take(2).ToArray();
        Assert.That(model.Weights[0].Name, Is.EqualTo("frozen/kernel"));
        for (var i = 0; i < before.Length; i++) Assert.That(after[i].ToArray<float>(), Is.EqualTo(before[i].ToArray<float>()));
    }
}
