using System.Diagnostics;
using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// The W2 training step as a server for bench/peers/w2_interleaved.py (<c>Nabla.Bench --w2-serve</c>): builds W2 (the graph
/// of <see cref="W2StepBenchmarks"/>), warms up for 3 s, prints <c>ready</c>, then for each line <c>N</c> on stdin runs N
/// <c>TrainOnBatch</c> steps and prints the wall time per step in ms; <c>quit</c> (or end of input) ends it. Between
/// blocks it waits on stdin without spinning, so blocks of several engines can take turns on the same cores and a slow
/// phase of the machine falls on both sides of a comparison (docs/results.md, session (l)).
/// </summary>
internal static class W2Serve
{
    public static void Run()
    {
        var inv = CultureInfo.InvariantCulture;
        var w2 = W2.Create();
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) w2.Model.TrainOnBatch(w2.X, w2.Y);
        Console.Out.WriteLine("ready");
        Console.Out.Flush();
        while (Console.In.ReadLine() is { } line && line.Trim() != "quit")
        {
            if (!int.TryParse(line.Trim(), NumberStyles.Integer, inv, out var steps) || steps <= 0)
                throw new FormatException($"--w2-serve: expected a positive step count or 'quit', got '{line}'");
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < steps; i++) w2.Model.TrainOnBatch(w2.X, w2.Y);
            var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
            Console.Out.WriteLine(ms.ToString("R", inv));
            Console.Out.Flush();
        }
    }
}
