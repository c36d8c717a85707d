namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Keeps the elements in memory, as tf.data.Dataset.cache() without a file name: the first iteration
    /// that runs to the end of the input stores every element, and later iterations replay them without
    /// running anything upstream (no Map calls, the same order after a Shuffle).
    /// </summary>
    /// <remarks>An iteration abandoned early (e.g. under <see cref="Take"/>) stores nothing, so the next
    /// iteration reads the input again and can still fill the cache. Iterations that run at the same time
    /// before the cache is filled each read the input; the first to finish fills it.</remarks>
    public Dataset Cache() => new CacheDataset(this);
}

internal sealed class CacheDataset(Dataset input) : Dataset
{
    private Tensor[][]? _cache;

    public override long Cardinality => input.Cardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator() => Volatile.Read(ref _cache) is { } cache ? Replay(cache) : Fill();

    private static IEnumerator<Tensor[]> Replay(Tensor[][] cache)
    {
        // Tensors are immutable values and are shared; the tuple arrays are copied because a consumer may overwrite their slots.
        foreach (var element in cache) yield return (Tensor[])element.Clone();
    }

    private IEnumerator<Tensor[]> Fill()
    {
        var elements = new List<Tensor[]>();
        foreach (var element in input)
        {
            elements.Add((Tensor[])element.Clone());
            yield return element;
        }
        Interlocked.CompareExchange(ref _cache, elements.ToArray(), null);
    }
}
