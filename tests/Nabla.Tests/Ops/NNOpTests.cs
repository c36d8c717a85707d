using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Softmax, log-softmax and the cross-entropies: CPU float32 against the float64 reference over a
/// table of logits (ranks 1–3, one class, empty batch, empty class axis, a large parallel batch,
/// ±1000, −∞, +∞/NaN rows), known values, and the identities that tie the ops together.
/// Gradients and errors are in the other half of this partial class.
/// </summary>
public partial class NNOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Softmax", "LogSoftmax", "SoftmaxCrossEntropyWithLogits", "SparseSoftmaxCrossEntropyWithLogits"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    private const double Inf = double.PositiveInfinity, NegInf = double.NegativeInfinity;

    /// <summary>A row of the forward table: logits, dense labels of the same shape, sparse labels (null where no class id is valid).</summary>
    public sealed record Case(string Name, Tensor Logits, Tensor Dense, Tensor? Sparse, double Rtol, double Atol);

    private static Case RandomCase(string name, int[] shape, double lo = -2, double hi = 2, ulong seed = 1) =>
        // float32 rounds each logit by ≤ 2⁻²⁴|x|; softmax passes that on at ≈ |x|·ε₃₂ relative, log-softmax and the loss
        // at ≈ lse·ε₃₂ absolute, and float32 sums of ≤ 1000 exponentials add ≲ 1e-6 relative: rtol 1e-5, atol 1e-5.
        new(name, OpHarness.Uniform(shape, lo, hi, seed), ProbabilityLabels(shape, seed + 50), shape[^1] == 0 ? null : ClassIds(shape, seed), 1e-5, 1e-5);

    public static readonly Case[] Cases =
    [
        RandomCase("rank1", [7]),
        RandomCase("odd2d", [3, 5]),
        RandomCase("rank3", [2, 3, 4]),
        RandomCase("oneClass", [4, 1]),
        RandomCase("emptyBatch", [0, 5]),
        RandomCase("emptyClasses", [3, 0]),
        // 64·1000 elements crosses the CPU kernel's parallel threshold; the wider range makes rows peaked.
        RandomCase("largeBatch", [64, 1000], -8, 8, seed: 3),
        // Integer logits are exact in float32; x − m is exact and lse carries ≤ ½ulp(1000) ≈ 3e-5 of rounding.
        new("pm1000", Tensor.FromArray([1000.0, -1000, 999, 0, -1000, -999, -1000, -998], 2, 4),
            Tensor.FromArray([0.5, 0, 0.5, 0, 0.25, 0.25, 0.25, 0.25], 2, 4), Tensor.FromArray([2L, 3], 2), 1e-6, 1e-4),
        // −∞ logits have probability 0; with label weight 0 they add nothing to the loss.
        new("negInf", Tensor.FromArray([NegInf, 0, 1, 2, NegInf, NegInf, 3, -1], 2, 4),
            Tensor.FromArray([0, 0.2, 0.3, 0.5, 0, 0, 1, 0], 2, 4), Tensor.FromArray([3, 2], 2), 1e-5, 1e-5),
        // Weight on a −∞ logit: infinite loss (not NaN).
        new("infLoss", Tensor.FromArray([NegInf, 0, 1], 1, 3), Tensor.FromArray([0.5, 0.5, 0], 1, 3), Tensor.FromArray([0], 1), 1e-5, 1e-5),
        // Short rows (≤ 32) take the CPU kernel's chunked path, long rows its per-row path; ±500 logits make the rows peaked.
        LargeCase("oneColumnLarge", [9, 1]),
        LargeCase("tenClassesLarge", [512, 10]),
        // 5000·10 elements: parallel row ranges, each several chunks of short rows.
        LargeCase("tenClassesParallel", [5000, 10], seed: 5),
        LargeCase("seventeenLarge", [37, 17]),
        LargeCase("longRowsLarge", [3, 1000]),
        // Short rows with every rare case among ordinary rows of the same chunk: NaN, +∞, all −∞, −∞ entries.
        new("nonFiniteShortRows", NonFiniteRows(10), Tensor.Fill(new Shape(8, 10), 0.1, DType.Float64), Tensor.FromArray([1L, 2, 3, 4, 5, 6, 7, 8], 8), 1e-5, 1e-5),
        // 40 rows: two transposed blocks of 16 and 8 rows one by one (the float32 AVX-512 kernels), each with every rare case.
        new("nonFiniteShortRowsBlocks", NonFiniteRows(10, 40), Tensor.Fill(new Shape(40, 10), 0.1, DType.Float64),
            Tensor.FromArray(Enumerable.Range(0, 40).Select(i => (long)(i % 8 + 1)).ToArray(), 40), 1e-5, 1e-5),
        // NaN row, +∞ row, all −∞ row, +∞ with −∞: NaN/±∞ positions must agree exactly between devices.
        new("nonFinite", Tensor.FromArray([double.NaN, 0, 1, 2, Inf, 0, 1, 2, NegInf, NegInf, NegInf, NegInf, NegInf, 0, 0, Inf], 4, 4),
            Tensor.Fill(new Shape(4, 4), 0.25, DType.Float64), Tensor.FromArray([1L, 1, 1, 1], 4), 1e-5, 1e-5),
    ];

    /// <summary>
    /// Logits on [−500, 500] rounded to multiples of 1/64, exact in float32 (so both devices see the same input),
    /// as are x − m. What is left is lse's float32 rounding, ≤ ½ulp(500) ≈ 3e-5, in log-softmax and the loss: atol 1e-4;
    /// the dense loss sums up to 1000 terms of magnitude ≤ 1000 in float32: rtol 1e-5.
    /// </summary>
    private static Case LargeCase(string name, int[] shape, ulong seed = 4)
    {
        var v = OpHarness.Uniform(shape, -500, 500, seed).ToDoubleArray().Select(x => Math.Round(x * 64) / 64).ToArray();
        return new(name, Tensor.FromArray(v, shape), ProbabilityLabels(shape, seed + 50), ClassIds(shape, seed), 1e-5, 1e-4);
    }

    /// <summary>
    /// <paramref name="rows"/> (a multiple of 8) rows of <paramref name="cols"/>, every eight of them finite, NaN, finite, +∞,
    /// all −∞, −∞ entries, +∞ and −∞, finite.
    /// </summary>
    private static Tensor NonFiniteRows(int cols, int rows = 8)
    {
        var v = OpHarness.Uniform([rows, cols], -3, 3, 9).ToDoubleArray();
        for (var r = 0; r < rows; r += 8)
        {
            v[(r + 1) * cols + 5] = double.NaN;
            v[(r + 3) * cols + cols - 1] = Inf;
            for (var j = 0; j < cols; j++) v[(r + 4) * cols + j] = NegInf;
            v[(r + 5) * cols] = NegInf;
            v[(r + 5) * cols + 3] = NegInf;
            v[(r + 6) * cols + 2] = Inf;
            v[(r + 6) * cols + 4] = NegInf;
        }
        return Tensor.FromArray(v, rows, cols);
    }

    /// <summary>Positive rows normalised to sum 1 (as labels usually are), float64.</summary>
    private static Tensor ProbabilityLabels(int[] shape, ulong seed)
    {
        var v = OpHarness.Uniform(shape, 0.1, 1, seed).ToDoubleArray();
        var cols = shape[^1];
        for (var r = 0; cols > 0 && r < v.Length / cols; r++)
        {
            var s = 0.0;
            for (var j = 0; j < cols; j++) s += v[r * cols + j];
            for (var j = 0; j < cols; j++) v[r * cols + j] /= s;
        }
        return Tensor.FromArray(v, shape);
    }

    /// <summary>Valid int32 class ids of shape logits.shape[:-1].</summary>
    private static Tensor ClassIds(int[] logitsShape, ulong seed)
    {
        var lead = logitsShape[..^1];
        var n = new Shape(lead).Size;
        var ids = Enumerable.Range(0, n).Select(i => (int)((i * 7 + (int)seed) % logitsShape[^1])).ToArray();
        return new Tensor(ids, new Shape(lead), DType.Int32);
    }

    private static IEnumerable<TestCaseData> CaseNames(bool needsSparse) =>
        Cases.Where(c => !needsSparse || c.Sparse is not null).Select(c => new TestCaseData(c.Name).SetArgDisplayNames(c.Name));

    private static IEnumerable<TestCaseData> AllCases() => CaseNames(false);

    private static IEnumerable<TestCaseData> SparseCases() => CaseNames(true);

    private static Case Get(string name) => Cases.Single(c => c.Name == name);

    [TestCaseSource(nameof(AllCases))]
    public void SoftmaxAndLogSoftmaxCpuMatchReference(string name)
    {
        var c = Get(name);
        OpHarness.CpuMatchesReference((g, x) => g.Softmax(x[0]), [c.Logits], c.Rtol, c.Atol);
        OpHarness.CpuMatchesReference((g, x) => g.LogSoftmax(x[0]), [c.Logits], c.Rtol, c.Atol);
    }

    [TestCaseSource(nameof(AllCases))]
    public void DenseCrossEntropyCpuMatchesReference(string name)
    {
        var c = Get(name);
        OpHarness.CpuMatchesReference((g, x) => g.SoftmaxCrossEntropyWithLogits(x[1], x[0]), [c.Logits, c.Dense], c.Rtol, c.Atol);
        // The gradients read the kernel's fused backprop output (softmax − labels), which the loss alone does not compute.
        OpHarness.CpuMatchesReference((g, x) => g.Gradients(g.SoftmaxCrossEntropyWithLogits(x[1], x[0]), x[0])[0], [c.Logits, c.Dense], c.Rtol, c.Atol);
        OpHarness.CpuMatchesReference((g, x) => g.Gradients(g.SoftmaxCrossEntropyWithLogits(x[1], x[0]), x[1])[0], [c.Logits, c.Dense], c.Rtol, c.Atol);
    }

    [TestCaseSource(nameof(SparseCases))]
    public void SparseCrossEntropyCpuMatchesReference(string name)
    {
        var c = Get(name);
        var ids64 = new Tensor(c.Sparse!.ToDoubleArray().Select(v => (long)v).ToArray(), c.Sparse.Shape, DType.Int64);
        foreach (var ids in new[] { c.Sparse, ids64 })
        {
            OpHarness.CpuMatchesReference((g, x) => g.SparseSoftmaxCrossEntropyWithLogits(x[1], x[0]), [c.Logits, ids], c.Rtol, c.Atol);
            OpHarness.CpuMatchesReference((g, x) => g.Gradients(g.SparseSoftmaxCrossEntropyWithLogits(x[1], x[0]), x[0])[0], [c.Logits, ids], c.Rtol, c.Atol);
        }
    }

    [TestCaseSource(nameof(Devices))]
    public void KnownValues(Device d)
    {
        var x = Tensor.FromArray([1.0, 2, 3], 3);
        var z = Math.Log(Math.Exp(1) + Math.Exp(2) + Math.Exp(3));
        double[] expected = [Math.Exp(1 - z), Math.Exp(2 - z), Math.Exp(3 - z)];
        var rtol = d == Device.Cpu ? 1e-6 : 1e-14;
        OpHarness.AssertClose(expected, OpHarness.Evaluate((g, xs) => g.Softmax(xs[0]), [x], d).ToDoubleArray(), rtol, 0, "softmax");
        OpHarness.AssertClose([1 - z, 2 - z, 3 - z], OpHarness.Evaluate((g, xs) => g.LogSoftmax(xs[0]), [x], d).ToDoubleArray(), rtol, 0, "log-softmax");
        var loss = OpHarness.Evaluate((g, xs) => g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(Tensor.Scalar(0)), xs[0]), [x], d);
        Assert.That(loss.Shape, Is.EqualTo(Shape.Scalar), "rank-1 logits give a scalar loss");
        OpHarness.AssertClose([z - 1], loss.ToDoubleArray(), rtol, 0, "sparse CE");
        // Known TensorFlow value: softmax_cross_entropy_with_logits([[0.1,0.9]], [[2,1]]) = 1.2132617.
        var dense = OpHarness.Evaluate((g, xs) => g.SoftmaxCrossEntropyWithLogits(xs[0], xs[1]),
            [Tensor.FromArray([0.1, 0.9], 1, 2), Tensor.FromArray([2.0, 1], 1, 2)], d);
        Assert.That(dense.Shape, Is.EqualTo(new Shape(1)));
        OpHarness.AssertClose([0.1 * Math.Log(1 + Math.Exp(-1)) + 0.9 * Math.Log(1 + Math.Exp(1))], dense.ToDoubleArray(), rtol, 0, "dense CE");
        Assert.That(dense.ToDoubleArray()[0], Is.EqualTo(1.2132617).Within(1e-6));
    }

    [TestCaseSource(nameof(Devices))]
    public void HugeLogitsGiveFiniteDistributionsThatSumToOne(Device d)
    {
        var x = Tensor.FromArray([1000.0, -1000, 999, 1000, 0, -1000], 2, 3);
        var p = OpHarness.Evaluate((g, xs) => g.Softmax(xs[0]), [x], d).ToDoubleArray();
        Assert.That(p, Is.All.Not.NaN);
        Assert.That(p[0] + p[1] + p[2], Is.EqualTo(1).Within(1e-6));
        Assert.That(p[3], Is.EqualTo(1).Within(1e-6));
        Assert.That(p[1], Is.EqualTo(0), "e^-2000 underflows to exactly 0");
        var logp = OpHarness.Evaluate((g, xs) => g.LogSoftmax(xs[0]), [x], d).ToDoubleArray();
        // log-softmax keeps what softmax loses to underflow: −2000 − log(1 + e⁻¹), not −∞.
        Assert.That(logp[1], Is.EqualTo(-2000 - Math.Log(1 + Math.Exp(-1))).Within(1e-3));
        Assert.That(logp[5], Is.EqualTo(-2000).Within(1e-3));
    }

    [TestCaseSource(nameof(Devices))]
    public void CrossEntropiesAgreeWithTheirDefinitions(Device d)
    {
        var logits = OpHarness.Uniform([2, 3, 5], seed: 4);
        var labels = ProbabilityLabels([2, 3, 5], 5);
        var ids = ClassIds([2, 3, 5], 2);
        var tol = d == Device.Cpu ? 1e-5 : 1e-12;
        // Dense: −Σ z·log_softmax(x).
        Build fused = (g, x) => g.SoftmaxCrossEntropyWithLogits(x[1], x[0]);
        Build composite = (g, x) => g.Neg(g.ReduceSum(x[1] * g.LogSoftmax(x[0]), -1));
        OpHarness.AssertClose(OpHarness.Evaluate(composite, [logits, labels], d).ToDoubleArray(),
            OpHarness.Evaluate(fused, [logits, labels], d).ToDoubleArray(), tol, tol, "fused vs composite");
        // Sparse: the dense loss of one-hot labels.
        var oneHot = new double[30];
        var idv = ids.ToArray<int>();
        for (var r = 0; r < 6; r++) oneHot[r * 5 + idv[r]] = 1;
        var sparse = OpHarness.Evaluate((g, x) => g.SparseSoftmaxCrossEntropyWithLogits(g.Constant(ids), x[0]), [logits], d);
        Assert.That(sparse.Shape, Is.EqualTo(new Shape(2, 3)));
        OpHarness.AssertClose(OpHarness.Evaluate(fused, [logits, Tensor.FromArray(oneHot, 2, 3, 5)], d).ToDoubleArray(),
            sparse.ToDoubleArray(), tol, tol, "sparse vs one-hot dense");
    }

    [Test]
    public void UnknownBatchDimsResolveAtRunTime()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 4), "x");
        var z = g.Placeholder(DType.Float32, new Shape(3, -1), "z");
        var ids = g.Placeholder(DType.Int64, new Shape(-1), "ids");
        Assert.That(g.Softmax(x).Shape, Is.EqualTo(new Shape(-1, 4)));
        var dense = g.SoftmaxCrossEntropyWithLogits(z, x);
        Assert.That(dense.Shape, Is.EqualTo(new Shape(3)), "known dims of labels and logits merge");
        Assert.That(dense.Op[1].Shape, Is.EqualTo(new Shape(3, 4)));
        var sparse = g.SparseSoftmaxCrossEntropyWithLogits(ids, x);
        Assert.That(sparse.Shape, Is.EqualTo(new Shape(-1)));
        using var s = new Session(g);
        var r = s.Run([sparse, g.Gradients(sparse, x)[0]], new Dictionary<Output, Tensor>
        {
            [x] = Tensor.Zeros(new Shape(2, 4)),
            [ids] = Tensor.FromArray([3L, 0], 2),
        });
        Assert.That(r[0].ToArray<float>(), Is.EqualTo(new[] { MathF.Log(4), MathF.Log(4) }).Within(1e-6));
        Assert.That(r[1].ToArray<float>(), Is.EqualTo(new[] { 0.25f, 0.25f, 0.25f, -0.75f, -0.75f, 0.25f, 0.25f, 0.25f }).Within(1e-6));
    }

    [TestCaseSource(nameof(Devices))]
    public void SigmoidCrossEntropyMatchesTheLogisticLoss(Device d)
    {
        double[] xs = [-1000, -30, -2, -0.5, 0, 0.5, 2, 30, 1000];
        double[] zs = [1, 0.3, 0, 1, 0.5, 0, 0.7, 1, 0];
        var y = OpHarness.Evaluate((g, x) => g.SigmoidCrossEntropyWithLogits(x[1], x[0]),
            [Tensor.FromArray(xs, 9), Tensor.FromArray(zs, 9)], d).ToDoubleArray();
        // −z·log σ(x) − (1 − z)·log σ(−x), with log σ(t) = −log1p(e⁻ᵗ) written so neither side overflows.
        static double LogSigmoid(double t) => t >= 0 ? -Math.Log(1 + Math.Exp(-t)) : t - Math.Log(1 + Math.Exp(t));
        var expected = xs.Select((x, i) => -zs[i] * LogSigmoid(x) - (1 - zs[i]) * LogSigmoid(-x)).ToArray();
        OpHarness.AssertClose(expected, y, d == Device.Cpu ? 1e-6 : 1e-12, 1e-6, "logistic loss");
        Assert.That(y[0], Is.EqualTo(1000).Within(1e-3), "x = −1000, z = 1: finite, no overflow");
        Assert.That(y[8], Is.EqualTo(1000).Within(1e-3));
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.CpuMatchesReference((g, x) => g.SigmoidCrossEntropyWithLogits(x[1], x[0]),
                [OpHarness.Uniform(shape, -5, 5), OpHarness.Uniform(shape, 0, 1, seed: 9)], 1e-5, 1e-6);
    }
}
