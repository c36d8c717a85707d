using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W2 (SEEDS.md §5), the main job: an MLP 784-128-128-10 with ReLU and Dropout(0.3) on MNIST, Adam,
/// batch 512, 20 epochs, 20 % of the training set held out for validation. 118,282 parameters;
/// TensorFlow reached a test accuracy of 0.978.
/// </summary>
internal static class W2MnistMlp
{
    public const string Name = "w2-mnist-mlp";
    public const string Description = "MNIST MLP 784-128-128-10 with Dropout(0.3), Adam, batch 512, 20 epochs (TF: test acc 0.978)";

    /// <summary>Test accuracy TensorFlow reported for this workload.</summary>
    public const double TensorFlowAccuracy = 0.978;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var model = new Sequential(
        [
            new Dense(128, "relu", inputShape: [784]),
            new Dropout(0.3),
            new Dense(128, "relu"),
            new Dropout(0.3),
            new Dense(10, "softmax"),
        ], "mnist_mlp");
        model.Summary();
        model.Compile(new Adam(), new CategoricalCrossentropy(), "accuracy");
        var epochs = options.EpochsOr(full: 20, quick: 2);
        var best = options.PathFor("best.weights.safetensors");
        var history = model.Fit(xTrain, yTrain, batchSize: options.BatchSizeOr(512), epochs: epochs, verbose: 1, validationSplit: 0.2,
            callbacks: [new CsvLogger(options.PathFor("history.csv")), new ModelCheckpoint(best, monitor: "val_accuracy", saveBestOnly: true)]);
        var test = model.Evaluate(xTest, yTest, batchSize: 1000);
        var elapsed = clock.Elapsed;

        // The checkpoint of the best validation epoch, reloaded: the final model is the figure TF reports.
        model.LoadWeights(best);
        var bestTest = model.Evaluate(xTest, yTest, batchSize: 1000);

        var result = new SampleResult(Name);
        result.Metrics["test_accuracy"] = test["accuracy"];
        result.Metrics["test_loss"] = test["loss"];
        result.Metrics["best_checkpoint_test_accuracy"] = bestTest["accuracy"];
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(best);
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W2 MNIST MLP: loss"));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W2 test accuracy: {test["accuracy"]:F4}, test loss {test["loss"]:F4}; best-val_accuracy checkpoint {bestTest["accuracy"]:F4} (TensorFlow: {TensorFlowAccuracy})"), history.Epochs.Count, elapsed);
    }

    /// <summary>MNIST as flat [N, 784] pixels in [0, 1] with one-hot labels.</summary>
    private static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) LoadData(bool quick)
    {
        var (xTrain, yTrain, xTest, yTest) = SampleData.MnistFlat(quick);
        return (xTrain, Utils.ToCategorical(yTrain, 10), xTest, Utils.ToCategorical(yTest, 10));
    }
}
