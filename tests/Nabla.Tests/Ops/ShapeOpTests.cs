using Nabla.Tests.Support;
using NUnit.Framework;
using static Nabla.Tests.Ops.ArrayCheck;

namespace Nabla.Tests.Ops;

/// <summary>The views Reshape, ReshapeLike, ExpandDims, Squeeze (no copy) and the strided copy Transpose.</summary>
public class ShapeOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Reshape", "ReshapeLike", "ExpandDims", "Squeeze", "Transpose"];

    private static Tensor U(int[] shape, ulong seed = 1) => OpHarness.Uniform(shape, seed: seed);

    public static IEnumerable<ArrayCase> ForwardCases()
    {
        yield return new("reshape [2,3] -> [3,2]", (g, x) => g.Reshape(x[0], [3, 2]), [U([2, 3])], ts => Reshaped(ts[0], 3, 2));
        yield return new("reshape infers -1", (g, x) => g.Reshape(x[0], [-1, 4]), [U([2, 3, 4])], ts => Reshaped(ts[0], 6, 4));
        yield return new("reshape scalar to [1,1]", (g, x) => g.Reshape(x[0], [1, 1]), [U([])], ts => Reshaped(ts[0], 1, 1));
        yield return new("reshape [1,1] to scalar", (g, x) => g.Reshape(x[0], []), [U([1, 1])], ts => Reshaped(ts[0]));
        yield return new("reshape empty with -1", (g, x) => g.Reshape(x[0], [3, -1, 2]), [U([0, 3])], ts => Reshaped(ts[0], 3, 0, 2));
        yield return new("reshape large", (g, x) => g.Reshape(x[0], [-1]), [U([64, 65])], ts => Reshaped(ts[0], 64 * 65));
        yield return new("reshape bool", (g, x) => g.Reshape(x[0], [2, 1]), [Tensor.FromArray([true, false])], ts => Make([2, 1], i => i[0] == 0 ? 1 : 0));
        yield return new("reshape-like", (g, x) => g.ReshapeLike(x[0], x[1]), [U([2, 3]), U([6, 1], 2)], ts => Reshaped(ts[0], 6, 1));
        yield return new("reshape-like empty", (g, x) => g.ReshapeLike(x[0], x[1]), [U([0, 3]), U([3, 0], 2)], ts => Reshaped(ts[0], 3, 0));
        yield return new("expand_dims front", (g, x) => g.ExpandDims(x[0], 0), [U([2, 3])], ts => Reshaped(ts[0], 1, 2, 3));
        yield return new("expand_dims -1 appends", (g, x) => g.ExpandDims(x[0], -1), [U([2, 3])], ts => Reshaped(ts[0], 2, 3, 1));
        yield return new("expand_dims scalar", (g, x) => g.ExpandDims(x[0], 0), [U([])], ts => Reshaped(ts[0], 1));
        yield return new("expand_dims empty middle", (g, x) => g.ExpandDims(x[0], 1), [U([0, 3])], ts => Reshaped(ts[0], 0, 1, 3));
        yield return new("squeeze all ones", (g, x) => g.Squeeze(x[0]), [U([1, 3, 1])], ts => Reshaped(ts[0], 3));
        yield return new("squeeze given negative axis", (g, x) => g.Squeeze(x[0], [-1]), [U([1, 3, 1])], ts => Reshaped(ts[0], 1, 3));
        yield return new("squeeze [1,1] to scalar", (g, x) => g.Squeeze(x[0]), [U([1, 1])], ts => Reshaped(ts[0]));
        yield return new("squeeze keeps empty dims", (g, x) => g.Squeeze(x[0], [1]), [U([0, 1, 3])], ts => Reshaped(ts[0], 0, 3));
        yield return new("transpose default reverses", (g, x) => g.Transpose(x[0]), [U([2, 3, 4])], ts => Transpose(ts[0], [2, 1, 0]));
        yield return new("transpose perm", (g, x) => g.Transpose(x[0], [1, 2, 0]), [U([2, 3, 4])], ts => Transpose(ts[0], [1, 2, 0]));
        yield return new("transpose scalar", (g, x) => g.Transpose(x[0]), [U([])], ts => ts[0]);
        yield return new("transpose [1,1]", (g, x) => g.Transpose(x[0]), [U([1, 1])], ts => ts[0]);
        yield return new("transpose empty", (g, x) => g.Transpose(x[0]), [U([0, 3])], ts => Transpose(ts[0], [1, 0]));
        yield return new("transpose large odd", (g, x) => g.Transpose(x[0]), [U([65, 127])], ts => Transpose(ts[0], [1, 0]));
        yield return new("transpose int64", (g, x) => g.Transpose(x[0]), [Tensor.FromArray(new long[] { 1, 2, 3, 4, 5, 6 }, 2, 3)], ts => Transpose(ts[0], [1, 0]));
        yield return new("transpose NaN and infinities", (g, x) => g.Transpose(x[0]), [Specials(2, 7)], ts => Transpose(ts[0], [1, 0]));
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void ForwardMatchesNaiveAndCpu(ArrayCase c) => Forward(c);

    public static IEnumerable<GradCase> GradientCases()
    {
        yield return new("reshape scalar", (g, x) => g.Reshape(x[0], [1, 1, 1]), [U([])]);
        yield return new("reshape [1,1]", (g, x) => g.Reshape(x[0], [-1]), [U([1, 1])]);
        yield return new("reshape [3,5]", (g, x) => g.Reshape(x[0], [5, -1]) * g.Constant(U([5, 3], 9)), [U([3, 5])]);
        yield return new("reshape rank 3", (g, x) => g.Reshape(x[0], [4, 6]), [U([2, 3, 4])]);
        yield return new("reshape empty", (g, x) => g.Reshape(x[0], [3, 0]), [U([0, 3])]);
        yield return new("reshape-like (like gets zero)", (g, x) => g.ReshapeLike(x[0], x[1]), [U([2, 3]), U([3, 2], 2)]);
        yield return new("expand_dims scalar", (g, x) => g.ExpandDims(x[0], -1), [U([])]);
        yield return new("expand_dims [3,5]", (g, x) => g.ExpandDims(x[0], 1) * g.Constant(U([3, 4, 5], 9)), [U([3, 5])]);
        yield return new("expand_dims empty", (g, x) => g.ExpandDims(x[0], 2), [U([0, 3])]);
        yield return new("squeeze [1,1]", (g, x) => g.Squeeze(x[0]), [U([1, 1])]);
        yield return new("squeeze rank 3", (g, x) => g.Squeeze(x[0], [0]), [U([1, 3, 4])]);
        yield return new("squeeze empty", (g, x) => g.Squeeze(x[0], [-1]), [U([0, 1])]);
        yield return new("transpose [1,1]", (g, x) => g.Transpose(x[0]), [U([1, 1])]);
        yield return new("transpose [3,5]", (g, x) => g.Transpose(x[0]) * g.Constant(U([5, 3], 9)), [U([3, 5])]);
        yield return new("transpose rank 3 perm", (g, x) => g.Transpose(x[0], [2, 0, 1]), [U([2, 3, 4])]);
        yield return new("transpose empty", (g, x) => g.Transpose(x[0]), [U([0, 3])]);
        yield return new("transpose scalar", (g, x) => g.Transpose(x[0]), [U([])]);
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(GradCase c) => Gradient(c);

    [Test]
    public void UnknownDimensionsResolveAtRunTime()
    {
        GradientWithUnknownDims((g, x) => g.Reshape(x[0], [-1]), [U([2, 3])]);
        GradientWithUnknownDims((g, x) => g.Transpose(g.ExpandDims(x[0], 1), [2, 0, 1]), [U([2, 3])]);
        GradientWithUnknownDims((g, x) => g.Squeeze(x[0], [0]), [U([1, 3])]);
        var g2 = new Graph();
        var p = g2.Placeholder(DType.Float32, new Shape(-1, 1, 2), "p");
        Assert.That(g2.Reshape(p, [-1, 4]).Shape, Is.EqualTo(new Shape(-1, 4)));
        // Squeeze without axes removes only the dims known to be 1: a fed 1 in the unknown dim stays.
        var sq = g2.Squeeze(p);
        Assert.That(sq.Shape, Is.EqualTo(new Shape(-1, 2)));
        using var s = new Session(g2);
        var y = s.Run(sq, new Dictionary<Output, Tensor> { [p] = Tensor.FromArray([1f, 2f], 1, 1, 2) });
        Assert.That(y.Shape, Is.EqualTo(new Shape(1, 2)));
    }

    [Test]
    public void ReshapeRejectsBadTargets()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.Reshape(x, [4, 2], "r1"), "Reshape 'r1'", "[2,3]", "6 elements", "[4,2]");
        Fails<ShapeException>(() => g.Reshape(x, [-1, -1], "r2"), "Reshape 'r2'", "only one -1");
        Fails<ShapeException>(() => g.Reshape(x, [-2, 3], "r3"), "Reshape 'r3'", "invalid");
        Fails<ShapeException>(() => g.Reshape(x, [-1, 4], "r4"), "Reshape 'r4'", "[2,3]");
        Fails<ShapeException>(() => g.Reshape(x, [0, -1], "r5"), "Reshape 'r5'", "6 elements");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var p = h.Placeholder(DType.Float32, new Shape(-1));
            return (h.Reshape(p, [2, -1], "r6"), new() { [p] = Tensor.Zeros(new Shape(3)) });
        }), "Reshape 'r6'", "[3]");
    }

    [Test]
    public void ReshapeLikeRejectsMismatches()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.ReshapeLike(x, g.Placeholder(DType.Float32, new Shape(5)), "rl1"), "ReshapeLike 'rl1'", "[2,3]", "[5]");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var (p, q) = (h.Placeholder(DType.Float32, new Shape(-1)), h.Placeholder(DType.Int32, new Shape(-1, 2)));
            return (h.ReshapeLike(p, q, "rl2"), new() { [p] = Tensor.Zeros(new Shape(5)), [q] = Tensor.Zeros(new Shape(2, 2), DType.Int32) });
        }), "ReshapeLike 'rl2'", "[5]", "[2,2]");
        Fails<ArgumentException>(() => g.ReshapeLike(x, new Graph().Placeholder(DType.Float32, new Shape(6))), "ReshapeLike", "another graph");
    }

    [Test]
    public void ExpandDimsRejectsBadAxes()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3));
        Fails<ShapeException>(() => g.ExpandDims(x, 3, "e1"), "ExpandDims 'e1'", "axis 3", "rank 3");
        Fails<ShapeException>(() => g.ExpandDims(x, -4, "e2"), "ExpandDims 'e2'", "axis -4");
        Fails<ShapeException>(() => g.ExpandDims(g.Scalar(1), 2, "e3"), "ExpandDims 'e3'", "axis 2");
        Fails<ArgumentException>(() => g.ExpandDims(new Graph().Scalar(1), 0), "ExpandDims", "another graph");
    }

    [Test]
    public void SqueezeRejectsBadAxes()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(1, 3));
        Fails<ShapeException>(() => g.Squeeze(x, [1], "q1"), "Squeeze 'q1'", "axis 1", "[1,3]", "size is 3");
        Fails<ShapeException>(() => g.Squeeze(x, [-3], "q2"), "Squeeze 'q2'", "axis -3");
        Fails<ShapeException>(() => g.Squeeze(x, [2], "q3"), "Squeeze 'q3'", "axis 2");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var p = h.Placeholder(DType.Float32, new Shape(-1, 3));
            return (h.Squeeze(p, [0], "q4"), new() { [p] = Tensor.Zeros(new Shape(2, 3)) });
        }), "Squeeze 'q4'", "size is 2");
    }

    [Test]
    public void TransposeRejectsBadPermutations()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2, 3, 4));
        Fails<ShapeException>(() => g.Transpose(x, [1, 0], "t1"), "Transpose 't1'", "[1,0]", "[2,3,4]");
        Fails<ShapeException>(() => g.Transpose(x, [0, 0, 1], "t2"), "Transpose 't2'", "not a permutation");
        Fails<ShapeException>(() => g.Transpose(x, [0, 1, 3], "t3"), "Transpose 't3'", "[0,1,3]");
        Fails<ShapeException>(() => g.Transpose(x, [-1, 0, 1], "t4"), "Transpose 't4'", "[-1,0,1]");
    }
}
