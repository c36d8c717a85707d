using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Gradients;

/// <summary>
/// Runs every <see cref="OpCases"/> case: CPU float32 forward and backward against the float64 reference, and the
/// float64 central-difference gradient check. <see cref="OpCaseCoverageTests"/> demands a case for every registered op.
/// </summary>
public class OpCaseTests
{
    public static IEnumerable<OpCase> AllCases() => OpCases.All;

    public static IEnumerable<OpCase> CheckedCases() => OpCases.All.Where(c => c.Grad == GradKind.Checked);

    public static IEnumerable<OpCase> BlockedCases() => OpCases.All.Where(c => c.Grad == GradKind.Blocked);

    /// <summary>y and ∂(Σ w·y)/∂x for every floating input x, with fixed weights w, on one device.</summary>
    internal static (Tensor Y, Tensor[] Grads) Run(OpCase c, Device device, DType floatType)
    {
        var g = new Graph();
        var xs = c.Inputs.Select((t, i) => g.Placeholder(t.DType.IsFloating() ? floatType : t.DType, t.Shape, $"x{i}")).ToArray();
        var y = c.Build(g, xs);
        var floats = xs.Where(x => x.DType.IsFloating()).ToArray();
        var fetch = new List<Output> { y };
        if (c.Grad != GradKind.None)
        {
            Assert.That(y.Shape.IsFullyDefined, $"{c}: the output shape must be static");
            // Weights rounded to float32 once, so both devices use the same ones.
            var w = OpHarness.ToFloat32(Tensor.RandomUniform(y.Shape, 0.5, 1.5, 0x5EED, DType.Float64));
            var loss = g.ReduceSum(y * g.Cast(g.Constant(w), y.DType));
            fetch.AddRange(g.Gradients([loss], floats, null, UnconnectedGradients.Zero).Select(o => o!.Value));
        }
        using var s = new Session(g, device);
        if (g.Variables.Count > 0) s.Run([], null, g.Variables.Select(v => v.Initializer).ToArray());
        var feeds = new Dictionary<Output, Tensor>();
        for (var i = 0; i < xs.Length; i++)
        {
            var t = c.Inputs[i];
            // The same float32-representable values on both devices.
            feeds[xs[i]] = !t.DType.IsFloating() ? t : floatType == DType.Float32 ? OpHarness.ToFloat32(t) : OpHarness.ToFloat64(OpHarness.ToFloat32(t));
        }
        var outs = s.Run([.. fetch], feeds);
        return (outs[0], outs[1..]);
    }

    /// <summary>|cpu − ref| ≤ tol·(|ref| + max|ref|) per element; see <see cref="OpCases.Float32Tolerance"/>.</summary>
    private static void AssertNear(Tensor reference, Tensor cpu, double tol, string what)
    {
        Assert.That(cpu.Shape, Is.EqualTo(reference.Shape), $"{what}: shapes differ");
        var e = reference.ToDoubleArray();
        var scale = e.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        OpHarness.AssertClose(e, cpu.ToDoubleArray(), tol, tol * scale, what);
    }

    [TestCaseSource(nameof(AllCases))]
    public void CpuFloat32MatchesReference(OpCase c)
    {
        var (refY, refGrads) = Run(c, Device.Reference, DType.Float64);
        var (cpuY, cpuGrads) = Run(c, Device.Cpu, DType.Float32);
        AssertNear(refY, cpuY, c.Float32Tol, $"{c}: forward");
        Assert.That(cpuGrads, Has.Length.EqualTo(refGrads.Length));
        for (var i = 0; i < refGrads.Length; i++) AssertNear(refGrads[i], cpuGrads[i], c.Float32Tol, $"{c}: gradient of floating input {i}");
    }

    [TestCaseSource(nameof(CheckedCases))]
    public void Float64GradientMatchesCentralDifferences(OpCase c) => OpHarness.Gradients(c.Build, c.Inputs, c.GradRtol);

    [TestCaseSource(nameof(BlockedCases))]
    public void BlockedGradientIsZero(OpCase c)
    {
        foreach (var (device, dtype) in new[] { (Device.Reference, DType.Float64), (Device.Cpu, DType.Float32) })
        {
            var (_, grads) = Run(c, device, dtype);
            Assert.That(grads, Is.Not.Empty);
            foreach (var gr in grads) Assert.That(gr.ToDoubleArray(), Is.All.EqualTo(0.0), $"{c} on {device.Name}");
        }
    }
}
