using NUnit.Framework;
using Nabla.Kernels;

namespace Nabla.Tests.Execution;

/// <summary>
/// The device-ready execution contract on the CPU: a training step allocates nothing after the first
/// run and transfers nothing to the host but its fetches; the memory plan is known before the run
/// and is what the arenas hold; deferring every kernel to the next wait changes no bit.
/// </summary>
public sealed class ExecutionContractTests
{
    [Test]
    public void W2StepDownloadsOnlyTheLossAndAllocatesNothingAfterTheFirstStep()
    {
        using var h = new W2StepHarness();
        h.Step();
        for (var i = 0; i < 3; i++)
        {
            h.Step();
            var run = h.Session.LastRun!.Value;
            Assert.Multiple(() =>
            {
                // Adam reads its hyper-parameters and step counter on the device; dropout, relu and the loss never come back to the host.
                Assert.That(run.Downloads, Is.EqualTo(1), "the fetched loss is the only device→host transfer");
                Assert.That(run.DownloadBytes, Is.EqualTo(4), "one float32");
                // The images feed only the first MatMul, which reads them in place where the backend can borrow the caller's array
                // (the synchronous host backend; the deferred one copies, since it may run the kernel after Run returns).
                var imagesBorrowed = h.Session.Backend.Memory.Borrow(new float[1], DType.Float32) is not null;
                Assert.That(run.Uploads, Is.EqualTo(imagesBorrowed ? 1 : 2), imagesBorrowed ? "the labels (the images are read in place)" : "the two feeds");
                Assert.That(run.Allocations, Is.EqualTo(0), "no allocation after the first step");
            });
        }
    }

    [Test]
    public void DeferredStepAlsoDownloadsOnlyTheLoss()
    {
        using var h = new W2StepHarness(options: new SessionOptions { DeferExecution = true });
        h.Step();
        h.Step();
        Assert.That(h.Session.LastRun!.Value.Downloads, Is.EqualTo(1));
        Assert.That(h.Session.LastRun!.Value.Allocations, Is.EqualTo(0));
    }

    [Test]
    public void PeakMemoryIsKnownBeforeTheFirstRunAndIsWhatTheArenasHold()
    {
        using var h = new W2StepHarness(batch: 64);
        var arenasAfterInit = h.Session.ArenaBytes;
        var allocationsAfterInit = h.Session.MemoryStats.Allocations;
        var plan = h.Session.Plan([h.Loss], h.Feeds, h.Train);
        Assert.That(h.Session.ArenaBytes, Is.EqualTo(arenasAfterInit), "Plan compiles without running");
        Assert.That(h.Session.MemoryStats.Allocations, Is.EqualTo(allocationsAfterInit), "Plan allocates nothing");
        var beforeSteps = h.Session.MemoryStats;
        h.Step();
        h.Step();
        var after = h.Session.MemoryStats;
        Assert.Multiple(() =>
        {
            Assert.That(h.Session.ArenaBytes, Is.EqualTo(plan.PeakBytes), "planned peak == the memory the run used for intermediate values");
            Assert.That(h.Session.LastRun!.Value.PlannedPeakBytes, Is.EqualTo(plan.PeakBytes));
            // Nothing but the arenas was allocated by the training runs (variables and constants existed after initialisation, except the
            // train graph's own constants, which are small): the allocator's peak grew by the arenas and those constants only.
            var arenaAllocations = plan.ArenaBytes.Count;
            Assert.That(after.Allocations - beforeSteps.Allocations, Is.LessThanOrEqualTo(arenaAllocations + CountConstants(h)), "arenas + constants on first use");
            Assert.That(plan.PeakBytes, Is.GreaterThanOrEqualTo(plan.LiveBytesLowerBound));
            Assert.That(plan.PeakBytes, Is.LessThanOrEqualTo(plan.LiveBytesLowerBound * 5 / 4), "greedy-by-size placement within 25 % of the lower bound");
        });
        TestContext.Out.WriteLine($"W2 step, batch 64: {plan.Kernels.Count} kernels, planned peak {plan.PeakBytes:N0} B, live lower bound {plan.LiveBytesLowerBound:N0} B");
    }

