using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;

namespace Nabla.Bench;

/// <summary>
/// One W2 training step (see <see cref="W2"/>) on the Cpu device: through the Keras front end
/// (<c>Model.TrainOnBatch</c>: feeds dictionary, Session.Run, loss and accuracy to doubles, logs
/// dictionary), and the same request as a bare <c>Session.Run</c> of the fetches plus the update op, so
/// the difference is the front end's per-step cost. ~90.8 MFLOP per step (see <see cref="W2"/>).
/// bench/run-w2-step.sh runs this next to the PyTorch twin and prints ms/step and GFLOP/s.
/// Two jobs: all cores (the default, as a user would run it) and one core via DOTNET_PROCESSOR_COUNT=1
/// (kernels size their Parallel.For/GEMM thread count from Environment.ProcessorCount), to compare with
/// PyTorch at 1 and 2 threads.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(W2Config))]
public class W2StepBenchmarks
{
    private W2 _w2 = null!;
    private Session _session = null!;
    private Dictionary<Output, Tensor> _feeds = null!;
    private Output[] _fetches = null!;
    private Operation _update = null!;

    [GlobalSetup]
    public void Setup()
    {
        _w2 = W2.Create();
        _w2.Model.TrainOnBatch(_w2.X, _w2.Y); // builds the step, compiles the plan, initialises Adam's slots
        (_feeds, _fetches, _update) = _w2.TrainStepParts();
        _session = _w2.Model.Session;
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark(Baseline = true)]
    public IReadOnlyDictionary<string, double> TrainOnBatch() => _w2.Model.TrainOnBatch(_w2.X, _w2.Y);

    [Benchmark]
    public Tensor[] SessionRun() => _session.Run(_fetches, _feeds, _update);
}

/// <summary>The two jobs of <see cref="W2StepBenchmarks"/>; 5 warm-up and 20 measured iterations of ~0.5 s each.</summary>
public sealed class W2Config : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public W2Config()
    {
        var job = Job.Default.WithWarmupCount(5).WithIterationCount(20);
        // BenchmarkDotNet's default 2-minute limit on building its generated project was hit twice on the 2-core machine
        // (session (g) run2, session (j) run4), losing a round.
        BuildTimeout = TimeSpan.FromMinutes(6);
        AddJob(job.WithId("AllCores"));
        AddJob(OneProcessorJob.Of(job, "OneCore"));
    }
}
