using Nabla.Data;
using NUnit.Framework;

namespace Nabla.Tests.Data;

/// <summary>
/// Every <see cref="Dataset"/> operator on small cases with outputs derived by hand, plus the
/// composition properties tf.data guarantees (see <see cref="DatasetOrderTests"/> for shuffle/batch/repeat orders).
/// </summary>
public class DatasetTests
{
    /// <summary>The int64 scalars of a one-component dataset.</summary>
    internal static long[] Scalars(Dataset ds) => ds.AsEnumerable().Select(t => t.ToScalar<long>()).ToArray();

    /// <summary>The int64 rows of a one-component batched dataset.</summary>
    internal static long[][] Batches(Dataset ds) => ds.AsEnumerable().Select(t => t.ToArray<long>()).ToArray();

    [Test]
    public void RangeCountsLikeTfRange()
    {
        Assert.That(Scalars(Dataset.Range(5)), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.That(Scalars(Dataset.Range(2, 11, 3)), Is.EqualTo(new long[] { 2, 5, 8 }));
        Assert.That(Scalars(Dataset.Range(5, 0, -2)), Is.EqualTo(new long[] { 5, 3, 1 }));
        Assert.That(Scalars(Dataset.Range(0)), Is.Empty);
        Assert.That(Dataset.Range(2, 11, 3).Cardinality, Is.EqualTo(3));
        Assert.That(Dataset.Range(long.MinValue, long.MaxValue).Cardinality, Is.EqualTo(long.MaxValue));
        var spec = Dataset.Range(3).ElementSpec!;
        Assert.That(spec, Has.Count.EqualTo(1));
        Assert.That(spec[0], Is.EqualTo(new TensorSpec(Shape.Scalar, DType.Int64)));
        Assert.Throws<ArgumentException>(() => Dataset.Range(0, 5, 0));
    }

    [Test]
    public void FromTensorSlicesYieldsRowsWithDtypeAndShape()
    {
        var x = Tensor.FromArray(new float[] { 1, 2, 3, 4, 5, 6 }, 3, 2);
        var ds = Dataset.FromTensorSlices(x);
        Assert.That(ds.Cardinality, Is.EqualTo(3));
        Assert.That(ds.ElementSpec![0], Is.EqualTo(new TensorSpec(new Shape(2), DType.Float32)));
        var rows = ds.AsEnumerable().ToArray();
        Assert.That(rows.Select(r => r.Shape), Is.All.EqualTo(new Shape(2)));
        Assert.That(rows.Select(r => r.ToArray<float>()), Is.EqualTo(new[] { new float[] { 1, 2 }, [3, 4], [5, 6] }));
        // A vector slices into scalars; bool keeps its dtype.
        var flags = Dataset.FromTensorSlices(Tensor.FromArray(new[] { true, false })).AsEnumerable().ToArray();
        Assert.That(flags.Select(f => (f.Shape.Rank, f.DType, f.ToScalar<bool>())), Is.EqualTo(new[] { (0, DType.Bool, true), (0, DType.Bool, false) }));
    }

    [Test]
    public void FromTensorSlicesRejectsMismatchedOrScalarComponents()
    {
        var e = Assert.Throws<ArgumentException>(() => Dataset.FromTensorSlices(Tensor.Zeros(new Shape(4, 3)), Tensor.Zeros(new Shape(5))))!;
        Assert.That(e.Message, Does.Contain("[4,3]").And.Contain("[5]"));
        Assert.Throws<ArgumentException>(() => Dataset.FromTensorSlices(Tensor.Scalar(1f)));
        Assert.Throws<ArgumentException>(() => Dataset.FromTensorSlices(Array.Empty<Tensor>()));
    }

    [Test]
    public void TupleSlicesStayAlignedThroughShuffleAndBatch()
    {
        const int n = 50;
        var features = new double[n * 3];
        var labels = new int[n];
        for (var i = 0; i < n; i++)
        {
            features[3 * i] = i; features[3 * i + 1] = 10 * i; features[3 * i + 2] = 100 * i;
            labels[i] = i;
        }
        var ds = Dataset.FromTensorSlices(Tensor.FromArray(features, n, 3), Tensor.FromArray(labels, n)).Shuffle(n, seed: 7);
        var seen = new List<int>();
        foreach (var element in ds)
        {
            Assert.That(element, Has.Length.EqualTo(2));
            var label = element[1].ToScalar<int>();
            Assert.That(element[0].ToArray<double>(), Is.EqualTo(new double[] { label, 10 * label, 100 * label }));
            seen.Add(label);
        }
        Assert.That(seen, Is.EquivalentTo(Enumerable.Range(0, n)));
        Assert.That(seen, Is.Not.EqualTo(Enumerable.Range(0, n)), "a full-buffer shuffle of 50 elements left them in order");

        foreach (var batch in ds.Batch(8))
        {
            var f = batch[0].ToArray<double>();
            var l = batch[1].ToArray<int>();
            Assert.That(batch[0].Shape[0], Is.EqualTo(l.Length));
            for (var r = 0; r < l.Length; r++) Assert.That(f[3 * r + 1], Is.EqualTo(10.0 * l[r]));
        }
    }

    [Test]
    public void ZipConcatenatesComponentsAndEndsWithTheShortest()
    {
        var ds = Dataset.Zip(Dataset.Range(5), Dataset.Range(10, 13));
        Assert.That(ds.Cardinality, Is.EqualTo(3));
        Assert.That(ds.ElementSpec, Has.Count.EqualTo(2));
        var pairs = ds.Select(e => (e[0].ToScalar<long>(), e[1].ToScalar<long>())).ToArray();
        Assert.That(pairs, Is.EqualTo(new[] { (0L, 10L), (1L, 11L), (2L, 12L) }));
        Assert.That(Dataset.Zip(Dataset.Range(3).Repeat(), Dataset.Range(4)).Cardinality, Is.EqualTo(4));
        Assert.That(Dataset.Zip(Dataset.Range(3).Repeat(), Dataset.Range(4).Repeat()).Cardinality, Is.EqualTo(Dataset.InfiniteCardinality));
        Assert.Throws<ArgumentException>(() => Dataset.Zip());
    }

    [Test]
    public void MapTransformsElementsAndTuples()
    {
        Assert.That(Scalars(Dataset.Range(4).Map(t => Tensor.Scalar(t.ToScalar<long>() * t.ToScalar<long>()))), Is.EqualTo(new long[] { 0, 1, 4, 9 }));
        // A tuple map can change the number of components.
        var swapped = Dataset.Zip(Dataset.Range(3), Dataset.Range(10, 13))
            .Map(e => [e[1], e[0], Tensor.Scalar(e[0].ToScalar<long>() + e[1].ToScalar<long>())]);
        Assert.That(swapped.Select(e => e.Select(c => c.ToScalar<long>()).ToArray()),
            Is.EqualTo(new[] { new long[] { 10, 0, 10 }, [11, 1, 12], [12, 2, 14] }));
        Assert.That(swapped.Cardinality, Is.EqualTo(3));
        Assert.That(swapped.ElementSpec, Is.Null, "a map's output spec is not traced");
        // The single-tensor overload insists on one component.
        Assert.Throws<InvalidOperationException>(() => _ = Dataset.Zip(Dataset.Range(2), Dataset.Range(2)).Map((Tensor t) => t).ToArray());
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.Range(2).Map(t => t, numParallelCalls: 0));
        var e = Assert.Throws<InvalidOperationException>(() => Dataset.Range(2).Map(_ => (Tensor[])null!).ToArray())!;
        Assert.That(e.Message, Does.Contain("null"));
    }

