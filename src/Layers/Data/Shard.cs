namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Every <paramref name="count"/>-th element starting at <paramref name="index"/> (tf.data.Dataset.shard):
    /// elements index, index + count, index + 2·count, … . The shards 0…count−1 of a dataset partition
    /// it: each element is in exactly one shard. Shard before shuffling or batching, so that each worker
    /// of a multi-worker job reads its own elements.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below 1, or <paramref name="index"/> is not in [0, count).</exception>
    public Dataset Shard(int count, int index)
    {
        if (count < 1) throw new ArgumentOutOfRangeException(nameof(count), count, "the number of shards must be at least 1");
        if (index < 0 || index >= count) throw new ArgumentOutOfRangeException(nameof(index), index, $"shard index must be in [0, {count})");
        return new ShardDataset(this, count, index);
    }
}

internal sealed class ShardDataset(Dataset input, int count, int index) : Dataset
{
    public override long Cardinality
    {
        get
        {
            var n = input.Cardinality;
            if (n < 0) return n;
            return n > index ? (n - index + count - 1) / count : 0;
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        long i = 0;
        foreach (var element in input)
            if (i++ % count == index) yield return element;
    }
}
