using System.Diagnostics;
using System.Globalization;
using System.Text;
using Nabla.Data;
using Nabla.Optimizers;
using Nabla.Samples.Plots;

namespace Nabla.Samples;

/// <summary>
/// W21 (SEEDS.md §5): word2vec on the State of the Union addresses and <i>Moby Dick</i> (standing in for
/// text8), skip-gram and CBOW with negative sampling on graph ops (Gather of an embedding variable, dot
/// products, softplus = −log σ), trained by SGD with a linearly decaying rate as the C tool; then
/// nearest neighbours, analogies, odd-one-out, similarity and distance on the skip-gram vectors, and a
/// 2-D PCA map of selected words.
/// </summary>
internal static class W21Word2Vec
{
    public const string Name = "w21-word2vec";
    public const string Description = "word2vec (skip-gram and CBOW, negative sampling) on State of the Union + Moby Dick: neighbours, analogies, odd one out, PCA map";

    /// <summary>Settings of one run; the defaults are the full run, <see cref="Quick"/> a smoke test.</summary>
    /// <remarks>
    /// Subsample is the C tool's default threshold 1e-3 and the CBOW rate its CBOW default 0.05. With the earlier
    /// 1e-4 on this small corpus (2 M tokens) CBOW was degenerate: subsampling flattened the centre words'
    /// distribution far below the unigram^¾ noise, so most of the loss to gain was a per-word bias
    /// (log P_centre(w) / P_noise(w)). CBOW's hidden vector is the mean of its context vectors, which keeps their
    /// common component and shrinks the word-specific ones, so the model learned that bias through one shared
    /// direction: the loss fell (4.2 → 2.7) while every input vector lay on one line (all cosines 1.00 after removing
    /// the mean, one epoch), at batch 64 and 512, rates 0.005 to 0.05, with the C tool's update or the true gradient. Skip-gram, whose
    /// hidden vector is one word's own vector, escapes that phase sooner. CBOW epochs are cheap (one example per kept
    /// token, against about 6 pairs for skip-gram), so it gets more of them.
    /// </remarks>
    internal sealed record Settings(int Dimension = 100, int MinCount = 10, int Window = 5, int Negatives = 5, double Subsample = 1e-3,
        int BatchSize = 512, double LearningRate = 0.025, double CbowLearningRate = 0.05, bool CbowCToolUpdate = true, int SkipGramEpochs = 3, int CbowEpochs = 6, int Documents = int.MaxValue)
    {
        public static Settings Quick { get; } = new(Dimension: 32, MinCount: 20, SkipGramEpochs: 1, CbowEpochs: 1, Documents: 1500);
    }

    private static readonly string[] ProbeWords = ["war", "peace", "congress", "whale", "ship", "january", "gold", "british", "president", "ocean", "two", "tax"];

    // (a, b, c, expected): a − b + c should be expected, e.g. france − paris + london = england.
    private static readonly (string A, string B, string C, string Expected)[] Analogies =
    [
        ("france", "paris", "london", "england"),
        ("germany", "france", "french", "german"),
        ("january", "february", "april", "march"),
        ("two", "three", "five", "four"),
        ("men", "man", "woman", "women"),
        ("he", "his", "her", "she"),
        ("army", "soldiers", "sailors", "navy"),
        ("war", "wars", "treaties", "treaty"),
    ];

    private static readonly string[][] OddOneOut =
    [
        ["january", "march", "april", "whale"],
        ["army", "navy", "soldiers", "harpoon"],
        ["two", "three", "four", "congress"],
        ["whale", "sperm", "harpoon", "tariff"],
    ];

    private static readonly (string, string)[] Pairs = [("war", "peace"), ("whale", "ship"), ("whale", "tariff"), ("congress", "senate"), ("january", "february")];

    private static readonly string[] MapWords =
    [
        "january", "february", "march", "april", "june", "july",
        "two", "three", "four", "five", "ten",
        "whale", "sperm", "harpoon", "boat", "sea", "ocean",
        "army", "navy", "war", "peace", "treaty",
        "congress", "senate", "tax", "revenue", "tariff",
        "france", "england", "spain", "mexico", "china",
    ];

