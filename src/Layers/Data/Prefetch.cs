using System.Runtime.ExceptionServices;

namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Reads ahead on a background thread into a buffer of up to <paramref name="bufferSize"/> elements, as
    /// tf.data.Dataset.prefetch, so that producing the next batch overlaps with consuming this one.
    /// </summary>
    /// <param name="bufferSize">Elements held ahead, at least 1, or <see cref="Autotune"/> (2).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferSize"/> is 0 or below −1.</exception>
    /// <remarks>The producer starts at the first MoveNext. An exception in the pipeline upstream is rethrown
    /// (same object, original stack) by the consumer's MoveNext after the elements produced before it.
    /// Disposing the enumerator stops the producer: it finishes the element it is computing, disposes the
    /// upstream enumerators and exits before Dispose returns.</remarks>
    public Dataset Prefetch(int bufferSize)
    {
        if (bufferSize == Autotune) bufferSize = 2;
        if (bufferSize < 1) throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, "Prefetch bufferSize must be at least 1, or Dataset.Autotune");
        return new PrefetchDataset(this, bufferSize);
    }
}

internal sealed class PrefetchDataset(Dataset input, int bufferSize) : Dataset
{
    public override long Cardinality => input.Cardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator() => new Iterator(input, bufferSize);

    /// <summary>A bounded producer/consumer queue guarded by one monitor.</summary>
    private sealed class Iterator(Dataset input, int capacity) : IEnumerator<Tensor[]>
    {
        private readonly Queue<Tensor[]> _queue = new(capacity);
        private readonly object _lock = new(); // a Monitor, not System.Threading.Lock: Monitor.Wait needs it
        private Thread? _producer;
        private bool _finished, _stopping, _disposed;
        private ExceptionDispatchInfo? _error;
        private Tensor[]? _current;

        public Tensor[] Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true");

        object System.Collections.IEnumerator.Current => Current;

        public bool MoveNext()
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_producer is null)
            {
                _producer = new Thread(Produce) { IsBackground = true, Name = "Nabla.Data.Prefetch" };
                _producer.Start();
            }
            lock (_lock)
            {
                while (_queue.Count == 0 && !_finished) Monitor.Wait(_lock);
                if (_queue.Count > 0)
                {
                    _current = _queue.Dequeue();
                    Monitor.PulseAll(_lock);
                    return true;
                }
                _current = null;
                if (_error is { } error)
                {
                    // Raised once; later calls report the end, as an exhausted enumerator.
                    _error = null;
                    error.Throw();
                }
                return false;
            }
        }

        private void Produce()
        {
            try
            {
                using var upstream = input.GetEnumerator();
                while (!Volatile.Read(ref _stopping) && upstream.MoveNext())
                {
                    var element = upstream.Current;
                    lock (_lock)
                    {
                        while (_queue.Count >= capacity && !_stopping) Monitor.Wait(_lock);
                        if (_stopping) return;
                        _queue.Enqueue(element);
                        Monitor.PulseAll(_lock);
                    }
                }
            }
            catch (Exception e)
            {
                // Not swallowed: handed to the consumer, whose MoveNext rethrows it.
                lock (_lock) _error = ExceptionDispatchInfo.Capture(e);
            }
            finally
            {
                lock (_lock)
                {
                    _finished = true;
                    Monitor.PulseAll(_lock);
                }
            }
        }

        public void Reset() => throw new NotSupportedException("start a new iteration with GetEnumerator()");

        public void Dispose()
        {
            if (_disposed) return;
            _disposed = true;
            lock (_lock)
            {
                _stopping = true;
                Monitor.PulseAll(_lock);
            }
            _producer?.Join();
            _queue.Clear();
        }
    }
}
