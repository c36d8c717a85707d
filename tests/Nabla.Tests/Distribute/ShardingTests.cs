using NUnit.Framework;
using Nabla.Data;
using Nabla.Distribute;

namespace Nabla.Tests.Distribute;

/// <summary>Dataset.Shard and the row split of a global batch partition the data: every element exactly once per epoch.</summary>
public sealed class ShardingTests
{
    [TestCase(0, 1)]
    [TestCase(1, 2)]
    [TestCase(7, 1)]
    [TestCase(7, 2)]
    [TestCase(7, 3)]
    [TestCase(10, 4)]
    [TestCase(3, 5)]
    public void DatasetShardsPartitionTheElements(int n, int count)
    {
        var data = Dataset.Range(n);
        var seen = new List<long>();
        for (var index = 0; index < count; index++)
        {
            var shard = data.Shard(count, index);
            var elements = shard.AsEnumerable().Select(t => t.ToScalar<long>()).ToList();
            Assert.That(shard.Cardinality, Is.EqualTo(elements.Count), $"cardinality of shard {index}");
            Assert.That(elements, Is.All.Matches<long>(e => e % count == index));
            seen.AddRange(elements);
        }
        Assert.That(seen.Order(), Is.EqualTo(Enumerable.Range(0, n).Select(i => (long)i)), "each element in exactly one shard");
    }

    [Test]
    public void ShardingAShuffledRepeatedDatasetPartitionsEachEpoch()
    {
        // Same seed on every worker: each epoch's order is the same everywhere, and the shards split it.
        var epochs = 3;
        var n = 11;
        var perWorker = Enumerable.Range(0, 2).Select(w =>
            Dataset.Range(n).Shuffle(n, seed: 9).Repeat(epochs).Shard(2, w).AsEnumerable().Select(t => t.ToScalar<long>()).ToList()).ToList();
        var all = Dataset.Range(n).Shuffle(n, seed: 9).Repeat(epochs).AsEnumerable().Select(t => t.ToScalar<long>()).ToList();
        var merged = new List<long>();
        for (var i = 0; i < all.Count; i++) merged.Add(perWorker[i % 2][i / 2]);
        Assert.That(merged, Is.EqualTo(all));
        for (var e = 0; e < epochs; e++)
            Assert.That(all.Skip(e * n).Take(n).Order(), Is.EqualTo(Enumerable.Range(0, n).Select(i => (long)i)), $"epoch {e} is a permutation");
    }

    [TestCase(256, 2)]
    [TestCase(255, 2)]
    [TestCase(1, 3)]
    [TestCase(10, 3)]
    public void GlobalBatchRowsArePartitionedAmongReplicas(int size, int replicas)
    {
        var rows = Enumerable.Range(0, replicas).SelectMany(r => BatchShard.RowsOf(size, r, replicas)).Order().ToList();
        Assert.That(rows, Is.EqualTo(Enumerable.Range(0, size)));
    }

    [Test]
    public void BadShardArgumentsAreRejected()
    {
        var data = Dataset.Range(4);
        Assert.That(() => data.Shard(0, 0), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("at least 1"));
        Assert.That(() => data.Shard(2, 2), Throws.InstanceOf<ArgumentOutOfRangeException>().With.Message.Contains("[0, 2)"));
        Assert.That(() => data.Shard(2, -1), Throws.InstanceOf<ArgumentOutOfRangeException>());
        Assert.That(Dataset.Range(4).Repeat().Shard(2, 1).Cardinality, Is.EqualTo(Dataset.InfiniteCardinality));
    }
}
