using NUnit.Framework;

namespace Nabla.Tests.Execution;

/// <summary>One element-wise node family as a float → float step of a chain: x is the chain's value, y a second (broadcast) operand.</summary>
/// <param name="Name">The op the step exercises (bool-valued ops are cast back to float).</param>
/// <param name="Apply">Builds the step.</param>
public sealed record FuseOp(string Name, Func<Graph, Output, Output, Output> Apply)
{
    public override string ToString() => Name;
}

/// <summary>
/// Fused against unfused execution on the CPU (issue 10), table-driven: every element-wise op, and every
/// pair of adjacent ops (each op's result fed into every op), over broadcast operands (scalar, row vector,
/// size-1 dims read with strides), size-1 and empty shapes, several blocks with a short tail, and NaN,
/// ±∞ and ±0 in the data, in float32 and float64. The fused kernels apply the same scalar and vector
/// functions in the same order, so results must agree bit for bit (in deterministic mode, where the
/// vectorised transcendentals cannot change with JIT tiering between the two runs); NaNs must be NaN on
/// both sides. Also: the dropout mask of a seed is unchanged, gradients of fused graphs pass a float64
/// central-difference check, and fused intermediates leave the memory plan. Every test runs with both fused
/// variants: the interpreter and the generated code (<see cref="SessionOptions.FusedCodegen"/>).
/// </summary>
[TestFixture(false)]
[TestFixture(true)]
public sealed class FusionTests(bool codegen)
{
    private static Output Flt(Graph g, Output b, Output like) => g.Cast(b, like.DType);

    public static readonly FuseOp[] Ops =
    [
        new("Neg", (g, x, y) => g.Neg(x)),
        new("Abs", (g, x, y) => g.Abs(x)),
        new("Sign", (g, x, y) => g.Sign(x)),
        new("Square", (g, x, y) => g.Square(x)),
        new("Sqrt", (g, x, y) => g.Sqrt(x)),
        new("Rsqrt", (g, x, y) => g.Rsqrt(x)),
        new("Reciprocal", (g, x, y) => g.Reciprocal(x)),
        new("Exp", (g, x, y) => g.Exp(x)),
        new("Expm1", (g, x, y) => g.Expm1(x)),
        new("Log", (g, x, y) => g.Log(x)),
        new("Log1p", (g, x, y) => g.Log1p(x)),
        new("Sin", (g, x, y) => g.Sin(x)),
        new("Cos", (g, x, y) => g.Cos(x)),
        new("Tanh", (g, x, y) => g.Tanh(x)),
        new("Sigmoid", (g, x, y) => g.Sigmoid(x)),
        new("Relu", (g, x, y) => g.Relu(x)),
        new("Softplus", (g, x, y) => g.Softplus(x)),
        new("Erf", (g, x, y) => g.Erf(x)),
        new("Add", (g, x, y) => g.Add(x, y)),
        new("Sub", (g, x, y) => g.Sub(y, x)),
        new("Mul", (g, x, y) => g.Mul(x, y)),
        new("Div", (g, x, y) => g.Div(x, y)),
        new("Pow", (g, x, y) => g.Pow(g.Abs(x), y)),
        new("Maximum", (g, x, y) => g.Maximum(x, y)),
        new("Minimum", (g, x, y) => g.Minimum(y, x)),
        new("Equal", (g, x, y) => Flt(g, g.Equal(x, g.Sign(y)), x)),
        new("NotEqual", (g, x, y) => Flt(g, g.NotEqual(g.Sign(x), y), x)),
        new("Less", (g, x, y) => Flt(g, g.Less(x, y), x)),
        new("LessEqual", (g, x, y) => Flt(g, g.LessEqual(y, x), x)),
        new("Greater", (g, x, y) => Flt(g, g.Greater(x, y), x)),
        new("GreaterEqual", (g, x, y) => Flt(g, g.GreaterEqual(x, y), x)),
        new("LogicalAnd", (g, x, y) => Flt(g, g.LogicalAnd(g.Greater(x, y), g.Less(x, g.Scalar(1, x.DType))), x)),
        new("LogicalOr", (g, x, y) => Flt(g, g.LogicalOr(g.Greater(x, y), g.Less(x, g.Scalar(-1, x.DType))), x)),
        new("LogicalXor", (g, x, y) => Flt(g, g.LogicalXor(g.Greater(x, y), g.Less(x, g.Scalar(0.5, x.DType))), x)),
        new("LogicalNot", (g, x, y) => Flt(g, g.LogicalNot(g.Greater(x, y)), x)),
        new("BoolEqual", (g, x, y) => Flt(g, g.Equal(g.Greater(x, y), g.Less(x, g.Scalar(0, x.DType))), x)),
        new("Select", (g, x, y) => g.Select(g.Greater(x, y), x, g.Neg(y) + 0.0)),
        new("CastToBoolAndBack", (g, x, y) => Flt(g, g.Cast(x, DType.Bool), x) * y),
        new("ZerosLike", (g, x, y) => x + g.ZerosLike(x)),
        new("OnesLike", (g, x, y) => x * g.OnesLike(x)),
        new("LeakyRelu", (g, x, y) => g.LeakyRelu(x, 0.1)),
        new("Elu", (g, x, y) => g.Elu(x)),
        new("GeluTanh", (g, x, y) => g.Gelu(x, approximate: true)),
    ];

