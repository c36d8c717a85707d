using System.Diagnostics;
using System.Globalization;

namespace Nabla.Bench;

/// <summary>
/// Where a <see cref="ConvModelBenchmarks"/> model's step goes (<c>dotnet run -c Release -- --model-profile lenet|w12|vgg16 [iterations]</c>):
/// runs the step with <see cref="Session.KernelTimings"/> recording every kernel and prints the time per op type
/// (median over iterations of the per-type sum) and the ten slowest kernels. A diagnostic, not a number of record.
/// </summary>
internal static class ModelProfile
{
    /// <summary>
    /// A training step of a <see cref="ConvModelBenchmarks"/> model, or, for <c>infer-w2-512</c> / <c>infer-lenet-1</c>, one
    /// forward <see cref="Session.Run(Output[], IReadOnlyDictionary{Output, Tensor}?, Operation[])"/> of an <see cref="OnnxBenchmarks"/> model at that batch.
    /// </summary>
    private static (Action Step, Session Session) Setup(string model)
    {
        if (model.StartsWith("infer-", StringComparison.Ordinal))
        {
            var parts = model.Split('-');
            var infer = new OnnxBenchmarks { Model = parts[1], Batch = int.Parse(parts[2], CultureInfo.InvariantCulture) };
            infer.Setup();
            return (() => infer.NablaSessionRun(), infer.Session);
        }
        var bench = new ConvModelBenchmarks { Model = model };
        bench.Setup();
        return (() => bench.Step(), bench.Session);
    }

    public static void Run(string[] args)
    {
        var model = args.Length > 0 ? args[0] : "lenet";
        var iterations = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 30;
        var (step, session) = Setup(model);
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) step(); // let tiered compilation promote the kernels
        var perType = new Dictionary<string, List<double>>();
        var perKernel = new Dictionary<string, List<double>>();
        var totals = new List<double>();
        var walls = new List<double>();
        for (var i = 0; i < iterations; i++)
        {
            session.KernelTimings = [];
            var sw = Stopwatch.StartNew();
            step();
            walls.Add(sw.Elapsed.TotalMilliseconds);
            var timings = session.KernelTimings;
            totals.Add(timings.Sum(t => t.Microseconds) / 1000);
            foreach (var g in timings.GroupBy(t => t.OpType))
                (perType.TryGetValue(g.Key, out var l) ? l : perType[g.Key] = []).Add(g.Sum(t => t.Microseconds) / 1000);
            foreach (var t in timings)
                (perKernel.TryGetValue($"{t.OpType} {t.Node}", out var l) ? l : perKernel[$"{t.OpType} {t.Node}"] = []).Add(t.Microseconds / 1000);
        }
        session.KernelTimings = null;
        static double Median(List<double> v) { var s = v.Order().ToArray(); return s[s.Length / 2]; }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{model}: step {Median(walls):F3} ms wall, kernels {Median(totals):F3} ms, {Environment.ProcessorCount} processor(s), {iterations} iterations"));
        foreach (var (type, v) in perType.OrderByDescending(kv => Median(kv.Value)))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {type,-28} {Median(v) * 1000,9:F1} us"));
        Console.WriteLine("slowest kernels:");
        foreach (var (name, v) in perKernel.OrderByDescending(kv => Median(kv.Value)).Take(12))
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  {Median(v) * 1000,9:F1} us  {name}"));
    }
}
