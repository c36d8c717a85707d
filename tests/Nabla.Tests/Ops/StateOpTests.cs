using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Ops;

/// <summary>
/// Constants, placeholders and feeds, variables and assignment, grouping, identity and stop-gradient,
/// and the session behaviour around them: plan caching, and a failed run leaving the session usable.
/// Initializers are in StateOpTests.Initializers.cs.
/// </summary>
public partial class StateOpTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["Const", "Placeholder", "Variable", "Assign", "AssignAdd", "AssignSub", "NoOp", "Identity", "StopGradient"];

    private static Dictionary<Output, Tensor> Feed(Output x, Tensor t) => new() { [x] = t };

    [TestCase("cpu")]
    [TestCase("reference")]
    public void ConstantsOfEveryDTypeRoundTrip(string device)
    {
        var g = new Graph();
        var c = new[]
        {
            g.Constant(Tensor.FromArray([1.5f, -2, float.NaN], 3)),
            g.Constant(Tensor.FromArray([1e300, -0.0], 2)),
            g.Constant(Tensor.FromArray([int.MinValue, 7], 2)),
            g.Constant(Tensor.FromArray([long.MaxValue], 1)),
            g.Constant(Tensor.FromArray([true, false], 2)),
            g.Scalar(3, DType.Float64),
        };
        using var s = new Session(g, device == "cpu" ? Device.Cpu : Device.Reference);
        var r = s.Run(c);
        Assert.That(r[0].ToArray<float>(), Is.EqualTo(new[] { 1.5f, -2, float.NaN }));
        Assert.That(r[1].ToArray<double>(), Is.EqualTo(new[] { 1e300, -0.0 }));
        Assert.That(r[2].ToArray<int>(), Is.EqualTo(new[] { int.MinValue, 7 }));
        Assert.That(r[3].ToArray<long>(), Is.EqualTo(new[] { long.MaxValue }));
        Assert.That(r[4].ToArray<bool>(), Is.EqualTo(new[] { true, false }));
        Assert.That(r[5].Shape, Is.EqualTo(Shape.Scalar));
        // A second run reuses the buffer uploaded by the first and must still see the same values.
        var again = s.Run(c[0]);
        Assert.That(again.ToArray<float>(), Is.EqualTo(r[0].ToArray<float>()));
    }

    [Test]
    public void PlaceholderFeedsAreCheckedAndNamed()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "images");
        var y = g.ReduceSum(x);
        using var s = new Session(g);
        Assert.That(s.Run(y, Feed(x, Tensor.Ones(new Shape(2, 3)))).ToScalar<float>(), Is.EqualTo(6f));
        Assert.That(s.Run(y, Feed(x, Tensor.Ones(new Shape(0, 3)))).ToScalar<float>(), Is.EqualTo(0f));
        Assert.That(() => s.Run(y), Throws.TypeOf<FeedException>().With.Message.EqualTo("Placeholder 'images' must be fed a float32 tensor of shape [?,3]"));
        Assert.That(() => s.Run(y, Feed(x, Tensor.Ones(new Shape(2, 3), DType.Float64))),
            Throws.TypeOf<FeedException>().With.Message.EqualTo("Placeholder 'images' expects a float32 feed of shape [?,3], got float64 [2,3]"));
        Assert.That(() => s.Run(y, Feed(x, Tensor.Ones(new Shape(2, 4)))),
            Throws.TypeOf<FeedException>().With.Message.EqualTo("Placeholder 'images' expects a feed of shape [?,3], got [2,4]"));
        Assert.That(() => s.Run(y, Feed(x, Tensor.Ones(new Shape(6)))), Throws.TypeOf<FeedException>().With.Message.Contains("'images'"));
        var other = new Graph().Placeholder(DType.Float32, new Shape(2, 3), "stranger");
        Assert.That(() => s.Run(y, Feed(other, Tensor.Ones(new Shape(2, 3)))), Throws.TypeOf<FeedException>().With.Message.Contains("'stranger'"));
        // A placeholder that the fetches do not need may stay unfed.
        var unused = g.Placeholder(DType.Int32, new Shape(1), "unused");
        Assert.That(s.Run(g.Scalar(1)).ToScalar<float>(), Is.EqualTo(1f));
        Assert.That(unused.Op.Type, Is.EqualTo("Placeholder"));
    }

    [Test]
    public void AnyOutputCanBeFedInPlaceOfItsComputation()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(2), "x");
        var h = g.Square(x, "h");
        var y = h + 1.0;
        using var s = new Session(g);
        // Feeding h prunes x away: x need not be fed.
        Assert.That(s.Run(y, Feed(h, Tensor.FromArray([10f, 20], 2))).ToArray<float>(), Is.EqualTo(new[] { 11f, 21 }));
        Assert.That(s.Run(y, Feed(x, Tensor.FromArray([2f, 3], 2))).ToArray<float>(), Is.EqualTo(new[] { 5f, 10 }));
        // A fed placeholder can itself be fetched, twice in one request.
        Assert.That(s.Run([x, x], Feed(x, Tensor.FromArray([4f, 5], 2))).Select(t => t.ToArray<float>()), Is.EqualTo(new[] { new[] { 4f, 5 }, new[] { 4f, 5 } }));
        // Feeding a constant or an uninitialised variable's read replaces it for that run only.
        var c = g.Constant(Tensor.FromArray([1f, 1], 2), "c");
        var v = g.Variable(new Shape(2), DType.Float32, Initializer.Zeros, "v");
        Assert.That(s.Run(c + v.Value, new Dictionary<Output, Tensor> { [c] = Tensor.FromArray([3f, 4], 2), [v.Value] = Tensor.FromArray([10f, 20], 2) }).ToArray<float>(),
            Is.EqualTo(new[] { 13f, 24 }));
        Assert.That(s.Run(c).ToArray<float>(), Is.EqualTo(new[] { 1f, 1 }));
        Assert.That(() => s.Run(v.Value), Throws.TypeOf<InvalidArgumentException>());
    }

    [Test]
    public void VariablesInitialiseAssignAndPersistAcrossRuns()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1f, 2, 3], 3), "w");
        var b = g.Variable(new Shape(2), DType.Float64, Initializer.Fill(0.5), "b", trainable: false);
        Assert.That(g.Variables, Is.EqualTo(new[] { w, b }));
        Assert.That(g.TrainableVariables, Is.EqualTo(new[] { w }));
        Assert.That(w.ToString(), Is.EqualTo("Variable 'w' shape=[3] dtype=float32"));
        var delta = g.Placeholder(DType.Float32, new Shape(3), "delta");
        var set = w.Assign(g.Constant(Tensor.FromArray([10f, 20, 30], 3)), "set");
        var add = w.AssignAdd(delta, "add");
        var sub = w.AssignSub(w.Value * 0.5, "halve");
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(s.Run(w.Value).ToArray<float>(), Is.EqualTo(new[] { 1f, 2, 3 }));
        Assert.That(s.Run(b.Value).ToArray<double>(), Is.EqualTo(new[] { 0.5, 0.5 }));
        Assert.That(s.Run(set).ToArray<float>(), Is.EqualTo(new[] { 10f, 20, 30 }));
        Assert.That(s.Run(add, Feed(delta, Tensor.FromArray([1f, 1, 1], 3))).ToArray<float>(), Is.EqualTo(new[] { 11f, 21, 31 }));
        Assert.That(s.Run(add, Feed(delta, Tensor.FromArray([1f, 1, 1], 3))).ToArray<float>(), Is.EqualTo(new[] { 12f, 22, 32 }));
        Assert.That(s.Run(sub).ToArray<float>(), Is.EqualTo(new[] { 6f, 11, 16 }));
        Assert.That(s.Run(w.Value).ToArray<float>(), Is.EqualTo(new[] { 6f, 11, 16 }));
        // Variables live per session: a second session starts uninitialised, and re-initialising resets.
        using var other = new Session(g);
        Assert.That(() => other.Run(w.Value), Throws.TypeOf<InvalidArgumentException>());
        s.Run(w.Initializer);
        Assert.That(s.Run(w.Value).ToArray<float>(), Is.EqualTo(new[] { 1f, 2, 3 }));
    }

    [Test]
    public void ReadingAnUninitialisedVariableNamesIt()
    {
        var g = new Graph();
        var v = g.Variable(new Shape(2, 2), DType.Float32, Initializer.Ones, "weights");
        var y = g.ReduceSum(v.Value);
        using var s = new Session(g);
        Assert.That(() => s.Run(y), Throws.TypeOf<InvalidArgumentException>().With.Message
            .EqualTo("Variable 'weights' is not initialized: run its initializer (or graph.GlobalVariablesInitializer()) first"));
        Assert.That(() => s.Run(v.AssignAdd(g.Constant(Tensor.Ones(new Shape(2, 2))))), Throws.TypeOf<InvalidArgumentException>().With.Message.Contains("'weights'"));
        // The failure is not sticky: the same session initialises and runs.
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(s.Run(y).ToScalar<float>(), Is.EqualTo(4f));
    }

    [Test]
    public void AssignmentShapeAndDTypeMismatchesFailAtBuildTime()
    {
        var g = new Graph();
        var v = g.Variable(new Shape(2, 3), DType.Float32, Initializer.Zeros, "v");
        Assert.That(() => v.Assign(g.Constant(Tensor.Zeros(new Shape(3, 2))), "a"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("Assign 'a': value shape [3,2] differs from variable 'v' shape [2,3]"));
        Assert.That(() => v.AssignAdd(g.Constant(Tensor.Zeros(new Shape(2, 3), DType.Float64)), "b"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("AssignAdd 'b': value dtype float64 differs from variable 'v' dtype float32"));
        Assert.That(() => v.AssignSub(g.Constant(Tensor.Zeros(new Shape(3))), "c"), Throws.TypeOf<ShapeException>().With.Message.StartsWith("AssignSub 'c': value shape [3]"));
        Assert.That(() => g.Variable(new Shape(-1, 3), DType.Float32, Initializer.Zeros, "dyn"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("Variable 'dyn': shape [?,3] must be fully defined"));
        Assert.That(() => g.Variable(new Shape(2), DType.Float32, Initializer.Constant(Tensor.Zeros(new Shape(3))), "bad"),
            Throws.TypeOf<ShapeException>().With.Message.Contains("[3]").And.Message.Contains("[2]"));
        // A value of unknown shape is accepted at build time and checked when the plan sees the fed shape.
        var p = g.Placeholder(DType.Float32, new Shape(-1, 3), "p");
        var late = v.Assign(p, "late");
        using var s = new Session(g);
        Assert.That(() => s.Run(late, Feed(p, Tensor.Zeros(new Shape(4, 3)))), Throws.TypeOf<ShapeException>().With.Message.StartsWith("Assign 'late'"));
        Assert.That(s.Run(late, Feed(p, Tensor.Ones(new Shape(2, 3)))).ToArray<float>(), Is.All.EqualTo(1f));
    }

    [Test]
    public void GroupRunsEveryDependency()
    {
        var g = new Graph();
        var a = g.Variable(Tensor.FromArray([0f], 1), "a");
        var b = g.Variable(Tensor.FromArray([0f], 1), "b");
        var one = g.Constant(Tensor.FromArray([1f], 1));
        var both = g.Group([a.AssignAdd(one).Op, b.AssignSub(one).Op], "both");
        Assert.That(both.Type, Is.EqualTo("NoOp"));
        Assert.That(both.NumOutputs, Is.Zero);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        s.Run(both);
        s.Run(both);
        Assert.That(s.Run([a.Value, b.Value]).Select(t => t.ToScalar<float>()), Is.EqualTo(new[] { 2f, -2f }));
    }

    [Test]
    public void IdentityPassesValuesAndGradients()
    {
        var x = OpHarness.Uniform([3, 4]);
        Assert.That(OpHarness.Evaluate((g, xs) => g.Identity(xs[0]), [x], Device.Reference).ToDoubleArray(), Is.EqualTo(x.ToDoubleArray()));
        OpHarness.CpuMatchesReference((g, xs) => g.Identity(xs[0]) * 2.0, [x], 0, 0);
        foreach (var shape in OpHarness.StandardShapes)
            OpHarness.Gradients((g, xs) => g.Square(g.Identity(xs[0])), [OpHarness.Uniform(shape)], 1e-8);
        var ints = OpHarness.Evaluate((g, xs) => g.Identity(xs[0]), [Tensor.FromArray([1, 2], 2)], Device.Cpu);
        Assert.That(ints.ToArray<int>(), Is.EqualTo(new[] { 1, 2 }));
    }

    [Test]
    public void StopGradientBlocksGradients()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float64, new Shape(3), "x");
        var stopped = g.StopGradient(x, "frozen");
        // d/dx (x · stop(x)) sees only the first factor: stop(x) = x, not 2x.
        var dx = g.Gradients(g.ReduceSum(x * stopped), x)[0];
        using var s = new Session(g, Device.Reference);
        var value = Tensor.FromArray([1.0, -2, 3], 3);
        Assert.That(s.Run(dx, Feed(x, value)).ToArray<double>(), Is.EqualTo(new[] { 1.0, -2, 3 }));
        Assert.That(s.Run(stopped, Feed(x, value)).ToArray<double>(), Is.EqualTo(new[] { 1.0, -2, 3 }));
        Assert.That(() => g.Gradients(g.ReduceSum(stopped), x), Throws.TypeOf<GradientException>().With.Message.Contains("'x'"));
        var zero = g.Gradients([g.ReduceSum(stopped)], [x], null, UnconnectedGradients.Zero)[0]!.Value;
        Assert.That(s.Run(zero, Feed(x, value)).ToArray<double>(), Is.EqualTo(new[] { 0.0, 0, 0 }));
        Assert.That(g.Gradients([g.ReduceSum(stopped)], [x], null, UnconnectedGradients.None)[0], Is.Null);
    }

    [Test]
    public void StatefulAndSourceOpsRefuseGradientsNamingTheOp()
    {
        var g = new Graph();
        var v = g.Variable(Tensor.FromArray([1.0, 2], 2), "v");
        var x = g.Placeholder(DType.Float64, new Shape(2), "x");
        var assigned = v.Assign(x * 2.0, "write");
        Assert.That(() => g.Gradients(g.ReduceSum(assigned), x),
            Throws.TypeOf<GradientException>().With.Message.StartsWith("Assign 'write' is not differentiable (assignment mutates state)"));
        // A variable's read is a leaf: differentiating with respect to it is what optimizers do.
        var dv = g.Gradient(g.ReduceSum(g.Square(v.Value)), v);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(s.Run(dv).ToArray<double>(), Is.EqualTo(new[] { 2.0, 4 }));
    }

    [Test]
    public void EachDistinctRequestCompilesOnce()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(-1, 3), "x");
        var y = g.ReduceSum(x * x, 1);
        var z = g.ReduceMax(x);
        using var s = new Session(g);
        Assert.That(s.CompiledPlanCount, Is.Zero);
        Assert.That(s.Run(y, Feed(x, Tensor.Ones(new Shape(2, 3)))).ToArray<float>(), Is.EqualTo(new[] { 3f, 3 }));
        Assert.That(s.CompiledPlanCount, Is.EqualTo(1));
        // Same fetches and feed shape, other values: the plan is reused.
        Assert.That(s.Run(y, Feed(x, Tensor.Fill(new Shape(2, 3), 2))).ToArray<float>(), Is.EqualTo(new[] { 12f, 12 }));
        Assert.That(s.CompiledPlanCount, Is.EqualTo(1));
        // A new feed shape resolves different concrete shapes, so it needs its own plan; the old one stays cached.
        Assert.That(s.Run(y, Feed(x, Tensor.Ones(new Shape(4, 3)))).ToArray<float>(), Is.EqualTo(new[] { 3f, 3, 3, 3 }));
        Assert.That(s.CompiledPlanCount, Is.EqualTo(2));
        s.Run(y, Feed(x, Tensor.Ones(new Shape(2, 3))));
        Assert.That(s.CompiledPlanCount, Is.EqualTo(2));
        // Other fetches, or the same fetches in another order, are other requests.
        s.Run([y, z], Feed(x, Tensor.Ones(new Shape(2, 3))));
        s.Run([z, y], Feed(x, Tensor.Ones(new Shape(2, 3))));
        Assert.That(s.CompiledPlanCount, Is.EqualTo(4));
        // A request that fails to compile (unfed placeholder) caches nothing.
        Assert.That(() => s.Run(z), Throws.TypeOf<FeedException>());
        Assert.That(s.CompiledPlanCount, Is.EqualTo(4));
    }

    [Test]
    public void AFailedRunLeavesTheSessionUsable()
    {
        var g = new Graph();
        var n = g.Placeholder(DType.Int32, new Shape(3), "n");
        var d = g.Placeholder(DType.Int32, new Shape(3), "d");
        var v = g.Variable(Tensor.FromArray([1, 1, 1], 3), "v");
        // The division fails at run time after the addition has already produced a pooled buffer.
        var q = g.Div(n + v.Value, d, "q");
        var step = v.AssignAdd(q, "step");
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        var ok = new Dictionary<Output, Tensor> { [n] = Tensor.FromArray([5, 7, 9], 3), [d] = Tensor.FromArray([2, 2, 2], 3) };
        var bad = new Dictionary<Output, Tensor> { [n] = Tensor.FromArray([5, 7, 9], 3), [d] = Tensor.FromArray([2, 0, 2], 3) };
        Assert.That(() => s.Run(step, bad), Throws.TypeOf<InvalidArgumentException>().With.Message.Contains("Div 'q'").And.Message.Contains("division by zero"));
        // The failed step did not reach its assignment, and repeated failures do not corrupt the buffer pool.
        Assert.That(() => s.Run(step, bad), Throws.TypeOf<InvalidArgumentException>());
        Assert.That(s.Run(v.Value).ToArray<int>(), Is.EqualTo(new[] { 1, 1, 1 }));
        Assert.That(s.Run(step, ok).ToArray<int>(), Is.EqualTo(new[] { 4, 5, 6 }));
        Assert.That(s.Run(step, ok).ToArray<int>(), Is.EqualTo(new[] { 8, 11, 13 }));
        Assert.That(() => s.Run(step, new Dictionary<Output, Tensor> { [n] = Tensor.FromArray([1, 2, 3], 3) }), Throws.TypeOf<FeedException>());
        Assert.That(s.Run(q, ok).ToArray<int>(), Is.EqualTo(new[] { 6, 9, 11 }));
    }

    [Test]
    public void ADisposedSessionRefusesToRun()
    {
        var g = new Graph();
        var c = g.Scalar(1);
        var s = new Session(g);
        Assert.That(s.Run(c).ToScalar<float>(), Is.EqualTo(1f));
        s.Dispose();
        s.Dispose();
        Assert.That(() => s.Run(c), Throws.TypeOf<ObjectDisposedException>());
    }

    [Test]
    public void FetchesFromAnotherGraphAreRejected()
    {
        var g = new Graph();
        using var s = new Session(g);
        var stranger = new Graph().Scalar(1, name: "elsewhere");
        Assert.That(() => s.Run(stranger), Throws.TypeOf<ArgumentException>());
    }
}
