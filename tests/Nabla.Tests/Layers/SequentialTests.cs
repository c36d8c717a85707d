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

    /// <summary>Rows [start, start + count) of a 2-D float32 or 1-D int32 tensor, copied by the test.</summary>
    private static Tensor RowsOf(Tensor t, int start, int count)
    {
        var row = t.Size / t.Shape[0];
        return t.DType == DType.Int32
            ? Tensor.FromArray(t.ToArray<int>()[(start * row)..((start + count) * row)], count)
            : Tensor.FromArray(t.ToArray<float>()[(start * row)..((start + count) * row)], count, row);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void FitValidationSplitTrainsOnTheHeadAndValidatesOnTheTailRows(bool shuffle)
    {
        // A learning rate of 0 keeps the weights, so the epoch's running mean of batch losses must equal
        // Evaluate over the first 77 rows exactly when every training row is used once, no validation
        // row leaks in and no batch (the short last one of 7 included) keeps rows of an earlier batch;
        // val_loss must equal Evaluate over the last 26 rows (Keras: split before shuffling).
        var (x, y) = Blobs(103, 4, 3, seed: 7);
        var model = new Sequential([new Dense(5, "tanh"), new Dense(3, "softmax")]);
        model.Compile(new SGD(0), new SparseCategoricalCrossentropy(), "accuracy");
        var history = model.Fit(x, y, batchSize: 10, epochs: 2, verbose: 0, validationSplit: 0.25, shuffle: shuffle);
        var cut = (int)(103 * 0.75);
        var train = model.Evaluate(RowsOf(x, 0, cut), RowsOf(y, 0, cut), batchSize: 1000);
        var validation = model.Evaluate(RowsOf(x, cut, 103 - cut), RowsOf(y, cut, 103 - cut), batchSize: 1000);
        for (var epoch = 0; epoch < 2; epoch++)
        {
            Assert.That(history["loss"][epoch], Is.EqualTo(train["loss"]).Within(1e-5), $"epoch {epoch} loss");
            Assert.That(history["accuracy"][epoch], Is.EqualTo(train["accuracy"]).Within(1e-6), $"epoch {epoch} accuracy (one row is 1/77)");
            Assert.That(history["val_loss"][epoch], Is.EqualTo(validation["loss"]).Within(1e-5), $"epoch {epoch} val_loss");
        }
        Assert.That(validation["loss"], Is.Not.EqualTo(train["loss"]).Within(1e-4), "the two parts must be told apart by their losses");
    }

    [Test]
    public void PredictAndEvaluateInBatchesMatchOneBatch()
    {
        // 10 rows in batches of 4: two full batches through one reused buffer and a last batch of 2.
        // Any stale row from an earlier batch, or a wrong offset, would change the outputs.
        var (x, y) = Blobs(10, 4, 3, seed: 11);
        var model = new Sequential([new Dense(6, "relu"), new Dense(3, "softmax")]);
        model.Compile(new SGD(0), new SparseCategoricalCrossentropy(), "accuracy");
        var whole = model.Predict(x, batchSize: 10).ToArray<float>();
        Assert.That(model.Predict(x, batchSize: 4).ToArray<float>(), Is.EqualTo(whole).Within(1e-6));
        Assert.That(model.Predict(x, batchSize: 4).ToArray<float>(), Is.EqualTo(whole).Within(1e-6), "a second pass over the reused buffers");
        Assert.That(model.Evaluate(x, y, batchSize: 4)["loss"], Is.EqualTo(model.Evaluate(x, y, batchSize: 10)["loss"]).Within(1e-6));
        Assert.That(x.ToArray<float>(), Is.EqualTo(Blobs(10, 4, 3, seed: 11).X.ToArray<float>()), "the caller's array is not written to");
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
