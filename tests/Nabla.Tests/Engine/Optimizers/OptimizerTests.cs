using Nabla.Optimizers;
using Nabla.Tests.Support;
using NUnit.Framework;

namespace Nabla.Tests.Engine.Optimizers;

/// <summary>
/// Each optimizer against its Keras formula (<see cref="KerasReference"/>): three steps with a fixed
/// gradient sequence on both devices, the variable and every slot compared after each step. The
/// update ops are covered here (forward on both devices; they have no gradient, checked in
/// <see cref="OptimizerErrorTests"/>).
/// </summary>
public class OptimizerTests : ICoversOps
{
    public static IEnumerable<string> CoveredOps => ["ApplyGradientDescent", "ApplyMomentum", "ApplyAdam", "ApplyNadam", "ApplyRMSProp"];

    /// <summary>An optimizer configuration, its slot count and the matching reference step.</summary>
    public sealed record Case(string Label, Func<Optimizer> Create, int Slots, Action<KerasReference.State, double[]> Step)
    {
        public override string ToString() => Label;
    }

    public static IEnumerable<Case> Configurations()
    {
        yield return new("SGD", () => new SGD(0.1), 0, (s, g) => KerasReference.SgdStep(s, g, 0.1, 0, false));
        yield return new("SGD momentum", () => new SGD(0.1, 0.9), 1, (s, g) => KerasReference.SgdStep(s, g, 0.1, 0.9, false));
        yield return new("SGD nesterov", () => new SGD(0.05, 0.7, nesterov: true), 1, (s, g) => KerasReference.SgdStep(s, g, 0.05, 0.7, true));
        yield return new("Adam", () => new Adam(0.1), 2, (s, g) => KerasReference.AdamStep(s, g, 0.1, 0.9, 0.999, 1e-7));
        yield return new("Adam custom", () => new Adam(0.05, 0.8, 0.95, 1e-3), 2, (s, g) => KerasReference.AdamStep(s, g, 0.05, 0.8, 0.95, 1e-3));
        yield return new("Nadam", () => new Nadam(0.1), 2, (s, g) => KerasReference.NadamStep(s, g, 0.1, 0.9, 0.999, 1e-7));
        yield return new("Nadam custom", () => new Nadam(0.05, 0.8, 0.95, 1e-3), 2, (s, g) => KerasReference.NadamStep(s, g, 0.05, 0.8, 0.95, 1e-3));
        yield return new("RMSprop", () => new RMSprop(0.1), 1, (s, g) => KerasReference.RmsPropStep(s, g, 0.1, 0.9, 0, 1e-7, false));
        yield return new("RMSprop momentum", () => new RMSprop(0.1, 0.8, 0.5), 2, (s, g) => KerasReference.RmsPropStep(s, g, 0.1, 0.8, 0.5, 1e-7, false));
        yield return new("RMSprop centered", () => new RMSprop(0.1, centered: true), 2, (s, g) => KerasReference.RmsPropStep(s, g, 0.1, 0.9, 0, 1e-7, true));
        yield return new("RMSprop centered momentum", () => new RMSprop(0.05, 0.8, 0.9, 1e-3, true), 3, (s, g) => KerasReference.RmsPropStep(s, g, 0.05, 0.8, 0.9, 1e-3, true));
    }

    public static IEnumerable<TestCaseData> ConfigurationsOnDevices() =>
        Configurations().SelectMany(c => new[] { "cpu", "cpu-float64", "reference" }.Select(d => new TestCaseData(c, d).SetArgDisplayNames(c.Label, d)));

    internal static double[] Round32(double[] v) => v.Select(x => (double)(float)x).ToArray();

    private static double[] Uniform(int n, double lo, double hi, ulong seed) =>
        Round32(Tensor.RandomUniform(new Shape(n), lo, hi, seed, DType.Float64).ToDoubleArray());

    internal static Tensor Make(double[] values, Shape shape, DType dtype) => dtype == DType.Float32
        ? Tensor.FromArray(values.Select(v => (float)v).ToArray(), shape.ToArray())
        : Tensor.FromArray(values, shape.ToArray());

