using System.Runtime.Intrinsics;
using System.Text;
using Nabla.Kernels.Cpu;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// float32 <see cref="Gemm"/> against a float64 triple loop, over shapes that exercise every code path:
/// sub-tile sizes, ragged MR/NR edges, several KC/MC/NC blocks, all transpose flags, both SIMD kernels,
/// the threaded split and the empty/NaN/Inf corner cases.
/// </summary>
[TestFixture]
public class GemmTests
{
    private static readonly (int M, int N, int K)[] Shapes =
    [
        (1, 1, 1), (1, 1, 7), (2, 3, 1), (7, 13, 5), (12, 32, 16), (11, 31, 9), (13, 33, 257),
        (33, 65, 17), (64, 64, 64), (128, 128, 784), (100, 1, 50), (1, 100, 50), (300, 257, 513),
    ];

    private static IEnumerable<TestCaseData> Cases()
    {
        foreach (var (m, n, k) in Shapes)
            foreach (var ta in new[] { false, true })
                foreach (var tb in new[] { false, true })
                    yield return new TestCaseData(m, n, k, ta, tb).SetArgDisplayNames($"{m}x{n}x{k}", ta ? "At" : "A", tb ? "Bt" : "B");
    }

    private static IEnumerable<TestCaseData> KernelCases()
    {
        foreach (var kernel in new[] { nameof(Gemm.Kernel.Vector512), nameof(Gemm.Kernel.Vector512Packed), nameof(Gemm.Kernel.Vector256) })
            foreach (var threads in new[] { 1, 2, 3 })
                foreach (var (m, n, k) in new[] { (7, 13, 5), (37, 70, 300), (300, 257, 513), (41, 900, 33) })
                    foreach (var ta in new[] { false, true })
                        foreach (var tb in new[] { false, true })
                            yield return new TestCaseData(kernel, threads, m, n, k, ta, tb);
    }

    /// <summary>
    /// Shapes that go to <see cref="GemmSkinny"/> (M ≤ 4 with B not transposed, or N ≤ 16) through the automatic kernel choice:
    /// 4-vector column blocks and masked tails, pairs of rows and an odd last row, 8/4/1-row blocks of a narrow C, a
    /// transposed B gathered for the narrow kernel, and the threaded splits by columns and by rows.
    /// </summary>
    private static IEnumerable<TestCaseData> SkinnyCases()
    {
        foreach (var threads in new[] { 1, 2, 3 })
            foreach (var (m, n, k) in new[] { (1, 128, 784), (1, 130, 33), (2, 64, 5), (3, 200, 65), (4, 17, 2), (1, 4096, 40), (512, 10, 128), (19, 16, 300), (13, 1, 3), (8, 7, 1), (5, 3, 1000) })
                foreach (var ta in new[] { false, true })
                    foreach (var tb in new[] { false, true })
                        yield return new TestCaseData(threads, m, n, k, ta, tb).SetArgDisplayNames($"{threads}t", $"{m}x{n}x{k}", ta ? "At" : "A", tb ? "Bt" : "B");
    }

    /// <summary>
    /// A B packed once (<c>PackWholeB</c>, as the recurrent kernels do for R) and reused gives the bits of the ordinary
    /// call that packs it itself: several K blocks (k &gt; 256), ragged MR/NR edges, transposed B, a row stride wider than
    /// the product, and rows whose L1 sets collide (packed A).
    /// </summary>
    [TestCase(32, 400, 100, false, 400)]
    [TestCase(13, 33, 257, true, 257)]
    [TestCase(50, 100, 600, false, 640)]
    [TestCase(7, 16, 33, true, 40)]
    [TestCase(25, 64, 256, false, 1024)]
    public unsafe void PrepackedBMatchesPackingEachCall(int m, int n, int k, bool transB, int lda)
    {
        if (!Vector512.IsHardwareAccelerated) Assert.Ignore("the packed path is the AVX-512 kernel's");
        var rng = new Random(m + n + k);
        var a = Enumerable.Range(0, m * lda).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var ldb = transB ? k + 3 : n + 5;
        var b = Enumerable.Range(0, (transB ? n : k) * ldb).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var expected = new float[m * n];
        var actual = new float[m * n];
        var packed = new float[GemmDriver<GemmKernel512>.PackedBFloats(n, k)];
        fixed (float* pa = a, pb = b, pe = expected, pc = actual, pp = packed)
        {
            GemmDriver<GemmKernel512>.Run(false, transB, m, n, k, pa, lda, pb, ldb, pe, n);
            var start = GemmDriver<GemmKernel512>.PackWholeB(transB, n, k, pb, ldb, pp);
            // Twice, as a recurrence reuses it; the second run must not depend on the first.
            GemmDriver<GemmKernel512>.RunPackedB(m, n, k, pa, lda, start, pc, n);
            Array.Fill(actual, float.NaN);
            GemmDriver<GemmKernel512>.RunPackedB(m, n, k, pa, lda, start, pc, n);
        }
        Assert.That(actual, Is.EqualTo(expected), "bit for bit");
    }

