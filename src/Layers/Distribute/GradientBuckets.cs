using Nabla.Distributed;
using Nabla.Layers;

namespace Nabla.Distribute;

/// <summary>
/// How a replica's gradients are grouped for all-reduce (PyTorch DDP's buckets): whole gradients, in
/// reverse order (the last layer's gradient is the first the backward pass produces, so with an
/// asynchronous backend its bucket could start travelling first), each bucket closed once it reaches the
/// target size. Each bucket becomes one <c>AllReduce</c> op of the training step's graph.
/// </summary>
internal sealed class GradientBuckets
{
    public GradientBuckets(IReadOnlyList<Variable> variables, long bucketBytes)
    {
        foreach (var v in variables)
            if (v.DType != DType.Float32)
                throw new NotSupportedException($"distribution strategies all-reduce float32 gradients; variable '{v.Name}' is {v.DType.Name()}");
        var layout = new List<List<int>>();
        List<int>? open = null;
        long used = 0;
        for (var g = variables.Count - 1; g >= 0; g--)
        {
            var n = variables[g].Shape.ElementCount;
            if (open is null || (used > 0 && (used + n) * sizeof(float) > bucketBytes))
            {
                open = [];
                layout.Add(open);
                used = 0;
            }
            open.Add(g);
            used += n;
        }
        Layout = layout.Select(l => l.ToArray()).ToArray();
        Bytes = variables.Sum(v => v.Shape.ElementCount * sizeof(float));
    }

    /// <summary>Per bucket, the indices of the gradients it holds, in packing order.</summary>
    public int[][] Layout { get; }

    /// <summary>Number of buckets (all-reduce calls per step).</summary>
    public int Count => Layout.Length;

    /// <summary>Bytes all-reduced per step.</summary>
    public long Bytes { get; }
}

/// <summary>
/// A <see cref="ICollective"/> as the engine's <see cref="Kernels.IAllReduceGroup"/>: the group a replica
/// session's <c>AllReduce</c> ops sum over. Counts the calls, bytes and time (waiting for slower replicas
/// included) for <see cref="DistributionStats"/>.
/// </summary>
internal sealed class CollectiveGroup(ICollective collective) : Kernels.IAllReduceGroup
{
    public int Size => collective.Size;

    public long Calls { get; private set; }

    public long Bytes { get; private set; }

    public TimeSpan Time { get; private set; }

    public void Sum(Span<float> data)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        collective.AllReduce(data, ReduceOp.Sum);
        Record(start, data.Length * sizeof(float));
    }

    public void Sum(Span<double> data)
    {
        var start = System.Diagnostics.Stopwatch.GetTimestamp();
        collective.AllReduce(data, ReduceOp.Sum);
        Record(start, data.Length * sizeof(double));
    }

    private void Record(long start, long bytes)
    {
        Time += System.Diagnostics.Stopwatch.GetElapsedTime(start);
        Calls++;
        Bytes += bytes;
    }
}

/// <summary>
/// One replica's share of each global batch: rows index, index + count, index + 2·count, … of every array
/// (the same rule as <c>Dataset.Shard</c>). The rows are gathered into buffers kept from step to step (a
/// 256 × 784 float share is 800 KB, a large-object-heap array if allocated per step); a share is valid until
/// the next <see cref="Take"/>, which is enough because <c>Session.Run</c> is done with its feeds when it returns.
/// </summary>
internal sealed class BatchShard(int index, int count)
{
    private readonly Dictionary<(int Array, int Rows), Array> _buffers = [];
    private (int Size, int[] Rows) _rows = (-1, []);

    public Batch Take(Batch batch)
    {
        if (batch.LocalRows is { } gathered) return new Batch(batch.X, batch.Y, gathered); // the feed took this share already
        if (count == 1) return batch;
        if (_rows.Size != batch.Size) _rows = (batch.Size, RowsOf(batch.Size, index, count));
        var rows = _rows.Rows;
        var arrays = new Tensor[batch.X.Length + batch.Y.Length];
        for (var k = 0; k < arrays.Length; k++)
        {
            var source = k < batch.X.Length ? batch.X[k] : batch.Y[k - batch.X.Length];
            var dims = source.Shape.ToArray();
            dims[0] = rows.Length;
            var shape = new Shape(dims);
            if (!_buffers.TryGetValue((k, rows.Length), out var buffer) || buffer.Length != shape.ElementCount)
                _buffers[(k, rows.Length)] = buffer = source.DType.NewArray(checked((int)shape.ElementCount));
            Data.Rows.GatherInto(source, rows, 0, buffer);
            arrays[k] = new Tensor(buffer, shape, source.DType);
        }
        return new Batch(arrays[..batch.X.Length], arrays[batch.X.Length..], rows.Length);
    }

    /// <summary>The row indices of shard <paramref name="index"/> of <paramref name="size"/> rows.</summary>
    public static int[] RowsOf(int size, int index, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(index, count);
        var n = size > index ? (size - index + count - 1) / count : 0;
        var rows = new int[n];
        for (var i = 0; i < n; i++) rows[i] = index + i * count;
        return rows;
    }
}
