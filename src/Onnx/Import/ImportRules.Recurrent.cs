namespace Nabla.Onnx;

/// <summary>
/// ONNX <c>RNN</c>, <c>LSTM</c> and <c>GRU</c> as Nabla's fused recurrent ops, one per direction: W [D, kH, I] and
/// R [D, kH, H] become Keras's [I, kH] and [H, kH] (LSTM's gate blocks from ONNX's i, o, f, c to Keras's i, f, c, o),
/// the two bias halves are added (a GRU with <c>linear_before_reset = 1</c> keeps them apart as a reset_after GRU's
/// [2, 3H] bias), <c>sequence_lens</c> becomes a [B, T] mask that keeps each sequence's first steps, and the reverse
/// direction is go_backwards with its output turned back into step order.
/// </summary>
/// <remarks>
/// Supported: both layouts, the three directions, the default activations (listed explicitly or not), initial states,
/// <c>input_forget = 0</c>. Not supported, failing naming the node: other activations, <c>clip</c>, peepholes (input P),
/// a sequence_lens with an unknown number of steps.
/// </remarks>
internal static partial class ImportRules
{
    /// <summary>Keras's LSTM block j is ONNX's block s_kerasFromOnnx[j] (Keras i, f, c, o; ONNX i, o, f, c).</summary>
    private static readonly int[] s_kerasFromOnnx = [0, 2, 3, 1];

    private static Output[] Recurrent(OnnxNode n)
    {
        var g = n.G;
        var lstm = n.OpType == "LSTM";
        var gru = n.OpType == "GRU";
        var blocks = lstm ? 4 : gru ? 3 : 1;
        var direction = n.String("direction", "forward");
        var directions = direction switch
        {
            "forward" or "reverse" => 1,
            "bidirectional" => 2,
            _ => throw n.Fail($"direction '{direction}' is not one of forward, reverse, bidirectional"),
        };
        string[] defaults = lstm ? ["Sigmoid", "Tanh", "Tanh"] : gru ? ["Sigmoid", "Tanh"] : ["Tanh"];
        if (n.Strings("activations") is { } acts && !acts.SequenceEqual(Enumerable.Range(0, directions).SelectMany(_ => defaults), StringComparer.OrdinalIgnoreCase))
            throw n.Fail($"activations [{string.Join(", ", acts)}] are not supported (only the defaults, [{string.Join(", ", defaults)}] per direction)");
        if (lstm) n.Accept("input_forget", a => a.I == 0, "= 0");
        if (lstm && n.HasInput(7)) throw n.Fail("peephole weights (input P) are not supported");
        var resetAfter = gru && n.Int("linear_before_reset", 0) != 0;
        var layout = n.Int("layout", 0) switch
        {
            0 => 0,
            1 => 1,
            var other => throw n.Fail($"layout {other} is not 0 or 1"),
        };

        Output x = n.Input(0), w = n.Input(1), r = n.Input(2);
        if (x.Shape.Rank != 3) throw n.Fail($"X must have rank 3, got {x.Shape}");
        if (layout == 0) x = g.Transpose(x, [1, 0, 2]); // → [B, T, I]
        if (r.Shape.Rank != 3 || r.Shape[0] != directions || r.Shape[2] < 1 || r.Shape[1] != blocks * r.Shape[2])
            throw n.Fail($"R must be [{directions}, {blocks}·hidden, hidden] with known sizes, got {r.Shape}");
        var hidden = r.Shape[2];
        if (n.Has("hidden_size") && n.Int("hidden_size", 0) != hidden) throw n.Fail($"hidden_size {n.Int("hidden_size", 0)} does not match R {r.Shape}");
        var inputSize = x.Shape[2];
        if (w.Shape.Rank != 3 || w.Shape[0] != directions || w.Shape[1] != blocks * hidden || w.Shape[2] < 1 || (inputSize >= 0 && w.Shape[2] != inputSize))
            throw n.Fail($"W must be [{directions}, {blocks * hidden}, {(inputSize < 0 ? "input" : inputSize)}], got {w.Shape} (X {n.Input(0).Shape}, layout {layout})");
        var steps = x.Shape[1];
        Output? mask = null;
        if (n.HasInput(4))
        {
            if (steps < 0) throw n.Fail($"sequence_lens needs the number of steps to be known, got X {n.Input(0).Shape}");
            var lens = g.Reshape(g.Cast(n.Input(4), x.DType), [-1, 1]);
            var range = g.Constant(OnnxImporter.Convert(Tensor.FromArray(Enumerable.Range(0, steps).Select(t => (double)t).ToArray(), 1, steps), x.DType));
            mask = g.Cast(g.Less(range, lens), x.DType, "sequence_mask");
        }
        var hs = new List<Output>();
        var cs = new List<Output>();
        var ys = new List<Output>();
        for (var d = 0; d < directions; d++)
        {
            var kernel = KerasWeight(g, w, d, lstm);
            var recurrent = KerasWeight(g, r, d, lstm);
            var bias = KerasBias(n, d, blocks * hidden, lstm, resetAfter, x.DType);
            var h0 = InitialState(n, 5, d, layout, x, hidden);
            var backwards = direction == "reverse" || d == 1;
            Output y, h;
            switch (n.OpType)
            {
                case "LSTM":
                    var c0 = InitialState(n, 6, d, layout, x, hidden);
                    Output c;
                    (y, h, c) = g.LSTM(x, h0, c0, kernel, recurrent, bias, mask, backwards);
                    cs.Add(c);
                    break;
                case "GRU":
                    (y, h) = g.GRU(x, h0, kernel, recurrent, bias, mask, resetAfter, backwards);
                    break;
                default:
                    (y, h) = g.SimpleRNN(x, h0, kernel, recurrent, bias, mask, backwards);
                    break;
            }
            if (backwards && n.Proto.Output.Count > 0 && n.Proto.Output[0].Length > 0)
            {
                // Our output is in processing order; ONNX's is aligned with the input steps.
                if (steps < 0) throw n.Fail($"output Y of a reverse direction needs the number of steps to be known, got X {n.Input(0).Shape}");
                y = g.Gather(y, g.Constant(Tensor.FromArray(Enumerable.Range(0, steps).Reverse().ToArray(), steps)), 1, "step_order");
            }
            ys.Add(y);
            hs.Add(h);
        }
        // Y: [T, D, B, H] (layout 0) or [B, T, D, H]; Y_h, Y_c: [D, B, H] or [B, D, H].
        Output Stack(List<Output> parts, int axis) =>
            parts.Count == 1 ? g.ExpandDims(parts[0], axis) : g.Concat(parts.Select(p => g.ExpandDims(p, axis)).ToArray(), axis);
        var yOut = layout == 0 ? Stack(ys.Select(y => g.Transpose(y, [1, 0, 2])).ToList(), 1) : Stack(ys, 2);
        var stateAxis = layout == 0 ? 0 : 1;
        return lstm ? [yOut, Stack(hs, stateAxis), Stack(cs, stateAxis)] : [yOut, Stack(hs, stateAxis)];
    }

