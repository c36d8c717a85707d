namespace Nabla.Optimizers;

/// <summary>
/// Nadam, Adam with Nesterov momentum (Dozat 2015), as keras/src/optimizers/nadam.py: with
/// t = iterations + 1 and the momentum schedule uₜ = β₁(1 − ½·0.96ᵗ), the optimizer keeps
/// Πₜ = u₁⋯uₜ in a variable ("u_product"), updates the moments as Adam and steps
/// w ← w − m̂·η / (√v̂ + ε) with m̂ = uₜ₊₁·m / (1 − Πₜuₜ₊₁) + (1 − uₜ)·g / (1 − Πₜ) and
/// v̂ = v / (1 − β₂ᵗ). Slots "m" and "v".
/// </summary>
public sealed class Nadam : Optimizer
{
    private Variable? _uProduct;
    private Output _uProductNext;

    /// <summary>Creates the optimizer (Keras defaults).</summary>
    /// <param name="learningRate">η ≥ 0.</param>
    /// <param name="beta1">β₁ in [0, 1).</param>
    /// <param name="beta2">β₂ in [0, 1).</param>
    /// <param name="epsilon">ε ≥ 0.</param>
    /// <param name="name">Name prefix of its nodes and variables.</param>
    /// <exception cref="ArgumentOutOfRangeException">A hyper-parameter is out of range.</exception>
    public Nadam(double learningRate = 0.001, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-7, string name = "Nadam") : base(name, learningRate)
    {
        Beta1 = Decay(beta1, nameof(beta1));
        Beta2 = Decay(beta2, nameof(beta2));
        Epsilon = NonNegative(epsilon, nameof(epsilon));
    }

    /// <summary>Decay of the first moment (scaled by the momentum schedule).</summary>
    public double Beta1 { get; }

    /// <summary>Decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>Numerical-stability constant.</summary>
    public double Epsilon { get; }

    private protected override string[] SlotNames => ["m", "v"];

    private protected override IEnumerable<Variable> CreateState(Graph g)
    {
        _uProduct = g.Variable(Tensor.Scalar(1.0), $"{Name}/u_product", trainable: false);
        return [_uProduct];
    }

    private protected override Func<Variable, Output, Variable[], Output> BeginStep(Graph g, Output learningRate, Output step)
    {
        Output b1 = Hyper(g, Beta1, "beta_1"), b2 = Hyper(g, Beta2, "beta_2"), eps = Hyper(g, Epsilon, "epsilon");
        // Keras's _backend_update_step: u_product ← u_product·β₁·(1 − ½·0.96ᵗ), before the variable updates.
        var decay = g.Pow(Hyper(g, 0.96, "momentum_decay"), step);
        _uProductNext = g.Mul(_uProduct!.Value * b1, 1.0 - 0.5 * decay, "u_product_t");
        var uProduct = _uProductNext;
        return (v, grad, s) => g.ApplyNadam(v, s[0], s[1], grad, learningRate, b1, b2, eps, step, uProduct, $"update_{v.Name}");
    }

    private protected override IEnumerable<Operation> EndStep(Graph g) => [_uProduct!.Assign(_uProductNext, "update_u_product").Op];
}
