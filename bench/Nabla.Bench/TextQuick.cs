using System.Diagnostics;
using System.Globalization;
using Nabla.Data;
using Nabla.Optimizers;
using Nabla.Samples;

namespace Nabla.Bench;

/// <summary>
/// Stopwatch timing of the text side (<c>dotnet run -c Release -- --text-quick [--docs N] [--runs 3] [--steps 50]</c>):
/// Tokenizer.FitOnTexts, TextsToSequences and PadSequences(maxlen 200) over the State of the Union addresses and
/// Moby Dick's paragraphs (the W21 corpus), and one word2vec skip-gram training step (batch 512, 5 negatives,
/// V = 10,000, D = 100) through a session. The Keras twin of the tokenizer rows is <c>bench/peers/text_keras.py</c>
/// (same documents, read from the same cache).
/// </summary>
/// <remarks>
/// Napkin math: tokenizing is string work, so the column is MB of text per second (UTF-16 chars / 2²⁰). A
/// skip-gram step gathers B·(K+2)·D floats, does 2·B·(K+1)·D multiply-adds forward and about twice that
/// backward (≈ 6·B·(K+1)·D FLOPs, 18 MFLOP here: negligible), but its dense gradients scatter into, and SGD
/// rewrites, both V×D tables: ≈ 2 tables × (clear + scatter + read + write) × 4 MB ≈ 32 MB of traffic per step,
/// so it is memory-bound and the GB/s column is that traffic over the step time.
/// </remarks>
internal static class TextQuick
{
    public static void Run(string[] args)
    {
        var docs = Arg(args, "--docs", int.MaxValue);
        var runs = Arg(args, "--runs", 3);
        var steps = Arg(args, "--steps", 50);
        var documents = W21Word2Vec.LoadDocuments(docs);
        var chars = documents.Sum(d => (long)d.Length);
        Console.WriteLine($"text on {Environment.ProcessorCount} cores: {documents.Count} documents, {chars / 1e6:F1} M chars, best of {runs}");
        var mb = chars / (double)(1 << 20);
        Tokenizer? fitted = null;
        Row("Tokenizer.FitOnTexts", mb, runs, () => { fitted = new Tokenizer(numWords: 10_000); fitted.FitOnTexts(documents); });
        int[][] sequences = [];
        Row("Tokenizer.TextsToSequences", mb, runs, () => sequences = fitted!.TextsToSequences(documents));
        Row("PadSequences(maxlen 200)", documents.Count * 200 * 4 / (double)(1 << 20), runs, () => Sequences.PadSequences(sequences, maxlen: 200));
        SkipGramStep(steps);
    }

    private static void SkipGramStep(int steps)
    {
        const int v = 10_000, d = 100, b = 512, k = 5;
        var g = new Graph { Seed = 1 };
        var input = g.Variable(new Shape(v, d), DType.Float32, Initializer.RandomUniform(-0.005, 0.005, seed: 1), "in");
        var output = g.Variable(new Shape(v, d), DType.Float32, Initializer.RandomUniform(-0.005, 0.005, seed: 2), "out");
        var centers = g.Placeholder(DType.Int32, new Shape(b), "c");
        var targets = g.Placeholder(DType.Int32, new Shape(b, k + 1), "t");
        var loss = Word2Vec.SkipGramLoss(g, input.Value, output.Value, centers, targets);
        var train = new SGD(1).Minimize(loss);
        using var session = new Session(g, Device.Cpu);
        session.Run(g.GlobalVariablesInitializer());
        var random = new Random(1);
        var feeds = new Dictionary<Output, Tensor>
        {
            [centers] = Tensor.FromArray(Enumerable.Range(0, b).Select(_ => random.Next(1, v)).ToArray(), b),
            [targets] = Tensor.FromArray(Enumerable.Range(0, b * (k + 1)).Select(_ => random.Next(1, v)).ToArray(), b, k + 1),
        };
        for (var i = 0; i < 5; i++) session.Run(train, feeds);
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < steps; i++) session.Run(train, feeds);
        var ms = clock.Elapsed.TotalMilliseconds / steps;
        var traffic = 2.0 * 4 * v * d * 4;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{"word2vec skip-gram step B=512 K=5 V=10k D=100",-44} {ms,9:F2} ms  {traffic / (ms * 1e-3) / 1e9,7:F2} GB/s (dense-gradient traffic)"));
    }

    private static void Row(string name, double megabytes, int runs, Action action)
    {
        var best = double.MaxValue;
        for (var r = 0; r < runs; r++)
        {
            var clock = Stopwatch.StartNew();
            action();
            best = Math.Min(best, clock.Elapsed.TotalMilliseconds);
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{name,-44} {best,9:F1} ms  {megabytes / (best * 1e-3),7:F1} MB/s"));
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