    public static SampleResult Run(SampleOptions options)
    {
        options.Begin();
        var settings = options.Quick ? Settings.Quick : new Settings();
        if (options.Epochs is { } e) settings = settings with { SkipGramEpochs = e, CbowEpochs = e };
        if (options.BatchSize is { } bs) settings = settings with { BatchSize = bs };
        var device = options.Device ?? Device.Cpu;

        var documents = LoadDocuments(settings.Documents);
        var (tokenizer, sentences, counts) = Prepare(documents, settings);
        var vocabulary = counts.Length;
        Console.WriteLine($"corpus: {documents.Count} documents, {sentences.Sum(s => s.Length):N0} tokens kept in a vocabulary of {vocabulary - 1:N0} words (count ≥ {settings.MinCount})");

        var clock = Stopwatch.StartNew();
        using var log = new StreamWriter(options.PathFor("training.csv"));
        log.WriteLine("model,epoch,step,loss,learning_rate,seconds");
        var skipGram = Train("skipgram", sentences, counts, settings, settings.SkipGramEpochs, device, log, clock);
        var cbow = Train("cbow", sentences, counts, settings, settings.CbowEpochs, device, log, clock);
        log.Flush();
        var elapsed = clock.Elapsed;

        var words = Enumerable.Range(1, vocabulary - 1).Select(i => tokenizer.IndexWord[i]).ToArray();
        var result = new SampleResult(Name);
        var report = new StringBuilder();
        foreach (var (label, table, curve) in new[] { ("skip-gram", skipGram.Vectors, skipGram.Curve), ("CBOW", cbow.Vectors, cbow.Curve) })
        {
            var vectors = new WordVectors(words, DropPaddingRow(table), removeMean: true);
            report.AppendLine(CultureInfo.InvariantCulture, $"== {label} ==");
            var correct = Describe(vectors, report);
            var collinearity = MeanAbsoluteCosine(vectors);
            report.AppendLine(CultureInfo.InvariantCulture, $"mean |cosine| of 2,000 random word pairs = {collinearity:F3} (near 1: the vectors lie on one line)");
            var tag = label == "CBOW" ? "cbow" : "skipgram";
            result.Metrics[$"{tag}_mean_abs_cosine"] = collinearity;
            result.Metrics[$"{tag}_analogies_correct"] = correct;
            result.Metrics[$"{tag}_final_loss"] = curve[^1].Loss;
            if (label == "skip-gram") result.Files.Add(WordMap.Save(vectors, MapWords, options.PathFor("pca-map.png"), "W21 skip-gram vectors, 2-D PCA"));
        }
        Console.Write(report);
        File.WriteAllText(options.PathFor("report.txt"), report.ToString());
        result.Files.Add(options.PathFor("report.txt"));
        result.Files.Add(options.PathFor("training.csv"));
        result.Files.Add(SaveLossPlot(skipGram.Curve, cbow.Curve, options.PathFor("loss.png")));
        result.Metrics["vocabulary"] = vocabulary - 1;
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W21 word2vec: skip-gram loss {skipGram.Curve[^1].Loss:F3}, CBOW loss {cbow.Curve[^1].Loss:F3}; analogies right: skip-gram {result.Metrics["skipgram_analogies_correct"]}/{Analogies.Length}, CBOW {result.Metrics["cbow_analogies_correct"]}/{Analogies.Length}"),
            settings.SkipGramEpochs + settings.CbowEpochs, elapsed);
    }

    /// <summary>The addresses, then the novel's paragraphs, as documents (windows never cross a document).</summary>
    internal static List<string> LoadDocuments(int limit)
    {
        var docs = TextCorpora.StateOfTheUnion().Select(a => a.Text).ToList();
        var moby = TextCorpora.MobyDick().Replace("\r\n", "\n", StringComparison.Ordinal);
        docs.AddRange(moby.Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Where(p => p.Length > 0));
        if (limit >= docs.Count) return docs;
        // A quick run keeps a spread of both corpora: every n-th document.
        var step = (double)docs.Count / limit;
        return Enumerable.Range(0, limit).Select(i => docs[(int)(i * step)]).ToList();
    }

    /// <summary>
    /// Tokenizes with Keras's rules (plus typographic quotes and dashes as separators) and keeps the words
    /// seen at least MinCount times: with the tokenizer's frequency ranks these are exactly the indices
    /// below NumWords, so the sequences hold only indices 1..V−1.
    /// </summary>
    internal static (Tokenizer Tokenizer, List<int[]> Sentences, long[] Counts) Prepare(IReadOnlyList<string> documents, Settings settings)
    {
        const string filters = Tokenizer.DefaultFilters + "“”‘’—–\r";
        var counting = new Tokenizer(filters: filters);
        counting.FitOnTexts(documents);
        var kept = counting.WordCounts.Count(kv => kv.Value >= settings.MinCount);
        var tokenizer = new Tokenizer(numWords: kept + 1, filters: filters);
        tokenizer.FitOnTexts(documents);
        var counts = new long[kept + 1];
        for (var i = 1; i <= kept; i++) counts[i] = tokenizer.WordCounts[tokenizer.IndexWord[i]];
        var sentences = tokenizer.TextsToSequences(documents).Where(s => s.Length > 1).ToList();
        return (tokenizer, sentences, counts);
    }

    internal sealed record Trained(Tensor Vectors, List<(int Step, double Loss)> Curve);

    /// <summary>One model, trained from scratch on its own graph; returns the input embeddings and the loss curve (mean over 200-step windows).</summary>
    internal static Trained Train(string model, List<int[]> sentences, long[] counts, Settings s, int epochs, Device device,
        StreamWriter log, Stopwatch clock)
    {
        var cbow = model == "cbow";
        var g = new Graph { Seed = 21 };
        var v = counts.Length;
        var input = g.Variable(new Shape(v, s.Dimension), DType.Float32, Initializer.RandomUniform(-0.5 / s.Dimension, 0.5 / s.Dimension, seed: 1), "w2v/input");
        var output = g.Variable(new Shape(v, s.Dimension), DType.Float32, Initializer.Zeros, "w2v/output");
        var width = 2 * s.Window;
        var k1 = s.Negatives + 1;
        var targets = g.Placeholder(DType.Int32, new Shape(-1, k1), "targets");
        Output centers = default, contexts = default, mask = default;
        Output loss;
        if (cbow)
        {
            contexts = g.Placeholder(DType.Int32, new Shape(-1, width), "contexts");
            mask = g.Placeholder(DType.Float32, new Shape(-1, width), "mask");
            loss = Word2Vec.CbowLoss(g, input.Value, output.Value, contexts, mask, targets, cToolUpdate: s.CbowCToolUpdate);
        }
        else
        {
            centers = g.Placeholder(DType.Int32, new Shape(-1), "centers");
            loss = Word2Vec.SkipGramLoss(g, input.Value, output.Value, centers, targets);
        }
        // The loss is a batch mean, so a row's update is lr/B times its per-example gradient: scaling the
        // rate by B gives the C tool's per-example step of 0.025. CBOW uses the C tool's update of the context
        // words (the whole error to each, see Word2Vec.CbowLoss); on why its defaults differ, see Settings.
        var lr0 = (cbow ? s.CbowLearningRate : s.LearningRate) * s.BatchSize;
        var sgd = new SGD(lr0);
        var train = sgd.Minimize(loss, [input, output]);

        using var session = new Session(g, device);
        session.Run(g.GlobalVariablesInitializer());
        var random = new Random(2013);
        var keep = Word2Vec.KeepProbabilities(counts, s.Subsample);
        var noise = Word2Vec.NoiseTable(counts);
        var curve = new List<(int, double)>();
        var step = 0;
        var totalSteps = -1;
        double windowLoss = 0;
        var windowCount = 0;
        for (var epoch = 0; epoch < epochs; epoch++)
        {
            int[] truth, ctx = [];
            float[] msk = [];
            if (cbow) (ctx, msk, truth) = Word2Vec.CbowExamples(sentences, keep, s.Window, random);
            else (truth, ctx) = Word2Vec.SkipGramPairs(sentences, keep, s.Window, random);
            // For skip-gram, truth holds the centres and ctx the true context words.
            var n = truth.Length;
            var steps = n / s.BatchSize;
            if (totalSteps < 0) totalSteps = steps * epochs; // the first epoch's size stands for all (subsampling varies a little)
            var order = Enumerable.Range(0, n).ToArray();
            random.Shuffle(order);
            Console.WriteLine($"{model} epoch {epoch + 1}/{epochs}: {n:N0} examples, {steps:N0} steps of {s.BatchSize}");
            var batchTargets = new int[s.BatchSize * k1];
            var batchTruth = new int[s.BatchSize];
            var batchCenters = new int[s.BatchSize];
            var batchContexts = new int[s.BatchSize * width];
            var batchMask = new float[s.BatchSize * width];
            for (var b = 0; b < steps; b++, step++)
            {
                for (var r = 0; r < s.BatchSize; r++)
                {
                    var ex = order[b * s.BatchSize + r];
                    if (cbow)
                    {
                        batchTruth[r] = truth[ex];
                        Array.Copy(ctx, ex * width, batchContexts, r * width, width);
                        Array.Copy(msk, ex * width, batchMask, r * width, width);
                    }
                    else
                    {
                        batchCenters[r] = truth[ex];
                        batchTruth[r] = ctx[ex];
                    }
                }
                Word2Vec.FillTargets(batchTargets, batchTruth, s.Negatives, noise, random);
                var feeds = new Dictionary<Output, Tensor> { [targets] = Tensor.FromArray(batchTargets, s.BatchSize, k1) };
                if (cbow)
                {
                    feeds[contexts] = Tensor.FromArray(batchContexts, s.BatchSize, width);
                    feeds[mask] = Tensor.FromArray(batchMask, s.BatchSize, width);
                }
                else feeds[centers] = Tensor.FromArray(batchCenters, s.BatchSize);
                if (step % 50 == 0) sgd.SetLearningRate(session, lr0 * Math.Max(1e-4, 1 - (double)step / Math.Max(1, totalSteps)));
                windowLoss += session.Run([loss], feeds, train)[0].ToDoubleArray()[0];
                windowCount++;
                if (windowCount == 200 || b == steps - 1)
                {
                    var mean = windowLoss / windowCount;
                    curve.Add((step + 1, mean));
                    log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{model},{epoch + 1},{step + 1},{mean:F5},{sgd.GetLearningRate(session):G5},{clock.Elapsed.TotalSeconds:F1}"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  step {step + 1,6}  loss {mean:F4}  ({clock.Elapsed.TotalSeconds:F0} s)"));
                    windowLoss = 0;
                    windowCount = 0;
                }
            }
        }
        if (curve.Count == 0) throw new InvalidOperationException($"{model}: the corpus gave no full batch of {s.BatchSize}; use a smaller --batch-size");
        return new Trained(session.Run(input.Value), curve);
    }

    /// <summary>
    /// Mean |cosine| over 2,000 seeded random pairs of distinct words (after the mean removal of <paramref name="vectors"/>):
    /// near 0 for spread-out vectors, near 1 for degenerate ones that lie on one line.
    /// </summary>
    internal static double MeanAbsoluteCosine(WordVectors vectors)
    {
        var words = vectors.Words;
        if (words.Count < 2) throw new ArgumentException("need at least two words", nameof(vectors));
        var random = new Random(5);
        double sum = 0;
        const int pairs = 2000;
        for (var i = 0; i < pairs; i++)
        {
            var a = random.Next(words.Count);
            var b = random.Next(words.Count - 1);
            if (b >= a) b++;
            sum += Math.Abs(vectors.Similarity(words[a], words[b]));
        }
        return sum / pairs;
    }

    private static Tensor DropPaddingRow(Tensor table)
    {
        var d = table.Shape[1];
        var all = table.ToArray<float>();
        return Tensor.FromArray(all[d..], table.Shape[0] - 1, d);
    }

    /// <summary>Writes neighbours, analogies, odd-one-out and similarities; returns how many analogies came out right.</summary>
    private static int Describe(WordVectors vectors, StringBuilder report)
    {
        var inv = CultureInfo.InvariantCulture;
        foreach (var w in ProbeWords.Where(vectors.Contains))
            report.AppendLine(inv, $"most_similar({w}): {string.Join(", ", vectors.MostSimilar([w], topN: 8).Select(p => $"{p.Word} {p.Similarity:F2}"))}");
        var correct = 0;
        foreach (var (a, b, c, expected) in Analogies)
        {
            if (!new[] { a, b, c, expected }.All(vectors.Contains))
            {
                report.AppendLine(inv, $"analogy {b} : {a} = {c} : ?  (skipped: a word is not in the vocabulary)");
                continue;
            }
            var top = vectors.MostSimilar([a, c], [b], topN: 5);
            var hit = top[0].Word == expected;
            if (hit) correct++;
            report.AppendLine(inv, $"analogy {a} - {b} + {c} = {top[0].Word} (expected {expected}: {(hit ? "right" : "wrong")}; top 5: {string.Join(", ", top.Select(t => t.Word))})");
        }
        foreach (var set in OddOneOut.Where(set => set.All(vectors.Contains)))
            report.AppendLine(inv, $"doesnt_match({string.Join(", ", set)}) = {vectors.DoesntMatch(set)}");
        foreach (var (a, b) in Pairs.Where(p => vectors.Contains(p.Item1) && vectors.Contains(p.Item2)))
            report.AppendLine(inv, $"similarity({a}, {b}) = {vectors.Similarity(a, b):F3}, distance = {vectors.Distance(a, b):F3}");
        return correct;
    }

    private static string SaveLossPlot(List<(int Step, double Loss)> skipGram, List<(int Step, double Loss)> cbow, string path)
    {
        var plot = new ScottPlot.Plot();
        foreach (var (label, curve) in new[] { ("skip-gram", skipGram), ("CBOW", cbow) })
        {
            var line = plot.Add.Scatter(curve.Select(p => (double)p.Step).ToArray(), curve.Select(p => p.Loss).ToArray());
            line.LegendText = label;
            line.LineWidth = 2;
            line.MarkerSize = 0;
        }
        plot.Title("W21 word2vec: negative-sampling loss (mean over 200 steps)");
        plot.XLabel("step");
        plot.YLabel("loss per example");
        plot.ShowLegend(ScottPlot.Alignment.UpperRight);
        return LossCurve.SavePng(plot, path, 800, 500);
    }
}
