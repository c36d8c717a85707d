using NUnit.Framework;

namespace Nabla.Tests.Execution;

/// <summary>
/// The fusion pass on whole graphs (issue 10): a W2 training step fuses its element-wise work, gives the
/// fused intermediates no memory, keeps planned peak == arena bytes, and changes no bit of the training run
/// (the ops it fuses apply the same functions in the same order).
/// </summary>
public sealed class FusionPlanTests
{
    private static readonly SessionOptions Unfused = new() { Fusion = false };

    [Test]
    public void W2StepFusesAndChangesNoBit()
    {
        using var fused = new W2StepHarness();
        using var plain = new W2StepHarness(options: Unfused);
        for (var i = 0; i < 4; i++)
            Assert.That(BitConverter.SingleToInt32Bits(fused.Step()), Is.EqualTo(BitConverter.SingleToInt32Bits(plain.Step())), $"loss of step {i}");
        var a = fused.Weights();
        var b = plain.Weights();
        for (var v = 0; v < a.Length; v++)
            Assert.That(a[v].Select(BitConverter.SingleToInt32Bits), Is.EqualTo(b[v].Select(BitConverter.SingleToInt32Bits)), $"variable {v}");

        var fusedPlan = fused.Session.Plan([fused.Loss], fused.Feeds, fused.Train);
        var plainPlan = plain.Session.Plan([plain.Loss], plain.Feeds, plain.Train);
        TestContext.Out.WriteLine($"W2 step, batch 32: {plainPlan.KernelCount} kernels unfused, {fusedPlan.KernelCount} fused; peak {plainPlan.PeakBytes:N0} B → {fusedPlan.PeakBytes:N0} B");
        foreach (var f in fusedPlan.FusedSteps) TestContext.Out.WriteLine(f.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(plainPlan.FusedSteps, Is.Empty);
            Assert.That(fusedPlan.FusedSteps, Is.Not.Empty);
            Assert.That(fusedPlan.KernelCount, Is.LessThan(plainPlan.KernelCount));
            Assert.That(fusedPlan.PeakBytes, Is.LessThanOrEqualTo(plainPlan.PeakBytes), "fused intermediates take no memory");
            Assert.That(fused.Session.LastRun!.Value.Kernels, Is.EqualTo(fusedPlan.KernelCount));
            Assert.That(plain.Session.LastRun!.Value.Kernels, Is.EqualTo(plainPlan.KernelCount));
            Assert.That(fused.Session.ArenaBytes, Is.EqualTo(fusedPlan.PeakBytes), "planned peak == what the arenas hold");
            Assert.That(fusedPlan.FusedSteps.All(f => f.BytesRead + f.BytesWritten < f.UnfusedBytes), "each fused step moves fewer bytes than its nodes did");
        });
    }
}
