using System.Collections;
using System.Text;

namespace Nabla.Data;

/// <summary>
/// A host-side, lazily evaluated sequence of texts: the string stage of an input pipeline, before a
/// <see cref="Tokenizer"/> turns each text into integers and the pipeline continues as a
/// <see cref="Dataset"/> (<see cref="ToSequences"/>, <see cref="Encode"/>).
/// </summary>
/// <remarks>
/// The engine's tensors have no string dtype (<see cref="DType"/> is numeric and bool only, and no kernel
/// could use strings), so texts do not travel through <see cref="Dataset"/> elements as they do in
/// tf.data. They are plain .NET strings here, which is all that tokenizing needs; the only bridge to
/// tensors is an encoder applied per text. Every enumeration re-reads the source, as a
/// <see cref="Dataset"/> does; the class enumerates as <see cref="IEnumerable{T}"/> of string, so
/// <see cref="Tokenizer.FitOnTexts"/> takes it directly.
/// </remarks>
public abstract class TextDataset : IEnumerable<string>
{
    // Closed hierarchy: the kinds below are the only text datasets.
    private protected TextDataset() { }

    /// <summary>Number of texts, or <see cref="Dataset.UnknownCardinality"/> when it is not known without reading (files, after <see cref="Filter"/>).</summary>
    public abstract long Cardinality { get; }

    /// <summary>Starts a new pass over the texts.</summary>
    public abstract IEnumerator<string> GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>Applies <paramref name="function"/> to every text (e.g. to strip e-mail headers).</summary>
    /// <exception cref="InvalidOperationException">The function returned null (raised when that text is reached).</exception>
    public TextDataset Map(Func<string, string> function)
    {
        ArgumentNullException.ThrowIfNull(function);
        return new MappedTexts(this, function);
    }

    /// <summary>Keeps the texts for which <paramref name="predicate"/> is true.</summary>
    public TextDataset Filter(Func<string, bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new FilteredTexts(this, predicate);
    }

    /// <summary>The first <paramref name="count"/> texts (all when −1), as tf.data's take.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below −1.</exception>
    public TextDataset Take(long count)
    {
        if (count < -1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be -1 or non-negative");
        return new SlicedTexts(this, 0, count);
    }

    /// <summary>All but the first <paramref name="count"/> texts (none when −1), as tf.data's skip.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below −1.</exception>
    public TextDataset Skip(long count)
    {
        if (count < -1) throw new ArgumentOutOfRangeException(nameof(count), count, "count must be -1 or non-negative");
        return new SlicedTexts(this, count, -1);
    }

    /// <summary>
    /// A <see cref="Dataset"/> with one int32 [<paramref name="maxlen"/>] element per text: its indices from
    /// <see cref="Tokenizer.TextToSequence"/>, padded or truncated as <see cref="Sequences.PadSequences(int[][], int?, DType, PadSide, PadSide, double)"/>
    /// does. The tokenizer must be fitted before the dataset is enumerated (it is read, not copied, then).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxlen"/> is below 1.</exception>
    public Dataset ToSequences(Tokenizer tokenizer, int maxlen, PadSide padding = PadSide.Pre, PadSide truncating = PadSide.Pre, int value = 0)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (maxlen < 1) throw new ArgumentOutOfRangeException(nameof(maxlen), maxlen, "maxlen must be at least 1");
        return new EncodedTextDataset(this,
            text => [Sequences.PadSequences([tokenizer.TextToSequence(text)], maxlen, DType.Int32, padding, truncating, value).WithShape(new Shape([maxlen]))],
            [new TensorSpec(new Shape([maxlen]), DType.Int32)]);
    }

    /// <summary>
    /// A <see cref="Dataset"/> whose element i is <paramref name="encoder"/> applied to text i; its
    /// <see cref="Dataset.ElementSpec"/> is unknown (null) as after <see cref="Dataset.Map(Func{Tensor[], Tensor[]}, int)"/>.
    /// </summary>
    /// <exception cref="InvalidOperationException">The encoder returned null or a null component (raised when that text is reached).</exception>
    public Dataset Encode(Func<string, Tensor[]> encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        return new EncodedTextDataset(this, encoder, null);
    }

    /// <summary>As <see cref="Dataset"/> prints: its kind and, when known, its number of texts.</summary>
    public override string ToString() => $"<{GetType().Name} texts={(Cardinality >= 0 ? Cardinality.ToString(System.Globalization.CultureInfo.InvariantCulture) : "unknown")}>";
}