    [TestCaseSource(nameof(ConfigurationsOnDevices))]
    public void ThreeStepsMatchTheKerasFormula(Case c, string device)
    {
        // CPU runs float32 (inputs are float32 values, so the float64 oracle sees the same numbers),
        // and float64 graphs through its scalar path; the reference device runs float64. Tolerances:
        // float32 keeps ~7 digits through the few operations of a step, float64 ~15.
        var cpu = device == "cpu";
        var dtype = cpu ? DType.Float32 : DType.Float64;
        var rtol = cpu ? 1e-6 : 1e-12;
        // 11 elements leave a scalar tail after the vector loop; 70,200 cross the CPU's parallel threshold.
        Shape[] shapes = [new(11), new(260, 270)];
        var g = new Graph();
        var opt = c.Create();
        var vars = new Variable[shapes.Length];
        var grads = new Output[shapes.Length];
        var states = new KerasReference.State[shapes.Length];
        for (var k = 0; k < shapes.Length; k++)
        {
            var w0 = Uniform(shapes[k].Size, -2, 2, (ulong)k + 1);
            vars[k] = g.Variable(Make(w0, shapes[k], dtype), $"w{k}");
            grads[k] = g.Placeholder(dtype, shapes[k], $"grad{k}");
            states[k] = new KerasReference.State(w0, c.Slots);
        }
        var train = opt.ApplyGradients(vars.Select((v, k) => (grads[k], v)).ToArray());
        Assert.That(opt.Variables.Count, Is.EqualTo(2 + (opt is Nadam ? 1 : 0) + c.Slots * shapes.Length));
        using var s = new Session(g, device == "reference" ? Device.Reference : Device.Cpu);
        s.Run(g.GlobalVariablesInitializer());
        for (var step = 0; step < 3; step++)
        {
            var feeds = new Dictionary<Output, Tensor>();
            for (var k = 0; k < shapes.Length; k++)
            {
                // Gradients change sign and scale between steps, so momentum and bias correction both matter.
                var gv = Uniform(shapes[k].Size, -1 - step, 1 + 0.5 * step, (ulong)(100 * step + k));
                feeds[grads[k]] = Make(gv, shapes[k], dtype);
                c.Step(states[k], gv);
            }
            s.Run(train, feeds);
            for (var k = 0; k < shapes.Length; k++)
            {
                var what = $"{c.Label} {device} step {step + 1} w{k}";
                AssertCloseScaled(states[k].W, s.Run(vars[k].Value).ToDoubleArray(), rtol, what);
                var slots = opt.GetSlots(vars[k]);
                Assert.That(slots, Has.Count.EqualTo(c.Slots));
                for (var j = 0; j < slots.Count; j++)
                    AssertCloseScaled(states[k].Slots[j], s.Run(slots[j].Value).ToDoubleArray(), rtol, $"{what} slot '{slots[j].Name}'");
            }
            Assert.That(s.Run(opt.Iterations.Value).ToArray<long>()[0], Is.EqualTo(step + 1), "iterations");
        }
    }

    /// <summary>
    /// atol + |e|·rtol with atol = rtol · max|e|: an element that is the small difference of larger
    /// terms (momentum after the gradient flips sign) carries the rounding error of those terms, so
    /// it is compared at the array's own scale.
    /// </summary>
    internal static void AssertCloseScaled(double[] expected, double[] actual, double rtol, string what)
    {
        var scale = expected.Length == 0 ? 0 : expected.Max(Math.Abs);
        OpHarness.AssertClose(expected, actual, rtol, rtol * scale, what);
    }

