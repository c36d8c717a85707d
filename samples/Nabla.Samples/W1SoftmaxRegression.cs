using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W1 (SEEDS.md §5): softmax regression on MNIST, a single Dense(10, softmax) layer (7,850 weights)
/// trained by plain SGD (Keras's default learning rate 0.01) with batch 128 for 200 epochs, holding
/// out 20 % of the training set for validation. TensorFlow reached a test accuracy of 0.9215.
/// </summary>
internal static class W1SoftmaxRegression
{
    public const string Name = "w1-softmax-regression";
    public const string Description = "MNIST softmax regression: Dense(10, softmax), SGD, batch 128, 200 epochs (TF: test acc 0.9215)";

    /// <summary>Test accuracy TensorFlow reported for this workload.</summary>
    public const double TensorFlowAccuracy = 0.9215;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var model = new Sequential([new Dense(10, "softmax", inputShape: [784])], "softmax_regression");
        model.Summary();
        model.Compile(new SGD(0.01), new CategoricalCrossentropy(), "accuracy");
        var epochs = options.EpochsOr(full: 200, quick: 3);
        var history = model.Fit(xTrain, yTrain, batchSize: options.BatchSizeOr(128), epochs: epochs, verbose: 0, validationSplit: 0.2,
            callbacks: [EpochPrinter.About(epochs, 20), new CsvLogger(options.PathFor("history.csv"))]);
        var test = model.Evaluate(xTest, yTest, batchSize: 1000);
        var elapsed = clock.Elapsed;

        var result = new SampleResult(Name);
        result.Metrics["test_accuracy"] = test["accuracy"];
        result.Metrics["test_loss"] = test["loss"];
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W1 MNIST softmax regression: loss"));
        result.Files.Add(SaveTemplates((Dense)model.Layers[0], model.Session, options.PathFor("weights.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W1 test accuracy: {test["accuracy"]:F4}, test loss {test["loss"]:F4} (TensorFlow: {TensorFlowAccuracy})"), history.Epochs.Count, elapsed);
    }

    /// <summary>MNIST as flat [N, 784] pixels in [0, 1] with one-hot labels (the workload's categorical cross-entropy).</summary>
    private static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) LoadData(bool quick)
    {
        var (xTrain, yTrain, xTest, yTest) = SampleData.MnistFlat(quick);
        return (xTrain, Utils.ToCategorical(yTrain, 10), xTest, Utils.ToCategorical(yTest, 10));
    }

    /// <summary>
    /// The ten learned weight columns as 28×28 images, each min–max scaled: a linear classifier's
    /// templates, which look like blurred digits.
    /// </summary>
    private static string SaveTemplates(Dense dense, Session session, string path)
    {
        var w = session.Run(dense.Kernel.Value).ToArray<float>(); // [784, 10]
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
