namespace Nabla.Optimizers;

/// <summary>
/// Adam (Kingma and Ba 2014), as keras/src/optimizers/adam.py: with t = iterations + 1,
/// m ← m + (g − m)(1 − β₁), v ← v + (g² − v)(1 − β₂), and
/// w ← w − m·α / (√v + ε), α = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ). Slots "m" and "v".
/// </summary>
/// <remarks>ε is Keras's "epsilon hat", added to √v rather than inside the bias-corrected ratio.</remarks>
public sealed class Adam : Optimizer
{
    /// <summary>Creates the optimizer (Keras defaults).</summary>
    /// <param name="learningRate">η ≥ 0.</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="name">Name prefix of its nodes and variables.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Adam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, string name = "Adam") : base(name, learningRate)
    {
        Beta1 = Decay(beta1, nameof(beta1));
        Beta2 = Decay(beta2, nameof(beta2));
        Epsilon = NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Numerical-stability constant.</summary>
    public double Epsilon { get; }

    private protected override string[] SlotNames => ["m", "v"];

    private protected override Func<Variable, Output, Variable[], Output> BeginStep(Graph g, Output learningRate, Output step)
    {
        Output b1 = Hyper(g, Beta1, "beta_1"), b2 = Hyper(g, Beta2, "beta_2"), eps = Hyper(g, Epsilon, "epsilon");
        return (v, grad, s) => g.ApplyAdam(v, s[0], s[1], grad, learningRate, b1, b2, eps, step, $"update_{v.Name}");
    }
}