    [TestCaseSource(nameof(SkinnyCases))]
    public void SkinnyShapesMatchReference(int threads, int m, int n, int k, bool transA, bool transB)
        => Check(Gemm.Kernel.Auto, threads, m, n, k, transA, transB);

    [TestCase(3, 100, 37, false)]
    [TestCase(40, 9, 21, true)]
    [TestCase(2, 70, 5, true)]
    [TestCase(20, 6, 33, false)]
    [TestCase(11, 8, 7, true)]
    public void StridedProductAccumulatesAndStaysInsideItsColumns(int m, int n, int k, bool transA)
    {
        // C is a window of n columns inside rows of ldc = n + 5; the product is added to what is there, and the 5 columns
        // past each row (and everything past the last row) must be untouched, also by the masked tail stores.
        var ldc = n + 5;
        var a = Fill(m * k, 7);
        var b = Fill(k * n, 8);
        var c = Fill(m * ldc + 20, 9);
        var before = (float[])c.Clone();
        unsafe
        {
            fixed (float* pa = a, pb = b, pc = c)
                Gemm.MultiplyStrided(transA, false, m, n, k, pa, transA ? m : k, pb, n, pc, ldc, accumulate: true);
        }
        for (var i = 0; i < m; i++)
            for (var j = 0; j < ldc; j++)
            {
                var at = i * ldc + j;
                if (j >= n)
                {
                    Assert.That(c[at], Is.EqualTo(before[at]), $"C[{i},{j}] is outside the product");
                    continue;
                }
                double sum = before[at];
                for (var p = 0; p < k; p++) sum += (double)(transA ? a[p * m + i] : a[i * k + p]) * b[p * n + j];
                Assert.That(c[at], Is.EqualTo(sum).Within(1e-4 * (1 + Math.Abs(sum))), $"C[{i},{j}]");
            }
        Assert.That(c.Skip(m * ldc), Is.EqualTo(before.Skip(m * ldc)), "past the last row");
    }

    [TestCaseSource(nameof(Cases))]
    public void MatchesFloat64Reference(int m, int n, int k, bool transA, bool transB)
        => Check(null, 0, m, n, k, transA, transB);

    [TestCaseSource(nameof(KernelCases))]
    public void EachKernelAndThreadCountMatchesReference(string kernelName, int threads, int m, int n, int k, bool transA, bool transB)
    {
        var kernel = Enum.Parse<Gemm.Kernel>(kernelName);
        // The kernels run on any x86-64 through software Vector512/256, but Vector512 emulation is slow.
        if (kernel is Gemm.Kernel.Vector512 or Gemm.Kernel.Vector512Packed && !Vector512.IsHardwareAccelerated) Assert.Ignore("no AVX-512: Vector512 is not hardware-accelerated on this CPU");
        if (kernel == Gemm.Kernel.Vector256 && !Vector256.IsHardwareAccelerated) Assert.Ignore("no AVX2: Vector256 is not hardware-accelerated on this CPU");
        Check(kernel, threads, m, n, k, transA, transB);
    }

