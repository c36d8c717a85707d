namespace Nabla.Optimizers;

/// <summary>
/// RMSprop (Hinton 2012), as keras/src/optimizers/rmsprop.py: v ← ρv + (1 − ρ)g²; when centered,
/// a ← ρa + (1 − ρ)g and the denominator is √(v − a² + ε), otherwise √(v + ε); Δ = η·g / denominator;
/// with momentum μ &gt; 0, mom ← μ·mom + Δ and w ← w − mom, otherwise w ← w − Δ. Slots "velocity",
/// plus "momentum" when μ &gt; 0 and "average_gradient" when centered.
/// </summary>
/// <remarks>Unlike Adam, ε sits inside the square root (as Keras 2.11+ and 3).</remarks>
public sealed class RMSprop : Optimizer
{
    /// <summary>Creates the optimizer (Keras defaults).</summary>
    /// <param name="learningRate">η ≥ 0.</param>
    /// <param name="rho">ρ in [0, 1].</param>
    /// <param name="momentum">μ in [0, 1]; 0 for none.</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="centered">Normalise by the estimated variance instead of the second moment.</param>
    /// <param name="name">Name prefix of its nodes and variables.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public RMSprop(double learningRate = 0.001, double rho = 0.9, double momentum = 0, double epsilon = 1e-7, bool centered = false, string name = "RMSprop") : base(name, learningRate)
    {
        Rho = Unit(rho, nameof(rho));
        Momentum = Unit(momentum, nameof(momentum));
        Epsilon = NonNegative(epsilon, nameof(epsilon));
        Centered = centered;
    }

    /// <summary>Discount of the running mean square.</summary>
    public double Rho { get; }

    /// <summary>Momentum μ (0: none).</summary>
    public double Momentum { get; }

    /// <summary>Numerical-stability constant.</summary>
    public double Epsilon { get; }

    /// <summary>Whether the centered variant is used.</summary>
    public bool Centered { get; }

    private protected override string[] SlotNames =>
        [
            "velocity",
            .. Momentum > 0 ? new[] { "momentum" } : [],
            .. Centered ? new[] { "average_gradient" } : [],
        ];

    private protected override Func<Variable, Output, Variable[], Output> BeginStep(Graph g, Output learningRate, Output step)
    {
        Output rho = Hyper(g, Rho, "rho"), momentum = Hyper(g, Momentum, "momentum"), eps = Hyper(g, Epsilon, "epsilon");
        return (v, grad, s) =>
        {
            var momentumSlot = Momentum > 0 ? s[1] : null;
            var average = Centered ? s[^1] : null;
            return g.ApplyRMSProp(v, s[0], momentumSlot, average, grad, learningRate, rho, momentum, eps, $"update_{v.Name}");
        };
    }
}
