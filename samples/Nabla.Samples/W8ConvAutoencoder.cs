using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W8 (SEEDS.md §5): a convolutional autoencoder on Fashion-MNIST, as Hands-On ML (3rd ed., ch. 17)
/// writes it. Encoder: Reshape to 28×28×1 → Conv 16 → MaxPool → Conv 32 → MaxPool → Conv 64 → MaxPool
/// → Conv 30 → GlobalAvgPool2D (30 codings; 3×3 "same" convolutions, ReLU). Decoder: Dense(3·3·16) →
/// Reshape 3×3×16 → Conv2DTranspose 32 (stride 2, "valid": 7×7) → Conv2DTranspose 16 (stride 2,
/// "same": 14×14) → Conv2DTranspose 1 (stride 2, "same": 28×28) → Reshape 28×28. Mean squared error,
/// Nadam, 10 epochs, batch 32, validated on the last 5,000 training images.
/// </summary>
internal static class W8ConvAutoencoder
{
    public const string Name = "w8-conv-autoencoder";
    public const string Description = "Fashion-MNIST convolutional autoencoder (Conv2D same, MaxPool2D, GlobalAvgPool2D, Conv2DTranspose valid/same), MSE, Nadam; reconstructions";

    public static (Sequential Encoder, Sequential Decoder) Build()
    {
        var encoder = new Sequential(
        [
            new Reshape([28, 28, 1], inputShape: [28, 28]),
            new Conv2D(16, 3, padding: "same", activation: "relu"),
            new MaxPooling2D(),
            new Conv2D(32, 3, padding: "same", activation: "relu"),
            new MaxPooling2D(),
            new Conv2D(64, 3, padding: "same", activation: "relu"),
            new MaxPooling2D(),
            new Conv2D(30, 3, padding: "same", activation: "relu"),
            new GlobalAveragePooling2D(),
        ], "conv_encoder");
        var decoder = new Sequential(
        [
            new Dense(3 * 3 * 16, inputShape: [30]),
            new Reshape([3, 3, 16]),
            new Conv2DTranspose(32, 3, strides: [2, 2], activation: "relu"),
            new Conv2DTranspose(16, 3, strides: [2, 2], padding: "same", activation: "relu"),
            new Conv2DTranspose(1, 3, strides: [2, 2], padding: "same"),
            new Reshape([28, 28]),
        ], "conv_decoder");
        return (encoder, decoder);
    }

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test, _) = SampleData.FashionImages(options.Quick);
        var clock = Stopwatch.StartNew();
        var (encoder, decoder) = Build();
        var autoencoder = new Sequential([encoder, decoder], "conv_autoencoder");
        autoencoder.Compile(new Nadam(), new MeanSquaredError(), [new Autoencoders.RoundedAccuracy()]);
        var epochs = options.EpochsOr(full: 10, quick: 1);
        var history = autoencoder.Fit(train, train, batchSize: options.BatchSizeOr(32), epochs: epochs, verbose: 1,
            validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        encoder.Summary();
        decoder.Summary();

        var result = new SampleResult(Name);
        var scores = autoencoder.Evaluate(test, test, batchSize: 500);
        result.Metrics["test_mse"] = scores["loss"];
        result.Metrics["test_rounded_accuracy"] = scores["rounded_accuracy"];
        var reconstructions = autoencoder.Predict(SampleData.Head(test, 10));
        var elapsed = clock.Elapsed;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W8 convolutional autoencoder: loss (MSE)"));
        result.Files.Add(Autoencoders.SaveReconstructions(test, reconstructions, options.PathFor("reconstructions.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W8 test MSE {scores["loss"]:F4}, rounded accuracy {scores["rounded_accuracy"]:F4}"), history.Epochs.Count, elapsed);
    }
}