/// <summary>
/// The lines of one or more UTF-8 text files, as tf.data.TextLineDataset: one text per line, without its
/// line terminator (\n, \r\n or \r), files in the order given, each read anew on every enumeration. A
/// UTF-8 byte-order mark at the start of a file is skipped; invalid UTF-8 reads as U+FFFD.
/// </summary>
public sealed class TextLineDataset : TextDataset
{
    private readonly string[] _paths;

    /// <summary>Lines of the given files.</summary>
    /// <exception cref="ArgumentException">No path given.</exception>
    /// <exception cref="FileNotFoundException">A file does not exist (checked here, so a typo fails at once rather than at the first epoch).</exception>
    public TextLineDataset(params string[] paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Length == 0) throw new ArgumentException("TextLineDataset needs at least one file", nameof(paths));
        foreach (var p in paths)
        {
            ArgumentNullException.ThrowIfNull(p, nameof(paths));
            if (!File.Exists(p)) throw new FileNotFoundException($"TextLineDataset: no such file: {p}", p);
        }
        _paths = (string[])paths.Clone();
    }

    /// <inheritdoc/>
    public override long Cardinality => Dataset.UnknownCardinality;

    /// <inheritdoc/>
    public override IEnumerator<string> GetEnumerator()
    {
        foreach (var path in _paths)
        {
            using var reader = new StreamReader(path, new UTF8Encoding(false), detectEncodingFromByteOrderMarks: true);
            while (reader.ReadLine() is { } line) yield return line;
        }
    }
}

/// <summary>Texts held in memory (<see cref="Dataset.FromTexts"/>).</summary>
internal sealed class InMemoryTexts(string[] texts) : TextDataset
{
    public override long Cardinality => texts.Length;

    public override IEnumerator<string> GetEnumerator() => ((IEnumerable<string>)texts).GetEnumerator();
}

internal sealed class MappedTexts(TextDataset input, Func<string, string> function) : TextDataset
{
    public override long Cardinality => input.Cardinality;

    public override IEnumerator<string> GetEnumerator()
    {
        foreach (var text in input) yield return function(text) ?? throw new InvalidOperationException("TextDataset.Map function returned null");
    }
}

internal sealed class FilteredTexts(TextDataset input, Func<string, bool> predicate) : TextDataset
{
    public override long Cardinality => input.Cardinality == 0 ? 0 : Dataset.UnknownCardinality;

    public override IEnumerator<string> GetEnumerator()
    {
        foreach (var text in input)
            if (predicate(text)) yield return text;
    }
}

/// <summary>Texts [skip, skip + take) of the input; take −1 = to the end, skip −1 = nothing.</summary>
internal sealed class SlicedTexts(TextDataset input, long skip, long take) : TextDataset
{
    public override long Cardinality
    {
        get
        {
            var n = input.Cardinality;
            if (skip == -1) return 0;
            if (n < 0) return take == 0 ? 0 : n;
            var left = Math.Max(0, n - skip);
            return take == -1 ? left : Math.Min(left, take);
        }
    }

    public override IEnumerator<string> GetEnumerator()
    {
        if (skip == -1 || take == 0) yield break;
        long seen = 0, given = 0;
        foreach (var text in input)
        {
            if (seen++ < skip) continue;
            yield return text;
            if (take != -1 && ++given == take) yield break;
        }
    }
}

/// <summary>The bridge from texts to tensors: one element per text.</summary>
internal sealed class EncodedTextDataset(TextDataset input, Func<string, Tensor[]> encoder, IReadOnlyList<TensorSpec>? spec) : Dataset
{
    public override long Cardinality => input.Cardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => spec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        foreach (var text in input)
        {
            var element = encoder(text) ?? throw new InvalidOperationException("TextDataset.Encode function returned null");
            for (var i = 0; i < element.Length; i++)
                if (element[i] is null) throw new InvalidOperationException($"TextDataset.Encode function returned null for component {i}");
            yield return element;
        }
    }
}

public abstract partial class Dataset
{
    /// <summary>
    /// A <see cref="TextDataset"/> of the given texts (copied), the string counterpart of
    /// <see cref="FromTensorSlices(Tensor)"/>; see <see cref="TextDataset"/> for why texts are not tensors here.
    /// </summary>
    /// <exception cref="ArgumentException">A text is null (the message gives its position).</exception>
    public static TextDataset FromTexts(IEnumerable<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var copy = texts.ToArray();
        for (var i = 0; i < copy.Length; i++)
            if (copy[i] is null) throw new ArgumentException($"FromTexts: text {i} is null", nameof(texts));
        return new InMemoryTexts(copy);
    }
}
