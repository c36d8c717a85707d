using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W10 (SEEDS.md §5): denoising autoencoders on Fashion-MNIST (Hands-On ML, ch. 17). The encoder
/// corrupts its inputs while training only, once with GaussianNoise(0.2) and once with Dropout(0.5),
/// then 784-100-30 (SELU); the decoder is 30-100-784 (SELU, sigmoid). Each is trained with
/// SGD(1.0) on the binary cross-entropy for 10 epochs. At inference the corruption layer is the
/// identity, so the grid shows what the trained model makes of corrupted test images.
/// </summary>
internal static class W10DenoisingAutoencoder
{
    public const string Name = "w10-denoising-autoencoder";
    public const string Description = "Fashion-MNIST denoising autoencoders (GaussianNoise(0.2) and Dropout(0.5) on inputs), SGD; grid of denoised images";

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var epochs = options.EpochsOr(full: 10, quick: 2);
        var batchSize = options.BatchSizeOr(32);
        var shown = SampleData.Head(test, 10);
        var rows = new List<Tensor> { shown };
        var headline = new List<string>();
        var runEpochs = 0;
        var result = new SampleResult(Name);
        foreach (var (kind, corruption) in new (string, Layer)[] { ("gaussian", new GaussianNoise(0.2)), ("dropout", new Dropout(0.5)) })
        {
            Console.WriteLine($"--- {kind} corruption ---");
            var encoder = new Sequential(
            [
                new Flatten(inputShape: [28, 28]),
                corruption,
                new Dense(100, "selu"),
                new Dense(30, "selu"),
            ], $"{kind}_encoder");
            var autoencoder = new Sequential([encoder, Autoencoders.Decoder(30, $"{kind}_decoder")], $"{kind}_denoising_autoencoder");
            autoencoder.Compile(new SGD(1.0), new BinaryCrossentropy(), [new Autoencoders.RoundedAccuracy()]);
            var history = autoencoder.Fit(train, train, batchSize: batchSize, epochs: epochs, verbose: 1,
                validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor($"history-{kind}.csv"))]);
            runEpochs = Math.Max(runEpochs, history.Epochs.Count);

            // Score the model on clean test images (the book's figure) and show it corrupted ones.
            Autoencoders.EvaluateOnTest(autoencoder, test, result, $"{kind}_test");
            var noisy = Corrupt(shown, kind, seed: 11);
            rows.Add(noisy);
            rows.Add(autoencoder.Predict(noisy));
            headline.Add(Autoencoders.Scores(result, $"{kind}_test"));
            result.Files.Add(options.PathFor($"history-{kind}.csv"));
            result.Files.Add(LossCurve.Save(history, options.PathFor($"loss-{kind}.png"), $"W10 denoising autoencoder ({kind}): loss (binary CE)"));
        }
        var elapsed = clock.Elapsed;
        result.Files.Add(ImageGrid.Save(options.PathFor("denoised.png"), rows));
        Console.WriteLine("denoised.png rows: clean test images; Gaussian-noised; denoised; dropout-corrupted; denoised");
        return result.Report($"W10 {string.Join("; ", headline)}", runEpochs, elapsed);
    }

    /// <summary>Fashion-MNIST images [N, 28, 28] in [0, 1]: 55,000 train, 5,000 validation, 10,000 test.</summary>
    private static (Tensor Train, Tensor Valid, Tensor Test) LoadData(bool quick)
    {
        var (train, valid, test, _) = SampleData.FashionImages(quick);
        return (train, valid, test);
    }

    /// <summary>
    /// The corruption the training layer applies, drawn on the host for display: Gaussian noise
    /// σ = 0.2, or inverted dropout at rate 0.5 (kept pixels doubled, as the layer scales them).
    /// </summary>
    private static Tensor Corrupt(Tensor images, string kind, ulong seed)
    {
        var x = images.ToArray<float>();
        var r = kind == "gaussian"
            ? Tensor.RandomNormal(images.Shape, 0, 0.2, seed).ToArray<float>()
            : Tensor.RandomUniform(images.Shape, 0, 1, seed).ToArray<float>();
        for (var i = 0; i < x.Length; i++) x[i] = kind == "gaussian" ? x[i] + r[i] : (r[i] < 0.5f ? 0 : 2 * x[i]);
        return new Tensor(x, images.Shape, DType.Float32);
    }
}
