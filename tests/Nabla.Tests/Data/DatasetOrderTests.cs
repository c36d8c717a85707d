using Nabla.Data;
using NUnit.Framework;
using static Nabla.Tests.Data.DatasetTests;

namespace Nabla.Tests.Data;

/// <summary>
/// Shuffle's buffer semantics and the three orders of shuffle / batch / repeat from SEEDS.md §2, each
/// checked for the properties tf.data guarantees rather than for one particular random order.
/// </summary>
public class DatasetOrderTests
{
    [Test]
    public void ShuffleWithBufferOneIsTheIdentity()
    {
        Assert.That(Scalars(Dataset.Range(10).Shuffle(1, seed: 5)), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
        Assert.That(Scalars(Dataset.Range(10).Shuffle(1)), Is.EqualTo(Enumerable.Range(0, 10).Select(i => (long)i)));
    }

    [Test]
    public void ShuffleOnlyPicksFromTheBuffer()
    {
        // With a buffer of k, output position p can hold only one of the first p + k inputs; the
        // result is a permutation; and small buffers really do leave elements far from the front for long.
        const int n = 40, k = 4;
        var lastPositionOfZero = 0;
        for (ulong seed = 0; seed < 50; seed++)
        {
            var order = Scalars(Dataset.Range(n).Shuffle(k, seed));
            Assert.That(order, Is.EquivalentTo(Enumerable.Range(0, n).Select(i => (long)i)));
            for (var p = 0; p < n; p++) Assert.That(order[p], Is.LessThan(p + k), $"seed {seed}: position {p} holds {order[p]}");
            lastPositionOfZero = Math.Max(lastPositionOfZero, Array.IndexOf(order, 0L));
        }
        // Element 0 stays in the buffer with probability (3/4)^p after p draws: across 50 seeds some stay past position 4.
        Assert.That(lastPositionOfZero, Is.GreaterThan(k));
    }

    [Test]
    public void FullBufferShuffleIsAUniformPermutation()
    {
        // 2400 seeds over the 24 orders of 4 elements: each expected 100 times; ±45 is over 4.5 standard
        // deviations (σ ≈ 9.8), and the seeds are fixed, so this is deterministic.
        var counts = new Dictionary<string, int>();
        for (ulong seed = 0; seed < 2400; seed++)
        {
            var key = string.Join(",", Scalars(Dataset.Range(4).Shuffle(4, seed)));
            counts[key] = counts.GetValueOrDefault(key) + 1;
        }
        Assert.That(counts, Has.Count.EqualTo(24));
        Assert.That(counts.Values, Is.All.InRange(55, 145));
        // A buffer larger than the data set behaves the same.
        Assert.That(Scalars(Dataset.Range(4).Shuffle(1000, seed: 9)), Is.EquivalentTo(new long[] { 0, 1, 2, 3 }));
    }

    [Test]
    public void SeededShuffleIsReproducibleAndReshufflesPerIteration()
    {
        var a = Dataset.Range(30).Shuffle(30, seed: 42);
        var b = Dataset.Range(30).Shuffle(30, seed: 42);
        var a1 = Scalars(a);
        var a2 = Scalars(a);
        Assert.That(a2, Is.Not.EqualTo(a1), "the second iteration should draw a new order");
        Assert.That(Scalars(b), Is.EqualTo(a1), "a pipeline built the same way replays iteration 0");
        Assert.That(Scalars(b), Is.EqualTo(a2), "... and iteration 1");
        Assert.That(Scalars(Dataset.Range(30).Shuffle(30, seed: 43)), Is.Not.EqualTo(a1), "another seed, another order");

        var fixedOrder = Dataset.Range(30).Shuffle(30, seed: 42, reshuffleEachIteration: false);
        var f1 = Scalars(fixedOrder);
        Assert.That(f1, Is.EqualTo(a1), "without reshuffling every iteration is iteration 0");
        Assert.That(Scalars(fixedOrder), Is.EqualTo(f1));
        Assert.That(Scalars(fixedOrder.Repeat(2)), Is.EqualTo(f1.Concat(f1)));

        // Unseeded shuffles are still permutations.
        Assert.That(Scalars(Dataset.Range(30).Shuffle(8)), Is.EquivalentTo(Enumerable.Range(0, 30).Select(i => (long)i)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.Range(3).Shuffle(0));
    }

    [Test]
    public void ShuffleThenBatchThenRepeatBatchesWithinEachEpoch()
    {
        // (a) 10 elements, batches of 3, 3 epochs: 4 batches per epoch (3 + 3 + 3 + 1).
        var batches = Batches(Dataset.Range(10).Shuffle(10, seed: 1).Batch(3).Repeat(3));
        Assert.That(batches.Select(b => b.Length), Is.EqualTo(new[] { 3, 3, 3, 1, 3, 3, 3, 1, 3, 3, 3, 1 }),
            "a short batch ends every epoch: no batch mixes two epochs");
        var epochs = Enumerable.Range(0, 3).Select(e => batches.Skip(4 * e).Take(4).SelectMany(b => b).ToArray()).ToArray();
        foreach (var epoch in epochs) Assert.That(epoch, Is.EquivalentTo(Enumerable.Range(0, 10).Select(i => (long)i)), "each epoch covers the data once");
        Assert.That(epochs[1], Is.Not.EqualTo(epochs[0]), "epochs are reshuffled");
        Assert.That(epochs[2], Is.Not.EqualTo(epochs[1]));
        Assert.That(Dataset.Range(10).Shuffle(10, seed: 1).Batch(3).Repeat(3).Cardinality, Is.EqualTo(12));
    }

    [Test]
    public void BatchThenShuffleThenRepeatShufflesFixedBatchesPerEpoch()
    {
        // (b) Batches are consecutive runs fixed before the shuffle; only their order changes, per epoch.
        var runs = new[] { new long[] { 0, 1, 2 }, [3, 4, 5], [6, 7, 8], [9, 10, 11] };
        var batches = Batches(Dataset.Range(12).Batch(3).Shuffle(4, seed: 2).Repeat(3));
        Assert.That(batches, Has.Length.EqualTo(12));
        var orders = new List<string>();
        for (var e = 0; e < 3; e++)
        {
            var epoch = batches.Skip(4 * e).Take(4).ToArray();
            Assert.That(epoch, Is.EquivalentTo(runs), $"epoch {e} holds each fixed batch once");
            orders.Add(string.Join("|", epoch.Select(b => b[0])));
        }
        Assert.That(orders.Distinct().Count(), Is.GreaterThan(1), "batch order changes between epochs");
        Assert.That(orders[0], Is.Not.EqualTo("0|3|6|9"), "the first epoch is shuffled");
    }

    [Test]
    public void BatchThenRepeatThenShuffleMixesBatchesAcrossEpochs()
    {
        // (c) Tag each batch with its position in the repeated stream (epoch = position / 4) before the
        // shuffle. The buffer of 8 spans two epochs, so an epoch-1 batch can come out before an epoch-0 one.
        var tagged = Dataset.Zip(Dataset.Range(12).Batch(3).Repeat(3), Dataset.Range(12)).Shuffle(8, seed: 3).ToArray();
        Assert.That(tagged, Has.Length.EqualTo(12));
        foreach (var e in tagged)
        {
            var run = e[0].ToArray<long>();
            Assert.That(run, Has.Length.EqualTo(3));
            Assert.That(run, Is.EqualTo(new[] { run[0], run[0] + 1, run[0] + 2 }), "batches stay fixed consecutive runs");
            Assert.That(run[0] % 3, Is.EqualTo(0));
            Assert.That(run[0], Is.EqualTo(3 * (e[1].ToScalar<long>() % 4)), "the tag travels with its batch");
        }
        var epochOrder = tagged.Select(e => e[1].ToScalar<long>() / 4).ToArray();
        var inversions = 0;
        for (var i = 0; i < epochOrder.Length; i++)
            for (var j = i + 1; j < epochOrder.Length; j++)
                if (epochOrder[i] > epochOrder[j]) inversions++;
        Assert.That(inversions, Is.GreaterThan(0), $"no batch of a later epoch came before an earlier epoch's batch: {string.Join(",", epochOrder)}");

        // Untagged: each fixed batch appears three times in all, though not once per group of four.
        var batches = Batches(Dataset.Range(12).Batch(3).Repeat(3).Shuffle(8, seed: 3));
        Assert.That(batches.GroupBy(b => b[0]).Select(g => (g.Key, g.Count())), Is.EquivalentTo(new[] { (0L, 3), (3L, 3), (6L, 3), (9L, 3) }));
        // Over a few fixed seeds, some first group of four outputs repeats a batch: impossible in order (b).
        var repeatsEarly = Enumerable.Range(0, 20).Count(seed =>
            Batches(Dataset.Range(12).Batch(3).Repeat(3).Shuffle(8, (ulong)seed)).Take(4).Select(b => b[0]).Distinct().Count() < 4);
        Assert.That(repeatsEarly, Is.GreaterThan(0));
    }
}
