using Nabla.Tests.Support;
using NUnit.Framework;
using static Nabla.Tests.Ops.ArrayCheck;

namespace Nabla.Tests.Ops;

/// <summary>Slice and Pad, and their run-time-shaped twins SliceLike and PadLike (each other's gradients).</summary>
public class SliceOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Slice", "Pad", "PadLike", "SliceLike"];

    private static Tensor U(int[] shape, ulong seed = 1) => OpHarness.Uniform(shape, seed: seed);

    public static IEnumerable<ArrayCase> ForwardCases()
    {
        yield return new("slice interior", (g, x) => g.Slice(x[0], [1, 2], [2, 2]), [U([3, 5])], ts => Slice(ts[0], [1, 2], [2, 2]));
        yield return new("slice -1 to the end", (g, x) => g.Slice(x[0], [1, 0, 2], [-1, 2, -1]), [U([2, 3, 4])], ts => Slice(ts[0], [1, 0, 2], [-1, 2, -1]));
        yield return new("slice scalar", (g, x) => g.Slice(x[0], [], []), [U([])], ts => ts[0]);
        yield return new("slice [1,1] whole", (g, x) => g.Slice(x[0], [0, 0], [1, 1]), [U([1, 1])], ts => ts[0]);
        yield return new("slice empty result at the end", (g, x) => g.Slice(x[0], [3, 0], [0, -1]), [U([3, 5])], ts => Slice(ts[0], [3, 0], [0, -1]));
        yield return new("slice of empty", (g, x) => g.Slice(x[0], [0, 1], [0, 2]), [U([0, 3])], ts => Slice(ts[0], [0, 1], [0, 2]));
        yield return new("slice large", (g, x) => g.Slice(x[0], [3, 7], [100, 50]), [U([128, 65])], ts => Slice(ts[0], [3, 7], [100, 50]));
        yield return new("slice int64", (g, x) => g.Slice(x[0], [1], [2]), [Tensor.FromArray(new long[] { 5, 6, 7, 8 })], ts => Slice(ts[0], [1], [2]));
        yield return new("slice NaN and infinities", (g, x) => g.Slice(x[0], [1], [5]), [Specials(7)], ts => Slice(ts[0], [1], [5]));

        yield return new("pad both sides", (g, x) => g.Pad(x[0], new[,] { { 1, 2 }, { 0, 1 } }), [U([2, 3])], ts => Pad(ts[0], new[,] { { 1, 2 }, { 0, 1 } }, 0));
        yield return new("pad with a constant", (g, x) => g.Pad(x[0], new[,] { { 2, 0 } }, -7.5), [U([3])], ts => Pad(ts[0], new[,] { { 2, 0 } }, -7.5));
        yield return new("pad scalar (nothing to pad)", (g, x) => g.Pad(x[0], new int[0, 2], 3), [U([])], ts => ts[0]);
        yield return new("pad [1,1]", (g, x) => g.Pad(x[0], new[,] { { 1, 1 }, { 1, 1 } }), [U([1, 1])], ts => Pad(ts[0], new[,] { { 1, 1 }, { 1, 1 } }, 0));
        yield return new("pad empty input", (g, x) => g.Pad(x[0], new[,] { { 1, 0 }, { 0, 2 } }, 4), [U([0, 3])], ts => Pad(ts[0], new[,] { { 1, 0 }, { 0, 2 } }, 4));
        yield return new("pad rank 3", (g, x) => g.Pad(x[0], new[,] { { 0, 1 }, { 2, 0 }, { 1, 1 } }), [U([2, 3, 4])], ts => Pad(ts[0], new[,] { { 0, 1 }, { 2, 0 }, { 1, 1 } }, 0));
        yield return new("pad large", (g, x) => g.Pad(x[0], new[,] { { 3, 3 }, { 1, 0 } }), [U([100, 63])], ts => Pad(ts[0], new[,] { { 3, 3 }, { 1, 0 } }, 0));
        yield return new("pad int32 with a constant", (g, x) => g.Pad(x[0], new[,] { { 1, 1 } }, 9), [Ints([1, 2])], ts => Pad(ts[0], new[,] { { 1, 1 } }, 9));
        yield return new("pad NaN and infinities", (g, x) => g.Pad(x[0], new[,] { { 1, 2 } }, double.NaN), [Specials(7)], ts => Pad(ts[0], new[,] { { 1, 2 } }, double.NaN));

        yield return new("pad-like", (g, x) => g.PadLike(x[0], x[1], [1, 2]), [U([2, 2]), U([4, 5], 2)], ts => Pad(ts[0], new[,] { { 1, 1 }, { 2, 1 } }, 0));
        yield return new("pad-like empty", (g, x) => g.PadLike(x[0], x[1], [0, 0]), [U([0, 2]), U([2, 3], 2)], ts => Make([2, 3], _ => 0));
        yield return new("slice-like", (g, x) => g.SliceLike(x[0], x[1], [1, 0]), [U([4, 3]), U([2, 3], 2)], ts => Slice(ts[0], [1, 0], [2, 3]));
        yield return new("slice-like scalar", (g, x) => g.SliceLike(x[0], x[1], []), [U([]), U([], 2)], ts => ts[0]);
    }

    [TestCaseSource(nameof(ForwardCases))]
    public void ForwardMatchesNaiveAndCpu(ArrayCase c) => Forward(c);

    public static IEnumerable<GradCase> GradientCases()
    {
        yield return new("slice scalar", (g, x) => g.Slice(x[0], [], []), [U([])]);
        yield return new("slice [1,1]", (g, x) => g.Slice(x[0], [0, 0], [1, -1]), [U([1, 1])]);
        yield return new("slice [3,5] interior", (g, x) => g.Slice(x[0], [1, 1], [2, 3]), [U([3, 5])]);
        yield return new("slice rank 3 to the end", (g, x) => g.Slice(x[0], [1, 0, 2], [-1, 2, -1]), [U([2, 3, 4])]);
        yield return new("slice empty input", (g, x) => g.Slice(x[0], [0, 1], [0, 2]), [U([0, 3])]);
        yield return new("slice to empty", (g, x) => g.Slice(x[0], [2, 0], [0, 5]) + g.Slice(x[0], [0, 0], [0, 5]), [U([3, 5])]);
        yield return new("pad scalar", (g, x) => g.Pad(x[0], new int[0, 2], 1), [U([])]);
        yield return new("pad [1,1]", (g, x) => g.Pad(x[0], new[,] { { 1, 0 }, { 0, 2 } }), [U([1, 1])]);
        yield return new("pad [3,5]", (g, x) => g.Pad(x[0], new[,] { { 2, 1 }, { 1, 1 } }, 5), [U([3, 5])]);
        yield return new("pad rank 3", (g, x) => g.Pad(x[0], new[,] { { 0, 1 }, { 1, 0 }, { 2, 2 } }), [U([2, 3, 4])]);
        yield return new("pad empty", (g, x) => g.Pad(x[0], new[,] { { 1, 1 }, { 0, 0 } }), [U([0, 3])]);
        yield return new("pad-like (like gets zero gradient)", (g, x) => g.PadLike(x[0], x[1], [1, 0]), [U([2, 3]), U([4, 3], 2)]);
        yield return new("slice-like (like gets zero gradient)", (g, x) => g.SliceLike(x[0], x[1], [0, 1]), [U([3, 4]), U([2, 2], 2)]);
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(GradCase c) => Gradient(c);

    [Test]
    public void SecondOrderThroughPadLikeAndSliceLike()
    {
        // Quadratic f: the first derivative is linear, so LinearTolerance's argument holds.
        OpHarness.SecondOrder((g, x) => g.Square(g.Slice(x[0], [1, 0], [2, -1])), [U([3, 4])], LinearTolerance);
        OpHarness.SecondOrder((g, x) => g.Square(g.Pad(x[0], new[,] { { 1, 2 }, { 0, 1 } }, 3)), [U([2, 2])], LinearTolerance);
    }

    [Test]
    public void UnknownDimensionsResolveAtRunTime()
    {
        GradientWithUnknownDims((g, x) => g.Slice(x[0], [1, 0], [-1, 2]), [U([3, 4])]);
        GradientWithUnknownDims((g, x) => g.Pad(x[0], new[,] { { 1, 2 }, { 2, 0 } }, 1), [U([2, 3])]);
        var y = Run((g, x) => [g.Slice(x[0], [1, 1], [-1, -1]), g.Pad(x[0], new[,] { { 0, 1 }, { 1, 0 } }, 9)], [Iota([2, 3])], Device.Cpu, unknownDims: true);
        Assert.That(y[0].ToArray<double>(), Is.EqualTo(new double[] { 4, 5 }));
        Assert.That(y[1].Shape, Is.EqualTo(new Shape(3, 4)));
        Assert.That(y[1].ToArray<double>(), Is.EqualTo(new double[] { 9, 0, 1, 2, 9, 3, 4, 5, 9, 9, 9, 9 }));
    }

    [Test]
    public void SliceRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3, 5));
        Fails<ShapeException>(() => g.Slice(x, [2, 0], [2, 5], "sl1"), "Slice 'sl1'", "[3,5]", "axis 0");
        Fails<ShapeException>(() => g.Slice(x, [0], [1], "sl2"), "Slice 'sl2'", "2 entries");
        Fails<ShapeException>(() => g.Slice(x, [-1, 0], [1, 1], "sl3"), "Slice 'sl3'", "negative");
        Fails<ShapeException>(() => g.Slice(x, [0, 6], [0, -1], "sl4"), "Slice 'sl4'", "axis 1");
        Fails<ShapeException>(() => g.Slice(x, [0, 0], [1, -2], "sl5"), "Slice 'sl5'", "size on axis 1");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var p = h.Placeholder(DType.Float32, new Shape(-1));
            return (h.Slice(p, [2], [3], "sl6"), new() { [p] = Tensor.Zeros(new Shape(4)) });
        }), "Slice 'sl6'", "[4]");
    }

    [Test]
    public void PadRejectsBadInputs()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3, 5));
        Fails<ShapeException>(() => g.Pad(x, new[,] { { 1, 1 } }, 0, "p1"), "Pad 'p1'", "[2,2]", "[1,2]");
        Fails<ShapeException>(() => g.Pad(x, new[,] { { 1, 1, 1 }, { 0, 0, 0 } }, 0, "p2"), "Pad 'p2'", "[2,3]");
        Fails<ShapeException>(() => g.Pad(x, new[,] { { 1, 1 }, { -1, 0 } }, 0, "p3"), "Pad 'p3'", "axis 1", "≥ 0");
    }

    [Test]
    public void WindowTwinsRejectBadInputs()
    {
        var g = new Graph();
        var (small, big) = (g.Placeholder(DType.Float32, new Shape(2, 2)), g.Placeholder(DType.Float32, new Shape(3, 3)));
        Fails<ShapeException>(() => g.PadLike(small, big, [2, 0], "w1"), "PadLike 'w1'", "does not fit", "axis 0");
        Fails<ShapeException>(() => g.PadLike(small, g.Placeholder(DType.Float32, new Shape(9)), [0], "w2"), "PadLike 'w2'", "ranks differ");
        Fails<ShapeException>(() => g.PadLike(small, big, [0, -1], "w3"), "PadLike 'w3'", "negative");
        Fails<ShapeException>(() => g.SliceLike(big, small, [0, 2], "w4"), "SliceLike 'w4'", "does not fit", "axis 1");
        Fails<ShapeException>(() => g.SliceLike(big, small, [0], "w5"), "SliceLike 'w5'", "ranks differ");
        Fails<ShapeException>(() => RunWith(h =>
        {
            var (p, q) = (h.Placeholder(DType.Float32, new Shape(-1)), h.Placeholder(DType.Float32, new Shape(-1)));
            return (h.SliceLike(p, q, [1], "w6"), new() { [p] = Tensor.Zeros(new Shape(3)), [q] = Tensor.Zeros(new Shape(3)) });
        }), "SliceLike 'w6'", "[3]");
    }
}