    [TestCaseSource(nameof(Configurations))]
    public void MinimisesAQuadraticToNearZero(Case c)
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([3f, -2, 0.5f, 4], 4), "w");
        var target = g.Constant(Tensor.FromArray([1f, 2, -1, 0.5f], 4));
        var loss = g.ReduceSum(g.Square(w - target));
        var opt = c.Create();
        var train = opt.Minimize(loss);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        var initial = s.Run(loss).ToScalar<float>();
        // A step-wise decaying learning rate (set through the session) lets the adaptive methods, whose
        // steps stay near η·sign(g), settle instead of oscillating at the scale of η.
        foreach (var lr in new[] { 0.1, 0.01, 0.001 })
        {
            opt.SetLearningRate(s, lr);
            Assert.That(opt.GetLearningRate(s), Is.EqualTo(lr));
            for (var i = 0; i < 300; i++) s.Run(train);
        }
        var final = s.Run(loss).ToScalar<float>();
        Assert.That(initial, Is.EqualTo(34.5f));
        Assert.That(final, Is.LessThan(1e-5f), $"{c.Label}: loss {initial} → {final}");
        Assert.That(s.Run(opt.Iterations.Value).ToArray<long>()[0], Is.EqualTo(900));
    }

    [Test]
    public void SlotsAndCountersAreNamedAndNonTrainable()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1f, 2], 2), "dense/kernel");
        var loss = g.ReduceSum(g.Square(w));
        var adam = new Adam();
        adam.Minimize(loss);
        Assert.That(adam.Variables.Select(v => v.Name), Is.EqualTo(new[] { "Adam/iterations", "Adam/learning_rate", "dense/kernel/Adam/m", "dense/kernel/Adam/v" }));
        Assert.That(adam.Variables.All(v => !v.Trainable), Is.True);
        Assert.That(adam.Iterations.DType, Is.EqualTo(DType.Int64));
        Assert.That(g.TrainableVariables.Select(v => v.Name), Is.EqualTo(new[] { "dense/kernel" }));
        var nadam = new Nadam();
        nadam.Minimize(loss);
        Assert.That(nadam.Variables.Select(v => v.Name), Is.EqualTo(new[] { "Nadam/iterations", "Nadam/learning_rate", "Nadam/u_product", "dense/kernel/Nadam/m", "dense/kernel/Nadam/v" }));
        var rms = new RMSprop(momentum: 0.5, centered: true);
        rms.Minimize(loss);
        Assert.That(rms.GetSlots(w).Select(v => v.Name), Is.EqualTo(new[] { "dense/kernel/RMSprop/velocity", "dense/kernel/RMSprop/momentum", "dense/kernel/RMSprop/average_gradient" }));
        Assert.That(new SGD().Variables, Is.Empty);
    }

    [Test]
    public void RepeatedApplyReusesSlotsAndSharesTheCounter()
    {
        // Two training ops from one optimizer (e.g. two losses) update the same slots and one counter.
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1.0, 2], 2), "w");
        var opt = new Adam(0.1);
        var trainA = opt.Minimize(g.ReduceSum(g.Square(w)));
        var trainB = opt.Minimize(g.ReduceSum(w));
        Assert.That(opt.Variables, Has.Count.EqualTo(4));
        using var s = new Session(g, Device.Reference);
        s.Run(g.GlobalVariablesInitializer());
        s.Run(trainA);
        s.Run(trainB);
        var state = new KerasReference.State([1, 2], 2);
        KerasReference.AdamStep(state, [2, 4], 0.1, 0.9, 0.999, 1e-7);
        KerasReference.AdamStep(state, [1, 1], 0.1, 0.9, 0.999, 1e-7);
        OpHarness.AssertClose(state.W, s.Run(w.Value).ToDoubleArray(), 1e-12, 0, "w after two ops");
        Assert.That(s.Run(opt.Iterations.Value).ToArray<long>()[0], Is.EqualTo(2));
    }

    [Test]
    public void TwoOptimizersOnDisjointVariablesInOneGraph()
    {
        // A GAN's shape: each player minimises its own loss over its own variables.
        var g = new Graph();
        var a = g.Variable(Tensor.FromArray([1.0, 2], 2), "gen/w");
        var b = g.Variable(Tensor.FromArray([3.0, -1], 2), "disc/w");
        var lossA = g.ReduceSum(g.Square(a.Value * b.Value - 1.0));
        var lossB = g.ReduceSum(g.Square(a.Value + b.Value));
        var optA = new Adam(0.1);
        var optB = new SGD(0.05, 0.9);
        var trainA = optA.Minimize(lossA, [a]);
        var trainB = optB.Minimize(lossB, [b]);
        // A second Adam in the same graph gets its own, uniquely named, counter.
        var optC = new Adam();
        optC.Build([b]);
        Assert.That(optC.Iterations.Name, Is.EqualTo("Adam/iterations_1"));
        using var s = new Session(g, Device.Reference);
        s.Run(g.GlobalVariablesInitializer());

        double[] a0 = [1, 2], b0 = [3, -1];
        s.Run(trainA);
        var refA = new KerasReference.State(a0, 2);
        KerasReference.AdamStep(refA, [2 * (1 * 3 - 1) * 3, 2 * (2 * -1 - 1) * -1], 0.1, 0.9, 0.999, 1e-7);
        OpHarness.AssertClose(refA.W, s.Run(a.Value).ToDoubleArray(), 1e-12, 0, "a after its step");
        Assert.That(s.Run(b.Value).ToDoubleArray(), Is.EqualTo(b0), "b untouched by a's optimizer");
        Assert.That(s.Run(optB.Iterations.Value).ToArray<long>()[0], Is.Zero);

        s.Run(trainB);
        var refB = new KerasReference.State(b0, 1);
        KerasReference.SgdStep(refB, refA.W.Select((x, i) => 2 * (x + b0[i])).ToArray(), 0.05, 0.9, false);
        OpHarness.AssertClose(refB.W, s.Run(b.Value).ToDoubleArray(), 1e-12, 0, "b after its step");
        OpHarness.AssertClose(refA.W, s.Run(a.Value).ToDoubleArray(), 0, 0, "a untouched by b's optimizer");
        Assert.That(s.Run(optA.Iterations.Value).ToArray<long>()[0], Is.EqualTo(1));
        Assert.That(s.Run(optB.Iterations.Value).ToArray<long>()[0], Is.EqualTo(1));
    }

    [Test]
    public void UpdateOpsOutputTheNewValue()
    {
        var g = new Graph();
        var w = g.Variable(Tensor.FromArray([1f, 2], 2), "w");
        var m = g.Variable(Tensor.FromArray([0f, 0], 2), "m", trainable: false);
        var grad = g.Constant(Tensor.FromArray([0.5f, -1], 2));
        var updated = g.ApplyMomentum(w, m, grad, g.Scalar(0.1), g.Scalar(0.5, DType.Float64), nesterov: true);
        using var s = new Session(g);
        s.Run(g.GlobalVariablesInitializer());
        // m = −0.1·g; w += 0.5·m − 0.1·g.
        Assert.That(s.Run(updated).ToArray<float>(), Is.EqualTo(new[] { 1 - 0.075f, 2 + 0.15f }).Within(1e-6));
        Assert.That(s.Run(m.Value).ToArray<float>(), Is.EqualTo(new[] { -0.05f, 0.1f }).Within(1e-7));
    }

    [Test]
    public void KerasDocstringExamples()
    {
        // loss = var²/2, so the gradient is var itself.
        static float[] Run(Optimizer opt, float start, int steps)
        {
            var g = new Graph();
            var v = g.Variable(Tensor.Scalar(start), "var");
            var train = opt.Minimize(g.Square(v.Value) / 2.0);
            using var s = new Session(g);
            s.Run(g.GlobalVariablesInitializer());
            var values = new float[steps];
            for (var i = 0; i < steps; i++)
            {
                s.Run(train);
                values[i] = s.Run(v.Value).ToScalar<float>();
            }
            return values;
        }
        // keras/src/optimizers/rmsprop.py: RMSprop(learning_rate=0.1) takes var1 = 10.0 to 9.683772.
        Assert.That(Run(new RMSprop(0.1), 10, 1)[0], Is.EqualTo(9.683772f).Within(1e-6));
        // tf.keras SGD docstring: with momentum 0.9 the first step moves 0.1, the second 0.18.
        var sgd = Run(new SGD(0.1, 0.9), 1, 2);
        Assert.That(new[] { 1 - sgd[0], sgd[0] - sgd[1] }, Is.EqualTo(new[] { 0.1f, 0.18f }).Within(1e-6));
        // tf.keras Adam docstring: Adam(learning_rate=0.1) takes var1 = 10.0 to 9.9.
        Assert.That(Run(new Adam(0.1), 10, 1)[0], Is.EqualTo(9.9f).Within(1e-6));
    }

    [TestCase("sgd", typeof(SGD)), TestCase("Adam", typeof(Adam)), TestCase("NADAM", typeof(Nadam)), TestCase("RMSprop", typeof(RMSprop))]
    public void FromNameIgnoresCaseAndUsesKerasDefaults(string name, Type type)
    {
        var opt = Optimizer.FromName(name);
        Assert.That(opt, Is.TypeOf(type));
        Assert.That(opt.LearningRate, Is.EqualTo(type == typeof(SGD) ? 0.01 : 0.001));
    }
}
