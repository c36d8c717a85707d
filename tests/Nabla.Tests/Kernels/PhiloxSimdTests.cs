using NUnit.Framework;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;

namespace Nabla.Tests.Kernels;

/// <summary>The vectorised uniform stream must equal the scalar definition bit for bit (it is what the GPU will reproduce).</summary>
public sealed class PhiloxSimdTests
{
    [TestCase(0UL, 0UL, 0.0, 1.0, 0L, 37)]
    [TestCase(0xDEADBEEF_12345678UL, 5UL, -3.0, 7.5, 0L, 1001)]
    [TestCase(42UL, 0x1_0000_0003UL, 0.0, 1.0, 4_294_967_290L, 64)] // counter and element index cross 2³²
    public void MatchesScalarSample(ulong key, ulong counter, double a, double b, long start, int n)
    {
        var simd = new float[n];
        PhiloxSimd.Uniform(key, counter, a, b, start, simd);
        for (var i = 0; i < n; i++)
            Assert.That(simd[i], Is.EqualTo((float)Philox.Sample(RandomDistribution.Uniform, key, counter, start + i, a, b)), $"element {i}");
    }

    [Test]
    public void CpuBackendLargeBuffersUseTheSameStream()
    {
        using var cpu = new CpuBackend();
        var buffer = cpu.Memory.Allocate(DType.Float32, 70_001); // above the single-thread limit: the parallel path
        cpu.Random(RandomDistribution.Uniform, 99, 3, 0, 1, buffer);
        var values = cpu.Memory.ReadFloat64(buffer);
        foreach (var i in new[] { 0, 1, 16383, 16384, 50_000, 70_000 })
            Assert.That(values[i], Is.EqualTo((double)(float)Philox.Sample(RandomDistribution.Uniform, 99, 3, i, 0, 1)));
    }
}
