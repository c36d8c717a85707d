using NUnit.Framework;
using Nabla.Kernels;
using Nabla.Kernels.Cpu;

namespace Nabla.Tests.Kernels;

/// <summary>
/// Philox 4x32-10 against the known-answer vectors published with Random123 (D. E. Shaw Research,
/// github.com/DEShawResearch/random123, file <c>tests/kat_vectors</c>, the three "philox4x32 10"
/// lines; commit 9545ff6413f258be2f04c1d319d99aaef7521150). Each line is
/// <c>philox4x32 10 CTR[0] CTR[1] CTR[2] CTR[3] KEY[0] KEY[1]   OUT[0] OUT[1] OUT[2] OUT[3]</c>, hex words.
/// The values below were copied from that file as quoted (identically) by several independent ports
/// of Random123, not computed by this project.
/// </summary>
/// <remarks>
/// <see cref="Philox.Block"/> packs the 128-bit counter as two 64-bit halves, low word first
/// (c0 = CTR[1]·2³² + CTR[0], c1 = CTR[3]·2³² + CTR[2]) and the key likewise (KEY[1]·2³² + KEY[0]),
/// which is Random123's word order. The engine's streams use block (i, counter) for element i, so a
/// vector's counter is also element c0 of the stream with run counter c1.
/// </remarks>
public sealed class PhiloxKnownAnswerTests
{
    public static IEnumerable<TestCaseData> Vectors()
    {
        yield return Vector("zeros", [0x00000000, 0x00000000, 0x00000000, 0x00000000], [0x00000000, 0x00000000], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]);
        yield return Vector("ones", [0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]);
        yield return Vector("pi", [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]);
    }

    private static TestCaseData Vector(string name, uint[] ctr, uint[] key, uint[] expected) =>
        new TestCaseData(ctr, key, expected).SetArgDisplayNames(name);

    private static ulong Pack(uint lo, uint hi) => ((ulong)hi << 32) | lo;

    [TestCaseSource(nameof(Vectors))]
    public void BlockMatchesRandom123(uint[] ctr, uint[] key, uint[] expected)
    {
        var (x0, x1, x2, x3) = Philox.Block(Pack(key[0], key[1]), Pack(ctr[0], ctr[1]), Pack(ctr[2], ctr[3]));
        Assert.That(new[] { x0, x1, x2, x3 }, Is.EqualTo(expected), $"got {x0:x8} {x1:x8} {x2:x8} {x3:x8}");
    }

    /// <summary>
    /// The vectorised uniform stream (<see cref="PhiloxSimd"/>, 128 elements at a time when AVX-512 is available)
    /// against the same vectors: with a = 0 and b = 2²⁴ uniform element 4c + w is exactly the top 24 bits of word w
    /// of block (c, counter), so the SIMD rounds and the word order are checked against Random123 directly and not
    /// only against the scalar code. The stream's element index is a long, so it reaches blocks below 2⁶¹ only: the
    /// "zeros" vector is checked as a known answer, the others at their block counter's low 61 bits against
    /// <see cref="Philox.Block"/> (itself checked above). 256 elements cover two full vector steps.
    /// </summary>
    [TestCaseSource(nameof(Vectors))]
    public void SimdUniformStreamMatchesRandom123AndTheScalarStream(uint[] ctr, uint[] key, uint[] expected)
    {
        ulong k = Pack(key[0], key[1]), block = Pack(ctr[0], ctr[1]), counter = Pack(ctr[2], ctr[3]);
        var reachable = block < 1UL << 61;
        block &= (1UL << 61) - 1;
        const double twoTo24 = 16777216.0;
        var simd = new float[256];
        PhiloxSimd.Uniform(k, counter, 0, twoTo24, (long)(block * 4), simd);
        if (reachable)
            Assert.That(simd[..4], Is.EqualTo(expected.Select(x => (float)(x >> 8)).ToArray()), "elements 0–3: the words of the known-answer block, top 24 bits");
        for (var j = 0; j < simd.Length; j++)
        {
            var (x0, x1, x2, x3) = Philox.Block(k, block + (ulong)(j / 4), counter);
            Assert.That(simd[j], Is.EqualTo((float)(new[] { x0, x1, x2, x3 }[j % 4] >> 8)), $"element {j}");
        }
    }
}
