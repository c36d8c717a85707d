using System.Diagnostics;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W9 (SEEDS.md §5): a recurrent autoencoder on Fashion-MNIST (Hands-On ML, ch. 17), reading each image as a sequence of
/// 28 rows of 28 pixels. Encoder LSTM(100, return_sequences) → LSTM(30); decoder RepeatVector(28) →
/// LSTM(100, return_sequences) → TimeDistributed(Dense(28, sigmoid)); SGD(0.1) on the binary cross-entropy for 10 epochs,
/// as the book.
/// </summary>
internal static class W9RecurrentAutoencoder
{
    public const string Name = "w9-recurrent-autoencoder";
    public const string Description = "Fashion-MNIST recurrent autoencoder: LSTM(100)-LSTM(30) | RepeatVector(28)-LSTM(100)-TimeDistributed(Dense(28)), SGD, binary CE";

    /// <summary>The untrained model: LSTM(100)-LSTM(30) encoder, RepeatVector(28)-LSTM(100)-TimeDistributed(Dense(28)) decoder.</summary>
    public static Sequential Build()
    {
        var encoder = new Sequential(
        [
            new LSTM(100, returnSequences: true, inputShape: [28, 28]),
            new LSTM(30),
        ], "recurrent_encoder");
        var decoder = new Sequential(
        [
            new RepeatVector(28) { InputShape = [30] },
            new LSTM(100, returnSequences: true),
            new TimeDistributed(new Dense(28, "sigmoid")),
        ], "recurrent_decoder");
        return new Sequential([encoder, decoder], "recurrent_autoencoder");
    }

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (train, valid, test, _) = SampleData.FashionImages(options.Quick);
        var clock = Stopwatch.StartNew();
        var autoencoder = Build();
        autoencoder.Compile(new SGD(0.1), new BinaryCrossentropy(), [new Autoencoders.RoundedAccuracy()]);
        var epochs = options.EpochsOr(full: 10, quick: 1);
        var history = autoencoder.Fit(train, train, batchSize: options.BatchSizeOr(32), epochs: epochs, verbose: 1,
            validationData: (valid, valid), callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        autoencoder.Summary();

        var result = new SampleResult(Name);
        var reconstructions = Autoencoders.EvaluateOnTest(autoencoder, test, result);
        var elapsed = clock.Elapsed;
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W9 recurrent autoencoder: loss (binary CE)"));
        result.Files.Add(Autoencoders.SaveReconstructions(test, reconstructions, options.PathFor("reconstructions.png")));
        return result.Report($"W9 {Autoencoders.Scores(result)}", history.Epochs.Count, elapsed);
    }
}
