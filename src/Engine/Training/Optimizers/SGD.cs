namespace Nabla.Optimizers;

/// <summary>
/// Gradient descent with optional (Nesterov) momentum, as keras/src/optimizers/sgd.py:
/// w ← w − η·g; with momentum μ &gt; 0, m ← μ·m − η·g and w ← w + m, or with Nesterov
/// w ← w + μ·m − η·g (m after its update). One slot, "momentum", only when μ &gt; 0.
/// </summary>
public sealed class SGD : Optimizer
{
    /// <summary>Creates the optimizer (Keras defaults).</summary>
    /// <param name="learningRate">η ≥ 0.</param>
    /// <param name="momentum">μ in [0, 1]; 0 is plain gradient descent.</param>
    /// <param name="nesterov">Use Nesterov momentum.</param>
    /// <param name="name">Name prefix of its nodes and variables.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public SGD(double learningRate = 0.01, double momentum = 0, bool nesterov = false, string name = "SGD") : base(name, learningRate)
    {
        Momentum = Unit(momentum, nameof(momentum));
        Nesterov = nesterov;
    }

    /// <summary>Momentum μ.</summary>
    public double Momentum { get; }

    /// <summary>Whether momentum is Nesterov's.</summary>
    public bool Nesterov { get; }

    private protected override string[] SlotNames => Momentum != 0 ? ["momentum"] : [];

    private protected override Func<Variable, Output, Variable[], Output> BeginStep(Graph g, Output learningRate, Output step)
    {
        if (Momentum == 0) return (v, grad, _) => g.ApplyGradientDescent(v, grad, learningRate, $"update_{v.Name}");
        var momentum = Hyper(g, Momentum, "momentum");
        return (v, grad, slots) => g.ApplyMomentum(v, slots[0], grad, learningRate, momentum, Nesterov, $"update_{v.Name}");
    }
}
