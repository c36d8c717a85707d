using Nabla.Kernels;
using Nabla.Kernels.Cuda;
using Nabla.Optimizers;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Kernels.Cuda;

/// <summary>
/// Whole-step CUDA graphs (<see cref="SessionOptions.CudaGraphs"/>): a plan's second run is captured, later runs replay,
/// and replay gives exactly the results of eager launches; a changed plan or arena captures again; plans that cannot be
/// graphed (random ops, the host-staged AllReduce) fall back to eager launches with the same results; the switch off
/// never captures. One subclass per CUDA device.
/// </summary>
public abstract class CudaGraphTests
{
    /// <summary>A device whose sessions each open a fresh CUDA device (may call Assert.Ignore when it is absent).</summary>
    protected abstract Device Device { get; }

    /// <summary>The emulator the last session opened on <see cref="Device"/>, or null on a GPU.</summary>
    private protected virtual EmulatedCudaDevice? LastEmulator => null;

    private static readonly SessionOptions Eager = new() { CudaGraphs = false };

    private const int Features = 6, Hidden = 16, Classes = 4, Batch = 8;

    /// <summary>A small W2-like classifier: two dense layers, ReLU, optional dropout, sparse softmax cross-entropy, Adam.</summary>
    private static (Graph Graph, Output X, Output Y, Output Loss, Operation Train, Variable[] Weights) Classifier(bool dropout)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, Features), "x");
        var y = g.Placeholder(DType.Int32, new Shape(-1), "y");
        var w0 = g.Variable(new Shape(Features, Hidden), DType.Float32, Initializer.GlorotUniform(3), "w0");
        var b0 = g.Variable(new Shape(Hidden), DType.Float32, Initializer.Zeros, "b0");
        var w1 = g.Variable(new Shape(Hidden, Classes), DType.Float32, Initializer.GlorotUniform(4), "w1");
        var b1 = g.Variable(new Shape(Classes), DType.Float32, Initializer.Zeros, "b1");
        var h = g.Relu(g.MatMul(x, w0.Value) + b0.Value);
        if (dropout) h = g.Dropout(h, 0.25, 11);
        var logits = g.MatMul(h, w1.Value) + b1.Value;
        var loss = g.ReduceMean(g.SparseSoftmaxCrossEntropyWithLogits(y, logits));
        var train = new Adam(0.01).Minimize(loss);
        return (g, x, y, loss, train, [w0, b0, w1, b1]);
    }

    private static Dictionary<Output, Tensor> Feeds(Output x, Output y, int step)
    {
        var rng = new Random(100 + step);
        var xs = new float[Batch * Features];
        var ys = new int[Batch];
        for (var i = 0; i < xs.Length; i++) xs[i] = (float)(rng.NextDouble() * 2 - 1);
        for (var i = 0; i < ys.Length; i++) ys[i] = rng.Next(Classes);
        return new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(xs, Batch, Features), [y] = Tensor.FromArray(ys, Batch) };
    }

    /// <summary>Trains <paramref name="steps"/> steps; returns each step's loss and graph mode, and the final weights.</summary>
    private (float[] Losses, StepGraphMode[] Modes, string?[] Notes, float[][] Initial, float[][] Weights, int Graphs) Train(SessionOptions? options, bool dropout, int steps)
    {
        var (g, x, y, loss, train, weights) = Classifier(dropout);
        using var session = new Session(g, Device, options);
        session.Run(g.GlobalVariablesInitializer());
        var initial = weights.Select(w => session.ReadVariable(w).ToArray<float>()).ToArray();
        var losses = new float[steps];
        var modes = new StepGraphMode[steps];
        var notes = new string?[steps];
        for (var step = 0; step < steps; step++)
        {
            losses[step] = session.Run([loss], Feeds(x, y, step), train)[0].ToArray<float>()[0];
            modes[step] = session.LastRun!.Value.Graph;
            notes[step] = session.LastRun!.Value.GraphNote;
        }
        return (losses, modes, notes, initial, weights.Select(w => session.ReadVariable(w).ToArray<float>()).ToArray(), session.StepGraphCount);
    }

    [Test]
    public void ATrainingStepReplaysItsGraphWithTheResultsOfEagerLaunches()
    {
        const int steps = 5;
        var eager = Train(Eager, dropout: false, steps);
        Assert.That(eager.Modes, Is.All.EqualTo(StepGraphMode.Eager));
        var graphed = Train(null, dropout: false, steps);
        var emulator = LastEmulator;
        Assert.That(graphed.Modes, Is.EqualTo(new[]
        {
            StepGraphMode.Eager, StepGraphMode.Captured, StepGraphMode.Replayed, StepGraphMode.Replayed, StepGraphMode.Replayed,
        }), string.Join(" | ", graphed.Notes));
        Assert.That(graphed.Graphs, Is.EqualTo(1));
        // Bit for bit: a replay issues the very launches an eager run issues.
        Assert.That(graphed.Losses, Is.EqualTo(eager.Losses));
        for (var i = 0; i < eager.Weights.Length; i++) Assert.That(graphed.Weights[i], Is.EqualTo(eager.Weights[i]), $"weight {i}");
        for (var i = 0; i < eager.Weights.Length; i++) Assert.That(eager.Weights[i], Is.Not.EqualTo(eager.Initial[i]), $"the step trains weight {i}");
        if (emulator is not null)
        {
            Assert.That(emulator.CapturesBegun, Is.EqualTo(1));
            Assert.That(emulator.GraphLaunches, Is.EqualTo(steps - 1), "one capture launched, then three replays");
            Assert.That(emulator.LiveGraphs, Is.Zero, "the session destroyed its graph");
        }
    }

    [Test]
    public void AChangedPlanOrAGrownArenaCapturesAgain()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "x");
        var w = g.Constant(Tensor.FromArray([1f, -1f, 0.5f, 2f, 0f, -2f], 3, 2));
        var y = g.Softmax(g.Relu(g.MatMul(x, w)) * 2);
        using var session = new Session(g, Device);
        using var cpu = new Session(g);
        StepGraphMode Run(int rows, int seed)
        {
            var rng = new Random(seed);
            var xs = Enumerable.Range(0, rows * 3).Select(_ => (float)(rng.NextDouble() * 4 - 2)).ToArray();
            var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(xs, rows, 3) };
            var got = session.Run(y, feeds).ToArray<float>();
            Assert.That(got, Is.EqualTo(cpu.Run(y, feeds).ToArray<float>()).Within(1e-6f), $"{rows} rows, seed {seed}");
            return session.LastRun!.Value.Graph;
        }
        Assert.That(new[] { Run(2, 1), Run(2, 2), Run(2, 3) },
            Is.EqualTo(new[] { StepGraphMode.Eager, StepGraphMode.Captured, StepGraphMode.Replayed }));
        // Other feed shapes are another plan, with its own graph; its larger memory plan moves the arena.
        Assert.That(new[] { Run(64, 4), Run(64, 5) }, Is.EqualTo(new[] { StepGraphMode.Eager, StepGraphMode.Captured }));
        Assert.That(session.StepGraphCount, Is.EqualTo(2));
        // The first plan's buffers moved with the arena: its recorded work differs from its graph, which is captured again.
        Assert.That(new[] { Run(2, 6), Run(2, 7), Run(64, 8) },
            Is.EqualTo(new[] { StepGraphMode.Recaptured, StepGraphMode.Replayed, StepGraphMode.Replayed }));
    }

    [Test]
    public void WithTheSwitchOffNothingIsCaptured()
    {
        var eager = Train(Eager, dropout: false, 4);
        Assert.That(eager.Modes, Is.All.EqualTo(StepGraphMode.Eager));
        Assert.That(eager.Notes, Is.All.Null);
        Assert.That(eager.Graphs, Is.Zero);
        if (LastEmulator is { } emulator)
        {
            Assert.That(emulator.CapturesBegun, Is.Zero);
            Assert.That(emulator.GraphLaunches, Is.Zero);
        }
    }

    [Test]
    public void RandomOpsChangeTheirArgumentsEveryRunSoThePlanFallsBackToEagerWithTheSameResults()
    {
        const int steps = 6;
        var eager = Train(Eager, dropout: true, steps);
        var graphed = Train(null, dropout: true, steps);
        // Each run draws a new Philox counter, a launch argument: captured, captured again twice, then eager for good.
        Assert.That(graphed.Modes, Is.EqualTo(new[]
        {
            StepGraphMode.Eager, StepGraphMode.Captured, StepGraphMode.Recaptured, StepGraphMode.Recaptured, StepGraphMode.Eager, StepGraphMode.Eager,
        }));
        Assert.That(graphed.Notes[^1], Does.Contain("changed"));
        Assert.That(graphed.Graphs, Is.Zero);
        // Every captured run used its own counter: the masks, hence losses and weights, are those of eager runs.
        Assert.That(graphed.Losses, Is.EqualTo(eager.Losses));
        for (var i = 0; i < eager.Weights.Length; i++) Assert.That(graphed.Weights[i], Is.EqualTo(eager.Weights[i]), $"weight {i}");
    }

    [Test]
    public void AHostStagedAllReduceMakesThePlanEager()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(4), "a");
        var sum = g.AllReduce([g.Exp(a)])[0] * 3;
        using var session = new Session(g, Device);
        var feeds = new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([0f, 1f, -1f, 0.5f], 4) };
        var expected = new[] { 0f, 1f, -1f, 0.5f }.Select(v => MathF.Exp(v) * 3).ToArray();
        var modes = new List<StepGraphMode>();
        for (var i = 0; i < 3; i++)
        {
            Assert.That(session.Run(sum, feeds).ToArray<float>(), Is.EqualTo(expected).Within(1e-6f));
            modes.Add(session.LastRun!.Value.Graph);
        }
        // The second run's recording stops at AllReduce's download (a wait); the work recorded before it ran first, in order.
        Assert.That(modes, Is.EqualTo(new[] { StepGraphMode.Eager, StepGraphMode.Uncapturable, StepGraphMode.Eager }));
        Assert.That(session.LastRun!.Value.GraphNote, Does.Contain("device-to-host"));
        Assert.That(session.StepGraphCount, Is.Zero);
    }
}

