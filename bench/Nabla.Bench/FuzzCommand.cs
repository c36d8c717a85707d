using System.Diagnostics;
using Nabla.Tests.Fuzz;

namespace Nabla.Bench;

/// <summary>
/// <c>--fuzz N [--seed S] [--first I]</c>: the long run of the graph fuzzer that the default tests run 5,000
/// cases of (tests/Nabla.Tests/Fuzz). N counts device calls (two per case: CPU and reference). Prints the
/// summary and every mismatch and unexpected exception with its one-line reproducer; exits 1 if any.
/// </summary>
public static class FuzzCommand
{
    /// <summary>Parses the arguments after <c>--fuzz</c> and runs.</summary>
    public static int Run(string[] args)
    {
        if (args.Length == 0 || !int.TryParse(args[0], out var calls) || calls < 2)
        {
            Console.Error.WriteLine("usage: --fuzz N [--seed S] [--first I]   (N device calls, at least 2)");
            return 2;
        }
        var seed = Option(args, "--seed", 1);
        var first = Option(args, "--first", 0);
        var cases = calls / 2;
        var sw = Stopwatch.StartNew();
        var total = new FuzzReport();
        // Batches of 10,000 cases, so progress shows on long runs; the totals are the same as one batch.
        for (var start = first; start < first + cases; start += 10_000)
        {
            var n = Math.Min(10_000, first + cases - start);
            var r = FuzzRunner.Run(seed, start, n);
            Merge(total, r);
            Console.Error.WriteLine($"cases {start}..{start + n - 1}: {sw.Elapsed.TotalSeconds:F0} s, failures so far {total.Mismatches.Count + total.Unexpected.Count}");
        }
        Console.WriteLine($"fuzz: seed {seed}, cases {first}..{first + cases - 1}, {sw.Elapsed.TotalSeconds:F1} s");
        Console.Write(total.Summary());
        return total.Failures.Any() ? 1 : 0;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length && int.TryParse(args[i + 1], out var v) ? v : fallback;
    }

    private static void Merge(FuzzReport into, FuzzReport r)
    {
        into.Calls += r.Calls;
        into.Ran += r.Ran;
        into.GradientsCompared += r.GradientsCompared;
        foreach (var (k, v) in r.Refused) into.Refused[k] = into.Refused.GetValueOrDefault(k) + v;
        foreach (var (k, v) in r.ByOp) into.ByOp[k] = into.ByOp.GetValueOrDefault(k) + v;
        foreach (var (k, v) in r.RanByOp) into.RanByOp[k] = into.RanByOp.GetValueOrDefault(k) + v;
        into.Mismatches.AddRange(r.Mismatches);
        into.Unexpected.AddRange(r.Unexpected);
    }
}
