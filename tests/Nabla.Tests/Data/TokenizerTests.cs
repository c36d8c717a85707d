using System.Text.Json;
using Nabla.Data;
using NUnit.Framework;

namespace Nabla.Tests.Data;

/// <summary>
/// Tokenizer and PadSequences against what Keras's own keras_preprocessing 1.1 returned on the same
/// inputs (tests/data/text/keras-text-1.1.json, written by bench/peers/text_expectations.py from a slice
/// of Moby Dick and the 1790 State of the Union plus tricky strings), and edge cases by hand.
/// </summary>
public class TokenizerTests
{
    private static readonly Lazy<JsonDocument> Expectations = new(() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "data", "text", "keras-text-1.1.json"))));

    private static JsonElement Root => Expectations.Value.RootElement;

    private static IEnumerable<string> TokenizerCaseNames() =>
        Root.GetProperty("tokenizer").EnumerateArray().Select(c => c.GetProperty("name").GetString()!);

    private static JsonElement Case(string name) =>
        Root.GetProperty("tokenizer").EnumerateArray().Single(c => c.GetProperty("name").GetString() == name);

    private static string[] Corpus(string key) =>
        Root.GetProperty("corpora").GetProperty(key).EnumerateArray().Select(e => e.GetString()!).ToArray();

    private static int[][] IntLists(JsonElement e) =>
        e.EnumerateArray().Select(s => s.EnumerateArray().Select(v => v.GetInt32()).ToArray()).ToArray();

    private static Tokenizer FromKwargs(JsonElement kwargs)
    {
        int? numWords = kwargs.TryGetProperty("num_words", out var n) ? n.GetInt32() : null;
        var filters = kwargs.TryGetProperty("filters", out var f) ? f.GetString()! : Tokenizer.DefaultFilters;
        var lower = !kwargs.TryGetProperty("lower", out var l) || l.GetBoolean();
        var split = kwargs.TryGetProperty("split", out var s) ? s.GetString()! : " ";
        var charLevel = kwargs.TryGetProperty("char_level", out var c) && c.GetBoolean();
        var oov = kwargs.TryGetProperty("oov_token", out var o) ? o.GetString() : null;
        return new Tokenizer(numWords, filters, lower, split, charLevel, oov);
    }

    [TestCaseSource(nameof(TokenizerCaseNames))]
    public void Tokenizer_matches_keras(string name)
    {
        var expected = Case(name);
        var tokenizer = FromKwargs(expected.GetProperty("kwargs"));
        tokenizer.FitOnTexts(Corpus(expected.GetProperty("fit").GetString()!));

        Assert.That(tokenizer.DocumentCount, Is.EqualTo(expected.GetProperty("document_count").GetInt32()));
        if (expected.GetProperty("word_counts").ValueKind != JsonValueKind.Null)
        {
            // Order matters: it is the first-seen order of Keras's OrderedDict.
            var counts = expected.GetProperty("word_counts").EnumerateArray().Select(p => (p[0].GetString()!, p[1].GetInt32())).ToArray();
            Assert.That(tokenizer.WordCounts.Select(kv => (kv.Key, kv.Value)).ToArray(), Is.EqualTo(counts), "word_counts");
            var docs = expected.GetProperty("word_docs").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetInt32());
            Assert.That(tokenizer.WordDocs, Is.EquivalentTo(docs), "word_docs");
            var index = expected.GetProperty("word_index").EnumerateArray().Select(p => (p[0].GetString()!, p[1].GetInt32())).ToArray();
            Assert.That(tokenizer.WordIndex.OrderBy(kv => kv.Value).Select(kv => (kv.Key, kv.Value)).ToArray(), Is.EqualTo(index), "word_index (ties in Keras's order)");
        }
        Assert.That(tokenizer.IndexWord, Is.EquivalentTo(tokenizer.WordIndex.ToDictionary(kv => kv.Value, kv => kv.Key)), "index_word is the inverse of word_index");

        var sequences = tokenizer.TextsToSequences(Corpus(expected.GetProperty("probe").GetString()!));
        Assert.That(sequences, Is.EqualTo(IntLists(expected.GetProperty("sequences"))), "texts_to_sequences");
        var back = tokenizer.SequencesToTexts(IntLists(expected.GetProperty("back_in")));
        Assert.That(back, Is.EqualTo(expected.GetProperty("texts").EnumerateArray().Select(t => t.GetString()!).ToArray()), "sequences_to_texts");
    }

    private static IEnumerable<int> PadCaseIndices() => Enumerable.Range(0, Root.GetProperty("pad_sequences").GetProperty("cases").GetArrayLength());

    [TestCaseSource(nameof(PadCaseIndices))]
    public void PadSequences_matches_keras(int index)
    {
        var all = Root.GetProperty("pad_sequences");
        var c = all.GetProperty("cases")[index];
        var sequences = IntLists(c.TryGetProperty("sequences", out var own) ? own : all.GetProperty("sequences"));
        int? maxlen = c.GetProperty("maxlen").ValueKind == JsonValueKind.Null ? null : c.GetProperty("maxlen").GetInt32();
        var padding = c.GetProperty("padding").GetString() == "pre" ? PadSide.Pre : PadSide.Post;
        var truncating = c.GetProperty("truncating").GetString() == "pre" ? PadSide.Pre : PadSide.Post;
        var dtype = c.GetProperty("dtype").GetString() == "int32" ? DType.Int32 : DType.Float32;

        var x = Sequences.PadSequences(sequences, maxlen, dtype, padding, truncating, c.GetProperty("value").GetDouble());

        Assert.That(x.DType, Is.EqualTo(dtype));
        Assert.That(x.Shape.ToArray(), Is.EqualTo(c.GetProperty("shape").EnumerateArray().Select(v => v.GetInt32()).ToArray()));
        Assert.That(x.ToDoubleArray(), Is.EqualTo(c.GetProperty("values").EnumerateArray().Select(v => v.GetDouble()).ToArray()),
            $"maxlen={maxlen} padding={padding} truncating={truncating} dtype={dtype}");
    }

    // ---- edge cases by hand ----

    [Test]
    public void Empty_texts_give_empty_sequences_and_count_as_documents()
    {
        var t = new Tokenizer(oovToken: "<OOV>");
        t.FitOnTexts(["", "  ", "!!!"]);
        Assert.That(t.DocumentCount, Is.EqualTo(3));
        Assert.That(t.WordCounts, Is.Empty);
        Assert.That(t.WordIndex, Is.EquivalentTo(new Dictionary<string, int> { ["<OOV>"] = 1 }));
        Assert.That(t.TextsToSequences(["", "new words"]), Is.EqualTo(new[] { Array.Empty<int>(), new[] { 1, 1 } }));
    }

    [Test]
    public void NumWords_smaller_than_the_vocabulary_keeps_indices_below_it()
    {
        var t = new Tokenizer(numWords: 3);
        t.FitOnTexts(["c c c b b a", "d"]);
        Assert.That(t.WordIndex, Has.Count.EqualTo(4), "word_index keeps the whole vocabulary, as Keras");
        Assert.That(t.TextToSequence("a b c d"), Is.EqualTo(new[] { 2, 1 }), "only indices 1 and 2 (< num_words) survive");
        Assert.That(t.VocabularySize, Is.EqualTo(3));

        var withOov = new Tokenizer(numWords: 3, oovToken: "?");
        withOov.FitOnTexts(["c c c b b a", "d"]);
        Assert.That(withOov.TextToSequence("a b c d zz"), Is.EqualTo(new[] { 1, 1, 2, 1, 1 }), "the oov index counts towards num_words");
        Assert.That(withOov.SequencesToTexts([[1, 2, 3, 4, 0]]), Is.EqualTo(new[] { "? c ? ? ?" }));
    }

    [Test]
    public void Ties_keep_first_seen_order_across_fit_calls()
    {
        var t = new Tokenizer();
        t.FitOnTexts(["zeta alpha"]);
        t.FitOnTexts(["mid alpha zeta"]);
        Assert.That(t.WordIndex.OrderBy(kv => kv.Value).Select(kv => kv.Key), Is.EqualTo(new[] { "zeta", "alpha", "mid" }));
    }

    [Test]
    public void Char_level_counts_code_points_not_utf16_units()
    {
        var t = new Tokenizer(charLevel: true);
        t.FitOnTexts(["a😀a", "B."]);
        Assert.That(t.WordCounts.Keys, Is.EqualTo(new[] { "a", "😀", "b", "." }), "filters do not apply at char level; lower-cased");
        Assert.That(t.TextToSequence("😀ab"), Is.EqualTo(new[] { 2, 1, 3 }));
    }

    [Test]
    public void Unfitted_tokenizer_maps_everything_to_nothing()
    {
        var t = new Tokenizer(oovToken: "<OOV>");
        Assert.That(t.TextToSequence("hello world"), Is.Empty, "before a fit word_index is empty, even of the oov token (as Keras)");
        Assert.That(t.VocabularySize, Is.EqualTo(1));
    }

    [Test]
    public void Bad_arguments_raise_documented_exceptions()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tokenizer(numWords: -1));
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new Tokenizer(split: ""))!.Message, Does.Contain("split"));
        Assert.Throws<ArgumentNullException>(() => new Tokenizer().FitOnTexts([null!]));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => Sequences.PadSequences([[1]], maxlen: 0))!.Message, Does.Contain("maxlen"));
        Assert.Throws<ArgumentException>(() => Sequences.PadSequences([[1]], dtype: DType.Bool));
        Assert.That(Assert.Throws<ArgumentException>(() => Sequences.PadSequences(new int[][] { [1], null! }))!.Message, Does.Contain("sequence 1"));
    }

    [Test]
    public void PadSequences_of_no_sequences_is_0_by_0_and_int64_float64_work()
    {
        Assert.That(Sequences.PadSequences(Array.Empty<int[]>()).Shape.ToArray(), Is.EqualTo(new[] { 0, 0 }));
        var x = Sequences.PadSequences([[1, 2], [3]], maxlen: 3, dtype: DType.Int64, padding: PadSide.Post, value: -1);
        Assert.That(x.ToArray<long>(), Is.EqualTo(new long[] { 1, 2, -1, 3, -1, -1 }));
        var d = Sequences.PadSequences([[1, 2, 3]], maxlen: 2, dtype: DType.Float64, truncating: PadSide.Post);
        Assert.That(d.ToArray<double>(), Is.EqualTo(new double[] { 1, 2 }));
    }
}