    [TestCase(784, true)]
    [TestCase(300, true)]
    [TestCase(200, true)]
    [TestCase(128, false)]
    [TestCase(257, false)]
    [TestCase(1024, false)]
    [TestCase(512, false)]
    [TestCase(2048, false)]
    public void RowsThatShareL1SetsArePackedNotReadInPlace(int lda, bool inPlace)
        => Assert.That(GemmDriver<GemmKernel512>.RowsSpreadOverL1Sets(lda, 12), Is.EqualTo(inPlace));

    /// <summary>
    /// The 12×32 kernel reads a row-major A in place (all but the ragged last rows) or from packed panels: the same FMAs in
    /// the same order, so the same bits, across ragged rows and columns, several K blocks (k &gt; 256), several M blocks
    /// (m &gt; 384), accumulation over K blocks, and both layouts of B.
    /// </summary>
    [TestCase(12, 32, 1, false)]
    [TestCase(13, 33, 257, false)]
    [TestCase(37, 70, 300, true)]
    [TestCase(400, 64, 600, false)]
    [TestCase(128, 128, 784, false)]
    [TestCase(25, 100, 5, true)]
    [TestCase(30, 40, 1024, false)]
    public void InPlaceAGivesTheBitsOfPackedA(int m, int n, int k, bool transB)
    {
        if (!Vector512.IsHardwareAccelerated) Assert.Ignore("no AVX-512: Vector512 is not hardware-accelerated on this CPU");
        var random = new Random(m * 1000 + n * 10 + k);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var inPlace = new float[m * n];
        var packed = new float[m * n];
        Gemm.Multiply(Gemm.Kernel.Vector512, 1, false, transB, m, n, k, a, b, inPlace);
        Gemm.Multiply(Gemm.Kernel.Vector512Packed, 1, false, transB, m, n, k, a, b, packed);
        Assert.That(inPlace.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(packed.Select(BitConverter.SingleToInt32Bits)));
        Assert.That(inPlace.Any(v => v != 0), Is.True, "the product is not all zeros");
    }

    [Test]
    public void LargeProductUsesThreadsAndMatches()
        => Check(null, 0, 520, 1030, 300, false, false);

    [TestCase(0, 5, 3)]
    [TestCase(4, 0, 3)]
    [TestCase(4, 5, 0)]
    [TestCase(0, 0, 0)]
    public void EmptyDimensionsZeroFillC(int m, int n, int k)
    {
        foreach (var (ta, tb) in new[] { (false, false), (true, false), (false, true), (true, true) })
        {
            var c = Enumerable.Repeat(float.NaN, m * n + 3).ToArray();
            Gemm.Multiply(ta, tb, m, n, k, new float[m * k], new float[k * n], c);
            Assert.That(c.Take(m * n), Is.All.EqualTo(0f), "C must be zero-filled where it has elements");
            Assert.That(c.Skip(m * n), Is.All.NaN, "elements past M·N must not be touched");
        }
    }

    [Test]
    public void StaleNaNInOutputDoesNotLeak()
    {
        const int m = 30, n = 40, k = 20;
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray();
        Gemm.Multiply(false, false, m, n, k, Fill(m * k, 1), Fill(k * n, 2), c);
        Assert.That(c, Has.None.NaN);
    }

