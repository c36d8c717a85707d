using NUnit.Framework;
using Nabla.Data;
using Nabla.Distribute;
using Nabla.Layers;
using Nabla.Optimizers;
using Nabla.Samples;

namespace Nabla.Tests.Distribute;

/// <summary>
/// MirroredStrategy (CPU replicas in one process) trains exactly as one process does on the same global
/// batches: the replicas' row-weighted gradients, summed and divided by the global row count, are the
/// gradient of the mean loss over the global batch.
/// </summary>
[NonParallelizable] // Keras's default graph and seed are process-wide
public sealed class MirroredStrategyTests
{
    /// <summary>
    /// Float32 tolerance: the replicas' matmuls sum over their 128 rows and the all-reduce adds the two
    /// halves, where one process sums 256 rows in one pass; the different summation order moves the last
    /// bits of each gradient (~1e-7 relative), which 20 Adam steps keep near that size. Elements near
    /// zero are compared against 1e-5 of the tensor's largest magnitude.
    /// </summary>
    internal static void AssertWeightsClose(Tensor[] actual, Tensor[] expected, double rtol = 1e-5)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length));
        for (var t = 0; t < expected.Length; t++)
        {
            var a = actual[t].ToDoubleArray();
            var e = expected[t].ToDoubleArray();
            Assert.That(actual[t].Shape, Is.EqualTo(expected[t].Shape));
            var scale = e.Max(Math.Abs);
            var bad = Enumerable.Range(0, e.Length).Where(i => Math.Abs(a[i] - e[i]) > rtol * Math.Max(Math.Abs(e[i]), scale)).Take(3).ToList();
            Assert.That(bad, Is.Empty, () => $"weight {t} {expected[t].Shape}: " + string.Join("; ", bad.Select(i => $"[{i}] {a[i]:R} vs {e[i]:R}")));
        }
    }

    internal static Tensor[] TrainW2(DistributionStrategy? strategy, Tensor x, Tensor y, int batch = DistributedCheck.GlobalBatch)
    {
        var model = DistributedCheck.BuildW2Network(strategy, seed: 42);
        model.Fit(x, y, batchSize: batch, epochs: 1, verbose: 0, shuffle: false);
        return model.GetWeights();
    }

    [Test]
    public void TwoReplicasMatchOneProcessAfter20StepsOfW2()
    {
        var (x, y) = DistributedCheck.W2Data(DistributedCheck.EquivalenceSteps * DistributedCheck.GlobalBatch, seed: 7);
        var expected = TrainW2(null, x, y);
        using var strategy = new MirroredStrategy(2);
        var actual = TrainW2(strategy, x, y);
        Assert.That(strategy.Stats.Steps, Is.EqualTo(DistributedCheck.EquivalenceSteps));
        // W2 has 118,282 parameters, all-reduced once per step where they lie in the arena: each gradient at a 64-byte boundary,
        // so the output bias's 10 floats carry 6 floats of padding.
        // The same bucket carries the step's logs: [loss, accuracy, rows], padded to 16 floats.
        Assert.That(strategy.Stats.AllReduceBytes, Is.EqualTo(DistributedCheck.EquivalenceSteps * (118_282L + 6 + 16) * sizeof(float)));
        AssertWeightsClose(actual, expected);
        Assert.That(actual[0].ToDoubleArray(), Is.Not.EqualTo(DistributedCheck.BuildW2Network(null, 42).GetWeights()[0].ToDoubleArray()), "training must have moved the weights");
    }

    [Test]
    public void BatchNormalizationStateUpdatesAreRefusedUnderAStrategyRatherThanLeftToDrift()
    {
        Keras.ClearSession();
        using var strategy = new MirroredStrategy(2);
        using var scope = strategy.Scope();
        var model = new Sequential([new Dense(4, inputShape: [3]), new BatchNormalization(), new Dense(1)]);
        model.Compile(new SGD(0.1), new MeanSquaredError());
        var x = Tensor.RandomUniform(new Shape(8, 3), 0, 1, seed: 1);
        var y = Tensor.RandomUniform(new Shape(8, 1), 0, 1, seed: 2);
        var ex = Assert.Throws<NotSupportedException>(() => model.Fit(x, y, batchSize: 8, epochs: 1, verbose: 0));
        Assert.That(ex!.Message, Does.Contain("not synchronised across replicas"));
    }

    /// <summary>
    /// Uneven shares: 3 replicas, many small buckets, and a last global batch of 1 row, where two replicas
    /// have no rows. The loss, accuracy and weights still match one process.
    /// </summary>
    [Test]
    public void UnevenSharesAndEmptyReplicasMatchOneProcess()
    {
        var (x, y) = W3DistributedLogistic.MakeData(3 * 100 + 1, seed: 3);
        (Tensor[] Weights, History History) Train(DistributionStrategy? strategy)
        {
            Keras.ClearSession();
            Keras.SetRandomSeed(5);
            using var scope = strategy?.Scope();
            var model = new Sequential([new Dense(16, "relu", inputShape: [10]), new Dense(1, "sigmoid")]);
            model.Compile(new SGD(0.2), new BinaryCrossentropy(), "accuracy");
            var history = model.Fit(x, y, batchSize: 100, epochs: 2, verbose: 0, shuffle: true);
            return (model.GetWeights(), history);
        }
        var (expected, expectedHistory) = Train(null);
        using var strategy = new MirroredStrategy(3) { BucketBytes = 64 };
        var (actual, history) = Train(strategy);
        AssertWeightsClose(actual, expected);
        Assert.That(strategy.Stats.AllReduceCalls / strategy.Stats.Steps, Is.GreaterThan(1), "64-byte buckets split the 193 parameters");
        foreach (var name in new[] { "loss", "accuracy" })
            Assert.That(history[name], Is.EqualTo(expectedHistory[name]).Within(1e-5), name);
    }

    [Test]
    public void ADatasetIsSplitAmongReplicasToo()
    {
        var (x, y) = W3DistributedLogistic.MakeData(200, seed: 4);
        Tensor[] Train(DistributionStrategy? strategy)
        {
            Keras.ClearSession();
            Keras.SetRandomSeed(6);
            using var scope = strategy?.Scope();
            var model = new Sequential([new Dense(16, "relu", inputShape: [10]), new Dense(1, "sigmoid")]);
            model.Compile(new SGD(0.2), new BinaryCrossentropy());
            model.Fit(Dataset.FromTensorSlices(x, y).Batch(64), epochs: 1, verbose: 0);
            return model.GetWeights();
        }
        var expected = Train(null);
        using var strategy = new MirroredStrategy(2);
        AssertWeightsClose(Train(strategy), expected);
    }

    /// <summary>
    /// One replica fails (its rows hold a NaN, caught by CheckNumerics) while the other waits in the
    /// all-reduce: the step fails promptly with the failing replica's error, not a hang or the abort it caused.
    /// </summary>
    [Test]
    public void AReplicaThatFailsFailsTheStepWithItsError()
    {
        var (x, y) = W3DistributedLogistic.MakeData(64, seed: 2);
        var data = x.ToArray<float>();
        data[1 * 10 + 3] = float.NaN; // row 1: replica 1's first row
        var poisoned = new Tensor(data, x.Shape, DType.Float32);
        var saved = Keras.SessionOptions;
        try
        {
            Keras.ClearSession();
            Keras.SessionOptions = saved with { CheckNumerics = true };
            using var strategy = new MirroredStrategy(2) { Timeout = TimeSpan.FromSeconds(20) };
            using var scope = strategy.Scope();
            var model = new Sequential([new Dense(4, "relu", inputShape: [10]), new Dense(1, "sigmoid")]);
            model.Compile(new SGD(0.1), new BinaryCrossentropy());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var e = Assert.Throws<InvalidOperationException>(() => model.Fit(poisoned, y, batchSize: 64, epochs: 1, verbose: 0, shuffle: false));
            Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(10)), "the healthy replica must not wait for the timeout");
            Assert.That(e!.Message, Does.StartWith("MirroredStrategy: "));
            Assert.That(e.InnerException, Is.InstanceOf<InvalidArgumentException>(), e.ToString());
            Assert.That(e.InnerException!.Message, Does.Contain("NaN"));
        }
        finally
        {
            Keras.SessionOptions = saved;
        }
    }

    [Test]
    public void WithAReplicaPerCoreEachReplicasKernelsStayOnItsThread()
    {
        // Replica 0 runs on the calling thread: its parallel loops would show in this thread's pooled-loop count.
        var (x, y) = DistributedCheck.W2Data(4 * 256, seed: 5);
        var before = Nabla.Kernels.KernelThreads.PooledLoops;
        TrainW2(null, x, y);
        var plain = Nabla.Kernels.KernelThreads.PooledLoops - before;
        if (!Nabla.Kernels.KernelThreads.Disabled) Assert.That(plain, Is.GreaterThan(0), "one process's W2 products run on the pool");
        using var strategy = new MirroredStrategy(Math.Max(2, Environment.ProcessorCount));
        var model = DistributedCheck.BuildW2Network(strategy, seed: 42);
        model.Fit(x, y, batchSize: 256, epochs: 1, verbose: 0, shuffle: false); // initialisation may use the pool; the steps below must not
        before = Nabla.Kernels.KernelThreads.PooledLoops;
        model.Fit(x, y, batchSize: 256, epochs: 1, verbose: 0, shuffle: false);
        Assert.That(Nabla.Kernels.KernelThreads.PooledLoops - before, Is.Zero, "replica 0's loops ran on its own thread");
        Assert.That(strategy.Stats.Steps, Is.EqualTo(8), "two Fits of 4 steps");
    }

    [Test]
    public void TrainOnBatchIsASynchronousStepToo()
    {
        var (x, y) = DistributedCheck.W2Data(3 * 64, seed: 11);
        (Tensor[] Weights, double Loss) Train(DistributionStrategy? strategy)
        {
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42);
            var loss = 0.0;
            for (var i = 0; i < 3; i++)
                loss = model.TrainOnBatch([Nabla.Data.Rows.Slice(x, i * 64, 64)], [Nabla.Data.Rows.Slice(y, i * 64, 64)])["loss"];
            return (model.GetWeights(), loss);
        }
        var (expected, expectedLoss) = Train(null);
        using var strategy = new MirroredStrategy(2);
        var (actual, loss) = Train(strategy);
        AssertWeightsClose(actual, expected);
        Assert.That(loss, Is.EqualTo(expectedLoss).Within(1e-5 * expectedLoss));
        Assert.That(strategy.Stats.Steps, Is.EqualTo(3));
    }

    [Test]
    public void AReplicaWithoutRowsAddsNothingToTheLogs()
    {
        // A global batch of one row on two replicas: replica 1 has no rows, so its batch means are 0/0. The logs (summed in the
        // gradients' first bucket) must still be replica 0's, and the step must equal one process's.
        var (x, y) = DistributedCheck.W2Data(3, seed: 5);
        (Tensor[] Weights, IReadOnlyDictionary<string, double> Logs) Train(DistributionStrategy? strategy)
        {
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42);
            IReadOnlyDictionary<string, double> logs = new Dictionary<string, double>();
            for (var i = 0; i < 3; i++) logs = model.TrainOnBatch([Nabla.Data.Rows.Slice(x, i, 1)], [Nabla.Data.Rows.Slice(y, i, 1)]);
            return (model.GetWeights(), logs);
        }
        var (expected, expectedLogs) = Train(null);
        using var strategy = new MirroredStrategy(2);
        var (actual, logs) = Train(strategy);
        AssertWeightsClose(actual, expected);
        foreach (var name in new[] { "loss", "accuracy" })
        {
            Assert.That(double.IsFinite(logs[name]), name);
            Assert.That(logs[name], Is.EqualTo(expectedLogs[name]).Within(1e-5 * Math.Max(1, expectedLogs[name])), name);
        }
    }

    [Test]
    public void ScopeSetsAndRestoresTheCurrentStrategy()
    {
        using var outer = new MirroredStrategy(2);
        using var inner = new MirroredStrategy(3);
        Assert.That(DistributionStrategy.Current, Is.Null);
        using (outer.Scope())
        {
            Assert.That(DistributionStrategy.Current, Is.SameAs(outer));
            using (inner.Scope()) Assert.That(DistributionStrategy.Current, Is.SameAs(inner));
            Assert.That(DistributionStrategy.Current, Is.SameAs(outer));
            var model = DistributedCheck.BuildW2Network(null, 1);
            Assert.That(model.DistributeStrategy, Is.SameAs(outer), "Compile binds the model to the strategy in scope");
        }
        Assert.That(DistributionStrategy.Current, Is.Null);
        Assert.That(outer.NumReplicasInSync, Is.EqualTo(2));
        Assert.That(outer.IsChief, Is.True);
    }

    [Test]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MirroredStrategy(0));
        Assert.Throws<ArgumentException>(() => new MirroredStrategy(Array.Empty<Device>()));
        using var s = new MirroredStrategy(2);
        Assert.Throws<ArgumentOutOfRangeException>(() => s.BucketBytes = 0);
    }
}
