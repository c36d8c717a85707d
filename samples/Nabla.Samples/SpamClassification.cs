using System.Globalization;
using Nabla.Data;
using Nabla.Layers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// What the SpamAssassin text classifiers (W19, W20) share: the corpus tokenised with a Keras
/// <see cref="Tokenizer"/> fitted on the training texts and padded to a fixed length, and the test
/// figures of a binary classifier (accuracy, precision, recall, the confusion matrix).
/// </summary>
internal static class SpamClassification
{
    /// <summary>
    /// SpamAssassin (labels 1 = spam; the split rule is SpamAssassin.IsTest) as padded id sequences
    /// [N, <paramref name="maxlen"/>] (int32, Keras's default 'pre' padding and truncating) over the
    /// <paramref name="numWords"/> − 1 most frequent training words. A quick run keeps 600 / 200 messages.
    /// </summary>
    public static (Tensor XTrain, Tensor YTrain, Tensor XTest, Tensor YTest, Tokenizer Tokenizer) Load(int numWords, int maxlen, bool quick)
    {
        var d = SpamAssassin.Load();
        var (trainTexts, yTrain, testTexts, yTest) = (d.TrainTexts, d.TrainLabels, d.TestTexts, d.TestLabels);
        if (quick)
        {
            // The corpus lists ham before spam: an evenly strided subset keeps both classes.
            (trainTexts, yTrain) = Strided(trainTexts, yTrain, 600);
            (testTexts, yTest) = Strided(testTexts, yTest, 200);
        }
        // The corpus lists all ham before all spam; Keras's validation_split takes the last rows, so without a
        // shuffle the validation set would be spam only. One fixed permutation keeps runs reproducible.
        (trainTexts, yTrain) = Shuffled(trainTexts, yTrain, seed: 42);
        var tokenizer = new Tokenizer(numWords);
        tokenizer.FitOnTexts(trainTexts);
        var xTrain = Sequences.PadSequences(tokenizer.TextsToSequences(trainTexts), maxlen);
        var xTest = Sequences.PadSequences(tokenizer.TextsToSequences(testTexts), maxlen);
        return (xTrain, Column(yTrain), xTest, Column(yTest), tokenizer);
    }

    /// <summary>The texts and labels in one seeded random order.</summary>
    private static (IReadOnlyList<string> Texts, Tensor Labels) Shuffled(IReadOnlyList<string> texts, Tensor labels, int seed)
    {
        var order = Enumerable.Range(0, texts.Count).ToArray();
        new Random(seed).Shuffle(order);
        var l = labels.ToDoubleArray();
        return (order.Select(r => texts[r]).ToArray(), Tensor.FromArray(order.Select(r => (int)l[r]).ToArray(), order.Length));
    }

    /// <summary>Every (n / <paramref name="count"/>)-th text and its label.</summary>
    private static (IReadOnlyList<string> Texts, Tensor Labels) Strided(IReadOnlyList<string> texts, Tensor labels, int count)
    {
        var step = Math.Max(1, texts.Count / count);
        var rows = Enumerable.Range(0, Math.Min(count, texts.Count)).Select(i => i * step).ToArray();
        var l = labels.ToDoubleArray();
        return (rows.Select(r => texts[r]).ToArray(), Tensor.FromArray(rows.Select(r => (int)l[r]).ToArray(), rows.Length));
    }

    /// <summary>Labels [N] as float32 [N, 1], the shape a Dense(1, sigmoid) output is compared with.</summary>
    private static Tensor Column(Tensor labels)
    {
        var l = labels.ToDoubleArray();
        return Tensor.FromArray(l.Select(v => (float)v).ToArray(), l.Length, 1);
    }

    /// <summary>True/false positives and negatives at the 0.5 threshold.</summary>
    public sealed record Confusion(int TruePositive, int FalsePositive, int TrueNegative, int FalseNegative)
    {
        public int Total => TruePositive + FalsePositive + TrueNegative + FalseNegative;
        public double Accuracy => (TruePositive + TrueNegative) / (double)Total;
        public double Precision => TruePositive + FalsePositive == 0 ? double.NaN : TruePositive / (double)(TruePositive + FalsePositive);
        public double Recall => TruePositive + FalseNegative == 0 ? double.NaN : TruePositive / (double)(TruePositive + FalseNegative);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture,
            $"              predicted ham  predicted spam\n  ham    {TrueNegative,14} {FalsePositive,15}\n  spam   {FalseNegative,14} {TruePositive,15}");
    }

    /// <summary>Predicts the test set and counts the confusion matrix (spam = positive).</summary>
    public static Confusion Evaluate(Model model, Tensor x, Tensor y)
    {
        var p = model.Predict(x, batchSize: 500).ToDoubleArray();
        var t = y.ToDoubleArray();
        int tp = 0, fp = 0, tn = 0, fn = 0;
        for (var i = 0; i < p.Length; i++)
        {
            var (spam, predicted) = (t[i] > 0.5, p[i] > 0.5);
            if (spam && predicted) tp++;
            else if (spam) fn++;
            else if (predicted) fp++;
            else tn++;
        }
        return new Confusion(tp, fp, tn, fn);
    }

    /// <summary>Records accuracy, precision and recall under <paramref name="prefix"/>.</summary>
    public static void Record(SampleResult result, Confusion c, string prefix = "test")
    {
        result.Metrics[$"{prefix}_accuracy"] = c.Accuracy;
        result.Metrics[$"{prefix}_precision"] = c.Precision;
        result.Metrics[$"{prefix}_recall"] = c.Recall;
    }

    /// <summary>"accuracy 0.9801, precision 0.9712, recall 0.9653 (1,254 test e-mails)".</summary>
    public static string Describe(Confusion c) => string.Create(CultureInfo.InvariantCulture,
        $"accuracy {c.Accuracy:F4}, precision {c.Precision:F4}, recall {c.Recall:F4} ({c.Total:N0} test e-mails)");

    /// <summary>The confusion matrix as a 2×2 PNG: rows the true class, columns the prediction, shaded by count.</summary>
    public static string SaveConfusionPng(Confusion c, string path, string title) =>
        ConfusionPlot.Save(path, title, ["ham", "spam"], new[,] { { c.TrueNegative, c.FalsePositive }, { c.FalseNegative, c.TruePositive } });
}
