namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Groups consecutive elements into batches, stacking each component along a new axis 0 (dtypes are
    /// kept), as tf.data.Dataset.batch. The last batch holds the remainder, or is dropped with
    /// <paramref name="dropRemainder"/>.
    /// </summary>
    /// <param name="batchSize">Elements per batch, at least 1.</param>
    /// <param name="dropRemainder">Drop a final batch smaller than <paramref name="batchSize"/>; then the batch dimension of <see cref="ElementSpec"/> is known.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="batchSize"/> is below 1.</exception>
    /// <remarks>Elements of one batch must agree in component count, shapes and dtypes, else enumeration raises
    /// <see cref="ShapeException"/> naming the component and both shapes. Batching straight out of
    /// <see cref="FromTensorSlices(Tensor[])"/> copies each batch as one block, and
    /// right after a <see cref="Shuffle"/> of it copies each row once, from the source into the batch.</remarks>
    public Dataset Batch(int batchSize, bool dropRemainder = false)
    {
        if (batchSize < 1) throw new ArgumentOutOfRangeException(nameof(batchSize), batchSize, "batchSize must be at least 1");
        return new BatchDataset(this, batchSize, dropRemainder);
    }
}

internal sealed class BatchDataset(Dataset input, int batchSize, bool dropRemainder) : Dataset
{
    public override long Cardinality
    {
        get
        {
            var n = input.Cardinality;
            if (n < 0) return n;
            return dropRemainder ? n / batchSize : n == 0 ? 0 : (n - 1) / batchSize + 1;
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec?
        .Select(s => new TensorSpec(new Shape([dropRemainder ? batchSize : -1, .. s.Shape.ToArray()]), s.DType))
        .ToArray();

    private protected override IEnumerator<Tensor[]> CreateIterator() => input switch
    {
        TensorSlicesDataset slices => FromSlices(slices),
        ShuffleDataset { Slices: { } slices } shuffle => Gathered(slices, shuffle.ShuffledRows()),
        _ => Stacked(),
    };

    /// <summary>Batches of rows copied as blocks from the source tensors, without per-row tensors.</summary>
    private IEnumerator<Tensor[]> FromSlices(TensorSlicesDataset slices)
    {
        var n = (int)slices.Cardinality;
        for (var start = 0; start < n; start += batchSize)
        {
            var count = Math.Min(batchSize, n - start);
            if (count < batchSize && dropRemainder) yield break;
            yield return slices.Slice(start, count);
        }
    }

    /// <summary>Batches of shuffled rows, each row copied once, straight from the source into its batch.</summary>
    private IEnumerator<Tensor[]> Gathered(TensorSlicesDataset slices, IEnumerator<int> rows)
    {
        using (rows)
        {
            var pending = new int[batchSize];
            var count = 0;
            while (rows.MoveNext())
            {
                pending[count++] = rows.Current;
                if (count == batchSize)
                {
                    yield return slices.Gather(pending);
                    count = 0;
                }
            }
            if (count > 0 && !dropRemainder) yield return slices.Gather(pending.AsSpan(0, count));
        }
    }

    private IEnumerator<Tensor[]> Stacked()
    {
        var pending = new List<Tensor[]>(batchSize);
        foreach (var element in input)
        {
            pending.Add(element);
            if (pending.Count == batchSize)
            {
                yield return Stack(pending);
                pending.Clear();
            }
        }
        if (pending.Count > 0 && !dropRemainder) yield return Stack(pending);
    }

    private static Tensor[] Stack(List<Tensor[]> elements)
    {
        var arity = elements[0].Length;
        for (var i = 1; i < elements.Count; i++)
            if (elements[i].Length != arity)
                throw new ShapeException($"Batch: element 0 of a batch has {arity} components, element {i} has {elements[i].Length}");
        var result = new Tensor[arity];
        var column = new Tensor[elements.Count];
        for (var c = 0; c < arity; c++)
        {
            for (var i = 0; i < elements.Count; i++) column[i] = elements[i][c];
            result[c] = Rows.Stack(column, c);
        }
        return result;
    }
}
