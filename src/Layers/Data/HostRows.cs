namespace Nabla.Data;

/// <summary>Row (axis-0) slicing, gathering and joining of host tensors with block copies; used to form batches.</summary>
internal static class HostRows
{
    /// <summary>Rows [start, start + count).</summary>
    public static Tensor Slice(Tensor t, int start, int count)
    {
        var (rowElems, elemSize) = Layout(t);
        var dst = t.DType.NewArray(count * rowElems);
        Buffer.BlockCopy(t.Data, start * rowElems * elemSize, dst, 0, count * rowElems * elemSize);
        return new Tensor(dst, RowShape(t.Shape, count), t.DType);
    }

    /// <summary>Rows order[start], …, order[start + count − 1].</summary>
    public static Tensor Gather(Tensor t, int[] order, int start, int count)
    {
        var (rowElems, elemSize) = Layout(t);
        var dst = t.DType.NewArray(count * rowElems);
        var rowBytes = rowElems * elemSize;
        for (var i = 0; i < count; i++)
            Buffer.BlockCopy(t.Data, order[start + i] * rowBytes, dst, i * rowBytes, rowBytes);
        return new Tensor(dst, RowShape(t.Shape, count), t.DType);
    }

    /// <summary>Joins tensors of equal inner shape along axis 0.</summary>
    public static Tensor Concat(IReadOnlyList<Tensor> parts)
    {
        if (parts.Count == 1) return parts[0];
        var first = parts[0];
        var rows = parts.Sum(p => p.Shape[0]);
        var (rowElems, elemSize) = Layout(first);
        var dst = first.DType.NewArray(rows * rowElems);
        var offset = 0;
        foreach (var p in parts)
        {
            var bytes = p.Size * elemSize;
            Buffer.BlockCopy(p.Data, 0, dst, offset, bytes);
            offset += bytes;
        }
        return new Tensor(dst, RowShape(first.Shape, rows), first.DType);
    }

    private static (int RowElems, int ElemSize) Layout(Tensor t)
    {
        if (t.Rank == 0) throw new ArgumentException($"a {t.DType.Name()} scalar has no rows to slice");
        var rowElems = 1;
        for (var i = 1; i < t.Rank; i++) rowElems *= t.Shape[i];
        return (rowElems, t.DType.SizeOf());
    }

    private static Shape RowShape(Shape s, int rows) => new([rows, .. s.Skip(1)]);
}
