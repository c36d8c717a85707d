using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Gradients;

/// <summary>The pass criterion of <see cref="GradientCheck"/>: |a − n| ≤ atol + rtol·|n|, with both errors reported.</summary>
public class GradientToleranceTests
{
    private static readonly Tensor s_x = Tensor.FromArray([1.0, -0.5, 2.0], 3);

    [Test]
    public void ATinyWrongGradientFails()
    {
        // 1e-7·x·stop(x) has value 1e-7·x² but symbolic gradient 1e-7·x, half the true one. The old criterion
        // |a − n| / max(1, |a|, |n|) saw an error below 1e-6 here and passed it; relative to |n| it is 50 %.
        var r = GradientCheck.Run((g, x) => 1e-7 * x[0] * g.StopGradient(x[0]), [s_x]);
        Assert.That(r.Passed, Is.False);
        var input = r.Inputs[0];
        Assert.That(input.MaxRelativeError, Is.EqualTo(0.5).Within(1e-6));
        var oldCriterion = input.Analytic.Select((a, k) => Math.Abs(a - input.Numeric[k]) / Math.Max(1, Math.Max(Math.Abs(a), Math.Abs(input.Numeric[k])))).Max();
        Assert.That(oldCriterion, Is.LessThan(1e-6), "the old criterion would have passed it");
        Assert.That(input.MaxAbsoluteError, Is.EqualTo(oldCriterion).Within(1e-12), "below 1, the absolute error is what the old criterion measured");
        Assert.That(input.WorstRatio, Is.GreaterThan(1));
        Assert.That(r.ToString(), Does.StartWith("input 0: max rel err 5.000E-001, max abs err ").And.Contains("(atol 1E-08 + rtol 1E-06·|n|)"));
    }

    [Test]
    public void ATinyRightGradientPasses()
    {
        var r = GradientCheck.Run((g, x) => 1e-7 * x[0] * x[0], [s_x]);
        Assert.That(r.Passed, Is.True, r.ToString());
        Assert.That(r.MaxRelativeError, Is.LessThan(1e-6));
        Assert.That(r.Tolerance, Is.EqualTo(GradientTolerance.Default));
    }

    [Test]
    public void AWrongGradientOfOrderOneFails()
    {
        var r = GradientCheck.Run((g, x) => x[0] * g.StopGradient(x[0]), [s_x]);
        Assert.That(r.Passed, Is.False);
        Assert.That(r.MaxRelativeError, Is.EqualTo(0.5).Within(1e-6));
    }

    [Test]
    public void ToleranceIsAppliedAsGiven()
    {
        // A 50 % relative error passes an rtol of 0.6 and fails one of 0.4.
        Build half = (g, x) => x[0] * g.StopGradient(x[0]);
        Assert.That(GradientCheck.Run((g, x) => half(g, x), [s_x], tolerance: new GradientTolerance(0, 0.6)).Passed, Is.True);
        Assert.That(GradientCheck.Run((g, x) => half(g, x), [s_x], tolerance: new GradientTolerance(0, 0.4)).Passed, Is.False);
        Assert.That(new GradientTolerance(1e-8, 1e-6).Ratio(1.0, double.NaN), Is.EqualTo(double.PositiveInfinity));
        Assert.That(new GradientTolerance(1, 0).Ratio(3, 1), Is.EqualTo(2));
        Assert.That(() => GradientCheck.Run((g, x) => half(g, x), [s_x], tolerance: new GradientTolerance(0, 0)), Throws.TypeOf<ArgumentOutOfRangeException>());
        Assert.That(() => GradientCheck.Run((g, x) => half(g, x), [s_x], tolerance: new GradientTolerance(-1, 1)), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void ZeroGradientsHaveZeroRelativeError()
    {
        // ∂(Σ w·0·x)/∂x = 0 analytically and numerically: relative error 0, not NaN.
        var r = GradientCheck.Run((g, x) => g.ZerosLike(x[0]), [s_x]);
        Assert.That(r.Passed, Is.True);
        Assert.That(r.MaxRelativeError, Is.Zero);
        Assert.That(r.MaxAbsoluteError, Is.Zero);
    }
}
