using System.Text;

namespace Nabla.Data;

/// <summary>
/// Turns texts into sequences of word indices, with the semantics of Keras's
/// <c>keras_preprocessing.text.Tokenizer</c> (1.1.x): <see cref="FitOnTexts"/> counts words,
/// <see cref="TextsToSequences"/> maps texts to indices 1.. by frequency rank, and
/// <see cref="SequencesToTexts"/> maps them back. Index 0 is never a word (it is the padding value of
/// <see cref="Sequences.PadSequences(int[][], int?, DType, PadSide, PadSide, double)"/>).
/// </summary>
/// <remarks>
/// <para><b>Words.</b> A text is lower-cased (<see cref="Lower"/>), every character of
/// <see cref="Filters"/> is replaced by <see cref="Split"/>, and the text is split at
/// <see cref="Split"/>, dropping empty pieces (Keras's <c>text_to_word_sequence</c>). With
/// <see cref="CharLevel"/> every Unicode code point of the lower-cased text is a token and
/// <see cref="Filters"/> is not applied, as in Keras.</para>
/// <para><b>Order.</b> Words are ranked by count, descending; ties keep the order in which the words
/// were first seen across all <see cref="FitOnTexts"/> calls (Keras sorts an <c>OrderedDict</c> with
/// Python's stable sort). With an <see cref="OovToken"/>, it takes index 1 and the words follow from 2.
/// An <see cref="OovToken"/> that also occurs as a word ends up, as in Keras, at the word's rank and
/// index 1 then maps to no word.</para>
/// <para><b>NumWords.</b> <see cref="WordIndex"/> always holds the whole vocabulary; only
/// <see cref="TextsToSequences"/> and <see cref="SequencesToTexts"/> keep indices below
/// <see cref="NumWords"/> (so the <c>NumWords − 1</c> most frequent words, the OOV index included),
/// replacing the others by the OOV index when there is one and dropping them otherwise. Null or 0
/// means no limit (Keras treats 0 as false).</para>
/// <para><b>Lower-casing</b> uses .NET's invariant simple case mapping; Python's <c>str.lower()</c> also
/// applies the few full mappings of Unicode's SpecialCasing (final sigma Σ → ς, İ → i̇), so texts with
/// those characters may tokenize differently. Lone UTF-16 surrogates are read as U+FFFD.</para>
/// </remarks>
public sealed class Tokenizer
{
    /// <summary>Keras's default filters: ASCII punctuation except the apostrophe, plus tab and newline.</summary>
    public const string DefaultFilters = "!\"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n";

    private readonly OrderedDictionary<string, int> _wordCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _wordDocs = new(StringComparer.Ordinal);
    private Dictionary<string, int> _wordIndex = new(StringComparer.Ordinal);
    private Dictionary<int, string> _indexWord = [];
    private Dictionary<int, int> _indexDocs = [];
    private readonly HashSet<int> _filterSet;

    /// <summary>Creates an empty tokenizer; see the class remarks for what each setting does.</summary>
    /// <param name="numWords">Keep only indices below this in <see cref="TextsToSequences"/> / <see cref="SequencesToTexts"/>; null or 0 for all.</param>
    /// <param name="filters">Characters replaced by <paramref name="split"/> before splitting (word level only).</param>
    /// <param name="lower">Lower-case texts first.</param>
    /// <param name="split">The separator between words; not empty.</param>
    /// <param name="charLevel">Every code point is a token.</param>
    /// <param name="oovToken">Word given index 1 and used for every word outside the vocabulary or the <paramref name="numWords"/> limit; null to drop such words.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numWords"/> is negative.</exception>
    /// <exception cref="ArgumentException"><paramref name="split"/> is empty (Python's <c>str.split</c> rejects an empty separator too).</exception>
    public Tokenizer(int? numWords = null, string filters = DefaultFilters, bool lower = true, string split = " ",
        bool charLevel = false, string? oovToken = null)
    {
        if (numWords < 0) throw new ArgumentOutOfRangeException(nameof(numWords), numWords, "Tokenizer numWords must be null, 0 (no limit) or positive");
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(split);
        if (split.Length == 0) throw new ArgumentException("Tokenizer split separator must not be empty", nameof(split));
        NumWords = numWords;
        Filters = filters;
        Lower = lower;
        Split = split;
        CharLevel = charLevel;
        OovToken = oovToken;
        _filterSet = CodePoints(filters);
    }