    private static int CountConstants(W2StepHarness h) =>
        h.Session.Plan([h.Loss], h.Feeds, h.Train).Kernels.Count(k => k.OpType == "Const");

    [Test]
    public void PlannedBuffersAreReusedAcrossLifetimes()
    {
        // A chain of 12 element-wise ops on 1 MB values needs 2 live buffers at a time (each kernel's input
        // and output): the feed dies after the first kernel, and the fetched result is one of the two.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(1 << 18));
        var y = x;
        for (var i = 0; i < 6; i++) y = g.Exp(g.Neg(y));
        using var s = new Session(g);
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.RandomUniform(new Shape(1 << 18), 0, 1, seed: 3) };
        var plan = s.Plan([y], feeds);
        const long mb = 1 << 20;
        Assert.That(plan.PeakBytes, Is.EqualTo(2 * mb), "two buffers, not 13");
        Assert.That(plan.LiveBytesLowerBound, Is.EqualTo(2 * mb));
        var expected = feeds[x].ToArray<float>().Select(v => { double r = v; for (var i = 0; i < 6; i++) r = Math.Exp(-r); return r; }).ToArray();
        OpHarnessAssert(expected, s.Run(y, feeds).ToArray<float>());
    }

    private static void OpHarnessAssert(double[] expected, float[] actual)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (var i = 0; i < actual.Length; i++)
            if (Math.Abs(actual[i] - expected[i]) > 1e-5 * (1 + Math.Abs(expected[i]))) Assert.Fail($"element {i}: {actual[i]} vs {expected[i]}");
    }

    [Test]
    public void WorkspacesArePlannedAndCounted()
    {
        // Reducing axes 0 and 2 of [2,3,4] is not one block: the input is transposed into a planned workspace first.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3, 4));
        var sum = g.ReduceSum(x, [0, 2]);
        using var s = new Session(g);
        var values = Enumerable.Range(0, 24).Select(i => (float)i).ToArray();
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(values, 2, 3, 4) };
        Assert.That(s.Plan([sum], feeds).WorkspaceBytes, Is.EqualTo(24 * 4));
        var expected = Enumerable.Range(0, 3).Select(j => (float)Enumerable.Range(0, 2).Sum(a => Enumerable.Range(0, 4).Sum(c => values[a * 12 + j * 4 + c]))).ToArray();
        Assert.That(s.Run(sum, feeds).ToArray<float>(), Is.EqualTo(expected));
    }

    [Test]
    public void DeferredExecutionChangesNoBitOfATrainingRun()
    {
        using var immediate = new W2StepHarness();
        using var deferred = new W2StepHarness(options: new SessionOptions { DeferExecution = true });
        for (var i = 0; i < 4; i++) Assert.That(BitConverter.SingleToInt32Bits(deferred.Step()), Is.EqualTo(BitConverter.SingleToInt32Bits(immediate.Step())), $"loss of step {i}");
        AssertBitIdentical(immediate.Weights(), deferred.Weights());
    }

    [Test]
    public void DeferredExecutionReallyDefers()
    {
        using var h = new W2StepHarness(options: new SessionOptions { DeferExecution = true });
        var backend = (DeferredBackend)h.Session.Backend;
        h.Session.Run(h.Train, h.Feeds);
        // A run with nothing to fetch never waits: the whole step is still queued, and a read drains it.
        Assert.That(backend.Pending, Is.GreaterThan(20));
        var w = h.Session.ReadVariable(h.Graph.TrainableVariables.First());
        Assert.That(backend.Pending, Is.EqualTo(0));
        Assert.That(w.ToArray<float>().All(float.IsFinite));
    }

    [Test]
    public void TwoSeededTrainingRunsGiveBitIdenticalWeightsOnBothCores()
    {
        Assume.That(Environment.ProcessorCount, Is.GreaterThanOrEqualTo(2), "fewer than 2 CPU cores: the parallel kernels need two to be exercised");
        // Batch 256 takes the GEMM and element-wise kernels over their parallel thresholds.
        using var a = new W2StepHarness(batch: 256, options: new SessionOptions { Deterministic = true });
        using var b = new W2StepHarness(batch: 256, options: new SessionOptions { Deterministic = true });
        for (var i = 0; i < 5; i++) { a.Step(); b.Step(); }
        AssertBitIdentical(a.Weights(), b.Weights());
    }

    [Test]
    public void DeterministicFloat32KernelsDoNotDependOnAlignmentOrJitTier()
    {
        // The review's case: Sin on 4,158 floats with 3 % NaN, ±∞ and huge values. Buffers are now 64-byte aligned,
        // and in Deterministic mode the functions whose vector code the JIT re-compiles with FMA (ReadyToRun → tier 1,
        // which changed sin(5.800971f) by one ulp after ~200 sessions) run through the C library instead.
        var rng = new Random(11);
        var values = Enumerable.Range(0, 4158).Select(_ => rng.NextDouble() < 0.03
            ? new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity, 3e38f, -1e30f }[rng.Next(5)]
            : (float)(rng.NextDouble() * 20 - 10)).ToArray();
        var expected = values.Select(v => BitConverter.SingleToInt32Bits((float)Math.Sin(v))).ToArray();
        var garbage = new List<byte[]>();
        for (var session = 0; session < 300; session++)
        {
            // Shift the heap between sessions so arrays land at different addresses.
            garbage.Add(new byte[rng.Next(1, 200)]);
            var g = new Graph();
            var x = g.Placeholder(DType.Float32, new Shape(values.Length));
            using var s = new Session(g, Device.Cpu, new SessionOptions { Deterministic = true });
            var bits = s.Run(g.Sin(x), new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(values) }).ToArray<float>().Select(BitConverter.SingleToInt32Bits).ToArray();
            if (!bits.SequenceEqual(expected))
            {
                var i = Enumerable.Range(0, bits.Length).First(k => bits[k] != expected[k]);
                Assert.Fail($"session {session}: element {i} (x = {values[i]}) is {BitConverter.Int32BitsToSingle(bits[i])}, expected {BitConverter.Int32BitsToSingle(expected[i])}");
            }
        }
        GC.KeepAlive(garbage);
    }

    [Test]
    public void DeterministicSoftmaxUsesTheCLibraryExp()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3, 5));
        var values = Enumerable.Range(0, 15).Select(i => Math.Sin(i) * 7).ToArray();
        using var s = new Session(g, Device.Cpu, new SessionOptions { Deterministic = true });
        var y = s.Run(g.Softmax(x), new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(values, 3, 5) }).ToArray<double>();
        for (var r = 0; r < 3; r++)
        {
            var row = values.Skip(5 * r).Take(5).ToArray();
            var m = row.Max();
            var e = row.Select(v => Math.Exp(v - m)).ToArray();
            // Same operations in the same order as the kernel: exp of (x − max), then a vector sum, then divisions.
            var sum = System.Numerics.Tensors.TensorPrimitives.Sum<double>(e);
            for (var j = 0; j < 5; j++) Assert.That(y[5 * r + j], Is.EqualTo(e[j] / sum), $"row {r} col {j}");
        }
    }

    [Test]
    public unsafe void HostBuffersAre64ByteAligned()
    {
        var memory = new Nabla.Kernels.Cpu.CpuBackend().Memory;
        foreach (var dtype in new[] { DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool })
            for (var n = 0; n < 40; n += 7)
            {
                var b = (HostBuffer)memory.Allocate(dtype, n);
                var arena = (HostBuffer)memory.AllocateArena(memory.ArenaOf(dtype), 64L * n + 64);
                foreach (var buffer in new[] { b, (HostBuffer)memory.View(arena, 64, dtype, n) })
                {
                    var address = (nuint)System.Runtime.CompilerServices.Unsafe.AsPointer(ref System.Runtime.InteropServices.MemoryMarshal.GetArrayDataReference(buffer.Storage))
                        + (nuint)(buffer.Offset * dtype.SizeOf());
                    Assert.That(address % 64, Is.EqualTo((nuint)0), $"{dtype} n={n}");
                }
            }
    }

    private static void AssertBitIdentical(float[][] a, float[][] b)
    {
        Assert.That(b, Has.Length.EqualTo(a.Length));
        for (var v = 0; v < a.Length; v++)
            Assert.That(b[v].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(a[v].Select(BitConverter.SingleToInt32Bits)), $"variable {v}");
    }
}
