using System.Numerics.Tensors;
using Nabla.Distributed;
using Nabla.Layers;

namespace Nabla.Distribute;

/// <summary>
/// A replica's gradients packed into a few flat float32 buffers for all-reduce (PyTorch DDP's buckets):
/// whole gradients, in reverse order (the last layer's gradient is the first the backward pass
/// produces, so with an asynchronous backend its bucket could start travelling first), each bucket
/// closed once it reaches the target size. Buffers are allocated once and reused every step.
/// </summary>
internal sealed class GradientBuckets
{
    private readonly Shape[] _shapes;
    private readonly (int Gradient, int Offset)[][] _layout; // per bucket: the gradients it holds and their offsets
    private readonly float[][] _buffers;
    private readonly float[][] _results;

    public GradientBuckets(IReadOnlyList<Variable> variables, long bucketBytes)
    {
        foreach (var v in variables)
            if (v.DType != DType.Float32)
                throw new NotSupportedException($"distribution strategies all-reduce float32 gradients; variable '{v.Name}' is {v.DType.Name()}");
        _shapes = variables.Select(v => v.Shape).ToArray();
        var layout = new List<List<(int, int)>>();
        var sizes = new List<int>();
        List<(int, int)>? open = null;
        var used = 0;
        for (var g = _shapes.Length - 1; g >= 0; g--)
        {
            var n = checked((int)_shapes[g].ElementCount);
            if (open is null || (used > 0 && (long)(used + n) * sizeof(float) > bucketBytes))
            {
                if (open is not null) sizes.Add(used);
                open = [];
                layout.Add(open);
                used = 0;
            }
            open.Add((g, used));
            used += n;
        }
        if (open is not null) sizes.Add(used);
        _layout = layout.Select(l => l.ToArray()).ToArray();
        _buffers = sizes.Select(n => new float[n]).ToArray();
        _results = _shapes.Select(s => new float[checked((int)s.ElementCount)]).ToArray();
        Bytes = sizes.Sum(n => (long)n * sizeof(float));
    }

    /// <summary>Number of buckets (all-reduce calls per step).</summary>
    public int Count => _buffers.Length;

    /// <summary>Bytes all-reduced per step.</summary>
    public long Bytes { get; }

    /// <summary>Copies the gradients into the buckets, each multiplied by <paramref name="weight"/> (the replica's row count).</summary>
    public void Pack(IReadOnlyList<Tensor> gradients, int weight)
    {
        if (gradients.Count != _shapes.Length) throw new ArgumentException($"expected {_shapes.Length} gradients, got {gradients.Count}", nameof(gradients));
        var w = (float)weight;
        for (var b = 0; b < _layout.Length; b++)
            foreach (var (g, offset) in _layout[b])
            {
                var source = gradients[g].AsSpan<float>();
                TensorPrimitives.Multiply(source, w, _buffers[b].AsSpan(offset, source.Length));
            }
    }

    /// <summary>Zero contribution, for a replica with no rows in this batch.</summary>
    public void PackZeros()
    {
        foreach (var b in _buffers) Array.Clear(b);
    }

    /// <summary>Sums every bucket over the group, one all-reduce per bucket.</summary>
    public void AllReduce(ICollective collective)
    {
        foreach (var b in _buffers) collective.AllReduce(b.AsSpan(), ReduceOp.Sum);
    }

    /// <summary>The summed gradients divided by <paramref name="total"/> (the global row count), as tensors shaped like the variables.</summary>
    public Tensor[] Unpack(double total)
    {
        var result = new Tensor[_shapes.Length];
        // Division, not multiplication by 1/N: with N a power of two both are exact; otherwise division is the correctly rounded mean.
        var divisor = (float)total;
        for (var b = 0; b < _layout.Length; b++)
            foreach (var (g, offset) in _layout[b])
            {
                var target = _results[g];
                TensorPrimitives.Divide(_buffers[b].AsSpan(offset, target.Length), divisor, target);
                result[g] = new Tensor(target, _shapes[g], DType.Float32);
            }
        return result;
    }
}

/// <summary>
/// One replica's share of each global batch: rows index, index + count, index + 2·count, … of every array
/// (the same rule as <c>Dataset.Shard</c>). The rows are gathered into buffers kept from step to step (a
/// 256 × 784 float share is 800 KB, a large-object-heap array if allocated per step); a share is valid until
/// the next <see cref="Take"/>, which is enough because <c>Session.Run</c> copies its feeds.
/// </summary>
internal sealed class BatchShard(int index, int count)
{
    private readonly Dictionary<(int Array, int Rows), Array> _buffers = [];
    private (int Size, int[] Rows) _rows = (-1, []);

    public Batch Take(Batch batch)
    {
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
