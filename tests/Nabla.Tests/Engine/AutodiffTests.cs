using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Engine;

/// <summary>
/// Symbolic reverse mode (<see cref="Graph.Gradients(Output[], Output[], Output[], UnconnectedGradients)"/>):
/// fan-out, broadcasting, unconnected inputs, non-differentiable ops, higher orders, and the public
/// <see cref="GradientCheck"/> API including its ability to catch a wrong gradient.
/// </summary>
public class AutodiffTests
{
    private static double[] RunRef(Graph g, Output y, params (Output X, Tensor V)[] feeds)
    {
        using var s = new Session(g, Device.Reference);
        return s.Run(y, feeds.ToDictionary(f => f.X, f => f.V)).ToDoubleArray();
    }

    private static readonly Tensor X3 = Tensor.FromArray([-1.5, 0, 2], 3);

    [Test]
    public void FanOutIsSummed()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        // y = x·x + x uses x three times: dy/dx = 2x + 1.
        var dx = g.Gradients(x * x + x, x)[0];
        Assert.That(RunRef(g, dx, (x, X3)), Is.EqualTo(new[] { -2.0, 1, 5 }));
        // Several ys add up, each weighted by its gradY: 3·d(x·x)/dx + 2·dx/dx = 6x + 2.
        var both = g.Gradients([x * x, x], [x], [g.Constant(Tensor.Fill(new Shape(3), 3, DType.Float64)), g.Constant(Tensor.Fill(new Shape(3), 2, DType.Float64))])[0]!.Value;
        Assert.That(RunRef(g, both, (x, X3)), Is.EqualTo(new[] { -7.0, 2, 14 }));
        // The gradient of y with respect to itself is the seed (ones).
        Assert.That(RunRef(g, g.Gradients(x, x)[0], (x, X3)), Is.EqualTo(new[] { 1.0, 1, 1 }));
        // With respect to an intermediate h = 2x, y = h·h + x treats h as the variable: ∂y/∂h = 2h = 4x,
        // while asking for both h and x still sends x the full chain 8x + 1.
        var h = x * 2.0;
        var y = h * h + x;
        Assert.That(RunRef(g, g.Gradients(y, h)[0], (x, X3)), Is.EqualTo(new[] { -6.0, 0, 8 }));
        Assert.That(RunRef(g, g.Gradients(y, h, x)[1], (x, X3)), Is.EqualTo(new[] { -11.0, 1, 17 }));
    }

    [Test]
    public void BroadcastGradientsAreSummedBackToEachInputShape()
    {
        var g = new Graph();
        var col = g.Placeholder(DType.Float64, new Shape(3, 1), "col");
        var row = g.Placeholder(DType.Float64, new Shape(4), "row");
        var s = g.Placeholder(DType.Float64, Shape.Scalar, "s");
        var y = (col + row) * s;
        var grads = g.Gradients(y, col, row, s);
        Assert.That(grads.Select(d => d.Shape), Is.EqualTo(new[] { new Shape(3, 1), new Shape(4), Shape.Scalar }));
        var feeds = new (Output, Tensor)[] { (col, Tensor.FromArray([1.0, 2, 3], 3, 1)), (row, Tensor.FromArray([10.0, 20, 30, 40], 4)), (s, Tensor.Scalar(0.5)) };
        // ∂/∂col sums s over the 4 columns; ∂/∂row over the 3 rows; ∂/∂s = Σ(col + row) = 4·6 + 3·100 = 324.
        Assert.That(RunRef(g, grads[0], feeds), Is.EqualTo(new[] { 2.0, 2, 2 }));
        Assert.That(RunRef(g, grads[1], feeds), Is.EqualTo(new[] { 1.5, 1.5, 1.5, 1.5 }));
        Assert.That(RunRef(g, grads[2], feeds), Is.EqualTo(new[] { 324.0 }));
        OpHarness.Gradients((gr, x) => (x[0] + x[1]) * x[2], [OpHarness.Uniform([3, 1]), OpHarness.Uniform([4], seed: 2), OpHarness.Uniform([], seed: 3)], 1e-8);
    }

    [Test]
    public void UnconnectedInputsFollowTheRequestedMode()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(2), "x");
        var bias = g.Placeholder(DType.Float64, new Shape(2, 2), "bias");
        var y = g.ReduceSum(x * 3.0, name: "y");
        Assert.That(() => g.Gradients(y, x, bias), Throws.TypeOf<GradientException>().With.Message.EqualTo("'bias' is not connected to 'y': no gradient path exists"));
        var zero = g.Gradients([y], [x, bias], null, UnconnectedGradients.Zero);
        Assert.That(zero[1]!.Value.Shape, Is.EqualTo(new Shape(2, 2)));
        Assert.That(RunRef(g, zero[1]!.Value, (bias, Tensor.Ones(new Shape(2, 2), DType.Float64))), Is.EqualTo(new[] { 0.0, 0, 0, 0 }));
        var none = g.Gradients([y], [x, bias], null, UnconnectedGradients.None);
        Assert.That(none[1], Is.Null);
        Assert.That(RunRef(g, none[0]!.Value, (x, Tensor.FromArray([1.0, 2], 2))), Is.EqualTo(new[] { 3.0, 3 }));
    }

    [Test]
    public void ANonDifferentiableOpOnThePathIsNamed()
    {
        var g = new Graph();
        var v = g.Variable(Tensor.FromArray([1.0, 2], 2), "v");
        var x = g.Placeholder(DType.Float64, new Shape(2), "x");
        var written = v.AssignAdd(x, "accumulate");
        Assert.That(() => g.Gradients(g.ReduceSum(written * 2.0), x),
            Throws.TypeOf<GradientException>().With.Message.EqualTo("AssignAdd 'accumulate' is not differentiable (assignment mutates state), but it lies between the inputs and the output"));
        var idx = g.ArgMin(x, name: "closest");
        Assert.That(() => g.Gradients(idx, x), Throws.TypeOf<GradientException>().With.Message.Contains("ArgMin 'closest'"));
    }

    [Test]
    public void ShapeOnlyInputsCarryNoGradient()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(-1, 3), "x");
        // Gaussian noise and dropout draw a tensor shaped like x; only the additive/multiplicative path carries gradient.
        var noisy = x + g.RandomNormalLike(x, 0, 0.1, seed: 1);
        var dropped = g.Dropout(x, 0.5, seed: 2);
        var dNoise = g.Gradients(g.ReduceSum(noisy), x)[0];
        var dDrop = g.Gradients(g.ReduceSum(dropped), x)[0];
        var dLike = g.Gradients([g.ReduceSum(g.OnesLike(x) + g.ZerosLike(x))], [x], null, UnconnectedGradients.Zero)[0]!.Value;
        using var s = new Session(g, Device.Reference);
        var feed = new Dictionary<Output, Tensor> { [x] = OpHarness.Uniform([4, 3]) };
        var r = s.Run([dNoise, dDrop, g.DropoutMask(x, 0.5, seed: 2), dLike], feed);
        Assert.That(r[0].ToDoubleArray(), Is.All.EqualTo(1.0));
        // The gradient of x·mask is the mask: 0 or 1/(1 − 0.5) = 2.
        Assert.That(r[1].ToDoubleArray(), Is.All.EqualTo(0.0).Or.EqualTo(2.0));
        Assert.That(r[1].ToDoubleArray(), Is.EqualTo(r[2].ToDoubleArray()));
        Assert.That(r[3].ToDoubleArray(), Is.All.EqualTo(0.0));
    }

    [Test]
    public void GradientsOfGradients()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var cube = x * x * x;
        var d1 = g.Gradients(cube, x)[0];
        var d2 = g.Gradients(d1, x)[0];
        var d3 = g.Gradients(d2, x)[0];
        // d/dx x³ = 3x², d²/dx² = 6x, d³/dx³ = 6.
        Assert.That(RunRef(g, d1, (x, X3)), Is.EqualTo(new[] { 6.75, 0, 12 }));
        Assert.That(RunRef(g, d2, (x, X3)), Is.EqualTo(new[] { -9.0, 0, 12 }));
        Assert.That(RunRef(g, d3, (x, X3)), Is.EqualTo(new[] { 6.0, 6, 6 }));
        // Mixed partials: ∂²(x²y)/∂x∂y = 2x, through a shared subexpression.
        var y = g.Placeholder(DType.Float64, new Shape(3), "y");
        var dxy = g.Gradients(g.Gradients(x * x * y, x)[0], y)[0];
        Assert.That(RunRef(g, dxy, (x, X3), (y, Tensor.FromArray([5.0, 6, 7], 3))), Is.EqualTo(new[] { -3.0, 0, 4 }));
    }

    [Test]
    public void IntegerInputsAreRejected()
    {
        var g = new Graph();
        var n = g.Placeholder(DType.Int32, new Shape(2), "counts");
        var y = g.ReduceSum(g.Cast(n, DType.Float32));
        Assert.That(() => g.Gradients(y, n), Throws.TypeOf<GradientException>().With.Message.EqualTo("cannot differentiate with respect to 'counts': dtype int32 is not floating"));
    }

    [Test]
    public void GradientCheckReportsPerInputErrors()
    {
        var a = OpHarness.Uniform([2, 3], seed: 1);
        var b = OpHarness.Uniform([2, 3], seed: 2);
        // a·stop(b): the symbolic gradient treats b as a constant, so ∂/∂a = b is right while ∂/∂b is reported 0 instead of a.
        var r = GradientCheck.Run((g, x) => x[0] * g.StopGradient(x[1]), [a, b]);
        Assert.That(r.Inputs, Has.Count.EqualTo(2));
        Assert.That(r.Inputs[0].MaxRelativeError, Is.LessThan(1e-8));
        Assert.That(r.Inputs[1].MaxRelativeError, Is.GreaterThan(0.1));
        Assert.That(r.MaxRelativeError, Is.EqualTo(r.Inputs[1].MaxRelativeError));
        var worst = r.Inputs[1];
        Assert.That(worst.Analytic, Is.All.EqualTo(0.0));
        Assert.That(worst.Numeric, Has.Length.EqualTo(6));
        // The weights are in [0.5, 1.5), so the numeric gradient w·a never vanishes and the worst index is a real one.
        Assert.That(Math.Abs(worst.Numeric[worst.WorstIndex]), Is.GreaterThan(0));
        Assert.That(r.ToString(), Does.StartWith("input 0: max rel err ").And.Contains("; input 1: max rel err "));
        // Without the stop, x · x is checked correctly: 2x.
        Assert.That(GradientCheck.Run((g, x) => x[0] * x[0], [a]).MaxRelativeError, Is.LessThan(1e-8));
        // A deliberately wrong gradient: x·stop(x) has value x² but symbolic gradient x, half the true 2x.
        var half = GradientCheck.Run((g, x) => x[0] * g.StopGradient(x[0]), [a]);
        Assert.That(half.MaxRelativeError, Is.GreaterThan(0.25));
        var k = half.Inputs[0].WorstIndex;
        Assert.That(half.Inputs[0].Numeric[k], Is.EqualTo(2 * half.Inputs[0].Analytic[k]).Within(1e-6));
    }

    [Test]
    public void GradientCheckEdgeCases()
    {
        // √x at 0: the analytic gradient is +Inf and the central difference NaN; a NaN error counts as infinite.
        var r = GradientCheck.Run((g, x) => g.Sqrt(x[0]), [Tensor.FromArray([0.0, 4], 2)]);
        Assert.That(r.Inputs[0].MaxRelativeError, Is.EqualTo(double.PositiveInfinity));
        Assert.That(r.Inputs[0].WorstIndex, Is.Zero);
        var empty = GradientCheck.Run((g, x) => g.Exp(x[0]), [Tensor.Zeros(new Shape(0, 2), DType.Float64)]);
        Assert.That(empty.Inputs[0].WorstIndex, Is.EqualTo(-1));
        Assert.That(empty.MaxRelativeError, Is.Zero);
        Assert.That(() => GradientCheck.Run((g, x) => g.ArgMax(x[0]), [Tensor.FromArray([1.0, 2], 2)]), Throws.TypeOf<GradientException>().With.Message.Contains("int64"));
        // Check() works on an existing graph but only with respect to placeholders.
        var graph = new Graph();
        var p = graph.Placeholder(DType.Float64, new Shape(2), "p");
        var sq = graph.Square(p);
        Assert.That(GradientCheck.Check(graph, graph.Sin(sq), [p], [[0.3, -0.7]]).MaxRelativeError, Is.LessThan(1e-8));
        Assert.That(() => GradientCheck.Check(graph, graph.Sin(sq), [sq], [[0.1, 0.2]]), Throws.TypeOf<ArgumentException>().With.Message.Contains("placeholder"));
    }
}
