namespace Nabla.Data;

public abstract partial class Dataset
{
    /// <summary>
    /// One element per row of <paramref name="tensor"/> (a slice along axis 0, without that axis), as
    /// tf.data.Dataset.from_tensor_slices. The tensor is referenced, not copied; each element is a copy of its row.
    /// </summary>
    /// <exception cref="ArgumentException">The tensor is a scalar.</exception>
    public static Dataset FromTensorSlices(Tensor tensor) => FromTensorSlices([tensor]);

    /// <summary>
    /// One element per row of a tuple of tensors, e.g. <c>(features, labels)</c>: element i is
    /// <c>[features[i], labels[i]]</c>, so the components stay aligned through every later operator.
    /// </summary>
    /// <exception cref="ArgumentException">No tensors, a scalar, or tensors whose first dimensions differ (the message names every shape).</exception>
    public static Dataset FromTensorSlices(params Tensor[] tensors)
    {
        if (tensors.Length == 0) throw new ArgumentException("FromTensorSlices needs at least one tensor", nameof(tensors));
        for (var i = 0; i < tensors.Length; i++)
        {
            if (tensors[i] is null) throw new ArgumentNullException(nameof(tensors), $"component {i} is null");
            if (tensors[i].Rank == 0)
                throw new ArgumentException($"FromTensorSlices slices along axis 0, but component {i} is a scalar (shape {tensors[i].Shape})", nameof(tensors));
        }
        var n = tensors[0].Shape[0];
        if (tensors.Any(t => t.Shape[0] != n))
            throw new ArgumentException(
                $"FromTensorSlices needs every component to have the same size along axis 0; got shapes {string.Join(", ", tensors.Select(t => t.Shape))}",
                nameof(tensors));
        return new TensorSlicesDataset((Tensor[])tensors.Clone());
    }

    /// <summary>The int64 scalars 0, 1, ..., <paramref name="stop"/> − 1, as tf.data.Dataset.range.</summary>
    public static Dataset Range(long stop) => Range(0, stop);

    /// <summary>The int64 scalars start, start + step, ... up to but excluding <paramref name="stop"/>, as tf.data.Dataset.range.</summary>
    /// <exception cref="ArgumentException"><paramref name="step"/> is zero.</exception>
    public static Dataset Range(long start, long stop, long step = 1)
    {
        if (step == 0) throw new ArgumentException("Range step must not be zero", nameof(step));
        return new RangeDataset(start, stop, step);
    }
}

/// <summary>Rows of a tuple of tensors with a common first dimension.</summary>
internal sealed class TensorSlicesDataset(Tensor[] components) : Dataset
{
    public override long Cardinality => components[0].Shape[0];

    public override IReadOnlyList<TensorSpec> ElementSpec { get; } =
        components.Select(t => new TensorSpec(Rows.RowShape(t.Shape), t.DType)).ToArray();

    /// <summary>Rows [start, start + count) of every component, each as one tensor: the fast path of <see cref="Dataset.Batch"/>.</summary>
    public Tensor[] Slice(int start, int count) => components.Select(t => Rows.Slice(t, start, count)).ToArray();

    /// <summary>The given rows of every component, stacked: the shuffled fast path of <see cref="Dataset.Batch"/>.</summary>
    public Tensor[] Gather(ReadOnlySpan<int> rows)
    {
        var result = new Tensor[components.Length];
        for (var c = 0; c < components.Length; c++) result[c] = Rows.Gather(components[c], rows);
        return result;
    }

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        var n = components[0].Shape[0];
        for (var i = 0; i < n; i++)
        {
            var element = new Tensor[components.Length];
            for (var c = 0; c < components.Length; c++) element[c] = Rows.Row(components[c], i);
            yield return element;
        }
    }
}

/// <summary>An arithmetic progression of int64 scalars.</summary>
internal sealed class RangeDataset(long start, long stop, long step) : Dataset
{
    private static readonly TensorSpec[] Spec = [new(Shape.Scalar, DType.Int64)];

    public override long Cardinality
    {
        get
        {
            // Count in unsigned 128-bit arithmetic so Range(long.MinValue, long.MaxValue) does not overflow.
            var span = step > 0 ? (Int128)stop - start : (Int128)start - stop;
            var stride = step > 0 ? (Int128)step : -(Int128)step;
            return span <= 0 ? 0 : (long)Int128.Min((span + stride - 1) / stride, long.MaxValue);
        }
    }

    public override IReadOnlyList<TensorSpec> ElementSpec => Spec;

    private protected override IEnumerator<Tensor[]> CreateIterator()
    {
        var n = Cardinality;
        for (long i = 0; i < n; i++) yield return [Tensor.Scalar(start + i * step)];
    }
}
