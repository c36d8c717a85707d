using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Engine;

public class SmokeTests
{
    [Test]
    public void HelloWorldConstant()
    {
        var g = new Graph();
        var hello = g.Constant(Tensor.FromArray([1f, 2f, 3f], 3));
        using var s = new Session(g);
        Assert.That(s.Run(hello).ToArray<float>(), Is.EqualTo(new[] { 1f, 2f, 3f }));
    }

    [Test]
    public void MatMulBroadcastAddGradientChecks()
    {
        OpHarness.Gradients((g, x) => g.Tanh(g.MatMul(x[0], x[1]) + x[2]),
            [OpHarness.Uniform([3, 4]), OpHarness.Uniform([4, 2], seed: 2), OpHarness.Uniform([2], seed: 3)], 1e-7);
        OpHarness.CpuMatchesReference((g, x) => g.Tanh(g.MatMul(x[0], x[1]) + x[2]),
            [OpHarness.Uniform([3, 4]), OpHarness.Uniform([4, 2], seed: 2), OpHarness.Uniform([2], seed: 3)]);
        OpHarness.SecondOrder((g, x) => g.ReduceMean(g.Sigmoid(x[0] * x[1]), [1]), [OpHarness.Uniform([3, 4]), OpHarness.Uniform([4], seed: 2)], 1e-6);
    }
}
