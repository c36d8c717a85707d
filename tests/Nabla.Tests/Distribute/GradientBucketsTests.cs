using NUnit.Framework;
using Nabla.Distribute;
using Nabla.Distributed;

namespace Nabla.Tests.Distribute;

/// <summary>Gradient buckets: layout (whole gradients, last first, closed at the target size), one AllReduce op per bucket in the training step.</summary>
public sealed class GradientBucketsTests
{
    private static Variable[] Variables(Graph g, params int[][] shapes) =>
        shapes.Select((s, i) => g.Variable(new Shape(s), DType.Float32, Initializer.Zeros, $"v{i}")).ToArray();

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
    public void BucketsHoldWholeGradientsLastFirst()
    {
        var g = new Graph();
        var buckets = new GradientBuckets(Variables(g, [3, 2], [4], [5], [1]), bucketBytes: 40);
        Assert.That(buckets.Layout, Is.EqualTo(new[] { new[] { 3, 2, 1 }, new[] { 0 } }));
    }

    [Test]
    public void TheTrainingStepAllReducesEachBucketInsideItsGraph()
    {
        // Under a strategy the compiled step's backward pass starts from the replica's weight n_r / N, each bucket is summed
        // by one AllReduce op, and the update applies the sums directly, all in the one graph the update runs in.
        using var strategy = new MirroredStrategy(2) { BucketBytes = 200_000 };
        var model = Nabla.Samples.DistributedCheck.BuildW2Network(strategy, seed: 1);
        var x = Tensor.Zeros(new Shape(4, 784), DType.Float32);
        var y = Tensor.Zeros(new Shape(4, 10), DType.Float32);
        model.Fit(x, y, batchSize: 4, epochs: 1, verbose: 0);
        var reduces = model.Session.Graph.Operations.Where(o => o.Type == "AllReduce").ToArray();
        // W2's gradients, last first: 10 + 1280 + 128 + 16384 + 128 floats (17,930 floats, 71,720 B) fit one 200 KB bucket; the 784×128 kernel (401 KB) travels alone.
        // The first bucket also carries the step's logs (weighted loss and metric means, then the row count): one meeting per step.
        Assert.That(reduces.Select(o => o.Inputs.Count), Is.EqualTo(new[] { 6, 1 }));
        Assert.That(reduces[0].Inputs[^1].Op.Type, Is.EqualTo("Concat"));
        Assert.That(reduces[0].Inputs[^1].Shape, Is.EqualTo(new Shape(3)));
        // No element-wise pass over the gradients before or after the collective: the AllReduce reads the backward pass's
        // own outputs, and each of the six Adam updates reads an AllReduce output as its gradient.
        Assert.That(reduces.SelectMany(o => o.Inputs.Take(o == reduces[0] ? 5 : 1)).Select(i => i.Op.Type), Is.All.AnyOf("MatMul", "SumToShape"));
        var updates = model.Session.Graph.Operations.Where(o => o.Type == "ApplyAdam").ToArray();
        Assert.That(updates, Has.Length.EqualTo(6));
        Assert.That(updates.Select(u => u.Inputs.Count(i => i.Op.Type == "AllReduce")), Is.All.EqualTo(1));
    }

    [Test]
    public void NonFloat32VariablesAreRejected()
    {
        var g = new Graph();
        var d = g.Variable(new Shape(2), DType.Float64, Initializer.Zeros, "d");
        Assert.That(() => new GradientBuckets([d], 1024), Throws.InstanceOf<NotSupportedException>().With.Message.Contains("variable 'd' is float64"));
    }
}
