using System.Diagnostics;
using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// Stopwatch timing of a fused LSTM layer on the Cpu device
/// (<c>dotnet run -c Release -- --rnn-quick [--batch 128] [--steps 64] [--features 64] [--units 64] [--runs 10] [--forward-only] [--gru]</c>);
/// the PyTorch twin is <c>bench/peers/lstm_torch.py</c> (nn.LSTM, same sizes, 1 and 2 threads). Each row is one
/// Session.Run whose only target is the measured node(s) (inputs and weights are variables, nothing is fetched), best
/// of 5 blocks of <c>runs</c> runs.
/// </summary>
/// <remarks>
/// Napkin math (GEMM flops only; the gate math is ~30 flops per unit and step, under 5% here): the forward pass is
/// one [B·T, I]×[I, 4U] input projection and T recurrent [B, U]×[U, 4U] products, 2·B·T·4U·(I + U) flops
/// (B = 128, T = 64, I = U = 64: 0.537 GFLOP). The backward pass does the transposed products for dx, dh, dW and dR,
/// twice the forward, so a training step (forward + backward, no optimizer update) is 3× (1.61 GFLOP). The recurrent
/// products are small ([128, 64]×[64, 256] per step) and sequential, so they run far below the GEMM's peak on large
/// matrices: compare the GFLOP/s column with <c>--gemm-quick</c>'s.
/// </remarks>
internal static class RnnQuick
{
    public static void Run(string[] args)
    {
        int batch = Arg(args, "--batch", 128), steps = Arg(args, "--steps", 64), features = Arg(args, "--features", 64),
            units = Arg(args, "--units", 64), runs = Arg(args, "--runs", 10);
        var gru = args.Contains("--gru");
        var cell = gru ? "GRU" : "LSTM";
        var forwardFlops = 2.0 * batch * steps * (gru ? 3 : 4) * units * (features + units);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{cell}({units}) on [{batch},{steps},{features}], Cpu device, {Environment.ProcessorCount} cores, best of 5 × {runs} runs; forward {forwardFlops / 1e9:F3} GFLOP, training step {3 * forwardFlops / 1e9:F3} GFLOP"));
        Row($"{cell} inference (forward)", forwardFlops, runs, g => Build(g, gru, batch, steps, features, units, backward: false));
        if (!args.Contains("--forward-only"))
            Row($"{cell} training step (forward + backward)", 3 * forwardFlops, runs, g => Build(g, gru, batch, steps, features, units, backward: true));
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    /// <summary>The LSTM node, or a reset_after GRU (Keras layout, zero initial state) and, for training, the gradients of Σ h·w with respect to its weights.</summary>
    private static Operation Build(Graph g, bool gru, int batch, int steps, int features, int units, bool backward)
    {
        Output V(string name, Shape s, ulong seed, double scale) => g.Variable(Tensor.RandomUniform(s, -scale, scale, seed), name).Value;
        var x = V("x", new Shape(batch, steps, features), 1, 1);
        var zeros = g.Variable(Tensor.Fill(new Shape(batch, units), 0, DType.Float32), "h0").Value;
        var k = gru ? 3 : 4;
        Output kernel = V("kernel", new Shape(features, k * units), 2, 0.2), recurrent = V("recurrent", new Shape(units, k * units), 3, 0.2),
            bias = V("bias", gru ? new Shape(2, k * units) : new Shape(k * units), 4, 0.1);
        var h = gru ? g.GRU(x, zeros, kernel, recurrent, bias).H : g.LSTM(x, zeros, zeros, kernel, recurrent, bias).H;
        if (!backward) return h.Op;
        var w = V("w", new Shape(batch, units), 5, 1);
        return g.Group(g.Gradients([g.ReduceSum(h * w)], [kernel, recurrent, bias]).Select(o => o!.Value.Op));
    }

    private static void Row(string label, double flops, int runs, Func<Graph, Operation> build)
    {
        var best = GraphTiming.BestSeconds(build, runs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-42} {best * 1e3,9:F3} ms  {flops / best / 1e9,6:F2} GFLOP/s"));
    }
}
