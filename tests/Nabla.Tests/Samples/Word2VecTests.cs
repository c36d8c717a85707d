using Nabla.Data;
using Nabla.Samples;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Samples;

/// <summary>
/// The pieces of the W21 word2vec sample: its negative-sampling losses (value by hand, float64 gradient
/// check on the reference backend, CPU float32 against the reference), the corpus helpers, and the
/// WordVectors queries on a hand-made embedding.
/// </summary>
public class Word2VecTests
{
    // (vocabulary, dimension, batch, negatives): size-1 dimensions, batch 1, odd sizes, repeated indices.
    private static readonly (int V, int D, int B, int K)[] Shapes = [(5, 3, 4, 2), (1, 1, 1, 0), (7, 1, 3, 1), (3, 5, 1, 3), (4, 2, 6, 4)];

    private static int[] Indices(int count, int vocabulary, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => r.Next(vocabulary)).ToArray();
    }

    private static Build SkipGram(int[] centers, int[] targets, int b, int k1) => (g, xs) =>
        Word2Vec.SkipGramLoss(g, xs[0], xs[1], g.Constant(Tensor.FromArray(centers, b)), g.Constant(Tensor.FromArray(targets, b, k1)));

    private static Build Cbow(int[] contexts, float[] mask, int[] targets, int b, int width, int k1) => (g, xs) =>
        Word2Vec.CbowLoss(g, xs[0], xs[1], g.Constant(Tensor.FromArray(contexts, b, width)),
            g.Cast(g.Constant(Tensor.FromArray(mask, b, width)), xs[0].DType), g.Constant(Tensor.FromArray(targets, b, k1)));

    [Test]
    public void SkipGramLossEqualsTheFormulaByHand()
    {
        // v = input[c], u = output[t]; loss = mean_b [softplus(−v·u₀) + Σ_k softplus(v·u_k)].
        var input = new double[,] { { 0.5, -1 }, { 2, 0.25 } };
        var output = new double[,] { { 1, 1 }, { -0.5, 2 } };
        int[] centers = [1, 0];
        int[] targets = [0, 1, 1, 1]; // row 0: true 0, noise 1; row 1: true 1, noise 1
        var y = OpHarness.Evaluate(SkipGram(centers, targets, 2, 2), [Tensor.FromMultiArray(input), Tensor.FromMultiArray(output)], Device.Reference, DType.Float64);
        static double Softplus(double x) => Math.Log(1 + Math.Exp(x));
        var row0 = Softplus(-(2 * 1 + 0.25 * 1)) + Softplus(2 * -0.5 + 0.25 * 2);
        var row1 = Softplus(-(0.5 * -0.5 + -1 * 2)) + Softplus(0.5 * -0.5 + -1 * 2);
        Assert.That(y.ToDoubleArray()[0], Is.EqualTo((row0 + row1) / 2).Within(1e-12));
    }

    [Test]
    public void SkipGramLossGradientCheckFloat64([Range(0, 4)] int shape)
    {
        var (v, d, b, k) = Shapes[shape];
        var build = SkipGram(Indices(b, v, 1), Indices(b * (k + 1), v, 2), b, k + 1);
        Tensor[] tables = [OpHarness.Uniform([v, d], seed: 3), OpHarness.Uniform([v, d], seed: 4)];
        // Smooth composition of gather, products, softplus and means: the default central-difference noise bound plus 1e-6 relative.
        OpHarness.Gradients(build, tables, rtol: 1e-6);
        OpHarness.CpuMatchesReference(build, tables, rtol: 1e-5, atol: 1e-5);
    }

    [Test]
    public void CbowLossGradientCheckFloat64([Range(0, 4)] int shape)
    {
        var (v, d, b, k) = Shapes[shape];
        const int window = 2;
        var contexts = Indices(b * 2 * window, v, 5);
        // Every row keeps at least its first context word; the others are padding in a fixed pattern.
        var mask = Enumerable.Range(0, b * 2 * window).Select(i => i % (2 * window) == 0 || i % 3 == 1 ? 1f : 0f).ToArray();
        var build = Cbow(contexts, mask, Indices(b * (k + 1), v, 6), b, 2 * window, k + 1);
        Tensor[] tables = [OpHarness.Uniform([v, d], seed: 7), OpHarness.Uniform([v, d], seed: 8)];
        OpHarness.Gradients(build, tables, rtol: 1e-6);
        OpHarness.CpuMatchesReference(build, tables, rtol: 1e-5, atol: 1e-5);
    }

    [Test]
    public void CbowCToolUpdateKeepsTheLossAndScalesTheContextGradientByTheContextCount()
    {
        const int v = 6, d = 3, b = 2, width = 4, k1 = 3;
        var contexts = Indices(b * width, v, 11);
        var mask = Enumerable.Repeat(1f, b * width).ToArray(); // every row has `width` context words
        var targets = Indices(b * k1, v, 12);
        Tensor[] tables = [OpHarness.Uniform([v, d], seed: 13), OpHarness.Uniform([v, d], seed: 14)];
        (double Loss, double[] GradIn, double[] GradOut) Run(bool cTool)
        {
            var g = new Graph();
            var xs = tables.Select((t, i) => g.Placeholder(DType.Float64, t.Shape, $"t{i}")).ToArray();
            var loss = Word2Vec.CbowLoss(g, xs[0], xs[1], g.Constant(Tensor.FromArray(contexts, b, width)),
                g.Constant(OpHarness.ToFloat64(Tensor.FromArray(mask, b, width))), g.Constant(Tensor.FromArray(targets, b, k1)), cTool);
            var grads = g.Gradients(loss, xs);
            using var s = new Session(g, Device.Reference);
            var outs = s.Run([loss, grads[0], grads[1]], new Dictionary<Output, Tensor> { [xs[0]] = tables[0], [xs[1]] = tables[1] });
            return (outs[0].ToDoubleArray()[0], outs[1].ToDoubleArray(), outs[2].ToDoubleArray());
        }
        var exact = Run(false);
        var cTool = Run(true);
        Assert.That(cTool.Loss, Is.EqualTo(exact.Loss).Within(1e-12));
        Assert.That(cTool.GradOut, Is.EqualTo(exact.GradOut).Within(1e-12), "the output table's gradient is unchanged");
        Assert.That(cTool.GradIn, Is.EqualTo(exact.GradIn.Select(x => x * width).ToArray()).Within(1e-12));
        Assert.That(exact.GradIn.Any(x => Math.Abs(x) > 1e-6), "the comparison is not vacuous");
    }

    /// <summary>
    /// The CBOW loss's gradients with respect to both tables on the Cpu device (float32) against the reference
    /// backend (float64), at the sample's shapes (2·window = 10 context slots, half of them padding, D = 100,
    /// 5 negatives, repeated indices) with the contexts, mask and targets fed as the sample feeds them.
    /// </summary>
    [Test]
    public void CbowGradientsOnTheCpuMatchTheReferenceAtSampleShapes([Values(false, true)] bool cTool)
    {
        const int v = 50, d = 100, b = 64, width = 10, k1 = 6;
        var r = new Random(31);
        var contexts = new int[b * width];
        var mask = new float[b * width];
        for (var i = 0; i < b; i++)
        {
            var n = 1 + r.Next(width);
            for (var j = 0; j < n; j++)
            {
                contexts[i * width + j] = r.Next(1, v);
                mask[i * width + j] = 1;
            }
        }
        var targets = Indices(b * k1, v, 32).Select(t => Math.Max(1, t)).ToArray();
        var input = OpHarness.Uniform([v, d], -0.5, 0.5, seed: 33);
        var output = OpHarness.Uniform([v, d], -0.5, 0.5, seed: 34);
        double[][] Run(Device device, DType dtype)
        {
            var g = new Graph();
            var tIn = g.Placeholder(dtype, new Shape(v, d), "in");
            var tOut = g.Placeholder(dtype, new Shape(v, d), "out");
            var c = g.Placeholder(DType.Int32, new Shape(-1, width), "contexts");
            var m = g.Placeholder(DType.Float32, new Shape(-1, width), "mask");
            var t = g.Placeholder(DType.Int32, new Shape(-1, k1), "targets");
            var loss = Word2Vec.CbowLoss(g, tIn, tOut, c, g.Cast(m, dtype), t, cTool);
            var grads = g.Gradients(loss, [tIn, tOut]);
            using var s = new Session(g, device);
            Tensor Cast(Tensor x) => dtype == DType.Float64 ? x : OpHarness.ToFloat32(x);
            var outs = s.Run([loss, grads[0], grads[1]], new Dictionary<Output, Tensor>
            {
                [tIn] = Cast(input), [tOut] = Cast(output), [c] = Tensor.FromArray(contexts, b, width),
                [m] = Tensor.FromArray(mask, b, width), [t] = Tensor.FromArray(targets, b, k1),
            });
            return outs.Select(o => o.ToDoubleArray()).ToArray();
        }
        var reference = Run(Device.Reference, DType.Float64);
        var cpu = Run(Device.Cpu, DType.Float32);
        Assert.That(cpu[0][0], Is.EqualTo(reference[0][0]).Within(1e-5 * Math.Abs(reference[0][0]) + 1e-6), "loss");
        for (var x = 1; x <= 2; x++)
        {
            var scale = reference[x].Max(Math.Abs);
            Assert.That(scale, Is.GreaterThan(1e-4), "the comparison is not vacuous");
            for (var i = 0; i < reference[x].Length; i++)
                Assert.That(cpu[x][i], Is.EqualTo(reference[x][i]).Within(1e-4 * scale), $"{(x == 1 ? "input" : "output")} table gradient [{i / d}, {i % d}]");
        }
    }

    [Test]
    public void SubsamplingAndNoiseFollowTheCTool()
    {
        long[] counts = [0, 1000, 100, 10, 0, 1];
        var keep = Word2Vec.KeepProbabilities(counts, 1e-3);
        Assert.That(keep[0], Is.Zero);
        Assert.That(keep[4], Is.Zero);
        var f1 = 1000.0 / 1111;
        Assert.That(keep[1], Is.EqualTo((Math.Sqrt(f1 / 1e-3) + 1) * 1e-3 / f1).Within(1e-12));
        Assert.That(keep[5], Is.EqualTo(1), "rare words are always kept");

        var table = Word2Vec.NoiseTable(counts, 1 << 16);
        var total = counts.Sum(c => Math.Pow(c, 0.75));
        for (var w = 0; w < counts.Length; w++)
        {
            var share = table.Count(t => t == w) / (double)table.Length;
            Assert.That(share, Is.EqualTo(Math.Pow(counts[w], 0.75) / total).Within(1e-3), $"word {w}");
        }
    }

    [Test]
    public void SkipGramPairsStayInsideTheWindowAndTheSentence()
    {
        var keepAll = Enumerable.Repeat(1.0, 10).ToArray();
        var (centers, contexts) = Word2Vec.SkipGramPairs([[1, 2, 3, 4, 5], [6, 7]], keepAll, window: 2, new Random(1));
        var pairs = centers.Zip(contexts).ToArray();
        Assert.That(pairs, Is.Not.Empty);
        Assert.That(pairs.All(p => p.First != p.Second), "no word is its own context");
        Assert.That(pairs.All(p => Math.Abs(p.First - p.Second) <= 2), "within the window");
        Assert.That(pairs.Any(p => p.First >= 6) && pairs.All(p => (p.First >= 6) == (p.Second >= 6)), "never across sentences");
        Assert.That(pairs, Does.Contain((6, 7)).And.Contain((7, 6)));

        var (ctx, mask, cbowCenters) = Word2Vec.CbowExamples([[1, 2, 3]], keepAll, window: 1, new Random(1));
        Assert.That(cbowCenters, Is.EqualTo(new[] { 1, 2, 3 }));
        Assert.That(ctx, Is.EqualTo(new[] { 2, 0, 1, 3, 2, 0 }));
        Assert.That(mask, Is.EqualTo(new[] { 1f, 0, 1, 1, 1, 0 }));
    }

    /// <summary>
    /// CBOW, trained as the W21 sample trains it (its default settings, smaller vectors and batches), on a synthetic
    /// corpus of four topics of 10 words each: each sentence draws its words from one topic (Zipf-like ranks) and,
    /// half of the time, from 5 function words shared by both, which are more frequent than any topic word, as in
    /// real text. The vectors must not lie on one line (the degenerate CBOW of the earlier 1e-4 subsampling and 0.025
    /// rate, which learned only a per-word bias through one shared direction), and words of the same topic must be
    /// closer than words of different topics.
    /// </summary>
    [Test]
    public void CbowBringsCoOccurringWordsTogetherOnASyntheticCorpus()
    {
        const int topics = 4, topicWords = 10, functionWords = 5;
        var random = new Random(7);
        var sentences = new List<int[]>();
        for (var n = 0; n < 2000; n++)
        {
            var topic = n % topics;
            var sentence = new int[20];
            for (var i = 0; i < sentence.Length; i++)
            {
                // Indices: 1..5 function words, then each topic's 10 words; within a topic, rank r has weight 1/(r + 2).
                if (random.NextDouble() < 0.5) sentence[i] = 1 + random.Next(functionWords);
                else
                {
                    int r;
                    do r = random.Next(topicWords); while (random.NextDouble() > 2.0 / (r + 2));
                    sentence[i] = 1 + functionWords + topic * topicWords + r;
                }
            }
            sentences.Add(sentence);
        }
        var counts = new long[1 + functionWords + topics * topicWords];
        foreach (var w in sentences.SelectMany(x => x)) counts[w]++;
        var settings = new W21Word2Vec.Settings() with { Dimension = 16, BatchSize = 64 };
        using var log = new StreamWriter(Stream.Null);
        var trained = W21Word2Vec.Train("cbow", sentences, counts, settings, settings.CbowEpochs, Device.Cpu, log, System.Diagnostics.Stopwatch.StartNew());
        var table = trained.Vectors.ToDoubleArray();
        var names = Enumerable.Range(1, counts.Length - 1).Select(i => $"w{i}").ToArray();
        var vectors = new WordVectors(names, Tensor.FromArray(table[settings.Dimension..], counts.Length - 1, settings.Dimension), removeMean: true);
        double within = 0, across = 0;
        int nWithin = 0, nAcross = 0;
        for (var a = 0; a < topics * topicWords; a++)
            for (var b = a + 1; b < topics * topicWords; b++)
            {
                var cos = vectors.Similarity(names[functionWords + a], names[functionWords + b]);
                if (a / topicWords == b / topicWords) { within += cos; nWithin++; }
                else { across += cos; nAcross++; }
            }
        within /= nWithin;
        across /= nAcross;
        var collinearity = W21Word2Vec.MeanAbsoluteCosine(vectors);
        TestContext.Out.WriteLine($"CBOW on the synthetic corpus: mean cosine within a topic {within:F3}, across topics {across:F3}; mean |cosine| {collinearity:F3}; final loss {trained.Curve[^1].Loss:F3}");
        Assert.That(collinearity, Is.LessThan(0.8), "the vectors lie (nearly) on one line");
        Assert.That(within - across, Is.GreaterThan(0.5), "words of one topic are not closer to each other than to the other topic's");
    }

    /// <summary>
    /// The W21 sample end to end in --quick mode (1,500 documents, one epoch of each model, about half a minute
    /// on two busy cores): skip-gram's loss falls well below its start of 6·ln 2 ≈ 4.16 and every output is written.
    /// </summary>
    [Test, Category("Data")]
    public void W21QuickRunTrainsAndWritesItsOutputs()
    {
        var dir = Directory.CreateTempSubdirectory("nabla-w21-").FullName;
        try
        {
            var result = W21Word2Vec.Run(new SampleOptions(W21Word2Vec.Name, Out: dir, Quick: true));
            Assert.That(result.Metrics["skipgram_final_loss"], Is.LessThan(2.8));
            Assert.That(result.Metrics["cbow_final_loss"], Is.LessThan(3.5));
            Assert.That(result.Metrics["cbow_mean_abs_cosine"], Is.LessThan(0.8), "CBOW's vectors are not degenerate (on one line)");
            Assert.That(result.Metrics["skipgram_mean_abs_cosine"], Is.LessThan(0.8), "skip-gram's vectors are not degenerate (on one line)");
            Assert.That(result.Metrics["vocabulary"], Is.GreaterThan(3000));
            foreach (var file in new[] { "pca-map.png", "loss.png", "report.txt", "training.csv" })
                Assert.That(new FileInfo(Path.Combine(dir, file)).Length, Is.GreaterThan(100), file);
            Assert.That(File.ReadAllText(Path.Combine(dir, "report.txt")), Does.Contain("doesnt_match(whale, sperm, harpoon, tariff) = tariff"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // ---- WordVectors on a hand-made embedding ----

    private static WordVectors HandMade() => new(
        ["king", "queen", "man", "woman", "apple", "zero"],
        Tensor.FromMultiArray(new double[,]
        {
            { 1, 1, 0 },    // king = royal + male
            { 1, 0, 1 },    // queen = royal + female
            { 0, 1, 0 },    // man
            { 0, 0, 1 },    // woman
            { -1, 0.1, 0.1 }, // apple: nothing royal
            { 0, 0, 0 },    // a zero vector has cosine 0 with everything
        }));

    [Test]
    public void MostSimilarAndAnalogyOnAHandMadeEmbedding()
    {
        var wv = HandMade();
        var nearKing = wv.MostSimilar(["king"], topN: 3);
        // cos(king, man) = 1/√2, cos(king, queen) = 1/2, then woman and zero tie at 0 and keep row order.
        Assert.That(nearKing.Select(p => p.Word), Is.EqualTo(new[] { "man", "queen", "woman" }));
        Assert.That(nearKing.Select(p => p.Similarity), Is.EqualTo(new[] { Math.Sqrt(0.5), 0.5, 0 }).Within(1e-12));
        // king − man + woman = queen, exactly.
        var analogy = wv.MostSimilar(["king", "woman"], ["man"], topN: 1);
        Assert.That(analogy[0].Word, Is.EqualTo("queen"));
        Assert.That(analogy[0].Similarity, Is.EqualTo(wv.MostSimilar(["king", "woman"], ["man"], topN: 6)[0].Similarity));
        Assert.That(wv.DoesntMatch(["king", "queen", "man", "apple"]), Is.EqualTo("apple"));
        Assert.That(wv.Similarity("man", "woman"), Is.EqualTo(0).Within(1e-12));
        Assert.That(wv.Distance("king", "queen"), Is.EqualTo(0.5).Within(1e-12));
        Assert.That(wv.Similarity("zero", "king"), Is.Zero, "a zero vector is not NaN");
        Assert.That(wv.SimilarByVector([1.0, 1, 0], 1)[0].Word, Is.EqualTo("king"));
    }

    [Test]
    public void RemovingTheMeanChangesCosinesAsDocumented()
    {
        // Two words sharing a big common component look identical until the mean is removed.
        var t = Tensor.FromMultiArray(new double[,] { { 10, 1 }, { 10, -1 } });
        Assert.That(new WordVectors(["a", "b"], t).Similarity("a", "b"), Is.GreaterThan(0.98));
        Assert.That(new WordVectors(["a", "b"], t, removeMean: true).Similarity("a", "b"), Is.EqualTo(-1).Within(1e-12));
    }

    [Test]
    public void WordVectorsRejectBadInput()
    {
        var wv = HandMade();
        Assert.That(Assert.Throws<KeyNotFoundException>(() => wv.Similarity("king", "emperor"))!.Message, Does.Contain("emperor"));
        Assert.Throws<ArgumentException>(() => wv.MostSimilar([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => wv.MostSimilar(["king"], topN: 0));
        Assert.Throws<ArgumentException>(() => wv.DoesntMatch(["king"]));
        Assert.Throws<ArgumentException>(() => wv.SimilarByVector([1.0], 1));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new WordVectors(["a", "a"], Tensor.Zeros(new Shape(2, 2))))!.Message, Does.Contain("listed twice"));
        Assert.Throws<ArgumentException>(() => _ = new WordVectors(["a"], Tensor.Zeros(new Shape(2, 2))));
        Assert.Throws<ArgumentException>(() => _ = new WordVectors(["a"], Tensor.FromArray([1, 2], 1, 2)));
    }
}