    [Test]
    public void ParallelMapKeepsInputOrderAndRunsConcurrently()
    {
        // Later elements finish first (element i sleeps 20 - i ms), yet come out in input order.
        var ds = Dataset.Range(20).Map(t =>
        {
            Thread.Sleep(20 - (int)t.ToScalar<long>());
            return Tensor.Scalar(t.ToScalar<long>() * 10);
        }, numParallelCalls: 4);
        Assert.That(Scalars(ds), Is.EqualTo(Enumerable.Range(0, 20).Select(i => 10L * i)));
        Assert.That(Scalars(ds), Is.EqualTo(Enumerable.Range(0, 20).Select(i => 10L * i)), "second iteration");

        // Two calls must be in flight at once: each call waits at a barrier for its partner, which would
        // time out if the map ran one element at a time.
        using var barrier = new Barrier(2);
        var paired = Dataset.Range(8).Map(t =>
        {
            if (!barrier.SignalAndWait(TimeSpan.FromSeconds(30))) throw new TimeoutException("map calls did not overlap");
            return t;
        }, numParallelCalls: 2);
        Assert.That(Scalars(paired), Is.EqualTo(Enumerable.Range(0, 8).Select(i => (long)i)));
    }

    [Test]
    public void ParallelMapSurfacesTheFunctionsExceptionInOrder()
    {
        var ds = Dataset.Range(10).Map(t => t.ToScalar<long>() == 5 ? throw new InvalidDataException("bad element 5") : t, numParallelCalls: 3);
        var got = new List<long>();
        var e = Assert.Throws<InvalidDataException>(() => { foreach (var x in ds.AsEnumerable()) got.Add(x.ToScalar<long>()); })!;
        Assert.That(e.Message, Is.EqualTo("bad element 5"));
        Assert.That(got, Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public void FilterKeepsMatchingElementsAndHasUnknownCardinality()
    {
        var evens = Dataset.Range(10).Filter(e => e[0].ToScalar<long>() % 2 == 0);
        Assert.That(Scalars(evens), Is.EqualTo(new long[] { 0, 2, 4, 6, 8 }));
        Assert.That(evens.Cardinality, Is.EqualTo(Dataset.UnknownCardinality));
        Assert.That(evens.Batch(2).Cardinality, Is.EqualTo(Dataset.UnknownCardinality));
        Assert.That(evens.Repeat(3).Cardinality, Is.EqualTo(Dataset.UnknownCardinality));
        Assert.That(Dataset.Range(0).Filter(_ => true).Cardinality, Is.EqualTo(0));
    }

    [Test]
    public void BatchStacksAlongANewAxisAndKeepsTheRemainder()
    {
        var ds = Dataset.Range(7).Batch(3);
        Assert.That(Batches(ds), Is.EqualTo(new[] { new long[] { 0, 1, 2 }, [3, 4, 5], [6] }));
        Assert.That(ds.Cardinality, Is.EqualTo(3));
        Assert.That(ds.ElementSpec![0], Is.EqualTo(new TensorSpec(new Shape(-1), DType.Int64)));
        Assert.That(ds.AsEnumerable().Select(t => t.Shape), Is.EqualTo(new[] { new Shape(3), new Shape(3), new Shape(1) }));

        var dropped = Dataset.Range(7).Batch(3, dropRemainder: true);
        Assert.That(Batches(dropped), Is.EqualTo(new[] { new long[] { 0, 1, 2 }, [3, 4, 5] }));
        Assert.That(dropped.Cardinality, Is.EqualTo(2));
        Assert.That(dropped.ElementSpec![0].Shape, Is.EqualTo(new Shape(3)));
        Assert.That(Batches(Dataset.Range(2).Batch(3, dropRemainder: true)), Is.Empty);
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.Range(2).Batch(0));
    }

    [Test]
    public void BatchOfSlicesEqualsBatchOfStackedRows()
    {
        // The block-copy path (Batch right after FromTensorSlices) and the stacking path (after a Map) agree.
        var x = Tensor.FromArray(Enumerable.Range(0, 5 * 2 * 3).Select(i => (float)i).ToArray(), 5, 2, 3);
        var y = Tensor.FromArray(new long[] { 10, 11, 12, 13, 14 });
        var fast = Dataset.FromTensorSlices(x, y).Batch(2).ToArray();
        var slow = Dataset.FromTensorSlices(x, y).Map(e => e).Batch(2).ToArray();
        Assert.That(fast, Has.Length.EqualTo(3));
        for (var b = 0; b < 3; b++)
        {
            Assert.That(fast[b][0].Shape, Is.EqualTo(new Shape(b < 2 ? 2 : 1, 2, 3)));
            Assert.That(slow[b][0].Shape, Is.EqualTo(fast[b][0].Shape));
            Assert.That(slow[b][0].ToArray<float>(), Is.EqualTo(fast[b][0].ToArray<float>()));
            Assert.That(fast[b][1].DType, Is.EqualTo(DType.Int64));
            Assert.That(slow[b][1].ToArray<long>(), Is.EqualTo(fast[b][1].ToArray<long>()));
        }
        Assert.That(fast[1][0].ToArray<float>(), Is.EqualTo(Enumerable.Range(12, 12).Select(i => (float)i)));
        Assert.That(Dataset.FromTensorSlices(x, y).Batch(2, dropRemainder: true).Count(), Is.EqualTo(2));

        // Shuffle → Batch straight from slices gathers rows by index; it must draw the same order as
        // shuffling row tensors, iteration after iteration (reshuffled by Repeat).
        var gathered = Dataset.FromTensorSlices(x, y).Shuffle(3, seed: 11).Batch(2).Repeat(3).ToArray();
        var stacked = Dataset.FromTensorSlices(x, y).Map(e => e).Shuffle(3, seed: 11).Batch(2).Repeat(3).ToArray();
        Assert.That(gathered, Has.Length.EqualTo(9));
        Assert.That(gathered.Select(b => b[1].ToArray<long>()), Is.EqualTo(stacked.Select(b => b[1].ToArray<long>())));
        Assert.That(gathered.Select(b => b[0].ToArray<float>()), Is.EqualTo(stacked.Select(b => b[0].ToArray<float>())));
        Assert.That(gathered.Select(b => b[0].Shape), Is.EqualTo(stacked.Select(b => b[0].Shape)));
        for (var b = 0; b < gathered.Length; b++)
        {
            var labels = gathered[b][1].ToArray<long>();
            var rows = gathered[b][0].ToArray<float>();
            for (var r = 0; r < labels.Length; r++) Assert.That(rows[6 * r], Is.EqualTo(6f * (labels[r] - 10)), "row and label stay paired");
        }
        var epochs = gathered.Chunk(3).Select(e => string.Join(",", e.SelectMany(b => b[1].ToArray<long>()))).ToArray();
        Assert.That(epochs.Distinct().Count(), Is.GreaterThan(1), "each repetition reshuffles");
        Assert.That(Dataset.FromTensorSlices(x, y).Shuffle(5, seed: 1).Batch(2, dropRemainder: true).Select(b => b[0].Shape[0]), Is.EqualTo(new[] { 2, 2 }));
    }

    [Test]
    public void BatchRejectsElementsOfDifferentShapes()
    {
        var ragged = Dataset.Range(1, 4).Map(t => Tensor.Zeros(new Shape((int)t.ToScalar<long>())));
        var e = Assert.Throws<ShapeException>(() => ragged.Batch(2).ToArray())!;
        Assert.That(e.Message, Does.Contain("[1]").And.Contain("[2]"));
    }

    [Test]
    public void RepeatReplaysTheInput()
    {
        Assert.That(Scalars(Dataset.Range(3).Repeat(2)), Is.EqualTo(new long[] { 0, 1, 2, 0, 1, 2 }));
        Assert.That(Scalars(Dataset.Range(3).Repeat(0)), Is.Empty);
        Assert.That(Scalars(Dataset.Range(3).Repeat().Take(7)), Is.EqualTo(new long[] { 0, 1, 2, 0, 1, 2, 0 }));
        // Repeating an empty dataset forever ends instead of spinning, as in tf.data.
        Assert.That(Scalars(Dataset.Range(0).Repeat()), Is.Empty);
        Assert.That(Dataset.Range(3).Repeat(2).Cardinality, Is.EqualTo(6));
        Assert.That(Dataset.Range(3).Repeat().Cardinality, Is.EqualTo(Dataset.InfiniteCardinality));
        Assert.That(Dataset.Range(0).Repeat().Cardinality, Is.EqualTo(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.Range(3).Repeat(-2));
    }

    [Test]
    public void TakeAndSkip()
    {
        Assert.That(Scalars(Dataset.Range(10).Take(3)), Is.EqualTo(new long[] { 0, 1, 2 }));
        Assert.That(Scalars(Dataset.Range(10).Skip(7)), Is.EqualTo(new long[] { 7, 8, 9 }));
        Assert.That(Scalars(Dataset.Range(10).Skip(3).Take(2)), Is.EqualTo(new long[] { 3, 4 }));
        Assert.That(Scalars(Dataset.Range(3).Take(10)), Is.EqualTo(new long[] { 0, 1, 2 }));
        Assert.That(Scalars(Dataset.Range(3).Take(-1)), Is.EqualTo(new long[] { 0, 1, 2 }));
        Assert.That(Scalars(Dataset.Range(3).Skip(-1)), Is.Empty);
        Assert.That(Scalars(Dataset.Range(3).Take(0)), Is.Empty);
        Assert.That(Dataset.Range(10).Take(3).Cardinality, Is.EqualTo(3));
        Assert.That(Dataset.Range(10).Skip(7).Cardinality, Is.EqualTo(3));
        Assert.That(Dataset.Range(10).Skip(20).Cardinality, Is.EqualTo(0));
        Assert.That(Dataset.Range(3).Repeat().Take(5).Cardinality, Is.EqualTo(5));
        Assert.That(Dataset.Range(3).Repeat().Skip(5).Cardinality, Is.EqualTo(Dataset.InfiniteCardinality));

        // Take reads no element past the ones it returns.
        var reads = 0;
        var counted = Dataset.Range(100).Map(t => { reads++; return t; });
        Assert.That(Scalars(counted.Take(4)), Has.Length.EqualTo(4));
        Assert.That(reads, Is.EqualTo(4));
    }

    [Test]
    public void CacheReplaysWithoutRerunningTheMap()
    {
        var calls = 0;
        var ds = Dataset.Range(5).Map(t => { Interlocked.Increment(ref calls); return Tensor.Scalar(t.ToScalar<long>() + 100); }).Cache();
        // A partial first iteration does not fill the cache.
        Assert.That(Scalars(ds.Take(2)), Is.EqualTo(new long[] { 100, 101 }));
        Assert.That(calls, Is.EqualTo(2));
        Assert.That(Scalars(ds), Is.EqualTo(new long[] { 100, 101, 102, 103, 104 }));
        Assert.That(calls, Is.EqualTo(7));
        Assert.That(Scalars(ds), Is.EqualTo(new long[] { 100, 101, 102, 103, 104 }));
        Assert.That(Scalars(ds.Repeat(3)), Has.Length.EqualTo(15));
        Assert.That(calls, Is.EqualTo(7), "replays ran the map again");

        // Cache after Shuffle freezes the first order; Shuffle after Cache still reshuffles.
        var frozen = Dataset.Range(20).Shuffle(20, seed: 3).Cache();
        Assert.That(Scalars(frozen), Is.EqualTo(Scalars(frozen)));
        var reshuffled = Dataset.Range(20).Cache().Shuffle(20, seed: 3);
        Assert.That(Scalars(reshuffled), Is.Not.EqualTo(Scalars(reshuffled)));
    }

    [Test]
    public void PrefetchPassesElementsThroughInOrder()
    {
        var ds = Dataset.Range(100).Map(t => Tensor.Scalar(t.ToScalar<long>() * 2)).Prefetch(3);
        Assert.That(Scalars(ds), Is.EqualTo(Enumerable.Range(0, 100).Select(i => 2L * i)));
        Assert.That(Scalars(ds.Repeat(2)), Has.Length.EqualTo(200));
        Assert.That(ds.Cardinality, Is.EqualTo(100));
        Assert.That(Scalars(Dataset.Range(5).Prefetch(Dataset.Autotune)), Is.EqualTo(new long[] { 0, 1, 2, 3, 4 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => Dataset.Range(5).Prefetch(0));
    }

    [Test]
    public void PrefetchSurfacesTheProducersException()
    {
        var ds = Dataset.Range(10).Map(t => t.ToScalar<long>() == 3 ? throw new InvalidDataException("corrupt record 3") : t).Prefetch(2);
        using var it = ds.GetEnumerator();
        var got = new List<long>();
        var e = Assert.Throws<InvalidDataException>(() => { while (it.MoveNext()) got.Add(it.Current[0].ToScalar<long>()); })!;
        Assert.That(e.Message, Is.EqualTo("corrupt record 3"));
        Assert.That(got, Is.EqualTo(new long[] { 0, 1, 2 }), "elements before the failure are delivered first");
        Assert.That(it.MoveNext(), Is.False);
    }

    [Test]
    public void DisposingAPrefetchEnumeratorStopsTheProducer()
    {
        var produced = 0;
        var ds = Dataset.Range(1_000_000).Map(t => { Interlocked.Increment(ref produced); return t; }).Prefetch(2);
        var it = ds.GetEnumerator();
        for (var i = 0; i < 3; i++) Assert.That(it.MoveNext(), Is.True);
        it.Dispose();
        var after = Volatile.Read(ref produced);
        // At most the 3 consumed, 2 buffered and 1 in flight when the buffer was full.
        Assert.That(after, Is.LessThanOrEqualTo(6));
        Thread.Sleep(100);
        Assert.That(Volatile.Read(ref produced), Is.EqualTo(after), "the producer kept running after Dispose");
        Assert.Throws<ObjectDisposedException>(() => it.MoveNext());
    }

    [Test]
    public void AsEnumerableNeedsOneComponent()
    {
        var pairs = Dataset.Zip(Dataset.Range(2), Dataset.Range(2));
        var e = Assert.Throws<InvalidOperationException>(() => pairs.AsEnumerable())!;
        Assert.That(e.Message, Does.Contain("2"));
        Assert.That(Dataset.Range(3).Batch(2).ToString(), Is.EqualTo("<BatchDataset element_spec=TensorSpec(shape=[?], dtype=int64)>"));
    }
}
