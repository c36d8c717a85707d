using static Nabla.Onnx.OnnxWriter;

namespace Nabla.Onnx;

/// <summary>
/// The recurrent ops (SimpleRNN, LSTM, GRU with Keras's layouts). Without a mask a layer becomes one ONNX <c>RNN</c>,
/// <c>LSTM</c> or <c>GRU</c> node (time-major, between transposes); with a mask it is unrolled into standard
/// element-wise and MatMul nodes, because Keras's masking (skip any step, carry the states through it) has no
/// ONNX equivalent: <c>sequence_lens</c> only cuts a sequence's tail, and pre-padded (Keras's default) or interior
/// masks would give different results.
/// </summary>
/// <remarks>
/// <para>Weights: Keras's kernel [I, kU] becomes ONNX's W [1, kU, I] and the recurrent kernel R [1, kU, U]; LSTM's
/// gate blocks go from Keras's i, f, c, o to ONNX's i, o, f, c (GRU's z, r, h are the same in both). ONNX's bias is
/// [W-bias, R-bias]; Keras's single bias goes to the first half, and a reset_after GRU's [2, 3U] bias is exactly the
/// two halves, with <c>linear_before_reset = 1</c> (the same formula).</para>
/// <para>go_backwards is <c>direction = "reverse"</c>. ONNX aligns a reverse direction's outputs with the input
/// steps, Keras returns them in processing order, so the sequence output is reversed back (a Gather over the known
/// number of steps).</para>
/// </remarks>
internal static partial class ExportRules
{
    /// <summary>ONNX's LSTM block j is Keras's block s_lstmBlocks[j] (ONNX i, o, f, c; Keras i, f, c, o).</summary>
    private static readonly int[] s_lstmBlocks = [0, 3, 1, 2];

    private static void Recurrent(OnnxWriter w, Operation op)
    {
        var lstm = op.Type == "LSTM";
        var gru = op.Type == "GRU";
        var k = lstm ? 3 : 2;
        Output x = op.Inputs[0], kernel = op.Inputs[k], recurrent = op.Inputs[k + 1], bias = op.Inputs[k + 2];
        var units = recurrent.Shape[0];
        var resetAfter = gru && op.Attrs.Bool("reset_after");
        if (op.Attrs.Bool("masked"))
        {
            UnrolledRecurrent(w, op, units, resetAfter);
            return;
        }
        var goBackwards = op.Attrs.Bool("go_backwards");
        int[]? blocks = lstm ? s_lstmBlocks : null;
        var xt = w.Node("Transpose", [w.Value(x)], Ints("perm", 1, 0, 2));
        string[] inputs =
        [
            xt, OnnxWeight(w, kernel, blocks, units), OnnxWeight(w, recurrent, blocks, units), OnnxBias(w, bias, blocks, units, resetAfter), "",
            w.Node("Unsqueeze", [w.Value(op.Inputs[1]), w.Int64s("axes", 0)]),
            .. lstm ? new[] { w.Node("Unsqueeze", [w.Value(op.Inputs[2]), w.Int64s("axes", 0)]) } : [],
        ];
        List<Proto.AttributeProto> attrs = [Int("hidden_size", units), String("direction", goBackwards ? "reverse" : "forward")];
        if (gru) attrs.Add(Int("linear_before_reset", resetAfter ? 1 : 0));
        var outs = w.NodeMulti(op.Type == "SimpleRNN" ? "RNN" : op.Type, inputs, lstm ? 3 : 2, [.. attrs]);
        var y = w.Node("Squeeze", [outs[0], w.Int64s("axes", 1)]); // [T, B, U]
        var steps = x.Shape[1];
        if (goBackwards && steps < 0)
            w.Unavailable(0, "go_backwards returns its sequence in processing order, and reversing ONNX's step-aligned output needs the number of steps at export time");
        else
        {
            if (goBackwards) y = w.Node("Gather", [y, w.Int64s("reverse", Enumerable.Range(0, steps).Reverse().Select(t => (long)t).ToArray())], Int("axis", 0));
            w.Bind(0, w.Node("Transpose", [y], Ints("perm", 1, 0, 2)));
        }
        w.Bind(1, w.Node("Squeeze", [outs[1], w.Int64s("axes", 0)]));
        if (lstm) w.Bind(2, w.Node("Squeeze", [outs[2], w.Int64s("axes", 0)]));
        SavedOutputsUnavailable(w, op, lstm ? 3 : 2);
    }

