using NUnit.Framework;
using Nabla.Optimizers;

namespace Nabla.Tests.Execution;

/// <summary>
/// Values the host never sees (computed indices, labels, divisors) are checked on the device: the
/// run fails once it finishes, with the message a host check of the same value would give, and the
/// state writes that come after the failing check in the plan are skipped.
/// </summary>
public sealed class DeviceCheckTests
{
    private static Dictionary<Output, Tensor> Feed(Output p, Tensor t) => new() { [p] = t };

    [Test]
    public void ComputedGatherIndexOutOfRangeFailsWithTheHostMessage()
    {
        var g = new Graph();
        var table = g.Constant(Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (float)i).ToArray(), 5, 2));
        var raw = g.Placeholder(DType.Float32, new Shape(3));
        var idx = g.Cast(raw * 2.0f, DType.Int32, "idx");
        var y = g.Gather(table, idx, 0, "lookup");
        using var s = new Session(g);
        Assert.That(s.Plan([y], Feed(raw, Tensor.FromArray([0f, 1f, 2f]))).DeviceChecks, Is.EqualTo(1));
        Assert.That(s.Run(y, Feed(raw, Tensor.FromArray([0f, 1f, 2f]))).ToArray<float>(), Is.EqualTo(new float[] { 0, 1, 4, 5, 8, 9 }));
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(y, Feed(raw, Tensor.FromArray([1f, 3.5f, -1f]))));
        Assert.That(e!.Message, Is.EqualTo("Gather 'lookup': index 7 at flat position 1 of indices [3] is out of range for axis 0 of params [5,2]; valid indices: 0..4"));
        // The session is still usable, and the flags are reset per run.
        Assert.That(s.Run(y, Feed(raw, Tensor.FromArray([2f, 1f, 0f]))).ToArray<float>(), Is.EqualTo(new float[] { 8, 9, 4, 5, 0, 1 }));
        Assert.That(s.LastRun!.Value.Downloads, Is.EqualTo(2), "the fetch and the error flags");
    }

    [Test]
    public void FedIndicesAreCheckedOnTheHostAndNeedNoDeviceCheck()
    {
        var g = new Graph();
        var table = g.Constant(Tensor.FromArray(new float[10], 5, 2));
        var idx = g.Placeholder(DType.Int32, new Shape(3));
        var y = g.Gather(table, idx, 0, "lookup");
        using var s = new Session(g);
        Assert.That(s.Plan([y], Feed(idx, Tensor.FromArray([0, 1, 2]))).DeviceChecks, Is.EqualTo(0));
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(y, Feed(idx, Tensor.FromArray([0, 7, 1]))));
        Assert.That(e!.Message, Does.Contain("index 7 at flat position 1 of indices [3] is out of range"));
    }

    [Test]
    public void ComputedGatherGradIndexIsCheckedToo()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1f, 2f, 3f]), "w");
        var raw = g.Placeholder(DType.Float32, new Shape(2));
        var picked = g.Gather(w.Value, g.Cast(raw, DType.Int64), 0, "pick");
        var grad = g.Gradients([g.ReduceSum(picked)], [w.Value])[0]!.Value;
        using var s = new Session(g);
        s.Run(w.Initializer);
        Assert.That(s.Run(grad, Feed(raw, Tensor.FromArray([2f, 2f]))).ToArray<float>(), Is.EqualTo(new float[] { 0, 0, 2 }));
        Assert.Throws<InvalidArgumentException>(() => s.Run(grad, Feed(raw, Tensor.FromArray([0f, 3f]))));
    }

    [TestCase("sgd")]
    [TestCase("adam")]
    [TestCase("assign")]
    public void AFailedCheckSkipsTheStateWritesAfterIt(string update)
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1f, 2f, 3f, 4f]), "w");
        var raw = g.Placeholder(DType.Float32, new Shape(2));
        var picked = g.Gather(w.Value, g.Cast(raw, DType.Int32), 0, "pick");
        var loss = g.ReduceSum(picked * picked);
        var train = update switch
        {
            "sgd" => new SGD(0.1).Minimize(loss),
            "adam" => new Adam(0.1).Minimize(loss),
            _ => w.AssignAdd(g.BroadcastTo(g.ReduceSum(picked), new Shape(4))).Op,
        };
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        Assert.Throws<InvalidArgumentException>(() => s.Run([loss], Feed(raw, Tensor.FromArray([1f, 9f])), train));
        Assert.That(s.ReadVariable(w).ToArray<float>(), Is.EqualTo(new[] { 1f, 2f, 3f, 4f }), "the step is aborted: w unchanged");
        s.Run([loss], Feed(raw, Tensor.FromArray([1f, 3f])), train);
        Assert.That(s.ReadVariable(w).ToArray<float>(), Is.Not.EqualTo(new[] { 1f, 2f, 3f, 4f }), "a good step updates w");
    }

    [Test]
    public void ComputedIntegerDivisorOfZeroFailsTheRun()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Int32, new Shape(3));
        var q = g.Div(a, a - g.Scalar(2, DType.Int32), "ratio");
        using var s = new Session(g);
        Assert.That(s.Run(q, Feed(a, Tensor.FromArray([4, 6, 3]))).ToArray<int>(), Is.EqualTo(new[] { 2, 1, 3 }));
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(q, Feed(a, Tensor.FromArray([4, 2, 3]))));
        Assert.That(e!.Message, Is.EqualTo("Div 'ratio': integer division by zero"));
    }

    [Test]
    public void FedIntegerDivisorOfZeroFailsBeforeTheRun()
    {
        var g = new Graph();
        var a = g.Placeholder(DType.Int32, new Shape(2));
        var b = g.Placeholder(DType.Int32, new Shape(2));
        var q = g.Div(a, b, "ratio");
        using var s = new Session(g);
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(q, new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([1, 2]), [b] = Tensor.FromArray([1, 0]) }));
        Assert.That(e!.Message, Is.EqualTo("Div 'ratio': integer division by zero"));
        Assert.That(s.Plan([q], new Dictionary<Output, Tensor> { [a] = Tensor.FromArray([1, 2]), [b] = Tensor.FromArray([1, 1]) }).DeviceChecks, Is.EqualTo(0));
    }

    [Test]
    public void ComputedSparseLabelsAreChecked()
    {
        var g = new Graph();
        var logits = g.Constant(Tensor.FromArray(new float[6], 2, 3));
        var raw = g.Placeholder(DType.Float32, new Shape(2));
        var labels = g.Cast(raw, DType.Int64);
        var loss = g.SparseSoftmaxCrossEntropyWithLogits(labels, logits, "xent");
        using var s = new Session(g);
        Assert.That(s.Run(loss, Feed(raw, Tensor.FromArray([0f, 2f]))).ToArray<float>(), Is.EqualTo(new[] { MathF.Log(3), MathF.Log(3) }).Within(1e-6));
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(loss, Feed(raw, Tensor.FromArray([12f, 0f]))));
        Assert.That(e!.Message, Is.EqualTo("SparseSoftmaxCrossEntropyWithLogits 'xent': label 12 at flat index 0 of labels [2] is out of range [0, 3)"));
    }

    [Test]
    public void DeferredExecutionRaisesTheSameErrors()
    {
        var g = new Graph();
        var table = g.Constant(Tensor.FromArray(new float[10], 5, 2));
        var raw = g.Placeholder(DType.Float32, new Shape(1));
        var y = g.Gather(table, g.Cast(raw, DType.Int32), 0, "lookup");
        using var s = new Session(g, Device.Cpu, new SessionOptions { DeferExecution = true });
        Assert.Throws<InvalidArgumentException>(() => s.Run(y, Feed(raw, Tensor.FromArray([5f], 1))));
        Assert.That(s.Run(y, Feed(raw, Tensor.FromArray([4f], 1))).Shape, Is.EqualTo(new Shape(1, 2)));
    }

    [Test]
    public void CheckNumericsNamesTheFirstOpThatProducedANaN()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(3));
        var y = g.Log(x, "log_x") * 2f;
        var z = g.Sqrt(y, "root");
        var feeds = Feed(x, Tensor.FromArray([1f, -1f, 4f]));
        using (var plain = new Session(g))
            Assert.That(float.IsNaN(plain.Run(z, feeds).ToArray<float>()[1]), "without the option a NaN is just a value");
        using var s = new Session(g, Device.Cpu, new SessionOptions { CheckNumerics = true });
        var e = Assert.Throws<InvalidArgumentException>(() => s.Run(z, feeds));
        Assert.That(e!.Message, Is.EqualTo("Log 'log_x': CheckNumerics found NaN in output 0 [3] at flat index 1"));
        Assert.That(s.Run(z, Feed(x, Tensor.FromArray([1f, 2f, 4f]))).ToArray<float>().All(float.IsFinite));
        var inf = Assert.Throws<InvalidArgumentException>(() => s.Run(z, Feed(x, Tensor.FromArray([0f, 2f, 4f]))));
        Assert.That(inf!.Message, Does.StartWith("Log 'log_x': CheckNumerics found -∞ in output 0 [3] at flat index 0").Or.StartWith("Log 'log_x': CheckNumerics found -Infinity"));
    }
}

/// <summary>Session.Run refuses a default(Output) feed key or fetch with a documented exception, not a NullReferenceException.</summary>
public sealed class SessionArgumentTests
{
    [Test]
    public void DefaultOutputsAreRefused()
    {
        var g = new Graph();
        var x = g.Placeholder(DType.Float32, new Shape(1));
        using var s = new Session(g);
        var feeds = new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([1f], 1), [default] = Tensor.FromArray([2f], 1) };
        Assert.That(() => s.Run(g.Neg(x), feeds), Throws.TypeOf<FeedException>().With.Message.Contains("default(Output)"));
        Assert.That(() => s.Run([default(Output)], new Dictionary<Output, Tensor> { [x] = Tensor.FromArray([1f], 1) }), Throws.ArgumentException);
        Assert.That(() => s.Run(g.Neg(x), new Dictionary<Output, Tensor> { [x] = null! }), Throws.ArgumentNullException);
    }
}
