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

    [TestCase(false, 2)]
    [TestCase(true, 2)]
    [TestCase(true, 3)]
    public void AnArrayFeedGathersTheSameShareAsTheGlobalBatchSplit(bool shuffle, int count)
    {
        // 23 rows in batches of 8: two full batches and a ragged one of 7; with 3 workers the last share of a batch can be short.
        var x = Tensor.FromArray(Enumerable.Range(0, 23 * 2).Select(i => (float)i).ToArray(), 23, 2);
        var y = Tensor.FromArray(Enumerable.Range(0, 23).ToArray(), 23);
        for (var index = 0; index < count; index++)
        {
            // Batches (and shares) live in buffers reused by the next one: compare them in lock step.
            using var whole = new Nabla.Layers.ArrayBatchFeed([x], [y], 8, shuffle ? new Random(5) : null).Epoch(0).GetEnumerator();
            using var shares = new Nabla.Layers.ArrayBatchFeed([x], [y], 8, shuffle ? new Random(5) : null) { Shard = (index, count) }.Epoch(0).GetEnumerator();
            var split = new BatchShard(index, count);
            var b = 0;
            for (; whole.MoveNext(); b++)
            {
                Assert.That(shares.MoveNext(), Is.True, $"batch {b} is missing");
                Assert.That(shares.Current.Size, Is.EqualTo(whole.Current.Size), "batches keep their global size");
                var expected = split.Take(whole.Current);
                Assert.That(shares.Current.LocalRows, Is.EqualTo(expected.Size), "the feed gathered only the share");
                Assert.That(shares.Current.X[0].Shape[0], Is.EqualTo(expected.Size));
                var share = split.Take(shares.Current);
                Assert.That(share.Size, Is.EqualTo(expected.Size));
                Assert.That(share.X[0].ToDoubleArray(), Is.EqualTo(expected.X[0].ToDoubleArray()), $"worker {index}, batch {b}: x");
                Assert.That(share.Y[0].ToDoubleArray(), Is.EqualTo(expected.Y[0].ToDoubleArray()), $"worker {index}, batch {b}: y");
            }
            Assert.That(shares.MoveNext(), Is.False);
            Assert.That(b, Is.EqualTo(3));
        }
    }
}
