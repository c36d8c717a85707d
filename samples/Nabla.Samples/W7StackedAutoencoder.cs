using System.Diagnostics;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W7 (SEEDS.md §5): a stacked autoencoder on Fashion-MNIST, 784-100-30-100-784 with SELU hidden
/// layers and a sigmoid output (Hands-On ML, ch. 17), built as two Sequential models (encoder and
/// decoder) stacked in a third, trained with Nadam on the binary cross-entropy for 20 epochs.
/// </summary>
internal static class W7StackedAutoencoder
{
    public const string Name = "w7-stacked-autoencoder";
    public const string Description = "Fashion-MNIST stacked autoencoder 784-100-30-100-784 (selu), Nadam, binary CE; grid of reconstructions";

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var encoder = new Sequential(
        [
            new Flatten(inputShape: [28, 28]),
            new Dense(100, "selu"),
            new Dense(30, "selu"),
        ], "encoder");
        var decoder = Autoencoders.Decoder(30);
        var autoencoder = new Sequential([encoder, decoder], "stacked_autoencoder");
        autoencoder.Compile(new Nadam(), new BinaryCrossentropy(), [new Autoencoders.RoundedAccuracy()]);
        var epochs = options.EpochsOr(full: 20, quick: 2);
        var history = autoencoder.Fit(train, train, batchSize: options.BatchSizeOr(32), epochs: epochs, verbose: 1,
            validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        autoencoder.Summary();

        var result = new SampleResult(Name);
        var reconstructions = Autoencoders.EvaluateOnTest(autoencoder, test, result);
        var elapsed = clock.Elapsed;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W7 stacked autoencoder: loss (binary CE)"));
        result.Files.Add(Autoencoders.SaveReconstructions(test, reconstructions, options.PathFor("reconstructions.png")));
        return result.Report($"W7 {Autoencoders.Scores(result)}", history.Epochs.Count, elapsed);
    }

    /// <summary>Fashion-MNIST images [N, 28, 28] in [0, 1]: 55,000 train, 5,000 validation, 10,000 test.</summary>
    private static (Tensor Train, Tensor Valid, Tensor Test) LoadData(bool quick)
    {
        var (train, valid, test, _) = SampleData.FashionImages(quick);
        return (train, valid, test);
    }
}