    /// <summary>(result shape, second operand, third operand): row and scalar, strided size-1 dims, all size 1, empty, blocks with a short tail, a column over rows.</summary>
    private static readonly (int[] S, int[] Y1, int[] Y2)[] Shapes =
    [
        ([3, 5], [5], []),
        ([2, 3, 4], [2, 1, 4], [1, 3, 1]),
        ([1, 1], [1], [1, 1]),
        ([0, 3], [3], []),
        ([4099], [4099], []),
        ([5, 1000], [5, 1], [1000]),
    ];

    public static IEnumerable<TestCaseData> PairCases() =>
        from f in Ops
        from dt in new[] { DType.Float32, DType.Float64 }
        select new TestCaseData(f, dt).SetName($"FusedEqualsUnfused({f.Name}→*,{dt})");

    /// <summary>f alone (followed by a multiply so that it fuses), and f followed by every op of the table.</summary>
    [TestCaseSource(nameof(PairCases))]
    public void FusedEqualsUnfused(FuseOp first, DType dtype)
    {
        foreach (var (s, y1, y2) in Shapes)
        {
            var g = new Graph();
            var x = g.Placeholder(dtype, new Shape(s), "x");
            var a = g.Placeholder(dtype, new Shape(y1), "a");
            var b = g.Placeholder(dtype, new Shape(y2), "b");
            var h = first.Apply(g, x, a);
            var fetches = new List<Output> { h * b };
            fetches.AddRange(Ops.Select(second => second.Apply(g, h, b)));
            var feeds = new Dictionary<Output, Tensor>
            {
                [x] = Sample(dtype, s, 1),
                [a] = Sample(dtype, y1, 2),
                [b] = Sample(dtype, y2, 3),
            };
            var (fused, plan) = Evaluate(g, fetches, feeds, fusion: true);
            var (plain, _) = Evaluate(g, fetches, feeds, fusion: false);
            Assert.That(plan.FusedSteps, Is.Not.Empty, $"{first.Name} {Describe(s)}: nothing was fused");
            for (var k = 0; k < fetches.Count; k++)
                AssertSameBits(plain[k], fused[k], $"{first.Name}→{(k == 0 ? "Mul" : Ops[k - 1].Name)} {dtype.Name()} {Describe(s)}");
        }
    }

