namespace Nabla.Onnx;

internal static partial class ImportRules
{
    private static Output Reshape(OnnxNode n)
    {
        var x = n.Input(0);
        var target = Ints(n, n.ConstInts(1, "shape")!);
        var allowZero = n.Int("allowzero", 0) != 0;
        var s = x.Shape;
        var copied = new bool[target.Length];
        for (var i = 0; i < target.Length; i++)
            if (target[i] == 0 && !allowZero)
            {
                if (i >= s.Rank) throw n.Fail($"shape entry {i} copies a dimension the input {s} does not have");
                target[i] = s[i];
                copied[i] = true;
            }
        // Copying an unknown dimension (the batch) leaves two −1s when the shape also has one; solve the explicit −1
        // from the known dimensions when the unknown ones are exactly those copied.
        var unknown = target.Count(d => d == -1);
        if (unknown > 1)
        {
            var explicitWild = Enumerable.Range(0, target.Length).Where(i => target[i] == -1 && !copied[i]).ToArray();
            var unknownInput = Enumerable.Range(0, s.Rank).Where(i => s[i] < 0).ToArray();
            if (explicitWild.Length != 1 || !unknownInput.All(i => i < copied.Length && copied[i]))
                throw n.Fail($"cannot resolve shape [{string.Join(",", target)}] for input {s} at import time");
            long known = 1, rest = 1;
            for (var i = 0; i < s.Rank; i++) if (s[i] >= 0 && !(i < copied.Length && copied[i])) known *= s[i];
            for (var i = 0; i < target.Length; i++) if (target[i] >= 0 && !copied[i]) rest *= target[i];
            if (rest == 0 || known % rest != 0) throw n.Fail($"cannot reshape {s} to [{string.Join(",", target)}]");
            target[explicitWild[0]] = (int)(known / rest);
        }
        return n.G.Reshape(x, target);
    }

    private static Output Flatten(OnnxNode n)
    {
        var x = n.Input(0);
        var s = x.Shape;
        var axis = (int)n.Int("axis", 1);
        if (axis < 0) axis += s.Rank;
        if (axis < 0 || axis > s.Rank) throw n.Fail($"axis {n.Int("axis", 1)} is out of range for input {s}");
        long outer = 1, inner = 1;
        for (var i = 0; i < s.Rank; i++)
        {
            if (s[i] < 0) { if (i < axis) outer = -1; else inner = -1; continue; }
            if (i < axis) outer = outer < 0 ? -1 : outer * s[i];
            else inner = inner < 0 ? -1 : inner * s[i];
        }
        if (outer < 0 && inner < 0) throw n.Fail($"cannot flatten {s} at axis {axis}: unknown dimensions on both sides");
        return n.G.Reshape(x, [(int)outer, (int)inner]);
    }

    private static Output Transpose(OnnxNode n)
    {
        var x = n.Input(0);
        var perm = n.Ints("perm") is { } p ? Ints(n, p) : Enumerable.Range(0, x.Shape.Rank).Reverse().ToArray();
        return n.G.Transpose(x, perm);
    }

    private static Output[] Split(OnnxNode n)
    {
        var x = n.Input(0);
        var axis = (int)n.Int("axis", 0);
        var sizes = n.Opset >= 13 ? n.ConstInts(1, "split") : n.Ints("split");
        if (n.Has("num_outputs")) n.Int("num_outputs", 0);
        if (sizes is not null) return n.G.Split(x, Ints(n, sizes), axis);
        return n.G.Split(x, n.Proto.Output.Count, axis);
    }

    private static long[] Axes(OnnxNode n, int inputIndex, int fromOpset) =>
        (n.Opset >= fromOpset ? n.ConstInts(inputIndex, "axes") : n.Ints("axes")) ?? [];

    private static Output Unsqueeze(OnnxNode n)
    {
        var x = n.Input(0);
        var axes = Axes(n, 1, 13);
        if (axes.Length == 0) throw n.Fail("axes are required");
        var rank = x.Shape.Rank + axes.Length;
        foreach (var a in axes.Select(a => a < 0 ? a + rank : a).Order())
            x = n.G.ExpandDims(x, (int)a);
        return x;
    }

    private static Output Squeeze(OnnxNode n)
    {
        var x = n.Input(0);
        var axes = Axes(n, 1, 13);
        return axes.Length == 0 ? n.G.Squeeze(x) : n.G.Squeeze(x, axes.Select(a => (int)(a < 0 ? a + x.Shape.Rank : a)).ToArray());
    }

