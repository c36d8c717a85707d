using NUnit.Framework;
using Nabla.Distribute;
using Nabla.Distributed;

namespace Nabla.Tests.Distribute;

/// <summary>Gradient buckets: layout (whole gradients, last first, closed at the target size), the row-weighted sum and the division by the global row count.</summary>
public sealed class GradientBucketsTests
{
    private static Variable[] Variables(Graph g, params int[][] shapes) =>
        shapes.Select((s, i) => g.Variable(new Shape(s), DType.Float32, Initializer.Zeros, $"v{i}")).ToArray();

    private static Tensor Filled(Shape shape, Func<int, float> value) =>
        new(Enumerable.Range(0, (int)shape.ElementCount).Select(value).ToArray(), shape, DType.Float32);

    [TestCase(1L << 20, 1)] // everything in one bucket
    [TestCase(40L, 2)]      // 10 floats: [1] + [5] + [4] = 10 fill the first bucket, [3,2] opens the second
    [TestCase(4L, 4)]       // smaller than any gradient: one bucket each
    public void BucketCountFollowsTheTargetSize(long bytes, int expected)
    {
        var g = new Graph();
        var vars = Variables(g, [3, 2], [4], [5], [1]);
        var buckets = new GradientBuckets(vars, bytes);
        // Gradients are taken last first: [1], [5], [4], [3,2].
        Assert.That(buckets.Count, Is.EqualTo(expected));
        Assert.That(buckets.Bytes, Is.EqualTo((6 + 4 + 5 + 1) * sizeof(float)));
    }

    [Test]
    public void TwoReplicasWithUnequalRowsGiveTheRowWeightedMean()
    {
        var g = new Graph();
        var vars = Variables(g, [3, 2], [4], [1]);
        var group = new InProcessGroup(2);
        var results = new Tensor[2][];
        // Replica 0: 3 rows, gradient values a; replica 1: 1 row, values b. Global mean gradient = (3a + b) / 4.
        var a = vars.Select(v => Filled(v.Shape, i => i + 1)).ToArray();
        var b = vars.Select(v => Filled(v.Shape, i => -10 * i)).ToArray();
        var threads = new[] { (a, 3), (b, 1) }.Select((p, r) => new Thread(() =>
        {
            var buckets = new GradientBuckets(vars, bucketBytes: 16);
            buckets.Pack(p.Item1, p.Item2);
            buckets.AllReduce(group.Member(r));
            results[r] = buckets.Unpack(4);
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        for (var v = 0; v < vars.Length; v++)
        {
            var expected = Enumerable.Range(0, (int)vars[v].Shape.ElementCount).Select(i => (3.0 * (i + 1) + (-10.0 * i)) / 4).ToArray();
            Assert.That(results[0][v].Shape, Is.EqualTo(vars[v].Shape));
            Assert.That(results[0][v].ToDoubleArray(), Is.EqualTo(expected).Within(1e-6));
            Assert.That(results[1][v].ToDoubleArray(), Is.EqualTo(results[0][v].ToDoubleArray()), "every replica gets bitwise the same mean");
        }
    }

    [Test]
    public void NonFloat32VariablesAndWrongCountsAreRejected()
    {
        var g = new Graph();
        var d = g.Variable(new Shape(2), DType.Float64, Initializer.Zeros, "d");
        Assert.That(() => new GradientBuckets([d], 1024), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("variable 'd' is float64"));
        var buckets = new GradientBuckets(Variables(g, [2]), 1024);
        Assert.That(() => buckets.Pack([], 1), Throws.ArgumentException.With.Message.Contains("expected 1 gradients, got 0"));
    }
}
