using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Reductions: known values, every axis pattern the kernel planner distinguishes (none, one block,
/// several blocks needing the transpose path, size-1 dims, negative and unsorted axes) against a
/// naive host loop, empty axes, NaN/±Inf, tie-breaking, gradients and build-time errors.
/// </summary>
public partial class ReduceOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Sum", "Mean", "Max", "Min", "Prod", "ArgMax", "ArgMin", "ReducedCount"];

    private static readonly string[] Ops = ["Sum", "Mean", "Max", "Min", "Prod"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    private static Output Reduce(Graph g, string op, Output x, int[]? axes, bool keepDims = false) => op switch
    {
        "Sum" => g.ReduceSum(x, axes, keepDims),
        "Mean" => g.ReduceMean(x, axes, keepDims),
        "Max" => g.ReduceMax(x, axes, keepDims),
        "Min" => g.ReduceMin(x, axes, keepDims),
        _ => g.ReduceProd(x, axes, keepDims),
    };

    private static Tensor Eval(Device d, Build f, params Tensor[] inputs) => OpHarness.Evaluate(f, inputs, d);

    private static readonly Tensor M23 = Tensor.FromArray([1.0, 2, 3, 4, 5, 6], 2, 3);

    [TestCaseSource(nameof(Devices))]
    public void KnownValuesOverNoneAxis0Axis1AndNegativeAxis(Device d)
    {
        // [[1,2,3],[4,5,6]]: Σ = 21, columns 5 7 9, rows 6 15; Π rows 6 and 120.
        double[] V(Build f) => Eval(d, f, M23).ToDoubleArray();
        Assert.That(V((g, x) => g.ReduceSum(x[0])), Is.EqualTo(new[] { 21.0 }));
        Assert.That(V((g, x) => g.ReduceSum(x[0], 0)), Is.EqualTo(new[] { 5.0, 7, 9 }));
        Assert.That(V((g, x) => g.ReduceSum(x[0], -1)), Is.EqualTo(new[] { 6.0, 15 }));
        Assert.That(V((g, x) => g.ReduceMean(x[0], 0)), Is.EqualTo(new[] { 2.5, 3.5, 4.5 }));
        Assert.That(V((g, x) => g.ReduceMean(x[0])), Is.EqualTo(new[] { 3.5 }));
        Assert.That(V((g, x) => g.ReduceMax(x[0], [1])), Is.EqualTo(new[] { 3.0, 6 }));
        Assert.That(V((g, x) => g.ReduceMin(x[0], [0])), Is.EqualTo(new[] { 1.0, 2, 3 }));
        Assert.That(V((g, x) => g.ReduceProd(x[0], [-1])), Is.EqualTo(new[] { 6.0, 120 }));
        Assert.That(V((g, x) => g.ReduceProd(x[0])), Is.EqualTo(new[] { 720.0 }));
    }

    /// <summary>(shape, axes): each row lands in a different branch of ReduceLowering.Reduce.</summary>
    private static IEnumerable<TestCaseData> AxisPatterns()
    {
        var rows = new (int[] Shape, int[]? Axes, string Why)[]
        {
            ([2, 3, 4], null, "all axes"),
            ([2, 3, 4], [], "no axes: a copy"),
            ([2, 3, 4], [1], "one middle block"),
            ([2, 3, 4], [0, 1], "leading block"),
            ([2, 3, 4], [1, 2], "trailing block"),
            ([2, 3, 4], [0, 2], "two blocks: transpose path"),
            ([2, 3, 4], [2, 0], "unsorted axes"),
            ([2, 3, 4], [-1, -3], "negative non-adjacent"),
            ([2, 3, 4, 5], [1, 3], "rank 4, two blocks"),
            ([2, 3, 4, 5], [0, 2, 3], "rank 4, lead + trail"),
            ([2, 1, 3], [0, 2], "size-1 dim between reduced axes merges them"),
            ([3, 1, 1], [1, 2], "only size-1 axes: a copy"),
            ([1, 5], [0], "size-1 reduced, nothing to combine"),
            ([7], [0], "rank 1"),
        };
        foreach (var (shape, axes, why) in rows)
            foreach (var op in Ops)
                foreach (var keep in new[] { false, true })
                    yield return new TestCaseData(op, shape, axes, keep).SetArgDisplayNames(op, $"[{string.Join(",", shape)}]", axes is null ? "null" : $"[{string.Join(",", axes)}]", keep ? "keep" : "drop", why);
    }

    [TestCaseSource(nameof(AxisPatterns))]
    public void MatchesNaiveLoopOnBothDevices(string op, int[] shape, int[]? axes, bool keepDims)
    {
        // Prod over up to 120 values of [-2, 2] would under/overflow float32; [0.5, 1.5] keeps it in range.
        var x = op == "Prod" ? OpHarness.Uniform(shape, 0.5, 1.5) : OpHarness.Uniform(shape);
        var (expectedShape, expected) = Naive(op, x, axes, keepDims);
        var reference = Eval(Device.Reference, (g, xs) => Reduce(g, op, xs[0], axes, keepDims), x);
        Assert.That(reference.Shape, Is.EqualTo(expectedShape));
        OpHarness.AssertClose(expected, reference.ToDoubleArray(), 1e-13, 1e-13, "reference vs naive loop");
        // float32 over ≤ 120 values of magnitude ≤ 2: accumulated rounding ≲ n·ε₃₂·Σ|x| ≈ 120·6e-8·240 ≈ 2e-3 worst case; typically far less.
        OpHarness.CpuMatchesReference((g, xs) => Reduce(g, op, xs[0], axes, keepDims), [x], 1e-5, 1e-5);
    }

    /// <summary>Column sums over rows of at most 16 floats (a convolution's bias gradient) take a masked-vector path on AVX-512.</summary>
    [TestCase(new[] { 37, 6 }, new[] { 0 })]
    [TestCase(new[] { 3, 401, 6 }, new[] { 1 })]
    [TestCase(new[] { 2, 9, 16 }, new[] { 0, 1 })]
    [TestCase(new[] { 5, 3, 1 }, new[] { 0, 1 })]
    [TestCase(new[] { 7, 2, 17 }, new[] { 0, 1 })]
    public void ShortRowColumnSumsMatchReference(int[] shape, int[] axes)
    {
        var x = OpHarness.Uniform(shape, seed: 9);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceSum(xs[0], axes), [x], 1e-5, 1e-4);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceMean(xs[0], axes), [x], 1e-5, 1e-5);
        // A NaN in one row and +Inf/−Inf in two others of the same column: NaN wins its column, ±Inf make NaN in theirs.
        var values = x.ToDoubleArray();
        var inner = shape[^1];
        values[inner] = double.NaN;
        if (inner > 1) { values[1] = double.PositiveInfinity; values[2 * inner + 1] = double.NegativeInfinity; }
        var special = new Tensor(values, x.Shape, DType.Float64);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceSum(xs[0], axes), [special], 1e-5, 1e-4);
    }

    [TestCase(0)]
    [TestCase(1)]
    [TestCase(null)]
    public void LargeMatrixCpuMatchesReference(int? axis)
    {
        var x = OpHarness.Uniform([1000, 300], seed: 7);
        int[]? axes = axis is null ? null : [axis.Value];
        // Σ of up to 3·10⁵ terms in float32: error ≈ √n·ε₃₂·Σ|x| (lane-wise accumulation) ≈ 550·6e-8·3e5 ≈ 1e-2 for the full
        // sum, ≈ 2e-3 for a 1000-term column; the input rounding adds ε₃₂·Σ|x|. Max/min are exact: rounding is monotonic.
        var sumAtol = axis is null ? 5e-2 : 5e-3;
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceSum(xs[0], axes), [x], 1e-5, sumAtol);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceMean(xs[0], axes), [x], 1e-5, sumAtol / (axis is null ? 3e5 : axis == 0 ? 1000 : 300) + 1e-6);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceMax(xs[0], axes), [x], 0, 0);
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceMin(xs[0], axes), [x], 0, 0);
        var near1 = OpHarness.Uniform([1000, 300], 0.999, 1.001, seed: 8);
        // Π of n factors: relative error ≈ n·ε₃₂ (≈ 6e-5 for 1000 factors) plus n input roundings of ε₃₂ each.
        OpHarness.CpuMatchesReference((g, xs) => g.ReduceProd(xs[0], axes), [near1], axis is null ? 5e-2 : 2e-4, 0);
    }

    [TestCaseSource(nameof(Devices))]
    public void EmptyAxesGiveTheIdentity(Device d)
    {
        var empty = Tensor.Zeros(new Shape(0, 3), DType.Float64);
        var sum = Eval(d, (g, x) => g.ReduceSum(x[0], 0), empty);
        Assert.That(sum.Shape, Is.EqualTo(new Shape(3)));
        Assert.That(sum.ToDoubleArray(), Is.EqualTo(new[] { 0.0, 0, 0 }));
        Assert.That(Eval(d, (g, x) => g.ReduceProd(x[0], [0]), empty).ToDoubleArray(), Is.EqualTo(new[] { 1.0, 1, 1 }));
        Assert.That(Eval(d, (g, x) => g.ReduceMean(x[0], 0), empty).ToDoubleArray(), Is.All.NaN);
        Assert.That(Eval(d, (g, x) => g.ReduceMax(x[0], [0]), empty).ToDoubleArray(), Is.All.EqualTo(double.NegativeInfinity));
        Assert.That(Eval(d, (g, x) => g.ReduceMin(x[0], [0]), empty).ToDoubleArray(), Is.All.EqualTo(double.PositiveInfinity));
        var all = Eval(d, (g, x) => g.ReduceSum(x[0], null, keepDims: true), empty);
        Assert.That(all.Shape, Is.EqualTo(new Shape(1, 1)));
        Assert.That(all.ToDoubleArray(), Is.EqualTo(new[] { 0.0 }));
        // Reducing the non-empty axis of an empty tensor leaves an empty result.
        Assert.That(Eval(d, (g, x) => g.ReduceMax(x[0], [1]), empty).Shape, Is.EqualTo(new Shape(0)));
    }

    [TestCaseSource(nameof(Devices))]
    public void NaNPropagatesAndInfinitiesCombineAsIeee(Device d)
    {
        var x = Tensor.FromArray([1.0, double.NaN, 3, 4, 5, 6, double.PositiveInfinity, double.NegativeInfinity, 0], 3, 3);
        double[] Rows(string op) => Eval(d, (g, xs) => Reduce(g, op, xs[0], [1]), x).ToDoubleArray();
        Assert.That(Rows("Sum"), Is.EqualTo(new[] { double.NaN, 15, double.NaN }));
        Assert.That(Rows("Max"), Is.EqualTo(new[] { double.NaN, 6, double.PositiveInfinity }));
        Assert.That(Rows("Min"), Is.EqualTo(new[] { double.NaN, 4, double.NegativeInfinity }));
        Assert.That(Rows("Prod"), Is.EqualTo(new[] { double.NaN, 120, double.NaN }));
        // Columns run through the inner > 1 kernels (CPU column sums, generic max).
        double[] Cols(string op) => Eval(d, (g, xs) => Reduce(g, op, xs[0], [0]), x).ToDoubleArray();
        Assert.That(Cols("Mean"), Is.EqualTo(new[] { double.PositiveInfinity, double.NaN, 3 }));
        Assert.That(Cols("Max"), Is.EqualTo(new[] { double.PositiveInfinity, double.NaN, 6 }));
        Assert.That(Cols("Min"), Is.EqualTo(new[] { 1, double.NaN, 0 }));
        // A NaN first in a contiguous row must not be skipped by the vector max.
        var first = Tensor.FromArray([double.NaN, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17], 18);
        Assert.That(Eval(d, (g, xs) => g.ReduceMax(xs[0]), first).ToDoubleArray(), Is.All.NaN);
        Assert.That(Eval(d, (g, xs) => g.ReduceMin(xs[0]), first).ToDoubleArray(), Is.All.NaN);
    }

    [Test]
    public void KeepDimsAndUnknownDimsGiveStaticShapes()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3, 4), "x");
        Assert.That(g.ReduceSum(x, [0, 2], keepDims: true).Shape, Is.EqualTo(new Shape(1, 3, 1)));
        Assert.That(g.ReduceMean(x, [-1]).Shape, Is.EqualTo(new Shape(-1, 3)));
        Assert.That(g.ReduceMax(x).Shape, Is.EqualTo(Shape.Scalar));
        Assert.That(g.ReduceMin(x, []).Shape, Is.EqualTo(new Shape(-1, 3, 4)));
        Assert.That(g.ArgMax(x, 1).Shape, Is.EqualTo(new Shape(-1, 4)));
        Assert.That(g.ArgMin(x).DType, Is.EqualTo(DType.Int64));
    }

    /// <summary>The obvious loop over every element, independent of ReduceLowering' block merging and transposes.</summary>
    private static (Shape, double[]) Naive(string op, Tensor x, int[]? axes, bool keepDims)
    {
        var s = x.Shape;
        var reduced = new bool[s.Rank];
        foreach (var a in axes ?? Enumerable.Range(0, s.Rank).ToArray()) reduced[a < 0 ? a + s.Rank : a] = true;
        var outDims = Enumerable.Range(0, s.Rank).Where(dim => !reduced[dim] || keepDims).Select(dim => reduced[dim] ? 1 : s[dim]).ToArray();
        var outShape = new Shape(outDims);
        double init = op switch { "Max" => double.NegativeInfinity, "Min" => double.PositiveInfinity, "Prod" => 1, _ => 0 };
        var acc = Enumerable.Repeat(init, outShape.Size).ToArray();
        var counts = new int[acc.Length];
        var v = x.ToDoubleArray();
        var idx = new int[s.Rank];
        for (var flat = 0; flat < v.Length; flat++)
        {
            var o = 0;
            for (var dim = 0; dim < s.Rank; dim++)
                if (!reduced[dim]) o = o * s[dim] + idx[dim];
            acc[o] = op switch
            {
                "Max" => Math.Max(acc[o], v[flat]),
                "Min" => Math.Min(acc[o], v[flat]),
                "Prod" => acc[o] * v[flat],
                _ => acc[o] + v[flat],
            };
            counts[o]++;
            for (var dim = s.Rank - 1; dim >= 0 && ++idx[dim] == s[dim]; dim--) idx[dim] = 0;
        }
        if (op == "Mean") for (var i = 0; i < acc.Length; i++) acc[i] /= counts[i];
        return (outShape, acc);
    }
}