    /// <summary>
    /// Shape: a constant when the input's shape is fully known; otherwise a run-time shape, which Nabla has no tensor
    /// for, so only ConstantOfShape (→ ZerosLike/OnesLike) and Expand (→ BroadcastLike) may consume it.
    /// </summary>
    private static Output[] ShapeOf(OnnxNode n)
    {
        var x = n.Input(0);
        if (n.Has("start") || n.Has("end")) throw n.Fail("the start and end attributes are not supported");
        if (x.Shape.IsFullyDefined)
        {
            var t = Tensor.FromArray(x.Shape.Select(d => (long)d).ToArray(), x.Shape.Rank);
            n.Importer.RecordConstant(n.Proto.Output[0], t);
            return [n.G.Constant(t)];
        }
        n.Importer.RecordShapeOf(n.Proto.Output[0], x);
        return [x];
    }

    private static Output Expand(OnnxNode n)
    {
        var x = n.Input(0);
        if (n.Importer.ShapeSource(n.Proto.Input[1]) is { } like) return n.G.BroadcastLike(x, like);
        var shape = Ints(n, n.ConstInts(1, "shape")!);
        // ONNX Expand broadcasts both ways (a 1 in the shape keeps x's size): resolve the target first.
        var rank = Math.Max(shape.Length, x.Shape.Rank);
        var target = new int[rank];
        for (var i = 0; i < rank; i++)
        {
            var a = i - (rank - shape.Length) is var ia && ia >= 0 ? shape[ia] : 1;
            var b = i - (rank - x.Shape.Rank) is var ib && ib >= 0 ? x.Shape[ib] : 1;
            target[i] = a == 1 ? b : a;
        }
        if (target.Any(d => d < 0)) return n.G.Mul(x, n.G.Constant(Tensor.Fill(new Shape(shape.Select(d => Math.Max(d, 1)).ToArray()), 1, x.DType)));
        return n.G.BroadcastTo(x, new Shape(target));
    }

