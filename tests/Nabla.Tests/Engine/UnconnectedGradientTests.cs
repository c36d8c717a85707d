using NUnit.Framework;

namespace Nabla.Tests.Engine;

public class UnconnectedGradientTests
{
    [Test]
    public void IntegerCastOnThePathIsNamed()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var y = g.ReduceSum(g.Cast(g.Cast(x, DType.Int32, "to_int"), DType.Float64, "back"), name: "y");
        var e = Assert.Throws<GradientException>(() => g.Gradients(y, x))!;
        Assert.That(e.Message, Does.Contain("'x' is not connected to 'y' by a differentiable path").And.Contain("Cast 'to_int'"));
    }

    [Test]
    public void UnrelatedInputSaysNoPathExists()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var z = g.Placeholder(DType.Float64, new Shape(3), "z");
        var e = Assert.Throws<GradientException>(() => g.Gradients(g.ReduceSum(z, name: "y"), x))!;
        Assert.That(e.Message, Is.EqualTo("'x' is not connected to 'y': no gradient path exists"));
    }
}
