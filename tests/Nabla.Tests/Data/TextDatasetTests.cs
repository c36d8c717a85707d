using System.Text;
using Nabla.Data;
using NUnit.Framework;

namespace Nabla.Tests.Data;

/// <summary>The string stage of the input pipeline: FromTexts, TextLineDataset, and the bridge to tensors.</summary>
public class TextDatasetTests
{
    [Test]
    public void FromTextsToSequencesBatchesAsInts()
    {
        var texts = new[] { "the cat sat", "the dog", "a cat and a dog and the end" };
        var tokenizer = new Tokenizer();
        var dataset = Dataset.FromTexts(texts);
        tokenizer.FitOnTexts(dataset);
        var sequences = dataset.ToSequences(tokenizer, maxlen: 4, padding: PadSide.Post);
        Assert.That(sequences.Cardinality, Is.EqualTo(3));
        Assert.That(sequences.ElementSpec![0], Is.EqualTo(new TensorSpec(new Shape(4), DType.Int32)));
        var batch = sequences.Batch(3).AsEnumerable().Single();
        var expected = Sequences.PadSequences(tokenizer.TextsToSequences(texts), maxlen: 4, padding: PadSide.Post);
        Assert.That(batch.Shape, Is.EqualTo(new Shape(3, 4)));
        Assert.That(batch.ToArray<int>(), Is.EqualTo(expected.ToArray<int>()));
    }

    [Test]
    public void ZipsWithLabelsIntoTheTensorPipeline()
    {
        var texts = Dataset.FromTexts(["good", "bad", "good good"]);
        var tokenizer = new Tokenizer();
        tokenizer.FitOnTexts(texts);
        var labelled = Dataset.Zip(texts.ToSequences(tokenizer, 2), Dataset.FromTensorSlices(Tensor.FromArray([1, 0, 1])));
        var elements = labelled.ToList();
        Assert.That(elements, Has.Count.EqualTo(3));
        Assert.That(elements[2][0].ToArray<int>(), Is.EqualTo(new[] { 1, 1 }));
        Assert.That(elements[1][1].ToArray<int>(), Is.EqualTo(new[] { 0 }));
    }

    [Test]
    public void TextLineDatasetReadsLinesOfSeveralFilesEachPass()
    {
        var dir = Directory.CreateTempSubdirectory("nabla-lines-").FullName;
        try
        {
            var a = Path.Combine(dir, "a.txt");
            var b = Path.Combine(dir, "b.txt");
            File.WriteAllBytes(a, [.. Encoding.UTF8.GetPreamble(), .. Encoding.UTF8.GetBytes("first\r\nsecond ü\n\nlast")]);
            File.WriteAllText(b, "other\n");
            var lines = new TextLineDataset(a, b);
            Assert.That(lines.ToList(), Is.EqualTo(new[] { "first", "second ü", "", "last", "other" }), "BOM skipped, CRLF and LF, empty line kept");
            Assert.That(lines.ToList(), Has.Count.EqualTo(5), "every enumeration re-reads the files");
            Assert.That(lines.Cardinality, Is.EqualTo(Dataset.UnknownCardinality));
            Assert.That(lines.Filter(l => l.Length > 0).Skip(1).Take(2).ToList(), Is.EqualTo(new[] { "second ü", "last" }));
            var e = Assert.Throws<FileNotFoundException>(() => _ = new TextLineDataset(a, Path.Combine(dir, "missing.txt")))!;
            Assert.That(e.Message, Does.Contain("missing.txt"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void OperatorsKeepCardinalityWhereKnown()
    {
        var texts = Dataset.FromTexts(["a", "b", "c", "d"]);
        Assert.That(texts.Take(2).Cardinality, Is.EqualTo(2));
        Assert.That(texts.Skip(3).Cardinality, Is.EqualTo(1));
        Assert.That(texts.Skip(-1).Cardinality, Is.EqualTo(0));
        Assert.That(texts.Take(-1).ToList(), Has.Count.EqualTo(4));
        Assert.That(texts.Map(t => t.ToUpperInvariant()).ToList(), Is.EqualTo(new[] { "A", "B", "C", "D" }));
        Assert.That(texts.Filter(t => t != "b").Cardinality, Is.EqualTo(Dataset.UnknownCardinality));
        Assert.That(texts.Encode(t => [Tensor.Scalar(t.Length)]).ElementSpec, Is.Null);
    }

    [Test]
    public void BadInputsRaiseDocumentedExceptions()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => Dataset.FromTexts(["ok", null!]))!.Message, Does.Contain("text 1 is null"));
        Assert.Throws<ArgumentException>(() => _ = new TextLineDataset());
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.FromTexts(["a"]).ToSequences(new Tokenizer(), 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.FromTexts(["a"]).Take(-2));
        Assert.Throws<InvalidOperationException>(() => Dataset.FromTexts(["a"]).Map(_ => null!).ToList());
        Assert.Throws<InvalidOperationException>(() => Dataset.FromTexts(["a"]).Encode(_ => [null!]).ToList());
    }
}