    /// <summary>Direction d of an ONNX [D, kH, cols] weight as Keras's [cols, kH] (LSTM blocks reordered).</summary>
    private static Output KerasWeight(Graph g, Output onnx, int d, bool lstm)
    {
        var (rows, cols) = (onnx.Shape[1], onnx.Shape[2]);
        var m = g.Reshape(g.Slice(onnx, [d, 0, 0], [1, -1, -1]), [rows, cols]);
        if (lstm) m = g.Gather(m, g.Constant(Tensor.FromArray(GateOrder(rows / 4), rows)), 0, "gate_order");
        return g.Transpose(m, [1, 0]);
    }

    /// <summary>Row indices that take ONNX's LSTM gate blocks to Keras's order.</summary>
    private static int[] GateOrder(int hidden) => Enumerable.Range(0, 4 * hidden).Select(i => s_kerasFromOnnx[i / hidden] * hidden + i % hidden).ToArray();

    /// <summary>Keras's bias for direction d: W-bias + R-bias, or (reset_after GRU) the two as rows of [2, 3H]; zeros when B is absent.</summary>
    private static Output KerasBias(OnnxNode n, int d, int width, bool lstm, bool resetAfter, DType dtype)
    {
        var g = n.G;
        if (!n.HasInput(3)) return g.Constant(Tensor.Fill(resetAfter ? new Shape(2, width) : new Shape(width), 0, dtype), "zero_bias");
        var b = n.Input(3);
        if (b.Shape.Rank != 2 || b.Shape[1] != 2 * width || b.Shape[0] < 1) throw n.Fail($"B must be [directions, {2 * width}], got {b.Shape}");
        var both = g.Reshape(g.Slice(b, [d, 0], [1, -1]), [2, width]);
        if (resetAfter) return both;
        var sum = g.Reshape(g.Slice(both, [0, 0], [1, -1]) + g.Slice(both, [1, 0], [1, -1]), [width]);
        return lstm ? g.Gather(sum, g.Constant(Tensor.FromArray(GateOrder(width / 4), width)), 0, "gate_order") : sum;
    }

    /// <summary>Direction d of initial_h or initial_c ([D, B, H], layout 1 [B, D, H]) as [B, H]; zeros of x's batch when absent.</summary>
    private static Output InitialState(OnnxNode n, int input, int d, int layout, Output x, int hidden)
    {
        var g = n.G;
        if (!n.HasInput(input))
        {
            var column = g.ZerosLike(g.Reshape(g.Slice(x, [0, 0, 0], [-1, 1, 1]), [-1, 1]));
            return g.MatMul(column, g.Constant(Tensor.Fill(new Shape(1, hidden), 0, x.DType)), name: "zero_state");
        }
        var s = n.Input(input);
        if (s.Shape.Rank != 3 || s.Shape[2] != hidden) throw n.Fail($"input {input} (initial state) must be [{(layout == 0 ? "directions, batch" : "batch, directions")}, {hidden}], got {s.Shape}");
        var slice = layout == 0 ? g.Slice(s, [d, 0, 0], [1, -1, -1]) : g.Slice(s, [0, d, 0], [-1, 1, -1]);
        return g.Reshape(slice, [-1, hidden]);
    }
}