    [TestCase(false, false)]
    [TestCase(true, false)]
    [TestCase(false, true)]
    [TestCase(true, true)]
    public void NaNAndInfPropagate(bool transA, bool transB)
    {
        // Shapes with a ragged edge and two K blocks; zeros elsewhere so that 0·Inf = NaN must appear
        // (a kernel that skipped zero A entries would produce 0 instead).
        const int m = 25, n = 70, k = 600;
        var a = new float[m * k];
        var b = Fill(k * n, 3);
        for (var p = 0; p < k; p++) SetA(a, transA, m, k, 3, p, float.NaN); // row 3 all NaN
        SetA(a, transA, m, k, 24, 599, float.PositiveInfinity);             // row 24: +Inf·B[599,j]
        var b599 = new float[n];
        for (var j = 0; j < n; j++) b599[j] = transB ? b[j * k + 599] : b[599 * n + j];
        var c = new float[m * n];
        Gemm.Multiply(transA, transB, m, n, k, a, b, c);
        for (var j = 0; j < n; j++)
        {
            Assert.That(c[3 * n + j], Is.NaN, $"C[3,{j}]");
            var expected = b599[j] > 0 ? float.PositiveInfinity : b599[j] < 0 ? float.NegativeInfinity : float.NaN;
            Assert.That(c[24 * n + j], Is.EqualTo(expected), $"C[24,{j}]");
        }

        // Zero A times Inf in B → NaN in every row (the zero is multiplied, not skipped).
        var a2 = new float[m * k];
        var b2 = new float[k * n];
        b2[transB ? 5 * k + 7 : 7 * n + 5] = float.PositiveInfinity; // B[7, 5]
        var c2 = new float[m * n];
        Gemm.Multiply(transA, transB, m, n, k, a2, b2, c2);
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
                Assert.That(float.IsNaN(c2[i * n + j]), Is.EqualTo(j == 5), $"C2[{i},{j}] = {c2[i * n + j]}");
    }

    [Test]
    public void RejectsTooShortBuffers()
    {
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, new float[3], new float[4], new float[4]));
        Assert.Throws<ArgumentException>(() => Gemm.Multiply(false, false, 2, 2, 2, new float[4], new float[4], new float[3]));
    }

    private static void SetA(float[] a, bool transA, int m, int k, int i, int p, float value)
        => a[transA ? p * m + i : i * k + p] = value;

    private static float[] Fill(int count, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (var i = 0; i < x.Length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }

    /// <summary>Checks one product; a null kernel goes through the public entry point (size-based threading).</summary>
    private static void Check(Gemm.Kernel? kernel, int threads, int m, int n, int k, bool transA, bool transB)
    {
        var a = Fill(m * k, m * 31 + k);
        var b = Fill(k * n, n * 17 + k);
        var c = Enumerable.Repeat(float.NaN, m * n).ToArray(); // C is overwritten, never read
        if (kernel is { } kind)
            Gemm.Multiply(kind, threads, transA, transB, m, n, k, a, b, c);
        else
            Gemm.Multiply(transA, transB, m, n, k, a, b, c);

        // Reference in float64 from the same float32 inputs. Error budget per element, from the standard bound
        // for a float32 inner product in any summation order, blocked, threaded or fused (Higham, Accuracy and
        // Stability of Numerical Algorithms, 2nd ed., §3.1, eq. 3.5): |fl(Σ a·b) − Σ a·b| ≤ γ_k·Σ|a·b| with
        // γ_k = k·u / (1 − k·u) and u = 2⁻²⁴. It covers cancellation (C ≈ 0) and needs no atol; the float64
        // reference adds ~k·2⁻⁵³, negligible. (The typical error is ~√k·u·Σ|a·b|, so this is a bound, not a guess.)
        const double U = 1.0 / (1 << 24);
        var gamma = k * U / (1 - k * U);
        var failures = new StringBuilder();
        var bad = 0;
        for (var i = 0; i < m; i++)
            for (var j = 0; j < n; j++)
            {
                double sum = 0, abs = 0;
                for (var p = 0; p < k; p++)
                {
                    var prod = (double)(transA ? a[p * m + i] : a[i * k + p]) * (transB ? b[j * k + p] : b[p * n + j]);
                    sum += prod;
                    abs += Math.Abs(prod);
                }

                var got = c[i * n + j];
                if (!(Math.Abs(got - sum) <= gamma * abs))
                {
                    if (bad++ < 10) failures.AppendLine($"  C[{i},{j}] = {got:R}, expected {sum:R} (|diff| {Math.Abs(got - sum):E2}, budget γ_k·Σ|a·b| = {gamma * abs:E2})");
                }
            }

        Assert.That(bad, Is.Zero, $"{kernel?.ToString() ?? "public API"}, {threads} threads, {m}x{n}x{k}, transA={transA}, transB={transB}: {bad} mismatches, first:\n{failures}");
    }
}
