using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W17 (SEEDS.md §5): LeNet-5 on MNIST (Conv 6@5×5 same → MaxPool 2 → Conv 16@5×5 → MaxPool 2 →
/// Dense 120 → Dense 84 → Dense 10, ReLU; 61,706 parameters), Adam, batch 128; the bar is a test
/// accuracy of 0.99. Then the seed's CIFAR-10 CNN (TensorFlow's CNN tutorial: Conv 32, MaxPool,
/// Conv 64, MaxPool, Conv 64, Dense 64, Dense 10 on 32×32×3; 122,570 parameters). CIFAR-10 is not
/// reachable here, so that network is trained on Fashion-MNIST brought to its input shape: each
/// 28×28 image zero-padded to 32×32 and repeated into 3 channels (a real data set of another shape,
/// as SEEDS.md §7 allows; its accuracy is not comparable with CIFAR-10 figures).
/// </summary>
internal static class W17LeNet
{
    public const string Name = "w17-lenet";
    public const string Description = "LeNet-5 on MNIST (bar: test acc 0.99), then the CIFAR-shaped CNN on Fashion-MNIST padded to 32×32×3";

    public const double AccuracyBar = 0.99;

    /// <summary>LeNet-5 with ReLU and max pooling, as the Keras tutorials write it.</summary>
    public static Sequential LeNet() => new(
    [
        new Conv2D(6, 5, padding: "same", activation: "relu", inputShape: [28, 28, 1]),
        new MaxPooling2D(),
        new Conv2D(16, 5, activation: "relu"),
        new MaxPooling2D(),
        new Flatten(),
        new Dense(120, "relu"),
        new Dense(84, "relu"),
        new Dense(10, "softmax"),
    ], "lenet5");

    /// <summary>TensorFlow's CIFAR-10 CNN tutorial network.</summary>
    public static Sequential CifarCnn() => new(
    [
        new Conv2D(32, 3, activation: "relu", inputShape: [32, 32, 3]),
        new MaxPooling2D(),
        new Conv2D(64, 3, activation: "relu"),
        new MaxPooling2D(),
        new Conv2D(64, 3, activation: "relu"),
        new Flatten(),
        new Dense(64, "relu"),
        new Dense(10),
    ], "cifar_cnn");

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest) = SampleData.MnistImages(options.Quick);
        var clock = Stopwatch.StartNew();
        var lenet = LeNet();
        lenet.Summary();
        lenet.Compile(new Adam(), new SparseCategoricalCrossentropy(), "accuracy");
        var epochs = options.EpochsOr(full: 12, quick: 1);
        var history = lenet.Fit(xTrain, yTrain, batchSize: options.BatchSizeOr(128), epochs: epochs, verbose: 1, validationSplit: 0.1,
            callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        var test = lenet.Evaluate(xTest, yTest, batchSize: 1000);
        var lenetTime = clock.Elapsed;

        var result = new SampleResult(Name);
        result.Metrics["test_accuracy"] = test["accuracy"];
        result.Metrics["test_loss"] = test["loss"];
        result.Metrics["lenet_seconds"] = lenetTime.TotalSeconds;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W17 LeNet-5 on MNIST: loss"));

        // The CIFAR-shaped CNN on Fashion-MNIST at 32×32×3 (see the class remarks).
        var cnn = CifarCnn();
        cnn.Summary();
        cnn.Compile(new Adam(), new SparseCategoricalCrossentropy(fromLogits: true), "accuracy");
        var (fTrain, fTrainLabels, fTest, fTestLabels) = FashionAs32x32x3(options.Quick);
        var cnnEpochs = options.Quick ? 1 : 5;
        var cnnHistory = cnn.Fit(fTrain, fTrainLabels, batchSize: 128, epochs: cnnEpochs, verbose: 1,
            callbacks: [new CsvLogger(options.PathFor("cifar-cnn-history.csv"))]);
        var cnnTest = cnn.Evaluate(fTest, fTestLabels, batchSize: 1000);
        result.Metrics["cifar_cnn_fashion_test_accuracy"] = cnnTest["accuracy"];
        result.Files.Add(options.PathFor("cifar-cnn-history.csv"));
        result.Files.Add(LossCurve.Save(cnnHistory, options.PathFor("cifar-cnn-loss.png"), "W17 CIFAR-shaped CNN on Fashion-MNIST 32×32×3: loss"));
        var elapsed = clock.Elapsed;
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W17 LeNet-5 test accuracy {test["accuracy"]:F4} (bar {AccuracyBar}) in {lenetTime.TotalSeconds:F0} s; CIFAR-shaped CNN on Fashion-MNIST 32×32×3: test accuracy {cnnTest["accuracy"]:F4} after {cnnEpochs} epochs"),
            history.Epochs.Count, elapsed);
    }

    /// <summary>Fashion-MNIST zero-padded to 32×32 (2 pixels each side) and repeated into 3 channels, labels int32.</summary>
    private static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest) FashionAs32x32x3(bool quick)
    {
        var d = FashionMnist.Load(1f / 255);
        var (train, test) = quick ? (3000, 500) : (d.TrainImages.Shape[0], d.TestImages.Shape[0]);
        return (Pad3(SampleData.Head(d.TrainImages, train)), SampleData.Head(d.TrainLabels, train),
                Pad3(SampleData.Head(d.TestImages, test)), SampleData.Head(d.TestLabels, test));
    }

    private static Tensor Pad3(Tensor images)
    {
        var n = images.Shape[0];
        var src = images.AsSpan<float>();
        var dst = new float[n * 32 * 32 * 3];
        for (var i = 0; i < n; i++)
            for (var r = 0; r < 28; r++)
                for (var c = 0; c < 28; c++)
                {
                    var v = src[(i * 28 + r) * 28 + c];
                    var o = ((i * 32 + r + 2) * 32 + c + 2) * 3;
                    dst[o] = dst[o + 1] = dst[o + 2] = v;
                }
        return new Tensor(dst, new Shape(n, 32, 32, 3), DType.Float32); // no second copy of 235 MB
    }
}
