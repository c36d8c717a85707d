using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Cast between every dtype pair, and the run-time-shaped helpers that gradients are built from:
/// SumToShape, BroadcastLike, ZerosLike, OnesLike.
/// </summary>
public class CastAndLikeOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Cast", "SumToShape", "BroadcastLike", "ZerosLike", "OnesLike"];

    private static readonly DType[] s_dtypes = [DType.Float32, DType.Float64, DType.Int32, DType.Int64, DType.Bool];

    /// <summary>Source values per dtype, as the doubles they denote (float32 values are already rounded).</summary>
    private static Tensor Source(DType dt) => dt switch
    {
        // 16777217 rounds to 2^24 in float32; ±3e9 overflow int32; 1e300 overflows float32.
        DType.Float64 => Tensor.FromArray([double.NaN, double.PositiveInfinity, double.NegativeInfinity, -2.7, -0.5, -0.0, 0.0, 0.5, 2.7, 16777217, 3e9, -3e9, 1e300], 13),
        DType.Float32 => Tensor.FromArray([float.NaN, float.PositiveInfinity, float.NegativeInfinity, -2.7f, -0.5f, -0.0f, 0f, 0.5f, 2.7f, 3e9f, -3e9f], 11),
        DType.Int32 => Tensor.FromArray([int.MinValue, -3, 0, 7, 16777217, int.MaxValue], 6),
        DType.Int64 => Tensor.FromArray([long.MinValue, -3L, 0, 7, 1L << 40, long.MaxValue], 6),
        _ => Tensor.FromArray([false, true], 2),
    };

    /// <summary>The conversion written out per target: truncate toward zero, saturate, NaN → 0; nonzero (NaN included) → true.</summary>
    private static object Convert(double v, long exact, bool isInteger, DType to) => to switch
    {
        DType.Float32 => isInteger ? (float)exact : (float)v,
        DType.Float64 => isInteger ? exact : v,
        DType.Int32 => isInteger ? (int)Math.Clamp(exact, int.MinValue, int.MaxValue) : double.IsNaN(v) ? 0 : (int)Math.Clamp(Math.Truncate(v), int.MinValue, int.MaxValue),
        DType.Int64 => isInteger ? exact : double.IsNaN(v) ? 0L : v >= 9.2233720368547758e18 ? long.MaxValue : v <= -9.2233720368547758e18 ? long.MinValue : (long)Math.Truncate(v),
        _ => isInteger ? exact != 0 : v != 0,
    };

    public static IEnumerable<TestCaseData> CastPairs() =>
        from a in s_dtypes
        from b in s_dtypes
        from d in new[] { Device.Cpu, Device.Reference }
        select new TestCaseData(a, b, d).SetName($"Cast_{a}_to_{b}_{d.Name}");

    [TestCaseSource(nameof(CastPairs))]
    public void CastsBetweenEveryDTypePair(DType from, DType to, Device device)
    {
        var src = Source(from);
        var isInteger = !from.IsFloating();
        long[] exact = from switch
        {
            DType.Int32 => src.ToArray<int>().Select(v => (long)v).ToArray(),
            DType.Int64 => src.ToArray<long>(),
            DType.Bool => src.ToArray<bool>().Select(v => v ? 1L : 0L).ToArray(),
            _ => new long[src.Size],
        };
        var values = src.ToDoubleArray();
        var y = OpHarness.Evaluate((g, x) => g.Cast(x[0], to), [src], device);
        Assert.That(y.DType, Is.EqualTo(to));
        Assert.That(y.Shape, Is.EqualTo(src.Shape));
        var expected = values.Select((v, i) => Convert(v, exact[i], isInteger, to)).ToArray();
        object[] actual = to switch
        {
            DType.Float32 => y.ToArray<float>().Cast<object>().ToArray(),
            DType.Float64 => y.ToArray<double>().Cast<object>().ToArray(),
            DType.Int32 => y.ToArray<int>().Cast<object>().ToArray(),
            DType.Int64 => y.ToArray<long>().Cast<object>().ToArray(),
            _ => y.ToArray<bool>().Cast<object>().ToArray(),
        };
        Assert.That(actual, Is.EqualTo(expected));
    }

    [Test]
    public void CastKeyPoints()
    {
        // The table above, spelled out where the rule matters most.
        var f = Tensor.FromArray([-2.7f, -0.5f, 2.7f, float.NaN, 1e10f, -0f], 6);
        Assert.That(OpHarness.Evaluate((g, x) => g.Cast(x[0], DType.Int32), [f], Device.Cpu).ToArray<int>(), Is.EqualTo(new[] { -2, 0, 2, 0, int.MaxValue, 0 }));
        Assert.That(OpHarness.Evaluate((g, x) => g.Cast(x[0], DType.Bool), [f], Device.Cpu).ToArray<bool>(), Is.EqualTo(new[] { true, true, true, true, true, false }));
        Assert.That(OpHarness.Evaluate((g, x) => g.Cast(x[0], DType.Float32), [Tensor.FromArray([1e300, -1e300], 2)], Device.Cpu).ToArray<float>(),
            Is.EqualTo(new[] { float.PositiveInfinity, float.NegativeInfinity }), "float64 → float32 overflows to ±Inf as IEEE rounding does");
    }

    [Test]
    public void CastGradients()
    {
        // float ↔ float is the identity on values (the Reference stores float32 as float64), so only rounding is left.
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, x) =>
            {
                var h = g.Cast(x[0], DType.Float32);
                return g.Cast(h * h, DType.Float64) + x[0];
            }, [OpHarness.Uniform(shape, seed: 7)], 1e-7);
        OpHarness.SecondOrder((g, x) => g.Cast(g.Square(g.Cast(x[0], DType.Float32)), DType.Float64), [OpHarness.Uniform([2, 3], seed: 8)], 1e-6);
    }

    [Test]
    public void CastRejectsBadRequests()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(2, 3), "x");
        using (g.NameScope("io"))
            Elementwise.BuildFails(() => g.Cast(x, (DType)42, "to_unknown"), "Cast", "io/to_unknown", "42", "float64 [2,3]");
        // Rounding to an integer is piecewise constant: no gradient flows back to x.
        var roundTrip = g.Cast(g.Cast(x, DType.Int32, "truncate"), DType.Float64);
        var e = Assert.Throws<GradientException>(() => g.Gradients(roundTrip, x))!;
        Assert.That(e.Message, Does.Contain("'x'").And.Contain("not connected"));
        using var s = new Session(g);
        var feed = Assert.Throws<FeedException>(() => s.Run(roundTrip, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 3), DType.Int32) }))!;
        Assert.That(feed.Message, Does.Contain("'x'").And.Contain("int32"));
    }

    // ---- SumToShape and BroadcastLike: the adjoint pair that reduces and expands broadcast axes ----

    private static readonly (int[] Big, int[] Small)[] s_reductions =
        [([3, 4], [4]), ([3, 4], [3, 1]), ([2, 3, 4], [3, 1]), ([2, 3], []), ([0, 3], [3]), ([2, 0], [1, 1]), ([3, 4], [3, 4]), ([5, 1, 7], [1, 1, 1]), ([400, 333], [333])];

    [Test]
    public void SumToShapeMatchesReference()
    {
        foreach (var (big, small) in s_reductions)
        {
            // A float32 sum of n terms of size ≤ 2 errs by up to n·6e-8·2: 5e-5 for the 400-row case, whose sums are near 0.
            OpHarness.CpuMatchesReference((g, x) => g.SumToShape(x[0], x[1]), [OpHarness.Uniform(big), Tensor.Zeros(new Shape(small))], rtol: 1e-5, atol: 1e-4);
            var y = OpHarness.Evaluate((g, x) => g.SumToShape(x[0], x[1]), [Tensor.Ones(new Shape(big), DType.Float64), Tensor.Zeros(new Shape(small))], Device.Cpu);
            Assert.That(y.Shape, Is.EqualTo(new Shape(small)));
            Assert.That(y.ToArray<double>(), Is.All.EqualTo((double)new Shape(big).Size / Math.Max(new Shape(small).Size, 1)), $"each of {big}'s elements counted once in {small}");
        }
    }

    [Test]
    public void BroadcastLikeMatchesReferenceForEveryDType()
    {
        foreach (var (big, small) in s_reductions)
            OpHarness.CpuMatchesReference((g, x) => g.BroadcastLike(x[0], x[1]), [OpHarness.ToFloat32(OpHarness.Uniform(small)), Tensor.Zeros(new Shape(big))], 0, 0);
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            var i = OpHarness.Evaluate((g, x) => g.BroadcastLike(x[0], x[1]), [Tensor.FromArray([1, 2], 2, 1), Tensor.Zeros(new Shape(2, 3), DType.Bool)], device);
            Assert.That(i.ToArray<int>(), Is.EqualTo(new[] { 1, 1, 1, 2, 2, 2 }));
            var b = OpHarness.Evaluate((g, x) => g.BroadcastLike(x[0], x[1]), [Tensor.Scalar(true), Tensor.Zeros(new Shape(3), DType.Int64)], device);
            Assert.That(b.ToArray<bool>(), Is.EqualTo(new[] { true, true, true }));
        }
    }

    [Test]
    public void SumToShapeAndBroadcastLikeGradients()
    {
        // Both are linear, so analytic and numeric differ by rounding only; each is the other's gradient.
        foreach (var (big, small) in s_reductions.Take(7))
        {
            OpHarness.Gradients((g, x) => g.SumToShape(x[0], x[1]), [OpHarness.Uniform(big, seed: 9), Tensor.Zeros(new Shape(small), DType.Float64)], 1e-7);
            OpHarness.Gradients((g, x) => g.BroadcastLike(x[0], x[1]), [OpHarness.Uniform(small, seed: 10), Tensor.Zeros(new Shape(big), DType.Float64)], 1e-7);
            OpHarness.SecondOrder((g, x) => g.SumToShape(g.Square(x[0]), x[1]), [OpHarness.Uniform(big, seed: 11), Tensor.Zeros(new Shape(small), DType.Float64)], 1e-6);
        }
    }

    [Test]
    public void SumToShapeRejectsShapesItCannotReduceTo()
    {
        var g = new Graph();
        Output P(DType dt, params int[] s) => g.Placeholder(dt, new Shape(s));
        using (g.NameScope("grad"))
            Elementwise.BuildFails(() => g.SumToShape(P(DType.Float32, 3, 4), P(DType.Float32, 5), "reduce"), "SumToShape", "grad/reduce", "[3,4]", "[5]");
        // Same element count is not enough: [2,6] is not a broadcast of [3,4].
        Elementwise.BuildFails(() => g.SumToShape(P(DType.Float32, 2, 6), P(DType.Float32, 3, 4)), "SumToShape", "SumToShape", "[2,6]", "[3,4]");
        Elementwise.BuildFails(() => g.SumToShape(P(DType.Float32, 3), P(DType.Float32, 2, 3)), "SumToShape", "SumToShape", "[3]", "[2,3]");
        Elementwise.BuildFails(() => g.SumToShape(P(DType.Float32, 3, 1), P(DType.Float32, 3, 4)), "SumToShape", "SumToShape", "[3,1]", "[3,4]");
        Elementwise.BuildFails(() => g.SumToShape(P(DType.Int32, 3, 4), P(DType.Int32, 4)), "SumToShape", "SumToShape", "int32", "[3,4]");
        // Unknown dims pass the build and are checked again, concretely, when the plan compiles.
        var x = g.Placeholder(DType.Float32, new Shape(-1, 4), "x");
        var like = g.Placeholder(DType.Float32, new Shape(-1), "like");
        var y = g.SumToShape(x, like, "late");
        using var s = new Session(g);
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 4)), [like] = Tensor.Zeros(new Shape(3)) };
        var e = Assert.Throws<ShapeException>(() => s.Run(y, feeds))!;
        Assert.That(e.Message, Does.Contain("SumToShape 'late'").And.Contain("[2,4]").And.Contain("[3]"));
    }

    [Test]
    public void BroadcastLikeRejectsShapesItCannotExpandTo()
    {
        var g = new Graph();
        Output P(params int[] s) => g.Placeholder(DType.Float32, new Shape(s));
        using (g.NameScope("grad"))
            Elementwise.BuildFails(() => g.BroadcastLike(P(3, 4), P(5), "expand"), "BroadcastLike", "grad/expand", "[3,4]", "[5]");
        // Broadcasting must reach like's shape exactly, not a larger common shape.
        Elementwise.BuildFails(() => g.BroadcastLike(P(2, 3), P(3)), "BroadcastLike", "BroadcastLike", "[2,3]", "[3]");
        Elementwise.BuildFails(() => g.BroadcastLike(P(3), P(2, 1)), "BroadcastLike", "BroadcastLike", "[3]", "[2,1]");
        Assert.That(g.BroadcastLike(P(1, 4), P(-1, 4)).Shape, Is.EqualTo(new Shape(-1, 4)));
    }

    // ---- ZerosLike / OnesLike ----

    [Test]
    public void ZerosAndOnesLikeFollowRunTimeShapeAndDType()
    {
        foreach (var device in new[] { Device.Cpu, Device.Reference })
            foreach (var dt in s_dtypes)
                foreach (var shape in new[] { Array.Empty<int>(), [0, 3], [2, 3], [100_000] })
                {
                    var g = new Graph();
                    var x = g.Placeholder(dt, new Shape(shape.Select(_ => -1).ToArray()), "x");
                    var (zeros, ones) = (g.ZerosLike(x), g.OnesLike(x));
                    Assert.That(zeros.Shape.Rank, Is.EqualTo(shape.Length));
                    using var s = new Session(g, device);
                    var r = s.Run([zeros, ones], new Dictionary<Output, Tensor> { [x] = Tensor.Fill(new Shape(shape), 7, dt) });
                    Assert.That(r[0].DType, Is.EqualTo(dt));
                    Assert.That(r[0].Shape, Is.EqualTo(new Shape(shape)));
                    Assert.That(r[0].ToDoubleArray(), Is.All.EqualTo(0.0));
                    Assert.That(r[1].ToDoubleArray(), Is.All.EqualTo(1.0));
                }
    }

    [Test]
    public void ZerosAndOnesLikeAreConstantsForGradients()
    {
        // x·OnesLike(x) + ZerosLike(x) = x: the like-ops contribute no derivative of their own.
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, x) => x[0] * g.OnesLike(x[0]) + g.ZerosLike(x[0]), [OpHarness.Uniform(shape, seed: 12)], 1e-7);
        OpHarness.SecondOrder((g, x) => g.Square(x[0]) * g.OnesLike(x[0]), [OpHarness.Uniform([3], seed: 13)], 1e-6);
    }

    [TestCase("ZerosLike")]
    [TestCase("OnesLike")]
    public void LikeOpsRejectForeignAndMissingInputs(string op)
    {
        // Every dtype and shape is valid for these ops, so their failures are about the input itself.
        Output Build(Graph g, Output x, string? name = null) => op == "ZerosLike" ? g.ZerosLike(x, name) : g.OnesLike(x, name);
        var g = new Graph();
        var other = new Graph().Placeholder(DType.Float32, new Shape(2), "elsewhere");
        var foreign = Assert.Throws<ArgumentException>(() => Build(g, other))!;
        Assert.That(foreign.Message, Does.Contain(op).And.Contain("'elsewhere'").And.Contain("another graph"));
        var missing = Assert.Throws<ArgumentException>(() => Build(g, default))!;
        Assert.That(missing.Message, Does.Contain(op));
        var x = g.Placeholder(DType.Float32, new Shape(2), "x");
        var e = Assert.Throws<GradientException>(() => g.Gradients(Build(g, x, "fill"), x))!;
        Assert.That(e.Message, Does.Contain("'x'").And.Contain("'fill'"));
    }
}
