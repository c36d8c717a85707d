using System.Diagnostics;
using System.Globalization;
using Nabla.Distribute;
using Nabla.Layers;
using Nabla.Optimizers;

namespace Nabla.Samples;

/// <summary>
/// The program the multi-process tests and the scaling benchmark start under mpirun
/// (<c>mpirun -np 2 dotnet Nabla.Samples.dll distributed-check --mode …</c>), one mode per check:
/// <list type="bullet">
/// <item><c>equivalence</c>: W2's network without dropout, 20 steps of a 256-row global batch under
/// MultiWorkerMirroredStrategy; each rank starts from other initial weights (seed 42 + 1000·rank), so only
/// the chief's broadcast makes them equal; the chief saves the final weights to <c>--out</c>.</item>
/// <item><c>restore</c>: the chief loads <c>--out</c> (the others get a path that does not exist) and every rank prints a checksum of its weights.</item>
/// <item><c>throw</c>: as equivalence, but rank <c>--rank</c> throws after batch <c>--step</c>.</item>
/// <item><c>die</c>: as equivalence, but rank <c>--rank</c>'s process exits after batch <c>--step</c> (no MPI_Abort).</item>
/// <item><c>scaling-plain</c>: the same without MPI or a strategy, the one-process baseline.</item>
/// <item><c>scaling-mirrored</c>: the same under MirroredStrategy with two CPU replicas in one process (no MPI).</item>
/// <item><c>scaling</c>: W2's network on random MNIST-shaped rows, <c>--steps</c> steps of a global batch of
/// <c>--batch</c>; the chief prints throughput and the all-reduce time and bytes per step.</item>
/// </list>
/// </summary>
internal static class DistributedCheck
{
    public const string Name = "distributed-check";
    public const int EquivalenceSteps = 20, GlobalBatch = 256;

    /// <summary>
    /// Steps run before timing, as <see cref="WarmupEpochs"/> epochs over <see cref="WarmupBatches"/> batches. The JIT first
    /// compiles without optimisation and re-compiles hot methods in the background (tiered compilation). With one processor
    /// the runtime waits 10× longer (1 s instead of 100 ms, TC_DelaySingleProcMultiplier) after the last tier-0 compilation
    /// before it counts calls, and Fit's epoch boundaries keep restarting that wait, so the 200 warm-up steps used before
    /// were not enough. Even after these 2,000 the default wait can leave a run on tier-0 code (`DOTNET_JitStdOutFile` with
    /// `DOTNET_JitDisasmSummary=1`: 0 to 601 tier-1 methods and 3.3–4.7 ms per step, against 938–1,039 and 2.9–3.4 ms
    /// with the wait at 1×; docs/results.md, session of 2026-12-02), which is why bench/run-w2-scaling.sh shortens it.
    /// </summary>
    private const int WarmupBatches = 50, WarmupEpochs = 40;

