using Nabla.Data;

namespace Nabla.Layers;

/// <summary>One batch: model inputs, targets, and the number of samples.</summary>
internal readonly record struct Batch(Tensor[] X, Tensor[] Y, int Size)
{
    /// <summary>
    /// Set when the feed gathered only this worker's share of a global batch of <see cref="Size"/> rows (rows
    /// index, index + count, … of the batch, <see cref="Distribute.BatchShard"/>'s rule): X and Y then hold that
    /// share, of this many rows.
    /// </summary>
    public int? LocalRows { get; init; }
}

/// <summary>Where a training or evaluation loop gets its batches from, epoch by epoch.</summary>
internal interface IBatchFeed
{
    /// <summary>Batches per epoch, when known.</summary>
    int? Steps { get; }

    /// <summary>The batches of one epoch.</summary>
    IEnumerable<Batch> Epoch(int epoch);
}

/// <summary>
/// Batches cut from in-memory arrays, shuffled each epoch when asked (Keras's array adapter). The
/// feed reads rows [start, start + count) of the arrays in place, so Fit's validation split is two
/// row ranges of the caller's arrays rather than two copies of them.
/// </summary>
/// <remarks>
/// Batches are gathered into buffers owned by the feed and reused from batch to batch (one set for
/// full batches, one for the shorter last batch): a batch's tensors are valid until the next batch is
/// requested. That is enough for the training and evaluation loops, because <c>Session.Run</c> copies
/// its feeds onto the device (<c>IBackend.Upload</c>) before it returns. A 512×784 float batch is
/// 1.6 MB, above the 85 KB large-object threshold, so a fresh array per batch used to put ~150 MB
/// per epoch of MNIST through the large-object heap, which only a full collection reclaims.
/// </remarks>
internal sealed class ArrayBatchFeed : IBatchFeed
{
    private readonly Tensor[] _x, _y;
    private readonly int _start, _batchSize;
    private readonly Random? _shuffle;
    private int[]? _order;
    private int[]? _shardRows;
    private Array[]? _fullBuffers, _lastBuffers;

    public ArrayBatchFeed(Tensor[] x, Tensor[] y, int batchSize, Random? shuffle, int start = 0, int? count = null)
    {
        if (x.Length == 0) throw new ArgumentException("no input arrays were given", nameof(x));
        if (batchSize <= 0) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batch size must be positive");
        var rows = RowCount(x[0]);
        foreach (var t in x.Concat(y))
            if (RowCount(t) != rows)
                throw new ArgumentException($"all input and target arrays must have the same number of samples: got {string.Join(", ", x.Concat(y).Select(a => a.Shape.ToString()))}");
        Count = count ?? rows - start;
        if (start < 0 || Count < 0 || start + Count > rows)
            throw new ArgumentOutOfRangeException(nameof(count), $"rows {start}..{start + Count - 1} are outside arrays of {rows} samples");
        if (Count == 0) throw new ArgumentException("the arrays hold no samples", nameof(x));
        (_x, _y, _start, _batchSize, _shuffle) = (x, y, start, batchSize, shuffle);
    }

    /// <summary>Samples per epoch (the length of the row range).</summary>
    public int Count { get; }

    public int? Steps => (Count + _batchSize - 1) / _batchSize;

    /// <summary>
    /// When set, each batch holds only the rows of one worker's share (<see cref="Batch.LocalRows"/>): a worker of a
    /// multi-worker job gathers its own rows instead of the whole global batch and then its share of it.
    /// </summary>
    public (int Index, int Count)? Shard { get; init; }

    public IEnumerable<Batch> Epoch(int epoch)
    {
        int[]? order = null;
        if (_shuffle is not null)
        {
            // The same permutation as shuffling a fresh 0..Count-1, in an array kept across epochs.
            order = _order ??= new int[Count];
            for (var i = 0; i < order.Length; i++) order[i] = i;
            _shuffle.Shuffle(order);
        }
        for (var offset = 0; offset < Count; offset += _batchSize)
        {
            var n = Math.Min(_batchSize, Count - offset);
            if (Shard is { Count: > 1 } shard)
            {
                var (index, count) = shard;
                // The share's rows of this batch, as positions in the epoch's (possibly shuffled) order.
                var local = n > index ? (n - index + count - 1) / count : 0;
                var rows = _shardRows is { } r && r.Length == local ? r : _shardRows = new int[local];
                for (var k = 0; k < local; k++) rows[k] = order is null ? offset + index + k * count : order[offset + index + k * count];
                yield return new Batch(Take(_x, 0, rows, 0, local), Take(_y, _x.Length, rows, 0, local), n) { LocalRows = local };
            }
            else yield return new Batch(Take(_x, 0, order, offset, n), Take(_y, _x.Length, order, offset, n), n);
        }
    }

    /// <summary>Keras's validation_split: the last <paramref name="fraction"/> of the samples (before any shuffling) validate; returns the first validation row.</summary>
    public static int SplitTail(Tensor[] arrays, double fraction)
    {
        var n = RowCount(arrays[0]);
        var cut = (int)(n * (1 - fraction));
        if (cut <= 0 || cut >= n) throw new ArgumentException($"validation split {fraction} of {n} samples leaves an empty training or validation set");
        return cut;
    }

    /// <summary>Rows offset..offset+n−1 of the epoch (through <paramref name="order"/> when shuffled) of each array; <paramref name="first"/> numbers the arrays across x and y for the buffers.</summary>
    private Tensor[] Take(Tensor[] arrays, int first, int[]? order, int offset, int n)
    {
        var result = new Tensor[arrays.Length];
        for (var i = 0; i < arrays.Length; i++)
        {
            var a = arrays[i];
            if (order is null && n == RowCount(a)) { result[i] = a; continue; } // the whole array is one batch
            var buffer = BufferFor(first + i, a, n);
            if (order is null) Rows.CopyInto(a, _start + offset, n, buffer);
            else Rows.GatherInto(a, order.AsSpan(offset, n), _start, buffer);
            var dims = a.Shape.ToArray();
            dims[0] = n;
            result[i] = new Tensor(buffer, new Shape(dims), a.DType);
        }
        return result;
    }

    private Array BufferFor(int array, Tensor a, int n)
    {
        ref var buffers = ref n == _batchSize ? ref _fullBuffers : ref _lastBuffers;
        buffers ??= new Array[_x.Length + _y.Length];
        var size = n * Rows.RowSize(a.Shape);
        if (buffers[array] is not { } b || b.Length != size) buffers[array] = b = a.DType.NewArray(size);
        return b;
    }

    private static int RowCount(Tensor t) => t.Rank == 0 ? throw new ArgumentException($"a scalar ({t.DType.Name()}) cannot be split into samples") : t.Shape[0];
}

/// <summary>
/// Batches from a <see cref="Dataset"/> whose elements are already batched: the first <c>inputs</c>
/// components are the model's inputs and the rest its targets (Keras's (x, y) dataset elements).
/// Each epoch is a new iteration, so an upstream Shuffle reshuffles.
/// </summary>
internal sealed class DatasetBatchFeed(Dataset dataset, int inputs, int? stepsPerEpoch) : IBatchFeed
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
