using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using Nabla.Kernels;

namespace Nabla.Bench;

/// <summary>
/// Where one W2 training step's time goes (<c>dotnet run -c Release -- --w2-profile [iterations]</c>):
/// re-runs the step's compiled plan with a timestamp around every kernel call, the same way
/// Session.Run executes it (pre-run checks, feed upload into the arena, kernels, fetch download), and interleaves plain Session.Run and TrainOnBatch calls so front-end and session overheads
/// come out by difference. Reports medians over the iterations; run with DOTNET_PROCESSOR_COUNT=1 to see
/// the single-thread profile. A diagnostic, not the number of record (that is <see cref="W2StepBenchmarks"/>).
/// </summary>
internal static class W2Profile
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    public static void Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], Inv) : 300;
        var w2 = W2.Create();
        // Warm up for wall time, not a count: kernels start in tier-0 code, and tiered compilation
        // promotes them in the background only after 30 calls plus a delay, which is seconds here.
        var warm = Stopwatch.StartNew();
        while (warm.ElapsedMilliseconds < 3000) w2.Model.TrainOnBatch(w2.X, w2.Y);
        var (feeds, fetches, update) = w2.TrainStepParts();
        var session = w2.Model.Session;
        var plans = (Dictionary<PlanKey, Plan>)(typeof(Session).GetField("_plans", BindingFlags.Instance | BindingFlags.NonPublic)?.GetValue(session)
            ?? throw new InvalidOperationException("Session._plans not found (Session internals changed)"));
        var plan = plans[new PlanKey(fetches, [update], feeds.Select(kv => KeyValuePair.Create(kv.Key, kv.Value.Shape)))];
        var preRunChecks = typeof(Session).GetMethod("PreRunChecks", BindingFlags.Static | BindingFlags.NonPublic)?.MakeGenericMethod(typeof(Tensor))
            ?? throw new InvalidOperationException("Session.PreRunChecks not found (Session internals changed)");
        var run = plan.RunState ?? throw new InvalidOperationException("the train plan has not run yet");
        var ctx = new KernelContext { Run = run };

        var steps = plan.Steps;
        var stepTicks = new long[iterations, steps.Length];
        // Phases of the instrumented run: pre-run checks, feed upload, kernels, fetch download, (release: none since the static memory plan).
        var phases = new long[iterations, 5];
        var instrumented = new long[iterations];
        var sessionRun = new long[iterations];
        var trainOnBatch = new long[iterations];
        object[] preRunArgs = [plan, feeds];

        for (var it = -10; it < iterations; it++)
        {
            var rec = it >= 0;
            var t0 = Stopwatch.GetTimestamp();
            preRunChecks.Invoke(null, preRunArgs);
            var t1 = Stopwatch.GetTimestamp();
            foreach (var (output, slot) in plan.FeedSlots) run.Backend.Memory.Upload(feeds[output].Data, run.Slots[slot]!);
            var t2 = Stopwatch.GetTimestamp();
                        for (var s = 0; s < steps.Length; s++)
            {
                var step = steps[s];
                ctx.Step = step;
                var a = Stopwatch.GetTimestamp();
                step.Execute(ctx);
                var b = Stopwatch.GetTimestamp();
                if (rec) stepTicks[it, s] = b - a;
            }
            var t3 = Stopwatch.GetTimestamp();
            for (var i = 0; i < fetches.Length; i++)
            {
                var host = fetches[i].DType.NewArray(plan.FetchShapes[i].Size);
                run.Backend.Memory.Download(run.Slots[plan.FetchSlots[i]]!, host);
            }
            var t4 = Stopwatch.GetTimestamp();
            var t5 = Stopwatch.GetTimestamp();

            var t6 = Stopwatch.GetTimestamp();
            session.Run(fetches, feeds, update);
            var t7 = Stopwatch.GetTimestamp();
            w2.Model.TrainOnBatch(w2.X, w2.Y);
            var t8 = Stopwatch.GetTimestamp();
            if (!rec) continue;
            phases[it, 0] = t1 - t0;
            phases[it, 1] = t2 - t1;
            phases[it, 2] = t3 - t2;
            phases[it, 3] = t4 - t3;
            phases[it, 4] = t5 - t4;
                        instrumented[it] = t5 - t0;
            sessionRun[it] = t7 - t6;
            trainOnBatch[it] = t8 - t7;
        }

        var allocs = AllocationPass(plan, run, ctx, feeds, preRunChecks, preRunArgs);
        var sessionAlloc = GC.GetTotalAllocatedBytes(precise: true);
        session.Run(fetches, feeds, update);
        sessionAlloc = GC.GetTotalAllocatedBytes(precise: true) - sessionAlloc;
        Report(iterations, steps, stepTicks, phases, instrumented, sessionRun, trainOnBatch);
        ReportAllocations(steps, allocs, sessionAlloc);
    }

    /// <summary>
    /// Managed bytes allocated per kernel call (all threads, so Parallel.For workers count), and by the
    /// pre-run checks and feed upload (the last two slots), in one untimed run.
    /// </summary>
    private static long[] AllocationPass(Plan plan, RunState run, KernelContext ctx, Dictionary<Output, Tensor> feeds, MethodInfo preRunChecks, object[] preRunArgs)
    {
        var bytes = new long[plan.Steps.Length + 2];
        var a0 = GC.GetTotalAllocatedBytes(precise: true);
        preRunChecks.Invoke(null, preRunArgs);
        var a1 = GC.GetTotalAllocatedBytes(precise: true);
        foreach (var (output, slot) in plan.FeedSlots) run.Backend.Memory.Upload(feeds[output].Data, run.Slots[slot]!);
        var a2 = GC.GetTotalAllocatedBytes(precise: true);
        bytes[^2] = a1 - a0;
        bytes[^1] = a2 - a1;
        for (var s = 0; s < plan.Steps.Length; s++)
        {
            var step = plan.Steps[s];
            ctx.Step = step;
            var before = GC.GetTotalAllocatedBytes(precise: true);
            step.Execute(ctx);
            bytes[s] = GC.GetTotalAllocatedBytes(precise: true) - before;
        }
        return bytes;
    }

    private static void ReportAllocations(PlanStep[] steps, long[] bytes, long sessionRun)
    {
        Console.WriteLine();
        Console.WriteLine(string.Create(Inv, $"Managed allocations: Session.Run {sessionRun / 1024.0:F1} KB per step; pre-run checks {bytes[^2] / 1024.0:F1} KB, feed upload {bytes[^1] / 1024.0:F1} KB, kernels {bytes[..^2].Sum() / 1024.0:F1} KB. Largest kernel calls:"));
        foreach (var s in Enumerable.Range(0, steps.Length).Where(s => bytes[s] > 0).OrderByDescending(s => bytes[s]).Take(12))
            Console.WriteLine(string.Create(Inv, $"  #{s,-3} {bytes[s] / 1024.0,8:F1} KB  {steps[s].KernelType,-28} {Trim(steps[s].KernelName)}"));
    }

    private static double Us(double ticks) => ticks * 1e6 / Stopwatch.Frequency;

    private static double Median(IEnumerable<long> values)
    {
        var a = values.OrderBy(v => v).ToArray();
        return a.Length % 2 == 1 ? a[a.Length / 2] : (a[a.Length / 2 - 1] + a[a.Length / 2]) / 2.0;
    }

    private static void Report(int n, PlanStep[] steps, long[,] stepTicks, long[,] phases, long[] instrumented, long[] sessionRun, long[] trainOnBatch)
    {
        var stepMed = new double[steps.Length];
        var stepMin = new double[steps.Length];
        for (var s = 0; s < steps.Length; s++)
        {
            stepMed[s] = Us(Median(Enumerable.Range(0, n).Select(i => stepTicks[i, s])));
            stepMin[s] = Us(Enumerable.Range(0, n).Min(i => stepTicks[i, s]));
        }
        var kernelsMed = Us(Median(Enumerable.Range(0, n).Select(i => Enumerable.Range(0, steps.Length).Sum(s => stepTicks[i, s]))));
        var sumOfMedians = stepMed.Sum();
        double Phase(int p) => Us(Median(Enumerable.Range(0, n).Select(i => phases[i, p])));
        var tob = Us(Median(trainOnBatch));
        var sr = Us(Median(sessionRun));
        var ins = Us(Median(instrumented));

        Console.WriteLine(string.Create(Inv, $"W2 step profile: {n} iterations, {steps.Length} kernel calls, ProcessorCount {Environment.ProcessorCount}, load {LoadAverage()}"));
        Console.WriteLine(string.Create(Inv, $"median per step: TrainOnBatch {tob:F1} us | Session.Run {sr:F1} us | instrumented plan run {ins:F1} us | kernels only {kernelsMed:F1} us ({W2.StepFlops / kernelsMed / 1e3:F2} GFLOP/s)"));
        // On a quiet machine the two agree; a large gap means other processes preempted kernels in most runs
        // (each run is hit somewhere, so its sum is slower than the per-step medians suggest).
        Console.WriteLine(string.Create(Inv, $"kernel time: median of per-run sums {kernelsMed:F1} us, sum of per-step medians {sumOfMedians:F1} us, sum of per-step minima {stepMin.Sum():F1} us ({W2.StepFlops / stepMin.Sum() / 1e3:F2} GFLOP/s)"));
        Console.WriteLine();
        Console.WriteLine("Overheads (medians; 'by difference' rows mix the noise of two medians):");
        Console.WriteLine(string.Create(Inv, $"  Keras front end (TrainOnBatch - Session.Run)     {tob - sr,8:F1} us  {(tob - sr) / tob,6:P1}"));
        Console.WriteLine(string.Create(Inv, $"  Session.Run - instrumented (plan key, CheckFeeds) {sr - ins,8:F1} us  {(sr - ins) / tob,6:P1}"));
        string[] names = ["PreRunChecks", "feed upload (copy into the arena)", "kernels", "fetch download", "(nothing to release: static memory plan)"];
        for (var p = 0; p < 5; p++) Console.WriteLine(string.Create(Inv, $"  {names[p],-48} {Phase(p),8:F1} us  {Phase(p) / tob,6:P1}"));
        Console.WriteLine();

        Console.WriteLine("By op type (sum of per-step medians, share of their total; sum of per-step minima):");
        foreach (var grp in Enumerable.Range(0, steps.Length).GroupBy(s => steps[s].KernelType).OrderByDescending(g => g.Sum(s => stepMed[s])))
        {
            var t = grp.Sum(s => stepMed[s]);
            Console.WriteLine(string.Create(Inv, $"  {grp.Key,-36} x{grp.Count(),-3} {t,8:F1} us  {t / sumOfMedians,6:P1}  min {grp.Sum(s => stepMin[s]),8:F1} us"));
        }
        Console.WriteLine();

        Console.WriteLine("Top kernel calls (median us, share, min us; GFLOP/s at the median for MatMul):");
        foreach (var s in Enumerable.Range(0, steps.Length).OrderByDescending(s => stepMed[s]).Take(25))
        {
            var st = steps[s];
            var shapes = string.Join(", ", st.InputShapes.Select(x => x.ToString())) + " -> " + string.Join(", ", st.OutputShapes.Select(x => x.ToString()));
            var extra = st.KernelType.StartsWith("MatMul", StringComparison.Ordinal) ? string.Create(Inv, $"  {MatMulFlops(st) / stepMed[s] / 1e3,6:F1} GFLOP/s") : "";
            Console.WriteLine(string.Create(Inv, $"  #{s,-3} {stepMed[s],8:F1} us {stepMed[s] / sumOfMedians,6:P1} {stepMin[s],8:F1}  {st.KernelType,-28} {Trim(st.KernelName),-56} {shapes}{extra}"));
        }
        var rest = Enumerable.Range(0, steps.Length).OrderByDescending(s => stepMed[s]).Skip(25).Sum(s => stepMed[s]);
        Console.WriteLine(string.Create(Inv, $"  ... {steps.Length - 25} other calls: {rest:F1} us {rest / sumOfMedians:P1}"));
    }

    private static double MatMulFlops(PlanStep st)
    {
        var outShape = st.OutputShapes[0];
        var m = outShape.Size / outShape[outShape.Rank - 1];
        var n = outShape[outShape.Rank - 1];
        var k = st.InputShapes[0].Size / m;
        return 2.0 * m * n * k;
    }

    private static string Trim(string name) => name.Length <= 56 ? name : "…" + name[^55..];

    private static string LoadAverage()
    {
        try
        {
            return File.ReadAllText("/proc/loadavg").Trim();
        }
        catch (IOException)
        {
            return "n/a";
        }
    }
}
