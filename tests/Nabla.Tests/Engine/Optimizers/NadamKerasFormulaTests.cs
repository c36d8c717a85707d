using Nabla.Optimizers;
using NUnit.Framework;

namespace Nabla.Tests.Engine.Optimizers;

/// <summary>
/// Nadam against Keras's update as written in keras/src/optimizers/nadam.py (keras-team/keras, commit
/// 13de96aef1a446c21f545eb929a194ac06b343fd: <c>_backend_update_step</c> and <c>update_step</c>),
/// transcribed below statement by statement in float64, with no use of the engine's
/// <c>OptimizerArgs</c> folding. PyTorch's <c>torch.optim.NAdam</c> is a different algorithm (its
/// momentum decay is 0.004 per step, mu_t = β₁(1 − ½·0.96^(t·0.004)), and it adds ε to √v̂ after the
/// bias correction), so it is not used as the peer here.
/// </summary>
public class NadamKerasFormulaTests
{
    /// <summary>One variable's Nadam state, as Keras keeps it: m ("momentum"), v ("velocity"), the shared u_product and iterations.</summary>
    private sealed class KerasNadam(double[] w, double lr, double beta1, double beta2, double epsilon)
    {
        public double[] Variable { get; } = (double[])w.Clone();
        public double[] M { get; } = new double[w.Length];
        public double[] V { get; } = new double[w.Length];
        public double UProduct { get; private set; } = 1.0;
        private long _iterations;

        public void Step(double[] gradient)
        {
            // _backend_update_step: u_product = u_product * beta_1 * (1 - 0.5 * 0.96 ** (iterations + 1))
            UProduct = UProduct * beta1 * (1.0 - 0.5 * Math.Pow(0.96, _iterations + 1));
            // update_step
            double localStep = _iterations + 1, nextStep = _iterations + 2, decay = 0.96;
            var uT = beta1 * (1.0 - 0.5 * Math.Pow(decay, localStep));
            var uT1 = beta1 * (1.0 - 0.5 * Math.Pow(decay, nextStep));
            var uProductT = UProduct;
            var uProductT1 = uProductT * uT1;
            var beta2Power = Math.Pow(beta2, localStep);
            for (var i = 0; i < Variable.Length; i++)
            {
                M[i] += (gradient[i] - M[i]) * (1 - beta1);
                V[i] += (gradient[i] * gradient[i] - V[i]) * (1 - beta2);
                var mHat = uT1 * M[i] / (1 - uProductT1) + (1 - uT) * gradient[i] / (1 - uProductT);
                var vHat = V[i] / (1 - beta2Power);
                Variable[i] -= mHat * lr / (Math.Sqrt(vHat) + epsilon);
            }
            _iterations++; // the base optimizer's iterations.assign_add(1) after the variable updates
        }
    }

    /// <summary>The first step worked by hand, so the transcription itself is checked against numbers.</summary>
    [Test]
    public void TranscriptionGivesTheHandWorkedFirstStep()
    {
        // t = 1, β₁ = 0.9, β₂ = 0.999, η = 0.1, ε = 0, g = 0.5, w = 1:
        // u₁ = 0.9·(1 − 0.48) = 0.468, u₂ = 0.9·(1 − 0.5·0.9216) = 0.48528, Π₁ = 0.468;
        // m = 0.05, v = 0.00025; m̂ = 0.48528·0.05 / (1 − 0.468·0.48528) + 0.532·0.5 / 0.532
        //   = 0.024264 / 0.77288896 + 0.5; v̂ = 0.25, √v̂ = 0.5; w = 1 − 0.1·m̂ / 0.5.
        var nadam = new KerasNadam([1.0], 0.1, 0.9, 0.999, 0);
        nadam.Step([0.5]);
        var mHat = 0.024264 / 0.77288896 + 0.5;
        Assert.That(nadam.UProduct, Is.EqualTo(0.468).Within(1e-15));
        Assert.That(nadam.M[0], Is.EqualTo(0.05).Within(1e-15));
        Assert.That(nadam.V[0], Is.EqualTo(0.00025).Within(1e-15));
        Assert.That(nadam.Variable[0], Is.EqualTo(1 - 0.1 * mHat / 0.5).Within(1e-14));
    }

    public static IEnumerable<TestCaseData> Configurations()
    {
        foreach (var device in new[] { "cpu", "cpu-float64", "reference" })
        {
            yield return new TestCaseData(0.001, 0.9, 0.999, 1e-7, device).SetArgDisplayNames("Keras defaults", device);
            yield return new TestCaseData(0.05, 0.8, 0.95, 1e-3, device).SetArgDisplayNames("custom", device);
        }
    }

    /// <summary>
    /// Six steps (the momentum schedule changes every step) of gradients that change sign and scale,
    /// the variable, both slots and u_product compared after each. Tolerances as in
    /// <see cref="OptimizerTests"/>: float32 rtol 1e-6 at the array's scale, float64 1e-12.
    /// </summary>
    [TestCaseSource(nameof(Configurations))]
    public void SixStepsMatchKerasNadamPy(double lr, double beta1, double beta2, double epsilon, string device)
    {
        var dtype = device == "cpu" ? DType.Float32 : DType.Float64;
        var rtol = device == "cpu" ? 1e-6 : 1e-12;
        const int n = 37;
        var w0 = Float32Values(n, (i, _) => -2 + 4.0 * ((i * 37 + 11) % 101) / 101);
        var g = new Graph();
        var w = g.Variable(OptimizerTests.Make(w0, new Shape(n), dtype), "w");
        var grad = g.Placeholder(dtype, new Shape(n), "grad");
        var opt = new Nadam(lr, beta1, beta2, epsilon);
        var train = opt.ApplyGradients([(grad, w)]);
        var slots = opt.GetSlots(w);
        var uProduct = opt.Variables.Single(v => v.Name.EndsWith("/u_product", StringComparison.Ordinal));
        var keras = new KerasNadam(w0, lr, beta1, beta2, epsilon);
        using var s = new Session(g, device == "reference" ? Device.Reference : Device.Cpu);
        s.Run(g.GlobalVariablesInitializer());
        for (var step = 0; step < 6; step++)
        {
            var gv = Float32Values(n, (i, k) => (k % 2 == 0 ? 1 : -1) * (0.1 + ((i * 53 + 7 * step) % 97) / 50.0) * (1 + step));
            keras.Step(gv);
            s.Run(train, new Dictionary<Output, Tensor> { [grad] = OptimizerTests.Make(gv, new Shape(n), dtype) });
            var what = $"{device} step {step + 1}";
            OptimizerTests.AssertCloseScaled(keras.Variable, s.Run(w.Value).ToDoubleArray(), rtol, $"{what} variable");
            OptimizerTests.AssertCloseScaled(keras.M, s.Run(slots[0].Value).ToDoubleArray(), rtol, $"{what} m");
            OptimizerTests.AssertCloseScaled(keras.V, s.Run(slots[1].Value).ToDoubleArray(), rtol, $"{what} v");
            Assert.That(s.Run(uProduct.Value).ToDoubleArray()[0], Is.EqualTo(keras.UProduct).Within(1e-12), $"{what} u_product");
        }
    }

    /// <summary>Values rounded to float32, so the float32 and float64 runs see the same numbers; the second argument alternates the sign by element.</summary>
    private static double[] Float32Values(int n, Func<int, int, double> value) =>
        Enumerable.Range(0, n).Select(i => (double)(float)value(i, i)).ToArray();
}
