using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>One row of the unary table.</summary>
/// <param name="Op">Registered op type.</param>
/// <param name="Build">Graph builder.</param>
/// <param name="Independent">A scalar formula written independently of the CPU backend's ScalarMath and the reference's ReferenceMath (different identity or branch split).</param>
/// <param name="Domain">Where random inputs and gradient checks draw from.</param>
/// <param name="GradTolerance">Max relative error of the float64 central-difference check.</param>
/// <param name="Why">Why that tolerance.</param>
/// <param name="Integers">Also defined for int32/int64.</param>
public sealed record UnaryCase(string Op, Func<Graph, Output, Output> Build, Func<double, double> Independent, Domain Domain,
    double GradTolerance, string Why, bool Integers = false)
{
    public override string ToString() => Op;
}

/// <summary>
/// Table-driven tests of the floating unary ops (Neg … Erf): CPU float32 against the float64
/// reference over empty, scalar, odd and large shapes and over NaN/±Inf/±0/huge inputs, both
/// backends against an independent scalar formula, float64 gradient checks (first and second
/// order), integer semantics, and build-time errors.
/// </summary>
public class UnaryOpTests : ICoversOps
{
    // Central differences (h = 1e-6) on L = Σ w·f lose ε·|L|/h ≈ 1e-8 to rounding for these sizes
    // and h²·f‴ ≈ 1e-12 to truncation; a wrong gradient is off by ≥ 1e-2, so 1e-6 separates them.
    private const double Smooth = 1e-6;

    public static readonly UnaryCase[] Cases =
    [
        new("Neg", (g, x) => g.Neg(x), x => -x, Domain.Any, Smooth, "linear", Integers: true),
        new("Abs", (g, x) => g.Abs(x), Math.Abs, Domain.AwayFromZero, Smooth, "kink at 0 kept ≥ 0.2 away from every h-step", Integers: true),
        new("Sign", (g, x) => g.Sign(x), x => double.IsNaN(x) ? x : Math.Sign(x), Domain.AwayFromZero, Smooth, "piecewise constant: both sides are exactly 0 away from 0", Integers: true),
        new("Square", (g, x) => g.Square(x), x => x * x, Domain.Any, Smooth, "polynomial: truncation error is exactly 0", Integers: true),
        new("Sqrt", (g, x) => g.Sqrt(x), Math.Sqrt, Domain.Positive, Smooth, "f‴ ≤ 0.375·0.2^-2.5 ≈ 21 on [0.2, 3)"),
        new("Rsqrt", (g, x) => g.Rsqrt(x), x => 1 / Math.Sqrt(x), Domain.Positive, Smooth, "f‴ ≤ 1.9·0.2^-3.5 ≈ 520: truncation 1e-10"),
        new("Reciprocal", (g, x) => g.Reciprocal(x), x => 1 / x, Domain.AwayFromZero, Smooth, "f‴ = 6/x⁴ ≤ 3750 at |x| = 0.2: truncation 1e-9"),
        new("Exp", (g, x) => g.Exp(x), Math.Exp, Domain.Any, Smooth, "|L| ≤ 24·e³ keeps rounding near 1e-7"),
        new("Expm1", (g, x) => g.Expm1(x), Expm1, Domain.Any, Smooth, "as exp"),
        new("Log", (g, x) => g.Log(x), Math.Log, Domain.Positive, Smooth, "f‴ = 2/x³ ≤ 250 on [0.2, 3)"),
        new("Log1p", (g, x) => g.Log1p(x), Log1p, Domain.AboveMinusOne, Smooth, "f‴ = 2/(1+x)³ ≤ 250 on [−0.8, 3)"),
        new("Sin", (g, x) => g.Sin(x), Math.Sin, Domain.Any, Smooth, "all derivatives bounded by 1"),
        new("Cos", (g, x) => g.Cos(x), Math.Cos, Domain.Any, Smooth, "all derivatives bounded by 1"),
        new("Tanh", (g, x) => g.Tanh(x), Math.Tanh, Domain.Any, Smooth, "derivatives bounded by 2"),
        new("Sigmoid", (g, x) => g.Sigmoid(x), Sigmoid, Domain.Any, Smooth, "derivatives bounded by 1"),
        new("Relu", (g, x) => g.Relu(x), x => double.IsNaN(x) ? x : Math.Max(x, 0), Domain.AwayFromZero, Smooth, "kink at 0 kept ≥ 0.2 away"),
        new("Softplus", (g, x) => g.Softplus(x), Softplus, Domain.Any, Smooth, "derivatives bounded by 1"),
        new("Erf", (g, x) => g.Erf(x), Erf, Domain.Any, Smooth, "derivatives bounded by 2.3"),
    ];

