using Nabla.Tests.Kernels;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>One comparison op and its System.Math-level definition.</summary>
public sealed record CompareCase(string Op, Func<Graph, Output, Output, Output> Build, Func<double, double, bool> Independent, bool Ordered)
{
    public override string ToString() => Op;
}

/// <summary>
/// Comparisons and boolean logic: IEEE semantics for NaN and ±0, integer and bool operands,
/// broadcasting on both backends, build-time errors, and the explicit refusal to differentiate
/// through a boolean output.
/// </summary>
public class LogicOpTests : ICoversOps
{
    public static readonly CompareCase[] Comparisons =
    [
        new("Equal", (g, a, b) => g.Equal(a, b), (a, b) => a == b, Ordered: false),
        new("NotEqual", (g, a, b) => g.NotEqual(a, b), (a, b) => a != b, Ordered: false),
        new("Less", (g, a, b) => g.Less(a, b), (a, b) => a < b, Ordered: true),
        new("LessEqual", (g, a, b) => g.LessEqual(a, b), (a, b) => a <= b, Ordered: true),
        new("Greater", (g, a, b) => g.Greater(a, b), (a, b) => a > b, Ordered: true),
        new("GreaterEqual", (g, a, b) => g.GreaterEqual(a, b), (a, b) => a >= b, Ordered: true),
    ];

    private static readonly (string Op, Func<Graph, Output, Output, Output> Build, Func<bool, bool, bool> Truth)[] s_logical =
    [
        ("LogicalAnd", (g, a, b) => g.LogicalAnd(a, b), (a, b) => a && b),
        ("LogicalOr", (g, a, b) => g.LogicalOr(a, b), (a, b) => a || b),
        ("LogicalXor", (g, a, b) => g.LogicalXor(a, b), (a, b) => a ^ b),
    ];

    public static IEnumerable<string> CoveredOps => Comparisons.Select(c => c.Op).Concat(s_logical.Select(l => l.Op)).Append("LogicalNot").Append("Select");

    public static IEnumerable<string> LogicalOps => s_logical.Select(l => l.Op);

    public static IEnumerable<TestCaseData> ForwardCases() =>
        from c in Comparisons
        from p in Elementwise.BroadcastPairs
        select new TestCaseData(c, p.A, p.B).SetName($"{c.Op}[{string.Join(",", p.A)}]x[{string.Join(",", p.B)}]");

    /// <summary>Values on a 0.5 grid in [−3, 3], already float32, so ties are frequent and both backends compare the same numbers.</summary>
    private static Tensor Coarse(int[] shape, ulong seed) =>
        OpHarness.ToFloat32(Tensor.FromArray(OpHarness.Uniform(shape, -3, 3, seed).ToDoubleArray().Select(v => Math.Round(v * 2) / 2).ToArray(), shape));

    [TestCaseSource(nameof(ForwardCases))]
    public void CpuMatchesReference(CompareCase c, int[] a, int[] b)
    {
        Tensor[] inputs = [Coarse(a, 1), Coarse(b, 2)];
        OpHarness.CpuMatchesReference((g, x) => c.Build(g, x[0], x[1]), inputs, rtol: 0, atol: 0);
        // Both backends also against the System.Math comparison applied by a naive broadcasting loop in the test.
        var expected = NaiveBroadcast.Apply(inputs[0], inputs[1], c.Independent);
        foreach (var device in new[] { Device.Cpu, Device.Reference })
            Assert.That(OpHarness.Evaluate((g, x) => c.Build(g, x[0], x[1]), inputs, device).ToArray<bool>(), Is.EqualTo(expected), $"{c.Op} on {device} vs naive loop");
    }

