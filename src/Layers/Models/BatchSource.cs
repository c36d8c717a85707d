using Nabla.Data;

namespace Nabla.Layers;

/// <summary>One batch: model inputs, targets, and the number of samples.</summary>
internal readonly record struct Batch(Tensor[] X, Tensor[] Y, int Size);

/// <summary>Where a training or evaluation loop gets its batches from, epoch by epoch.</summary>
internal interface IBatchSource
{
    /// <summary>Batches per epoch, when known.</summary>
    int? Steps { get; }

    /// <summary>The batches of one epoch.</summary>
    IEnumerable<Batch> Epoch(int epoch);
}

/// <summary>Batches cut from in-memory arrays, shuffled each epoch when asked (Keras's array adapter).</summary>
internal sealed class ArraySource : IBatchSource
{
    private readonly Tensor[] _x, _y;
    private readonly int _batchSize;
    private readonly Random? _shuffle;

    public ArraySource(Tensor[] x, Tensor[] y, int batchSize, Random? shuffle)
    {
        if (x.Length == 0) throw new ArgumentException("no input arrays were given", nameof(x));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        Count = RowCount(x[0]);
        foreach (var t in x.Concat(y))
            if (RowCount(t) != Count)
                throw new ArgumentException($"all input and target arrays must have the same number of samples: got {string.Join(", ", x.Concat(y).Select(a => a.Shape.ToString()))}");
        if (Count == 0) throw new ArgumentException("the arrays hold no samples", nameof(x));
        (_x, _y, _batchSize, _shuffle) = (x, y, batchSize, shuffle);
    }

    public int Count { get; }

    public int? Steps => (Count + _batchSize - 1) / _batchSize;

    public IEnumerable<Batch> Epoch(int epoch)
    {
        int[]? order = null;
        if (_shuffle is not null)
        {
            order = Enumerable.Range(0, Count).ToArray();
            _shuffle.Shuffle(order);
        }
        for (var start = 0; start < Count; start += _batchSize)
        {
            var n = Math.Min(_batchSize, Count - start);
            yield return new Batch(Take(_x, order, start, n), Take(_y, order, start, n), n);
        }
    }

    /// <summary>Keras's validation_split: the last <paramref name="fraction"/> of the samples (before any shuffling) become validation data.</summary>
    public static (Tensor[] Train, Tensor[] Validation) SplitTail(Tensor[] arrays, double fraction)
    {
        var n = RowCount(arrays[0]);
        var cut = (int)(n * (1 - fraction));
        if (cut <= 0 || cut >= n) throw new ArgumentException($"validation split {fraction} of {n} samples leaves an empty training or validation set");
        return (arrays.Select(a => Rows.Slice(a, 0, cut)).ToArray(), arrays.Select(a => Rows.Slice(a, cut, n - cut)).ToArray());
    }

    private static Tensor[] Take(Tensor[] arrays, int[]? order, int start, int n) =>
        arrays.Select(a => order is null ? (start == 0 && n == RowCount(a) ? a : Rows.Slice(a, start, n)) : Rows.Gather(a, order.AsSpan(start, n))).ToArray();

    private static int RowCount(Tensor t) => t.Rank == 0 ? throw new ArgumentException($"a scalar ({t.DType.Name()}) cannot be split into samples") : t.Shape[0];
}

/// <summary>
/// Batches from a <see cref="Dataset"/> whose elements are already batched: the first <c>inputs</c>
/// components are the model's inputs and the rest its targets (Keras's (x, y) dataset elements).
/// Each epoch is a new iteration, so an upstream Shuffle reshuffles.
/// </summary>
internal sealed class DatasetSource(Dataset dataset, int inputs, int? stepsPerEpoch) : IBatchSource
{
    private IEnumerator<Tensor[]>? _infinite;

    public int? Steps => stepsPerEpoch ?? (dataset.Cardinality >= 0 ? (int)dataset.Cardinality : null);

    public IEnumerable<Batch> Epoch(int epoch)
    {
        if (stepsPerEpoch is { } steps)
        {
            // Like Keras with steps_per_epoch: keep one iterator across epochs, restarting it only when it runs out.
            for (var i = 0; i < steps; i++)
            {
                _infinite ??= dataset.GetEnumerator();
                if (!_infinite.MoveNext())
                {
                    _infinite.Dispose();
                    _infinite = dataset.GetEnumerator();
                    if (!_infinite.MoveNext()) throw new InvalidOperationException("the dataset is empty");
                }
                yield return ToBatch(_infinite.Current);
            }
            yield break;
        }
        if (dataset.Cardinality == Dataset.InfiniteCardinality)
            throw new ArgumentException("the dataset is infinite (Repeat()): pass stepsPerEpoch");
        foreach (var element in dataset) yield return ToBatch(element);
    }

    /// <summary>
    /// A batch with the dataset's element shapes and dtypes, to build the model's step functions from:
    /// zero-row tensors from <see cref="Dataset.ElementSpec"/> when every non-batch dimension is known
    /// (no element is produced, so a large Shuffle buffer is not filled twice), else the first element.
    /// </summary>
    public Batch Sample()
    {
        if (dataset.ElementSpec is { } spec && spec.All(c => c.Shape.Rank > 0 && c.Shape.Skip(1).All(d => d >= 0)))
            return ToBatch(spec.Select(c => Tensor.Zeros(new Shape([0, .. c.Shape.Skip(1)]), c.DType)).ToArray());
        return Peek();
    }

    private Batch Peek()
    {
        using var e = dataset.GetEnumerator();
        return e.MoveNext() ? ToBatch(e.Current) : throw new ArgumentException("the dataset is empty");
    }

    private Batch ToBatch(Tensor[] element)
    {
        if (element.Length < inputs) throw new ArgumentException($"dataset elements have {element.Length} components; the model takes {inputs} inputs");
        if (element[0].Rank == 0) throw new ArgumentException("dataset elements must be batched (call Batch(n) on the dataset)");
        return new Batch(element[..inputs], element[inputs..], element[0].Shape[0]);
    }
}
