using System.Diagnostics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using Microsoft.ML.OnnxRuntime;
using Nabla.Layers;
using Nabla.Onnx;
using Nabla.Samples;

namespace Nabla.Bench;

/// <summary>
/// Forward pass of the W2 MLP (784-128-128-10, 235,146 MAC per image → 0.47 MFLOP) and of LeNet-5 (the W17 network,
/// 0.83 MFLOP per image) at batch 1 and 512: Nabla (Session.Run on Predict's graph, and Predict itself) against ONNX
/// Runtime on the file Nabla exports (graph optimizations ORT_ENABLE_ALL, sequential execution). Each job fixes the
/// thread count for both engines: DOTNET_PROCESSOR_COUNT for Nabla's Parallel.For, and the same number of ORT intra-op
/// threads (1 and 2). Goal (issue 16): Nabla ≥ 1.0× ORT at both batch sizes.
/// </summary>
/// <remarks>Run: <c>dotnet run -c Release --project bench/Nabla.Bench -- --filter '*OnnxBenchmarks*'</c>; the recurrent
/// samples: <c>NABLA_ONNX_MODELS=w9,w20 NABLA_ONNX_BATCHES=1,64</c> in front; a quick in-process smoke run:
/// <c>-- --onnx-quick [iterations] [models] [batches]</c>.</remarks>
[MemoryDiagnoser]
[Config(typeof(OnnxConfig))]
public class OnnxBenchmarks
{
    private Model _model = null!;
    private Tensor _x = null!;
    private Output[] _fetches = null!;
    private Dictionary<Output, Tensor> _feeds = null!;
    private InferenceSession _ort = null!;
    private Microsoft.ML.OnnxRuntime.SessionOptions _ortOptions = null!;
    private RunOptions _runOptions = null!;
    private OrtValue _ortInput = null!;
    private string[] _inputNames = null!, _outputNames = null!;

    /// <summary>Which model: w2 and lenet (issue 16's pair), or the list in NABLA_ONNX_MODELS (also w9, w20).</summary>
    [ParamsSource(nameof(Models))]
    public string Model { get; set; } = "w2";

    /// <summary>Images per forward pass: 1 and 512, or the list in NABLA_ONNX_BATCHES.</summary>
    [ParamsSource(nameof(Batches))]
    public int Batch { get; set; } = 1;

    /// <summary>The models of a run (NABLA_ONNX_MODELS, comma-separated; default w2,lenet).</summary>
    public static IEnumerable<string> Models => (Environment.GetEnvironmentVariable("NABLA_ONNX_MODELS") ?? "w2,lenet").Split(',');

