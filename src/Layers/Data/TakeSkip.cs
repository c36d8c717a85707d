namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>The first <paramref name="count"/> elements (all with −1), as tf.data.Dataset.take. Reads no input element past them.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below −1.</exception>
    public Dataset Take(long count)
    {
        CheckCount(count, nameof(count));
        return new TakeDataset(this, count);
    }

    /// <summary>All but the first <paramref name="count"/> elements (none with −1), as tf.data.Dataset.skip.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below −1.</exception>
    public Dataset Skip(long count)
    {
        CheckCount(count, nameof(count));
        return new SkipDataset(this, count);
    }
}

internal sealed class TakeDataset(Dataset input, long count) : Dataset
{
    public override long Cardinality
    {
        get
        {
            var n = input.Cardinality;
            if (count == -1 || n == UnknownCardinality) return n;
            return n == InfiniteCardinality ? count : Math.Min(n, count);
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        if (count == 0) yield break;
        long taken = 0;
        foreach (var element in input)
        {
            yield return element;
            // Stop before asking the input for one more: that element may be expensive or may never come.
            if (++taken == count) yield break;
        }
    }
}

internal sealed class SkipDataset(Dataset input, long count) : Dataset
{
    public override long Cardinality
    {
        get
        {
            var n = input.Cardinality;
            if (n < 0) return n;
            return count == -1 ? 0 : Math.Max(0, n - count);
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        long seen = 0;
        foreach (var element in input)
        {
            if (count == -1) continue;
            if (seen++ >= count) yield return element;
        }
    }
}
