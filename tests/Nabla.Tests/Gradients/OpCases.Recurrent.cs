namespace Nabla.Tests.Gradients;

public static partial class OpCases
{
    /// <summary>A recurrent geometry: batch, time, features, units, and which options the case turns on.</summary>
    private sealed record RnnShape(string Label, int B, int T, int I, int U, bool Masked = false, bool Backwards = false);

    /// <summary>Batch 1, time 1, features 1, units 1, odd sizes, masks (a fully masked row, masked first and last steps) and go_backwards.</summary>
    private static RnnShape[] RnnShapes =>
    [
        new("batch 1", 1, 3, 2, 3),
        new("time 1", 2, 1, 3, 2),
        new("features 1", 3, 4, 1, 2),
        new("units 1", 2, 3, 2, 1),
        new("odd 3x5x3x5", 3, 5, 3, 5),
        new("masked", 3, 4, 2, 3, Masked: true),
        new("go_backwards, masked", 2, 4, 3, 2, Masked: true, Backwards: true),
    ];

    /// <summary>
    /// Masks with a fully masked row, a row masked at the start, one masked at the end and one with a hole; built as a
    /// constant inside the case (a mask is a selector: central differences on it are meaningless).
    /// </summary>
    private static Output? RnnMask(Graph g, RnnShape s, Output like)
    {
        if (!s.Masked) return null;
        int[][] rows = [[1, 1, 0, 0], [0, 0, 0, 0], [0, 1, 1, 1], [1, 0, 1, 1]];
        var m = new double[s.B * s.T];
        for (var b = 0; b < s.B; b++)
            for (var t = 0; t < s.T; t++) m[b * s.T + t] = rows[b % rows.Length][t % 4];
        return g.Cast(g.Constant(Tensor.FromArray(m, s.B, s.T)), like.DType);
    }

    /// <summary>Gates saturate over a few steps with weights of O(1); these keep the pre-activations in tanh's curved range.</summary>
    private static Tensor W(int[] shape, ulong seed) => U(shape, seed, -0.8, 0.8);

    /// <summary>
    /// Float32 against the reference: each step is two dot products (of length I and U, ≲ 10 terms) and a few gate
    /// functions, and an error made at one step is carried (scaled by |∂h/∂h₋₁| &lt; 1 with these weights) through the
    /// remaining ≤ 5 steps, and the backward op adds sums over B·T rows (≤ 15 terms) for dW, dR and db, so the bound is a
    /// few times <see cref="Float32Tolerance"/>; a wrong gate term is off by O(1).
    /// </summary>
    private const double RnnFloat32Tol = 2e-5;

    private static IEnumerable<OpCase> Recurrent()
    {
        var seed = 300UL;
        foreach (var s in RnnShapes)
        {
            seed += 10;
            Tensor x = U([s.B, s.T, s.I], seed), h0 = U([s.B, s.U], seed + 1, -1, 1), c0 = U([s.B, s.U], seed + 2, -1, 1);
            var label = $"{s.Label} [{s.B},{s.T},{s.I}] units {s.U}";
            yield return new("SimpleRNN", label, (g, v) =>
            {
                var (y, h) = g.SimpleRNN(v[0], v[1], v[2], v[3], v[4], RnnMask(g, s, v[0]), s.Backwards);
                return Flat(g, y, h);
            }, [x, h0, W([s.I, s.U], seed + 3), W([s.U, s.U], seed + 4), W([s.U], seed + 5)], GradRtol: 1e-5, Float32Tol: RnnFloat32Tol);
            yield return new("LSTM", label, (g, v) =>
            {
                var (y, h, c) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5], RnnMask(g, s, v[0]), s.Backwards);
                return Flat(g, y, h, c);
            }, [x, h0, c0, W([s.I, 4 * s.U], seed + 3), W([s.U, 4 * s.U], seed + 4), W([4 * s.U], seed + 5)], GradRtol: 1e-5, Float32Tol: RnnFloat32Tol);
            foreach (var resetAfter in new[] { true, false })
                yield return new("GRU", $"{label}, reset_after={resetAfter}", (g, v) =>
                {
                    var (y, h) = g.GRU(v[0], v[1], v[2], v[3], v[4], RnnMask(g, s, v[0]), resetAfter, s.Backwards);
                    return Flat(g, y, h);
                }, [x, h0, W([s.I, 3 * s.U], seed + 3), W([s.U, 3 * s.U], seed + 4), W(resetAfter ? [2, 3 * s.U] : [3 * s.U], seed + 5)],
                    GradRtol: 1e-5, Float32Tol: RnnFloat32Tol);

