using System.Numerics;

namespace Nabla.Kernels;

/// <summary>
/// Philox 4x32-10 counter-based generator (Salmon et al., "Parallel random numbers: as easy as
/// 1, 2, 3", SC 2011). Every backend derives element i of a stream from a block indexed by i
/// and the run counter under the key seed (see <see cref="Sample"/>), so CPU, reference and GPU
/// produce identical values for the same seed without sharing state.
/// </summary>
public static class Philox
{
    private const uint M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /// <summary>One Philox 4x32-10 block.</summary>
    public static (uint, uint, uint, uint) Block(ulong key, ulong c0, ulong c1)
    {
        uint k0 = (uint)key, k1 = (uint)(key >> 32);
        uint x0 = (uint)c0, x1 = (uint)(c0 >> 32), x2 = (uint)c1, x3 = (uint)(c1 >> 32);
        for (var r = 0; r < 10; r++)
        {
            ulong p0 = (ulong)M0 * x0, p1 = (ulong)M1 * x2;
            uint y0 = (uint)(p1 >> 32) ^ x1 ^ k0, y1 = (uint)p1, y2 = (uint)(p0 >> 32) ^ x3 ^ k1, y3 = (uint)p0;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
            k0 += W0; k1 += W1;
        }
        return (x0, x1, x2, x3);
    }

    /// <summary>
    /// The Philox key for an op seed under a graph seed: SplitMix64-mixed so nearby seeds give
    /// unrelated streams. Host tensors (<c>Tensor.RandomUniform(seed: s)</c>) use graph seed 0, so
    /// they equal the first run of a graph random op with op seed s in a graph with seed 0.
    /// </summary>
    public static ulong Key(ulong graphSeed, ulong opSeed) => Mix(graphSeed ^ Mix(opSeed));

    private static ulong Mix(ulong z)
    {
        z += 0x9E3779B97F4A7C15;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EB;
        return z ^ (z >> 31);
    }

    /// <summary>Maps 24 random bits to [0, 1) exactly representable in float32.</summary>
    public static double ToUnit(uint bits) => (bits >> 8) * (1.0 / 16777216.0);

    /// <summary>
    /// Value i of the stream. Uniform element i is word i mod 4 (x0, x1, x2, x3) of block (⌊i/4⌋, counter), so
    /// one block serves four consecutive elements; normals use Box–Muller on lanes 0 and 1 of block (i, counter),
    /// and the truncated normal redraws from blocks (i, counter + 2⁴⁰·t) for t = 1, 2, ... (run counters stay far below 2⁴⁰)
    /// </summary>
    public static double Sample(RandomDistribution dist, ulong seed, ulong counter, long i, double a, double b)
    {
        switch (dist)
        {
            case RandomDistribution.Uniform:
                return a + (b - a) * ToUnit(UniformBits(seed, counter, i));
            case RandomDistribution.Normal:
                return a + b * BoxMuller(seed, (ulong)i, counter);
            default:
                for (ulong t = 0; ; t++)
                {
                    var z = BoxMuller(seed, (ulong)i, counter + (t << 40));
                    if (Math.Abs(z) <= 2.0) return a + b * z;
                }
        }
    }

    /// <summary>The 32 random bits of uniform element <paramref name="i"/>: word i mod 4 of block (⌊i/4⌋, counter).</summary>
    public static uint UniformBits(ulong key, ulong counter, long i)
    {
        var (x0, x1, x2, x3) = Block(key, (ulong)i >> 2, counter);
        return (i & 3) switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 };
    }

    /// <summary>
    /// dst[j] = uniform element (start + j) of the stream (key, counter) on [a, b), as <see cref="Sample"/> computes it
    /// (a + (b − a)·u in double, then rounded to <typeparamref name="T"/>), with one block per four elements.
    /// </summary>
    public static void Uniform<T>(ulong key, ulong counter, double a, double b, long start, Span<T> dst) where T : IFloatingPointIeee754<T>
    {
        var j = 0;
        for (var i = start; j < dst.Length;)
        {
            var (x0, x1, x2, x3) = Block(key, (ulong)i >> 2, counter);
            for (var w = (int)(i & 3); w < 4 && j < dst.Length; w++, i++, j++)
                dst[j] = T.CreateTruncating(a + (b - a) * ToUnit(w switch { 0 => x0, 1 => x1, 2 => x2, _ => x3 }));
        }
    }

    private static double BoxMuller(ulong seed, ulong i, ulong counter)
    {
        var (x0, x1, _, _) = Block(seed, i, counter);
        // 1 - u keeps the logarithm's argument in (0, 1].
        var u1 = 1.0 - ToUnit(x0);
        var u2 = ToUnit(x1);
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
