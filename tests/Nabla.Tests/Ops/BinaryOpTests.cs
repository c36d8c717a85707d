using Nabla.Tests.Kernels;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>One row of the binary arithmetic table.</summary>
/// <param name="Op">Registered op type.</param>
/// <param name="Build">Graph builder.</param>
/// <param name="Independent">The scalar function, written with System.Math rather than the kernels' operator structs.</param>
/// <param name="DomainA">Domain of the left operand.</param>
/// <param name="DomainB">Domain of the right operand.</param>
/// <param name="GradTolerance">Max relative error of the float64 central-difference check.</param>
/// <param name="Why">Why that tolerance.</param>
public sealed record BinaryCase(string Op, Func<Graph, Output, Output, Output> Build, Func<double, double, double> Independent,
    Domain DomainA, Domain DomainB, double GradTolerance, string Why)
{
    public override string ToString() => Op;
}

/// <summary>
/// Table-driven tests of the broadcasting arithmetic ops: CPU float32 against the float64 reference
/// over every CpuBinary path (contiguous, scalar on either side, row vector on either side, generic
/// strided) and over a grid of special values, float64 gradient checks with broadcasting, and
/// build-time errors naming op, node and both shapes.
/// </summary>
public class BinaryOpTests : ICoversOps
{
    // Rounding in central differences is ε·|L|/h with |L| ≤ 30·|f| ≈ 500 here, i.e. ≤ 1e-7;
    // a wrong or unreduced broadcast gradient is off by O(1).
    private const double Smooth = 1e-6;

    public static readonly BinaryCase[] Cases =
    [
        new("Add", (g, a, b) => g.Add(a, b), (a, b) => a + b, Domain.Any, Domain.Any, Smooth, "linear"),
        new("Sub", (g, a, b) => g.Sub(a, b), (a, b) => a - b, Domain.Any, Domain.Any, Smooth, "linear"),
        new("Mul", (g, a, b) => g.Mul(a, b), (a, b) => a * b, Domain.Any, Domain.Any, Smooth, "bilinear: truncation error is 0"),
        new("Div", (g, a, b) => g.Div(a, b), (a, b) => a / b, Domain.Any, Domain.AwayFromZero, Smooth, "∂³/∂b³ = 6a/b⁴ ≤ 1.2e4 at |b| = 0.2: truncation 2e-9"),
        new("Pow", (g, a, b) => g.Pow(a, b), Math.Pow, Domain.Positive, Domain.Any, 1e-5, "aᵇ reaches 0.2⁻³ = 125, so rounding ε·|L|/h nears 1e-6"),
        new("Maximum", (g, a, b) => g.Maximum(a, b), Math.Max, Domain.Any, Domain.Any, Smooth, "piecewise linear; independent seeds make |a − b| < h improbable (and fixed by the seed)"),
        new("Minimum", (g, a, b) => g.Minimum(a, b), Math.Min, Domain.Any, Domain.Any, Smooth, "as Maximum"),
    ];

    public static IEnumerable<string> CoveredOps => Cases.Select(c => c.Op);

    public static IEnumerable<TestCaseData> ForwardCases() =>
        from c in Cases
        from p in Elementwise.BroadcastPairs
        select new TestCaseData(c, p.A, p.B).SetName($"{c.Op}[{string.Join(",", p.A)}]x[{string.Join(",", p.B)}]");

    [TestCaseSource(nameof(ForwardCases))]
    public void CpuMatchesReference(BinaryCase c, int[] a, int[] b)
    {
        Tensor[] inputs = [Elementwise.Sample(c.DomainA, a, seed: 1), Elementwise.Sample(c.DomainB, b, seed: 2)];
        // Input rounding to float32 (6e-8) amplified by |∂f/∂x·x/f| ≤ 3·ln 3 for pow, ≤ 2 otherwise.
        OpHarness.CpuMatchesReference((g, x) => c.Build(g, x[0], x[1]), inputs, rtol: 1e-5, atol: 1e-6);
        // float64 on both backends against the scalar function applied by a naive broadcasting loop in
        // this test: each side rounds once (Pow: Math.Pow on both), so 1e-15 relative, 0 absolute.
        var expected = NaiveBroadcast.Apply(inputs[0], inputs[1], c.Independent);
        foreach (var device in new[] { Device.Cpu, Device.Reference })
            OpHarness.AssertClose(expected, Elementwise.Run((g, x) => c.Build(g, x[0], x[1]), device, inputs), 1e-15, 0, $"float64 on {device} vs naive loop");
    }

