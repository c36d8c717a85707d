namespace Nabla.Data;

/// <summary>
/// Word embeddings with the queries of gensim's <c>KeyedVectors</c>: <see cref="MostSimilar"/> (and with
/// it analogies: king − man + woman), <see cref="DoesntMatch"/> (odd one out), <see cref="Similarity"/>
/// and <see cref="Distance"/>, all by cosine similarity.
/// </summary>
/// <remarks>
/// Vectors are kept in float64 and unit-normalised once for the queries; a zero vector stays zero (its
/// cosine with anything is 0, not NaN). <see cref="MostSimilar"/> follows gensim's 3COSADD rule: the mean
/// of the unit vectors of the positive words minus those of the negative words, normalised, compared by
/// cosine with every word that is not itself a query word.
/// </remarks>
public sealed class WordVectors
{
    private readonly Dictionary<string, int> _index;
    private readonly string[] _words;
    private readonly double[] _unit;

    /// <summary>Embeddings of <paramref name="words"/>: row i of <paramref name="vectors"/> (float32 or float64 [words.Count, dim]) is word i's vector.</summary>
    /// <param name="words">The words, one per row.</param>
    /// <param name="vectors">The embedding matrix.</param>
    /// <param name="removeMean">Subtract the mean vector of all words before normalising. Embeddings trained with
    /// negative sampling share a large common component that makes every cosine close to 1; removing it (the
    /// first step of Mu and Viswanath's "all-but-the-top", ICLR 2018) leaves the differences between words.</param>
    /// <exception cref="ArgumentException">The vectors are not a floating matrix with one row per word, or a word is listed twice or is null.</exception>
    public WordVectors(IReadOnlyList<string> words, Tensor vectors, bool removeMean = false)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentNullException.ThrowIfNull(vectors);
        if (!vectors.DType.IsFloating() || vectors.Rank != 2 || vectors.Shape[0] != words.Count)
            throw new ArgumentException($"WordVectors needs a float matrix with one row per word ({words.Count}); got {vectors.DType.Name()} {vectors.Shape}", nameof(vectors));
        _words = words.ToArray();
        _index = new Dictionary<string, int>(_words.Length, StringComparer.Ordinal);
        for (var i = 0; i < _words.Length; i++)
        {
            if (_words[i] is null) throw new ArgumentException($"word {i} is null", nameof(words));
            if (!_index.TryAdd(_words[i], i)) throw new ArgumentException($"word '{_words[i]}' is listed twice (rows {_index[_words[i]]} and {i})", nameof(words));
        }
        Dimension = vectors.Shape[1];
        _unit = vectors.ToDoubleArray();
        if (removeMean && _words.Length > 0)
        {
            var mean = new double[Dimension];
            for (var i = 0; i < _words.Length; i++) Accumulate(mean, _unit.AsSpan(i * Dimension, Dimension), 1.0 / _words.Length);
            for (var i = 0; i < _words.Length; i++) Accumulate(_unit.AsSpan(i * Dimension, Dimension), mean, -1);
        }
        for (var i = 0; i < _words.Length; i++) Normalise(_unit.AsSpan(i * Dimension, Dimension));
    }

    /// <summary>Length of each vector.</summary>
    public int Dimension { get; }

    /// <summary>The words, in row order.</summary>
    public IReadOnlyList<string> Words => _words;

    /// <summary>True when the word has a vector.</summary>
    public bool Contains(string word) => _index.ContainsKey(word);

    /// <summary>The unit-length vector of a word.</summary>
    /// <exception cref="KeyNotFoundException">The word has no vector (the message names it).</exception>
    public double[] UnitVector(string word) => Row(word).ToArray();

    /// <summary>Cosine similarity of two words, in [−1, 1].</summary>
    /// <exception cref="KeyNotFoundException">A word has no vector.</exception>
    public double Similarity(string a, string b) => Dot(Row(a), Row(b));

    /// <summary>Cosine distance, 1 − <see cref="Similarity"/>, in [0, 2].</summary>
    /// <exception cref="KeyNotFoundException">A word has no vector.</exception>
    public double Distance(string a, string b) => 1 - Similarity(a, b);

    /// <summary>
    /// The <paramref name="topN"/> words closest by cosine to the normalised mean of the positive words'
    /// unit vectors minus the negative words', excluding the query words: <c>MostSimilar(["king", "woman"], ["man"])</c>
    /// is the analogy man : king = woman : ?. Ties keep row order.
    /// </summary>
    /// <exception cref="ArgumentException">No positive and no negative word given, or <paramref name="topN"/> is below 1.</exception>
    /// <exception cref="KeyNotFoundException">A query word has no vector.</exception>
    public IReadOnlyList<(string Word, double Similarity)> MostSimilar(IReadOnlyList<string> positive, IReadOnlyList<string>? negative = null, int topN = 10)
    {
        ArgumentNullException.ThrowIfNull(positive);
        negative ??= [];
        if (positive.Count + negative.Count == 0) throw new ArgumentException("MostSimilar needs at least one word", nameof(positive));
        if (topN < 1) throw new ArgumentOutOfRangeException(nameof(topN), topN, "topN must be at least 1");
        var query = new double[Dimension];
        foreach (var w in positive) Accumulate(query, Row(w), 1);
        foreach (var w in negative) Accumulate(query, Row(w), -1);
        Normalise(query);
        var exclude = positive.Concat(negative).Select(w => _index[w]).ToHashSet();
        return Nearest(query, topN, exclude);
    }

    /// <summary>The <paramref name="topN"/> words closest to a vector (not normalised by the caller), with their cosine similarities.</summary>
    /// <exception cref="ArgumentException">The vector's length is not <see cref="Dimension"/>.</exception>
    public IReadOnlyList<(string Word, double Similarity)> SimilarByVector(ReadOnlySpan<double> vector, int topN = 10)
    {
        if (vector.Length != Dimension) throw new ArgumentException($"vector has length {vector.Length}, the embeddings have {Dimension}", nameof(vector));
        if (topN < 1) throw new ArgumentOutOfRangeException(nameof(topN), topN, "topN must be at least 1");
        var query = vector.ToArray();
        Normalise(query);
        return Nearest(query, topN, []);
    }

    /// <summary>
    /// The word that does not match the others (gensim's <c>doesnt_match</c>): the one whose unit vector is
    /// least similar to the normalised mean of all the words' unit vectors.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than two words.</exception>
    /// <exception cref="KeyNotFoundException">A word has no vector.</exception>
    public string DoesntMatch(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Count < 2) throw new ArgumentException("DoesntMatch needs at least two words", nameof(words));
        var mean = new double[Dimension];
        foreach (var w in words) Accumulate(mean, Row(w), 1);
        Normalise(mean);
        return words.MinBy(w => Dot(Row(w), mean))!;
    }

    private IReadOnlyList<(string, double)> Nearest(double[] query, int topN, HashSet<int> exclude)
    {
        var scored = new List<(string, double)>(_words.Length);
        for (var i = 0; i < _words.Length; i++)
            if (!exclude.Contains(i)) scored.Add((_words[i], Dot(_unit.AsSpan(i * Dimension, Dimension), query)));
        // OrderByDescending is stable: equal scores keep row order.
        return scored.OrderByDescending(s => s.Item2).Take(topN).ToArray();
    }

    private ReadOnlySpan<double> Row(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return _index.TryGetValue(word, out var i)
            ? _unit.AsSpan(i * Dimension, Dimension)
            : throw new KeyNotFoundException($"word '{word}' has no vector (not in the vocabulary of {_words.Length} words)");
    }

    private static void Accumulate(Span<double> into, ReadOnlySpan<double> v, double sign)
    {
        for (var d = 0; d < into.Length; d++) into[d] += sign * v[d];
    }

    private static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var s = 0.0;
        for (var d = 0; d < a.Length; d++) s += a[d] * b[d];
        return s;
    }

    private static void Normalise(Span<double> v)
    {
        var norm = Math.Sqrt(Dot(v, v));
        if (norm == 0 || !double.IsFinite(norm)) return;
        for (var d = 0; d < v.Length; d++) v[d] /= norm;
    }
}
