using NUnit.Framework;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Tests.Layers;

public sealed class SequentialTests : KerasTestBase
{
    [Test]
    public void SummaryCountsW1Parameters()
    {
        var model = new Sequential([new Dense(10, "softmax", inputShape: [784])]);
        var text = model.Summary(_ => { });
        Assert.That(model.CountParams(), Is.EqualTo(7850));
        Assert.That(text, Does.Contain("Total params: 7,850"));
        Assert.That(text, Does.Contain(" dense (Dense)               (None, 10)                7850      "));
    }

    [Test]
    public void SummaryCountsW2ParametersInKerasFormat()
    {
        var model = new Sequential();
        model.Add(new InputLayer([784]));
        model.Add(new Dense(128, "relu"));
        model.Add(new Dropout(0.3));
        model.Add(new Dense(128, "relu"));
        model.Add(new Dropout(0.3));
        model.Add(new Dense(10, "softmax"));
        var text = model.Summary(_ => { });
        var expected = string.Join("\n",
            "Model: \"sequential\"",
            new string('_', 65),
            " Layer (type)                Output Shape              Param #   ",
            new string('=', 65),
            " dense (Dense)               (None, 128)               100480    ",
            new string(' ', 65),
            " dropout (Dropout)           (None, 128)               0         ",
            new string(' ', 65),
            " dense_1 (Dense)             (None, 128)               16512     ",
            new string(' ', 65),
            " dropout_1 (Dropout)         (None, 128)               0         ",
            new string(' ', 65),
            " dense_2 (Dense)             (None, 10)                1290      ",
            new string('=', 65),
            "Total params: 118,282",
            "Trainable params: 118,282",
            "Non-trainable params: 0",
            new string('_', 65),
            "");
        Assert.That(text, Is.EqualTo(expected));
    }

    [Test]
    public void SummaryCountsW3Parameters()
    {
        var model = new Sequential([new Dense(16, "relu", inputShape: [10]), new Dense(1, "sigmoid")]);
        Assert.That(model.Summary(_ => { }), Does.Contain("Total params: 193"));
    }

    [Test]
    public void FitLearnsSeparableClassesAndReportsKerasLogs()
    {
        var (x, y) = Blobs(512, 8, 3);
        var model = new Sequential([new Dense(16, "relu"), new Dense(3, "softmax")]);
        model.Compile(new SGD(0.1), new SparseCategoricalCrossentropy(), "accuracy");
        var history = model.Fit(x, y, batchSize: 32, epochs: 8, verbose: 0, validationSplit: 0.25);
        Assert.That(history.Values.Keys, Is.EquivalentTo(new[] { "loss", "accuracy", "val_loss", "val_accuracy" }));
        Assert.That(history["loss"][^1], Is.LessThan(history["loss"][0] * 0.5));
        var eval = model.Evaluate(x, y, batchSize: 100);
        Assert.That(eval["accuracy"], Is.GreaterThan(0.95));
        var probs = model.Predict(x, batchSize: 100);
        Assert.That(probs.Shape, Is.EqualTo(new Shape(512, 3)));
        // Evaluate's accuracy is the fraction of argmax hits computed on the host from Predict.
        var p = probs.ToArray<float>();
        var labels = y.ToArray<int>();
        var hits = Enumerable.Range(0, 512).Count(i => Enumerable.Range(0, 3).MaxBy(j => p[i * 3 + j]) == labels[i]);
        Assert.That(eval["accuracy"], Is.EqualTo(hits / 512.0).Within(1e-6));
    }

    [Test]
    public void DeferredBuildHappensOnFirstData()
    {
        var model = new Sequential([new Dense(4), new Dense(2)]);
        Assert.That(model.IsFunctional, Is.False);
        var y = model.Predict(Tensor.Ones(new Shape(3, 5)));
        Assert.That(y.Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(model.CountParams(), Is.EqualTo(5 * 4 + 4 + 4 * 2 + 2));
    }
}