    private static readonly float[] s_specials = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, 1e-30f, 0.5f, -1f, 2.5f, 3f, -100f, 1000f, 1e30f, -1e30f];

    [TestCaseSource(nameof(Cases))]
    public void SpecialValuesOnEveryPath(BinaryCase c)
    {
        var n = s_specials.Length;
        var grid = (from x in s_specials from y in s_specials select (x, y)).ToArray();
        var expected = grid.Select(p => c.Independent(p.x, p.y)).ToArray();
        var expected32 = expected.Select(v => (double)(float)v).ToArray();
        Build f = (g, x) => c.Build(g, x[0], x[1]);
        // The same n×n grid laid out four ways: generic strided ([n,1]∘[n]), contiguous ([n²]∘[n²]),
        // row vector over rows ([n,n]∘[n]), and scalar on either side (the loop below).
        var layouts = new (Tensor A, Tensor B)[]
        {
            (Tensor.FromArray(s_specials, n, 1), Tensor.FromArray(s_specials, n)),
            (Tensor.FromArray(grid.Select(p => p.x).ToArray(), n * n), Tensor.FromArray(grid.Select(p => p.y).ToArray(), n * n)),
            (Tensor.FromArray(grid.Select(p => p.x).ToArray(), n, n), Tensor.FromArray(s_specials, n)),
        };
        foreach (var (a, b) in layouts)
        {
            // Reference float64 vs System.Math: the same IEEE operations, so exact (NaN ≡ NaN, ±Inf exact).
            OpHarness.AssertClose(expected, Elementwise.Run(f, Device.Reference, OpHarness.ToFloat64(a), OpHarness.ToFloat64(b)), 1e-15, 0, $"reference {c.Op} {a.Shape}∘{b.Shape}");
            // CPU float32: correctly rounded for + − × ÷ max min; MathF.Pow is within 1 ulp.
            OpHarness.AssertClose(expected32, Elementwise.Run(f, Device.Cpu, a, b), 2e-7, Elementwise.Float32Denormal, $"cpu {c.Op} {a.Shape}∘{b.Shape}");
        }
        for (var i = 0; i < n; i++)
        {
            var column = grid.Where((_, k) => k % n == i).Select(p => p.x).ToArray();
            var row = grid.Skip(i * n).Take(n).Select(p => p.y).ToArray();
            var vecScalar = Elementwise.Run(f, Device.Cpu, Tensor.FromArray(column, n), Tensor.Scalar(s_specials[i]));
            OpHarness.AssertClose(expected32.Where((_, k) => k % n == i).ToArray(), vecScalar, 2e-7, Elementwise.Float32Denormal, $"cpu {c.Op} [n] ∘ {s_specials[i]}");
            var scalarVec = Elementwise.Run(f, Device.Cpu, Tensor.Scalar(s_specials[i]), Tensor.FromArray(row, n));
            OpHarness.AssertClose(expected32.Skip(i * n).Take(n).ToArray(), scalarVec, 2e-7, Elementwise.Float32Denormal, $"cpu {c.Op} {s_specials[i]} ∘ [n]");
        }
    }

    [TestCaseSource(nameof(Cases))]
    public void GradientsMatchCentralDifferences(BinaryCase c)
    {
        foreach (var (a, b) in Elementwise.GradientPairs)
            OpHarness.Gradients((g, x) => c.Build(g, x[0], x[1]), [Elementwise.Sample(c.DomainA, a, 3), Elementwise.Sample(c.DomainB, b, 4)], c.GradTolerance);
    }

    [TestCaseSource(nameof(Cases))]
    public void SecondOrderGradients(BinaryCase c)
    {
        // Mixed partials ∂²/∂a∂b come out of the second check too, since it differentiates ∂f/∂a w.r.t. both inputs.
        foreach (var (a, b) in new (int[], int[])[] { ([], []), ([3, 1], [4]), ([0, 3], [3]) })
            OpHarness.SecondOrder((g, x) => c.Build(g, x[0], x[1]), [Elementwise.Sample(c.DomainA, a, 5), Elementwise.Sample(c.DomainB, b, 6)], c.GradTolerance * 10);
    }

    [TestCaseSource(nameof(Cases))]
    public void RejectsBadInputs(BinaryCase c)
    {
        var g = new Graph();
        var f32 = g.Placeholder(DType.Float32, new Shape(2, 3), "a");
        var f64 = g.Placeholder(DType.Float64, new Shape(3), "b");
        using (g.NameScope("block"))
            Elementwise.BuildFails(() => c.Build(g, f32, f64), c.Op, $"block/{c.Op}", "float32 [2,3]", "float64 [3]");

        var flags = g.Placeholder(DType.Bool, new Shape(2), "flags");
        Elementwise.BuildFails(() => c.Build(g, flags, flags), c.Op, c.Op, "bool", "[2]");
        if (c.Op == "Pow")
        {
            var n = g.Placeholder(DType.Int32, new Shape(2), "n");
            Elementwise.BuildFails(() => c.Build(g, n, n), c.Op, c.Op, "int32", "[2]");
        }

        var m = g.Placeholder(DType.Float32, new Shape(3, 4), "m");
        var v = g.Placeholder(DType.Float32, new Shape(5), "v");
        Elementwise.BuildFails(() => c.Build(g, m, v), c.Op, c.Op, "[3,4]", "[5]");
        var unknown = g.Placeholder(DType.Float32, new Shape(-1, 4), "batch");
        Elementwise.BuildFails(() => c.Build(g, v, unknown), c.Op, c.Op, "[5]", "[?,4]");
        Assert.That(c.Build(g, unknown, g.Placeholder(DType.Float32, new Shape(3, 1, 1), "c")).Shape, Is.EqualTo(new Shape(3, -1, 4)),
            "an unknown dim broadcasts against 1 and stays unknown");
    }

    [Test]
    public void MaximumAndMinimumPropagateNaNOnEveryPath()
    {
        foreach (var device in new[] { Device.Cpu, Device.Reference })
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                foreach (var op in new[] { "Maximum", "Minimum" })
                {
                    var c = Cases.Single(k => k.Op == op);
                    Build f = (g, x) => c.Build(g, x[0], x[1]);
                    var a = Cast(Tensor.FromArray([double.NaN, 1, double.NaN, -1, 5], 5), dtype);
                    var b = Cast(Tensor.FromArray([2, double.NaN, double.NaN, double.NegativeInfinity, double.PositiveInfinity], 5), dtype);
                    var both = Elementwise.Run(f, device, a, b);
                    Assert.That(both.Take(3), Is.All.NaN, $"{op} {dtype} on {device}: contiguous");
                    Assert.That(both[3], Is.EqualTo(op == "Maximum" ? -1 : double.NegativeInfinity));
                    Assert.That(both[4], Is.EqualTo(op == "Maximum" ? double.PositiveInfinity : 5));
                    Assert.That(Elementwise.Run(f, device, Cast(Tensor.Scalar(double.NaN), dtype), b), Is.All.NaN, $"{op}: NaN scalar on the left");
                    Assert.That(Elementwise.Run(f, device, a, Cast(Tensor.Scalar(double.NaN), dtype)), Is.All.NaN, $"{op}: NaN scalar on the right");
                }
    }

    [Test]
    public void MaximumTiesSendTheGradientToTheLeftOperand()
    {
        var g = new Graph();
        var a = g.Constant(Tensor.FromArray([1.0, 2.0, 3.0], 3));
        var b = g.Constant(Tensor.FromArray([1.0, 5.0, 3.0], 3));
        var grads = g.Gradients(g.Maximum(a, b), a, b).Concat(g.Gradients(g.Minimum(a, b), a, b)).ToArray();
        using var s = new Session(g, Device.Reference);
        var r = s.Run(grads).Select(t => t.ToArray<double>()).ToArray();
        Assert.That(r[0], Is.EqualTo(new[] { 1.0, 0, 1 }));
        Assert.That(r[1], Is.EqualTo(new[] { 0.0, 1, 0 }));
        Assert.That(r[2], Is.EqualTo(new[] { 1.0, 1, 1 }));
        Assert.That(r[3], Is.EqualTo(new[] { 0.0, 0, 0 }));
    }

    [Test]
    public void PowExponentGradientIsZeroForNonPositiveBase()
    {
        // ∂aᵇ/∂b = aᵇ ln a has no real value for a < 0 and is 0·(−∞) at a = 0; TensorFlow returns 0 there.
        var g = new Graph();
        var a = g.Constant(Tensor.FromArray([-2.0, 0.0, 2.0], 3));
        var b = g.Constant(Tensor.FromArray([2.0, 3.0, 3.0], 3));
        var grads = g.Gradients(g.Pow(a, b), a, b);
        using var s = new Session(g, Device.Reference);
        var r = s.Run(grads);
        Assert.That(r[0].ToArray<double>(), Is.EqualTo(new[] { -4.0, 0.0, 12.0 }));
        Assert.That(r[1].ToArray<double>(), Is.EqualTo(new[] { 0.0, 0.0, 8 * Math.Log(2) }).Within(1e-15));
    }

    private static Tensor Cast(Tensor t, DType dtype) => dtype == DType.Float32 ? OpHarness.ToFloat32(t) : t;
}
