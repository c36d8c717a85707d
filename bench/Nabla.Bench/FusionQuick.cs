using System.Diagnostics;
using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// Fused against unfused element-wise work (issue 10), interleaved in one process so both see the same load
/// (<c>dotnet Nabla.Bench.dll --fusion-quick [iterations]</c>). Cases: W2's forward tree (bias add, ReLU,
/// dropout mask from Random + compare + cast + two multiplies) and its backward tree (mask, ReLU gradient) at
/// [128,128], and three small trees (bias + ReLU, Random, the ReLU gradient) that isolate their parts; a 12-node chain on 1 Mi floats (bandwidth-bound: unfused it streams 13 reads and 12 writes of
/// 4 MiB, fused one read and one write). Prints min and median µs per run and the fused step's GB/s: "fused" is the
/// interpreter, "generated code" <see cref="SessionOptions.FusedCodegen"/>; the three sessions run interleaved.
/// </summary>
internal static class FusionQuick
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], Inv) : 300;
        Console.WriteLine(string.Create(Inv, $"fusion quick: {iterations} interleaved runs per case, ProcessorCount {Environment.ProcessorCount}, load {File.ReadAllText("/proc/loadavg").Trim()}"));
        Case("W2 forward tree [128,128]", iterations, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(128, 128), "x");
            var b = g.Placeholder(DType.Float32, new Shape(128), "b");
            return ([x, b], g.Dropout(g.Relu(x + b), 0.3, seed: 5));
        });
        Case("relu(x+b)*2 [128,128]", iterations, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(128, 128), "x");
            var b = g.Placeholder(DType.Float32, new Shape(128), "b");
            return ([x, b], g.Relu(x + b) * 2.0);
        });
        Case("x*uniform [128,128]", iterations, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(128, 128), "x");
            return ([x], x * g.RandomUniformLike(x, seed: 3));
        });
        Case("x*cast(x>0) [128,128]", iterations, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(128, 128), "x");
            return ([x], x * g.Cast(g.Greater(x, g.Scalar(0)), DType.Float32));
        });
        Case("W2 backward tree [128,128]", iterations, g =>
        {
            var dy = g.Placeholder(DType.Float32, new Shape(128, 128), "dy");
            var mask = g.Placeholder(DType.Float32, new Shape(128, 128), "mask");
            var pre = g.Placeholder(DType.Float32, new Shape(128, 128), "pre");
            var d = dy * mask;
            return ([dy, mask, pre], d * g.Cast(g.Greater(pre, g.Scalar(0)), DType.Float32));
        });
        Case("12-node chain [1024,1024]", iterations / 10 + 1, g =>
        {
            var x = g.Placeholder(DType.Float32, new Shape(1024, 1024), "x");
            var y = x;
            for (var i = 0; i < 4; i++) y = g.Relu(y * 0.9 + 0.1);
            return ([x], y);
        });
    }

    /// <summary>
    /// Runs each session <paramref name="iterations"/> times, interleaved in a rotating order (so no variant always runs after
    /// the same one), after two seconds of warm-up; returns each session's times in µs, sorted.
    /// </summary>
    internal static double[][] Interleave(Session[] sessions, Action<Session> run, int iterations)
    {
        var times = sessions.Select(_ => new double[iterations]).ToArray();
        // Warm up for wall time, not a count (as W2Profile): kernels start in tier-0 or ReadyToRun code and are
        // re-jitted only after 30 calls plus a delay, which is seconds on a loaded machine.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 2000) foreach (var s in sessions) run(s);
        for (var i = 0; i < iterations; i++)
            for (var k = 0; k < sessions.Length; k++)
            {
                var v = (i + k) % sessions.Length;
                var t0 = Stopwatch.GetTimestamp();
                run(sessions[v]);
                times[v][i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
            }
        foreach (var t in times) Array.Sort(t);
        return times;
    }

    private static void Case(string name, int iterations, Func<Graph, (Output[] Inputs, Output Result)> build)
    {
        var g = new Graph();
        var (inputs, result) = build(g);
        var feeds = inputs.ToDictionary(i => i, i => Tensor.RandomUniform(i.Shape, -1, 1, seed: 3));
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = false });
        using var generated = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false });
        var plan = fused.Plan([result], feeds);
        var plainPlan = plain.Plan([result], feeds);
        var times = Interleave([fused, plain, generated], s => s.Run([result], feeds), iterations);
        var (tf, tp, tg) = (times[0], times[1], times[2]);
        var bytes = plan.FusedSteps.Sum(f => f.BytesRead + f.BytesWritten);
        Console.WriteLine(string.Create(Inv,
            $"{name,-28} fused {plan.KernelCount,2} kernels min {tf[0],8:F1} us median {tf[iterations / 2],8:F1} us ({bytes / tf[0] / 1e3,5:F1} GB/s at min) | unfused {plainPlan.KernelCount,2} kernels min {tp[0],8:F1} us median {tp[iterations / 2],8:F1} us | speed-up at min {tp[0] / tf[0]:F2}x | generated code min {tg[0],8:F1} us median {tg[iterations / 2],8:F1} us"));
    }
}
