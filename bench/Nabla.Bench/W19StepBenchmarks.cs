using System.Diagnostics;
using System.Globalization;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples;

namespace Nabla.Bench;

/// <summary>
/// One W19 training step on the Cpu device: the W19 sample's network (<see cref="W19SpamConv1D.Build"/>:
/// Embedding(10,000, 256, input_length 200) → Dropout(0.2) → Conv1D(256, 3, relu) → GlobalMaxPooling1D →
/// Dense(128, relu) → Dropout(0.2) → Dense(1, sigmoid), 2,789,889 parameters), Adam, binary cross-entropy,
/// one <c>Model.TrainOnBatch</c> of a fixed random batch of 500 sequences of 200 token ids in [1, 10,000) with
/// 0/1 labels. The PyTorch twin is <c>bench/peers/w19_torch.py</c> (same architecture, 1 and 2 threads);
/// <c>--w19-quick</c> (<see cref="W19Quick"/>) is the in-process stopwatch version.
/// </summary>
/// <remarks>
/// Napkin math (B = 500, T = 200, E = F = 256, kernel 3, valid padding, so T − 2 = 198 output steps):
/// <list type="bullet">
/// <item>Conv1D forward is 2·B·(T−2)·F·(3·E) = 2·500·198·256·768 = 38.9 GFLOP; the dense layers add
/// 2·B·(256·128 + 128) ≈ 0.03 GFLOP.</item>
/// <item>A training step is ≈ 3× the forward (the backward computes both the kernel gradient and the
/// gradient into the embedded sequence, each a product of the forward's size): ≈ 117 GFLOP.</item>
/// <item>Memory traffic besides the GEMMs: the embedding gather writes B·T·E floats (102 MB) and its gradient
/// scatters as many into a dense 10,000×256 table (10 MB, cleared each step); Adam reads parameters, gradients
/// and both moments and writes parameters and moments over 2.79 M floats, 7 × 11.2 MB ≈ 78 MB per step.</item>
/// </list>
/// So the step is compute-bound on the Conv1D GEMMs: the GFLOP/s of a step should be compared with
/// <c>--gemm-quick</c>'s. Jobs: all cores and one core (<see cref="W19Config"/>).
/// </remarks>
[MemoryDiagnoser]
[Config(typeof(W19Config))]
public class W19StepBenchmarks
{
    private Sequential _model = null!;
    private Tensor _x = null!, _y = null!;

    /// <summary>FLOPs of one training step by the napkin math above (3× the Conv1D and Dense forward).</summary>
    public const double StepFlops = 3.0 * (2.0 * Batch * (Length - 2) * 256 * (3 * 256) + 2.0 * Batch * (256 * 128 + 128));

    /// <summary>Batch size of the seed (W19: batch 500).</summary>
    public const int Batch = 500;

    /// <summary>Sequence length (input_length 200).</summary>
    public const int Length = W19SpamConv1D.Length;

    /// <summary>Builds and compiles the model and runs one step (which builds the step, compiles the plan and creates Adam's slots).</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_model, _x, _y) = Create();
        _model.TrainOnBatch(_x, _y);
    }

    /// <summary>Disposes the model's session.</summary>
    [GlobalCleanup]
    public void Cleanup() => _model.Session.Dispose();

    /// <summary>One training step through the Keras front end.</summary>
    [Benchmark]
    public IReadOnlyDictionary<string, double> TrainOnBatch() => _model.TrainOnBatch(_x, _y);

    /// <summary>The compiled W19 model and a fixed batch: token ids uniform in [1, 10,000), labels 0/1 (seeded).</summary>
    internal static (Sequential Model, Tensor X, Tensor Y) Create()
    {
        Keras.ClearSession();
        var model = W19SpamConv1D.Build();
        model.Compile(new Adam(), new BinaryCrossentropy());
        var random = new Random(19);
        var ids = new int[Batch * Length];
        for (var i = 0; i < ids.Length; i++) ids[i] = random.Next(1, W19SpamConv1D.Vocabulary);
        var labels = new float[Batch];
        for (var i = 0; i < labels.Length; i++) labels[i] = random.Next(2);
        return (model, Tensor.FromArray(ids, Batch, Length), Tensor.FromArray(labels, Batch, 1));
    }
}

/// <summary>The jobs of <see cref="W19StepBenchmarks"/>: all cores and one core (DOTNET_PROCESSOR_COUNT=1); a step takes seconds, so 2 warm-up and 8 measured iterations.</summary>
public sealed class W19Config : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public W19Config()
    {
        var job = Job.Default.WithWarmupCount(2).WithIterationCount(8).WithInvocationCount(1).WithUnrollFactor(1);
        AddJob(job.WithId("AllCores"));
        AddJob(OneProcessorJob.Of(job, "OneCore"));
    }
}

/// <summary>
/// Stopwatch timing of <see cref="W19StepBenchmarks"/>'s step in process
/// (<c>dotnet run -c Release -- --w19-quick [iterations]</c>, default 5 iterations): builds the model, warms up for
/// about 3 s (at least 2 steps) so tiered JIT settles, then prints each step and the median in ms and GFLOP/s at the
/// current thread count (<see cref="Environment.ProcessorCount"/>; run with DOTNET_PROCESSOR_COUNT=1 for one core).
/// </summary>
internal static class W19Quick
{
    public static void Run(string[] args)
    {
        var iterations = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5;
        var (model, x, y) = W19StepBenchmarks.Create();
        try
        {
            var warm = Stopwatch.StartNew();
            var warmSteps = 0;
            while (warmSteps < 2 || warm.Elapsed.TotalSeconds < 3)
            {
                model.TrainOnBatch(x, y);
                warmSteps++;
            }
            var times = new double[iterations];
            for (var i = 0; i < iterations; i++)
            {
                var clock = Stopwatch.StartNew();
                model.TrainOnBatch(x, y);
                times[i] = clock.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            var median = iterations % 2 == 1 ? times[iterations / 2] : (times[iterations / 2 - 1] + times[iterations / 2]) / 2;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"W19 training step (batch {W19StepBenchmarks.Batch}, length {W19StepBenchmarks.Length}), Cpu device, {Environment.ProcessorCount} threads, {warmSteps} warm-up steps, {iterations} timed"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  steps ms: {string.Join(", ", times.Select(t => t.ToString("F1", CultureInfo.InvariantCulture)))}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  median {median,9:F1} ms  {W19StepBenchmarks.StepFlops / (median * 1e-3) / 1e9,6:F2} GFLOP/s (napkin {W19StepBenchmarks.StepFlops / 1e9:F1} GFLOP per step)"));
        }
        finally
        {
            model.Session.Dispose();
        }
    }
}
