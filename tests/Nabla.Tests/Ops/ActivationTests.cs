using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>One composite activation: a Graph method built from primitive ops.</summary>
/// <param name="Name">Display name (and the composite's default name scope).</param>
/// <param name="Build">Graph builder; the name argument becomes the composite's scope.</param>
/// <param name="Independent">Scalar definition from the paper / TensorFlow docs.</param>
/// <param name="Domain">Inputs for random and gradient checks (kinks kept away from h-steps).</param>
/// <param name="GradTolerance">Max relative error of the float64 central-difference check.</param>
/// <param name="Why">Why that tolerance.</param>
public sealed record ActivationCase(string Name, Func<Graph, Output, string?, Output> Build, Func<double, double> Independent, Domain Domain, double GradTolerance, string Why)
{
    public override string ToString() => Name;
}

/// <summary>
/// The composite activations (LeakyRelu, Elu, Selu, Softsign, Gelu exact and tanh-approximate,
/// Clip). They register no op types of their own — their primitives are covered by the unary,
/// binary and logic fixtures — so this fixture does not implement <see cref="ICoversOps"/>; it
/// checks that the compositions are right, NaN-free at extremes, and differentiable.
/// </summary>
public class ActivationTests
{
    private const double SeluAlpha = 1.6732632423543772848170429916717, SeluScale = 1.0507009873554804934193349852946;

    // As for the primitives: rounding ε·|L|/h ≈ 1e-8 dominates; wrong branch or constant is off by ≥ 1e-2.
    private const double Smooth = 1e-6;