    [Test]
    public void NonDeterministicModeAgreesWithinFloat32Tolerance()
    {
        // Without deterministic mode the vectorised exp/log/sin/cos/tanh/sigmoid may round differently once the JIT
        // re-compiles them with FMA (CpuBackend remarks); fused and unfused then agree to a few ulp, never worse.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(70_001), "x");
        var y = g.Sigmoid(g.Tanh(g.Exp(g.Sin(x) * 0.5)) + g.Log(g.Abs(x) + 1.0));
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(DType.Float32, [70_001], 4) };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false });
        Assert.That(fused.Plan([y], feeds).FusedSteps, Has.Count.EqualTo(1));
        var f = fused.Run(y, feeds).ToArray<float>();
        var p = plain.Run(y, feeds).ToArray<float>();
        for (var i = 0; i < f.Length; i++)
            if (!(float.IsNaN(f[i]) && float.IsNaN(p[i])) && Math.Abs(f[i] - p[i]) > 4e-7 * (1 + Math.Abs(p[i]))) Assert.Fail($"element {i}: fused {f[i]}, unfused {p[i]}");
    }

    [TestCase(DType.Float32, 1000)]
    [TestCase(DType.Float32, 70_000)]
    [TestCase(DType.Float64, 4099)]
    public void DropoutMaskOfASeedIsUnchangedByFusion(DType dtype, int n)
    {
        // 70,000 elements run the fused kernel on both cores and the unfused Random in its chunked path.
        var g = new Graph();
        var x = g.Placeholder(dtype, new Shape(2, n / 2), "x");
        var mask = g.DropoutMask(x, 0.3, seed: 11);
        var y = x * mask;
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(dtype, [2, n / 2], 5) };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false });
        Assert.That(fused.Plan([mask, y], feeds).FusedSteps, Has.Count.EqualTo(1));
        for (var run = 0; run < 2; run++)
        {
            // The second run draws a fresh mask (the counter advanced) and it must still agree.
            var f = fused.Run([mask, y], feeds);
            var p = plain.Run([mask, y], feeds);
            AssertSameBits(p[0], f[0], $"mask, run {run}");
            AssertSameBits(p[1], f[1], $"x·mask, run {run}");
            var kept = p[0].ToDoubleArray().Count(v => v != 0) / (double)n;
            Assert.That(kept, Is.EqualTo(0.7).Within(0.1), "about 1 − rate kept");
        }
    }

    /// <summary>
    /// Generated code against the interpreter (both fused, and against unfused): W2's forward tree with its dropout
    /// mask, a bias row, a scalar, a bool output and a transcendental, over sizes with partial vectors, a block with a
    /// short tail, and both cores; two runs, so the second mask comes from the next counter.
    /// </summary>
    [TestCase(1), TestCase(15), TestCase(33), TestCase(4099), TestCase(70_001)]
    public void GeneratedCodeEqualsTheInterpreter(int rows)
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(rows, 7), "x");
        var b = g.Placeholder(DType.Float32, new Shape(7), "b");
        var s = g.Placeholder(DType.Float32, new Shape(), "s");
        var h = g.Relu(x + b);
        Output[] fetches = [g.Dropout(h, 0.3, seed: 5), g.Greater(h, s), g.Select(g.Less(x, s), g.Exp(x), g.Sqrt(g.Abs(x)) * s)];
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(DType.Float32, [rows, 7], 12), [b] = Sample(DType.Float32, [7], 13), [s] = Tensor.FromArray(new[] { 0.25f }) };
        SessionOptions Options(bool generated) => new() { Deterministic = true, FusedCodegen = generated };
        using var interpreted = new Session(g, Device.Cpu, Options(false));
        using var generated = new Session(g, Device.Cpu, Options(codegen));
        using var plain = new Session(g, Device.Cpu, Options(false) with { Fusion = false });
        Assert.That(generated.Plan(fetches, feeds).FusedSteps, Is.Not.Empty);
        var other = new Dictionary<Output, Tensor>(feeds) { [x] = Sample(DType.Float32, [rows, 7], 14) };
        for (var run = 0; run < 2; run++)
        {
            var e = interpreted.Run(fetches, feeds);
            // Other values in the thread's scratch blocks: a kernel reading a block it had not written would fail.
            using (var poison = new Session(g, Device.Cpu, Options(false))) poison.Run(fetches, other);
            var a = generated.Run(fetches, feeds);
            var p = plain.Run(fetches, feeds);
            for (var k = 0; k < fetches.Length; k++)
            {
                AssertSameBits(e[k], a[k], $"fetch {k}, run {run}, against the interpreter");
                AssertSameBits(p[k], a[k], $"fetch {k}, run {run}, against unfused");
            }
        }
    }

    public static IEnumerable<TestCaseData> GradientCases()
    {
        int[][] shapes = [[1], [1, 1], [2, 3], [3, 1], [5]];
        foreach (var f in new[] { "GeluTanh", "Elu", "Select", "Sigmoid", "Softplus", "Div", "Maximum", "Tanh" })
            foreach (var s in shapes)
                yield return new TestCaseData(f, s).SetName($"FusedGradientsPassFloat64Check({f},[{string.Join(",", s)}])");
    }

    /// <summary>
    /// The gradient graph of f (fused forward and backward element-wise trees) evaluated on the CPU in float64
    /// with fusion on, against central differences of the same fused forward pass. Tolerance 1e-6 relative
    /// (+1e-8): the table's smooth ops have |f'''| ≤ 10 on the sampled domain, truncation ≈ 1e-12·10 and
    /// rounding ε·|L|/h ≈ 1e-10; a wrong fused gradient is off by O(1).
    /// </summary>
    [TestCaseSource(nameof(GradientCases))]
    public void FusedGradientsPassFloat64Check(string name, int[] shape)
    {
        var op = Ops.Single(o => o.Name == name);
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(shape), "x");
        var y = g.Placeholder(DType.Float64, new Shape(shape[^1]), "y");
        var w = g.Placeholder(DType.Float64, new Shape(shape), "w");
        var f = op.Apply(g, g.Tanh(x) * 1.5, y) * x + y;
        var loss = g.ReduceSum(f * w);
        var grads = g.Gradients(loss, x, y);
        var xv = Sample(DType.Float64, shape, 7, specials: false).ToDoubleArray();
        var yv = Sample(DType.Float64, [shape[^1]], 8, specials: false).ToDoubleArray();
        var wv = Sample(DType.Float64, shape, 9, specials: false).ToDoubleArray();
        using var session = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen });
        Tensor T(double[] v, int[] s) => Tensor.FromArray(v, s);
        Dictionary<Output, Tensor> Feeds(double[] xs, double[] ys) => new() { [x] = T(xs, shape), [y] = T(ys, [shape[^1]]), [w] = T(wv, shape) };
        Assert.That(session.Plan(grads, Feeds(xv, yv)).FusedSteps, Is.Not.Empty);
        var analytic = session.Run(grads, Feeds(xv, yv)).Select(t => t.ToDoubleArray()).ToArray();
        const double h = 1e-6;
        double L(double[] xs, double[] ys) => session.Run(loss, Feeds(xs, ys)).ToDoubleArray()[0];
        foreach (var (values, which) in new[] { (xv, 0), (yv, 1) })
            for (var i = 0; i < values.Length; i++)
            {
                var keep = values[i];
                values[i] = keep + h;
                var up = L(xv, yv);
                values[i] = keep - h;
                var down = L(xv, yv);
                values[i] = keep;
                var numeric = (up - down) / (2 * h);
                Assert.That(analytic[which][i], Is.EqualTo(numeric).Within(1e-6 * Math.Abs(numeric) + 1e-8), $"d loss / d {(which == 0 ? "x" : "y")}[{i}]");
            }
    }

    [Test]
    public void FusedIntermediatesGetNoMemoryAndPlannedPeakIsWhatTheArenasHold()
    {
        // x → 9 element-wise nodes → y on 256 KiB values: unfused the chain needs an input and an output buffer
        // at every step plus the scalar constants; fused only x and y exist, and the two plans agree on y.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(256, 256), "x");
        var y = g.Sigmoid(g.Relu(x * 2.0 + 1.0) - g.Square(x)) * g.Exp(g.Neg(x));
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(DType.Float32, [256, 256], 6) };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen, Deterministic = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false, Deterministic = true });
        var fp = fused.Plan([y], feeds);
        var pp = plain.Plan([y], feeds);
        AssertSameBits(plain.Run(y, feeds), fused.Run(y, feeds), "y");
        const long value = 256 * 256 * 4;
        Assert.Multiple(() =>
        {
            Assert.That(fp.FusedSteps, Has.Count.EqualTo(1));
            Assert.That(fp.FusedSteps[0].Nodes, Has.Count.EqualTo(9));
            Assert.That(fp.KernelCount, Is.EqualTo(1));
            Assert.That(fused.LastRun!.Value.Kernels, Is.EqualTo(1));
            Assert.That(plain.LastRun!.Value.Kernels, Is.EqualTo(9));
            Assert.That(fp.PeakBytes, Is.EqualTo(2 * value), "the feed and the result");
            Assert.That(pp.PeakBytes, Is.GreaterThan(fp.PeakBytes));
            Assert.That(fused.ArenaBytes, Is.EqualTo(fp.PeakBytes), "planned peak == what the arenas hold");
            Assert.That(fp.FusedSteps[0].BytesRead, Is.EqualTo(value + 4 * 2), "x once, and the two scalar constants");
            Assert.That(fp.FusedSteps[0].BytesWritten, Is.EqualTo(value));
            Assert.That(fp.FusedSteps[0].ToString(), Does.Contain("Sigmoid").And.Contain("B moved"));
        });
    }

    [Test]
    public void AValueReadOutsideTheTreeIsWrittenAndOrderIsKept()
    {
        // h is read by a reduction between two element-wise nodes of the same shape: the reduction seals the
        // first tree, so the second one (after it) is a separate fused step and h is written once.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(4, 6), "x");
        var h = g.Exp(g.Neg(x));
        var total = g.ReduceSum(h);
        var z = g.Sqrt(h * total + 1.0);
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(DType.Float32, [4, 6], 9, specials: false) };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen, Deterministic = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false, Deterministic = true });
        var plan = fused.Plan([z, h], feeds);
        Assert.That(plan.FusedSteps, Has.Count.EqualTo(2));
        Assert.That(plan.FusedSteps[0].Outputs, Is.EqualTo(1), "h, read by the sum and the second tree and fetched");
        var f = fused.Run([z, h], feeds);
        var p = plain.Run([z, h], feeds);
        AssertSameBits(p[0], f[0], "z");
        AssertSameBits(p[1], f[1], "h");
    }

    [Test]
    public void AValueReadOnlyForItsShapeIsNotWritten()
    {
        // The dropout pattern of a training step: the backward tree's SumToShape takes the forward ReLU's
        // output only as its shape template. The forward tree must not write the ReLU output for it (it did:
        // 64 KB written per dropout layer of W2 and read by nobody), only the pre-activation (read by the
        // ReLU gradient), the mask and the result; and results are unchanged.
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(8, 6), "x");
        var b = g.Placeholder(DType.Float32, new Shape(6), "b");
        var pre = x + b;
        var relu = g.Relu(pre);
        var mask = g.DropoutMask(relu, 0.3, seed: 5);
        var h = relu * mask;
        var total = g.ReduceSum(g.MatMul(h, g.Constant(Sample(DType.Float32, [6, 3], 4, specials: false))));
        var dx = g.Gradients(total, x)[0];
        var feeds = new Dictionary<Output, Tensor>
        {
            [x] = Sample(DType.Float32, [8, 6], 2, specials: false),
            [b] = Sample(DType.Float32, [6], 3, specials: false),
        };
        using var fused = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen, Deterministic = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false, Deterministic = true });
        var plan = fused.Plan([dx, total], feeds);
        var forward = plan.FusedSteps.Single(f => f.Nodes.Any(n => n.OpType == "Random"));
        Assert.That(forward.Nodes.Select(n => n.OpType), Does.Contain("Relu"));
        Assert.That(forward.Outputs, Is.EqualTo(3), "pre-activation, mask, result; not the ReLU output: " + forward);
        Assert.That(forward.BytesWritten, Is.EqualTo(3 * 8 * 6 * 4));
        var f = fused.Run([dx, total], feeds);
        var p = plain.Run([dx, total], feeds);
        AssertSameBits(p[0], f[0], "dx");
        AssertSameBits(p[1], f[1], "total");
        Assert.That(fused.ArenaBytes, Is.EqualTo(plan.PeakBytes), "planned peak == what the arenas hold");
    }

    [Test]
    public void CheckNumericsAndTheReferenceBackendDoNotFuse()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3), "x");
        var y = g.Log(g.Neg(x));
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray(new[] { -1f, 2f, -3f }, 3) };
        using var reference = new Session(g, Device.Reference);
        using var checks = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen, CheckNumerics = true });
        Assert.That(reference.Plan([y], feeds).FusedSteps, Is.Empty, "the oracle never fuses");
        Assert.That(checks.Plan([y], feeds).FusedSteps, Is.Empty, "CheckNumerics names the node of a bad value");
        var e = Assert.Throws<InvalidArgumentException>(() => checks.Run(y, feeds));
        Assert.That(e!.Message, Does.Contain("Log"));
    }

    [Test]
    public void DeferredExecutionRunsFusedStepsAtTheNextWait()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(100), "x");
        var y = g.Relu(x) * 3.0 + 1.0;
        var feeds = new Dictionary<Output, Tensor> { [x] = Sample(DType.Float32, [100], 10) };
        using var deferred = new Session(g, Device.Cpu, new SessionOptions { FusedCodegen = codegen, DeferExecution = true });
        using var plain = new Session(g, Device.Cpu, new SessionOptions { Fusion = false });
        Assert.That(deferred.Plan([y], feeds).FusedSteps, Has.Count.EqualTo(1));
        AssertSameBits(plain.Run(y, feeds), deferred.Run(y, feeds), "y");
    }

    private (Tensor[] Values, PlanInfo Plan) Evaluate(Graph g, List<Output> fetches, Dictionary<Output, Tensor> feeds, bool fusion)
    {
        using var s = new Session(g, Device.Cpu, new SessionOptions { Fusion = fusion, Deterministic = true, FusedCodegen = codegen });
        var plan = s.Plan(fetches.ToArray(), feeds);
        return (s.Run(fetches.ToArray(), feeds), plan);
    }

    /// <summary>Uniform on [−3, 3] with NaN, ±∞, ±0 and 1 planted at fixed positions.</summary>
    private static Tensor Sample(DType dtype, int[] shape, ulong seed, bool specials = true)
    {
        var t = Tensor.RandomUniform(new Shape(shape), -3, 3, seed: seed);
        var v = t.ToDoubleArray();
        if (specials)
        {
            double[] planted = [double.NaN, double.PositiveInfinity, double.NegativeInfinity, 0.0, -0.0, 1.0];
            for (var i = 0; i < v.Length; i += 7) v[i] = planted[i / 7 % planted.Length];
        }
        return dtype == DType.Float64 ? Tensor.FromArray(v, shape) : Tensor.FromArray(v.Select(d => (float)d).ToArray(), shape);
    }

    private static void AssertSameBits(Tensor expected, Tensor actual, string what)
    {
        Assert.That(actual.Shape, Is.EqualTo(expected.Shape), what);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        for (var i = 0; i < e.Length; i++)
        {
            if (double.IsNaN(e[i]) && double.IsNaN(a[i])) continue;
            if (BitConverter.DoubleToInt64Bits(e[i]) != BitConverter.DoubleToInt64Bits(a[i]))
                Assert.Fail($"{what}: element {i} is {a[i]:R} fused, {e[i]:R} unfused");
        }
    }

    private static string Describe(int[] s) => $"[{string.Join(",", s)}]";
}
