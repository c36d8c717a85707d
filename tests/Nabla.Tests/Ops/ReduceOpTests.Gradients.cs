using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>Reductions, part two: arg-reductions, counts, composites, gradients (first and second order) and errors.</summary>
public partial class ReduceOpTests
{
    [TestCaseSource(nameof(Devices))]
    public void ArgMaxAndArgMinReturnTheFirstExtremum(Device d)
    {
        var x = Tensor.FromArray([1.0, 3, 3, 2, 2, 2], 2, 3);
        var argmax = Eval(d, (g, xs) => g.ArgMax(xs[0], 1), x);
        Assert.That(argmax.DType, Is.EqualTo(DType.Int64));
        Assert.That(argmax.ToArray<long>(), Is.EqualTo(new long[] { 1, 0 }));
        Assert.That(Eval(d, (g, xs) => g.ArgMin(xs[0]), x).ToArray<long>(), Is.EqualTo(new long[] { 0, 0 }));
        Assert.That(Eval(d, (g, xs) => g.ArgMax(xs[0], 0), x).ToArray<long>(), Is.EqualTo(new long[] { 1, 0, 0 }));
        Assert.That(Eval(d, (g, xs) => g.ArgMin(xs[0], -2), x).ToArray<long>(), Is.EqualTo(new long[] { 0, 1, 1 }));
        // NaN counts as both the maximum and the minimum; the first NaN wins (NumPy's argmax/argmin).
        var nan = Tensor.FromArray([1.0, double.NaN, 5, double.NaN], 4);
        Assert.That(Eval(d, (g, xs) => g.ArgMax(xs[0]), nan).ToArray<long>(), Is.EqualTo(new long[] { 1 }));
        Assert.That(Eval(d, (g, xs) => g.ArgMin(xs[0]), nan).ToArray<long>(), Is.EqualTo(new long[] { 1 }));
        // Integers are accepted; ±Inf are ordinary extremes.
        var ints = Tensor.FromArray([4, -7, 9, 9, -7], 5);
        Assert.That(Eval(d, (g, xs) => g.ArgMax(xs[0]), ints).ToArray<long>(), Is.EqualTo(new long[] { 2 }));
        Assert.That(Eval(d, (g, xs) => g.ArgMin(xs[0]), ints).ToArray<long>(), Is.EqualTo(new long[] { 1 }));
        var inf = Tensor.FromArray([0.0, double.NegativeInfinity, double.PositiveInfinity], 3);
        Assert.That(Eval(d, (g, xs) => g.ArgMin(xs[0]), inf).ToArray<long>(), Is.EqualTo(new long[] { 1 }));
    }

    [TestCaseSource(nameof(Devices))]
    public void ArgMaxOfAnEmptyTensorAlongANonEmptyAxisIsEmpty(Device d)
    {
        var y = Eval(d, (g, xs) => g.ArgMax(xs[0], 1), Tensor.Zeros(new Shape(0, 3), DType.Float64));
        Assert.That(y.Shape, Is.EqualTo(new Shape(0)));
        Assert.That(y.DType, Is.EqualTo(DType.Int64));
    }