    private static readonly double[] s_specials = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1.0, -1.0, 1e30];

    [TestCaseSource(nameof(Comparisons))]
    public void IeeeSemanticsWithNaNInfAndSignedZero(CompareCase c)
    {
        var n = s_specials.Length;
        // NaN is unordered: every comparison with it is false except !=, and 0 == −0.
        var expected = (from x in s_specials from y in s_specials select c.Independent(x, y)).ToArray();
        foreach (var device in new[] { Device.Cpu, Device.Reference })
            foreach (var a in new[] { Tensor.FromArray(s_specials, n, 1), OpHarness.ToFloat32(Tensor.FromArray(s_specials, n, 1)) })
            {
                var b = a.DType == DType.Float32 ? OpHarness.ToFloat32(Tensor.FromArray(s_specials, n)) : Tensor.FromArray(s_specials, n);
                var y = OpHarness.Evaluate((g, x) => c.Build(g, x[0], x[1]), [a, b], device);
                Assert.That(y.DType, Is.EqualTo(DType.Bool));
                Assert.That(y.ToArray<bool>(), Is.EqualTo(expected), $"{c.Op} {a.DType} on {device}");
            }
        Assert.That(c.Independent(double.NaN, double.NaN), Is.EqualTo(c.Op == "NotEqual"), "NaN == NaN is false, NaN != NaN is true");
    }

    [TestCaseSource(nameof(Comparisons))]
    public void ContiguousAgainstScalarFastPathKeepsIeeeSemantics(CompareCase c)
    {
        // The CPU's contiguous-vs-scalar loop (ReLU gradients, dropout masks), 1000 elements plus the specials, each special as the scalar.
        var values = s_specials.Concat(Tensor.RandomUniform(new Shape(1000), -2, 2, seed: 5, dtype: DType.Float64).ToDoubleArray()).ToArray();
        var a = OpHarness.ToFloat32(Tensor.FromArray(values, 2, values.Length / 2));
        foreach (var s in s_specials)
        {
            var y = OpHarness.Evaluate((g, x) => c.Build(g, x[0], g.Scalar(s, DType.Float32)), [a], Device.Cpu);
            var expected = a.ToArray<float>().Select(v => c.Independent(v, (float)s)).ToArray();
            Assert.That(y.ToArray<bool>(), Is.EqualTo(expected), $"{c.Op} against {s}");
        }
    }

    [TestCaseSource(nameof(Comparisons))]
    public void IntegerAndBoolOperands(CompareCase c)
    {
        long[] a = [long.MinValue, -3, 0, 2, long.MaxValue];
        long[] b = [-3, 2, long.MaxValue];
        // Compared as integers: converting long.MaxValue to double for Independent would round it.
        var expected = (from x in a from y in b select Compare(c.Op, x.CompareTo(y))).ToArray();
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            var y64 = OpHarness.Evaluate((g, x) => c.Build(g, x[0], x[1]), [Tensor.FromArray(a, 5, 1), Tensor.FromArray(b, 3)], device);
            Assert.That(y64.ToArray<bool>(), Is.EqualTo(expected), $"int64 on {device}");
            int[] a32 = [int.MinValue, -3, 0, 2, int.MaxValue], b32 = [-3, 2, int.MaxValue];
            var y32 = OpHarness.Evaluate((g, x) => c.Build(g, x[0], x[1]), [Tensor.FromArray(a32, 5, 1), Tensor.FromArray(b32, 3)], device);
            Assert.That(y32.ToArray<bool>(), Is.EqualTo(expected), $"int32 on {device}");
            if (c.Ordered) continue;
            var yb = OpHarness.Evaluate((g, x) => c.Build(g, x[0], x[1]), [Tensor.FromArray([false, true], 2, 1), Tensor.FromArray([false, true], 2)], device);
            Assert.That(yb.ToArray<bool>(), Is.EqualTo(c.Op == "Equal" ? new[] { true, false, false, true } : [false, true, true, false]), $"bool on {device}");
        }
    }

    private static bool Compare(string op, int sign) => op switch
    {
        "Equal" => sign == 0, "NotEqual" => sign != 0, "Less" => sign < 0, "LessEqual" => sign <= 0, "Greater" => sign > 0, _ => sign >= 0,
    };

    [TestCaseSource(nameof(Comparisons))]
    public void RejectsBadInputs(CompareCase c)
    {
        var g = new Graph();
        var f = g.Placeholder(DType.Float32, new Shape(2, 3), "f");
        var n = g.Placeholder(DType.Int32, new Shape(3), "n");
        using (g.NameScope("cmp"))
            Elementwise.BuildFails(() => c.Build(g, f, n), c.Op, $"cmp/{c.Op}", "float32 [2,3]", "int32 [3]");
        Elementwise.BuildFails(() => c.Build(g, g.Placeholder(DType.Float32, new Shape(3, 4)), g.Placeholder(DType.Float32, new Shape(5))), c.Op, c.Op, "[3,4]", "[5]");
        Elementwise.BuildFails(() => c.Build(g, g.Placeholder(DType.Int64, new Shape(-1, 4)), g.Placeholder(DType.Int64, new Shape(2, 5))), c.Op, c.Op, "[?,4]", "[2,5]");
        var flags = g.Placeholder(DType.Bool, new Shape(2), "flags");
        if (c.Ordered) Elementwise.BuildFails(() => c.Build(g, flags, flags), c.Op, c.Op, "bool", "[2]");
        else Assert.That(c.Build(g, flags, flags).DType, Is.EqualTo(DType.Bool), "bools compare for (in)equality");
    }

    [TestCaseSource(nameof(Comparisons))]
    public void IsNotDifferentiable(CompareCase c)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var y = c.Build(g, x, g.Scalar(0.5, DType.Float64));
        Elementwise.NotDifferentiable(g, y, x, c.Op, c.Op);
    }

    [TestCaseSource(nameof(LogicalOps))]
    public void TruthTablesWithBroadcasting(string op)
    {
        var (_, build, truth) = s_logical.Single(l => l.Op == op);
        bool[] tf = [false, true];
        var table = (from a in tf from b in tf select truth(a, b)).ToArray();
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            var outer = OpHarness.Evaluate((g, x) => build(g, x[0], x[1]), [Tensor.FromArray(tf, 2, 1), Tensor.FromArray(tf, 2)], device);
            Assert.That(outer.ToArray<bool>(), Is.EqualTo(table), $"[2,1] ∘ [2] on {device}");
            var flat = OpHarness.Evaluate((g, x) => build(g, x[0], x[1]), [Tensor.FromArray([false, false, true, true], 4), Tensor.FromArray([false, true, false, true], 4)], device);
            Assert.That(flat.ToArray<bool>(), Is.EqualTo(table), $"[4] ∘ [4] on {device}");
            var scalar = OpHarness.Evaluate((g, x) => build(g, x[0], x[1]), [Tensor.Scalar(true), Tensor.FromArray(tf, 2)], device);
            Assert.That(scalar.ToArray<bool>(), Is.EqualTo(table[2..]), $"scalar ∘ [2] on {device}");
            var empty = OpHarness.Evaluate((g, x) => build(g, x[0], x[1]), [Tensor.Zeros(new Shape(0, 2), DType.Bool), Tensor.FromArray(tf, 2)], device);
            Assert.That(empty.Shape, Is.EqualTo(new Shape(0, 2)));
        }
    }

    [TestCaseSource(nameof(LogicalOps))]
    public void LogicalOpsRejectBadInputsAndGradients(string op)
    {
        var (_, build, _) = s_logical.Single(l => l.Op == op);
        var g = new Graph();
        var b = g.Placeholder(DType.Bool, new Shape(2, 3), "b");
        var f = g.Placeholder(DType.Float32, new Shape(2, 3), "f");
        using (g.NameScope("mask"))
            Elementwise.BuildFails(() => build(g, f, f), op, $"mask/{op}", "float32", "[2,3]");
        Elementwise.BuildFails(() => build(g, b, g.Placeholder(DType.Int32, new Shape(3))), op, op, "bool [2,3]", "int32 [3]");
        Elementwise.BuildFails(() => build(g, b, g.Placeholder(DType.Bool, new Shape(2))), op, op, "[2,3]", "[2]");
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        Output y;
        using (g.NameScope("in_range"))
            y = build(g, g.Greater(x, g.Scalar(0, DType.Float64)), g.Less(x, g.Scalar(1, DType.Float64)));
        Elementwise.NotDifferentiable(g, y, x, op, $"in_range/{op}");
    }

    [Test]
    public void LogicalNotNegatesEveryShape()
    {
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            Assert.That(OpHarness.Evaluate((g, x) => g.LogicalNot(x[0]), [Tensor.FromArray([true, false, false], 3)], device).ToArray<bool>(), Is.EqualTo(new[] { false, true, true }));
            Assert.That(OpHarness.Evaluate((g, x) => g.LogicalNot(x[0]), [Tensor.Scalar(false)], device).ToArray<bool>(), Is.EqualTo(new[] { true }));
            Assert.That(OpHarness.Evaluate((g, x) => g.LogicalNot(x[0]), [Tensor.Zeros(new Shape(0, 3), DType.Bool)], device).Shape, Is.EqualTo(new Shape(0, 3)));
            var big = Enumerable.Range(0, 100_001).Select(i => i % 3 == 0).ToArray();
            Assert.That(OpHarness.Evaluate((g, x) => g.LogicalNot(x[0]), [Tensor.FromArray(big, big.Length)], device).ToArray<bool>(), Is.EqualTo(big.Select(v => !v).ToArray()));
        }
    }

    [Test]
    public void LogicalNotRejectsNonBoolAndGradients()
    {
        var g = new Graph();
        using (g.NameScope("gate"))
            foreach (var dt in new[] { DType.Float32, DType.Int32, DType.Int64 })
                Elementwise.BuildFails(() => g.LogicalNot(g.Placeholder(dt, new Shape(4, 1)), "invert"), "LogicalNot", "gate/invert", dt.Name(), "[4,1]");
        var x = g.Placeholder(DType.Float64, new Shape(2), "x");
        Elementwise.NotDifferentiable(g, g.LogicalNot(g.Greater(x, g.Scalar(0, DType.Float64)), "invert"), x, "LogicalNot", "invert");
    }

    // ---- Select ----

    private static Tensor Mask(int[] shape, ulong seed) =>
        Tensor.FromArray(OpHarness.Uniform(shape, 0, 1, seed).ToDoubleArray().Select(v => v < 0.5).ToArray(), shape);

    /// <summary>(cond, a, b) shapes: all three broadcast together, scalar branches, rank-3 mixes, empty and large.</summary>
    private static readonly (int[] C, int[] A, int[] B)[] s_selectShapes =
        [([3, 1], [4], []), ([], [2, 3], [2, 3]), ([2, 3], [2, 3], [2, 3]), ([2, 1, 5], [3, 1], [5]), ([0, 3], [3], []), ([100_000], [100_000], [])];

    [Test]
    public void SelectMatchesReferenceAndBroadcasts()
    {
        foreach (var (c, a, b) in s_selectShapes)
        {
            Tensor[] inputs = [Mask(c, 1), OpHarness.ToFloat32(OpHarness.Uniform(a, seed: 2)), OpHarness.ToFloat32(OpHarness.Uniform(b, seed: 3))];
            OpHarness.CpuMatchesReference((g, x) => g.Select(x[0], x[1], x[2]), inputs, 0, 0);
            // And both against a naive broadcasting loop in the test (a pure copy: exact).
            var expected = NaiveBroadcast.Apply(inputs, v => v[0] != 0 ? v[1] : v[2]);
            foreach (var device in new[] { Device.Cpu, Device.Reference })
                OpHarness.AssertClose(expected, OpHarness.Evaluate((g, x) => g.Select(x[0], x[1], x[2]), inputs, device).ToDoubleArray(), 0, 0, $"select {string.Join(",", c)} on {device}");
        }
        // Every dtype, and a NaN in the branch not taken does not leak.
        bool[] cond = [true, false, true];
        foreach (var device in new[] { Device.Cpu, Device.Reference })
        {
            var f = OpHarness.Evaluate((g, x) => g.Where(x[0], x[1], x[2]), [Tensor.FromArray(cond, 3, 1), Tensor.FromArray([1f, float.NaN], 2), Tensor.Scalar(-1f)], device);
            Assert.That(f.Shape, Is.EqualTo(new Shape(3, 2)));
            Assert.That(f.ToArray<float>(), Is.EqualTo(new[] { 1f, float.NaN, -1f, -1f, 1f, float.NaN }));
            var d = OpHarness.Evaluate((g, x) => g.Select(x[0], x[1], x[2]), [Tensor.FromArray(cond, 3), Tensor.Scalar(2.0), Tensor.FromArray([double.NaN, 5, 6], 3)], device);
            Assert.That(d.ToArray<double>(), Is.EqualTo(new[] { 2.0, 5, 2 }));
            var i = OpHarness.Evaluate((g, x) => g.Select(x[0], x[1], x[2]), [Tensor.FromArray(cond, 3), Tensor.FromArray([1, 2, 3], 3), Tensor.FromArray([-1, -2, -3], 3)], device);
            Assert.That(i.ToArray<int>(), Is.EqualTo(new[] { 1, -2, 3 }));
            var l = OpHarness.Evaluate((g, x) => g.Select(x[0], x[1], x[2]), [Tensor.Scalar(false), Tensor.FromArray([1L, 2], 2), Tensor.FromArray([7L, long.MinValue], 2)], device);
            Assert.That(l.ToArray<long>(), Is.EqualTo(new[] { 7L, long.MinValue }));
            var b = OpHarness.Evaluate((g, x) => g.Select(x[0], x[1], x[2]), [Tensor.FromArray(cond, 3), Tensor.Scalar(false), Tensor.Scalar(true)], device);
            Assert.That(b.ToArray<bool>(), Is.EqualTo(new[] { false, true, false }));
        }
    }

    [Test]
    public void SelectGradientsRouteByTheCondition()
    {
        // Linear in each branch, so only rounding (≈1e-10) separates analytic and numeric; a gradient
        // sent to the wrong branch or not summed over broadcast axes is off by O(1).
        foreach (var (c, a, b) in s_selectShapes.Take(5))
        {
            var mask = Mask(c, 4);
            OpHarness.Gradients((g, x) => g.Select(g.Constant(mask), x[0], x[1]), [OpHarness.Uniform(a, seed: 5), OpHarness.Uniform(b, seed: 6)], 1e-6);
            OpHarness.SecondOrder((g, x) => g.Select(g.Constant(mask), g.Sin(x[0]) * x[1], x[1] * x[1]), [OpHarness.Uniform(a, seed: 5), OpHarness.Uniform(b, seed: 6)], 1e-6);
        }
    }

    [Test]
    public void SelectRejectsBadInputs()
    {
        var g = new Graph();
        var f = g.Placeholder(DType.Float32, new Shape(3), "f");
        var cond = g.Placeholder(DType.Bool, new Shape(3), "cond");
        using (g.NameScope("gate"))
        {
            Elementwise.BuildFails(() => g.Select(f, f, f, "pick"), "Select", "gate/pick", "condition must be bool", "float32 [3]");
            Elementwise.BuildFails(() => g.Select(cond, f, g.Placeholder(DType.Int32, new Shape(3)), "pick"), "Select", "gate/pick", "float32 [3]", "int32 [3]");
        }
        Elementwise.BuildFails(() => g.Select(g.Placeholder(DType.Bool, new Shape()), g.Placeholder(DType.Float32, new Shape(3, 4)), g.Placeholder(DType.Float32, new Shape(5))), "Select", "Select", "[3,4]", "[5]");
        Elementwise.BuildFails(() => g.Select(g.Placeholder(DType.Bool, new Shape(2)), f, f), "Select", "Select", "[2]", "[3]");
        Elementwise.BuildFails(() => g.Where(g.Placeholder(DType.Int64, new Shape(3)), f, f), "Select", "Where", "int64");
        Assert.That(g.Gradients([g.Select(cond, f, f)], [f], null, UnconnectedGradients.Error)[0], Is.Not.Null,
            "the bool condition gets no gradient but does not block the branches");
    }
}
