using System.Text.Json;
using Nabla.Optimizers;
using NUnit.Framework;

namespace Nabla.Tests.Engine.Optimizers;

/// <summary>
/// The engine's SGD-momentum, Adam and RMSprop against PyTorch 1.13 on the same inputs: five steps from
/// one parameter with one gradient sequence, the parameter and every slot compared after each step with
/// the expectations that bench/peers/optimizer_expectations.py recorded from PyTorch (float64) in
/// tests/data/optimizers/pytorch-1.13.json.
/// </summary>
/// <remarks>
/// <para>The engine follows Keras; where PyTorch writes the update differently the hyper-parameters and
/// slots are mapped so that both compute the same function:</para>
/// <list type="bullet">
/// <item>Adam. PyTorch: p −= (η / (1 − β₁ᵗ))·m / (√v / √(1 − β₂ᵗ) + ε). Keras: p −= α·m / (√v + ε̂), α =
/// η·√(1 − β₂ᵗ) / (1 − β₁ᵗ). Equal when ε̂ = ε·√(1 − β₂ᵗ), which changes every step, so no constant maps
/// one onto the other: both run with ε = 0, where they are the same formula. Slots m = exp_avg,
/// v = exp_avg_sq.</item>
/// <item>RMSprop. PyTorch's α is Keras's ρ. PyTorch divides by √v + ε (centered: √(v − a²) + ε),
/// Keras by √(v + ε) (centered: √(v − a² + ε)): again ε = 0. With momentum PyTorch keeps
/// b ← μb + g/denominator and steps p −= η·b; Keras keeps mom ← μ·mom + η·g/denominator and steps
/// w −= mom, so with a constant η mom = η·b (by induction from 0). Slots velocity = square_avg,
/// momentum = η·momentum_buffer, average_gradient = grad_avg.</item>
/// <item>SGD momentum. PyTorch: b ← μb + g (its first step sets b = g, the same as μ·0 + g with no
/// dampening), p −= η·b; Nesterov p −= η(g + μb). Keras: m ← μm − ηg, w += m; Nesterov w += μm − ηg.
/// With a constant η, m = −η·b. Slot momentum = −η·momentum_buffer.</item>
/// </list>
/// <para>ε = 0 is safe here: every gradient has |g| ≥ 0.1, so no denominator comes near zero.</para>
/// <para>Tolerances: the CPU float32 path at rtol 1e-6 with atol = 1e-6·max|expected| (float32 keeps
/// about 7 digits; five steps of a handful of rounded operations each; the atol covers elements that
/// are small differences of larger terms, as in <see cref="OptimizerTests.AssertCloseScaled"/>); the
/// float64 paths at 1e-12.</para>
/// </remarks>
public class PyTorchOptimizerTests
{
    private sealed record Expectations(int[] Shape, double[] Initial, double[][] Gradients, Dictionary<string, CaseData> Cases);

    private sealed record CaseData(double[][] Params, Dictionary<string, double[]>[] States, double Lr);

    private static readonly Lazy<Expectations> Data = new(Load);

