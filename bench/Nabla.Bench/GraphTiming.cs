using System.Diagnostics;

namespace Nabla.Bench;

/// <summary>The timing loop of the quick kernel benchmarks (<see cref="PoolingQuick"/>, <see cref="RnnQuick"/>).</summary>
internal static class GraphTiming
{
    /// <summary>
    /// Builds a graph, runs its target once in a Cpu session (variables initialised, plan compiled), then
    /// returns the best over 5 blocks of the mean seconds per run of <paramref name="runs"/> runs.
    /// </summary>
    public static double BestSeconds(Func<Graph, Operation> build, int runs)
    {
        var g = new Graph();
        var target = build(g);
        using var s = new Session(g, Device.Cpu);
        s.Run(g.GlobalVariablesInitializer());
        s.Run(target);
        var best = double.MaxValue;
        for (var block = 0; block < 5; block++)
        {
            var sw = Stopwatch.StartNew();
            for (var i = 0; i < runs; i++) s.Run(target);
            best = Math.Min(best, sw.Elapsed.TotalSeconds / runs);
        }
        return best;
    }
}