    /// <summary>The index limit; null or 0 for none.</summary>
    public int? NumWords { get; }

    /// <summary>Characters replaced by <see cref="Split"/> before splitting.</summary>
    public string Filters { get; }

    /// <summary>Whether texts are lower-cased.</summary>
    public bool Lower { get; }

    /// <summary>The word separator.</summary>
    public string Split { get; }

    /// <summary>Whether every code point is a token.</summary>
    public bool CharLevel { get; }

    /// <summary>The out-of-vocabulary word, or null.</summary>
    public string? OovToken { get; }

    /// <summary>Number of texts seen by <see cref="FitOnTexts"/>.</summary>
    public int DocumentCount { get; private set; }

    /// <summary>Occurrences of each word, enumerated in first-seen order (Keras's <c>word_counts</c> OrderedDict).</summary>
    public IReadOnlyDictionary<string, int> WordCounts => _wordCounts;

    /// <summary>Number of texts each word occurs in (<c>word_docs</c>).</summary>
    public IReadOnlyDictionary<string, int> WordDocs => _wordDocs;

    /// <summary>Index of every word (and of <see cref="OovToken"/>), 1 = most frequent; empty before the first fit.</summary>
    public IReadOnlyDictionary<string, int> WordIndex => _wordIndex;

    /// <summary>The inverse of <see cref="WordIndex"/> (<c>index_word</c>).</summary>
    public IReadOnlyDictionary<int, string> IndexWord => _indexWord;

    /// <summary>Number of texts each word index occurs in (<c>index_docs</c>).</summary>
    public IReadOnlyDictionary<int, int> IndexDocs => _indexDocs;

    /// <summary>
    /// The size an embedding table needs for every index <see cref="TextsToSequences"/> can return, plus
    /// the padding index 0: <c>min(NumWords, WordIndex.Count + 1)</c>, or <c>WordIndex.Count + 1</c> without a limit.
    /// </summary>
    public int VocabularySize
    {
        get
        {
            var all = (_indexWord.Count == 0 ? 0 : _indexWord.Keys.Max()) + 1;
            return NumWords is > 0 and var n ? Math.Min(n, all) : all;
        }
    }

