using System.Runtime.CompilerServices;

namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Applies <paramref name="function"/> to every element, as tf.data.Dataset.map. With
    /// <paramref name="numParallelCalls"/> &gt; 1 up to that many calls run at once on the thread pool, but
    /// elements still come out in input order (tf.data's default <c>deterministic=True</c>), so the
    /// function must be thread-safe. Upstream elements are always read by one thread, in order.
    /// </summary>
    /// <param name="function">Maps the components of one element to the components of the result.</param>
    /// <param name="numParallelCalls">Concurrent calls: 1 (sequential, on the consumer's thread), more, or <see cref="Autotune"/> (the processor count).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="numParallelCalls"/> is 0 or below −1.</exception>
    /// <remarks>An exception thrown by <paramref name="function"/> surfaces, unwrapped, when its element is reached. The result's
    /// <see cref="ElementSpec"/> is unknown (null): the function is not traced ahead of time.
    /// A lambda that fits both overloads (<c>e =&gt; e</c>) binds to this one, which works for any number of components.</remarks>
    [OverloadResolutionPriority(1)]
    public Dataset Map(Func<Tensor[], Tensor[]> function, int numParallelCalls = 1)
    {
        ArgumentNullException.ThrowIfNull(function);
        if (numParallelCalls == Autotune) numParallelCalls = Environment.ProcessorCount;
        if (numParallelCalls < 1) throw new ArgumentOutOfRangeException(nameof(numParallelCalls), numParallelCalls, "numParallelCalls must be at least 1, or Dataset.Autotune");
        return new MapDataset(this, function, numParallelCalls);
    }

    /// <summary>
    /// Applies <paramref name="function"/> to every element of a one-component dataset; see
    /// <see cref="Map(Func{Tensor[], Tensor[]}, int)"/>. An element with another number of components raises
    /// <see cref="InvalidOperationException"/> when reached.
    /// </summary>
    public Dataset Map(Func<Tensor, Tensor> function, int numParallelCalls = 1)
    {
        ArgumentNullException.ThrowIfNull(function);
        return Map(element => [function(Single(element, nameof(Map)))], numParallelCalls);
    }

    /// <summary>
    /// Keeps the elements for which <paramref name="predicate"/> is true, as tf.data.Dataset.filter. The
    /// result's <see cref="Cardinality"/> is <see cref="UnknownCardinality"/> unless the input is empty.
    /// </summary>
    public Dataset Filter(Func<Tensor[], bool> predicate)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        return new FilterDataset(this, predicate);
    }
}

internal sealed class MapDataset(Dataset input, Func<Tensor[], Tensor[]> function, int parallelism) : Dataset
{
    public override long Cardinality => input.Cardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => null;

    private protected override IEnumerator<Tensor[]> CreateIterator() => parallelism == 1 ? Sequential() : Parallel();

    private Tensor[] Apply(Tensor[] element)
    {
        var result = function(element) ?? throw new InvalidOperationException("Map function returned null");
        for (var i = 0; i < result.Length; i++)
            if (result[i] is null) throw new InvalidOperationException($"Map function returned null for component {i}");
        return result;
    }

    private IEnumerator<Tensor[]> Sequential()
    {
        foreach (var element in input) yield return Apply(element);
    }

    /// <summary>
    /// A window of up to <c>parallelism</c> calls in flight, consumed first-in first-out: the window refills
    /// as soon as the oldest result is handed out, so a slow element delays the output, never reorders it.
    /// </summary>
    private IEnumerator<Tensor[]> Parallel()
    {
        var pending = new Queue<Task<Tensor[]>>(parallelism);
        var exhausted = false;
        var upstream = input.GetEnumerator();
        try
        {
            while (true)
            {
                while (!exhausted && pending.Count < parallelism)
                {
                    if (!upstream.MoveNext()) { exhausted = true; break; }
                    var element = upstream.Current;
                    pending.Enqueue(Task.Run(() => Apply(element)));
                }
                if (pending.Count == 0) yield break;
                // GetResult rethrows the function's own exception, not an AggregateException.
                yield return pending.Dequeue().GetAwaiter().GetResult();
            }
        }
        finally
        {
            // The consumer stopped early (or an element failed): the calls still running belong to elements
            // nobody will read, so their results and errors are dropped, but wait for them so that no map
            // call is still running once the enumerator is disposed.
            foreach (Task task in pending) task.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing).GetAwaiter().GetResult();
            upstream.Dispose();
        }
    }
}

internal sealed class FilterDataset(Dataset input, Func<Tensor[], bool> predicate) : Dataset
{
    // Even an infinite input may yield finitely many matches, so only an empty input has a known count.
    public override long Cardinality => input.Cardinality == 0 ? 0 : UnknownCardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        foreach (var element in input)
            if (predicate(element)) yield return element;
    }
}
