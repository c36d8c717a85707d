namespace Nabla.Samples;

/// <summary>
/// The pieces of word2vec (Mikolov et al. 2013, "Distributed representations of words and phrases"):
/// the negative-sampling losses of skip-gram and CBOW as graph ops over two embedding tables, and the
/// host-side corpus work (frequent-word subsampling, the unigram^¾ noise table, training pairs).
/// </summary>
/// <remarks>
/// The tables are plain variables read with <c>Gather</c>; the gradient of a gather is a scatter-add into
/// a dense table-shaped tensor (GatherGrad), so a step costs O(V·D) for the update on top of the
/// O(B·(K+1)·D) of the loss. At V ≈ 10⁴, D = 100 that is a few MB per step: acceptable for a sample, and
/// why the batches are large.
/// </remarks>
internal static class Word2Vec
{
    /// <summary>
    /// Skip-gram with negative sampling: for each row b, the loss
    /// −log σ(u[t₀]·v[c]) − Σₖ log σ(−u[tₖ]·v[c]) with c = <paramref name="centers"/>[b], t₀ the true context
    /// word and t₁..t_K the noise words (<paramref name="targets"/>[b, :]); returns its mean over the batch.
    /// </summary>
    /// <param name="g">The graph.</param>
    /// <param name="inputTable">Input (centre word) embeddings v, [V, D].</param>
    /// <param name="outputTable">Output (context word) embeddings u, [V, D].</param>
    /// <param name="centers">int32 [B].</param>
    /// <param name="targets">int32 [B, 1 + K]: the true context word first, then the negatives.</param>
    public static Output SkipGramLoss(Graph g, Output inputTable, Output outputTable, Output centers, Output targets)
    {
        var v = g.Gather(inputTable, centers, name: "w2v/center");          // [B, D]
        return NegativeSamplingLoss(g, v, outputTable, targets);
    }

    /// <summary>
    /// CBOW with negative sampling: the hidden vector is the mean of the context words' input embeddings
    /// (<paramref name="contexts"/> [B, 2W], entries whose <paramref name="mask"/> is 0 are padding, each row
    /// has at least one context word), and the loss is that of <see cref="SkipGramLoss"/> with it in place of v[c].
    /// </summary>
    /// <param name="g">The graph.</param>
    /// <param name="inputTable">Input (context word) embeddings, [V, D].</param>
    /// <param name="outputTable">Output (centre word) embeddings, [V, D].</param>
    /// <param name="contexts">int32 [B, 2W].</param>
    /// <param name="mask">[B, 2W], 1 for a context word, 0 for padding, in the tables' dtype.</param>
    /// <param name="targets">int32 [B, 1 + K]: the centre word first, then the negatives.</param>
    /// <param name="cToolUpdate">
    /// False: the true gradient, in which each context word gets 1/n of the hidden vector's gradient (n = its
    /// row's context count). True: the C tool's update, which adds the whole hidden-vector error to every context
    /// word: the forward value is unchanged (h = sum + StopGradient(mean − sum) evaluates to the mean) but the
    /// gradient flows as through the sum, n times the true one.
    /// </param>
    public static Output CbowLoss(Graph g, Output inputTable, Output outputTable, Output contexts, Output mask, Output targets, bool cToolUpdate = false)
    {
        var ctx = g.Gather(inputTable, contexts, name: "w2v/context");      // [B, 2W, D]
        var summed = g.ReduceSum(ctx * g.ExpandDims(mask, 2), 1);          // [B, D]
        var mean = summed / g.ReduceSum(mask, 1, keepDims: true);
        var h = cToolUpdate ? summed + g.StopGradient(mean - summed) : mean;
        return NegativeSamplingLoss(g, h, outputTable, targets);
    }

    /// <summary>mean_b Σ_j softplus(s_j · h_b·u[t_bj]) with s = (−1, +1, ..., +1): −log σ(x) = softplus(−x), −log(1 − σ(x)) = softplus(x).</summary>
    private static Output NegativeSamplingLoss(Graph g, Output h, Output outputTable, Output targets)
    {
        var u = g.Gather(outputTable, targets, name: "w2v/targets");        // [B, 1+K, D]
        var logits = g.ReduceSum(g.ExpandDims(h, 1) * u, 2);               // [B, 1+K]
        var k = targets.Shape[1];
        var signs = new double[k];
        Array.Fill(signs, 1.0);
        signs[0] = -1;
        var s = g.Cast(g.Constant(Tensor.FromArray(signs, 1, k)), logits.DType);
        return g.ReduceMean(g.ReduceSum(g.Softplus(logits * s), 1), name: "w2v/loss");
    }

