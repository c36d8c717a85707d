using System.Collections;

namespace Nabla.Data;

/// <summary>
/// A host-side input pipeline in the manner of tf.data: an immutable, lazily evaluated sequence of
/// elements, each a tuple (<c>Tensor[]</c>) of components. Operators (<see cref="Map(Func{Tensor[], Tensor[]}, int)"/>,
/// <see cref="Shuffle"/>, <see cref="Batch"/>, <see cref="Repeat"/>, ...) return new datasets and run
/// nothing until the result is enumerated.
/// </summary>
/// <remarks>
/// Every enumeration is a new iteration of the whole pipeline: it re-reads its sources, and a
/// <see cref="Shuffle"/> with <c>reshuffleEachIteration</c> draws a new order. Operators compose exactly
/// as in TensorFlow, so their order matters: <c>Shuffle → Batch → Repeat</c> gives batches that never
/// straddle two epochs, while <c>Batch → Repeat → Shuffle</c> shuffles fixed batches across epochs.
/// A dataset may be enumerated by several threads at once; each enumerator is single-threaded.
/// </remarks>
public abstract partial class Dataset : IEnumerable<Tensor[]>
{
    /// <summary>The <see cref="Cardinality"/> of a dataset that never ends (tf.data.INFINITE_CARDINALITY).</summary>
    public const long InfiniteCardinality = -1;

    /// <summary>The <see cref="Cardinality"/> of a dataset whose length is not known without running it (tf.data.UNKNOWN_CARDINALITY).</summary>
    public const long UnknownCardinality = -2;

    /// <summary>
    /// Passed as a buffer size or a parallelism, lets the dataset choose (tf.data.AUTOTUNE): the processor
    /// count for <see cref="Map(Func{Tensor[], Tensor[]}, int)"/>, two elements for <see cref="Prefetch"/>.
    /// </summary>
    public const int Autotune = -1;

    // Closed hierarchy: the operators below are the only kinds of dataset.
    private protected Dataset() { }

    /// <summary>
    /// Number of elements, or <see cref="InfiniteCardinality"/> (−1), or <see cref="UnknownCardinality"/> (−2)
    /// (after <see cref="Filter"/>), computed without running the pipeline.
    /// </summary>
    public abstract long Cardinality { get; }

    /// <summary>
    /// Shape and dtype of each component of an element, or null when it cannot be known without running
    /// the pipeline (after a <see cref="Map(Func{Tensor[], Tensor[]}, int)"/>).
    /// </summary>
    public abstract IReadOnlyList<TensorSpec>? ElementSpec { get; }

    /// <summary>Starts a new iteration of the pipeline.</summary>
    public IEnumerator<Tensor[]> GetEnumerator() => CreateIterator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A new, independent iteration; the enumerator owns its upstream enumerators and disposes them.</summary>
    private protected abstract IEnumerator<Tensor[]> CreateIterator();

    /// <summary>
    /// The elements of a one-component dataset as single tensors.
    /// </summary>
    /// <exception cref="InvalidOperationException">The elements do not have exactly one component (checked
    /// here when <see cref="ElementSpec"/> is known, else at the first offending element).</exception>
    public IEnumerable<Tensor> AsEnumerable()
    {
        if (ElementSpec is { Count: not 1 } spec)
            throw new InvalidOperationException($"AsEnumerable() needs elements of one component; this dataset's elements have {spec.Count}: {FormatSpec(spec)}");
        return Singles();

        IEnumerable<Tensor> Singles()
        {
            foreach (var element in this) yield return Single(element, nameof(AsEnumerable));
        }
    }

    /// <summary>As tf.data prints a dataset: its kind and element spec.</summary>
    public override string ToString() => $"<{GetType().Name} element_spec={(ElementSpec is { } s ? FormatSpec(s) : "unknown")}>";

    /// <summary>The one component of an element, or an error naming the operation that needed it.</summary>
    private protected static Tensor Single(Tensor[] element, string operation) => element.Length == 1
        ? element[0]
        : throw new InvalidOperationException($"{operation} needs elements of one component, got {element.Length}");

    private protected static string FormatSpec(IReadOnlyList<TensorSpec> spec) => spec.Count == 1
        ? spec[0].ToString()
        : "(" + string.Join(", ", spec) + ")";

    /// <summary>Checks a count that accepts −1 as "all" / "forever", as tf.data's int64 counts do.</summary>
    private protected static void CheckCount(long count, string name)
    {
        if (count < -1) throw new ArgumentOutOfRangeException(name, count, $"{name} must be -1 or non-negative");
    }
}