    private static Expectations Load()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "data", "optimizers", "pytorch-1.13.json");
        using var doc = JsonDocument.Parse(File.ReadAllText(path));
        var root = doc.RootElement;
        Assert.That(root.GetProperty("torch_version").GetString(), Does.StartWith("1.13"), path);
        var cases = new Dictionary<string, CaseData>();
        foreach (var c in root.GetProperty("cases").EnumerateArray())
        {
            var steps = c.GetProperty("steps").EnumerateArray().ToArray();
            cases[c.GetProperty("name").GetString()!] = new CaseData(
                steps.Select(s => Doubles(s.GetProperty("param"))).ToArray(),
                steps.Select(s => s.GetProperty("state").EnumerateObject().ToDictionary(p => p.Name, p => Doubles(p.Value))).ToArray(),
                c.GetProperty("kwargs").GetProperty("lr").GetDouble());
        }
        return new Expectations(
            root.GetProperty("shape").EnumerateArray().Select(e => e.GetInt32()).ToArray(),
            Doubles(root.GetProperty("initial")),
            root.GetProperty("gradients").EnumerateArray().Select(Doubles).ToArray(),
            cases);
    }

    private static double[] Doubles(JsonElement e) => e.EnumerateArray().Select(x => x.GetDouble()).ToArray();

    /// <summary>An engine optimizer with PyTorch's hyper-parameters, and each of its slots as a function of PyTorch's state.</summary>
    public sealed record Case(string Name, Func<Optimizer> Create, (string Slot, string TorchState, Func<double, double> FromTorch)[] Slots)
    {
        public override string ToString() => Name;
    }

    private static (string, string, Func<double, double>) Same(string slot, string torchState) => (slot, torchState, x => x);

    public static IEnumerable<Case> Cases()
    {
        yield return new("adam", () => new Adam(0.01, 0.9, 0.999, 0), [Same("m", "exp_avg"), Same("v", "exp_avg_sq")]);
        yield return new("adam_custom", () => new Adam(0.05, 0.8, 0.95, 0), [Same("m", "exp_avg"), Same("v", "exp_avg_sq")]);
        yield return new("rmsprop", () => new RMSprop(0.01, rho: 0.9, epsilon: 0), [Same("velocity", "square_avg")]);
        yield return new("rmsprop_momentum", () => new RMSprop(0.01, rho: 0.8, momentum: 0.5, epsilon: 0),
            [Same("velocity", "square_avg"), ("momentum", "momentum_buffer", b => 0.01 * b)]);
        yield return new("rmsprop_centered", () => new RMSprop(0.01, rho: 0.9, epsilon: 0, centered: true),
            [Same("velocity", "square_avg"), Same("average_gradient", "grad_avg")]);
        yield return new("rmsprop_centered_momentum", () => new RMSprop(0.05, rho: 0.8, momentum: 0.9, epsilon: 0, centered: true),
            [Same("velocity", "square_avg"), ("momentum", "momentum_buffer", b => 0.05 * b), Same("average_gradient", "grad_avg")]);
        yield return new("sgd_momentum", () => new SGD(0.1, 0.9), [("momentum", "momentum_buffer", b => -0.1 * b)]);
        yield return new("sgd_nesterov", () => new SGD(0.05, 0.7, nesterov: true), [("momentum", "momentum_buffer", b => -0.05 * b)]);
    }

    public static IEnumerable<TestCaseData> CasesOnDevices() =>
        Cases().SelectMany(c => new[] { "cpu", "cpu-float64", "reference" }.Select(d => new TestCaseData(c, d).SetArgDisplayNames(c.Name, d)));

    [Test]
    public void EveryRecordedCaseIsTested() =>
        Assert.That(Cases().Select(c => c.Name), Is.EquivalentTo(Data.Value.Cases.Keys));

    [TestCaseSource(nameof(CasesOnDevices))]
    public void FiveStepsMatchPyTorch(Case c, string device)
    {
        var data = Data.Value;
        var expected = data.Cases[c.Name];
        var dtype = device == "cpu" ? DType.Float32 : DType.Float64;
        var rtol = device == "cpu" ? 1e-6 : 1e-12;
        var shape = new Shape(data.Shape);
        var g = new Graph();
        var w = g.Variable(OptimizerTests.Make(data.Initial, shape, dtype), "w");
        var grad = g.Placeholder(dtype, shape, "grad");
        var opt = c.Create();
        var train = opt.ApplyGradients([(grad, w)]);
        var slots = opt.GetSlots(w);
        Assert.That(slots.Select(v => v.Name.Split('/')[^1]), Is.EqualTo(c.Slots.Select(s => s.Slot)), "slot order");
        using var s = new Session(g, device == "reference" ? Device.Reference : Device.Cpu);
        s.Run(g.GlobalVariablesInitializer());
        for (var step = 0; step < data.Gradients.Length; step++)
        {
            s.Run(train, new Dictionary<Output, Tensor> { [grad] = OptimizerTests.Make(data.Gradients[step], shape, dtype) });
            var what = $"{c.Name} {device} step {step + 1}";
            OptimizerTests.AssertCloseScaled(expected.Params[step], s.Run(w.Value).ToDoubleArray(), rtol, $"{what} parameter");
            var state = expected.States[step];
            Assert.That(state.Keys, Is.EquivalentTo(c.Slots.Select(x => x.TorchState)), $"{what}: PyTorch's state");
            for (var j = 0; j < slots.Count; j++)
            {
                var (slot, torchState, fromTorch) = c.Slots[j];
                OptimizerTests.AssertCloseScaled(state[torchState].Select(fromTorch).ToArray(), s.Run(slots[j].Value).ToDoubleArray(), rtol,
                    $"{what} slot '{slot}' (PyTorch '{torchState}')");
            }
        }
    }
}
