using Nabla.Kernels;

namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// Shuffles with tf.data's buffer: fill a buffer with the first <paramref name="bufferSize"/> elements,
    /// then repeatedly emit a uniformly chosen element of the buffer and put the next input element in its
    /// place; at the end of the input, drain the buffer in random order.
    /// </summary>
    /// <param name="bufferSize">Elements held at once. At least the dataset's size gives a uniform permutation; 1 is the identity;
    /// in between, the element at output position p is one of the first p + bufferSize inputs.</param>
    /// <param name="seed">With a seed, iteration i uses the Philox stream keyed by (seed, i) — i counted per
    /// Shuffle dataset object from 0, or always 0 without reshuffling — so a freshly built pipeline replays
    /// the same orders. Without one, a seed is drawn once, here, from <see cref="Random.Shared"/>.</param>
    /// <param name="reshuffleEachIteration">True (tf.data's default): every iteration — each pass of a
    /// downstream <see cref="Repeat"/>, each new enumeration — draws a new order. False: every iteration repeats the first order.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="bufferSize"/> is below 1.</exception>
    public Dataset Shuffle(int bufferSize, ulong? seed = null, bool reshuffleEachIteration = true)
    {
        if (bufferSize < 1) throw new ArgumentOutOfRangeException(nameof(bufferSize), bufferSize, "Shuffle bufferSize must be at least 1");
        return new ShuffleDataset(this, bufferSize, seed ?? (ulong)Random.Shared.NextInt64(long.MinValue, long.MaxValue), reshuffleEachIteration);
    }
}

internal sealed class ShuffleDataset(Dataset input, int bufferSize, ulong seed, bool reshuffle) : Dataset
{
    // Iterations started so far; the only mutable state of a dataset, as tf.data's seed generator resource.
    private long _iterations;

    public override long Cardinality => input.Cardinality;

    public override IReadOnlyList<TensorSpec>? ElementSpec => input.ElementSpec;

    private protected override IEnumerator<Tensor[]> CreateIterator() => Buffered(input.GetEnumerator, NextStream());

    /// <summary>The source when shuffling rows of tensors straight from <see cref="Dataset.FromTensorSlices(Tensor[])"/>, else null.</summary>
    internal TensorSlicesDataset? Slices => input as TensorSlicesDataset;

    /// <summary>
    /// The row indices this iteration would emit, for <see cref="Dataset.Batch"/> to gather rows into a batch
    /// directly instead of slicing each row into a tensor first. It makes the same draws as element
    /// enumeration, so both give the same order, and it counts as an iteration just the same.
    /// </summary>
    internal IEnumerator<int> ShuffledRows()
    {
        var n = (int)input.Cardinality;
        return Buffered(() => Enumerable.Range(0, n).GetEnumerator(), NextStream());
    }

    private UniformStream NextStream()
    {
        // Numbered when the enumerator is created, so iteration numbers follow creation order.
        var iteration = Interlocked.Increment(ref _iterations) - 1;
        return new UniformStream(Philox.Key(seed, reshuffle ? (ulong)iteration : 0));
    }

    private IEnumerator<T> Buffered<T>(Func<IEnumerator<T>> open, UniformStream random)
    {
        // Never allocate more than the input can fill (a buffer of 10^6 over Range(10) holds 10).
        var n = input.Cardinality;
        var buffer = new List<T>(n >= 0 && n < bufferSize ? (int)n : Math.Min(bufferSize, 1 << 16));
        using var upstream = open();
        var exhausted = false;
        while (buffer.Count < bufferSize)
        {
            if (!upstream.MoveNext()) { exhausted = true; break; }
            buffer.Add(upstream.Current);
        }
        while (buffer.Count > 0)
        {
            var i = random.NextBelow(buffer.Count);
            yield return buffer[i];
            if (!exhausted && upstream.MoveNext())
            {
                buffer[i] = upstream.Current;
            }
            else
            {
                // Drain: the last element fills the hole, so the buffer stays dense.
                exhausted = true;
                buffer[i] = buffer[^1];
                buffer.RemoveAt(buffer.Count - 1);
            }
        }
    }

    /// <summary>Unbiased integers from a Philox 4x32-10 stream: two 64-bit draws per block, counter = block index.</summary>
    private sealed class UniformStream(ulong key)
    {
        private ulong _block, _spare;
        private bool _hasSpare;

        private ulong Next()
        {
            if (_hasSpare) { _hasSpare = false; return _spare; }
            var (x0, x1, x2, x3) = Philox.Block(key, _block++, 0);
            _spare = (ulong)x2 << 32 | x3;
            _hasSpare = true;
            return (ulong)x0 << 32 | x1;
        }

        /// <summary>Uniform on [0, n): Lemire's multiply-shift with rejection ("Fast random integer generation in an interval", 2019).</summary>
        public int NextBelow(int n)
        {
            var range = (ulong)n;
            var high = Math.BigMul(Next(), range, out var low);
            if (low < range)
            {
                var threshold = (0 - range) % range;
                while (low < threshold) high = Math.BigMul(Next(), range, out low);
            }
            return (int)high;
        }
    }
}