/// <summary>CUDA graphs on the PTX emulator, plus its stream capture's own rules.</summary>
public class EmulatedCudaGraphTests : CudaGraphTests
{
    // The sessions own (and dispose) the devices; the list only lets a test read the last one's counters.
    private readonly List<EmulatedCudaDevice> _opened = [];

    protected override Device Device => CudaDevices.Over("cuda-emulator", () =>
    {
        var device = new EmulatedCudaDevice();
        _opened.Add(device);
        return device;
    });

    private protected override EmulatedCudaDevice? LastEmulator => _opened.Count == 0 ? null : _opened[^1];

    [Test]
    public void TheEmulatorRefusesAnAllocationInsideACaptureAndInvalidatesIt()
    {
        using var device = new EmulatedCudaDevice();
        var buffer = device.Allocate(256);
        device.BeginCapture(withGemm: false);
        device.Memset32(buffer, 7, 4);
        var refused = Assert.Throws<CudaException>(() => device.Allocate(256));
        Assert.That(refused!.Message, Does.Contain("CUDA_ERROR_STREAM_CAPTURE_UNSUPPORTED"));
        var invalid = Assert.Throws<CudaException>(() => device.EndCapture());
        Assert.That(invalid!.Message, Does.Contain("CUDA_ERROR_STREAM_CAPTURE_INVALIDATED").And.Contain("cuMemAlloc_v2"));
        Assert.That(device.Capturing, Is.False);
    }