    /// <summary>The node's outputs from <paramref name="first"/> on are the tensors its gradient reads: using them fails, naming the layer.</summary>
    private static void SavedOutputsUnavailable(OnnxWriter w, Operation op, int first)
    {
        for (var i = first; i < op.NumOutputs; i++)
            w.Unavailable(i, "it is a tensor saved for back-propagation, not an inference output");
    }

    /// <summary>Rows of ONNX's gate-major layout: row j·U + u comes from Keras's column blocks[j]·U + u.</summary>
    private static long[] GateRows(int[]? blocks, int units, int gates) =>
        Enumerable.Range(0, gates * units).Select(r => (long)((blocks is null ? r / units : blocks[r / units]) * units + r % units)).ToArray();

    /// <summary>A Keras [rows, kU] weight as ONNX's [1, kU, rows] with the gate blocks reordered.</summary>
    private static string OnnxWeight(OnnxWriter w, Output weight, int[]? blocks, int units)
    {
        var (rows, cols) = (weight.Shape[0], weight.Shape[1]);
        var order = GateRows(blocks, units, cols / units);
        if (IsConstant(weight))
            return w.Derived(weight, "onnx", t =>
            {
                var v = t.ToDoubleArray();
                var o = new double[v.Length];
                for (var r = 0; r < cols; r++)
                    for (var c = 0; c < rows; c++)
                        o[r * rows + c] = v[c * cols + order[r]];
                return OnnxImporter.Convert(new Tensor(o, new Shape(1, cols, rows), DType.Float64), t.DType);
            });
        var transposed = w.Node("Transpose", [w.Value(weight)], Ints("perm", 1, 0));
        if (blocks is not null) transposed = w.Node("Gather", [transposed, w.Int64s("gate_order", order)], Int("axis", 0));
        return w.Node("Unsqueeze", [transposed, w.Int64s("axes", 0)]);
    }

    /// <summary>ONNX's [1, 2kU] bias: [Keras's bias reordered, zeros], or a reset_after GRU's two rows as they are.</summary>
    private static string OnnxBias(OnnxWriter w, Output bias, int[]? blocks, int units, bool resetAfter)
    {
        var width = resetAfter ? bias.Shape[1] : bias.Shape[0];
        var order = GateRows(blocks, units, width / units);
        if (IsConstant(bias))
            return w.Derived(bias, "onnx", t =>
            {
                var v = t.ToDoubleArray();
                var o = new double[2 * width];
                if (resetAfter) v.CopyTo(o, 0);
                else
                    for (var r = 0; r < width; r++) o[r] = v[order[r]];
                return OnnxImporter.Convert(new Tensor(o, new Shape(1, 2 * width), DType.Float64), t.DType);
            });
        var b = w.Value(bias);
        if (resetAfter) return w.Node("Reshape", [b, w.Int64s("shape", 1, 2 * width)]);
        if (blocks is not null) b = w.Node("Gather", [b, w.Int64s("gate_order", order)], Int("axis", 0));
        var zeros = w.Initializer("zero_recurrent_bias", Tensor.Fill(new Shape(width), 0, bias.DType));
        return w.Node("Unsqueeze", [w.Node("Concat", [b, zeros], Int("axis", 0)), w.Int64s("axes", 0)]);
    }

