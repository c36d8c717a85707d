using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W5 (SEEDS.md §5): logistic (multinomial, softmax) regression on MNIST written as a TensorFlow-1.x
/// graph: placeholders for images and one-hot labels, two variables W [784, 10] and b [10], the mean
/// softmax cross-entropy of the logits x·W + b, plain gradient descent, a few steps run in a session.
/// The seed reports an accuracy of ~0.81 after 10 steps and states nothing else (batch, rate, data the
/// accuracy is measured on). The setting chosen here: W and b start at zero and take 10 steps of plain
/// (full-batch) gradient descent, each on the mean cross-entropy over all 60,000 training images, at
/// TensorFlow's "MNIST for ML beginners" rate 0.5; the accuracy is measured on the 10,000 test images
/// after the 10th step. Full-batch steps make the 10-step figure a property of the method rather than
/// of which 10 small batches were drawn: with batches of 100 (consecutive rows in file order) the
/// test accuracy after 10 steps jumps between 0.55 and 0.74 from step to step at this rate.
/// <c>--batch-size</c> sets a smaller batch; batches are then consecutive rows of the training set
/// in file order (MNIST's training file is not sorted by class), wrapping around, so a run is repeatable.
/// </summary>
internal static class W5LogisticRegression
{
    public const string Name = "w5-logistic-regression";
    public const string Description = "MNIST logistic regression as a TF1 graph: W, b, softmax cross-entropy, full-batch gradient descent 0.5, 10 steps (seed: acc ~0.81)";

    /// <summary>The accuracy the seed reports after 10 steps.</summary>
    public const double SeedAccuracy = 0.81;

    /// <summary>The learning rate of the plain gradient descent.</summary>
    public const double LearningRate = 0.5;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest) = SampleData.MnistFlat(options.Quick);
        var (trainLabels, testLabels) = (Utils.ToCategorical(yTrain, 10), Utils.ToCategorical(yTest, 10));
        var steps = options.EpochsOr(full: 10, quick: 10);
        var batch = options.BatchSizeOr(xTrain.Shape[0]);
        if (batch > xTrain.Shape[0])
            throw new ArgumentOutOfRangeException(nameof(options), $"a batch of {batch} is more than the {xTrain.Shape[0]} training images");
        var batchesPerEpoch = xTrain.Shape[0] / batch;
        var clock = Stopwatch.StartNew();

        var g = new Graph { Seed = 42 };
        var x = g.Placeholder(DType.Float32, new Shape(-1, 784), "x");
        var y = g.Placeholder(DType.Float32, new Shape(-1, 10), "y");
        var w = g.Variable(new Shape(784, 10), DType.Float32, Initializer.Zeros, "W");
        var b = g.Variable(new Shape(10), DType.Float32, Initializer.Zeros, "b");
        var logits = g.MatMul(x, w.Value) + b.Value;
        var loss = g.ReduceMean(g.SoftmaxCrossEntropyWithLogits(y, logits), name: "cross_entropy");
        var correct = g.Equal(g.ArgMax(logits, 1), g.ArgMax(y, 1));
        var accuracy = g.ReduceMean(g.Cast(correct, DType.Float32), name: "accuracy");
        var train = new SGD(LearningRate).Minimize(loss);

        using var session = new Session(g, options.Device ?? Device.Cpu);
        session.Run(g.GlobalVariablesInitializer());
        var testFeeds = new Dictionary<Output, Tensor> { [x] = xTest, [y] = testLabels };
        var history = new History();
        var csv = new CsvLogger(options.PathFor("history.csv"));
        csv.OnTrainBegin();
        for (var step = 0; step < steps; step++)
        {
            var feeds = new Dictionary<Output, Tensor>
            {
                [x] = SampleData.Rows(xTrain, step % batchesPerEpoch * batch, batch),
                [y] = SampleData.Rows(trainLabels, step % batchesPerEpoch * batch, batch),
            };
            // The batch's loss is fetched in the step that descends on it, so it is the loss before the update.
            var batchLoss = session.Run([loss], feeds, train)[0].ToScalar<float>();
            var test = session.Run([loss, accuracy], testFeeds);
            var logs = new Dictionary<string, double>
            {
                ["loss"] = batchLoss,
                ["val_loss"] = test[0].ToScalar<float>(),
                ["val_accuracy"] = test[1].ToScalar<float>(),
            };
            history.OnEpochEnd(step, logs);
            csv.OnEpochEnd(step, logs);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"step {step + 1,2}/{steps} - batch loss: {logs["loss"]:F4} - test loss: {logs["val_loss"]:F4} - test accuracy: {logs["val_accuracy"]:F4}"));
        }
        var elapsed = clock.Elapsed;

        var result = new SampleResult(Name);
        result.Metrics["test_accuracy"] = history["val_accuracy"][^1];
        result.Metrics["test_loss"] = history["val_loss"][^1];
        result.Files.Add(csv.Path);
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W5 MNIST logistic regression: batch and test loss per step"));
        result.Files.Add(SaveTemplates(session.Run(w.Value), options.PathFor("weights.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W5 test accuracy after {steps} steps of {batch}: {result.Metrics["test_accuracy"]:F4}, test loss {result.Metrics["test_loss"]:F4} (seed: ~{SeedAccuracy})"),
            steps, elapsed);
    }

    /// <summary>The ten columns of W [784, 10] as 28×28 images, each min–max scaled.</summary>
    private static string SaveTemplates(Tensor weights, string path)
    {
        var w = weights.ToArray<float>();
        var images = new float[10 * 784];
        for (var digit = 0; digit < 10; digit++)
        {
            var column = Enumerable.Range(0, 784).Select(p => w[p * 10 + digit]).ToArray();
            var (min, max) = (column.Min(), column.Max());
            for (var p = 0; p < 784; p++) images[digit * 784 + p] = max > min ? (column[p] - min) / (max - min) : 0.5f;
        }
        return ImageGrid.Save(path, [Tensor.FromArray(images, 10, 28, 28)], scale: 4);
    }
}
