using System.Runtime.Intrinsics;
using Nabla.Kernels.Cpu;
using NUnit.Framework;

namespace Nabla.Tests.Kernels;

/// <summary>
/// The float32 AVX-512 transcendentals of <see cref="VectorMath"/> (softmax's exp; the recurrent kernels' sigmoid and
/// tanh) against float64 over dense grids, and at the edges: ±0, ±∞, NaN, overflow and underflow.
/// </summary>
[TestFixture]
public sealed class VectorMathTests
{
    [SetUp]
    public void RequireAvx512()
    {
        if (!Vector512.IsHardwareAccelerated) Assert.Ignore("VectorMath is the AVX-512 path");
    }

    /// <summary>f over every point of the grid, 16 lanes at a time.</summary>
    private static float[] Apply(Func<Vector512<float>, Vector512<float>> f, float[] x)
    {
        var y = new float[x.Length];
        for (var i = 0; i < x.Length; i += 16)
        {
            var lanes = new float[16];
            Array.Copy(x, i, lanes, 0, Math.Min(16, x.Length - i));
            var r = f(Vector512.Create(lanes));
            for (var k = 0; k < 16 && i + k < x.Length; k++) y[i + k] = r[k];
        }
        return y;
    }

    private static float[] Grid(double lo, double hi, int count) =>
        Enumerable.Range(0, count).Select(i => (float)(lo + (hi - lo) * i / (count - 1))).ToArray();

    /// <summary>The largest |f32 − f64| / |f64| over the grid.</summary>
    private static double WorstRelative(Func<Vector512<float>, Vector512<float>> f, Func<double, double> exact, float[] x)
    {
        var y = Apply(f, x);
        var worst = 0.0;
        for (var i = 0; i < x.Length; i++)
        {
            var e = exact(x[i]);
            worst = Math.Max(worst, e == 0 ? Math.Abs(y[i]) : Math.Abs(y[i] - e) / Math.Abs(e));
        }
        return worst;
    }

    [Test]
    public void ExpIsWithinOneUlp()
    {
        var x = Grid(-87, 88, 200_001);
        Assert.That(WorstRelative(VectorMath.Exp, Math.Exp, x), Is.LessThan(1.2e-7));
    }

    [Test]
    public void SigmoidIsAccurateAcrossItsRange()
    {
        var x = Grid(-80, 80, 200_001);
        Assert.That(WorstRelative(VectorMath.Sigmoid, v => 1 / (1 + Math.Exp(-v)), x), Is.LessThan(3e-7));
    }

    [Test]
    public void TanhKeepsRelativeAccuracyNearZeroAndAtTheSeriesBoundary()
    {
        double Tanh(double v) => Math.Tanh(v);
        Assert.Multiple(() =>
        {
            // Small arguments, where 1 − 2/(e^{2x} + 1) would cancel: the series must hold relative accuracy.
            Assert.That(WorstRelative(VectorMath.Tanh, Tanh, Grid(-1e-3, 1e-3, 20_001).Where(v => v != 0).ToArray()), Is.LessThan(1.2e-7), "|x| ≤ 1e-3");
            Assert.That(WorstRelative(VectorMath.Tanh, Tanh, [1e-30f, -1e-30f, 1e-40f, 3e-8f, -3e-8f]), Is.LessThan(1.2e-7), "tiny and subnormal");
            Assert.That(WorstRelative(VectorMath.Tanh, Tanh, Grid(-0.6, 0.6, 120_001)), Is.LessThan(3e-7), "around the 0.5 switch");
            Assert.That(WorstRelative(VectorMath.Tanh, Tanh, Grid(-20, 20, 200_001)), Is.LessThan(3e-7), "the whole range");
        });
    }

    [Test]
    public void EdgesFollowTheFunctions()
    {
        float[] x = [0f, -0f, float.PositiveInfinity, float.NegativeInfinity, float.NaN, 100f, -100f, 1e30f, -1e30f, 9f, -9f, 0.5f, -0.5f, 0.49999997f, 89f, -104.5f];
        var exp = Apply(VectorMath.Exp, x);
        var sigmoid = Apply(VectorMath.Sigmoid, x);
        var tanh = Apply(VectorMath.Tanh, x);
        Assert.Multiple(() =>
        {
            for (var i = 0; i < x.Length; i++)
            {
                if (float.IsNaN(x[i]))
                {
                    Assert.That(float.IsNaN(exp[i]) && float.IsNaN(sigmoid[i]) && float.IsNaN(tanh[i]), "NaN in, NaN out");
                    continue;
                }
                Assert.That(tanh[i], Is.EqualTo((float)Math.Tanh(x[i])).Within(2).Ulps, $"tanh({x[i]})");
                Assert.That(float.IsNegative(tanh[i]), Is.EqualTo(float.IsNegative(x[i])), $"tanh({x[i]}) keeps the sign (−0 included)");
                var s = 1 / (1 + Math.Exp(-x[i]));
                // Below e⁻⁸⁸ the e⁻ˣ in the denominator overflows and the result is 0 instead of a subnormal.
                if (s < 1e-37) Assert.That(sigmoid[i], Is.InRange(0f, 1e-37f), $"sigmoid({x[i]})");
                else Assert.That(sigmoid[i], Is.EqualTo((float)s).Within(2).Ulps, $"sigmoid({x[i]})");
                var e = Math.Exp(x[i]);
                if (e > float.MaxValue) Assert.That(exp[i], Is.EqualTo(float.PositiveInfinity), $"exp({x[i]}) overflows");
                else if (e < 1e-45) Assert.That(exp[i], Is.EqualTo(0f), $"exp({x[i]}) underflows to 0");
                else Assert.That(exp[i], Is.EqualTo((float)e).Within(2).Ulps, $"exp({x[i]})");
            }
        });
    }
}
