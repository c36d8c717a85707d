using NUnit.Framework;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;
using Nabla.Kernels.Reference;

namespace Nabla.Tests.Kernels;

/// <summary>The vectorised uniform stream must equal the scalar definition bit for bit (it is what the GPU will reproduce).</summary>
public sealed class PhiloxSimdTests
{
    private static float Scalar(ulong key, ulong counter, double a, double b, long i) => (float)Philox.Sample(RandomDistribution.Uniform, key, counter, i, a, b);

    [TestCase(0UL, 0UL, 0.0, 1.0, 0L, 37)]
    [TestCase(0xDEADBEEF_12345678UL, 5UL, -3.0, 7.5, 0L, 1001)]
    [TestCase(42UL, 0x1_0000_0003UL, 0.0, 1.0, 4_294_967_290L, 64)] // counter crosses 2³²
    [TestCase(42UL, 7UL, -1.0, 1.0, 17_179_869_170L, 300)] // block index crosses 2³²
    public void MatchesScalarSample(ulong key, ulong counter, double a, double b, long start, int n)
    {
        var simd = new float[n];
        PhiloxSimd.Uniform(key, counter, a, b, start, simd);
        for (var i = 0; i < n; i++)
            Assert.That(simd[i], Is.EqualTo(Scalar(key, counter, a, b, start + i)), $"element {i}");
    }

    /// <summary>Every start phase (mod 4 and mod the 128-element vector step) and every length to 100, on the unit and a general interval.</summary>
    [TestCase(0.0, 1.0), TestCase(-0.3, 2.7)]
    public void AnyStartAndLengthMatchesTheScalarStream(double a, double b)
    {
        var rng = new Random(12345);
        for (var trial = 0; trial < 400; trial++)
        {
            var n = trial % 101;
            long start = trial < 130 ? trial : rng.Next(0, 1 << 30);
            ulong key = (ulong)rng.NextInt64(), counter = (ulong)rng.Next(0, 100);
            var simd = new float[n];
            PhiloxSimd.Uniform(key, counter, a, b, start, simd);
            for (var i = 0; i < n; i++)
                Assert.That(simd[i], Is.EqualTo(Scalar(key, counter, a, b, start + i)), $"start {start}, length {n}, element {i}");
        }
    }

    [TestCase(0L, 0.0, 1.0), TestCase(3L, 0.0, 1.0), TestCase(1_000_001L, -5.0, 0.25)]
    public void LargeSpansMatchTheScalarStream(long start, double a, double b)
    {
        const int n = 100_003;
        var simd = new float[n];
        PhiloxSimd.Uniform(9, 2, a, b, start, simd);
        var scalar = new float[n];
        Philox.Uniform(9, 2, a, b, start, scalar.AsSpan());
        Assert.That(simd, Is.EqualTo(scalar));
        foreach (var i in new[] { 0, 1, 2, 3, 127, 128, 50_000, n - 1 })
            Assert.That(simd[i], Is.EqualTo(Scalar(9, 2, a, b, start + i)), $"element {i}");
    }

    [Test]
    public void UniformWordsAreTheFourWordsOfEachBlock()
    {
        for (var i = 0L; i < 16; i++)
        {
            var (x0, x1, x2, x3) = Philox.Block(77, (ulong)(i / 4), 3);
            Assert.That(Philox.UniformBits(77, 3, i), Is.EqualTo(new[] { x0, x1, x2, x3 }[i % 4]), $"element {i}");
        }
    }

    [Test]
    public void CpuBackendLargeBuffersUseTheSameStream()
    {
        using var cpu = new CpuBackend();
        var buffer = cpu.Memory.Allocate(DType.Float32, 70_001); // above the single-thread limit: the parallel path
        cpu.Random(RandomDistribution.Uniform, 99, 3, 0, 1, buffer);
        var values = cpu.Memory.ReadFloat64(buffer);
        foreach (var i in new[] { 0, 1, 16383, 16384, 50_000, 70_000 })
            Assert.That(values[i], Is.EqualTo((double)Scalar(99, 3, 0, 1, i)));
    }

    /// <summary>The float64 reference computes the uniform transform on its own from the raw blocks: CPU float64 equals it exactly, CPU float32 is it rounded.</summary>
    [TestCase(37), TestCase(1000), TestCase(70_001)]
    public void ReferenceFloat64AgreesWithTheCpuBackend(int n)
    {
        using var cpu = new CpuBackend();
        using var reference = new ReferenceBackend();
        double[] Draw(IBackend backend, DType dtype)
        {
            var buffer = backend.Memory.Allocate(dtype, n);
            backend.Random(RandomDistribution.Uniform, 0xC0FFEE, 11, -2, 3, buffer);
            return backend.Memory.ReadFloat64(buffer);
        }
        var expected = Draw(reference, DType.Float64);
        Assert.That(Draw(cpu, DType.Float64), Is.EqualTo(expected), "float64");
        Assert.That(Draw(cpu, DType.Float32), Is.EqualTo(expected.Select(v => (double)(float)v).ToArray()), "float32");
    }
}