    /// <summary>
    /// A masked recurrence as one MatMul for every step's input part, then per step (in processing order) the cell's
    /// formula and Where nodes that keep the states and zero the output at masked steps: Keras's semantics exactly,
    /// for any mask. The number of steps must be known.
    /// </summary>
    private static void UnrolledRecurrent(OnnxWriter w, Operation op, int units, bool resetAfter)
    {
        var lstm = op.Type == "LSTM";
        var k = lstm ? 3 : 2;
        Output x = op.Inputs[0], kernel = op.Inputs[k], recurrent = op.Inputs[k + 1], bias = op.Inputs[k + 2], mask = op.Inputs[k + 3];
        var steps = x.Shape[1];
        if (steps < 0) throw Unsupported(op, $"a masked recurrence is unrolled, which needs the number of steps at export time, got x {x.Shape}");
        var dt = x.DType;
        // The input part of every step at once: x·W + b (a reset_after GRU: the input row of the bias).
        var inputBias = resetAfter ? w.Node("Gather", [w.Value(bias), w.Int64s("row", 0)], Int("axis", 0)) : w.Value(bias);
        var xw = w.Node("Add", [w.Node("MatMul", [w.Value(x), w.Value(kernel)]), inputBias]);
        var xs = w.NodeMulti("Split", [xw, w.Int64s("split", Enumerable.Repeat(1L, steps).ToArray())], steps, Int("axis", 1));
        var keep = w.Node("Not", [w.Node("Equal", [w.Value(mask), w.Scalar("zero", 0, dt)])]);
        var keeps = w.NodeMulti("Split", [keep, w.Int64s("split", Enumerable.Repeat(1L, steps).ToArray())], steps, Int("axis", 1));
        var zero = w.Scalar("zero_output", 0, dt);
        var one = op.Type == "GRU" ? w.Scalar("one", 1, dt) : "";
        var rec = w.Value(recurrent);
        var recBias = resetAfter ? w.Node("Gather", [w.Value(bias), w.Int64s("row", 1)], Int("axis", 0)) : null;
        // A GRU without reset_after multiplies r⊙h by R_h: the recurrent kernel split into its z, r and h columns.
        var recParts = op.Type == "GRU" && !resetAfter ? w.NodeMulti("Split", [rec, w.Int64s("split", 2L * units, units)], 2, Int("axis", 1)) : null;
        string h = w.Value(op.Inputs[1]), c = lstm ? w.Value(op.Inputs[2]) : "";
        var ys = new string[steps];
        var backwards = op.Attrs.Bool("go_backwards");
        for (var s = 0; s < steps; s++)
        {
            var t = backwards ? steps - 1 - s : s;
            var xt = w.Node("Squeeze", [xs[t], w.Int64s("axes", 1)]);
            string hNew, cNew = "";
            switch (op.Type)
            {
                case "SimpleRNN":
                    hNew = w.Node("Tanh", [w.Node("Add", [xt, w.Node("MatMul", [h, rec])])]);
                    break;
                case "LSTM":
                    var z = w.NodeMulti("Split", [w.Node("Add", [xt, w.Node("MatMul", [h, rec])]), w.Int64s("split", units, units, units, units)], 4, Int("axis", 1));
                    string i = w.Node("Sigmoid", [z[0]]), f = w.Node("Sigmoid", [z[1]]), g = w.Node("Tanh", [z[2]]), o = w.Node("Sigmoid", [z[3]]);
                    cNew = w.Node("Add", [w.Node("Mul", [f, c]), w.Node("Mul", [i, g])]);
                    hNew = w.Node("Mul", [o, w.Node("Tanh", [cNew])]);
                    break;
                default:
                    var xg = w.NodeMulti("Split", [xt, w.Int64s("split", units, units, units)], 3, Int("axis", 1));
                    string update, reset, candidate;
                    if (resetAfter)
                    {
                        var hg = w.NodeMulti("Split", [w.Node("Add", [w.Node("MatMul", [h, rec]), recBias!]), w.Int64s("split", units, units, units)], 3, Int("axis", 1));
                        update = w.Node("Sigmoid", [w.Node("Add", [xg[0], hg[0]])]);
                        reset = w.Node("Sigmoid", [w.Node("Add", [xg[1], hg[1]])]);
                        candidate = w.Node("Tanh", [w.Node("Add", [xg[2], w.Node("Mul", [reset, hg[2]])])]);
                    }
                    else
                    {
                        var hg = w.NodeMulti("Split", [w.Node("MatMul", [h, recParts![0]]), w.Int64s("split", units, units)], 2, Int("axis", 1));
                        update = w.Node("Sigmoid", [w.Node("Add", [xg[0], hg[0]])]);
                        reset = w.Node("Sigmoid", [w.Node("Add", [xg[1], hg[1]])]);
                        candidate = w.Node("Tanh", [w.Node("Add", [xg[2], w.Node("MatMul", [w.Node("Mul", [reset, h]), recParts![1]])])]);
                    }
                    // h = z⊙h₋₁ + (1 − z)⊙ĥ
                    hNew = w.Node("Add", [w.Node("Mul", [update, h]), w.Node("Mul", [w.Node("Sub", [one, update]), candidate])]);
                    break;
            }
            ys[s] = w.Node("Unsqueeze", [w.Node("Where", [keeps[t], hNew, zero]), w.Int64s("axes", 1)]);
            h = w.Node("Where", [keeps[t], hNew, h]);
            if (lstm) c = w.Node("Where", [keeps[t], cNew, c]);
        }
        w.Bind(0, steps == 1 ? w.Node("Identity", [ys[0]]) : w.Node("Concat", ys, Int("axis", 1)));
        w.Bind(1, w.Node("Identity", [h]));
        if (lstm) w.Bind(2, w.Node("Identity", [c]));
        SavedOutputsUnavailable(w, op, lstm ? 3 : 2);
    }
}