    /// <summary>The batch sizes of a run (NABLA_ONNX_BATCHES, comma-separated; default 1,512).</summary>
    public static IEnumerable<int> Batches =>
        (Environment.GetEnvironmentVariable("NABLA_ONNX_BATCHES") ?? "1,512").Split(',').Select(b => int.Parse(b, System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>The W2 MLP of the sample (dropout is the identity at inference, and absent from the export).</summary>
    public static Sequential W2() => new(
    [
        new Dense(128, "relu", inputShape: [784]),
        new Dropout(0.3),
        new Dense(128, "relu"),
        new Dropout(0.3),
        new Dense(10, "softmax"),
    ], "mnist_mlp");

    [GlobalSetup]
    public void Setup()
    {
        Keras.ClearSession();
        _model = Model switch
        {
            "w2" => W2(),
            "lenet" => W17LeNet.LeNet(),
            "w9" => W9RecurrentAutoencoder.Build(),
            "w20" => W20SpamBiLstm.Build(),
            _ => throw new ArgumentException($"unknown model '{Model}' (w2, lenet; quick runs also w9, w20)"),
        };
        int[] sample = Model switch { "w2" => [784], "lenet" => [28, 28, 1], "w9" => [28, 28], _ => [W20SpamBiLstm.Length] };
        if (_model is Sequential { Inputs.Count: 0 } unbuilt) unbuilt.Build(sample);
        // W20 reads token ids (0 = padding, unmasked in W20) in its vocabulary.
        _x = Model == "w20"
            ? Tensor.FromArray(Enumerable.Range(0, Batch * sample[0]).Select(i => (int)((i * 2654435761L) % W20SpamBiLstm.Vocabulary)).ToArray(), Batch, sample[0])
            : Tensor.RandomUniform(new Shape([Batch, .. sample]), 0, 1, seed: 1);
        _model.Predict(_x, batchSize: Batch);
        _fetches = _model.Outputs.Select(o => o.Value).ToArray();
        _feeds = new Dictionary<Output, Tensor> { [_model.Inputs[0].Value] = _x };
        _model.Session.Run(_fetches, _feeds);

        var onnx = _model.ExportOnnxBytes();
        _ortOptions = new Microsoft.ML.OnnxRuntime.SessionOptions
        {
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            IntraOpNumThreads = Environment.ProcessorCount,
            InterOpNumThreads = 1,
        };
        _ort = new InferenceSession(onnx, _ortOptions);
        _runOptions = new RunOptions();
        _inputNames = [.. _ort.InputMetadata.Keys];
        _outputNames = [.. _ort.OutputMetadata.Keys];
        var dims = _x.Shape.Select(d => (long)d).ToArray();
        _ortInput = _x.DType == DType.Int32 ? OrtValue.CreateTensorValueFromMemory(_x.ToArray<int>(), dims) : OrtValue.CreateTensorValueFromMemory(_x.ToArray<float>(), dims);
        using var warm = _ort.Run(_runOptions, _inputNames, [_ortInput], _outputNames);
    }

    /// <summary>The session Nabla's benchmarks run in (for profiling).</summary>
    internal Session Session => _model.Session;

    [GlobalCleanup]
    public void Cleanup()
    {
        _ortInput.Dispose();
        _runOptions.Dispose();
        _ort.Dispose();
        _ortOptions.Dispose();
    }

    /// <summary>Nabla: one Session.Run of Predict's graph (the plan is cached).</summary>
    [Benchmark(Baseline = true)]
    public Tensor NablaSessionRun() => _model.Session.Run(_fetches, _feeds)[0];

    /// <summary>Nabla: Model.Predict with the whole batch in one step (adds batching and concatenation).</summary>
    [Benchmark]
    public Tensor NablaPredict() => _model.Predict(_x, batchSize: Batch);

    /// <summary>ONNX Runtime on the exported file, OrtValue API (no NamedOnnxValue copies).</summary>
    [Benchmark]
    public float OnnxRuntime()
    {
        using var results = _ort.Run(_runOptions, _inputNames, [_ortInput], _outputNames);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    /// <summary>
    /// In-process timing of the same three calls, for quick A/B checks (not a measurement of record: no process isolation).
    /// Each call is warmed up for a second of wall time first (tiered compilation promotes kernels only after ~30 calls plus
    /// a delay), then timed in <c>rounds</c> (default 5) rounds of about 0.2 s; the best round's mean is printed.
    /// Arguments: <c>[rounds] [model[,model]] [batch[,batch]]</c>.
    /// </summary>
    public static void Quick(string[] args)
    {
        var inv = System.Globalization.CultureInfo.InvariantCulture;
        var rounds = args.Length > 0 ? int.Parse(args[0], inv) : 5;
        var models = args.Length > 1 ? args[1].Split(',') : ["w2", "lenet"];
        var batches = args.Length > 2 ? args[2].Split(',').Select(x => int.Parse(x, inv)).ToArray() : [1, 512];
        foreach (var model in models)
            foreach (var batch in batches)
            {
                var b = new OnnxBenchmarks { Model = model, Batch = batch };
                b.Setup();
                double Time(Action a)
                {
                    var warm = Stopwatch.StartNew();
                    var calls = 0;
                    while (warm.ElapsedMilliseconds < 1000) { a(); calls++; }
                    var perRound = Math.Max(1, (int)(calls / 5.0));
                    var best = double.MaxValue;
                    for (var r = 0; r < rounds; r++)
                    {
                        var sw = Stopwatch.StartNew();
                        for (var i = 0; i < perRound; i++) a();
                        best = Math.Min(best, sw.Elapsed.TotalMilliseconds / perRound);
                    }
                    return best;
                }
                var run = Time(() => b.NablaSessionRun());
                var predict = Time(() => b.NablaPredict());
                var ort = Time(() => b.OnnxRuntime());
                Console.WriteLine(string.Create(inv, $"{model,-6} batch {batch,4}: Nabla Session.Run {run * 1000,9:F1} us, Predict {predict * 1000,9:F1} us, ORT ({Environment.ProcessorCount} threads) {ort * 1000,9:F1} us, ORT/Nabla {ort / run,5:F2}x"));
                b.Cleanup();
            }
    }
}

/// <summary>Two jobs, one and two threads for both engines (see <see cref="OnnxBenchmarks"/>).</summary>
public sealed class OnnxConfig : ManualConfig
{
    /// <summary>Creates the config.</summary>
    public OnnxConfig()
    {
        var job = Job.Default.WithWarmupCount(5).WithIterationCount(20);
        AddJob(OneProcessorJob.Of(job, "Threads1"));
        AddJob(job.WithEnvironmentVariable("DOTNET_PROCESSOR_COUNT", "2").WithId("Threads2"));
    }
}
