namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Pairs up the elements of several datasets, as tf.data.Dataset.zip: element i is the concatenation of
    /// the components of element i of each input (a flat tuple: zipping a 2-component and a 1-component
    /// dataset gives 3 components). Ends with the shortest input.
    /// </summary>
    /// <exception cref="ArgumentException">No datasets, or a null one.</exception>
    public static Dataset Zip(params Dataset[] datasets)
    {
        if (datasets.Length == 0) throw new ArgumentException("Zip needs at least one dataset", nameof(datasets));
        for (var i = 0; i < datasets.Length; i++)
            if (datasets[i] is null) throw new ArgumentNullException(nameof(datasets), $"dataset {i} is null");
        return new ZipDataset((Dataset[])datasets.Clone());
    }
}

internal sealed class ZipDataset(Dataset[] inputs) : Dataset
{
    public override long Cardinality
    {
        get
        {
            // As tf.data: unknown if any input is unknown, else the shortest finite input, else infinite.
            var result = InfiniteCardinality;
            foreach (var input in inputs)
            {
                var n = input.Cardinality;
                if (n == UnknownCardinality) return UnknownCardinality;
                if (n != InfiniteCardinality) result = result == InfiniteCardinality ? n : Math.Min(result, n);
            }
            return result;
        }
    }

    public override IReadOnlyList<TensorSpec>? ElementSpec
    {
        get
        {
            var all = new List<TensorSpec>();
            foreach (var input in inputs)
            {
                if (input.ElementSpec is not { } spec) return null;
                all.AddRange(spec);
            }
            return all;
        }
    }

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        var iterators = new List<IEnumerator<Tensor[]>>(inputs.Length);
        try
        {
            foreach (var input in inputs) iterators.Add(input.GetEnumerator());
            while (true)
            {
                var parts = new List<Tensor>();
                foreach (var it in iterators)
                {
                    if (!it.MoveNext()) yield break;
                    parts.AddRange(it.Current);
                }
                yield return parts.ToArray();
            }
        }
        finally
        {
            foreach (var it in iterators) it.Dispose();
        }
    }
}
