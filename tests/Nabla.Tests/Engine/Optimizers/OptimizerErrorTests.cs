using Nabla.Optimizers;
using NUnit.Framework;

namespace Nabla.Tests.Engine.Optimizers;

/// <summary>Bad input to the update ops and the optimizer classes: each fails with a documented exception naming what was wrong.</summary>
public class OptimizerErrorTests
{
    private static (Graph G, Variable W, Variable M, Variable V) Setup()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.Zeros(new Shape(2, 2)), "w");
        var m = g.Variable(Tensor.Zeros(new Shape(2, 2)), "m", trainable: false);
        var v = g.Variable(Tensor.Zeros(new Shape(2, 2)), "v", trainable: false);
        return (g, w, m, v);
    }

    [Test]
    public void GradientShapeMismatchNamesOpAndShapes()
    {
        var (g, w, m, v) = Setup();
        var bad = g.Placeholder(DType.Float32, new Shape(3), "grad");
        var one = g.Scalar(1, DType.Float64);
        Assert.That(() => g.ApplyAdam(w, m, v, bad, one, one, one, one, one, "update"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyAdam 'update': gradient shape [3] differs from variable 'w' shape [2,2]"));
        // Through the optimizer the op is named after the variable.
        Assert.That(() => new Adam().ApplyGradients([(bad, w)]),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyAdam 'Adam/update_w': gradient shape [3] differs from variable 'w' shape [2,2]"));
        Assert.That(() => new SGD().ApplyGradients([(bad, w)]),
            Throws.TypeOf<ShapeException>().With.Message.Contains("ApplyGradientDescent").And.Message.Contains("[3]").And.Message.Contains("[2,2]"));
    }

    [Test]
    public void RunTimeGradientShapeIsCheckedWhenThePlanCompiles()
    {
        var (g, w, _, _) = Setup();
        var grad = g.Placeholder(DType.Float32, new Shape(-1, 2), "grad");
        var train = new RMSprop().ApplyGradients([(grad, w)]);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(() => s.Run(train, new Dictionary<Output, Tensor> { [grad] = Tensor.Zeros(new Shape(3, 2)) }),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyRMSProp 'RMSprop/update_w': gradient shape [3,2] differs from variable 'w' shape [2,2]"));
        // The session stays usable.
        s.Run(train, new Dictionary<Output, Tensor> { [grad] = Tensor.Ones(new Shape(2, 2)) });
    }

    [Test]
    public void DTypesAndScalarsAreChecked()
    {
        var (g, w, m, _) = Setup();
        var lr = g.Scalar(0.1, DType.Float64);
        var grad64 = g.Constant(Tensor.Zeros(new Shape(2, 2), DType.Float64));
        Assert.That(() => g.ApplyGradientDescent(w, grad64, lr, "sgd"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyGradientDescent 'sgd': gradient dtype float64 differs from variable 'w' dtype float32"));
        var grad = g.Constant(Tensor.Zeros(new Shape(2, 2)));
        Assert.That(() => g.ApplyGradientDescent(w, grad, g.Constant(Tensor.FromArray([0.1f, 0.2f], 2)), "sgd"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyGradientDescent 'sgd': learning_rate must be a float32 or float64 scalar, got float32 [2]"));
        Assert.That(() => g.ApplyMomentum(w, m, grad, lr, g.Constant(Tensor.Scalar(1)), name: "mom"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyMomentum 'mom': momentum must be a float32 or float64 scalar, got int32 []"));
        var counts = g.Variable(Tensor.FromArray([1, 2], 2), "counts");
        Assert.That(() => g.ApplyGradientDescent(counts, g.Constant(Tensor.FromArray([1, 1], 2)), lr, "sgd"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyGradientDescent 'sgd': variable 'counts' must be float32 or float64, got int32 [2]"));
        Assert.That(() => new Adam().Build([counts]),
            Throws.TypeOf<ArgumentException>().With.Message.Contains("variable 'counts' is int32; only float32 and float64 variables can be optimised"));
    }

    [Test]
    public void SlotsAreChecked()
    {
        var (g, w, m, v) = Setup();
        var grad = g.Constant(Tensor.Zeros(new Shape(2, 2)));
        var one = g.Scalar(1, DType.Float64);
        var wrong = g.Variable(Tensor.Zeros(new Shape(3)), "wrong");
        Assert.That(() => g.ApplyMomentum(w, wrong, grad, one, one, name: "mom"),
            Throws.TypeOf<ShapeException>().With.Message.EqualTo("ApplyMomentum 'mom': slot momentum_slot 'wrong' is float32 [3], variable 'w' is float32 [2,2]"));
        Assert.That(() => g.ApplyAdam(w, m, m, grad, one, one, one, one, one),
            Throws.TypeOf<ArgumentException>().With.Message.Contains("slot v 'm' is the variable or another slot"));
        Assert.That(() => g.ApplyRMSProp(w, w, null, null, grad, one, one, one, one),
            Throws.TypeOf<ArgumentException>().With.Message.Contains("slot velocity 'w'"));
        var other = new Graph().Variable(Tensor.Zeros(new Shape(2, 2)), "elsewhere");
        Assert.That(() => g.ApplyAdam(w, m, other, grad, one, one, one, one, one),
            Throws.TypeOf<ArgumentException>().With.Message.Contains("'elsewhere' belongs to another graph"));
        Assert.That(v.Name, Is.EqualTo("v"));
    }

    [Test]
    public void UpdatesAreNotDifferentiable()
    {
        var (g, w, _, _) = Setup();
        var grad = g.Placeholder(DType.Float32, new Shape(2, 2), "grad");
        var updated = g.ApplyGradientDescent(w, grad, g.Scalar(0.1));
        Assert.That(() => g.Gradients([g.ReduceSum(updated)], [grad]),
            Throws.TypeOf<GradientException>().With.Message.Contains("an optimizer update mutates state"));
    }

    [Test]
    public void RunningBeforeInitialisationNamesTheSlot()
    {
        var (g, w, _, _) = Setup();
        var opt = new Adam();
        var train = opt.Minimize(g.ReduceSum(g.Square(w)));
        using var s = new Session(g);
        s.Run(g.Group([w.Initializer, opt.Iterations.Initializer, opt.LearningRateVariable.Initializer]));
        Assert.That(() => s.Run(train), Throws.TypeOf<InvalidArgumentException>().With.Message.Contains("'w/Adam/m' is not initialized"));
    }

    [Test]
    public void OptimizerArgumentsAreChecked()
    {
        Assert.That(() => Optimizer.FromName("foo"),
            Throws.TypeOf<ArgumentException>().With.Message.Contains("unknown optimizer 'foo'; valid names: sgd, adam, nadam, rmsprop"));
        Assert.That(() => new Adam(beta1: 1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("beta1"));
        Assert.That(() => new Nadam(beta2: -0.1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("beta2"));
        Assert.That(() => new SGD(momentum: 1.5), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("momentum"));
        Assert.That(() => new RMSprop(epsilon: double.NaN), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("epsilon"));
        Assert.That(() => new SGD(-0.1), Throws.TypeOf<ArgumentOutOfRangeException>().With.Message.Contains("learning rate"));

        var (g, w, _, _) = Setup();
        var opt = new SGD(0.1, 0.9);
        Assert.That(() => opt.Iterations, Throws.TypeOf<InvalidOperationException>().With.Message.Contains("has no variables yet"));
        Assert.That(() => opt.ApplyGradients([]), Throws.TypeOf<ArgumentException>().With.Message.Contains("no gradients"));
        var grad = g.Constant(Tensor.Zeros(new Shape(2, 2)));
        Assert.That(() => opt.ApplyGradients([(grad, w), (grad, w)]), Throws.TypeOf<ArgumentException>().With.Message.Contains("'w' appears twice"));
        opt.LearningRate = 0.2;
        opt.ApplyGradients([(grad, w)]);
        Assert.That(() => opt.LearningRate = 0.3, Throws.TypeOf<InvalidOperationException>().With.Message.Contains("SetLearningRate"));
        Assert.That(() => opt.Build([new Graph().Variable(Tensor.Zeros(new Shape(1)), "x")]),
            Throws.TypeOf<InvalidOperationException>().With.Message.Contains("bound to another graph"));
        Assert.That(() => opt.GetSlots(g.Variable(Tensor.Zeros(new Shape(1)), "unseen")), Throws.TypeOf<ArgumentException>().With.Message.Contains("'unseen'"));
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.That(opt.GetLearningRate(s), Is.EqualTo(0.2));
        Assert.That(() => opt.SetLearningRate(s, -1), Throws.TypeOf<ArgumentOutOfRangeException>());
    }

    [Test]
    public void MinimizeNeedsAConnectedLoss()
    {
        var (g, w, m, _) = Setup();
        var loss = g.ReduceSum(g.Square(m.Value));
        Assert.That(() => new Adam().Minimize(loss, [w]),
            Throws.TypeOf<GradientException>().With.Message.Contains("does not depend on any of the variables 'w'"));
        Assert.That(() => new Adam().Minimize(g.ReduceSum(g.Scalar(1)), []), Throws.TypeOf<ArgumentException>().With.Message.Contains("no variables"));
        // A variable the loss ignores is skipped (as Keras) when another one is connected.
        var both = new SGD(0.5);
        var train = both.Minimize(g.ReduceSum(g.Square(w.Value)), [w, m]);
        Assert.That(train.ControlInputs.Select(o => o.Type), Does.Contain("ApplyGradientDescent"));
        Assert.That(train.ControlInputs.Count(o => o.Type == "ApplyGradientDescent"), Is.EqualTo(1));
    }
}
