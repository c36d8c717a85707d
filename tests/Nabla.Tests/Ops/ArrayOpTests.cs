using Nabla.Tests.Support;
using NUnit.Framework;
using static Nabla.Tests.Ops.ArrayCheck;

namespace Nabla.Tests.Ops;

/// <summary>Concat, Split (+ SplitLike), Tile (+ TileGrad), BroadcastTo, and the Stack / Unstack composites.</summary>
public class ArrayOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Concat", "Split", "SplitLike", "Tile", "TileGrad", "BroadcastTo"];

    private static Tensor U(int[] shape, ulong seed = 1) => OpHarness.Uniform(shape, seed: seed);

    public static IEnumerable<ArrayCase> ForwardCases()
    {
        yield return new("concat axis 0", (g, x) => g.Concat(x, 0), [U([2, 3]), U([4, 3], 2)], ts => Concat(ts, 0));
        yield return new("concat axis -1 with size-1 and empty pieces", (g, x) => g.Concat(x, -1), [U([2, 3]), U([2, 1], 2), U([2, 0], 3)], ts => Concat(ts, -1));
        yield return new("concat of empties on the non-empty axis", (g, x) => g.Concat(x, 1), [U([0, 3]), U([0, 3], 2)], ts => Concat(ts, 1));
        yield return new("concat [1,1] pieces", (g, x) => g.Concat(x, 0), [U([1, 1]), U([1, 1], 2)], ts => Concat(ts, 0));
        yield return new("concat rank 3 middle axis", (g, x) => g.Concat(x, 1), [U([2, 3, 4]), U([2, 1, 4], 2)], ts => Concat(ts, 1));
        yield return new("concat one input", (g, x) => g.Concat(x, 0), [U([5])], ts => Concat(ts, 0));
        yield return new("concat large", (g, x) => g.Concat(x, 1), [U([64, 33]), U([64, 17], 2)], ts => Concat(ts, 1));
        yield return new("concat int32", (g, x) => g.Concat(x, 0), [Ints([1, 2, 3, 4], 2, 2), Ints([5, 6], 1, 2)], ts => Concat(ts, 0));
        yield return new("concat NaN and infinities", (g, x) => g.Concat(x, 0), [Specials(5), Specials(3)], ts => Concat(ts, 0));

        yield return new("split 3 equal on axis 0", (g, x) => g.Split(x[0], 3, 0), [U([6, 4])], ts => [Slice(ts[0], [0, 0], [2, 4]), Slice(ts[0], [2, 0], [2, 4]), Slice(ts[0], [4, 0], [2, 4])]);
        yield return new("split 2 equal on axis -1", (g, x) => g.Split(x[0], 2, -1), [U([2, 6])], ts => [Slice(ts[0], [0, 0], [2, 3]), Slice(ts[0], [0, 3], [2, 3])]);
        yield return new("split empty tensor", (g, x) => g.Split(x[0], 2, 1), [U([0, 4])], ts => [Slice(ts[0], [0, 0], [0, 2]), Slice(ts[0], [0, 2], [0, 2])]);
        yield return new("split [1,1] into one", (g, x) => g.Split(x[0], 1, 0), [U([1, 1])], ts => [ts[0]]);
        yield return new("split rank 3 last axis", (g, x) => g.Split(x[0], 4, 2), [U([2, 3, 4])], ts => Enumerable.Range(0, 4).Select(k => Slice(ts[0], [0, 0, k], [2, 3, 1])).ToArray());
        yield return new("split sizes with -1 and 0", (g, x) => g.Split(x[0], [2, -1, 0], 1), [U([2, 5])], ts => [Slice(ts[0], [0, 0], [2, 2]), Slice(ts[0], [0, 2], [2, 3]), Slice(ts[0], [0, 5], [2, 0])]);
        yield return new("split large", (g, x) => g.Split(x[0], 8, 1), [U([64, 40])], ts => Enumerable.Range(0, 8).Select(k => Slice(ts[0], [0, 5 * k], [64, 5])).ToArray());
        yield return new("split NaN and infinities", (g, x) => g.Split(x[0], [3, 4], 0), [Specials(7)], ts => [Slice(ts[0], [0], [3]), Slice(ts[0], [3], [4])]);
        yield return new("split-like", (g, x) => g.SplitLike(x[0], [x[1], x[2]], 0), [U([5, 3]), U([2, 3], 2), U([3, 3], 3)], ts => [Slice(ts[0], [0, 0], [2, 3]), Slice(ts[0], [2, 0], [3, 3])]);
        yield return new("split-like empty", (g, x) => g.SplitLike(x[0], [x[1], x[1]], 1), [U([2, 0]), U([2, 0], 2)], ts => [ts[0], ts[0]]);

        yield return new("tile [2,1]", (g, x) => g.Tile(x[0], [2, 1]), [U([2, 3])], ts => Tile(ts[0], [2, 1]));
        yield return new("tile [1,3]", (g, x) => g.Tile(x[0], [1, 3]), [U([2, 3])], ts => Tile(ts[0], [1, 3]));
        yield return new("tile scalar", (g, x) => g.Tile(x[0], []), [U([])], ts => ts[0]);
        yield return new("tile empty input", (g, x) => g.Tile(x[0], [2, 2]), [U([0, 3])], ts => Tile(ts[0], [2, 2]));
        yield return new("tile by zero", (g, x) => g.Tile(x[0], [0, 2]), [U([2, 3])], ts => Tile(ts[0], [0, 2]));
        yield return new("tile [1,1] up", (g, x) => g.Tile(x[0], [3, 4]), [U([1, 1])], ts => Tile(ts[0], [3, 4]));
        yield return new("tile rank 3", (g, x) => g.Tile(x[0], [2, 1, 2]), [U([2, 3, 4])], ts => Tile(ts[0], [2, 1, 2]));
        yield return new("tile large", (g, x) => g.Tile(x[0], [4, 4]), [U([16, 17])], ts => Tile(ts[0], [4, 4]));
        yield return new("tile NaN and infinities", (g, x) => g.Tile(x[0], [3]), [Specials(7)], ts => Tile(ts[0], [3]));
        yield return new("tile-grad sums tiles", (g, x) => g.TileGrad(x[0], x[1], [2, 3]), [U([4, 6]), U([2, 2], 2)],
            ts => Make([2, 2], i => Enumerable.Range(0, 2).SelectMany(a => Enumerable.Range(0, 3).Select(b => At(ts[0], [i[0] + 2 * a, i[1] + 2 * b]))).Sum()));
        yield return new("tile-grad empty", (g, x) => g.TileGrad(x[0], x[1], [0, 1]), [U([0, 3]), U([2, 3], 2)], ts => Make([2, 3], _ => 0));

        yield return new("broadcast_to vector rows", (g, x) => g.BroadcastTo(x[0], new Shape(2, 3)), [U([3])], ts => BroadcastTo(ts[0], [2, 3]));
        yield return new("broadcast_to scalar", (g, x) => g.BroadcastTo(x[0], new Shape(2, 2)), [U([])], ts => BroadcastTo(ts[0], [2, 2]));
        yield return new("broadcast_to same shape", (g, x) => g.BroadcastTo(x[0], new Shape(2, 3)), [U([2, 3])], ts => ts[0]);
        yield return new("broadcast_to new leading axes", (g, x) => g.BroadcastTo(x[0], new Shape(2, 4, 3)), [U([1, 3])], ts => BroadcastTo(ts[0], [2, 4, 3]));
        yield return new("broadcast_to empty", (g, x) => g.BroadcastTo(x[0], new Shape(2, 0)), [U([2, 1])], ts => BroadcastTo(ts[0], [2, 0]));
        yield return new("broadcast_to large", (g, x) => g.BroadcastTo(x[0], new Shape(128, 65)), [U([1, 65])], ts => BroadcastTo(ts[0], [128, 65]));
        yield return new("broadcast_to NaN and infinities", (g, x) => g.BroadcastTo(x[0], new Shape(2, 7)), [Specials(7)], ts => BroadcastTo(ts[0], [2, 7]));

        yield return new("stack axis 0", (g, x) => g.Stack(x, 0), [U([3]), U([3], 2)], ts => Concat(ts.Select(t => Reshaped(t, 1, 3)).ToArray(), 0));
        yield return new("stack axis -1", (g, x) => g.Stack(x, -1), [U([3]), U([3], 2), U([3], 3)], ts => Concat(ts.Select(t => Reshaped(t, 3, 1)).ToArray(), 1));
        yield return new("stack scalars", (g, x) => g.Stack(x), [U([]), U([], 2)], ts => Reshaped(Concat(ts.Select(t => Reshaped(t, 1)).ToArray(), 0), 2));
        yield return new("stack empties on a middle axis", (g, x) => g.Stack(x, 1), [U([0, 2]), U([0, 2], 2), U([0, 2], 3)], ts => Make([0, 3, 2], _ => 0));
        yield return new("unstack axis 1", (g, x) => g.Unstack(x[0], 1), [U([3, 2])], ts => [Reshaped(Slice(ts[0], [0, 0], [3, 1]), 3), Reshaped(Slice(ts[0], [0, 1], [3, 1]), 3)]);
        yield return new("unstack axis -1 of rank 3", (g, x) => g.Unstack(x[0], -1), [U([2, 1, 3])], ts => Enumerable.Range(0, 3).Select(k => Reshaped(Slice(ts[0], [0, 0, k], [2, 1, 1]), 2, 1)).ToArray());
        yield return new("unstack empty slices", (g, x) => g.Unstack(x[0], 1), [U([0, 2])], ts => [Make([0], _ => 0), Make([0], _ => 0)]);
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void ForwardMatchesNaiveAndCpu(ArrayCase c) => Forward(c);

    public static IEnumerable<GradCase> GradientCases()
    {
        yield return new("concat [1,1]+[1,1]", (g, x) => g.Concat(x, 0), [U([1, 1]), U([1, 1], 2)]);
        yield return new("concat [3,5]+[3,2] axis 1", (g, x) => g.Concat(x, 1), [U([3, 5]), U([3, 2], 2)]);
        yield return new("concat three rank 3", (g, x) => g.Concat(x, -2), [U([2, 3, 4]), U([2, 1, 4], 2), U([2, 2, 4], 3)]);
        yield return new("concat with empty", (g, x) => g.Concat(x, 0), [U([0, 3]), U([2, 3], 2)]);
        yield return new("concat an input with itself", (g, x) => g.Concat([x[0], x[0], x[1]], 0), [U([4]), U([1], 2)]);
        yield return new("split all pieces used", (g, x) => g.Concat(g.Split(x[0], [1, -1, 2], 1).AsEnumerable().Reverse().ToArray(), 1), [U([3, 5])]);
        yield return new("split one piece used", (g, x) => g.Split(x[0], 3, 0)[1], [U([6])]);
        yield return new("split [1,1]", (g, x) => g.Split(x[0], 1, 1)[0] * 3.0, [U([1, 1])]);
        yield return new("split rank 3", (g, x) => g.Split(x[0], 2, 0)[0] - g.Split(x[0], 2, 0)[1], [U([4, 3, 2])]);
        yield return new("split empty", (g, x) => g.Concat(g.Split(x[0], 3, 1), 0), [U([0, 3])]);
        yield return new("split-like (likes get zero gradient)", (g, x) => g.SplitLike(x[0], [x[1], x[2]], 0)[1], [U([5, 2]), U([2, 2], 2), U([3, 2], 3)]);
        yield return new("tile [2,3] by [2,2]", (g, x) => g.Tile(x[0], [2, 2]), [U([2, 3])]);
        yield return new("tile scalar", (g, x) => g.Tile(x[0], []), [U([])]);
        yield return new("tile [1,1] by [3,2]", (g, x) => g.Tile(x[0], [3, 2]), [U([1, 1])]);
        yield return new("tile empty", (g, x) => g.Tile(x[0], [2, 1]), [U([0, 3])]);
        yield return new("tile rank 3", (g, x) => g.Tile(x[0], [1, 2, 3]), [U([2, 3, 2])]);
        yield return new("tile by zero", (g, x) => g.Tile(x[0], [0, 1]), [U([2, 3])]);
        yield return new("tile-grad wrt dy", (g, x) => g.TileGrad(x[0], x[1], [2, 1]), [U([4, 3]), U([2, 3], 2)]);
        yield return new("broadcast_to [3] -> [2,3]", (g, x) => g.BroadcastTo(x[0], new Shape(2, 3)), [U([3])]);
        yield return new("broadcast_to scalar", (g, x) => g.BroadcastTo(x[0], new Shape(2, 2)), [U([])]);
        yield return new("broadcast_to same [1,1]", (g, x) => g.BroadcastTo(x[0], new Shape(1, 1)), [U([1, 1])]);
        yield return new("broadcast_to rank 4", (g, x) => g.BroadcastTo(x[0], new Shape(3, 2, 5, 4)), [U([2, 1, 4])]);
        yield return new("broadcast_to empty", (g, x) => g.BroadcastTo(x[0], new Shape(0, 3)), [U([0, 1])]);
        yield return new("stack axis 1", (g, x) => g.Stack(x, 1), [U([2, 3]), U([2, 3], 2)]);
        yield return new("stack scalars", (g, x) => g.Stack(x), [U([]), U([], 2), U([], 3)]);
        yield return new("unstack reversed", (g, x) => g.Stack(g.Unstack(x[0], 1).AsEnumerable().Reverse().ToArray(), 0), [U([2, 3])]);
        yield return new("unstack one used", (g, x) => g.Unstack(x[0], 0)[2], [U([3, 1, 2])]);
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(GradCase c) => Gradient(c);

    [Test]
    public void SecondOrderThroughTileAndConcat()
    {
        // Square makes the first derivative depend on x, so these differentiate TileGrad, SplitLike and
        // Concat-of-split-gradients themselves. The first derivative of a quadratic is linear, so
        // LinearTolerance's argument holds unchanged.
        OpHarness.SecondOrder((g, x) => g.Square(g.Tile(x[0], [2, 3])), [U([2, 2])], LinearTolerance);
        OpHarness.SecondOrder((g, x) => g.Square(g.Concat([x[0], x[1], x[0]], 1)), [U([2, 2]), U([2, 2], 2)], LinearTolerance);
        OpHarness.SecondOrder((g, x) => g.Square(g.Split(x[0], 2, 0)[0]), [U([4, 3])], LinearTolerance);
        OpHarness.SecondOrder((g, x) => g.Square(g.BroadcastTo(x[0], new Shape(3, 2))), [U([2])], LinearTolerance);
    }

    [Test]
    public void UnknownDimensionsResolveAtRunTime()
    {
        GradientWithUnknownDims((g, x) => g.Concat(x, 1), [U([2, 3]), U([2, 1], 2)]);
        GradientWithUnknownDims((g, x) => g.Split(x[0], 2, 0)[1], [U([4, 3])]);
        GradientWithUnknownDims((g, x) => g.Split(x[0], [1, -1], 1)[1], [U([2, 4])]);
        GradientWithUnknownDims((g, x) => g.Tile(x[0], [2, 3]), [U([2, 2])]);
        GradientWithUnknownDims((g, x) => g.BroadcastTo(x[0], new Shape(3, 2, 4)), [U([2, 1])]);
        var y = Run((g, x) => g.Split(x[0], [1, -1], 0), [Iota([3, 2])], Device.Cpu, unknownDims: true);
        Assert.That(y[1].Shape, Is.EqualTo(new Shape(2, 2)));
        Assert.That(y[1].ToArray<double>(), Is.EqualTo(new double[] { 2, 3, 4, 5 }));
    }

    [Test]
    public void ConcatRejectsBadInputs()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.Concat([a, g.Placeholder(DType.Float32, new Shape(4, 3))], 1, "c1"), "Concat 'c1'", "[2,3]", "[4,3]");
        Fails<ShapeException>(() => g.Concat([a, g.Placeholder(DType.Float64, new Shape(2, 3))], 0, "c2"), "Concat 'c2'", "float64");
        Fails<ShapeException>(() => g.Concat([a, a], -3, "c3"), "Concat 'c3'", "axis -3");
        Fails<ShapeException>(() => g.Concat([a, g.Placeholder(DType.Float32, new Shape(2, 3, 1))], 0, "c4"), "Concat 'c4'", "rank");
        Fails<ShapeException>(() => g.Concat([g.Scalar(1), g.Scalar(2)], 0, "c5"), "Concat 'c5'", "scalar");
        Fails<ShapeException>(() => g.Concat([], 0, "c6"), "Concat 'c6'", "at least one");
        // Unknown dims that disagree once fed fail when the plan resolves shapes, naming the node.
        Fails<ShapeException>(() => RunWith(h =>
        {
            var (p, q) = (h.Placeholder(DType.Float32, new Shape(-1, 2)), h.Placeholder(DType.Float32, new Shape(-1, 2)));
            return (h.Concat([p, q], 1, "c7"), new() { [p] = Tensor.Zeros(new Shape(2, 2)), [q] = Tensor.Zeros(new Shape(3, 2)) });
        }), "Concat 'c7'", "axis 0");
    }

    [Test]
    public void SplitRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(5, 4));
        Fails<ShapeException>(() => g.Split(x, 2, 0, "s1"), "Split 's1'", "[5,4]", "2 equal pieces");
        Fails<ShapeException>(() => g.Split(x, [2, 2], 0, "s2"), "Split 's2'", "add up to 4");
        Fails<ShapeException>(() => g.Split(x, [-1, -1], 0, "s3"), "Split 's3'", "only one size");
        Fails<ShapeException>(() => g.Split(x, [6, -1], 0, "s4"), "Split 's4'", "more than");
        Fails<ShapeException>(() => g.Split(x, [1, -2, 6], 0, "s5"), "Split 's5'", "≥ 0");
        Fails<ShapeException>(() => g.Split(x, 2, -3, "s6"), "Split 's6'", "axis -3");
        Fails<ShapeException>(() => g.Split(x, 0, 0, "s7"), "Split 's7'", "at least 1");
        Fails<ShapeException>(() => g.Split(g.Scalar(1), 1, 0, "s8"), "Split 's8'", "scalar");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var p = h.Placeholder(DType.Float32, new Shape(-1));
            return (h.Split(p, 2, 0, "s9")[0], new() { [p] = Tensor.Zeros(new Shape(5)) });
        }), "Split 's9'", "2 equal pieces");
    }

    [Test]
    public void SplitLikeRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(5, 4));
        Fails<ShapeException>(() => g.SplitLike(x, [g.Placeholder(DType.Float32, new Shape(2, 4)), g.Placeholder(DType.Float32, new Shape(2, 4))], 0, "l1"), "SplitLike 'l1'", "add up to 4");
        Fails<ShapeException>(() => g.SplitLike(x, [g.Placeholder(DType.Float32, new Shape(5))], 0, "l2"), "SplitLike 'l2'", "rank");
        Fails<ShapeException>(() => g.SplitLike(x, [], 0, "l3"), "SplitLike 'l3'", "at least one");
        Fails<ShapeException>(() => g.SplitLike(x, [x], 2, "l4"), "SplitLike 'l4'", "axis 2");
    }

    [Test]
    public void TileRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.Tile(x, [2], "t1"), "Tile 't1'", "[2,3]", "rank 2");
        Fails<ShapeException>(() => g.Tile(x, [2, -1], "t2"), "Tile 't2'", "≥ 0");
        Fails<ShapeException>(() => g.Tile(g.Scalar(1), [1], "t3"), "Tile 't3'", "rank 0");
        Fails<ShapeException>(() => g.TileGrad(g.Placeholder(DType.Float32, new Shape(4, 4)), x, [2, 1], "t4"), "TileGrad 't4'", "[4,4]", "[2,3]");
        Fails<ShapeException>(() => g.TileGrad(g.Placeholder(DType.Int32, new Shape(4, 3)), x, [2, 1], "t5"), "TileGrad 't5'", "int32");
        Fails<ShapeException>(() => g.TileGrad(g.Placeholder(DType.Float32, new Shape(4)), x, [2, 1], "t6"), "TileGrad 't6'", "rank");
    }

    [Test]
    public void BroadcastToRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.BroadcastTo(x, new Shape(2, 4), "b1"), "BroadcastTo 'b1'", "[2,3]", "[2,4]");
        Fails<ShapeException>(() => g.BroadcastTo(x, new Shape(3), "b2"), "BroadcastTo 'b2'", "lower-rank");
        Fails<ShapeException>(() => g.BroadcastTo(x, new Shape(-1, 3), "b3"), "BroadcastTo 'b3'", "fully defined");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var p = h.Placeholder(DType.Float32, new Shape(-1));
            return (h.BroadcastTo(p, new Shape(2, 3), "b4"), new() { [p] = Tensor.Zeros(new Shape(2)) });
        }), "BroadcastTo 'b4'", "[2]", "[2,3]");
    }

    [Test]
    public void StackAndUnstackRejectBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.Stack([], 0, "k1"), "Stack 'k1'", "at least one");
        Fails<ShapeException>(() => g.Stack([x, g.Placeholder(DType.Float32, new Shape(3, 2))], 0, "k2"), "Stack 'k2'", "[3,2]", "[2,3]");
        Fails<ShapeException>(() => g.Stack([x, x], 3, "k3"), "Stack 'k3'", "axis 3");
        Fails<ShapeException>(() => g.Stack([x, x], -4, "k4"), "Stack 'k4'", "axis -4");
        Fails<ShapeException>(() => g.Stack([x, g.Placeholder(DType.Int32, new Shape(2, 3))], 0, "k5"), "Stack 'k5'", "int32");
        Fails<ShapeException>(() => g.Unstack(g.Scalar(1), 0, "u1"), "Unstack 'u1'", "scalar");
        Fails<ShapeException>(() => g.Unstack(x, -3, "u2"), "Unstack 'u2'", "axis -3");
        Fails<ShapeException>(() => g.Unstack(g.Placeholder(DType.Float32, new Shape(-1, 2)), 0, "u3"), "Unstack 'u3'", "unknown");
        Assert.That(g.Unstack(g.Placeholder(DType.Float32, new Shape(2, 0)), 1), Is.Empty);
    }
}
