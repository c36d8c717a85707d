namespace Nabla;

public sealed partial class Graph
{
    /// <summary>Joins <paramref name="values"/> along an existing axis (tf.concat): same rank and dtype, equal sizes on every other axis.</summary>
    /// <exception cref="ShapeException">No values, ranks, dtypes or other axes differ, or the axis is out of range.</exception>
    public Output Concat(Output[] values, int axis, string? name = null) => Add1("Concat", (Output[])values.Clone(), new Attributes().Set("axis", axis), name);

    /// <summary>Cuts x into <paramref name="numSplit"/> equal pieces along <paramref name="axis"/> (tf.split with a count).</summary>
    /// <exception cref="ShapeException">The axis size is not divisible by <paramref name="numSplit"/> (checked again when the plan runs if it is unknown).</exception>
    public Output[] Split(Output x, int numSplit, int axis = 0, string? name = null) =>
        AddOp("Split", [x], new Attributes().Set("num_split", numSplit).Set("axis", axis), name).Outputs;

    /// <summary>Cuts x into pieces of the given sizes along <paramref name="axis"/>; one size may be −1 (the rest).</summary>
    /// <exception cref="ShapeException">Sizes are negative, more than one is −1, or they do not add up to the axis size.</exception>
    public Output[] Split(Output x, int[] sizes, int axis = 0, string? name = null) =>
        AddOp("Split", [x], new Attributes().Set("sizes", (int[])sizes.Clone()).Set("axis", axis), name).Outputs;