    [Test]
    public void ACapturedGraphRunsNothingUntilLaunchedAndThenRunsOnEveryLaunch()
    {
        using var device = new EmulatedCudaDevice();
        var a = device.Allocate(16);
        var b = device.Allocate(16);
        device.Memset32(a, 1, 4);
        device.BeginCapture(withGemm: false);
        device.Memset32(b, 0, 4);
        device.CopyDeviceToDevice(b, a, 8);
        using var graph = device.EndCapture();
        Assert.That(Words(device, b), Is.EqualTo(new uint[] { 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF }), "fresh emulator memory, untouched by the capture");
        graph.Launch();
        Assert.That(Words(device, b), Is.EqualTo(new uint[] { 1, 1, 0, 0 }));
        device.Memset32(b, 5, 4);
        graph.Launch();
        Assert.That(Words(device, b), Is.EqualTo(new uint[] { 1, 1, 0, 0 }));
        Assert.That(device.GraphLaunches, Is.EqualTo(2));
    }

    [Test]
    public void AFailedCaptureIssuesTheRunEagerly()
    {
        var emulator = new EmulatedCudaDevice();
        using var recorder = new GraphRecorder(emulator);
        var a = recorder.Allocate(16);
        recorder.Begin();
        recorder.Memset32(a, 4, 4);
        // The stream is already capturing, so the recorder's capture cannot begin: the recorded work runs eagerly instead.
        emulator.BeginCapture(withGemm: false);
        IStepGraph? graph = null;
        var result = recorder.End(ref graph);
        Assert.That(result.Mode, Is.EqualTo(StepGraphMode.Uncapturable));
        Assert.That(result.Reason, Does.Contain("capturing the run failed").And.Contain("CUDA_ERROR_ILLEGAL_STATE"));
        Assert.That(graph, Is.Null);
        Assert.That(emulator.Capturing, Is.False);
        Assert.That(Words(emulator, a), Is.All.EqualTo(4u));
    }

