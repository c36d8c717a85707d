namespace Nabla.Data;

/// <summary>
/// Copies rows (slices along axis 0) in and out of host tensors. Everything is one <see cref="Array.Copy(Array, int, Array, int, int)"/>
/// per contiguous run on the typed arrays, which the runtime turns into a memmove: a 512×784 float
/// batch is a 1.6 MB copy, not 400k boxed SetValue calls.
/// </summary>
internal static class Rows
{
    /// <summary>Elements per row: the product of every dimension after the first.</summary>
    public static int RowSize(Shape shape)
    {
        var n = 1;
        for (var d = 1; d < shape.Rank; d++) n *= shape[d];
        return n;
    }

    /// <summary>Shape of one row: the shape without its first dimension.</summary>
    public static Shape RowShape(Shape shape) => new(shape.ToArray()[1..]);

    /// <summary>Rows [start, start + count) as a tensor of shape [count, ...] (a copy).</summary>
    public static Tensor Slice(Tensor source, int start, int count)
    {
        var dims = source.Shape.ToArray();
        dims[0] = count;
        return Copy(source, start, count, dims);
    }

    /// <summary>Row <paramref name="index"/> without its axis: shape[1..] (a copy).</summary>
    public static Tensor Row(Tensor source, int index) => Copy(source, index, 1, source.Shape.ToArray()[1..]);

    private static Tensor Copy(Tensor source, int start, int count, int[] dims)
    {
        var rowSize = RowSize(source.Shape);
        var data = source.DType.NewArray(count * rowSize);
        Array.Copy(source.Data, start * rowSize, data, 0, count * rowSize);
        return new Tensor(data, new Shape(dims), source.DType);
    }

    /// <summary>The given rows, in order, as a tensor of shape [rows.Length, ...] (one copy per row).</summary>
    public static Tensor Gather(Tensor source, ReadOnlySpan<int> rows)
    {
        var rowSize = RowSize(source.Shape);
        var data = source.DType.NewArray(rows.Length * rowSize);
        for (var r = 0; r < rows.Length; r++) Array.Copy(source.Data, rows[r] * rowSize, data, r * rowSize, rowSize);
        var dims = source.Shape.ToArray();
        dims[0] = rows.Length;
        return new Tensor(data, new Shape(dims), source.DType);
    }

    /// <summary>Copies rows [start, start + count) of <paramref name="source"/> to the front of <paramref name="destination"/> (an array of the source's element type).</summary>
    public static void CopyInto(Tensor source, int start, int count, Array destination)
    {
        var rowSize = RowSize(source.Shape);
        Array.Copy(source.Data, start * rowSize, destination, 0, count * rowSize);
    }

    /// <summary>Copies rows <paramref name="rowOffset"/> + rows[r], in order, to the front of <paramref name="destination"/> (an array of the source's element type).</summary>
    public static void GatherInto(Tensor source, ReadOnlySpan<int> rows, int rowOffset, Array destination)
    {
        var rowSize = RowSize(source.Shape);
        for (var r = 0; r < rows.Length; r++) Array.Copy(source.Data, (rowOffset + rows[r]) * rowSize, destination, r * rowSize, rowSize);
    }

    /// <summary>Joins tensors of equal row shape along axis 0 (one copy each); a single part is returned as is.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        if (parts.Count == 1) return parts[0];
        var first = parts[0];
        var rows = parts.Sum(p => p.Shape[0]);
        var data = first.DType.NewArray(rows * RowSize(first.Shape));
        var offset = 0;
        foreach (var p in parts)
        {
            Array.Copy(p.Data, 0, data, offset, p.Size);
            offset += p.Size;
        }
        var dims = first.Shape.ToArray();
        dims[0] = rows;
        return new Tensor(data, new Shape(dims), first.DType);
    }

    /// <summary>
    /// Stacks same-shaped, same-dtype tensors along a new axis 0, as tf.stack.
    /// </summary>
    /// <exception cref="ShapeException">Two tensors differ in shape or dtype; names the component and both.</exception>
    public static Tensor Stack(IReadOnlyList<Tensor> items, int component)
    {
        var first = items[0];
        for (var i = 1; i < items.Count; i++)
        {
            if (!items[i].Shape.Equals(first.Shape) || items[i].DType != first.DType)
                throw new ShapeException(
                    $"Batch: cannot stack tensors with different shapes or dtypes in component {component}: element 0 is {first.Shape} {first.DType.Name()}, element {i} is {items[i].Shape} {items[i].DType.Name()}");
        }
        var size = first.Size;
        var data = first.DType.NewArray(items.Count * size);
        for (var i = 0; i < items.Count; i++) Array.Copy(items[i].Data, 0, data, i * size, size);
        var dims = new int[first.Rank + 1];
        dims[0] = items.Count;
        first.Shape.Span.CopyTo(dims.AsSpan(1));
        return new Tensor(data, new Shape(dims), first.DType);
    }
}
