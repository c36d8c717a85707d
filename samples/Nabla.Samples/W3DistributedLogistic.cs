using System.Diagnostics;
using System.Globalization;
using Nabla.Distribute;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Samples;

/// <summary>
/// W3 (SEEDS.md §1 and §6): random data 1M × 10, Dense(16, relu) → Dense(1, sigmoid), SGD(0.2), binary
/// cross-entropy (193 parameters), trained under a distribution strategy:
/// <c>--strategy mirrored</c> (two CPU replicas in this process, the default),
/// <c>--strategy multi-worker</c> (one replica per MPI process: <c>mpirun -np 2 … w3-distributed --strategy multi-worker</c>),
/// or <c>none</c> (plain Fit, for comparison).
/// </summary>
/// <remarks>
/// The seed's data is random and says nothing of the labels; random labels leave nothing to learn (the loss
/// stays at ln 2), so here a label is 1 when a fixed random linear function of the row is positive:
/// x ~ U(−1, 1)^10, y = [x·w* + 0.1 &gt; 0] with w* ~ N(0, 1) drawn from the same seed. Every worker builds the
/// same data from the seed; each trains on its rows of every global batch.
/// </remarks>
internal static class W3DistributedLogistic
{
    public const string Name = "w3-distributed";
    public const string Description = "Random 1M x 10 data, Dense(16, relu)-Dense(1, sigmoid), SGD(0.2), binary CE, under MirroredStrategy or MultiWorkerMirroredStrategy (193 params)";

    /// <summary>The parameter count SEEDS.md gives for W3.</summary>
    public const int SeedParams = 193;

    public static SampleResult Run(SampleOptions options, string strategyName, int replicas)
    {
        using var strategy = strategyName switch
        {
            "mirrored" => (DistributionStrategy)new MirroredStrategy(replicas),
            "multi-worker" => new MultiWorkerMirroredStrategy(),
            "none" => null,
            _ => throw new ArgumentException($"unknown strategy '{strategyName}': use mirrored, multi-worker or none", nameof(strategyName)),
        };
        var chief = strategy?.IsChief ?? true;
        var log = chief ? Console.Out : TextWriter.Null;
        options.Begin();
        var rows = options.Quick ? 65_536 : 1_000_000;
        var (x, y) = MakeData(rows, seed: 42);
        var clock = Stopwatch.StartNew();
        using var scope = strategy?.Scope();
        var model = new Sequential(
        [
            new Dense(16, "relu", inputShape: [10]),
            new Dense(1, "sigmoid"),
        ], "w3");
        model.Compile(new SGD(0.2), new BinaryCrossentropy(), "accuracy");
        model.Summary(line => log.WriteLine(line));
        log.WriteLine($"strategy {strategyName}: {strategy?.NumReplicasInSync ?? 1} replica(s) in sync, {strategy?.WorkerCount ?? 1} worker(s)");
        var epochs = options.EpochsOr(full: 1, quick: 1);
        var batch = options.BatchSizeOr(1024);
        var csv = options.PathFor("log.csv"); // CsvLogger writes on the chief only
        var history = model.Fit(x, y, batchSize: batch, epochs: epochs, verbose: chief ? 2 : 0, shuffle: false, callbacks: [new CsvLogger(csv)]);
        var elapsed = clock.Elapsed;
        var result = new SampleResult(Name);
        result.Metrics["params"] = model.CountParams();
        result.Metrics["loss"] = history["loss"][^1];
        result.Metrics["accuracy"] = history["accuracy"][^1];
        result.Metrics["samples_per_second"] = (double)rows * epochs / elapsed.TotalSeconds;
        if (strategy is not null)
        {
            var s = strategy.Stats;
            result.Metrics["allreduce_ms_per_step"] = s.AllReduceTime.TotalMilliseconds / Math.Max(1, s.Steps);
            result.Metrics["allreduce_bytes_per_step"] = (double)s.AllReduceBytes / Math.Max(1, s.Steps);
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"all-reduce: {s.Steps} steps, {s.AllReduceCalls} calls, {(double)s.AllReduceBytes / Math.Max(1, s.Steps):F0} B/step, {s.AllReduceTime.TotalMilliseconds / Math.Max(1, s.Steps):F3} ms/step"));
        }
        if (!chief) return result;
        result.Files.Add(csv);
        return result.Report(string.Create(CultureInfo.InvariantCulture,
            $"W3: {model.CountParams()} params (seed {SeedParams}), loss {result.Metrics["loss"]:F4}, accuracy {result.Metrics["accuracy"]:F4}, {result.Metrics["samples_per_second"]:F0} samples/s"), epochs, elapsed);
    }

    /// <summary>W3's data: x ~ U(−1, 1)^[rows, 10], y = [x·w* + 0.1 &gt; 0] as float32 [rows, 1].</summary>
    public static (Tensor X, Tensor Y) MakeData(int rows, int seed)
    {
        var random = new Random(seed);
        var w = new double[10];
        for (var j = 0; j < 10; j++) w[j] = random.NextDouble() * 2 - 1;
        var x = new float[rows * 10];
        var y = new float[rows];
        for (var i = 0; i < rows; i++)
        {
            var s = 0.1;
            for (var j = 0; j < 10; j++)
            {
                var v = (float)(random.NextDouble() * 2 - 1);
                x[i * 10 + j] = v;
                s += v * w[j];
            }
            y[i] = s > 0 ? 1 : 0;
        }
        return (new Tensor(x, new Shape(rows, 10), DType.Float32), new Tensor(y, new Shape(rows, 1), DType.Float32));
    }
}