    private static unsafe uint[] Words(EmulatedCudaDevice device, ulong address)
    {
        var words = new uint[4];
        fixed (uint* p = words) device.CopyDeviceToHost(p, address, 16);
        device.Synchronize();
        return words;
    }

    [Test]
    public void TheRecorderReplaysOnlyIdenticalWork()
    {
        var emulator = new EmulatedCudaDevice();
        using var recorder = new GraphRecorder(emulator);
        var a = recorder.Allocate(16);
        IStepGraph? graph = null;
        StepGraphMode Record(uint value)
        {
            recorder.Begin();
            recorder.Memset32(a, value, 4);
            return recorder.End(ref graph).Mode;
        }
        Assert.That(new[] { Record(1), Record(1), Record(2), Record(2) },
            Is.EqualTo(new[] { StepGraphMode.Captured, StepGraphMode.Replayed, StepGraphMode.Recaptured, StepGraphMode.Replayed }));
        Assert.That(emulator.LiveGraphs, Is.EqualTo(1), "the replaced graph was destroyed");
        graph!.Dispose();
        Assert.That(emulator.LiveGraphs, Is.Zero);
        // A wait while recording issues the recorded work first, in order.
        recorder.Begin();
        recorder.Memset32(a, 9, 4);
        var words = new uint[4];
        unsafe
        {
            fixed (uint* p = words) recorder.CopyDeviceToHost(p, a, 16);
        }
        recorder.Synchronize();
        IStepGraph? none = null;
        var result = recorder.End(ref none);
        Assert.That(result.Mode, Is.EqualTo(StepGraphMode.Uncapturable));
        Assert.That(result.Reason, Does.Contain("device-to-host"));
        Assert.That(words, Is.All.EqualTo(9u));
        Assert.That(none, Is.Null);
    }
}

/// <summary>CUDA graphs on GPU 0: stream capture, cuBLAS inside a capture, replay on the driver.</summary>
[Category("Gpu"), NonParallelizable]
public class GpuCudaGraphTests : CudaGraphTests
{
    protected override Device Device => CudaTestDevices.Gpu();
}