    /// <summary>
    /// float32 rows of 1 to 17 elements on the CPU (rows of ≤ 16 take a masked-vector kernel): ties, ±0, ±∞, all −∞ and NaN
    /// rows against the scalar definition (the first extremum; the first NaN wins).
    /// </summary>
    [TestCase(1), TestCase(3), TestCase(10), TestCase(16), TestCase(17)]
    public void ArgMaxAndArgMinOfShortFloat32RowsTakeTheFirstExtremum(int cols)
    {
        const int rows = 40;
        var random = new Random(cols);
        var v = new float[rows * cols];
        for (var i = 0; i < v.Length; i++) v[i] = random.Next(-3, 4) * 0.5f;
        float[] specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, -0f, 0f];
        for (var r = 0; r < rows; r++)
        {
            if (r % 5 == 1) v[r * cols + random.Next(cols)] = specials[random.Next(specials.Length)];
            if (r % 7 == 2) v[r * cols + random.Next(cols)] = specials[random.Next(specials.Length)];
        }
        for (var j = 0; j < cols; j++) v[3 * cols + j] = float.NegativeInfinity;
        for (var j = 0; j < cols; j++) v[4 * cols + j] = j % 2 == 0 ? -0f : 0f;
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(rows, cols), "x");
        using var s = new Session(g, Device.Cpu);
        var r2 = s.Run([g.ArgMax(x, 1), g.ArgMin(x, 1)], new Dictionary<Output, Tensor> { [x] = new Tensor(v, new Shape(rows, cols), DType.Float32) });
        for (var r = 0; r < rows; r++)
        {
            var row = v.AsSpan(r * cols, cols).ToArray();
            Assert.That(r2[0].ToArray<long>()[r], Is.EqualTo(First(row, (a, b) => a > b)), $"ArgMax of row {r}: [{string.Join(", ", row)}]");
            Assert.That(r2[1].ToArray<long>()[r], Is.EqualTo(First(row, (a, b) => a < b)), $"ArgMin of row {r}: [{string.Join(", ", row)}]");
        }

        static long First(float[] row, Func<float, float, bool> beats)
        {
            var best = 0;
            for (var j = 1; j < row.Length && !float.IsNaN(row[best]); j++)
                if (float.IsNaN(row[j]) || beats(row[j], row[best])) best = j;
            return best;
        }
    }

    [Test]
    public void ArgMaxOverALargeMatrixMatchesReference()
    {
        var x = OpHarness.Uniform([300, 257], seed: 11);
        // Indices are exact: rounding to float32 can only create ties, which the data (24-bit uniforms) does not have.
        OpHarness.CpuMatchesReference((g, xs) => g.Cast(g.ArgMax(xs[0], 0), DType.Float64), [x], 0, 0);
        OpHarness.CpuMatchesReference((g, xs) => g.Cast(g.ArgMin(xs[0], 1), DType.Float64), [x], 0, 0);
    }

    [Test]
    public void ReducedCountUsesTheRunTimeShape()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "x");
        var byRows = g.ReducedCount(x, [0], DType.Int32);
        var all = g.ReducedCount(x, null, DType.Float64);
        var last = g.ReducedCount(x, [-1], DType.Float32);
        Assert.That(byRows.Shape, Is.EqualTo(Shape.Scalar));
        using var s = new Session(g);
        var r = s.Run([byRows, all, last], new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(4, 3)) });
        Assert.That(r[0].ToScalar<int>(), Is.EqualTo(4));
        Assert.That(r[1].ToScalar<double>(), Is.EqualTo(12));
        Assert.That(r[2].ToScalar<float>(), Is.EqualTo(3));
        // Mean over an unknown batch divides by the fed batch size, forward and backward.
        var mean = g.ReduceMean(x, 0);
        var dx = g.Gradients(mean, x)[0];
        var fed = s.Run([mean, dx], new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([1f, 2, 3, 5, 6, 7], 2, 3) });
        Assert.That(fed[0].ToArray<float>(), Is.EqualTo(new[] { 3f, 4, 5 }));
        Assert.That(fed[1].ToArray<float>(), Is.All.EqualTo(0.5f));
    }

    [Test]
    public void TiedExtremaShareTheGradientEqually()
    {
        var x = Tensor.FromArray([1.0, 3, 3, 2, 2, 2], 2, 3);
        var g = new Graph();
        var p = g.Placeholder(DType.Float64, x.Shape, "x");
        var dMax = g.Gradients(g.ReduceMax(p, [1]), p)[0];
        var dMin = g.Gradients(g.ReduceMin(p, [1], keepDims: true), p)[0];
        var dAll = g.Gradients(g.ReduceMax(p), p)[0];
        using var s = new Session(g, Device.Reference);
        var r = s.Run([dMax, dMin, dAll], new Dictionary<Output, Tensor> { [p] = x });
        OpHarness.AssertClose([0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3], r[0].ToDoubleArray(), 1e-15, 0, "max ties");
        OpHarness.AssertClose([1, 0, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3], r[1].ToDoubleArray(), 1e-15, 0, "min ties");
        OpHarness.AssertClose([0, 0.5, 0.5, 0, 0, 0], r[2].ToDoubleArray(), 1e-15, 0, "global max ties");
    }

    [TestCaseSource(nameof(Devices))]
    public void ProductGradientIsFiniteAtZeros(Device d)
    {
        // ∂Π/∂xᵢ = Π_{j≠i} xⱼ. Row [2,0,3]: only the zero sees a nonzero product (2·3 = 6). Row [0,0,5]: two zeros, all 0.
        // Row [1,2,3]: 6/1, 6/2, 6/3. Row [-1,4,0.5]: −2/−1, −2/4, −2/0.5.
        var x = Tensor.FromArray([2.0, 0, 3, 0, 0, 5, 1, 2, 3, -1, 4, 0.5], 4, 3);
        var g = new Graph();
        var p = g.Placeholder(DType.Float64, x.Shape, "x");
        var rows = g.Gradients(g.ReduceProd(p, [1]), p)[0];
        var all = g.Gradients(g.ReduceProd(p), p)[0];
        using var s = new Session(g, d);
        var r = s.Run([rows, all], new Dictionary<Output, Tensor> { [p] = x });
        Assert.That(r[0].ToDoubleArray(), Is.EqualTo(new[] { 0.0, 6, 0, 0, 0, 0, 6, 3, 2, 2, -0.5, -4 }));
        Assert.That(r[1].ToDoubleArray(), Is.All.EqualTo(0.0), "three zeros in the whole tensor");
        // Away from zeros the result is unchanged, to second order.
        OpHarness.SecondOrder((gr, xs) => gr.ReduceProd(xs[0], [0, 2]), [OpHarness.AwayFromZero([2, 3, 2])], 1e-6);
        // One exact zero per group: central differences still agree (the product is linear in each entry).
        OpHarness.Gradients((gr, xs) => gr.ReduceProd(xs[0], [1]), [Tensor.FromArray([2.0, 0, 3, 0.5, -1.5, 0], 2, 3)], 1e-7);
    }

    [TestCaseSource(nameof(Devices))]
    public void VarianceStdAndNormKnownValues(Device d)
    {
        // [[1,2,3],[4,5,6]]: mean 3.5, squared deviations 6.25 2.25 .25 .25 2.25 6.25 → variance 17.5/6;
        // columns deviate by ±1.5 → 2.25; rows by −1, 0, 1 → 2/3. Norms: √91, (√17, √29, √45), (√14, √77).
        double[] V(Build f) => Eval(d, f, M23).ToDoubleArray();
        var rtol = d == Device.Cpu ? 1e-6 : 1e-15;
        OpHarness.AssertClose([17.5 / 6], V((g, x) => g.ReduceVariance(x[0])), rtol, 0, "variance");
        OpHarness.AssertClose([2.25, 2.25, 2.25], V((g, x) => g.ReduceVariance(x[0], [0])), rtol, 0, "variance axis 0");
        OpHarness.AssertClose([2.0 / 3, 2.0 / 3], V((g, x) => g.ReduceVariance(x[0], [1])), rtol, 0, "variance axis 1");
        OpHarness.AssertClose([Math.Sqrt(17.5 / 6)], V((g, x) => g.ReduceStd(x[0])), rtol, 0, "std");
        OpHarness.AssertClose([1.5, 1.5, 1.5], V((g, x) => g.ReduceStd(x[0], [0])), rtol, 0, "std axis 0");
        OpHarness.AssertClose([Math.Sqrt(91)], V((g, x) => g.L2Norm(x[0])), rtol, 0, "norm");
        OpHarness.AssertClose([Math.Sqrt(17), Math.Sqrt(29), Math.Sqrt(45)], V((g, x) => g.L2Norm(x[0], [0])), rtol, 0, "norm axis 0");
        OpHarness.AssertClose([Math.Sqrt(14), Math.Sqrt(77)], V((g, x) => g.L2Norm(x[0], [1], keepDims: true)), rtol, 0, "norm axis 1");
    }

    private static IEnumerable<TestCaseData> GradientCases()
    {
        // Axes per standard shape: scalar (all), [1,1] (a size-1 axis), [3,5] (one, negative),
        // [2,3,4] (non-adjacent → transpose path), [0,3] (the empty axis and the kept one).
        var perShape = new (int[] Shape, int[]?[] Axes)[]
        {
            ([], [null]),
            ([1, 1], [[0], null]),
            ([3, 5], [[1], [-2], null]),
            ([2, 3, 4], [[0, 2], [1], null]),
            ([0, 3], [[0], [1]]),
        };
        foreach (var op in Ops)
            foreach (var (shape, axesList) in perShape)
                foreach (var axes in axesList)
                    foreach (var keep in new[] { false, true })
                        yield return new TestCaseData(op, shape, axes, keep).SetArgDisplayNames(op, $"[{string.Join(",", shape)}]", axes is null ? "null" : $"[{string.Join(",", axes)}]", keep ? "keep" : "drop");
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(string op, int[] shape, int[]? axes, bool keepDims)
    {
        // Prod's gradient Π/xᵢ is singular at 0, so its inputs stay away from 0. Continuous random data has no
        // ties, so max/min are differentiable there. Central differences in float64 with h = 1e-6 are accurate
        // to ~1e-9 for these smooth functions; 1e-7 leaves margin while still catching any wrong factor.
        var x = op == "Prod" ? OpHarness.AwayFromZero(shape) : OpHarness.Uniform(shape);
        OpHarness.Gradients((g, xs) => Reduce(g, op, xs[0], axes, keepDims), [x], 1e-7);
    }

    [TestCase(new[] { 2, 3, 4 }, new[] { 0, 2 })]
    [TestCase(new[] { 3, 5 }, new[] { 1 })]
    [TestCase(new int[0], null)]
    public void CompositeGradients(int[] shape, int[]? axes)
    {
        var x = OpHarness.Uniform(shape, seed: 3);
        OpHarness.Gradients((g, xs) => g.ReduceVariance(xs[0], axes), [x], 1e-7);
        // std and the norm have √ at the end: fine away from zero variance/norm (a scalar's variance is 0).
        if (shape.Length > 0) OpHarness.Gradients((g, xs) => g.ReduceStd(xs[0], axes, keepDims: true), [x], 1e-7);
        OpHarness.Gradients((g, xs) => g.L2Norm(xs[0], axes), [OpHarness.AwayFromZero(shape)], 1e-7);
    }

    [TestCase(new[] { 2, 3, 4 }, new[] { 0, 2 })]
    [TestCase(new[] { 3, 5 }, new[] { -1 })]
    [TestCase(new[] { 4 }, null)]
    public void SecondOrderGradients(int[] shape, int[]? axes)
    {
        // Σx³ and mean(x³) have Hessians diag(6x) and diag(6x)/n; the variance's Hessian couples every pair of
        // elements in a group (2/n·(I − 1/n)). Differences of first derivatives lose a few more digits: 1e-6.
        var x = OpHarness.Uniform(shape, seed: 5);
        OpHarness.SecondOrder((g, xs) => g.ReduceSum(xs[0] * xs[0] * xs[0], axes), [x], 1e-6);
        OpHarness.SecondOrder((g, xs) => g.ReduceMean(xs[0] * xs[0] * xs[0], axes, keepDims: true), [x], 1e-6);
        OpHarness.SecondOrder((g, xs) => g.ReduceVariance(xs[0], axes), [x], 1e-6);
    }

    [Test]
    public void ArgReductionsAreNotDifferentiable()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var idx = g.ArgMax(x, name: "pick");
        Assert.That(() => g.Gradients(idx, x), Throws.InstanceOf<GradientException>().With.Message.StartsWith("ArgMax 'pick' is not differentiable (ArgMax returns integer indices)"));
    }

    private static Output P(Graph g, DType dtype, params int[] shape) => g.Placeholder(dtype, new Shape(shape), "x");

    [Test]
    public void AxisOutOfRangeNamesOpNodeAndRank()
    {
        var g = new Graph();
        var x = P(g, DType.Float32, 2, 3);
        Assert.That(() => g.ReduceSum(x, [2], name: "total"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("Sum 'total': axis 2 is out of range for rank 2 (valid: -2..1)"));
        Assert.That(() => g.ReduceMax(x, [-3], name: "peak"),
            Throws.TypeOf<ShapeException>().With.Message.StartsWith("Max 'peak': axis -3 is out of range"));
        Assert.That(() => g.ArgMin(x, 2, name: "where"), Throws.TypeOf<ShapeException>().With.Message.StartsWith("ArgMin 'where': axis 2"));
        Assert.That(() => g.ReducedCount(x, [5], DType.Int32, name: "n"), Throws.TypeOf<ShapeException>().With.Message.StartsWith("ReducedCount 'n': axis 5"));
        // The failed node leaves no trace: the name is free again.
        Assert.That(g.ReduceSum(x, [1], name: "total").Op.Name, Is.EqualTo("total"));
    }

    [Test]
    public void RepeatedAxisIsRejectedEvenWhenSpelledNegative()
    {
        var g = new Graph();
        var x = P(g, DType.Float64, 2, 3, 4);
        Assert.That(() => g.ReduceMean(x, [1, 1], name: "m"), Throws.TypeOf<ShapeException>().With.Message.EqualTo("Mean 'm': axis 1 is repeated in [1,1]"));
        Assert.That(() => g.ReduceProd(x, [2, -1], name: "p"), Throws.TypeOf<ShapeException>().With.Message.Contains("Prod 'p'").And.Message.Contains("repeated"));
    }

    [Test]
    public void NonFloatingInputsAreRejectedNamingTheDType()
    {
        var g = new Graph();
        var ints = P(g, DType.Int32, 4, 2);
        Assert.That(() => g.ReduceMean(ints, name: "avg"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("Mean 'avg': input 0 must be float32 or float64, got int32 [4,2]"));
        var flags = P(g, DType.Bool, 3);
        Assert.That(() => g.ReduceMax(flags, name: "any"), Throws.TypeOf<ShapeException>().With.Message.Contains("Max 'any'").And.Message.Contains("bool"));
        Assert.That(() => g.ArgMax(flags, name: "am"), Throws.TypeOf<ShapeException>().With.Message.Contains("ArgMax 'am'").And.Message.Contains("bool"));
    }

    [Test]
    public void ArgMaxNeedsAnAxisWithElements()
    {
        var g = new Graph();
        Assert.That(() => g.ArgMax(P(g, DType.Float32), name: "s"), Throws.TypeOf<ShapeException>().With.Message.EqualTo("ArgMax 's': needs rank ≥ 1, got a scalar"));
        Assert.That(() => g.ArgMin(P(g, DType.Float32, 0, 3), 0, name: "e"), Throws.TypeOf<ShapeException>().With.Message.Contains("ArgMin 'e'").And.Message.Contains("empty"));
        // A batch that turns out empty at run time is caught when the plan resolves the fed shape, before any kernel runs.
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "batch");
        var idx = g.ArgMax(x, 0, name: "best");
        using var s = new Session(g);
        Assert.That(() => s.Run(idx, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(0, 3)) }),
            Throws.InstanceOf<NablaException>().With.Message.Contains("ArgMax 'best'").And.Message.Contains("empty"));
        Assert.That(s.Run(idx, new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([0f, 5, 0, 1, 0, 2], 2, 3) }).ToArray<long>(), Is.EqualTo(new long[] { 1, 0, 1 }));
    }
}
