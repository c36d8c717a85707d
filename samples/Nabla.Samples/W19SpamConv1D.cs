using System.Diagnostics;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W19 (SEEDS.md §5): a word-embedding + Conv1D text classifier with the seed's architecture,
/// Embedding(10,000, 256, input_length 200) → Dropout(0.2) → Conv1D(256, 3, relu) → GlobalMaxPooling1D →
/// Dense(128, relu) → Dropout(0.2) → Dense(1, sigmoid) (2,789,889 parameters), Adam, batch 500. IMDB is
/// not reachable here; the SpamAssassin corpus stands in (spam = 1; the README gives the split), its
/// messages tokenised by a Keras Tokenizer over the 9,999 most frequent training words and padded to 200.
/// </summary>
internal static class W19SpamConv1D
{
    public const string Name = "w19-spam-conv1d";
    public const string Description = "SpamAssassin e-mails: Embedding(10000, 256) + Conv1D(256, 3) + GlobalMaxPooling1D classifier (2,789,889 params), Adam, batch 500";

    public const int Vocabulary = 10_000, Length = 200;

    public static Sequential Build() => new(
    [
        new InputLayer([Length], DType.Int32),
        new Embedding(Vocabulary, 256, inputLength: Length),
        new Dropout(0.2),
        new Conv1D(256, 3, activation: "relu"),
        new GlobalMaxPooling1D(),
        new Dense(128, "relu"),
        new Dropout(0.2),
        new Dense(1, "sigmoid"),
    ], "spam_conv1d");

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var (xTrain, yTrain, xTest, yTest, _) = SpamClassification.Load(Vocabulary, Length, options.Quick);
        var clock = Stopwatch.StartNew();
        var model = Build();
        model.Summary();
        model.Compile(new Adam(), new BinaryCrossentropy(), "accuracy");
        var epochs = options.EpochsOr(full: 5, quick: 1);
        var history = model.Fit(xTrain, yTrain, batchSize: options.BatchSizeOr(500), epochs: epochs, verbose: 1, validationData: (xTest, yTest),
            callbacks: [new CsvLogger(options.PathFor("history.csv"))]);
        var confusion = SpamClassification.Evaluate(model, xTest, yTest);
        var elapsed = clock.Elapsed;
        Console.WriteLine(confusion);

        var result = new SampleResult(Name);
        SpamClassification.Record(result, confusion);
        result.Files.Add(options.PathFor("history.csv"));
        result.Files.Add(LossCurve.Save(history, options.PathFor("loss.png"), "W19 Embedding + Conv1D on SpamAssassin: loss"));
        result.Files.Add(SpamClassification.SaveConfusionPng(confusion, options.PathFor("confusion.png"), "W19 Conv1D: SpamAssassin test set"));
        return result.Report($"W19 SpamAssassin test {SpamClassification.Describe(confusion)}", history.Epochs.Count, elapsed);
    }
}
