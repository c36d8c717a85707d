using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W12 (SEEDS.md §5): a denoising convolutional autoencoder on MNIST (the Keras blog's "Building
/// autoencoders in Keras", application to image denoising). Images are corrupted once with Gaussian
/// noise of factor 0.5 and clipped to [0, 1]; the network learns noisy → clean. Encoder: Conv 32 →
/// MaxPool(same) → Conv 32 → MaxPool(same) → Conv 16 (the seed's 32-32-16 filters; a 7×7×16 code);
/// decoder: Conv 32 → UpSampling 2 → Conv 32 → UpSampling 2 → Conv 1 sigmoid; all 3×3 "same" with ReLU;
/// 28,369 parameters. Adam, binary cross-entropy, batch 128, 50 epochs, validated on the noisy test set.
/// TensorFlow's validation loss was 0.0985.
/// </summary>
internal static class W12DenoisingConvAutoencoder
{
    public const string Name = "w12-denoising-conv-autoencoder";
    public const string Description = "MNIST denoising conv autoencoder 32-32-16, noise 0.5, binary CE, 50 epochs (TF: val loss 0.0985)";

    public const double TensorFlowValLoss = 0.0985;
    public const double NoiseFactor = 0.5;

    public static Sequential Build() => new(
    [
        new Conv2D(32, 3, padding: "same", activation: "relu", inputShape: [28, 28, 1]),
        new MaxPooling2D(padding: "same"),
        new Conv2D(32, 3, padding: "same", activation: "relu"),
        new MaxPooling2D(padding: "same"),
        new Conv2D(16, 3, padding: "same", activation: "relu"),
        new Conv2D(32, 3, padding: "same", activation: "relu"),
        new UpSampling2D(),
        new Conv2D(32, 3, padding: "same", activation: "relu"),
        new UpSampling2D(),
        new Conv2D(1, 3, padding: "same", activation: "sigmoid"),
    ], "denoising_conv_autoencoder");

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, _, test, _) = SampleData.MnistImages(options.Quick);
        var noisyTrain = Corrupt(train, seed: 1);
        var noisyTest = Corrupt(test, seed: 2);
        var clock = Stopwatch.StartNew();
        var model = Build();
        model.Summary();
        model.Compile(new Adam(), new BinaryCrossentropy());
        var epochs = options.EpochsOr(full: 50, quick: 1);
        var history = model.Fit(noisyTrain, train, batchSize: options.BatchSizeOr(128), epochs: epochs, verbose: 1,
            validationData: (noisyTest, test), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        var elapsed = clock.Elapsed;
        var valLoss = history["val_loss"][^1];
        var shown = SampleData.Head(noisyTest, 10);
        var denoised = model.Predict(shown);

        var result = new SampleResult(Name);
        result.Metrics["val_loss"] = valLoss;
        result.Metrics["best_val_loss"] = history["val_loss"].Min();
        result.Metrics["train_seconds"] = elapsed.TotalSeconds;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W12 denoising conv autoencoder: loss (binary CE)"));
        result.Files.Add(ImageGrid.Save(options.PathFor("denoised.png"), [Flat(shown), Flat(denoised), Flat(SampleData.Head(test, 10))]));
        Console.WriteLine("denoised.png rows: noisy test images; denoised; clean originals");
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W12 validation loss {valLoss:F4} after {history.Epochs.Count} epochs (TensorFlow: {TensorFlowValLoss}), {elapsed.TotalMinutes:F1} min"),
            history.Epochs.Count, elapsed);
    }

    /// <summary>clip(x + 0.5·N(0, 1), 0, 1), drawn once as the blog does.</summary>
    public static Tensor Corrupt(Tensor images, ulong seed)
    {
        var x = images.AsSpan<float>();
        var noise = Tensor.RandomNormal(images.Shape, seed: seed).AsSpan<float>();
        var y = new float[x.Length];
        for (var i = 0; i < y.Length; i++) y[i] = Math.Clamp(x[i] + (float)NoiseFactor * noise[i], 0f, 1f);
        return new Tensor(y, images.Shape, DType.Float32);
    }

    private static Tensor Flat(Tensor images) => images.WithShape(new Shape(images.Shape[0], 28, 28));
}