    /// <summary>
    /// Keep probabilities of word2vec's subsampling of frequent words (the C tool's formula):
    /// p(w) = (√(f/t) + 1)·t/f with f = count(w)/total, capped at 1; index 0 (padding) gets 0.
    /// </summary>
    public static double[] KeepProbabilities(long[] counts, double threshold)
    {
        var total = (double)counts.Sum();
        var keep = new double[counts.Length];
        for (var i = 1; i < counts.Length; i++)
        {
            if (counts[i] == 0) continue;
            var f = counts[i] / total;
            keep[i] = Math.Min(1, (Math.Sqrt(f / threshold) + 1) * threshold / f);
        }
        return keep;
    }

    /// <summary>
    /// The noise distribution P(w) ∝ count(w)^¾ as a table of word indices (each word filling a share of
    /// the table proportional to its probability), sampled by a uniform index as in the C tool.
    /// </summary>
    public static int[] NoiseTable(long[] counts, int size = 1 << 20)
    {
        var weights = counts.Select((c, i) => i == 0 ? 0 : Math.Pow(c, 0.75)).ToArray();
        var total = weights.Sum();
        if (total <= 0) throw new ArgumentException("no word has a positive count", nameof(counts));
        var table = new int[size];
        var word = 1;
        var cumulative = weights[1] / total;
        for (var a = 0; a < size; a++)
        {
            table[a] = word;
            if ((double)(a + 1) / size > cumulative && word < counts.Length - 1)
            {
                word++;
                while (weights[word] == 0 && word < counts.Length - 1) word++;
                cumulative += weights[word] / total;
            }
        }
        return table;
    }

    /// <summary>
    /// Skip-gram (centre, context) pairs of one pass over the sentences after subsampling: for each
    /// position a window b is drawn uniformly from 1..<paramref name="window"/> (the C tool's dynamic
    /// window, which weights near words more) and every word within b of the centre is a context.
    /// </summary>
    public static (int[] Centers, int[] Contexts) SkipGramPairs(IReadOnlyList<int[]> sentences, double[] keep, int window, Random random)
    {
        var centers = new List<int>();
        var contexts = new List<int>();
        var kept = new List<int>();
        foreach (var sentence in sentences)
        {
            Subsample(sentence, keep, random, kept);
            for (var i = 0; i < kept.Count; i++)
            {
                var b = random.Next(1, window + 1);
                for (var j = Math.Max(0, i - b); j <= Math.Min(kept.Count - 1, i + b); j++)
                {
                    if (j == i) continue;
                    centers.Add(kept[i]);
                    contexts.Add(kept[j]);
                }
            }
        }
        return ([.. centers], [.. contexts]);
    }

    /// <summary>
    /// CBOW examples of one pass: for each kept position with at least one neighbour within a drawn
    /// window b ≤ <paramref name="window"/>, its context words padded to 2·window (0 with mask 0) and the centre word.
    /// </summary>
    public static (int[] Contexts, float[] Mask, int[] Centers) CbowExamples(IReadOnlyList<int[]> sentences, double[] keep, int window, Random random)
    {
        var width = 2 * window;
        var contexts = new List<int>();
        var mask = new List<float>();
        var centers = new List<int>();
        var kept = new List<int>();
        foreach (var sentence in sentences)
        {
            Subsample(sentence, keep, random, kept);
            for (var i = 0; i < kept.Count; i++)
            {
                var b = random.Next(1, window + 1);
                var from = Math.Max(0, i - b);
                var to = Math.Min(kept.Count - 1, i + b);
                if (to - from < 1) continue;
                var n = 0;
                for (var j = from; j <= to; j++)
                {
                    if (j == i) continue;
                    contexts.Add(kept[j]);
                    mask.Add(1);
                    n++;
                }
                for (; n < width; n++)
                {
                    contexts.Add(0);
                    mask.Add(0);
                }
                centers.Add(kept[i]);
            }
        }
        return ([.. contexts], [.. mask], [.. centers]);
    }

    /// <summary>Fills <paramref name="targets"/> rows [b, 0] = true word, [b, 1..K] = draws from the noise table.</summary>
    public static void FillTargets(Span<int> targets, ReadOnlySpan<int> truth, int negatives, int[] noise, Random random)
    {
        var k1 = negatives + 1;
        for (var b = 0; b < truth.Length; b++)
        {
            targets[b * k1] = truth[b];
            for (var k = 1; k < k1; k++) targets[b * k1 + k] = noise[random.Next(noise.Length)];
        }
    }

    private static void Subsample(int[] sentence, double[] keep, Random random, List<int> kept)
    {
        kept.Clear();
        foreach (var w in sentence)
            if (keep[w] >= 1 || random.NextDouble() < keep[w]) kept.Add(w);
    }
}
