namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Plays the dataset <paramref name="count"/> times, or forever with −1, as tf.data.Dataset.repeat.
    /// Each repetition is a new iteration of the input, so an upstream <see cref="Shuffle"/> reshuffles
    /// and an upstream <see cref="Batch"/> never mixes elements of two repetitions.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="count"/> is below −1.</exception>
    /// <remarks>As tf.data, a repetition that yields nothing ends the dataset, so repeating an empty dataset forever is empty, not a hang.</remarks>
    public Dataset Repeat(long count = -1)
    {
        CheckCount(count, nameof(count));
        return new RepeatDataset(this, count);
    }
}

internal sealed class RepeatDataset(Dataset input, long count) : Dataset
{
    public override long Cardinality
    {
        get
        {
            // tf.data's rules: forever is infinite unless the input is empty; unknown and infinite inputs stay so.
            var n = input.Cardinality;
            if (count == -1) return n == 0 ? 0 : InfiniteCardinality;
            if (count == 0) return 0;
            if (n < 0) return n;
            return n > long.MaxValue / count ? InfiniteCardinality : n * count;
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        for (long r = 0; count == -1 || r < count; r++)
        {
            var any = false;
            foreach (var element in input)
            {
                any = true;
                yield return element;
            }
            if (!any) yield break;
        }
    }
}
