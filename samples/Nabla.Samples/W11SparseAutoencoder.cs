using System.Diagnostics;
using System.Globalization;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;
using ScottPlot;

namespace Nabla.Samples;

/// <summary>
/// W11 (SEEDS.md §5): a sparse autoencoder on Fashion-MNIST (Hands-On ML, ch. 17): the encoder's
/// coding layer is Dense(300, sigmoid) followed by ActivityRegularization(l1 = 1e-4), which adds
/// 1e-4·Σ|coding| per sample to the training loss and so pushes most codings towards 0. Trained with
/// SGD(1.0) on the binary cross-entropy for 10 epochs. Besides the reconstructions it plots the
/// histogram of the codings' activations, where sparsity shows as a pile-up near 0.
/// </summary>
internal static class W11SparseAutoencoder
{
    public const string Name = "w11-sparse-autoencoder";
    public const string Description = "Fashion-MNIST sparse autoencoder: Dense(300, sigmoid) + ActivityRegularization(l1=1e-4); reconstructions and coding histogram";

    public const double L1 = 1e-4;

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test) = LoadData(options.Quick);
        var clock = Stopwatch.StartNew();
        var encoder = new Sequential(
        [
            new Flatten(inputShape: [28, 28]),
            new Dense(100, "selu"),
            new Dense(300, "sigmoid"),
            new ActivityRegularization(l1: L1),
        ], "sparse_encoder");
        var autoencoder = new Sequential([encoder, Autoencoders.Decoder(300)], "sparse_autoencoder");
        autoencoder.Compile(new SGD(1.0), new BinaryCrossentropy(), [new Autoencoders.RoundedAccuracy()]);
        var epochs = options.EpochsOr(full: 10, quick: 2);
        var history = autoencoder.Fit(train, train, batchSize: options.BatchSizeOr(32), epochs: epochs, verbose: 1,
            validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        autoencoder.Summary();

        var result = new SampleResult(Name);
        var reconstructions = Autoencoders.EvaluateOnTest(autoencoder, test, result);
        var codings = encoder.Predict(test, batchSize: 500).ToArray<float>();
        var elapsed = clock.Elapsed;
        result.Metrics["mean_coding"] = codings.Average(v => (double)v);
        result.Metrics["codings_below_0.1"] = codings.Count(v => v < 0.1f) / (double)codings.Length;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W11 sparse autoencoder: loss (binary CE + L1 activity penalty)"));
        result.Files.Add(Autoencoders.SaveReconstructions(test, reconstructions, options.PathFor("reconstructions.png")));
        result.Files.Add(SaveHistogram(codings, options.PathFor("codings-histogram.png")));
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W11 {Autoencoders.Scores(result)}; mean coding {result.Metrics["mean_coding"]:F3}, {100 * result.Metrics["codings_below_0.1"]:F1} % of codings < 0.1"),
            history.Epochs.Count, elapsed);
    }

    /// <summary>Fashion-MNIST images [N, 28, 28] in [0, 1]: 55,000 train, 5,000 validation, 10,000 test.</summary>
    private static (Tensor Train, Tensor Valid, Tensor Test) LoadData(bool quick)
    {
        var (train, valid, test, _) = SampleData.FashionImages(quick);
        return (train, valid, test);
    }

    /// <summary>Histogram of the coding activations (sigmoid outputs in [0, 1]) in 20 bins, as percentages.</summary>
    private static string SaveHistogram(float[] codings, string path)
    {
        const int bins = 20;
        var counts = new double[bins];
        foreach (var v in codings) counts[Math.Clamp((int)(v * bins), 0, bins - 1)]++;
        var plot = new Plot();
        var bars = plot.Add.Bars(Enumerable.Range(0, bins).Select(i => (i + 0.5) / bins).ToArray(), counts.Select(c => 100 * c / codings.Length).ToArray());
        foreach (var bar in bars.Bars) bar.Size = 0.9 / bins;
        plot.Title("W11 sparse autoencoder: coding activations on the test set");
        plot.XLabel("activation");
        plot.YLabel("% of codings");
        return LossCurve.SavePng(plot, path, 700, 450);
    }
}