    public static IEnumerable<string> CoveredOps => Cases.Select(c => c.Op);

    public static IEnumerable<TestCaseData> ForwardCases() =>
        from c in Cases
        from s in Elementwise.ForwardShapes
        select new TestCaseData(c, s).SetName($"{c.Op}[{string.Join(",", s)}]");

    [TestCaseSource(nameof(ForwardCases))]
    public void CpuMatchesReference(UnaryCase c, int[] shape) =>
        // float32 rounding of the input (2^-24 relative) times |x·f′/f| ≤ 3 on these domains, plus the kernel's own few ulp.
        OpHarness.CpuMatchesReference((g, x) => c.Build(g, x[0]), [Elementwise.Sample(c.Domain, shape)], rtol: 1e-5, atol: 1e-6);

    [TestCaseSource(nameof(Cases))]
    public void Float64OnCpuMatchesReference(UnaryCase c)
    {
        // Two independent float64 implementations: the CPU backend's ScalarMath and the reference's own
        // ReferenceMath (Expm1 and Log1p by different series, Sigmoid by a different branch split). Each is
        // within about 1 ulp (1.1e-16) of the true value on these inputs, so 1e-15 leaves room and still
        // catches any formula that is wrong or cancels (errors ≥ 1e-8 near 0).
        var x = OpHarness.ToFloat64(Tensor.FromArray(Elementwise.Specials, Elementwise.Specials.Length));
        var cpu = Elementwise.Run((g, xs) => c.Build(g, xs[0]), Device.Cpu, x);
        var reference = Elementwise.Run((g, xs) => c.Build(g, xs[0]), Device.Reference, x);
        OpHarness.AssertClose(reference, cpu, 1e-15, 0, "cpu float64 vs reference");
    }

    [TestCaseSource(nameof(Cases))]
    public void SpecialValues(UnaryCase c) =>
        Elementwise.CpuMatchesRoundedReference((g, x) => c.Build(g, x[0]), [Tensor.FromArray(Elementwise.Specials, Elementwise.Specials.Length)],
            rtol: 1e-6, atol: Elementwise.Float32Denormal);

    private static readonly float[] s_keyPoints = [-1000f, -100f, -20f, -3f, -0.5f, -1e-7f, 0f, 1e-7f, 0.5f, 3f, 20f, 100f, 1000f, float.NaN, float.PositiveInfinity, float.NegativeInfinity];

    [TestCaseSource(nameof(Cases))]
    public void AgreesWithIndependentFormula(UnaryCase c)
    {
        var expected = s_keyPoints.Select(v => c.Independent(v)).ToArray();
        Build f = (g, x) => c.Build(g, x[0]);
        // Reference: the formulas differ only by rounding (≈1e-15), bar the 1e-12 error of log(1+u) for u near 1e-4 in Softplus.
        var reference = Elementwise.Run(f, Device.Reference, OpHarness.ToFloat64(Tensor.FromArray(s_keyPoints, s_keyPoints.Length)));
        OpHarness.AssertClose(expected, reference, 1e-11, 0, $"reference {c.Op} vs independent formula");
        // The CPU backend's float64 path, to the same bound.
        var cpu64 = Elementwise.Run(f, Device.Cpu, OpHarness.ToFloat64(Tensor.FromArray(s_keyPoints, s_keyPoints.Length)));
        OpHarness.AssertClose(expected, cpu64, 1e-11, 0, $"cpu float64 {c.Op} vs independent formula");
        // CPU float32: a few float32 ulp (6e-8 each); values below float32's normal range may flush to 0.
        var cpu = Elementwise.Run(f, Device.Cpu, Tensor.FromArray(s_keyPoints, s_keyPoints.Length));
        OpHarness.AssertClose(expected.Select(v => (double)(float)v).ToArray(), cpu, 1e-6, Elementwise.Float32Denormal, $"cpu {c.Op} vs independent formula");
    }

