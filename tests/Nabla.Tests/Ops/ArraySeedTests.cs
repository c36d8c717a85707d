using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// The tensor exercises of SEEDS.md §1 that concern array and shape ops, with the exact values
/// TensorFlow prints for them, run on the CPU device.
/// </summary>
public class ArraySeedTests
{
    private static Tensor Eval(Func<Graph, Output> build)
    {
        var g = new Graph();
        var y = build(g);
        using var s = new Session(g);
        return s.Run(y);
    }

    private static Tensor[] EvalAll(Func<Graph, Output[]> build)
    {
        var g = new Graph();
        var ys = build(g);
        using var s = new Session(g);
        return s.Run(ys);
    }

    private static Output Matrix(Graph g) => g.Constant(Tensor.FromMultiArray(new float[,] { { 1, 2, 3 }, { 4, 5, 6 } }));

    [Test]
    public void TransposeOfAMatrix()
    {
        var t = Eval(g => g.Transpose(Matrix(g)));
        Assert.That(t.Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(t.ToArray<float>(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
    }

    [Test]
    public void TransposeWithPermOfARank3Tensor()
    {
        // tf.transpose(tf.reshape(tf.range(24), [2,3,4]), [1,0,2])[0] == [[0..3],[12..15]]
        var t = Eval(g => g.Transpose(g.Reshape(g.Constant(Tensor.Range(0, 24, 1, DType.Int32)), [2, 3, 4]), [1, 0, 2]));
        Assert.That(t.Shape, Is.EqualTo(new Shape(3, 2, 4)));
        Assert.That(t.ToArray<int>().Take(8), Is.EqualTo(new[] { 0, 1, 2, 3, 12, 13, 14, 15 }));
        Assert.That(t.Get<int>(2, 1, 3), Is.EqualTo(23));
    }

    [Test]
    public void ReshapeKeepsRowMajorOrderAndInfersMinusOne()
    {
        var t = Eval(g => g.Reshape(Matrix(g), [3, -1]));
        Assert.That(t.Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(t.ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        Assert.That(t.Get<float>(1, 0), Is.EqualTo(3f));
        Assert.That(Eval(g => g.Reshape(Matrix(g), [-1])).Shape, Is.EqualTo(new Shape(6)));
    }

    [Test]
    public void SqueezeGivenAxes()
    {
        var g = new Graph();
        var x = g.Constant(Tensor.FromArray([1f, 2f, 3f], 1, 3, 1, 1));
        var some = g.Squeeze(x, [0, 2]);
        var all = g.Squeeze(x);
        using var s = new Session(g);
        var r = s.Run([some, all]);
        Assert.That(r[0].Shape, Is.EqualTo(new Shape(3, 1)));
        Assert.That(r[1].Shape, Is.EqualTo(new Shape(3)));
        Assert.That(r[1].ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3 }));
    }

    [Test]
    public void SplitIntoEqualPieces()
    {
        // tf.split(tf.range(12) reshaped [2,6], 3, axis=1)
        var parts = EvalAll(g => g.Split(g.Reshape(g.Constant(Tensor.Range(0, 12)), [2, 6]), 3, 1));
        Assert.That(parts, Has.Length.EqualTo(3));
        Assert.That(parts.Select(p => p.Shape), Is.All.EqualTo(new Shape(2, 2)));
        Assert.That(parts[0].ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 6, 7 }));
        Assert.That(parts[1].ToArray<float>(), Is.EqualTo(new float[] { 2, 3, 8, 9 }));
        Assert.That(parts[2].ToArray<float>(), Is.EqualTo(new float[] { 4, 5, 10, 11 }));
    }

    [Test]
    public void SplitIntoGivenSizes()
    {
        // tf.split(x, [4, 15, 11], 1) on a [5, 30] tensor gives [5,4], [5,15], [5,11].
        var parts = EvalAll(g => g.Split(g.Reshape(g.Constant(Tensor.Range(0, 150)), [5, 30]), [4, 15, 11], 1));
        Assert.That(parts.Select(p => p.Shape), Is.EqualTo(new[] { new Shape(5, 4), new Shape(5, 15), new Shape(5, 11) }));
        Assert.That(parts[0].ToArray<float>().Take(5), Is.EqualTo(new float[] { 0, 1, 2, 3, 30 }));
        Assert.That(parts[1].Get<float>(0, 0), Is.EqualTo(4f));
        Assert.That(parts[2].Get<float>(4, 10), Is.EqualTo(149f));
        var rest = EvalAll(g => g.Split(g.Constant(Tensor.FromArray([1f, 2f, 3f, 4f, 5f])), [2, -1]));
        Assert.That(rest[1].ToArray<float>(), Is.EqualTo(new float[] { 3, 4, 5 }));
    }

    [Test]
    public void ConcatAlongEachAxis()
    {
        // t1 = [[1,2,3],[4,5,6]], t2 = [[7,8,9],[10,11,12]]
        Output T2(Graph g) => g.Constant(Tensor.FromMultiArray(new float[,] { { 7, 8, 9 }, { 10, 11, 12 } }));
        var rows = Eval(g => g.Concat([Matrix(g), T2(g)], 0));
        Assert.That(rows.Shape, Is.EqualTo(new Shape(4, 3)));
        Assert.That(rows.ToArray<float>(), Is.EqualTo(Enumerable.Range(1, 12).Select(i => (float)i).ToArray()));
        var cols = Eval(g => g.Concat([Matrix(g), T2(g)], 1));
        Assert.That(cols.Shape, Is.EqualTo(new Shape(2, 6)));
        Assert.That(cols.ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3, 7, 8, 9, 4, 5, 6, 10, 11, 12 }));
    }

    [Test]
    public void StackOnANewAxis()
    {
        // x = [1,4], y = [2,5], z = [3,6]: stack → [[1,4],[2,5],[3,6]]; axis=1 → [[1,2,3],[4,5,6]]
        Output[] Xyz(Graph g) => [g.Constant(Tensor.FromArray([1f, 4f])), g.Constant(Tensor.FromArray([2f, 5f])), g.Constant(Tensor.FromArray([3f, 6f]))];
        var a0 = Eval(g => g.Stack(Xyz(g)));
        Assert.That(a0.Shape, Is.EqualTo(new Shape(3, 2)));
        Assert.That(a0.ToArray<float>(), Is.EqualTo(new float[] { 1, 4, 2, 5, 3, 6 }));
        var a1 = Eval(g => g.Stack(Xyz(g), 1));
        Assert.That(a1.Shape, Is.EqualTo(new Shape(2, 3)));
        Assert.That(a1.ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
        var back = EvalAll(g => g.Unstack(g.Stack(Xyz(g), 1), 1));
        Assert.That(back.Select(t => t.ToArray<float>()), Is.EqualTo(new[] { new float[] { 1, 4 }, new float[] { 2, 5 }, new float[] { 3, 6 } }));
    }
}
