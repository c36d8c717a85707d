using System.Diagnostics;
using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// Stopwatch timing of the pooling and batch-norm kernels through a session on the Cpu device
/// (<c>dotnet run -c Release -- --pool-quick [--batch 32] [--runs 20] [--lenet]</c>); the PyTorch twin is
/// <c>bench/peers/pool_bn_torch.py</c> (same shapes, channels-last). Each row is one Session.Run whose only targets
/// are the measured ops (inputs are variables, nothing is fetched), best of 5 blocks of <c>runs</c> runs.
/// </summary>
/// <remarks>
/// Napkin math, float32, x = N·H·W·C elements (|x| bytes = 4x): max/avg pool 2×2/2 forward reads x once and writes x/4
/// (1.25·|x|); its gradient reads x (max only) and dy (x/4) and writes dx (2.25·|x| max, 1.25·|x| avg, plus the
/// clear of dx, +|x|). Batch norm training forward reads x three times (mean, variance, normalise) and writes y once
/// (4·|x|); forward + backward adds two statistics passes over x, one over dy (Σdy, Σdy·x̂) and one read of x and dy
/// with a write of dx (≈ 10·|x| in all). The GB/s column is that traffic over the measured time: compare it with
/// the machine's memory bandwidth (≈ 20–30 GB/s per core for streaming reads on a recent x64 core) — the shapes
/// below are larger than L2, so these kernels are memory-bound once vectorised.
/// </remarks>
internal static class PoolingQuick
{
    public static void Run(string[] args)
    {
        var batch = Arg(args, "--batch", 32);
        var runs = Arg(args, "--runs", 20);
        Console.WriteLine($"pool/batch-norm on the Cpu device, batch {batch}, {Environment.ProcessorCount} cores, best of 5 × {runs} runs");
        // The fixed cost of one Session.Run of one small kernel, to subtract mentally at small batches.
        Row("Session.Run overhead (Neg of [1])", 8, runs, g => g.Neg(X(g, new Shape(1))).Op);
        // --lenet: LeNet's two max pools at the batch given (28×28×6 and 10×10×16, C below a vector), forward only.
        if (args.Contains("--lenet"))
        {
            foreach (var (h, c) in new[] { (28, 6), (10, 16) })
            {
                var shape = new Shape(batch, h, h, c);
                Row($"MaxPool 2x2/2 fwd   [{batch},{h},{h},{c}]", 1.25 * 4.0 * shape.ElementCount, runs, g => g.MaxPool(X(g, shape), [2, 2], [2, 2]).Op);
            }
            return;
        }
        foreach (var (h, c) in new[] { (28, 32), (14, 64) })
        {
            var shape = new Shape(batch, h, h, c);
            var bytes = 4.0 * shape.ElementCount;
            Row($"MaxPool 2x2/2 fwd   [{batch},{h},{h},{c}]", 1.25 * bytes, runs, g => g.MaxPool(X(g, shape), [2, 2], [2, 2]).Op);
            Row($"AvgPool 2x2/2 fwd   [{batch},{h},{h},{c}]", 1.25 * bytes, runs, g => g.AvgPool(X(g, shape), [2, 2], [2, 2]).Op);
            Row($"MaxPool fwd+bwd     [{batch},{h},{h},{c}]", 4.5 * bytes, runs, g => Backward(g, g.MaxPool(X(g, shape), [2, 2], [2, 2])));
            Row($"AvgPool fwd+bwd     [{batch},{h},{h},{c}]", 3.5 * bytes, runs, g => Backward(g, g.AvgPool(X(g, shape), [2, 2], [2, 2])));
            Row($"BatchNorm train fwd [{batch},{h},{h},{c}]", 4 * bytes, runs, g => Bn(g, shape, backward: false));
            Row($"BatchNorm fwd+bwd   [{batch},{h},{h},{c}]", 10 * bytes, runs, g => Bn(g, shape, backward: true));
        }
    }

    private static int Arg(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }

    private static Output X(Graph g, Shape shape) => g.Variable(Tensor.RandomUniform(shape, -1, 1, 1), "x").Value;

    /// <summary>The input gradient of Σ y·w for a fixed w (the weights are a variable, so nothing folds).</summary>
    private static Operation Backward(Graph g, Output y)
    {
        var w = g.Variable(Tensor.RandomUniform(y.Shape, 0.5, 1.5, 2), "w");
        var x = y.Op.Inputs[0];
        return g.Gradients([g.ReduceSum(y * w.Value)], [x])[0]!.Value.Op;
    }

    private static Operation Bn(Graph g, Shape shape, bool backward)
    {
        var c = new Shape(shape[^1]);
        var x = X(g, shape);
        Output scale = g.Variable(Tensor.Fill(c, 1, DType.Float32), "scale").Value, offset = g.Variable(Tensor.Fill(c, 0, DType.Float32), "offset").Value;
        var (y, _, _) = g.FusedBatchNorm(x, scale, offset, offset, scale);
        if (!backward) return y.Op;
        // The kernel gradient alone: FusedBatchNormGrad fed with a constant-in-time dy.
        var dy = g.Variable(Tensor.RandomUniform(shape, -1, 1, 3), "dy");
        return g.Group(g.Gradients([g.ReduceSum(y * dy.Value)], [x, scale, offset]).Select(o => o!.Value.Op));
    }

    private static void Row(string label, double bytes, int runs, Func<Graph, Operation> build)
    {
        var best = GraphTiming.BestSeconds(build, runs);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{label,-40} {best * 1e3,8:F3} ms  {bytes / best / 1e9,6:F1} GB/s (napkin traffic)"));
    }
}