    /// <summary>Joins equally shaped values along a new axis (tf.stack): rank r inputs give a rank r + 1 output; <paramref name="axis"/> ∈ [−(r+1), r].</summary>
    /// <remarks>A composite: each value gets a size-1 axis (ExpandDims), then one Concat joins them.</remarks>
    public Output Stack(Output[] values, int axis = 0, string? name = null)
    {
        var node = name ?? "stack";
        if (values.Length == 0) throw new ShapeException($"Stack '{node}': needs at least one value");
        var first = values[0];
        var rank = first.Shape.Rank;
        if (axis < -(rank + 1) || axis > rank) throw new ShapeException($"Stack '{node}': axis {axis} is out of range for stacking rank-{rank} values (valid: {-(rank + 1)}..{rank})");
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i].DType != first.DType || !values[i].Shape.IsCompatibleWith(first.Shape))
                throw new ShapeException($"Stack '{node}': value {i} is {values[i].DType.Name()} {values[i].Shape}, value 0 is {first.DType.Name()} {first.Shape}; all must match");
        }
        using (NameScope(node))
            return Concat(values.Select(v => ExpandDims(v, axis)).ToArray(), axis);
    }

    /// <summary>Splits x along <paramref name="axis"/> into its x.Shape[axis] slices, each without that axis (tf.unstack).</summary>
    /// <remarks>A composite of Split and Squeeze. The size of the axis must be known when the graph is built: it is the number of outputs.</remarks>
    public Output[] Unstack(Output x, int axis = 0, string? name = null)
    {
        var node = name ?? "unstack";
        var s = x.Shape;
        if (s.Rank == 0) throw new ShapeException($"Unstack '{node}': cannot unstack the scalar '{x.Name}'");
        var a = s.NormalizeAxis(axis);
        if (a < 0) throw new ShapeException($"Unstack '{node}': axis {axis} is out of range for {s} (valid: {-s.Rank}..{s.Rank - 1})");
        if (s[a] < 0) throw new ShapeException($"Unstack '{node}': axis {a} of {s} is unknown, but the number of outputs must be known when the graph is built");
        if (s[a] == 0) return [];
        using (NameScope(node))
            return Split(x, s[a], a).Select(p => Squeeze(p, [a])).ToArray();
    }

    /// <summary>x[begin : begin + size] on every axis (tf.slice); a size of −1 takes everything to the end of that axis.</summary>
    /// <exception cref="ShapeException">begin/size have the wrong length, are negative, or the box does not fit.</exception>
    public Output Slice(Output x, int[] begin, int[] size, string? name = null) =>
        Add1("Slice", [x], new Attributes().Set("begin", (int[])begin.Clone()).Set("size", (int[])size.Clone()), name);

    /// <summary>Pads with <paramref name="constantValue"/>: paddings[k, 0] before and paddings[k, 1] after axis k (tf.pad, constant mode).</summary>
    /// <exception cref="ShapeException">paddings is not [rank, 2] or has a negative entry.</exception>
    public Output Pad(Output x, int[,] paddings, double constantValue = 0, string? name = null) =>
        Add1("Pad", [x], new Attributes().Set("paddings", (int[,])paddings.Clone()).Set("value", constantValue), name);

    /// <summary>Repeats x <paramref name="multiples"/>[k] times along each axis k (tf.tile).</summary>
    public Output Tile(Output x, int[] multiples, string? name = null) =>
        Add1("Tile", [x], new Attributes().Set("multiples", (int[])multiples.Clone()), name);

    /// <summary>Broadcasts x to the fully known <paramref name="shape"/> by NumPy rules (tf.broadcast_to); the result is exactly that shape.</summary>
    public Output BroadcastTo(Output x, Shape shape, string? name = null) =>
        Add1("BroadcastTo", [x], new Attributes().Set("shape", shape), name);

    /// <summary>
    /// Rows of <paramref name="params"/> picked along <paramref name="axis"/> (tf.gather): the output shape is
    /// params[:axis] + indices.shape + params[axis+1:]. Differentiable with respect to params only.
    /// </summary>
    /// <exception cref="InvalidArgumentException">At run time, an index is negative or ≥ params.Shape[axis]; fed and constant indices are checked before any kernel of the step runs.</exception>
    public Output Gather(Output @params, Output indices, int axis = 0, string? name = null) =>
        Add1("Gather", [@params, indices], new Attributes().Set("axis", axis), name);

    /// <summary>
    /// One-hot rows (tf.one_hot, last axis): output[..., j] = <paramref name="on"/> where indices[...] == j, else
    /// <paramref name="off"/>; shape indices.shape + [depth]. An index outside [0, depth) gives a row of all
    /// <paramref name="off"/>, as in TensorFlow. Not differentiable with respect to the (integer) indices.
    /// </summary>
    /// <remarks>A composite: Equal(indices[..., newaxis], 0..depth−1) selects between two scalars.</remarks>
    public Output OneHot(Output indices, int depth, double on = 1, double off = 0, DType dtype = DType.Float32, string? name = null)
    {
        var node = name ?? "one_hot";
        if (!indices.DType.IsInteger()) throw new ShapeException($"OneHot '{node}': indices must be int32 or int64, got {indices.DType.Name()} {indices.Shape}");
        if (depth < 0) throw new ShapeException($"OneHot '{node}': depth must be ≥ 0, got {depth}");
        using (NameScope(node))
        {
            var positions = Constant(Tensor.Range(0, depth, 1, indices.DType), "depth_range");
            return Select(Equal(ExpandDims(indices, -1), positions), Scalar(on, dtype, "on_value"), Scalar(off, dtype, "off_value"));
        }
    }

    /// <summary>x cut along <paramref name="axis"/> into pieces as long as each of <paramref name="likes"/> is along that axis at run time.</summary>
    internal Output[] SplitLike(Output x, Output[] likes, int axis, string? name = null) =>
        AddOp("SplitLike", [x, .. likes], new Attributes().Set("axis", axis), name).Outputs;

    /// <summary>Zeros shaped like <paramref name="like"/> with <paramref name="x"/> written at <paramref name="begin"/> (the gradient of a slice).</summary>
    internal Output PadLike(Output x, Output like, int[] begin, string? name = null) =>
        Add1("PadLike", [x, like], new Attributes().Set("begin", (int[])begin.Clone()), name);

    /// <summary>The window of <paramref name="x"/> at <paramref name="begin"/> shaped like <paramref name="like"/> (the gradient of a pad).</summary>
    internal Output SliceLike(Output x, Output like, int[] begin, string? name = null) =>
        Add1("SliceLike", [x, like], new Attributes().Set("begin", (int[])begin.Clone()), name);

    /// <summary>Sums the tiles of <paramref name="dy"/> back onto x's shape (the gradient of a tile).</summary>
    internal Output TileGrad(Output dy, Output x, int[] multiples, string? name = null) =>
        Add1("TileGrad", [dy, x], new Attributes().Set("multiples", (int[])multiples.Clone()), name);

    /// <summary>Zeros shaped like <paramref name="params"/> with dy's rows added at the gathered indices (the gradient of a gather).</summary>
    internal Output GatherGrad(Output dy, Output indices, Output @params, int axis, string? name = null) =>
        Add1("GatherGrad", [dy, indices, @params], new Attributes().Set("axis", axis), name);
}
