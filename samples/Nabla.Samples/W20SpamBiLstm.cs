using System.Diagnostics;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W20 (SEEDS.md §5): a bidirectional-LSTM text classifier, Embedding(5,272, 64) → Bidirectional(LSTM(64))
/// → Dense(64, relu) → Dense(1, sigmoid) (411,777 parameters), on the SpamAssassin corpus (the stand-in for
/// the seed's sentiment sentences): a Keras Tokenizer over the 5,271 most frequent training words, sequences
/// padded to 64; the best epoch by validation accuracy is checkpointed, reloaded and evaluated; the confusion
/// matrix is printed and drawn.
/// </summary>
internal static class W20SpamBiLstm
{
    public const string Name = "w20-spam-bilstm";
    public const string Description = "SpamAssassin e-mails: Embedding(5272, 64) + Bidirectional(LSTM(64)) classifier (411,777 params); best checkpoint reloaded; confusion matrix";

    public const int Vocabulary = 5272, Length = 64;

    public static Sequential Build() => new(
    [
        new InputLayer([Length], DType.Int32),
        new Embedding(Vocabulary, 64, inputLength: Length),
        new Bidirectional(new LSTM(64)),
        new Dense(64, "relu"),
        new Dense(1, "sigmoid"),
    ], "spam_bilstm");

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest, _) = SpamClassification.Load(Vocabulary, Length, options.Quick);
        var clock = Stopwatch.StartNew();
        var model = Build();
        model.Summary();
        model.Compile(new Adam(), new BinaryCrossentropy(), "accuracy");
        var best = options.PathFor("best.weights.safetensors");
        var epochs = options.EpochsOr(full: 5, quick: 1);
        var history = model.Fit(xTrain, yTrain, batchSize: options.BatchSizeOr(64), epochs: epochs, verbose: 1, validationSplit: 0.1,
            callbacks: [new CsvLogger(options.PathFor("history.csv")), new ModelCheckpoint(best, monitor: "val_accuracy", saveBestOnly: true)]);
        model.LoadWeights(best);
        var scores = model.Evaluate(xTest, yTest, batchSize: 500);
        var confusion = SpamClassification.Evaluate(model, xTest, yTest);
        var elapsed = clock.Elapsed;
        Console.WriteLine(confusion);

        var result = new SampleResult(Name);
        SpamClassification.Record(result, confusion);
        result.Metrics["test_loss"] = scores["loss"];
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(best);
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W20 BiLSTM on SpamAssassin: loss"));
        result.Files.Add(SpamClassification.SaveConfusionPng(confusion, options.PathFor("confusion.png"), "W20 BiLSTM (best checkpoint): test set"));
        return result.Report($"W20 SpamAssassin test (best-val_accuracy checkpoint reloaded) {SpamClassification.Describe(confusion)}", history.Epochs.Count, elapsed);
    }
}