    private static Output Slice(OnnxNode n)
    {
        var x = n.Input(0);
        var s = x.Shape;
        long[] starts, ends, axes;
        if (n.Opset < 10)
            (starts, ends, axes) = (n.Ints("starts") ?? throw n.Fail("starts are required"), n.Ints("ends") ?? throw n.Fail("ends are required"), n.Ints("axes") ?? []);
        else
        {
            (starts, ends, axes) = (n.ConstInts(1, "starts") ?? throw n.Fail("starts are required"), n.ConstInts(2, "ends") ?? throw n.Fail("ends are required"),
                n.ConstInts(3, "axes") ?? []);
            if (n.ConstInts(4, "steps") is { } steps && steps.Any(v => v != 1)) throw n.Fail($"steps [{string.Join(",", steps)}] are not supported (only 1)");
        }
        if (axes.Length == 0) axes = Enumerable.Range(0, starts.Length).Select(a => (long)a).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length)
            throw n.Fail($"starts, ends and axes must have one value per sliced axis, got {starts.Length}, {ends.Length} and {axes.Length}");
        var begin = new int[s.Rank];
        var size = Enumerable.Repeat(-1, s.Rank).ToArray();
        for (var k = 0; k < axes.Length; k++)
        {
            var a = (int)(axes[k] < 0 ? axes[k] + s.Rank : axes[k]);
            if (a < 0 || a >= s.Rank) throw n.Fail($"axis {axes[k]} is out of range for input {s}");
            var dim = s[a];
            long b = starts[k], e = ends[k];
            if (dim < 0)
            {
                if (b < 0 || e < b) throw n.Fail($"bounds [{b}, {e}) on axis {a} of unknown size need 0 ≤ start ≤ end (input {s})");
                begin[a] = (int)b;
                size[a] = e >= int.MaxValue ? -1 : (int)(e - b);
                continue;
            }
            if (b < 0) b += dim;
            if (e < 0) e += dim;
            b = Math.Clamp(b, 0, dim);
            e = Math.Clamp(e, 0, dim);
            begin[a] = (int)b;
            size[a] = (int)Math.Max(e - b, 0);
        }
        return n.G.Slice(x, begin, size);
    }

    private static Output Pad(OnnxNode n)
    {
        var x = n.Input(0);
        var mode = n.String("mode", "constant");
        if (mode != "constant") throw n.Fail($"mode '{mode}' is not supported (only constant)");
        long[] pads;
        double value;
        if (n.Opset < 11) (pads, value) = (n.Ints("pads") ?? throw n.Fail("pads are required"), n.Float("value", 0));
        else
        {
            pads = n.ConstInts(1, "pads")!;
            value = n.ConstInput(2, "constant_value")?.ToDoubleArray()[0] ?? 0;
            if (n.HasInput(3)) throw n.Fail("the axes input is not supported");
        }
        var rank = x.Shape.Rank;
        if (pads.Length != 2 * rank) throw n.Fail($"pads [{string.Join(",", pads)}] must have 2 × rank {rank} entries");
        if (pads.Any(p => p < 0)) throw n.Fail($"negative pads [{string.Join(",", pads)}] are not supported");
        var p = new int[rank, 2];
        for (var i = 0; i < rank; i++) (p[i, 0], p[i, 1]) = ((int)pads[i], (int)pads[rank + i]);
        return n.G.Pad(x, p, value);
    }

    private static Output Constant(OnnxNode n)
    {
        Tensor t;
        if (n.TensorAttr("value") is { } tp) t = OnnxTypes.FromProto(tp, n.Context);
        else if (n.Has("value_float")) t = Tensor.Scalar(n.Float("value_float", 0));
        else if (n.Has("value_int")) t = Tensor.Scalar(n.Int("value_int", 0));
        else if (n.Ints("value_ints") is { } ints) t = Tensor.FromArray(ints, ints.Length);
        else throw n.Fail("only the value, value_float, value_int and value_ints forms are supported");
        if (t.DType.IsFloating()) t = OnnxImporter.Convert(t, n.Importer.FloatType);
        n.Importer.RecordConstant(n.Proto.Output[0], t);
        return n.G.Constant(t);
    }

    private static Output ConstantOfShape(OnnxNode n)
    {
        var value = n.TensorAttr("value") is { } tp ? OnnxTypes.FromProto(tp, n.Context) : Tensor.Fill(new Shape(1), 0, DType.Float32);
        var dtype = value.DType.IsFloating() ? n.Importer.FloatType : value.DType;
        if (n.Importer.ShapeSource(n.Proto.Input[0]) is { } like)
        {
            var fill = value.ToDoubleArray()[0];
            var basis = like.DType == dtype ? like : n.G.Cast(like, dtype);
            return fill == 0 ? n.G.ZerosLike(basis) : fill == 1 ? n.G.OnesLike(basis) : n.G.OnesLike(basis) * fill;
        }
        var shape = Ints(n, n.ConstInts(0, "shape")!);
        var t = Tensor.Fill(new Shape(shape), value.ToDoubleArray()[0], dtype);
        n.Importer.RecordConstant(n.Proto.Output[0], t);
        return n.G.Constant(t);
    }

    private static Output Reduce(OnnxNode n)
    {
        var x = n.Input(0);
        var keep = n.Int("keepdims", 1) != 0;
        // ReduceSum's axes became an input in opset 13, the other reductions' in opset 18.
        var axes = Axes(n, 1, n.OpType == "ReduceSum" ? 13 : 18);
        if (axes.Length == 0 && n.Int("noop_with_empty_axes", 0) != 0) return n.G.Identity(x);
        int[]? a = axes.Length == 0 ? null : axes.Select(v => (int)(v < 0 ? v + x.Shape.Rank : v)).ToArray();
        if (a is null && keep) a = Enumerable.Range(0, x.Shape.Rank).ToArray();
        return n.OpType switch
        {
            "ReduceSum" => n.G.ReduceSum(x, a, keep),
            "ReduceMean" => n.G.ReduceMean(x, a, keep),
            "ReduceMax" => n.G.ReduceMax(x, a, keep),
            "ReduceMin" => n.G.ReduceMin(x, a, keep),
            _ => n.G.ReduceProd(x, a, keep),
        };
    }

    private static Output ArgReduce(OnnxNode n)
    {
        var x = n.Input(0);
        var axis = (int)n.Int("axis", 0);
        if (n.Int("select_last_index", 0) != 0) throw n.Fail("select_last_index = 1 is not supported");
        var y = n.OpType == "ArgMax" ? n.G.ArgMax(x, axis) : n.G.ArgMin(x, axis);
        return n.Int("keepdims", 1) != 0 ? n.G.ExpandDims(y, axis < 0 ? axis + x.Shape.Rank : axis) : y;
    }
}