            // The backward ops on their own (CPU against reference), fed by their forward node's saved outputs and a random
            // upstream gradient; not differentiable themselves.
            Tensor dy = U([s.B, s.T, s.U], seed + 6), dh = U([s.B, s.U], seed + 7), dc = U([s.B, s.U], seed + 8);
            yield return new("SimpleRNNGrad", label, (g, v) =>
            {
                var mask = RnnMask(g, s, v[0]);
                var (y, _) = g.SimpleRNN(v[0], v[1], v[2], v[3], v[4], mask, s.Backwards);
                Output[] inputs = [v[0], v[2], v[3], v[4], y.Op[2], v[5], v[6]];
                return Flat(g, g.RecurrentGrad("SimpleRNNGrad", mask is { } m ? [.. inputs, m] : inputs, s.Masked, s.Backwards));
            }, [x, h0, W([s.I, s.U], seed + 3), W([s.U, s.U], seed + 4), W([s.U], seed + 5), dy, dh], GradKind.None, Float32Tol: RnnFloat32Tol);
            yield return new("LSTMGrad", label, (g, v) =>
            {
                var mask = RnnMask(g, s, v[0]);
                var (y, _, _) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5], mask, s.Backwards);
                Output[] inputs = [v[0], v[3], v[4], v[5], y.Op[3], y.Op[4], y.Op[5], v[6], v[7], v[8]];
                return Flat(g, g.RecurrentGrad("LSTMGrad", mask is { } m ? [.. inputs, m] : inputs, s.Masked, s.Backwards));
            }, [x, h0, c0, W([s.I, 4 * s.U], seed + 3), W([s.U, 4 * s.U], seed + 4), W([4 * s.U], seed + 5), dy, dh, dc], GradKind.None, Float32Tol: RnnFloat32Tol);
            foreach (var resetAfter in new[] { true, false })
                yield return new("GRUGrad", $"{label}, reset_after={resetAfter}", (g, v) =>
                {
                    var mask = RnnMask(g, s, v[0]);
                    var (y, _) = g.GRU(v[0], v[1], v[2], v[3], v[4], mask, resetAfter, s.Backwards);
                    Output[] inputs = [v[0], v[2], v[3], v[4], y.Op[2], y.Op[3], v[5], v[6]];
                    return Flat(g, g.RecurrentGrad("GRUGrad", mask is { } m ? [.. inputs, m] : inputs, s.Masked, s.Backwards, resetAfter));
                }, [x, h0, W([s.I, 3 * s.U], seed + 3), W([s.U, 3 * s.U], seed + 4), W(resetAfter ? [2, 3 * s.U] : [3 * s.U], seed + 5), dy, dh],
                    GradKind.None, Float32Tol: RnnFloat32Tol);
        }
        // The saved tensors are outputs too: CPU and reference must agree on them (the CPU backward reads the gates).
        yield return new("LSTM", "saved states, cells and gates", (g, v) =>
        {
            var (y, _, _) = g.LSTM(v[0], v[1], v[2], v[3], v[4], v[5]);
            return Flat(g, y.Op[3], y.Op[4], y.Op[5]);
        }, [U([2, 3, 2], 390), U([2, 3], 391, -1, 1), U([2, 3], 392, -1, 1), W([2, 12], 393), W([3, 12], 394), W([12], 395)], GradKind.None, Float32Tol: RnnFloat32Tol);
        yield return new("GRU", "saved states and gates, reset_after", (g, v) =>
        {
            var (y, _) = g.GRU(v[0], v[1], v[2], v[3], v[4]);
            return Flat(g, y.Op[2], y.Op[3]);
        }, [U([2, 3, 2], 396), U([2, 3], 397, -1, 1), W([2, 9], 398), W([3, 9], 399), W([2, 9], 400)], GradKind.None, Float32Tol: RnnFloat32Tol);
    }

    /// <summary>Every tensor flattened and concatenated, so one case checks all outputs.</summary>
    private static Output Flat(Graph g, params Output[] parts) => g.Concat(parts.Select(p => g.Reshape(p, [-1])).ToArray(), 0);
}