    [TestCaseSource(nameof(Cases))]
    public void CpuFloat32IsWithinAFewUlpFromTinyToModerate(UnaryCase c)
    {
        // ±x for x log-spaced over [1e-30, 3] (601 points: SIMD blocks plus a scalar tail). Tiny inputs are
        // where a vectorised kernel built on exp(2x) − 1 cancels (TensorPrimitives.Tanh did: tanh(0) was −6e-8);
        // 4e-7 relative is ≈ 4 float32 ulp; TensorPrimitives' other kernels measure ≤ 3 ulp over this range.
        var points = Enumerable.Range(0, 301).Select(i => (float)Math.Pow(10, -30 + 30.477 * i / 300)).SelectMany(v => new[] { v, -v }).Append(0f)
            .Where(v => c.Domain switch { Domain.Positive => v > 0, Domain.AboveMinusOne => v > -1, _ => true }).ToArray();
        var cpu = Elementwise.Run((g, x) => c.Build(g, x[0]), Device.Cpu, Tensor.FromArray(points, points.Length));
        OpHarness.AssertClose(points.Select(v => (double)(float)c.Independent(v)).ToArray(), cpu, 4e-7, Elementwise.Float32Denormal, $"cpu {c.Op} near zero");
    }

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchCentralDifferences(UnaryCase c)
    {
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, x) => c.Build(g, x[0]), [Elementwise.Sample(c.Domain, shape, seed: 3)], c.GradTolerance);
    }

    [TestCaseSource(nameof(Cases))]
    public void SecondOrderGradients(UnaryCase c)
    {
        // f″ is built from the gradient graph (e.g. Tanh′ = 1 − y², Erf′ = 2/√π·e^(−x²)); the kinked ops
        // (Abs, Sign, Relu) must give exactly 0 away from the kink, which central differences confirm.
        // Same error budget as first order on a deeper graph, hence ×10.
        foreach (var shape in new[] { Array.Empty<int>(), [2, 3], [0, 2] })
            OpHarness.SecondOrder((g, x) => c.Build(g, x[0]), [Elementwise.Sample(c.Domain, shape, seed: 5)], c.GradTolerance * 10);
    }

    [TestCaseSource(nameof(Cases))]
    public void RejectsUnsupportedDTypes(UnaryCase c)
    {
        var g = new Graph();
        var b = g.Placeholder(DType.Bool, new Shape(2, 3), "flags");
        using (g.NameScope("layer"))
            Elementwise.BuildFails(() => c.Build(g, b), c.Op, $"layer/{c.Op}", "bool", "[2,3]");
        if (c.Integers) return;
        foreach (var dt in new[] { DType.Int32, DType.Int64 })
        {
            var n = g.Placeholder(dt, new Shape(4, -1), "counts");
            Elementwise.BuildFails(() => c.Build(g, n), c.Op, c.Op, dt.Name(), "[4,?]");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void RunTimeErrorsNameTheCulprit(UnaryCase c)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "inputs");
        var y = c.Build(g, x);
        Assert.That(y.Shape, Is.EqualTo(new Shape(-1, 3)), "unknown dims propagate unchanged");
        using var s = new Session(g);
        var wrongShape = Assert.Throws<FeedException>(() => s.Run(y, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 4)) }))!;
        Assert.That(wrongShape.Message, Does.Contain("'inputs'").And.Contain("[?,3]").And.Contain("[2,4]"));
        var wrongType = Assert.Throws<FeedException>(() => s.Run(y, new Dictionary<Output, Tensor> { [x] = Tensor.Zeros(new Shape(2, 3), DType.Float64) }))!;
        Assert.That(wrongType.Message, Does.Contain("'inputs'").And.Contain("float64"));
        var unfed = Assert.Throws<FeedException>(() => s.Run(y))!;
        Assert.That(unfed.Message, Does.Contain("'inputs'"));
    }

    [TestCaseSource(nameof(IntegerCases))]
    public void IntegerSemantics(string op, DType dtype, Device device)
    {
        long[] values = [-7, -1, 0, 1, 5, 46_340, dtype == DType.Int32 ? int.MinValue : long.MinValue, dtype == DType.Int32 ? int.MaxValue : long.MaxValue];
        var c = Cases.Single(k => k.Op == op);
        var input = dtype == DType.Int32 ? Tensor.FromArray(values.Select(v => (int)v).ToArray(), values.Length) : Tensor.FromArray(values, values.Length);
        var y = OpHarness.Evaluate((g, x) => c.Build(g, x[0]), [input], device);
        Assert.That(y.DType, Is.EqualTo(dtype));
        // Two's-complement wrap-around, as NumPy and TensorFlow: −MIN and |MIN| are MIN, squares wrap.
        if (dtype == DType.Int32)
            Assert.That(y.ToArray<int>(), Is.EqualTo(values.Select(v => (int)v).Select(v => unchecked(op switch
            {
                "Neg" => -v, "Abs" => v < 0 ? -v : v, "Sign" => Math.Sign(v), _ => v * v,
            })).ToArray()));
        else
            Assert.That(y.ToArray<long>(), Is.EqualTo(values.Select(v => unchecked(op switch
            {
                "Neg" => -v, "Abs" => v < 0 ? -v : v, "Sign" => Math.Sign(v), _ => v * v,
            })).ToArray()));
    }

    public static IEnumerable<TestCaseData> IntegerCases() =>
        from op in new[] { "Neg", "Abs", "Sign", "Square" }
        from dt in new[] { DType.Int32, DType.Int64 }
        from d in new[] { Device.Cpu, Device.Reference }
        select new TestCaseData(op, dt, d).SetName($"{op}_{dt}_{d.Name}");

    [Test]
    public void IntegerInputsHaveNoGradient()
    {
        var g = new Graph();
        var n = g.Placeholder(DType.Int32, new Shape(3), "n");
        var e = Assert.Throws<GradientException>(() => g.Gradients(g.Cast(g.Square(n), DType.Float32), n))!;
        Assert.That(e.Message, Does.Contain("'n'").And.Contain("int32"));
    }

    // ---- independent scalar formulas ----

    /// <summary>eˣ − 1 = 2t/(1 − t), t = tanh(x/2): no cancellation for |x| &lt; 1; plain exp − 1 is exact enough beyond.</summary>
    internal static double Expm1(double x)
    {
        if (Math.Abs(x) >= 1 || double.IsNaN(x)) return Math.Exp(x) - 1;
        var t = Math.Tanh(x / 2);
        return 2 * t / (1 - t);
    }

    /// <summary>Taylor series where 1 + x would cancel, log(1 + x) elsewhere.</summary>
    private static double Log1p(double x) => Math.Abs(x) < 1e-4 ? x - x * x / 2 + x * x * x / 3 - x * x * x * x / 4 : Math.Log(1 + x);

    /// <summary>½(1 + tanh(x/2)) for x ≥ 0, where it has no cancellation; 1/(1 + e⁻ˣ) below.</summary>
    private static double Sigmoid(double x) => x >= 0 ? 0.5 * (1 + Math.Tanh(x / 2)) : 1 / (1 + Math.Exp(-x));

    /// <summary>ln(1 + eˣ): x + e⁻ˣ above 30 (next term e⁻²ˣ/2 is below ε), log1p(eˣ) below 0.</summary>
    private static double Softplus(double x) => x > 30 ? x + Math.Exp(-x) : x < 0 ? Log1p(Math.Exp(x)) : Math.Log(1 + Math.Exp(x));

    /// <summary>Maclaurin series 2/√π Σ (−1)ⁿ x²ⁿ⁺¹ / (n!(2n+1)), accurate to ~1e-14 for |x| ≤ 3; ±1 for |x| ≥ 6 (erfc(6) ≈ 2e-17).</summary>
    internal static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        if (Math.Abs(x) >= 6) return Math.Sign(x);
        if (Math.Abs(x) > 3) throw new ArgumentOutOfRangeException(nameof(x), x, "the series is only used for |x| ≤ 3");
        double sum = 0, term = x;
        for (var n = 0; n < 80; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }
}