    public static int Run(string mode, string? output, int rank, int step, int steps, int batch)
    {
        if (mode == "scaling-plain") return ScalingPlain(steps, batch);
        if (mode == "scaling-mirrored") return ScalingMirrored(steps, batch);
        using var strategy = new MultiWorkerMirroredStrategy();
        var chief = strategy.IsChief;
        switch (mode)
        {
            case "equivalence":
            case "throw":
            case "die":
            {
                var model = BuildW2Network(strategy, seed: 42UL + 1000UL * (ulong)strategy.WorkerIndex);
                var (x, y) = W2Data(EquivalenceSteps * GlobalBatch, seed: 7);
                // Each worker names its own files: only the chief's may exist afterwards.
                var mine = output is null ? null : strategy.IsChief ? output : $"{output}.rank{strategy.WorkerIndex}";
                var callbacks = new List<Callback>();
                if (mode == "throw") callbacks.Add(new ThrowAt(rank, step, strategy.WorkerIndex));
                if (mode == "die") callbacks.Add(new DieAt(rank, step, strategy.WorkerIndex));
                if (mine is not null) callbacks.Add(new CsvLogger(mine + ".csv"));
                model.Fit(x, y, batchSize: GlobalBatch, epochs: 1, verbose: 0, shuffle: false, callbacks: callbacks);
                if (mine is not null) model.SaveWeights(mine); // the chief writes; the other workers skip
                Console.WriteLine($"rank {strategy.WorkerIndex}/{strategy.WorkerCount}: {strategy.Stats.Steps} steps, {strategy.Stats.AllReduceBytes / Math.Max(1, strategy.Stats.Steps)} B all-reduced per step");
                if (chief && strategy.Collective is Nabla.Distributed.MpiCollective mpi)
                    Console.WriteLine($"MPI: {mpi.Abi} ABI, {mpi.LibraryName}: {Nabla.Distributed.MpiCollective.LibraryVersion()}");
                return 0;
            }
            case "restore":
            {
                // Only the chief is given the real file: the others must receive the values by broadcast.
                var model = BuildW2Network(strategy, seed: 42UL + 1000UL * (ulong)strategy.WorkerIndex);
                var path = strategy.IsChief ? output! : "/nonexistent/only-the-chief-reads.safetensors";
                model.LoadWeights(path);
                var sum = model.GetWeights().Sum(w => w.ToDoubleArray().Select((v, i) => v * (1 + i % 7)).Sum());
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"rank {strategy.WorkerIndex} restored checksum {sum:R}"));
                return 0;
            }
            case "scaling":
            {
                var model = BuildW2Network(strategy, seed: 42);
                var (x, y) = W2Data(steps * batch, seed: 7);
                // Warm-up steps first: plan compilation and the JIT's tier-up to optimised code are not throughput.
                var (wx, wy) = W2Data(WarmupBatches * batch, seed: 8);
                model.Fit(wx, wy, batchSize: batch, epochs: WarmupEpochs, verbose: 0, shuffle: false);
                strategy.Stats.Reset();
                var cpu = Process.GetCurrentProcess().TotalProcessorTime;
                var clock = Stopwatch.StartNew();
                model.Fit(x, y, batchSize: batch, epochs: 1, verbose: 0, shuffle: false);
                var seconds = clock.Elapsed.TotalSeconds;
                var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / steps;
                var s = strategy.Stats;
                if (chief)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"scaling: workers {strategy.WorkerCount}, global batch {batch}, steps {s.Steps}, {steps * batch / seconds:F0} samples/s, {seconds * 1000 / steps:F3} ms/step, all-reduce {s.AllReduceTime.TotalMilliseconds / s.Steps:F3} ms/step, {s.AllReduceBytes / s.Steps} B/step in {s.AllReduceCalls / s.Steps} bucket(s), rank 0 CPU {cpuMs:F3} ms/step (MPI's busy-wait included), processors {Environment.ProcessorCount}"));
                return 0;
            }
            default:
                throw new ArgumentException($"unknown mode '{mode}': use equivalence, throw or scaling", nameof(mode));
        }
    }

    /// <summary>The baseline of the scaling benchmark: the same steps in one process with a plain Fit (no MPI, no strategy).</summary>
    private static int ScalingPlain(int steps, int batch)
    {
        var model = BuildW2Network(null, seed: 42);
        var (x, y) = W2Data(steps * batch, seed: 7);
        var (wx, wy) = W2Data(WarmupBatches * batch, seed: 8);
        model.Fit(wx, wy, batchSize: batch, epochs: WarmupEpochs, verbose: 0, shuffle: false);
        var cpu = Process.GetCurrentProcess().TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        model.Fit(x, y, batchSize: batch, epochs: 1, verbose: 0, shuffle: false);
        var seconds = clock.Elapsed.TotalSeconds;
        var cpuMs = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMilliseconds / steps;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scaling: plain Fit in one process, batch {batch}, steps {steps}, {steps * batch / seconds:F0} samples/s, {seconds * 1000 / steps:F3} ms/step, CPU {cpuMs:F3} ms/step, processors {Environment.ProcessorCount}"));
        return 0;
    }

    /// <summary>
    /// The same steps under <see cref="MirroredStrategy"/> with two CPU replicas in this process (each replica's share on
    /// its own thread, the gradients summed in process): the in-process twin of <c>scaling</c>.
    /// </summary>
    private static int ScalingMirrored(int steps, int batch)
    {
        using var strategy = new MirroredStrategy(2);
        var model = BuildW2Network(strategy, seed: 42);
        var (x, y) = W2Data(steps * batch, seed: 7);
        var (wx, wy) = W2Data(WarmupBatches * batch, seed: 8);
        model.Fit(wx, wy, batchSize: batch, epochs: WarmupEpochs, verbose: 0, shuffle: false);
        strategy.Stats.Reset();
        var clock = Stopwatch.StartNew();
        model.Fit(x, y, batchSize: batch, epochs: 1, verbose: 0, shuffle: false);
        var seconds = clock.Elapsed.TotalSeconds;
        var s = strategy.Stats;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"scaling: MirroredStrategy, 2 replicas in one process, global batch {batch}, steps {s.Steps}, {steps * batch / seconds:F0} samples/s, {seconds * 1000 / steps:F3} ms/step, all-reduce {s.AllReduceTime.TotalMilliseconds / s.Steps:F3} ms/step, processors {Environment.ProcessorCount}"));
        return 0;
    }

    /// <summary>W2's network (784-128-128-10, relu, softmax, Adam, categorical cross-entropy) without its dropout, compiled under <paramref name="strategy"/> (none: plain).</summary>
    public static Model BuildW2Network(DistributionStrategy? strategy, ulong seed)
    {
        Keras.ClearSession();
        Keras.Device = Device.Cpu;
        Keras.SetRandomSeed(seed);
        using var scope = strategy?.Scope();
        var model = new Sequential(
        [
            new Dense(128, "relu", inputShape: [784]),
            new Dense(128, "relu"),
            new Dense(10, "softmax"),
        ], "w2_no_dropout");
        model.Compile(new Adam(), new CategoricalCrossentropy(), "accuracy");
        return model;
    }

    /// <summary>Random MNIST-shaped rows: x ~ U(0, 1)^784, one-hot labels = the argmax of the first ten pixels.</summary>
    public static (Tensor X, Tensor Y) W2Data(int rows, int seed)
    {
        var random = new Random(seed);
        var x = new float[rows * 784];
        var y = new float[rows * 10];
        for (var i = 0; i < rows; i++)
        {
            var best = 0;
            for (var j = 0; j < 784; j++)
            {
                x[i * 784 + j] = (float)random.NextDouble();
                if (j < 10 && x[i * 784 + j] > x[i * 784 + best]) best = j;
            }
            y[i * 10 + best] = 1;
        }
        return (new Tensor(x, new Shape(rows, 784), DType.Float32), new Tensor(y, new Shape(rows, 10), DType.Float32));
    }

    /// <summary>Ends worker <paramref name="rank"/>'s process after batch <paramref name="step"/>, without MPI_Abort or MPI_Finalize: a crash.</summary>
    private sealed class DieAt(int rank, int step, int self) : Callback
    {
        public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs)
        {
            if (self != rank || batch != step) return;
            Console.Error.WriteLine($"rank {rank} exits abruptly after step {step}");
            Environment.Exit(3);
        }
    }

    /// <summary>Throws on worker <paramref name="rank"/> after batch <paramref name="step"/>: the failure the tests inject.</summary>
    private sealed class ThrowAt(int rank, int step, int self) : Callback
    {
        public override void OnTrainBatchEnd(int batch, IReadOnlyDictionary<string, double> logs)
        {
            if (self == rank && batch == step) throw new InvalidOperationException($"injected failure on rank {rank} at step {step}");
        }
    }
}