    public static readonly ActivationCase[] Cases =
    [
        new("LeakyRelu", (g, x, n) => g.LeakyRelu(x, 0.3, n), x => x > 0 ? x : 0.3 * x, Domain.AwayFromZero, Smooth, "piecewise linear, kink kept ≥ 0.2 away"),
        new("Elu", (g, x, n) => g.Elu(x, 0.5, n), x => x > 0 ? x : 0.5 * UnaryOpTests.Expm1(x), Domain.AwayFromZero, Smooth, "kink of Elu(α ≠ 1) kept away; e^x smooth"),
        new("Selu", (g, x, n) => g.Selu(x, n), x => SeluScale * (x > 0 ? x : SeluAlpha * UnaryOpTests.Expm1(x)), Domain.AwayFromZero, Smooth, "as Elu, scaled by 1.05"),
        new("Softsign", (g, x, n) => g.Softsign(x, n), x => x / (1 + Math.Abs(x)), Domain.AwayFromZero, Smooth, "f‴ bounded by 6; |x| kink kept away"),
        new("Gelu", (g, x, n) => g.Gelu(x, false, n), x => x * 0.5 * (1 + UnaryOpTests.Erf(x / Math.Sqrt(2))), Domain.Any, Smooth, "x·Φ(x) is entire"),
        new("GeluTanh", (g, x, n) => g.Gelu(x, true, n), x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), Domain.Any, Smooth, "entire; x³ ≤ 27 on the domain"),
        new("Clip", (g, x, n) => g.Clip(x, -1, 2, n), x => double.IsNaN(x) ? x : Math.Clamp(x, -1, 2), Domain.Any, Smooth, "piecewise linear; a draw within h of ±bound is improbable and fixed by the seed"),
    ];

    public static IEnumerable<TestCaseData> ForwardCases() =>
        from c in Cases
        from s in Elementwise.ForwardShapes
        select new TestCaseData(c, s).SetName($"{c.Name}[{string.Join(",", s)}]");

    [TestCaseSource(nameof(ForwardCases))]
    public void CpuMatchesReference(ActivationCase c, int[] shape) =>
        // Compositions of 3–8 float32 ops: each adds a rounding, and input rounding is amplified by |x·f′/f| ≤ 3.
        OpHarness.CpuMatchesReference((g, x) => c.Build(g, x[0], null), [Elementwise.Sample(c.Domain, shape)], rtol: 1e-5, atol: 1e-6);

    /// <summary>
    /// Gelu's ½x(1 + erf) and ½x(1 + tanh) cancel for negative x: float32 rounding of erf/tanh near −1
    /// (≈ 6e-8) becomes an absolute error ≈ |x|·6e-8 in the result, 2e-7 at x = −3 where the result
    /// is only 4e-3. Beyond |x| ≈ 10 the result is exactly 0 or x again.
    /// </summary>
    private const double CancellationAtol = 3e-7;

    [TestCaseSource(nameof(Cases))]
    public void SpecialValues(ActivationCase c) =>
        Elementwise.CpuMatchesRoundedReference((g, x) => c.Build(g, x[0], null), [Tensor.FromArray(Elementwise.Specials, Elementwise.Specials.Length)],
            rtol: 1e-6, atol: CancellationAtol);

    // |x|/√2 stays within the Erf series' range (≤ 3) or its saturated range (≥ 6).
    private static readonly float[] s_keyPoints = [-1000f, -100f, -20f, -3f, -0.5f, -1e-7f, 0f, 1e-7f, 0.5f, 1.5f, 3f, 20f, 100f, 1000f, float.NaN];

    [TestCaseSource(nameof(Cases))]
    public void AgreesWithIndependentFormula(ActivationCase c)
    {
        var expected = s_keyPoints.Select(v => c.Independent(v)).ToArray();
        Build f = (g, x) => c.Build(g, x[0], null);
        // Reference: the same functions composed differently, so rounding only (1 + erf cancels to ≈1e-14 relative at x = −3).
        OpHarness.AssertClose(expected, Elementwise.Run(f, Device.Reference, OpHarness.ToFloat64(Tensor.FromArray(s_keyPoints, s_keyPoints.Length))), 1e-12, 0, $"reference {c.Name}");
        // CPU float32: a handful of float32 roundings through the composition, plus Gelu's cancellation.
        OpHarness.AssertClose(expected.Select(v => (double)(float)v).ToArray(), Elementwise.Run(f, Device.Cpu, Tensor.FromArray(s_keyPoints, s_keyPoints.Length)),
            1e-6, CancellationAtol, $"cpu {c.Name}");
    }

    [Test]
    public void TanhGeluStaysCloseToExactGelu()
    {
        // Hendrycks & Gimpel's tanh form approximates x·Φ(x) to within ~5e-4 absolute on the real line.
        var x = Tensor.Linspace(-6, 6, 1201, DType.Float64);
        var exact = Elementwise.Run((g, xs) => g.Gelu(xs[0]), Device.Reference, x);
        var approx = Elementwise.Run((g, xs) => g.Gelu(xs[0], approximate: true), Device.Reference, x);
        OpHarness.AssertClose(exact, approx, 0, 5e-4, "gelu tanh vs exact");
    }

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchCentralDifferences(ActivationCase c)
    {
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, x) => c.Build(g, x[0], null), [Elementwise.Sample(c.Domain, shape, seed: 3)], c.GradTolerance);
    }

    [TestCaseSource(nameof(Cases))]
    public void SecondOrderGradients(ActivationCase c)
    {
        foreach (var shape in new[] { Array.Empty<int>(), [2, 3], [0, 2] })
            OpHarness.SecondOrder((g, x) => c.Build(g, x[0], null), [Elementwise.Sample(c.Domain, shape, seed: 5)], c.GradTolerance * 10);
    }

    [Test]
    public void GradientsAtKinksAndExtremesAreTheDocumentedOnes()
    {
        // At the kink each composite takes the branch its Select/Maximum/Minimum picks for a tie;
        // far out, the unused branch must not overflow into a NaN (expm1 of min(x, 0), stable sigmoid).
        double[] x = [0, -1000, 1000, -1, 2];
        var g = new Graph();
        var xs = g.Constant(Tensor.FromArray(x, x.Length));
        Output[] ys = [g.LeakyRelu(xs, 0.3), g.Elu(xs, 0.5), g.Clip(xs, -1, 2), g.Relu(xs), g.Sigmoid(xs), g.Softplus(xs), g.Gelu(xs), g.Gelu(xs, true), g.Softsign(xs)];
        var grads = ys.Select(y => g.Gradients(y, xs)[0]).ToArray();
        using var s = new Session(g, Device.Reference);
        var r = s.Run(grads).Select(t => t.ToArray<double>()).ToArray();
        Assert.That(r[0], Is.EqualTo(new[] { 0.3, 0.3, 1, 0.3, 1 }), "LeakyRelu′(0) = α");
        Assert.That(r[1], Is.EqualTo(new[] { 0.5, 0, 1, 0.5 * Math.Exp(-1), 1 }).Within(1e-15), "Elu′(0) = α·e⁰, no NaN at ±1000");
        Assert.That(r[2], Is.EqualTo(new[] { 1.0, 0, 0, 1, 1 }), "Clip passes the gradient at both bounds (ties go to x)");
        Assert.That(r[3], Is.EqualTo(new[] { 0.0, 0, 1, 0, 1 }), "Relu′(0) = 0");
        Assert.That(r[4], Is.EqualTo(new[] { 0.25, 0, 0, 0.19661193324148185, 0.10499358540350652 }).Within(1e-15));
        Assert.That(r[5], Is.EqualTo(new[] { 0.5, 0, 1, 0.2689414213699951, 0.8807970779778823 }).Within(1e-15));
        foreach (var (row, name) in new[] { (r[6], "Gelu"), (r[7], "GeluTanh"), (r[8], "Softsign") })
        {
            Assert.That(row, Is.All.Not.NaN, name);
            Assert.That(row[0], Is.EqualTo(name == "Softsign" ? 1 : 0.5).Within(1e-15), $"{name}′(0)");
            Assert.That(row[1], Is.EqualTo(name == "Softsign" ? 1 / (1001.0 * 1001.0) : 0).Within(1e-15), $"{name}′(−1000)");
            Assert.That(row[2], Is.EqualTo(name == "Softsign" ? 1 / (1001.0 * 1001.0) : 1).Within(1e-15), $"{name}′(1000)");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void RejectsNonFloatingInputs(ActivationCase c)
    {
        // Integer inputs would silently round α, 0.044715 or the division to integers; bool has no arithmetic.
        var g = new Graph();
        foreach (var dt in new[] { DType.Bool, DType.Int32, DType.Int64 })
        {
            if (c.Name == "Clip" && dt != DType.Bool) continue;
            var x = g.Placeholder(dt, new Shape(2, 3), "x");
            var e = Assert.Throws<ShapeException>(() => c.Build(g, x, "act"))!;
            Assert.That(e.Message, Does.Contain("'act").And.Contain(dt.Name()).And.Contain("[2,3]"), e.Message);
        }
    }

    [Test]
    public void ClipRejectsBadBoundsAndClipsIntegers()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3), "x");
        Elementwise.BuildFails(() => g.Clip(x, 2, -1, "bounded"), "Clip", "bounded", "2", "-1");
        Elementwise.BuildFails(() => g.Clip(x, double.NaN, 1), "Clip", "clip_by_value", "NaN");
        Elementwise.BuildFails(() => g.Clip(x, 0, double.NaN), "Clip", "clip_by_value", "NaN");
        // Integer clipping is well defined (tf.clip_by_value accepts ints) as long as the bounds are integers.
        var y = OpHarness.Evaluate((gr, xs) => gr.Clip(xs[0], -2, 3), [Tensor.FromArray([-7, -2, 0, 3, 9], 5)], Device.Cpu);
        Assert.That(y.ToArray<int>(), Is.EqualTo(new[] { -2, -2, 0, 3, 3 }));
    }
}