    /// <summary>
    /// Splits a text into words as Keras's <c>text_to_word_sequence</c>: lower-case, replace each
    /// character of <paramref name="filters"/> by <paramref name="split"/>, split, drop empty pieces.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="split"/> is empty.</exception>
    public static string[] TextToWordSequence(string text, string filters = DefaultFilters, bool lower = true, string split = " ")
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(filters);
        ArgumentNullException.ThrowIfNull(split);
        if (split.Length == 0) throw new ArgumentException("split separator must not be empty", nameof(split));
        return WordSequence(text, CodePoints(filters), lower, split);
    }

    /// <summary>Counts the words of <paramref name="texts"/> and rebuilds <see cref="WordIndex"/>; may be called again to add texts.</summary>
    public void FitOnTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        foreach (var text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(texts));
            DocumentCount++;
            var seq = Tokens(text);
            foreach (var w in seq)
                _wordCounts[w] = _wordCounts.TryGetValue(w, out var c) ? c + 1 : 1;
            foreach (var w in new HashSet<string>(seq, StringComparer.Ordinal))
                _wordDocs[w] = _wordDocs.GetValueOrDefault(w) + 1;
        }

        // Enumerable.OrderByDescending is a stable sort, as Python's list.sort: ties keep first-seen order.
        var sorted = new List<string>(_wordCounts.Count + 1);
        if (OovToken is not null) sorted.Add(OovToken);
        sorted.AddRange(_wordCounts.OrderByDescending(kv => kv.Value).Select(kv => kv.Key));
        // dict(zip(sorted, 1..)): a word listed twice (the OOV token also seen as a word) keeps its later index.
        _wordIndex = new Dictionary<string, int>(sorted.Count, StringComparer.Ordinal);
        for (var i = 0; i < sorted.Count; i++) _wordIndex[sorted[i]] = i + 1;
        _indexWord = _wordIndex.ToDictionary(kv => kv.Value, kv => kv.Key);
        _indexDocs = _wordDocs.ToDictionary(kv => _wordIndex[kv.Key], kv => kv.Value);
    }

    /// <summary>
    /// Maps each text to its word indices: words outside the vocabulary, or at or above
    /// <see cref="NumWords"/>, become the OOV index or are dropped (see the class remarks).
    /// </summary>
    public int[][] TextsToSequences(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return texts.Select(TextToSequence).ToArray();
    }

    /// <summary>The word indices of one text, as one row of <see cref="TextsToSequences"/>.</summary>
    public int[] TextToSequence(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int? oov = OovToken is not null && _wordIndex.TryGetValue(OovToken, out var o) ? o : null;
        var limit = NumWords ?? 0;
        var result = new List<int>();
        foreach (var w in Tokens(text))
        {
            if (_wordIndex.TryGetValue(w, out var i))
            {
                if (limit > 0 && i >= limit)
                {
                    if (oov is { } k) result.Add(k);
                }
                else result.Add(i);
            }
            else if (OovToken is not null && oov is { } k) result.Add(k);
        }
        return [.. result];
    }

    /// <summary>
    /// Maps index sequences back to space-joined words; indices with no word (0, past the vocabulary) and
    /// indices at or above <see cref="NumWords"/> become the OOV token or are dropped, as in Keras.
    /// </summary>
    public string[] SequencesToTexts(IEnumerable<IReadOnlyList<int>> sequences)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        int? oov = OovToken is not null && _wordIndex.TryGetValue(OovToken, out var o) ? o : null;
        // Keras looks index_word[oov_index] up; it fails (KeyError) when the OOV token is also a word and index 1 is empty.
        var oovWord = oov is { } oi ? _indexWord[oi] : null;
        var limit = NumWords ?? 0;
        var texts = new List<string>();
        foreach (var seq in sequences)
        {
            ArgumentNullException.ThrowIfNull(seq, nameof(sequences));
            var words = new List<string>(seq.Count);
            foreach (var num in seq)
            {
                if (_indexWord.TryGetValue(num, out var word))
                {
                    if (limit > 0 && num >= limit)
                    {
                        if (oovWord is not null) words.Add(oovWord);
                    }
                    else words.Add(word);
                }
                else if (oovWord is not null) words.Add(oovWord);
            }
            texts.Add(string.Join(' ', words));
        }
        return [.. texts];
    }

    /// <summary>The tokens of one text under this tokenizer's settings.</summary>
    private string[] Tokens(string text)
    {
        if (!CharLevel) return WordSequence(text, _filterSet, Lower, Split);
        if (Lower) text = text.ToLowerInvariant();
        var tokens = new List<string>(text.Length);
        foreach (var rune in text.EnumerateRunes()) tokens.Add(rune.ToString());
        return [.. tokens];
    }

    private static string[] WordSequence(string text, HashSet<int> filters, bool lower, string split)
    {
        if (lower) text = text.ToLowerInvariant();
        if (filters.Count > 0)
        {
            var sb = new StringBuilder(text.Length);
            for (var i = 0; i < text.Length; i++)
            {
                // Code points, not UTF-16 units, as Python's str.translate sees them.
                if (Rune.DecodeFromUtf16(text.AsSpan(i), out var rune, out var used) != System.Buffers.OperationStatus.Done) rune = Rune.ReplacementChar;
                if (filters.Contains(rune.Value)) sb.Append(split);
                else sb.Append(text, i, used);
                i += used - 1;
            }
            text = sb.ToString();
        }
        return text.Split(split, StringSplitOptions.RemoveEmptyEntries);
    }

    private static HashSet<int> CodePoints(string s)
    {
        var set = new HashSet<int>();
        foreach (var rune in s.EnumerateRunes()) set.Add(rune.Value);
        return set;
    }
}
