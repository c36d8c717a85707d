using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// MatMul: every transpose combination, batched products with broadcast batch dims, size-1 and empty
/// dims (k = 0 gives zeros), CPU float32 vs the float64 reference, gradients and build-time errors.
/// A naive triple loop written here is the oracle for the reference backend itself.
/// </summary>
public class MatMulTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["MatMul"];

    private static IEnumerable<Device> Devices => [Device.Cpu, Device.Reference];

    /// <summary>Stored shape of an operand whose op() is rows×cols, with batch dims in front.</summary>
    private static int[] Stored(int[] batch, int rows, int cols, bool transposed) => [.. batch, transposed ? cols : rows, transposed ? rows : cols];

    private static IEnumerable<TestCaseData> ShapeCases()
    {
        var rows = new (int[] BatchA, int[] BatchB, int M, int K, int N, string Why)[]
        {
            ([], [], 3, 4, 5, "plain"),
            ([], [], 1, 1, 1, "1x1x1"),
            ([], [], 1, 7, 1, "row times column"),
            ([], [], 6, 1, 5, "outer product (k = 1)"),
            ([2, 3], [], 4, 5, 6, "[2,3,4,5] x [5,6]"),
            ([3, 1], [2], 4, 5, 6, "[3,1,4,5] x [2,5,6]"),
            ([], [2], 4, 5, 6, "rank-2 a, batched b"),
            ([2], [2], 3, 2, 4, "equal batches"),
            ([1], [3], 2, 3, 2, "size-1 batch broadcast"),
        };
        foreach (var (ba, bb, m, k, n, why) in rows)
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    yield return new TestCaseData(ba, bb, m, k, n, ta, tb).SetArgDisplayNames(why, ta ? "At" : "A", tb ? "Bt" : "B");
    }

    [TestCaseSource(nameof(ShapeCases))]
    public void MatchesNaiveLoopAndCpuMatchesReference(int[] batchA, int[] batchB, int m, int k, int n, bool ta, bool tb)
    {
        var a = OpHarness.Uniform(Stored(batchA, m, k, ta), seed: 1);
        var b = OpHarness.Uniform(Stored(batchB, k, n, tb), seed: 2);
        Build f = (g, x) => g.MatMul(x[0], x[1], ta, tb);
        var reference = OpHarness.Evaluate(f, [a, b], Device.Reference);
        var (shape, expected) = Naive(a, b, ta, tb);
        Assert.That(reference.Shape, Is.EqualTo(shape));
        OpHarness.AssertClose(expected, reference.ToDoubleArray(), 1e-13, 1e-13, "reference vs naive loop");
        // float64 graphs on the CPU device take the naive double GEMM, batch strides included.
        OpHarness.AssertClose(expected, OpHarness.Evaluate(f, [a, b], Device.Cpu).ToDoubleArray(), 1e-13, 1e-13, "cpu float64 vs naive loop");
        // k ≤ 7 terms of magnitude ≤ 4: float32 rounding ≈ k·ε₃₂·Σ|aᵢbᵢ| ≤ 7·6e-8·28 ≈ 1e-5, input rounding included.
        OpHarness.CpuMatchesReference(f, [a, b], 1e-5, 2e-5);
    }

    [TestCase(false, false)]
    [TestCase(false, true)]
    [TestCase(true, false)]
    [TestCase(true, true)]
    public void LargeProductCpuMatchesReference(bool ta, bool tb)
    {
        const int m = 128, k = 784, n = 100;
        var a = OpHarness.Uniform(Stored([], m, k, ta), 0, 1, seed: 3);
        var b = OpHarness.Uniform(Stored([], k, n, tb), -1, 1, seed: 4);
        // Dot products of k = 784 terms with |aᵢbᵢ| ≤ 1: blocked FMA accumulation errs by ≈ √k·ε₃₂·Σ|aᵢbᵢ| ≈ 28·6e-8·200 ≈ 3e-4
        // at worst in practice, and rounding the inputs to float32 adds ≈ 2ε₃₂·Σ|aᵢbᵢ| ≈ 2e-5. Results are O(10).
        OpHarness.CpuMatchesReference((g, x) => g.MatMul(x[0], x[1], ta, tb), [a, b], 1e-5, 1e-3);
    }

    [Test]
    public void BatchedLargeProductCpuMatchesReference()
    {
        var a = OpHarness.Uniform([3, 1, 40, 300], seed: 5);
        var b = OpHarness.Uniform([2, 300, 70], seed: 6);
        // k = 300, |aᵢbᵢ| ≤ 4: √k·ε₃₂·Σ|aᵢbᵢ| ≈ 17·6e-8·1200 ≈ 1.2e-3.
        OpHarness.CpuMatchesReference((g, x) => g.MatMul(x[0], x[1]), [a, b], 1e-5, 5e-3);
    }

    [TestCaseSource(nameof(Devices))]
    public void KnownProductWithTransposes(Device d)
    {
        // a = [[1,2],[3,4]], b = [[5,6],[7,8]]: ab = [[19,22],[43,50]], aᵀb = [[26,30],[38,44]],
        // abᵀ = [[17,23],[39,53]], aᵀbᵀ = [[23,31],[34,46]].
        var a = Tensor.FromArray([1.0, 2, 3, 4], 2, 2);
        var b = Tensor.FromArray([5.0, 6, 7, 8], 2, 2);
        double[] P(bool ta, bool tb) => OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1], ta, tb), [a, b], d).ToDoubleArray();
        Assert.That(P(false, false), Is.EqualTo(new[] { 19.0, 22, 43, 50 }));
        Assert.That(P(true, false), Is.EqualTo(new[] { 26.0, 30, 38, 44 }));
        Assert.That(P(false, true), Is.EqualTo(new[] { 17.0, 23, 39, 53 }));
        Assert.That(P(true, true), Is.EqualTo(new[] { 23.0, 31, 34, 46 }));
    }

    [TestCaseSource(nameof(Devices))]
    public void EmptyDimensions(Device d)
    {
        Tensor Z(params int[] s) => Tensor.Zeros(new Shape(s), DType.Float64);
        var kZero = OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1]), [Z(3, 0), Z(0, 4)], d);
        Assert.That(kZero.Shape, Is.EqualTo(new Shape(3, 4)));
        // A sum of no terms is 0; the output buffer comes from a pool, so this also proves it is cleared.
        Assert.That(kZero.ToDoubleArray(), Is.All.EqualTo(0.0));
        var kZeroT = OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1], true, true), [Z(2, 0, 3), Z(4, 0)], d);
        Assert.That(kZeroT.Shape, Is.EqualTo(new Shape(2, 3, 4)));
        Assert.That(kZeroT.ToDoubleArray(), Is.All.EqualTo(0.0));
        Assert.That(OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1]), [Z(0, 4), Z(4, 3)], d).Shape, Is.EqualTo(new Shape(0, 3)));
        Assert.That(OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1]), [Z(3, 4), Z(4, 0)], d).Shape, Is.EqualTo(new Shape(3, 0)));
        Assert.That(OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1]), [Z(0, 2, 3), Z(3, 5)], d).Shape, Is.EqualTo(new Shape(0, 2, 5)));
    }

    [TestCaseSource(nameof(Devices))]
    public void NaNAndInfinityReachOnlyTheirRowAndColumn(Device d)
    {
        var a = Tensor.FromArray([1.0, double.NaN, 1, 1, 2, 2], 3, 2);
        var b = Tensor.FromArray([1.0, 2, double.PositiveInfinity, 1, 1, 1], 2, 3);
        // Row 0 of a holds NaN; column 2 of b holds +Inf (1·Inf + 1·1 = Inf).
        var y = OpHarness.Evaluate((g, x) => g.MatMul(x[0], x[1]), [a, b], d).ToDoubleArray();
        Assert.That(y, Is.EqualTo(new[] { double.NaN, double.NaN, double.NaN, 2, 3, double.PositiveInfinity, 4, 6, double.PositiveInfinity }));
    }

    private static IEnumerable<TestCaseData> GradientCases()
    {
        foreach (var ta in new[] { false, true })
            foreach (var tb in new[] { false, true })
            {
                yield return new TestCaseData(Array.Empty<int>(), Array.Empty<int>(), 3, 4, 2, ta, tb);
                yield return new TestCaseData(Array.Empty<int>(), Array.Empty<int>(), 1, 1, 1, ta, tb);
                yield return new TestCaseData(new[] { 3, 1 }, new[] { 2 }, 2, 3, 2, ta, tb);
                yield return new TestCaseData(new[] { 2, 2 }, Array.Empty<int>(), 2, 3, 4, ta, tb);
                yield return new TestCaseData(Array.Empty<int>(), new[] { 2 }, 2, 3, 2, ta, tb);
                yield return new TestCaseData(Array.Empty<int>(), Array.Empty<int>(), 0, 3, 2, ta, tb);
                yield return new TestCaseData(Array.Empty<int>(), Array.Empty<int>(), 2, 0, 3, ta, tb);
            }
    }

    [TestCaseSource(nameof(GradientCases))]
    public void GradientMatchesCentralDifferences(int[] batchA, int[] batchB, int m, int k, int n, bool ta, bool tb)
    {
        // The product is bilinear, so central differences are exact up to rounding (~1e-10 here); 1e-8 catches
        // any transposed or mis-summed gradient, whose error would be O(1).
        var a = OpHarness.Uniform(Stored(batchA, m, k, ta), seed: 7);
        var b = OpHarness.Uniform(Stored(batchB, k, n, tb), seed: 8);
        OpHarness.Gradients((g, x) => g.MatMul(x[0], x[1], ta, tb), [a, b], 1e-8);
    }

    [TestCase(false)]
    [TestCase(true)]
    public void SecondOrderThroughNonlinearity(bool batched)
    {
        // tanh(ab) makes the Hessian non-trivial; the second gradient runs MatMul gradients of MatMul gradients.
        var a = OpHarness.Uniform(batched ? [2, 3, 4] : [3, 4], seed: 9);
        var b = OpHarness.Uniform([4, 2], seed: 10);
        OpHarness.SecondOrder((g, x) => g.Tanh(g.MatMul(x[0], x[1])), [a, b], 1e-6);
        OpHarness.SecondOrder((g, x) => g.MatMul(x[0], x[0], transposeB: true), [OpHarness.Uniform([3, 4], seed: 11)], 1e-7);
    }

    [Test]
    public void InnerDimensionMismatchNamesNodeAndBothShapes()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 784), "x");
        var w = g.Placeholder(DType.Float32, new Shape(128, 10), "w");
        using (g.NameScope("dense"))
            Assert.That(() => g.MatMul(x, w, name: "matmul"),
                Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 'dense/matmul': inner dimensions differ: [?,784] x [128,10]"));
        // Transposed operands are marked, so the mismatch reads as the user wrote it.
        Assert.That(() => g.MatMul(x, w, transposeB: true, name: "t"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 't': inner dimensions differ: [?,784] x [128,10]ᵀ"));
        // An unknown inner dimension is accepted at build time and checked when the plan resolves the feed.
        var u = g.Placeholder(DType.Float32, new Shape(2, -1), "u");
        var y = g.MatMul(u, g.Constant(Tensor.Ones(new Shape(128, 10))), name: "late");
        using var s = new Session(g);
        Assert.That(() => s.Run(y, new Dictionary<Output, Tensor> { [u] = Tensor.Zeros(new Shape(2, 3)) }),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 'late': inner dimensions differ: [2,3] x [128,10]"));
        Assert.That(s.Run(y, new Dictionary<Output, Tensor> { [u] = Tensor.Ones(new Shape(2, 128)) }).ToArray<float>(), Is.All.EqualTo(128f));
    }

    [Test]
    public void RankDTypeAndBatchErrors()
    {
        var g = new Graph();
        var v = g.Placeholder(DType.Float32, new Shape(3), "v");
        var m = g.Placeholder(DType.Float32, new Shape(3, 4), "m");
        Assert.That(() => g.MatMul(v, m, name: "r1"), Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 'r1': both operands need rank ≥ 2: [3] x [3,4]"));
        var i = g.Placeholder(DType.Int32, new Shape(2, 3), "i");
        var j = g.Placeholder(DType.Int32, new Shape(3, 2), "j");
        Assert.That(() => g.MatMul(i, j, name: "ints"), Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 'ints': input 0 must be float32 or float64, got int32 [2,3]"));
        var d = g.Placeholder(DType.Float64, new Shape(4, 2), "d");
        Assert.That(() => g.MatMul(m, d, name: "mixed"), Throws.TypeOf<ShapeException>().With.Message.EqualTo("MatMul 'mixed': dtypes differ: float32 [3,4] vs float64 [4,2]"));
        var b1 = g.Placeholder(DType.Float32, new Shape(2, 3, 4), "b1");
        var b2 = g.Placeholder(DType.Float32, new Shape(3, 4, 5), "b2");
        Assert.That(() => g.MatMul(b1, b2, name: "batch"), Throws.TypeOf<ShapeException>().With.Message.StartsWith("MatMul 'batch': shapes cannot be broadcast: [2] vs [3]"));
    }

    /// <summary>C[b] = op(A[b])·op(B[b]) by the definition, batch dims broadcast as NumPy's matmul.</summary>
    private static (Shape, double[]) Naive(Tensor a, Tensor b, bool ta, bool tb)
    {
        int[] sa = a.Shape.ToArray(), sb = b.Shape.ToArray();
        int m = ta ? sa[^1] : sa[^2], k = ta ? sa[^2] : sa[^1], n = tb ? sb[^2] : sb[^1];
        int[] batchA = sa[..^2], batchB = sb[..^2];
        var rank = Math.Max(batchA.Length, batchB.Length);
        int Dim(int[] s, int i) => i < rank - s.Length ? 1 : s[i - (rank - s.Length)];
        var batch = Enumerable.Range(0, rank).Select(i => Math.Max(Dim(batchA, i), Dim(batchB, i))).ToArray();
        var count = batch.Aggregate(1, (x, y) => x * y);
        double[] av = a.ToDoubleArray(), bv = b.ToDoubleArray();
        var c = new double[count * m * n];
        for (var flat = 0; flat < count; flat++)
        {
            // Offsets of the matrices this batch index reads, with size-1 dims pinned to 0.
            int oa = 0, ob = 0, rest = flat;
            var idx = new int[rank];
            for (var i = rank - 1; i >= 0; i--) { idx[i] = rest % batch[i]; rest /= batch[i]; }
            for (var i = 0; i < rank; i++)
            {
                oa = oa * Dim(batchA, i) + (Dim(batchA, i) == 1 ? 0 : idx[i]);
                ob = ob * Dim(batchB, i) + (Dim(batchB, i) == 1 ? 0 : idx[i]);
            }
            oa *= m * k;
            ob *= k * n;
            for (var r = 0; r < m; r++)
                for (var col = 0; col < n; col++)
                {
                    double s = 0;
                    for (var t = 0; t < k; t++)
                        s += av[oa + (ta ? t * m + r : r * k + t)] * bv[ob + (tb ? col * k + t : t * n + col)];
                    c[(flat * m + r) * n + col] = s;
                }
        }
        return (new Shape([.. batch, m, n]), c);
    }
}
