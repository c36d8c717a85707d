namespace Nabla.Kernels;

/// <summary>
/// The scalars of one fused optimizer step, with every step-dependent factor (bias corrections)
/// folded in, so the element-wise pass is the same for every step; fields a kind does not use are
/// ignored. Kernels build it on the device from the hyper-parameter buffers with <see cref="Fold"/>.
/// </summary>
public readonly record struct OptimizerArgs
{
    /// <summary>Step size η (for <see cref="OptimizerKind.Adam"/>, the bias-corrected α = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ)).</summary>
    public double LearningRate { get; init; }

    /// <summary>Momentum μ (<see cref="OptimizerKind.Momentum"/>, and <see cref="OptimizerKind.RMSProp"/> with a momentum slot).</summary>
    public double Momentum { get; init; }

    /// <summary>Nesterov momentum (<see cref="OptimizerKind.Momentum"/> only).</summary>
    public bool Nesterov { get; init; }

    /// <summary>Decay β₁ of the first moment (Adam, Nadam).</summary>
    public double Beta1 { get; init; }

    /// <summary>Decay β₂ of the second moment (Adam, Nadam).</summary>
    public double Beta2 { get; init; }

    /// <summary>Decay ρ of the mean square (RMSProp).</summary>
    public double Rho { get; init; }

    /// <summary>ε added to the denominator (Adam, Nadam: outside the square root; RMSProp: inside).</summary>
    public double Epsilon { get; init; }

    /// <summary>Nadam: factor of the first moment in m̂, u₍ₜ₊₁₎ / (1 − Πᵢ₌₁..ₜ₊₁ uᵢ).</summary>
    public double MomentScale { get; init; }

    /// <summary>Nadam: factor of the gradient in m̂, (1 − uₜ) / (1 − Πᵢ₌₁..ₜ uᵢ).</summary>
    public double GradientScale { get; init; }

    /// <summary>Nadam: v̂ = v / (1 − β₂ᵗ); this is 1 − β₂ᵗ.</summary>
    public double SecondMomentDivisor { get; init; }

    /// <summary>The hyper-parameter inputs of each kind, in the order <see cref="IBackend.ApplyOptimizer"/> takes them.</summary>
    public static IReadOnlyList<string> ScalarNames(OptimizerKind kind) => kind switch
    {
        OptimizerKind.GradientDescent => ["learning_rate"],
        OptimizerKind.Momentum => ["learning_rate", "momentum"],
        OptimizerKind.Adam => ["learning_rate", "beta_1", "beta_2", "epsilon", "step"],
        OptimizerKind.Nadam => ["learning_rate", "beta_1", "beta_2", "epsilon", "step", "u_product"],
        OptimizerKind.RMSProp => ["learning_rate", "rho", "momentum", "epsilon"],
        _ => throw new NotSupportedException($"optimizer kind {kind}"),
    };

    /// <summary>
    /// The per-step scalars from the hyper-parameter values (in <see cref="ScalarNames"/> order), as
    /// Keras 3 computes them (keras/src/optimizers/{sgd,adam,nadam,rmsprop}.py). Runs inside the kernel,
    /// on the device: the step number t lives there.
    /// </summary>
    public static OptimizerArgs Fold(OptimizerKind kind, bool nesterov, ReadOnlySpan<double> s) => kind switch
    {
        OptimizerKind.GradientDescent => new OptimizerArgs { LearningRate = s[0] },
        OptimizerKind.Momentum => new OptimizerArgs { LearningRate = s[0], Momentum = s[1], Nesterov = nesterov },
        OptimizerKind.Adam => Adam(s[0], s[1], s[2], s[3], s[4]),
        OptimizerKind.Nadam => Nadam(s[0], s[1], s[2], s[3], s[4], s[5]),
        OptimizerKind.RMSProp => new OptimizerArgs { LearningRate = s[0], Rho = s[1], Momentum = s[2], Epsilon = s[3] },
        _ => throw new NotSupportedException($"optimizer kind {kind}"),
    };

    /// <summary>keras/src/optimizers/adam.py update_step: α = η·√(1 − β₂ᵗ) / (1 − β₁ᵗ), t = iterations + 1.</summary>
    private static OptimizerArgs Adam(double lr, double beta1, double beta2, double epsilon, double t) => new()
    {
        LearningRate = lr * Math.Sqrt(1 - Math.Pow(beta2, t)) / (1 - Math.Pow(beta1, t)),
        Beta1 = beta1,
        Beta2 = beta2,
        Epsilon = epsilon,
    };

    /// <summary>
    /// keras/src/optimizers/nadam.py update_step, with the momentum schedule uₜ = β₁(1 − ½·0.96ᵗ) (Dozat
    /// 2015). <paramref name="uProduct"/> is Πᵢ₌₁..ₜ uᵢ, already including this step's factor, as Keras's
    /// _backend_update_step assigns it before the per-variable updates.
    /// </summary>
    private static OptimizerArgs Nadam(double lr, double beta1, double beta2, double epsilon, double t, double uProduct)
    {
        var ut = beta1 * (1.0 - 0.5 * Math.Pow(0.96, t));
        var utNext = beta1 * (1.0 - 0.5 * Math.Pow(0.96, t + 1));
        var uProductNext = uProduct * utNext;
        return new OptimizerArgs
        {
            LearningRate = lr,
            Beta1 = beta1,
            Beta2 = beta2,
            Epsilon = epsilon,
            MomentScale = utNext / (1 - uProductNext),
            GradientScale = (1 - ut) / (1 - uProduct),
            SecondMomentDivisor = 1 - Math.Pow(beta2, t),
        };
    }
}
