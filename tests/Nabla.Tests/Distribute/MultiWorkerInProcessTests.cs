using NUnit.Framework;
using Nabla.Distribute;
using Nabla.Distributed;
using Nabla.Layers;
using Nabla.Samples;

namespace Nabla.Tests.Distribute;

/// <summary>
/// MultiWorkerMirroredStrategy's own logic (the chief's broadcast at Fit, chief-only writes, the broadcast
/// restore) over an in-process group, one thread per "worker" (Keras's default graph is per thread), so it
/// runs where MPI is not installed too.
/// </summary>
[NonParallelizable]
public sealed class MultiWorkerInProcessTests
{
    private string _dir = null!;

    [SetUp]
    public void CreateFolder() => _dir = Directory.CreateTempSubdirectory("nabla-mwms-").FullName;

    [TearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static T[] OnWorkers<T>(int workers, Func<ICollective, T> body)
    {
        var (results, errors) = RunWorkers(workers, body);
        Assert.That(errors, Is.All.Null, () => string.Join("\n", errors.Where(e => e is not null)));
        return results;
    }

    /// <summary>Runs <paramref name="body"/> on one thread per member of a fresh group; a member that throws aborts the group. Returns each member's result or error.</summary>
    private static (T[] Results, Exception?[] Errors) RunWorkers<T>(int workers, Func<ICollective, T> body)
    {
        var group = new InProcessGroup(workers, TimeSpan.FromSeconds(60));
        var results = new T[workers];
        var errors = new Exception?[workers];
        var threads = Enumerable.Range(0, workers).Select(r => new Thread(() =>
        {
            try
            {
                results[r] = body(group.Member(r));
            }
            catch (Exception e)
            {
                errors[r] = e;
                group.Abort(r, e);
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.That(t.Join(TimeSpan.FromSeconds(120)), "a worker hung");
        return (results, errors);
    }

    [Test]
    public void WorkersFromDifferentSeedsTrainAsOneProcessAndOnlyTheChiefWrites()
    {
        var (x, y) = DistributedCheck.W2Data(5 * DistributedCheck.GlobalBatch, seed: 7);
        var expected = MirroredStrategyTests.TrainW2(null, x, y);
        var weights = OnWorkers(2, c =>
        {
            using var strategy = new MultiWorkerMirroredStrategy(c);
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42UL + 1000UL * (ulong)c.Rank);
            var mine = Path.Combine(_dir, $"rank{c.Rank}");
            model.Fit(x, y, batchSize: DistributedCheck.GlobalBatch, epochs: 1, verbose: 0, shuffle: false, callbacks: [new CsvLogger(mine + ".csv")]);
            model.SaveWeights(mine + ".safetensors");
            Assert.That(strategy.IsChief, Is.EqualTo(c.Rank == 0));
            return model.GetWeights();
        });
        MirroredStrategyTests.AssertWeightsClose(weights[0], expected);
        for (var t = 0; t < weights[0].Length; t++)
            Assert.That(weights[1][t].ToDoubleArray(), Is.EqualTo(weights[0][t].ToDoubleArray()), "the workers' copies are bitwise equal");
        Assert.That(Directory.GetFiles(_dir).Select(Path.GetFileName).Order(), Is.EqualTo(new[] { "rank0.csv", "rank0.safetensors" }));
    }

    [Test]
    public void WorkersThatReadDifferentBatchesFailNamingTheRowCounts()
    {
        // Worker 1 is given 3 rows where the chief has 4: the row counts summed with the gradients expose it on the chief.
        var (_, errors) = RunWorkers(2, c =>
        {
            var rows = c.Rank == 0 ? 4 : 3;
            var (x, y) = DistributedCheck.W2Data(rows, seed: 3);
            using var strategy = new MultiWorkerMirroredStrategy(c);
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42);
            model.Fit(x, y, batchSize: rows, epochs: 1, verbose: 0, shuffle: false);
            return rows;
        });
        Assert.That(errors[0], Is.InstanceOf<InvalidOperationException>()
            .With.Message.Contains("worker 0: the replicas' shares add up to 3 rows, not the global batch's 4"));
    }

    /// <summary>Shuffled epochs: workers seeded differently still shuffle alike (the chief's seed), so two epochs match one process.</summary>
    [Test]
    public void ShuffledEpochsUseTheChiefsSeed()
    {
        var (x, y) = DistributedCheck.W2Data(3 * 128, seed: 9);
        var plain = DistributedCheck.BuildW2Network(null, seed: 42);
        plain.Fit(x, y, batchSize: 128, epochs: 2, verbose: 0, shuffle: true);
        var expected = plain.GetWeights();
        var weights = OnWorkers(2, c =>
        {
            using var strategy = new MultiWorkerMirroredStrategy(c);
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42UL + 1000UL * (ulong)c.Rank);
            model.Fit(x, y, batchSize: 128, epochs: 2, verbose: 0, shuffle: true);
            return model.GetWeights();
        });
        MirroredStrategyTests.AssertWeightsClose(weights[1], expected);
    }

    [Test]
    public void LoadWeightsIsABroadcastFromTheChief()
    {
        var file = Path.Combine(_dir, "w.safetensors");
        var source = DistributedCheck.BuildW2Network(null, seed: 5);
        source.SaveWeights(file);
        var expected = source.GetWeights();
        var weights = OnWorkers(2, c =>
        {
            using var strategy = new MultiWorkerMirroredStrategy(c);
            var model = DistributedCheck.BuildW2Network(strategy, seed: 42UL + 1000UL * (ulong)c.Rank);
            model.LoadWeights(c.Rank == 0 ? file : Path.Combine(_dir, "only-the-chief-reads-the-file"));
            return model.GetWeights();
        });
        foreach (var w in weights)
            for (var t = 0; t < expected.Length; t++) Assert.That(w[t].ToDoubleArray(), Is.EqualTo(expected[t].ToDoubleArray()));
    }

    [Test]
    public void AFailedLoadOnTheChiefFailsEveryWorker()
    {
        var group = new InProcessGroup(2, TimeSpan.FromSeconds(30));
        var errors = new Exception?[2];
        var threads = Enumerable.Range(0, 2).Select(r => new Thread(() =>
        {
            try
            {
                using var strategy = new MultiWorkerMirroredStrategy(group.Member(r)) { AbortJobOnFailure = false };
                var model = DistributedCheck.BuildW2Network(strategy, seed: 1);
                model.LoadWeights(Path.Combine(_dir, "missing.safetensors"));
            }
            catch (Exception e)
            {
                errors[r] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) Assert.That(t.Join(TimeSpan.FromSeconds(60)), "a worker hung");
        Assert.That(errors[0], Is.Not.Null, "the chief's own error");
        Assert.That(errors[1], Is.InstanceOf<CheckpointException>());
        Assert.That(errors[1]!.Message, Does.Contain("worker 1: the chief (rank 0) failed to load the weights"));
    }
}
